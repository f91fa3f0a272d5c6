/* db.h: the small SQL driver the store is written over.
 *
 * The store's subjects (tenants, alerts, findings, outbox, ...) are written
 * once, in SQL both databases accept, over this interface; a database is a
 * driver (db_sqlite.c, db_pg.c) of a few hundred lines.  Models: PowerDNS's
 * gsql backends (one implementation, per-dialect strings) and Dovecot's
 * lib-sql (a driver vtable, one file per driver, a test driver).
 *
 * SQL text.  Statements are `static const char SQL_X[] = "...";` with
 * numbered parameters ?1, ?2, ... (each number may repeat) and, where the
 * dialects differ, named fragments in braces, expanded by the driver's
 * table once per connection:
 *
 *   {FOR_UPDATE}    ""            | "FOR UPDATE"            row locks of a
 *   {SKIP_LOCKED}   ""            | "FOR UPDATE SKIP LOCKED" read-modify-write
 *   {FOR_SHARE}     ""            | "FOR SHARE"             shared: readers
 *                                   together, no writer of the row till COMMIT
 *   {LEAST} {GREATEST}  "min" "max" | "LEAST" "GREATEST"     scalar min/max
 *   {BIGINT}        "INTEGER"     | "BIGINT"                 CAST(? AS {BIGINT})
 *   {INDEXED_BY name}  "INDEXED BY name" | ""              SQLite's planner hint
 *   {RETURNING_ID}  ""            | "RETURNING id"           db_insert_id
 *
 * (the table is db_frag_names in db.c; add a fragment there and to both
 * drivers, never an #ifdef in a subject).  Everything else is written in
 * the common dialect: ON CONFLICT, RETURNING, UPDATE ... FROM, CTEs with
 * named columns, CASE, COALESCE, NULLIF, count(*) FILTER (WHERE ...).
 * Booleans are INTEGER 0/1 columns compared explicitly (x <> 0); a
 * comparison read as a column is 0/1 on both (db_col_int64 reads 't'/'f').
 * JSON is parsed in C (jansson), not in SQL.
 *
 * Statements are prepared once per connection and cached by the address of
 * their text (so the text must be static); db_prep hands one back reset
 * and unbound.  A statement's rows are read with db_step until DB_DONE;
 * the driver may buffer a whole result, so other statements may run on the
 * same connection between two steps.  Always db_reset a statement when
 * done (db_exec does it).
 *
 * Transactions.  db_tx runs a function inside BEGIN ... COMMIT on a pooled
 * connection and retries the whole function when the database reports a
 * serialization failure or a deadlock (SW_E_RETRY), so those never reach a
 * client.  Kinds:
 *   DB_TX_READ     a consistent snapshot, no writes
 *   DB_TX_WRITE    writes; rows read to be rewritten take {FOR_UPDATE}
 *                  (SQLite: BEGIN IMMEDIATE, one writer at a time)
 *   DB_TX_LOCKING  a write that also holds the database-wide lock, so such
 *                  transactions run one at a time across every node
 *                  (migrations, the first admin token, rollup rebuilds)
 *   DB_TX_BULK     a write of thousands of rows (bulk imports): like
 *                  DB_TX_WRITE, and SQLite gives it a 64 MiB page cache
 *                  (as it does DB_TX_LOCKING's rebuilds) so the batch's
 *                  dirty pages are not spilled into the WAL mid-transaction
 *                  and written again at COMMIT
 * After an error inside a transaction, roll back: PostgreSQL refuses every
 * later statement of an aborted transaction, so never "try an insert and
 * carry on" (use ON CONFLICT).
 *
 * Errors are negative SW_E_*: EXISTS (unique violation), NOTFOUND (foreign
 * key), RETRY (serialization/deadlock; db_tx retries it), UNAVAILABLE (the
 * database is unreachable, full or read-only: HTTP 503), STORE (anything
 * else the database said; logged).  While writes fail with UNAVAILABLE the
 * database is "degraded" (db_degraded) until a write commits again.
 *
 * Signals.  db_signal queues a short message inside a transaction; after
 * COMMIT it reaches the subscriber of this process at once and, on
 * PostgreSQL, every other node (NOTIFY, sent atomically with the commit).
 * Cache invalidation, scheduler hints and live events travel this way.
 *
 * Faults.  db_fail_after(db, n, err) makes the n-th next call of prepare,
 * step, exec, begin or commit fail with err, as SQLite's VFS lets tests
 * fail an I/O: the store's error paths are reached by tests, not trusted.
 */
