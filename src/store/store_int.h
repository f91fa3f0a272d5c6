/* store_int.h: what the store's subject files share.
 *
 * The store is written once, over the SQL driver (db.h); each subject is a
 * file (tenants.c, events.c, users.c, outbox.c, alerts.c, ...) that fills
 * one ops table of store.h.  A subject's public calls take a pooled
 * connection (db_tx for writes, db_acquire for single reads); the functions
 * below, suffixed _in, run inside the CALLER's transaction, so one subject
 * can write another's rows atomically with its own (an alert's change, its
 * event, its rollups, its outbox rows: one commit).
 *
 * Idioms (see tenants.c and events.c):
 *   - SQL as `static const char SQL_X[] = "...";` in the common dialect
 *     (db.h); per-dialect differences only through {FRAGMENTS};
 *   - prepare, bind, step, read, reset:
 *         struct db_stmt *st;
 *         if ((rc = db_prep(c, SQL_X, &st)) < 0) return rc;
 *         db_bind_text(st, 1, id);
 *         while ((rc = db_step(st)) == DB_ROW) { ...db_col_*... }
 *         db_reset(st);
 *     (rc is DB_DONE, 0, after the loop, or a negative SW_E_*);
 *   - a read-modify-write reads its rows with {FOR_UPDATE} inside a
 *     DB_TX_WRITE transaction (PostgreSQL runs several nodes at once;
 *     SQLite's BEGIN IMMEDIATE serializes writers anyway);
 *   - idempotent inserts are INSERT ... ON CONFLICT DO NOTHING, then a
 *     SELECT of what is there: never a failed insert inside a transaction;
 *   - generated ids come back with RETURNING id.
 *   - the store keeps and fetches: what an instant means, what a notice
 *     says, whether a warning fires is core/ (or notify/ for wire forms).
 */
#ifndef SW_STORE_STORE_INT_H
#define SW_STORE_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/sla.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_notify.h"

struct sw_alert;
struct sla_alert;
struct sw_audit;
struct sw_notice;
struct sw_notify_config;
struct alert_writer;

/* ---- the store object ------------------------------------------------------ */

/* Tenants, cached whole: every request resolves its tenant.  gen moves on
 * every invalidation; a list loaded before a move is never installed, and a
 * miss always asks the database (a tenant created a moment ago, here or on
 * another node, is found). */
struct tenant_cache {
    pthread_mutex_t mu;
    uint64_t gen;
    struct sw_tenant *all;      /* sorted by id; NULL = not loaded */
    size_t n;
    int64_t loaded_ms;          /* monotonic */
};

#define TOKEN_CACHE_SLOTS 256

/* Token lookups by hash, with the same generation rule. */
struct token_cache {
    pthread_mutex_t mu;
    uint64_t gen;
    struct token_cache_entry {
        uint8_t hash[SW_TOKEN_HASH_LEN];
        struct sw_token tok;
        int64_t loaded_ms;      /* monotonic; 0 = empty */
    } slot[TOKEN_CACHE_SLOTS];
};

struct cal_cache;              /* calendars.c */

struct sql_store {
    struct store base;          /* first: (struct store *) is a sql_store */
    struct db *db;
    struct tenant_cache tenants;
    struct token_cache tokens;
    struct cal_cache *cals;     /* compiled calendars by (tenant, id, version) */
    /* Caches may be trusted: false while other nodes' invalidations may be
     * lost (db_signals_lossy). */
    struct alert_writer *alert_writer;      /* alerts.c: group commit */
};

static inline struct sql_store *sql_of(struct store *s)
{
    return (struct sql_store *)s;
}

/* Opens url (sqlite:PATH or postgres://...), migrates, starts what the
 * subjects need.  (store.c) */
int store_sql_open(const char *url, struct store **out, char *err, size_t errlen);

/* ---- signals between nodes (store.c) --------------------------------------- */

/* Channels of db_signal used by the store:
 *   "inv"  payload "tenants" | "tokens": forget that cache
 *   "due"  payload "<ms>": the scheduler should look at that instant
 *   "live" payload "<tenant_id> <json>": a notice for live dashboards */

/* Inside a write: the tenants (tokens) changed; every node's cache forgets
 * them at COMMIT.  Every writer of tenants (tokens) calls it. */
