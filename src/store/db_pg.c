/* db_pg.c: the PostgreSQL driver of db.h (libpq), for several nodes on one
 * database.
 *
 * Statements are prepared on the server once per connection, at their
 * first run, with the types of the first parameters bound (int64 -> int8,
 * blob -> bytea, text and NULL left for the server to infer); a later run
 * that binds a concrete type where the server had inferred one re-prepares.
 * Parameters travel as text (blobs in binary), results as text: integers
 * are parsed, booleans read 't'/'f' as 1/0, bytea is hex.  A statement's
 * whole result is fetched at its first step, so other statements may run
 * on the connection while its rows are read.
 *
 * Transactions: READ is REPEATABLE READ READ ONLY (a snapshot that never
 * fails to serialize), WRITE is READ COMMITTED with row locks taken by the
 * SQL ({FOR_UPDATE}), LOCKING adds a transaction-scoped advisory lock
 * common to every node.  Serialization failures and deadlocks are
 * SW_E_RETRY (db_tx runs the transaction again); a lost server, a full disk
 * or a read-only server are SW_E_UNAVAILABLE, and a lost connection is
 * marked broken so the pool replaces it.
 *
 * Signals: NOTIFY slawatch '<node> <channel> <payload>' inside the
 * transaction (sent by the server at COMMIT, dropped at ROLLBACK); one
 * listener thread per process LISTENs on its own connection and hands other
 * nodes' signals to the subscriber.  While that connection is down the
 * database is "lossy" and the subscriber has been told to forget caches;
 * the thread reconnects with a capped backoff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_pg_int.h"
#include "util/log.h"
#include "util/xalloc.h"

static struct pg_conn *conn_of(struct db_conn *c) { return (struct pg_conn *)c; }
static struct pg_stmt *stmt_of(struct db_stmt *s) { return (struct pg_stmt *)s; }

/* ---- errors ---------------------------------------------------------------- */

void pg_copy_msg(struct db_conn *c, const char *msg)
{
    snprintf(c->err, sizeof(c->err), "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(c->err);
    while (n > 0 && (c->err[n - 1] == '\n' || c->err[n - 1] == ' '))
        c->err[--n] = '\0';
}

/* The SW_E_* of a failed result (res may be NULL). */
static int map_error(struct db_conn *c, const PGresult *res)
{
    PGconn *h = conn_of(c)->h;
    pg_copy_msg(c, res ? PQresultErrorMessage(res) : PQerrorMessage(h));
    if (PQstatus(h) == CONNECTION_BAD) {
        c->broken = true;
        return SW_E_UNAVAILABLE;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return SW_E_STORE;
    if (!strcmp(state, "23505"))
        return SW_E_EXISTS;
    if (!strcmp(state, "23503"))
        return SW_E_NOTFOUND;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
        return SW_E_RETRY;
    if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P02") ||
        !strcmp(state, "57P03")) {
        c->broken = true;       /* connection exception or server shutdown */
        return SW_E_UNAVAILABLE;
    }
    /* disk full, out of memory/connections, I/O error, read-only (standby) */
    if (!strcmp(state, "53100") || !strcmp(state, "53200") || !strcmp(state, "53300") ||
        !strcmp(state, "58030") || !strcmp(state, "25006"))
        return SW_E_UNAVAILABLE;
    return SW_E_STORE;
}

/* ---- the URL ------------------------------------------------------------------ */

/* url with the password of its user-info and any password= parameter
 * replaced by ***. */
static void mask_url(const char *url, char *out, size_t len)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", url);
    char *scheme = strstr(buf, "://");
    char *auth = scheme ? scheme + 3 : buf;
    char *slash = strchr(auth, '/');
    char *at = strchr(auth, '@');
    char res[1024] = "";
    if (at && (!slash || at < slash)) {
        char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            snprintf(res, sizeof(res), "%.*s:***%s", (int)(colon - buf), buf, at);
            snprintf(buf, sizeof(buf), "%s", res);
        }
    }
    char *pw = strstr(buf, "password=");
    if (pw) {
        char *end = strchr(pw, '&');
        snprintf(res, sizeof(res), "%.*spassword=***%s", (int)(pw - buf), buf, end ? end : "");
        snprintf(buf, sizeof(buf), "%s", res);
    }
    snprintf(out, len, "%s", buf);
}

PGconn *pg_connect_url(const char *url)
{
    /* our defaults first: the URL's own values override them */
    const char *keys[] = {"connect_timeout", "application_name", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "dbname", NULL};
    const char *vals[] = {"5", "slawatch", "10", "5", "3", url, NULL};
    return PQconnectdbParams(keys, vals, 1);
}

