/* The findings store (src/store/findings*.c) on SQLite and PostgreSQL:
 * rows, idempotent creates, updates and their instants, lists, the policy
 * levels and recalculation (count semantics, re-arming), and the
 * scheduler's ops (next_due, process_due) with explicit instants: warnings
 * and breaches fire once per deadline, re-arm after a recalculation that
 * moves the deadline into the future, stay fired when it is still past;
 * escalation contacts at breach + N days; paused and closed findings never
 * fire; tenant thresholds from the notification config.  Every write op
 * under fault injection; on PostgreSQL, two schedulers (two stores, as two
 * nodes) over the same due findings, and concurrent idempotent creates.
 * And migration 0007 over rows written in the 0003 layout (SQLite only).
 *
 * Notices.  process_due hands each event's notice to store_notice_in (the
 * outbox subject).  This test is linked with --wrap=store_notice_in: every
 * notice is recorded here (a spy), then passed on to the real outbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "core/sla.h"
#include "notify/notify.h"
#include "store/store_findings.h"
#include "store/store_int.h"
#include "store/store_notify.h"
#include "storetest.h"
#include "util/embed.h"

#define H SLA_MS_PER_HOUR
#define D SLA_MS_PER_DAY
/* 2026-01-01T00:00:00Z */
#define T0 INT64_C(1767225600000)

/* ---- notices (see the top comment) ------------------------------------- */

#define NOTICES_MAX 4096

static struct {
    pthread_mutex_t mu;
    int n;
    struct rec { int64_t event_id; char type[32]; int pct, level; } v[NOTICES_MAX];
} notices = {.mu = PTHREAD_MUTEX_INITIALIZER};

int __real_store_notice_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id);
int __wrap_store_notice_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id);

int __wrap_store_notice_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id)
{
    pthread_mutex_lock(&notices.mu);
    if (notices.n < NOTICES_MAX) {
        struct rec *r = &notices.v[notices.n++];
        r->event_id = event_id;
        snprintf(r->type, sizeof(r->type), "%s", n->type);
        r->pct = n->threshold_pct;
        r->level = n->escalation_level;
    }
    pthread_mutex_unlock(&notices.mu);
    return __real_store_notice_in(c, n, event_id);
}

static void notices_clear(void)
{
    pthread_mutex_lock(&notices.mu);
    notices.n = 0;
    pthread_mutex_unlock(&notices.mu);
}

/* ---- SQL the tests read rows with -------------------------------------------- */

static const char SQL_STAGE[] =
    "SELECT stage FROM findings WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_TARGETS_N[] =
    "SELECT count(*) FROM finding_targets WHERE tenant_id = ?1 AND project_id = ?2";
static const char SQL_TARGET_HOURS[] =
    "SELECT hours FROM finding_targets WHERE tenant_id = ?1 AND project_id = ?2 "
    "AND severity = 'critical'";
static const char SQL_EVENTS_N[] =
    "SELECT count(*) FROM events WHERE tenant_id = ?1 AND type = ?2";
static const char SQL_EVENTS_DISTINCT[] =
    "SELECT count(DISTINCT item_id || ' ' || type || ' ' || COALESCE(data, '')) FROM events "
    "WHERE tenant_id = ?1 AND type LIKE ?2";
static const char SQL_EVENT_EXISTS[] =
    "SELECT count(*) FROM events WHERE id = ?1";
static const char SQL_FINDINGS_N[] = "SELECT count(*) FROM findings WHERE tenant_id = ?1";
static const char SQL_OUTBOX[] =
    "SELECT count(*), count(DISTINCT event_id), "
    "sum(CASE WHEN type = 'sla.breach' THEN 1 ELSE 0 END) FROM outbox "
    "WHERE item_kind = 'finding' AND item_id = ?1";
static const char SQL_NOTIFY_CONFIG[] =
    "INSERT INTO notification_config (tenant_id, channels, recipients, thresholds, updated_at) "
    "VALUES (?1, '[\"websocket\"]', '{}', ?2, 0)";

struct q {
    const char *sql;
    const char *a, *b;          /* text parameters ?1, ?2 (NULL: none) */
    int64_t i;                  /* ?1 when a is NULL and i != 0 */
    int64_t v[3];
};

static int q_tx(struct db_conn *c, void *ud)
{
    struct q *q = ud;
    struct db_stmt *st;
    int rc = db_prep(c, q->sql, &st);
    if (rc < 0)
        return rc;
    if (q->a)
        db_bind_text(st, 1, q->a);
    else if (q->i)
        db_bind_int64(st, 1, q->i);
    if (q->b)
        db_bind_text(st, 2, q->b);
    memset(q->v, 0, sizeof(q->v));
    rc = db_step_one(st);
    if (rc == 1) {
        for (int k = 0; k < 3; k++)
            q->v[k] = db_col_int64(st, k);
        db_reset(st);
        return 0;
    }
    return rc < 0 ? rc : 0;
}

/* The first row's first columns (0 without a row). */
static int64_t sql_row(struct store *s, const char *sql, const char *a, const char *b,
                       int64_t out[3])
{
    struct q q = {.sql = sql, .a = a, .b = b};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_WRITE, q_tx, &q), 0);
    if (out)
        memcpy(out, q.v, sizeof(q.v));
    return q.v[0];
}

static int64_t sql_int(struct store *s, const char *sql, const char *a, const char *b)
{
    return sql_row(s, sql, a, b, NULL);
}

static int64_t event_exists(struct store *s, int64_t id)
{
    struct q q = {.sql = SQL_EVENT_EXISTS, .i = id};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_WRITE, q_tx, &q), 0);
    return q.v[0];
}

static int64_t stage(struct store *s, const char *id)
{
    return sql_int(s, SQL_STAGE, "acme", id);
}

/* ---- fixtures and helpers ------------------------------------------------------ */

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static void project(struct store *s, const char *tenant_id, const char *id)
{
    struct sw_project p = {.created_at = T0};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant_id);
    snprintf(p.id, sizeof(p.id), "%s", id);
    snprintf(p.name, sizeof(p.name), "Project %s", id);
    assert_int_equal(store_project_create(s, &p, NULL), 0);
}

/* acme, with a project web */
static struct store *fixture(void **state)
{
    struct storetest *t = *state;
    notices_clear();
    tenant(t->s, "acme");
    project(t->s, "acme", "web");
    return t->s;
}

static int try_add(struct store *s, const char *id, const char *proj, enum sla_sev sev,
                   int64_t at, bool *created)
{
    struct sw_finding_new in = {.tenant_id = "acme", .id = id, .project_id = proj,
                                .title = "t", .sev = sev, .discovered_at = at};
    struct sw_finding *f = malloc(sizeof(*f));
    int rc = store_finding_create(s, &in, at, "test", f, created);
    free(f);
    return rc;
}

static void add(struct store *s, const char *id, const char *proj, enum sla_sev sev,
                int64_t at)
{
    bool created = false;
    assert_int_equal(try_add(s, id, proj, sev, at, &created), 0);
    assert_true(created);
}

static int64_t next_due(struct store *s, int64_t now)
{
    int64_t at = 0;
    assert_int_equal(store_finding_next_due(s, now, &at), 0);
    return at;
}