int store_tenants_changed_in(struct db_conn *c);
int store_tokens_changed_in(struct db_conn *c);
/* Inside a write: an item got an instant to look at (its next warning,
 * breach or escalation).  After COMMIT this node's scheduler gets the hint;
 * other nodes get it too when it is soon (within their fallback scan), so
 * a hint costs nothing on the common path. */
int store_hint_in(struct db_conn *c, int64_t at, int64_t now);
/* A notice body for the tenant's live dashboards on every node: after the
 * commit inside a transaction, at once outside one. */
int store_live_in(struct db_conn *c, const char *tenant_id, const char *body);

/* ---- cross-subject writes inside the caller's transaction --------------------- */

/* events.c: appends an item event; *id_out (optional) = its id. */
int store_event_add_in(struct db_conn *c, const struct sw_event *e, int64_t *id_out);
/* events.c: n events in a few multi-row INSERTs (ids not read): 0 or SW_E_*. */
int store_event_add_many_in(struct db_conn *c, const struct sw_event *const *e, size_t n);

/* tenants.c: 1 when the tenant exists, 0 when not, or SW_E_*. */
int store_tenant_exists_in(struct db_conn *c, const char *tenant_id);
/* 1 when the project exists, 0 when not, or SW_E_*. */
int store_project_exists_in(struct db_conn *c, const char *tenant_id, const char *project_id);

/* tenants.c: inserts a token (the one INSERT of tokens); *id_out = its id.
 * The caller signals store_tokens_changed_in. */
int store_token_insert_in(struct db_conn *c, const struct sw_token *t,
                          const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out);

/* users.c: appends an audit row. */
int store_audit_add_in(struct db_conn *c, const struct sw_audit *a);

/* chain.c: an appended event or audit row (id: its id) takes its place in
 * its tenant's hash chain when the transaction commits (chain_int.h).
 * Every INSERT into events or audit_log calls one of these. */
int store_chain_event_in(struct db_conn *c, int64_t id, const struct sw_event *e);
int store_chain_audit_in(struct db_conn *c, int64_t id, const struct sw_audit *a);
/* chain.c: chains the rows written before the chains existed (run by
 * store.c right after migration 0050, in its transaction). */
int store_chain_adopt_in(struct db_conn *c);

/* history.c: a policy writer calls this inside its transaction, after its
 * change: the scope (kind: SW_HISTORY_* of store_proof.h) is snapshotted
 * and, when it differs from its latest version, the next version is
 * appended (action: "update", "delete", "config").  A kind is added in
 * history.c's snapshot_in. */
int store_history_record_in(struct db_conn *c, const char *kind, const char *tenant_id,
                            const char *scope, int64_t at, const char *actor,
                            const char *action);
/* history.c: baseline versions of the scopes set before migration 0051. */
int store_history_adopt_in(struct db_conn *c);

/* outbox.c: a notice caused by event_id (> 0): one pending outbox row per
 * channel x recipient of the tenant's notification config (an sla.warning
 * only when its threshold is in the tenant's thresholds), each with a new
 * globally unique idempotency key (notify_key_new); enqueueing the same
 * (event, channel, recipient) again writes nothing.  A tenant whose config
 * has no websocket channel still gets the notice on its live dashboards
 * (store_live_in): one path per tenant, never both.  Returns the number of
 * outbox rows written, or SW_E_*. */
int store_notice_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id);
/* What the notices of one transaction that writes many (the scheduler's
 * round) share: the tenant's name and notification config, read at the
 * first notice of a tenant instead of at each (two statements a breach).
 * Only for a transaction that writes neither.  Zeroed, it is empty;
 * notice_memo_clear wipes the webhook secret it holds. */
struct notice_memo {
    bool loaded;
    int cfg_rc;                     /* 0, or SW_E_NOTFOUND: no config */
    char tenant_id[SW_ID_MAX + 1];
    char tenant_name[SW_NAME_MAX + 1];
    struct sw_notify_config cfg;
};
void notice_memo_clear(struct notice_memo *m);
/* store_notice_in through the memo m (NULL: none, as store_notice_in). */
int store_notice_memo_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id,
                         struct notice_memo *m);
/* notify_config.c: the tenant's notification config, webhook secret
 * included (wipe it after use): 0, SW_E_NOTFOUND (none) or SW_E_*. */
int store_notify_config_in(struct db_conn *c, const char *tenant_id,
                           struct sw_notify_config *out);

