/* wsrecv: one dashboard for bench/breach.  Connects to
 * /api/v1/sla/ws?tenant_id=TENANT, prints "ready", then for every sla.breach
 * message records its receipt time minus its due_at (the deadline), until
 * COUNT of them arrived or TIMEOUT_S passed, and prints the figures:
 *   count N / p50_ms / p99_ms / max_ms / min_ms / first_ms / last_ms
 * Usage: wsrecv PORT TENANT TOKEN COUNT TIMEOUT_S */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-22T10:00:00.123Z" or without the fraction. */
static int64_t parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    int ms = 0;
    const char *dot = strchr(s, '.');
    if (dot && dot < strchr(s, 'Z'))
        ms = atoi(dot + 1);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static uint8_t buf[1 << 22];
static size_t blen;

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: wsrecv PORT TENANT TOKEN COUNT TIMEOUT_S\n");
        return 2;
    }
    int port = atoi(argv[1]), want = atoi(argv[4]), timeout_s = atoi(argv[5]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET /api/v1/sla/ws?tenant_id=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Authorization: Bearer %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "\r\n", argv[2], port, argv[3]);
    if (write(fd, req, (size_t)n) != n)
        return 1;
    char *end = NULL;
    while (!(end = memmem(buf, blen, "\r\n\r\n", 4))) {
        ssize_t k = read(fd, buf + blen, sizeof(buf) - blen);
        if (k <= 0)
            return 1;
        blen += (size_t)k;
    }
    if (memcmp(buf + 9, "101", 3) != 0) {
        fprintf(stderr, "handshake: %.*s\n", 40, buf);
        return 1;
    }
    size_t hl = (size_t)(end - (char *)buf) + 4;
    memmove(buf, buf + hl, blen - hl);
    blen -= hl;
    printf("ready\n");
    fflush(stdout);

    int64_t *d = calloc((size_t)want + 1, sizeof(*d));
    int got = 0;
    int64_t deadline = wall_ms() + (int64_t)timeout_s * 1000;
    /* Receipt time is when read() returned: every frame of that read had
     * arrived by then.  Frames are walked by offset and the buffer compacted
     * once per read; moving the rest of a read after each frame cost
     * O(bytes x frames) (~10 ms for a burst of 500 notices in one read) and
     * counted the client's own parsing as the server's latency. */
    int64_t now = wall_ms();
    while (got < want && wall_ms() < deadline) {
        size_t off = 0;
        for (;;) {
            const uint8_t *f = buf + off;
            size_t avail = blen - off;
            if (avail < 2)
                break;
            size_t h = 2, len = f[1] & 0x7f;
            if (len == 126) {
                if (avail < 4)
                    break;
                h = 4;
                len = (size_t)f[2] << 8 | f[3];
            } else if (len == 127) {
                if (avail < 10)
                    break;
                h = 10;
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | f[2 + i];
            }
            if (avail < h + len || off + h + len >= sizeof(buf))
                break;
            int op = f[0] & 0x0f;
            if (op == 0x1 && got < want) {
                char *p = (char *)buf + off + h;
                char save = p[len];
                p[len] = '\0';
                if (strstr(p, "\"type\":\"sla.breach\"")) {
                    char *du = strstr(p, "\"due_at\":\"");
                    if (du)
                        d[got++] = now - parse_iso(du + 10);
                }
                p[len] = save;
            } else if (op == 0x9) {
                uint8_t pong[6] = {0x8A, 0x80, 0, 0, 0, 0};  /* empty masked pong */
                if (write(fd, pong, sizeof(pong)) < 0)
                    return 1;
            }
            off += h + len;
        }
        memmove(buf, buf + off, blen - off);
        blen -= off;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
            ssize_t k = read(fd, buf + blen, sizeof(buf) - 1 - blen);
            now = wall_ms();
            if (k <= 0)
                break;
            blen += (size_t)k;
        }
    }
    printf("count %d\n", got);
    if (got) {
        int64_t first = d[0], last = d[got - 1];
        qsort(d, (size_t)got, sizeof(*d), cmp);
        printf("p50_ms %lld\np99_ms %lld\nmax_ms %lld\nmin_ms %lld\nfirst_ms %lld\nlast_ms %lld\n",
               (long long)d[(got - 1) * 50 / 100], (long long)d[(got - 1) * 99 / 100],
               (long long)d[got - 1], (long long)d[0], (long long)first, (long long)last);
    }
    close(fd);
    return got == want ? 0 : 3;
}
