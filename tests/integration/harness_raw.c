/* harness_raw.c: see harness_raw.h. */
#include "harness_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t raw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void raw_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int make_socket(struct sw_server *s, const char *from, bool nonblock,
                       struct sockaddr_in *to)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    if (from) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        inet_pton(AF_INET, from, &me.sin_addr);
        if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
            close(fd);
            return -1;
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return fd;
}

int raw_connect(struct sw_server *s, const char *from)
{
    struct sockaddr_in to;
    int fd = make_socket(s, from, false, &to);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int raw_connect_nb(struct sw_server *s, const char *from)
{
    struct sockaddr_in to;
    int fd = make_socket(s, from, true, &to);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int raw_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, 100);
            continue;
        }
        if (k < 0)
            return -errno;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* Whether buf holds one whole answer: a head, and its Content-Length body
 * (no Content-Length: the head alone, as for 304 and 204). */
static bool whole_answer(const char *buf, size_t len)
{
    const char *end = strstr(buf, "\r\n\r\n");
    if (!end)
        return false;
    char v[32];
    size_t head = (size_t)(end - buf) + 4;
    int st = raw_status(buf);
    if (st == 304 || st == 204 || st == 101 || !raw_header(buf, "Content-Length", v, sizeof(v)))
        return true;
    return len >= head + strtoul(v, NULL, 10);
}

size_t raw_read(int fd, char *buf, size_t cap, int timeout_ms, bool one_answer, bool *closed)
{
    size_t len = 0;
    int64_t deadline = raw_now_ms() + timeout_ms;
    if (closed)
        *closed = false;
    buf[0] = '\0';
    while (len + 1 < cap) {
        if (one_answer && whole_answer(buf, len))
            break;
        int64_t left = deadline - raw_now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0) {
            if (closed)
                *closed = true;
            break;
        }
        len += (size_t)k;
        buf[len] = '\0';
    }
    return len;
}

int raw_status(const char *buf)
{
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strlen(buf) < 12)
        return -1;
    return atoi(buf + 9);
}

const char *raw_header(const char *buf, const char *name, char *out, size_t len)
{
    const char *end = strstr(buf, "\r\n\r\n");
    size_t n = strlen(name);
    for (const char *p = strstr(buf, "\r\n"); p && (!end || p < end); p = strstr(p + 2, "\r\n")) {
        const char *l = p + 2;
        if (!strncasecmp(l, name, n) && l[n] == ':') {
            const char *v = l + n + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            snprintf(out, len, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return out;
        }
    }
    return NULL;
}
