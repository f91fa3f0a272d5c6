/* sched.c: one thread, sleeping until the next due instant.
 *
 * The sleep target lives in an atomic so that sched_hint, called on every
 * item write from the HTTP threads, costs one load and a compare: only a
 * hint earlier than the current target takes the lock and signals.  The
 * thread re-reads the earliest instant from the store after every round,
 * so a lost hint costs at most the fallback interval, never an event.
 *
 * Processing is at-least-once safe: a source marks what it fired in the same
 * transaction as the events it writes, so a crash between rounds re-does
 * nothing that committed and loses nothing that did not.
 *
 * A store that fails (disk full, read-only, down) leaves the due items due,
 * so retrying at once would spin: after a failed round the thread waits
 * 50 ms, then 100, 200 ... up to 5 s (util/backoff.h), and goes back to
 * normal the moment a round succeeds.  The error is logged through a
 * limiter (once per 10 s, with the count of the copies held back). */
#include "sched/sched.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/backoff.h"
#include "util/err.h"
#include "util/log.h"
#include "util/xalloc.h"

#define SCHED_MAX_SOURCES 4
#define CLAIMED_ELSEWHERE_MS 50
#define SCHED_LOG_EVERY_MS 10000

struct sched {
    struct store *store;
    struct sched_source src[SCHED_MAX_SOURCES];
    int nsrc;
    struct sched_config cfg;
    sched_done_fn done;
    void *done_ud;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* CLOCK_MONOTONIC */
    bool stopping;
    bool poked;
    _Atomic int64_t target;     /* wall-clock ms the thread sleeps until */

    _Atomic uint64_t rounds, processed, errors;

    /* the thread's own: waiting out a failing store */
    struct backoff backoff;
    _Atomic int64_t backoff_ms;     /* the current wait, for /metrics; 0 = healthy */
    struct log_limit log;
};

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Processes everything due now; returns the number of items.  *failed is
 * set when a source's store call failed. */
static uint64_t round_once(struct sched *sc, int64_t now, bool *failed)
{
    uint64_t total = 0;
    for (int i = 0; i < sc->nsrc; i++) {
        int processed;
        do {
            processed = 0;
            int rc = sc->src[i].process_due(sc->store, now, sc->cfg.batch, &processed);
            if (rc < 0) {
                sc->errors++;
                *failed = true;
                log_limited(&sc->log, LOG_ERROR,
                            "scheduler: %s: processing due items failed: %s",
                            sc->src[i].name, sw_strerror(rc));
                break;
            }
            total += (uint64_t)processed;
        } while (processed == sc->cfg.batch);
    }
    return total;
}

static int64_t earliest(struct sched *sc, int64_t now, bool *failed)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < sc->nsrc; i++) {
        int64_t at = INT64_MAX;
        int rc = sc->src[i].next_due(sc->store, now, &at);
        if (rc < 0) {
            sc->errors++;
            *failed = true;
            log_limited(&sc->log, LOG_ERROR, "scheduler: %s: reading the next due instant "
                        "failed: %s", sc->src[i].name, sw_strerror(rc));
            at = INT64_MAX;     /* the backoff decides when to look again */
        }
        if (at < best)
            best = at;
    }
    return best;
}

/* After a round: the backoff's wait when the store failed, else 0. */
static int64_t after_round(struct sched *sc, bool failed)
{
    if (failed) {
        int64_t d = backoff_fail(&sc->backoff);
        sc->backoff_ms = d;
        return d;
    }
    unsigned n = backoff_ok(&sc->backoff);
    if (n) {
        log_limit_reset(&sc->log);
        log_info("scheduler: the store answers again after %u failed rounds", n);
    }
    sc->backoff_ms = 0;
    return 0;
}

