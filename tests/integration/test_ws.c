/* GET /api/v1/sla/ws end to end: the real binary, raw TCP sockets speaking
 * WebSocket by hand (RFC 6455: client frames masked, server frames not).
 * Messages come from the periodic metrics push, its interval shortened
 * through SLAWATCH_WS_METRICS_INTERVAL_MS (no scheduler needed). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ---- a tiny WebSocket client ------------------------------------------- */

struct wsc {
    int fd;
    size_t len;                 /* bytes waiting in buf */
    uint8_t buf[1 << 16];
};

struct frame {
    int op;
    size_t len;
    char data[1 << 15];         /* NUL-terminated */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tcp_connect(struct sw_server *s, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)     /* before connect: it sets the advertised window */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Reads more into c->buf, waiting up to timeout_ms. 1 data, 0 timeout, -1 EOF. */
static int fill(struct wsc *c, int timeout_ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n <= 0)
        return 0;
    if (c->len == sizeof(c->buf))
        fail_msg("client buffer full");
    ssize_t k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (k <= 0)
        return -1;
    c->len += (size_t)k;
    return 1;
}

/* Sends a handshake (request line + headers + extra raw bytes) and reads the
 * answer's head.  Returns the status; head gets the header block, body the
 * body of a non-101 answer (Content-Length).  On 101 c->fd stays open and
 * the bytes after the head stay in c->buf. */
static int ws_handshake(struct sw_server *s, struct wsc *c, const char *path, const char *token,
                        const char *headers, const void *extra, size_t extra_len, int rcvbuf,
                        char *head, size_t headlen, json_t **body)
{
    memset(c, 0, offsetof(struct wsc, buf));
    c->fd = tcp_connect(s, rcvbuf);
    char req[2048];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%s%s\r\n",
                     path, s->port, token ? "Authorization: Bearer " : "", token ? token : "",
                     token ? "\r\n" : "", headers);
    assert_true(n > 0 && (size_t)n + extra_len < sizeof(req));
    if (extra_len)
        memcpy(req + n, extra, extra_len);
    assert_int_equal(send(c->fd, req, (size_t)n + extra_len, MSG_NOSIGNAL),
                     (ssize_t)((size_t)n + extra_len));
    char *end = NULL;
    int64_t deadline = now_ms() + 5000;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
        if (now_ms() > deadline || fill(c, 100) < 0)
            fail_msg("no HTTP answer to the handshake");
    }
    size_t hl = (size_t)(end - (char *)c->buf) + 4;
    int status = atoi((char *)c->buf + 9);
    if (head) {
        snprintf(head, headlen, "%.*s", (int)hl, (char *)c->buf);
    }
    memmove(c->buf, c->buf + hl, c->len - hl);
    c->len -= hl;
    if (status == 101)
        return status;
    /* the error body */
    const char *cl = strcasestr(head ? head : "", "\r\nContent-Length:");
    size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
    while (c->len < want && now_ms() < deadline)
        if (fill(c, 100) < 0)
            break;
    if (body)
        *body = json_loadb((char *)c->buf, c->len, 0, NULL);
    close(c->fd);
    c->fd = -1;
    return status;
}

static const char *std_headers(void)
{
    return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: " RFC_KEY "\r\n";
}

