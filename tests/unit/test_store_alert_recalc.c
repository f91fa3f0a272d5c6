/* The set-based recalculation (src/store/alerts_policy.c, SQL_RECALC) pinned
 * against the core on both backends: a few thousand alerts with random
 * clocks (running, paused, stopped, reopened), random fired flags and
 * stored targets, under random policies (global, template, tenant and
 * project layers) and random instants.  After each recalculation every row
 * must be what the core says: sla_alert_recalculate (due = started + target
 * + paused, stopped clocks keep their target, the re-arm rule), the next
 * check of store_alert_next_check, the derived due columns, and rows the
 * core leaves unchanged untouched; the count is the core's count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/alerts_int.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)       /* 2026-01-01T00:00:00Z */
#define MIN SLA_MS_PER_MIN
#define DAY SLA_MS_PER_DAY
#define NA 3000

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Uniform in [lo, hi]. */
static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool chance(int percent)
{
    return (int)(rnd() % 100) < percent;
}

static const char *const projects[] = {"", "p1", "p2"};

struct model {
    struct sw_alert x;
    int64_t ack_due, res_due;       /* the stored derived columns */
};

/* ---- random rows ------------------------------------------------------------ */

static void random_clock(struct sla_clock *k, int64_t created, bool stopped)
{
    if (chance(60))                 /* else keep the target it was created with */
        k->target_ms = between(1, 3000) * MIN;
    k->started_at = created;
    k->paused_ms = chance(30) ? between(0, 5 * DAY) : 0;
    k->paused_since = 0;
    k->stopped_at = 0;
    if (stopped)
        k->stopped_at = created + between(1, 10 * DAY);
    else if (chance(15))
        k->paused_since = created + between(0, 20 * DAY);
    k->last_event_at = created;
    if (k->stopped_at > k->last_event_at)
        k->last_event_at = k->stopped_at;
    if (k->paused_since > k->last_event_at)
        k->last_event_at = k->paused_since;
}

static void random_alert(struct sw_alert *x)
{
    struct sla_alert *a = &x->a;
    int64_t created = T0 + between(0, 10 * DAY);
    a->created_at = created;
    switch (rnd() % 4) {
    case 0: a->state = SLA_ALERT_ACKNOWLEDGED; break;
    case 1: a->state = SLA_ALERT_RESOLVED; break;
    default: a->state = SLA_ALERT_OPEN; break;
    }
    bool ack_stopped = a->state != SLA_ALERT_OPEN || chance(5);
    random_clock(&a->ack, created, ack_stopped);
    random_clock(&a->resolve, created, a->state == SLA_ALERT_RESOLVED);
    a->acknowledged_at = a->state == SLA_ALERT_ACKNOWLEDGED ? a->ack.stopped_at : 0;
    a->resolved_at = a->state == SLA_ALERT_RESOLVED ? a->resolve.stopped_at : 0;
    a->ack_alarm.fired = (uint32_t)(rnd() % 8);
    a->ack_alarm.breach_fired = chance(40);
    a->resolve_alarm.fired = (uint32_t)(rnd() % 8);
    a->resolve_alarm.breach_fired = chance(40);
    if (chance(50)) {               /* else keep the targets it was created with */
        a->targets.ack_min = (int32_t)between(1, 3000);
        a->targets.resolve_min = (int32_t)between(1, 3000);
        a->targets.warn_pct = (int32_t)between(0, 100);
        a->targets.penalty_cph = between(0, 5000);
        a->targets.ack_src = (enum sla_src)(rnd() % SLA_SRC_COUNT);
        a->targets.resolve_src = (enum sla_src)(rnd() % SLA_SRC_COUNT);
        a->targets.warn_src = (enum sla_src)(rnd() % SLA_SRC_COUNT);
        a->targets.penalty_src = (enum sla_src)(rnd() % SLA_SRC_COUNT);
        a->targets.ack_penalty_cph = chance(50) ? 0 : between(1, 5000);
        a->targets.ack_penalty_src = (enum sla_src)(rnd() % SLA_SRC_COUNT);
    }
    x->escalation_level = (int)(rnd() % 3);
    x->updated_at = T0 + between(0, 20 * DAY);
    x->next_check_at = chance(20) ? SLA_NEVER : T0 + between(0, 30 * DAY);
}

