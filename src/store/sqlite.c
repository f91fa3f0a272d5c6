/* sqlite.c: the embedded SQLite backend of store.h.
 *
 * Connections: a small pool, created lazily, each with its own cache of
 * prepared statements (prepared once, reset after use).  A connection is used
 * by one thread at a time: callers take one from the pool and give it back.
 * WAL lets readers run beside the single writer; busy_timeout makes writers
 * queue instead of failing.  synchronous=FULL: a commit that returned is on
 * disk, so a 2xx answer survives a crash of the process or of the machine.
 *
 * Schema: numbered migrations embedded from schema/sqlite/NNNN_name.sql,
 * applied in order inside one transaction, recorded in schema_version.
 */
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_int.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/xalloc.h"

#define POOL_MAX 8
#define TOKEN_CACHE_SLOTS 256
#define TOKEN_CACHE_TTL_MS 5000
#define TENANT_CACHE_TTL_MS 5000

enum stmt_id {
    ST_PING,
    ST_TENANT_INSERT,
    ST_TENANT_GET,
    ST_TENANT_ALL,
    ST_PROJECT_INSERT,
    ST_PROJECT_GET,
    ST_PROJECT_LIST,
    ST_TOKEN_INSERT,
    ST_TOKEN_LOOKUP,
    ST_TOKEN_COUNT,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_PING] = "SELECT 1",
    [ST_TENANT_INSERT] =
        "INSERT INTO tenants (id, name, template, timezone, created_at) "
        "VALUES (?1, ?2, NULLIF(?3, ''), ?4, ?5)",
    [ST_TENANT_GET] =
        "SELECT id, name, COALESCE(template, ''), timezone, created_at "
        "FROM tenants WHERE id = ?1",
    [ST_TENANT_ALL] =
        "SELECT id, name, COALESCE(template, ''), timezone, created_at "
        "FROM tenants ORDER BY id",
    [ST_PROJECT_INSERT] =
        "INSERT INTO projects (tenant_id, id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_PROJECT_GET] =
        "SELECT tenant_id, id, name, created_at FROM projects "
        "WHERE tenant_id = ?1 AND id = ?2",
    [ST_PROJECT_LIST] =
        "SELECT tenant_id, id, name, created_at FROM projects "
        "WHERE tenant_id = ?1 ORDER BY id",
    [ST_TOKEN_INSERT] =
        "INSERT INTO tokens (hash, name, role, tenant_id, created_at, expires_at) "
        "VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, NULLIF(?6, 0))",
    [ST_TOKEN_LOOKUP] =
        "SELECT id, name, role, COALESCE(tenant_id, ''), created_at, "
        "COALESCE(expires_at, 0), COALESCE(revoked_at, 0) FROM tokens WHERE hash = ?1",
    [ST_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
};

struct sqlite_store {
    struct store base;
    char *path;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *free_list;
    struct conn *all[POOL_MAX];
    int nconn;

    /* Tokens looked up recently: every authenticated request needs one, and
     * a read transaction per request costs more than the request itself.
     * Entries live TOKEN_CACHE_TTL_MS; any write to the tokens table clears
     * the whole cache (sq_token_cache_clear), so a revoked token stops
     * working at once on this node and within the TTL on others.  tc_gen
     * counts the clears: a lookup installs what it read only if no clear
     * happened since before its read (see sq_token_lookup). */
    pthread_mutex_t tc_mu;
    uint64_t tc_gen;
    struct sq_alert_writer *alert_writer;

    /* the tenant cache (see sq_tenant_get); tn_gen counts the clears */
    pthread_mutex_t tn_mu;
    struct sw_tenant *tn_all;
    size_t tn_n;
    int64_t tn_fetched_ms;
    uint64_t tn_gen;
    struct token_cache_entry {
        uint8_t hash[SW_TOKEN_HASH_LEN];
        struct sw_token tok;
        int64_t fetched_ms;     /* monotonic; 0 = empty */
    } tc[TOKEN_CACHE_SLOTS];
};

static const struct store_ops sqlite_ops;

/* ---- errors ---------------------------------------------------------- */

