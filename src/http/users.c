/* users.c: user input validation shared by handlers, CLI and fuzzers. */
#include "http/users.h"

#include <stdio.h>
#include <string.h>

#include "http/auth.h"
#include "http/http.h"
#include "http/json_out.h"

bool users_email_valid(const char *s)
{
    size_t n = 0, at = 0, at_pos = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (ch <= 0x20 || ch > 0x7e || n >= SW_EMAIL_MAX)
            return false;
        if (ch == '@') {
            at++;
            at_pos = n;
        }
    }
    return n >= 3 && at == 1 && at_pos > 0 && at_pos < n - 1;
}

int users_add_role(struct sw_user *u, const char *role, const char *tenant_id, char *err,
                   size_t errlen)
{
    enum sw_role r;
    if (!role || auth_role_parse(role, &r) < 0) {
        snprintf(err, errlen, "role must be platform_admin, tenant_admin, manager, analyst, "
                              "viewer, ingest or auditor");
        return SW_E_INVAL;
    }
    if (tenant_id && !*tenant_id)
        tenant_id = NULL;
    if (r == ROLE_PLATFORM_ADMIN && tenant_id) {
        snprintf(err, errlen, "platform_admin is a role over every tenant: give no tenant_id");
        return SW_E_INVAL;
    }
    if (r != ROLE_PLATFORM_ADMIN && !tenant_id) {
        snprintf(err, errlen, "%s needs a tenant_id", role);
        return SW_E_INVAL;
    }
    if (tenant_id && !http_id_valid(tenant_id)) {
        snprintf(err, errlen, "tenant_id must be 1-128 printable characters without '/'");
        return SW_E_INVAL;
    }
    const char *name = auth_role_name(r), *t = tenant_id ? tenant_id : "";
    for (size_t i = 0; i < u->nroles; i++)
        if (!strcmp(u->roles[i].role, name) && !strcmp(u->roles[i].tenant_id, t))
            return 0;
    if (u->nroles >= SW_USER_MAX_ROLES) {
        snprintf(err, errlen, "at most %d roles", SW_USER_MAX_ROLES);
        return SW_E_INVAL;
    }
    struct sw_user_role *ur = &u->roles[u->nroles++];
    snprintf(ur->role, sizeof(ur->role), "%s", name);
    snprintf(ur->tenant_id, sizeof(ur->tenant_id), "%s", t);
    return 0;
}

int users_parse_roles(json_t *roles, struct sw_user *u, char *err, size_t errlen)
{
    u->nroles = 0;
    if (!json_is_array(roles) || json_array_size(roles) == 0 ||
        json_array_size(roles) > SW_USER_MAX_ROLES) {
        snprintf(err, errlen, "roles must be an array of 1 to %d {role, tenant_id?} objects",
                 SW_USER_MAX_ROLES);
        return SW_E_INVAL;
    }
    size_t i;
    json_t *v;
    json_array_foreach(roles, i, v) {
        json_t *role = json_object_get(v, "role"), *tenant = json_object_get(v, "tenant_id");
        if (!json_is_object(v) || !json_is_string(role) ||
            (tenant && !json_is_null(tenant) && !json_is_string(tenant))) {
            snprintf(err, errlen, "roles[%zu] must be {role: string, tenant_id?: string}", i);
            return SW_E_INVAL;
        }
        const char *rs = json_string_value(role);
        const char *ts = json_is_string(tenant) ? json_string_value(tenant) : NULL;
        if (strlen(rs) != json_string_length(role) ||
            (ts && strlen(ts) != json_string_length(tenant))) {
            snprintf(err, errlen, "roles[%zu] has a NUL byte", i);
            return SW_E_INVAL;
        }
        char e2[200];
        if (users_add_role(u, rs, ts, e2, sizeof(e2)) < 0) {
            snprintf(err, errlen, "roles[%zu]: %s", i, e2);
            return SW_E_INVAL;
        }
    }
    return 0;
}

json_t *users_json(const struct sw_user *u, bool (*visible)(const char *tenant_id, void *ud),
                   void *ud)
{
    json_t *roles = json_array();
    for (size_t i = 0; i < u->nroles; i++) {
        const struct sw_user_role *ur = &u->roles[i];
        if (visible && !visible(ur->tenant_id, ud))
            continue;
        json_array_append_new(roles, json_pack("{s:s, s:o}", "role", ur->role, "tenant_id",
                                               ur->tenant_id[0] ? json_string(ur->tenant_id)
                                                                : json_null()));
    }
    return json_pack("{s:s, s:s, s:o, s:b, s:b, s:o}", "id", u->id, "email", u->email,
                     "roles", roles, "disabled", u->disabled, "has_password", u->has_password,
                     "created_at", json_time(u->created_at));
}
