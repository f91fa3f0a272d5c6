/* harness_sinks.c: an HTTP/1.1 receiver and an SMTP receiver for tests.
 *
 * Each sink is one thread serving one connection at a time and answering
 * `Connection: close` (HTTP) or QUIT (SMTP), which is all a notifier needs
 * and keeps the sink simple enough to trust.  Reads poll in 100 ms slices
 * so stopping is prompt. */
#include "harness_sinks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RECORDS 512
#define IO_TIMEOUT_MS 10000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int listen_on(int port, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    socklen_t sl = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &sl);
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Waits for fd readable, in slices, until stop or timeout: 1 ready, 0 not. */
static int wait_readable(int fd, volatile int *stop, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    while (!*stop && mono_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        int k = poll(&p, 1, 100);
        if (k > 0)
            return 1;
        if (k < 0 && errno != EINTR)
            return 0;
    }
    return 0;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

struct rbuf {
    char *p;
    size_t len, cap;
};

/* Reads more into b; false on EOF, error, stop or timeout. */
static bool read_more(int fd, struct rbuf *b, volatile int *stop)
{
    if (!wait_readable(fd, stop, IO_TIMEOUT_MS))
        return false;
    if (b->len + 4096 + 1 > b->cap) {
        b->cap = (b->len + 4096 + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    ssize_t k = recv(fd, b->p + b->len, 4096, 0);
    if (k <= 0)
        return false;
    b->len += (size_t)k;
    b->p[b->len] = '\0';
    return true;
}

static const char *find_header(const char *headers, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(buf, len, "%.*s", (int)(eol - v), v);
            return buf;
        }
        p = eol + 2;
    }
    return NULL;
}

/* ---- HTTP ---------------------------------------------------------------- */

struct http_sink {
    int fd, port;
    volatile int stop;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fail_next, status, delay_ms;
    volatile int hang;
    size_t n;
    struct sink_request reqs[MAX_RECORDS];
};

static void http_serve_one(struct http_sink *s, int c)
{
    struct rbuf b = {0};
    char *end = NULL;
    while (!(b.p && (end = strstr(b.p, "\r\n\r\n"))))
        if (!read_more(c, &b, &s->stop))
            goto out;
    size_t head = (size_t)(end - b.p) + 4;
    struct sink_request r;
    memset(&r, 0, sizeof(r));
    char target[512];
    if (sscanf(b.p, "%15s %511s", r.method, target) != 2)
        goto out;
    snprintf(r.path, sizeof(r.path), "%s", target);
    const char *hs = strstr(b.p, "\r\n") + 2;
    r.headers = strndup(hs, (size_t)(end + 2 - hs));
    char cl[32];
    size_t want = find_header(r.headers, "Content-Length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10)
                                                                           : 0;
    while (b.len - head < want)
        if (!read_more(c, &b, &s->stop)) {
            free(r.headers);
            goto out;
        }
    r.body = strndup(b.p + head, want);
    r.body_len = want;

    pthread_mutex_lock(&s->mu);
    int status = s->status;
    if (s->fail_next > 0) {
        s->fail_next--;
        status = 500;
    }
    int delay = s->delay_ms;
    int hang = s->hang;
    r.answered = hang ? 0 : status;
    if (s->n < MAX_RECORDS)
        s->reqs[s->n++] = r;
    else
        sink_request_free(&r);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);

    if (hang) {
        /* a receiver that hangs: it read the request and never answers; the
         * connection ends when the client gives up (or the sink stops) */
        char tmp[256];
        while (!s->stop && s->hang) {
            struct pollfd p = {c, POLLIN, 0};
            int k = poll(&p, 1, 100);
            if (k > 0 && recv(c, tmp, sizeof(tmp), 0) <= 0)
                break;
            if (k < 0 && errno != EINTR)
                break;
        }
        goto out;
    }
    for (int waited = 0; waited < delay && !s->stop; waited += 50)
        sleep_ms(50);
    char resp[256];
    const char *text = status == 200 ? "ok" : "error";
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             status, status == 200 ? "OK" : "Internal Server Error", strlen(text), text);
    send_all(c, resp, strlen(resp));
out:
    free(b.p);
}

