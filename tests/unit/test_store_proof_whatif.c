/* The breach forecast (forecast.c) and dry runs of policy and definition
 * changes (alerts_policy.c, findings_policy.c) on SQLite and PostgreSQL:
 * the forecast's window, order, counts and limit; a dry run's counts, and
 * that it leaves the database exactly as it was, also when any driver call
 * of it fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_alerts.h"
#include "store/store_int.h"
#include "store/store_proof.h"
#include "storetest.h"
/* store_findings.h names SW_TITLE_MAX too (with its own value) */
#undef SW_TITLE_MAX
#include "store/store_findings.h"

#define T0 INT64_C(1767225600000)
#define M INT64_C(60000)
#define H INT64_C(3600000)

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

/* builtin alert targets: critical ack 15 min / resolve 4 h, high 30 min /
 * 8 h, medium 4 h / 24 h; findings: urgent 24 h, critical 72 h */
static void alert(struct store *s, const char *id, enum sla_sev sev, int64_t created)
{
    struct sw_alert_new in = {.tenant_id = "acme", .id = id, .title = "t", .source = "edr",
                              .sev = sev, .created_at = created};
    struct sw_alert x;
    enum sw_alert_result res = SW_ALERT_NO_TENANT;
    assert_int_equal(store_alert_create(s, &in, created, "ingest", &x, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
}

static void finding(struct store *s, const char *id, enum sla_sev sev, int64_t discovered)
{
    struct sw_finding_new in = {.tenant_id = "acme", .id = id, .title = "t", .sev = sev,
                                .discovered_at = discovered};
    struct sw_finding *f = malloc(sizeof(*f));
    bool created = false;
    assert_int_equal(store_finding_create(s, &in, discovered, "test", f, &created), 0);
    assert_true(created);
    free(f);
}

static int64_t scalar(struct store *s, const char *sql)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    assert_int_equal(db_step_one(st), 1);
    int64_t v = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return v;
}

/* What any change could have touched, as one number per table. */
struct state {
    int64_t v[8];
};

static void snap(struct store *s, struct state *o)
{
    static const char *const q[] = {
        "SELECT count(*) FROM policy_versions",
        "SELECT count(*) FROM alert_policy_layers",
        ("SELECT COALESCE(sum(ack_target_ms + res_target_ms + ack_due_at + resolve_due_at), 0) "
         "FROM alerts"),
        "SELECT COALESCE(sum(ack_penalty_cph + penalty_cph + ack_fired + res_fired), 0) FROM alerts",
        "SELECT count(*) FROM events",
        "SELECT COALESCE(sum(hours), 0) FROM finding_targets",
        "SELECT count(*) FROM finding_policies",
        "SELECT COALESCE(sum(stage + contacts_fired), 0) FROM findings",
    };
    for (int i = 0; i < 8; i++)
        o->v[i] = scalar(s, q[i]);
}

static void same(const struct state *a, const struct state *b)
{
    for (int i = 0; i < 8; i++)
        if (a->v[i] != b->v[i])
            fail_msg("state %d: %lld before, %lld after", i, (long long)a->v[i],
                     (long long)b->v[i]);
}

/* ---- forecast --------------------------------------------------------------------- */

static void test_forecast(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    tenant(t->s, "beta");
    alert(t->s, "c1", SLA_SEV_CRITICAL, T0);            /* ack +15 min, resolve +4 h */
    alert(t->s, "h1", SLA_SEV_HIGH, T0 - H);            /* ack past, resolve +7 h */
    alert(t->s, "m1", SLA_SEV_MEDIUM, T0);              /* ack +4 h */
    finding(t->s, "u1", SLA_SEV_URGENT, T0 - 19 * H);   /* +5 h */
    finding(t->s, "c2", SLA_SEV_CRITICAL, T0);          /* +72 h */
    const int64_t now = T0 + 10 * M;
    struct sw_forecast f;
    assert_int_equal(store_forecast(t->s, "acme", now, now + 6 * H, 100, &f), 0);
    static const struct { bool alert, ack; const char *id; int64_t due; } want[] = {
        {true, true, "c1", T0 + 15 * M}, {true, false, "c1", T0 + 4 * H},
        {true, true, "m1", T0 + 4 * H}, {false, false, "u1", T0 + 5 * H},
    };
    assert_int_equal(f.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f.items[i].alert, want[i].alert);
        assert_int_equal(f.items[i].ack, want[i].ack);
        assert_string_equal(f.items[i].id, want[i].id);
        assert_true(f.items[i].due_at == want[i].due);
    }
    assert_int_equal(f.alerts[SLA_SEV_CRITICAL], 1);
    assert_int_equal(f.alerts[SLA_SEV_MEDIUM], 1);
    assert_int_equal(f.alerts[SLA_SEV_HIGH], 0);
    assert_int_equal(f.findings[SLA_SEV_URGENT], 1);
    assert_int_equal(f.findings[SLA_SEV_CRITICAL], 0);
    assert_false(f.truncated);
    store_forecast_free(&f);
    assert_int_equal(store_forecast(t->s, "acme", now, now + 6 * H, 2, &f), 0);
    assert_int_equal(f.n, 2);
    assert_true(f.truncated);
    assert_int_equal(f.alerts[SLA_SEV_MEDIUM], 1);     /* counts whatever limit cut */
    store_forecast_free(&f);
    /* the window's ends: (now, until] */
    assert_int_equal(store_forecast(t->s, "acme", T0 + 15 * M, T0 + 4 * H, 100, &f), 0);
    assert_int_equal(f.n, 2);                           /* c1 and m1 at +4 h */
    store_forecast_free(&f);
    assert_int_equal(store_forecast(t->s, "beta", now, now + 100 * H, 100, &f), 0);
    assert_int_equal(f.n, 0);
    store_forecast_free(&f);
    assert_int_equal(store_forecast(t->s, "ghost", now, now + H, 10, &f), SW_E_NOTFOUND);
    assert_int_equal(store_forecast(t->s, "acme", now, now + H, 0, &f), SW_E_INVAL);
}

