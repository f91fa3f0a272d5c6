/* tenants.c: tenants, projects and API tokens (store.h), and the two
 * caches every request goes through.
 *
 * Caches.  Every request resolves its token and its tenant, which change
 * rarely, so both are kept in memory and forgotten on every change:
 * a writer signals "inv" inside its transaction (store_tenants_changed_in,
 * store_tokens_changed_in) and every node, this one included, clears the
 * cache at COMMIT.  Two rules keep a cache from ever answering differently
 * from the database:
 *   - a list or entry read from the database is installed only if no
 *     invalidation happened since the read began (a generation counter),
 *     so a reader that raced a writer cannot put back what it cleared;
 *   - a miss is never cached: a tenant or token created a moment ago, on
 *     any node, is looked up in the database and found.
 * While other nodes' signals may be lost (the PostgreSQL listener is
 * reconnecting) nothing is installed; a short TTL covers writers outside
 * the server (the CLI on the same SQLite file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "store/store_users.h"
#include "util/xalloc.h"

#define CACHE_TTL_MS 5000

void store_sql_close(struct store *base);      /* store.c */
int store_sql_ping(struct store *base);        /* store.c */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;   /* never 0 */
}

/* ---- statements ------------------------------------------------------------ */

static const char SQL_TENANT_INSERT[] =
    "INSERT INTO tenants (id, name, template, timezone, created_at) "
    "VALUES (?1, ?2, NULLIF(?3, ''), ?4, ?5)";
static const char SQL_TENANT_GET[] =
    "SELECT id, name, COALESCE(template, ''), timezone, created_at FROM tenants WHERE id = ?1";
static const char SQL_TENANT_ALL[] =
    "SELECT id, name, COALESCE(template, ''), timezone, created_at FROM tenants ORDER BY id";
static const char SQL_TENANT_EXISTS[] = "SELECT 1 FROM tenants WHERE id = ?1";
static const char SQL_PROJECT_INSERT[] =
    "INSERT INTO projects (tenant_id, id, name, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_PROJECT_GET[] =
    "SELECT tenant_id, id, name, created_at FROM projects WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PROJECT_EXISTS[] =
    "SELECT 1 FROM projects WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PROJECT_LIST[] =
    "SELECT tenant_id, id, name, created_at FROM projects WHERE tenant_id = ?1 ORDER BY id";
static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO tokens (hash, name, role, tenant_id, created_at, expires_at) "
    "VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, NULLIF(?6, 0)) {RETURNING_ID}";
static const char SQL_TOKEN_LOOKUP[] =
    "SELECT id, name, role, COALESCE(tenant_id, ''), created_at, COALESCE(expires_at, 0), "
    "COALESCE(revoked_at, 0) FROM tokens WHERE hash = ?1";
static const char SQL_TOKEN_COUNT[] = "SELECT count(*) FROM tokens";

/* ---- rows -------------------------------------------------------------------- */

static void row_tenant(struct db_stmt *st, struct sw_tenant *t)
{
    db_col_copy(st, 0, t->id, sizeof(t->id));
    db_col_copy(st, 1, t->name, sizeof(t->name));
    db_col_copy(st, 2, t->template_name, sizeof(t->template_name));
    db_col_copy(st, 3, t->timezone, sizeof(t->timezone));
    t->created_at = db_col_int64(st, 4);
}

static void row_project(struct db_stmt *st, struct sw_project *p)
{
    db_col_copy(st, 0, p->tenant_id, sizeof(p->tenant_id));
    db_col_copy(st, 1, p->id, sizeof(p->id));
    db_col_copy(st, 2, p->name, sizeof(p->name));
    p->created_at = db_col_int64(st, 3);
}

static void row_token(struct db_stmt *st, struct sw_token *t)
{
    t->id = db_col_int64(st, 0);
    db_col_copy(st, 1, t->name, sizeof(t->name));
    db_col_copy(st, 2, t->role, sizeof(t->role));
    db_col_copy(st, 3, t->tenant_id, sizeof(t->tenant_id));
    t->created_at = db_col_int64(st, 4);
    t->expires_at = db_col_int64(st, 5);
    t->revoked_at = db_col_int64(st, 6);
}