int sq_fail(struct sqlite_store *s, struct conn *c, const char *what)
{
    s->base.errors++;
    log_error("sqlite: %s: %s", what, sqlite3_errmsg(c->db));
    return SW_E_STORE;
}

/* ---- connections ----------------------------------------------------- */

/* Waiting for another writer.  SQLite's own busy handler sleeps 1, 2, 5 …
 * up to 100 ms per try, so under many concurrent writers an unlucky request
 * waits far longer than the lock is held (p99 in seconds for ~0.3 ms
 * commits).  This one polls every 50-800 us instead and gives up after the
 * same 10 s.  (Writers of one subject also queue on mutexes of their own,
 * e.g. the alert writer; this covers the rest.) */
#define BUSY_TIMEOUT_US 10000000
static int busy_wait(void *ud, int tries)
{
    (void)ud;
    long step = 50L << (tries < 4 ? tries : 4);        /* 50, 100, … 800 us */
    /* about the total slept so far: geometric, then linear */
    long slept = tries < 5 ? 50L * ((1L << tries) - 1) : 750L + (long)(tries - 4) * 800L;
    if (slept >= BUSY_TIMEOUT_US)
        return 0;
    struct timespec ts = {0, step * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

static int conn_open(const char *path, struct conn **out, char *err, size_t errlen)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_handler(c->db, busy_wait, NULL);
    static const char pragmas[] =
        "PRAGMA journal_mode = WAL;"
        "PRAGMA synchronous = FULL;"
        "PRAGMA foreign_keys = ON;"
        "PRAGMA temp_store = MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    sqlite3_close(c->db);
    free(c);
    return SW_E_STORE;
}

static void conn_close(struct conn *c)
{
    for (int i = 0; i < SQ_CACHE_SLOTS; i++)
        sqlite3_finalize(c->cache[i].st);
    sqlite3_close(c->db);
    free(c);
}

struct conn *sq_acquire(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->free_list) {
            struct conn *c = s->free_list;
            s->free_list = c->next_free;
            pthread_mutex_unlock(&s->mu);
            return c;
        }
        if (s->nconn < POOL_MAX) {
            char err[256];
            struct conn *c;
            int slot = s->nconn++;
            pthread_mutex_unlock(&s->mu);
            if (conn_open(s->path, &c, err, sizeof(err)) == 0) {
                s->all[slot] = c;   /* slot reserved above; only we write it */
                return c;
            }
            log_error("sqlite: %s", err);
            pthread_mutex_lock(&s->mu);
            s->nconn--;
            s->base.errors++;
            if (s->nconn == 0) {
                pthread_mutex_unlock(&s->mu);
                return NULL;
            }
        }
        pthread_cond_wait(&s->cv, &s->mu);
    }
}

void sq_release(struct sqlite_store *s, struct conn *c)
{
    pthread_mutex_lock(&s->mu);
    c->next_free = s->free_list;
    s->free_list = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

sqlite3_stmt *sq_stmt(struct sqlite_store *s, struct conn *c, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) % SQ_CACHE_SLOTS;
    for (size_t k = 0; k < SQ_CACHE_SLOTS; k++) {
        struct sq_cached *e = &c->cache[(h + k) % SQ_CACHE_SLOTS];
        if (e->sql == sql)
            return e->st;
        if (e->sql)
            continue;
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &e->st, NULL) !=
            SQLITE_OK) {
            sq_fail(s, c, sql);
            e->st = NULL;
            return NULL;
        }
        e->sql = sql;
        return e->st;
    }
    /* cache full: a programming error (more distinct statements than slots) */
    log_error("sqlite: statement cache full");
    return NULL;
}

void sq_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

void sq_copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int sq_begin(struct sqlite_store *s, struct conn *c)
{
    static const char sql[] = "BEGIN IMMEDIATE";
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, c, sql);
}

int sq_commit(struct sqlite_store *s, struct conn *c)
{
    static const char sql[] = "COMMIT";
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        if (c->tenants_dirty)
            sq_tenant_cache_clear(s);
        c->tenants_dirty = false;
        return 0;
    }
    sq_fail(s, c, sql);
    sq_rollback(s, c);
    return SW_E_STORE;
}

