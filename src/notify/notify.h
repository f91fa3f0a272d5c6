/* notify: delivering SLA notices without losing or duplicating one.
 *
 * A notice (sla.warning, sla.breach, sla.escalation) is written to the
 * outbox in the same transaction as the event that causes it, one row per
 * (channel, recipient) the tenant configured.  Workers deliver rows: the
 * WebSocket hub, email over SMTP, Slack incoming webhooks, signed generic
 * webhooks; retries with exponential backoff and jitter, a dead state after
 * N attempts, every attempt recorded.  A row is marked delivered only after
 * the receiver accepted it, and carries an idempotency key, so a crash
 * between the two re-sends at most to a receiver that dedupes by the key.
 *
 * Groups below:
 *   - the notice and channels (the contract with the scheduler and the store)
 *   - the wire form: webhook body, idempotency key, signature, texts, email
 *     (pure functions, notice.c and email.c; unit-tested)
 *   - backoff (pure)
 *   - the notifier: worker threads started and stopped with the server,
 *     many deliveries in flight per channel, per destination limits and a
 *     circuit breaker (notifier.c)
 */
#ifndef SW_NOTIFY_H
#define SW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct ws_hub;
struct notifier;
struct cfg;

/* ---- the notice -------------------------------------------------------- */

#define NOTIFY_TITLE_MAX     1000   /* = SW_TITLE_MAX */
#define NOTIFY_EMAIL_MAX     254
#define NOTIFY_SLACK_ID_MAX  32     /* a Slack member id: U0123ABCD */
#define NOTIFY_PHONE_MAX     16     /* E.164: '+' and at most 15 digits */
#define NOTIFY_KEY_MAX       64     /* a PagerDuty routing (integration) key */
#define NOTIFY_URL_MAX       1024

/* The person an escalation engages and how it reaches them: resolved by
 * the store inside the event's transaction from the step's method, the
 * person's contact points and the tenant's settings (people.c), so the
 * event records what was really used.  via is a set of channels (1u <<
 * NOTIFY_*); a method whose contact point is missing falls back to email
 * (every user has an address), and note says why. */
struct sw_engaged {
    char user[SW_ID_MAX + 1];       /* "" = nobody named: the tenant's channels */
    char method[16];                /* what the step or contact asked for */
    int level;                      /* the step (alerts) or contact level (findings) */
    unsigned via;
    char email[NOTIFY_EMAIL_MAX + 1];
    char slack_user_id[NOTIFY_SLACK_ID_MAX + 1];
    char slack_url[NOTIFY_URL_MAX + 1];         /* the tenant's Slack webhook */
    char phone[NOTIFY_PHONE_MAX + 1];
    char voice_url[NOTIFY_URL_MAX + 1];         /* the tenant's voice webhook */
    char routing_key[NOTIFY_KEY_MAX + 1];       /* the person's, else the tenant's */
    char note[160];                 /* why a method fell back ("" = none) */
};

/* What happened, as the webhook body carries it (API.md "Outgoing webhooks"). */
struct sw_notice {
    char tenant_id[SW_ID_MAX + 1];
    char type[32];                  /* sla.warning | sla.breach | sla.escalation */
    char item_kind[16];             /* alert | finding */
    char item_id[SW_ID_MAX + 1];
    char severity[16];
    char clock[16];                 /* ack | resolve */
    int threshold_pct;              /* 0 = none */
    int escalation_level;           /* 0 = none */
    char escalation_target[SW_NAME_MAX + 1];   /* who, for sla.escalation */
    int64_t due_at;
    int64_t occurred_at;
    bool test;                      /* sent by POST …/test: the body says "test": true */
    /* for people: what the item is and where it stands */
    char title[NOTIFY_TITLE_MAX + 1];
    char tenant_name[SW_NAME_MAX + 1];  /* "" = the store fills it in */
    int64_t overage_ms;             /* how far past due_at, 0 = not breached */
    struct sw_engaged engaged;
    /* pager rows only: the PagerDuty event (pager.c) */
    char pager_action[16];          /* trigger | acknowledge | resolve */
    char dedup_key[256];
};

/* Notices the notifier itself raises (not enqueued by the scheduler). */
#define NOTIFY_TYPE_TEST   "notify.test"
#define NOTIFY_TYPE_DIGEST "notify.digest"   /* flood control: many notices in one */
#define NOTIFY_TYPE_DEAD   "notify.dead"     /* a row gave up: to websocket and the log */
#define NOTIFY_TYPE_PAGER  "pager.update"    /* acknowledge / resolve of a PagerDuty incident */

/* pager and phone reach people only: an escalation naming a person with
 * that method (they are not a tenant's channels to configure). */