#ifndef SW_STORE_DB_H
#define SW_STORE_DB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct db;          /* a database: driver, URL, connection pool, signals */
struct db_conn;     /* a connection, used by one thread at a time */
struct db_stmt;     /* a prepared statement of one connection */

enum db_dialect { DB_SQLITE, DB_PG };

enum db_tx_kind { DB_TX_READ, DB_TX_WRITE, DB_TX_LOCKING, DB_TX_BULK };

enum { DB_DONE = 0, DB_ROW = 1 };

/* Dialect fragments (see above); the drivers' tables are indexed by these. */
enum db_frag {
    DB_FRAG_FOR_UPDATE,
    DB_FRAG_SKIP_LOCKED,
    DB_FRAG_FOR_SHARE,
    DB_FRAG_LEAST,
    DB_FRAG_GREATEST,
    DB_FRAG_BIGINT,
    DB_FRAG_INDEXED_BY,         /* takes an argument: %s in the driver's text */
    DB_FRAG_RETURNING_ID,
    DB_FRAG__COUNT
};

/* ---- opening ------------------------------------------------------------ */

/* "sqlite:PATH" or "postgres://..." / "postgresql://..." (any libpq URI).
 * Connects once to check the URL; err names the URL with its password
 * masked.  *out is the caller's (db_close). */
int db_open(const char *url, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);

enum db_dialect db_dialect(const struct db *db);
/* The URL with any password replaced by "***" (for logs and errors). */
const char *db_url_public(const struct db *db);
/* This process's random id among the nodes of one database (16 hex). */
const char *db_node_id(const struct db *db);

/* Runs a script of several statements without parameters (migrations),
 * outside db_prep's cache.  Inside the caller's transaction, if any. */
int db_exec_script(struct db_conn *c, const char *sql);

/* ---- connections ---------------------------------------------------------- */

/* A connection from the pool, waiting for one when all are busy; NULL when
 * none can be opened (the database is down: callers return
 * SW_E_UNAVAILABLE). */
struct db_conn *db_acquire(struct db *db);
void db_release(struct db_conn *c);
struct db *db_of(struct db_conn *c);
/* The object that owns the database (the store), for code that holds only
 * a connection; set once, before the database is shared. */
void db_set_owner(struct db *db, void *owner);
void *db_owner(struct db *db);

/* ---- statements ------------------------------------------------------------ */

/* *out = the connection's cached statement for this static text, reset
 * and unbound: 0, or SW_E_* after logging (UNAVAILABLE when the database
 * is unreachable, STORE when the SQL is wrong). */
int db_prep(struct db_conn *c, const char *sql, struct db_stmt **out);

/* Parameters are 1-based.  Text and blobs are borrowed until the statement
 * is reset (SQLite reads them on every step); a NULL text binds SQL NULL. */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n);
void db_bind_null(struct db_stmt *st, int i);
/* Binds SQL NULL when v == null_value (e.g. 0 or SLA_NEVER), else v. */
void db_bind_int64_or_null(struct db_stmt *st, int i, int64_t v, int64_t null_value);

/* Multi-row statements: HEAD ROW, ROW, ... TAIL for 1, 2, 4 ...
 * 2^DB_ROWS_LOG2_MAX rows, each text built on first use and kept for the
 * process (db_prep caches statements by the address of their text).  ROW
 * names its parameters ?1 .. ?nparams; row r's become ?(r * nparams + k).
 * A batch of n rows goes as the pieces db_rows_piece gives (50 rows: 32,
 * 16, 2): a round trip per piece instead of per row, and few prepared
 * statements per connection.  Define one family per statement:
 *     static struct db_rows links = DB_ROWS("INSERT ... VALUES ", "(?1, ?2)", "", 2); */