void sq_rollback(struct sqlite_store *s, struct conn *c)
{
    c->tenants_dirty = false;
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

#define BIND_TEXT SQ_TEXT

/* ---- migrations ------------------------------------------------------ */

static int migrate(struct conn *c, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db,
        "BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "  version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        "  applied_at INTEGER NOT NULL DEFAULT (unixepoch() * 1000));",
        NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;

    sqlite3_stmt *q = NULL;
    int64_t current = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT COALESCE(max(version), 0) FROM schema_version",
                           -1, &q, NULL) != SQLITE_OK)
        goto fail_db;
    if (sqlite3_step(q) == SQLITE_ROW)
        current = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);

    for (const struct embed_file *f = schema_sqlite; f->name; f++) {
        int64_t v = strtoll(f->name, NULL, 10);
        if (v <= current)
            continue;
        if (sqlite3_exec(c->db, (const char *)f->data, NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
        if (sqlite3_prepare_v2(c->db,
                "INSERT INTO schema_version (version, name) VALUES (?1, ?2)",
                -1, &q, NULL) != SQLITE_OK)
            goto fail_db;
        sqlite3_bind_int64(q, 1, v);
        BIND_TEXT(q, 2, f->name);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            goto fail_db;
        log_info("schema: applied %s", f->name);
    }
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return 0;

fail_db:
    snprintf(err, errlen, "migration failed: %s", sqlite3_errmsg(c->db));
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return SW_E_STORE;
fail:
    snprintf(err, errlen, "migration failed: %s", msg ? msg : sqlite3_errmsg(c->db));
    sqlite3_free(msg);
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return SW_E_STORE;
}

int store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen)
{
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    struct conn *c = NULL;
    s->base.ops = &sqlite_ops;
    s->base.events = &sqlite_event_ops;
    s->base.findings = &sqlite_finding_ops;
    s->base.alerts = &sqlite_alert_ops;
    s->base.users = &sqlite_user_ops;
    s->base.notify = &sqlite_notify_ops;
    s->base.analytics = &sqlite_analytics_ops;
    s->base.escalation = &sqlite_escalation_ops;
    s->path = xstrdup(path);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->tc_mu, NULL);
    pthread_mutex_init(&s->tn_mu, NULL);
    if (conn_open(path, &c, err, errlen) < 0)
        goto fail;
    if (migrate(c, err, errlen) < 0)
        goto fail;
    s->all[s->nconn++] = c;
    s->free_list = c;
    s->alert_writer = sq_alert_writer_new(s);
    *out = &s->base;
    return 0;
fail:
    if (c)
        conn_close(c);
    free(s->path);
    free(s);
    return SW_E_STORE;
}

struct sq_alert_writer *sq_alert_writer_of(struct sqlite_store *s)
{
    return s->alert_writer;
}

static void sq_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sq_alert_writer_free(s->alert_writer);  /* drains its queue first */
    for (int i = 0; i < s->nconn; i++)
        if (s->all[i])
            conn_close(s->all[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->tc_mu);
    pthread_mutex_destroy(&s->tn_mu);
    free(s->tn_all);
    free(s->path);
    free(s);
}

/* ---- a one-statement call, the shape of most of this file ------------- */

#define WITH_STMT(id)                                                         \
    struct sqlite_store *s = (struct sqlite_store *)base;                     \
    struct conn *c = sq_acquire(s);                                              \
    if (!c)                                                                   \
        return SW_E_STORE;                                                    \
    sqlite3_stmt *st = sq_stmt(s, c, stmt_sql[id]);                                        \
    if (!st) {                                                                \
        sq_release(s, c);                                                        \
        return SW_E_STORE;                                                    \
    }

#define END_STMT()                                                            \
    sq_done(st);                                                                 \
    sq_release(s, c)

/* Runs a bound insert: 0, SW_E_EXISTS on a uniqueness clash, SW_E_NOTFOUND
 * when a foreign key is missing. */
int sq_exec(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    int ext = sqlite3_extended_errcode(c->db);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return SW_E_EXISTS;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return SW_E_NOTFOUND;
    return sq_fail(s, c, "insert");
}

