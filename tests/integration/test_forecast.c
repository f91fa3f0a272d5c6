/* Breach forecast end to end (issue 17): the running, unpaused clocks of a
 * tenant's open alerts and findings that will breach in the next N hours,
 * by severity and item by item (due soonest first); paused, stopped,
 * already breached and other tenants' clocks are not in it; counts do not
 * depend on limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_common.h"

static void finding(struct sw_server *s, const char *tenant, const char *id, const char *sev,
                    time_t discovered, char *deadline, size_t len)
{
    char body[320], ts[32];
    struct http_resp r;
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"discovered_at\":\"%s\"}",
             id, tenant, sev, an_iso(discovered, ts));
    long st = api(s, "POST", "/api/v1/findings", ADMIN_TOKEN, body, &r);
    if (st != 201)
        fail_msg("finding %s: %ld %s", id, st, r.body);
    if (deadline)
        snprintf(deadline, len, "%s", json_string_value(json_object_get(r.json, "sla_deadline")));
    http_free(&r);
}

/* the alert's due instant of one clock, as the API writes it */
static void due_of(struct sw_server *s, const char *tenant, const char *id, const char *field,
                   char *out, size_t len)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=%s", id, tenant);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    snprintf(out, len, "%s", json_string_value(json_object_get(r.json, field)));
    http_free(&r);
}

static json_int_t by(json_t *o, const char *sev, const char *kind)
{
    return an_jint(json_object_get(json_object_get(o, "by_severity"), sev), kind);
}

