/* sched: the scheduler thread that turns due instants into SLA events.
 *
 * Every open clock has a next instant to look at (its next warning
 * threshold, its breach, its next escalation step).  The scheduler sleeps
 * until the earliest of them, is woken early when a write makes an earlier
 * one (sched_hint), and otherwise looks again every 60 s at most.  When it
 * wakes it asks each due source (findings, alerts) to process what is due:
 * the source claims the due items, asks the core what happened, and writes
 * the events, flags and outbox rows in one transaction.  Then the notifier
 * is woken to deliver.  A failing store is retried with a capped
 * exponential backoff, never in a tight loop. */
#ifndef SW_SCHED_H
#define SW_SCHED_H

#include <stdint.h>

struct store;
struct sched;

/* A kind of item with due instants (findings, alerts). */
struct sched_source {
    const char *name;
    /* Earliest instant any item needs a look (INT64_MAX: none). */
    int (*next_due)(struct store *s, int64_t now, int64_t *at);
    /* Processes up to limit due items in one transaction; *processed tells
     * how many (the scheduler calls again while it equals limit). */
    int (*process_due)(struct store *s, int64_t now, int limit, int *processed);
};

/* Called after each round that processed something (wakes the notifier). */
typedef void (*sched_done_fn)(void *ud, int processed);

struct sched_config {
    int64_t max_sleep_ms;       /* fallback scan interval (60 000) */
    int batch;                  /* items per transaction (500) */
    /* The clock: real time unless a test or the demo sets it. */
    int64_t (*now_ms)(void);
    /* Waits after a round whose store failed: base, doubling, capped
     * (0 = 50 ms and 5 s, util/backoff.h). */
    int64_t backoff_base_ms, backoff_cap_ms;
};

/* Starts the thread; sources[0..n) are copied. *out is the caller's. */
int sched_start(struct store *s, const struct sched_source *sources, int n,
                const struct sched_config *cfg, sched_done_fn done, void *done_ud,
                struct sched **out);
/* A write made `at` an instant to look at: wakes the thread if it would
 * otherwise sleep past it.  Cheap (an atomic compare) and thread-safe. */
void sched_hint(struct sched *sc, int64_t at);
/* Stops and joins the thread; frees sc. */
void sched_stop(struct sched *sc);

/* Rounds, items processed, errors: for /metrics and tests. */
struct sched_stats {
    uint64_t rounds, processed, errors;
    int64_t next_at;            /* what it sleeps until now */
    int64_t backoff_ms;         /* waiting out a failing store this long; 0 = healthy */
};
void sched_stats(const struct sched *sc, struct sched_stats *out);

#endif
