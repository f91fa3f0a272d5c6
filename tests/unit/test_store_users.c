/* The store's users, roles, sessions, login throttling, token
 * administration and audit log (src/store/users.c, sessions.c) on SQLite
 * and PostgreSQL: every op and its error answers, writes that fail at any
 * driver call leave nothing behind, failures counted from two nodes at
 * once are all counted, and a token revoked on one node is refused by the
 * other from the next request. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store/store_int.h"
#include "store/store_users.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)
#define MIN INT64_C(60000)

/* ---- helpers ------------------------------------------------------------------ */

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static struct sw_user user(const char *id, const char *email)
{
    struct sw_user u = {.created_at = T0};
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.email, sizeof(u.email), "%s", email);
    return u;
}

static void role(struct sw_user *u, const char *r, const char *tenant_id)
{
    snprintf(u->roles[u->nroles].role, sizeof(u->roles[0].role), "%s", r);
    snprintf(u->roles[u->nroles].tenant_id, sizeof(u->roles[0].tenant_id), "%s", tenant_id);
    u->nroles++;
}

static struct sw_audit audit(const char *tenant_id, const char *action, const char *target)
{
    struct sw_audit a = {.at = T0};
    snprintf(a.tenant_id, sizeof(a.tenant_id), "%s", tenant_id);
    snprintf(a.actor, sizeof(a.actor), "admin");
    snprintf(a.action, sizeof(a.action), "%s", action);
    snprintf(a.target, sizeof(a.target), "%s", target);
    return a;
}

/* One integer read straight from the database (sql: static text with ?1 a
 * text key, or none). */
static int64_t q1(struct storetest *t, const char *sql, const char *key)
{
    struct db_conn *c = db_acquire(sql_of(t->s)->db);
    assert_non_null(c);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    if (key)
        db_bind_text(st, 1, key);
    int64_t v = -1;
    if (db_step_one(st) == 1) {
        v = db_col_int64(st, 0);
        db_reset(st);
    }
    db_release(c);
    return v;
}

static const char SQL_AUDITS[] = "SELECT count(*) FROM audit_log";
static const char SQL_USERS[] = "SELECT count(*) FROM users WHERE id = ?1";
static const char SQL_ROLES[] = "SELECT count(*) FROM user_roles WHERE user_id = ?1";
static const char SQL_SESSIONS[] = "SELECT count(*) FROM sessions WHERE user_id = ?1";
static const char SQL_SESSIONS_ALL[] = "SELECT count(*) FROM sessions";
static const char SQL_FAILURES[] = "SELECT failures FROM login_throttle WHERE key = ?1";

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- users ---------------------------------------------------------------------- */

struct ulist {
    int n;
    char ids[8][SW_ID_MAX + 1];
    size_t nroles[8];
    int stop_after;
};

