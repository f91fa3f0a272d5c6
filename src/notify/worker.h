/* worker.h: the notifier's insides, shared by its files (not for other
 * modules):
 *   notifier.c  the design, the worker loop, start and stop, statistics
 *   dispatch.c  rows to transfers: destinations, their limits and
 *               breakers, starting and finishing transfers
 *   record.c    attempts recorded, the store's failures waited out */
#ifndef SW_NOTIFY_WORKER_H
#define SW_NOTIFY_WORKER_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "notify/notify_int.h"
#include "store/store_notify.h"
#include "util/backoff.h"
#include "util/log.h"

#define DEST_BUCKETS 128
#define DEST_FORGET_MS (10 * 60 * 1000)     /* an idle, healthy destination is forgotten */
#define LOG_EVERY_MS 10000

struct notifier;
struct dest;

/* A claimed row on its way: queued at its destination, in flight, or
 * finished and waiting for the store to take its record. */
struct job {
    struct job *next;
    struct sw_outbox_row row;
    struct dest *d;
    struct xfer x;
    bool probe;                 /* the half-open breaker's probe */
    int64_t claimed;            /* monotonic ms: the lease started about then */
    int64_t at, t0;             /* the attempt: wall and monotonic ms at its start */
    /* the record, once finished */
    struct sw_notify_attempt a;
    enum sw_outbox_outcome outcome;
    int64_t next_at;
    bool skipped;               /* not sent: the breaker was open */
};

/* One host:port of a channel.  Fields under the worker's dmu (the worker
 * writes, /metrics reads). */
struct dest {
    struct dest *next;          /* hash chain */
    char name[NOTIFY_DEST_MAX];
    struct notify_breaker br;
    int in_flight, queued;
    struct job *q_head, *q_tail;
    int64_t last_used;          /* monotonic ms */
    int64_t avg_ms;             /* recent transfer time (EWMA), 0 = none yet */
};

struct worker {
    struct notifier *n;
    enum notify_channel ch;
    pthread_t th;
    bool started;
    CURLM *multi;               /* NULL for the websocket channel (in process) */
    atomic_bool woken;
    _Atomic int in_flight;

    pthread_mutex_t dmu;
    struct dest *dests[DEST_BUCKETS];
    size_t ndests;

    /* the worker thread's own */
    struct job *running;        /* transfers in the multi handle */
    struct job *unrecorded;     /* finished, the store refused the record: retried first */
    int queued_total;
    struct backoff store_bo;
    int64_t store_retry_at;     /* monotonic ms; 0 = the store is fine */
    /* rows given back, not yet written (notify_give_back_flush) */
    int64_t *gb_ids, *gb_ats;
    size_t ngb, gb_cap;
    int64_t next_forget;
    struct log_limit log;
};

struct notifier {
    struct store *store;
    struct ws_hub *hub;
    struct notify_opts o;
    struct notify_breaker_cfg bcfg;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* CLOCK_MONOTONIC; the websocket worker waits on it */
    uint64_t wake_gen;          /* under mu: bumped by notify_wake */
    struct worker w[NOTIFY_NCHANNELS];
    _Atomic uint64_t delivered, failed, dead, digested, skipped;
    bool curl_inited;
};

static inline int64_t notify_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t notify_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t notify_clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- record.c: attempts and the store ------------------------------------- */

/* The store failed / answered: the worker's backoff (50 ms .. 5 s) and log. */
void notify_store_failed(struct worker *w, const char *what, int rc);
void notify_store_ok(struct worker *w);
void notify_job_free(struct job *j);
/* Gives a claimed row back to the outbox, due at `at`, without an attempt:
 * noted, then written with the others of the turn by notify_give_back_flush
 * in one transaction (a row not written is still leased, so the lease
 * brings it back at worst). */
void notify_give_back(struct worker *w, struct job *j, int64_t at);
void notify_give_back_flush(struct worker *w);
/* Fills j's attempt record from the delivery's result: delivered, retry
 * (at its backoff, not before not_before) or dead. */
void notify_judge(struct worker *w, struct job *j, const struct delivery *d, int64_t not_before);
/* Records j's attempt and frees j, or keeps j on w->unrecorded when the
 * store refuses (retried before any new claim). */
void notify_conclude(struct worker *w, struct job *j);
void notify_flush_unrecorded(struct worker *w);

/* ---- dispatch.c: rows to transfers ------------------------------------------ */

/* A claimed row: started, skipped (breaker open), queued at its
 * destination, or given back when the destination's queue is full. */
void notify_dispatch(struct worker *w, struct job *j, int64_t now);
/* The websocket channel: in process, at once. */
void notify_deliver_websocket(struct worker *w, struct job *j);
/* Transfers that finished: recorded, breakers told, queues moved on. */
void notify_finish(struct worker *w);
/* Queued rows whose lease is half gone go back to the outbox. */
void notify_expire_queued(struct worker *w, int64_t now);
/* Forgets idle, healthy destinations (every minute at most). */
void notify_dest_forget(struct worker *w, int64_t now);
/* Whether w holds row id already (running, queued or unrecorded). */
bool notify_holding(struct worker *w, int64_t id);
/* Stopping: every transfer and queued row back to the outbox. */
void notify_drain_out(struct worker *w);

#endif
