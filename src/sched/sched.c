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
 * nothing that committed and loses nothing that did not. */
#include "sched/sched.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/xalloc.h"

#define SCHED_MAX_SOURCES 4

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
};

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Processes everything due now; returns the number of items. */
static uint64_t round_once(struct sched *sc, int64_t now)
{
    uint64_t total = 0;
    for (int i = 0; i < sc->nsrc; i++) {
        int processed;
        do {
            processed = 0;
            int rc = sc->src[i].process_due(sc->store, now, sc->cfg.batch, &processed);
            if (rc < 0) {
                sc->errors++;
                log_error("scheduler: %s: processing due items failed (%d)",
                          sc->src[i].name, rc);
                break;
            }
            total += (uint64_t)processed;
        } while (processed == sc->cfg.batch);
    }
    return total;
}

static int64_t earliest(struct sched *sc, int64_t now)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < sc->nsrc; i++) {
        int64_t at = INT64_MAX;
        if (sc->src[i].next_due(sc->store, now, &at) < 0) {
            sc->errors++;
            at = now + 1000;    /* the store hiccuped: look again soon */
        }
        if (at < best)
            best = at;
    }
    return best;
}

static void *run(void *arg)
{
    struct sched *sc = arg;
    pthread_mutex_lock(&sc->mu);
    while (!sc->stopping) {
        pthread_mutex_unlock(&sc->mu);
        int64_t now = sc->cfg.now_ms();
        uint64_t n = round_once(sc, now);
        sc->rounds++;
        sc->processed += n;
        if (n && sc->done)
            sc->done(sc->done_ud, (int)n);
        int64_t next = earliest(sc, sc->cfg.now_ms());
        int64_t cap = sc->cfg.now_ms() + sc->cfg.max_sleep_ms;
        if (next > cap)
            next = cap;
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
    pthread_mutex_init(&sc->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sc->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&sc->thread, NULL, run, sc) != 0) {
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
}
