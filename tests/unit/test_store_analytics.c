/* The store's rollups (src/store/analytics.c) on SQLite and PostgreSQL:
 * kept inside a change's transaction (store_rollup_change_in, run here as
 * the alert subject runs it) they equal a rebuild from the alerts table
 * byte for byte, in the tenant's time zone; scans filter and order; every
 * write failing at each driver call in turn leaves nothing behind; and two
 * nodes changing the same rollup rows, or one changing them while the
 * other changes the tenant's time zone, lose no count.  Raw reads,
 * settings and live snapshots: test_store_analytics_reads.c. */
#include <pthread.h>
#include <time.h>

#include "analytics_fixture.h"

/* ---- store_rollup_change_in ----------------------------------------------------------- */

static void test_change_in(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", NULL);
    struct sw_alert x;
    alert_new(&x, "a", "x1", NULL, SLA_SEV_HIGH, T0 + H);
    assert_int_equal(apply(s, NULL, &x), 0);               /* running: no rollup */
    assert_int_equal(sql_count(s, "SELECT count(*) FROM rollups"), 0);
    /* its volume, on its creation day */
    assert_int_equal(sql_count(s, "SELECT created FROM alert_counts WHERE day = '2026-01-01' "
                                  "AND severity = 'high'"), 1);

    act(s, &x, ACK, T0 + H + 10 * MIN);                    /* high: 30 min, met */
    struct rows u;
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, -1, &u);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.r[0].clock, SW_CLOCK_ACK);
    assert_int_equal(u.r[0].sev, SLA_SEV_HIGH);
    assert_int_equal(u.r[0].count, 1);
    assert_int_equal(u.r[0].met, 1);
    assert_true(u.r[0].sum_ms == 10 * MIN && u.r[0].max_ms == 10 * MIN);
    assert_true(u.r[0].hist_len > 0);

    act(s, &x, RESOLVE, T0 + 11 * H + 30 * MIN);           /* 8 h target: 2.5 h over */
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.r[0].count, 1);
    assert_int_equal(u.r[0].breached, 1);
    assert_true(u.r[0].sum_ms == 10 * H + 30 * MIN);
    assert_true(u.r[0].penalty_cents == 3 * RATE);         /* started hours */

    /* the same sample on the same row: nothing written */
    char *before = snapshot(s);
    assert_int_equal(apply(s, &x, &x), 0);
    char *after = snapshot(s);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* reopened: the resolve sample taken back, its row deleted at count 0 */
    act(s, &x, REOPEN, T0 + 12 * H);
    assert_int_equal(sql_count(s, "SELECT count(*) FROM rollups WHERE clock = 'resolve'"), 0);
    assert_int_equal(sql_count(s, "SELECT count(*) FROM rollups WHERE clock = 'ack'"), 1);
    /* resolved again: the final stop counts, the resolved hour as paused */
    act(s, &x, RESOLVE, T0 + 13 * H);
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.r[0].count, 1);
    assert_true(u.r[0].sum_ms == 13 * H - H - 30 * MIN);
    assert_int_equal(sql_count(s, "SELECT count(*) FROM rollups WHERE clock = 'ack'"), 1);

    /* a second sample on the row, then the larger taken back: the maximum
     * comes again from the alerts */
    struct sw_alert y;
    alert_new(&y, "a", "y1", NULL, SLA_SEV_HIGH, T0 + 2 * H);
    assert_int_equal(apply(s, NULL, &y), 0);
    act(s, &y, RESOLVE, T0 + 23 * H);                      /* unacknowledged: both stop */
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.r[0].count, 2);
    assert_true(u.r[0].max_ms == 21 * H);
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_ACK, &u);
    assert_int_equal(u.r[0].count, 2);
    assert_int_equal(u.r[0].met, 1);
    assert_int_equal(u.r[0].breached, 1);
    act(s, &y, REOPEN, T0 + 23 * H + 30 * MIN);
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.r[0].count, 1);
    assert_true(u.r[0].max_ms == 11 * H + 30 * MIN);
    /* the rows equal a rebuild's */
    before = snapshot(s);
    int64_t rows = -1;
    assert_int_equal(store_rollup_rebuild(s, "a", &rows), 0);
    assert_int_equal(rows, row_count(s));
    after = snapshot(s);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* a backfilled alert, created resolved */
    struct sw_alert z;
    alert_new(&z, "a", "z1", "p1", SLA_SEV_LOW, T0 - 3 * D);
    assert_int_equal(sla_alert_resolve(&z.a, T0 - 2 * D), 0);
    assert_int_equal(apply(s, NULL, &z), 0);
    scan(s, "a", "2025-12-30", "2025-12-30", "p1", -1, &u);
    assert_int_equal(u.n, 2);

    /* a sample that is not there to take back: warned, nothing written */
    struct sw_alert ghost;
    alert_new(&ghost, "a", "g1", NULL, SLA_SEV_MEDIUM, T0 + 5 * D);
    struct sw_alert ghost_done = ghost;
    assert_int_equal(sla_alert_acknowledge(&ghost_done.a, T0 + 5 * D + MIN), 0);
    int64_t n0 = row_count(s);
    assert_int_equal(apply(s, &ghost_done, &ghost), 0);
    assert_int_equal(row_count(s), n0);

    struct chg bad = {&x, NULL};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_WRITE, no_after_tx, &bad), SW_E_INVAL);
}

