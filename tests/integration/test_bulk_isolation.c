/* Bulk imports do not starve interactive requests.
 *
 *   - two concurrent NDJSON imports (tens of thousands of lines each) run on
 *     the bulk workers, not on the two HTTP threads: GETs on keep-alive
 *     connections spread over both HTTP threads keep being answered quickly
 *     while the imports upload, parse and write;
 *   - imports are bounded per tenant and in all: beyond, 429 with
 *     Retry-After, decided from the headers (before the body is read); a
 *     slot frees when its import ends;
 *   - an import's answer is unchanged (accepted, duplicates, errors). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_raw.h"

#define LINES 100000
#define KEEPALIVE 8

/* Alerts created now (no created_at): nothing due for the scheduler while
 * the test measures (an import of long-breached history keeps it busy for
 * seconds, which is another test's subject). */
static char *ndjson(const char *tenant, size_t lines, size_t *len)
{
    size_t cap = lines * 160 + 1, n = 0;
    char *b = malloc(cap);
    for (size_t i = 0; i < lines; i++)
        n += (size_t)snprintf(b + n, cap - n,
                              "{\"id\":\"%s-%06zu\",\"tenant_id\":\"%s\",\"severity\":\"high\","
                              "\"title\":\"bulk alert %zu\",\"source\":\"test\"}\n",
                              tenant, i, tenant, i);
    *len = n;
    return b;
}

struct import {
    struct sw_server *s;
    const char *tenant;
    char *body;
    size_t len;
    long status;
    long long accepted;
    atomic_bool done;
};

static void *import_main(void *arg)
{
    struct import *im = arg;
    struct http_resp r;
    http_req(im->s, "POST", "/api/v1/alerts/bulk", ADMIN_TOKEN, "application/x-ndjson", im->body,
             im->len, &r);
    im->status = r.status;
    im->accepted = json_integer_value(json_object_get(r.json, "accepted"));
    http_free(&r);
    http_thread_done();
    atomic_store(&im->done, true);
    return NULL;
}

/* One GET on an open keep-alive connection: ms to its 200 (10 s at most). */
static int timed_get(int fd)
{
    static const char get[] = "GET /api/v1/tenants/c HTTP/1.1\r\nHost: h\r\n"
                              "Authorization: Bearer " ADMIN_TOKEN "\r\n\r\n";
    char buf[4096];
    int64_t t0 = raw_now_ms();
    if (raw_send(fd, get, sizeof(get) - 1) < 0)
        return 99999;
    raw_read(fd, buf, sizeof(buf), 10000, true, NULL);
    if (raw_status(buf) != 200)
        return 99999;
    return (int)(raw_now_ms() - t0);
}

static void test_imports_do_not_starve_gets(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    it_make_tenant(s, "c");
    /* keep-alive connections before the imports: libmicrohttpd spreads
     * them over its two threads, so some share a thread with an import */
    int fds[KEEPALIVE];
    for (int i = 0; i < KEEPALIVE; i++) {
        fds[i] = raw_connect(s, NULL);
        assert_true(fds[i] >= 0);
        assert_true(timed_get(fds[i]) < 99999);
    }
    struct import im[2] = {{.s = s, .tenant = "a"}, {.s = s, .tenant = "b"}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        im[i].body = ndjson(im[i].tenant, LINES, &im[i].len);
        pthread_create(&th[i], NULL, import_main, &im[i]);
    }
    int worst = 0, n = 0;
    raw_sleep_ms(200);
    while (!atomic_load(&im[0].done) || !atomic_load(&im[1].done)) {
        for (int i = 0; i < KEEPALIVE; i++) {
            int ms = timed_get(fds[i]);
            n++;
            if (ms > worst)
                worst = ms;
        }
        raw_sleep_ms(50);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        free(im[i].body);
        assert_int_equal(im[i].status, 200);
        assert_int_equal(im[i].accepted, LINES);
    }
    for (int i = 0; i < KEEPALIVE; i++)
        close(fds[i]);
    print_message("during two imports of %d lines: %d GETs, the slowest %d ms\n", LINES, n,
                  worst);
    assert_true(n >= KEEPALIVE);
    assert_true(worst < 2000);      /* on the HTTP threads: seconds; on the workers: ~0.1 s */
}

