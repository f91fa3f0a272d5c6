/* db.c: what every driver shares (db.h): the connection pool, the
 * statement cache, SQL rewriting, transactions with retries, signals
 * queued with a transaction, fault injection and counters.
 *
 * Pool.  Connections are opened lazily up to pool_max and handed to one
 * thread at a time.  A connection the driver marked broken (PostgreSQL
 * went away) is closed when it comes back, so the next acquire opens a
 * fresh one: the store recovers by itself when the database returns.
 * Acquire fails at once (NULL) when a new connection cannot be opened and
 * none is free, so a request answers 503 instead of hanging.
 *
 * Rewriting.  A statement's text is rewritten once per connection, when it
 * is first prepared: ?N becomes $N for PostgreSQL and {NAME} becomes the
 * driver's fragment.  Quoted strings, quoted identifiers and comments are
 * copied as they are. */
#include "store/db_int.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/xalloc.h"
#include "util/str.h"

#define POOL_MAX_DEFAULT 8
#define ACQUIRE_WAIT_S 10
#define TX_ATTEMPTS 8

static const char *const frag_names[DB_FRAG__COUNT] = {
    [DB_FRAG_FOR_UPDATE] = "FOR_UPDATE",
    [DB_FRAG_SKIP_LOCKED] = "SKIP_LOCKED",
    [DB_FRAG_FOR_SHARE] = "FOR_SHARE",
    [DB_FRAG_LEAST] = "LEAST",
    [DB_FRAG_GREATEST] = "GREATEST",
    [DB_FRAG_BIGINT] = "BIGINT",
    [DB_FRAG_INDEXED_BY] = "INDEXED_BY",
    [DB_FRAG_RETURNING_ID] = "RETURNING_ID",
};

struct db_pending_signal {
    struct db_pending_signal *next;
    char *channel, *payload;
};

/* ---- rewriting ---------------------------------------------------------- */

/* The driver's text for sql, or NULL (with a message in err) when a
 * fragment is unknown.  *nparams = the highest ?N. */
static char *rewrite(const struct db_driver *drv, const char *sql, int *nparams, char *err,
                     size_t errlen)
{
    size_t cap = strlen(sql) * 2 + 64, n = 0;
    char *out = xmalloc(cap);
    int maxp = 0;
#define PUT(ch)                                                                 \
    do {                                                                        \
        if (n + 1 >= cap)                                                       \
            out = xrealloc(out, cap *= 2);                                      \
        out[n++] = (ch);                                                        \
    } while (0)
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') {          /* literal or quoted name */
            char q = *p;
            PUT(*p++);
            while (*p) {
                if (*p == q && p[1] == q) {     /* doubled quote */
                    PUT(*p++);
                    PUT(*p++);
                    continue;
                }
                if (*p == q)
                    break;
                PUT(*p++);
            }
            if (*p)
                PUT(*p++);
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                PUT(*p++);
        } else if (*p == '?' && isdigit((unsigned char)p[1])) {
            p++;
            int v = 0;
            while (isdigit((unsigned char)*p) && v < 10000)
                v = v * 10 + (*p++ - '0');
            if (v > maxp)
                maxp = v;
            char num[16];
            int k = snprintf(num, sizeof(num), "%c%d", drv->dollar_params ? '$' : '?', v);
            for (int i = 0; i < k; i++)
                PUT(num[i]);
        } else if (*p == '{') {
            /* {NAME} or {NAME argument} */
            const char *end = strchr(p, '}');
            const char *sp = end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
            const char *name_end = sp ? sp : end;
            int f = -1;
            if (end) {
                for (int i = 0; i < DB_FRAG__COUNT; i++)
                    if (strlen(frag_names[i]) == (size_t)(name_end - p - 1) &&
                        memcmp(frag_names[i], p + 1, (size_t)(name_end - p - 1)) == 0)
                        f = i;
            }
            if (f < 0) {
                snprintf(err, errlen, "unknown SQL fragment in: %.80s", p);
                free(out);
                return NULL;
            }
            for (const char *t = drv->frag[f]; *t; t++) {
                if (t[0] == '%' && t[1] == 's') {
                    for (const char *a = sp ? sp + 1 : end; a < end; a++)
                        PUT(*a);
                    t++;
                } else {
                    PUT(*t);
                }
            }
            p = end + 1;
        } else {
            PUT(*p++);
        }
    }
