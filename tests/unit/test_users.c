/* Unit tests: passwords (argon2id), principals from users' roles, user input
 * validators, the HTML security headers, audit rows from a request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <microhttpd.h>
#include <sodium.h>

#include "http/audit.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/users.h"

static void test_password_hash_and_verify(void **state)
{
    char h[SW_PWHASH_MAX + 1], h2[SW_PWHASH_MAX + 1], dummy[SW_PWHASH_MAX + 1];
    assert_int_equal(auth_password_hash("correct horse", "min", h), 0);
    assert_non_null(strstr(h, "$argon2id$"));
    assert_int_equal(auth_password_hash("correct horse", "min", h2), 0);
    assert_string_not_equal(h, h2);                 /* salted */
    assert_int_equal(auth_password_hash("dummy password", "min", dummy), 0);
    assert_true(auth_password_verify(h, dummy, "correct horse"));
    assert_false(auth_password_verify(h, dummy, "correct horsE"));
    assert_false(auth_password_verify(h, dummy, ""));
    /* no hash (unknown user): false, even with the dummy's own password */
    assert_false(auth_password_verify(NULL, dummy, "dummy password"));
    assert_false(auth_password_verify("", dummy, "dummy password"));
    assert_false(auth_password_verify("garbage", dummy, "correct horse"));
    /* length limits */
    assert_int_equal(auth_password_hash("short", "min", h), SW_E_INVAL);
    char longpw[AUTH_PASSWORD_MAX + 2];
    memset(longpw, 'x', sizeof(longpw) - 1);
    longpw[sizeof(longpw) - 1] = '\0';
    assert_int_equal(auth_password_hash(longpw, "min", h), SW_E_INVAL);
}

static void test_principal_from_roles(void **state)
{
    struct sw_user u;
    struct auth_principal p;
    char err[200];
    memset(&u, 0, sizeof(u));
    snprintf(u.id, sizeof(u.id), "alice");
    assert_int_equal(users_add_role(&u, "viewer", "A", err, sizeof(err)), 0);
    assert_int_equal(users_add_role(&u, "manager", "B", err, sizeof(err)), 0);
    assert_int_equal(users_add_role(&u, "viewer", "A", err, sizeof(err)), 0);   /* folded */
    assert_int_equal(u.nroles, 2);
    /* a stored tenant-less role other than platform_admin grants nothing */
    snprintf(u.roles[u.nroles].role, sizeof(u.roles[0].role), "tenant_admin");
    u.roles[u.nroles++].tenant_id[0] = '\0';
    auth_user_principal(&u, &p);
    assert_string_equal(p.actor, "user:alice");
    assert_int_equal(p.ngrants, 2);
    assert_false(auth_sees_all(&p));
    assert_int_equal(auth_check(&p, PERM_READ, "A"), 0);
    assert_int_equal(auth_check(&p, PERM_CONFIGURE, "A"), SW_E_DENIED);
    assert_int_equal(auth_check(&p, PERM_CONFIGURE, "B"), 0);
    assert_int_equal(auth_check(&p, PERM_READ, "C"), SW_E_NOTFOUND);
    assert_int_equal(auth_check(&p, PERM_ADMIN, NULL), SW_E_DENIED);

    memset(&u, 0, sizeof(u));
    assert_int_equal(users_add_role(&u, "platform_admin", NULL, err, sizeof(err)), 0);
    auth_user_principal(&u, &p);
    assert_true(auth_sees_all(&p));
    assert_int_equal(auth_check(&p, PERM_PLATFORM, NULL), 0);
}

