/* The foundation end to end: the real binary, a temp database, HTTP. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_raw.h"

/* A token of that role in that tenant, made through the API. */
static void test_ops_endpoints_need_no_token(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/readyz", NULL, NULL, &r), 200);
    http_free(&r);
    api(s, "GET", "/api/v1/tenants", ADMIN_TOKEN, NULL, NULL);
    assert_int_equal(api(s, "GET", "/metrics", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "slawatch_http_requests_total{method=\"GET\","
                                   "route=\"/api/v1/tenants\",status=\"200\"} 1"));
    assert_non_null(strstr(r.body, "slawatch_http_request_duration_seconds_bucket"));
    assert_non_null(strstr(r.body, "slawatch_store_errors_total 0"));
    http_free(&r);
}

static void test_auth_required(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char buf[64];
    assert_int_equal(api(s, "GET", "/api/v1/tenants", NULL, NULL, &r), 401);
    assert_error_shape(&r, "unauthorized", NULL);
    assert_non_null(http_resp_header(&r, "WWW-Authenticate", buf, sizeof(buf)));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants", "swt_not-a-real-token", NULL, &r), 401);
    assert_error_shape(&r, "unauthorized", NULL);
    http_free(&r);
    /* another scheme */
    http_req(s, "GET", "/api/v1/tenants", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    http_free(&r);
}

static void test_tenants_and_projects(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"acme\",\"name\":\"Acme Bank\",\"template\":\"premium\"}", &r),
                     201);
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), "acme");
    assert_string_equal(json_string_value(json_object_get(r.json, "template")), "premium");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"acme\",\"name\":\"again\"}", &r), 409);
    assert_error_shape(&r, "conflict", NULL);
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/acme/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"Web estate\"}", NULL), 201);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/acme/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"Web estate\"}", NULL), 409);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/ghost/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"x\"}", NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/acme", ADMIN_TOKEN, NULL, &r), 200);
    json_t *projects = json_object_get(r.json, "projects");
    assert_int_equal(json_array_size(projects), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(projects, 0), "id")),
                        "web");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/acme/projects", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/nobody", ADMIN_TOKEN, NULL, &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
}

/* Tenants are cached by the store: every write to them shows at once. */
static void test_tenant_changes_show_at_once(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"c1\",\"name\":\"Before\"}", NULL), 201);
    assert_int_equal(api(s, "GET", "/api/v1/tenants", ADMIN_TOKEN, NULL, NULL), 200);
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/c1", ADMIN_TOKEN,
                         "{\"name\":\"After\",\"timezone\":\"Europe/Paris\"}", NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/c1", ADMIN_TOKEN, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "After");
    assert_string_equal(json_string_value(json_object_get(r.json, "timezone")), "Europe/Paris");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/c1/apply-template", ADMIN_TOKEN,
                         "{\"template_name\":\"government\"}", NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/tenants", ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "template")),
                        "government");
    http_free(&r);
    /* a new tenant is listed at once, an unknown one is not found */
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"c2\",\"name\":\"Two\"}", NULL), 201);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/c2", ADMIN_TOKEN, NULL, NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/c3", ADMIN_TOKEN, NULL, NULL), 404);
}

