/* auth.c: roles as permission sets, token hashing, principals. */
#include "http/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned perms;
} roles[] = {
    [ROLE_NONE] = {"none", 0},
    [ROLE_PLATFORM_ADMIN] = {"platform_admin",
        PERM_READ | PERM_INGEST | PERM_OPERATE | PERM_CONFIGURE | PERM_ADMIN | PERM_PLATFORM |
        PERM_AUDIT},
    [ROLE_TENANT_ADMIN] = {"tenant_admin",
        PERM_READ | PERM_INGEST | PERM_OPERATE | PERM_CONFIGURE | PERM_ADMIN | PERM_AUDIT},
    [ROLE_MANAGER] = {"manager", PERM_READ | PERM_OPERATE | PERM_CONFIGURE},
    [ROLE_ANALYST] = {"analyst", PERM_READ | PERM_OPERATE},
    [ROLE_VIEWER] = {"viewer", PERM_READ},
    [ROLE_INGEST] = {"ingest", PERM_INGEST},
    /* reads everything of its tenants, the audit log included; writes nothing */
    [ROLE_AUDITOR] = {"auditor", PERM_READ | PERM_AUDIT},
};

int auth_role_parse(const char *s, enum sw_role *out)
{
    for (size_t i = 1; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (!strcmp(s, roles[i].name)) {
            *out = (enum sw_role)i;
            return 0;
        }
    return SW_E_INVAL;
}

const char *auth_role_name(enum sw_role r)
{
    return (size_t)r < sizeof(roles) / sizeof(roles[0]) ? roles[r].name : "none";
}

unsigned auth_role_perms(enum sw_role r)
{
    return (size_t)r < sizeof(roles) / sizeof(roles[0]) ? roles[r].perms : 0;
}

bool auth_sees_all(const struct auth_principal *p)
{
    for (size_t i = 0; i < p->ngrants; i++)
        if (!p->grants[i].tenant_id[0] && p->grants[i].role == ROLE_PLATFORM_ADMIN)
            return true;
    return false;
}

bool auth_sees_tenant(const struct auth_principal *p, const char *tenant_id)
{
    if (auth_sees_all(p))
        return true;
    for (size_t i = 0; i < p->ngrants; i++)
        if (!strcmp(p->grants[i].tenant_id, tenant_id))
            return true;
    return false;
}

int auth_check(const struct auth_principal *p, unsigned perm, const char *tenant_id)
{
    if (perm & PERM_PLATFORM)
        return auth_sees_all(p) ? 0 : SW_E_DENIED;
    if (tenant_id && !auth_sees_tenant(p, tenant_id))
        return SW_E_NOTFOUND;
    for (size_t i = 0; i < p->ngrants; i++) {
        const struct auth_grant *g = &p->grants[i];
        bool applies = !tenant_id || !g->tenant_id[0] || !strcmp(g->tenant_id, tenant_id);
        if (applies && (auth_role_perms(g->role) & perm) == perm)
            return 0;
    }
    return SW_E_DENIED;
}

void auth_token_generate(char out[AUTH_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, AUTH_TOKEN_PREFIX, 4);
    sodium_bin2base64(out + 4, AUTH_TOKEN_LEN + 1 - 4, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void auth_token_hash(const char *token, uint8_t out[SW_TOKEN_HASH_LEN])
{
    crypto_generichash(out, SW_TOKEN_HASH_LEN, (const unsigned char *)token,
                       strlen(token), NULL, 0);
}

int auth_authenticate(struct store *s, const char *token, int64_t now,
                      struct auth_principal *out)
{
    uint8_t hash[SW_TOKEN_HASH_LEN];
    size_t len = strlen(token);
    if (len == 0 || len > 512)
        return SW_E_AUTH;
    auth_token_hash(token, hash);
    return auth_token_hash_authenticate(s, hash, now, out);
}

int auth_token_hash_authenticate(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                                 int64_t now, struct auth_principal *out)
{
    struct sw_token t;
    int rc = store_token_lookup(s, hash, &t);
    if (rc == SW_E_NOTFOUND)
        return SW_E_AUTH;
    if (rc < 0)
        return rc;
    if (t.revoked_at || (t.expires_at && t.expires_at <= now))
        return SW_E_AUTH;
    enum sw_role role;
    if (auth_role_parse(t.role, &role) < 0)
        return SW_E_AUTH;
    memset(out, 0, sizeof(*out));
    snprintf(out->actor, sizeof(out->actor), "token:%s", t.name);
    out->token_id = t.id;
    memcpy(out->token_hash, hash, SW_TOKEN_HASH_LEN);
    out->ngrants = 1;
    out->grants[0].role = role;
    snprintf(out->grants[0].tenant_id, sizeof(out->grants[0].tenant_id), "%s", t.tenant_id);
    return 0;
}

int auth_token_store(struct store *s, const char *secret, const char *name,
                     enum sw_role role, const char *tenant_id, int64_t now,
                     int64_t expires_at, int64_t *id_out)
{
    struct sw_token t;
    uint8_t hash[SW_TOKEN_HASH_LEN];
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "%s", name);
    snprintf(t.role, sizeof(t.role), "%s", auth_role_name(role));
    snprintf(t.tenant_id, sizeof(t.tenant_id), "%s", tenant_id ? tenant_id : "");
    t.created_at = now;
    t.expires_at = expires_at;
    auth_token_hash(secret, hash);
    return store_token_create(s, &t, hash, id_out);
}

/* ---- users, passwords and sessions ----------------------------------- */

void auth_random_secret(const char *prefix, char out[AUTH_TOKEN_LEN + 1])
{
    auth_token_generate(out);
    memcpy(out, prefix, 4);
}

static void pwhash_limits(const char *cost, unsigned long long *ops, size_t *mem)
{
    if (cost && !strcmp(cost, "min")) {
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
    } else if (cost && !strcmp(cost, "moderate")) {
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
    } else {
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

int auth_password_hash(const char *password, const char *cost, char out[SW_PWHASH_MAX + 1])
{
    size_t len = strlen(password);
    if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX)
        return SW_E_INVAL;
    unsigned long long ops;
    size_t mem;
    pwhash_limits(cost, &ops, &mem);
    _Static_assert(crypto_pwhash_STRBYTES <= SW_PWHASH_MAX + 1, "hash buffer");
    char buf[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(buf, password, len, ops, mem) != 0)
        return SW_E_NOMEM;
    snprintf(out, SW_PWHASH_MAX + 1, "%s", buf);
    return 0;
}

bool auth_password_verify(const char *hash, const char *dummy, const char *password)
{
    size_t len = strlen(password);
    bool real = hash && *hash;
    const char *h = real ? hash : dummy;
    if (!h || !*h)
        return false;
    int rc = crypto_pwhash_str_verify(h, password, len);
    return real && rc == 0;
}

void auth_user_principal(const struct sw_user *u, struct auth_principal *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->actor, sizeof(out->actor), "user:%s", u->id);
    snprintf(out->user_id, sizeof(out->user_id), "%s", u->id);
    for (size_t i = 0; i < u->nroles && out->ngrants < AUTH_MAX_GRANTS; i++) {
        enum sw_role role;
        if (auth_role_parse(u->roles[i].role, &role) < 0)
            continue;
        /* a tenant-less grant is only ever platform_admin's */
        if (!u->roles[i].tenant_id[0] && role != ROLE_PLATFORM_ADMIN)
            continue;
        struct auth_grant *g = &out->grants[out->ngrants++];
        g->role = role;
        snprintf(g->tenant_id, sizeof(g->tenant_id), "%s", u->roles[i].tenant_id);
    }
}

/* The session of that hash, with its user's grants; touch: refresh its
 * last use (a request), or not (a re-check of a long-lived connection). */
static int session_resolve(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t now,
                           int64_t idle_ms, bool touch, struct auth_principal *out)
{
    struct sw_session ss;
    struct sw_user u;
    int rc = store_session_get(s, hash, &ss);
    if (rc == SW_E_NOTFOUND)
        return SW_E_AUTH;
    if (rc < 0)
        return rc;
    if (ss.expires_at <= now || ss.last_seen + idle_ms <= now)
        return SW_E_AUTH;
    rc = store_user_get(s, ss.user_id, &u);
    if (rc == SW_E_NOTFOUND)
        return SW_E_AUTH;
    if (rc < 0)
        return rc;
    if (u.disabled)
        return SW_E_AUTH;
    int64_t every = idle_ms / 4 < 60000 ? idle_ms / 4 : 60000;
    if (touch && now - ss.last_seen >= every && store_session_touch(s, hash, now) < 0)
        return SW_E_STORE;
    auth_user_principal(&u, out);
    out->via_session = true;
    snprintf(out->csrf, sizeof(out->csrf), "%s", ss.csrf);
    memcpy(out->session_hash, hash, SW_TOKEN_HASH_LEN);
    return 0;
}

int auth_session_authenticate(struct store *s, const char *cookie, int64_t now,
                              int64_t idle_ms, struct auth_principal *out)
{
    uint8_t hash[SW_TOKEN_HASH_LEN];
    size_t len = strlen(cookie);
    if (len != AUTH_TOKEN_LEN || strncmp(cookie, AUTH_SESSION_PREFIX, 4) != 0)
        return SW_E_AUTH;
    auth_token_hash(cookie, hash);
    return session_resolve(s, hash, now, idle_ms, true, out);
}

int auth_session_hash_check(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                            int64_t now, int64_t idle_ms, struct auth_principal *out)
{
    return session_resolve(s, hash, now, idle_ms, false, out);
}
