/* The alert subject of the SQL store (src/store/alerts*.c, alert_writer.c,
 * alert_configs.c) on SQLite and PostgreSQL: creates (single, grouped,
 * asynchronous, bulk), the lifecycle with explicit and default instants,
 * list filters and keyset paging, policy layers and recalculation counts,
 * configs; every write under fault injection (nothing partial); and on
 * PostgreSQL, two nodes creating the same alerts, changing the same alerts
 * without instants, and merging definitions of one tenant at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/alerts_int.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)       /* 2026-01-01T00:00:00Z */
#define MIN SLA_MS_PER_MIN

/* ---- helpers ------------------------------------------------------------ */

static void mk_tenant(struct store *s, const char *id, const char *tmpl)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    snprintf(t.template_name, sizeof(t.template_name), "%s", tmpl ? tmpl : "");
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static void mk_project(struct store *s, const char *tenant, const char *id)
{
    struct sw_project p = {.created_at = T0};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant);
    snprintf(p.id, sizeof(p.id), "%s", id);
    snprintf(p.name, sizeof(p.name), "Project %s", id);
    assert_int_equal(store_project_create(s, &p, NULL), 0);
}

static void mk_alert(struct store *s, const char *tenant, const char *id, enum sla_sev sev,
                     int64_t created, const char *project, struct sw_alert *out)
{
    struct sw_alert_new in = {.tenant_id = tenant, .id = id, .project_id = project,
                              .title = "t", .source = "edr", .sev = sev,
                              .created_at = created};
    struct sw_alert tmp;
    enum sw_alert_result res = SW_ALERT_NO_TENANT;
    assert_int_equal(store_alert_create(s, &in, created, "ingest", out ? out : &tmp, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
}

struct ev_count {
    const char *type;
    int n;
    int64_t last_at;
    bool ordered;               /* at never decreases with the id */
};

static int ev_cb(const struct sw_event *e, void *ud)
{
    struct ev_count *c = ud;
    if (e->at < c->last_at)
        c->ordered = false;
    c->last_at = e->at;
    if (!c->type || !strcmp(e->type, c->type))
        c->n++;
    return 0;
}

static int count_events(struct store *s, const char *tenant, const char *id, const char *type)
{
    struct ev_count c = {.type = type, .ordered = true};
    assert_int_equal(store_event_list(s, tenant, "alert", id, 0, 1000, ev_cb, &c), 0);
    return c.n;
}

static void assert_same_alert(const struct sw_alert *x, const struct sw_alert *y)
{
    assert_string_equal(x->tenant_id, y->tenant_id);
    assert_string_equal(x->id, y->id);
    assert_string_equal(x->project_id, y->project_id);
    assert_string_equal(x->title, y->title);
    assert_string_equal(x->source, y->source);
    assert_int_equal(x->a.sev, y->a.sev);
    assert_int_equal(x->a.state, y->a.state);
    assert_true(x->a.created_at == y->a.created_at);
    assert_true(x->a.acknowledged_at == y->a.acknowledged_at);
    assert_true(x->a.resolved_at == y->a.resolved_at);
    assert_memory_equal(&x->a.ack, &y->a.ack, sizeof(x->a.ack));
    assert_memory_equal(&x->a.resolve, &y->a.resolve, sizeof(x->a.resolve));
    assert_int_equal(x->a.ack_alarm.fired, y->a.ack_alarm.fired);
    assert_int_equal(x->a.ack_alarm.breach_fired, y->a.ack_alarm.breach_fired);
    assert_int_equal(x->a.resolve_alarm.fired, y->a.resolve_alarm.fired);
    assert_int_equal(x->a.resolve_alarm.breach_fired, y->a.resolve_alarm.breach_fired);
    assert_int_equal(x->a.targets.ack_min, y->a.targets.ack_min);
    assert_int_equal(x->a.targets.resolve_min, y->a.targets.resolve_min);
    assert_int_equal(x->a.targets.warn_pct, y->a.targets.warn_pct);
    assert_true(x->a.targets.penalty_cph == y->a.targets.penalty_cph);
    assert_int_equal(x->a.targets.ack_src, y->a.targets.ack_src);
    assert_int_equal(x->a.targets.resolve_src, y->a.targets.resolve_src);
    assert_int_equal(x->a.targets.warn_src, y->a.targets.warn_src);
    assert_int_equal(x->a.targets.penalty_src, y->a.targets.penalty_src);
    assert_int_equal(x->escalation_level, y->escalation_level);
    assert_true(x->next_check_at == y->next_check_at);
    assert_true(x->updated_at == y->updated_at);
}

static struct sw_alert_change chg(enum sw_alert_action a, int64_t at)
{
    return (struct sw_alert_change){.action = a, .at = at, .actor = "ana",
                                    .data_json = "{\"via\":\"test\"}"};
}

/* ---- create ----------------------------------------------------------------- */

static void test_create_get(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "acme", NULL);
    mk_project(t->s, "acme", "web");
    struct sw_alert_new in = {.tenant_id = "acme", .id = "a-1", .title = "Disk full",
                              .source = "edr", .sev = SLA_SEV_CRITICAL, .created_at = T0};
    struct sw_alert x, got;
    enum sw_alert_result res;
    assert_int_equal(store_alert_create(t->s, &in, T0 + 5, "ingest", &x, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
    assert_int_equal(x.a.targets.ack_min, 15);
    assert_int_equal(x.a.targets.resolve_min, 240);
    assert_int_equal(x.a.targets.warn_pct, 80);
    assert_int_equal(x.a.targets.ack_src, SLA_SRC_BUILTIN);
    assert_true(x.next_check_at == T0 + 12 * MIN);        /* 80 % of 15 min */
    assert_true(x.updated_at == T0 + 5);
    assert_int_equal(store_alert_get(t->s, "acme", "a-1", &got), 0);
    assert_same_alert(&x, &got);
    assert_int_equal(count_events(t->s, "acme", "a-1", "created"), 1);

    /* the same key again: the stored alert, nothing written */
    in.title = "Other";
    assert_int_equal(store_alert_create(t->s, &in, T0 + 9, "ingest", &got, &res), 0);
    assert_int_equal(res, SW_ALERT_DUPLICATE);
    assert_string_equal(got.title, "Disk full");
    assert_int_equal(count_events(t->s, "acme", "a-1", NULL), 1);

    struct sw_alert_new bad = {.tenant_id = "ghost", .id = "a-2", .sev = SLA_SEV_LOW};
    assert_int_equal(store_alert_create(t->s, &bad, T0, "ingest", &got, &res), 0);
    assert_int_equal(res, SW_ALERT_NO_TENANT);
    bad.tenant_id = "acme";
    bad.project_id = "nope";
    assert_int_equal(store_alert_create(t->s, &bad, T0, "ingest", &got, &res), 0);
    assert_int_equal(res, SW_ALERT_NO_PROJECT);
    assert_int_equal(store_alert_get(t->s, "acme", "a-2", &got), SW_E_NOTFOUND);
    bad.project_id = "web";         /* created_at 0: now */
    assert_int_equal(store_alert_create(t->s, &bad, T0 + 7, "ingest", &x, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
    assert_string_equal(x.project_id, "web");
    assert_true(x.a.created_at == T0 + 7);

    /* restart: the rows are there as written */
    storetest_reopen(t);
    assert_int_equal(store_alert_get(t->s, "acme", "a-2", &got), 0);
    assert_same_alert(&x, &got);
    assert_int_equal(store_alert_get(t->s, "acme", "zz", &got), SW_E_NOTFOUND);
    assert_int_equal(store_alert_get(t->s, "other", "a-1", &got), SW_E_NOTFOUND);
}

struct async_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, created, errors;
};

static void async_cb(void *ud, int rc, enum sw_alert_result res)
{
    struct async_wait *w = ud;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->created += rc == 0 && res == SW_ALERT_CREATED;
    w->errors += rc != 0;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void test_create_async(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "acme", "premium");
    enum { N = 60 };
    static char ids[N][16];
    struct sw_alert_new in[N];
    struct sw_alert *out = calloc(N, sizeof(*out));
    struct async_wait w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "as-%02d", i);
        in[i] = (struct sw_alert_new){.tenant_id = "acme", .id = ids[i],
                                      .sev = SLA_SEV_HIGH, .created_at = T0 + i};
        assert_int_equal(store_alert_create_async(t->s, &in[i], T0 + 100, "ingest", &out[i],
                                                  async_cb, &w), 0);
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < N)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(w.created, N);
    assert_int_equal(w.errors, 0);
    struct sw_alert got;
    for (int i = 0; i < N; i++) {
        assert_int_equal(store_alert_get(t->s, "acme", ids[i], &got), 0);
        assert_same_alert(&out[i], &got);
        assert_int_equal(got.a.targets.ack_src, SLA_SRC_TEMPLATE);
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    free(out);
}

static int count_cb(const struct sw_alert *a, void *ud)
{
    (void)a;
    (*(int *)ud)++;
    return 0;
}

static int count_alerts(struct store *s, const char *tenant)
{
    int n = 0;
    struct sw_alert_filter f = {.tenant_id = tenant, .state = -1, .sev = -1, .breached = -1,
                                .limit = 1000000, .now = T0};
    assert_int_equal(store_alert_list(s, &f, count_cb, &n), 0);
    return n;
}

/* Across the 10,000-row transaction boundary, with duplicates (in the
 * same call and already stored) and unknown tenants. */
static void test_create_many(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "bulk", NULL);
    mk_alert(t->s, "bulk", "b-00003", SLA_SEV_LOW, T0, NULL, NULL);
    enum { N = 10003 };
    char (*ids)[16] = calloc(N, sizeof(*ids));
    struct sw_alert_new *in = calloc(N, sizeof(*in));
    enum sw_alert_result *res = calloc(N, sizeof(*res));
    int expect_created = 0;
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "b-%05d", i == N - 1 ? 5 : i);
        in[i] = (struct sw_alert_new){.tenant_id = i % 1000 == 7 ? "ghost" : "bulk",
                                      .id = ids[i], .sev = SLA_SEV_CRITICAL + i % 4,
                                      .created_at = T0 + i};
        expect_created += i % 1000 != 7 && i != 3 && i != N - 1;
    }
    assert_int_equal(store_alert_create_many(t->s, in, N, T0 + N, "bulk", res), 0);
    int created = 0;
    for (int i = 0; i < N; i++) {
        if (i % 1000 == 7)
            assert_int_equal(res[i], SW_ALERT_NO_TENANT);
        else if (i == 3 || i == N - 1)
            assert_int_equal(res[i], SW_ALERT_DUPLICATE);
        else
            assert_int_equal(res[i], SW_ALERT_CREATED);
        created += res[i] == SW_ALERT_CREATED;
    }
    assert_int_equal(created, expect_created);
    assert_int_equal(count_alerts(t->s, "bulk"), expect_created + 1);
    struct sw_alert got;
    assert_int_equal(store_alert_get(t->s, "bulk", "b-10001", &got), 0);
    assert_int_equal(got.a.sev, SLA_SEV_CRITICAL + 10001 % 4);
    assert_int_equal(count_events(t->s, "bulk", "b-10001", "created"), 1);
    int64_t at = 0;
    assert_int_equal(store_alerts_next_due(t->s, T0, &at), 0);
    assert_true(at == T0 + 12 * MIN);       /* b-00000, critical: 80 % of 15 min */
    free(ids);
    free(in);
    free(res);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static void test_lifecycle(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "acme", NULL);
    mk_alert(t->s, "acme", "l-1", SLA_SEV_CRITICAL, T0, NULL, NULL);
    struct sw_alert x, got;
    struct sw_alert_change ch = chg(SW_ALERT_ACKNOWLEDGE, T0 + 5 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 6 * MIN, &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_ACKNOWLEDGED);
    assert_true(x.a.acknowledged_at == T0 + 5 * MIN);
    assert_true(x.a.ack.stopped_at == T0 + 5 * MIN);
    assert_true(x.next_check_at == T0 + 192 * MIN);       /* resolve: 80 % of 4 h */
    assert_int_equal(store_alert_get(t->s, "acme", "l-1", &got), 0);
    assert_same_alert(&x, &got);
    /* acknowledging again: the first stands, nothing written */
    ch.at = T0 + 7 * MIN;
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 7 * MIN, &x), 0);
    assert_true(x.a.acknowledged_at == T0 + 5 * MIN);
    assert_int_equal(count_events(t->s, "acme", "l-1", "acknowledged"), 1);

    ch = chg(SW_ALERT_RESOLVE, T0 + 10 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 10 * MIN, &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_RESOLVED);
    assert_true(x.next_check_at == SLA_NEVER);
    /* wrong states */
    ch = chg(SW_ALERT_ACKNOWLEDGE, T0 + 11 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 11 * MIN, &x),
                     SW_E_CONFLICT);
    ch.action = SW_ALERT_RESOLVE;
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 11 * MIN, &x),
                     SW_E_CONFLICT);
    ch = (struct sw_alert_change){.action = SW_ALERT_SET_SEVERITY, .sev = SLA_SEV_LOW};
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 11 * MIN, &x),
                     SW_E_CONFLICT);
    /* an explicit instant before the last state change */
    ch = chg(SW_ALERT_REOPEN, T0 + 9 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 20 * MIN, &x),
                     SW_E_INVAL);
    ch.at = T0 + 20 * MIN;
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 20 * MIN, &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_ACKNOWLEDGED);
    assert_true(x.a.resolve.paused_ms == 10 * MIN);
    assert_true(x.next_check_at == T0 + 202 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "l-1", &ch, T0 + 21 * MIN, &x),
                     SW_E_CONFLICT);
    assert_int_equal(store_alert_change(t->s, "acme", "nope", &ch, T0 + 21 * MIN, &x),
                     SW_E_NOTFOUND);
    /* before the creation */
    mk_alert(t->s, "acme", "l-2", SLA_SEV_LOW, T0 + 30 * MIN, NULL, NULL);
    ch = chg(SW_ALERT_ACKNOWLEDGE, T0 + 29 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "l-2", &ch, T0 + 31 * MIN, &x),
                     SW_E_INVAL);
    assert_int_equal(store_alert_get(t->s, "acme", "l-2", &got), 0);
    assert_int_equal(got.a.state, SLA_ALERT_OPEN);

    assert_int_equal(count_events(t->s, "acme", "l-1", NULL), 4);
    struct ev_count c = {.type = "reopened", .ordered = true};
    assert_int_equal(store_event_list(t->s, "acme", "alert", "l-1", 0, 10, ev_cb, &c), 0);
    assert_int_equal(c.n, 1);
    assert_true(c.ordered);
}

