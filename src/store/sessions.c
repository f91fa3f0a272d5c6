/* sessions.c: dashboard sessions and login throttling (store_users.h; the
 * ops table is in users.c).
 *
 * Both sit on the login path and on every dashboard request, so each is
 * one statement where it can be: a touch is one UPDATE that writes only
 * when last_seen moves forward, a check one SELECT, a reset one DELETE,
 * all outside a transaction.
 *
 * Throttling counts failures that may arrive on several nodes at once for
 * the same key (a password spray): the count is read and rewritten by one
 * INSERT ... ON CONFLICT DO UPDATE, which PostgreSQL runs under the row's
 * lock against its latest version, so no failure is lost between two
 * nodes (a read in C then a write would lose one). */
#include <string.h>

#include "store/store_int.h"
#include "store/store_users.h"

/* ---- statements ------------------------------------------------------------ */

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

static const char SQL_THROTTLE_GET[] = "SELECT locked_until FROM login_throttle WHERE key = ?1";
static const char SQL_THROTTLE_DELETE[] = "DELETE FROM login_throttle WHERE key = ?1";
/* One failure of key ?1 at ?2 (window ?3 ms, lock at ?4 failures for ?5
 * ms).  A window starts afresh when there was none, when the old one ran
 * out, or when a lock ran out; a lock is set when the count reaches the
 * limit and none is running, and a running one is kept. */
#define THROTTLE_FRESH                                                                \
    "((t.locked_until <> 0 AND t.locked_until <= ?2) OR t.failures = 0 "              \
    "OR ?2 - t.window_start >= ?3)"
#define THROTTLE_COUNT "CASE WHEN " THROTTLE_FRESH " THEN 1 ELSE t.failures + 1 END"
static const char SQL_THROTTLE_FAIL[] =
    "INSERT INTO login_throttle AS t (key, failures, window_start, locked_until) "
    "VALUES (?1, 1, ?2, CASE WHEN ?4 <= 1 THEN ?2 + ?5 ELSE 0 END) "
    "ON CONFLICT (key) DO UPDATE SET "
    "failures = " THROTTLE_COUNT ", "
    "window_start = CASE WHEN " THROTTLE_FRESH " THEN ?2 ELSE t.window_start END, "
    "locked_until = CASE WHEN t.locked_until > ?2 THEN t.locked_until "
    "WHEN " THROTTLE_COUNT " >= ?4 THEN ?2 + ?5 ELSE 0 END "
    "RETURNING locked_until";

/* ---- helpers -------------------------------------------------------------------- */

/* One statement keyed by a hash or a text (and ?2 = v when v != 0), on a
 * pooled connection, outside a transaction: 0 or SW_E_*. */
static int exec_one(struct store *base, const char *sql, const uint8_t *hash, const char *key,
                    int64_t v)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc == 0) {
        if (hash)
            db_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN);
        else
            db_bind_text(st, 1, key);
        if (v)
            db_bind_int64(st, 2, v);
        rc = db_exec(st);
    }
    db_release(c);
    return rc;
}

/* ---- sessions ------------------------------------------------------------------- */

struct session_write {
    const struct sw_session *ss;
    const uint8_t *hash;
    const struct sw_audit *audit;
};

static int session_create_tx(struct db_conn *c, void *ud)
{
    struct session_write *w = ud;
    const struct sw_session *ss = w->ss;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_SESSION_SWEEP, &st);
    if (rc < 0)
        return rc;
    db_bind_int64(st, 1, ss->created_at);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_SESSION_INSERT, &st)) < 0)
        return rc;
    db_bind_blob(st, 1, ss->hash, SW_TOKEN_HASH_LEN);
    db_bind_text(st, 2, ss->user_id);
    db_bind_text(st, 3, ss->csrf);
    db_bind_int64(st, 4, ss->created_at);
    db_bind_int64(st, 5, ss->expires_at);
    db_bind_int64(st, 6, ss->last_seen);
    if ((rc = db_exec(st)) < 0)     /* no such user: SW_E_NOTFOUND */
        return rc;
    return w->audit ? store_audit_add_in(c, w->audit) : 0;
}

int store_session_create_sql(struct store *base, const struct sw_session *ss,
                             const struct sw_audit *audit)
{
    struct session_write w = {.ss = ss, .audit = audit};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, session_create_tx, &w);
}

int store_session_get_sql(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                          struct sw_session *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_SESSION_GET, &st);
    if (rc == 0) {
        db_bind_blob(st, 1, hash, SW_TOKEN_HASH_LEN);
        rc = db_step_one(st);
        if (rc == 1) {
            memset(out, 0, sizeof(*out));
            memcpy(out->hash, hash, SW_TOKEN_HASH_LEN);
            db_col_copy(st, 0, out->user_id, sizeof(out->user_id));
            db_col_copy(st, 1, out->csrf, sizeof(out->csrf));
            out->created_at = db_col_int64(st, 2);
            out->expires_at = db_col_int64(st, 3);
            out->last_seen = db_col_int64(st, 4);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_NOTFOUND;
        }
    }
    db_release(c);
    return rc;
}

/* Writes only when last_seen moves forward (the caller also touches at
 * most once a minute), so concurrent requests of one session do not queue
 * behind each other's identical writes. */
int store_session_touch_sql(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                            int64_t now)
{
    return exec_one(base, SQL_SESSION_TOUCH, hash, NULL, now);
}

static int session_delete_tx(struct db_conn *c, void *ud)
{
    struct session_write *w = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_SESSION_DELETE, &st);
    if (rc < 0)
        return rc;
    db_bind_blob(st, 1, w->hash, SW_TOKEN_HASH_LEN);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (db_changes(st) == 0)
        return SW_E_NOTFOUND;
    return w->audit ? store_audit_add_in(c, w->audit) : 0;
}

int store_session_delete_sql(struct store *base, const uint8_t hash[SW_TOKEN_HASH_LEN],
                             const struct sw_audit *audit)
{
    struct session_write w = {.hash = hash, .audit = audit};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, session_delete_tx, &w);
}

/* ---- login throttling ---------------------------------------------------------- */

int store_throttle_check_sql(struct store *base, const char *key, int64_t now,
                             int64_t *locked_until)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_THROTTLE_GET, &st);
    if (rc == 0) {
        db_bind_text(st, 1, key);
        rc = db_step_one(st);
        if (rc == 1) {
            *locked_until = db_col_int64(st, 0);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            *locked_until = 0;
        }
    }
    db_release(c);
    return rc;
}

int store_throttle_fail_sql(struct store *base, const char *key, int64_t now,
                            const struct sw_throttle *t, int64_t *locked_until)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_THROTTLE_FAIL, &st);
    if (rc == 0) {
        db_bind_text(st, 1, key);
        db_bind_int64(st, 2, now);
        db_bind_int64(st, 3, t->window_ms);
        db_bind_int64(st, 4, t->max_failures);
        db_bind_int64(st, 5, t->lockout_ms);
        rc = db_step_one(st);
        if (rc == 1) {
            *locked_until = db_col_int64(st, 0);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_STORE;
        }
    }
    db_release(c);
    return rc;
}

int store_throttle_reset_sql(struct store *base, const char *key)
{
    return exec_one(base, SQL_THROTTLE_DELETE, NULL, key, 0);
}