static int ulist_cb(const struct sw_user *u, void *ud)
{
    struct ulist *l = ud;
    if (l->n < 8) {
        snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", u->id);
        l->nroles[l->n] = u->nroles;
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static void test_users(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "a");
    tenant(t->s, "b");
    struct sw_user u = user("alice", "Alice@Example.com");
    role(&u, "tenant_admin", "a");
    role(&u, "viewer", "b");
    role(&u, "viewer", "b");        /* the same twice: kept once */
    struct sw_audit au[2] = {audit("a", "user.create", "user:alice"),
                             audit("b", "user.create", "user:alice")};
    au[0].after = "{\"email\":\"Alice@Example.com\"}";
    assert_int_equal(store_user_create(t->s, &u, "$argon2id$hash", au, 2), 0);
    struct sw_user v = user("bob", "bob@example.com");
    v.disabled = true;
    role(&v, "analyst", "b");
    assert_int_equal(store_user_create(t->s, &v, NULL, NULL, 0), 0);
    struct sw_user w = user("root", "root@example.com");
    role(&w, "platform_admin", "");
    assert_int_equal(store_user_create(t->s, &w, "", NULL, 0), 0);
    struct sw_user x = user("carol", "carol@example.com");     /* no role at all */
    assert_int_equal(store_user_create(t->s, &x, NULL, NULL, 0), 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);

    /* a taken id, a taken email whatever its case: nothing written */
    struct sw_user dup = user("alice", "other@example.com");
    assert_int_equal(store_user_create(t->s, &dup, NULL, au, 1), SW_E_EXISTS);
    dup = user("alice2", "ALICE@example.COM");
    role(&dup, "viewer", "a");
    assert_int_equal(store_user_create(t->s, &dup, NULL, au, 1), SW_E_EXISTS);
    assert_int_equal(q1(t, SQL_USERS, "alice2"), 0);
    assert_int_equal(q1(t, SQL_ROLES, "alice2"), 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);

    struct sw_user got;
    assert_int_equal(store_user_get(t->s, "alice", &got), 0);
    assert_string_equal(got.email, "Alice@Example.com");
    assert_true(got.created_at == T0);
    assert_true(got.has_password);
    assert_false(got.disabled);
    assert_int_equal(got.nroles, 2);
    assert_string_equal(got.roles[0].tenant_id, "a");
    assert_string_equal(got.roles[0].role, "tenant_admin");
    assert_string_equal(got.roles[1].tenant_id, "b");
    assert_string_equal(got.roles[1].role, "viewer");
    assert_int_equal(store_user_get(t->s, "bob", &got), 0);
    assert_true(got.disabled);
    assert_false(got.has_password);
    assert_int_equal(store_user_get(t->s, "root", &got), 0);
    assert_false(got.has_password);         /* "" is no password */
    assert_int_equal(got.nroles, 1);
    assert_string_equal(got.roles[0].tenant_id, "");
    assert_int_equal(store_user_get(t->s, "carol", &got), 0);
    assert_int_equal(got.nroles, 0);
    assert_int_equal(store_user_get(t->s, "nobody", &got), SW_E_NOTFOUND);

    char hash[SW_PWHASH_MAX + 1];
    assert_int_equal(store_user_get_by_email(t->s, "aLiCe@example.com", &got, hash), 0);
    assert_string_equal(got.id, "alice");
    assert_string_equal(hash, "$argon2id$hash");
    assert_int_equal(got.nroles, 2);
    assert_int_equal(store_user_get_by_email(t->s, "bob@example.com", &got, hash), 0);
    assert_string_equal(hash, "");
    assert_int_equal(store_user_get_by_email(t->s, "alice@example.org", &got, hash),
                     SW_E_NOTFOUND);

    struct ulist l = {0};
    assert_int_equal(store_user_list(t->s, NULL, ulist_cb, &l), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.ids[0], "alice");
    assert_int_equal(l.nroles[0], 2);
    assert_string_equal(l.ids[1], "bob");
    assert_string_equal(l.ids[2], "carol");
    assert_int_equal(l.nroles[2], 0);
    assert_string_equal(l.ids[3], "root");
    memset(&l, 0, sizeof(l));
    assert_int_equal(store_user_list(t->s, "b", ulist_cb, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.ids[0], "alice");
    assert_int_equal(l.nroles[0], 2);       /* every role, not only b's */
    assert_string_equal(l.ids[1], "bob");
    memset(&l, 0, sizeof(l));
    assert_int_equal(store_user_list(t->s, "zz", ulist_cb, &l), 0);
    assert_int_equal(l.n, 0);
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    assert_int_equal(store_user_list(t->s, NULL, ulist_cb, &l), 0);
    assert_int_equal(l.n, 2);

    /* remove: roles and sessions go with the user */
    struct sw_session ss = {.created_at = T0, .expires_at = T0 + 60 * MIN, .last_seen = T0};
    memset(ss.hash, 7, sizeof(ss.hash));
    snprintf(ss.user_id, sizeof(ss.user_id), "alice");
    snprintf(ss.csrf, sizeof(ss.csrf), "csrf");
    assert_int_equal(store_session_create(t->s, &ss, NULL), 0);
    struct sw_audit ar = audit("a", "user.delete", "user:alice");
    assert_int_equal(store_user_remove(t->s, "alice", &ar, 1), 0);
    assert_int_equal(store_user_get(t->s, "alice", &got), SW_E_NOTFOUND);
    assert_int_equal(q1(t, SQL_ROLES, "alice"), 0);
    assert_int_equal(q1(t, SQL_SESSIONS, "alice"), 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 3);
    assert_int_equal(store_user_remove(t->s, "alice", &ar, 1), SW_E_NOTFOUND);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 3);
    /* the email is free again */
    dup = user("alice3", "alice@example.com");
    assert_int_equal(store_user_create(t->s, &dup, NULL, NULL, 0), 0);
}

/* SQLite answers lower(email) = lower(?) from the 0011 index, not a scan. */
static const char SQL_PLAN[] =
    "EXPLAIN QUERY PLAN SELECT id FROM users WHERE lower(email) = lower(CAST(?1 AS TEXT))";

static void test_email_index(void **state)
{
    struct storetest *t = *state;
    if (t->pg)
        skip();
    struct db_conn *c = db_acquire(sql_of(t->s)->db);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, SQL_PLAN, &st), 0);
    db_bind_text(st, 1, "x@example.com");
    bool indexed = false;
    while (db_step(st) == DB_ROW)
        indexed |= strstr(db_col_text(st, 3), "users_email_lower") != NULL;
    db_reset(st);
    db_release(c);
    assert_true(indexed);
}

