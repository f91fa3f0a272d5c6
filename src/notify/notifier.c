/* notifier.c: the outbox workers.
 *
 * Design
 * ------
 * Notices are never sent from the thread that decides them.  The scheduler
 * (or an API call) writes outbox rows in the transaction of the event that
 * causes them; these workers deliver them later.  The outbox table is the
 * job queue, so a job survives a crash and is visible to every node.
 *
 * There is one worker thread per channel (websocket, email, slack,
 * webhook), so a slow SMTP server never delays a webhook.  Each worker:
 *
 *   1. claims a batch of its channel's due rows (next_attempt_at <= now) in
 *      one transaction, leasing them: next_attempt_at = now + lease.  If the
 *      process dies mid-delivery the lease runs out and any node retries;
 *      on PostgreSQL the claim becomes FOR UPDATE SKIP LOCKED.  Flood
 *      control happens in the same transaction: beyond K first sends to one
 *      recipient within a window W, rows are folded into one digest row,
 *      due when the window closes;
 *   2. delivers each row (connect 5 s, total 15 s), then records the
 *      attempt and the row's new state in one transaction: delivered on
 *      2xx / SMTP 250; else retried after an exponential backoff with
 *      jitter (base * 2^(n-1), +-20 %, capped), or dead after N attempts.
 *      A dead row raises a notify.dead notice on the tenant's WebSocket
 *      channel and in the log;
 *   3. sleeps until its channel's next due row (a read, so an idle worker
 *      never takes the write lock), at most POLL_MS (rows written by
 *      another process or node are found within that), or until
 *      notify_wake().
 *
 * Exactly-once is the receiver's half of the bargain: a row is marked
 * delivered only after the receiver accepted it, so a crash between the two
 * sends it again, with the same Idempotency-Key (and Message-ID), which the
 * receiver uses to drop the copy.
 *
 * Stopping sets a flag, wakes the workers, and aborts transfers in flight
 * (libcurl's progress callback); an aborted row is released (due now)
 * without counting an attempt.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/sla.h"
#include "notify/notify_int.h"
#include "store/store_notify.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "ws/ws.h"

#define BATCH 32
#define POLL_MS 1000

struct notifier;

struct worker {
    struct notifier *n;
    enum notify_channel ch;
    pthread_t th;
    bool started;
};

struct notifier {
    struct store *store;
    struct ws_hub *hub;
    struct notify_opts o;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* CLOCK_MONOTONIC */
    uint64_t wake_gen;          /* under mu: bumped by notify_wake */
    struct worker w[NOTIFY_NCHANNELS];
    _Atomic uint64_t delivered, failed, dead, digested;
    bool curl_inited;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    o->smtp_url = c->smtp_url;
    o->smtp_from = c->smtp_from;
    o->smtp_starttls = !strcmp(c->smtp_starttls, "off")   ? 0
                       : !strcmp(c->smtp_starttls, "try") ? 1
                                                          : 2;
}

/* ---- delivering one row -------------------------------------------------- */