/* people.c: whom an escalation engages and how.  Fills out (user, method,
 * level as given) with the channels that reach the person: `want` is a set
 * of channels (1u << NOTIFY_*) the step's method asks for; a channel whose
 * contact point is missing (a Slack member id, a phone, the tenant's Slack
 * or voice webhook, a routing key) falls back to email, and out->note says
 * so.  A user who does not exist or has no role in the tenant is not
 * engaged: 0 with out->user "" (the tenant's channels, as for a step
 * without a person) and the note saying why.  Reads inside c. */
struct sw_engaged;
int store_person_route_in(struct db_conn *c, const char *tenant_id, const char *user_id,
                          const char *method, unsigned want, int level,
                          struct sw_engaged *out);
/* 1 when user_id exists and holds a role in tenant_id (tenant_id "": any
 * user), 0 when not, or SW_E_*. */
int store_user_in_tenant_in(struct db_conn *c, const char *user_id, const char *tenant_id);

/* pager.c: a PagerDuty trigger written for (kind, item) with this
 * dedup_key and routing key (its outbox row is written by the caller). */
int store_pager_trigger_in(struct db_conn *c, const char *tenant_id, const char *kind,
                           const char *item_id, const char *dedup_key,
                           const char *routing_key, const char *person, int64_t now);
/* The item was acknowledged (resolved = false) or resolved: each incident
 * it triggered and that is not that far yet gets its acknowledge or
 * resolve event (a pager outbox row with the same dedup_key and routing
 * key), once.  Returns the rows written, or SW_E_*. */
int store_pager_item_in(struct db_conn *c, const char *tenant_id, const char *kind,
                        const char *item_id, bool resolved, int64_t now);

/* alerts.c: one alert (lock: {FOR_UPDATE}, to rewrite it): 0 or NOTFOUND. */
int store_alert_get_in(struct db_conn *c, const char *tenant_id, const char *id, bool lock,
                       struct sw_alert *out);
/* Writes every column of x (by tenant_id, id). */
int store_alert_save_in(struct db_conn *c, const struct sw_alert *x);
/* Appends an event of the alert; *event_id (optional) = its id. */
int store_alert_event_add_in(struct db_conn *c, const struct sw_alert *x, const char *type,
                             const char *actor, int64_t at, const char *data,
                             int64_t *event_id);
/* A tenant's warning thresholds below 100 (100 is the breach itself). */
struct thresholds {
    uint8_t v[SLA_THRESHOLDS_MAX];
    size_t n;
};

/* findings.c: the tenant's notification thresholds (notification_config);
 * *configured false, and the default list, when it has configured none. */
int store_thresholds_in(struct db_conn *c, const char *tenant_id, struct thresholds *out,
                        bool *configured);

/* The warning thresholds of a tenant's alerts: its notification thresholds
 * list when it configured one (as its findings), else each alert's
 * resolved warn_pct, the definition's (alerts_due.c).  Loaded once per
 * tenant met: a memo for a loop over alerts. */
struct alert_th {
    char tenant_id[SW_ID_MAX + 1];
    bool loaded, list;
    struct thresholds t;
};
int alert_th_load_in(struct db_conn *c, struct alert_th *m, const char *tenant_id);
/* a's thresholds under m (NULL: the warn_pct alone) into th; their count. */
size_t alert_th_of(const struct alert_th *m, const struct sla_alert *a,
                   uint8_t th[SLA_THRESHOLDS_MAX]);
/* The scheduler's next instant of the two clocks (core's formulas), the
 * warnings at m's thresholds (NULL: the alert's warn_pct). */
int64_t store_alert_next_check(const struct sla_alert *a, const struct alert_th *m, int64_t now);
/* The tenant's thresholds changed: its open alerts are looked at again
 * (next_check_at = now), in the caller's transaction. */
int alert_thresholds_changed_in(struct db_conn *c, const char *tenant_id, int64_t now);

/* escalation.c: after a lifecycle change of x, its next automatic
 * escalation instant (esc_due_at); *esc_at = it (SLA_NEVER: none). */
int store_alert_escalation_sync_in(struct db_conn *c, const struct sw_alert *x, int64_t now,
                                   int64_t *esc_at);

/* analytics.c: takes back what `before`'s stopped clocks contributed to
 * the rollups and adds `after`'s (before may be NULL: a new alert).  Call
 * it after saving `after` (a maximum taken back is recomputed from the
 * alerts table).  It locks the tenants row {FOR_SHARE} and the rollup rows
 * {FOR_UPDATE} until the caller's COMMIT. */
