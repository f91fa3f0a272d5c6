/* The store's analytics reads and settings (src/store/analytics_reads.c)
 * on SQLite and PostgreSQL: open alerts and breached resolutions from the
 * alerts table, tenant settings and their update (a new time zone moves
 * the rollups to the new local days in the same transaction), and the live
 * gauges' snapshots (idempotent per instant, pruned by keep_after). */
#include "analytics_fixture.h"

/* ---- raw reads ---------------------------------------------------------------------------- */

struct clocks {
    int n;
    struct sw_alert_clocks a[16];
    int stop_after;
};

static int clocks_cb(const struct sw_alert_clocks *a, void *ud)
{
    struct clocks *u = ud;
    if (u->n < 16)
        u->a[u->n] = *a;
    u->n++;
    return u->stop_after && u->n >= u->stop_after;
}

static const struct sw_alert_clocks *find(const struct clocks *u, const char *id)
{
    for (int i = 0; i < u->n && i < 16; i++)
        if (!strcmp(u->a[i].id, id))
            return &u->a[i];
    return NULL;
}

static void test_open_and_breached(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", NULL);
    tenant_mk(s, "b", NULL);
    struct sw_alert open1, acked, late1, late2, late3, fine, other;
    alert_new(&open1, "a", "open1", "p1", SLA_SEV_CRITICAL, T0);
    alert_new(&acked, "a", "acked", NULL, SLA_SEV_HIGH, T0);
    alert_new(&late1, "a", "late1", NULL, SLA_SEV_HIGH, T0);
    alert_new(&late2, "a", "late2", "p1", SLA_SEV_HIGH, T0);
    alert_new(&late3, "a", "late3", NULL, SLA_SEV_HIGH, T0);
    alert_new(&fine, "a", "fine", NULL, SLA_SEV_HIGH, T0);
    alert_new(&other, "b", "late1", NULL, SLA_SEV_HIGH, T0);
    struct sw_alert *all[] = {&open1, &acked, &late1, &late2, &late3, &fine, &other};
    for (int i = 0; i < 7; i++)
        assert_int_equal(apply(s, NULL, all[i]), 0);
    act(s, &acked, ACK, T0 + MIN);
    act(s, &late1, RESOLVE, T0 + 10 * H);
    act(s, &late2, RESOLVE, T0 + 9 * H);
    act(s, &late3, RESOLVE, T0 + 10 * H);
    act(s, &fine, RESOLVE, T0 + H);
    act(s, &other, RESOLVE, T0 + 10 * H);

    struct clocks u = {0};
    assert_int_equal(store_open_alerts(s, "a", NULL, clocks_cb, &u), 0);
    assert_int_equal(u.n, 2);
    const struct sw_alert_clocks *a = find(&u, "acked");
    assert_non_null(a);
    assert_int_equal(a->state, SLA_ALERT_ACKNOWLEDGED);
    assert_int_equal(a->sev, SLA_SEV_HIGH);
    assert_true(a->ack.stopped_at == T0 + MIN && a->resolve.stopped_at == 0);
    assert_true(a->ack.target_ms == acked.a.ack.target_ms);
    assert_true(a->resolve.started_at == T0 && a->created_at == T0);
    assert_int_equal(a->warn_pct, acked.a.targets.warn_pct);
    assert_true(a->penalty_cph == RATE);
    a = find(&u, "open1");
    assert_non_null(a);
    assert_string_equal(a->project_id, "p1");
    assert_int_equal(a->state, SLA_ALERT_OPEN);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_open_alerts(s, "a", "p1", clocks_cb, &u), 0);
    assert_int_equal(u.n, 1);
    assert_string_equal(u.a[0].id, "open1");
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_open_alerts(s, "b", NULL, clocks_cb, &u), 0);
    assert_int_equal(u.n, 0);

    /* by stop instant, then id; [from, to); limit */
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_breached_resolutions(s, "a", T0, T0 + D, 10, clocks_cb, &u), 0);
    assert_int_equal(u.n, 3);
    assert_string_equal(u.a[0].id, "late2");
    assert_string_equal(u.a[1].id, "late1");
    assert_string_equal(u.a[2].id, "late3");
    assert_int_equal(u.a[1].state, SLA_ALERT_RESOLVED);
    assert_true(u.a[1].resolved_at == T0 + 10 * H);
    assert_true(u.a[1].resolve.stopped_at == T0 + 10 * H);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_breached_resolutions(s, "a", T0, T0 + D, 2, clocks_cb, &u), 0);
    assert_int_equal(u.n, 2);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_breached_resolutions(s, "a", T0 + 9 * H + 1, T0 + 10 * H, 10,
                                                clocks_cb, &u), 0);
    assert_int_equal(u.n, 0);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_breached_resolutions(s, "a", T0 + 9 * H, T0 + 10 * H + 1, 10,
                                                clocks_cb, &u), 0);
    assert_int_equal(u.n, 3);
    memset(&u, 0, sizeof(u));
    u.stop_after = 1;
    assert_int_equal(store_breached_resolutions(s, "a", T0, T0 + D, 10, clocks_cb, &u), 0);
    assert_int_equal(u.n, 1);
}

/* ---- tenant settings ---------------------------------------------------------------------- */