/* ---- database and connections ------------------------------------------------- */

static int pg_open(struct db *db, const char *url, char *err, size_t errlen)
{
    mask_url(url, db->url_public, sizeof(db->url_public));
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "invalid database URL %s: %s", db->url_public,
                 perr ? perr : "cannot parse");
        PQfreemem(perr);
        return SW_E_INVAL;
    }
    PQconninfoFree(opts);
    struct pg_db *d = xcalloc(1, sizeof(*d));
    d->url = xstrdup(url);
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    db->drv_state = d;
    db->lossy = true;           /* until the listener has said LISTEN */
    if (pthread_create(&d->listener, NULL, pg_listener_main, db) != 0) {
        snprintf(err, errlen, "cannot start the signal listener");
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d->url);
        free(d);
        db->drv_state = NULL;
        return SW_E_IO;
    }
    d->listener_started = true;
    return 0;
}

static void pg_close(struct db *db)
{
    struct pg_db *d = db->drv_state;
    if (!d)
        return;
    d->stop = true;
    if (d->listener_started)
        pthread_join(d->listener, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d->url);
    free(d);
    db->drv_state = NULL;
}

static int pg_connect(struct db *db, struct db_conn **out, char *err, size_t errlen)
{
    struct pg_db *d = db->drv_state;
    PGconn *h = pg_connect_url(d->url);
    if (PQstatus(h) != CONNECTION_OK) {
        char msg[DB_ERR_MAX];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(h));
        size_t n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
            msg[--n] = '\0';
        snprintf(err, errlen, "%s", msg);
        PQfinish(h);
        return SW_E_UNAVAILABLE;
    }
    struct pg_conn *c = xcalloc(1, sizeof(*c));
    c->h = h;
    *out = &c->base;
    return 0;
}

static void pg_disconnect(struct db_conn *base)
{
    struct pg_conn *c = conn_of(base);
    PQfinish(c->h);
    free(c);
}

/* ---- statements ---------------------------------------------------------------- */

static int pg_prepare(struct db_conn *c, const char *sql, int nparams, struct db_stmt **out)
{
    struct pg_stmt *st = xcalloc(1, sizeof(*st));
    st->sql = xstrdup(sql);
    st->n = nparams;
    size_t k = nparams > 0 ? (size_t)nparams : 1;
    st->types = xcalloc(k, sizeof(*st->types));
    st->btypes = xcalloc(k, sizeof(*st->btypes));
    st->vals = xcalloc(k, sizeof(*st->vals));
    st->lens = xcalloc(k, sizeof(*st->lens));
    st->fmts = xcalloc(k, sizeof(*st->fmts));
    st->num = xcalloc(k, sizeof(*st->num));
    *out = &st->base;
    return 0;
}

static void clear_result(struct pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
}

static void pg_finalize(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    clear_result(st);
    for (int i = 0; i < st->nblob; i++)
        free(st->blob[i]);
    free(st->blob);
    free(st->blob_cap);
    free(st->sql);
    free(st->types);
    free(st->btypes);
    free(st->vals);
    free(st->lens);
    free(st->fmts);
    free(st->num);
    free(st);
}

static void pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
    struct pg_stmt *st = stmt_of(s);
    snprintf(st->num[i - 1], sizeof(st->num[0]), "%lld", (long long)v);
    st->vals[i - 1] = st->num[i - 1];
    st->lens[i - 1] = 0;
    st->fmts[i - 1] = 0;
    st->btypes[i - 1] = INT8OID;
}

static void pg_bind_text(struct db_stmt *s, int i, const char *v)
{
    struct pg_stmt *st = stmt_of(s);
    st->vals[i - 1] = v;
    st->lens[i - 1] = 0;
    st->fmts[i - 1] = 0;
    st->btypes[i - 1] = 0;
}

static void pg_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
    struct pg_stmt *st = stmt_of(s);
    st->vals[i - 1] = p ? p : "";
    st->lens[i - 1] = (int)n;
    st->fmts[i - 1] = 1;
    st->btypes[i - 1] = BYTEAOID;
}

static void pg_bind_null(struct db_stmt *s, int i)
{
    struct pg_stmt *st = stmt_of(s);
    st->vals[i - 1] = NULL;
    st->lens[i - 1] = 0;
    st->fmts[i - 1] = 0;
    st->btypes[i - 1] = 0;
}