static void *run(void *arg)
{
    struct sched *sc = arg;
    pthread_mutex_lock(&sc->mu);
    while (!sc->stopping) {
        pthread_mutex_unlock(&sc->mu);
        int64_t now = sc->cfg.now_ms();
        bool failed = false;
        uint64_t n = round_once(sc, now, &failed);
        sc->rounds++;
        sc->processed += n;
        if (n && sc->done)
            sc->done(sc->done_ud, (int)n);
        /* a failed round backs off whatever is due: no need to ask */
        int64_t next = failed ? INT64_MAX : earliest(sc, sc->cfg.now_ms(), &failed);
        int64_t pause = after_round(sc, failed);
        now = sc->cfg.now_ms();
        int64_t cap = now + sc->cfg.max_sleep_ms;
        if (next > cap)
            next = cap;
        if (pause)  /* due items stay due while the store fails: no spinning */
            next = now + pause;
        else if (n == 0 && next <= now)
            /* due but nothing claimable: another node holds those items
             * (claims skip locked rows) until it commits; look again
             * shortly instead of spinning on them */
            next = now + CLAIMED_ELSEWHERE_MS;
        pthread_mutex_lock(&sc->mu);
        sc->target = next;
        /* sleep until next (wall clock), or a hint, or stop */
        while (!sc->stopping && !sc->poked) {
            int64_t wait = sc->target - sc->cfg.now_ms();
            if (wait <= 0)
                break;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ns = ts.tv_nsec + (wait % 1000) * 1000000;
            ts.tv_sec += wait / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&sc->cv, &sc->mu, &ts);
        }
        sc->poked = false;
    }
    pthread_mutex_unlock(&sc->mu);
    return NULL;
}

int sched_start(struct store *s, const struct sched_source *sources, int n,
                const struct sched_config *cfg, sched_done_fn done, void *done_ud,
                struct sched **out)
{
    if (n < 0 || n > SCHED_MAX_SOURCES)
        return -1;
    struct sched *sc = xcalloc(1, sizeof(*sc));
    sc->store = s;
    memcpy(sc->src, sources, sizeof(*sources) * (size_t)n);
    sc->nsrc = n;
    sc->cfg.max_sleep_ms = cfg && cfg->max_sleep_ms > 0 ? cfg->max_sleep_ms : 60000;
    sc->cfg.batch = cfg && cfg->batch > 0 ? cfg->batch : 500;
    sc->cfg.now_ms = cfg && cfg->now_ms ? cfg->now_ms : real_now_ms;
    sc->done = done;
    sc->done_ud = done_ud;
    sc->target = INT64_MAX;
    backoff_init(&sc->backoff, cfg && cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms
                                                               : BACKOFF_STORE_BASE_MS,
                 cfg && cfg->backoff_cap_ms > 0 ? cfg->backoff_cap_ms : BACKOFF_STORE_CAP_MS);
    log_limit_init(&sc->log, SCHED_LOG_EVERY_MS);
    pthread_mutex_init(&sc->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sc->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&sc->thread, NULL, run, sc) != 0) {
        log_limit_destroy(&sc->log);
        pthread_mutex_destroy(&sc->mu);
        pthread_cond_destroy(&sc->cv);
        free(sc);
        return -1;
    }
    *out = sc;
    return 0;
}

void sched_hint(struct sched *sc, int64_t at)
{
    if (!sc || at >= sc->target)
        return;
    pthread_mutex_lock(&sc->mu);
    if (at < sc->target) {
        sc->target = at;
        sc->poked = true;
        pthread_cond_signal(&sc->cv);
    }
    pthread_mutex_unlock(&sc->mu);
}

void sched_stop(struct sched *sc)
{
    if (!sc)
        return;
    pthread_mutex_lock(&sc->mu);
    sc->stopping = true;
    pthread_cond_signal(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
    pthread_join(sc->thread, NULL);
    log_limit_reset(&sc->log);
    log_limit_destroy(&sc->log);
    pthread_mutex_destroy(&sc->mu);
    pthread_cond_destroy(&sc->cv);
    free(sc);
}

void sched_stats(const struct sched *sc, struct sched_stats *out)
{
    out->rounds = sc->rounds;
    out->processed = sc->processed;
    out->errors = sc->errors;
    out->next_at = sc->target;
    out->backoff_ms = sc->backoff_ms;
}