/* Slack's mrkdwn treats &, < and > as markup. */
static char *slack_escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *out = xmalloc(n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static void deliver_slack(const struct sw_outbox_row *r, bool allow_private, atomic_bool *stop,
                          struct delivery *d)
{
    char *details = notify_details(r->notice);
    char *text = slack_escape(details);
    json_t *o = json_pack("{s:s}", "text", text);
    char *body = json_dumps(o, JSON_COMPACT);
    deliver_http(r->recipient, body, strlen(body), NULL, allow_private, stop, d);
    free(body);
    json_decref(o);
    free(text);
    free(details);
}

static void deliver_webhook(const struct sw_outbox_row *r, bool allow_private,
                            atomic_bool *stop, struct delivery *d)
{
    if (!r->secret[0]) {
        memset(d, 0, sizeof(*d));
        snprintf(d->error, sizeof(d->error), "the tenant has no webhook_secret: not sent unsigned");
        return;
    }
    size_t len = strlen(r->notice);
    char sig[NOTIFY_SIG_HEX + 1];
    notify_sign_hex(r->notice, len, r->secret, sig);
    char h_sig[NOTIFY_SIG_HEX + 64], h_key[NOTIFY_KEY_LEN + 64];
    snprintf(h_sig, sizeof(h_sig), "X-Slawatch-Signature: sha256=%s", sig);
    snprintf(h_key, sizeof(h_key), "Idempotency-Key: %s", r->key);
    const char *headers[] = {h_sig, h_key, NULL};
    deliver_http(r->recipient, r->notice, len, headers, allow_private, stop, d);
}

static void deliver_mail(struct notifier *n, const struct sw_outbox_row *r, int64_t now,
                         struct delivery *d)
{
    char *summary = notify_summary(r->notice);
    char *subject = xasprintf("[slawatch] %s", summary);
    char *text = notify_details(r->notice);
    char *msg = notify_email_message(n->o.smtp_from, r->recipient, subject, text, r->key, now);
    deliver_email(&n->o, r->recipient, msg, &n->stop, d);
    free(msg);
    free(text);
    free(subject);
    free(summary);
}

static void recipient_public(const struct sw_outbox_row *r, char *out, size_t len)
{
    notify_recipient_public(r->channel, r->recipient, out, len);
}

static void raise_dead(struct notifier *n, const struct sw_outbox_row *r, int attempts,
                       const char *error)
{
    char who[SW_URL_MAX + 1];
    recipient_public(r, who, sizeof(who));
    log_warn("notify: %s: outbox row %lld (%s, tenant %s, %s to %s) is dead after %d "
             "attempts: %s", NOTIFY_TYPE_DEAD, (long long)r->id, r->type, r->tenant_id,
             notify_channel_name(r->channel), who, attempts, error);
    n->dead++;
    if (!n->hub)
        return;
    char at[SLA_TIME_BUFSZ];
    sla_time_format(wall_ms(), at);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}",
                          "type", NOTIFY_TYPE_DEAD, "tenant_id", r->tenant_id, "outbox_id",
                          (json_int_t)r->id, "id", r->key, "channel",
                          notify_channel_name(r->channel), "recipient", who, "notice_type",
                          r->type, "item_id", r->item_id, "attempts", attempts, "last_error",
                          error, "occurred_at", at);
    char *text = json_dumps(o, JSON_COMPACT);
    if (text)
        ws_publish(n->hub, r->tenant_id, text, strlen(text));
    free(text);
    json_decref(o);
}

static void deliver_row(struct notifier *n, const struct sw_outbox_row *r)
{
    struct delivery d;
    memset(&d, 0, sizeof(d));
    int64_t at = wall_ms(), t0 = mono_ms();
    if (!r->notice) {
        snprintf(d.error, sizeof(d.error), "the row has no notice");
    } else {
        switch (r->channel) {
        case NOTIFY_WEBSOCKET:
            /* in-process: the hub queues it for the tenant's dashboards */
            if (n->hub)
                ws_publish(n->hub, r->tenant_id, r->notice, strlen(r->notice));
            d.ok = true;
            break;
        case NOTIFY_EMAIL:
            deliver_mail(n, r, at, &d);
            break;
        case NOTIFY_SLACK:
            deliver_slack(r, n->o.allow_private, &n->stop, &d);
            break;
        case NOTIFY_WEBHOOK:
            deliver_webhook(r, n->o.allow_private, &n->stop, &d);
            break;
        default:
            snprintf(d.error, sizeof(d.error), "unknown channel");
            break;
        }
    }
    if (d.aborted) {        /* shutting down: not an attempt; due again now */
        store_outbox_release(n->store, r->id, wall_ms());
        return;
    }

    struct sw_notify_attempt a;
    memset(&a, 0, sizeof(a));
    a.at = at;
    a.ok = d.ok;
    a.status = d.status;
    snprintf(a.error, sizeof(a.error), "%s", d.ok ? "" : d.error);
    a.duration_ms = mono_ms() - t0;

    int attempts = r->attempts + 1;
    enum sw_outbox_outcome outcome = d.ok                           ? SW_OUTCOME_DELIVERED
                                     : attempts >= n->o.max_attempts ? SW_OUTCOME_DEAD
                                                                     : SW_OUTCOME_RETRY;
    int64_t next = 0;
    if (outcome == SW_OUTCOME_RETRY)
        next = wall_ms() + notify_backoff_ms(attempts, n->o.backoff_ms, n->o.backoff_max_ms,
                                             randombytes_random());
    int rc = store_outbox_record(n->store, r->id, &a, outcome, next);
    if (rc == SW_E_CONFLICT)
        return;     /* someone else finished it after our lease ran out */
    if (rc < 0) {
        /* the lease will bring it back: at worst one more send, same key */
        log_error("notify: cannot record outbox row %lld: %s", (long long)r->id,
                  sw_strerror(rc));
        return;
    }
    if (d.ok) {
        n->delivered++;
        if (!strcmp(r->type, NOTIFY_TYPE_DIGEST))
            n->digested++;
        return;
    }
    n->failed++;
    char who[SW_URL_MAX + 1];
    recipient_public(r, who, sizeof(who));
    if (outcome == SW_OUTCOME_DEAD)
        raise_dead(n, r, attempts, a.error);
    else
        log_info("notify: %s to %s (row %lld) failed, attempt %d of %d, retry in %lld ms: %s",
                 notify_channel_name(r->channel), who, (long long)r->id, attempts,
                 n->o.max_attempts, (long long)(next - wall_ms()), a.error);
}

