/* sqlite_users.c: users, roles, sessions, login throttling, token listing
 * and revocation, and the audit log (store_users.h) on SQLite.
 *
 * Each write is one transaction that also appends its audit row when given
 * one, so the log never claims a change that did not commit nor misses one
 * that did. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_users.h"
#include "util/xalloc.h"

/* ---- statements ------------------------------------------------------ */

static const char SQL_AUDIT_ADD[] =
    "INSERT INTO audit_log (tenant_id, actor, at, action, target, before, after) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_AUDIT_LIST[] =
    "SELECT id, tenant_id, actor, at, action, target, before, after FROM audit_log "
    "WHERE (?1 IS NULL OR tenant_id = ?1) AND at >= ?2 AND (?3 IS NULL OR actor = ?3) "
    "AND (?4 IS NULL OR action = ?4) AND id < ?5 ORDER BY id DESC LIMIT ?6";

static const char SQL_USER_INSERT[] =
    "INSERT INTO users (id, email, password_hash, created_at, disabled) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ROLE_INSERT[] =
    "INSERT OR IGNORE INTO user_roles (user_id, role, tenant_id) VALUES (?1, ?2, ?3)";
static const char SQL_USER_GET[] =
    "SELECT id, email, created_at, disabled, password_hash IS NOT NULL, "
    "COALESCE(password_hash, '') FROM users WHERE id = ?1";
static const char SQL_USER_BY_EMAIL[] =
    "SELECT id, email, created_at, disabled, password_hash IS NOT NULL, "
    "COALESCE(password_hash, '') FROM users WHERE email = ?1";
static const char SQL_USER_ALL[] =
    "SELECT id, email, created_at, disabled, password_hash IS NOT NULL, '' "
    "FROM users ORDER BY id";
static const char SQL_USER_IN_TENANT[] =
    "SELECT id, email, created_at, disabled, password_hash IS NOT NULL, '' FROM users "
    "WHERE id IN (SELECT user_id FROM user_roles WHERE tenant_id = ?1) ORDER BY id";
static const char SQL_ROLES_OF[] =
    "SELECT role, tenant_id FROM user_roles WHERE user_id = ?1 ORDER BY tenant_id, role";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = ?1";

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at, last_seen) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_SESSION_GET[] =
    "SELECT user_id, csrf, created_at, expires_at, last_seen FROM sessions WHERE hash = ?1";
static const char SQL_SESSION_TOUCH[] =
    "UPDATE sessions SET last_seen = ?2 WHERE hash = ?1 AND last_seen < ?2";
static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE hash = ?1";
/* Expired sessions are swept when a new one is made: no timer needed. */
static const char SQL_SESSION_SWEEP[] = "DELETE FROM sessions WHERE expires_at <= ?1";

static const char SQL_THROTTLE_GET[] =
    "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?1";
static const char SQL_THROTTLE_PUT[] =
    "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
    "window_start = excluded.window_start, locked_until = excluded.locked_until";
static const char SQL_THROTTLE_DELETE[] = "DELETE FROM login_throttle WHERE key = ?1";

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO tokens (hash, name, role, tenant_id, created_at, expires_at) "
    "VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, NULLIF(?6, 0))";
static const char SQL_TOKEN_LIST_ALL[] =
    "SELECT id, name, role, COALESCE(tenant_id, ''), created_at, COALESCE(expires_at, 0), "
    "COALESCE(revoked_at, 0) FROM tokens ORDER BY id";
static const char SQL_TOKEN_LIST_TENANT[] =
    "SELECT id, name, role, COALESCE(tenant_id, ''), created_at, COALESCE(expires_at, 0), "
    "COALESCE(revoked_at, 0) FROM tokens WHERE COALESCE(tenant_id, '') = ?1 ORDER BY id";
static const char SQL_TOKEN_GET[] =
    "SELECT id, name, role, COALESCE(tenant_id, ''), created_at, COALESCE(expires_at, 0), "
    "COALESCE(revoked_at, 0) FROM tokens WHERE id = ?1";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";

/* ---- helpers --------------------------------------------------------- */

/* A statement from the cache, or SW_E_STORE from the enclosing function. */
#define STMT(var, sql)                                                        \
    sqlite3_stmt *var = sq_stmt(s, c, sql);                                   \
    if (!var) {                                                               \
        rc = SW_E_STORE;                                                      \
        goto done;                                                            \
    }

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        SQ_TEXT(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Appends an audit row inside the caller's transaction. */
int sq_audit_insert(struct sqlite_store *s, struct conn *c, const struct sw_audit *a)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_AUDIT_ADD);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, a->tenant_id);
    SQ_TEXT(st, 2, a->actor);
    sqlite3_bind_int64(st, 3, a->at);
    SQ_TEXT(st, 4, a->action);
    SQ_TEXT(st, 5, a->target);
    bind_text_or_null(st, 6, a->before);
    bind_text_or_null(st, 7, a->after);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Ends a write transaction: commit when rc is 0, else roll back. */