static int process(struct store *s, int64_t now)
{
    int n = -1, total = 0;
    do {
        assert_int_equal(store_finding_process_due(s, now, 2, &n), 0);
        total += n;
    } while (n == 2);
    return total;
}

struct evs {
    char types[32][48];
    json_t *data[32];
    int64_t at[32];
    size_t n;
};

static int ev_cb(const struct sw_event *e, void *ud)
{
    struct evs *v = ud;
    if (v->n < 32) {
        snprintf(v->types[v->n], sizeof(v->types[0]), "%s", e->type);
        v->data[v->n] = e->data ? json_loads(e->data, 0, NULL) : NULL;
        v->at[v->n] = e->at;
        v->n++;
    }
    return 0;
}

static void events(struct store *s, const char *id, struct evs *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(store_event_list(s, "acme", "finding", id, 0, 100, ev_cb, v), 0);
}

static void evs_free(struct evs *v)
{
    for (size_t i = 0; i < v->n; i++)
        json_decref(v->data[i]);
}

/* How many events of a type the finding has. */
static size_t count(struct store *s, const char *id, const char *type)
{
    struct evs v;
    size_t k = 0;
    events(s, id, &v);
    for (size_t i = 0; i < v.n; i++)
        k += !strcmp(v.types[i], type);
    evs_free(&v);
    return k;
}

static void get(struct store *s, const char *id, struct sw_finding *f)
{
    assert_int_equal(store_finding_get(s, "acme", id, f), 0);
}

/* A policy from JSON: {"critical": 100, "contacts": [[level, user, days]]}. */
static void policy_of(struct sw_finding_policy *p, const char *tenant_id, const char *proj,
                      const char *json)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->tenant_id, sizeof(p->tenant_id), "%s", tenant_id);
    snprintf(p->project_id, sizeof(p->project_id), "%s", proj);
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        json_t *v = json_object_get(j, sla_sev_name((enum sla_sev)i));
        if (v) {
            p->hours_set[i] = true;
            p->hours[i] = (int32_t)json_integer_value(v);
        }
    }
    json_t *cs = json_object_get(j, "contacts");
    size_t k;
    json_t *c;
    json_array_foreach(cs, k, c) {
        struct sw_contact *ct = &p->contacts[p->ncontacts++];
        ct->level = (int)json_integer_value(json_array_get(c, 0));
        snprintf(ct->user, sizeof(ct->user), "%s", json_string_value(json_array_get(c, 1)));
        ct->days_after_breach = (int)json_integer_value(json_array_get(c, 2));
    }
    json_decref(j);
}

static void put_scope(struct store *s, const char *tenant_id, const char *proj,
                      const char *json, int64_t now, int64_t want_count)
{
    struct sw_finding_policy p;
    policy_of(&p, tenant_id, proj, json);
    int64_t n = -1;
    assert_int_equal(store_finding_policy_put(s, &p, now, "test", &n), 0);
    assert_int_equal(n, want_count);
}

static void put_policy(struct store *s, const char *tenant_id, const char *json, int64_t now,
                       int64_t want_count)
{
    put_scope(s, tenant_id, "", json, now, want_count);
}

struct change {
    int op;     /* 0 pause, 1 resume, 2 close, 3 reopen */
    int64_t at; /* 0: the store's instant (ev->at on entry) */
    int64_t seen_at;
};

static int apply(struct sw_finding *r, const struct sla_finding_scopes *sc, void *ud,
                 struct sw_finding_event *ev)
{
    struct change *ch = ud;
    (void)sc;
    int64_t at = ch->at ? ch->at : ev->at;
    ch->seen_at = ev->at;
    snprintf(ev->type, sizeof(ev->type), "%s",
             (const char *[]){"paused", "resumed", "closed", "reopened"}[ch->op]);
    if (ch->at)
        ev->at = ch->at;
    switch (ch->op) {
    case 0: return sla_finding_pause(&r->f, at);
    case 1: return sla_finding_resume(&r->f, at);
    case 2: return sla_finding_close(&r->f, SLA_FINDING_CLOSED, at);
    default: return sla_finding_reopen(&r->f, at);
    }
}

static int try_change(struct store *s, const char *id, int op, int64_t at, int64_t now)
{
    struct change ch = {op, at, 0};
    struct sw_finding *f = malloc(sizeof(*f));
    int rc = store_finding_update(s, "acme", id, now, "test", apply, &ch, f);
    free(f);
    return rc;
}

