/* conn_guard.c: see conn_guard.h. */
#include "http/conn_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"
#include "util/xalloc.h"

#define REAP_INTERVAL_MS 200

enum phase {
    PH_HEAD,        /* waiting for a request line and headers */
    PH_BODY,        /* headers in, body (if any) being received */
    PH_DONE,        /* received: being handled or answered */
    PH_UPGRADED,    /* a WebSocket: not ours any more */
    PH_KILLED,      /* past its deadline: shut down, libmicrohttpd closes it */
};

struct watch {
    struct watch *prev, *next;
    int fd;
    _Atomic int phase;
    _Atomic int64_t ready_ms;       /* monotonic: when it became ready for a request */
    atomic_bool line_seen;          /* a request line arrived since then */
};

struct conn_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t reaper;
    bool stop;
    struct watch *head;             /* under mu */
    int64_t header_ms, request_ms;
    bool tls;
    atomic_ulong killed;
};

static const char *reason(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    default: return "Error";
    }
}

static int write_raw(int fd, unsigned status, const char *json)
{
    char head[256];
    size_t jl = strlen(json);
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n"
                     "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n",
                     status, reason(status), jl);
    /* one non-blocking try: a client that does not read gets nothing */
    struct part {
        const void *b;
        size_t l;
    } parts[2] = {{head, (size_t)n}, {json, jl}};
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i].b;
        size_t left = parts[i].l;
        while (left) {
            ssize_t k = send(fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT | (i == 0 ? MSG_MORE : 0));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return -1;
            p += k;
            left -= (size_t)k;
        }
    }
    return 0;
}

static struct watch *watch_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* ---- libmicrohttpd's callbacks ---------------------------------------- */

void conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    struct conn_guard *g = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct watch *w = xcalloc(1, sizeof(*w));
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        w->fd = ci ? ci->connect_fd : -1;
        atomic_store(&w->ready_ms, sw_mono_ms());
        atomic_store(&w->phase, PH_HEAD);
        pthread_mutex_lock(&g->mu);
        w->next = g->head;
        if (g->head)
            g->head->prev = w;
        g->head = w;
        pthread_mutex_unlock(&g->mu);
        *socket_context = w;
        return;
    }
    struct watch *w = *socket_context;
    if (!w)
        return;
    /* before libmicrohttpd closes the socket: under the lock, the reaper
     * is not writing to it, and will not */
    pthread_mutex_lock(&g->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        g->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&g->mu);
    free(w);
    *socket_context = NULL;
}

void *conn_guard_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)uri;
    struct watch *w = watch_of(c);
    if (w)
        atomic_store(&w->line_seen, true);
    return NULL;        /* the access handler's *con_cls starts NULL */
}

/* ---- the pipeline's steps ---------------------------------------------- */

static bool move(struct MHD_Connection *c, int from, int to)
{
    struct watch *w = watch_of(c);
    if (!w)
        return true;
    int expected = from;
    if (atomic_compare_exchange_strong(&w->phase, &expected, to))
        return true;
    return expected != PH_KILLED;
}

bool conn_guard_head(struct MHD_Connection *c)
{
    return move(c, PH_HEAD, PH_BODY);
}

bool conn_guard_received(struct MHD_Connection *c)
{
    return move(c, PH_BODY, PH_DONE);
}

void conn_guard_idle(struct MHD_Connection *c)
{
    struct watch *w = watch_of(c);
    if (!w)
        return;
    int ph = atomic_load(&w->phase);
    if (ph != PH_DONE && ph != PH_BODY)
        return;         /* upgraded or killed: stays so */
    atomic_store(&w->line_seen, false);
    atomic_store(&w->ready_ms, sw_mono_ms());
    atomic_compare_exchange_strong(&w->phase, &ph, PH_HEAD);
}

void conn_guard_upgraded(struct MHD_Connection *c)
{
    struct watch *w = watch_of(c);
    if (w)
        atomic_store(&w->phase, PH_UPGRADED);
}

unsigned long conn_guard_timeouts(struct conn_guard *g)
{
    return atomic_load(&g->killed);
}

int conn_guard_send_raw(struct MHD_Connection *c, bool tls, unsigned status, const char *json)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (tls || !ci)
        return -1;
    return write_raw(ci->connect_fd, status, json);
}

/* ---- the reaper ---------------------------------------------------------- */

static void reap_one(struct conn_guard *g, struct watch *w, int64_t now)
{
    int ph = atomic_load(&w->phase);
    int64_t limit = ph == PH_HEAD ? g->header_ms : ph == PH_BODY ? g->request_ms : -1;
    if (limit < 0 || now - atomic_load(&w->ready_ms) < limit)
        return;
    if (!atomic_compare_exchange_strong(&w->phase, &ph, PH_KILLED))
        return;         /* it moved on meanwhile */
    atomic_fetch_add(&g->killed, 1);
    bool started = ph == PH_BODY || atomic_load(&w->line_seen);
    if (started && !g->tls && w->fd >= 0) {
        char json[200];
        snprintf(json, sizeof(json),
                 "{\"error\":{\"code\":\"request_timeout\",\"message\":\"the request was not "
                 "received within %lld s\"}}",
                 (long long)(limit / 1000));
        write_raw(w->fd, 408, json);
    }
    /* libmicrohttpd reads the end of the stream and closes it */
    if (w->fd >= 0)
        shutdown(w->fd, SHUT_RDWR);
    log_debug("http: closed a connection past its %s deadline",
              ph == PH_HEAD ? "header" : "request");
}

static void *reaper_main(void *arg)
{
    struct conn_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts = sw_deadline_ms(CLOCK_MONOTONIC, REAP_INTERVAL_MS);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (g->stop)
            break;
        int64_t now = sw_mono_ms();
        for (struct watch *w = g->head; w; w = w->next)
            reap_one(g, w, now);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int conn_guard_start(unsigned header_timeout_s, unsigned request_timeout_s, bool tls,
                     struct conn_guard **out)
{
    struct conn_guard *g = xcalloc(1, sizeof(*g));
    g->header_ms = (int64_t)header_timeout_s * 1000;
    g->request_ms = (int64_t)request_timeout_s * 1000;
    g->tls = tls;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return SW_E_IO;
    }
    *out = g;
    return 0;
}

void conn_guard_stop(struct conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->reaper, NULL);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}