enum notify_channel {
    NOTIFY_WEBSOCKET,
    NOTIFY_EMAIL,
    NOTIFY_SLACK,
    NOTIFY_WEBHOOK,
    NOTIFY_PAGER,
    NOTIFY_PHONE,
    NOTIFY_NCHANNELS
};
#define NOTIFY_TENANT_CHANNELS 4    /* websocket..webhook: what a tenant configures */

/* "websocket", "email", "slack", "webhook", "pager", "phone". */
const char *notify_channel_name(enum notify_channel ch);
/* SW_E_INVAL for anything else. */
int notify_channel_parse(const char *s, enum notify_channel *out);

/* What the log and the API show of a recipient: a Slack incoming-webhook
 * URL is a credential, so only its host and last 4 characters
 * ("hooks.slack.com/...X9kQ"); so is a PagerDuty routing key ("...X9kQ");
 * other channels as they are. */
void notify_recipient_public(enum notify_channel ch, const char *rcpt, char *out, size_t len);

/* ---- the wire form (notice.c) ------------------------------------------ */

#define NOTIFY_KEY_LEN 36           /* "ntf_" + 32 hex */
#define NOTIFY_SIG_HEX 64

/* The idempotency key of one (notice, channel, recipient): "ntf_" + hex of
 * a BLAKE2b-128 over the tenant, the event (event_id > 0) or else the
 * notice's identity (type, item, clock, threshold, level, due_at), the
 * channel and the recipient.  The same event to the same recipient always
 * gets the same key, so enqueueing it twice writes one row. */
void notify_key(const struct sw_notice *n, int64_t event_id, enum notify_channel ch,
                const char *recipient, char out[NOTIFY_KEY_LEN + 1]);

/* A new, globally unique idempotency key for one outbox row: "ntf_" + the
 * 32 hex digits of a UUIDv7 (RFC 9562): 48 bits of now_ms (so a node's
 * keys sort by creation), the version and variant bits, 74 random bits
 * from libsodium.  Unlike notify_key it depends on nothing a backup
 * restore or a second installation could repeat (event ids restart, the
 * tenant's name is reused).  The store makes it once, when it writes the
 * row, and keeps it in the row: every retry of that delivery sends the
 * same key.  Same width as notify_key's. */
void notify_key_new(int64_t now_ms, char out[NOTIFY_KEY_LEN + 1]);
/* The same from given random bytes (tests): pure. */
void notify_key_uuid7(int64_t now_ms, const uint8_t rnd[10], char out[NOTIFY_KEY_LEN + 1]);

/* The webhook body, compact JSON in a fixed field order: {id, type,
 * tenant_id, tenant_name, item_kind, item_id, title, severity, clock,
 * threshold_pct?, escalation_level?, escalation_target?, due_at,
 * overage_ms, engaged, occurred_at, test?}.  engaged is null or {user,
 * method, level, via: [channels], slack_user_id?, note?}.  Times are ISO
 * 8601 UTC (due_at null when 0).  Caller frees. */
char *notify_body(const struct sw_notice *n, const char *id);
/* The body of one outbox row of channel ch: notify_body plus what that
 * channel's delivery needs (phone: "to"; pager: "event_action",
 * "dedup_key").  Caller frees. */
char *notify_body_row(const struct sw_notice *n, const char *id, enum notify_channel ch);
/* A body with "url" (the item in the dashboard under public_url) added,
 * for delivery; a copy of body when public_url is "" or the body names
 * no item.  Caller frees. */
char *notify_body_with_url(const char *body, const char *public_url);
/* The dashboard link of an item: PUBLIC_URL/sla-dashboard#/findings?...
 * or #/dashboard?... ("" when public_url is ""). */
void notify_item_url(const char *public_url, const char *tenant_id, const char *kind,
                     const char *id, char *out, size_t len);
/* PagerDuty Events API v2 JSON for a pager row's body and routing key
 * (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
 * {routing_key, event_action, dedup_key, payload: {summary, source,
 * severity, timestamp, custom_details}, links?} for a trigger, the first
 * three for acknowledge/resolve.  Caller frees. */
char *notify_pagerduty_body(const char *body_json, const char *routing_key,
                            const char *public_url);
/* The dedup_key of an item's escalation step (printable, <= 255 bytes). */
void notify_dedup_key(const char *tenant_id, const char *kind, const char *id, int step,
                      char out[256]);

/* Hex of HMAC-SHA256(body, secret) (any secret length), NUL-terminated. */
void notify_sign_hex(const void *body, size_t len, const char *secret,
                     char out[NOTIFY_SIG_HEX + 1]);

/* One line for humans from a body (or a digest body): Slack's text and
 * the email subject, e.g. "SLA breach: alert A-1 (critical, resolve clock)
 * in tenant acme".  Caller frees. */
char *notify_summary(const char *body_json);
/* Several lines: the summary, then the fields (or a digest's items).
 * Caller frees. */
