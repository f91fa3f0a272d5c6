/* notifier.c: the outbox workers.
 *
 * Design
 * ------
 * Notices are never sent from the thread that decides them.  The scheduler
 * (or an API call) writes outbox rows in the transaction of the event that
 * causes them; these workers deliver them later.  The outbox table is the
 * job queue, so a job survives a crash and is visible to every node.
 *
 * One worker thread per channel (websocket, email, slack, webhook), so a
 * slow SMTP server never delays a webhook.  Within a channel, deliveries
 * run side by side: the worker drives a libcurl multi handle with up to
 * notify_max_in_flight transfers at once, so one tenant's receiver that
 * hangs holds its own transfers, not the worker.  Each turn of a worker:
 *
 *   1. results the store refused to record (disk full) are recorded first;
 *      while the store fails, the worker waits 50 ms doubling to 5 s
 *      between tries and claims nothing (util/backoff.h), logging through a
 *      limiter;
 *   2. when there is room and a row may be due, it claims a batch of its
 *      channel's due rows (next_attempt_at <= now) in one transaction,
 *      leasing them: next_attempt_at = now + lease.  If the process dies
 *      mid-delivery the lease runs out and any node retries; on PostgreSQL
 *      the claim becomes FOR UPDATE SKIP LOCKED.  Flood control happens in
 *      the same transaction: beyond K first sends to one recipient within a
 *      window W, rows are folded into one digest row, due when the window
 *      closes;
 *   3. each row goes to its destination (host:port of the URL, or the SMTP
 *      relay: notify_destination), which admits at most
 *      notify_per_destination transfers at once; a row that finds its
 *      destination full waits in the destination's short queue (claimed,
 *      within its lease) or, beyond it, is given back without an attempt,
 *      due again once the destination is likely through its backlog
 *      (notify_give_back_ms); a turn's give-backs are one transaction;
 *   4. finished transfers are recorded with the row's new state in one
 *      transaction: delivered on 2xx / SMTP 250; else retried after an
 *      exponential backoff with jitter (base * 2^(n-1), +-20 %, capped), or
 *      dead after N attempts.  A dead row raises a notify.dead notice on
 *      the tenant's WebSocket channel and in the log;
 *   5. it waits in curl_multi_poll until a transfer moves, its channel's
 *      next row is due (a read, so an idle worker never takes the write
 *      lock), POLL_MS passes (rows written by another node), or
 *      notify_wake().
 *
 * Circuit breaker (breaker.c)
 * ---------------------------
 * A destination whose deliveries fail notify_breaker_failures times in a
 * row in a way that blames the destination (no connection, timeout, TLS,
 * HTTP 5xx, SMTP 421; a 4xx, 429 included, is the receiver answering:
 * Slack rate-limits per webhook URL, and every tenant's Slack shares one
 * host) is "open" for notify_breaker_cooldown_ms: its rows are not sent.
 * A destination is a host:port, not a URL: a hung host hangs every URL on
 * it, and a per-URL limit would let one host take every slot.  Then one row
 * goes as a probe ("half-open"): delivered closes the breaker, failed
 * opens it again for twice as long (at most notify_backoff_max_ms or the
 * cool-down, whichever is longer).  Open breakers are in /metrics
 * (slawatch_notify_breaker_open{channel,destination}).
 *
 * A row skipped by an open breaker counts as a failed attempt ("not sent:
 * circuit open ..." in its history) and is due again at its normal backoff
 * or when the breaker lets a probe through, whichever is later.  So a
 * destination that never recovers still ends its rows dead after
 * notify_max_attempts (one attempt per cool-down at most, not one per
 * backoff step), and rows are never parked forever; a destination that
 * recovers gets its rows after the probe with the attempts they have left.
 *
 * Exactly-once is the receiver's half of the bargain: a row is marked
 * delivered only after the receiver accepted it, so a crash between the two
 * sends it again, with the same Idempotency-Key (and Message-ID), which the
 * receiver uses to drop the copy.
 *
 * Stopping sets a flag and wakes the workers, which remove their transfers
 * in flight and release their rows (due now) without counting an attempt.
 *
 * Files: notifier.c (this: the loop, start, stop, statistics), dispatch.c
 * (rows to transfers, destinations, breakers), record.c (attempts, the
 * store's failures), breaker.c (the breaker, pure), http_post.c and
 * email.c (the transfers), notice.c (the wire form, pure).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "notify/worker.h"
#include "util/xalloc.h"

#define BATCH 32
#define POLL_MS 1000

void notify_opts_from_cfg(struct notify_opts *o, const struct cfg *c)
{
    memset(o, 0, sizeof(*o));
    o->enabled = c->notify_enabled != 0;
    o->max_attempts = (int)c->notify_max_attempts;
    o->backoff_ms = c->notify_backoff_ms;
    o->backoff_max_ms = c->notify_backoff_max_ms;
    o->lease_ms = c->notify_lease_ms;
    o->flood_max = (int)c->notify_flood_max;
    o->flood_window_ms = c->notify_flood_window_ms;
    o->allow_private = c->notify_allow_private != 0;
    o->connect_timeout_ms = c->notify_connect_timeout_ms;
    o->timeout_ms = c->notify_timeout_ms;
    o->per_destination = (int)c->notify_per_destination;
    o->max_in_flight = (int)c->notify_max_in_flight;
    o->breaker_failures = (int)c->notify_breaker_failures;
    o->breaker_cooldown_ms = c->notify_breaker_cooldown_ms;
    o->smtp_url = c->smtp_url;
    o->smtp_from = c->smtp_from;
    o->smtp_starttls = !strcmp(c->smtp_starttls, "off")   ? 0
                       : !strcmp(c->smtp_starttls, "try") ? 1
                                                          : 2;
    o->smtp_ca_file = c->smtp_ca_file;
    o->pagerduty_events_url = c->pagerduty_events_url;
    o->public_url = c->public_url;
}

/* ---- looking at the outbox ------------------------------------------------------------- */

