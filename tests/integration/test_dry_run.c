/* Dry runs end to end (issue 17): PUT /sla/definition?dry_run=true and
 * PUT /sla/policy/...?dry_run=true answer what the change would do to the
 * scope's open items (recalculated, moved earlier / later, breached at
 * once, re-armed, penalty delta) and store, notify and audit nothing; the
 * real PUT then recalculates the count the dry run announced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_common.h"

/* What a change could touch, dumped straight from the database (the
 * scheduler's own writes, fired flags and events, are left out). */
static char *snapshot(struct sw_server *s)
{
    static const char *const q[] = {
        "SELECT id, ack_target_ms, res_target_ms, ack_due_at, resolve_due_at, ack_min, "
        "resolve_min, penalty_cph, ack_penalty_cph, ack_src, resolve_src "
        "FROM alerts ORDER BY tenant_id, id",
        "SELECT tenant_id, project_id, severity, ack_min, resolve_min, warn_pct, penalty_cph, "
        "ack_penalty_cph FROM alert_policy_layers ORDER BY tenant_id, project_id, severity",
        "SELECT tenant_id, project_id, severity, hours, source FROM finding_targets "
        "ORDER BY tenant_id, project_id, severity",
        "SELECT tenant_id, id, stage, contacts_fired FROM findings "
        "ORDER BY tenant_id, id",
        "SELECT count(*) FROM finding_policies",
        "SELECT count(*) FROM policy_versions",
        "SELECT count(*) FROM events WHERE type = 'recalculated'",
        "SELECT count(*) FROM audit_log WHERE action LIKE 'sla%'",
    };
    size_t len = 0;
    char *all = NULL;
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        char *d = it_db_dump(s, q[i]);
        assert_non_null(d);
        size_t n = strlen(d);
        all = realloc(all, len + n + 2);
        memcpy(all + len, d, n);
        all[len + n] = '\n';
        len += n + 1;
        all[len] = '\0';
        free(d);
    }
    return all;
}

static void sql(struct sw_server *s, const char *q)
{
    char err[256];
    if (it_db_exec(s, q, err, sizeof(err)) < 0)
        fail_msg("%s: %s", q, err);
}

static void finding(struct sw_server *s, const char *id, const char *sev, time_t discovered)
{
    char body[320], ts[32];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"dr\",\"severity\":\"%s\",\"discovered_at\":\"%s\"}",
             id, sev, an_iso(discovered, ts));
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN, body, NULL), 201);
}

static void expect(json_t *o, long long recalc, long long earlier, long long later,
                   long long breaches, long long rearmed, long long delta)
{
    assert_true(json_is_true(json_object_get(o, "dry_run")));
    assert_int_equal(an_jint(o, "would_recalculate"), recalc);
    assert_int_equal(an_jint(o, "earlier"), earlier);
    assert_int_equal(an_jint(o, "later"), later);
    assert_int_equal(an_jint(o, "new_breaches"), breaches);
    assert_int_equal(an_jint(o, "rearmed"), rearmed);
    assert_int_equal(an_jint(o, "penalty_delta_cents"), delta);
}