#undef PUT
    out[n] = '\0';
    *nparams = maxp;
    return out;
}

/* ---- the pool ------------------------------------------------------------- */

struct db *db_of(struct db_conn *c) { return c->db; }
void db_set_owner(struct db *db, void *owner) { db->owner = owner; }
void *db_owner(struct db *db) { return db->owner; }
enum db_dialect db_dialect(const struct db *db) { return db->drv->dialect; }
const char *db_url_public(const struct db *db) { return db->url_public; }
const char *db_node_id(const struct db *db) { return db->node; }
const char *db_last_error(struct db_conn *c) { return c->err; }
uint64_t db_error_count(struct db *db) { return db->errors; }
uint64_t db_retry_count(struct db *db) { return db->retries; }
bool db_degraded(struct db *db) { return db->degraded; }
bool db_signals_lossy(struct db *db) { return db->lossy; }
void db_count_error(struct db *db) { db->errors++; }

static void conn_free(struct db_conn *c)
{
    for (size_t i = 0; i < c->cache_cap; i++)
        if (c->cache[i].st)
            c->db->drv->finalize(c->cache[i].st);
    free(c->cache);
    struct db_pending_signal *s = c->sig_head;
    while (s) {
        struct db_pending_signal *next = s->next;
        free(s->channel);
        free(s->payload);
        free(s);
        s = next;
    }
    c->db->drv->disconnect(c);
}

static struct db_conn *conn_new(struct db *db, char *err, size_t errlen)
{
    struct db_conn *c = NULL;
    if (db->drv->connect(db, &c, err, errlen) < 0)
        return NULL;
    c->db = db;
    c->cache_cap = 64;
    c->cache = xcalloc(c->cache_cap, sizeof(*c->cache));
    return c;
}