/* at = 0: now, taken under the row lock, never before the last change. */
static void test_default_at(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "acme", NULL);
    mk_alert(t->s, "acme", "d-1", SLA_SEV_HIGH, T0, NULL, NULL);
    struct sw_alert x;
    struct sw_alert_change ch = chg(SW_ALERT_RESOLVE, T0 + 30 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "d-1", &ch, T0 + 30 * MIN, &x), 0);
    /* a request that took its now before the resolution committed */
    ch = chg(SW_ALERT_REOPEN, 0);
    assert_int_equal(store_alert_change(t->s, "acme", "d-1", &ch, T0 + 10 * MIN, &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_OPEN);
    assert_true(x.a.resolve.last_event_at == T0 + 30 * MIN);
    assert_true(x.a.resolve.paused_ms == 0);
    ch = chg(SW_ALERT_ACKNOWLEDGE, 0);
    assert_int_equal(store_alert_change(t->s, "acme", "d-1", &ch, T0 + 5 * MIN, &x), 0);
    assert_true(x.a.acknowledged_at == T0 + 30 * MIN);
    /* a later now is now */
    ch = chg(SW_ALERT_RESOLVE, 0);
    assert_int_equal(store_alert_change(t->s, "acme", "d-1", &ch, T0 + 40 * MIN, &x), 0);
    assert_true(x.a.resolved_at == T0 + 40 * MIN);
    /* an explicit instant is still checked */
    ch = chg(SW_ALERT_REOPEN, T0 + 35 * MIN);
    assert_int_equal(store_alert_change(t->s, "acme", "d-1", &ch, T0 + 50 * MIN, &x),
                     SW_E_INVAL);
    struct ev_count c = {.ordered = true};
    assert_int_equal(store_event_list(t->s, "acme", "alert", "d-1", 0, 10, ev_cb, &c), 0);
    assert_int_equal(c.n, 5);
    assert_true(c.ordered);
}