/* A masked client frame into out; returns its length. */
static size_t frame_build(uint8_t *out, int op, const void *payload, size_t len)
{
    size_t n = 0;
    out[n++] = (uint8_t)(0x80 | op);
    if (len < 126)
        out[n++] = (uint8_t)(0x80 | len);
    else {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    }
    uint8_t mask[4] = {0x12, 0x34, 0x56, (uint8_t)rand()};
    memcpy(out + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        out[n++] = ((const uint8_t *)payload)[i] ^ mask[i % 4];
    return n;
}

static void ws_send(struct wsc *c, int op, const void *payload, size_t len)
{
    uint8_t f[70000];
    size_t n = frame_build(f, op, payload, len);
    assert_int_equal(send(c->fd, f, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* One server frame within timeout_ms: 1, 0 on timeout, -1 on EOF. */
static int ws_read(struct wsc *c, int timeout_ms, struct frame *f)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        if (c->len >= 2) {
            assert_true((c->buf[1] & 0x80) == 0);   /* server frames are not masked */
            size_t hl = 2, len = c->buf[1] & 0x7f;
            if (len == 126) {
                hl = 4;
                len = c->len >= 4 ? (size_t)c->buf[2] << 8 | c->buf[3] : SIZE_MAX;
            } else if (len == 127) {
                hl = 10;
                len = 0;
                for (int i = 0; i < 8 && c->len >= 10; i++)
                    len = len << 8 | c->buf[2 + i];
                if (c->len < 10)
                    len = SIZE_MAX;
            }
            if (len != SIZE_MAX && c->len >= hl + len) {
                assert_true(len < sizeof(f->data));
                f->op = c->buf[0] & 0x0f;
                f->len = len;
                memcpy(f->data, c->buf + hl, len);
                f->data[len] = '\0';
                memmove(c->buf, c->buf + hl + len, c->len - hl - len);
                c->len -= hl + len;
                return 1;
            }
        }
        int64_t left = deadline - now_ms();
        int r = fill(c, left > 0 ? (int)left : 0);
        if (r < 0)
            return -1;
        if (r == 0 && now_ms() >= deadline)
            return 0;
    }
}

/* The next text frame (answering server pings), or fails. */
static json_t *ws_next_json(struct wsc *c, int timeout_ms)
{
    struct frame *f = malloc(sizeof(*f));
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        int r = ws_read(c, left > 0 ? (int)left : 0, f);
        if (r <= 0)
            fail_msg("no text message within %d ms (%s)", timeout_ms, r < 0 ? "EOF" : "timeout");
        if (f->op == 0x9) {
            ws_send(c, 0xA, f->data, f->len);
            continue;
        }
        if (f->op == 0x1) {
            json_t *j = json_loadb(f->data, f->len, 0, NULL);
            assert_non_null(j);
            free(f);
            return j;
        }
    }
}

static void ws_close_fd(struct wsc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static struct wsc *ws_new(void)
{
    struct wsc *c = calloc(1, sizeof(*c));
    c->fd = -1;
    return c;
}

/* Opens a WebSocket for tenant with token; fails the test unless 101. */
static struct wsc *ws_open(struct sw_server *s, const char *tenant, const char *token, int rcvbuf)
{
    struct wsc *c = ws_new();
    char path[256], head[2048];
    snprintf(path, sizeof(path), "/api/v1/sla/ws?tenant_id=%s", tenant);
    int st = ws_handshake(s, c, path, token, std_headers(), NULL, 0, rcvbuf, head, sizeof(head),
                          NULL);
    if (st != 101)
        fail_msg("handshake answered %d", st);
    return c;
}

/* ---- fixtures ----------------------------------------------------------- */

struct fx {
    struct sw_server s;
    char viewer_a[128];
};

static struct fx *start(void **state, const char *const *env)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    srv_init(&fx->s);
    srv_start(&fx->s, NULL, env);
    it_make_tenant(&fx->s, "ta");
    it_make_tenant(&fx->s, "tb");
    it_make_token(&fx->s, "viewer", "ta", fx->viewer_a, sizeof(fx->viewer_a));
    *state = fx;
    return fx;
}

static const char *const fast_env[] = {"SLAWATCH_WS_METRICS_INTERVAL_MS=100", NULL};

static int setup(void **state)
{
    start(state, fast_env);
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    if (fx->s.pid > 0)
        assert_int_equal(srv_stop(&fx->s), 0);
    srv_cleanup(&fx->s);
    free(fx);
    return 0;
}

/* slawatch_ws_clients from /metrics */
static long ws_gauge(struct sw_server *s)
{
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/metrics", NULL, NULL, &r), 200);
    const char *p = strstr(r.body, "\nslawatch_ws_clients ");
    assert_non_null(p);
    long v = atol(p + strlen("\nslawatch_ws_clients "));
    http_free(&r);
    return v;
}

static void wait_gauge(struct sw_server *s, long want, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    long v;
    while ((v = ws_gauge(s)) != want) {
        if (now_ms() > deadline)
            fail_msg("slawatch_ws_clients is %ld, want %ld", v, want);
        usleep(20000);
    }
}

/* ---- tests -------------------------------------------------------------- */

static void test_handshake(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct wsc *c = ws_new();
    char head[2048];
    json_t *body = NULL;

    /* the right answer, RFC 6455's own example key */
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a,
                                  std_headers(), NULL, 0, 0, head, sizeof(head), NULL), 101);
    assert_non_null(strstr(head, "HTTP/1.1 101 "));
    assert_non_null(strcasestr(head, "\r\nUpgrade: websocket\r\n"));
    assert_non_null(strcasestr(head, "\r\nConnection: Upgrade\r\n"));
    assert_non_null(strstr(head, "\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n"));
    ws_close_fd(c);

    /* no token: 401; another tenant's: 404; no tenant: 422 */
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", NULL, std_headers(), NULL,
                                  0, 0, head, sizeof(head), &body), 401);
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "error"), "code")),
                        "unauthorized");
    json_decref(body);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", "swt_nope", std_headers(),
                                  NULL, 0, 0, head, sizeof(head), NULL), 401);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=tb", fx->viewer_a,
                                  std_headers(), NULL, 0, 0, head, sizeof(head), &body), 404);
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "error"), "code")),
                        "not_found");
    json_decref(body);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws", fx->viewer_a, std_headers(), NULL, 0,
                                  0, head, sizeof(head), NULL), 422);

    /* bad handshakes */
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a,
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\n",
                                  NULL, 0, 0, head, sizeof(head), &body), 400);
    json_t *e = json_object_get(body, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "bad_request");
    assert_string_equal(json_string_value(json_object_get(e, "field")), "Sec-WebSocket-Key");
    json_decref(body);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a,
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n",
                                  NULL, 0, 0, head, sizeof(head), NULL), 400);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a,
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 8\r\n"
                                  "Sec-WebSocket-Key: " RFC_KEY "\r\n",
                                  NULL, 0, 0, head, sizeof(head), &body), 426);
    assert_non_null(strcasestr(head, "\r\nSec-WebSocket-Version: 13\r\n"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "error"), "code")),
                        "upgrade_required");
    json_decref(body);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a, "", NULL, 0,
                                  0, head, sizeof(head), NULL), 426);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a,
                                  "Upgrade: websocket\r\nConnection: keep-alive\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: " RFC_KEY "\r\n",
                                  NULL, 0, 0, head, sizeof(head), NULL), 426);
    free(c);

    /* the metrics count the upgrade as a 101 */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/metrics", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "slawatch_http_requests_total{method=\"GET\","
                                   "route=\"/api/v1/sla/ws\",status=\"101\"} 1"));
    http_free(&r);
}

