/* store_users.h: the users subject of store.h: users and their roles per
 * tenant, dashboard sessions, login throttling, token listing and
 * revocation, and the append-only audit log.
 *
 * Every write here takes an optional audit record (NULL = none) and commits
 * it in the same transaction as the change, so a change and its audit row
 * land together or not at all. */
#ifndef SW_STORE_USERS_H
#define SW_STORE_USERS_H

#include "store/store.h"

#define SW_EMAIL_MAX 254
#define SW_USER_MAX_ROLES 16        /* = AUTH_MAX_GRANTS */
#define SW_PWHASH_MAX 128           /* crypto_pwhash_STRBYTES */
#define SW_CSRF_MAX 64
#define SW_ACTION_MAX 64
#define SW_TARGET_MAX 320

/* ---- records --------------------------------------------------------- */

struct sw_user_role {
    char role[32];
    char tenant_id[SW_ID_MAX + 1];  /* "" = every tenant (platform_admin) */
};

struct sw_user {
    char id[SW_ID_MAX + 1];
    char email[SW_EMAIL_MAX + 1];
    int64_t created_at;
    bool disabled;
    bool has_password;
    size_t nroles;
    struct sw_user_role roles[SW_USER_MAX_ROLES];
};

struct sw_session {
    uint8_t hash[SW_TOKEN_HASH_LEN];
    char user_id[SW_ID_MAX + 1];
    char csrf[SW_CSRF_MAX + 1];
    int64_t created_at;
    int64_t expires_at;             /* absolute end */
    int64_t last_seen;
};

/* A user's contact points (PUT /users/{id}/contact): where an escalation
 * that names them reaches them.  "" = not given; email "" means the
 * account's own address. */
#define SW_SLACK_ID_MAX 32
#define SW_PHONE_MAX 16
#define SW_ROUTING_KEY_MAX 64
struct sw_contact_points {
    char user_id[SW_ID_MAX + 1];
    char email[SW_EMAIL_MAX + 1];
    char slack_user_id[SW_SLACK_ID_MAX + 1];
    char phone[SW_PHONE_MAX + 1];                   /* E.164 */
    char pagerduty_routing_key[SW_ROUTING_KEY_MAX + 1];
    int64_t updated_at;                             /* 0 = never set */
    char updated_by[SW_NAME_MAX + 32];
};

/* One audit row.  before/after: JSON text or NULL; borrowed. */
struct sw_audit {
    int64_t id;
    char tenant_id[SW_ID_MAX + 1];  /* "" = platform */
    char actor[SW_NAME_MAX + 32];
    int64_t at;
    char action[SW_ACTION_MAX + 1]; /* "user.create", "token.revoke", ... */
    char target[SW_TARGET_MAX + 1]; /* "user:alice", "token:12", ... */
    const char *before;
    const char *after;
};

/* What GET /audit asks for; NULL / 0 = no filter. */
struct sw_audit_filter {
    const char *tenant_id;          /* NULL = every tenant and the platform */
    int64_t since;                  /* at >= since */
    const char *actor;
    const char *action;
    int64_t before_id;              /* paging, newest first: id < before_id */
    int limit;
};

/* Login throttle thresholds (from the configuration). */
struct sw_throttle {
    int max_failures;               /* failures within window_ms that lock */
    int64_t window_ms;
    int64_t lockout_ms;
};

typedef int (*store_user_cb)(const struct sw_user *u, void *ud);
typedef int (*store_token_cb)(const struct sw_token *t, void *ud);
typedef int (*store_audit_cb)(const struct sw_audit *a, void *ud);

struct store_user_ops {
    /* Users.  create: the user, its roles and the audit rows (one per
     * tenant concerned) in one transaction; SW_E_EXISTS for a taken id or
     * email. */
    int (*create)(struct store *s, const struct sw_user *u, const char *password_hash,
                  const struct sw_audit *audits, size_t naudits);
    int (*get)(struct store *s, const char *id, struct sw_user *out);
    /* By email (case-insensitive), with the stored hash ("" when none). */
    int (*get_by_email)(struct store *s, const char *email, struct sw_user *out,
                        char hash_out[SW_PWHASH_MAX + 1]);
    /* Every user (tenant_id NULL) or those with a role in tenant_id, by id. */
    int (*list)(struct store *s, const char *tenant_id, store_user_cb cb, void *ud);
    /* Deletes the user, its roles and sessions. */
    int (*remove)(struct store *s, const char *id, const struct sw_audit *audits,
                  size_t naudits);

    /* Sessions. */
    int (*session_create)(struct store *s, const struct sw_session *ss,
                          const struct sw_audit *audit);
    int (*session_get)(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                       struct sw_session *out);
    int (*session_touch)(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t now);
    /* SW_E_NOTFOUND when there was none. */
    int (*session_delete)(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                          const struct sw_audit *audit);