#define DB_ROWS_LOG2_MAX 7
#define DB_ROWS_MAX (1 << DB_ROWS_LOG2_MAX)
struct db_rows {
    const char *head, *row, *tail;
    int nparams;
    char *_Atomic sql[DB_ROWS_LOG2_MAX + 1];
};
#define DB_ROWS(h, r, t, n) {.head = (h), .row = (r), .tail = (t), .nparams = (n)}
/* The text for 2^k rows (0 <= k <= DB_ROWS_LOG2_MAX). */
const char *db_rows_sql(struct db_rows *m, int k);
/* k of the next piece of n > 0 rows: the largest 2^k <= min(n, DB_ROWS_MAX). */
int db_rows_piece(size_t n);
/* Runs m over rows 0 .. n-1 in pieces (statements whose rows are not
 * read): bind(st, o, i, ud) binds row i as ?(o + 1) .. ?(o + nparams). */
typedef void (*db_rows_bind_fn)(struct db_stmt *st, int o, size_t i, const void *ud);
int db_rows_exec(struct db_conn *c, struct db_rows *m, size_t n, db_rows_bind_fn bind,
                 const void *ud);

/* DB_ROW, DB_DONE, or a negative SW_E_* (after which the statement is
 * reset).  The first step runs the statement. */
int db_step(struct db_stmt *st);
/* Steps a statement that returns no rows (or whose rows are not wanted)
 * and resets it: 0 or SW_E_*. */
int db_exec(struct db_stmt *st);
/* Steps once: 1 with a row (left for the caller to read, then db_reset),
 * 0 without (reset), or SW_E_* (reset). */
int db_step_one(struct db_stmt *st);
/* Reads st's rows in pages instead of all at once: on PostgreSQL a cursor,
 * fetched DB_STREAM_ROWS rows at a time, so a result of a million rows
 * never sits whole in memory (libpq would hold it all at the first step:
 * ~300 MB and seconds of allocation for a million open alerts).  Other
 * statements may still run on the connection between two steps.  Only
 * inside a transaction (the cursor's life); call it after db_prep and the
 * binds, before the first step; db_reset ends it.  SQLite steps rows one
 * by one anyway: nothing changes there. */
#define DB_STREAM_ROWS 1000
int db_stream(struct db_stmt *st);
/* Runs a one-row INSERT ending in {RETURNING_ID}, into a table keyed by
 * `id` (SQLite: INTEGER PRIMARY KEY, the rowid), and gives the new row's
 * id.  PostgreSQL returns it as a row; SQLite reads it from the connection
 * (sqlite3_last_insert_rowid), as RETURNING there costs an ephemeral table
 * per statement (~4 us an event, a tenth of a breach's write).  The
 * statement is reset.  SW_E_STORE if no row was inserted. */
int db_insert_id(struct db_stmt *st, int64_t *id);
/* Rows changed by the statement's last run (INSERT/UPDATE/DELETE). */
int64_t db_changes(struct db_stmt *st);
/* Back to unbound and not running; always call when done. */
void db_reset(struct db_stmt *st);

/* Columns are 0-based; valid until the next step or reset. */
bool db_col_null(struct db_stmt *st, int i);
int64_t db_col_int64(struct db_stmt *st, int i);        /* NULL -> 0 */
int db_col_int(struct db_stmt *st, int i);
const char *db_col_text(struct db_stmt *st, int i);     /* NULL -> "" */
const void *db_col_blob(struct db_stmt *st, int i, size_t *n);
/* Copies a text column into dst (truncated to cap - 1, NUL-terminated). */
void db_col_copy(struct db_stmt *st, int i, char *dst, size_t cap);
/* SLA_NEVER-style: v_if_null when the column is NULL. */
int64_t db_col_int64_or(struct db_stmt *st, int i, int64_t v_if_null);

/* ---- transactions ------------------------------------------------------------ */

int db_begin(struct db_conn *c, enum db_tx_kind kind);
/* Commits; on failure the transaction is rolled back. */
int db_commit(struct db_conn *c);
/* No-op outside a transaction. */
void db_rollback(struct db_conn *c);
bool db_in_tx(const struct db_conn *c);

typedef int (*db_tx_fn)(struct db_conn *c, void *ud);
/* Acquire, BEGIN (kind), fn, COMMIT, release.  fn returning < 0 rolls back
 * and that is the result; SW_E_RETRY (from fn or COMMIT) re-runs fn from
 * the start in a new transaction, a few times with a short random backoff,
 * so fn must not keep state across calls except through ud it resets.
 * A positive return of fn is committed and returned as it is. */