static int sev_data_cb(const struct sw_event *e, void *ud)
{
    if (!strcmp(e->type, "severity_changed")) {
        assert_string_equal(e->data, "{\"from\":\"critical\",\"to\":\"high\"}");
        (*(int *)ud)++;
    }
    return 0;
}

static void test_severity(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "acme", NULL);
    mk_alert(t->s, "acme", "s-1", SLA_SEV_CRITICAL, T0, NULL, NULL);
    struct sw_alert x, got;
    struct sw_alert_change ch = {.action = SW_ALERT_SET_SEVERITY, .sev = SLA_SEV_HIGH,
                                 .actor = "ana"};
    assert_int_equal(store_alert_change(t->s, "acme", "s-1", &ch, T0 + MIN, &x), 0);
    assert_int_equal(x.a.sev, SLA_SEV_HIGH);
    assert_int_equal(x.a.targets.ack_min, 30);
    assert_int_equal(x.a.targets.resolve_min, 480);
    assert_true(x.next_check_at == T0 + 24 * MIN);
    assert_int_equal(store_alert_get(t->s, "acme", "s-1", &got), 0);
    assert_same_alert(&x, &got);
    /* the same severity: nothing written */
    assert_int_equal(store_alert_change(t->s, "acme", "s-1", &ch, T0 + 2 * MIN, &x), 0);
    assert_true(x.updated_at == T0 + MIN);
    int n = 0;
    assert_int_equal(store_event_list(t->s, "acme", "alert", "s-1", 0, 10, sev_data_cb, &n), 0);
    assert_int_equal(n, 1);
    ch.sev = SLA_SEV_URGENT;        /* not an alert severity */
    assert_int_equal(store_alert_change(t->s, "acme", "s-1", &ch, T0 + 2 * MIN, &x),
                     SW_E_INVAL);
}

/* ---- list ------------------------------------------------------------------------ */

struct ids {
    char id[64][SW_ID_MAX + 1];
    int n;
};

static int ids_cb(const struct sw_alert *a, void *ud)
{
    struct ids *r = ud;
    snprintf(r->id[r->n++], sizeof(r->id[0]), "%s", a->id);
    return 0;
}

static int list_n(struct store *s, const char *project, int state, int sev, int breached)
{
    struct ids r = {.n = 0};
    struct sw_alert_filter f = {.tenant_id = "L", .project_id = project, .state = state,
                                .sev = sev, .breached = breached, .limit = 50,
                                .now = T0 + 60 * MIN};
    assert_int_equal(store_alert_list(s, &f, ids_cb, &r), 0);
    return r.n;
}

