/* Policy history end to end (issue 17): every change of a finding policy
 * (global, company, project), of the SLA definition and of an escalation
 * chain is a version with who, when, before and after; explain?at= answers
 * as the policies stood at that instant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define ACME "/api/v1/sla/policy/companies/acme"

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static json_t *items_of(struct sw_server *s, const char *path, const char *token,
                        struct http_resp *r)
{
    assert_int_equal(api(s, "GET", path, token, NULL, r), 200);
    json_t *items = json_object_get(r->json, "items");
    assert_true(json_is_array(items));
    return items;
}

static long long explain_high(struct sw_server *s, const char *at, char *answered, size_t len)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/findings/f-1/sla/explain?tenant_id=acme%s%s",
             at ? "&at=" : "", at ? at : "");
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    long long v = json_integer_value(json_object_get(r.json, "value"));
    snprintf(answered, len, "%s", json_string_value(json_object_get(r.json, "answered")));
    if (at)
        assert_non_null(json_object_get(r.json, "at"));
    http_free(&r);
    return v;
}

static void test_history_and_explain_at(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    assert_int_equal(api(s, "POST", "/api/v1/tenants/acme/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"Web\"}", NULL), 201);
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN,
                         "{\"id\":\"f-1\",\"tenant_id\":\"acme\",\"severity\":\"high\"}", NULL),
                     201);
    char mgr[128], aud[128], viewer[128];
    it_make_token(s, "manager", "acme", mgr, sizeof(mgr));
    it_make_token(s, "auditor", "acme", aud, sizeof(aud));
    it_make_token(s, "viewer", "acme", viewer, sizeof(viewer));

    struct http_resp r;
    assert_int_equal(api(s, "PUT", ACME, mgr, "{\"high_hours\":100}", NULL), 200);
    pause_ms(30);
    assert_int_equal(api(s, "PUT", ACME, ADMIN_TOKEN, "{\"high_hours\":80}", NULL), 200);
    assert_int_equal(api(s, "PUT", ACME, ADMIN_TOKEN, "{\"high_hours\":80}", NULL), 200);  /* no change */
    pause_ms(30);
    assert_int_equal(api(s, "PUT", ACME "/projects/web", ADMIN_TOKEN, "{\"low_hours\":9}", NULL),
                     200);

    /* the auditor reads the company's history */
    json_t *items = items_of(s, ACME "/history", aud, &r);
    assert_int_equal(json_array_size(items), 2);
    json_t *v2 = json_array_get(items, 0), *v1 = json_array_get(items, 1);
    assert_int_equal(json_integer_value(json_object_get(v2, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(v1, "changed_by")), "token:manager-acme");
    assert_true(json_is_null(json_object_get(v1, "before")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v1, "after"),
                                                        "high_hours")), 100);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v2, "before"),
                                                        "high_hours")), 100);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v2, "after"),
                                                        "high_hours")), 80);
    char at1[64], at2[64];
    snprintf(at1, sizeof(at1), "%s", json_string_value(json_object_get(v1, "changed_at")));
    snprintf(at2, sizeof(at2), "%s", json_string_value(json_object_get(v2, "changed_at")));
    http_free(&r);
    items = items_of(s, ACME "/projects/web/history", viewer, &r);
    assert_int_equal(json_array_size(items), 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", ACME "/projects/nope/history", ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/global/history", aud, NULL, NULL), 403);
    items = items_of(s, "/api/v1/sla/policy/global/history", ADMIN_TOKEN, &r);
    assert_int_equal(json_array_size(items), 0);
    http_free(&r);

    /* explain as the policies stood then */
    char ans[32];
    assert_int_equal(explain_high(s, at1, ans, sizeof(ans)), 100);
    assert_string_equal(ans, "company");
    assert_int_equal(explain_high(s, at2, ans, sizeof(ans)), 80);
    assert_int_equal(explain_high(s, "2020-01-01T00:00:00Z", ans, sizeof(ans)), 168);
    assert_string_equal(ans, "builtin");
    assert_int_equal(explain_high(s, NULL, ans, sizeof(ans)), 80);
    assert_int_equal(api(s, "GET", "/api/v1/findings/f-1/sla/explain?tenant_id=acme&at=yesterday",
                         ADMIN_TOKEN, NULL, NULL), 422);

    /* the SLA definition and escalation chains */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", mgr,
                         "{\"critical_mtta_minutes\":10}", NULL), 200);
    items = items_of(s, "/api/v1/sla/definition/history?tenant_id=acme", aud, &r);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
        json_object_get(json_array_get(items, 0), "after"), "layer"), "critical"), "ack_min")),
        10);
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/sla/escalations/acme", mgr,
                         "{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"soc\","
                         "\"timeout_minutes\":15,\"notification_method\":\"email\"}]}", NULL), 200);
    items = items_of(s, "/api/v1/sla/escalations/acme/history?severity=high", aud, &r);
    assert_int_equal(json_array_size(items), 1);
    http_free(&r);
    items = items_of(s, "/api/v1/sla/escalations/acme/history", aud, &r);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "scope")),
                        "high");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/escalations/acme/history?severity=urgent", aud,
                         NULL, NULL), 422);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_and_explain_at, it_server_setup,
                                        it_server_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