/* ---- sessions ---------------------------------------------------------------- */

static struct sw_session session(int k, const char *user_id, int64_t created, int64_t ttl)
{
    struct sw_session ss = {.created_at = created, .expires_at = created + ttl,
                            .last_seen = created};
    memset(ss.hash, k, sizeof(ss.hash));
    snprintf(ss.user_id, sizeof(ss.user_id), "%s", user_id);
    snprintf(ss.csrf, sizeof(ss.csrf), "csrf-%d", k);
    return ss;
}

static void test_sessions(void **state)
{
    struct storetest *t = *state;
    struct sw_user u = user("alice", "alice@example.com");
    assert_int_equal(store_user_create(t->s, &u, NULL, NULL, 0), 0);
    struct sw_session s1 = session(1, "alice", T0, 10 * MIN);
    struct sw_audit a = audit("", "session.create", "user:alice");
    assert_int_equal(store_session_create(t->s, &s1, &a), 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 1);
    assert_int_equal(store_session_create(t->s, &s1, NULL), SW_E_EXISTS);
    struct sw_session ghost = session(9, "nobody", T0, 10 * MIN);
    assert_int_equal(store_session_create(t->s, &ghost, NULL), SW_E_NOTFOUND);

    struct sw_session got;
    assert_int_equal(store_session_get(t->s, s1.hash, &got), 0);
    assert_memory_equal(got.hash, s1.hash, SW_TOKEN_HASH_LEN);
    assert_string_equal(got.user_id, "alice");
    assert_string_equal(got.csrf, "csrf-1");
    assert_true(got.created_at == T0 && got.expires_at == T0 + 10 * MIN);
    assert_true(got.last_seen == T0);
    assert_int_equal(store_session_get(t->s, ghost.hash, &got), SW_E_NOTFOUND);

    /* touch moves last_seen forward only */
    assert_int_equal(store_session_touch(t->s, s1.hash, T0 + MIN), 0);
    assert_int_equal(store_session_touch(t->s, s1.hash, T0 + 1000), 0);
    assert_int_equal(store_session_get(t->s, s1.hash, &got), 0);
    assert_true(got.last_seen == T0 + MIN);
    assert_int_equal(store_session_touch(t->s, ghost.hash, T0 + MIN), 0);

    /* a new session sweeps the expired ones */
    struct sw_session s2 = session(2, "alice", T0, 60 * MIN);
    assert_int_equal(store_session_create(t->s, &s2, NULL), 0);
    struct sw_session s3 = session(3, "alice", T0 + 10 * MIN, 60 * MIN);
    assert_int_equal(store_session_create(t->s, &s3, NULL), 0);
    assert_int_equal(store_session_get(t->s, s1.hash, &got), SW_E_NOTFOUND);
    assert_int_equal(store_session_get(t->s, s2.hash, &got), 0);
    assert_int_equal(q1(t, SQL_SESSIONS_ALL, NULL), 2);

    struct sw_audit d = audit("", "session.delete", "user:alice");
    assert_int_equal(store_session_delete(t->s, s2.hash, &d), 0);
    assert_int_equal(store_session_get(t->s, s2.hash, &got), SW_E_NOTFOUND);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);
    assert_int_equal(store_session_delete(t->s, s2.hash, &d), SW_E_NOTFOUND);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);

    /* sessions survive a restart */
    storetest_reopen(t);
    assert_int_equal(store_session_get(t->s, s3.hash, &got), 0);
    assert_string_equal(got.csrf, "csrf-3");
}

