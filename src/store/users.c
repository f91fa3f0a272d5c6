/* users.c: people and their roles, API token administration (list, get,
 * revoke, create with its audit row), and the append-only audit log
 * (store_users.h); sessions and login throttling are in sessions.c.
 *
 * The audit log is evidence: every write here commits its audit rows in
 * the same transaction as the change (store_audit_add_in, also used by
 * other subjects), so the log never claims a change that did not commit
 * nor misses one that did; triggers on both databases refuse to rewrite it.
 *
 * A user and its roles are read with one LEFT JOIN, so a user is read in
 * one statement (consistent without a transaction, one round trip on
 * PostgreSQL) and a list does not ask once per user.
 *
 * Emails are unique whatever their case: PostgreSQL has a unique index on
 * lower(email), SQLite a NOCASE unique column plus an index on lower(email)
 * (0011), so `lower(email) = lower(?)` is indexed on both.
 *
 * Tokens are inserted by tenants.c (store_token_insert_in, the one INSERT
 * of tokens); every write of tokens signals store_tokens_changed_in inside
 * its transaction, and that commit waits until every node's token cache
 * has forgotten, so a revoked token is refused everywhere from the next
 * request. */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_users.h"

/* ---- statements ------------------------------------------------------------ */

static const char SQL_AUDIT_ADD[] =
    "INSERT INTO audit_log (tenant_id, actor, at, action, target, before, after) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) {RETURNING_ID}";
/* Two texts, so the tenant's list walks audit_log_tenant (tenant_id, id);
 * optional filters are NULL parameters. */
#define AUDIT_SELECT \
    "SELECT id, tenant_id, actor, at, action, target, before, after FROM audit_log WHERE "
#define AUDIT_FILTER(a, b, c, d, e)                                                   \
    "at >= ?" a " AND (CAST(?" b " AS TEXT) IS NULL OR actor = ?" b ") "                \
    "AND (CAST(?" c " AS TEXT) IS NULL OR action = ?" c ") AND id < ?" d " "            \
    "ORDER BY id DESC LIMIT ?" e
static const char SQL_AUDIT_LIST_TENANT[] =
    AUDIT_SELECT "tenant_id = ?1 AND " AUDIT_FILTER("2", "3", "4", "5", "6");
static const char SQL_AUDIT_LIST_ALL[] = AUDIT_SELECT AUDIT_FILTER("1", "2", "3", "4", "5");

static const char SQL_USER_INSERT[] =
    "INSERT INTO users (id, email, password_hash, created_at, disabled) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ROLE_INSERT[] =
    "INSERT INTO user_roles (user_id, role, tenant_id) VALUES (?1, ?2, ?3) "
    "ON CONFLICT DO NOTHING";
/* Columns 0-5 the user (5: its password hash or ''), 6-7 one role (NULL
 * when it has none), ordered so one user's rows are consecutive. */
#define USER_SELECT(hash)                                                              \
    "SELECT u.id, u.email, u.created_at, u.disabled, u.password_hash IS NOT NULL, "   \
    hash ", r.role, r.tenant_id FROM users u LEFT JOIN user_roles r ON r.user_id = u.id "
static const char SQL_USER_GET[] =
    USER_SELECT("''") "WHERE u.id = ?1 ORDER BY r.tenant_id, r.role";
static const char SQL_USER_BY_EMAIL[] =
    USER_SELECT("COALESCE(u.password_hash, '')")
    "WHERE lower(u.email) = lower(CAST(?1 AS TEXT)) ORDER BY r.tenant_id, r.role";
static const char SQL_USER_ALL[] =
    USER_SELECT("''") "ORDER BY u.id, r.tenant_id, r.role";
static const char SQL_USER_IN_TENANT[] =
    USER_SELECT("''")
    "WHERE u.id IN (SELECT user_id FROM user_roles WHERE tenant_id = ?1) "
    "ORDER BY u.id, r.tenant_id, r.role";
/* Roles and sessions go with it (ON DELETE CASCADE). */
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = ?1";

#define TOKEN_SELECT                                                                  \
    "SELECT id, name, role, COALESCE(tenant_id, ''), created_at, COALESCE(expires_at, 0), " \
    "COALESCE(revoked_at, 0) FROM tokens "
