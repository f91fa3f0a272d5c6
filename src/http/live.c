/* live.c: alert.updated pushed to the tenant's WebSocket clients right
 * after an API state change commits (live.h). */
#include "http/live.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_alerts.h"
#include "ws/ws.h"

void live_alert_updated(struct server *srv, const struct sw_alert *x, const char *change,
                        int64_t now)
{
    if (!srv || !x || !ws_watched(srv->ws, x->tenant_id))
        return;
    const struct sla_alert *a = &x->a;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("alert.updated"));
    json_object_set_new(o, "tenant_id", json_string(x->tenant_id));
    json_object_set_new(o, "alert_id", json_string(x->id));
    json_object_set_new(o, "state", json_string(sla_alert_state_name(a->state)));
    json_object_set_new(o, "severity", json_string(sla_sev_name(a->sev)));
    json_object_set_new(o, "escalation_level", json_integer(x->escalation_level));
    json_object_set_new(o, "acknowledged_at", json_time(a->acknowledged_at));
    json_object_set_new(o, "resolved_at", json_time(a->resolved_at));
    json_object_set_new(o, "ack_due_at", json_time(sla_clock_due(&a->ack, now)));
    json_object_set_new(o, "resolve_due_at", json_time(sla_clock_due(&a->resolve, now)));
    json_object_set_new(o, "ack_breached", json_boolean(sla_clock_breached(&a->ack, now)));
    json_object_set_new(o, "resolve_breached", json_boolean(sla_clock_breached(&a->resolve, now)));
    json_object_set_new(o, "change", json_string(change ? change : ""));
    json_object_set_new(o, "at", json_time(now));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text) {
        ws_publish(srv->ws, x->tenant_id, text, strlen(text));
        free(text);
    }
}