static void expect_422(struct sw_server *s, const char *path, const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, "POST", path, ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("%s %s: expected 422, got %ld: %s", path, body, st, r.body ? r.body : "");
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void test_bad_input(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char big_id[200];
    memset(big_id, 'a', 129);
    big_id[129] = '\0';
    char body[512];

    expect_422(s, "/api/v1/tenants", "{\"name\":\"x\"}", "id");
    expect_422(s, "/api/v1/tenants", "{\"id\":\"\",\"name\":\"x\"}", "id");
    expect_422(s, "/api/v1/tenants", "{\"id\":42,\"name\":\"x\"}", "id");
    expect_422(s, "/api/v1/tenants", "{\"id\":\"a/b\",\"name\":\"x\"}", "id");
    expect_422(s, "/api/v1/tenants", "{\"id\":\"a\\u0001b\",\"name\":\"x\"}", "id");
    expect_422(s, "/api/v1/tenants", "{\"id\":\"caf\\u00e9\",\"name\":\"x\"}", "id");
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"x\"}", big_id);
    expect_422(s, "/api/v1/tenants", body, "id");
    big_id[128] = '\0';     /* exactly 128 is fine */
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"x\"}", big_id);
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, body, NULL), 201);
    expect_422(s, "/api/v1/tenants", "{\"id\":\"t1\"}", "name");
    expect_422(s, "/api/v1/tenants", "{\"id\":\"t1\",\"name\":[]}", "name");
    expect_422(s, "/api/v1/tenants", "{\"id\":\"t1\",\"name\":\"x\",\"template\":\"gold\"}",
               "template");
    expect_422(s, "/api/v1/tokens", "{\"name\":\"x\",\"role\":\"god\"}", "role");

    /* malformed JSON, not an object, duplicate keys: 400 */
    const char *bad[] = {"{", "[1,2]", "\"x\"", "{\"id\":\"a\",\"id\":\"b\",\"name\":\"n\"}",
                         "{\"id\":\"a\" \"name\":1}", "nul"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, bad[i], &r), 400);
        assert_error_shape(&r, "bad_request", NULL);
        http_free(&r);
    }
    /* empty body where one is required */
    http_req(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, NULL, "", 0, &r);
    assert_int_equal(r.status, 400);
    http_free(&r);
    /* wrong media type */
    http_req(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, "text/plain", "{}", 2, &r);
    assert_int_equal(r.status, 415);
    assert_error_shape(&r, "unsupported_media_type", NULL);
    http_free(&r);
    /* too large: 2 MiB against a 1 MiB limit */
    size_t n = 2u << 20;
    char *huge = malloc(n);
    memset(huge, ' ', n);
    huge[0] = '{';
    huge[n - 1] = '}';
    http_req(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, NULL, huge, n, &r);
    assert_int_equal(r.status, 413);
    assert_error_shape(&r, "too_large", NULL);
    http_free(&r);
    free(huge);
    /* unknown path, wrong method */
    assert_int_equal(api(s, "GET", "/api/v1/nothing", ADMIN_TOKEN, NULL, &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "DELETE", "/api/v1/tenants", ADMIN_TOKEN, NULL, &r), 405);
    char allow[64];
    assert_non_null(http_resp_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "POST, GET");
    http_free(&r);
    /* a NUL byte hidden in the query is refused, not truncated */
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN,
                         "{\"id\":\"a\",\"name\":\"A\"}", NULL), 201);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=a%00b", ADMIN_TOKEN, NULL, &r), 400);
    assert_error_shape(&r, "bad_request", NULL);
    http_free(&r);
    /* an unknown tenant is not found, even for a platform_admin who sees all */
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=ghost", ADMIN_TOKEN, NULL, &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=ghost", ADMIN_TOKEN, NULL,
                         NULL), 404);
    /* nesting deep enough to exhaust a recursive parser: refused, still serving */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    http_req(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, NULL, deep, 2 * depth, &r);
    assert_int_equal(r.status, 400);
    http_free(&r);
    free(deep);
    /* still serving */
    assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, NULL), 200);
}

static void test_huge_header_refused(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    size_t n = 100 * 1024;
    char *tok = malloc(n + 1);
    memset(tok, 'x', n);
    tok[n] = '\0';
    http_req(s, "GET", "/api/v1/tenants", tok, NULL, NULL, 0, &r);
    if (!(r.status == 431 || r.status == -1))
        fail_msg("huge header: got %ld", r.status);
    http_free(&r);
    free(tok);
    assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, NULL), 200);
}