static void random_layer(struct sla_alert_layer *l)
{
    sla_alert_layer_clear(l);
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        l->ack_min[sev] = chance(35) ? 0 : (int32_t)between(1, 3000);
        l->resolve_min[sev] = chance(35) ? 0 : (int32_t)between(1, 3000);
        l->warn_pct[sev] = chance(35) ? 0 : (int32_t)between(1, 100);
        l->penalty_cph[sev] = chance(50) ? 0 : between(1, 10000);
        l->ack_penalty_cph[sev] = chance(50) ? 0 : between(1, 10000);
    }
}

/* ---- writes in one transaction ------------------------------------------------- */

struct save_ctx {
    struct model *m;
    bool *pick;                     /* NULL: every row */
};

static int save_tx(struct db_conn *c, void *ud)
{
    struct save_ctx *k = ud;
    for (int i = 0; i < NA; i++) {
        if (k->pick && !k->pick[i])
            continue;
        int rc = store_alert_save_in(c, &k->m[i].x);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct layers_ctx {
    struct sla_alert_layer global, tenant, p1, p2;
    bool has_tenant, has_p2;
};

static int layers_tx(struct db_conn *c, void *ud)
{
    struct layers_ctx *l = ud;
    struct sla_alert_layer empty;
    sla_alert_layer_clear(&empty);
    int rc = alert_layer_write_in(c, "", "", &l->global, T0);
    if (rc == 0)
        rc = alert_layer_write_in(c, "R", "", l->has_tenant ? &l->tenant : &empty, T0);
    if (rc == 0)
        rc = alert_layer_write_in(c, "R", "p1", &l->p1, T0);
    if (rc == 0)
        rc = alert_layer_write_in(c, "R", "p2", l->has_p2 ? &l->p2 : &empty, T0);
    return rc;
}

/* ---- the comparison ------------------------------------------------------------------ */

static void assert_row(const struct model *m, const struct sw_alert *got)
{
    const struct sw_alert *x = &m->x;
    assert_string_equal(x->id, got->id);
    assert_int_equal(x->a.state, got->a.state);
    assert_memory_equal(&x->a.ack, &got->a.ack, sizeof(x->a.ack));
    assert_memory_equal(&x->a.resolve, &got->a.resolve, sizeof(x->a.resolve));
    assert_int_equal(x->a.ack_alarm.fired, got->a.ack_alarm.fired);
    assert_int_equal(x->a.ack_alarm.breach_fired, got->a.ack_alarm.breach_fired);
    assert_int_equal(x->a.resolve_alarm.fired, got->a.resolve_alarm.fired);
    assert_int_equal(x->a.resolve_alarm.breach_fired, got->a.resolve_alarm.breach_fired);
    assert_int_equal(x->a.targets.ack_min, got->a.targets.ack_min);
    assert_int_equal(x->a.targets.resolve_min, got->a.targets.resolve_min);
    assert_int_equal(x->a.targets.warn_pct, got->a.targets.warn_pct);
    assert_true(x->a.targets.penalty_cph == got->a.targets.penalty_cph);
    assert_int_equal(x->a.targets.ack_src, got->a.targets.ack_src);
    assert_int_equal(x->a.targets.resolve_src, got->a.targets.resolve_src);
    assert_int_equal(x->a.targets.warn_src, got->a.targets.warn_src);
    assert_int_equal(x->a.targets.penalty_src, got->a.targets.penalty_src);
    assert_true(x->a.targets.ack_penalty_cph == got->a.targets.ack_penalty_cph);
    assert_int_equal(x->a.targets.ack_penalty_src, got->a.targets.ack_penalty_src);
    assert_int_equal(x->escalation_level, got->escalation_level);
    if (x->next_check_at != got->next_check_at)
        fail_msg("%s: next_check_at %lld, core says %lld", x->id,
                 (long long)got->next_check_at, (long long)x->next_check_at);
    assert_true(x->updated_at == got->updated_at);
}

static const char SQL_DUES[] =
    "SELECT id, ack_due_at, resolve_due_at FROM alerts WHERE tenant_id = 'R' ORDER BY id";

static int index_of(const char *id)
{
    return atoi(id + 2);            /* "r-%05d" */
}

static void check_all(struct store *s, struct model *m)
{
    struct sw_alert *got = malloc(sizeof(*got));
    for (int i = 0; i < NA; i++) {
        assert_int_equal(store_alert_get(s, "R", m[i].x.id, got), 0);
        assert_row(&m[i], got);
    }
    free(got);
    struct db_conn *c = db_acquire(sql_of(s)->db);
    assert_non_null(c);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, SQL_DUES, &st), 0);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        const struct model *x = &m[index_of(db_col_text(st, 0))];
        assert_true(db_col_int64(st, 1) == x->ack_due);
        assert_true(db_col_int64(st, 2) == x->res_due);
        n++;
    }
    db_reset(st);
    db_release(c);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(n, NA);
}