/* ---- the worker loop ------------------------------------------------------ */

static void wait_until(struct notifier *n, uint64_t gen, int64_t wait_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (wait_ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(wait_ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&n->mu);
    while (!atomic_load(&n->stop) && n->wake_gen == gen)
        if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&n->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct notifier *n = w->n;
    struct sw_outbox_row *rows = xcalloc(BATCH, sizeof(*rows));
    const struct sw_flood flood = {n->o.flood_max, n->o.flood_window_ms};
    while (!atomic_load(&n->stop)) {
        pthread_mutex_lock(&n->mu);
        uint64_t gen = n->wake_gen;
        pthread_mutex_unlock(&n->mu);

        /* a cheap read first: the claim takes the write lock, so an idle
         * worker must not claim every second for nothing */
        int64_t due = 0, now = wall_ms();
        int rc = store_outbox_next_due(n->store, w->ch, &due);
        if (rc < 0 && rc != SW_E_NOTFOUND)
            log_error("notify: %s worker: %s", notify_channel_name(w->ch), sw_strerror(rc));
        if (rc < 0 || due > now) {
            int64_t wait = rc < 0 ? POLL_MS : due - now < POLL_MS ? due - now : POLL_MS;
            wait_until(n, gen, wait);
            continue;
        }

        size_t k = 0;
        rc = store_outbox_claim(n->store, w->ch, now, n->o.lease_ms, &flood, rows, BATCH, &k);
        if (rc < 0) {
            log_error("notify: %s worker: claim failed: %s", notify_channel_name(w->ch),
                      sw_strerror(rc));
            wait_until(n, gen, POLL_MS);
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            if (atomic_load(&n->stop))
                store_outbox_release(n->store, rows[i].id, wall_ms());
            else
                deliver_row(n, &rows[i]);
            sodium_memzero(rows[i].secret, sizeof(rows[i].secret));
            sw_outbox_row_release(&rows[i]);
        }
    }
    free(rows);
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
    atomic_init(&n->stop, false);
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
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
        w->n = n;
        w->ch = (enum notify_channel)ch;
        if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
            log_error("notify: cannot start the %s worker", notify_channel_name(w->ch));
            notify_stop(n);
            return SW_E_IO;
        }
        w->started = true;
    }
    log_info("notify: workers started (max %d attempts, backoff %lld ms, flood %d per %lld ms)",
             n->o.max_attempts, (long long)n->o.backoff_ms, n->o.flood_max,
             (long long)n->o.flood_window_ms);
    *out = n;
    return 0;
}

void notify_wake(struct notifier *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->wake_gen++;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

void notify_stop(struct notifier *n)
{
    if (!n)
        return;
    atomic_store(&n->stop, true);
    notify_wake(n);
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (n->w[ch].started)
            pthread_join(n->w[ch].th, NULL);
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
}
