/* api_integrations.c: a tenant's integrations (API.md "Ingest from other
 * tools"): how another tool's documents become its alerts or findings.
 *
 *   PUT    /api/v1/tenants/{tenant_id}/integrations/{integration_id}   {kind, mapping}
 *   GET    /api/v1/tenants/{tenant_id}/integrations[/{integration_id}]
 *   DELETE /api/v1/tenants/{tenant_id}/integrations/{integration_id}
 *
 * Kinds: "generic" (a mapping by JSON pointers, posted to
 * /ingest/generic/{integration_id}) and "alertmanager" (id alertmanager:
 * the severity map /ingest/alertmanager uses).  A mapping is compiled
 * (ingest.h) before it is stored, so what is stored always applies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "http/ingest.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_integrations.h"

#define CONFIG_MAX (64 * 1024)

static json_t *integration_json(const struct sw_integration *x)
{
    json_t *o = json_object();
    json_object_set_new(o, "tenant_id", json_string(x->tenant_id));
    json_object_set_new(o, "id", json_string(x->id));
    json_object_set_new(o, "kind", json_string(x->kind));
    json_t *m = x->config ? json_loads(x->config, 0, NULL) : NULL;
    json_object_set_new(o, "mapping", m ? m : json_object());
    char url[SW_ID_MAX + 64];
    if (!strcmp(x->kind, "alertmanager"))
        snprintf(url, sizeof(url), "/api/v1/ingest/alertmanager?tenant_id=%s", x->tenant_id);
    else
        snprintf(url, sizeof(url), "/api/v1/ingest/generic/%s", x->id);
    json_object_set_new(o, "ingest_path", json_string(url));
    json_object_set_new(o, "created_at", json_time(x->created_at));
    json_object_set_new(o, "updated_at", json_time(x->updated_at));
    json_object_set_new(o, "updated_by", json_string(x->updated_by));
    return o;
}

static const char *path_id(struct req *r)
{
    const char *id = http_param(r, "integration_id");
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "integration not found");
        return NULL;
    }
    return id;
}

void api_integration_put(struct req *r)
{
    const char *id = path_id(r), *kind;
    if (!id || v_string(r, r->json, "kind", true, SW_INTEGRATION_KIND_MAX, &kind) < 0)
        return;
    json_t *mapping = json_object_get(r->json, "mapping");
    struct ingest_err e = {.field = "", .msg = ""};
    int rc;
    if (!strcmp(kind, "generic")) {
        struct ingest_mapping *m = NULL;
        if (!mapping) {
            http_error(r, 422, "invalid", "mapping", "mapping is required");
            return;
        }
        rc = ingest_mapping_parse(mapping, &m, &e);
        ingest_mapping_free(m);
    } else if (!strcmp(kind, "alertmanager")) {
        if (strcmp(id, "alertmanager")) {
            http_error(r, 422, "invalid", "kind",
                       "an alertmanager integration's id is alertmanager (the one "
                       "/api/v1/ingest/alertmanager reads)");
            return;
        }
        struct ingest_am am;
        rc = ingest_am_parse(mapping && !json_is_null(mapping) ? mapping : NULL, &am, &e);
        ingest_am_free(&am);
    } else {
        http_error(r, 422, "invalid", "kind", "kind must be generic or alertmanager");
        return;
    }
    if (rc < 0) {
        http_error(r, 422, "invalid", e.field, "%s", e.msg);
        return;
    }
    json_t *empty = json_object();
    char *text = json_dumps(mapping && !json_is_null(mapping) ? mapping : empty,
                            JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    if (!text || strlen(text) > CONFIG_MAX) {
        http_error(r, 422, "invalid", "mapping", "mapping must be at most %d bytes of JSON",
                   CONFIG_MAX);
        free(text);
        return;
    }
    bool created = false;
    rc = store_integration_put(r->srv->store, r->tenant_id, id, kind, text, r->now,
                               r->who.actor, &created);
    free(text);
    if (rc < 0) {
        http_fail(r, rc, "integration");
        return;
    }
    struct sw_integration x;
    rc = store_integration_get(r->srv->store, r->tenant_id, id, &x);
    if (rc < 0) {
        http_fail(r, rc, "integration");
        return;
    }
    http_json(r, 200, integration_json(&x));
    sw_integration_clear(&x);
}

void api_integration_get(struct req *r)
{
    const char *id = path_id(r);
    if (!id)
        return;
    struct sw_integration x;
    int rc = store_integration_get(r->srv->store, r->tenant_id, id, &x);
    if (rc < 0) {
        http_fail(r, rc, "integration");
        return;
    }
    http_json(r, 200, integration_json(&x));
    sw_integration_clear(&x);
}

static int add_one(const struct sw_integration *x, void *ud)
{
    json_array_append_new(ud, integration_json(x));
    return 0;
}

void api_integration_list(struct req *r)
{
    json_t *items = json_array();
    int rc = store_integration_list(r->srv->store, r->tenant_id, add_one, items);
    if (rc < 0) {
        json_decref(items);
        http_fail(r, rc, "integrations");
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "items", items));
}

void api_integration_delete(struct req *r)
{
    const char *id = path_id(r);
    if (!id)
        return;
    int rc = store_integration_delete(r->srv->store, r->tenant_id, id);
    if (rc < 0)
        http_fail(r, rc, "integration");
    else
        http_no_content(r);
}
