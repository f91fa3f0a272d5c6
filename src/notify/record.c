/* record.c: a delivery attempt recorded with the row's new state
 * (delivered, retry at a backoff, dead with its notify.dead notice), and
 * the worker's patience with a failing store. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "notify/worker.h"
#include "util/xalloc.h"
#include "ws/ws.h"

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
    char at[SLA_TIME_BUFSZ];
    sla_time_format(notify_wall_ms(), at);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}",
                          "type", NOTIFY_TYPE_DEAD, "tenant_id", r->tenant_id, "outbox_id",
                          (json_int_t)r->id, "id", r->key, "channel",
                          notify_channel_name(r->channel), "recipient", who, "notice_type",
                          r->type, "item_id", r->item_id, "attempts", attempts, "last_error",
                          error, "occurred_at", at);
    char *text = json_dumps(o, JSON_COMPACT);
    if (text)
        store_live_publish(n->store, r->tenant_id, text);   /* every node's dashboards */
    free(text);
    json_decref(o);
}

/* ---- the store, and waiting it out ------------------------------------------- */

void notify_store_failed(struct worker *w, const char *what, int rc)
{
    int64_t d = backoff_fail(&w->store_bo);
    w->store_retry_at = notify_mono_ms() + d;
    /* no changing numbers in the text: the limiter folds identical lines */
    log_limited(&w->log, LOG_ERROR, "notify: %s worker: %s: %s (backing off, up to %d s)",
                notify_channel_name(w->ch), what, sw_strerror(rc), BACKOFF_STORE_CAP_MS / 1000);
}

void notify_store_ok(struct worker *w)
{
    unsigned k = backoff_ok(&w->store_bo);
    w->store_retry_at = 0;
    if (k) {
        log_limit_reset(&w->log);
        log_info("notify: %s worker: the store answers again after %u failures",
                 notify_channel_name(w->ch), k);
    }
}

void notify_job_free(struct job *j)
{
    notify_xfer_release(&j->x);
    sodium_memzero(j->row.secret, sizeof(j->row.secret));
    sw_outbox_row_release(&j->row);
    free(j);
}

/* Gives a claimed row back, due at `at`, without an attempt. */
void notify_give_back(struct worker *w, struct job *j, int64_t at)
{
    if (w->ngb == w->gb_cap) {
        w->gb_cap = w->gb_cap ? w->gb_cap * 2 : 64;
        w->gb_ids = xrealloc(w->gb_ids, w->gb_cap * sizeof(*w->gb_ids));
        w->gb_ats = xrealloc(w->gb_ats, w->gb_cap * sizeof(*w->gb_ats));
    }
    w->gb_ids[w->ngb] = j->row.id;
    w->gb_ats[w->ngb++] = at;
}

void notify_give_back_flush(struct worker *w)
{
    if (!w->ngb)
        return;
    int rc = store_outbox_release_many(w->n->store, w->gb_ids, w->gb_ats, w->ngb);
    if (rc < 0 && rc != SW_E_CONFLICT)
        log_limited(&w->log, LOG_WARN, "notify: %s worker: cannot give back outbox rows: %s "
                    "(their lease brings them back)", notify_channel_name(w->ch),
                    sw_strerror(rc));
    w->ngb = 0;
}

/* ---- recording an attempt -------------------------------------------------------- */

/* Fills the attempt record of a finished (or skipped) delivery. */
void notify_judge(struct worker *w, struct job *j, const struct delivery *d, int64_t not_before)
{
    struct notifier *n = w->n;
    memset(&j->a, 0, sizeof(j->a));
    j->a.at = j->at;
    j->a.ok = d->ok;
    j->a.status = d->status;
    snprintf(j->a.error, sizeof(j->a.error), "%s", d->ok ? "" : d->error);
    j->a.duration_ms = j->skipped ? 0 : notify_mono_ms() - j->t0;
    int attempts = j->row.attempts + 1;
    j->outcome = d->ok ? SW_OUTCOME_DELIVERED
                 : attempts >= n->o.max_attempts ? SW_OUTCOME_DEAD
                                                 : SW_OUTCOME_RETRY;
    j->next_at = 0;
    if (j->outcome == SW_OUTCOME_RETRY) {
        j->next_at = notify_wall_ms() + notify_backoff_ms(attempts, n->o.backoff_ms,
                                                          n->o.backoff_max_ms,
                                                          randombytes_random());
        if (j->next_at < not_before)
            j->next_at = not_before;
    }
}

/* Records j's attempt.  False when the store refused (j is kept to retry). */
static bool record(struct worker *w, struct job *j)
{
    struct notifier *n = w->n;
    int rc = store_outbox_record(n->store, j->row.id, &j->a, j->outcome, j->next_at);
    if (rc < 0 && rc != SW_E_CONFLICT) {
        /* retried before any new claim; if we die first, the lease brings
         * the row back: at worst one more send, with the same key */
        notify_store_failed(w, "cannot record a delivery attempt", rc);
        return false;
    }
    notify_store_ok(w);
    if (rc == SW_E_CONFLICT)
        return true;    /* someone else finished it after our lease ran out */
    const struct sw_outbox_row *r = &j->row;
    if (j->a.ok) {
        n->delivered++;
        if (!strcmp(r->type, NOTIFY_TYPE_DIGEST))
            n->digested++;
        return true;
    }
    n->failed++;
    int attempts = r->attempts + 1;
    char who[SW_URL_MAX + 1];
    recipient_public(r, who, sizeof(who));
    if (j->outcome == SW_OUTCOME_DEAD)
        raise_dead(n, r, attempts, j->a.error);
    else if (j->skipped)
        log_debug("notify: %s to %s (row %lld) not sent, attempt %d of %d: %s",
                  notify_channel_name(r->channel), who, (long long)r->id, attempts,
                  n->o.max_attempts, j->a.error);
    else
        log_info("notify: %s to %s (row %lld) failed, attempt %d of %d, retry in %lld ms: %s",
                 notify_channel_name(r->channel), who, (long long)r->id, attempts,
                 n->o.max_attempts, (long long)(j->next_at - notify_wall_ms()), j->a.error);
    return true;
}

/* Records j and frees it, or keeps it for a later try. */
void notify_conclude(struct worker *w, struct job *j)
{
    if (record(w, j)) {
        notify_job_free(j);
        return;
    }
    j->next = w->unrecorded;
    w->unrecorded = j;
}

/* The store came back: the records it refused, oldest first would be
 * nicer but the order does not matter (each is its own row). */
void notify_flush_unrecorded(struct worker *w)
{
    while (w->unrecorded) {
        struct job *j = w->unrecorded;
        if (!record(w, j))
            return;
        w->unrecorded = j->next;
        notify_job_free(j);
    }
}