static int finish(struct sqlite_store *s, struct conn *c, int rc)
{
    if (rc == 0)
        return sq_commit(s, c);
    sq_rollback(s, c);
    return rc;
}

static void row_user(sqlite3_stmt *st, struct sw_user *u)
{
    memset(u, 0, sizeof(*u));
    sq_copy_text(u->id, sizeof(u->id), st, 0);
    sq_copy_text(u->email, sizeof(u->email), st, 1);
    u->created_at = sqlite3_column_int64(st, 2);
    u->disabled = sqlite3_column_int(st, 3) != 0;
    u->has_password = sqlite3_column_int(st, 4) != 0;
}

static int load_roles(struct sqlite_store *s, struct conn *c, struct sw_user *u)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ROLES_OF);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, u->id);
    int rc;
    u->nroles = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && u->nroles < SW_USER_MAX_ROLES) {
        struct sw_user_role *r = &u->roles[u->nroles++];
        sq_copy_text(r->role, sizeof(r->role), st, 0);
        sq_copy_text(r->tenant_id, sizeof(r->tenant_id), st, 1);
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "user roles");
    sq_done(st);
    return rc;
}

static void row_token(sqlite3_stmt *st, struct sw_token *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    sq_copy_text(t->name, sizeof(t->name), st, 1);
    sq_copy_text(t->role, sizeof(t->role), st, 2);
    sq_copy_text(t->tenant_id, sizeof(t->tenant_id), st, 3);
    t->created_at = sqlite3_column_int64(st, 4);
    t->expires_at = sqlite3_column_int64(st, 5);
    t->revoked_at = sqlite3_column_int64(st, 6);
}

/* ---- users ----------------------------------------------------------- */

static int sq_user_create(struct store *base, const struct sw_user *u,
                          const char *password_hash, const struct sw_audit *audits,
                          size_t naudits)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    STMT(ins, SQL_USER_INSERT);
    SQ_TEXT(ins, 1, u->id);
    SQ_TEXT(ins, 2, u->email);
    bind_text_or_null(ins, 3, password_hash && *password_hash ? password_hash : NULL);
    sqlite3_bind_int64(ins, 4, u->created_at);
    sqlite3_bind_int(ins, 5, u->disabled);
    rc = sq_exec(s, c, ins);
    sqlite3_clear_bindings(ins);
    if (rc < 0)
        goto done;
    STMT(role, SQL_ROLE_INSERT);
    for (size_t i = 0; i < u->nroles && rc == 0; i++) {
        SQ_TEXT(role, 1, u->id);
        SQ_TEXT(role, 2, u->roles[i].role);
        SQ_TEXT(role, 3, u->roles[i].tenant_id);
        rc = sq_exec(s, c, role);
    }
    sqlite3_clear_bindings(role);
    for (size_t i = 0; i < naudits && rc == 0; i++)
        rc = sq_audit_insert(s, c, &audits[i]);
done:
    rc = finish(s, c, rc);
out:
    sq_release(s, c);
    return rc;
}

static int user_get(struct store *base, const char *sql, const char *key, struct sw_user *out,
                    char *hash_out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, sql);
    SQ_TEXT(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_user(st, out);
        if (hash_out)
            sq_copy_text(hash_out, SW_PWHASH_MAX + 1, st, 5);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "user_get");
    }
    sq_done(st);
    if (rc == 0)
        rc = load_roles(s, c, out);
done:
    sq_release(s, c);
    return rc;
}

static int sq_user_get(struct store *base, const char *id, struct sw_user *out)
{
    return user_get(base, SQL_USER_GET, id, out, NULL);
}

static int sq_user_get_by_email(struct store *base, const char *email, struct sw_user *out,
                                char hash_out[SW_PWHASH_MAX + 1])
{
    return user_get(base, SQL_USER_BY_EMAIL, email, out, hash_out);
}

static int sq_user_list(struct store *base, const char *tenant_id, store_user_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    /* Collect first: the roles query needs the connection while the list
     * statement would still be stepping. */
    size_t n = 0, cap = 0;
    struct sw_user *all = NULL;
    STMT(st, tenant_id ? SQL_USER_IN_TENANT : SQL_USER_ALL);
    if (tenant_id)
        SQ_TEXT(st, 1, tenant_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            all = xrealloc(all, cap * sizeof(*all));
        }
        row_user(st, &all[n++]);
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "user_list");
    sq_done(st);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = load_roles(s, c, &all[i]);
        if (rc == 0 && cb(&all[i], ud))
            break;
    }