static int sq_ping(struct store *base)
{
    WITH_STMT(ST_PING);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : sq_fail(s, c, "ping");
    END_STMT();
    return rc;
}

/* ---- tenants and projects -------------------------------------------- */

static void row_tenant(sqlite3_stmt *st, struct sw_tenant *t)
{
    sq_copy_text(t->id, sizeof(t->id), st, 0);
    sq_copy_text(t->name, sizeof(t->name), st, 1);
    sq_copy_text(t->template_name, sizeof(t->template_name), st, 2);
    sq_copy_text(t->timezone, sizeof(t->timezone), st, 3);
    t->created_at = sqlite3_column_int64(st, 4);
}

static void row_project(sqlite3_stmt *st, struct sw_project *p)
{
    sq_copy_text(p->tenant_id, sizeof(p->tenant_id), st, 0);
    sq_copy_text(p->id, sizeof(p->id), st, 1);
    sq_copy_text(p->name, sizeof(p->name), st, 2);
    p->created_at = sqlite3_column_int64(st, 3);
}

/* Runs one bound insert and, when given, its audit row in one transaction. */
static int insert_audited(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st,
                          const struct sw_audit *audit)
{
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = sq_exec(s, c, st);
    if (rc == 0 && audit)
        rc = sq_audit_insert(s, c, audit);
    if (rc == 0)
        return sq_commit(s, c);
    sq_rollback(s, c);
    return rc;
}

static int sq_tenant_create(struct store *base, const struct sw_tenant *t,
                            const struct sw_audit *audit)
{
    WITH_STMT(ST_TENANT_INSERT);
    sq_tenants_touched(c);
    BIND_TEXT(st, 1, t->id);
    BIND_TEXT(st, 2, t->name);
    BIND_TEXT(st, 3, t->template_name);
    BIND_TEXT(st, 4, t->timezone[0] ? t->timezone : "UTC");
    sqlite3_bind_int64(st, 5, t->created_at);
    int rc = insert_audited(s, c, st, audit);
    END_STMT();
    return rc;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;   /* never 0 */
}

/* ---- the tenant cache ------------------------------------------------
 * Every request resolves its tenant (and GET /tenants lists them), while
 * tenants change rarely: the full list, sorted by id, is kept for
 * TENANT_CACHE_TTL_MS.  A commit that touched the tenants table clears it
 * (sq_tenants_touched + sq_commit), so this node never serves a stale row;
 * other nodes on one database see a change within the TTL.
 *
 * The race this must survive: a refresh reads the list, a commit creates a
 * tenant and clears the cache, then the refresh installs the list it read
 * before that commit, and the new tenant would answer 404 for the TTL.  So
 * every clear bumps tn_gen; a refresh notes tn_gen before it reads and
 * installs its list only if tn_gen is unchanged (else it drops it: the next
 * call reads again).  And an id missing from the cache is looked up in the
 * database before answering NOTFOUND, so a miss is never served from the
 * cache alone. */

static bool tn_fresh(struct sqlite_store *s)
{
    return s->tn_all && mono_ms() - s->tn_fetched_ms < TENANT_CACHE_TTL_MS;
}

void sq_tenant_cache_clear(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->tn_mu);
    free(s->tn_all);
    s->tn_all = NULL;
    s->tn_n = 0;
    s->tn_gen++;
    pthread_mutex_unlock(&s->tn_mu);
}

/* Reads every tenant into a new sorted array (the caller's). */
static int tn_load(struct sqlite_store *s, struct sw_tenant **out, size_t *n)
{
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, stmt_sql[ST_TENANT_ALL]);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    size_t cap = 16, k = 0;
    struct sw_tenant *all = xmalloc(cap * sizeof(*all));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap)
            all = xrealloc(all, (cap *= 2) * sizeof(*all));
        row_tenant(st, &all[k++]);
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "tenant_list");
    sq_done(st);
    sq_release(s, c);
    if (rc < 0) {
        free(all);
        return rc;
    }
    *out = all;
    *n = k;
    return 0;
}

