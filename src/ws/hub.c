/* hub.c: the WebSocket hub.  Owns every upgraded connection.
 *
 * Threads
 *   - the broadcaster: one epoll loop over every client socket plus an
 *     eventfd.  It alone touches a client (its wslay context, its socket,
 *     its queue), so clients need no lock.  Sockets are non-blocking; a
 *     write that would block leaves the rest in the client's wslay queue and
 *     arms EPOLLOUT.  Every ping_interval it pings every client and drops
 *     those silent for pong_timeout.
 *   - the ticker: every metrics_interval, builds one {"type":"metrics"}
 *     message per tenant with clients (calling the metrics callback, which
 *     may be slow, outside the broadcaster) and publishes it.
 *   - the checker: every recheck_interval (or at once, ws_hub_recheck),
 *     copies each client's (id, tenant, credential) under the lock, asks
 *     the auth callback once per distinct (tenant, credential) without the
 *     lock, and hands the ids to close to the broadcaster ("kicks"), which
 *     sends them a close frame (4001/4003 with a reason) and releases them
 *     before it delivers anything else queued.
 *   - any thread: ws_publish appends to the inbox and pokes the eventfd;
 *     ws_hub_add appends to the incoming list and pokes it too.
 *
 * Slow clients: a client's unsent queue is bounded (messages and bytes);
 * a publish that would pass the bound drops that client (its socket is
 * released, nobody waits for it).  Nothing is preallocated per client but
 * its wslay context, so a client costs a few KB.
 *
 * The lock (h->lock) guards the inbox, the incoming list, the kicks, the
 * stop flag and the tenant table's shape and counts (the ticker reads
 * those).  The client lists hanging from the tenants are changed by the
 * broadcaster alone, always under the lock, so the broadcaster reads them
 * without it and the checker reads them (ids and credentials, which never
 * change) with it.
 *
 * Files: hub.c (this: the broadcaster, clients, the public calls),
 * ticker.c (the metrics messages), recheck.c (the checker).
 */
#include "ws/hub_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "ws/frame_guard.h"
#define MAX_EVENTS 512
#define MAX_RECV_MSG 4096       /* clients only say {"type":"ping"} */

/* ---- small helpers ---------------------------------------------------- */

static unsigned bucket_of(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % NBUCKETS;
}

void hub_poke(struct ws_hub *h)
{
    uint64_t one = 1;
    ssize_t k = write(h->evfd, &one, sizeof(one));
    (void)k;    /* EAGAIN: the counter is already non-zero, the loop will wake */
}

/* ---- wslay callbacks (broadcaster thread) ----------------------------- */

static ssize_t on_recv_raw(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                           void *ud);

/* What wslay reads passes the frame guard first: from a protocol error on,
 * wslay sees nothing more (client_io then closes with 1002). */
static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *ud)
{
    struct client *c = ud;
    if (c->guard.failed) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    ssize_t k = on_recv_raw(ctx, buf, len, flags, ud);
    if (k <= 0)
        return k;
    size_t ok = ws_guard_scan(&c->guard, buf, (size_t)k);
    if (ok == 0 && c->guard.failed) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)ok;
}

static ssize_t on_recv_raw(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                           void *ud)
{
    struct client *c = ud;
    if (c->extra) {
        size_t n = c->extra_len - c->extra_off;
        if (n > len)
            n = len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        if (c->extra_off == c->extra_len) {
            free(c->extra);
            c->extra = NULL;
        }
        c->last_seen = sw_mono_ms();
        return (ssize_t)n;
    }
    ssize_t k;
    do
        k = recv(c->fd, buf, len, 0);
    while (k < 0 && errno == EINTR);
    if (k > 0) {
        c->last_seen = sw_mono_ms();
        return k;
    }
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);  /* EOF or reset */
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                       int flags, void *ud)
{
    struct client *c = ud;
    int f = MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0);
    ssize_t k;
    do
        k = send(c->fd, data, len, f);
    while (k < 0 && errno == EINTR);
    if (k >= 0)
        return k;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

/* Clients have nothing to say but {"type":"ping"}, answered {"type":"pong"};
 * anything else is ignored.  wslay answers ping frames and close frames. */