done:
    free(all);
    sq_release(s, c);
    return rc;
}

static int sq_user_remove(struct store *base, const char *id, const struct sw_audit *audits,
                          size_t naudits)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    STMT(st, SQL_USER_DELETE);
    SQ_TEXT(st, 1, id);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = SW_E_NOTFOUND;
    for (size_t i = 0; i < naudits && rc == 0; i++)
        rc = sq_audit_insert(s, c, &audits[i]);
done:
    rc = finish(s, c, rc);
out:
    sq_release(s, c);
    return rc;
}

/* ---- sessions -------------------------------------------------------- */

static int sq_session_create(struct store *base, const struct sw_session *ss,
                             const struct sw_audit *audit)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    STMT(sweep, SQL_SESSION_SWEEP);
    sqlite3_bind_int64(sweep, 1, ss->created_at);
    rc = sq_exec(s, c, sweep);
    if (rc < 0)
        goto done;
    STMT(st, SQL_SESSION_INSERT);
    sqlite3_bind_blob(st, 1, ss->hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    SQ_TEXT(st, 2, ss->user_id);
    SQ_TEXT(st, 3, ss->csrf);
    sqlite3_bind_int64(st, 4, ss->created_at);
    sqlite3_bind_int64(st, 5, ss->expires_at);
    sqlite3_bind_int64(st, 6, ss->last_seen);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc == 0 && audit)
        rc = sq_audit_insert(s, c, audit);
done:
    rc = finish(s, c, rc);
out:
    sq_release(s, c);
    return rc;
}

static int sq_session_get(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                          struct sw_session *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, SQL_SESSION_GET);
    sqlite3_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        memcpy(out->hash, hash, SW_TOKEN_HASH_LEN);
        sq_copy_text(out->user_id, sizeof(out->user_id), st, 0);
        sq_copy_text(out->csrf, sizeof(out->csrf), st, 1);
        out->created_at = sqlite3_column_int64(st, 2);
        out->expires_at = sqlite3_column_int64(st, 3);
        out->last_seen = sqlite3_column_int64(st, 4);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "session_get");
    }
    sq_done(st);
done:
    sq_release(s, c);
    return rc;
}

static int sq_session_touch(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                            int64_t now)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, SQL_SESSION_TOUCH);
    sqlite3_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
done:
    sq_release(s, c);
    return rc;
}

static int sq_session_delete(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                             const struct sw_audit *audit)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    STMT(st, SQL_SESSION_DELETE);
    sqlite3_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = SW_E_NOTFOUND;
    if (rc == 0 && audit)
        rc = sq_audit_insert(s, c, audit);
done:
    rc = finish(s, c, rc);
out:
    sq_release(s, c);
    return rc;
}

/* ---- login throttling ------------------------------------------------ */

static int throttle_read(struct sqlite_store *s, struct conn *c, const char *key,
                         int64_t *failures, int64_t *window_start, int64_t *locked_until)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_THROTTLE_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, key);
    int rc = sqlite3_step(st);
    *failures = *window_start = *locked_until = 0;
    if (rc == SQLITE_ROW) {
        *failures = sqlite3_column_int64(st, 0);
        *window_start = sqlite3_column_int64(st, 1);
        *locked_until = sqlite3_column_int64(st, 2);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "throttle");
    }
    sq_done(st);
    return rc;
}

static int sq_throttle_check(struct store *base, const char *key, int64_t now,
                             int64_t *locked_until)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int64_t f, w;
    int rc = throttle_read(s, c, key, &f, &w, locked_until);
    sq_release(s, c);
    return rc;
}

static int sq_throttle_fail(struct store *base, const char *key, int64_t now,
                            const struct sw_throttle *t, int64_t *locked_until)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    int64_t failures, start, until;
    rc = throttle_read(s, c, key, &failures, &start, &until);
    if (rc < 0)
        goto done;
    if (until && until <= now) {        /* a lock ran out: start afresh */
        failures = 0;
        until = 0;
    }
    if (failures == 0 || now - start >= t->window_ms) {
        failures = 0;
        start = now;
    }
    failures++;
    if (failures >= t->max_failures && until <= now)
        until = now + t->lockout_ms;
    STMT(st, SQL_THROTTLE_PUT);
    SQ_TEXT(st, 1, key);
    sqlite3_bind_int64(st, 2, failures);
    sqlite3_bind_int64(st, 3, start);
    sqlite3_bind_int64(st, 4, until);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc == 0)
        *locked_until = until;
done:
    rc = finish(s, c, rc);
out:
    sq_release(s, c);
    return rc;
}

static int sq_throttle_reset(struct store *base, const char *key)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, SQL_THROTTLE_DELETE);
    SQ_TEXT(st, 1, key);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