/* Makes the cache fresh unless a clear raced with the read (then the cache
 * stays empty, and callers read the database); 0 or a store error. */
static int tn_refresh(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->tn_mu);
    bool fresh = tn_fresh(s);
    uint64_t gen = s->tn_gen;       /* before the read: see the top comment */
    pthread_mutex_unlock(&s->tn_mu);
    if (fresh)
        return 0;
    struct sw_tenant *all;
    size_t n;
    int rc = tn_load(s, &all, &n);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->tn_mu);
    if (s->tn_gen == gen) {
        free(s->tn_all);
        s->tn_all = all;
        s->tn_n = n;
        s->tn_fetched_ms = mono_ms();
        all = NULL;
    }
    pthread_mutex_unlock(&s->tn_mu);
    free(all);                      /* read before a clear: may miss its commit */
    return 0;
}

static int tn_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct sw_tenant *)elem)->id);
}

static int tenant_get_db(struct store *base, const char *id, struct sw_tenant *out)
{
    WITH_STMT(ST_TENANT_GET);
    BIND_TEXT(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_tenant(st, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "tenant_get");
    }
    END_STMT();
    return rc;
}

static int sq_tenant_get(struct store *base, const char *id, struct sw_tenant *out)
{
    struct sqlite_store *s = sq_of(base);
    int rc = tn_refresh(s);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->tn_mu);
    const struct sw_tenant *t =
        s->tn_all ? bsearch(id, s->tn_all, s->tn_n, sizeof(*t), tn_cmp) : NULL;
    if (t)
        *out = *t;
    pthread_mutex_unlock(&s->tn_mu);
    if (t)
        return 0;
    /* never NOTFOUND from the cache alone: it may predate a create */
    return tenant_get_db(base, id, out);
}

static int sq_tenant_list(struct store *base, const char *const *ids, size_t n,
                          store_tenant_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct sw_tenant t;
    if (ids) {
        for (size_t i = 0; i < n; i++) {
            int rc = sq_tenant_get(base, ids[i], &t);
            if (rc == SW_E_NOTFOUND)
                continue;
            if (rc < 0)
                return rc;
            if (cb(&t, ud))
                break;
        }
        return 0;
    }
    /* a private copy, so callbacks run without the lock */
    struct sw_tenant *all;
    size_t k;
    int rc = tn_refresh(s);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->tn_mu);
    k = s->tn_n;
    all = xmalloc((k ? k : 1) * sizeof(*all));
    if (s->tn_all)
        memcpy(all, s->tn_all, k * sizeof(*all));
    bool cached = s->tn_all != NULL;
    pthread_mutex_unlock(&s->tn_mu);
    if (!cached) {
        free(all);
        if ((rc = tn_load(s, &all, &k)) < 0)
            return rc;
    }
    for (size_t i = 0; i < k; i++)
        if (cb(&all[i], ud))
            break;
    free(all);
    return 0;
}

static int sq_project_create(struct store *base, const struct sw_project *p,
                             const struct sw_audit *audit)
{
    WITH_STMT(ST_PROJECT_INSERT);
    BIND_TEXT(st, 1, p->tenant_id);
    BIND_TEXT(st, 2, p->id);
    BIND_TEXT(st, 3, p->name);
    sqlite3_bind_int64(st, 4, p->created_at);
    int rc = insert_audited(s, c, st, audit);
    END_STMT();
    return rc;
}

static int sq_project_get(struct store *base, const char *tenant_id, const char *id,
                          struct sw_project *out)
{
    WITH_STMT(ST_PROJECT_GET);
    BIND_TEXT(st, 1, tenant_id);
    BIND_TEXT(st, 2, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_project(st, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "project_get");
    }
    END_STMT();
    return rc;
}

static int sq_project_list(struct store *base, const char *tenant_id,
                           store_project_cb cb, void *ud)
{
    WITH_STMT(ST_PROJECT_LIST);
    BIND_TEXT(st, 1, tenant_id);
    int rc;
    struct sw_project p;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_project(st, &p);
        if (cb(&p, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "project_list");
    END_STMT();
    return rc;
}

/* ---- tokens ---------------------------------------------------------- */


void sq_token_cache_clear(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->tc_mu);
    memset(s->tc, 0, sizeof(s->tc));
    s->tc_gen++;
    pthread_mutex_unlock(&s->tc_mu);
}