/* ---- login throttling ----------------------------------------------------------- */

static void test_throttle(void **state)
{
    struct storetest *t = *state;
    const struct sw_throttle th = {.max_failures = 3, .window_ms = 10 * MIN,
                                   .lockout_ms = 15 * MIN};
    int64_t until = -1;
    assert_int_equal(store_throttle_check(t->s, "email:a", T0, &until), 0);
    assert_int_equal(until, 0);
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0, &th, &until), 0);
    assert_int_equal(until, 0);
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0 + MIN, &th, &until), 0);
    assert_int_equal(until, 0);
    /* the third within the window locks */
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0 + 2 * MIN, &th, &until), 0);
    assert_true(until == T0 + 17 * MIN);
    assert_int_equal(store_throttle_check(t->s, "email:a", T0 + 3 * MIN, &until), 0);
    assert_true(until == T0 + 17 * MIN);
    /* failures while locked count but do not extend the lock */
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0 + 4 * MIN, &th, &until), 0);
    assert_true(until == T0 + 17 * MIN);
    assert_int_equal(q1(t, SQL_FAILURES, "email:a"), 4);
    /* the lock ran out: a new window from one */
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0 + 18 * MIN, &th, &until), 0);
    assert_int_equal(until, 0);
    assert_int_equal(q1(t, SQL_FAILURES, "email:a"), 1);
    /* the window ran out: a new window from one */
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0 + 19 * MIN, &th, &until), 0);
    assert_int_equal(q1(t, SQL_FAILURES, "email:a"), 2);
    assert_int_equal(store_throttle_fail(t->s, "email:a", T0 + 29 * MIN, &th, &until), 0);
    assert_int_equal(until, 0);
    assert_int_equal(q1(t, SQL_FAILURES, "email:a"), 1);
    /* keys are independent; a reset forgets one */
    assert_int_equal(store_throttle_fail(t->s, "ip:1", T0 + 29 * MIN, &th, &until), 0);
    assert_int_equal(store_throttle_reset(t->s, "email:a"), 0);
    assert_int_equal(q1(t, SQL_FAILURES, "email:a"), -1);
    assert_int_equal(q1(t, SQL_FAILURES, "ip:1"), 1);
    assert_int_equal(store_throttle_reset(t->s, "email:a"), 0);
    /* a limit of one locks at the first failure */
    const struct sw_throttle one = {.max_failures = 1, .window_ms = MIN, .lockout_ms = MIN};
    assert_int_equal(store_throttle_fail(t->s, "ip:2", T0, &one, &until), 0);
    assert_true(until == T0 + MIN);
    /* kept across a restart */
    storetest_reopen(t);
    assert_int_equal(store_throttle_check(t->s, "ip:2", T0 + 1, &until), 0);
    assert_true(until == T0 + MIN);
}

/* ---- tokens ---------------------------------------------------------------------- */

static int tok_cb(const struct sw_token *tk, void *ud)
{
    int64_t *ids = ud;
    ids[++ids[0]] = tk->id;
    return 0;
}

static struct sw_token token(const char *tenant_id)
{
    struct sw_token tk = {.created_at = T0};
    snprintf(tk.name, sizeof(tk.name), "ci");
    snprintf(tk.role, sizeof(tk.role), "ingest");
    snprintf(tk.tenant_id, sizeof(tk.tenant_id), "%s", tenant_id);
    return tk;
}

static int audit_target_cb(const struct sw_audit *a, void *ud)
{
    snprintf(ud, SW_TARGET_MAX + 1, "%s", a->target);
    return 1;
}