/* What the core says, row by row; the number of rows it changes. */
static int64_t core_recalc(struct store *s, struct model *m, int64_t now)
{
    struct sw_alert_policy p[3];
    for (int k = 0; k < 3; k++)
        assert_int_equal(store_alert_policy_get(s, "R", projects[k], &p[k]), 0);
    int64_t count = 0;
    for (int i = 0; i < NA; i++) {
        struct sw_alert *x = &m[i].x;
        int k = !strcmp(x->project_id, "p1") ? 1 : !strcmp(x->project_id, "p2") ? 2 : 0;
        struct sla_alert_scopes sc;
        sw_alert_policy_scopes(&p[k], &sc);
        bool changed = false;
        assert_int_equal(sla_alert_recalculate(&x->a, &sc, now, &changed), 0);
        if (!changed)
            continue;
        count++;
        x->updated_at = now;
        x->next_check_at = store_alert_next_check(&x->a, NULL, now);
        m[i].ack_due = sla_clock_due(&x->a.ack, now);
        m[i].res_due = sla_clock_due(&x->a.resolve, now);
    }
    return count;
}

/* Rows saved as the model says (the store derives due at updated_at). */
static void save_rows(struct store *s, struct model *m, bool *pick)
{
    for (int i = 0; i < NA; i++) {
        if (pick && !pick[i])
            continue;
        m[i].ack_due = sla_clock_due(&m[i].x.a.ack, m[i].x.updated_at);
        m[i].res_due = sla_clock_due(&m[i].x.a.resolve, m[i].x.updated_at);
    }
    struct save_ctx k = {.m = m, .pick = pick};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_WRITE, save_tx, &k), 0);
}

/* Some running clocks whose new deadline falls exactly at now, a
 * millisecond before or after it (the re-arm rule's edge), or whose
 * threshold does. */
static void boundaries(struct store *s, struct model *m, bool *pick, int64_t now)
{
    struct sw_alert_policy p[3];
    for (int k = 0; k < 3; k++)
        assert_int_equal(store_alert_policy_get(s, "R", projects[k], &p[k]), 0);
    for (int i = 0; i < NA; i++) {
        struct sw_alert *x = &m[i].x;
        pick[i] = x->a.state != SLA_ALERT_RESOLVED && chance(20);
        if (!pick[i])
            continue;
        int k = !strcmp(x->project_id, "p1") ? 1 : !strcmp(x->project_id, "p2") ? 2 : 0;
        struct sla_alert_scopes sc;
        sw_alert_policy_scopes(&p[k], &sc);
        struct sla_alert_targets t;
        assert_int_equal(sla_alert_policy_resolve(&sc, x->a.sev, &t), 0);
        if (chance(50)) {
            /* already under this policy but for one stored field (or none) */
            x->a.targets = t;
            x->a.ack.target_ms = t.ack_min * MIN;
            x->a.resolve.target_ms = t.resolve_min * MIN;
            switch (rnd() % 12) {
            case 0: x->a.targets.ack_min++; break;
            case 1: x->a.targets.resolve_min++; break;
            case 2: x->a.targets.warn_pct = t.warn_pct == 50 ? 51 : 50; break;
            case 3: x->a.targets.penalty_cph++; break;
            case 4: x->a.targets.ack_src = (t.ack_src + 1) % SLA_SRC_COUNT; break;
            case 5: x->a.targets.resolve_src = (t.resolve_src + 1) % SLA_SRC_COUNT; break;
            case 6: x->a.targets.warn_src = (t.warn_src + 1) % SLA_SRC_COUNT; break;
            case 7: x->a.targets.penalty_src = (t.penalty_src + 1) % SLA_SRC_COUNT; break;
            case 8: x->a.ack.target_ms += MIN; break;     /* moved (if running) */
            case 9: x->a.targets.ack_penalty_cph++; break; /* kept if ack stopped */
            case 10:
                x->a.targets.ack_penalty_src = (t.ack_penalty_src + 1) % SLA_SRC_COUNT;
                break;
            default: break;                               /* nothing to do */
            }
            continue;
        }
        struct sla_clock *c = chance(50) ? &x->a.ack : &x->a.resolve;
        int32_t minutes = c == &x->a.ack ? t.ack_min : t.resolve_min;
        int64_t target = minutes * MIN;
        int64_t offset = chance(50) ? (target * t.warn_pct + 99) / 100 : target;
        c->stopped_at = 0;
        c->paused_since = 0;
        c->started_at = now - offset - c->paused_ms + between(-1, 1);
        c->last_event_at = c->started_at;
        if (c == &x->a.ack) {
            x->a.state = x->a.state == SLA_ALERT_ACKNOWLEDGED ? SLA_ALERT_OPEN : x->a.state;
            x->a.acknowledged_at = 0;
        }
    }
    save_rows(s, m, pick);
}