/* Reads when the next row is due and claims what is due now, if there is
 * room.  Returns the monotonic instant to look again. */
static int64_t look(struct worker *w, int64_t now)
{
    struct notifier *n = w->n;
    int room = w->multi ? n->o.max_in_flight - w->in_flight : BATCH;
    if (room <= 0)
        return now + POLL_MS;   /* a finished transfer makes room and looks again */
    int64_t due = 0, wall = notify_wall_ms();
    int rc = store_outbox_next_due(n->store, w->ch, &due);
    if (rc == SW_E_NOTFOUND) {
        notify_store_ok(w);
        return now + POLL_MS;
    }
    if (rc < 0) {
        notify_store_failed(w, "reading the outbox failed", rc);
        return w->store_retry_at;
    }
    if (due > wall) {
        notify_store_ok(w);
        return now + (due - wall < POLL_MS ? due - wall : POLL_MS);
    }
    const struct sw_flood flood = {n->o.flood_max, n->o.flood_window_ms};
    size_t want = (size_t)(room < BATCH ? room : BATCH), k = 0;
    struct sw_outbox_row rows[BATCH];
    memset(rows, 0, sizeof(rows));
    rc = store_outbox_claim(n->store, w->ch, wall, n->o.lease_ms, &flood, rows, want, &k);
    if (rc < 0) {
        notify_store_failed(w, "claiming rows failed", rc);
        return w->store_retry_at;
    }
    notify_store_ok(w);
    if (k == 0)
        return now + POLL_MS / 10;  /* due, yet nothing to claim (another node's): not a spin */
    for (size_t i = 0; i < k; i++) {
        struct job *j = xcalloc(1, sizeof(*j));
        j->row = rows[i];       /* takes the notice */
        j->claimed = now;
        if (atomic_load(&n->stop)) {
            notify_give_back(w, j, notify_wall_ms());
            notify_job_free(j);
        } else if (notify_holding(w, j->row.id)) {
            notify_job_free(j);    /* ours already; the claim just renewed its lease */
        } else if (!w->multi) {
            notify_deliver_websocket(w, j);
        } else {
            notify_dispatch(w, j, now);
        }
    }
    return now;     /* more may be due: read again */
}