static void test_tokens(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "a");
    tenant(t->s, "b");
    uint8_t h[4][SW_TOKEN_HASH_LEN];
    int64_t id[4] = {0};
    const char *tenants[4] = {"a", "", "b", "a"};
    for (int i = 0; i < 4; i++) {
        memset(h[i], 0x10 + i, SW_TOKEN_HASH_LEN);
        struct sw_token tk = token(tenants[i]);
        tk.expires_at = i == 0 ? T0 + 60 * MIN : 0;
        struct sw_audit a = audit(tenants[i], "token.create", "token:?");
        assert_int_equal(store_token_create_audited(t->s, &tk, h[i], i < 2 ? &a : NULL,
                                                    &id[i]), 0);
        if (i == 0) {
            char target[SW_TARGET_MAX + 1], want[32];
            struct sw_audit_filter f = {.tenant_id = "a"};
            assert_int_equal(store_audit_list(t->s, &f, audit_target_cb, target), 0);
            snprintf(want, sizeof(want), "token:%lld", (long long)id[0]);
            assert_string_equal(target, want);      /* names the new id */
        }
    }
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);
    struct sw_token dupt = token("a");
    assert_int_equal(store_token_create_audited(t->s, &dupt, h[0], NULL, NULL), SW_E_EXISTS);
    dupt = token("ghost");
    uint8_t hg[SW_TOKEN_HASH_LEN];
    memset(hg, 0x77, sizeof(hg));
    assert_int_equal(store_token_create_audited(t->s, &dupt, hg, NULL, NULL), SW_E_NOTFOUND);

    int64_t ids[8] = {0};
    assert_int_equal(store_token_list(t->s, NULL, tok_cb, ids), 0);
    assert_int_equal(ids[0], 4);
    assert_true(ids[1] == id[0] && ids[4] == id[3]);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_token_list(t->s, "", tok_cb, ids), 0);
    assert_int_equal(ids[0], 1);
    assert_true(ids[1] == id[1]);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_token_list(t->s, "a", tok_cb, ids), 0);
    assert_int_equal(ids[0], 2);
    assert_true(ids[1] == id[0] && ids[2] == id[3]);

    struct sw_token got;
    assert_int_equal(store_token_get(t->s, id[0], &got), 0);
    assert_string_equal(got.name, "ci");
    assert_string_equal(got.role, "ingest");
    assert_string_equal(got.tenant_id, "a");
    assert_true(got.expires_at == T0 + 60 * MIN);
    assert_int_equal(got.revoked_at, 0);
    assert_int_equal(store_token_get(t->s, id[1], &got), 0);
    assert_string_equal(got.tenant_id, "");
    assert_int_equal(got.expires_at, 0);
    assert_int_equal(store_token_get(t->s, id[3] + 100, &got), SW_E_NOTFOUND);

    /* revoke: the cached lookup says so from the next call */
    assert_int_equal(store_token_lookup(t->s, h[0], &got), 0);
    assert_int_equal(got.revoked_at, 0);
    struct sw_audit r = audit("a", "token.revoke", "token:x");
    assert_int_equal(store_token_revoke(t->s, id[0], T0 + 5, &r), 0);
    assert_int_equal(store_token_lookup(t->s, h[0], &got), 0);
    assert_true(got.revoked_at == T0 + 5);
    assert_int_equal(store_token_get(t->s, id[0], &got), 0);
    assert_true(got.revoked_at == T0 + 5);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 3);
    assert_int_equal(store_token_revoke(t->s, id[0], T0 + 6, &r), SW_E_CONFLICT);
    assert_int_equal(store_token_revoke(t->s, id[3] + 100, T0 + 6, &r), SW_E_CONFLICT);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 3);
    assert_int_equal(store_token_get(t->s, id[0], &got), 0);
    assert_true(got.revoked_at == T0 + 5);
}

/* ---- the audit log ----------------------------------------------------------------- */

struct alist {
    int n;
    int64_t ids[16];
    bool null_before[16];
    char after0[64];
};

static int alist_cb(const struct sw_audit *a, void *ud)
{
    struct alist *l = ud;
    if (l->n == 0 && a->after)
        snprintf(l->after0, sizeof(l->after0), "%s", a->after);
    l->null_before[l->n] = a->before == NULL;
    l->ids[l->n++] = a->id;
    return l->n >= 16;
}

