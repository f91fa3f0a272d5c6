/* What the dashboard's settings and action screens need from the API, on
 * SQLite and PostgreSQL (issue 16):
 *   - a policy PUT with an unknown key (hgih_hours) answers 422 naming it
 *     and stores nothing; the GET answer sent back unchanged saves;
 *   - PUT /sla/definition with null returns a field to its template value;
 *   - notifications: the masked Slack URL that GET shows, sent back, keeps
 *     the stored URL (the form saves once Slack is configured);
 *   - apply-template says which of the tenant's edits it replaced, or keeps
 *     them with keep_overrides;
 *   - the alerts list searches ids and titles (?q=). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_db.h"

static void tenant(struct sw_server *s, const char *id, const char *tmpl)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"T %s\"%s%s%s}", id, id,
             tmpl ? ",\"template\":\"" : "", tmpl ? tmpl : "", tmpl ? "\"" : "");
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, body, NULL), 201);
}

static json_int_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", k);
    return json_integer_value(v);
}

static void test_policy_unknown_key(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    tenant(s, "pk", NULL);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/pk", ADMIN_TOKEN,
                         "{\"critical_hours\":10,\"high_hours\":20}", NULL), 200);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/pk", ADMIN_TOKEN,
                         "{\"critical_hours\":10,\"hgih_hours\":30}", &r), 422);
    assert_error_shape(&r, "invalid", "hgih_hours");
    assert_non_null(strstr(r.body, "hgih_hours"));
    http_free(&r);
    /* nothing stored: high_hours still 20 */
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/pk", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(jint(r.json, "high_hours"), 20);
    /* the GET answer, sent back as it is, saves */
    char *back = json_dumps(r.json, JSON_COMPACT);
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/pk", ADMIN_TOKEN, back, &r),
                     200);
    assert_int_equal(jint(r.json, "high_hours"), 20);
    assert_int_equal(jint(r.json, "critical_hours"), 10);
    http_free(&r);
    free(back);
    /* the global and project scopes refuse the same way */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/global", ADMIN_TOKEN,
                         "{\"urgnet_hours\":5}", &r), 422);
    assert_error_shape(&r, "invalid", "urgnet_hours");
    http_free(&r);
}

static void test_definition_null(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    tenant(s, "dn", "premium");
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dn", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":7,\"high_mttr_hours\":6}", &r), 200);
    assert_int_equal(jint(r.json, "critical_mtta_minutes"), 7);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "sources"),
                                                          "critical_mtta_minutes")), "tenant");
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dn", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":null}", &r), 200);
    char hdr[32];
    assert_non_null(http_resp_header(&r, "X-Recalculated-Count", hdr, sizeof(hdr)));
    /* premium's 15 minutes, from the template; the other edit stays */
    assert_int_equal(jint(r.json, "critical_mtta_minutes"), 15);
    json_t *src = json_object_get(r.json, "sources");
    assert_string_equal(json_string_value(json_object_get(src, "critical_mtta_minutes")),
                        "template");
    assert_int_equal(jint(r.json, "high_mttr_hours"), 6);
    assert_string_equal(json_string_value(json_object_get(src, "high_mttr_hours")), "tenant");
    http_free(&r);
    /* the threshold too */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dn", ADMIN_TOKEN,
                         "{\"notification_threshold_pct\":60}", NULL), 200);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dn", ADMIN_TOKEN,
                         "{\"notification_threshold_pct\":null}", &r), 200);
    assert_int_equal(jint(r.json, "notification_threshold_pct"), 80);
    http_free(&r);
    /* still checked: a value out of range */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=dn", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":0}", &r), 422);
    assert_error_shape(&r, "invalid", "critical_mtta_minutes");
    http_free(&r);
}

static void test_notifications_masked_slack(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    tenant(s, "ns", NULL);
    static const char URL[] = "https://hooks.slack.com/services/T0001/B0002/abcdefSECRETwxyz";
    char body[512];
    snprintf(body, sizeof(body),
             "{\"channels\":[\"websocket\",\"slack\",\"email\"],\"recipients\":{\"slack\":[\"%s\"],"
             "\"email\":[\"soc@example.com\"]},\"thresholds\":[80,90]}", URL);
    assert_int_equal(api(s, "POST", "/api/v1/sla/notifications/ns/configure", ADMIN_TOKEN, body,
                         NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/sla/notifications/ns/config", ADMIN_TOKEN, NULL, &r),
                     200);
    json_t *slack = json_object_get(json_object_get(r.json, "recipients"), "slack");
    const char *masked = json_string_value(json_array_get(slack, 0));
    assert_null(strstr(masked, "SECRET"));
    /* the dashboard's form: what GET showed, one threshold changed */
    json_t *cfg = json_pack("{s:O, s:O, s:[i,i,i]}", "channels",
                            json_object_get(r.json, "channels"), "recipients",
                            json_object_get(r.json, "recipients"), "thresholds", 70, 80, 90);
    char *again = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/sla/notifications/ns/configure", ADMIN_TOKEN, again,
                         &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "thresholds")), 3);
    http_free(&r);
    free(again);
    /* the stored URL is the real one */
    char *rows = it_db_dump(s, "SELECT recipients FROM notification_config WHERE tenant_id = 'ns'");
    assert_non_null(rows);
    assert_non_null(strstr(rows, URL));
    free(rows);
    /* a masked form that matches nothing stored is still not a URL */
    assert_int_equal(api(s, "POST", "/api/v1/sla/notifications/ns/configure", ADMIN_TOKEN,
                         "{\"channels\":[\"slack\"],\"recipients\":{\"slack\":"
                         "[\"hooks.slack.com/...zzzz\"]}}", &r), 422);
    assert_error_shape(&r, "invalid", "recipients.slack");
    http_free(&r);
}