/* Two clients of ta, one of tb: each sees its tenant's metrics, never the
 * other's; the count and the timestamp are right. */
static void test_delivery_by_tenant(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct wsc *a1 = ws_open(s, "ta", fx->viewer_a, 0);
    struct wsc *a2 = ws_open(s, "ta", ADMIN_TOKEN, 0);
    struct wsc *b = ws_open(s, "tb", ADMIN_TOKEN, 0);
    wait_gauge(s, 3, 2000);

    struct wsc *cs[3] = {a1, a2, b};
    const char *want[3] = {"ta", "ta", "tb"};
    int got[3] = {0};
    int64_t end = now_ms() + 700;
    while (now_ms() < end) {
        for (int i = 0; i < 3; i++) {
            json_t *m = ws_next_json(cs[i], 1000);
            assert_string_equal(json_string_value(json_object_get(m, "type")), "metrics");
            assert_string_equal(json_string_value(json_object_get(m, "tenant_id")), want[i]);
            json_int_t n = json_integer_value(json_object_get(m, "clients"));
            if (got[i] > 1)     /* the first may predate the others' arrival */
                assert_int_equal(n, i < 2 ? 2 : 1);
            const char *at = json_string_value(json_object_get(m, "at"));
            assert_non_null(at);
            /* 2026-11-22T10:00:00.123Z, within a few seconds of now */
            assert_int_equal(strlen(at), 24);
            assert_int_equal(at[19], '.');
            struct tm tm = {0};
            assert_non_null(strptime(at, "%Y-%m-%dT%H:%M:%S", &tm));
            int64_t t = (int64_t)timegm(&tm) * 1000 + atoi(at + 20);
            assert_true(llabs(wall_ms() - t) < 5000);
            json_decref(m);
            got[i]++;
        }
    }
    /* ~7 messages each at 100 ms in 700 ms; at least a few */
    for (int i = 0; i < 3; i++)
        assert_true(got[i] >= 3);
    for (int i = 0; i < 3; i++) {
        ws_close_fd(cs[i]);
        free(cs[i]);
    }
    wait_gauge(s, 0, 2000);
}

/* The dashboard's way in: the session cookie.  A browser page elsewhere
 * could ride that cookie (no CORS for WebSockets): an Origin that is not
 * this host is refused. */