/* ---- the workers ------------------------------------------------------------------------ */

/* The websocket worker's wait: no transfers, a condition variable. */
static void wait_cv(struct worker *w, int64_t wait_ms)
{
    struct notifier *n = w->n;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (wait_ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(wait_ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&n->mu);
    while (!atomic_load(&n->stop) && !atomic_load(&w->woken))
        if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&n->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct notifier *n = w->n;
    int64_t next_look = 0;
    while (!atomic_load(&n->stop)) {
        int64_t now = notify_mono_ms();
        if (atomic_exchange(&w->woken, false))
            next_look = 0;
        bool store_waits = w->store_retry_at && now < w->store_retry_at;
        if (w->unrecorded && !store_waits)
            notify_flush_unrecorded(w);
        if (w->multi) {
            notify_expire_queued(w, now);
            notify_dest_forget(w, now);
        }
        store_waits = w->store_retry_at && now < w->store_retry_at;
        if (!w->unrecorded && !store_waits && now >= next_look)
            next_look = look(w, now);
        notify_give_back_flush(w);      /* what look and the queues gave back */
        int64_t until = next_look;
        if (w->store_retry_at && (w->unrecorded || until < w->store_retry_at))
            until = w->store_retry_at;
        int64_t wait = until - notify_mono_ms();
        wait = notify_clamp64(wait, 0, POLL_MS);
        if (!w->multi) {
            if (wait > 0)
                wait_cv(w, wait);
            continue;
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        int before = w->in_flight;
        notify_finish(w);
        if (w->in_flight < before && next_look > notify_mono_ms())
            next_look = notify_mono_ms();      /* room again: more may be due */
        if (wait > 0 && next_look > notify_mono_ms())
            curl_multi_poll(w->multi, NULL, 0, (int)wait, NULL);
    }
    if (w->multi)
        notify_drain_out(w);
    return NULL;
}

/* ---- life ------------------------------------------------------------------ */

int notify_start(struct store *s, struct ws_hub *hub, const struct notify_opts *o,
                 struct notifier **out)
{
    struct notifier *n = xcalloc(1, sizeof(*n));
    n->store = s;
    n->hub = hub;
    n->o = *o;
    if (n->o.max_attempts < 1)
        n->o.max_attempts = 1;
    if (n->o.connect_timeout_ms <= 0)
        n->o.connect_timeout_ms = 5000;
    if (n->o.timeout_ms <= 0)
        n->o.timeout_ms = 15000;
    if (n->o.per_destination < 1)
        n->o.per_destination = 4;
    if (n->o.max_in_flight < 1)
        n->o.max_in_flight = 64;
    if (n->o.breaker_failures < 1)
        n->o.breaker_failures = 5;
    if (n->o.breaker_cooldown_ms <= 0)
        n->o.breaker_cooldown_ms = 30000;
    n->bcfg.failures = n->o.breaker_failures;
    n->bcfg.cooldown_ms = n->o.breaker_cooldown_ms;
    n->bcfg.cooldown_max_ms = n->o.backoff_max_ms > n->o.breaker_cooldown_ms
                                  ? n->o.backoff_max_ms
                                  : n->o.breaker_cooldown_ms;
    atomic_init(&n->stop, false);
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        struct worker *w = &n->w[ch];
        w->n = n;
        w->ch = (enum notify_channel)ch;
        pthread_mutex_init(&w->dmu, NULL);
        backoff_init(&w->store_bo, BACKOFF_STORE_BASE_MS, BACKOFF_STORE_CAP_MS);
        log_limit_init(&w->log, LOG_EVERY_MS);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("notify: cannot initialise libcurl");
        notify_stop(n);
        return SW_E_IO;
    }
    n->curl_inited = true;
    if (!n->o.enabled) {
        log_info("notify: delivery is off on this node (notify = off): rows are kept");
        *out = n;
        return 0;
    }
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        struct worker *w = &n->w[ch];
        if (ch != NOTIFY_WEBSOCKET && !(w->multi = curl_multi_init())) {
            log_error("notify: cannot create the %s transfers", notify_channel_name(w->ch));
            notify_stop(n);
            return SW_E_IO;
        }
        if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
            log_error("notify: cannot start the %s worker", notify_channel_name(w->ch));
            notify_stop(n);
            return SW_E_IO;
        }
        w->started = true;
    }
    if (n->o.lease_ms < n->o.timeout_ms)
        log_warn("notify: notify_lease_ms (%lld) is shorter than notify_timeout_ms (%lld): "
                 "another node may send a row again while this one is still sending it",
                 (long long)n->o.lease_ms, (long long)n->o.timeout_ms);
    log_info("notify: workers started (max %d attempts, backoff %lld ms, flood %d per %lld ms, "
             "%d per destination, %d in flight per channel, breaker after %d failures for "
             "%lld ms)", n->o.max_attempts, (long long)n->o.backoff_ms, n->o.flood_max,
             (long long)n->o.flood_window_ms, n->o.per_destination, n->o.max_in_flight,
             n->o.breaker_failures, (long long)n->o.breaker_cooldown_ms);
    *out = n;
    return 0;
}