static void test_list(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "L", NULL);
    mk_tenant(t->s, "M", NULL);
    mk_project(t->s, "L", "p");
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof(id), "l-%02d", i);
        /* critical and high have breached their ack clock an hour later */
        mk_alert(t->s, "L", id, SLA_SEV_CRITICAL + i % 4, T0 + i * 1000,
                 i % 3 == 0 ? "p" : NULL, NULL);
    }
    mk_alert(t->s, "M", "l-00", SLA_SEV_LOW, T0, NULL, NULL);
    assert_int_equal(list_n(t->s, NULL, -1, -1, -1), 12);
    assert_int_equal(list_n(t->s, "p", -1, -1, -1), 4);
    assert_int_equal(list_n(t->s, "", -1, -1, -1), 8);
    assert_int_equal(list_n(t->s, NULL, SLA_ALERT_OPEN, -1, -1), 12);
    assert_int_equal(list_n(t->s, NULL, SLA_ALERT_RESOLVED, -1, -1), 0);
    assert_int_equal(list_n(t->s, NULL, -1, SLA_SEV_HIGH, -1), 3);
    assert_int_equal(list_n(t->s, NULL, -1, -1, 1), 6);
    assert_int_equal(list_n(t->s, NULL, -1, -1, 0), 6);
    assert_int_equal(list_n(t->s, "p", -1, SLA_SEV_CRITICAL, 1), 1);     /* l-00 */
    /* keyset pages of 5 */
    struct ids all = {.n = 0};
    char after[SW_ID_MAX + 1] = "";
    for (int page = 0; page < 4; page++) {
        struct ids r = {.n = 0};
        struct sw_alert_filter f = {.tenant_id = "L", .state = -1, .sev = -1, .breached = -1,
                                    .after_id = page ? after : NULL, .limit = 5, .now = T0};
        assert_int_equal(store_alert_list(t->s, &f, ids_cb, &r), 0);
        assert_int_equal(r.n, page < 2 ? 5 : page == 2 ? 2 : 0);
        for (int i = 0; i < r.n; i++)
            snprintf(all.id[all.n++], sizeof(all.id[0]), "%s", r.id[i]);
        if (r.n)
            snprintf(after, sizeof(after), "%s", r.id[r.n - 1]);
    }
    assert_int_equal(all.n, 12);
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof(id), "l-%02d", i);
        assert_string_equal(all.id[i], id);
    }
}

/* ---- policy and recalculation ------------------------------------------------------ */

static void test_policy_recalc(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "P", NULL);
    mk_project(t->s, "P", "web");
    mk_project(t->s, "P", "api");
    mk_alert(t->s, "P", "p-1", SLA_SEV_CRITICAL, T0, NULL, NULL);
    mk_alert(t->s, "P", "p-2", SLA_SEV_HIGH, T0, "web", NULL);
    mk_alert(t->s, "P", "p-3", SLA_SEV_CRITICAL, T0, "api", NULL);
    mk_alert(t->s, "P", "p-4", SLA_SEV_CRITICAL, T0, "web", NULL);
    struct sla_definition d = {.critical_mtta_minutes = 20};
    int64_t n = -1;
    assert_int_equal(store_alert_definition_merge(t->s, "P", NULL, &d, T0 + MIN, "admin", &n), 0);
    assert_int_equal(n, 3);
    struct sw_alert got;
    assert_int_equal(store_alert_get(t->s, "P", "p-1", &got), 0);
    assert_int_equal(got.a.targets.ack_min, 20);
    assert_int_equal(got.a.targets.ack_src, SLA_SRC_TENANT);
    assert_int_equal(got.a.targets.resolve_src, SLA_SRC_BUILTIN);
    assert_true(got.a.ack.target_ms == 20 * MIN);
    assert_true(got.next_check_at == T0 + 16 * MIN);
    assert_true(got.updated_at == T0 + MIN);
    assert_int_equal(count_events(t->s, "P", "p-1", "recalculated"), 1);
    assert_int_equal(count_events(t->s, "P", "p-2", "recalculated"), 0);
    /* the same again: nothing moves */
    assert_int_equal(store_alert_definition_merge(t->s, "P", NULL, &d, T0 + MIN, "admin", &n), 0);
    assert_int_equal(n, 0);
    /* a project layer: only that project's alerts */
    d = (struct sla_definition){.critical_mtta_minutes = 10, .notification_threshold_pct = 50};
    assert_int_equal(store_alert_definition_merge(t->s, "P", "web", &d, T0 + 2 * MIN,
                                                  "admin", &n), 0);
    assert_int_equal(n, 2);         /* p-4 (target), p-2 (threshold) */
    assert_int_equal(store_alert_get(t->s, "P", "p-4", &got), 0);
    assert_int_equal(got.a.targets.ack_min, 10);
    assert_int_equal(got.a.targets.ack_src, SLA_SRC_PROJECT);
    assert_true(got.next_check_at == T0 + 5 * MIN);
    assert_int_equal(store_alert_get(t->s, "P", "p-3", &got), 0);
    assert_int_equal(got.a.targets.ack_min, 20);
    struct sw_alert_policy p;
    assert_int_equal(store_alert_policy_get(t->s, "P", "web", &p), 0);
    assert_true(p.has_project && p.has_tenant);
    assert_int_equal(p.project.ack_min[SLA_SEV_CRITICAL], 10);
    assert_int_equal(p.project.warn_pct[SLA_SEV_LOW], 50);
    assert_int_equal(p.tenant.ack_min[SLA_SEV_CRITICAL], 20);
    assert_int_equal(p.tenant.ack_min[SLA_SEV_HIGH], 0);
    assert_int_equal(store_alert_policy_get(t->s, "P", NULL, &p), 0);
    assert_false(p.has_project);
    assert_int_equal(store_alert_recalculate(t->s, "P", T0 + 3 * MIN, "admin", &n), 0);
    assert_int_equal(n, 0);
    /* errors */
    d = (struct sla_definition){.critical_mtta_minutes = 500};
    assert_int_equal(store_alert_definition_merge(t->s, "P", NULL, &d, T0, "admin", &n),
                     SW_E_INVAL);
    d = (struct sla_definition){.high_mtta_minutes = 40};
    assert_int_equal(store_alert_definition_merge(t->s, "ghost", NULL, &d, T0, "admin", &n),
                     SW_E_NOTFOUND);
    assert_int_equal(store_alert_definition_merge(t->s, "P", "nope", &d, T0, "admin", &n),
                     SW_E_NOTFOUND);
    assert_int_equal(store_alert_policy_get(t->s, "ghost", NULL, &p), SW_E_NOTFOUND);
    assert_int_equal(store_alert_policy_get(t->s, "P", "nope", &p), SW_E_NOTFOUND);
    assert_int_equal(store_alert_recalculate(t->s, "ghost", T0, "admin", &n), SW_E_NOTFOUND);
    /* survives a restart */
    storetest_reopen(t);
    assert_int_equal(store_alert_policy_get(t->s, "P", "web", &p), 0);
    assert_int_equal(p.project.ack_min[SLA_SEV_CRITICAL], 10);
}