    /* Login throttling by key.  check: *locked_until > now when locked.
     * fail: counts one failure (a new window when the old one ended), locks
     * when it reaches the limit; *locked_until as after the update.
     * reset: forgets the key (a successful login). */
    int (*throttle_check)(struct store *s, const char *key, int64_t now,
                          int64_t *locked_until);
    int (*throttle_fail)(struct store *s, const char *key, int64_t now,
                         const struct sw_throttle *t, int64_t *locked_until);
    int (*throttle_reset)(struct store *s, const char *key);

    /* Tokens: create with an audit row; list (tenant_id NULL = all, "" =
     * platform tokens only); get by id; revoke (SW_E_CONFLICT if already). */
    int (*token_create)(struct store *s, const struct sw_token *t,
                        const uint8_t hash[SW_TOKEN_HASH_LEN], const struct sw_audit *audit,
                        int64_t *id_out);
    int (*token_list)(struct store *s, const char *tenant_id, store_token_cb cb, void *ud);
    int (*token_get)(struct store *s, int64_t id, struct sw_token *out);
    int (*token_revoke)(struct store *s, int64_t id, int64_t now,
                        const struct sw_audit *audit);

    /* The audit log: append one row on its own; list newest first. */
    int (*audit_add)(struct store *s, const struct sw_audit *a);
    int (*audit_list)(struct store *s, const struct sw_audit_filter *f,
                      store_audit_cb cb, void *ud);

    /* Contact points (people.c).  get: SW_E_NOTFOUND when the user does
     * not exist; a user who never set any gets empty ones.  put: replaces
     * them with the audit rows, in one transaction. */
    int (*contact_get)(struct store *s, const char *user_id, struct sw_contact_points *out);
    int (*contact_put)(struct store *s, const struct sw_contact_points *cp,
                       const struct sw_audit *audits, size_t naudits);
};

/* ---- wrappers -------------------------------------------------------- */

static inline int store_user_create(struct store *s, const struct sw_user *u,
                                    const char *password_hash, const struct sw_audit *a,
                                    size_t na)
{ return s->users->create(s, u, password_hash, a, na); }
static inline int store_user_get(struct store *s, const char *id, struct sw_user *out)
{ return s->users->get(s, id, out); }
static inline int store_user_get_by_email(struct store *s, const char *email,
                                          struct sw_user *out, char hash_out[SW_PWHASH_MAX + 1])
{ return s->users->get_by_email(s, email, out, hash_out); }
static inline int store_user_list(struct store *s, const char *tenant_id, store_user_cb cb,
                                  void *ud)
{ return s->users->list(s, tenant_id, cb, ud); }
static inline int store_user_remove(struct store *s, const char *id, const struct sw_audit *a,
                                    size_t na)
{ return s->users->remove(s, id, a, na); }

static inline int store_session_create(struct store *s, const struct sw_session *ss,
                                       const struct sw_audit *a)
{ return s->users->session_create(s, ss, a); }
static inline int store_session_get(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                                    struct sw_session *out)
{ return s->users->session_get(s, hash, out); }
static inline int store_session_touch(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                                      int64_t now)
{ return s->users->session_touch(s, hash, now); }
static inline int store_session_delete(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                                       const struct sw_audit *a)
{ return s->users->session_delete(s, hash, a); }

static inline int store_throttle_check(struct store *s, const char *key, int64_t now,
                                       int64_t *locked_until)
{ return s->users->throttle_check(s, key, now, locked_until); }
static inline int store_throttle_fail(struct store *s, const char *key, int64_t now,
                                      const struct sw_throttle *t, int64_t *locked_until)
{ return s->users->throttle_fail(s, key, now, t, locked_until); }
static inline int store_throttle_reset(struct store *s, const char *key)
{ return s->users->throttle_reset(s, key); }

static inline int store_token_create_audited(struct store *s, const struct sw_token *t,
                                             const uint8_t hash[SW_TOKEN_HASH_LEN],
                                             const struct sw_audit *a, int64_t *id_out)
{ return s->users->token_create(s, t, hash, a, id_out); }
static inline int store_token_list(struct store *s, const char *tenant_id, store_token_cb cb,
                                   void *ud)
{ return s->users->token_list(s, tenant_id, cb, ud); }
static inline int store_token_get(struct store *s, int64_t id, struct sw_token *out)
{ return s->users->token_get(s, id, out); }
static inline int store_token_revoke(struct store *s, int64_t id, int64_t now,
                                     const struct sw_audit *a)
{ return s->users->token_revoke(s, id, now, a); }

static inline int store_contact_get(struct store *s, const char *user_id,
                                    struct sw_contact_points *out)
{ return s->users->contact_get(s, user_id, out); }
static inline int store_contact_put(struct store *s, const struct sw_contact_points *cp,
                                    const struct sw_audit *a, size_t na)
{ return s->users->contact_put(s, cp, a, na); }

static inline int store_audit_add(struct store *s, const struct sw_audit *a)
{ return s->users->audit_add(s, a); }
static inline int store_audit_list(struct store *s, const struct sw_audit_filter *f,
                                   store_audit_cb cb, void *ud)
{ return s->users->audit_list(s, f, cb, ud); }

#endif