static void *http_main(void *arg)
{
    struct http_sink *s = arg;
    while (!s->stop) {
        if (!wait_readable(s->fd, &s->stop, 1000))
            continue;
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        http_serve_one(s, c);
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

struct http_sink *http_sink_start(int port)
{
    struct http_sink *s = calloc(1, sizeof(*s));
    s->status = 200;
    s->fd = listen_on(port, &s->port);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_create(&s->th, NULL, http_main, s);
    return s;
}

int http_sink_port(struct http_sink *s) { return s->port; }

void http_sink_fail_next(struct http_sink *s, int n)
{
    pthread_mutex_lock(&s->mu);
    s->fail_next = n;
    pthread_mutex_unlock(&s->mu);
}

void http_sink_set_status(struct http_sink *s, int status)
{
    pthread_mutex_lock(&s->mu);
    s->status = status;
    pthread_mutex_unlock(&s->mu);
}

void http_sink_set_hang(struct http_sink *s, bool on)
{
    pthread_mutex_lock(&s->mu);
    s->hang = on;
    pthread_mutex_unlock(&s->mu);
}

void http_sink_set_delay(struct http_sink *s, int ms)
{
    pthread_mutex_lock(&s->mu);
    s->delay_ms = ms;
    pthread_mutex_unlock(&s->mu);
}

size_t http_sink_count(struct http_sink *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static bool wait_count(pthread_mutex_t *mu, pthread_cond_t *cv, size_t *count, size_t n,
                       int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(mu);
    while (*count < n)
        if (pthread_cond_timedwait(cv, mu, &ts) != 0)
            break;
    bool ok = *count >= n;
    pthread_mutex_unlock(mu);
    return ok;
}

bool http_sink_wait(struct http_sink *s, size_t n, int timeout_ms)
{
    return wait_count(&s->mu, &s->cv, &s->n, n, timeout_ms);
}

bool http_sink_get(struct http_sink *s, size_t i, struct sink_request *out)
{
    pthread_mutex_lock(&s->mu);
    bool ok = i < s->n;
    if (ok) {
        *out = s->reqs[i];
        out->headers = strdup(s->reqs[i].headers);
        out->body = malloc(s->reqs[i].body_len + 1);
        memcpy(out->body, s->reqs[i].body, s->reqs[i].body_len + 1);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void sink_request_free(struct sink_request *r)
{
    free(r->headers);
    free(r->body);
    r->headers = r->body = NULL;
}

const char *sink_header(const struct sink_request *r, const char *name, char *buf, size_t len)
{
    return find_header(r->headers, name, buf, len);
}

size_t http_sink_count_path(struct http_sink *s, const char *path, size_t *distinct_keys)
{
    pthread_mutex_lock(&s->mu);
    size_t n = 0, d = 0;
    char key[128], other[128];
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->reqs[i].path, path))
            continue;
        n++;
        if (!find_header(s->reqs[i].headers, "Idempotency-Key", key, sizeof(key)))
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(s->reqs[k].path, path) &&
                   find_header(s->reqs[k].headers, "Idempotency-Key", other, sizeof(other)) &&
                   !strcmp(key, other);
        d += !seen;
    }
    pthread_mutex_unlock(&s->mu);
    if (distinct_keys)
        *distinct_keys = d;
    return n;
}

void http_sink_stop(struct http_sink *s)
{
    if (!s)
        return;
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n; i++)
        sink_request_free(&s->reqs[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

/* ---- SMTP ---------------------------------------------------------------- */

struct smtp_sink {
    int fd, port;
    volatile int stop;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t n;
    struct sink_mail mails[MAX_RECORDS];
};

/* One CRLF-terminated line from b (consumed), into line; false when the
 * connection ends first. */
static bool read_line(int fd, struct rbuf *b, volatile int *stop, char **line)
{
    for (;;) {
        char *eol = b->p ? strstr(b->p, "\r\n") : NULL;
        if (eol) {
            size_t n = (size_t)(eol - b->p);
            *line = strndup(b->p, n);
            memmove(b->p, eol + 2, b->len - n - 2 + 1);
            b->len -= n + 2;
            return true;
        }
        if (!read_more(fd, b, stop))
            return false;
    }
}

static void say(int fd, const char *s) { send_all(fd, s, strlen(s)); }

static void addr_of(const char *arg, char *out, size_t len)
{
    const char *lt = strchr(arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt)
        snprintf(out, len, "%.*s", (int)(gt - lt - 1), lt + 1);
    else
        snprintf(out, len, "%s", arg);
}

static void smtp_serve_one(struct smtp_sink *s, int c)
{
    struct rbuf b = {0};
    struct sink_mail m;
    memset(&m, 0, sizeof(m));
    char *line = NULL;
    say(c, "220 sink.test ESMTP test sink\r\n");
    while (read_line(c, &b, &s->stop, &line)) {
        if (!strncasecmp(line, "EHLO", 4)) {
            say(c, "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
        } else if (!strncasecmp(line, "HELO", 4)) {
            say(c, "250 sink.test\r\n");
        } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
            sink_mail_free(&m);
            memset(&m, 0, sizeof(m));
            addr_of(line + 10, m.from, sizeof(m.from));
            say(c, "250 OK\r\n");
        } else if (!strncasecmp(line, "RCPT TO:", 8)) {
            if (m.nrcpt < 8)
                addr_of(line + 8, m.rcpt[m.nrcpt++], sizeof(m.rcpt[0]));
            say(c, "250 OK\r\n");
        } else if (!strcasecmp(line, "DATA")) {
            say(c, "354 end with <CRLF>.<CRLF>\r\n");
            size_t cap = 4096, len = 0;
            char *data = malloc(cap), *l = NULL;
            data[0] = '\0';
            bool done = false;
            while (read_line(c, &b, &s->stop, &l)) {
                if (!strcmp(l, ".")) {
                    free(l);
                    done = true;
                    break;
                }
                const char *t = l[0] == '.' ? l + 1 : l;    /* undo dot-stuffing */
                size_t k = strlen(t);
                if (len + k + 3 > cap) {
                    cap = (len + k + 3) * 2;
                    data = realloc(data, cap);
                }
                memcpy(data + len, t, k);
                memcpy(data + len + k, "\r\n", 3);
                len += k + 2;
                free(l);
            }
            if (!done) {
                free(data);
                break;
            }
            m.data = data;
            pthread_mutex_lock(&s->mu);
            if (s->n < MAX_RECORDS) {
                s->mails[s->n++] = m;
                memset(&m, 0, sizeof(m));
            }
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            say(c, "250 OK queued\r\n");
        } else if (!strcasecmp(line, "QUIT")) {
            say(c, "221 bye\r\n");
            free(line);
            line = NULL;
            break;
        } else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP")) {
            say(c, "250 OK\r\n");
        } else {
            say(c, "502 not implemented\r\n");
        }
        free(line);
        line = NULL;
    }
    free(line);
    sink_mail_free(&m);
    free(b.p);
}

static void *smtp_main(void *arg)
{
    struct smtp_sink *s = arg;
    while (!s->stop) {
        if (!wait_readable(s->fd, &s->stop, 1000))
            continue;
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        smtp_serve_one(s, c);
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

struct smtp_sink *smtp_sink_start(void)
{
    struct smtp_sink *s = calloc(1, sizeof(*s));
    s->fd = listen_on(0, &s->port);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_create(&s->th, NULL, smtp_main, s);
    return s;
}

int smtp_sink_port(struct smtp_sink *s) { return s->port; }

size_t smtp_sink_count(struct smtp_sink *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool smtp_sink_wait(struct smtp_sink *s, size_t n, int timeout_ms)
{
    return wait_count(&s->mu, &s->cv, &s->n, n, timeout_ms);
}

bool smtp_sink_get(struct smtp_sink *s, size_t i, struct sink_mail *out)
{
    pthread_mutex_lock(&s->mu);
    bool ok = i < s->n;
    if (ok) {
        *out = s->mails[i];
        out->data = strdup(s->mails[i].data);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void sink_mail_free(struct sink_mail *m)
{
    free(m->data);
    m->data = NULL;
}

const char *sink_mail_header(const struct sink_mail *m, const char *name, char *buf, size_t len)
{
    /* headers end at the first empty line */
    const char *end = strstr(m->data, "\r\n\r\n");
    if (!end)
        return NULL;
    char *head = strndup(m->data, (size_t)(end - m->data) + 2);
    const char *v = find_header(head, name, buf, len);
    free(head);
    return v;
}

void smtp_sink_stop(struct smtp_sink *s)
{
    if (!s)
        return;
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n; i++)
        sink_mail_free(&s->mails[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