static const char SQL_TOKEN_LIST_ALL[] = TOKEN_SELECT "ORDER BY id";
static const char SQL_TOKEN_LIST_PLATFORM[] = TOKEN_SELECT "WHERE tenant_id IS NULL ORDER BY id";
static const char SQL_TOKEN_LIST_TENANT[] = TOKEN_SELECT "WHERE tenant_id = ?1 ORDER BY id";
static const char SQL_TOKEN_GET[] = TOKEN_SELECT "WHERE id = ?1";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";

/* ---- the audit log ------------------------------------------------------------ */

int store_audit_add_in(struct db_conn *c, const struct sw_audit *a)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_AUDIT_ADD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, a->tenant_id);
    db_bind_text(st, 2, a->actor);
    db_bind_int64(st, 3, a->at);
    db_bind_text(st, 4, a->action);
    db_bind_text(st, 5, a->target);
    db_bind_text(st, 6, a->before);     /* NULL binds NULL */
    db_bind_text(st, 7, a->after);
    int64_t id;
    if ((rc = db_insert_id(st, &id)) < 0)
        return rc;
    return store_chain_audit_in(c, id, a);     /* on its chain at COMMIT */
}

static int audits_add_in(struct db_conn *c, const struct sw_audit *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = store_audit_add_in(c, &a[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int audit_add_tx(struct db_conn *c, void *ud)
{
    return store_audit_add_in(c, ud);
}

/* One row on its own, in a transaction of its own: the row and its place
 * in the hash chain commit together. */
static int audit_add(struct store *base, const struct sw_audit *a)
{
    return db_tx(sql_of(base)->db, DB_TX_WRITE, audit_add_tx, (void *)a);
}

static int audit_list(struct store *base, const struct sw_audit_filter *f, store_audit_cb cb,
                      void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, f->tenant_id ? SQL_AUDIT_LIST_TENANT : SQL_AUDIT_LIST_ALL, &st);
    if (rc == 0) {
        int k = 1;
        if (f->tenant_id)
            db_bind_text(st, k++, f->tenant_id);
        db_bind_int64(st, k++, f->since);
        db_bind_text(st, k++, f->actor);
        db_bind_text(st, k++, f->action);
        db_bind_int64(st, k++, f->before_id > 0 ? f->before_id : INT64_MAX);
        db_bind_int64(st, k, f->limit > 0 ? f->limit : 100);
        struct sw_audit a;
        while ((rc = db_step(st)) == DB_ROW) {
            memset(&a, 0, sizeof(a));
            a.id = db_col_int64(st, 0);
            db_col_copy(st, 1, a.tenant_id, sizeof(a.tenant_id));
            db_col_copy(st, 2, a.actor, sizeof(a.actor));
            a.at = db_col_int64(st, 3);
            db_col_copy(st, 4, a.action, sizeof(a.action));
            db_col_copy(st, 5, a.target, sizeof(a.target));
            a.before = db_col_null(st, 6) ? NULL : db_col_text(st, 6);
            a.after = db_col_null(st, 7) ? NULL : db_col_text(st, 7);
            if (cb(&a, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

/* ---- users ------------------------------------------------------------------------ */

static void row_user(struct db_stmt *st, struct sw_user *u)
{
    memset(u, 0, sizeof(*u));
    db_col_copy(st, 0, u->id, sizeof(u->id));
    db_col_copy(st, 1, u->email, sizeof(u->email));
    u->created_at = db_col_int64(st, 2);
    u->disabled = db_col_int64(st, 3) != 0;
    u->has_password = db_col_int64(st, 4) != 0;
}

/* The row's role, if it has one (at most SW_USER_MAX_ROLES are kept). */
static void row_role(struct db_stmt *st, struct sw_user *u)
{
    if (db_col_null(st, 6) || u->nroles >= SW_USER_MAX_ROLES)
        return;
    struct sw_user_role *r = &u->roles[u->nroles++];
    db_col_copy(st, 6, r->role, sizeof(r->role));
    db_col_copy(st, 7, r->tenant_id, sizeof(r->tenant_id));
}

struct user_write {
    const struct sw_user *u;
    const char *id;
    const char *password_hash;
    const struct sw_audit *audits;
    size_t naudits;
};

static int user_create_tx(struct db_conn *c, void *ud)
{
    struct user_write *w = ud;
    const struct sw_user *u = w->u;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_USER_INSERT, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, u->id);
    db_bind_text(st, 2, u->email);
    db_bind_text(st, 3, w->password_hash && *w->password_hash ? w->password_hash : NULL);
    db_bind_int64(st, 4, u->created_at);
    db_bind_int64(st, 5, u->disabled ? 1 : 0);
    if ((rc = db_exec(st)) < 0)     /* a taken id or email: SW_E_EXISTS */
        return rc;
    for (size_t i = 0; i < u->nroles; i++) {
        if ((rc = db_prep(c, SQL_ROLE_INSERT, &st)) < 0)
            return rc;
        db_bind_text(st, 1, u->id);
        db_bind_text(st, 2, u->roles[i].role);
        db_bind_text(st, 3, u->roles[i].tenant_id);
        if ((rc = db_exec(st)) < 0)
            return rc;
    }
    return audits_add_in(c, w->audits, w->naudits);
}

static int user_create(struct store *base, const struct sw_user *u, const char *password_hash,
                       const struct sw_audit *audits, size_t naudits)
{
    struct user_write w = {
        .u = u, .password_hash = password_hash, .audits = audits, .naudits = naudits,
    };
    return db_tx(sql_of(base)->db, DB_TX_WRITE, user_create_tx, &w);
}

static int user_get_by(struct store *base, const char *sql, const char *key, struct sw_user *out,
                       char *hash_out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct sw_user u;
    char hash[SW_PWHASH_MAX + 1] = "";
    bool found = false;
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc == 0) {
        db_bind_text(st, 1, key);
        while ((rc = db_step(st)) == DB_ROW) {
            if (!found) {
                row_user(st, &u);
                db_col_copy(st, 5, hash, sizeof(hash));
                found = true;
            }
            row_role(st, &u);
        }
        db_reset(st);
    }
    db_release(c);
    if (rc < 0)
        return rc;
    if (!found)
        return SW_E_NOTFOUND;
    *out = u;
    if (hash_out)
        memcpy(hash_out, hash, sizeof(hash));
    return 0;
}

static int user_get(struct store *base, const char *id, struct sw_user *out)
{
    return user_get_by(base, SQL_USER_GET, id, out, NULL);
}

static int user_get_by_email(struct store *base, const char *email, struct sw_user *out,
                             char hash_out[SW_PWHASH_MAX + 1])
{
    return user_get_by(base, SQL_USER_BY_EMAIL, email, out, hash_out);
}

static int user_list(struct store *base, const char *tenant_id, store_user_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, tenant_id ? SQL_USER_IN_TENANT : SQL_USER_ALL, &st);
    if (rc == 0) {
        if (tenant_id)
            db_bind_text(st, 1, tenant_id);
        struct sw_user u;
        bool have = false, stop = false;
        while ((rc = db_step(st)) == DB_ROW) {
            if (!have || strcmp(db_col_text(st, 0), u.id) != 0) {
                if (have && (stop = cb(&u, ud) != 0))
                    break;
                row_user(st, &u);
                have = true;
            }
            row_role(st, &u);
        }
        db_reset(st);
        if (rc >= 0 && have && !stop)
            cb(&u, ud);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

static int user_remove_tx(struct db_conn *c, void *ud)
{
    struct user_write *w = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_USER_DELETE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, w->id);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (db_changes(st) == 0)
        return SW_E_NOTFOUND;
    return audits_add_in(c, w->audits, w->naudits);
}

static int user_remove(struct store *base, const char *id, const struct sw_audit *audits,
                       size_t naudits)
{
    struct user_write w = {.id = id, .audits = audits, .naudits = naudits};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, user_remove_tx, &w);
}

/* ---- tokens ---------------------------------------------------------------------- */

static void row_token(struct db_stmt *st, struct sw_token *t)
{
    memset(t, 0, sizeof(*t));
    t->id = db_col_int64(st, 0);
    db_col_copy(st, 1, t->name, sizeof(t->name));
    db_col_copy(st, 2, t->role, sizeof(t->role));
    db_col_copy(st, 3, t->tenant_id, sizeof(t->tenant_id));
    t->created_at = db_col_int64(st, 4);
    t->expires_at = db_col_int64(st, 5);
    t->revoked_at = db_col_int64(st, 6);
}

struct token_write {
    const struct sw_token *t;
    const uint8_t *hash;
    const struct sw_audit *audit;
    int64_t id;
    int64_t now;
};

static int token_create_tx(struct db_conn *c, void *ud)
{
    struct token_write *w = ud;
    w->id = 0;
    int rc = store_token_insert_in(c, w->t, w->hash, &w->id);
    if (rc < 0)
        return rc;
    if (w->audit) {
        /* the target names the new id, known only now */
        struct sw_audit a = *w->audit;
        snprintf(a.target, sizeof(a.target), "token:%lld", (long long)w->id);
        if ((rc = store_audit_add_in(c, &a)) < 0)
            return rc;
    }
    return store_tokens_changed_in(c);
}

static int token_create(struct store *base, const struct sw_token *t,
                        const uint8_t hash[SW_TOKEN_HASH_LEN], const struct sw_audit *audit,
                        int64_t *id_out)
{
    struct token_write w = {.t = t, .hash = hash, .audit = audit};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, token_create_tx, &w);
    if (rc == 0 && id_out)
        *id_out = w.id;
    return rc;
}

static int token_list(struct store *base, const char *tenant_id, store_token_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    const char *sql = !tenant_id ? SQL_TOKEN_LIST_ALL
                      : !*tenant_id ? SQL_TOKEN_LIST_PLATFORM
                                    : SQL_TOKEN_LIST_TENANT;
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc == 0) {
        if (tenant_id && *tenant_id)
            db_bind_text(st, 1, tenant_id);
        struct sw_token t;
        while ((rc = db_step(st)) == DB_ROW) {
            row_token(st, &t);
            if (cb(&t, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

static int token_get(struct store *base, int64_t id, struct sw_token *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TOKEN_GET, &st);
    if (rc == 0) {
        db_bind_int64(st, 1, id);
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
    return rc;
}

/* The UPDATE is its own check: on PostgreSQL a second revoker waits for
 * the first's row lock, then finds revoked_at set and changes nothing. */
static int token_revoke_tx(struct db_conn *c, void *ud)
{
    struct token_write *w = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TOKEN_REVOKE, &st);
    if (rc < 0)
        return rc;
    db_bind_int64(st, 1, w->id);
    db_bind_int64(st, 2, w->now);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (db_changes(st) == 0)
        return SW_E_CONFLICT;      /* already revoked (or no such token) */
    if (w->audit && (rc = store_audit_add_in(c, w->audit)) < 0)
        return rc;
    return store_tokens_changed_in(c);
}

static int token_revoke(struct store *base, int64_t id, int64_t now,
                        const struct sw_audit *audit)
{
    struct token_write w = {.id = id, .now = now, .audit = audit};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, token_revoke_tx, &w);
}

/* ---- the ops table ----------------------------------------------------------------- */

/* sessions.c */
int store_session_create_sql(struct store *s, const struct sw_session *ss,
                             const struct sw_audit *audit);
int store_session_get_sql(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                          struct sw_session *out);
int store_session_touch_sql(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                            int64_t now);
int store_session_delete_sql(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                             const struct sw_audit *audit);
int store_throttle_check_sql(struct store *s, const char *key, int64_t now,
                             int64_t *locked_until);
int store_throttle_fail_sql(struct store *s, const char *key, int64_t now,
                            const struct sw_throttle *t, int64_t *locked_until);
int store_throttle_reset_sql(struct store *s, const char *key);

int people_contact_get(struct store *s, const char *user_id,
                       struct sw_contact_points *out);                  /* people.c */
int people_contact_put(struct store *s, const struct sw_contact_points *cp,
                       const struct sw_audit *audits, size_t naudits);

const struct store_user_ops sql_user_ops = {
    .create = user_create,
    .get = user_get,
    .get_by_email = user_get_by_email,
    .list = user_list,
    .remove = user_remove,
    .session_create = store_session_create_sql,
    .session_get = store_session_get_sql,
    .session_touch = store_session_touch_sql,
    .session_delete = store_session_delete_sql,
    .throttle_check = store_throttle_check_sql,
    .throttle_fail = store_throttle_fail_sql,
    .throttle_reset = store_throttle_reset_sql,
    .token_create = token_create,
    .token_list = token_list,
    .token_get = token_get,
    .token_revoke = token_revoke,
    .audit_add = audit_add,
    .audit_list = audit_list,
    .contact_get = people_contact_get,
    .contact_put = people_contact_put,
};