struct db_conn *db_acquire(struct db *db)
{
    pthread_mutex_lock(&db->mu);
    for (;;) {
        if (db->free_list) {
            struct db_conn *c = db->free_list;
            db->free_list = c->next_free;
            pthread_mutex_unlock(&db->mu);
            c->next_free = NULL;
            return c;
        }
        if (db->nconn < db->pool_max) {
            db->nconn++;                /* a slot, reserved while connecting */
            pthread_mutex_unlock(&db->mu);
            char err[DB_ERR_MAX];
            struct db_conn *c = conn_new(db, err, sizeof(err));
            if (c)
                return c;
            db->errors++;
            log_limited(&db->down_log, LOG_ERROR, "%s: %s", db->drv->name, err);
            pthread_mutex_lock(&db->mu);
            db->nconn--;
            pthread_cond_signal(&db->cv);
            pthread_mutex_unlock(&db->mu);
            return NULL;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ACQUIRE_WAIT_S;
        if (pthread_cond_timedwait(&db->cv, &db->mu, &until) != 0 && !db->free_list &&
            db->nconn >= db->pool_max) {
            pthread_mutex_unlock(&db->mu);
            log_error("%s: no free connection after %d s", db->drv->name, ACQUIRE_WAIT_S);
            return NULL;
        }
    }
}

void db_release(struct db_conn *c)
{
    if (!c)
        return;
    struct db *db = c->db;
    if (c->in_tx)
        db_rollback(c);
    if (c->broken) {
        conn_free(c);
        pthread_mutex_lock(&db->mu);
        db->nconn--;
        pthread_cond_signal(&db->cv);
        pthread_mutex_unlock(&db->mu);
        return;
    }
    pthread_mutex_lock(&db->mu);
    c->next_free = db->free_list;
    db->free_list = c;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

/* ---- faults and errors ---------------------------------------------------- */

void db_fail_after(struct db *db, int64_t n, int err)
{
    db->fail_err = err;
    db->fail_at = n > 0 ? db->calls + n : 0;
}

int64_t db_call_count(struct db *db) { return db->calls; }

/* Counts a driver call; the injected error when it is the one to fail. */
static int fault(struct db_conn *c)
{
    struct db *db = c->db;
    int64_t k = ++db->calls;
    int64_t at = db->fail_at;
    if (at == 0 || k != at)
        return 0;
    db->fail_at = 0;
    snprintf(c->err, sizeof(c->err), "injected fault at call %lld", (long long)k);
    return db->fail_err ? db->fail_err : SW_E_STORE;
}

/* Bookkeeping of a failed call. */
static int failed(struct db_conn *c, int rc, const char *what)
{
    struct db *db = c->db;
    if (rc == SW_E_EXISTS || rc == SW_E_NOTFOUND)
        return rc;                      /* answers, not failures */
    if (rc == SW_E_RETRY) {
        log_debug("%s: %s: %s (retried)", db->drv->name, what, c->err);
        return rc;
    }
    db->errors++;
    if (rc == SW_E_UNAVAILABLE && c->in_tx && c->tx_kind != DB_TX_READ)
        db->degraded = true;
    if (rc == SW_E_UNAVAILABLE)
        log_limited(&db->down_log, LOG_ERROR, "%s: %s: %s", db->drv->name, what,
                    c->err[0] ? c->err : sw_strerror(rc));
    else
        log_error("%s: %s: %s", db->drv->name, what, c->err[0] ? c->err : sw_strerror(rc));
    return rc;
}

/* ---- statements ----------------------------------------------------------- */

static size_t slot_of(const char *key, size_t cap)
{
    return (size_t)(((uintptr_t)key >> 3) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static void cache_grow(struct db_conn *c)
{
    size_t cap = c->cache_cap * 2;
    struct db_cached *t = xcalloc(cap, sizeof(*t));
    for (size_t i = 0; i < c->cache_cap; i++) {
        if (!c->cache[i].key)
            continue;
        size_t h = slot_of(c->cache[i].key, cap);
        while (t[h].key)
            h = (h + 1) & (cap - 1);
        t[h] = c->cache[i];
    }
    free(c->cache);
    c->cache = t;
    c->cache_cap = cap;
}

int db_prep(struct db_conn *c, const char *sql, struct db_stmt **out)
{
    int rc = fault(c);
    if (rc < 0)
        return failed(c, rc, "prepare");
    size_t h = slot_of(sql, c->cache_cap);
    while (c->cache[h].key) {
        if (c->cache[h].key == sql) {
            /* reset and unbound, as promised, even if a caller forgot */
            c->db->drv->reset(c->cache[h].st);
            *out = c->cache[h].st;
            return 0;
        }
        h = (h + 1) & (c->cache_cap - 1);
    }
    int nparams;
    char *text = rewrite(c->db->drv, sql, &nparams, c->err, sizeof(c->err));
    if (!text)
        return failed(c, SW_E_STORE, "prepare");
    struct db_stmt *st = NULL;
    rc = c->db->drv->prepare(c, text, nparams, &st);
    if (rc < 0) {
        rc = failed(c, rc, "prepare");
        log_error("%s: in: %s", c->db->drv->name, text);
        free(text);
        return rc;
    }
    free(text);
    st->c = c;
    st->nparams = nparams;
    if ((c->cache_n + 1) * 2 > c->cache_cap) {
        cache_grow(c);
        h = slot_of(sql, c->cache_cap);
        while (c->cache[h].key)
            h = (h + 1) & (c->cache_cap - 1);
    }
    c->cache[h].key = sql;
    c->cache[h].st = st;
    c->cache_n++;
    *out = st;
    return 0;
}

static bool param_ok(struct db_stmt *st, int i)
{
    if (i >= 1 && i <= st->nparams)
        return true;
    log_error("db: parameter ?%d out of range (statement has %d)", i, st->nparams);
    return false;
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    if (param_ok(st, i))
        st->c->db->drv->bind_int64(st, i, v);
}

void db_bind_text(struct db_stmt *st, int i, const char *v)
{
    if (!param_ok(st, i))
        return;
    if (v)
        st->c->db->drv->bind_text(st, i, v);
    else
        st->c->db->drv->bind_null(st, i);
}

void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n)
{
    if (param_ok(st, i))
        st->c->db->drv->bind_blob(st, i, p, n);
}

void db_bind_null(struct db_stmt *st, int i)
{
    if (param_ok(st, i))
        st->c->db->drv->bind_null(st, i);
}

void db_bind_int64_or_null(struct db_stmt *st, int i, int64_t v, int64_t null_value)
{
    if (v == null_value)
        db_bind_null(st, i);
    else
        db_bind_int64(st, i, v);
}

int db_step(struct db_stmt *st)
{
    struct db_conn *c = st->c;
    int rc = fault(c);
    if (rc == 0)
        rc = c->db->drv->step(st);
    if (rc >= 0)
        return rc;
    c->db->drv->reset(st);
    return failed(c, rc, "step");
}

int db_exec(struct db_stmt *st)
{
    int rc = db_step(st);
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int db_step_one(struct db_stmt *st)
{
    int rc = db_step(st);
    if (rc == DB_ROW)
        return 1;
    db_reset(st);
    return rc;
}

int db_stream(struct db_stmt *st)
{
    struct db_conn *c = st->c;
    if (!c->in_tx) {
        snprintf(c->err, sizeof(c->err), "a streamed read outside a transaction");
        return failed(c, SW_E_STORE, "stream");
    }
    st->stream = true;
    return 0;
}

int db_insert_id(struct db_stmt *st, int64_t *id)
{
    const struct db_driver *d = st->c->db->drv;
    int rc = db_step(st);
    if (rc < 0)
        return rc;      /* reset by db_step */
    if (rc == DB_ROW)
        *id = db_col_int64(st, 0);
    else if (d->last_insert_id && d->changes(st) == 1)
        *id = d->last_insert_id(st);
    else
        rc = SW_E_STORE;
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int64_t db_changes(struct db_stmt *st) { return st->c->db->drv->changes(st); }
void db_reset(struct db_stmt *st) { st->c->db->drv->reset(st); }
bool db_col_null(struct db_stmt *st, int i) { return st->c->db->drv->col_null(st, i); }
int64_t db_col_int64(struct db_stmt *st, int i) { return st->c->db->drv->col_int64(st, i); }
int db_col_int(struct db_stmt *st, int i) { return (int)st->c->db->drv->col_int64(st, i); }

const char *db_col_text(struct db_stmt *st, int i)
{
    const char *t = st->c->db->drv->col_text(st, i);
    return t ? t : "";
}

const void *db_col_blob(struct db_stmt *st, int i, size_t *n)
{
    return st->c->db->drv->col_blob(st, i, n);
}

void db_col_copy(struct db_stmt *st, int i, char *dst, size_t cap)
{
    sw_scopy(dst, cap, db_col_text(st, i));
}

int64_t db_col_int64_or(struct db_stmt *st, int i, int64_t v_if_null)
{
    return db_col_null(st, i) ? v_if_null : db_col_int64(st, i);
}

int db_exec_script(struct db_conn *c, const char *sql)
{
    int rc = fault(c);
    if (rc == 0)
        rc = c->db->drv->exec(c, sql);
    return rc < 0 ? failed(c, rc, "exec") : 0;
}

/* ---- transactions --------------------------------------------------------- */

bool db_in_tx(const struct db_conn *c) { return c->in_tx; }

static void signals_drop(struct db_conn *c)
{
    struct db_pending_signal *s = c->sig_head;
    while (s) {
        struct db_pending_signal *next = s->next;
        free(s->channel);
        free(s->payload);
        free(s);
        s = next;
    }
    c->sig_head = c->sig_tail = NULL;
}

int db_begin(struct db_conn *c, enum db_tx_kind kind)
{
    if (c->in_tx) {
        snprintf(c->err, sizeof(c->err), "BEGIN inside a transaction");
        return failed(c, SW_E_STORE, "begin");
    }
    int rc = fault(c);
    if (rc == 0)
        rc = c->db->drv->begin(c, kind);
    if (rc < 0) {
        c->db->drv->rollback(c);
        return failed(c, rc, "begin");
    }
    c->in_tx = true;
    c->tx_kind = kind;
    return 0;
}

void **db_precommit(struct db_conn *c, db_precommit_fn fn, void (*release)(void *))
{
    if (!c->in_tx)
        return NULL;
    for (int i = 0; i < c->npre; i++)
        if (c->pre[i].fn == fn)
            return &c->pre[i].state;
    if (c->npre == DB_PRECOMMIT_MAX)
        return NULL;
    c->pre[c->npre] = (struct db_precommit_slot){.fn = fn, .release = release};
    return &c->pre[c->npre++].state;
}

static void precommit_release(struct db_conn *c)
{
    for (int i = 0; i < c->npre; i++)
        if (c->pre[i].release && c->pre[i].state)
            c->pre[i].release(c->pre[i].state);
    c->npre = 0;
}

void db_rollback(struct db_conn *c)
{
    if (!c->in_tx)
        return;
    c->db->drv->rollback(c);
    c->in_tx = false;
    c->barrier = false;
    signals_drop(c);
    precommit_release(c);
}

int db_commit(struct db_conn *c)
{
    if (!c->in_tx) {
        snprintf(c->err, sizeof(c->err), "COMMIT outside a transaction");
        return failed(c, SW_E_STORE, "commit");
    }
    /* the transaction's last statements (db_precommit) */
    for (int i = 0; i < c->npre; i++) {
        int prc = c->pre[i].fn(c, c->pre[i].state);
        if (prc < 0) {
            db_rollback(c);
            return prc;
        }
    }
    int rc = fault(c);
    if (rc == 0)
        rc = c->db->drv->commit(c);
    if (rc < 0) {
        rc = failed(c, rc, "commit");
        db_rollback(c);
        return rc;
    }
    precommit_release(c);
    struct db *db = c->db;
    if (c->tx_kind != DB_TX_READ)
        db->degraded = false;
    c->in_tx = false;
    /* this node's signals, now that they are true */
    struct db_pending_signal *s = c->sig_head;
    c->sig_head = c->sig_tail = NULL;
    while (s) {
        struct db_pending_signal *next = s->next;
        if (db->sig_fn)
            db->sig_fn(db->sig_ud, s->channel, s->payload);
        free(s->channel);
        free(s->payload);
        free(s);
        s = next;
    }
    /* then the other nodes', when they must hold from the next request */
    if (c->barrier) {
        c->barrier = false;
        db->drv->barrier(c);
    }
    return 0;
}

static void backoff(int attempt)
{
    uint32_t max_us = 1000u << (attempt < 6 ? attempt : 6);     /* 1 ms .. 64 ms */
    struct timespec ts = {0, (long)(randombytes_uniform(max_us) + 100) * 1000L};
    nanosleep(&ts, NULL);
}

int db_tx(struct db *db, enum db_tx_kind kind, db_tx_fn fn, void *ud)
{
    struct db_conn *c = db_acquire(db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = SW_E_RETRY;
    for (int attempt = 0; attempt < TX_ATTEMPTS && rc == SW_E_RETRY; attempt++) {
        if (attempt > 0) {
            db->retries++;
            backoff(attempt);
        }
        rc = db_begin(c, kind);
        if (rc < 0)
            continue;
        rc = fn(c, ud);
        if (rc < 0) {
            db_rollback(c);
            continue;
        }
        int crc = db_commit(c);
        if (crc < 0)
            rc = crc;
    }
    if (rc == SW_E_RETRY) {
        db->errors++;
        log_error("%s: transaction still conflicting after %d attempts", db->drv->name,
                  TX_ATTEMPTS);
    }
    db_release(c);
    return rc;
}

/* ---- signals -------------------------------------------------------------- */

void db_subscribe(struct db *db, db_signal_fn fn, void *ud)
{
    db->sig_fn = fn;
    db->sig_ud = ud;
}

void db_deliver(struct db *db, const char *channel, const char *payload)
{
    if (db->sig_fn)
        db->sig_fn(db->sig_ud, channel, payload);
}

static int signal_any(struct db_conn *c, const char *channel, const char *payload, bool remote)
{
    if (strlen(channel) + strlen(payload) + 20 > DB_SIGNAL_MAX)
        return SW_E_TOOBIG;
    if (remote && c->db->drv->notify) {
        /* "<node> <channel> <payload>": other nodes skip their own */
        char *text = xasprintf("%s %s %s", c->db->node, channel, payload);
        int rc = c->db->drv->notify(c, text);
        free(text);
        if (rc < 0)
            return failed(c, rc, "notify");
    }
    if (!c->in_tx) {
        db_deliver(c->db, channel, payload);
        return 0;
    }
    struct db_pending_signal *s = xcalloc(1, sizeof(*s));
    s->channel = xstrdup(channel);
    s->payload = xstrdup(payload);
    if (c->sig_tail)
        c->sig_tail->next = s;
    else
        c->sig_head = s;
    c->sig_tail = s;
    return 0;
}

int db_signal(struct db_conn *c, const char *channel, const char *payload)
{
    return signal_any(c, channel, payload, true);
}

int db_signal_local(struct db_conn *c, const char *channel, const char *payload)
{
    return signal_any(c, channel, payload, false);
}

int db_signal_wait(struct db_conn *c, const char *channel, const char *payload)
{
    int rc = signal_any(c, channel, payload, true);
    if (rc == 0 && c->db->drv->barrier) {
        if (c->in_tx)
            c->barrier = true;
        else
            c->db->drv->barrier(c);
    }
    return rc;
}

int db_node_register(struct db *db)
{
    return db->drv->node_register ? db->drv->node_register(db) : 0;
}

int db_node_count(struct db *db)
{
    return db->drv->node_count ? db->drv->node_count(db) : 1;
}

/* ---- health --------------------------------------------------------------- */

int db_ping(struct db *db)
{
    static const char sql[] = "SELECT 1";
    struct db_conn *c = db_acquire(db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc == 0) {
        rc = db_step(st);
        db_reset(st);
        rc = rc == DB_ROW ? 0 : (rc < 0 ? rc : SW_E_STORE);
    }
    db_release(c);
    return rc;
}

/* ---- opening -------------------------------------------------------------- */

int db_open(const char *url, struct db **out, char *err, size_t errlen)
{
    const struct db_driver *drv;
    const char *target;
    if (strncmp(url, "sqlite:", 7) == 0) {
        drv = &db_sqlite_driver;
        target = url + 7;
        if (!*target) {
            snprintf(err, errlen, "sqlite: needs a path, as in sqlite:./slawatch.db");
            return SW_E_INVAL;
        }
    } else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        drv = &db_pg_driver;
        target = url;
    } else {
        snprintf(err, errlen, "unknown database URL (expected sqlite:PATH or postgres://...)");
        return SW_E_INVAL;
    }
    struct db *db = xcalloc(1, sizeof(*db));
    db->drv = drv;
    db->pool_max = POOL_MAX_DEFAULT;
    const char *pm = getenv("SLAWATCH_DB_POOL");
    if (pm && atoi(pm) > 0 && atoi(pm) <= 256)
        db->pool_max = atoi(pm);
    uint8_t id[8];
    randombytes_buf(id, sizeof(id));
    for (int i = 0; i < 8; i++)
        snprintf(db->node + 2 * i, 3, "%02x", id[i]);
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->cv, NULL);
    log_limit_init(&db->down_log, 10000);
    snprintf(db->url_public, sizeof(db->url_public), "%s", url);
    int rc = drv->open(db, target, err, errlen);
    if (rc < 0)
        goto fail;
    /* one connection now: a wrong URL or a database that is down is said
     * at start, naming the URL */
    char cerr[DB_ERR_MAX];
    struct db_conn *c = conn_new(db, cerr, sizeof(cerr));
    if (!c) {
        snprintf(err, errlen, "cannot connect to %s: %s", db->url_public, cerr);
        drv->close(db);
        rc = SW_E_UNAVAILABLE;
        goto fail;
    }
    db->nconn = 1;
    db->free_list = c;
    *out = db;
    return 0;
fail:
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    log_limit_destroy(&db->down_log);
    free(db);
    return rc;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    db->drv->close(db);         /* stops a listener first */
    struct db_conn *c = db->free_list;
    while (c) {
        struct db_conn *next = c->next_free;
        conn_free(c);
        c = next;
    }
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    log_limit_destroy(&db->down_log);
    free(db);
}