static int small_limits_setup(void **state)
{
    static const char *const env[] = {"SLAWATCH_BULK_MAX_PER_TENANT=1",
                                      "SLAWATCH_BULK_MAX_CONCURRENT=2", NULL};
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    srv_start(s, NULL, env);
    *state = s;
    return 0;
}

/* An import whose body never finishes: it holds its slot. */
static int hold_import(struct sw_server *s, const char *token)
{
    int fd = raw_connect(s, NULL);
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST /api/v1/alerts/bulk HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{\"id\":",
                     token);
    assert_int_equal(raw_send(fd, head, (size_t)n), 0);
    raw_sleep_ms(300);      /* admitted from its headers */
    return fd;
}

static long post_bulk(struct sw_server *s, const char *token, const char *tenant,
                      struct http_resp *r)
{
    char body[256];
    int n = snprintf(body, sizeof(body),
                     "{\"id\":\"x-%s\",\"tenant_id\":\"%s\",\"severity\":\"low\"}\n", tenant,
                     tenant);
    http_req(s, "POST", "/api/v1/alerts/bulk", token, "application/x-ndjson", body, (size_t)n, r);
    return r->status;
}

static void expect_429(struct sw_server *s, const char *token, const char *tenant)
{
    struct http_resp r;
    char v[32];
    assert_int_equal(post_bulk(s, token, tenant, &r), 429);
    assert_error_shape(&r, "too_many_requests", NULL);
    assert_non_null(http_resp_header(&r, "Retry-After", v, sizeof(v)));
    assert_true(atoi(v) >= 1);
    http_free(&r);
}

static void test_bounded_per_tenant_and_in_all(void **state)
{
    struct sw_server *s = *state;
    char ta[128], tb[128], tc[128];
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    it_make_tenant(s, "c");
    it_make_token(s, "ingest", "a", ta, sizeof(ta));
    it_make_token(s, "ingest", "b", tb, sizeof(tb));
    it_make_token(s, "ingest", "c", tc, sizeof(tc));

    int fa = hold_import(s, ta);
    expect_429(s, ta, "a");             /* tenant a has its one */
    int fb = hold_import(s, tb);
    expect_429(s, tc, "c");             /* two in all */

    /* a 429 is decided before the body: a large one is not read first */
    char big_head[512], buf[4096];
    int fd = raw_connect(s, NULL);
    int n = snprintf(big_head, sizeof(big_head),
                     "POST /api/v1/alerts/bulk HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/x-ndjson\r\nContent-Length: 50000000\r\n"
                     "Expect: 100-continue\r\n\r\n", tc);
    assert_int_equal(raw_send(fd, big_head, (size_t)n), 0);
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    assert_int_equal(raw_status(buf), 429);
    close(fd);

    /* a's held import goes away: its slot frees */
    close(fa);
    struct http_resp r;
    long st = 0;
    for (int i = 0; i < 50 && st != 200; i++) {
        st = post_bulk(s, ta, "a", &r);
        if (st != 200) {
            http_free(&r);
            raw_sleep_ms(100);
        }
    }
    assert_int_equal(st, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 1);
    http_free(&r);
    close(fb);
}

/* SIGTERM with imports running and queued, and no drain time: the queued
 * one is cancelled, the running one stops between two chunks, both answer
 * 503 (resend) if the connection is still there, and the server exits 0
 * (no leak, no use after free under the sanitizers). */
static int no_drain_setup(void **state)
{
    static const char *const env[] = {"SLAWATCH_DRAIN_TIMEOUT=0", NULL};
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    srv_start(s, NULL, env);
    *state = s;
    return 0;
}

static void test_shutdown_during_imports(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    struct import im[2] = {{.s = s, .tenant = "a"}, {.s = s, .tenant = "b"}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        im[i].body = ndjson(im[i].tenant, LINES, &im[i].len);
        pthread_create(&th[i], NULL, import_main, &im[i]);
    }
    raw_sleep_ms(700);
    assert_int_equal(srv_stop(s), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        free(im[i].body);
        print_message("import %d: %ld\n", i, im[i].status);
        assert_true(im[i].status == 200 || im[i].status == 503 || im[i].status == -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_imports_do_not_starve_gets, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_bounded_per_tenant_and_in_all, small_limits_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_during_imports, no_drain_setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