static void test_recalc_matches_core(void **state)
{
    struct storetest *t = *state;
    rng_state = UINT64_C(0x9E3779B97F4A7C15) ^ (t->pg ? 0x5151 : 0);
    struct sw_tenant ten = {.created_at = T0};
    snprintf(ten.id, sizeof(ten.id), "R");
    snprintf(ten.name, sizeof(ten.name), "R");
    snprintf(ten.template_name, sizeof(ten.template_name), "standard");
    assert_int_equal(store_tenant_create(t->s, &ten, NULL), 0);
    for (int k = 1; k < 3; k++) {
        struct sw_project p = {.created_at = T0};
        snprintf(p.tenant_id, sizeof(p.tenant_id), "R");
        snprintf(p.id, sizeof(p.id), "%s", projects[k]);
        assert_int_equal(store_project_create(t->s, &p, NULL), 0);
    }
    struct model *m = calloc(NA, sizeof(*m));
    struct sw_alert_new *in = calloc(NA, sizeof(*in));
    enum sw_alert_result *res = calloc(NA, sizeof(*res));
    char (*ids)[16] = calloc(NA, sizeof(*ids));
    for (int i = 0; i < NA; i++) {
        snprintf(ids[i], sizeof(ids[i]), "r-%05d", i);
        in[i] = (struct sw_alert_new){.tenant_id = "R", .id = ids[i],
                                      .project_id = projects[rnd() % 3],
                                      .sev = SLA_SEV_CRITICAL + (int)(rnd() % 4),
                                      .created_at = T0};
    }
    assert_int_equal(store_alert_create_many(t->s, in, NA, T0, "bulk", res), 0);
    for (int i = 0; i < NA; i++) {
        assert_int_equal(res[i], SW_ALERT_CREATED);
        assert_int_equal(store_alert_get(t->s, "R", ids[i], &m[i].x), 0);
        random_alert(&m[i].x);
    }
    save_rows(t->s, m, NULL);
    check_all(t->s, m);

    bool *pick = calloc(NA, sizeof(*pick));
    int64_t total = 0;
    for (int round = 0; round < 6; round++) {
        if (round % 2 == 0) {
            /* a new policy */
            struct layers_ctx l;
            random_layer(&l.global);
            random_layer(&l.tenant);
            random_layer(&l.p1);
            random_layer(&l.p2);
            l.has_tenant = chance(70);
            l.has_p2 = chance(50);
            assert_int_equal(db_tx(sql_of(t->s)->db, DB_TX_WRITE, layers_tx, &l), 0);
        } else {
            /* the same policy; some alerts moved on meanwhile */
            for (int i = 0; i < NA; i++) {
                pick[i] = chance(20);
                if (pick[i])
                    random_alert(&m[i].x);
            }
            save_rows(t->s, m, pick);
        }
        int64_t now = T0 + between(0, 25 * DAY);
        boundaries(t->s, m, pick, now);
        int64_t expect = core_recalc(t->s, m, now);
        int64_t n = -1;
        assert_int_equal(store_alert_recalculate(t->s, "R", now, "admin", &n), 0);
        assert_true(n == expect);
        check_all(t->s, m);
        total += n;
    }
    assert_true(total > NA);        /* the rounds did move things */
    free(pick);
    free(ids);
    free(res);
    free(in);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recalc_matches_core),
    };
    return storetest_run("store_alert_recalc", tests, sizeof(tests) / sizeof(tests[0]));
}