static void test_session_cookie(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/users", ADMIN_TOKEN,
                         "{\"id\":\"dash\",\"email\":\"dash@example.com\","
                         "\"password\":\"dashboard password 1\","
                         "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"ta\"}]}", NULL),
                     201);
    assert_int_equal(api(s, "POST", "/api/v1/session", NULL,
                         "{\"email\":\"dash@example.com\","
                         "\"password\":\"dashboard password 1\"}", &r),
                     200);
    char sc[512], cookie[512];
    assert_non_null(http_resp_header(&r, "Set-Cookie", sc, sizeof(sc)));
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    http_free(&r);

    struct wsc *c = ws_new();
    char hdrs[1024], head[2048];
    /* same origin (and no Origin: not a browser) */
    snprintf(hdrs, sizeof(hdrs), "%sCookie: %s\r\nOrigin: http://127.0.0.1:%d\r\n",
             std_headers(), cookie, s->port);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", NULL, hdrs, NULL, 0, 0,
                                  head, sizeof(head), NULL), 101);
    json_decref(ws_next_json(c, 1000));
    ws_close_fd(c);
    snprintf(hdrs, sizeof(hdrs), "%sCookie: %s\r\n", std_headers(), cookie);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", NULL, hdrs, NULL, 0, 0,
                                  head, sizeof(head), NULL), 101);
    ws_close_fd(c);
    /* another site's page, or another tenant */
    snprintf(hdrs, sizeof(hdrs), "%sCookie: %s\r\nOrigin: https://evil.example\r\n",
             std_headers(), cookie);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", NULL, hdrs, NULL, 0, 0,
                                  head, sizeof(head), NULL), 403);
    snprintf(hdrs, sizeof(hdrs), "%sCookie: %s\r\n", std_headers(), cookie);
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=tb", NULL, hdrs, NULL, 0, 0,
                                  head, sizeof(head), NULL), 404);
    /* a bearer caller may come from any origin */
    snprintf(hdrs, sizeof(hdrs), "%sOrigin: https://tools.example\r\n", std_headers());
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a, hdrs, NULL,
                                  0, 0, head, sizeof(head), NULL), 101);
    ws_close_fd(c);
    free(c);
}

/* Frames sent together with the handshake (libmicrohttpd's extra_in) are
 * read; ping -> pong with the payload; {"type":"ping"} -> {"type":"pong"};
 * a close frame is answered with a close frame, then the server closes. */
static void test_ping_pong_close(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct wsc *c = ws_new();
    uint8_t extra[64];
    size_t n = frame_build(extra, 0x9, "early", 5);
    char head[2048];
    assert_int_equal(ws_handshake(s, c, "/api/v1/sla/ws?tenant_id=ta", fx->viewer_a,
                                  std_headers(), extra, n, 0, head, sizeof(head), NULL), 101);
    struct frame *f = malloc(sizeof(*f));
    bool pong = false;
    for (int i = 0; i < 20 && !pong; i++) {
        assert_int_equal(ws_read(c, 1000, f), 1);
        if (f->op == 0xA) {
            assert_string_equal(f->data, "early");
            pong = true;
        }
    }
    assert_true(pong);

    ws_send(c, 0x9, "hello", 5);
    pong = false;
    for (int i = 0; i < 20 && !pong; i++) {
        assert_int_equal(ws_read(c, 1000, f), 1);
        if (f->op == 0xA) {
            assert_string_equal(f->data, "hello");
            pong = true;
        }
    }
    assert_true(pong);

    const char *jp = "{\"type\":\"ping\"}";
    ws_send(c, 0x1, jp, strlen(jp));
    for (int i = 0;; i++) {
        assert_true(i < 20);
        json_t *m = ws_next_json(c, 1000);
        const char *type = json_string_value(json_object_get(m, "type"));
        bool done = !strcmp(type, "pong");
        json_decref(m);
        if (done)
            break;
    }
    /* other messages are ignored, the connection stays */
    ws_send(c, 0x1, "not json", 8);
    ws_send(c, 0x2, "\x01\x02", 2);
    json_decref(ws_next_json(c, 1000));

    uint8_t code[2] = {1000 >> 8, 1000 & 0xff};
    ws_send(c, 0x8, code, 2);
    bool closed = false;
    for (int i = 0; i < 50 && !closed; i++) {
        int r = ws_read(c, 1000, f);
        assert_int_equal(r, 1);
        if (f->op == 0x8) {
            assert_int_equal(f->len, 2);
            assert_int_equal((uint8_t)f->data[0] << 8 | (uint8_t)f->data[1], 1000);
            closed = true;
        }
    }
    assert_true(closed);
    assert_int_equal(ws_read(c, 2000, f), -1);     /* then EOF */
    ws_close_fd(c);
    free(c);
    free(f);
    wait_gauge(s, 0, 2000);
}