static void test_definition_dry_run(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "dr", "standard", "UTC");
    time_t now = time(NULL);
    /* standard critical: ack 30 min, resolve 8 h.  a1: acknowledging
     * 10 min late already; a2: due in 10 min; a3 (high) untouched; a4
     * resolved: never recalculated */
    struct an_alert a1 = {.id = "a1", .sev = "critical", .created = now - 40 * MIN_S},
                    a2 = {.id = "a2", .sev = "critical", .created = now - 20 * MIN_S},
                    a3 = {.id = "a3", .sev = "high", .created = now - 2 * HOUR_S},
                    a4 = {.id = "a4", .sev = "critical", .created = now - HOUR_S};
    an_create(s, "dr", &a1);
    an_create(s, "dr", &a2);
    an_create(s, "dr", &a3);
    an_create(s, "dr", &a4);
    an_act(s, "dr", &a3, "acknowledge", now);
    an_act(s, "dr", &a4, "resolve", now);
    /* a1's resolve warning fired: the longer target re-arms it */
    sql(s, "UPDATE alerts SET res_fired = 1 WHERE id = 'a1'");

    /* ack 30 → 15 min (a1: earlier, already breached; a2: breached at
     * once), resolve 8 → 10 h (both later), an MTTA penalty of 700/h:
     * a1 and a2 would have accrued one started hour each */
    static const char body[] =
        "{\"critical_mtta_minutes\":15,\"critical_mttr_hours\":10,"
        "\"mtta_penalty_per_hour_cents\":{\"critical\":700}}";
    char *before = snapshot(s);
    struct http_resp r;
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dr&dry_run=true",
                         ADMIN_TOKEN, body, &r), 200);
    expect(r.json, 2, 2, 2, 1, 1, 1400);
    http_free(&r);
    char *after = snapshot(s);
    assert_string_equal(before, after);         /* nothing stored */
    free(after);
    assert_int_equal(api(s, "GET", "/api/v1/sla/definition?tenant_id=dr", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(an_jint(r.json, "critical_mtta_minutes"), 30);
    http_free(&r);

    /* dry_run=false is the real save: what the dry run announced */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dr&dry_run=false",
                         ADMIN_TOKEN, body, &r), 200);
    char n[16];
    assert_non_null(http_resp_header(&r, "X-Recalculated-Count", n, sizeof(n)));
    assert_int_equal(atoi(n), 2);
    assert_int_equal(an_jint(r.json, "critical_mtta_minutes"), 15);
    http_free(&r);
    after = snapshot(s);
    assert_string_not_equal(before, after);
    free(after);
    free(before);
    /* the same change again would change nothing */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dr&dry_run=true",
                         ADMIN_TOKEN, body, &r), 200);
    expect(r.json, 0, 0, 0, 0, 0, 0);
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dr&dry_run=maybe",
                         ADMIN_TOKEN, body, &r), 422);
    assert_error_shape(&r, "invalid", "dry_run");
    http_free(&r);
    /* a dry run needs the same right as the save */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=nosuch&dry_run=true",
                         ADMIN_TOKEN, body, &r), 404);
    http_free(&r);
}

static void test_policy_dry_run(void **state)
{
    struct sw_server *s = *state;
    time_t now = time(NULL);
    /* builtin: critical 72 h, high 168 h.  f1 due in 12 h (its 80 %
     * warning fired, as the scheduler would), f2 in 62 h (a warning fired
     * by hand), f3 (high) in 67 h */
    finding(s, "f1", "critical", now - 60 * HOUR_S);
    finding(s, "f2", "critical", now - 10 * HOUR_S);
    finding(s, "f3", "high", now - 101 * HOUR_S);
    sql(s, "UPDATE findings SET stage = 80 WHERE id = 'f1'");
    sql(s, "UPDATE findings SET stage = 50 WHERE id = 'f2'");
    char *before = snapshot(s);
    struct http_resp r;
    /* critical 72 → 48 h: f1 breached at once, f2 earlier and re-armed;
     * the company's three live findings are recalculated */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/dr?dry_run=true", ADMIN_TOKEN,
                         "{\"critical_hours\":48}", &r), 200);
    expect(r.json, 3, 2, 0, 1, 1, 0);
    http_free(&r);
    /* critical longer (f1, f2 later and re-armed), high shorter (f3
     * breached at once) */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/dr?dry_run=true", ADMIN_TOKEN,
                         "{\"critical_hours\":100,\"high_hours\":100}", &r), 200);
    assert_int_equal(an_jint(r.json, "later"), 2);
    assert_int_equal(an_jint(r.json, "earlier"), 1);           /* f3: 168 → 100 h */
    assert_int_equal(an_jint(r.json, "new_breaches"), 1);      /* f3 at 100 h */
    assert_int_equal(an_jint(r.json, "rearmed"), 2);
    http_free(&r);
    char *after = snapshot(s);
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/dr/history", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    http_free(&r);
    /* the real save */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/dr", ADMIN_TOKEN,
                         "{\"critical_hours\":48}", &r), 200);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/findings/f1?tenant_id=dr", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_true(json_is_true(json_object_get(r.json, "breached")));
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definition_dry_run),
        cmocka_unit_test(test_policy_dry_run),
    };
    return cmocka_run_group_tests(tests, it_server_setup, it_server_teardown);
}
