/* sqlite_int.h: what the SQLite backend's files share (sqlite.c owns the
 * connections; sqlite_<subject>.c files implement one subject's ops).
 *
 * Statements are cached per connection, keyed by the address of their SQL
 * text: write each statement as a `static const char SQL_X[] = "...";` and
 * call sq_stmt(s, c, SQL_X).  The statement comes back reset and unbound. */
#ifndef SW_STORE_SQLITE_INT_H
#define SW_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"

#define SQ_CACHE_SLOTS 256

struct sq_cached {
    const char *sql;
    sqlite3_stmt *st;
};

struct conn {
    sqlite3 *db;
    struct sq_cached cache[SQ_CACHE_SLOTS];
    struct conn *next_free;
    bool tenants_dirty;     /* this transaction wrote tenants: clear the cache at commit */
};

struct sqlite_store;

/* Takes a connection from the pool (NULL only when none can be opened). */
struct conn *sq_acquire(struct sqlite_store *s);
void sq_release(struct sqlite_store *s, struct conn *c);
/* A cached prepared statement; NULL after logging on failure. */
sqlite3_stmt *sq_stmt(struct sqlite_store *s, struct conn *c, const char *sql);
/* Reset and clear bindings: call when done with a statement. */
void sq_done(sqlite3_stmt *st);
/* Logs, counts the error, returns SW_E_STORE. */
int sq_fail(struct sqlite_store *s, struct conn *c, const char *what);
/* Steps a bound insert/update: 0, SW_E_EXISTS (unique), SW_E_NOTFOUND
 * (foreign key), SW_E_STORE. Resets the statement. */
int sq_exec(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st);

/* Write transactions: BEGIN IMMEDIATE takes the write lock up front, so two
 * writers queue on busy_timeout instead of deadlocking on an upgrade. */
int sq_begin(struct sqlite_store *s, struct conn *c);
int sq_commit(struct sqlite_store *s, struct conn *c);
void sq_rollback(struct sqlite_store *s, struct conn *c);

void sq_copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col);
#define SQ_TEXT(st, i, v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)

/* The backend object: the public part first. */
static inline struct sqlite_store *sq_of(struct store *base)
{
    return (struct sqlite_store *)base;
}

/* The alert subject's writer thread (group commit; sqlite_alerts.c), owned
 * by the store: created at open, drained and joined at close. */
struct sq_alert_writer;
struct sq_alert_writer *sq_alert_writer_new(struct sqlite_store *s);
void sq_alert_writer_free(struct sq_alert_writer *w);
struct sq_alert_writer *sq_alert_writer_of(struct sqlite_store *s);    /* sqlite.c */

/* A write to the tenants table in the current transaction: the tenant cache
 * is cleared when it commits.  Every writer of tenants must call it. */
static inline void sq_tenants_touched(struct conn *c)
{
    c->tenants_dirty = true;
}
void sq_tenant_cache_clear(struct sqlite_store *s);

/* Forgets every cached token lookup: call after any write to tokens (revoke,
 * expiry change, delete), in the same thread, after the commit. */
void sq_token_cache_clear(struct sqlite_store *s);

/* Appends an audit row inside the caller's transaction.  (sqlite_users.c) */
struct sw_audit;
int sq_audit_insert(struct sqlite_store *s, struct conn *c, const struct sw_audit *a);

/* Appends an event row inside the caller's transaction. data_json may be
 * NULL.  (sqlite_events.c) */
int sq_event_add(struct sqlite_store *s, struct conn *c, const struct sw_event *e);

/* Each subject's ops table. */
extern const struct store_event_ops sqlite_event_ops;
extern const struct store_finding_ops sqlite_finding_ops;   /* sqlite_findings.c */
extern const struct store_alert_ops sqlite_alert_ops;       /* sqlite_alerts.c */
extern const struct store_user_ops sqlite_user_ops;         /* sqlite_users.c */
extern const struct store_notify_ops sqlite_notify_ops;     /* sqlite_notify.c */
extern const struct store_analytics_ops sqlite_analytics_ops; /* sqlite_analytics.c */
extern const struct store_escalation_ops sqlite_escalation_ops; /* sqlite_alerts_due.c */

/* Keeps the rollups of an alert's clocks inside the caller's write
 * transaction (after the alert row is written): takes back what `before`'s
 * stopped clocks contributed and adds what `after`'s do (sqlite_analytics.c;
 * rules in store_analytics.h). */
struct sw_alert;
int sq_rollup_change(struct sqlite_store *s, struct conn *c, const struct sw_alert *before,
                     const struct sw_alert *after);

/* Writes a notice's outbox rows inside the caller's write transaction
 * (after sq_begin, before sq_commit), e.g. the scheduler's breach event.
 * Reads the tenant's notification config in that same transaction and
 * inserts one pending row per configured channel x recipient (websocket:
 * one row, recipient = tenant id); an sla.warning only when its
 * threshold_pct is in the tenant's thresholds.  event_id (> 0) is the
 * events row that caused it and keys idempotency: enqueueing the same
 * (event, channel, recipient) again writes nothing.  Returns the number of
 * rows written (0: no config, threshold not notified, or already there)
 * or a negative SW_E_*, after which the caller must roll back.  Wake the
 * notifier (notify_wake) after the commit, or it finds the rows within a
 * second.  (sqlite_notify.c) */
struct sw_notice;
int sq_outbox_enqueue(struct sqlite_store *s, struct conn *c, const struct sw_notice *n,
                      int64_t event_id);

#endif
