/* Bodies over the limit get their 413, whatever the client does:
 *   - a Content-Length body over the limit, sent in full without waiting
 *     (curl without Expect, Node): the server reads and drops it, then
 *     answers 413; the client never sees EPIPE or a reset;
 *   - a chunked body that passes the limit in flight: 413 too (it used to
 *     get no answer at all);
 *   - `Expect: 100-continue`: 413 at once, no 100, nothing to send;
 *   - an answer known before the body (404, 401) waits for the body too.
 * The connection stays usable after a read-and-dropped body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_raw.h"

#define MIB (1024 * 1024)

/* A JSON-looking body of n bytes. */
static char *blob(size_t n)
{
    char *b = malloc(n + 1);
    memset(b, ' ', n);
    b[0] = '{';
    b[n - 1] = '}';
    b[n] = '\0';
    return b;
}

static void expect_413(const char *buf)
{
    assert_int_equal(raw_status(buf), 413);
    const char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    json_t *j = json_loads(body + 4, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "too_large");
    json_decref(j);
}

static void test_content_length_over_limit_sent_in_full(void **state)
{
    struct sw_server *s = *state;
    size_t n = 3 * MIB;
    char *body = blob(n);
    /* as a client that writes the whole body before reading (Node, curl
     * without Expect): every byte must go out, then the 413 comes back */
    for (int round = 0; round < 3; round++) {
        int fd = raw_connect(s, NULL);
        assert_true(fd >= 0);
        char head[512];
        int hl = snprintf(head, sizeof(head),
                          "POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
                          ADMIN_TOKEN "\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n", n);
        assert_int_equal(raw_send(fd, head, (size_t)hl), 0);
        assert_int_equal(raw_send(fd, body, n), 0);     /* no EPIPE, no reset */
        char buf[8192];
        raw_read(fd, buf, sizeof(buf), 10000, true, NULL);
        expect_413(buf);
        /* the body was consumed: the connection goes on */
        const char *get = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_int_equal(raw_send(fd, get, strlen(get)), 0);
        raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
        assert_int_equal(raw_status(buf), 200);
        close(fd);
    }

    /* libcurl, the harness's client, with its Expect turned off */
    struct http_resp r;
    http_req(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, NULL, body, n, &r);
    assert_int_equal(r.status, 413);
    assert_error_shape(&r, "too_large", NULL);
    http_free(&r);
    free(body);
}

static void test_chunked_over_limit(void **state)
{
    struct sw_server *s = *state;
    int fd = raw_connect(s, NULL);
    assert_true(fd >= 0);
    const char *head = "POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
                       ADMIN_TOKEN "\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    assert_int_equal(raw_send(fd, head, strlen(head)), 0);
    size_t chunk = 256 * 1024;
    char *data = blob(chunk);
    char line[32];
    for (int i = 0; i < 8; i++) {       /* 2 MiB against the 1 MiB limit */
        int ll = snprintf(line, sizeof(line), "%zx\r\n", chunk);
        assert_int_equal(raw_send(fd, line, (size_t)ll), 0);
        assert_int_equal(raw_send(fd, data, chunk), 0);
        assert_int_equal(raw_send(fd, "\r\n", 2), 0);
    }
    assert_int_equal(raw_send(fd, "0\r\n\r\n", 5), 0);
    char buf[8192];
    raw_read(fd, buf, sizeof(buf), 10000, true, NULL);
    expect_413(buf);
    close(fd);
    free(data);

    /* a chunked body within the limit is still fine */
    fd = raw_connect(s, NULL);
    const char *ok = "POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
                     ADMIN_TOKEN "\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"
                     "10\r\n{\"id\":\"c1\",\"name\r\n"
                     "7\r\n\":\"C1\"}\r\n0\r\n\r\n";
    assert_int_equal(raw_send(fd, ok, strlen(ok)), 0);
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    assert_int_equal(raw_status(buf), 201);
    close(fd);
}

static void test_expect_continue_answered_at_once(void **state)
{
    struct sw_server *s = *state;
    int fd = raw_connect(s, NULL);
    assert_true(fd >= 0);
    const char *head = "POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
                       ADMIN_TOKEN "\r\nContent-Type: application/json\r\n"
                       "Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n";
    assert_int_equal(raw_send(fd, head, strlen(head)), 0);
    char buf[8192];
    int64_t t0 = raw_now_ms();
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    expect_413(buf);                    /* not "100 Continue" */
    assert_true(raw_now_ms() - t0 < 2000);
    close(fd);
}

/* An answer decided before the body (unknown path, bad token) waits for
 * the body like the 413 does. */
static void test_early_answers_wait_for_the_body(void **state)
{
    struct sw_server *s = *state;
    size_t n = 2 * MIB;
    char *body = blob(n);
    static const struct {
        const char *path, *auth;
        int want;
    } cases[] = {
        {"/api/v1/nope", "Authorization: Bearer " ADMIN_TOKEN "\r\n", 404},
        {"/api/v1/alerts/bulk", "Authorization: Bearer wrong\r\n", 401},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        int fd = raw_connect(s, NULL);
        char head[512], buf[8192];
        int hl = snprintf(head, sizeof(head),
                          "POST %s HTTP/1.1\r\nHost: h\r\n%sContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n", cases[c].path, cases[c].auth, n);
        assert_int_equal(raw_send(fd, head, (size_t)hl), 0);
        assert_int_equal(raw_send(fd, body, n), 0);
        raw_read(fd, buf, sizeof(buf), 10000, true, NULL);
        assert_int_equal(raw_status(buf), cases[c].want);
        close(fd);
    }
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_content_length_over_limit_sent_in_full,
                                        it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_chunked_over_limit, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue_answered_at_once, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_early_answers_wait_for_the_body, it_server_setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