static void change(struct store *s, const char *id, int op, int64_t at)
{
    assert_int_equal(try_change(s, id, op, at, at), 0);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- rows: create, get, list, update --------------------------------------------- */

struct listed {
    char ids[16][SW_ID_MAX + 1];
    int n;
};

static int list_cb(const struct sw_finding *f, void *ud)
{
    struct listed *l = ud;
    if (l->n < 16)
        snprintf(l->ids[l->n++], sizeof(l->ids[0]), "%s", f->id);
    return 0;
}

static int list(struct store *s, const char *state, const char *sev, const char *proj,
                int breached, const char *after, int limit, int64_t now, struct listed *l)
{
    struct sw_finding_filter fl = {.tenant_id = "acme", .state = state, .severity = sev,
                                   .project_id = proj, .breached = breached,
                                   .after_id = after, .limit = limit, .now = now};
    memset(l, 0, sizeof(*l));
    assert_int_equal(store_finding_list(s, &fl, list_cb, l), 0);
    return l->n;
}

static void test_create_get_list(void **state)
{
    struct storetest *t = *state;
    struct store *s = fixture(state);
    struct sw_finding f;
    bool created = true;
    add(s, "a", NULL, SLA_SEV_CRITICAL, T0);
    /* the same key again: the row that is there, unchanged, no event */
    assert_int_equal(try_add(s, "a", "web", SLA_SEV_LOW, T0 + H, &created), 0);
    assert_false(created);
    get(s, "a", &f);
    assert_string_equal(f.project_id, "");
    assert_string_equal(f.title, "t");
    assert_int_equal(f.f.sev, SLA_SEV_CRITICAL);
    assert_int_equal(f.f.state, SLA_FINDING_OPEN);
    assert_int_equal(f.f.target.hours, 72);
    assert_int_equal(f.f.target.src, SLA_SRC_BUILTIN);
    assert_int_equal(f.nwarn, 1);
    assert_int_equal(f.warn[0], 80);
    assert_int_equal(f.next_check_at, T0 + 72 * H * 80 / 100);
    assert_int_equal(f.ingested_at, T0);
    assert_int_equal(count(s, "a", "created"), 1);
    /* the group's target rows were written with its first finding */
    assert_int_equal(sql_int(s, SQL_TARGETS_N, "acme", ""), SLA_SEV_COUNT);
    assert_int_equal(sql_int(s, SQL_TARGETS_N, "acme", "web"), 0);

    struct sw_finding_new in = {.tenant_id = "ghost", .id = "x", .sev = SLA_SEV_LOW,
                                .discovered_at = T0};
    assert_int_equal(store_finding_create(s, &in, T0, "test", &f, &created), SW_E_NOTFOUND);
    in.tenant_id = "acme";
    in.project_id = "nope";
    assert_int_equal(store_finding_create(s, &in, T0, "test", &f, &created), SW_E_NOTFOUND);
    assert_int_equal(store_finding_get(s, "acme", "x", &f), SW_E_NOTFOUND);
    assert_int_equal(store_finding_get(s, "ghost", "a", &f), SW_E_NOTFOUND);

    add(s, "b", NULL, SLA_SEV_URGENT, T0);
    add(s, "c", "web", SLA_SEV_LOW, T0);
    add(s, "d", NULL, SLA_SEV_URGENT, T0);
    change(s, "b", 2, T0 + H);         /* closed in time */
    change(s, "c", 0, T0 + H);         /* paused */
    struct listed l;
    const int64_t now = T0 + 30 * H;   /* d breached (24 h), a at 30 of 72 h */
    assert_int_equal(list(s, NULL, NULL, NULL, -1, NULL, 10, now, &l), 4);
    assert_string_equal(l.ids[0], "a");
    assert_string_equal(l.ids[3], "d");
    assert_int_equal(list(s, "open", NULL, NULL, -1, NULL, 10, now, &l), 2);
    assert_int_equal(list(s, "paused", NULL, NULL, -1, NULL, 10, now, &l), 1);
    assert_string_equal(l.ids[0], "c");
    assert_int_equal(list(s, NULL, "urgent", NULL, -1, NULL, 10, now, &l), 2);
    assert_int_equal(list(s, NULL, NULL, "web", -1, NULL, 10, now, &l), 1);
    assert_int_equal(list(s, NULL, NULL, "", -1, NULL, 10, now, &l), 3);
    assert_int_equal(list(s, NULL, NULL, NULL, 1, NULL, 10, now, &l), 1);
    assert_string_equal(l.ids[0], "d");
    assert_int_equal(list(s, NULL, NULL, NULL, 0, NULL, 10, now, &l), 3);
    assert_int_equal(list(s, NULL, NULL, NULL, -1, "b", 2, now, &l), 2);
    assert_string_equal(l.ids[0], "c");
    assert_string_equal(l.ids[1], "d");
    /* a target of 2160 h in ms is past 32 bits: compared as 64-bit */
    assert_int_equal(list(s, NULL, "low", NULL, 1, NULL, 10, T0 + 3000 * H, &l), 0);

    /* restart: everything is where it was */
    storetest_reopen(t);
    s = t->s;
    get(s, "b", &f);
    assert_int_equal(f.f.state, SLA_FINDING_CLOSED);
    assert_int_equal(f.f.closed_at, T0 + H);
    assert_int_equal(f.f.target.hours, 24);         /* frozen with the verdict */
    get(s, "c", &f);
    assert_int_equal(f.f.state, SLA_FINDING_PAUSED);
    assert_int_equal(f.f.clock.paused_since, T0 + H);
    assert_int_equal(f.next_check_at, SLA_NEVER);
    assert_string_equal(f.project_id, "web");
}

static void test_update(void **state)
{
    struct store *s = fixture(state);
    struct sw_finding f;
    add(s, "f", NULL, SLA_SEV_HIGH, T0);
    assert_int_equal(try_change(s, "nope", 0, T0 + H, T0 + H), SW_E_NOTFOUND);
    change(s, "f", 0, T0 + H);
    /* the callback's refusal rolls everything back */
    assert_int_equal(try_change(s, "f", 0, T0 + 2 * H, T0 + 2 * H), SW_E_CONFLICT);
    assert_int_equal(try_change(s, "f", 1, T0, T0 + 2 * H), SW_E_INVAL);   /* before */
    change(s, "f", 1, T0 + 3 * H);
    get(s, "f", &f);
    assert_int_equal(f.f.state, SLA_FINDING_OPEN);
    assert_int_equal(f.f.clock.paused_ms, 2 * H);
    assert_int_equal(f.updated_at, T0 + 3 * H);
    change(s, "f", 2, T0 + 4 * H);
    change(s, "f", 3, T0 + 5 * H);
    get(s, "f", &f);
    assert_int_equal(f.f.state, SLA_FINDING_OPEN);
    assert_int_equal(f.f.clock.paused_ms, 3 * H);   /* the closed hour counts as paused */
    struct evs v;
    events(s, "f", &v);
    assert_int_equal(v.n, 5);
    assert_string_equal(v.types[1], "paused");
    assert_string_equal(v.types[4], "reopened");
    assert_int_equal(v.at[4], T0 + 5 * H);
    evs_free(&v);
}

/* Issue 12 item 7: a change without an instant of its own takes the store's,
 * read inside the transaction and never before the finding's last change. */
static void test_default_instant(void **state)
{
    struct store *s = fixture(state);
    struct sw_finding f;
    add(s, "f", NULL, SLA_SEV_HIGH, T0);
    change(s, "f", 0, T0 + 5 * H);
    /* a request that began before the last change committed (now earlier
     * than it): its default instant is the last change, not refused */
    struct change ch = {.op = 1};
    assert_int_equal(store_finding_update(s, "acme", "f", T0 + 3 * H, "test", apply, &ch, &f),
                     0);
    assert_int_equal(ch.seen_at, T0 + 5 * H);
    assert_int_equal(f.f.clock.last_event_at, T0 + 5 * H);
    /* now = 0: the store's clock, read after the row is locked */
    int64_t before = wall_ms();
    memset(&ch, 0, sizeof(ch));
    ch.op = 0;
    assert_int_equal(store_finding_update(s, "acme", "f", 0, "test", apply, &ch, &f), 0);
    int64_t after = wall_ms();
    int64_t lo = before > T0 + 5 * H ? before : T0 + 5 * H;
    int64_t hi = after > T0 + 5 * H ? after : T0 + 5 * H;
    assert_true(ch.seen_at >= lo && ch.seen_at <= hi);
    assert_int_equal(f.f.clock.paused_since, ch.seen_at);
    struct evs v;
    events(s, "f", &v);
    assert_int_equal(v.n, 4);
    assert_int_equal(v.at[2], T0 + 5 * H);
    assert_int_equal(v.at[3], ch.seen_at);
    evs_free(&v);
    /* a create without an instant is ingested at the store's clock */
    struct sw_finding_new in = {.tenant_id = "acme", .id = "g", .sev = SLA_SEV_LOW,
                                .discovered_at = T0};
    bool created;
    before = wall_ms();
    assert_int_equal(store_finding_create(s, &in, 0, "test", &f, &created), 0);
    assert_true(created && f.ingested_at >= before && f.ingested_at <= wall_ms());
}

/* ---- policy levels and recalculation ------------------------------------------------ */

static void test_policy_chain_and_counts(void **state)
{
    struct store *s = fixture(state);
    struct sw_policy_chain ch;
    struct sw_finding f;
    int64_t n = -1;
    assert_int_equal(store_finding_policy_chain(s, "acme", "web", &ch), 0);
    assert_false(ch.has[SW_POL_PROJECT] || ch.has[SW_POL_COMPANY] || ch.has[SW_POL_GLOBAL]);
    assert_int_equal(store_finding_policy_chain(s, "ghost", "", &ch), SW_E_NOTFOUND);
    assert_int_equal(store_finding_policy_chain(s, "acme", "nope", &ch), SW_E_NOTFOUND);
    assert_int_equal(store_finding_policy_chain(s, "", "web", &ch), SW_E_NOTFOUND);

    add(s, "a", NULL, SLA_SEV_CRITICAL, T0);
    add(s, "b", "web", SLA_SEV_CRITICAL, T0);
    add(s, "c", "web", SLA_SEV_CRITICAL, T0);
    add(s, "x", "web", SLA_SEV_CRITICAL, T0);
    change(s, "c", 0, T0 + H);          /* paused: live, counted */
    change(s, "x", 2, T0 + H);          /* closed: neither moved nor counted */
    /* the global level recalculates nothing by itself */
    put_policy(s, "", "{\"critical\":50, \"contacts\":[[2,\"gina\",1]]}", T0 + H, 0);
    get(s, "a", &f);
    assert_int_equal(f.f.target.hours, 72);
    assert_int_equal(store_finding_recalculate(s, "acme", "", T0 + H, "test", &n), 0);
    assert_int_equal(n, 3);
    get(s, "b", &f);
    assert_int_equal(f.f.target.hours, 50);
    assert_int_equal(f.f.target.src, SLA_SRC_GLOBAL);
    /* the company level: its findings and its projects without a policy */
    put_policy(s, "acme", "{\"critical\":40, \"high\":0}", T0 + H, 3);
    get(s, "b", &f);
    assert_int_equal(f.f.target.hours, 40);
    assert_int_equal(f.f.target.src, SLA_SRC_TENANT);
    /* a project level: that project only */
    put_scope(s, "acme", "web", "{\"critical\":30}", T0 + H, 2);
    get(s, "c", &f);
    assert_int_equal(f.f.target.hours, 30);
    assert_int_equal(f.f.target.src, SLA_SRC_PROJECT);
    get(s, "a", &f);
    assert_int_equal(f.f.target.hours, 40);
    get(s, "x", &f);
    assert_int_equal(f.f.target.hours, 72);
    assert_int_equal(store_finding_recalculate(s, "acme", "web", T0 + H, "test", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_finding_recalculate(s, "", "", T0, "test", &n), SW_E_INVAL);
    assert_int_equal(store_finding_recalculate(s, "acme", "nope", T0, "test", &n),
                     SW_E_NOTFOUND);

    assert_int_equal(store_finding_policy_chain(s, "acme", "web", &ch), 0);
    assert_true(ch.has[SW_POL_PROJECT] && ch.has[SW_POL_COMPANY] && ch.has[SW_POL_GLOBAL]);
    assert_true(ch.level[SW_POL_PROJECT].hours_set[SLA_SEV_CRITICAL]);
    assert_false(ch.level[SW_POL_PROJECT].hours_set[SLA_SEV_URGENT]);
    assert_int_equal(ch.level[SW_POL_COMPANY].hours[SLA_SEV_CRITICAL], 40);
    assert_true(ch.level[SW_POL_COMPANY].hours_set[SLA_SEV_HIGH]);     /* 0: kept as written */
    assert_int_equal(ch.level[SW_POL_COMPANY].hours[SLA_SEV_HIGH], 0);
    assert_int_equal(ch.level[SW_POL_GLOBAL].ncontacts, 1);
    assert_int_equal(ch.level[SW_POL_GLOBAL].contacts[0].level, 2);
    assert_string_equal(ch.level[SW_POL_GLOBAL].contacts[0].user, "gina");
    assert_int_equal(ch.level[SW_POL_GLOBAL].contacts[0].days_after_breach, 1);
    assert_string_equal(ch.level[SW_POL_COMPANY].updated_by, "test");
    assert_int_equal(ch.level[SW_POL_COMPANY].updated_at, T0 + H);

    /* dropping the project's level: back to the company's */
    assert_int_equal(store_finding_policy_delete(s, "acme", "web", T0 + H, "test", &n), 0);
    assert_int_equal(n, 2);
    get(s, "c", &f);
    assert_int_equal(f.f.target.hours, 40);
    /* no row is not an error */
    assert_int_equal(store_finding_policy_delete(s, "acme", "web", T0 + H, "test", &n), 0);
    assert_int_equal(store_finding_policy_delete(s, "ghost", "", T0, "test", &n),
                     SW_E_NOTFOUND);
    struct sw_finding_policy p;
    policy_of(&p, "acme", "nope", "{}");
    assert_int_equal(store_finding_policy_put(s, &p, T0, "test", &n), SW_E_NOTFOUND);
    assert_int_equal(store_finding_policy_chain(s, "acme", "web", &ch), 0);
    assert_false(ch.has[SW_POL_PROJECT]);
}

/* ---- the scheduler (ported from the SQLite store's tests) ----------------------------- */

/* critical: 72 h from T0; 80 % at 57.6 h; breach at 72 h + 1 ms */
static void test_warning_then_breach_once(void **state)
{
    struct store *s = fixture(state);
    struct sw_finding f;
    const int64_t warn = T0 + 72 * H * 80 / 100, due = T0 + 72 * H;
    assert_int_equal(next_due(s, T0), SLA_NEVER);
    add(s, "f", NULL, SLA_SEV_CRITICAL, T0);
    assert_int_equal(next_due(s, T0), warn);
    assert_int_equal(process(s, warn - 1), 0);
    get(s, "f", &f);
    assert_false(sla_alarm_notified(&f.f.alarm));
    assert_int_equal(f.next_check_at, warn);

    assert_int_equal(process(s, warn), 1);
    assert_int_equal(process(s, warn), 0);           /* once */
    assert_int_equal(process(s, warn + H), 0);
    struct evs v;
    events(s, "f", &v);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.types[1], "sla.warning");
    assert_int_equal(json_integer_value(json_object_get(v.data[1], "threshold_pct")), 80);
    assert_string_equal(json_string_value(json_object_get(v.data[1], "due_at")),
                        "2026-01-04T00:00:00.000Z");
    evs_free(&v);
    get(s, "f", &f);
    assert_true(sla_alarm_notified(&f.f.alarm));
    assert_false(f.f.alarm.breach_fired);
    assert_int_equal(f.next_check_at, due + 1);
    assert_int_equal(stage(s, "f"), 80);

    assert_int_equal(next_due(s, warn), due + 1);
    assert_int_equal(process(s, due), 0);            /* exactly at due: met */
    assert_int_equal(process(s, due + 1), 1);
    assert_int_equal(process(s, due + 10 * D), 0);   /* once */
    events(s, "f", &v);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.types[2], "sla.breach");
    assert_int_equal(json_integer_value(json_object_get(v.data[2], "overage_ms")), 1);
    evs_free(&v);
    get(s, "f", &f);
    assert_true(f.f.alarm.breach_fired);
    assert_true(sla_clock_breached(&f.f.clock, due + 1));
    /* nothing left: no contacts anywhere */
    assert_int_equal(next_due(s, due + 1), SLA_NEVER);
    /* each event handed one notice to the outbox */
    assert_int_equal(notices.n, 2);
    assert_string_equal(notices.v[0].type, "sla.warning");
    assert_int_equal(notices.v[0].pct, 80);
    assert_string_equal(notices.v[1].type, "sla.breach");
    assert_true(notices.v[0].event_id > 0 && notices.v[1].event_id > notices.v[0].event_id);
}

