/* HTTPS through libmicrohttpd's GnuTLS: --tls-cert/--tls-key with a
 * self-signed certificate made here by openssl, the `listening on https://`
 * contract, Secure session cookies, and refusals of half or bad settings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

extern char **environ;

#define PW "tls password 123"

struct tls_state {
    struct sw_server s;
    char cert[400], key[400];
};

/* A command from PATH with stdout and stderr to /dev/null; its exit status.
 * posix_spawnp: nothing runs in the child of this multithreaded process
 * before the exec (see harness.c). */
static int quiet_run(const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return 127;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int setup(void **state)
{
    struct tls_state *t = calloc(1, sizeof(*t));
    srv_init(&t->s);
    srv_path(&t->s, "cert.pem", t->cert, sizeof(t->cert));
    srv_path(&t->s, "key.pem", t->key, sizeof(t->key));
    const char *gen[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                         "/CN=localhost", "-keyout", t->key, "-out", t->cert, NULL};
    if (quiet_run(gen) != 0) {
        srv_cleanup(&t->s);
        free(t);
        skip();         /* no openssl: scripts/deps.sh installs it */
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tls_state *t = *state;
    if (!t)
        return 0;
    if (t->s.pid > 0)
        assert_int_equal(srv_stop(&t->s), 0);
    srv_cleanup(&t->s);
    free(t);
    return 0;
}

static void test_https_serves_and_cookies_are_secure(void **state)
{
    struct tls_state *t = *state;
    struct sw_server *s = &t->s;
    const char *args[] = {"--tls-cert", t->cert, "--tls-key", t->key, NULL};
    const char *env[] = {"SLAWATCH_PASSWORD_COST=min", NULL};
    srv_start(s, args, env);
    assert_true(s->tls);
    assert_int_equal(strncmp(s->base, "https://", 8), 0);

    struct http_resp r;
    char buf[512];
    assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, &r), 200);
    assert_non_null(http_resp_header(&r, "Strict-Transport-Security", buf, sizeof(buf)));
    assert_non_null(http_resp_header(&r, "X-Content-Type-Options", buf, sizeof(buf)));
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"A\",\"name\":\"A\"}", NULL), 201);
    assert_int_equal(api(s, "GET", "/api/v1/tenants", NULL, NULL, NULL), 401);
    assert_int_equal(api(s, "POST", "/api/v1/users", ADMIN_TOKEN,
                         "{\"id\":\"u\",\"email\":\"u@example.com\",\"password\":\"" PW "\","
                         "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]}", NULL), 201);
    assert_int_equal(api(s, "POST", "/api/v1/session", NULL,
                         "{\"email\":\"u@example.com\",\"password\":\"" PW "\"}", &r), 200);
    assert_non_null(http_resp_header(&r, "Set-Cookie", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "; Secure"));
    assert_non_null(strstr(buf, "HttpOnly"));
    http_free(&r);

    /* plain HTTP on the TLS port gets no answer of ours */
    struct sw_server plain = *s;
    snprintf(plain.base, sizeof(plain.base), "http://127.0.0.1:%d", s->port);
    http_req(&plain, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
    assert_true(r.status != 200);
    http_free(&r);
}

static void test_bad_tls_settings_refused(void **state)
{
    struct tls_state *t = *state;
    struct sw_server *s = &t->s;
    const char *bin = getenv("SLAWATCH_BIN");
    char out[512], notpem[400];
    bin = bin ? bin : "./slawatch";

    /* a certificate without its key (each under timeout(1): exit 2 is our
     * refusal, 124 would be a server that started anyway) */
    const char *half[] = {"/usr/bin/timeout", "10", bin, "serve", "--listen", "127.0.0.1:0", "--db", s->db,
                          "--tls-cert", t->cert, NULL};
    assert_int_equal(run_capture(half, NULL, out, sizeof(out)), 2);
    /* files that are not PEM, or missing */
    srv_path(s, "server.log", notpem, sizeof(notpem));
    FILE *f = fopen(notpem, "a");
    fputs("not a certificate\n", f);
    fclose(f);
    const char *bad[] = {"/usr/bin/timeout", "10", bin, "serve", "--listen", "127.0.0.1:0", "--db", s->db,
                         "--tls-cert", notpem, "--tls-key", t->key, NULL};
    assert_int_equal(run_capture(bad, NULL, out, sizeof(out)), 2);
    const char *missing[] = {"/usr/bin/timeout", "10", bin, "serve", "--listen", "127.0.0.1:0", "--db", s->db,
                             "--tls-cert", "/nonexistent/cert.pem", "--tls-key", t->key, NULL};
    assert_int_equal(run_capture(missing, NULL, out, sizeof(out)), 2);
    /* key and certificate that do not belong together */
    char cert2[400], key2[400];
    srv_path(s, "cert2.pem", cert2, sizeof(cert2));
    srv_path(s, "key2.pem", key2, sizeof(key2));
    const char *gen[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                         "/CN=other", "-keyout", key2, "-out", cert2, NULL};
    assert_int_equal(quiet_run(gen), 0);
    const char *mismatch[] = {"/usr/bin/timeout", "10", bin, "serve", "--listen", "127.0.0.1:0", "--db", s->db,
                              "--tls-cert", t->cert, "--tls-key", key2, NULL};
    assert_int_equal(run_capture(mismatch, NULL, out, sizeof(out)), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_https_serves_and_cookies_are_secure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_tls_settings_refused, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
