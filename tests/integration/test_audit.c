/* The audit log records every configuration write and every state change
 * of an item made through the API: who, tenant, when, action, and what the
 * resource was before and after.  Failed writes leave no row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* The newest audit row of that action for tenant t (a new reference). */
static json_t *last_row(struct sw_server *s, const char *t, const char *action)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/audit?tenant_id=%s&action=%s", t, action);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *row = json_array_get(json_object_get(r.json, "items"), 0);
    json_incref(row);
    http_free(&r);
    return row;
}

static void test_definition_change_keeps_before_and_after(void **state)
{
    struct sw_server *s = *state;
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"t\",\"name\":\"T\"}", NULL), 201);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=t", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":10}", NULL), 200);
    json_t *row = last_row(s, "t", "sla_definition.update");
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "actor")),
                        "token:bootstrap (SLAWATCH_ADMIN_TOKEN)");
    assert_string_equal(json_string_value(json_object_get(row, "tenant_id")), "t");
    /* built-in 15 minutes before, 10 after */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "before"),
                                                        "critical_mtta_minutes")), 15);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "after"),
                                                        "critical_mtta_minutes")), 10);
    json_decref(row);

    /* a refused write (out of range) records nothing */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=t", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":500}", NULL), 422);
    row = last_row(s, "t", "sla_definition.update");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "after"),
                                                        "critical_mtta_minutes")), 10);
    json_decref(row);
}

static void test_settings_and_item_changes_are_audited(void **state)
{
    struct sw_server *s = *state;
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"u\",\"name\":\"U\"}", NULL), 201);
    assert_int_equal(api(s, "POST", "/api/v1/sla/notifications/u/configure", ADMIN_TOKEN,
                         "{\"channels\":[\"websocket\"],\"thresholds\":[80,90]}", NULL), 200);
    json_t *row = last_row(s, "u", "notification_config.update");
    assert_non_null(row);
    assert_non_null(json_object_get(row, "before"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(row, "after"),
                                                     "thresholds")), 2);
    json_decref(row);

    assert_int_equal(api(s, "POST", "/api/v1/sla/escalations/u", ADMIN_TOKEN,
                         "{\"severity\":\"critical\",\"chain\":[{\"level\":\"L1\",\"role\":"
                         "\"SOC Analyst\",\"timeout_minutes\":15,\"notification_method\":"
                         "\"email\"}]}", NULL), 200);
    row = last_row(s, "u", "escalation_chain.update");
    assert_non_null(row);
    char *after = json_dumps(json_object_get(row, "after"), 0);
    assert_non_null(after);
    assert_non_null(strstr(after, "SOC Analyst"));
    free(after);
    json_decref(row);

    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                         "{\"id\":\"a1\",\"tenant_id\":\"u\",\"severity\":\"high\"}", NULL), 201);
    assert_int_equal(api(s, "POST", "/api/v1/alerts/a1/acknowledge?tenant_id=u", ADMIN_TOKEN,
                         "{}", NULL), 200);
    row = last_row(s, "u", "alert.acknowledge");
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "target")),
                        "/api/v1/alerts/a1/acknowledge");
    assert_string_equal(json_string_value(json_object_get(json_object_get(row, "after"),
                                                          "state")), "acknowledged");
    json_decref(row);
    /* acknowledging a resolved alert is refused: no row */
    assert_int_equal(api(s, "POST", "/api/v1/alerts/a1/resolve?tenant_id=u", ADMIN_TOKEN,
                         "{}", NULL), 200);
    assert_int_equal(api(s, "POST", "/api/v1/alerts/a1/acknowledge?tenant_id=u", ADMIN_TOKEN,
                         "{}", NULL), 409);
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=u&action=alert.acknowledge",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_definition_change_keeps_before_and_after, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_settings_and_item_changes_are_audited, it_server_setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
