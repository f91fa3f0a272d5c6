/* api_history.c: policy history (issue 17): every version of a policy
 * scope with who, when, before and after, newest first (store_proof.h).
 *
 *   GET /sla/policy/global/history                         finding policy, global
 *   GET /sla/policy/companies/{t}/history                  a company's
 *   GET /sla/policy/companies/{t}/projects/{p}/history     a project's
 *   GET /sla/definition/history?tenant_id=[&project_id=]   the alert definition
 *   GET /sla/escalations/{t}/history[?severity=]           escalation chains
 *   GET /tenants/{t}/calendars/{c}/history                 a business-hours calendar
 *
 * before/after are the scope's own settings as the store snapshots them
 * (null: nothing set at that scope, it inherits; a calendar: deleted). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_proof.h"

#define HISTORY_DEFAULT 100
#define HISTORY_MAX 1000

struct collect {
    json_t *items;
    int64_t last;
    int n;
    bool with_scope;
};

static json_t *json_or_null(const char *text)
{
    if (!text)
        return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

static int add_version(const struct sw_policy_version *v, void *ud)
{
    struct collect *c = ud;
    json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:o, s:o}", "version", (json_int_t)v->version,
                          "changed_at", json_time(v->changed_at), "changed_by", v->changed_by,
                          "action", v->action, "before", json_or_null(v->before), "after",
                          json_or_null(v->after));
    if (c->with_scope)
        json_object_set_new(o, "scope", json_string(v->scope));
    json_array_append_new(c->items, o);
    c->last = v->version;
    c->n++;
    return 0;
}

static void answer(struct req *r, const char *kind, const char *tenant, const char *scope)
{
    int64_t limit = HISTORY_DEFAULT, cursor = 0;
    if (q_int(r, "limit", 1, HISTORY_MAX, &limit) < 0 ||
        q_int(r, "cursor", 1, INT64_MAX, &cursor) < 0)
        return;
    struct collect c = {json_array(), 0, 0, scope == NULL};
    int rc = store_history_list(r->srv->store, kind, tenant, scope, cursor, (int)limit,
                                add_version, &c);
    if (rc < 0) {
        json_decref(c.items);
        http_fail(r, rc, "history");
        return;
    }
    char next[24];
    snprintf(next, sizeof(next), "%lld", (long long)c.last);
    /* a cursor pages one scope's versions; the every-scope list is one page */
    bool more = scope && c.n == limit && c.last > 1;
    http_json(r, 200, json_pack("{s:s, s:o, s:o}", "kind", kind, "items", c.items, "next_cursor",
                                more ? json_string(next) : json_null()));
}

void api_policy_history(struct req *r)
{
    const char *t = http_param(r, "tenant_id");
    const char *p = http_param(r, "project_id");
    if (p) {
        struct sw_project proj;
        int rc = http_id_valid(p) ? store_project_get(r->srv->store, t, p, &proj)
                                  : SW_E_NOTFOUND;
        if (rc < 0) {
            http_fail(r, rc, "project");
            return;
        }
    }
    answer(r, SW_HISTORY_FINDING_POLICY, t ? t : "", p ? p : "");
}

void api_definition_history(struct req *r)
{
    const char *p = http_query(r, "project_id");
    if (p && *p) {
        struct sw_project proj;
        if (!http_id_valid(p)) {
            http_error(r, 422, "invalid", "project_id", "project_id is not a valid id");
            return;
        }
        int rc = store_project_get(r->srv->store, r->tenant_id, p, &proj);
        if (rc < 0) {
            http_fail(r, rc, "project");
            return;
        }
    }
    answer(r, SW_HISTORY_DEFINITION, r->tenant_id, p ? p : "");
}

void api_calendar_history(struct req *r)
{
    const char *id = http_param(r, "calendar_id");
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "calendar not found");
        return;
    }
    /* a deleted calendar keeps its history: no existence check */
    answer(r, SW_HISTORY_CALENDAR, r->tenant_id, id);
}

void api_escalation_history(struct req *r)
{
    static const char *const sevs[] = {"critical", "high", "medium", "low"};
    int sev;
    if (q_enum(r, "severity", sevs, 4, &sev) < 0)
        return;
    answer(r, SW_HISTORY_ESCALATION, r->tenant_id, sev >= 0 ? sevs[sev] : NULL);
}
