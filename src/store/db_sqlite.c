/* db_sqlite.c: the SQLite driver of db.h (the embedded default).
 *
 * WAL lets readers run beside the single writer; BEGIN IMMEDIATE takes the
 * write lock up front, so two writers queue instead of deadlocking on an
 * upgrade; synchronous=FULL: a commit that returned is on disk, so a 2xx
 * answer survives a crash of the process or of the machine.  One process
 * owns the database, so signals stay in the process (no notify).
 *
 * Disk full, I/O errors and a read-only file are SW_E_UNAVAILABLE (503,
 * retried by clients), not internal errors. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_int.h"
#include "util/xalloc.h"

struct sq_db {
    char *path;
};

struct sq_conn {
    struct db_conn base;
    sqlite3 *h;
    bool big_cache;             /* this transaction raised cache_size */
};

struct sq_stmt {
    struct db_stmt base;
    sqlite3_stmt *st;
    int64_t changes;
    int64_t last_id;            /* the rowid of the last row inserted */
};

static struct sq_conn *conn_of(struct db_conn *c) { return (struct sq_conn *)c; }
static struct sq_stmt *stmt_of(struct db_stmt *s) { return (struct sq_stmt *)s; }

/* The SW_E_* of SQLite's last error on h, with its message in err. */
static int map_error(struct db_conn *c, int rc)
{
    sqlite3 *h = conn_of(c)->h;
    int ext = h ? sqlite3_extended_errcode(h) : rc;
    snprintf(c->err, sizeof(c->err), "%s", h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
    switch (ext) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return SW_E_EXISTS;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return SW_E_NOTFOUND;
    default:
        break;
    }
    switch (ext & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOLFS:
        return SW_E_UNAVAILABLE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SW_E_BUSY;
    default:
        return SW_E_STORE;
    }
}

/* ---- database and connections ---------------------------------------------- */

/* Before SQLite initialises: no memory statistics.  With them (the
 * default) every sqlite3_malloc and sqlite3_free takes a process-wide
 * mutex to count bytes nobody reads here: ~450 of them per breach written,
 * 4 % of the scheduler's instructions, and a point where the HTTP threads'
 * connections contend.  Too late (SQLite already in use in this process,
 * as in some tests) only keeps the statistics. */
static void sq_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(struct db *db, const char *path, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sq_configure);
    struct sq_db *d = xcalloc(1, sizeof(*d));
    d->path = xstrdup(path);
    db->drv_state = d;
    snprintf(db->url_public, sizeof(db->url_public), "sqlite:%s", path);
    return 0;
}

static void sq_close(struct db *db)
{
    struct sq_db *d = db->drv_state;
    if (!d)
        return;
    free(d->path);
    free(d);
    db->drv_state = NULL;
}

/* Waiting for another writer.  SQLite's own busy handler sleeps 1, 2, 5 …
 * up to 100 ms per try, so under many concurrent writers an unlucky request
 * waits far longer than the lock is held (p99 in seconds for ~0.3 ms
 * commits).  This one polls every 50-800 us instead and gives up after the
 * same 10 s. */
#define BUSY_TIMEOUT_US 10000000
static int busy_wait(void *ud, int tries)
{
    (void)ud;
    long step = 50L << (tries < 4 ? tries : 4);        /* 50, 100, … 800 us */
    long slept = tries < 5 ? 50L * ((1L << tries) - 1) : 750L + (long)(tries - 4) * 800L;
    if (slept >= BUSY_TIMEOUT_US)
        return 0;
    struct timespec ts = {0, step * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

static int sq_connect(struct db *db, struct db_conn **out, char *err, size_t errlen)
{
    struct sq_db *d = db->drv_state;
    struct sq_conn *c = xcalloc(1, sizeof(*c));
    int rc = sqlite3_open_v2(d->path, &c->h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", d->path,
                 c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_handler(c->h, busy_wait, NULL);
    static const char pragmas[] =
        "PRAGMA journal_mode = WAL;"
        "PRAGMA synchronous = FULL;"
        "PRAGMA foreign_keys = ON;"
        "PRAGMA temp_store = MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(c->h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure %s: %s", d->path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    *out = &c->base;
    return 0;
fail:
    sqlite3_close(c->h);
    free(c);
    return SW_E_UNAVAILABLE;
}

static void sq_disconnect(struct db_conn *base)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_close(c->h);
    free(c);
}

/* ---- statements ------------------------------------------------------------- */

static int sq_prepare(struct db_conn *c, const char *sql, int nparams, struct db_stmt **out)
{
    sqlite3_stmt *h;
    if (sqlite3_prepare_v3(conn_of(c)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &h, NULL) !=
        SQLITE_OK)
        return map_error(c, SQLITE_ERROR);
    struct sq_stmt *st = xcalloc(1, sizeof(*st));
    st->st = h;
    *out = &st->base;
    return 0;
}

static void sq_finalize(struct db_stmt *base)
{
    sqlite3_finalize(stmt_of(base)->st);
    free(base);
}

static void sq_bind_int64(struct db_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(stmt_of(s)->st, i, v);
}

static void sq_bind_text(struct db_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(stmt_of(s)->st, i, v, -1, SQLITE_STATIC);
}

static void sq_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(stmt_of(s)->st, i, p ? p : "", n, SQLITE_STATIC);
}

static void sq_bind_null(struct db_stmt *s, int i)
{
    sqlite3_bind_null(stmt_of(s)->st, i);
}

static int sq_step(struct db_stmt *base)
{
    struct sq_stmt *s = stmt_of(base);
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(conn_of(base->c)->h);
        s->last_id = sqlite3_last_insert_rowid(conn_of(base->c)->h);
        return DB_DONE;
    }
    return map_error(base->c, rc);
}