/* Reads what fast has waiting (messages and pings), returns how many
 * text messages; fails on EOF. */
static int drain(struct wsc *c)
{
    struct frame *f = malloc(sizeof(*f));
    int n = 0, r;
    while ((r = ws_read(c, 0, f)) == 1)
        if (f->op == 0x1)
            n++;
    assert_int_equal(r, 0);
    free(f);
    return n;
}

/* A client that never reads (tiny receive window) delays nobody; once its
 * bounded queue is full (here: it floods pings whose pongs it never reads,
 * and the 10 ms metrics pile up), it is dropped. */
static void test_slow_client(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct wsc *slow = ws_open(s, "ta", fx->viewer_a, 1024);
    struct wsc *fast1 = ws_open(s, "ta", fx->viewer_a, 0);
    struct wsc *fast2 = ws_open(s, "tb", ADMIN_TOKEN, 0);
    wait_gauge(s, 3, 2000);

    /* 1: the slow one reads nothing for 2 s; the others get every tick */
    int64_t start = now_ms(), last1 = start, last2 = start, gap = 0;
    while (now_ms() - start < 2000) {
        struct wsc *fs[2] = {fast1, fast2};
        int64_t *last[2] = {&last1, &last2};
        for (int i = 0; i < 2; i++) {
            json_decref(ws_next_json(fs[i], 1000));
            int64_t t = now_ms();
            if (t - *last[i] > gap)
                gap = t - *last[i];
            *last[i] = t;
        }
    }
    long after = ws_gauge(s);
    print_message("longest gap for the others while one does not read: %lld ms; "
                  "it is %s\n", (long long)gap,
                  after == 2 ? "dropped already (its queue filled)" : "still connected");
    assert_true(gap < it_time_bound_ms(250));

    /* 2: it floods pings and still reads nothing: dropped */
    uint8_t ping[200];
    char payload[125];
    memset(payload, 'p', sizeof(payload));
    size_t pl = frame_build(ping, 0x9, payload, sizeof(payload));
    int64_t t0 = now_ms();
    bool dropped = false;
    int sent = 0;
    for (int round = 0; !dropped && now_ms() - t0 < 15000; round++) {
        for (int k = 0; k < 200; k++) {
            ssize_t w = send(slow->fd, ping, pl, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                usleep(1000);
                break;
            }
            if (w < 0) {
                dropped = true;     /* reset by the server */
                break;
            }
            /* a partial frame (a loaded machine): finish it, waiting for room,
             * or the stream would be corrupt; an error means we were dropped */
            size_t done = (size_t)w;
            while (done < pl && !dropped) {
                struct pollfd pfd = {slow->fd, POLLOUT, 0};
                if (poll(&pfd, 1, 200) < 0)
                    break;
                ssize_t w2 = send(slow->fd, ping + done, pl - done, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w2 > 0)
                    done += (size_t)w2;
                else if (w2 < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                    dropped = true;
                else if (ws_gauge(s) == 2)
                    dropped = true;
            }
            sent++;
        }
        drain(fast1);
        drain(fast2);
        if (round % 20 == 0 && ws_gauge(s) == 2)
            dropped = true;
    }
    wait_gauge(s, 2, 5000);
    print_message("dropped after %d unanswered pings, %lld ms\n", sent,
                  (long long)(now_ms() - t0));
    /* the others are still served.  Not within one 10 ms tick: a metrics
     * pass that took over 100 ms during the flood (PostgreSQL under the
     * sanitizers on a loaded CI machine) puts the next one 9 passes away
     * (hub_ticker_next), so allow a few seconds. */
    drain(fast1);
    drain(fast2);
    json_decref(ws_next_json(fast1, (int)it_time_bound_ms(5000)));
    json_decref(ws_next_json(fast2, (int)it_time_bound_ms(5000)));
    /* the slow one finds its connection gone once it reads */
    struct frame *f = malloc(sizeof(*f));
    int r;
    int64_t deadline = now_ms() + 10000;
    while ((r = ws_read(slow, 1000, f)) == 1 && now_ms() < deadline)
        ;
    assert_int_equal(r, -1);
    free(f);
    ws_close_fd(slow);
    ws_close_fd(fast1);
    ws_close_fd(fast2);
    free(slow);
    free(fast1);
    free(fast2);
}

static const char *const slow_env[] = {"SLAWATCH_WS_METRICS_INTERVAL_MS=10",
                                       "SLAWATCH_WS_MAX_QUEUE_MSGS=16", NULL};

static int setup_slow(void **state)
{
    start(state, slow_env);
    return 0;
}

/* The server pings; a client that answers stays (past the HTTP idle
 * timeout, which must not apply to upgraded connections), a silent one is
 * dropped after the pong timeout. */
static void test_keepalive(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct wsc *good = ws_open(s, "ta", fx->viewer_a, 0);
    struct wsc *mute = ws_open(s, "tb", ADMIN_TOKEN, 0);
    struct frame *f = malloc(sizeof(*f));
    int pings = 0;
    bool mute_gone = false;
    int64_t start = now_ms();
    while (now_ms() - start < 2500) {
        int r = ws_read(good, 50, f);
        assert_true(r >= 0);
        if (r == 1 && f->op == 0x9) {
            pings++;
            ws_send(good, 0xA, f->data, f->len);
        }
        while (!mute_gone && (r = ws_read(mute, 0, f)) != 0)
            if (r < 0)
                mute_gone = true;     /* read, never answered */
    }
    print_message("pings answered: %d; silent client dropped: %s\n", pings,
                  mute_gone ? "yes" : "no");
    assert_true(pings >= 5);
    assert_true(mute_gone);
    /* the good one still gets messages */
    json_decref(ws_next_json(good, 1000));
    assert_int_equal(ws_gauge(s), 1);
    free(f);
    ws_close_fd(good);
    ws_close_fd(mute);
    free(good);
    free(mute);
}

static const char *const keepalive_env[] = {
    "SLAWATCH_WS_METRICS_INTERVAL_MS=100", "SLAWATCH_WS_PING_INTERVAL_MS=200",
    "SLAWATCH_WS_PONG_TIMEOUT_MS=700", "SLAWATCH_CONNECTION_TIMEOUT=1", NULL};

static int setup_keepalive(void **state)
{
    start(state, keepalive_env);
    return 0;
}

/* SIGTERM with clients connected: each gets a close frame 1001, the server
 * exits 0 (and, sanitized, without a leak). */
static void test_shutdown_with_clients(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    struct wsc *cs[4];
    for (int i = 0; i < 4; i++)
        cs[i] = ws_open(s, i % 2 ? "ta" : "tb", ADMIN_TOKEN, 0);
    wait_gauge(s, 4, 2000);
    json_decref(ws_next_json(cs[0], 1000));
    assert_int_equal(srv_stop(s), 0);
    struct frame *f = malloc(sizeof(*f));
    for (int i = 0; i < 4; i++) {
        int r, saw = 0;
        while ((r = ws_read(cs[i], 2000, f)) == 1)
            if (f->op == 0x8) {
                assert_true(f->len >= 2);
                assert_int_equal((uint8_t)f->data[0] << 8 | (uint8_t)f->data[1], 1001);
                saw = 1;
            }
        assert_int_equal(r, -1);
        assert_true(saw);
        ws_close_fd(cs[i]);
        free(cs[i]);
    }
    free(f);
}

/* 200 dashboards at once: all connect, all get a metrics message counting
 * them all, promptly. */
static void test_load_200(void **state)
{
    struct fx *fx = *state;
    struct sw_server *s = &fx->s;
    enum { N = 200 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < N + 64) {
        rl.rlim_cur = rl.rlim_max < N + 64 ? rl.rlim_max : N + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct wsc **cs = calloc(N, sizeof(*cs));
    int64_t t0 = now_ms();
    for (int i = 0; i < N; i++)
        cs[i] = ws_open(s, "ta", fx->viewer_a, 0);
    int64_t t1 = now_ms();
    wait_gauge(s, N, 5000);
    int full = 0;
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 50; k++) {
            json_t *m = ws_next_json(cs[i], 2000);
            json_int_t n = json_integer_value(json_object_get(m, "clients"));
            json_decref(m);
            if (n == N) {
                full++;
                break;
            }
        }
    }
    print_message("%d clients connected in %lld ms; %d saw clients=%d\n", N,
                  (long long)(t1 - t0), full, N);
    assert_int_equal(full, N);
    for (int i = 0; i < N; i++) {
        ws_close_fd(cs[i]);
        free(cs[i]);
    }
    free(cs);
    wait_gauge(s, 0, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_by_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_pong_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_client, setup_slow, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive, setup_keepalive, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_with_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_200, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