/* A one-row read by up to two text keys on a pooled connection:
 * 0 (row read by fn), SW_E_NOTFOUND, or SW_E_*. */
static int get_one(struct sql_store *s, const char *sql, const char *k1, const char *k2,
                   void (*fn)(struct db_stmt *, void *), void *out)
{
    struct db_conn *c = db_acquire(s->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc == 0) {
        db_bind_text(st, 1, k1);
        if (k2)
            db_bind_text(st, 2, k2);
        rc = db_step_one(st);
        if (rc == 1) {
            fn(st, out);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_NOTFOUND;
        }
    }
    db_release(c);
    return rc;
}

static void read_tenant(struct db_stmt *st, void *out) { row_tenant(st, out); }
static void read_project(struct db_stmt *st, void *out) { row_project(st, out); }

/* ---- in other subjects' transactions ----------------------------------------- */

static int exists_in(struct db_conn *c, const char *sql, const char *a, const char *b)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, a);
    if (b)
        db_bind_text(st, 2, b);
    rc = db_step_one(st);
    if (rc == 1)
        db_reset(st);
    return rc;
}

int store_tenant_exists_in(struct db_conn *c, const char *tenant_id)
{
    return exists_in(c, SQL_TENANT_EXISTS, tenant_id, NULL);
}

int store_project_exists_in(struct db_conn *c, const char *tenant_id, const char *project_id)
{
    return exists_in(c, SQL_PROJECT_EXISTS, tenant_id, project_id);
}

/* ---- the tenant cache ------------------------------------------------------------ */

void store_tenant_cache_clear(struct sql_store *s)
{
    pthread_mutex_lock(&s->tenants.mu);
    s->tenants.gen++;
    free(s->tenants.all);
    s->tenants.all = NULL;
    s->tenants.n = 0;
    pthread_mutex_unlock(&s->tenants.mu);
}

/* Every tenant into a new sorted array (the caller's). */
static int tenants_load(struct sql_store *s, struct sw_tenant **out, size_t *n)
{
    struct db_conn *c = db_acquire(s->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TENANT_ALL, &st);
    if (rc < 0) {
        db_release(c);
        return rc;
    }
    size_t cap = 16, k = 0;
    struct sw_tenant *all = xmalloc(cap * sizeof(*all));
    while ((rc = db_step(st)) == DB_ROW) {
        if (k == cap)
            all = xrealloc(all, (cap *= 2) * sizeof(*all));
        row_tenant(st, &all[k++]);
    }
    db_reset(st);
    db_release(c);
    if (rc < 0) {
        free(all);
        return rc;
    }
    *out = all;
    *n = k;
    return 0;
}

/* Loads the cache when it is empty or old (installing only what no
 * invalidation raced); 0 or SW_E_*. */
static int tenants_ensure(struct sql_store *s)
{
    struct tenant_cache *tc = &s->tenants;
    pthread_mutex_lock(&tc->mu);
    bool fresh = tc->all && mono_ms() - tc->loaded_ms < CACHE_TTL_MS;
    uint64_t gen = tc->gen;
    pthread_mutex_unlock(&tc->mu);
    if (fresh)
        return 0;
    struct sw_tenant *all;
    size_t n;
    int rc = tenants_load(s, &all, &n);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&tc->mu);
    if (tc->gen == gen && !db_signals_lossy(s->db)) {
        free(tc->all);
        tc->all = all;
        tc->n = n;
        tc->loaded_ms = mono_ms();
        all = NULL;
    }
    pthread_mutex_unlock(&tc->mu);
    free(all);
    return 0;
}

static int tenant_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct sw_tenant *)elem)->id);
}

/* ---- tenants and projects --------------------------------------------------------- */

struct tenant_write {
    const struct sw_tenant *t;
    const struct sw_project *p;
    const struct sw_audit *audit;
};