static const char SQL_AUDIT_UPDATE[] = "UPDATE audit_log SET actor = 'x' WHERE id > 0";
static const char SQL_AUDIT_DELETE[] = "DELETE FROM audit_log WHERE id > 0";

static int rewrite_tx(struct db_conn *c, void *ud)
{
    struct db_stmt *st;
    int rc = db_prep(c, ud, &st);
    return rc < 0 ? rc : db_exec(st);
}

static void test_audit(void **state)
{
    struct storetest *t = *state;
    const char *tenants[] = {"a", "b", "", "a", "a", "b"};
    const char *actors[] = {"ann", "bob", "ann", "bob", "ann", "ann"};
    for (int i = 0; i < 6; i++) {
        struct sw_audit a = audit(tenants[i], i % 2 ? "policy.update" : "user.create", "x");
        snprintf(a.actor, sizeof(a.actor), "%s", actors[i]);
        a.at = T0 + i * MIN;
        a.before = i == 4 ? "{\"v\":1}" : NULL;
        a.after = i == 4 ? "{\"v\":2}" : NULL;
        assert_int_equal(store_audit_add(t->s, &a), 0);
    }
    struct alist l = {0};
    struct sw_audit_filter f = {0};
    assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
    assert_int_equal(l.n, 6);
    for (int i = 1; i < 6; i++)
        assert_true(l.ids[i] < l.ids[i - 1]);           /* newest first */
    int64_t newest = l.ids[0];

    memset(&l, 0, sizeof(l));
    f = (struct sw_audit_filter){.tenant_id = "a"};
    assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.after0, "{\"v\":2}");
    assert_false(l.null_before[0]);
    assert_true(l.null_before[1]);
    memset(&l, 0, sizeof(l));
    f = (struct sw_audit_filter){.tenant_id = ""};
    assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
    assert_int_equal(l.n, 1);
    memset(&l, 0, sizeof(l));
    f = (struct sw_audit_filter){.actor = "ann", .action = "user.create"};
    assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
    assert_int_equal(l.n, 3);
    memset(&l, 0, sizeof(l));
    f = (struct sw_audit_filter){.tenant_id = "b", .actor = "ann"};
    assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
    assert_int_equal(l.n, 1);
    memset(&l, 0, sizeof(l));
    f = (struct sw_audit_filter){.since = T0 + 3 * MIN};
    assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
    assert_int_equal(l.n, 3);
    /* pages: two at a time, each before the last id seen */
    int total = 0;
    int64_t before = 0;
    for (int page = 0; page < 5; page++) {
        memset(&l, 0, sizeof(l));
        f = (struct sw_audit_filter){.limit = 2, .before_id = before};
        assert_int_equal(store_audit_list(t->s, &f, alist_cb, &l), 0);
        if (l.n == 0)
            break;
        assert_true(l.n <= 2);
        if (page == 0)
            assert_true(l.ids[0] == newest);
        total += l.n;
        before = l.ids[l.n - 1];
    }
    assert_int_equal(total, 6);

    /* append-only on both databases */
    struct db *db = sql_of(t->s)->db;
    assert_true(db_tx(db, DB_TX_WRITE, rewrite_tx, (void *)SQL_AUDIT_UPDATE) < 0);
    assert_true(db_tx(db, DB_TX_WRITE, rewrite_tx, (void *)SQL_AUDIT_DELETE) < 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 6);
    storetest_reopen(t);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 6);
}

/* ---- faults: a write that fails at any driver call leaves nothing ------------------- */

/* Fails the k-th driver call for k = 1, 2, ... until op succeeds; after
 * each failure check() must find the state from before. */
#define FAULT_LOOP(db, op, check)                                                     \
    do {                                                                              \
        int rc_, k_;                                                                  \
        for (k_ = 1; k_ < 100; k_++) {                                                \
            db_fail_after((db), k_, SW_E_STORE);                                      \
            rc_ = (op);                                                               \
            db_fail_after((db), 0, 0);                                                \
            if (rc_ == 0)                                                             \
                break;                                                                \
            assert_int_equal(rc_, SW_E_STORE);                                        \
            check;                                                                    \
        }                                                                             \
        assert_true(k_ > 1 && k_ < 100);                                              \
    } while (0)