static void test_tenant_settings(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", NULL);
    struct sw_tenant_settings set;
    assert_int_equal(store_tenant_settings(s, "a", &set), 0);
    assert_string_equal(set.timezone, "UTC");
    assert_false(set.has_cap);
    assert_int_equal(store_tenant_settings(s, "ghost", &set), SW_E_NOTFOUND);

    struct sw_tenant out;
    struct sw_tenant_patch p = {.name = "Renamed", .cap_action = 1, .cap = 123456};
    assert_int_equal(store_tenant_update(s, "a", &p, &out), 0);
    assert_string_equal(out.name, "Renamed");
    assert_string_equal(out.timezone, "UTC");
    assert_true(out.created_at == T0);
    assert_int_equal(store_tenant_settings(s, "a", &set), 0);
    assert_true(set.has_cap && set.monthly_penalty_cap == 123456);
    struct sw_tenant got;
    assert_int_equal(store_tenant_get(s, "a", &got), 0);       /* the cache forgot it */
    assert_string_equal(got.name, "Renamed");
    struct sw_tenant_patch keep = {.cap_action = -1};
    assert_int_equal(store_tenant_update(s, "a", &keep, &out), 0);
    assert_string_equal(out.name, "Renamed");
    assert_int_equal(store_tenant_settings(s, "a", &set), 0);
    assert_true(set.has_cap && set.monthly_penalty_cap == 123456);
    struct sw_tenant_patch clear = {.cap_action = 0};
    assert_int_equal(store_tenant_update(s, "a", &clear, &out), 0);
    assert_int_equal(store_tenant_settings(s, "a", &set), 0);
    assert_false(set.has_cap);
    assert_int_equal(store_tenant_update(s, "ghost", &p, &out), SW_E_NOTFOUND);

    /* a new zone moves the stopped clocks to their new local days, in
     * the same transaction */
    struct sw_alert x;
    alert_new(&x, "a", "x1", NULL, SLA_SEV_HIGH, T0 + 19 * H);
    assert_int_equal(apply(s, NULL, &x), 0);
    act(s, &x, ACK, T0 + 20 * H);                              /* Tokyo: Jan 2, 05:00 */
    act(s, &x, RESOLVE, T0 + 14 * H + D);                      /* Tokyo: Jan 2, 23:00 */
    struct rows u;
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, SW_CLOCK_ACK, &u);
    assert_int_equal(u.n, 1);
    struct sw_tenant_patch tz = {.timezone = "Asia/Tokyo", .cap_action = -1};
    assert_int_equal(store_tenant_update(s, "a", &tz, &out), 0);
    assert_string_equal(out.timezone, "Asia/Tokyo");
    assert_int_equal(store_tenant_get(s, "a", &got), 0);
    assert_string_equal(got.timezone, "Asia/Tokyo");
    scan(s, "a", "2026-01-01", "2026-01-01", NULL, -1, &u);
    assert_int_equal(u.n, 0);
    scan(s, "a", "2026-01-02", "2026-01-02", NULL, -1, &u);
    assert_int_equal(u.n, 2);
    /* live changes follow the new zone: a rebuild finds the same rows */
    act(s, &x, REOPEN, T0 + 15 * H + D);                       /* Tokyo: Jan 3, 00:00 */
    act(s, &x, RESOLVE, T0 + 16 * H + D);
    scan(s, "a", "2026-01-03", "2026-01-03", NULL, SW_CLOCK_RESOLVE, &u);
    assert_int_equal(u.n, 1);
    char *live = snapshot(s);
    assert_int_equal(store_rollup_rebuild(s, NULL, NULL), 0);
    char *built = snapshot(s);
    assert_string_equal(live, built);
    free(live);
    free(built);
}

/* ---- live snapshots ------------------------------------------------------------------------ */

struct snaps {
    int n;
    struct sw_live_snapshot v[16];
};

static int snaps_cb(const struct sw_live_snapshot *x, void *ud)
{
    struct snaps *u = ud;
    if (u->n < 16)
        u->v[u->n] = *x;
    u->n++;
    return 0;
}

static void test_live(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", NULL);
    tenant_mk(s, "b", NULL);
    for (int i = 0; i < 5; i++) {
        struct sw_live_snapshot x = {T0 + i * 5 * MIN, 10 + i, i, 2 * i};
        assert_int_equal(store_live_add(s, "a", &x, T0 - D), 0);
    }
    struct sw_live_snapshot xb = {T0, 99, 9, 9};
    assert_int_equal(store_live_add(s, "b", &xb, T0 - D), 0);
    struct snaps u = {0};
    assert_int_equal(store_live_list(s, "a", T0 + 5 * MIN, snaps_cb, &u), 0);
    assert_int_equal(u.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(u.v[i].at == T0 + (i + 1) * 5 * MIN);
        assert_int_equal(u.v[i].open, 11 + i);
        assert_int_equal(u.v[i].breaches, i + 1);
        assert_int_equal(u.v[i].warnings, 2 * (i + 1));
    }
    /* another node's snapshot of the same instant: the first one stands */
    struct sw_live_snapshot dup = {T0 + 20 * MIN, 1, 1, 1};
    assert_int_equal(store_live_add(s, "a", &dup, T0 - D), 0);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_live_list(s, "a", T0 + 20 * MIN, snaps_cb, &u), 0);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.v[0].open, 14);
    /* keep_after forgets the tenant's older snapshots, not another's */
    struct sw_live_snapshot later = {T0 + 25 * MIN, 7, 0, 0};
    assert_int_equal(store_live_add(s, "a", &later, T0 + 10 * MIN), 0);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_live_list(s, "a", 0, snaps_cb, &u), 0);
    assert_int_equal(u.n, 4);
    assert_true(u.v[0].at == T0 + 10 * MIN);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_live_list(s, "b", 0, snaps_cb, &u), 0);
    assert_int_equal(u.n, 1);
    storetest_reopen(t);
    memset(&u, 0, sizeof(u));
    assert_int_equal(store_live_list(t->s, "a", 0, snaps_cb, &u), 0);
    assert_int_equal(u.n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_breached),
        cmocka_unit_test(test_tenant_settings),
        cmocka_unit_test(test_live),
    };
    return storetest_run("store_analytics_reads", tests, sizeof(tests) / sizeof(tests[0]));
}