int db_tx(struct db *db, enum db_tx_kind kind, db_tx_fn fn, void *ud);

/* Work a transaction does just before its COMMIT, and state it keeps
 * until then: the hash chains (chain.c) take their chain heads' row locks
 * only there, last and in one order, so an append never holds a head
 * while it waits for other rows (no deadlock, the shortest hold).
 * db_precommit registers fn once per transaction (a second call with the
 * same fn returns the same slot) and answers the address of a pointer,
 * NULL at first, that the caller may set to its own state; fn(c, *slot)
 * runs before COMMIT (a negative return rolls back and is db_commit's:
 * SW_E_RETRY retries inside db_tx) and release(*slot) after COMMIT or
 * ROLLBACK.  NULL outside a transaction or beyond DB_PRECOMMIT_MAX fns. */
#define DB_PRECOMMIT_MAX 4
typedef int (*db_precommit_fn)(struct db_conn *c, void *state);
void **db_precommit(struct db_conn *c, db_precommit_fn fn, void (*release)(void *state));

/* ---- signals ------------------------------------------------------------------ */

/* Subscriber of this process: channel and payload are borrowed for the
 * call.  Channel "reset" (payload "") says other nodes' signals may have
 * been lost (the listening connection dropped): forget every cache;
 * "resumed" says they flow again.  Called from the committing thread for
 * this node's signals and from the listener thread for other nodes'. */
typedef void (*db_signal_fn)(void *ud, const char *channel, const char *payload);
/* Set once, before the database is used by several threads. */
void db_subscribe(struct db *db, db_signal_fn fn, void *ud);
/* Queues a signal in the current transaction (delivered after COMMIT,
 * dropped by ROLLBACK), or delivers it at once outside one.  channel: a
 * short word; payload: at most DB_SIGNAL_MAX bytes of text.  SW_E_TOOBIG
 * beyond. */
#define DB_SIGNAL_MAX 7000
int db_signal(struct db_conn *c, const char *channel, const char *payload);
/* The same for this process only (a hint other nodes do not need). */
int db_signal_local(struct db_conn *c, const char *channel, const char *payload);
/* The same, and the COMMIT returns only once every other live node has
 * handled it (PostgreSQL: a ping through the same channel that each node
 * answers after the signal, since signals arrive in commit order; at most
 * DB_BARRIER_MS).  For invalidations that must hold on every node from the
 * next request (a revoked token).  Nodes are those whose listener beat in
 * the table cluster_nodes (id TEXT PRIMARY KEY, heartbeat_at BIGINT) within
 * the last few seconds; the store's schema creates it. */
#define DB_BARRIER_MS 1000
int db_signal_wait(struct db_conn *c, const char *channel, const char *payload);
/* Nodes seen alive in cluster_nodes (1 on SQLite), or SW_E_*. */
int db_node_count(struct db *db);
/* Puts this node in cluster_nodes now (once the schema has the table), so
 * a commit barrier on another node waits for it from the first request;
 * the listener keeps the row fresh afterwards.  No-op on SQLite. */
int db_node_register(struct db *db);
/* True while other nodes' signals may be missed (PostgreSQL listener
 * down); caches must not be trusted then. */
bool db_signals_lossy(struct db *db);

/* ---- health ---------------------------------------------------------------------- */

/* A cheap round trip (SELECT 1). */
int db_ping(struct db *db);
/* True after a write failed with SW_E_UNAVAILABLE, until a write
 * transaction commits again (the store probes with a small write). */
bool db_degraded(struct db *db);
/* Errors the database reported (for /metrics). */
uint64_t db_error_count(struct db *db);
/* Serialization failures and deadlocks retried by db_tx. */
uint64_t db_retry_count(struct db *db);
/* The message of the last error on this connection (for logs). */
const char *db_last_error(struct db_conn *c);

/* ---- faults (tests) ------------------------------------------------------------- */

/* The n-th next driver call (prepare, step, exec, begin, commit; n >= 1)
 * on any connection fails with err; n = 0 turns it off.  Calls made by
 * db_open itself are not counted. */
void db_fail_after(struct db *db, int64_t n, int err);
/* Driver calls made so far (for a test that fails each one in turn). */
int64_t db_call_count(struct db *db);

#endif