/* A late look: the breach alone is told; the crossed warning is marked. */
static void test_late_breach_supersedes_warning(void **state)
{
    struct store *s = fixture(state);
    add(s, "old", NULL, SLA_SEV_URGENT, T0);
    assert_int_equal(next_due(s, T0 + 100 * D), T0 + 24 * H * 80 / 100);
    assert_int_equal(process(s, T0 + 100 * D), 1);
    assert_int_equal(count(s, "old", "sla.breach"), 1);
    assert_int_equal(count(s, "old", "sla.warning"), 0);
    assert_int_equal(process(s, T0 + 200 * D), 0);
}

static void test_rearm_after_recalculation(void **state)
{
    struct store *s = fixture(state);
    struct sw_finding f;
    add(s, "f", NULL, SLA_SEV_CRITICAL, T0);
    add(s, "g", NULL, SLA_SEV_HIGH, T0);
    assert_int_equal(process(s, T0 + 80 * H), 1);   /* f breached (72 h); g at 47 % */
    assert_int_equal(count(s, "f", "sla.breach"), 1);
    /* loosen critical to 100 h at 80 h: the new deadline is ahead, so f is
     * re-armed, and 80 % of 100 h is now */
    put_policy(s, "acme", "{\"critical\":100}", T0 + 80 * H, 2);
    get(s, "f", &f);
    assert_false(sla_alarm_notified(&f.f.alarm));
    assert_int_equal(f.f.target.hours, 100);
    assert_int_equal(next_due(s, T0 + 80 * H), T0 + 80 * H);
    assert_int_equal(process(s, T0 + 80 * H), 1);
    assert_int_equal(count(s, "f", "sla.warning"), 1);
    assert_int_equal(process(s, T0 + 100 * H + 1), 1);
    assert_int_equal(count(s, "f", "sla.breach"), 2);
    /* tighten to 90 h at 120 h: moved, but still past: no second breach */
    put_policy(s, "acme", "{\"critical\":90}", T0 + 120 * H, 2);
    get(s, "f", &f);
    assert_true(f.f.alarm.breach_fired);
    assert_int_equal(process(s, T0 + 120 * H), 0);  /* g is at 71 % of 168 h */
    assert_int_equal(count(s, "f", "sla.breach"), 2);
    assert_int_equal(count(s, "g", "sla.warning"), 0);
    assert_int_equal(count(s, "g", "sla.breach"), 0);
}