static uint64_t tc_gen(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->tc_mu);
    uint64_t gen = s->tc_gen;
    pthread_mutex_unlock(&s->tc_mu);
    return gen;
}

static struct token_cache_entry *tc_slot(struct sqlite_store *s, const uint8_t *hash)
{
    uint32_t h;
    memcpy(&h, hash, sizeof(h));    /* the hash is uniformly random already */
    return &s->tc[h % TOKEN_CACHE_SLOTS];
}

static bool tc_get(struct sqlite_store *s, const uint8_t *hash, struct sw_token *out)
{
    bool hit = false;
    pthread_mutex_lock(&s->tc_mu);
    struct token_cache_entry *e = tc_slot(s, hash);
    if (e->fetched_ms && mono_ms() - e->fetched_ms < TOKEN_CACHE_TTL_MS &&
        memcmp(e->hash, hash, SW_TOKEN_HASH_LEN) == 0) {
        *out = e->tok;
        hit = true;
    }
    pthread_mutex_unlock(&s->tc_mu);
    return hit;
}

/* Installs a row read after tc_gen() returned gen, unless the cache was
 * cleared since: then the row may predate a revocation committed on this
 * node, and installing it would undo that revocation for the TTL. */
static void tc_put(struct sqlite_store *s, const uint8_t *hash, const struct sw_token *t,
                   uint64_t gen)
{
    pthread_mutex_lock(&s->tc_mu);
    if (s->tc_gen == gen) {
        struct token_cache_entry *e = tc_slot(s, hash);
        memcpy(e->hash, hash, SW_TOKEN_HASH_LEN);
        e->tok = *t;
        e->fetched_ms = mono_ms();
    }
    pthread_mutex_unlock(&s->tc_mu);
}

static int sq_token_create(struct store *base, const struct sw_token *t,
                           const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out)
{
    WITH_STMT(ST_TOKEN_INSERT);
    sqlite3_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    BIND_TEXT(st, 2, t->name);
    BIND_TEXT(st, 3, t->role);
    BIND_TEXT(st, 4, t->tenant_id);
    sqlite3_bind_int64(st, 5, t->created_at);
    sqlite3_bind_int64(st, 6, t->expires_at);
    int rc = sq_exec(s, c, st);
    if (rc == 0 && id_out)
        *id_out = sqlite3_last_insert_rowid(c->db);
    END_STMT();
    sq_token_cache_clear(s);
    return rc;
}

static int sq_token_lookup(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                           struct sw_token *out)
{
    if (tc_get(sq_of(base), hash, out))
        return 0;
    uint64_t gen = tc_gen(sq_of(base));     /* before the read: see tc_put */
    WITH_STMT(ST_TOKEN_LOOKUP);
    sqlite3_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        sq_copy_text(out->name, sizeof(out->name), st, 1);
        sq_copy_text(out->role, sizeof(out->role), st, 2);
        sq_copy_text(out->tenant_id, sizeof(out->tenant_id), st, 3);
        out->created_at = sqlite3_column_int64(st, 4);
        out->expires_at = sqlite3_column_int64(st, 5);
        out->revoked_at = sqlite3_column_int64(st, 6);
        rc = 0;
        tc_put(s, hash, out, gen);
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "token_lookup");
    }
    END_STMT();
    return rc;
}

static int sq_token_count(struct store *base, int64_t *count)
{
    WITH_STMT(ST_TOKEN_COUNT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = sq_fail(s, c, "token_count");
    }
    END_STMT();
    return rc;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .ping = sq_ping,
    .tenant_create = sq_tenant_create,
    .tenant_get = sq_tenant_get,
    .tenant_list = sq_tenant_list,
    .project_create = sq_project_create,
    .project_get = sq_project_get,
    .project_list = sq_project_list,
    .token_create = sq_token_create,
    .token_lookup = sq_token_lookup,
    .token_count = sq_token_count,
};