/* ---- a workload, then rebuild ------------------------------------------------------------- */

static uint64_t rnd(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

/* n alerts of tenant with every lifecycle: acknowledged, resolved with and
 * without acknowledgement, reopened, severity changed after the ack. */
static void workload(struct store *s, const char *tenant, int n, uint64_t seed)
{
    uint64_t r = seed | 1;
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%s-%d", tenant, i);
        enum sla_sev sev = (enum sla_sev)(SLA_SEV_CRITICAL + rnd(&r) % 4);
        int64_t created = T0 + (int64_t)(rnd(&r) % (6 * D));
        struct sw_alert x;
        alert_new(&x, tenant, id, rnd(&r) % 3 ? "" : "p1", sev, created);
        assert_int_equal(apply(s, NULL, &x), 0);
        int64_t at = created + (int64_t)(rnd(&r) % (2 * H));
        switch (rnd(&r) % 6) {
        case 0:
            break;
        case 1:
            act(s, &x, ACK, at);
            break;
        case 2:
            act(s, &x, ACK, at);
            act(s, &x, RESOLVE, at + (int64_t)(rnd(&r) % (30 * H)));
            break;
        case 3:
            act(s, &x, RESOLVE, at + (int64_t)(rnd(&r) % (30 * H)));
            break;
        case 4:
            act(s, &x, ACK, at);
            act(s, &x, RESOLVE, at += (int64_t)(rnd(&r) % (30 * H)));
            act(s, &x, REOPEN, at += (int64_t)(rnd(&r) % (3 * H)));
            if (rnd(&r) % 2)
                act(s, &x, RESOLVE, at + (int64_t)(rnd(&r) % (30 * H)));
            break;
        default: {
            act(s, &x, ACK, at);
            struct sw_alert before = x;
            enum sla_sev to = (enum sla_sev)(SLA_SEV_CRITICAL + rnd(&r) % 4);
            assert_int_equal(sla_alert_set_severity(&x.a, to, &scopes, at + MIN), 0);
            assert_int_equal(apply(s, &before, &x), 0);
            act(s, &x, RESOLVE, at + (int64_t)(rnd(&r) % (30 * H)));
            break;
        }
        }
    }
}