static int tenant_create_tx(struct db_conn *c, void *ud)
{
    struct tenant_write *w = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TENANT_INSERT, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, w->t->id);
    db_bind_text(st, 2, w->t->name);
    db_bind_text(st, 3, w->t->template_name);
    db_bind_text(st, 4, w->t->timezone[0] ? w->t->timezone : "UTC");
    db_bind_int64(st, 5, w->t->created_at);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (w->audit && (rc = store_audit_add_in(c, w->audit)) < 0)
        return rc;
    return store_tenants_changed_in(c);
}

static int tenant_create(struct store *base, const struct sw_tenant *t,
                         const struct sw_audit *audit)
{
    struct tenant_write w = {.t = t, .audit = audit};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, tenant_create_tx, &w);
}

static int tenant_get(struct store *base, const char *id, struct sw_tenant *out)
{
    struct sql_store *s = sql_of(base);
    int rc = tenants_ensure(s);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->tenants.mu);
    const struct sw_tenant *t =
        s->tenants.all ? bsearch(id, s->tenants.all, s->tenants.n, sizeof(*t), tenant_cmp)
                       : NULL;
    if (t)
        *out = *t;
    pthread_mutex_unlock(&s->tenants.mu);
    if (t)
        return 0;
    /* not cached (created a moment ago, or the cache is off): ask */
    return get_one(s, SQL_TENANT_GET, id, NULL, read_tenant, out);
}

static int tenant_list(struct store *base, const char *const *ids, size_t n,
                       store_tenant_cb cb, void *ud)
{
    struct sql_store *s = sql_of(base);
    struct sw_tenant t;
    if (ids) {
        for (size_t i = 0; i < n; i++) {
            int rc = tenant_get(base, ids[i], &t);
            if (rc == SW_E_NOTFOUND)
                continue;
            if (rc < 0)
                return rc;
            if (cb(&t, ud))
                break;
        }
        return 0;
    }
    int rc = tenants_ensure(s);
    if (rc < 0)
        return rc;
    /* a private copy, so callbacks run without the lock */
    struct sw_tenant *all = NULL;
    size_t k = 0;
    pthread_mutex_lock(&s->tenants.mu);
    if (s->tenants.all) {
        k = s->tenants.n;
        all = xmalloc((k ? k : 1) * sizeof(*all));
        memcpy(all, s->tenants.all, k * sizeof(*all));
    }
    pthread_mutex_unlock(&s->tenants.mu);
    if (!all && (rc = tenants_load(s, &all, &k)) < 0)
        return rc;
    for (size_t i = 0; i < k; i++)
        if (cb(&all[i], ud))
            break;
    free(all);
    return 0;
}

static int project_create_tx(struct db_conn *c, void *ud)
{
    struct tenant_write *w = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_PROJECT_INSERT, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, w->p->tenant_id);
    db_bind_text(st, 2, w->p->id);
    db_bind_text(st, 3, w->p->name);
    db_bind_int64(st, 4, w->p->created_at);
    if ((rc = db_exec(st)) < 0)
        return rc;
    return w->audit ? store_audit_add_in(c, w->audit) : 0;
}

static int project_create(struct store *base, const struct sw_project *p,
                          const struct sw_audit *audit)
{
    struct tenant_write w = {.p = p, .audit = audit};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, project_create_tx, &w);
}

static int project_get(struct store *base, const char *tenant_id, const char *id,
                       struct sw_project *out)
{
    return get_one(sql_of(base), SQL_PROJECT_GET, tenant_id, id, read_project, out);
}