void notify_wake(struct notifier *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->wake_gen++;
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        atomic_store(&n->w[ch].woken, true);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (n->w[ch].multi)
            curl_multi_wakeup(n->w[ch].multi);
}

void notify_stop(struct notifier *n)
{
    if (!n)
        return;
    atomic_store(&n->stop, true);
    notify_wake(n);
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        struct worker *w = &n->w[ch];
        if (w->started)
            pthread_join(w->th, NULL);
        if (w->multi)
            curl_multi_cleanup(w->multi);
        for (unsigned b = 0; b < DEST_BUCKETS; b++)
            while (w->dests[b]) {
                struct dest *d = w->dests[b];
                w->dests[b] = d->next;
                free(d);
            }
        free(w->gb_ids);
        free(w->gb_ats);
        log_limit_reset(&w->log);
        log_limit_destroy(&w->log);
        pthread_mutex_destroy(&w->dmu);
    }
    bool curl = n->curl_inited;
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
    if (curl)   /* curl_global_init is reference-counted: this pairs with ours */
        curl_global_cleanup();
}

void notify_get_stats(struct notifier *n, struct notify_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!n)
        return;
    out->delivered = n->delivered;
    out->failed = n->failed;
    out->dead = n->dead;
    out->digested = n->digested;
    out->skipped = n->skipped;
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        out->in_flight[ch] = n->w[ch].in_flight;
}

size_t notify_dest_stats(struct notifier *n, struct notify_dest_stat *out, size_t max)
{
    size_t k = 0;
    if (!n)
        return 0;
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        struct worker *w = &n->w[ch];
        if (!w->multi)
            continue;
        pthread_mutex_lock(&w->dmu);
        for (unsigned b = 0; b < DEST_BUCKETS; b++)
            for (struct dest *d = w->dests[b]; d; d = d->next, k++) {
                if (k >= max)
                    continue;
                struct notify_dest_stat *s = &out[k];
                s->channel = w->ch;
                snprintf(s->destination, sizeof(s->destination), "%s", d->name);
                s->state = d->br.state;
                s->in_flight = d->in_flight;
                s->queued = d->queued;
                s->failures = d->br.failures;
            }
        pthread_mutex_unlock(&w->dmu);
    }
    return k;
}
