/* wsload: N WebSocket dashboards against one slawatch, from one thread.
 *
 *   wsload PORT TENANT TOKEN CLIENTS BROADCASTS SERVER_PID
 *
 * 1. reads the server's VmRSS, opens CLIENTS connections to
 *    /api/v1/sla/ws?tenant_id=TENANT (handshake by hand, one at a time),
 *    waits until every client has had a message, settles, reads VmRSS again;
 * 2. then, for BROADCASTS metrics broadcasts, takes each client's receive
 *    time minus the message's "at" (the server's send time, milliseconds):
 *    the per-message latency, and per broadcast the time until the LAST
 *    client had it.
 * Prints `key value` lines for run.sh.  Answers pings.  Exits non-zero when
 * it cannot connect or a client is dropped. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct cl {
    int fd;
    size_t len;
    unsigned char buf[4096];
    int64_t last_at;            /* "at" of the last message seen */
    int msgs;
};

/* per broadcast (keyed by its "at"): clients reached, slowest latency */
#define MAXB 256
static int64_t b_at[MAXB];
static int b_cnt[MAXB];
static double b_max[MAXB];
static int nb_seen;

static void record(int64_t at, double l)
{
    int i;
    for (i = 0; i < nb_seen && b_at[i] != at; i++)
        ;
    if (i == nb_seen) {
        if (nb_seen == MAXB)
            return;
        b_at[nb_seen++] = at;
    }
    b_cnt[i]++;
    if (l > b_max[i])
        b_max[i] = l;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double wall_msf(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            v = atol(line + 6);
    if (f)
        fclose(f);
    return v;
}

/* "2026-11-22T10:00:00.123Z" -> ms since the epoch */
static int64_t parse_at(const char *s)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t ms = 0;
    if (*p == '.')
        ms = atoi(p + 1);
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void die(const char *m)
{
    fprintf(stderr, "wsload: %s (%s)\n", m, strerror(errno));
    exit(1);
}

static int connect_one(int port, const char *tenant, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET /api/v1/sla/ws?tenant_id=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", tenant, token);
    if (write(fd, req, (size_t)n) != n)
        die("write");
    /* read the head byte by byte: nothing of the stream is lost */
    char head[2048];
    size_t hl = 0;
    while (hl < sizeof(head) - 1) {
        ssize_t k = read(fd, head + hl, 1);
        if (k <= 0)
            die("handshake: connection closed");
        hl++;
        if (hl >= 4 && !memcmp(head + hl - 4, "\r\n\r\n", 4))
            break;
    }
    head[hl] = '\0';
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "wsload: handshake answered: %.*s\n", (int)strcspn(head, "\r"), head);
        exit(1);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void send_pong(struct cl *c, const unsigned char *p, size_t n)
{
    unsigned char f[140];
    size_t k = 0;
    f[k++] = 0x8A;
    f[k++] = (unsigned char)(0x80 | n);
    memset(f + k, 0, 4);    /* zero mask: the payload goes as is */
    k += 4;
    memcpy(f + k, p, n);
    k += n;
    ssize_t w = send(c->fd, f, k, MSG_NOSIGNAL);
    (void)w;
}

/* Handles the frames in c->buf: answers pings, records each text frame's latency. */
static int frames(struct cl *c, double recv_ms, double *lat, size_t *nlat, size_t caplat)
{
    size_t off = 0;
    for (;;) {
        if (c->len - off < 2)
            break;
        unsigned char *b = c->buf + off;
        size_t hl = 2, len = b[1] & 0x7f;
        if (len == 126) {
            if (c->len - off < 4)
                break;
            hl = 4;
            len = (size_t)b[2] << 8 | b[3];
        } else if (len == 127) {
            fprintf(stderr, "wsload: huge frame\n");
            return -1;
        }
        if (c->len - off < hl + len)
            break;
        int op = b[0] & 0x0f;
        if (op == 0x9)
            send_pong(c, b + hl, len);
        else if (op == 0x8)
            return -1;
        else if (op == 0x1) {
            char tmp[2048];
            size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
            memcpy(tmp, b + hl, n);
            tmp[n] = '\0';
            char *at = strstr(tmp, "\"at\":\"");
            if (at) {
                int64_t t = parse_at(at + 6);
                c->last_at = t;
                c->msgs++;
                if (lat && *nlat < caplat) {
                    lat[(*nlat)++] = recv_ms - (double)t;
                    record(t, recv_ms - (double)t);
                }
            }
        }
        off += hl + len;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i];
}

/* Pumps events for up to ms; returns -1 when a client dies. */
static int pump(int ep, struct cl *cs, int ms, double *lat, size_t *nlat, size_t caplat)
{
    struct epoll_event ev[256];
    int n = epoll_wait(ep, ev, 256, ms);
    double now = wall_msf();
    for (int i = 0; i < n; i++) {
        struct cl *c = &cs[ev[i].data.u32];
        for (;;) {
            ssize_t k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
            if (k > 0) {
                c->len += (size_t)k;
                if (frames(c, now, lat, nlat, caplat) < 0)
                    return -1;
                continue;
            }
            if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                return -1;
            break;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: wsload PORT TENANT TOKEN CLIENTS BROADCASTS SERVER_PID\n");
        return 2;
    }
    int port = atoi(argv[1]), nc = atoi(argv[4]), nb = atoi(argv[5]), pid = atoi(argv[6]);
    const char *tenant = argv[2], *token = argv[3];
    struct cl *cs = calloc((size_t)nc, sizeof(*cs));
    int ep = epoll_create1(0);

    long rss0 = rss_kb(pid);
    int64_t t0 = wall_ms();
    for (int i = 0; i < nc; i++) {
        cs[i].fd = connect_one(port, tenant, token);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
        if (i % 100 == 99 && pump(ep, cs, 0, NULL, NULL, 0) < 0)
            die("a client was dropped while connecting");
    }
    int64_t t1 = wall_ms();
    printf("connect_ms %lld\n", (long long)(t1 - t0));

    /* every client has had a message, then let the allocator settle */
    int64_t deadline = wall_ms() + 30000;
    for (;;) {
        int all = 1;
        for (int i = 0; i < nc && all; i++)
            all = cs[i].msgs > 0;
        if (all)
            break;
        if (wall_ms() > deadline) {
            fprintf(stderr, "wsload: some clients never got a message\n");
            return 1;
        }
        if (pump(ep, cs, 100, NULL, NULL, 0) < 0)
            die("a client was dropped");
    }
    int64_t settle = wall_ms() + 1500;
    while (wall_ms() < settle)
        if (pump(ep, cs, 100, NULL, NULL, 0) < 0)
            die("a client was dropped");
    long rss1 = rss_kb(pid);
    printf("rss_before_kb %ld\nrss_after_kb %ld\n", rss0, rss1);
    printf("rss_per_client_kb %.1f\n", (double)(rss1 - rss0) / nc);

    /* latency over the next nb broadcasts */
    size_t cap = (size_t)nc * (size_t)(nb + 2), nlat = 0;
    double *lat = malloc(cap * sizeof(*lat));
    double *spread = calloc(MAXB, sizeof(*spread));
    /* collect until every client has nb more */
    for (int i = 0; i < nc; i++)
        cs[i].msgs = 0;
    deadline = wall_ms() + 60000 + (int64_t)nb * 10000;
    for (;;) {
        int done = 1;
        for (int i = 0; i < nc && done; i++)
            done = cs[i].msgs >= nb;
        if (done)
            break;
        if (wall_ms() > deadline) {
            fprintf(stderr, "wsload: broadcasts did not reach every client\n");
            return 1;
        }
        if (pump(ep, cs, 100, lat, &nlat, cap) < 0)
            die("a client was dropped");
    }
    qsort(lat, nlat, sizeof(*lat), cmp_d);
    printf("samples %zu\n", nlat);
    printf("latency_p50_ms %.2f\nlatency_p99_ms %.2f\nlatency_max_ms %.2f\n",
           pct(lat, nlat, 50), pct(lat, nlat, 99), nlat ? lat[nlat - 1] : 0.0);
    /* broadcasts every client got (the first may have been cut by the reset) */
    size_t nfull = 0;
    for (int i = 0; i < nb_seen; i++)
        if (b_cnt[i] == nc)
            spread[nfull++] = b_max[i];
    qsort(spread, nfull, sizeof(*spread), cmp_d);
    printf("broadcasts %zu\nall_reached_p50_ms %.2f\nall_reached_max_ms %.2f\n", nfull,
           pct(spread, nfull, 50), nfull ? spread[nfull - 1] : 0.0);
    free(spread);
    free(lat);
    for (int i = 0; i < nc; i++)
        close(cs[i].fd);
    free(cs);
    return 0;
}