static void test_tenant_isolation(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char viewer_a[128], admin_a[128], ingest_a[128];
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    it_make_token(s, "viewer", "a", viewer_a, sizeof(viewer_a));
    it_make_token(s, "tenant_admin", "a", admin_a, sizeof(admin_a));
    it_make_token(s, "ingest", "a", ingest_a, sizeof(ingest_a));

    /* lists only its own tenant */
    assert_int_equal(api(s, "GET", "/api/v1/tenants", viewer_a, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), "a");
    http_free(&r);
    /* another tenant's object answers 404, even to its admin */
    assert_int_equal(api(s, "GET", "/api/v1/tenants/b", viewer_a, NULL, &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/b", admin_a, NULL, NULL), 404);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/b/projects", admin_a,
                         "{\"id\":\"p\",\"name\":\"p\"}", NULL), 404);
    assert_int_equal(api(s, "POST", "/api/v1/tokens", admin_a,
                         "{\"name\":\"x\",\"role\":\"viewer\",\"tenant_id\":\"b\"}", NULL), 404);
    /* its own tenant: reading yes, writing per role */
    assert_int_equal(api(s, "GET", "/api/v1/tenants/a", viewer_a, NULL, NULL), 200);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/a/projects", viewer_a,
                         "{\"id\":\"p\",\"name\":\"p\"}", &r), 403);
    assert_error_shape(&r, "forbidden", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/a", ingest_a, NULL, NULL), 403);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/a/projects", admin_a,
                         "{\"id\":\"p\",\"name\":\"p\"}", NULL), 201);
    /* platform-only operations */
    assert_int_equal(api(s, "POST", "/api/v1/tenants", admin_a,
                         "{\"id\":\"c\",\"name\":\"c\"}", NULL), 403);
    assert_int_equal(api(s, "POST", "/api/v1/tokens", admin_a,
                         "{\"name\":\"x\",\"role\":\"platform_admin\"}", NULL), 403);
    assert_int_equal(api(s, "POST", "/api/v1/tokens", viewer_a,
                         "{\"name\":\"x\",\"role\":\"viewer\",\"tenant_id\":\"a\"}", NULL), 403);
    /* a tenant admin may mint tokens in its own tenant */
    assert_int_equal(api(s, "POST", "/api/v1/tokens", admin_a,
                         "{\"name\":\"x\",\"role\":\"analyst\",\"tenant_id\":\"a\"}", NULL), 201);
}

static void test_token_cli_and_restart(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "cli");
    char tok[256];
    const char *bin = getenv("SLAWATCH_BIN");
    const char *argv[] = {bin, "token", "create", "--db", s->db, "--role", "viewer",
                          "--tenant", "cli", "--name", "from-cli", NULL};
    assert_int_equal(run_capture(argv, NULL, tok, sizeof(tok)), 0);
    assert_true(strncmp(tok, "swt_", 4) == 0);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/cli", tok, NULL, NULL), 200);
    /* unknown tenant: refused */
    const char *argv2[] = {bin, "token", "create", "--db", s->db, "--role", "viewer",
                           "--tenant", "nope", NULL};
    char junk[256];
    assert_int_not_equal(run_capture(argv2, NULL, junk, sizeof(junk)), 0);

    /* SIGTERM exits 0; a restart on the same database keeps everything */
    assert_int_equal(srv_stop(s), 0);
    srv_start(s, NULL, NULL);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/cli", tok, NULL, NULL), 200);
}

/* kill -9 during a stream of writes: every write answered 2xx survives. */
struct writer {
    struct sw_server *s;
    int acked[100000];
    int nacked;
    volatile int stop;
};

static void *write_loop(void *ud)
{
    struct writer *w = ud;
    char body[128];
    for (int i = 0; !w->stop && i < 100000; i++) {
        snprintf(body, sizeof(body), "{\"id\":\"p%d\",\"name\":\"project %d\"}", i, i);
        long st = api(w->s, "POST", "/api/v1/tenants/dur/projects", ADMIN_TOKEN, body, NULL);
        if (st == 201) {
            w->acked[w->nacked] = i;
            __atomic_store_n(&w->nacked, w->nacked + 1, __ATOMIC_RELEASE);
        }
        else if (st < 0)
            break;      /* the server is gone */
    }
    http_thread_done();
    return NULL;
}

static void test_kill9_loses_no_acknowledged_write(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "dur");
    struct writer *w = calloc(1, sizeof(*w));
    w->s = s;
    pthread_t th;
    pthread_create(&th, NULL, write_loop, w);
    /* kill once a few writes are acknowledged (not after a fixed time: a
       loaded machine may answer fewer than ten in 400 ms) */
    struct timespec ts = {0, 10 * 1000000};
    for (long waited = 0; __atomic_load_n(&w->nacked, __ATOMIC_ACQUIRE) <= 20; waited += 10) {
        if (waited > it_time_bound_ms(30000))
            fail_msg("fewer than 20 writes acknowledged in %ld ms", waited);
        nanosleep(&ts, NULL);
    }
    nanosleep(&ts, NULL);
    srv_kill9(s);
    pthread_join(th, NULL);
    assert_true(w->nacked > 10);

    srv_start(s, NULL, NULL);
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/tenants/dur/projects", ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    size_t n = json_array_size(items);
    assert_true(n >= (size_t)w->nacked);
    /* every acknowledged id is there */
    char *seen = calloc(100000, 1);
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
        seen[atoi(id + 1)] = 1;
    }
    for (int i = 0; i < w->nacked; i++)
        if (!seen[w->acked[i]])
            fail_msg("project p%d was answered 201 but is lost", w->acked[i]);
    printf("# %d acknowledged writes before kill -9, %zu rows after restart\n", w->nacked, n);
    free(seen);
    http_free(&r);
    free(w);
}

