/* Slow clients cannot starve the others, with the default settings.
 *
 *   - slow-loris: 4,200 connections from one address, each sending its
 *     request head a byte at a time, take no more than the per-address
 *     limit (max_connections_per_ip, on by default); a normal client from
 *     another address keeps being answered within 2 s (>= 90 %).  The
 *     attack comes from 127.0.0.2 (any 127/8 address is loopback): the
 *     normal client is 127.0.0.1;
 *   - a request whose head (header_timeout) or whole body (request_timeout)
 *     takes longer gets 408 and its connection closed, however steadily it
 *     trickles; an idle keep-alive connection is closed without a 408;
 *     a WebSocket and a request sent in time are left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_raw.h"

#define ATTACK 4200

static bool contains_408(const char *buf)
{
    if (raw_status(buf) != 408)
        return false;
    const char *body = strstr(buf, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
    const char *code =
        json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    bool ok = code && !strcmp(code, "request_timeout");
    json_decref(j);
    return ok;
}

/* One GET /healthz on a fresh connection from 127.0.0.1: ms to the 200,
 * or -1 if it was refused, reset or took over 2 s. */
static int normal_request(struct sw_server *s)
{
    int64_t t0 = raw_now_ms();
    int fd = raw_connect(s, NULL);
    if (fd < 0)
        return -1;
    const char *get = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
    char buf[4096];
    int ms = -1;
    if (raw_send(fd, get, strlen(get)) == 0) {
        raw_read(fd, buf, sizeof(buf), 2000, true, NULL);
        if (raw_status(buf) == 200)
            ms = (int)(raw_now_ms() - t0);
    }
    close(fd);
    return ms;
}

static void test_slowloris_from_one_address(void **state)
{
    struct sw_server *s = *state;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < ATTACK + 256) {
        rl.rlim_cur = rl.rlim_max < ATTACK + 256 ? rl.rlim_max : ATTACK + 256;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < ATTACK + 256)
        skip();

    static int fds[ATTACK];
    size_t n = 0;
    for (; n < ATTACK; n++)
        if ((fds[n] = raw_connect_nb(s, "127.0.0.2")) < 0)
            break;
    assert_true(n > ATTACK / 2);
    raw_sleep_ms(500);
    /* every slow client starts a request, then sends a byte now and then */
    static const char start[] = "GET /healthz HTTP/1.1\r\nHost: h\r\n";
    static const char drip[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (size_t i = 0; i < n; i++)     /* refused ones fail here: fine */
        if (fds[i] >= 0 && send(fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            close(fds[i]);
            fds[i] = -1;
        }

    int answered = 0, total = 0, worst = 0;
    for (int round = 0; round < 30; round++) {
        int ms = normal_request(s);
        total++;
        if (ms >= 0 && ms <= 2000)
            answered++;
        if (ms > worst)
            worst = ms;
        /* the slow clients' next byte */
        for (size_t i = 0; i < n; i++)
            if (fds[i] >= 0 &&
                send(fds[i], drip + round % 60, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                close(fds[i]);
                fds[i] = -1;
            }
        raw_sleep_ms(100);
    }
    size_t alive = 0;
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            alive++;
            close(fds[i]);
        }
    print_message("slow-loris: %zu connections tried, %zu still open; normal client: %d/%d "
                  "answered within 2 s (worst %d ms)\n",
                  n, alive, answered, total, worst);
    assert_true(answered * 10 >= total * 9);
}

/* Deadlines short enough to test: head 2 s, whole request 4 s. */
static int short_deadlines_setup(void **state)
{
    static const char *const env[] = {"SLAWATCH_HEADER_TIMEOUT=2", "SLAWATCH_REQUEST_TIMEOUT=4",
                                      NULL};
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    srv_start(s, NULL, env);
    *state = s;
    return 0;
}

/* Sends text a byte every step_ms until the peer closes or the text ends;
 * what came back in buf.  Returns ms until the peer closed, -1 if it never did. */
static int trickle(int fd, const char *text, int step_ms, char *buf, size_t cap)
{
    int64_t t0 = raw_now_ms();
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; text[i]; i++) {
        bool closed = false;
        size_t k = raw_read(fd, buf + len, cap - len, step_ms, false, &closed);
        len += k;
        if (closed)
            return (int)(raw_now_ms() - t0);
        if (send(fd, text + i, 1, MSG_NOSIGNAL) < 0)
            break;
    }
    bool closed = false;
    len += raw_read(fd, buf + len, cap - len, 3000, false, &closed);
    return closed ? (int)(raw_now_ms() - t0) : -1;
}