static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud)
{
    if (a->opcode != WSLAY_TEXT_FRAME)
        return;
    json_t *j = json_loadb((const char *)a->msg, a->msg_length, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && !strcmp(type, "ping")) {
        static const char pong[] = "{\"type\":\"pong\"}";
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)pong, sizeof(pong) - 1};
        wslay_event_queue_msg(ctx, &m);
    }
    json_decref(j);
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .on_msg_recv_callback = on_msg,
};

/* ---- client life (broadcaster thread) --------------------------------- */

/* Unlinks c, stops watching it, and frees it at the end of this turn (an
 * event for it may still be in the batch being handled). */
static void client_drop(struct ws_hub *h, struct client *c, const char *why)
{
    if (c->dead)
        return;
    c->dead = true;
    log_debug("ws: dropping a client of %s: %s", c->t ? c->t->id : "?", why);
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->t) {
        pthread_mutex_lock(&h->lock);
        struct tenant *t = c->t;
        if (c->prev)
            c->prev->next = c->next;
        else
            t->clients = c->next;
        if (c->next)
            c->next->prev = c->prev;
        t->n--;
        if (t->n == 0) {
            struct tenant **pp = &h->buckets[bucket_of(t->id)];
            while (*pp != t)
                pp = &(*pp)->next;
            *pp = t->next;
            free(t);
        }
        pthread_mutex_unlock(&h->lock);
        c->t = NULL;
        atomic_fetch_sub(&h->nclients, 1);
    }
    c->next = h->reap;
    h->reap = c;
}

static void client_free(struct client *c)
{
    if (c->ctx)
        wslay_event_context_free(c->ctx);
    c->release(c->release_arg);     /* the HTTP server closes the socket */
    free(c->extra);
    free(c->tenant_id);
    free(c->cred);
    free(c);
}

static void reap(struct ws_hub *h)
{
    while (h->reap) {
        struct client *c = h->reap;
        h->reap = c->next;
        client_free(c);
    }
}

/* Watches what wslay wants; drops a client that wants nothing (closed). */
static void client_arm(struct ws_hub *h, struct client *c)
{
    if (c->dead)
        return;
    int r = wslay_event_want_read(c->ctx), w = wslay_event_want_write(c->ctx);
    if (!r && !w) {
        client_drop(h, c, "closed");
        return;
    }
    /* once reading is over (close received), a peer's hang-up must not
     * wake us again and again while the close reply waits to go out */
    uint32_t want = (r ? EPOLLIN | EPOLLRDHUP : 0) | (w ? EPOLLOUT : 0);
    if (want == c->armed)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        client_drop(h, c, "epoll");
        return;
    }
    c->armed = want;
}

/* TCP_CORK on or off; false where the socket has none (a TLS client's
 * socket is libmicrohttpd's socketpair end). */
static bool cork(int fd, int on)
{
    return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0;
}

static void client_flush(struct ws_hub *h, struct client *c)
{
    if (c->dead)
        return;
    if (wslay_event_want_write(c->ctx)) {
        /* Several frames: corked, they leave as full segments at the
         * uncork.  Otherwise each frame is two pushes (wslay sends its
         * header and its payload in two calls): a burst of 500 breach
         * notices took the broadcaster 3-10 ms, the TCP path per segment. */
        bool corked = wslay_event_get_queued_msg_count(c->ctx) > 1 && cork(c->fd, 1);
        int rc = wslay_event_send(c->ctx);
        if (corked)
            cork(c->fd, 0);
        if (rc < 0) {
            client_drop(h, c, "write failed");
            return;
        }
    }
    client_arm(h, c);
}

