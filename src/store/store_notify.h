/* store_notify.h: the notifications subject of store.h: per-tenant
 * configuration, the outbox, and the history of delivery attempts.
 *
 * The outbox is written inside the transaction of the event that causes a
 * notice (the subjects call store_notice_in, store_int.h, inside their
 * transaction), so an event and its notices commit
 * together or not at all.  Workers then claim due rows with a lease,
 * deliver, and record each attempt together with the row's new state.
 *
 * Groups:
 *   - records: sw_notify_config, sw_outbox_row, sw_notify_attempt
 *   - config: get, put
 *   - outbox: enqueue (own transaction), claim (lease + flood control),
 *     record (attempt + new state, one transaction), release, next_due
 *   - history: a tenant's rows with their attempts, newest first
 */
#ifndef SW_STORE_NOTIFY_H
#define SW_STORE_NOTIFY_H

#include "notify/notify.h"
#include "store/store.h"

#define SW_NOTIFY_RCPT_MAX   20     /* recipients per channel */
#define SW_URL_MAX           1024
#define SW_EMAIL_ADDR_MAX    254
#define SW_SECRET_MAX        256
#define SW_NOTIFY_THR_MAX    8      /* = SLA_THRESHOLDS_MAX */
#define SW_NOTIFY_ERR_MAX    255
#define SW_DIGEST_ITEMS      20     /* items listed in a digest (the count says the rest) */

/* ---- records ----------------------------------------------------------- */

/* A tenant's configuration.  Big (recipients inline): allocate it. */
struct sw_notify_config {
    char tenant_id[SW_ID_MAX + 1];
    unsigned channels;                          /* 1u << NOTIFY_* */
    size_t nrcpt[NOTIFY_NCHANNELS];             /* websocket has none */
    char rcpt[NOTIFY_NCHANNELS][SW_NOTIFY_RCPT_MAX][SW_URL_MAX + 1];
    size_t nthresholds;
    int thresholds[SW_NOTIFY_THR_MAX];          /* ascending */
    char webhook_secret[SW_SECRET_MAX + 1];     /* put: "" = keep the stored one */
    bool webhook_secret_set;                    /* get: one is stored */
    /* for people (escalations naming a user): the PagerDuty routing key
     * used when the person has none, and the voice webhook of the phone
     * method ("" = none) */
    char pagerduty_routing_key[NOTIFY_KEY_MAX + 1];
    char voice_webhook[SW_URL_MAX + 1];
    int64_t updated_at;
};

enum sw_outbox_state {
    SW_OUTBOX_PENDING,
    SW_OUTBOX_DELIVERED,
    SW_OUTBOX_DEAD,
    SW_OUTBOX_DIGESTED,         /* folded into a digest by flood control */
};
const char *sw_outbox_state_name(enum sw_outbox_state st);

/* One outbox row. notice is JSON text owned by the row's producer:
 * claim allocates it (free with sw_outbox_row_release), history lends it
 * for the callback's duration. */
struct sw_outbox_row {
    int64_t id;
    char tenant_id[SW_ID_MAX + 1];
    enum notify_channel channel;
    char recipient[SW_URL_MAX + 1];
    char type[32];
    char item_kind[16];
    char item_id[SW_ID_MAX + 1];
    int64_t event_id;                   /* 0 = none */
    char key[NOTIFY_KEY_LEN + 1];       /* the idempotency key (= the body's id) */
    enum sw_outbox_state state;
    int attempts;
    int64_t next_attempt_at;
    int64_t created_at;
    int64_t delivered_at;               /* 0 = not yet */
    int64_t digest_id;                  /* digested: the digest row; 0 = none */
    char last_error[SW_NOTIFY_ERR_MAX + 1];
    char person[SW_ID_MAX + 1];         /* the user it is for, "" = the tenant's channels */
    char *notice;
    /* claim only: the tenant's webhook secret at claim time ("" = none) */
    char secret[SW_SECRET_MAX + 1];
};
void sw_outbox_row_release(struct sw_outbox_row *r);

struct sw_notify_attempt {
    int64_t at;
    bool ok;
    int status;                         /* HTTP or SMTP code, 0 = none */
    char error[SW_NOTIFY_ERR_MAX + 1];  /* "" when ok */
    int64_t duration_ms;
};

/* What a worker does with a row after an attempt. */
enum sw_outbox_outcome {
    SW_OUTCOME_DELIVERED,       /* receiver accepted: never sent again */
    SW_OUTCOME_RETRY,           /* failed: try again at next_attempt_at */
    SW_OUTCOME_DEAD,            /* failed the last allowed time */
};

/* Flood control for claim: at most max first sends per (tenant, channel,
 * recipient) in a window of window_ms; the surplus is folded into one
 * digest row due when the window closes.  max 0 = off. */
struct sw_flood {
    int max;
    int64_t window_ms;
};

typedef int (*store_outbox_cb)(const struct sw_outbox_row *r,
                               const struct sw_notify_attempt *attempts, size_t nattempts,
                               void *ud);