static void test_faults(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    struct db *db = sql_of(s)->db;
    tenant(s, "a");
    struct sw_user u = user("alice", "alice@example.com");
    role(&u, "tenant_admin", "a");
    role(&u, "viewer", "");
    struct sw_audit au[2] = {audit("a", "user.create", "user:alice"),
                             audit("", "user.create", "user:alice")};
    struct sw_user got;
    FAULT_LOOP(db, store_user_create(s, &u, "$argon2id$x", au, 2), {
        assert_int_equal(store_user_get(s, "alice", &got), SW_E_NOTFOUND);
        assert_int_equal(q1(t, SQL_ROLES, "alice"), 0);
        assert_int_equal(q1(t, SQL_AUDITS, NULL), 0);
    });
    assert_int_equal(store_user_get(s, "alice", &got), 0);
    assert_int_equal(got.nroles, 2);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);

    /* a session (sweeping an expired one) */
    struct sw_session old = session(1, "alice", T0 - 120 * MIN, 60 * MIN);
    assert_int_equal(store_session_create(s, &old, NULL), 0);
    struct sw_session s2 = session(2, "alice", T0, 60 * MIN);
    struct sw_audit sa = audit("", "session.create", "user:alice");
    struct sw_session sg;
    FAULT_LOOP(db, store_session_create(s, &s2, &sa), {
        assert_int_equal(store_session_get(s, s2.hash, &sg), SW_E_NOTFOUND);
        assert_int_equal(store_session_get(s, old.hash, &sg), 0);     /* not swept */
        assert_int_equal(q1(t, SQL_AUDITS, NULL), 2);
    });
    assert_int_equal(store_session_get(s, s2.hash, &sg), 0);
    assert_int_equal(store_session_get(s, old.hash, &sg), SW_E_NOTFOUND);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 3);

    /* a token's revocation */
    uint8_t h[SW_TOKEN_HASH_LEN];
    memset(h, 0x55, sizeof(h));
    struct sw_token tk = token("a");
    int64_t id = 0;
    struct sw_audit ta = audit("a", "token.create", "");
    FAULT_LOOP(db, store_token_create_audited(s, &tk, h, &ta, &id), {
        assert_int_equal(store_token_lookup(s, h, &tk), SW_E_NOTFOUND);
        assert_int_equal(q1(t, SQL_AUDITS, NULL), 3);
    });
    assert_true(id > 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 4);
    struct sw_token gt;
    assert_int_equal(store_token_lookup(s, h, &gt), 0);      /* cached now */
    struct sw_audit ra = audit("a", "token.revoke", "token:1");
    FAULT_LOOP(db, store_token_revoke(s, id, T0 + 9, &ra), {
        assert_int_equal(store_token_lookup(s, h, &gt), 0);
        assert_int_equal(gt.revoked_at, 0);
        assert_int_equal(store_token_get(s, id, &gt), 0);
        assert_int_equal(gt.revoked_at, 0);
        assert_int_equal(q1(t, SQL_AUDITS, NULL), 4);
    });
    assert_int_equal(store_token_lookup(s, h, &gt), 0);
    assert_true(gt.revoked_at == T0 + 9);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 5);

    /* the user's removal */
    struct sw_audit ra2 = audit("a", "user.delete", "user:alice");
    FAULT_LOOP(db, store_user_remove(s, "alice", &ra2, 1), {
        assert_int_equal(store_user_get(s, "alice", &got), 0);
        assert_int_equal(got.nroles, 2);
        assert_int_equal(q1(t, SQL_SESSIONS, "alice"), 1);
        assert_int_equal(q1(t, SQL_AUDITS, NULL), 5);
    });
    assert_int_equal(store_user_get(s, "alice", &got), SW_E_NOTFOUND);
    assert_int_equal(q1(t, SQL_SESSIONS, "alice"), 0);
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 6);

    /* single statements: a failure is an error, then it works */
    const struct sw_throttle th = {.max_failures = 5, .window_ms = MIN, .lockout_ms = MIN};
    int64_t until;
    FAULT_LOOP(db, store_throttle_fail(s, "ip:9", T0, &th, &until),
               assert_int_equal(q1(t, SQL_FAILURES, "ip:9"), -1));
    assert_int_equal(q1(t, SQL_FAILURES, "ip:9"), 1);
    struct sw_audit one = audit("", "x", "y");
    FAULT_LOOP(db, store_audit_add(s, &one), assert_int_equal(q1(t, SQL_AUDITS, NULL), 6));
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 7);
}