/* Prepares (again) when a bound type is more precise than the prepared one. */
static int ensure_prepared(struct pg_stmt *st)
{
    struct pg_conn *c = conn_of(st->base.c);
    bool need = !st->prepared;
    for (int i = 0; i < st->n; i++) {
        if (st->btypes[i] && st->types[i] != st->btypes[i]) {
            st->types[i] = st->btypes[i];
            need = true;
        }
    }
    if (!need)
        return 0;
    if (st->prepared) {
        char dealloc[48];
        snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", st->name);
        PQclear(PQexec(c->h, dealloc));
        st->prepared = false;
    }
    snprintf(st->name, sizeof(st->name), "s%u", ++c->next_name);
    PGresult *r = PQprepare(c->h, st->name, st->sql, st->n, st->types);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : map_error(&c->base, r);
    PQclear(r);
    if (rc == 0)
        st->prepared = true;
    else
        log_error("postgres: prepare: %s", st->sql);
    return rc;
}

/* db_stream: DECLARE a cursor for the statement at the first step, then
 * FETCH a page whenever the last one is read. */
static int stream_step(struct pg_stmt *st)
{
    struct pg_conn *c = conn_of(st->base.c);
    PGresult *r;
    if (!st->cursor[0]) {
        char name[16];
        snprintf(name, sizeof(name), "k%u", ++c->next_name);
        size_t n = strlen(st->sql) + 64;
        char *q = xmalloc(n);
        snprintf(q, n, "DECLARE %s NO SCROLL CURSOR FOR %s", name, st->sql);
        r = PQexecParams(c->h, q, st->n, st->btypes, st->vals, st->lens, st->fmts, 0);
        free(q);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            int rc = map_error(&c->base, r);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        memcpy(st->cursor, name, sizeof(name));
        st->more = true;
    }
    if (st->res && st->row + 1 < st->nrows) {
        st->row++;
        return DB_ROW;
    }
    clear_result(st);
    if (!st->more)
        return DB_DONE;
    char fetch[64];
    snprintf(fetch, sizeof(fetch), "FETCH %d FROM %s", DB_STREAM_ROWS, st->cursor);
    r = PQexec(c->h, fetch);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = map_error(&c->base, r);
        PQclear(r);
        return rc;
    }
    st->res = r;
    st->nrows = PQntuples(r);
    st->more = st->nrows == DB_STREAM_ROWS;
    st->row = st->nrows > 0 ? 0 : -1;
    return st->nrows > 0 ? DB_ROW : DB_DONE;
}

static int pg_step(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    if (base->stream)
        return stream_step(st);
    if (!st->res) {
        int rc = ensure_prepared(st);
        if (rc < 0)
            return rc;
        PGresult *r = PQexecPrepared(conn_of(base->c)->h, st->name, st->n, st->vals,
                                     st->lens, st->fmts, 0);
        ExecStatusType s = PQresultStatus(r);
        if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
            rc = map_error(base->c, r);
            PQclear(r);
            return rc;
        }
        st->res = r;
        st->nrows = s == PGRES_TUPLES_OK ? PQntuples(r) : 0;
        const char *ct = PQcmdTuples(r);
        st->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
        st->row = -1;
    }
    if (st->row + 1 < st->nrows) {
        st->row++;
        return DB_ROW;
    }
    st->row = st->nrows;
    return DB_DONE;
}

static void pg_reset(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    clear_result(st);
    if (st->cursor[0]) {
        /* fails harmlessly when the transaction ended (it closed the
         * cursor) or is aborted (the rollback will) */
        char close_[32];
        snprintf(close_, sizeof(close_), "CLOSE %s", st->cursor);
        PQclear(PQexec(conn_of(base->c)->h, close_));
        st->cursor[0] = '\0';
    }
    base->stream = false;
    for (int i = 0; i < st->n; i++) {
        st->vals[i] = NULL;
        st->btypes[i] = 0;
        st->lens[i] = 0;
        st->fmts[i] = 0;
    }
}

static int64_t pg_changes(struct db_stmt *s) { return stmt_of(s)->changes; }

static bool have(struct pg_stmt *st, int i)
{
    return st->res && st->row >= 0 && st->row < st->nrows && i >= 0 && i < PQnfields(st->res);
}

static bool pg_col_null(struct db_stmt *s, int i)
{
    struct pg_stmt *st = stmt_of(s);
    return !have(st, i) || PQgetisnull(st->res, st->row, i);
}