static void client_io(struct ws_hub *h, struct client *c, uint32_t events)
{
    if (c->dead)
        return;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || c->extra) {
        if (wslay_event_want_read(c->ctx) && wslay_event_recv(c->ctx) < 0) {
            client_drop(h, c, "read failed or peer gone");
            return;
        }
        if (c->guard.failed && !c->guard_closed) {
            /* RFC 6455 7.4.1: a protocol error closes with 1002; the close
             * goes out by client_flush below, then the client is dropped */
            c->guard_closed = true;
            log_debug("ws: protocol error from a client: %s", c->guard.why);
            wslay_event_queue_close(c->ctx, WSLAY_CODE_PROTOCOL_ERROR,
                                    (const uint8_t *)c->guard.why, strlen(c->guard.why));
            wslay_event_shutdown_read(c->ctx);
            client_flush(h, c);
            return;
        }
        /* pings whose pongs it never reads must not grow its queue either */
        if (wslay_event_get_queued_msg_count(c->ctx) > h->o.max_queue_msgs ||
            wslay_event_get_queued_msg_length(c->ctx) > h->o.max_queue_bytes) {
            client_drop(h, c, "too slow: its queue is full");
            return;
        }
        if ((events & (EPOLLHUP | EPOLLERR)) ||
            ((events & EPOLLRDHUP) && !wslay_event_want_read(c->ctx) &&
             !wslay_event_get_close_received(c->ctx))) {
            client_drop(h, c, "hang-up");
            return;
        }
    }
    client_flush(h, c);
}

/* Queues one text message for c, or drops c when its queue is full. */
static void client_push(struct ws_hub *h, struct client *c, const struct msg *m)
{
    if (c->dead)
        return;
    /* a burst published between two turns (a scheduler round of breaches)
     * arrives here all at once: write what is queued before judging the
     * client slow, so only a client that really does not read is dropped */
    if (c->dirty && (wslay_event_get_queued_msg_count(c->ctx) >= h->o.max_queue_msgs ||
                     wslay_event_get_queued_msg_length(c->ctx) + m->len > h->o.max_queue_bytes))
        client_flush(h, c);
    if (c->dead)
        return;
    if (wslay_event_get_queued_msg_count(c->ctx) >= h->o.max_queue_msgs ||
        wslay_event_get_queued_msg_length(c->ctx) + m->len > h->o.max_queue_bytes) {
        client_drop(h, c, "too slow: its queue is full");
        return;
    }
    struct wslay_event_msg wm = {WSLAY_TEXT_FRAME, (const uint8_t *)m->text, m->len};
    if (wslay_event_queue_msg(c->ctx, &wm) != 0)
        return;     /* closing: no more messages */
    if (!c->dirty) {    /* one write per client for a whole batch of messages */
        c->dirty = true;
        c->dirty_next = h->dirty;
        h->dirty = c;
    }
}

static void flush_dirty(struct ws_hub *h)
{
    while (h->dirty) {
        struct client *c = h->dirty;
        h->dirty = c->dirty_next;
        c->dirty = false;
        client_flush(h, c);     /* a dead one (dropped since) is skipped */
    }
}

static struct tenant *tenant_get(struct ws_hub *h, const char *id, bool create)
{
    unsigned b = bucket_of(id);
    for (struct tenant *t = h->buckets[b]; t; t = t->next)
        if (!strcmp(t->id, id))
            return t;
    if (!create)
        return NULL;
    size_t n = strlen(id);
    struct tenant *t = xcalloc(1, sizeof(*t) + n + 1);
    memcpy(t->id, id, n + 1);
    t->next = h->buckets[b];
    h->buckets[b] = t;
    return t;
}

/* Registers a client handed over by ws_hub_add. */
static void client_attach(struct ws_hub *h, struct client *c)
{
    c->last_seen = sw_mono_ms();
    if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) {
        c->ctx = NULL;
        goto fail;
    }
    wslay_event_config_set_max_recv_msg_length(c->ctx, MAX_RECV_MSG);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        log_warn("ws: cannot watch a client socket: %s", strerror(errno));
        goto fail;
    }
    c->armed = ev.events;
    pthread_mutex_lock(&h->lock);
    struct tenant *t = tenant_get(h, c->tenant_id, true);
    c->prev = NULL;
    c->next = t->clients;
    if (t->clients)
        t->clients->prev = c;
    t->clients = c;
    t->n++;
    c->t = t;
    pthread_mutex_unlock(&h->lock);
    free(c->tenant_id);
    c->tenant_id = NULL;
    atomic_fetch_add(&h->nclients, 1);
    if (c->extra)   /* frames that came with the handshake: no event will say so */
        client_io(h, c, 0);
    return;