static void sq_reset(struct db_stmt *base)
{
    struct sq_stmt *s = stmt_of(base);
    base->stream = false;       /* rows come one by one here anyway */
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
}

static int64_t sq_changes(struct db_stmt *s) { return stmt_of(s)->changes; }
static int64_t sq_last_insert_id(struct db_stmt *s) { return stmt_of(s)->last_id; }

static bool sq_col_null(struct db_stmt *s, int i)
{
    return sqlite3_column_type(stmt_of(s)->st, i) == SQLITE_NULL;
}

static int64_t sq_col_int64(struct db_stmt *s, int i)
{
    return sqlite3_column_int64(stmt_of(s)->st, i);
}

static const char *sq_col_text(struct db_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(stmt_of(s)->st, i);
}

static const void *sq_col_blob(struct db_stmt *s, int i, size_t *n)
{
    const void *p = sqlite3_column_blob(stmt_of(s)->st, i);
    *n = (size_t)sqlite3_column_bytes(stmt_of(s)->st, i);
    return p;
}

/* ---- scripts and transactions -------------------------------------------------- */

static int sq_exec(struct db_conn *c, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(conn_of(c)->h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    int err = map_error(c, rc);
    if (msg)
        snprintf(c->err, sizeof(c->err), "%s", msg);
    sqlite3_free(msg);
    return err;
}

/* A bulk transaction's page cache (KiB, as cache_size takes it negated)
 * and every other one's: SQLite's default, so idle pooled connections stay
 * small.  A 10,000-alert batch dirties ~10 MiB of pages; with 2 MiB SQLite
 * spills them into the WAL before COMMIT and writes them again. */
#define SQ_BULK_CACHE "PRAGMA cache_size = -65536"
#define SQ_DEFAULT_CACHE "PRAGMA cache_size = -2000"

static void sq_cache_default(struct sq_conn *c)
{
    if (c->big_cache) {
        sqlite3_exec(c->h, SQ_DEFAULT_CACHE, NULL, NULL, NULL);
        c->big_cache = false;
    }
}

static int sq_begin(struct db_conn *c, enum db_tx_kind kind)
{
    struct sq_conn *sc = conn_of(c);
    if ((kind == DB_TX_BULK || kind == DB_TX_LOCKING) && !sc->big_cache)
        sc->big_cache = sqlite3_exec(sc->h, SQ_BULK_CACHE, NULL, NULL, NULL) == SQLITE_OK;
    int rc = sq_exec(c, kind == DB_TX_READ ? "BEGIN" : "BEGIN IMMEDIATE");
    if (rc < 0)
        sq_cache_default(sc);
    return rc;
}

static int sq_commit(struct db_conn *c)
{
    int rc = sq_exec(c, "COMMIT");
    if (sqlite3_get_autocommit(conn_of(c)->h))   /* done, committed or rolled back */
        sq_cache_default(conn_of(c));
    return rc;
}

static void sq_rollback(struct db_conn *c)
{
    if (!sqlite3_get_autocommit(conn_of(c)->h))
        sqlite3_exec(conn_of(c)->h, "ROLLBACK", NULL, NULL, NULL);
    sq_cache_default(conn_of(c));
}

const struct db_driver db_sqlite_driver = {
    .name = "sqlite",
    .dialect = DB_SQLITE,
    .frag = {
        [DB_FRAG_FOR_UPDATE] = "",
        [DB_FRAG_SKIP_LOCKED] = "",
        [DB_FRAG_FOR_SHARE] = "",
        [DB_FRAG_LEAST] = "min",
        [DB_FRAG_GREATEST] = "max",
        [DB_FRAG_INDEXED_BY] = "INDEXED BY %s",
        [DB_FRAG_BIGINT] = "INTEGER",
        [DB_FRAG_RETURNING_ID] = "",
    },
    .dollar_params = false,
    .open = sq_open,
    .close = sq_close,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .changes = sq_changes,
    .last_insert_id = sq_last_insert_id,
    .col_null = sq_col_null,
    .col_int64 = sq_col_int64,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .notify = NULL,
};