char *notify_details(const char *body_json);

/* ---- email (email.c) --------------------------------------------------- */

/* An RFC 5322 message with CRLF line ends: Date, From, To, Subject,
 * Message-ID <key@slawatch>, MIME headers, then the text.  CR and LF in
 * header values are replaced by spaces (no header injection).  A subject
 * that is not plain ASCII is RFC 2047 encoded-words (UTF-8, base64) of at
 * most 75 characters, never splitting a character, folded onto lines of
 * at most 76.  The body is 7bit when plain ASCII, else quoted-printable
 * (RFC 2045; an 8-bit body needs BODY=8BITMIME, which libcurl's MAIL FROM
 * cannot announce), lines ending in CRLF.  Caller frees. */
char *notify_email_message(const char *from, const char *to, const char *subject,
                           const char *text, const char *key, int64_t date_ms);

/* ---- backoff (notice.c) ------------------------------------------------ */

/* Delay before the next try after `attempts` failed ones (>= 1):
 * base_ms * 2^(attempts-1), capped at cap_ms, times a jitter factor in
 * [0.8, 1.2] taken from rnd (uniform over uint32), never above cap_ms. */
int64_t notify_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

/* ---- the notifier (notifier.c) ----------------------------------------- */

/* Worker settings, from the configuration (config.h: notify_*, smtp_*). */
struct notify_opts {
    bool enabled;               /* false: rows are written, never delivered here */
    int max_attempts;           /* a row is dead after this many failures */
    int64_t backoff_ms;         /* base of the exponential backoff */
    int64_t backoff_max_ms;
    int64_t lease_ms;           /* a claimed row is retried after this if we die */
    int flood_max;              /* K notices per recipient per window; 0 = no limit */
    int64_t flood_window_ms;    /* W */
    bool allow_private;         /* webhooks/Slack may reach internal addresses */
    int64_t connect_timeout_ms; /* per delivery: connecting (5 s) */
    int64_t timeout_ms;         /* per delivery: everything (15 s) */
    int per_destination;        /* deliveries in flight to one host:port (4) */
    int max_in_flight;          /* per channel (64) */
    int breaker_failures;       /* failures in a row that open a destination's breaker (5) */
    int64_t breaker_cooldown_ms;    /* open this long before a probe (30 s, doubling) */
    const char *smtp_url;       /* "" = email rows fail (and retry) with a clear error */
    const char *smtp_from;
    int smtp_starttls;          /* 0 off, 1 try, 2 required (CURLOPT_USE_SSL) */
    const char *smtp_ca_file;   /* "" = the system's CAs; else a PEM bundle (private relay CA) */
    const char *pagerduty_events_url;   /* https://events.pagerduty.com (+ /v2/enqueue) */
    const char *public_url;     /* "" = notices carry no link */
};

void notify_opts_from_cfg(struct notify_opts *o, const struct cfg *c);

/* Starts one worker thread per channel.  hub may be NULL (websocket rows are
 * then delivered to nobody).  s, hub and the strings in o are borrowed and
 * must outlive the notifier.  *out is the caller's (notify_stop). */
int notify_start(struct store *s, struct ws_hub *hub, const struct notify_opts *o,
                 struct notifier **out);
/* Wakes the workers now (call after committing outbox rows); NULL is a no-op. */
void notify_wake(struct notifier *n);
/* Stops the workers (a delivery in flight is aborted and its row released
 * for a later try), joins them, frees n.  NULL is a no-op. */
void notify_stop(struct notifier *n);

struct notify_stats {
    uint64_t delivered;         /* rows accepted by their receiver */
    uint64_t failed;            /* failed attempts (skips of an open breaker included) */
    uint64_t dead;              /* rows that gave up */
    uint64_t digested;          /* digests sent */
    uint64_t skipped;           /* attempts not sent: the destination's breaker was open */
    int in_flight[NOTIFY_NCHANNELS];    /* deliveries being sent now */
};
void notify_get_stats(struct notifier *n, struct notify_stats *out);

enum notify_breaker_state {
    NOTIFY_BREAKER_CLOSED,
    NOTIFY_BREAKER_OPEN,
    NOTIFY_BREAKER_HALF_OPEN,
};

/* One destination (host:port) a worker knows, for /metrics.  Destinations
 * idle and healthy for a while are forgotten. */
struct notify_dest_stat {
    enum notify_channel channel;
    char destination[300];      /* "host:port": never a path or a credential */
    enum notify_breaker_state state;
    int in_flight;
    int queued;                 /* claimed, waiting for a free slot */
    int failures;               /* in a row */
};
/* Fills out[0..max), returns how many destinations there are (may be more
 * than max). */
size_t notify_dest_stats(struct notifier *n, struct notify_dest_stat *out, size_t max);

#endif