static int64_t pg_col_int64(struct db_stmt *s, int i)
{
    struct pg_stmt *st = stmt_of(s);
    if (pg_col_null(s, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    if (v[0] == 'f' && v[1] == '\0')
        return 0;
    return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct db_stmt *s, int i)
{
    struct pg_stmt *st = stmt_of(s);
    return pg_col_null(s, i) ? NULL : PQgetvalue(st->res, st->row, i);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static const void *pg_col_blob(struct db_stmt *s, int i, size_t *n)
{
    struct pg_stmt *st = stmt_of(s);
    *n = 0;
    if (pg_col_null(s, i))
        return NULL;
    const char *v = PQgetvalue(st->res, st->row, i);
    size_t len = (size_t)PQgetlength(st->res, st->row, i);
    if (len < 2 || v[0] != '\\' || v[1] != 'x')
        return NULL;            /* bytea_output = hex is the default */
    if (i >= st->nblob) {
        int k = i + 1;
        st->blob = xrealloc(st->blob, (size_t)k * sizeof(*st->blob));
        st->blob_cap = xrealloc(st->blob_cap, (size_t)k * sizeof(*st->blob_cap));
        for (int j = st->nblob; j < k; j++) {
            st->blob[j] = NULL;
            st->blob_cap[j] = 0;
        }
        st->nblob = k;
    }
    size_t out = (len - 2) / 2;
    if (out + 1 > st->blob_cap[i]) {
        st->blob[i] = xrealloc(st->blob[i], out + 1);
        st->blob_cap[i] = out + 1;
    }
    for (size_t k = 0; k < out; k++) {
        int hi = hexval(v[2 + 2 * k]), lo = hexval(v[3 + 2 * k]);
        st->blob[i][k] = (unsigned char)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
    }
    *n = out;
    return st->blob[i];
}

/* ---- scripts and transactions ------------------------------------------------------ */

static int pg_exec(struct db_conn *c, const char *sql)
{
    PGresult *r = PQexec(conn_of(c)->h, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) ? 0 : map_error(c, r);
    PQclear(r);
    return rc;
}

static int pg_begin(struct db_conn *c, enum db_tx_kind kind)
{
    switch (kind) {
    case DB_TX_READ:
        return pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    case DB_TX_WRITE:
    case DB_TX_BULK:
        return pg_exec(c, "BEGIN");
    case DB_TX_LOCKING:
    default:
        return pg_exec(c, "BEGIN; SELECT pg_advisory_xact_lock(" LOCKING_KEY ")");
    }
}

static int pg_commit(struct db_conn *c)
{
    PGconn *h = conn_of(c)->h;
    if (PQtransactionStatus(h) == PQTRANS_INERROR) {
        snprintf(c->err, sizeof(c->err), "COMMIT of a transaction that failed");
        return SW_E_STORE;
    }
    PGresult *r = PQexec(h, "COMMIT");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = map_error(c, r);
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        snprintf(c->err, sizeof(c->err), "COMMIT answered %s", PQcmdStatus(r));
        rc = SW_E_STORE;
    }
    PQclear(r);
    return rc;
}

static void pg_rollback(struct db_conn *c)
{
    PGconn *h = conn_of(c)->h;
    if (PQstatus(h) != CONNECTION_OK) {
        c->broken = true;
        return;
    }
    PGTransactionStatusType t = PQtransactionStatus(h);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) {
        PGresult *r = PQexec(h, "ROLLBACK");
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            c->broken = true;
        PQclear(r);
    } else if (t != PQTRANS_IDLE) {
        c->broken = true;       /* busy or unknown: not reusable */
    }
}

static int pg_notify(struct db_conn *c, const char *text)
{
    const char *vals[1] = {text};
    PGresult *r = PQexecParams(conn_of(c)->h, "SELECT pg_notify('" LISTEN_CHANNEL "', $1)", 1,
                               NULL, vals, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : map_error(c, r);
    PQclear(r);
    return rc;
}

const struct db_driver db_pg_driver = {
    .name = "postgres",
    .dialect = DB_PG,
    .frag = {
        [DB_FRAG_FOR_UPDATE] = "FOR UPDATE",
        [DB_FRAG_SKIP_LOCKED] = "FOR UPDATE SKIP LOCKED",
        [DB_FRAG_FOR_SHARE] = "FOR SHARE",
        [DB_FRAG_LEAST] = "LEAST",
        [DB_FRAG_GREATEST] = "GREATEST",
        [DB_FRAG_INDEXED_BY] = "",
        [DB_FRAG_BIGINT] = "BIGINT",
        [DB_FRAG_RETURNING_ID] = "RETURNING id",
    },
    .dollar_params = true,
    .open = pg_open,
    .close = pg_close,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .changes = pg_changes,
    .col_null = pg_col_null,
    .col_int64 = pg_col_int64,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .notify = pg_notify,
    .barrier = pg_barrier,
    .node_count = pg_node_count,
    .node_register = pg_node_register,
};