static void test_contacts_after_breach(void **state)
{
    struct store *s = fixture(state);
    /* the global ladder, inherited: level 1 at once, level 3 after 2 days */
    put_policy(s, "", "{\"contacts\":[[1,\"alice \\\"a\\\"\",0],[3,\"carol\",2]]}", T0, 0);
    add(s, "u", NULL, SLA_SEV_URGENT, T0);
    const int64_t breach = T0 + 24 * H + 1;
    assert_int_equal(process(s, breach - 1), 1);     /* the 80 % warning */
    assert_int_equal(next_due(s, breach - 1), breach);
    assert_int_equal(process(s, breach), 1);
    assert_int_equal(count(s, "u", "sla.breach"), 1);
    assert_int_equal(count(s, "u", "sla.escalation"), 1);
    assert_int_equal(next_due(s, breach), breach + 2 * D);
    assert_int_equal(process(s, breach + 2 * D - 1), 0);
    assert_int_equal(process(s, breach + 2 * D), 1);
    assert_int_equal(process(s, breach + 30 * D), 0);
    struct evs v;
    events(s, "u", &v);
    assert_int_equal(v.n, 5);
    assert_string_equal(v.types[3], "sla.escalation");
    assert_int_equal(json_integer_value(json_object_get(v.data[3], "level")), 1);
    assert_string_equal(json_string_value(json_object_get(v.data[3], "user")), "alice \"a\"");
    assert_int_equal(json_integer_value(json_object_get(v.data[4], "level")), 3);
    assert_int_equal(json_integer_value(json_object_get(v.data[4], "days_after_breach")), 2);
    evs_free(&v);
    struct sw_finding f;
    get(s, "u", &f);
    assert_int_equal(f.contacts_fired, 1u | 4u);
    assert_int_equal(next_due(s, breach + 30 * D), SLA_NEVER);
    assert_int_equal(notices.n, 4);
    assert_int_equal(notices.v[3].level, 3);
}

static void test_paused_and_closed_never_fire(void **state)
{
    struct store *s = fixture(state);
    add(s, "p", NULL, SLA_SEV_URGENT, T0);
    add(s, "c", NULL, SLA_SEV_URGENT, T0);
    change(s, "p", 0, T0 + H);
    change(s, "c", 2, T0 + H);
    assert_int_equal(next_due(s, T0 + H), SLA_NEVER);
    assert_int_equal(process(s, T0 + 1000 * D), 0);
    assert_int_equal(count(s, "p", "sla.breach") + count(s, "c", "sla.breach"), 0);
    /* resumed after 9 h of pause: 80 % of 24 h, 9 h later */
    change(s, "p", 1, T0 + 10 * H);
    assert_int_equal(next_due(s, T0 + 10 * H), T0 + 9 * H + 24 * H * 80 / 100);
    /* a policy change does not move the closed one's verdict */
    put_policy(s, "acme", "{\"urgent\":1}", T0 + 10 * H, 1);
    struct sw_finding f;
    get(s, "c", &f);
    assert_int_equal(f.f.target.hours, 24);
    assert_false(sla_clock_breached(&f.f.clock, T0 + 10 * H));
    get(s, "p", &f);
    assert_int_equal(f.f.target.hours, 1);
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 10 * H), T0 + 9 * H + 1 * H);
    /* reopened: live again, follows the group (1 h), fires */
    change(s, "c", 3, T0 + 11 * H);
    get(s, "c", &f);
    assert_int_equal(f.f.target.hours, 1);
    assert_int_equal(process(s, T0 + 12 * H), 2);
    assert_int_equal(count(s, "c", "sla.breach"), 1);
}

static void notify_config(struct store *s, const char *tenant_id, const char *thresholds)
{
    struct q q = {.sql = SQL_NOTIFY_CONFIG, .a = tenant_id, .b = thresholds};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_WRITE, q_tx, &q), 0);
}

