/* hub_int.h: what the hub's files share (hub.c: the broadcaster and the
 * clients; ticker.c: the periodic metrics; recheck.c: credentials checked
 * again).  Not for other modules. */
#ifndef SW_WS_HUB_INT_H
#define SW_WS_HUB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <wslay/wslay.h>

#include "ws/frame_guard.h"
#include "ws/ws.h"

#define NBUCKETS 256

struct msg {
    struct msg *next;
    char *tenant;               /* NULL = every client */
    size_t len;
    char text[];
};

struct tenant;

struct client {
    struct client *prev, *next;     /* in its tenant's list, or the incoming list */
    struct tenant *t;
    int fd;
    uint32_t armed;                 /* the epoll mask registered */
    bool dead;
    bool dirty;                     /* queued to this turn, not flushed yet */
    struct client *dirty_next;
    wslay_event_context_ptr ctx;
    void (*release)(void *);
    void *release_arg;
    char *extra;                    /* bytes read by the HTTP server, served first */
    size_t extra_len, extra_off;
    int64_t last_seen;              /* monotonic ms of the last bytes received */
    char *tenant_id;                /* until attached */
    uint64_t id;                    /* never reused: how the checker names it */
    void *cred;                     /* the credential to check again; immutable */
    size_t cred_len;
    struct ws_guard guard;          /* frames wslay would drop without a 1002 */
    bool guard_closed;              /* the 1002 close is queued */
};

struct tenant {
    struct tenant *next;            /* hash chain */
    struct client *clients;
    size_t n;
    char id[];
};

/* A client the checker found no longer allowed, with its close code. */
struct kick {
    uint64_t id;
    enum ws_verdict code;
};

struct ws_hub {
    struct ws_opts o;
    pthread_mutex_t lock;
    pthread_cond_t tick;            /* wakes the ticker early (stop) */
    pthread_cond_t recheck;         /* wakes the checker (ws_hub_recheck, stop) */
    pthread_t broadcaster, ticker, checker;
    bool threads_started;
    int epfd, evfd;

    /* under lock */
    bool stopping;
    bool recheck_now;
    struct msg *inbox, **inbox_tail;
    struct client *incoming;
    struct tenant *buckets[NBUCKETS];
    ws_metrics_cb mcb;
    void *mud;
    ws_auth_cb acb;
    void *aud;
    struct kick *kicks;             /* for the broadcaster */
    size_t nkicks, kcap;

    atomic_size_t nclients;
    _Atomic size_t attaching;       /* added, not yet in a tenant's list (ws_watched) */
    _Atomic uint64_t next_id;
    _Atomic uint64_t auth_closed;

    /* the broadcaster's */
    struct client *reap;            /* dropped during this turn, freed at its end */
    struct client *dirty;           /* given messages this turn, to flush once */
    int64_t next_ping;
};

/* Wakes the broadcaster (its eventfd).  Any thread. */
void hub_poke(struct ws_hub *h);

/* Thread bodies, started by ws_hub_new_opts; arg is the hub. */
void *hub_ticker_main(void *arg);
/* The next tick after a pass that ran from start to now (monotonic ns):
 * one interval after the previous tick, not in the past, and after a pass
 * longer than 100 ms no sooner than 9 times its length (such passes take
 * at most a tenth of a core).  Pure. */
int64_t hub_ticker_next(int64_t next, int64_t start, int64_t now, int64_t interval);
void *hub_checker_main(void *arg);

#endif
