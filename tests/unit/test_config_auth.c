/* Unit tests: configuration precedence and parsing, roles and the one
 * permission check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"
#include "http/auth.h"
#include "http/http.h"

static void test_listen_parsing(void **state)
{
    char host[64];
    int port;
    assert_int_equal(cfg_parse_listen("127.0.0.1:8080", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(cfg_parse_listen("[::1]:0", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_true(cfg_parse_listen("8080", host, sizeof(host), &port) < 0);
    assert_true(cfg_parse_listen(":8080", host, sizeof(host), &port) < 0);
    assert_true(cfg_parse_listen("h:65536", host, sizeof(host), &port) < 0);
    assert_true(cfg_parse_listen("h:-1", host, sizeof(host), &port) < 0);
    assert_true(cfg_parse_listen("h:80x", host, sizeof(host), &port) < 0);
    assert_true(cfg_parse_listen("h:", host, sizeof(host), &port) < 0);
}

static void test_precedence_env_then_file(void **state)
{
    struct cfg c;
    char err[256], path[] = "/tmp/slawatch-cfg-XXXXXX";
    cfg_init(&c);
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.db, "sqlite:./slawatch.db");

    setenv("SLAWATCH_THREADS", "4", 1);
    setenv("SLAWATCH_DB", "sqlite:/tmp/env.db", 1);
    assert_int_equal(cfg_load_env(&c, err, sizeof(err)), 0);
    assert_int_equal(c.threads, 4);

    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\n  threads = 3  \ndb = \"sqlite:/tmp/file.db\" # trailing\n\n");
    fclose(f);
    assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.threads, 3);                 /* file beats env */
    assert_string_equal(c.db, "sqlite:/tmp/file.db");
    assert_int_equal(cfg_set(&c, "threads", "1", err, sizeof(err)), 0);
    assert_int_equal(c.threads, 1);                 /* a flag beats the file */

    setenv("SLAWATCH_THREADS", "zero", 1);
    assert_true(cfg_load_env(&c, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "SLAWATCH_THREADS"));
    unsetenv("SLAWATCH_THREADS");
    unsetenv("SLAWATCH_DB");
    unlink(path);
}

static void test_bad_values_named(void **state)
{
    struct cfg c;
    char err[256], path[] = "/tmp/slawatch-cfg-XXXXXX";
    cfg_init(&c);
    assert_true(cfg_set(&c, "threads", "0", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "threads", "-2", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "max_body_bytes", "12", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "log_level", "loud", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "colour", "blue", err, sizeof(err)) < 0);
    /* the WebSocket hub's settings, with their ranges */
    assert_int_equal(c.ws_ping_interval_ms, 30000);
    assert_int_equal(cfg_set(&c, "ws_ping_interval_ms", "1000", err, sizeof(err)), 0);
    assert_int_equal(c.ws_ping_interval_ms, 1000);
    assert_true(cfg_set(&c, "ws_max_queue_bytes", "10", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "ws_colour", "1", err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "colour"));
    assert_int_equal(cfg_set(&c, "db", "mysql://x", err, sizeof(err)), 0);
    assert_true(cfg_check(&c, err, sizeof(err)) < 0);

    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "listen = 127.0.0.1:1\nno equals sign here\n");
    fclose(f);
    assert_true(cfg_load_file(&c, path, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, ":2:"));           /* the line is named */
    unlink(path);
    assert_true(cfg_load_file(&c, "/nonexistent/slawatch.conf", err, sizeof(err)) < 0);
}

/* Issue #6 settings: TLS goes in pairs; login throttling, sessions and the
 * argon2 cost are checked like the rest, from flags, files and env. */
static void test_security_settings(void **state)
{
    struct cfg c;
    char err[256];
    cfg_init(&c);
    assert_string_equal(c.password_cost, "interactive");
    assert_int_equal(c.login_max_failures, 5);
    assert_int_equal(c.login_window_s, 900);
    assert_int_equal(c.login_lockout_s, 900);
    assert_int_equal(c.session_idle_s, 12 * 3600);
    assert_int_equal(c.session_lifetime_s, 7 * 86400);
    /* on by default: one address cannot take every connection slot */
    assert_int_equal(c.max_conn_per_ip, 512);
    assert_true(c.max_conn_per_ip > 0 && c.max_conn_per_ip * 4 <= c.max_connections);
    assert_int_equal(c.header_timeout_s, 20);
    assert_int_equal(c.request_timeout_s, 120);
    assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "header_timeout", "300", err, sizeof(err)), 0);
    assert_true(cfg_check(&c, err, sizeof(err)) < 0);       /* head longer than the whole */
    assert_int_equal(cfg_set(&c, "header_timeout", "20", err, sizeof(err)), 0);

    assert_int_equal(cfg_set(&c, "tls_cert", "/etc/ssl/cert.pem", err, sizeof(err)), 0);
    assert_true(cfg_check(&c, err, sizeof(err)) < 0);       /* a cert without its key */
    assert_non_null(strstr(err, "tls_key"));
    assert_int_equal(cfg_set(&c, "tls_key", "/etc/ssl/key.pem", err, sizeof(err)), 0);
    assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
    assert_string_equal(c.tls_key, "/etc/ssl/key.pem");

    assert_int_equal(cfg_set(&c, "password_cost", "min", err, sizeof(err)), 0);
    assert_true(cfg_set(&c, "password_cost", "cheap", err, sizeof(err)) < 0);
    assert_int_equal(cfg_set(&c, "login_max_failures", "3", err, sizeof(err)), 0);
    assert_true(cfg_set(&c, "login_max_failures", "0", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "login_lockout", "-1", err, sizeof(err)) < 0);
    assert_true(cfg_set(&c, "session_idle", "0", err, sizeof(err)) < 0);
    assert_int_equal(cfg_set(&c, "session_lifetime", "60", err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "max_connections_per_ip", "64", err, sizeof(err)), 0);
    assert_int_equal(c.max_conn_per_ip, 64);

    setenv("SLAWATCH_LOGIN_LOCKOUT", "7", 1);
    setenv("SLAWATCH_PASSWORD_COST", "moderate", 1);
    assert_int_equal(cfg_load_env(&c, err, sizeof(err)), 0);
    assert_int_equal(c.login_lockout_s, 7);
    assert_string_equal(c.password_cost, "moderate");
    unsetenv("SLAWATCH_LOGIN_LOCKOUT");
    unsetenv("SLAWATCH_PASSWORD_COST");
}