fail:
    c->dead = true;
    c->next = h->reap;
    h->reap = c;
}

/* ---- the broadcaster -------------------------------------------------- */

static void deliver(struct ws_hub *h, const struct msg *m)
{
    if (m->tenant) {
        struct tenant *t = tenant_get(h, m->tenant, false);
        for (struct client *c = t ? t->clients : NULL, *nx; c; c = nx) {
            nx = c->next;   /* c may be dropped (unlinked) by the push */
            client_push(h, c, m);
        }
        return;
    }
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (struct tenant *t = h->buckets[b], *tn; t; t = tn) {
            tn = t->next;
            /* the last client's drop frees t: step over t first */
            for (struct client *c = t->clients, *nx; c; c = nx) {
                nx = c->next;
                client_push(h, c, m);
            }
        }
}

/* Every client, for pings and shutdown; fn may drop c. */
static void each_client(struct ws_hub *h, void (*fn)(struct ws_hub *, struct client *, int64_t),
                        int64_t arg)
{
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (struct tenant *t = h->buckets[b], *tn; t; t = tn) {
            tn = t->next;
            for (struct client *c = t->clients, *nx; c; c = nx) {
                nx = c->next;
                fn(h, c, arg);
            }
        }
}

static void ping_one(struct ws_hub *h, struct client *c, int64_t now)
{
    if (now - c->last_seen > (int64_t)h->o.pong_timeout_ms) {
        client_drop(h, c, "no pong");
        return;
    }
    struct wslay_event_msg m = {WSLAY_PING, NULL, 0};
    if (wslay_event_queue_msg(c->ctx, &m) == 0)
        client_flush(h, c);
}

static void close_one(struct ws_hub *h, struct client *c, int64_t unused)
{
    static const char why[] = "server shutting down";
    /* best effort: one non-blocking try, nobody waits for a slow peer */
    if (wslay_event_queue_close(c->ctx, WSLAY_CODE_GOING_AWAY, (const uint8_t *)why,
                                sizeof(why) - 1) == 0)
        wslay_event_send(c->ctx);
    client_drop(h, c, "shutdown");
}

static int kick_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct kick *)a)->id, y = ((const struct kick *)b)->id;
    return x < y ? -1 : x > y;
}

/* A close frame with the checker's code and reason, then the socket. */
static void kick_one(struct ws_hub *h, struct client *c, enum ws_verdict code)
{
    const char *why = code == WS_CLOSE_FORBIDDEN
                          ? "forbidden: no longer allowed to read this tenant"
                          : "unauthorized: token revoked or expired, or session ended";
    log_info("ws: closing a client of %s (%d): %s", c->t ? c->t->id : "?", (int)code, why);
    /* best effort, as at shutdown: a peer that does not read gets EOF alone */
    if (wslay_event_queue_close(c->ctx, (uint16_t)code, (const uint8_t *)why, strlen(why)) == 0)
        wslay_event_send(c->ctx);
    atomic_fetch_add(&h->auth_closed, 1);
    client_drop(h, c, "credential no longer valid");
}

/* Closes the clients named in kicks[0..n) (sorted by id); gone ones are skipped. */
static void kick_all(struct ws_hub *h, const struct kick *kicks, size_t n)
{
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (struct tenant *t = h->buckets[b], *tn; t; t = tn) {
            tn = t->next;
            for (struct client *c = t->clients, *nx; c; c = nx) {
                nx = c->next;
                struct kick key = {c->id, WS_KEEP};
                const struct kick *k = bsearch(&key, kicks, n, sizeof(*kicks), kick_cmp);
                if (k)
                    kick_one(h, c, k->code);
            }
        }
}

/* Takes the inbox, the incoming clients and the kicks; returns whether to
 * stop.  *kicks is the caller's (free). */
