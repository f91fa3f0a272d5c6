/* api_tenants.c: tenants (the MSSP's customers) and their projects. */
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/audit.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_analytics.h"
#include "util/tz.h"

static json_t *tenant_with_settings(struct req *r, const struct sw_tenant *t);

static int add_tenant(const struct sw_tenant *t, void *ud)
{
    json_array_append_new(ud, json_tenant(t));
    return 0;
}

static int add_project(const struct sw_project *p, void *ud)
{
    json_array_append_new(ud, json_project(p));
    return 0;
}

void api_tenant_create(struct req *r)
{
    const char *id, *name, *tmpl, *zone;
    if (v_id(r, r->json, "id", true, &id) < 0 ||
        v_string(r, r->json, "name", true, SW_NAME_MAX, &name) < 0 ||
        v_string(r, r->json, "template", false, 32, &tmpl) < 0 ||
        v_string(r, r->json, "timezone", false, SW_TZ_MAX, &zone) < 0)
        return;
    if (zone && !tz_valid(zone)) {
        http_error(r, 422, "invalid", "timezone",
                   "timezone must be an IANA time zone like Europe/Paris or UTC");
        return;
    }
    const struct sla_template *tp;
    if (tmpl && *tmpl && sla_template_find(tmpl, &tp) < 0) {
        http_error(r, 422, "invalid", "template",
                   "template must be one of standard, premium, enterprise, government");
        return;
    }
    struct sw_tenant t;
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "%s", name);
    snprintf(t.template_name, sizeof(t.template_name), "%s", tmpl ? tmpl : "");
    snprintf(t.timezone, sizeof(t.timezone), "%s", zone ? zone : "UTC");
    t.created_at = r->now;
    json_t *out = json_tenant(&t);
    char target[SW_ID_MAX + 8];
    snprintf(target, sizeof(target), "tenant:%s", t.id);
    struct audit_entry ae;      /* committed with the tenant */
    audit_entry_init(&ae, r, t.id, "tenant.create", target, NULL, out);
    int rc = store_tenant_create(r->srv->store, &t, &ae.a);
    audit_entry_release(&ae);
    if (rc < 0) {
        json_decref(out);
        http_fail(r, rc, "tenant");
        return;
    }
    http_json(r, 201, out);
}

void api_tenant_list(struct req *r)
{
    json_t *items = json_array();
    int rc;
    if (auth_sees_all(&r->who)) {
        rc = store_tenant_list(r->srv->store, NULL, 0, add_tenant, items);
    } else {
        const char *ids[AUTH_MAX_GRANTS];
        size_t n = 0;
        for (size_t i = 0; i < r->who.ngrants; i++) {
            const char *t = r->who.grants[i].tenant_id;
            bool dup = false;
            for (size_t k = 0; k < n; k++)
                dup |= !strcmp(ids[k], t);
            if (*t && !dup)
                ids[n++] = t;
        }
        rc = store_tenant_list(r->srv->store, ids, n, add_tenant, items);
    }
    if (rc < 0) {
        json_decref(items);
        http_fail(r, rc, "tenants");
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "items", items));
}

void api_tenant_get(struct req *r)
{
    struct sw_tenant t;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &t);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        return;
    }
    json_t *out = tenant_with_settings(r, &t);
    json_t *projects = json_array();
    rc = store_project_list(r->srv->store, t.id, add_project, projects);
    json_object_set_new(out, "projects", projects);
    if (rc < 0) {
        json_decref(out);
        http_fail(r, rc, "projects");
        return;
    }
    http_json(r, 200, out);
}

void api_project_create(struct req *r)
{
    const char *id, *name;
    if (v_id(r, r->json, "id", true, &id) < 0 ||
        v_string(r, r->json, "name", true, SW_NAME_MAX, &name) < 0)
        return;
    struct sw_project p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", r->tenant_id);
    snprintf(p.id, sizeof(p.id), "%s", id);
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.created_at = r->now;
    json_t *out = json_project(&p);
    char target[2 * SW_ID_MAX + 16];
    snprintf(target, sizeof(target), "project:%s", p.id);
    struct audit_entry ae;      /* committed with the project */
    audit_entry_init(&ae, r, p.tenant_id, "project.create", target, NULL, out);
    int rc = store_project_create(r->srv->store, &p, &ae.a);
    audit_entry_release(&ae);
    if (rc < 0)
        json_decref(out);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "tenant not found");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "project");
        return;
    }
    http_json(r, 201, out);
}

void api_project_list(struct req *r)
{
    struct sw_tenant t;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &t);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        return;
    }
    json_t *items = json_array();
    rc = store_project_list(r->srv->store, r->tenant_id, add_project, items);
    if (rc < 0) {
        json_decref(items);
        http_fail(r, rc, "projects");
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "items", items));
}

/* JSON of a tenant with its analytics settings (time zone, monthly cap). */
static json_t *tenant_with_settings(struct req *r, const struct sw_tenant *t)
{
    json_t *out = json_tenant(t);
    struct sw_tenant_settings set;
    if (store_tenant_settings(r->srv->store, t->id, &set) == 0)
        json_object_set_new(out, "monthly_penalty_cap",
                            set.has_cap ? json_integer(set.monthly_penalty_cap) : json_null());
    return out;
}

/* PATCH {name?, timezone?, monthly_penalty_cap? (cents, null = none)}: a new
 * time zone rebuilds the tenant's rollups in the same transaction. */
void api_tenant_update(struct req *r)
{
    const char *name, *zone;
    int64_t cap = 0;
    bool has_cap = false;
    if (v_string(r, r->json, "name", false, SW_NAME_MAX, &name) < 0 ||
        v_string(r, r->json, "timezone", false, SW_TZ_MAX, &zone) < 0 ||
        v_int(r, r->json, "monthly_penalty_cap", false, 0, INT64_C(1) << 50, &cap, &has_cap) < 0)
        return;
    if (name && !*name) {
        http_error(r, 422, "invalid", "name", "name must not be empty");
        return;
    }
    if (zone && !tz_valid(zone)) {
        http_error(r, 422, "invalid", "timezone",
                   "timezone must be an IANA time zone like Europe/Paris or UTC");
        return;
    }
    struct sw_tenant before, after;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &before);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        return;
    }
    json_t *jb = tenant_with_settings(r, &before);
    struct sw_tenant_patch p = {
        .name = name, .timezone = zone,
        .cap_action = has_cap ? 1 : json_object_get(r->json, "monthly_penalty_cap") ? 0 : -1,
        .cap = cap,
    };
    rc = store_tenant_update(r->srv->store, r->tenant_id, &p, &after);
    if (rc < 0) {
        json_decref(jb);
        http_fail(r, rc, "tenant");
        return;
    }
    json_t *out = tenant_with_settings(r, &after);
    char target[SW_ID_MAX + 8];
    snprintf(target, sizeof(target), "tenant:%s", after.id);
    audit_record(r, after.id, "tenant.update", target, jb, out);   /* after the commit */
    json_decref(jb);
    http_json(r, 200, out);
}