static struct auth_principal one_grant(enum sw_role role, const char *tenant)
{
    struct auth_principal p;
    memset(&p, 0, sizeof(p));
    p.ngrants = 1;
    p.grants[0].role = role;
    snprintf(p.grants[0].tenant_id, sizeof(p.grants[0].tenant_id), "%s", tenant);
    return p;
}

static void test_roles_and_scope(void **state)
{
    struct auth_principal admin = one_grant(ROLE_PLATFORM_ADMIN, "");
    struct auth_principal viewer = one_grant(ROLE_VIEWER, "a");
    struct auth_principal analyst = one_grant(ROLE_ANALYST, "a");
    struct auth_principal manager = one_grant(ROLE_MANAGER, "a");
    struct auth_principal ingest = one_grant(ROLE_INGEST, "a");
    struct auth_principal tadmin = one_grant(ROLE_TENANT_ADMIN, "a");

    assert_int_equal(auth_check(&admin, PERM_PLATFORM, NULL), 0);
    assert_int_equal(auth_check(&admin, PERM_CONFIGURE, "anything"), 0);
    assert_true(auth_sees_all(&admin));

    /* another tenant is invisible (404), whatever the role */
    assert_int_equal(auth_check(&viewer, PERM_READ, "b"), SW_E_NOTFOUND);
    assert_int_equal(auth_check(&tadmin, PERM_ADMIN, "b"), SW_E_NOTFOUND);
    /* own tenant: allowed or forbidden (403) by role */
    assert_int_equal(auth_check(&viewer, PERM_READ, "a"), 0);
    assert_int_equal(auth_check(&viewer, PERM_OPERATE, "a"), SW_E_DENIED);
    assert_int_equal(auth_check(&analyst, PERM_OPERATE, "a"), 0);
    assert_int_equal(auth_check(&analyst, PERM_CONFIGURE, "a"), SW_E_DENIED);
    assert_int_equal(auth_check(&manager, PERM_CONFIGURE, "a"), 0);
    assert_int_equal(auth_check(&manager, PERM_ADMIN, "a"), SW_E_DENIED);
    assert_int_equal(auth_check(&ingest, PERM_INGEST, "a"), 0);
    assert_int_equal(auth_check(&ingest, PERM_READ, "a"), SW_E_DENIED);
    assert_int_equal(auth_check(&tadmin, PERM_ADMIN, "a"), 0);
    /* platform operations belong to platform_admin alone */
    assert_int_equal(auth_check(&tadmin, PERM_PLATFORM, NULL), SW_E_DENIED);
    assert_int_equal(auth_check(&tadmin, PERM_PLATFORM, "a"), SW_E_DENIED);

    enum sw_role r;
    assert_int_equal(auth_role_parse("manager", &r), 0);
    assert_int_equal(r, ROLE_MANAGER);
    assert_true(auth_role_parse("root", &r) < 0);
    assert_true(auth_role_parse("none", &r) < 0);
}

static void test_tokens(void **state)
{
    char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
    uint8_t ha[SW_TOKEN_HASH_LEN], ha2[SW_TOKEN_HASH_LEN], hb[SW_TOKEN_HASH_LEN];
    auth_token_generate(a);
    auth_token_generate(b);
    assert_int_equal(strlen(a), AUTH_TOKEN_LEN);
    assert_memory_equal(a, AUTH_TOKEN_PREFIX, 4);
    assert_string_not_equal(a, b);
    auth_token_hash(a, ha);
    auth_token_hash(a, ha2);
    auth_token_hash(b, hb);
    assert_memory_equal(ha, ha2, SW_TOKEN_HASH_LEN);
    assert_memory_not_equal(ha, hb, SW_TOKEN_HASH_LEN);
}

static void test_id_validation(void **state)
{
    char s[200];
    assert_true(http_id_valid("acme-1_x.y:z"));
    assert_true(http_id_valid("with space"));
    assert_false(http_id_valid(""));
    assert_false(http_id_valid("a/b"));
    assert_false(http_id_valid("tab\there"));
    assert_false(http_id_valid("caf\xc3\xa9"));
    memset(s, 'x', 128);
    s[128] = '\0';
    assert_true(http_id_valid(s));
    s[128] = 'x';
    s[129] = '\0';
    assert_false(http_id_valid(s));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_parsing),
        cmocka_unit_test(test_precedence_env_then_file),
        cmocka_unit_test(test_bad_values_named),
        cmocka_unit_test(test_security_settings),
        cmocka_unit_test(test_roles_and_scope),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_id_validation),
    };
    return cmocka_run_group_tests_name("config_auth", tests, NULL, NULL);
}