static bool take_work(struct ws_hub *h, struct msg **msgs, struct client **incoming,
                      struct kick **kicks, size_t *nkicks)
{
    pthread_mutex_lock(&h->lock);
    *msgs = h->inbox;
    h->inbox = NULL;
    h->inbox_tail = &h->inbox;
    *incoming = h->incoming;
    h->incoming = NULL;
    *kicks = h->kicks;
    *nkicks = h->nkicks;
    h->kicks = NULL;
    h->nkicks = h->kcap = 0;
    bool stop = h->stopping;
    pthread_mutex_unlock(&h->lock);
    return stop;
}

static void *broadcaster_main(void *arg)
{
    struct ws_hub *h = arg;
    struct epoll_event evs[MAX_EVENTS];
    h->next_ping = sw_mono_ms() + h->o.ping_interval_ms;
    for (;;) {
        int64_t wait = h->next_ping - sw_mono_ms();
        int n = epoll_wait(h->epfd, evs, MAX_EVENTS, wait < 0 ? 0 : (int)wait);
        if (n < 0 && errno != EINTR) {
            log_error("ws: epoll_wait: %s; closing every client", strerror(errno));
            pthread_mutex_lock(&h->lock);
            h->stopping = true;
            pthread_mutex_unlock(&h->lock);
            n = 0;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == h) {
                uint64_t v;
                ssize_t k = read(h->evfd, &v, sizeof(v));
                (void)k;
                continue;
            }
            client_io(h, evs[i].data.ptr, evs[i].events);
        }

        struct msg *msgs;
        struct client *inc;
        struct kick *kicks;
        size_t nkicks;
        bool stop = take_work(h, &msgs, &inc, &kicks, &nkicks);
        while (inc) {
            struct client *c = inc;
            inc = c->next;
            client_attach(h, c);
            atomic_fetch_sub(&h->attaching, 1);
        }
        /* before the messages: a revoked client must not get one more */
        if (nkicks && !stop) {
            qsort(kicks, nkicks, sizeof(*kicks), kick_cmp);
            kick_all(h, kicks, nkicks);
        }
        free(kicks);
        while (msgs) {
            struct msg *m = msgs;
            msgs = m->next;
            if (!stop)
                deliver(h, m);
            free(m->tenant);
            free(m);
        }
        flush_dirty(h);
        int64_t now = sw_mono_ms();
        if (!stop && now >= h->next_ping) {
            each_client(h, ping_one, now);
            h->next_ping = now + h->o.ping_interval_ms;
        }
        if (stop) {
            each_client(h, close_one, 0);
            reap(h);
            break;
        }
        reap(h);
    }
    return NULL;
}

/* ---- public ----------------------------------------------------------- */

int ws_hub_new(struct ws_hub **out)
{
    return ws_hub_new_opts(NULL, out);
}

int ws_hub_new_opts(const struct ws_opts *o, struct ws_hub **out)
{
    struct ws_hub *h = xcalloc(1, sizeof(*h));
    if (o)
        h->o = *o;
    else
        ws_opts_default(&h->o);
    h->inbox_tail = &h->inbox;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->tick, &ca);
    pthread_cond_init(&h->recheck, &ca);
    pthread_condattr_destroy(&ca);
    if (!h->o.recheck_interval_ms)
        h->o.recheck_interval_ms = 500;
    if (h->epfd < 0 || h->evfd < 0)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->evfd, &ev) < 0)
        goto fail;
    if (pthread_create(&h->broadcaster, NULL, broadcaster_main, h) != 0)
        goto fail;
    if (pthread_create(&h->ticker, NULL, hub_ticker_main, h) != 0) {
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_mutex_unlock(&h->lock);
        hub_poke(h);
        pthread_join(h->broadcaster, NULL);
        goto fail;
    }
    if (pthread_create(&h->checker, NULL, hub_checker_main, h) != 0) {
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_cond_broadcast(&h->tick);
        pthread_mutex_unlock(&h->lock);
        hub_poke(h);
        pthread_join(h->broadcaster, NULL);
        pthread_join(h->ticker, NULL);
        goto fail;
    }
    h->threads_started = true;
    *out = h;
    return 0;
fail:
    log_error("ws: cannot start the hub: %s", strerror(errno));
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->evfd >= 0)
        close(h->evfd);
    pthread_cond_destroy(&h->tick);
    pthread_cond_destroy(&h->recheck);
    pthread_mutex_destroy(&h->lock);
    free(h);
    return SW_E_IO;
}