done:
    sq_release(s, c);
    return rc;
}

/* ---- tokens ---------------------------------------------------------- */

static int sq_token_create(struct store *base, const struct sw_token *t,
                           const uint8_t hash[SW_TOKEN_HASH_LEN], const struct sw_audit *audit,
                           int64_t *id_out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int64_t id = 0;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    STMT(st, SQL_TOKEN_INSERT);
    sqlite3_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN, SQLITE_STATIC);
    SQ_TEXT(st, 2, t->name);
    SQ_TEXT(st, 3, t->role);
    SQ_TEXT(st, 4, t->tenant_id);
    sqlite3_bind_int64(st, 5, t->created_at);
    sqlite3_bind_int64(st, 6, t->expires_at);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc == 0)
        id = sqlite3_last_insert_rowid(c->db);
    if (rc == 0 && audit) {
        /* the target names the new id, known only now */
        struct sw_audit a = *audit;
        snprintf(a.target, sizeof(a.target), "token:%lld", (long long)id);
        rc = sq_audit_insert(s, c, &a);
    }
done:
    rc = finish(s, c, rc);
    if (rc == 0)
        sq_token_cache_clear(s);
    if (rc == 0 && id_out)
        *id_out = id;
out:
    sq_release(s, c);
    return rc;
}

static int sq_token_list(struct store *base, const char *tenant_id, store_token_cb cb,
                         void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, tenant_id ? SQL_TOKEN_LIST_TENANT : SQL_TOKEN_LIST_ALL);
    if (tenant_id)
        SQ_TEXT(st, 1, tenant_id);
    struct sw_token t;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_token(st, &t);
        if (cb(&t, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "token_list");
    sq_done(st);
done:
    sq_release(s, c);
    return rc;
}

static int sq_token_get(struct store *base, int64_t id, struct sw_token *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, SQL_TOKEN_GET);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_token(st, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "token_get");
    }
    sq_done(st);
done:
    sq_release(s, c);
    return rc;
}

static int sq_token_revoke(struct store *base, int64_t id, int64_t now,
                           const struct sw_audit *audit)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    STMT(st, SQL_TOKEN_REVOKE);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    rc = sq_exec(s, c, st);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = SW_E_CONFLICT;
    if (rc == 0 && audit)
        rc = sq_audit_insert(s, c, audit);
done:
    rc = finish(s, c, rc);
    if (rc == 0)
        sq_token_cache_clear(s);    /* revoked: dead at once on this node */
out:
    sq_release(s, c);
    return rc;
}

/* ---- the audit log --------------------------------------------------- */

static int sq_audit_add(struct store *base, const struct sw_audit *a)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_audit_insert(s, c, a);
    sq_release(s, c);
    return rc;
}

static int sq_audit_list(struct store *base, const struct sw_audit_filter *f,
                         store_audit_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = 0;
    STMT(st, SQL_AUDIT_LIST);
    bind_text_or_null(st, 1, f->tenant_id);
    sqlite3_bind_int64(st, 2, f->since);
    bind_text_or_null(st, 3, f->actor);
    bind_text_or_null(st, 4, f->action);
    sqlite3_bind_int64(st, 5, f->before_id > 0 ? f->before_id : INT64_MAX);
    sqlite3_bind_int(st, 6, f->limit > 0 ? f->limit : 100);
    struct sw_audit a;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&a, 0, sizeof(a));
        a.id = sqlite3_column_int64(st, 0);
        sq_copy_text(a.tenant_id, sizeof(a.tenant_id), st, 1);
        sq_copy_text(a.actor, sizeof(a.actor), st, 2);
        a.at = sqlite3_column_int64(st, 3);
        sq_copy_text(a.action, sizeof(a.action), st, 4);
        sq_copy_text(a.target, sizeof(a.target), st, 5);
        a.before = (const char *)sqlite3_column_text(st, 6);
        a.after = (const char *)sqlite3_column_text(st, 7);
        if (cb(&a, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "audit_list");
    sq_done(st);
done:
    sq_release(s, c);
    return rc;
}

const struct store_user_ops sqlite_user_ops = {
    .create = sq_user_create,
    .get = sq_user_get,
    .get_by_email = sq_user_get_by_email,
    .list = sq_user_list,
    .remove = sq_user_remove,
    .session_create = sq_session_create,
    .session_get = sq_session_get,
    .session_touch = sq_session_touch,
    .session_delete = sq_session_delete,
    .throttle_check = sq_throttle_check,
    .throttle_fail = sq_throttle_fail,
    .throttle_reset = sq_throttle_reset,
    .token_create = sq_token_create,
    .token_list = sq_token_list,
    .token_get = sq_token_get,
    .token_revoke = sq_token_revoke,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
};