/* ---- dry runs ----------------------------------------------------------------------- */

static void test_definition_dry_run(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    alert(t->s, "c1", SLA_SEV_CRITICAL, T0);
    alert(t->s, "h1", SLA_SEV_HIGH, T0);
    const int64_t now = T0 + 10 * M;
    /* critical ack 15 → 5 min: c1 breached at once, 5 min over: one
     * started hour at the new MTTA rate */
    struct sla_definition d;
    memset(&d, 0, sizeof(d));
    d.critical_mtta_minutes = 5;
    struct sw_dry_run dry;
    struct sw_definition_change ch = {.tenant_id = "acme", .d = &d, .dry_run = &dry};
    ch.ack_penalty.set[SLA_SEV_CRITICAL] = true;
    ch.ack_penalty.cph[SLA_SEV_CRITICAL] = 100;
    struct state before, after;
    snap(t->s, &before);
    struct db *db = sql_of(t->s)->db;
    for (int k = 1;; k++) {
        int64_t n = -1;
        db_fail_after(db, k, SW_E_STORE);
        int rc = store_alert_definition_apply(t->s, &ch, now, "user:x", &n);
        db_fail_after(db, 0, 0);
        snap(t->s, &after);
        same(&before, &after);
        if (rc == 0) {
            assert_int_equal(n, 1);
            break;
        }
        assert_int_equal(rc, SW_E_STORE);
        assert_true(k < 300);
    }
    assert_int_equal(dry.would_recalculate, 1);
    assert_int_equal(dry.earlier, 1);
    assert_int_equal(dry.later, 0);
    assert_int_equal(dry.new_breaches, 1);
    assert_int_equal(dry.rearmed, 0);
    assert_int_equal(dry.penalty_delta_cents, 100);
    /* the real change recalculates what the dry run counted */
    ch.dry_run = NULL;
    int64_t n = 0;
    assert_int_equal(store_alert_definition_apply(t->s, &ch, now, "user:x", &n), 0);
    assert_int_equal(n, 1);
    ch.dry_run = &dry;
    assert_int_equal(store_alert_definition_apply(t->s, &ch, now, "user:x", &n), 0);
    assert_int_equal(dry.would_recalculate, 0);
    ch.tenant_id = "ghost";
    assert_int_equal(store_alert_definition_apply(t->s, &ch, now, "user:x", &n), SW_E_NOTFOUND);
}

static void test_policy_dry_run(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    finding(t->s, "f1", SLA_SEV_CRITICAL, T0 - 60 * H);        /* due T0 + 12 h */
    finding(t->s, "f2", SLA_SEV_CRITICAL, T0);                 /* due T0 + 72 h */
    finding(t->s, "f3", SLA_SEV_HIGH, T0);
    struct sw_finding_policy p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "acme");
    p.hours_set[SLA_SEV_CRITICAL] = true;
    p.hours[SLA_SEV_CRITICAL] = 48;
    struct sw_dry_run dry;
    struct state before, after;
    snap(t->s, &before);
    struct db *db = sql_of(t->s)->db;
    for (int k = 1;; k++) {
        db_fail_after(db, k, SW_E_STORE);
        int rc = store_finding_policy_dry_run(t->s, &p, T0 + 13 * H, &dry);
        db_fail_after(db, 0, 0);
        snap(t->s, &after);
        same(&before, &after);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_true(k < 300);
    }
    assert_int_equal(dry.would_recalculate, 3);     /* the company's live findings */
    assert_int_equal(dry.earlier, 2);
    assert_int_equal(dry.later, 0);
    assert_int_equal(dry.new_breaches, 0);          /* f1 was breached already at +13 h */
    assert_int_equal(dry.rearmed, 0);
    assert_int_equal(store_finding_policy_dry_run(t->s, &p, T0 + 11 * H, &dry), 0);
    assert_int_equal(dry.new_breaches, 1);          /* f1: +12 h → -12 h */
    snprintf(p.tenant_id, sizeof(p.tenant_id), "ghost");
    assert_int_equal(store_finding_policy_dry_run(t->s, &p, T0, &dry), SW_E_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecast),
        cmocka_unit_test(test_definition_dry_run),
        cmocka_unit_test(test_policy_dry_run),
    };
    return storetest_run("store_proof_whatif", tests, sizeof(tests) / sizeof(tests[0]));
}
