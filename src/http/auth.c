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
        PERM_READ | PERM_INGEST | PERM_OPERATE | PERM_CONFIGURE | PERM_ADMIN | PERM_PLATFORM},
    [ROLE_TENANT_ADMIN] = {"tenant_admin",
        PERM_READ | PERM_INGEST | PERM_OPERATE | PERM_CONFIGURE | PERM_ADMIN},
    [ROLE_MANAGER] = {"manager", PERM_READ | PERM_OPERATE | PERM_CONFIGURE},
    [ROLE_ANALYST] = {"analyst", PERM_READ | PERM_OPERATE},
    [ROLE_VIEWER] = {"viewer", PERM_READ},
    [ROLE_INGEST] = {"ingest", PERM_INGEST},
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
    struct sw_token t;
    size_t len = strlen(token);
    if (len == 0 || len > 512)
        return SW_E_AUTH;
    auth_token_hash(token, hash);
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