/* ---- the subject's ops ------------------------------------------------- */

struct store_notify_ops {
    /* SW_E_NOTFOUND when the tenant has none. */
    int (*config_get)(struct store *s, const char *tenant_id, struct sw_notify_config *out);
    /* Replaces the tenant's config (webhook_secret "" keeps the stored one);
     * SW_E_NOTFOUND when the tenant does not exist. */
    int (*config_put)(struct store *s, const struct sw_notify_config *c);

    /* The in-transaction enqueue in a transaction of its own (tests, the
     * /test endpoint, manual escalation).  *rows = rows written (0 when the
     * tenant has no config, the threshold is not notified, or the event was
     * enqueued before). */
    int (*enqueue)(struct store *s, const struct sw_notice *n, int64_t event_id,
                   int *rows);

    /* Claims up to max due pending rows of one channel (next_attempt_at <=
     * now), oldest due first, and leases them (next_attempt_at = now +
     * lease_ms) in one transaction.  Flood control (flood may be NULL) folds
     * surplus first sends into a digest row instead of returning them.
     * out[0..*n) are the caller's (sw_outbox_row_release each). */
    int (*claim)(struct store *s, enum notify_channel ch, int64_t now, int64_t lease_ms,
                 const struct sw_flood *flood, struct sw_outbox_row *out, size_t max,
                 size_t *n);
    /* Records one attempt and the row's outcome in one transaction (a
     * delivered digest also stamps the rows it carried).  next_attempt_at is
     * used for SW_OUTCOME_RETRY.  SW_E_CONFLICT when the row is no longer
     * pending (another worker finished it): nothing is written. */
    int (*record)(struct store *s, int64_t outbox_id, const struct sw_notify_attempt *a,
                  enum sw_outbox_outcome outcome, int64_t next_attempt_at);
    /* Gives claimed rows back without an attempt, row i due at ats[i]: one
     * transaction for all n (a burst to a full destination gives back
     * dozens at a time, and on PostgreSQL each commit is an fsync). */
    int (*release)(struct store *s, const int64_t *ids, const int64_t *ats, size_t n);
    /* Earliest next_attempt_at of a pending row of that channel;
     * SW_E_NOTFOUND when there is none. */
    int (*next_due)(struct store *s, enum notify_channel ch, int64_t *at);

    /* A tenant's rows, newest first, id < before_id (0 = from the newest),
     * at most limit, each with its attempts oldest first. */
    int (*history)(struct store *s, const char *tenant_id, int64_t before_id, int limit,
                   store_outbox_cb cb, void *ud);
};

/* ---- live dashboards ---------------------------------------------------- */

/* Hands a notice body to the tenant's live dashboards on every node (the
 * store's "live" signal: store->live here at once, other nodes through the
 * database), outside any transaction.  The websocket worker calls it for a
 * delivered websocket row, so the row reaches the dashboards of every node,
 * not only those of the node that claimed it.  0, SW_E_TOOBIG (body over
 * DB_SIGNAL_MAX) or SW_E_UNAVAILABLE. */
int store_live_publish(struct store *s, const char *tenant_id, const char *body);

/* ---- wrappers ---------------------------------------------------------- */

static inline int store_notify_config_get(struct store *s, const char *tenant_id,
                                          struct sw_notify_config *out)
{ return s->notify->config_get(s, tenant_id, out); }
static inline int store_notify_config_put(struct store *s, const struct sw_notify_config *c)
{ return s->notify->config_put(s, c); }
static inline int store_notify_enqueue(struct store *s, const struct sw_notice *n,
                                       int64_t event_id, int *rows)
{ return s->notify->enqueue(s, n, event_id, rows); }
static inline int store_outbox_claim(struct store *s, enum notify_channel ch, int64_t now,
                                     int64_t lease_ms, const struct sw_flood *flood,
                                     struct sw_outbox_row *out, size_t max, size_t *n)
{ return s->notify->claim(s, ch, now, lease_ms, flood, out, max, n); }
static inline int store_outbox_record(struct store *s, int64_t outbox_id,
                                      const struct sw_notify_attempt *a,
                                      enum sw_outbox_outcome outcome, int64_t next_attempt_at)
{ return s->notify->record(s, outbox_id, a, outcome, next_attempt_at); }
static inline int store_outbox_release(struct store *s, int64_t outbox_id, int64_t at)
{ return s->notify->release(s, &outbox_id, &at, 1); }
static inline int store_outbox_release_many(struct store *s, const int64_t *ids,
                                            const int64_t *ats, size_t n)
{ return n ? s->notify->release(s, ids, ats, n) : 0; }
static inline int store_outbox_next_due(struct store *s, enum notify_channel ch, int64_t *at)
{ return s->notify->next_due(s, ch, at); }
static inline int store_notify_history(struct store *s, const char *tenant_id,
                                       int64_t before_id, int limit, store_outbox_cb cb,
                                       void *ud)
{ return s->notify->history(s, tenant_id, before_id, limit, cb, ud); }

#endif