static void test_tenant_thresholds_and_outbox(void **state)
{
    struct store *s = fixture(state);
    notify_config(s, "acme", "[50, 90, 100]");
    add(s, "t", NULL, SLA_SEV_URGENT, T0);          /* 24 h: 12 h, 21.6 h, 24 h */
    assert_int_equal(next_due(s, T0), T0 + 12 * H);
    assert_int_equal(process(s, T0 + 12 * H), 1);
    assert_int_equal(next_due(s, T0 + 12 * H), T0 + 24 * H * 90 / 100);
    assert_int_equal(process(s, T0 + 22 * H), 1);
    struct sw_finding f;
    get(s, "t", &f);
    assert_int_equal(f.nwarn, 2);                       /* 100 is the breach itself */
    assert_int_equal(f.f.alarm.fired, 3u);
    assert_int_equal(next_due(s, T0 + 22 * H), T0 + 24 * H + 1);
    assert_int_equal(process(s, T0 + 25 * H), 1);
    assert_int_equal(count(s, "t", "sla.warning"), 2);
    assert_int_equal(count(s, "t", "sla.breach"), 1);
    /* every event handed its notice over, once */
    assert_int_equal(notices.n, 3);
    assert_int_equal(notices.v[0].pct, 50);
    assert_int_equal(notices.v[1].pct, 90);
    for (int i = 0; i < notices.n; i++)
        assert_int_equal(event_exists(s, notices.v[i].event_id), 1);
    /* and reached the outbox, with its event (once the outbox is ported) */
    {
        int64_t v[3];
        sql_row(s, SQL_OUTBOX, "t", NULL, v);
        assert_int_equal(v[0], 3);
        assert_int_equal(v[1], 3);
        assert_int_equal(v[2], 1);
    }

    /* a configuration with no thresholds: the breach alone; odd values
     * (not integers, out of range) are skipped */
    tenant(s, "quiet");
    notify_config(s, "quiet", "[]");
    tenant(s, "odd");
    notify_config(s, "odd", "[95, 10.5, \"x\", 0, 130, 30]");
    struct sw_finding_new in = {.tenant_id = "quiet", .id = "q", .sev = SLA_SEV_URGENT,
                                .discovered_at = T0 + 100 * D};
    bool created;
    assert_int_equal(store_finding_create(s, &in, T0 + 100 * D, "test", &f, &created), 0);
    assert_int_equal(f.nwarn, 0);
    assert_int_equal(next_due(s, T0 + 100 * D), T0 + 100 * D + 24 * H + 1);
    in.tenant_id = "odd";
    assert_int_equal(store_finding_create(s, &in, T0 + 100 * D, "test", &f, &created), 0);
    assert_int_equal(f.nwarn, 2);
    assert_int_equal(f.warn[0], 30);
    assert_int_equal(f.warn[1], 95);
}

/* Many findings, a small batch: process_due is called until it returns less
 * than its limit, and each finding fires exactly once. */
static void test_batches(void **state)
{
    struct store *s = fixture(state);
    char id[16];
    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof(id), "b%02d", i);
        add(s, id, i % 3 ? NULL : "web", (enum sla_sev)(i % SLA_SEV_COUNT), T0 + i * 1000);
    }
    assert_int_equal(process(s, T0 + 1000 * D), 25);
    assert_int_equal(process(s, T0 + 1000 * D), 0);
    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof(id), "b%02d", i);
        assert_int_equal(count(s, id, "sla.breach"), 1);
    }
}

/* ---- faults: every driver call of a write, failed in turn ------------------------------ */

typedef int (*op_fn)(struct store *s, void *ud);

/* Fails the k-th driver call for k = 1, 2, ... until op succeeds; after
 * each failure, check asserts that nothing of it was written.  Returns the
 * number of calls the op makes. */
static int faults(struct store *s, op_fn op, void (*check)(struct store *s, void *ud), void *ud)
{
    struct db *db = sql_of(s)->db;
    for (int k = 1; k < 2000; k++) {
        notices_clear();
        db_fail_after(db, k, SW_E_STORE);
        int rc = op(s, ud);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            return k;
        assert_int_equal(rc, SW_E_STORE);
        check(s, ud);
    }
    fail_msg("the op never succeeded");
    return 0;
}

static int op_create(struct store *s, void *ud)
{
    bool created = false;
    int rc = try_add(s, ud, "web", SLA_SEV_HIGH, T0, &created);
    return rc == 0 && !created ? SW_E_STORE : rc;
}

static void check_create(struct store *s, void *ud)
{
    struct sw_finding f;
    assert_int_equal(store_finding_get(s, "acme", ud, &f), SW_E_NOTFOUND);
    assert_int_equal(count(s, ud, "created"), 0);
    assert_int_equal(sql_int(s, SQL_TARGETS_N, "acme", "web"), 0);
}

static void test_faults_create(void **state)
{
    struct store *s = fixture(state);
    assert_true(faults(s, op_create, check_create, "fc") > 5);
    assert_int_equal(count(s, "fc", "created"), 1);
    assert_int_equal(sql_int(s, SQL_TARGETS_N, "acme", "web"), SLA_SEV_COUNT);
}

static int op_update(struct store *s, void *ud)
{
    return try_change(s, ud, 0, T0 + H, T0 + H);
}

static void check_update(struct store *s, void *ud)
{
    struct sw_finding f;
    get(s, ud, &f);
    assert_int_equal(f.f.state, SLA_FINDING_OPEN);
    assert_int_equal(f.f.clock.last_event_at, T0);
    assert_int_equal(f.updated_at, T0);
    assert_int_equal(count(s, ud, "paused"), 0);
}

static void test_faults_update(void **state)
{
    struct store *s = fixture(state);
    add(s, "fu", NULL, SLA_SEV_HIGH, T0);
    assert_true(faults(s, op_update, check_update, "fu") > 3);
    struct sw_finding f;
    get(s, "fu", &f);
    assert_int_equal(f.f.state, SLA_FINDING_PAUSED);
    assert_int_equal(count(s, "fu", "paused"), 1);
}

static int op_policy_put(struct store *s, void *ud)
{
    struct sw_finding_policy p;
    int64_t n = -1;
    policy_of(&p, "acme", "", "{\"critical\":100}");
    int rc = store_finding_policy_put(s, &p, T0 + 80 * H, "test", &n);
    if (rc == 0)
        *(int64_t *)ud = n;
    return rc;
}

static void check_policy_put(struct store *s, void *ud)
{
    struct sw_policy_chain ch;
    (void)ud;
    assert_int_equal(store_finding_policy_chain(s, "acme", "", &ch), 0);
    assert_false(ch.has[SW_POL_COMPANY]);
    assert_int_equal(sql_int(s, SQL_TARGET_HOURS, "acme", ""), 72);
    assert_int_equal(sql_int(s, SQL_TARGET_HOURS, "acme", "web"), 72);
    assert_int_equal(stage(s, "f"), 100);          /* not re-armed */
}

static void test_faults_policy_put(void **state)
{
    struct store *s = fixture(state);
    add(s, "f", NULL, SLA_SEV_CRITICAL, T0);
    add(s, "w", "web", SLA_SEV_CRITICAL, T0);
    assert_int_equal(process(s, T0 + 80 * H), 2);   /* both breached */
    int64_t n = -1;
    assert_true(faults(s, op_policy_put, check_policy_put, &n) > 5);
    assert_int_equal(n, 2);
    assert_int_equal(sql_int(s, SQL_TARGET_HOURS, "acme", ""), 100);
    assert_int_equal(sql_int(s, SQL_TARGET_HOURS, "acme", "web"), 100);
    assert_int_equal(stage(s, "f"), 0);
    assert_int_equal(stage(s, "w"), 0);
}

static int op_process(struct store *s, void *ud)
{
    int n = 0;
    int rc = store_finding_process_due(s, T0 + 100 * D, 10, &n);
    if (rc == 0)
        *(int *)ud = n;
    return rc;
}

static void check_process(struct store *s, void *ud)
{
    (void)ud;
    assert_int_equal(sql_int(s, SQL_EVENTS_N, "acme", "sla.breach"), 0);
    assert_int_equal(sql_int(s, SQL_EVENTS_N, "acme", "sla.escalation"), 0);
    assert_int_equal(stage(s, "u") + stage(s, "c") + stage(s, "w"), 0);
}