/* ---- configs -------------------------------------------------------------------------- */

struct cfg_seen {
    int64_t id[8];
    bool active[8];
    int n;
};

static int cfg_cb(const struct sw_sla_config *c, void *ud)
{
    struct cfg_seen *s = ud;
    s->id[s->n] = c->id;
    s->active[s->n++] = c->active;
    return 0;
}

static void test_configs(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "C", NULL);
    mk_alert(t->s, "C", "c-1", SLA_SEV_CRITICAL, T0, NULL, NULL);
    struct sw_sla_config c1 = {.overrides = {.critical_mtta_minutes = 10}};
    snprintf(c1.tenant_id, sizeof(c1.tenant_id), "C");
    snprintf(c1.name, sizeof(c1.name), "gold");
    snprintf(c1.template_name, sizeof(c1.template_name), "premium");
    int64_t n = -1;
    assert_int_equal(store_config_create(t->s, &c1, T0 + MIN, "admin", &n), 0);
    assert_true(c1.id > 0);
    assert_int_equal(n, 0);
    assert_true(c1.created_at == T0 + MIN);
    struct sw_sla_config c2 = c1;
    snprintf(c2.name, sizeof(c2.name), "platinum");
    snprintf(c2.template_name, sizeof(c2.template_name), "enterprise");
    c2.overrides = (struct sla_definition){0};
    c2.active = true;
    assert_int_equal(store_config_create(t->s, &c2, T0 + 2 * MIN, "admin", &n), 0);
    assert_true(c2.id > c1.id);
    assert_int_equal(n, 1);
    struct sw_tenant ten;
    assert_int_equal(store_tenant_get(t->s, "C", &ten), 0);
    assert_string_equal(ten.template_name, "enterprise");
    struct sw_alert got;
    assert_int_equal(store_alert_get(t->s, "C", "c-1", &got), 0);
    assert_int_equal(got.a.targets.ack_src, SLA_SRC_TEMPLATE);

    struct sw_sla_config g;
    assert_int_equal(store_config_get(t->s, "C", c2.id, &g), 0);
    assert_true(g.active);
    assert_string_equal(g.name, "platinum");
    assert_int_equal(store_config_get(t->s, "C", c1.id, &g), 0);
    assert_int_equal(g.overrides.critical_mtta_minutes, 10);
    assert_false(g.active);
    assert_int_equal(store_config_get(t->s, "X", c1.id, &g), SW_E_NOTFOUND);

    /* switching c1 on switches c2 off and applies c1 */
    struct sw_sla_config_patch pa = {.active = 1};
    assert_int_equal(store_config_update(t->s, "C", c1.id, &pa, T0 + 3 * MIN, "admin", &g, &n),
                     0);
    assert_true(g.active);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "C", "c-1", &got), 0);
    assert_int_equal(got.a.targets.ack_min, 10);
    assert_int_equal(got.a.targets.ack_src, SLA_SRC_TENANT);
    assert_int_equal(store_tenant_get(t->s, "C", &ten), 0);
    assert_string_equal(ten.template_name, "premium");
    struct cfg_seen seen = {.n = 0};
    assert_int_equal(store_config_list(t->s, "C", cfg_cb, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_true(seen.id[0] == c1.id && seen.active[0]);
    assert_true(seen.id[1] == c2.id && !seen.active[1]);
    /* a rename only: nothing applied */
    pa = (struct sw_sla_config_patch){.name = "gold2", .active = -1};
    assert_int_equal(store_config_update(t->s, "C", c1.id, &pa, T0 + 4 * MIN, "admin", &g, &n),
                     0);
    assert_int_equal(n, 0);
    assert_string_equal(g.name, "gold2");
    /* errors */
    pa = (struct sw_sla_config_patch){.template_name = "bronze", .active = -1};
    assert_int_equal(store_config_update(t->s, "C", c1.id, &pa, T0, "admin", &g, &n),
                     SW_E_INVAL);
    assert_int_equal(store_config_update(t->s, "C", 9999, &pa, T0, "admin", &g, &n),
                     SW_E_NOTFOUND);
    struct sw_sla_config bad = c1;
    snprintf(bad.template_name, sizeof(bad.template_name), "bronze");
    assert_int_equal(store_config_create(t->s, &bad, T0, "admin", &n), SW_E_INVAL);
    bad = c1;
    snprintf(bad.tenant_id, sizeof(bad.tenant_id), "ghost");
    assert_int_equal(store_config_create(t->s, &bad, T0, "admin", &n), SW_E_NOTFOUND);
    assert_int_equal(store_config_list(t->s, "ghost", cfg_cb, &seen), SW_E_NOTFOUND);
    assert_int_equal(store_config_delete(t->s, "C", c2.id), 0);
    assert_int_equal(store_config_delete(t->s, "C", c2.id), SW_E_NOTFOUND);
    assert_int_equal(store_config_get(t->s, "C", c2.id, &g), SW_E_NOTFOUND);
}

/* ---- faults: every driver call of each write fails in turn ----------------------------- */

#define FAULT_LOOP(db, k, rc, op)                                               \
    for (k = 1;; k++) {                                                         \
        db_fail_after(db, k, SW_E_STORE);                                       \
        rc = (op);                                                              \
        db_fail_after(db, 0, 0);                                                \
        if (rc == 0)                                                            \
            break;                                                              \
        assert_true(rc < 0);                                                    \
        assert_true(k < 500);

static void test_faults_create(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    mk_tenant(t->s, "F", NULL);
    mk_project(t->s, "F", "web");
    struct sw_alert_new in = {.tenant_id = "F", .id = "f-1", .project_id = "web",
                              .sev = SLA_SEV_HIGH, .created_at = T0};
    struct sw_alert x, got;
    enum sw_alert_result res;
    int k, rc;
    FAULT_LOOP(db, k, rc, store_alert_create(t->s, &in, T0, "ingest", &x, &res))
        assert_int_equal(store_alert_get(t->s, "F", "f-1", &got), SW_E_NOTFOUND);
        assert_int_equal(count_events(t->s, "F", "f-1", NULL), 0);
    }
    assert_true(k > 3);
    assert_int_equal(res, SW_ALERT_CREATED);
    assert_int_equal(count_events(t->s, "F", "f-1", NULL), 1);

    /* bulk: one transaction, all or nothing */
    struct sw_alert_new many[3] = {
        {.tenant_id = "F", .id = "m-1", .sev = SLA_SEV_LOW, .created_at = T0},
        {.tenant_id = "F", .id = "m-2", .project_id = "web", .sev = SLA_SEV_LOW,
         .created_at = T0},
        {.tenant_id = "F", .id = "f-1", .sev = SLA_SEV_LOW, .created_at = T0},
    };
    enum sw_alert_result r3[3];
    FAULT_LOOP(db, k, rc, store_alert_create_many(t->s, many, 3, T0, "bulk", r3))
        assert_int_equal(store_alert_get(t->s, "F", "m-1", &got), SW_E_NOTFOUND);
        assert_int_equal(store_alert_get(t->s, "F", "m-2", &got), SW_E_NOTFOUND);
    }
    assert_int_equal(r3[0], SW_ALERT_CREATED);
    assert_int_equal(r3[1], SW_ALERT_CREATED);
    assert_int_equal(r3[2], SW_ALERT_DUPLICATE);
}