/* ---- two nodes on one PostgreSQL ------------------------------------------------------ */

static struct store *second_node(struct storetest *a)
{
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(a->url, &b, err, sizeof(err)), 0);
    for (int i = 0; i < 500 && db_node_count(sql_of(a->s)->db) < 2; i++)
        sleep_ms(10);
    assert_int_equal(db_node_count(sql_of(a->s)->db), 2);
    return b;
}

#define FAILS_PER_THREAD 40

struct fail_thread {
    struct store *s;
    int64_t now;
    int errors;
};

static void *fail_main(void *ud)
{
    struct fail_thread *ft = ud;
    const struct sw_throttle th = {.max_failures = 1000, .window_ms = 3600 * 1000,
                                   .lockout_ms = MIN};
    for (int i = 0; i < FAILS_PER_THREAD; i++) {
        int64_t until;
        if (store_throttle_fail(ft->s, "email:victim@example.com", ft->now + i, &th, &until) < 0)
            ft->errors++;
    }
    return NULL;
}

/* A password spray hitting two nodes at once: every failure is counted. */
static void test_pg_throttle_two_nodes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b = second_node(t);
    struct fail_thread ft[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ft[i] = (struct fail_thread){.s = i % 2 ? b : t->s, .now = T0 + i};
        assert_int_equal(pthread_create(&th[i], NULL, fail_main, &ft[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ft[i].errors, 0);
    }
    assert_int_equal(q1(t, SQL_FAILURES, "email:victim@example.com"), 4 * FAILS_PER_THREAD);
    store_close(b);
}

/* Revoked on A: B, which has the token cached, refuses it from the next
 * request; and only one of two concurrent revokes wins. */
struct revoke_thread {
    struct store *s;
    int64_t id;
    int rc;
};

static void *revoke_main(void *ud)
{
    struct revoke_thread *r = ud;
    struct sw_audit a = audit("", "token.revoke", "token");
    r->rc = store_token_revoke(r->s, r->id, T0 + 1, &a);
    return NULL;
}

static void test_pg_revoke_two_nodes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b = second_node(t);
    for (int round = 0; round < 10; round++) {
        uint8_t h[SW_TOKEN_HASH_LEN];
        memset(h, 0x20 + round, sizeof(h));
        struct sw_token tk = token(""), seen;
        int64_t id;
        assert_int_equal(store_token_create_audited(t->s, &tk, h, NULL, &id), 0);
        assert_int_equal(store_token_lookup(b, h, &seen), 0);      /* B caches it */
        assert_int_equal(seen.revoked_at, 0);
        if (round % 2 == 0) {
            struct sw_audit a = audit("", "token.revoke", "token");
            assert_int_equal(store_token_revoke(t->s, id, T0 + 1, &a), 0);
        } else {
            struct revoke_thread r[2] = {{.s = t->s, .id = id}, {.s = b, .id = id}};
            pthread_t th[2];
            for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&th[i], NULL, revoke_main, &r[i]), 0);
            for (int i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
            assert_true((r[0].rc == 0 && r[1].rc == SW_E_CONFLICT) ||
                        (r[1].rc == 0 && r[0].rc == SW_E_CONFLICT));
        }
        assert_int_equal(store_token_lookup(b, h, &seen), 0);
        assert_true(seen.revoked_at == T0 + 1);
    }
    /* one audit row per revocation that won */
    assert_int_equal(q1(t, SQL_AUDITS, NULL), 10);
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_email_index),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_pg_throttle_two_nodes),
        cmocka_unit_test(test_pg_revoke_two_nodes),
    };
    return storetest_run("store_users", tests, sizeof(tests) / sizeof(tests[0]));
}
