/* api_tokens.c: API tokens, shown once, stored as a hash. */
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "http/server.h"

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
                   "role must be platform_admin, tenant_admin, manager, analyst, viewer or ingest");
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
    int64_t id;
    auth_token_generate(secret);
    int64_t expires_at = expires_in ? r->now + expires_in * 86400000 : 0;
    int rc = auth_token_store(r->srv->store, secret, name, role, tenant, r->now, expires_at, &id);
    if (rc < 0) {
        http_fail(r, rc, "token");
        return;
    }
    json_t *out = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)id, "name", name,
                            "role", auth_role_name(role), "token", secret, "tenant_id",
                            tenant ? json_string(tenant) : json_null());
    http_json(r, 201, out);
}