static void test_slow_head_gets_408(void **state)
{
    struct sw_server *s = *state;
    int fd = raw_connect(s, NULL);
    const char *line = "GET /healthz HTTP/1.1\r\n";
    assert_int_equal(raw_send(fd, line, strlen(line)), 0);
    char buf[4096];
    /* 40 header bytes at 250 ms: 10 s, never idle, far past the 2 s */
    int ms = trickle(fd, "Host: h\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", 250, buf,
                     sizeof(buf));
    close(fd);
    print_message("slow head: closed after %d ms: %.60s\n", ms, buf);
    assert_true(ms >= 1500 && ms <= 4000);
    assert_true(contains_408(buf));
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/metrics", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "slawatch_http_request_timeouts_total 1\n"));
    http_free(&r);
}

static void test_slow_body_gets_408(void **state)
{
    struct sw_server *s = *state;
    int fd = raw_connect(s, NULL);
    const char *head = "POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
                       ADMIN_TOKEN "\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n";
    assert_int_equal(raw_send(fd, head, strlen(head)), 0);
    char buf[4096];
    int ms = trickle(fd, "{\"id\":\"slow\",\"name\":\"a very slow upload, one byte at a time....\"}",
                     250, buf, sizeof(buf));
    close(fd);
    print_message("slow body: closed after %d ms: %.60s\n", ms, buf);
    assert_true(ms >= 3000 && ms <= 6500);
    assert_true(contains_408(buf));
    /* nothing was created */
    assert_int_equal(api(s, "GET", "/api/v1/tenants/slow", ADMIN_TOKEN, NULL, NULL), 404);
}

static void test_idle_keepalive_closed_quietly(void **state)
{
    struct sw_server *s = *state;
    int fd = raw_connect(s, NULL);
    const char *get = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
    char buf[4096];
    assert_int_equal(raw_send(fd, get, strlen(get)), 0);
    raw_read(fd, buf, sizeof(buf), 2000, true, NULL);
    assert_int_equal(raw_status(buf), 200);
    bool closed = false;
    int64_t t0 = raw_now_ms();
    size_t k = raw_read(fd, buf, sizeof(buf), 6000, false, &closed);
    assert_true(closed);
    assert_int_equal(k, 0);         /* no unsolicited 408 on an idle connection */
    assert_true(raw_now_ms() - t0 < 4000);
    close(fd);
}

static void test_prompt_requests_and_websockets_unharmed(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    /* a head sent in pieces but within 2 s */
    int fd = raw_connect(s, NULL);
    char buf[4096];
    trickle(fd, "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n", 30, buf, sizeof(buf));
    assert_int_equal(raw_status(buf), 200);     /* then closed idle: no 408 after it */
    assert_null(strstr(buf, " 408 "));
    close(fd);

    /* a WebSocket outlives both deadlines */
    fd = raw_connect(s, NULL);
    const char *up = "GET /api/v1/sla/ws?tenant_id=acme HTTP/1.1\r\nHost: h\r\n"
                     "Authorization: Bearer " ADMIN_TOKEN "\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_int_equal(raw_send(fd, up, strlen(up)), 0);
    raw_read(fd, buf, sizeof(buf), 3000, true, NULL);
    assert_int_equal(raw_status(buf), 101);
    raw_sleep_ms(5000);
    /* a masked ping "hi": the pong comes back */
    const unsigned char ping[] = {0x89, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    assert_int_equal(raw_send(fd, ping, sizeof(ping)), 0);
    bool closed = false;
    size_t k = raw_read(fd, buf, sizeof(buf), 2000, false, &closed);
    assert_false(closed);
    bool pong = false;
    for (size_t i = 0; i + 1 < k; i++)
        pong |= (unsigned char)buf[i] == 0x8a && buf[i + 1] == 2;
    assert_true(pong);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slowloris_from_one_address, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_slow_head_gets_408, short_deadlines_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_slow_body_gets_408, short_deadlines_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_idle_keepalive_closed_quietly,
                                        short_deadlines_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_prompt_requests_and_websockets_unharmed,
                                        short_deadlines_setup, it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