static void test_rebuild_equals_live(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "ny", "America/New_York");
    tenant_mk(s, "utc", NULL);
    workload(s, "ny", 150, 7);
    workload(s, "utc", 100, 11);
    int64_t n = row_count(s);
    assert_true(n > 64);        /* several batches of the rebuild's INSERT */
    char *live = snapshot(s);
    int64_t rows = -1;
    assert_int_equal(store_rollup_rebuild(s, NULL, &rows), 0);
    char *built = snapshot(s);
    assert_string_equal(live, built);
    assert_int_equal(rows, n);
    free(built);
    assert_int_equal(store_rollup_rebuild(s, "ny", NULL), 0);
    built = snapshot(s);
    assert_string_equal(live, built);
    free(built);

    /* a tenant that no longer exists loses its rows in a full rebuild */
    sql_run(s, "INSERT INTO rollups (tenant_id, day, severity, project_id, clock, count, met, "
               "breached, sum_ms, max_ms, hist, penalty_cents) SELECT 'gone', day, severity, "
               "project_id, clock, count, met, breached, sum_ms, max_ms, hist, penalty_cents "
               "FROM rollups WHERE tenant_id = 'utc'");
    assert_int_equal(store_rollup_rebuild(s, NULL, &rows), 0);
    built = snapshot(s);
    assert_string_equal(live, built);
    free(built);

    /* ensure: nothing to do while rollups exist; builds them when none */
    bool rebuilt = true;
    assert_int_equal(store_rollup_ensure(s, &rebuilt), 0);
    assert_false(rebuilt);
    sql_run(s, "DELETE FROM rollups");
    storetest_reopen(t);
    s = t->s;
    assert_int_equal(store_rollup_ensure(s, &rebuilt), 0);
    assert_true(rebuilt);
    built = snapshot(s);
    assert_string_equal(live, built);
    free(built);
    assert_int_equal(store_rollup_ensure(s, &rebuilt), 0);
    assert_false(rebuilt);
    free(live);
}

static void test_scan_filters(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", NULL);
    tenant_mk(s, "b", NULL);
    const char *projects[] = {"", "p1", "p2"};
    for (int day = 0; day < 3; day++) {
        for (int p = 0; p < 3; p++) {
            for (int sev = SLA_SEV_CRITICAL; sev <= SLA_SEV_LOW; sev += 3) {
                char id[32];
                snprintf(id, sizeof(id), "x%d-%d-%d", day, p, sev);
                struct sw_alert x;
                alert_new(&x, "a", id, projects[p], (enum sla_sev)sev, T0 + day * D + H);
                assert_int_equal(apply(s, NULL, &x), 0);
                act(s, &x, ACK, T0 + day * D + 2 * H);
                if (p != 2)
                    act(s, &x, RESOLVE, T0 + day * D + 3 * H);
            }
        }
    }
    struct sw_alert other;
    alert_new(&other, "b", "o1", NULL, SLA_SEV_HIGH, T0 + H);
    assert_int_equal(apply(s, NULL, &other), 0);
    act(s, &other, RESOLVE, T0 + 2 * H);

    struct rows u;
    scan(s, "a", "2026-01-01", "2026-01-03", NULL, -1, &u);
    assert_int_equal(u.n, 3 * (3 * 2 + 2 * 2));            /* per day: 6 ack + 4 resolve */
    for (int i = 1; i < u.n; i++) {                       /* (day, sev, project, clock) */
        const struct sw_rollup_row *a = &u.r[i - 1], *b = &u.r[i];
        int c = strcmp(a->day, b->day);
        if (!c)
            c = strcmp(sla_sev_name(a->sev), sla_sev_name(b->sev));
        if (!c)
            c = strcmp(a->project_id, b->project_id);
        if (!c)
            c = (int)a->clock - (int)b->clock;
        assert_true(c < 0);
    }
    scan(s, "a", "2026-01-02", "2026-01-02", NULL, -1, &u);
    assert_int_equal(u.n, 10);
    for (int i = 0; i < u.n; i++)
        assert_string_equal(u.r[i].day, "2026-01-02");
    scan(s, "a", "2026-01-01", "2026-01-03", "p2", -1, &u);
    assert_int_equal(u.n, 6);
    for (int i = 0; i < u.n; i++)
        assert_int_equal(u.r[i].clock, SW_CLOCK_ACK);
    scan(s, "a", "2026-01-01", "2026-01-03", "", SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.n, 6);
    for (int i = 0; i < u.n; i++) {
        assert_string_equal(u.r[i].project_id, "");
        assert_int_equal(u.r[i].clock, SW_CLOCK_RESOLVE);
    }
    scan(s, "a", "2026-01-01", "2026-01-03", "p2", SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.n, 0);
    scan(s, "a", "2026-02-01", "2026-02-28", NULL, -1, &u);
    assert_int_equal(u.n, 0);
    scan(s, "b", "2026-01-01", "2026-01-01", NULL, -1, &u);
    assert_int_equal(u.n, 2);
    scan(s, "nobody", "2026-01-01", "2026-12-31", NULL, -1, &u);
    assert_int_equal(u.n, 0);
    /* a callback that stops */
    memset(&u, 0, sizeof(u));
    u.stop_after = 4;
    assert_int_equal(store_rollup_scan(s, "a", "2026-01-01", "2026-01-03", NULL, -1, rows_cb, &u),
                     0);
    assert_int_equal(u.n, 4);
    /* kept across a restart */
    storetest_reopen(t);
    scan(t->s, "a", "2026-01-01", "2026-01-03", NULL, -1, &u);
    assert_int_equal(u.n, 30);
}

