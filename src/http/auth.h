/* auth: bearer tokens, roles, and the one permission check.
 *
 * A caller is a principal: a list of grants (role, tenant).  A tenant of ""
 * means every tenant and belongs to platform_admin alone.  Routes declare the
 * permission they need (routes.c); server.c calls auth_check once per request,
 * so no handler re-implements access control. */
#ifndef SW_HTTP_AUTH_H
#define SW_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_users.h"

enum sw_role {
    ROLE_NONE = 0,
    ROLE_PLATFORM_ADMIN,
    ROLE_TENANT_ADMIN,
    ROLE_MANAGER,
    ROLE_ANALYST,
    ROLE_VIEWER,
    ROLE_INGEST,
    ROLE_AUDITOR,
};

/* What a route may need; a role is a set of these. */
enum perm {
    PERM_NONE      = 0,
    PERM_READ      = 1 << 0,    /* read a tenant's data */
    PERM_INGEST    = 1 << 1,    /* create and update items */
    PERM_OPERATE   = 1 << 2,    /* acknowledge, resolve, escalate, pause */
    PERM_CONFIGURE = 1 << 3,    /* policy, definition, configs, escalations, notifications */
    PERM_ADMIN     = 1 << 4,    /* a tenant's users and tokens */
    PERM_PLATFORM  = 1 << 5,    /* tenants, global policy: platform_admin only */
    PERM_AUDIT     = 1 << 6,    /* a tenant's audit log, its hash chains and their export */
};

#define AUTH_MAX_GRANTS 16
#define AUTH_TOKEN_PREFIX "swt_"
#define AUTH_TOKEN_LEN 47       /* "swt_" + 43 base64url characters of 32 bytes */
#define AUTH_SESSION_PREFIX "sws_"  /* a session cookie's value: same shape */
#define AUTH_SESSION_COOKIE "slawatch_session"
#define AUTH_CSRF_LEN 47            /* "swc_" + 32 random bytes, base64url */
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 1024

struct auth_grant {
    enum sw_role role;
    char tenant_id[SW_ID_MAX + 1];      /* "" = every tenant */
};

struct auth_principal {
    char actor[SW_NAME_MAX + 32];       /* who, for events and the audit log */
    int64_t token_id;
    uint8_t token_hash[SW_TOKEN_HASH_LEN];      /* a token's: to check it again later */
    size_t ngrants;
    struct auth_grant grants[AUTH_MAX_GRANTS];
    /* a dashboard session (cookie) rather than a bearer token */
    bool via_session;
    char user_id[SW_ID_MAX + 1];        /* "" for a token */
    char csrf[SW_CSRF_MAX + 1];         /* the session's CSRF token */
    uint8_t session_hash[SW_TOKEN_HASH_LEN];
};

int auth_role_parse(const char *s, enum sw_role *out);
const char *auth_role_name(enum sw_role r);
unsigned auth_role_perms(enum sw_role r);

/* 0 when p holds perm in tenant_id (NULL: in any tenant, or platform-wide
 * for PERM_PLATFORM); SW_E_NOTFOUND when the tenant is not visible to p at
 * all (answered 404, so tenants cannot be probed); SW_E_DENIED when visible
 * but the role does not allow it (403). */
int auth_check(const struct auth_principal *p, unsigned perm, const char *tenant_id);
/* True when p sees every tenant. */
bool auth_sees_all(const struct auth_principal *p);
/* Whether p may see tenant_id at all. */
bool auth_sees_tenant(const struct auth_principal *p, const char *tenant_id);

/* A new random token (32 bytes from libsodium), NUL-terminated. */
void auth_token_generate(char out[AUTH_TOKEN_LEN + 1]);
/* The only form in which a token is stored: BLAKE2b-256 of its text.  A
 * token is 256 random bits, so a fast hash is enough (no stretching). */
void auth_token_hash(const char *token, uint8_t out[SW_TOKEN_HASH_LEN]);
/* Resolves a bearer token to a principal: SW_E_AUTH when unknown, revoked
 * or expired. */
int auth_authenticate(struct store *s, const char *token, int64_t now,
                      struct auth_principal *out);
/* The same from the token's hash (auth_token_hash): how a long-lived
 * connection (a WebSocket) checks its token again. */
int auth_token_hash_authenticate(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                                 int64_t now, struct auth_principal *out);
/* Stores a token with that exact secret (bootstrap and `token create`). */
int auth_token_store(struct store *s, const char *secret, const char *name,
                     enum sw_role role, const char *tenant_id, int64_t now,
                     int64_t expires_at, int64_t *id_out);

/* ---- users, passwords and sessions (dashboard login) ----------------- */

struct sw_user;

/* A random secret with that 4-character prefix (32 bytes, base64url). */
void auth_random_secret(const char *prefix, char out[AUTH_TOKEN_LEN + 1]);
/* argon2id (crypto_pwhash_str) with the limits named by cost: "interactive"
 * (default), "moderate" or "min" (tests).  SW_E_INVAL for a password
 * outside AUTH_PASSWORD_MIN..MAX bytes, SW_E_NOMEM if argon2 could not get
 * its memory. */
int auth_password_hash(const char *password, const char *cost,
                       char out[SW_PWHASH_MAX + 1]);
/* True when password matches hash.  hash NULL or "" still spends the time of
 * a verification (against dummy, made with the same cost at start), so an
 * unknown email answers as slowly as a known one. */
bool auth_password_verify(const char *hash, const char *dummy, const char *password);
/* The grants of a user's roles; actor "user:<id>". */
void auth_user_principal(const struct sw_user *u, struct auth_principal *out);
/* Resolves a session cookie: SW_E_AUTH when unknown, expired (absolute or
 * idle_ms without use) or its user is disabled or gone.  Refreshes the
 * session's last use at most once a minute, or a quarter of idle_ms when
 * shorter (a write per request would be the cost otherwise). */
int auth_session_authenticate(struct store *s, const char *cookie, int64_t now,
                              int64_t idle_ms, struct auth_principal *out);
/* The same from the session's hash, without refreshing its last use: how a
 * long-lived connection (a WebSocket) checks its session again. */
int auth_session_hash_check(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                            int64_t now, int64_t idle_ms, struct auth_principal *out);

#endif