int store_rollup_change_in(struct db_conn *c, const struct sw_alert *before,
                           const struct sw_alert *after);

/* alerts.c: the group-commit writer of single creates. */
struct alert_writer *store_alert_writer_new(struct sql_store *s);
void store_alert_writer_free(struct alert_writer *w);

/* ---- calendars (calendars.c) -------------------------------------------------- */

struct sla_cal;

/* The calendars one transaction has looked up, so a loop over items asks
 * the database once per calendar.  Zero it at the start of every attempt
 * of a db_tx function (a retried attempt must look again). */
#define CAL_MEMO_SLOTS 8
struct cal_memo {
    size_t n, next;
    struct {
        char tenant_id[SW_ID_MAX + 1];
        char id[SW_ID_MAX + 1];
        const struct sla_cal *cal;
    } e[CAL_MEMO_SLOTS];
};

/* The compiled calendar (tenant_id, id) as this transaction sees it (its
 * version read now, the compiled form from the node's cache): 0 and *out,
 * SW_E_NOTFOUND, or SW_E_*.  memo may be NULL.  id "" or "24x7": 0 and
 * *out = NULL (around the clock). */
int store_calendar_in(struct db_conn *c, struct cal_memo *memo, const char *tenant_id,
                      const char *id, const struct sla_cal **out);
struct cal_cache *store_cal_cache_new(void);
void store_cal_cache_free(struct cal_cache *cc);

/* What a scope's policy says per severity (index enum sla_sev): a calendar
 * id, "24x7", or "" for nothing (null: inherit).  kind "alert" | "finding". */
int store_policy_calendars_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                              const char *kind, char out[][SW_ID_MAX + 1]);
/* Replaces the scope's entries for the severities whose set[sev] is true
 * (value "" deletes: null). */
int store_policy_calendars_put_in(struct db_conn *c, const char *tenant_id,
                                  const char *project_id, const char *kind,
                                  const bool *set, char val[][SW_ID_MAX + 1], int64_t now);

/* Closed pauses of a clock ("ack" | "resolve"; findings: "resolve"): one
 * row per pause, written when the pause closes. */
int store_clock_pause_add_in(struct db_conn *c, const char *tenant_id, const char *kind,
                             const char *item_id, const char *clock, int64_t from, int64_t to);
/* Up to cap of them, oldest first, into out[i] = {from, to}; *n = how many
 * (SW_E_TOOBIG beyond cap). */
#define CLOCK_PAUSES_MAX 512
int store_clock_pauses_in(struct db_conn *c, const char *tenant_id, const char *kind,
                          const char *item_id, const char *clock, int64_t (*out)[2], size_t cap,
                          size_t *n);

/* alerts_calendar.c, findings_policy.c: the live items on calendar id of
 * the tenant, recalculated after it changed (in the caller's transaction);
 * dry (store_proof.h) non-NULL: counted into it, nothing written. */
struct sw_dry_run;
int alert_recalc_calendar_in(struct db_conn *c, const char *tenant_id, const char *cal_id,
                             int64_t now, const char *actor, int64_t *count,
                             struct sw_dry_run *dry);
int findings_recalc_calendar_in(struct db_conn *c, const char *tenant_id, const char *cal_id,
                                const struct sla_cal *old_cal, int64_t now, int64_t *count,
                                struct sw_dry_run *dry);

/* ---- each subject's ops table ------------------------------------------------ */

extern const struct store_ops sql_store_ops;                   /* tenants.c */
extern const struct store_event_ops sql_event_ops;             /* events.c */
extern const struct store_user_ops sql_user_ops;               /* users.c */
extern const struct store_notify_ops sql_notify_ops;           /* outbox.c, notify_config.c */
extern const struct store_finding_ops sql_finding_ops;         /* findings*.c */
extern const struct store_alert_ops sql_alert_ops;             /* alerts*.c */
extern const struct store_escalation_ops sql_escalation_ops;   /* alerts_due.c, escalation.c */
extern const struct store_analytics_ops sql_analytics_ops;     /* analytics.c, rollups.c */
extern const struct store_proof_ops sql_proof_ops;             /* chain_verify.c, ... */
extern const struct store_calendar_ops sql_calendar_ops;       /* calendars.c */
extern const struct store_integration_ops sql_integration_ops; /* integrations.c */

#endif