static int project_list(struct store *base, const char *tenant_id, store_project_cb cb,
                        void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_PROJECT_LIST, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        struct sw_project p;
        while ((rc = db_step(st)) == DB_ROW) {
            row_project(st, &p);
            if (cb(&p, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

/* ---- the token cache ------------------------------------------------------------ */

void store_token_cache_clear(struct sql_store *s)
{
    pthread_mutex_lock(&s->tokens.mu);
    s->tokens.gen++;
    memset(s->tokens.slot, 0, sizeof(s->tokens.slot));
    pthread_mutex_unlock(&s->tokens.mu);
}

static struct token_cache_entry *token_slot(struct sql_store *s, const uint8_t *hash)
{
    uint32_t h;
    memcpy(&h, hash, sizeof(h));    /* the hash is uniformly random already */
    return &s->tokens.slot[h % TOKEN_CACHE_SLOTS];
}

/* ---- tokens ---------------------------------------------------------------------- */

struct token_write {
    const struct sw_token *t;
    const uint8_t *hash;
    int64_t id;
};

int store_token_insert_in(struct db_conn *c, const struct sw_token *t,
                          const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TOKEN_INSERT, &st);
    if (rc < 0)
        return rc;
    db_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN);
    db_bind_text(st, 2, t->name);
    db_bind_text(st, 3, t->role);
    db_bind_text(st, 4, t->tenant_id);
    db_bind_int64(st, 5, t->created_at);
    db_bind_int64(st, 6, t->expires_at);
    return db_insert_id(st, id_out);
}

static int token_create_tx(struct db_conn *c, void *ud)
{
    struct token_write *w = ud;
    int rc = store_token_insert_in(c, w->t, w->hash, &w->id);
    return rc < 0 ? rc : store_tokens_changed_in(c);
}

static int token_create(struct store *base, const struct sw_token *t,
                        const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out)
{
    struct token_write w = {.t = t, .hash = hash};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, token_create_tx, &w);
    if (rc == 0 && id_out)
        *id_out = w.id;
    return rc;
}

/* Under the database-wide lock: nodes starting together on an empty
 * database see one another's first token. */
static int token_first_tx(struct db_conn *c, void *ud)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TOKEN_COUNT, &st);
    if (rc < 0)
        return rc;
    rc = db_step_one(st);
    if (rc != 1)
        return rc < 0 ? rc : SW_E_STORE;
    int64_t n = db_col_int64(st, 0);
    db_reset(st);
    return n > 0 ? SW_E_EXISTS : token_create_tx(c, ud);
}

static int token_create_first(struct store *base, const struct sw_token *t,
                              const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out)
{
    struct token_write w = {.t = t, .hash = hash};
    int rc = db_tx(sql_of(base)->db, DB_TX_LOCKING, token_first_tx, &w);
    if (rc == 0 && id_out)
        *id_out = w.id;
    return rc;
}

static int token_lookup(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                        struct sw_token *out)
{
    struct sql_store *s = sql_of(base);
    pthread_mutex_lock(&s->tokens.mu);
    struct token_cache_entry *e = token_slot(s, hash);
    bool hit = e->loaded_ms && mono_ms() - e->loaded_ms < CACHE_TTL_MS &&
               memcmp(e->hash, hash, SW_TOKEN_HASH_LEN) == 0;
    if (hit)
        *out = e->tok;
    uint64_t gen = s->tokens.gen;
    pthread_mutex_unlock(&s->tokens.mu);
    if (hit)
        return 0;

    struct db_conn *c = db_acquire(s->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TOKEN_LOOKUP, &st);
    if (rc == 0) {
        db_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN);
        rc = db_step_one(st);
        if (rc == 1) {
            row_token(st, out);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_NOTFOUND;
        }
    }
    db_release(c);
    if (rc == 0) {
        pthread_mutex_lock(&s->tokens.mu);
        if (s->tokens.gen == gen && !db_signals_lossy(s->db)) {
            e = token_slot(s, hash);
            memcpy(e->hash, hash, SW_TOKEN_HASH_LEN);
            e->tok = *out;
            e->loaded_ms = mono_ms();
        }
        pthread_mutex_unlock(&s->tokens.mu);
    }
    return rc;
}

static int token_count(struct store *base, int64_t *count)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TOKEN_COUNT, &st);
    if (rc == 0) {
        rc = db_step_one(st);
        if (rc == 1) {
            *count = db_col_int64(st, 0);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_STORE;
        }
    }
    db_release(c);
    return rc;
}

const struct store_ops sql_store_ops = {
    .name = "sql",
    .close = store_sql_close,
    .ping = store_sql_ping,
    .tenant_create = tenant_create,
    .tenant_get = tenant_get,
    .tenant_list = tenant_list,
    .project_create = project_create,
    .project_get = project_get,
    .project_list = project_list,
    .token_create = token_create,
    .token_lookup = token_lookup,
    .token_count = token_count,
    .token_create_first = token_create_first,
};