static void test_faults_change(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    mk_tenant(t->s, "F", NULL);
    struct sw_alert before, x, got;
    mk_alert(t->s, "F", "c-1", SLA_SEV_CRITICAL, T0, NULL, &before);
    struct sw_alert_change ch = {.action = SW_ALERT_SET_SEVERITY, .sev = SLA_SEV_LOW,
                                 .actor = "ana"};
    int k, rc;
    FAULT_LOOP(db, k, rc, store_alert_change(t->s, "F", "c-1", &ch, T0 + MIN, &x))
        assert_int_equal(store_alert_get(t->s, "F", "c-1", &got), 0);
        assert_same_alert(&before, &got);
        assert_int_equal(count_events(t->s, "F", "c-1", NULL), 1);
    }
    assert_int_equal(x.a.sev, SLA_SEV_LOW);
    assert_int_equal(count_events(t->s, "F", "c-1", NULL), 2);

    /* a change that stops a clock (and its rollup) */
    before = x;
    ch = chg(SW_ALERT_ACKNOWLEDGE, 0);
    FAULT_LOOP(db, k, rc, store_alert_change(t->s, "F", "c-1", &ch, T0 + 2 * MIN, &x))
        assert_int_equal(store_alert_get(t->s, "F", "c-1", &got), 0);
        assert_same_alert(&before, &got);
        assert_int_equal(count_events(t->s, "F", "c-1", NULL), 2);
    }
    assert_int_equal(x.a.state, SLA_ALERT_ACKNOWLEDGED);
    assert_int_equal(count_events(t->s, "F", "c-1", NULL), 3);
}

static void test_faults_policy(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    mk_tenant(t->s, "F", NULL);
    struct sw_alert before, got;
    mk_alert(t->s, "F", "r-1", SLA_SEV_CRITICAL, T0, NULL, &before);
    for (int i = 0; i < 40; i++) {          /* more than one chunk of events */
        char id[16];
        snprintf(id, sizeof(id), "r-%02d", i + 2);
        mk_alert(t->s, "F", id, SLA_SEV_CRITICAL, T0, NULL, NULL);
    }
    struct sla_definition d = {.critical_mtta_minutes = 20, .low_mttr_hours = 100};
    int64_t n = -1;
    int k, rc;
    FAULT_LOOP(db, k, rc, store_alert_definition_merge(t->s, "F", NULL, &d, T0 + MIN, "a", &n))
        struct sw_alert_policy p;
        assert_int_equal(store_alert_policy_get(t->s, "F", NULL, &p), 0);
        assert_false(p.has_tenant);
        assert_int_equal(store_alert_get(t->s, "F", "r-1", &got), 0);
        assert_same_alert(&before, &got);
        assert_int_equal(count_events(t->s, "F", "r-41", "recalculated"), 0);
    }
    assert_int_equal(n, 41);
    assert_int_equal(count_events(t->s, "F", "r-41", "recalculated"), 1);

    struct sw_sla_config cfg = {.active = true, .overrides = {.critical_mtta_minutes = 30}};
    snprintf(cfg.tenant_id, sizeof(cfg.tenant_id), "F");
    snprintf(cfg.name, sizeof(cfg.name), "x");
    snprintf(cfg.template_name, sizeof(cfg.template_name), "standard");
    FAULT_LOOP(db, k, rc, store_config_create(t->s, &cfg, T0 + 2 * MIN, "a", &n))
        struct cfg_seen seen = {.n = 0};
        assert_int_equal(store_config_list(t->s, "F", cfg_cb, &seen), 0);
        assert_int_equal(seen.n, 0);
        assert_int_equal(store_alert_get(t->s, "F", "r-1", &got), 0);
        assert_int_equal(got.a.targets.ack_min, 20);
    }
    assert_int_equal(n, 41);
}

/* ---- PostgreSQL: two nodes ------------------------------------------------------------- */

static struct store *second_node(struct storetest *t)
{
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    return b;
}

enum { NIDS = 300 };

struct create_job {
    struct store *s;
    int seed;
    bool bulk;
    int rc;
    enum sw_alert_result res[NIDS];
};

static char race_ids[NIDS][16];

static void *create_job_main(void *arg)
{
    struct create_job *j = arg;
    struct sw_alert_new in[NIDS];
    for (int i = 0; i < NIDS; i++) {
        int k = j->seed & 1 ? NIDS - 1 - i : i;     /* half of them backwards */
        in[i] = (struct sw_alert_new){.tenant_id = "R", .id = race_ids[k],
                                      .sev = SLA_SEV_CRITICAL + k % 4, .created_at = T0 + k};
    }
    if (j->bulk) {
        enum sw_alert_result r[NIDS];
        j->rc = store_alert_create_many(j->s, in, NIDS, T0 + NIDS, "bulk", r);
        for (int i = 0; i < NIDS; i++)
            j->res[j->seed & 1 ? NIDS - 1 - i : i] = r[i];
        return NULL;
    }
    struct sw_alert x;
    for (int i = 0; i < NIDS && j->rc == 0; i++) {
        int k = j->seed & 1 ? NIDS - 1 - i : i;
        j->rc = store_alert_create(j->s, &in[i], T0 + NIDS, "ingest", &x, &j->res[k]);
        if (j->rc == 0 && strcmp(x.id, race_ids[k]) != 0)
            j->rc = SW_E_INVAL;     /* (no cmocka assertions off the main thread) */
    }
    return NULL;
}