static void test_config_sources(void **state)
{
    struct sw_server *s = *state;
    assert_int_equal(srv_stop(s), 0);
    /* a config file sets the threads; a bad file refuses to start */
    char path[400], line[600];
    srv_path(s, "slawatch.conf", path, sizeof(path));
    FILE *f = fopen(path, "w");
    fprintf(f, "# test\nthreads = 3\nlog_level = \"warn\"\n");
    fclose(f);
    const char *args[] = {"--config", path, NULL};
    srv_start(s, args, NULL);
    assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, NULL), 200);
    assert_int_equal(srv_stop(s), 0);

    f = fopen(path, "w");
    fprintf(f, "threads = lots\n");
    fclose(f);
    const char *bin = getenv("SLAWATCH_BIN");
    const char *argv[] = {bin, "serve", "--listen", "127.0.0.1:0", "--db", s->db,
                          "--config", path, NULL};
    assert_int_equal(run_capture(argv, NULL, line, sizeof(line)), 2);
    const char *argv2[] = {bin, "serve", "--bogus", NULL};
    assert_int_equal(run_capture(argv2, NULL, line, sizeof(line)), 2);
    const char *argv3[] = {bin, "--version", NULL};
    assert_int_equal(run_capture(argv3, NULL, line, sizeof(line)), 0);
    assert_non_null(strstr(line, "slawatch"));
    srv_start(s, NULL, NULL);
}

/* SIGTERM: a request in flight is finished and answered, a connection
 * arriving meanwhile is closed without an answer, the server exits 0.
 * Five rounds, with traffic just before each: the stop once aborted
 * inside libmicrohttpd's quiesce (server_stop). */
static void test_sigterm_drains(void **state)
{
    struct sw_server *s = *state;
    char body[64], head[512], buf[4096];
    for (int round = 0; round < 5; round++) {
        snprintf(body, sizeof(body), "{\"id\":\"drain%d\",\"name\":\"Drained\"}", round);
        if (round > 0)
            srv_start(s, NULL, NULL);
        for (int i = 0; i < 20; i++)
            assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, NULL), 200);
        int fd = raw_connect(s, NULL);
        assert_true(fd >= 0);
        int hl = snprintf(head, sizeof(head),
                          "POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\n"
                          "Authorization: Bearer " ADMIN_TOKEN "\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                          strlen(body));
        assert_int_equal(raw_send(fd, head, (size_t)hl), 0);
        assert_int_equal(raw_send(fd, body, 5), 0);       /* the rest later */
        raw_sleep_ms(200);
        kill(s->pid, SIGTERM);

        /* a new connection is closed at once, with no answer */
        bool refused = false;
        for (int64_t end = raw_now_ms() + 5000; !refused && raw_now_ms() < end;) {
            int fd2 = raw_connect(s, NULL);
            if (fd2 < 0) {
                refused = true;
                break;
            }
            const char *get = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
            bool closed = false;
            size_t n = 0;
            if (raw_send(fd2, get, strlen(get)) == 0)
                n = raw_read(fd2, buf, sizeof(buf), 1000, true, &closed);
            else
                closed = true;
            close(fd2);
            refused = n == 0 && closed;
            if (!refused)
                raw_sleep_ms(50);       /* the signal not taken yet */
        }
        assert_true(refused);

        /* the request in flight completes */
        assert_int_equal(raw_send(fd, body + 5, strlen(body) - 5), 0);
        raw_read(fd, buf, sizeof(buf), 10000, true, NULL);
        assert_int_equal(raw_status(buf), 201);
        close(fd);
        assert_int_equal(srv_stop(s), 0);
    }
    srv_start(s, NULL, NULL);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/drain4", ADMIN_TOKEN, NULL, NULL), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ops_endpoints_need_no_token, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_auth_required, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_tenants_and_projects, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_changes_show_at_once, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_huge_header_refused, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_isolation, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_token_cli_and_restart, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_drains, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_loses_no_acknowledged_write, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_config_sources, it_server_setup, it_server_teardown),
    };
    return cmocka_run_group_tests_name("foundation", tests, NULL, NULL);
}
