/* api_tokens.c: API tokens, shown once, stored as a hash; listed (never the
 * secret) and revoked by the admins of their tenant.  Every create and
 * revoke is in the audit log, committed with the change. */
#include <string.h>

#include "http/api.h"
#include "http/audit.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "ws/ws.h"

static json_t *json_token(const struct sw_token *t)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)t->id,
                     "name", t->name, "role", t->role, "tenant_id",
                     t->tenant_id[0] ? json_string(t->tenant_id) : json_null(),
                     "created_at", json_time(t->created_at),
                     "expires_at", json_time(t->expires_at),
                     "revoked_at", json_time(t->revoked_at));
}

void api_token_create(struct req *r)
{
    const char *name, *role_s, *tenant;
    int64_t expires_in = 0;
    if (v_string(r, r->json, "name", true, SW_NAME_MAX, &name) < 0 ||
        v_string(r, r->json, "role", true, 32, &role_s) < 0 ||
        v_id(r, r->json, "tenant_id", false, &tenant) < 0 ||
        v_int(r, r->json, "expires_in_days", false, 1, 3650, &expires_in, NULL) < 0)
        return;
    enum sw_role role;
    if (auth_role_parse(role_s, &role) < 0) {
        http_error(r, 422, "invalid", "role",
                   "role must be platform_admin, tenant_admin, manager, analyst, viewer, ingest or auditor");
        return;
    }
    if (role == ROLE_PLATFORM_ADMIN) {
        if (tenant) {
            http_error(r, 422, "invalid", "tenant_id", "a platform_admin token has no tenant");
            return;
        }
    } else {
        /* the route checked PERM_ADMIN in this tenant (platform-wide without one) */
        if (!tenant) {
            http_error(r, 422, "invalid", "tenant_id", "tenant_id is required for this role");
            return;
        }
        struct sw_tenant t;
        int rc = store_tenant_get(r->srv->store, tenant, &t);
        if (rc < 0) {
            http_fail(r, rc, "tenant");
            return;
        }
    }
    char secret[AUTH_TOKEN_LEN + 1];
    uint8_t hash[SW_TOKEN_HASH_LEN];
    int64_t id;
    auth_token_generate(secret);
    auth_token_hash(secret, hash);
    struct sw_token t;
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "%s", name);
    snprintf(t.role, sizeof(t.role), "%s", auth_role_name(role));
    snprintf(t.tenant_id, sizeof(t.tenant_id), "%s", tenant ? tenant : "");
    t.created_at = r->now;
    t.expires_at = expires_in ? r->now + expires_in * 86400000 : 0;

    json_t *after = json_token(&t);
    json_object_del(after, "id");
    struct audit_entry e;
    audit_entry_init(&e, r, tenant, "token.create", "", NULL, after);  /* target: the store */
    json_decref(after);
    int rc = store_token_create_audited(r->srv->store, &t, hash, &e.a, &id);
    audit_entry_release(&e);
    if (rc < 0) {
        http_fail(r, rc, "token");
        return;
    }
    json_t *out = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)id, "name", name,
                            "role", auth_role_name(role), "token", secret, "tenant_id",
                            tenant ? json_string(tenant) : json_null(),
                            "expires_at", json_time(t.expires_at));
    http_json(r, 201, out);
}

static int add_token(const struct sw_token *t, void *ud)
{
    json_array_append_new(ud, json_token(t));
    return 0;
}

void api_token_list(struct req *r)
{
    /* r->tenant_id NULL: the route checked platform_admin: every token */
    json_t *items = json_array();
    int rc = store_token_list(r->srv->store, r->tenant_id, add_token, items);
    if (rc < 0) {
        json_decref(items);
        http_fail(r, rc, "tokens");
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "items", items));
}

void api_token_revoke(struct req *r)
{
    const char *ids = http_param(r, "token_id");
    int64_t id = 0;
    size_t n = strlen(ids);
    for (size_t i = 0; i < n && n <= 18 && id >= 0; i++)
        id = (ids[i] >= '0' && ids[i] <= '9') ? id * 10 + (ids[i] - '0') : -1;
    struct sw_token t;
    int rc = (id > 0 && n <= 18) ? store_token_get(r->srv->store, id, &t) : SW_E_NOTFOUND;
    if (rc == 0) {
        /* the same rule as creating one: admin in its tenant, platform for
         * a platform token; a token the caller cannot see answers 404 */
        rc = t.tenant_id[0] ? auth_check(&r->who, PERM_ADMIN, t.tenant_id)
                            : (auth_sees_all(&r->who) ? 0 : SW_E_NOTFOUND);
    }
    if (rc < 0) {
        http_fail(r, rc, "token");
        return;
    }
    if (t.revoked_at) {         /* revoking twice is still revoked */
        http_no_content(r);
        return;
    }
    json_t *before = json_token(&t);
    t.revoked_at = r->now;
    json_t *after = json_token(&t);
    char target[40];
    snprintf(target, sizeof(target), "token:%lld", (long long)id);
    struct audit_entry e;
    audit_entry_init(&e, r, t.tenant_id, "token.revoke", target, before, after);
    json_decref(before);
    json_decref(after);
    rc = store_token_revoke(r->srv->store, id, r->now, &e.a);
    audit_entry_release(&e);
    if (rc < 0 && rc != SW_E_CONFLICT) {
        http_fail(r, rc, "token");
        return;
    }
    ws_hub_recheck(r->srv->ws);     /* its live sockets close now, not at the next round */
    http_no_content(r);
}