static void race_creates(struct store *a, struct store *b, bool bulk, const char *prefix)
{
    for (int i = 0; i < NIDS; i++)
        snprintf(race_ids[i], sizeof(race_ids[i]), "%s%03d", prefix, i);
    enum { NJ = 4 };
    struct create_job *j = calloc(NJ, sizeof(*j));
    pthread_t th[NJ];
    for (int i = 0; i < NJ; i++) {
        j[i].s = i % 2 ? b : a;
        j[i].seed = i / 2;
        j[i].bulk = bulk;
        assert_int_equal(pthread_create(&th[i], NULL, create_job_main, &j[i]), 0);
    }
    for (int i = 0; i < NJ; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NJ; i++)
        assert_int_equal(j[i].rc, 0);
    for (int k = 0; k < NIDS; k++) {
        int created = 0;
        for (int i = 0; i < NJ; i++) {
            assert_true(j[i].res[k] == SW_ALERT_CREATED || j[i].res[k] == SW_ALERT_DUPLICATE);
            created += j[i].res[k] == SW_ALERT_CREATED;
        }
        assert_int_equal(created, 1);
        assert_int_equal(count_events(a, "R", race_ids[k], "created"), 1);
    }
    free(j);
}

/* Two nodes (two threads each) create the same alerts at once: every call
 * succeeds, each alert is created once, one row each. */
static void test_pg_concurrent_create(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "R", NULL);
    struct store *b = second_node(t);
    race_creates(t->s, b, false, "one-");
    race_creates(t->s, b, true, "bulk-");
    assert_int_equal(count_alerts(t->s, "R"), 2 * NIDS);
    store_close(b);
}

struct change_job {
    struct store *s;
    unsigned seed;
    int ok, conflicts, other;
};

enum { NCHG = 8 };

static void *change_job_main(void *arg)
{
    struct change_job *j = arg;
    static const enum sw_alert_action acts[] = {SW_ALERT_ACKNOWLEDGE, SW_ALERT_RESOLVE,
                                               SW_ALERT_REOPEN};
    for (int i = 0; i < 150; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c-%d", rand_r(&j->seed) % NCHG);
        struct sw_alert_change ch = chg(acts[rand_r(&j->seed) % 3], 0);
        /* each request's now, taken before its transaction: often older
         * than what another request committed meanwhile */
        int64_t now = T0 + 60 * MIN + i * 100 + rand_r(&j->seed) % 20000;
        struct sw_alert x;
        int rc = store_alert_change(j->s, "D", id, &ch, now, &x);
        if (rc == 0)
            j->ok++;
        else if (rc == SW_E_CONFLICT)
            j->conflicts++;         /* the state said no: a fair answer */
        else
            j->other++;
    }
    return NULL;
}

/* Issue 12 item 7: acknowledge/resolve/reopen without an instant from two
 * nodes at once never fail for going back in time. */