static void test_role_rules(void **state)
{
    struct sw_user u;
    char err[200];
    memset(&u, 0, sizeof(u));
    assert_int_equal(users_add_role(&u, "platform_admin", "A", err, sizeof(err)), SW_E_INVAL);
    assert_int_equal(users_add_role(&u, "viewer", NULL, err, sizeof(err)), SW_E_INVAL);
    assert_int_equal(users_add_role(&u, "viewer", "", err, sizeof(err)), SW_E_INVAL);
    assert_int_equal(users_add_role(&u, "king", "A", err, sizeof(err)), SW_E_INVAL);
    assert_int_equal(users_add_role(&u, "viewer", "a/b", err, sizeof(err)), SW_E_INVAL);
    assert_int_equal(users_add_role(&u, NULL, "A", err, sizeof(err)), SW_E_INVAL);
    char t[8];
    for (int i = 0; i < SW_USER_MAX_ROLES; i++) {
        snprintf(t, sizeof(t), "t%d", i);
        assert_int_equal(users_add_role(&u, "viewer", t, err, sizeof(err)), 0);
    }
    assert_int_equal(users_add_role(&u, "viewer", "one-more", err, sizeof(err)), SW_E_INVAL);

    struct {
        const char *json;
        int rc;
        size_t n;
    } cases[] = {
        {"[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]", 0, 1},
        {"[{\"role\":\"platform_admin\"},{\"role\":\"platform_admin\",\"tenant_id\":null}]", 0, 1},
        {"[]", SW_E_INVAL, 0},
        {"{}", SW_E_INVAL, 0},
        {"[\"viewer\"]", SW_E_INVAL, 0},
        {"[{\"role\":1}]", SW_E_INVAL, 0},
        {"[{\"role\":\"viewer\",\"tenant_id\":7}]", SW_E_INVAL, 0},
        {"[{\"role\":\"vie\\u0000wer\",\"tenant_id\":\"A\"}]", SW_E_INVAL, 0},
        {"[{\"role\":\"viewer\",\"tenant_id\":\"A\\u0000B\"}]", SW_E_INVAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = json_loads(cases[i].json, JSON_ALLOW_NUL, NULL);
        assert_non_null(j);
        memset(&u, 0, sizeof(u));
        int rc = users_parse_roles(j, &u, err, sizeof(err));
        if (rc != cases[i].rc)
            fail_msg("%s: %d (%s)", cases[i].json, rc, err);
        if (rc == 0)
            assert_int_equal(u.nroles, cases[i].n);
        json_decref(j);
    }
    assert_int_equal(users_parse_roles(NULL, &u, err, sizeof(err)), SW_E_INVAL);
}

static void test_email_validation(void **state)
{
    assert_true(users_email_valid("a@b"));
    assert_true(users_email_valid("alice.smith+tag@example.co.uk"));
    assert_false(users_email_valid(""));
    assert_false(users_email_valid("@b"));
    assert_false(users_email_valid("a@"));
    assert_false(users_email_valid("ab"));
    assert_false(users_email_valid("a@@b"));
    assert_false(users_email_valid("a@b@c"));
    assert_false(users_email_valid("a b@c"));
    assert_false(users_email_valid("a\n@c"));
    assert_false(users_email_valid("\xc3\xa9@c"));
    char big[300];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[10] = '@';
    assert_false(users_email_valid(big));
}

static void test_html_answers_carry_security_headers(void **state)
{
    struct req r;
    memset(&r, 0, sizeof(r));
    static const char page[] = "<!doctype html><title>x</title>";
    http_static(&r, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
    const char *csp = MHD_get_response_header(r.resp, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_string_equal(MHD_get_response_header(r.resp, "X-Frame-Options"), "DENY");
    assert_string_equal(MHD_get_response_header(r.resp, "Referrer-Policy"), "no-referrer");
    assert_string_equal(MHD_get_response_header(r.resp, "X-Content-Type-Options"), "nosniff");
    MHD_destroy_response(r.resp);

    /* JSON needs no CSP, but keeps nosniff */
    memset(&r, 0, sizeof(r));
    http_json(&r, 200, json_object());
    assert_null(MHD_get_response_header(r.resp, "Content-Security-Policy"));
    assert_string_equal(MHD_get_response_header(r.resp, "X-Content-Type-Options"), "nosniff");
    MHD_destroy_response(r.resp);
}

static void test_audit_entry_from_request(void **state)
{
    struct req r;
    struct audit_entry e;
    memset(&r, 0, sizeof(r));
    r.now = 1234;
    snprintf(r.who.actor, sizeof(r.who.actor), "user:alice");
    json_t *before = json_pack("{s:i, s:n}", "b", 1, "a", "");
    json_t *after = json_pack("{s:s}", "x", "y");
    audit_entry_init(&e, &r, "A", "policy.update", "policy:A", before, after);
    assert_string_equal(e.a.actor, "user:alice");
    assert_string_equal(e.a.tenant_id, "A");
    assert_int_equal(e.a.at, 1234);
    assert_string_equal(e.a.before, "{\"a\":null,\"b\":1}");    /* sorted, compact */
    assert_string_equal(e.a.after, "{\"x\":\"y\"}");
    audit_entry_release(&e);
    json_decref(before);
    json_decref(after);

    memset(&r, 0, sizeof(r));
    audit_entry_init(&e, &r, NULL, "session.login_failed", NULL, NULL, NULL);
    assert_string_equal(e.a.actor, "anonymous");
    assert_string_equal(e.a.tenant_id, "");
    assert_null(e.a.before);
    assert_null(e.a.after);
    audit_entry_release(&e);
}

static void test_random_secrets(void **state)
{
    char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
    auth_random_secret(AUTH_SESSION_PREFIX, a);
    auth_random_secret(AUTH_SESSION_PREFIX, b);
    assert_int_equal(strlen(a), AUTH_TOKEN_LEN);
    assert_int_equal(strncmp(a, "sws_", 4), 0);
    assert_string_not_equal(a, b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_hash_and_verify),
        cmocka_unit_test(test_principal_from_roles),
        cmocka_unit_test(test_role_rules),
        cmocka_unit_test(test_email_validation),
        cmocka_unit_test(test_html_answers_carry_security_headers),
        cmocka_unit_test(test_audit_entry_from_request),
        cmocka_unit_test(test_random_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