static void test_apply_template_edits(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    tenant(s, "at", "premium");
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=at", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":7}", NULL), 200);
    /* a plain apply: the edit is replaced, and the answer says so */
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/at/apply-template", ADMIN_TOKEN,
                         "{\"template_name\":\"standard\"}", &r), 200);
    json_t *rep = json_object_get(r.json, "replaced_overrides");
    assert_int_equal(jint(rep, "critical_mtta_minutes"), 7);
    assert_int_equal(json_object_size(json_object_get(r.json, "kept_overrides")), 0);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/definition?tenant_id=at", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(jint(r.json, "critical_mtta_minutes"), 30);       /* standard's */
    http_free(&r);
    /* kept on request: the tier underneath, the edit on top */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=at", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":7,\"low_mttr_hours\":100}", NULL), 200);
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/at/apply-template", ADMIN_TOKEN,
                         "{\"template_name\":\"enterprise\",\"keep_overrides\":true}", &r), 200);
    json_t *kept = json_object_get(r.json, "kept_overrides");
    assert_int_equal(jint(kept, "critical_mtta_minutes"), 7);
    assert_int_equal(jint(kept, "low_mttr_hours"), 100);
    assert_int_equal(json_object_size(json_object_get(r.json, "replaced_overrides")), 0);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/definition?tenant_id=at", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(jint(r.json, "critical_mtta_minutes"), 7);
    assert_int_equal(jint(r.json, "critical_mttr_hours"), 1);          /* enterprise's */
    assert_string_equal(json_string_value(json_object_get(r.json, "template")), "enterprise");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/at/apply-template", ADMIN_TOKEN,
                         "{\"template_name\":\"premium\",\"keep_overrides\":\"yes\"}", &r), 422);
    assert_error_shape(&r, "invalid", "keep_overrides");
    http_free(&r);
}

static void test_alert_search(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    tenant(s, "as", NULL);
    static const char *const alerts[][2] = {
        {"edr-1", "Phishing mail opened"}, {"edr-2", "Ransomware beacon"},
        {"ids-3", "phishing KIT download"}, {"ids_4", "100% CPU"}};
    for (int i = 0; i < 4; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"tenant_id\":\"as\",\"severity\":\"high\",\"title\":\"%s\"}",
                 alerts[i][0], alerts[i][1]);
        assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
    }
    static const struct {
        const char *q;
        int n;
    } cases[] = {{"PHISH", 2}, {"edr", 2}, {"beacon", 1}, {"%25", 1}, {"_", 1}, {"nothing", 0},
                 {"", 4}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/v1/alerts?tenant_id=as&q=%s", cases[i].q);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        if ((int)json_array_size(json_object_get(r.json, "items")) != cases[i].n)
            fail_msg("q=%s: %zu items, want %d", cases[i].q,
                     json_array_size(json_object_get(r.json, "items")), cases[i].n);
        http_free(&r);
    }
    /* with the other filters */
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=as&q=phish&state=resolved",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    http_free(&r);
    /* state=unresolved: open or acknowledged */
    assert_int_equal(api(s, "POST", "/api/v1/alerts/edr-1/resolve?tenant_id=as", ADMIN_TOKEN,
                         NULL, NULL), 200);
    assert_int_equal(api(s, "POST", "/api/v1/alerts/edr-2/acknowledge?tenant_id=as",
                         ADMIN_TOKEN, NULL, NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=as&state=unresolved", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=as&state=unresolved&q=phish",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=as&q=a%0Ab", ADMIN_TOKEN, NULL, &r),
                     422);
    assert_error_shape(&r, "invalid", "q");
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_unknown_key),
        cmocka_unit_test(test_definition_null),
        cmocka_unit_test(test_notifications_masked_slack),
        cmocka_unit_test(test_apply_template_edits),
        cmocka_unit_test(test_alert_search),
    };
    return cmocka_run_group_tests(tests, it_server_setup, it_server_teardown);
}