static void test_pg_concurrent_default_at(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "D", NULL);
    for (int i = 0; i < NCHG; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c-%d", i);
        mk_alert(t->s, "D", id, SLA_SEV_HIGH, T0, NULL, NULL);
    }
    struct store *b = second_node(t);
    enum { NJ = 4 };
    struct change_job j[NJ];
    pthread_t th[NJ];
    for (int i = 0; i < NJ; i++) {
        j[i] = (struct change_job){.s = i % 2 ? b : t->s, .seed = 17u + (unsigned)i};
        assert_int_equal(pthread_create(&th[i], NULL, change_job_main, &j[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < NJ; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NJ; i++) {
        assert_int_equal(j[i].other, 0);
        ok += j[i].ok;
    }
    assert_true(ok > 100);
    for (int i = 0; i < NCHG; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c-%d", i);
        struct ev_count c = {.ordered = true};
        assert_int_equal(store_event_list(t->s, "D", "alert", id, 0, 1000, ev_cb, &c), 0);
        assert_true(c.ordered);     /* each change at or after the one before */
    }
    store_close(b);
}

struct merge_job {
    struct store *s;
    bool high;
    int rc;
    pthread_barrier_t *bar;
    int round;
};

static void *merge_job_main(void *arg)
{
    struct merge_job *j = arg;
    struct sla_definition d = {0};
    if (j->high)
        d.high_mtta_minutes = 40 + j->round;
    else
        d.critical_mtta_minutes = 20 + j->round;
    pthread_barrier_wait(j->bar);
    int64_t n;
    j->rc = store_alert_definition_merge(j->s, "M", NULL, &d, T0 + j->round, "admin", &n);
    return NULL;
}

/* Two nodes merging different fields of one tenant's layer at once: both
 * fields are kept (the tenant row serializes the read-modify-write). */
static void test_pg_concurrent_merge(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "M", NULL);
    mk_alert(t->s, "M", "m-1", SLA_SEV_CRITICAL, T0, NULL, NULL);
    mk_alert(t->s, "M", "m-2", SLA_SEV_HIGH, T0, NULL, NULL);
    struct store *b = second_node(t);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    for (int round = 0; round < 15; round++) {
        struct merge_job j[2] = {{.s = t->s, .high = false, .bar = &bar, .round = round},
                                 {.s = b, .high = true, .bar = &bar, .round = round}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, merge_job_main, &j[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < 2; i++)
            assert_int_equal(j[i].rc, 0);
        struct sw_alert_policy p;
        assert_int_equal(store_alert_policy_get(t->s, "M", NULL, &p), 0);
        assert_int_equal(p.tenant.ack_min[SLA_SEV_CRITICAL], 20 + round);
        assert_int_equal(p.tenant.ack_min[SLA_SEV_HIGH], 40 + round);
        struct sw_alert got;
        assert_int_equal(store_alert_get(t->s, "M", "m-2", &got), 0);
        assert_int_equal(got.a.targets.ack_min, 40 + round);
    }
    pthread_barrier_destroy(&bar);
    store_close(b);
}

struct ingest_job {
    struct store *s;
    int rc;
    pthread_barrier_t *bar;
};

static void *ingest_job_main(void *arg)
{
    struct ingest_job *j = arg;
    pthread_barrier_wait(j->bar);
    for (int i = 0; i < 400 && j->rc == 0; i++) {
        char id[16];
        snprintf(id, sizeof(id), "i-%03d", i);
        struct sw_alert_new in = {.tenant_id = "I", .id = id, .sev = SLA_SEV_CRITICAL,
                                  .created_at = T0};
        struct sw_alert x;
        enum sw_alert_result res;
        j->rc = store_alert_create(j->s, &in, T0 + i, "ingest", &x, &res);
    }
    return NULL;
}

struct policy_job {
    struct store *s;
    int rc;
    pthread_barrier_t *bar;
    const char *tenant;
};

static void *policy_job_main(void *arg)
{
    struct policy_job *j = arg;
    pthread_barrier_wait(j->bar);
    for (int i = 0; i < 30 && j->rc == 0; i++) {
        struct sla_definition d = {.critical_mtta_minutes = 20 + i};
        int64_t n;
        j->rc = store_alert_definition_merge(j->s, j->tenant, NULL, &d, T0 + MIN, "admin", &n);
    }
    return NULL;
}

/* One node creates alerts while another changes the tenant's policy: every
 * alert ends under the last policy (a create never commits targets read
 * before a recalculation that could not see it). */
static void test_pg_create_during_merge(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "I", NULL);
    struct store *b = second_node(t);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct ingest_job ij = {.s = t->s, .bar = &bar};
    struct policy_job pj = {.s = b, .bar = &bar, .tenant = "I"};
    pthread_t th[2];
    assert_int_equal(pthread_create(&th[0], NULL, ingest_job_main, &ij), 0);
    assert_int_equal(pthread_create(&th[1], NULL, policy_job_main, &pj), 0);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(ij.rc, 0);
    assert_int_equal(pj.rc, 0);
    int stale = 0;
    for (int i = 0; i < 400; i++) {
        char id[16];
        snprintf(id, sizeof(id), "i-%03d", i);
        struct sw_alert got;
        assert_int_equal(store_alert_get(t->s, "I", id, &got), 0);
        stale += got.a.targets.ack_min != 49;
    }
    assert_int_equal(stale, 0);
    store_close(b);
}

struct churn_job {
    struct store *s;
    int rc;
    pthread_barrier_t *bar;
};

static void *churn_job_main(void *arg)
{
    struct churn_job *j = arg;
    pthread_barrier_wait(j->bar);
    static const enum sw_alert_action acts[] = {SW_ALERT_ACKNOWLEDGE, SW_ALERT_RESOLVE,
                                               SW_ALERT_REOPEN};
    for (int i = 0; i < 300 && j->rc == 0; i++) {
        char id[16];
        snprintf(id, sizeof(id), "h-%d", i % 10);
        struct sw_alert_change ch = chg(acts[(i / 10) % 3], 0);
        struct sw_alert x;
        j->rc = store_alert_change(j->s, "H", id, &ch, T0 + 60 * MIN + i, &x);
        if (j->rc == SW_E_CONFLICT)
            j->rc = 0;
    }
    return NULL;
}

/* One node changes alerts while another changes their tenant's policy:
 * both lock the tenant row before alert rows, so they queue and never
 * deadlock (no transaction retried). */
static void test_pg_change_during_merge(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "H", NULL);
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "h-%d", i);
        mk_alert(t->s, "H", id, SLA_SEV_CRITICAL, T0, NULL, NULL);
    }
    struct store *b = second_node(t);
    uint64_t retries = db_retry_count(sql_of(t->s)->db) + db_retry_count(sql_of(b)->db);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct churn_job cj = {.s = t->s, .bar = &bar};
    struct policy_job pj = {.s = b, .bar = &bar, .tenant = "H"};
    pthread_t th[2];
    assert_int_equal(pthread_create(&th[0], NULL, churn_job_main, &cj), 0);
    assert_int_equal(pthread_create(&th[1], NULL, policy_job_main, &pj), 0);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(cj.rc, 0);
    assert_int_equal(pj.rc, 0);
    assert_true(db_retry_count(sql_of(t->s)->db) + db_retry_count(sql_of(b)->db) == retries);
    store_close(b);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bursts of asynchronous creates for ms milliseconds (at most 20,000):
 * every one is answered and creates its alert. */
static int async_bursts(struct store *s, const char *prefix, int64_t ms, unsigned seed)
{
    enum { MAX = 20000 };
    char (*ids)[24] = calloc(MAX, sizeof(*ids));
    struct sw_alert_new *in = calloc(MAX, sizeof(*in));
    struct sw_alert *out = calloc(MAX, sizeof(*out));
    struct async_wait w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int n = 0;
    for (int64_t end = mono_ms() + ms; mono_ms() < end && n < MAX;) {
        for (int k = 1 + rand_r(&seed) % 40; k > 0 && n < MAX; k--, n++) {
            snprintf(ids[n], sizeof(ids[n]), "%s%05d", prefix, n);
            in[n] = (struct sw_alert_new){.tenant_id = "W", .id = ids[n],
                                          .sev = SLA_SEV_CRITICAL + n % 4, .created_at = T0};
            assert_int_equal(store_alert_create_async(s, &in[n], T0 + 100, "ingest", &out[n],
                                                      async_cb, &w), 0);
        }
        usleep(rand_r(&seed) % 3000);
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < n)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(w.errors, 0);
    assert_int_equal(w.created, n);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    free(ids);
    free(in);
    free(out);
    return n;
}

/* PostgreSQL's second alert writer works while its node is alone and
 * stands down while another node shares the database, asking every
 * second (alert_writer.c, writer_may_write).  Bursts across several of
 * those checks, each way: nothing waits forever, nothing is lost, nothing
 * is written twice.  (A batch taken by the first writer while the second
 * was asking once left the second with an empty batch: a crash.) */
static void test_pg_writers_lone_and_shared(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "W", NULL);
    int n = async_bursts(t->s, "lone-", 2500, 1);
    struct store *b = second_node(t);
    n += async_bursts(t->s, "shared-", 2500, 2);
    store_close(b);
    assert_int_equal(count_alerts(t->s, "W"), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get),
        cmocka_unit_test(test_create_async),
        cmocka_unit_test(test_create_many),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_default_at),
        cmocka_unit_test(test_severity),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_policy_recalc),
        cmocka_unit_test(test_configs),
        cmocka_unit_test(test_faults_create),
        cmocka_unit_test(test_faults_change),
        cmocka_unit_test(test_faults_policy),
        cmocka_unit_test(test_pg_concurrent_create),
        cmocka_unit_test(test_pg_concurrent_default_at),
        cmocka_unit_test(test_pg_concurrent_merge),
        cmocka_unit_test(test_pg_create_during_merge),
        cmocka_unit_test(test_pg_change_during_merge),
        cmocka_unit_test(test_pg_writers_lone_and_shared),
    };
    return storetest_run("store_alerts", tests, sizeof(tests) / sizeof(tests[0]));
}