/* ---- faults ------------------------------------------------------------------------------- */

static const char SQL_ALERT_STATE[] =
    "SELECT state || ' ' || CAST(res_stopped_at AS TEXT) FROM alerts "
    "WHERE tenant_id = ?1 AND id = ?2";

static void alert_state(struct store *s, const char *tenant, const char *id, char *buf,
                        size_t cap)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, SQL_ALERT_STATE, &st), 0);
    db_bind_text(st, 1, tenant);
    db_bind_text(st, 2, id);
    assert_int_equal(db_step_one(st), 1);
    db_col_copy(st, 0, buf, cap);
    db_reset(st);
    db_release(c);
}

static void test_faults(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    struct db *db = sql_of(s)->db;
    tenant_mk(s, "ny", "America/New_York");
    workload(s, "ny", 80, 3);

    /* a change that takes a sample back and adds two */
    struct sw_alert x;
    alert_new(&x, "ny", "fx", NULL, SLA_SEV_HIGH, T0 + H);
    assert_int_equal(apply(s, NULL, &x), 0);
    act(s, &x, ACK, T0 + H + 5 * MIN);
    struct sw_alert y;
    alert_new(&y, "ny", "fy", NULL, SLA_SEV_HIGH, T0 + 2 * H);
    assert_int_equal(apply(s, NULL, &y), 0);
    act(s, &y, RESOLVE, T0 + 4 * H);
    struct sw_alert before = y;
    assert_int_equal(sla_alert_reopen(&y.a, T0 + 5 * H), 0);
    assert_int_equal(sla_alert_resolve(&y.a, T0 + 30 * H), 0);
    char *rows0 = snapshot(s), st0[64], st1[64];
    alert_state(s, "ny", "fy", st0, sizeof(st0));
    int rc = -1;
    for (int64_t k = 1; rc != 0; k++) {
        assert_true(k < 200);
        db_fail_after(db, k, SW_E_STORE);
        rc = apply(s, &before, &y);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        char *now = snapshot(s);
        assert_string_equal(rows0, now);
        free(now);
        alert_state(s, "ny", "fy", st1, sizeof(st1));
        assert_string_equal(st0, st1);
    }
    free(rows0);

    /* tenant_update with a new zone (a rebuild inside) */
    rows0 = snapshot(s);
    struct sw_tenant out;
    struct sw_tenant_patch p = {.name = "New", .timezone = "Asia/Tokyo", .cap_action = 1,
                                .cap = 5};
    rc = -1;
    for (int64_t k = 1; rc != 0; k++) {
        assert_true(k < 400);
        db_fail_after(db, k, SW_E_STORE);
        rc = store_tenant_update(s, "ny", &p, &out);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        char *now = snapshot(s);
        assert_string_equal(rows0, now);
        free(now);
        struct sw_tenant_settings set;
        assert_int_equal(store_tenant_settings(s, "ny", &set), 0);
        assert_string_equal(set.timezone, "America/New_York");
        assert_false(set.has_cap);
        struct sw_tenant got;
        assert_int_equal(store_tenant_get(s, "ny", &got), 0);
        assert_string_equal(got.name, "Tenant ny");
    }
    free(rows0);
    assert_string_equal(out.timezone, "Asia/Tokyo");
    char *tokyo = snapshot(s);

    /* rebuild over rows that are wrong: each failure keeps them */
    sql_run(s, "UPDATE rollups SET count = count + 1");
    sql_run(s, "INSERT INTO rollups (tenant_id, day, severity, project_id, clock, count, met, "
               "breached, sum_ms, max_ms, hist, penalty_cents) SELECT 'gone', day, severity, "
               "project_id, clock, count, met, breached, sum_ms, max_ms, hist, penalty_cents "
               "FROM rollups");
    rows0 = snapshot(s);
    rc = -1;
    for (int64_t k = 1; rc != 0; k++) {
        assert_true(k < 400);
        db_fail_after(db, k, SW_E_STORE);
        rc = store_rollup_rebuild(s, NULL, NULL);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        char *now = snapshot(s);
        assert_string_equal(rows0, now);
        free(now);
    }
    free(rows0);
    char *now = snapshot(s);
    assert_string_equal(tokyo, now);
    free(now);
    free(tokyo);
}

