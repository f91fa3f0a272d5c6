/* harness_ws.c: see harness_ws.h. */
#include "harness_ws.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct ws_client {
    int fd;
    size_t len;
    uint8_t buf[1 << 17];
};

int64_t ws_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 data, 0 timeout, -1 EOF/error. */
static int fill(struct ws_client *c, int timeout_ms)
{
    if (c->len == sizeof(c->buf))
        return -1;
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    ssize_t k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (k <= 0)
        return -1;
    c->len += (size_t)k;
    return 1;
}

static void send_frame(struct ws_client *c, int op, const void *payload, size_t len)
{
    uint8_t f[256];
    size_t n = 0;
    if (len > 125)
        len = 125;
    f[n++] = (uint8_t)(0x80 | op);
    f[n++] = (uint8_t)(0x80 | len);
    uint8_t mask[4] = {0x21, 0x43, 0x65, 0x87};
    memcpy(f + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        f[n++] = ((const uint8_t *)payload)[i] ^ mask[i % 4];
    if (send(c->fd, f, n, MSG_NOSIGNAL) < 0)
        return;
}

struct ws_client *ws_client_open(struct sw_server *s, const char *tenant, const char *token)
{
    return ws_client_open_h(s, tenant, token, NULL);
}

struct ws_client *ws_client_open_h(struct sw_server *s, const char *tenant, const char *token,
                                   const char *headers)
{
    struct ws_client *c = calloc(1, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        goto fail;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET /api/v1/sla/ws?tenant_id=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "%s%s%sUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "%s\r\n", tenant, s->port, token ? "Authorization: Bearer " : "",
                     token ? token : "", token ? "\r\n" : "", headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof(req))
        goto fail;
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        goto fail;
    int64_t deadline = mono_ms() + 5000;
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (mono_ms() > deadline || fill(c, 100) < 0)
            goto fail;
    if (c->len < 12 || memcmp(c->buf + 9, "101", 3) != 0)
        goto fail;
    size_t hl = (size_t)(end - (char *)c->buf) + 4;
    memmove(c->buf, c->buf + hl, c->len - hl);
    c->len -= hl;
    return c;
fail:
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    return NULL;
}

/* One frame: 1, 0 timeout, -1 EOF.  *payload malloc'ed, NUL-terminated. */
static int read_frame(struct ws_client *c, int64_t deadline, int *op, char **payload,
                      size_t *plen)
{
    for (;;) {
        if (c->len >= 2) {
            size_t hl = 2, len = c->buf[1] & 0x7f;
            bool ok = true;
            if (len == 126) {
                hl = 4;
                ok = c->len >= 4;
                if (ok)
                    len = (size_t)c->buf[2] << 8 | c->buf[3];
            } else if (len == 127) {
                hl = 10;
                ok = c->len >= 10;
                len = 0;
                for (int i = 0; ok && i < 8; i++)
                    len = len << 8 | c->buf[2 + i];
            }
            if (ok && c->len >= hl + len) {
                *op = c->buf[0] & 0x0f;
                *payload = malloc(len + 1);
                memcpy(*payload, c->buf + hl, len);
                (*payload)[len] = '\0';
                *plen = len;
                memmove(c->buf, c->buf + hl + len, c->len - hl - len);
                c->len -= hl + len;
                return 1;
            }
        }
        int64_t left = deadline - mono_ms();
        if (left < 0)
            return 0;
        int r = fill(c, (int)left);
        if (r < 0)
            return -1;
    }
}

json_t *ws_client_next(struct ws_client *c, int timeout_ms, int64_t *recv_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int op;
        char *p;
        size_t len;
        if (read_frame(c, deadline, &op, &p, &len) <= 0)
            return NULL;
        if (op == 0x9) {
            send_frame(c, 0xA, p, len);
            free(p);
            continue;
        }
        if (op == 0x8) {
            free(p);
            return NULL;
        }
        if (op != 0x1) {
            free(p);
            continue;
        }
        if (recv_ms)
            *recv_ms = ws_wall_ms();
        json_t *j = json_loadb(p, len, 0, NULL);
        free(p);
        return j;
    }
}

json_t *ws_client_wait(struct ws_client *c, const char *type, int timeout_ms, int64_t *recv_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left < 0)
            return NULL;
        json_t *j = ws_client_next(c, (int)left, recv_ms);
        if (!j)
            return NULL;
        const char *t = json_string_value(json_object_get(j, "type"));
        if (t && !strcmp(t, type))
            return j;
        json_decref(j);
    }
}

void ws_client_close(struct ws_client *c)
{
    if (!c)
        return;
    send_frame(c, 0x8, "\x03\xe8", 2);
    close(c->fd);
    free(c);
}

int ws_client_wait_close(struct ws_client *c, int timeout_ms, int *code, int *texts)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int op;
        char *p;
        size_t len;
        int r = read_frame(c, deadline, &op, &p, &len);
        if (r <= 0)
            return r;
        if (op == 0x9)
            send_frame(c, 0xA, p, len);
        else if (op == 0x1 && texts)
            (*texts)++;
        else if (op == 0x8) {
            if (code)
                *code = len >= 2 ? (uint8_t)p[0] << 8 | (uint8_t)p[1] : 0;
            free(p);
            return 1;
        }
        free(p);
    }
}

bool ws_client_eof(struct ws_client *c, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        c->len = 0;
        int64_t left = deadline - mono_ms();
        if (left < 0)
            return false;
        if (fill(c, (int)left) < 0)
            return true;
    }
}
