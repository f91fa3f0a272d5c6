/* live: what the HTTP layer pushes to dashboards itself (alert.updated).
 * SLA notices (sla.warning, sla.breach, sla.escalation) come from the
 * scheduler and the escalation store, through the outbox or store->live
 * (store_escalation.h); state changes made through the API are pushed here,
 * right after their commit, to the tenant's WebSocket clients. */
#ifndef SW_HTTP_LIVE_H
#define SW_HTTP_LIVE_H

#include <stdint.h>

struct server;
struct sw_alert;

/* {"type":"alert.updated","tenant_id","alert_id","state","severity",
 * "escalation_level","acknowledged_at","resolved_at","ack_due_at",
 * "resolve_due_at","ack_breached","resolve_breached","change","at"}. */
void live_alert_updated(struct server *srv, const struct sw_alert *x, const char *change,
                        int64_t now);

#endif
