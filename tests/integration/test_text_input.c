/* Free text with control characters is refused everywhere it enters: an
 * escalation step's role, alert and finding titles and sources, tenant,
 * project, token and config names, "by" and resolution notes, pause
 * reasons, policy contacts, and each line of a bulk import.  CR and LF in
 * particular would reach email headers and bodies, Slack, CSV and logs as
 * extra lines.  Each answer is 422 naming the field; ordinary UTF-8 text
 * (accents, dashes, emoji, right-to-left scripts) is kept as sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* JSON string escapes of what must be refused (inside "..." in a body). */
static const char *const bad[] = {
    "L2\\r\\nBcc: attacker@evil.test",  /* CR LF: an extra email header */
    "line one\\nline two",              /* LF: an extra log or CSV line */
    "tab\\there",                       /* TAB: a shifted CSV/TSV cell */
    "esc \\u001b[31mred",               /* ESC: terminal escapes in logs */
    "del \\u007f",
    "nel \\u0085 next line",            /* C1 NEL */
    "ls \\u2028 separator",             /* Unicode line separator */
    "bidi \\u202e reversed",            /* right-to-left override */
};

static void expect_422(struct sw_server *s, const char *method, const char *path,
                       const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, method, path, ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("%s %s %s: expected 422 naming %s, got %ld %s", method, path, body, field,
                 st, r.body ? r.body : "");
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void setup_acme(struct sw_server *s)
{
    it_make_tenant(s, "acme");
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                         "{\"id\":\"a1\",\"tenant_id\":\"acme\",\"severity\":\"high\"}", NULL),
                     201);
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN,
                         "{\"id\":\"f1\",\"tenant_id\":\"acme\",\"severity\":\"high\"}", NULL),
                     201);
}

static void test_escalation_role(void **state)
{
    struct sw_server *s = *state;
    setup_acme(s);
    char body[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"soc\","
                 "\"timeout_minutes\":5,\"notification_method\":\"email\"},{\"level\":\"L2\","
                 "\"role\":\"%s\",\"timeout_minutes\":5,\"notification_method\":\"email\"}]}",
                 bad[i]);
        expect_422(s, "POST", "/api/v1/sla/escalations/acme", body, "chain[1].role");
    }
    /* nothing was stored */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/escalations/acme", ADMIN_TOKEN, NULL, &r), 200);
    assert_null(strstr(r.body, "Bcc"));
    http_free(&r);
}

/* Every field, each with one of the bad strings in turn. */
static void test_every_text_field(void **state)
{
    struct sw_server *s = *state;
    setup_acme(s);
    static const struct {
        const char *method, *path, *fmt, *field;
    } cases[] = {
        {"POST", "/api/v1/alerts",
         "{\"id\":\"a2\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"title\":\"%s\"}", "title"},
        {"POST", "/api/v1/alerts",
         "{\"id\":\"a3\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"source\":\"%s\"}",
         "source"},
        {"POST", "/api/v1/alerts/a1/acknowledge?tenant_id=acme", "{\"by\":\"%s\"}", "by"},
        {"POST", "/api/v1/alerts/a1/resolve?tenant_id=acme", "{\"resolution\":\"%s\"}",
         "resolution"},
        {"POST", "/api/v1/findings",
         "{\"id\":\"f2\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"title\":\"%s\"}", "title"},
        {"POST", "/api/v1/findings/f1/pause?tenant_id=acme", "{\"reason\":\"%s\"}", "reason"},
        {"POST", "/api/v1/tenants", "{\"id\":\"t2\",\"name\":\"%s\"}", "name"},
        {"PATCH", "/api/v1/tenants/acme", "{\"name\":\"%s\"}", "name"},
        {"POST", "/api/v1/tenants/acme/projects", "{\"id\":\"p1\",\"name\":\"%s\"}", "name"},
        {"POST", "/api/v1/tokens", "{\"name\":\"%s\",\"role\":\"viewer\",\"tenant_id\":\"acme\"}",
         "name"},
        {"POST", "/api/v1/sla/configs/acme", "{\"name\":\"%s\",\"template\":\"premium\"}",
         "name"},
        {"PUT", "/api/v1/sla/policy/companies/acme",
         "{\"escalation_contacts\":[{\"level\":1,\"user\":\"%s\"}]}", "escalation_contacts"},
    };
    char body[512];
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(body, sizeof(body), cases[c].fmt, bad[i]);
            expect_422(s, cases[c].method, cases[c].path, body, cases[c].field);
        }
}

static void test_bulk_lines(void **state)
{
    struct sw_server *s = *state;
    setup_acme(s);
    char body[2048];
    int n = snprintf(body, sizeof(body),
                     "{\"id\":\"b1\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"title\":\"ok\"}\n"
                     "{\"id\":\"b2\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"title\":\"%s\"}\n"
                     "{\"id\":\"b3\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"source\":\"%s\"}\n",
                     bad[0], bad[1]);
    struct http_resp r;
    http_req(s, "POST", "/api/v1/alerts/bulk", ADMIN_TOKEN, "application/x-ndjson", body,
             (size_t)n, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 1);
    json_t *errs = json_object_get(r.json, "errors");
    assert_int_equal(json_array_size(errs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 0), "line")), 2);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(errs, 0), "error")),
                           "title"));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(errs, 1), "error")),
                           "source"));
    http_free(&r);
}

/* Real-world text is not control characters: kept exactly. */
static void test_unicode_text_kept(void **state)
{
    struct sw_server *s = *state;
    setup_acme(s);
    static const char title[] = "Caf\xc3\xa9 \xe2\x80\x93 \xc3\x9c" "berwachung \xf0\x9f\x9a\xa8 "
                                "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \"quoted\" \\ back";
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "id", "u1", "tenant_id", "acme", "severity",
                          "low", "title", title);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, text, &r), 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "title")), title);
    http_free(&r);
    free(text);
    assert_int_equal(api(s, "POST", "/api/v1/sla/escalations/acme", ADMIN_TOKEN,
                         "{\"severity\":\"low\",\"chain\":[{\"level\":\"L1\",\"role\":"
                         "\"SOC L1 \xe2\x80\x93 \xc3\xa9quipe de nuit\",\"timeout_minutes\":5,"
                         "\"notification_method\":\"email\"}]}",
                         NULL),
                     200);
}

/* Passwords are secrets, not text: any byte but NUL is theirs to choose. */
static void test_password_may_hold_anything(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    assert_int_equal(api(s, "POST", "/api/v1/users", ADMIN_TOKEN,
                         "{\"id\":\"pw\",\"email\":\"pw@acme.test\",\"password\":"
                         "\"tab\\there and\\nnewline\",\"roles\":[{\"role\":\"viewer\","
                         "\"tenant_id\":\"acme\"}]}",
                         NULL),
                     201);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escalation_role, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_every_text_field, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_lines, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_unicode_text_kept, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_password_may_hold_anything, it_server_setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