static void test_faults_process_due(void **state)
{
    struct store *s = fixture(state);
    put_policy(s, "", "{\"contacts\":[[1,\"lee\",0]]}", T0, 0);
    add(s, "u", NULL, SLA_SEV_URGENT, T0);
    add(s, "c", NULL, SLA_SEV_CRITICAL, T0);
    add(s, "w", "web", SLA_SEV_LOW, T0);
    int n = 0;
    assert_true(faults(s, op_process, check_process, &n) > 10);
    assert_int_equal(n, 3);
    assert_int_equal(sql_int(s, SQL_EVENTS_N, "acme", "sla.breach"), 3);
    assert_int_equal(sql_int(s, SQL_EVENTS_N, "acme", "sla.escalation"), 3);
    assert_int_equal(notices.n, 6);                 /* the attempt that committed */
    assert_int_equal(process(s, T0 + 100 * D), 0);
}

/* ---- migration 0007 over 0003 rows (SQLite) ------------------------------------------- */

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static void test_migration_from_0003(void **state)
{
    struct storetest *t = *state;
    if (t->pg)
        skip();     /* PostgreSQL starts at the final shape */
    char path[192], url[208], err[256];
    sqlite3 *db;
    snprintf(path, sizeof(path), "%s/old.db", t->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
             " applied_at INTEGER NOT NULL DEFAULT 0)");
    for (const struct embed_file *f = schema_sqlite; f->name; f++) {
        int v = atoi(f->name);
        if (v >= 7)
            continue;
        exec(db, (const char *)f->data);
        char ins[160];
        snprintf(ins, sizeof(ins), "INSERT INTO schema_version (version, name) VALUES (%d, '%s')",
                 v, f->name);
        exec(db, ins);
    }
    exec(db, "INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 0)");
    /* T0 = 1767225600000.  o1/o2: open critical, the majority 72 h; o3 at
     * 48 h (created after a global change, say), its warning fired long ago,
     * so its move to 72 h (deadline still past) keeps the flag; p1 paused
     * since T0+1h with 2 h of closed pauses; c1 closed at 24 h, judged against
     * 10 h: keeps it. */
    exec(db,
         "INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at,"
         " closed_at, sla_hours, sla_source, safety_net, paused_ms, paused_since, stopped_at,"
         " last_event_at, due_at, warn_fired, breach_fired, next_check_at, ingested_at,"
         " updated_at) VALUES"
         " ('acme','o1','','critical','','open',1767225600000,NULL,72,'builtin',0,0,NULL,NULL,"
         "  1767225600000,1767484800000,1,0,1767484800001,1767225600000,1767225600000),"
         " ('acme','o2','','critical','','open',1767225600000,NULL,72,'builtin',0,0,NULL,NULL,"
         "  1767225600000,1767484800000,0,0,1767484800001,1767225600000,1767225600000),"
         " ('acme','o3','','critical','','open',1767225600000,NULL,48,'global',0,0,NULL,NULL,"
         "  1767225600000,1767398400000,1,1,NULL,1767225600000,1767225600001),"
         " ('acme','p1','','high','','paused',1767225600000,NULL,168,'builtin',0,7200000,"
         "  1767229200000,NULL,1767229200000,1767837600000,0,0,NULL,1767225600000,1767225600000),"
         " ('acme','c1','','critical','','closed',1767225600000,1767312000000,10,'company',0,0,"
         "  NULL,1767312000000,1767312000000,1767261600000,0,1,NULL,1767225600000,1767225600000)");
    sqlite3_close(db);

    struct store *s;
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (store_sql_open(url, &s, err, sizeof(err)) < 0)
        fail_msg("store_sql_open: %s", err);
    struct sw_finding f;
    assert_int_equal(store_finding_get(s, "acme", "o1", &f), 0);
    assert_int_equal(f.f.target.hours, 72);
    assert_int_equal(f.f.target.src, SLA_SRC_BUILTIN);
    assert_int_equal(f.f.alarm.fired, 1u);
    assert_int_equal(sla_clock_due(&f.f.clock, T0), T0 + 72 * H);
    assert_int_equal(store_finding_get(s, "acme", "o3", &f), 0);
    assert_int_equal(f.f.target.hours, 72);               /* the group's */
    assert_true(f.f.alarm.breach_fired);                  /* still past: kept */
    assert_int_equal(store_finding_get(s, "acme", "p1", &f), 0);
    assert_int_equal(f.f.state, SLA_FINDING_PAUSED);
    assert_int_equal(f.f.clock.paused_ms, 2 * H);
    assert_int_equal(f.f.clock.paused_since, T0 + H);
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 5 * H), T0 + 168 * H + 2 * H + 4 * H);
    assert_int_equal(store_finding_get(s, "acme", "c1", &f), 0);
    assert_int_equal(f.f.target.hours, 10);
    assert_int_equal(f.f.target.src, SLA_SRC_TENANT);
    assert_true(sla_clock_breached(&f.f.clock, T0 + 100 * D));
    /* the scheduler picks up where 0003 left: o2's warning (and breach) */
    int n = 0;
    assert_int_equal(store_finding_process_due(s, T0 + 100 * D, 100, &n), 0);
    assert_int_equal(n, 2);                               /* o1, o2: breach; o3 done */
    store_close(s);
}

/* ---- PostgreSQL: several nodes ----------------------------------------------------------- */

static struct store *second_store(struct storetest *t)
{
    struct store *b;
    char err[512];
    if (store_sql_open(t->url, &b, err, sizeof(err)) < 0)
        fail_msg("store_sql_open: %s", err);
    return b;
}

struct node_arg {
    struct store *s;
    pthread_barrier_t *bar;
    int64_t now;
    int rc, total;
    bool created[100];
};

static void *scheduler_thread(void *p)
{
    struct node_arg *a = p;
    a->rc = 0;
    a->total = 0;
    pthread_barrier_wait(a->bar);
    for (;;) {
        int n = 0;
        int rc = store_finding_process_due(a->s, a->now, 16, &n);
        if (rc < 0) {
            a->rc = rc;
            break;
        }
        a->total += n;
        if (n == 0)
            break;      /* nothing due is left that the other node does not hold */
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Two schedulers over the same few hundred due findings: every warning,
 * breach and contact exists exactly once, with exactly one notice. */
static void test_pg_two_schedulers(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *a = fixture(state);
    struct store *b = second_store(t);
    enum { N = 300 };
    put_policy(a, "", "{\"contacts\":[[1,\"lee\",0],[2,\"kim\",1]]}", T0, 0);
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "n%03d", i);
        add(i % 2 ? a : b, id, i % 3 ? NULL : "web", SLA_SEV_URGENT, T0 + i * 10);
    }
    notices_clear();
    /* warnings (80 % of 24 h), then breaches with the first contact, then
     * the second contact a day later */
    const int64_t rounds[] = {T0 + 20 * H, T0 + 25 * H, T0 + 25 * H + D};
    for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        struct node_arg na = {.s = a, .bar = &bar, .now = rounds[r]};
        struct node_arg nb = {.s = b, .bar = &bar, .now = rounds[r]};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, scheduler_thread, &na);
        pthread_create(&tb, NULL, scheduler_thread, &nb);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&bar);
        assert_int_equal(na.rc, 0);
        assert_int_equal(nb.rc, 0);
        assert_int_equal(na.total + nb.total, N);
        assert_int_equal(process(a, rounds[r]), 0);
    }
    assert_int_equal(sql_int(a, SQL_EVENTS_N, "acme", "sla.warning"), N);
    assert_int_equal(sql_int(a, SQL_EVENTS_N, "acme", "sla.breach"), N);
    assert_int_equal(sql_int(a, SQL_EVENTS_N, "acme", "sla.escalation"), 2 * N);
    assert_int_equal(sql_int(a, SQL_EVENTS_DISTINCT, "acme", "sla.%"), 4 * N);
    /* one notice per committed event (a retried attempt's notices name
     * events that were rolled back, and ids are never reused) */
    int64_t *ids = malloc((size_t)notices.n * sizeof(*ids));
    for (int i = 0; i < notices.n; i++)
        ids[i] = notices.v[i].event_id;
    qsort(ids, (size_t)notices.n, sizeof(*ids), cmp_i64);
    int committed = 0;
    for (int i = 0; i < notices.n; i++) {
        assert_true(i == 0 || ids[i] != ids[i - 1]);
        committed += (int)event_exists(a, ids[i]);
    }
    assert_int_equal(committed, 4 * N);
    free(ids);
    store_close(b);
}

