/* api_finding_escalation.c: someone takes a breached finding's escalation.
 *
 *   POST /api/v1/findings/{id}/escalation/acknowledge?tenant_id=…  {by?}
 *
 * The route needs only read access: the person engaged last may take it
 * whatever their role (a team lead named as level 2 need not be an
 * analyst), and so may anyone who operates the tenant's items (analyst
 * and above).  Later contacts of the finding are then not engaged; the
 * event and the audit row say who was engaged and who took it. */
#include <stdio.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_findings.h"

static json_t *escalation_json(const struct sw_finding_escalation *e)
{
    json_t *a = json_array();
    for (size_t i = 0; i < e->n; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:s, s:o}", "level", e->engaged[i].level,
                                           "user", e->engaged[i].user, "via", e->engaged[i].via,
                                           "engaged_at", json_time(e->engaged[i].engaged_at)));
    return json_pack("{s:o, s:o, s:o}", "engaged", a, "acknowledged_at",
                     e->acked_at ? json_time(e->acked_at) : json_null(), "acknowledged_by",
                     e->acked_at ? json_string(e->acked_by) : json_null());
}

void api_finding_escalation_ack(struct req *r)
{
    const char *id = http_param(r, "id");
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "finding not found");
        return;
    }
    const char *by = NULL;
    if (r->json && v_string(r, r->json, "by", false, SW_NAME_MAX, &by) < 0)
        return;
    char actor[SW_NAME_MAX + 64];
    if (by && *by)
        snprintf(actor, sizeof(actor), "%s (%s)", by, r->who.actor);
    else
        snprintf(actor, sizeof(actor), "%s", r->who.actor);
    bool operate = auth_check(&r->who, PERM_OPERATE, r->tenant_id) == 0;
    struct sw_finding_ack out;
    int rc = store_finding_escalation_ack(r->srv->store, r->tenant_id, id, r->now, actor,
                                          r->who.user_id, operate, &out);
    if (rc == SW_E_CONFLICT) {
        http_error(r, 409, "conflict", NULL, "no escalation contact of this finding is engaged");
        return;
    }
    if (rc == SW_E_DENIED) {
        http_error(r, 403, "forbidden", NULL,
                   "only the person engaged or an analyst may take this escalation");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "finding");
        return;
    }
    json_t *o = escalation_json(&out.esc);
    json_object_set_new(o, "finding_id", json_string(id));
    json_object_set_new(o, "tenant_id", json_string(r->tenant_id));
    json_object_set_new(o, "already_acknowledged", json_boolean(out.already));
    http_json(r, 200, o);
}
