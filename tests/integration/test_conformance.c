/* HTTP/1.1 and WebSocket conformance at the edges curl never reaches:
 *   - RFC 9112 3.2: an HTTP/1.1 request without Host, with two, or with an
 *     invalid one answers 400 (HTTP/1.0 may omit it);
 *   - RFC 9112 3.2.2: an absolute-form target (`GET http://host/path`) is
 *     accepted and routed by its path; other schemes answer 400;
 *   - RFC 9110 8.6 / 15.4.5: a 304 has no body and no `Content-Length: 0`
 *     (a Content-Length, if sent, is the 200's), and the connection goes on;
 *   - RFC 6455 5.5, 7.4.1: a fragmented ping, a ping over 125 bytes, a close
 *     frame with a 1-byte body answer a close frame with status 1002. */
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

/* One raw request on a fresh connection; the answer in buf. */
static int one(struct sw_server *s, const char *req, char *buf, size_t cap)
{
    int fd = raw_connect(s, NULL);
    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, req, strlen(req)), 0);
    raw_read(fd, buf, cap, 5000, true, NULL);
    close(fd);
    return raw_status(buf);
}

static void expect_400_json(const char *buf)
{
    assert_int_equal(raw_status(buf), 400);
    const char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    json_t *j = json_loads(body + 4, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "bad_request");
    json_decref(j);
}