static void *create_thread(void *p)
{
    struct node_arg *a = p;
    char id[16];
    a->rc = 0;
    pthread_barrier_wait(a->bar);
    for (int i = 0; i < 100 && a->rc == 0; i++) {
        snprintf(id, sizeof(id), "c%03d", i);
        a->rc = try_add(a->s, id, i % 2 ? "web" : NULL, SLA_SEV_HIGH, T0, &a->created[i]);
    }
    return NULL;
}

/* Concurrent idempotent creates of the same keys (and of a group's first
 * target rows): both succeed, one creates, one row and one event each. */
static void test_pg_concurrent_creates(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *a = fixture(state);
    struct store *b = second_store(t);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct node_arg na = {.s = a, .bar = &bar}, nb = {.s = b, .bar = &bar};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, create_thread, &na);
    pthread_create(&tb, NULL, create_thread, &nb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(na.rc, 0);
    assert_int_equal(nb.rc, 0);
    for (int i = 0; i < 100; i++)
        assert_true(na.created[i] != nb.created[i]);
    assert_int_equal(sql_int(a, SQL_FINDINGS_N, "acme", NULL), 100);
    assert_int_equal(sql_int(a, SQL_EVENTS_N, "acme", "created"), 100);
    assert_int_equal(sql_int(a, SQL_TARGETS_N, "acme", "web"), SLA_SEV_COUNT);
    store_close(b);
}

static void *close_thread(void *p)
{
    struct node_arg *a = p;
    char id[16];
    a->rc = 0;
    a->total = 0;
    pthread_barrier_wait(a->bar);
    for (int i = 0; i < 100 && a->rc == 0; i++) {
        snprintf(id, sizeof(id), "u%03d", i);
        int rc = try_change(a->s, id, 2, T0 + H, T0 + H);
        if (rc == 0)
            a->total++;
        else if (rc != SW_E_CONFLICT)
            a->rc = rc;
    }
    return NULL;
}

/* Two nodes close the same findings at once: the row is read locked, so
 * one closes each and the other is told it is closed already. */
static void test_pg_concurrent_updates(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *a = fixture(state);
    struct store *b = second_store(t);
    char id[16];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "u%03d", i);
        add(a, id, NULL, SLA_SEV_HIGH, T0);
    }
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct node_arg na = {.s = a, .bar = &bar}, nb = {.s = b, .bar = &bar};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, close_thread, &na);
    pthread_create(&tb, NULL, close_thread, &nb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(na.rc, 0);
    assert_int_equal(nb.rc, 0);
    assert_int_equal(na.total + nb.total, 100);
    assert_int_equal(sql_int(a, SQL_EVENTS_N, "acme", "closed"), 100);
    store_close(b);
}

struct policy_arg {
    struct store *s;
    pthread_barrier_t *bar;
    const char *project;
    int round, rc;
};

static void *policy_thread(void *p)
{
    struct policy_arg *a = p;
    struct sw_finding_policy pol;
    char json[64];
    int i = a->round;
    if (*a->project)
        snprintf(json, sizeof(json), "{\"high\":%d}", 50 + i);
    else
        snprintf(json, sizeof(json), "{\"critical\":%d, \"high\":%d}", 10 + i, 20 + i);
    policy_of(&pol, "acme", a->project, json);
    int64_t n;
    pthread_barrier_wait(a->bar);
    a->rc = store_finding_policy_put(a->s, &pol, T0 + i, "test", &n);
    return NULL;
}

static const char SQL_TARGETS_SUM[] =
    "SELECT sum(hours * (CASE severity WHEN 'critical' THEN 1 ELSE 1000 END)) "
    "FROM finding_targets WHERE tenant_id = ?1 AND project_id = ?2";

/* A company's and one of its projects' policy written at the same instant
 * from two nodes, round after round: each recalculation sees what the other
 * committed, so after every round the project's targets are its own high
 * and the company's critical (no lost update of a group's targets). */
static void test_pg_concurrent_policy_writes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *a = fixture(state);
    struct store *b = second_store(t);
    add(a, "c", NULL, SLA_SEV_CRITICAL, T0);
    add(a, "w", "web", SLA_SEV_CRITICAL, T0);
    for (int i = 0; i < 100; i++) {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        struct policy_arg pa = {.s = a, .bar = &bar, .project = "", .round = i};
        struct policy_arg pb = {.s = b, .bar = &bar, .project = "web", .round = i};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, policy_thread, &pa);
        pthread_create(&tb, NULL, policy_thread, &pb);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&bar);
        assert_int_equal(pa.rc, 0);
        assert_int_equal(pb.rc, 0);
        assert_int_equal(sql_int(a, SQL_TARGETS_SUM, "acme", ""),
                         10 + i + (20 + i + 720 + 2160 + 24) * 1000);
        assert_int_equal(sql_int(a, SQL_TARGETS_SUM, "acme", "web"),
                         10 + i + (50 + i + 720 + 2160 + 24) * 1000);
    }
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get_list),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_default_instant),
        cmocka_unit_test(test_policy_chain_and_counts),
        cmocka_unit_test(test_warning_then_breach_once),
        cmocka_unit_test(test_late_breach_supersedes_warning),
        cmocka_unit_test(test_rearm_after_recalculation),
        cmocka_unit_test(test_contacts_after_breach),
        cmocka_unit_test(test_paused_and_closed_never_fire),
        cmocka_unit_test(test_tenant_thresholds_and_outbox),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_faults_create),
        cmocka_unit_test(test_faults_update),
        cmocka_unit_test(test_faults_policy_put),
        cmocka_unit_test(test_faults_process_due),
        cmocka_unit_test(test_migration_from_0003),
        cmocka_unit_test(test_pg_two_schedulers),
        cmocka_unit_test(test_pg_concurrent_creates),
        cmocka_unit_test(test_pg_concurrent_updates),
        cmocka_unit_test(test_pg_concurrent_policy_writes),
    };
    return storetest_run("store_findings", tests, sizeof(tests) / sizeof(tests[0]));
}