/* ---- two nodes on one PostgreSQL ------------------------------------------------------------- */

#define RACE_N 60

struct racer {
    struct store *s;
    int first;          /* alerts first..first+RACE_N-1 */
    int failures;
    bool flip_tz;       /* instead: change the tenant's zone back and forth */
};

static void *race_main(void *arg)
{
    struct racer *r = arg;
    if (r->flip_tz) {
        const char *zones[] = {"Asia/Tokyo", "America/New_York"};
        for (int i = 0; i < 12; i++) {
            struct sw_tenant_patch p = {.timezone = zones[i % 2], .cap_action = -1};
            struct sw_tenant out;
            if (store_tenant_update(r->s, "c", &p, &out) < 0)
                r->failures++;
        }
        return NULL;
    }
    for (int i = r->first; i < r->first + RACE_N; i++) {
        char id[32];
        snprintf(id, sizeof(id), "r%d", i);
        struct sw_alert x;
        alert_new(&x, "c", id, NULL, SLA_SEV_HIGH, T0 + H);
        if (apply(r->s, NULL, &x) < 0)
            r->failures++;
        /* every one on the same rows: same tenant, day, severity, project */
        struct sw_alert before = x;
        if (sla_alert_acknowledge(&x.a, T0 + H + (i + 1) * 1000) < 0 ||
            apply(r->s, &before, &x) < 0)
            r->failures++;
        before = x;
        if (sla_alert_resolve(&x.a, T0 + 3 * H + i * 1000) < 0 || apply(r->s, &before, &x) < 0)
            r->failures++;
        if (i % 5 == 0) {       /* some taken back again */
            before = x;
            if (sla_alert_reopen(&x.a, T0 + 4 * H + i * 1000) < 0 ||
                apply(r->s, &before, &x) < 0)
                r->failures++;
        }
    }
    return NULL;
}

static struct store *second_node(struct storetest *a)
{
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(a->url, &b, err, sizeof(err)), 0);
    return b;
}

static void test_two_nodes_same_rows(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b = second_node(t);
    tenant_mk(t->s, "c", NULL);
    struct racer r[2] = {{.s = t->s, .first = 0}, {.s = b, .first = RACE_N}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r[0].failures + r[1].failures, 0);
    struct rows u;
    scan(t->s, "c", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_ACK, &u);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.r[0].count, 2 * RACE_N);
    int64_t sum = 0;
    for (int i = 0; i < 2 * RACE_N; i++)
        sum += (i + 1) * 1000;
    assert_true(u.r[0].sum_ms == sum);
    scan(t->s, "c", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.r[0].count, 2 * RACE_N - 2 * RACE_N / 5);
    char *live = snapshot(t->s);
    assert_int_equal(store_rollup_rebuild(b, NULL, NULL), 0);
    char *built = snapshot(t->s);
    assert_string_equal(live, built);
    free(live);
    free(built);
    store_close(b);
}

/* Changes on one node while the other changes the tenant's zone (a
 * rebuild each time): the rows always follow the zone they were read in. */
static void test_two_nodes_zone_change(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b = second_node(t);
    tenant_mk(t->s, "c", "America/New_York");
    struct racer r[2] = {{.s = t->s, .first = 0}, {.s = b, .flip_tz = true}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r[0].failures + r[1].failures, 0);
    char *live = snapshot(t->s);
    assert_int_equal(store_rollup_rebuild(t->s, "c", NULL), 0);
    char *built = snapshot(t->s);
    assert_string_equal(live, built);
    free(live);
    free(built);
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_in),
        cmocka_unit_test(test_rebuild_equals_live),
        cmocka_unit_test(test_scan_filters),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_two_nodes_same_rows),
        cmocka_unit_test(test_two_nodes_zone_change),
    };
    return storetest_run("store_analytics", tests, sizeof(tests) / sizeof(tests[0]));
}