static void test_host_header(void **state)
{
    struct sw_server *s = *state;
    char buf[8192];
    one(s, "GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
    expect_400_json(buf);
    one(s, "GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", buf,
        sizeof(buf));
    expect_400_json(buf);
    one(s, "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", buf, sizeof(buf));
    expect_400_json(buf);
    one(s, "GET /healthz HTTP/1.1\r\nHost: user@evil.example\r\n\r\n", buf, sizeof(buf));
    expect_400_json(buf);
    /* a bad Host is refused before authentication or routing */
    one(s, "GET /api/v1/tenants HTTP/1.1\r\n\r\n", buf, sizeof(buf));
    expect_400_json(buf);

    assert_int_equal(one(s, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf, sizeof(buf)),
                     200);
    assert_int_equal(one(s, "GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", buf,
                         sizeof(buf)),
                     200);
    /* HTTP/1.0 has no Host requirement */
    assert_int_equal(one(s, "GET /healthz HTTP/1.0\r\n\r\n", buf, sizeof(buf)), 200);
}

static void test_absolute_form(void **state)
{
    struct sw_server *s = *state;
    char buf[8192], req[512];
    snprintf(req, sizeof(req), "GET http://127.0.0.1:%d/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
             s->port);
    assert_int_equal(one(s, req, buf, sizeof(buf)), 200);
    /* the target's authority wins over Host (RFC 9112 3.2.2); query kept */
    it_make_tenant(s, "acme");
    snprintf(req, sizeof(req),
             "GET HTTP://other.example/api/v1/tenants/acme?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer " ADMIN_TOKEN "\r\n\r\n");
    assert_int_equal(one(s, req, buf, sizeof(buf)), 200);
    assert_non_null(strstr(buf, "\"id\":\"acme\""));
    snprintf(req, sizeof(req),
             "GET http://h/api/v1/alerts?tenant_id=acme HTTP/1.1\r\nHost: h\r\n"
             "Authorization: Bearer " ADMIN_TOKEN "\r\n\r\n");
    assert_int_equal(one(s, req, buf, sizeof(buf)), 200);
    /* a missing path is "/" (a redirect to the dashboard) */
    assert_int_equal(one(s, "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", buf, sizeof(buf)), 302);
    /* unknown paths still 404, other schemes and authority-form 400 */
    assert_int_equal(one(s, "GET http://h/nope HTTP/1.1\r\nHost: h\r\n\r\n", buf, sizeof(buf)),
                     404);
    one(s, "GET ftp://h/healthz HTTP/1.1\r\nHost: h\r\n\r\n", buf, sizeof(buf));
    expect_400_json(buf);
    one(s, "GET http:///healthz HTTP/1.1\r\nHost: h\r\n\r\n", buf, sizeof(buf));
    expect_400_json(buf);
}

static void test_304_has_no_zero_length(void **state)
{
    struct sw_server *s = *state;
    char buf[1 << 17], etag[128], len200[32], len304[32];
    int fd = raw_connect(s, NULL);
    assert_true(fd >= 0);
    const char *get = "GET /sla-dashboard HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(raw_send(fd, get, strlen(get)), 0);
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    assert_int_equal(raw_status(buf), 200);
    assert_non_null(raw_header(buf, "ETag", etag, sizeof(etag)));
    assert_non_null(raw_header(buf, "Content-Length", len200, sizeof(len200)));
    assert_true(atoi(len200) > 0);

    char req[512];
    snprintf(req, sizeof(req), "GET /sla-dashboard HTTP/1.1\r\nHost: h\r\nIf-None-Match: %s\r\n\r\n",
             etag);
    assert_int_equal(raw_send(fd, req, strlen(req)), 0);
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    assert_int_equal(raw_status(buf), 304);
    if (raw_header(buf, "Content-Length", len304, sizeof(len304)))
        assert_string_equal(len304, len200);    /* never 0 */
    char v[128];
    assert_non_null(raw_header(buf, "ETag", v, sizeof(v)));
    assert_string_equal(strstr(buf, "\r\n\r\n") + 4, "");    /* no body */

    /* the same connection answers the next request cleanly: no stray body */
    assert_int_equal(raw_send(fd, get, strlen(get)), 0);
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    assert_int_equal(raw_status(buf), 200);
    close(fd);
}

/* ---- WebSocket ---------------------------------------------------------- */

static int ws_open(struct sw_server *s)
{
    int fd = raw_connect(s, NULL);
    assert_true(fd >= 0);
    char req[1024], buf[4096];
    snprintf(req, sizeof(req),
             "GET /api/v1/sla/ws?tenant_id=acme HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer " ADMIN_TOKEN "\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    assert_int_equal(raw_send(fd, req, strlen(req)), 0);
    raw_read(fd, buf, sizeof(buf), 5000, true, NULL);
    assert_int_equal(raw_status(buf), 101);
    return fd;
}

/* A masked client frame: first byte b0 (FIN, opcode), payload of len. */
static size_t frame(uint8_t *out, uint8_t b0, const uint8_t *payload, size_t len)
{
    size_t n = 0;
    out[n++] = b0;
    if (len < 126)
        out[n++] = (uint8_t)(0x80 | len);
    else {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    }
    static const uint8_t mask[4] = {1, 2, 3, 4};
    memcpy(out + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        out[n++] = payload[i] ^ mask[i % 4];
    return n;
}

/* Reads server frames until the connection ends; the close status, or -1
 * if no close frame came. */
static int close_status_after(int fd, const uint8_t *bytes, size_t n)
{
    assert_int_equal(raw_send(fd, bytes, n), 0);
    static char buf[1 << 16];
    bool closed;
    size_t len = raw_read(fd, buf, sizeof(buf), 5000, false, &closed);
    const uint8_t *p = (const uint8_t *)buf, *end = p + len;
    while (end - p >= 2) {
        size_t pl = p[1] & 0x7f, hl = 2;
        if (pl == 126) {
            pl = (size_t)p[2] << 8 | p[3];
            hl = 4;
        }
        if ((size_t)(end - p) < hl + pl)
            break;
        if ((p[0] & 0x0f) == 8)
            return pl >= 2 ? (p[hl] << 8 | p[hl + 1]) : 0;
        p += hl + pl;
    }
    return -1;
}

static void test_ws_protocol_errors_close_1002(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    uint8_t f[512], big[200];
    memset(big, 'x', sizeof(big));

    /* a ping without FIN (fragmented control frame) */
    int fd = ws_open(s);
    size_t n = frame(f, 0x09, (const uint8_t *)"hi", 2);
    assert_int_equal(close_status_after(fd, f, n), 1002);
    close(fd);

    /* a ping of 126 bytes (control frames carry at most 125) */
    fd = ws_open(s);
    n = frame(f, 0x89, big, 126);
    assert_int_equal(close_status_after(fd, f, n), 1002);
    close(fd);

    /* a close frame whose body is one byte (a status is two) */
    fd = ws_open(s);
    n = frame(f, 0x88, (const uint8_t *)"x", 1);
    assert_int_equal(close_status_after(fd, f, n), 1002);
    close(fd);

    /* the bad frame after a good one in the same segment: the good one is
     * still answered (pong), then the 1002 */
    fd = ws_open(s);
    n = frame(f, 0x89, (const uint8_t *)"ok", 2);
    n += frame(f + n, 0x09, (const uint8_t *)"no", 2);
    assert_int_equal(close_status_after(fd, f, n), 1002);
    close(fd);

    /* a well-formed close is echoed with its own status, not 1002 */
    fd = ws_open(s);
    uint8_t st[2] = {0x03, 0xe8};    /* 1000 */
    n = frame(f, 0x88, st, 2);
    assert_int_equal(close_status_after(fd, f, n), 1000);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_header, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_absolute_form, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_304_has_no_zero_length, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_ws_protocol_errors_close_1002, it_server_setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