void ws_hub_shutdown(struct ws_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->tick);
    pthread_cond_broadcast(&h->recheck);
    pthread_mutex_unlock(&h->lock);
    if (!h->threads_started)
        return;
    hub_poke(h);
    pthread_join(h->broadcaster, NULL);
    pthread_join(h->ticker, NULL);
    pthread_join(h->checker, NULL);
    h->threads_started = false;
    /* a client added between the loop's last look and its exit */
    struct msg *msgs;
    struct client *inc;
    struct kick *kicks;
    size_t nkicks;
    take_work(h, &msgs, &inc, &kicks, &nkicks);
    free(kicks);
    while (msgs) {
        struct msg *m = msgs;
        msgs = m->next;
        free(m->tenant);
        free(m);
    }
    while (inc) {
        struct client *c = inc;
        inc = c->next;
        client_free(c);
    }
}

void ws_hub_free(struct ws_hub *h)
{
    if (!h)
        return;
    ws_hub_shutdown(h);
    close(h->epfd);
    close(h->evfd);
    pthread_cond_destroy(&h->tick);
    pthread_cond_destroy(&h->recheck);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int ws_hub_add(struct ws_hub *h, int fd, const char *tenant_id, const void *cred,
               size_t cred_len, const char *extra, size_t extra_len,
               void (*release)(void *), void *release_arg)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        release(release_arg);
        return SW_E_IO;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  /* fails on a socketpair: fine */

    struct client *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->release = release;
    c->release_arg = release_arg;
    c->tenant_id = xstrdup(tenant_id ? tenant_id : "");
    c->id = atomic_fetch_add(&h->next_id, 1) + 1;
    if (cred_len) {
        c->cred = xmalloc(cred_len);
        memcpy(c->cred, cred, cred_len);
        c->cred_len = cred_len;
    }
    if (extra_len) {
        c->extra = xmalloc(extra_len);
        memcpy(c->extra, extra, extra_len);
        c->extra_len = extra_len;
    }
    pthread_mutex_lock(&h->lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->lock);
        c->release = NULL;
        free(c->extra);
        free(c->tenant_id);
        free(c->cred);
        free(c);
        release(release_arg);
        return SW_E_BUSY;
    }
    c->next = h->incoming;
    h->incoming = c;
    atomic_fetch_add(&h->attaching, 1);
    pthread_mutex_unlock(&h->lock);
    hub_poke(h);
    return 0;
}

size_t ws_client_count(const struct ws_hub *h)
{
    return h ? atomic_load(&h->nclients) : 0;
}

bool ws_watched(struct ws_hub *h, const char *tenant_id)
{
    if (!h)
        return false;
    if (atomic_load(&h->attaching) > 0)
        return true;            /* it may be this tenant's: attached before delivery */
    if (atomic_load(&h->nclients) == 0)
        return false;
    pthread_mutex_lock(&h->lock);
    const struct tenant *t = tenant_get(h, tenant_id, false);
    bool yes = t && t->n > 0;
    pthread_mutex_unlock(&h->lock);
    return yes;
}

void ws_publish(struct ws_hub *h, const char *tenant_id, const char *text, size_t len)
{
    if (!h)
        return;
    struct msg *m = xmalloc(sizeof(*m) + len + 1);
    m->next = NULL;
    m->tenant = tenant_id ? xstrdup(tenant_id) : NULL;
    m->len = len;
    memcpy(m->text, text, len);
    m->text[len] = '\0';
    pthread_mutex_lock(&h->lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->lock);
        free(m->tenant);
        free(m);
        return;
    }
    /* the broadcaster takes the whole inbox each time it wakes: a message
     * behind others is taken with them, so only the first one pokes (a
     * scheduler commit publishes hundreds, a syscall each before) */
    bool first = h->inbox == NULL;
    *h->inbox_tail = m;
    h->inbox_tail = &m->next;
    pthread_mutex_unlock(&h->lock);
    if (first)
        hub_poke(h);
}