static void test_forecast(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "fc", "standard", "UTC");
    an_tenant(s, "fc2", "standard", "UTC");
    time_t now = time(NULL);
    /* standard: critical ack 30 min / resolve 8 h, high 1 h / 16 h,
     * medium 8 h / 48 h, low 16 h / 144 h */
    struct an_alert a1 = {.id = "a1", .sev = "critical", .created = now - 5 * MIN_S},
                    a2 = {.id = "a2", .sev = "low", .created = now},
                    a3 = {.id = "a3", .sev = "high", .created = now - 10 * MIN_S},
                    a4 = {.id = "a4", .sev = "critical", .created = now - 3 * DAY_S},
                    a5 = {.id = "a5", .sev = "medium", .created = now},
                    other = {.id = "o1", .sev = "critical", .created = now};
    an_create(s, "fc", &a1);
    an_create(s, "fc", &a2);
    an_create(s, "fc", &a3);
    an_create(s, "fc", &a4);
    an_create(s, "fc", &a5);
    an_create(s, "fc2", &other);
    assert_int_equal(a1.ack_target_min, 30);
    assert_int_equal(a2.res_target_min, 144 * 60);
    an_act(s, "fc", &a3, "acknowledge", now);       /* its resolve clock only */
    an_act(s, "fc", &a5, "resolve", now);           /* nothing left running */
    /* findings (builtin targets: urgent 24 h, critical 72 h, high 168 h) */
    char f1[40], f2[40];
    finding(s, "fc", "f1", "critical", now - 70 * HOUR_S, f1, sizeof(f1));   /* due +2 h */
    finding(s, "fc", "f2", "urgent", now - HOUR_S, f2, sizeof(f2));          /* +23 h */
    finding(s, "fc", "f3", "high", now, NULL, 0);                            /* +168 h */
    finding(s, "fc", "f4", "critical", now - 71 * HOUR_S, NULL, 0);          /* paused */
    finding(s, "fc", "f5", "critical", now - 80 * HOUR_S, NULL, 0);          /* breached */
    finding(s, "fc2", "g1", "urgent", now - HOUR_S, NULL, 0);
    assert_int_equal(api(s, "POST", "/api/v1/findings/f4/pause?tenant_id=fc", ADMIN_TOKEN,
                         "{\"reason\":\"waiting for the vendor\"}", NULL), 200);

    char d_a1_ack[40], d_a1_res[40], d_a3_res[40], d_a2_ack[40];
    due_of(s, "fc", "a1", "ack_due_at", d_a1_ack, sizeof(d_a1_ack));
    due_of(s, "fc", "a1", "resolve_due_at", d_a1_res, sizeof(d_a1_res));
    due_of(s, "fc", "a3", "resolve_due_at", d_a3_res, sizeof(d_a3_res));
    due_of(s, "fc", "a2", "ack_due_at", d_a2_ack, sizeof(d_a2_ack));
    static const struct { const char *kind, *id, *sev, *clock; } want[] = {
        {"alert", "a1", "critical", "ack"},       /* +25 min */
        {"finding", "f1", "critical", "resolve"}, /* +2 h */
        {"alert", "a1", "critical", "resolve"},   /* +7 h 55 */
        {"alert", "a3", "high", "resolve"},       /* +15 h 50 */
        {"alert", "a2", "low", "ack"},            /* +16 h */
        {"finding", "f2", "urgent", "resolve"},   /* +23 h */
    };
    const char *due[] = {d_a1_ack, f1, d_a1_res, d_a3_res, d_a2_ack, f2};

    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=fc", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(an_jint(r.json, "hours"), 24);
    json_t *items = json_object_get(r.json, "items");
    if (json_array_size(items) != 6)
        fail_msg("forecast: %s", r.body);
    for (size_t i = 0; i < 6; i++) {
        json_t *it = json_array_get(items, i);
        assert_string_equal(json_string_value(json_object_get(it, "kind")), want[i].kind);
        assert_string_equal(json_string_value(json_object_get(it, "id")), want[i].id);
        assert_string_equal(json_string_value(json_object_get(it, "severity")), want[i].sev);
        assert_string_equal(json_string_value(json_object_get(it, "clock")), want[i].clock);
        assert_string_equal(json_string_value(json_object_get(it, "due_at")), due[i]);
    }
    assert_int_equal(by(r.json, "critical", "alerts"), 1);     /* a1 once, two clocks */
    assert_int_equal(by(r.json, "critical", "findings"), 1);
    assert_int_equal(by(r.json, "high", "alerts"), 1);
    assert_int_equal(by(r.json, "low", "alerts"), 1);
    assert_int_equal(by(r.json, "urgent", "findings"), 1);
    assert_int_equal(by(r.json, "medium", "alerts"), 0);
    assert_int_equal(by(r.json, "high", "findings"), 0);
    assert_int_equal(an_jint(r.json, "alerts"), 3);
    assert_int_equal(an_jint(r.json, "findings"), 2);
    assert_false(json_is_true(json_object_get(r.json, "truncated")));
    http_free(&r);

    /* a page of two: the counts are the window's */
    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=fc&limit=2", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "count"), 2);
    assert_true(json_is_true(json_object_get(r.json, "truncated")));
    assert_int_equal(an_jint(r.json, "alerts"), 3);
    assert_int_equal(an_jint(r.json, "findings"), 2);
    http_free(&r);
    /* the next hour: a1's acknowledgement only */
    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=fc&hours=1", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "count"), 1);
    assert_int_equal(an_jint(r.json, "findings"), 0);
    http_free(&r);
    /* a week: f3 (168 h) is still out, a1 is in once */
    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=fc&hours=167", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(by(r.json, "high", "findings"), 0);
    assert_int_equal(by(r.json, "low", "alerts"), 1);          /* a2: both clocks, once */
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=fc&hours=0", ADMIN_TOKEN,
                         NULL, &r), 422);
    assert_error_shape(&r, "invalid", "hours");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=fc&hours=745", ADMIN_TOKEN,
                         NULL, &r), 422);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/forecast?tenant_id=nosuch", ADMIN_TOKEN, NULL,
                         &r), 404);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecast),
    };
    return cmocka_run_group_tests(tests, it_server_setup, it_server_teardown);
}
