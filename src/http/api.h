/* api.h: every handler, one group per resource file (api_<resource>.c). */
#ifndef SW_HTTP_API_H
#define SW_HTTP_API_H

#include <stddef.h>

#include "ws/ws.h"

struct req;

/* api_events.c: an item's events, paged (the alerts' and findings'
 * /events handlers answer with it once the item is found). */
void api_events_page(struct req *r, const char *kind, const char *item_id);

/* api_ops.c */
void api_healthz(struct req *r);
void api_readyz(struct req *r);
void api_metrics(struct req *r);

/* api_tenants.c */
void api_tenant_create(struct req *r);
void api_tenant_list(struct req *r);
void api_tenant_get(struct req *r);
void api_project_create(struct req *r);
void api_project_list(struct req *r);

/* api_tokens.c */
void api_token_create(struct req *r);
void api_token_list(struct req *r);
void api_token_revoke(struct req *r);

/* api_users.c, api_session.c, audit.c */
void api_user_create(struct req *r);
void api_user_list(struct req *r);
void api_user_get(struct req *r);
void api_user_delete(struct req *r);
void api_contact_get(struct req *r);
void api_contact_put(struct req *r);
void api_tenant_people(struct req *r);
void api_finding_escalation_ack(struct req *r);
void api_session_create(struct req *r);
void api_session_get(struct req *r);
void api_session_delete(struct req *r);
void api_audit_list(struct req *r);
void api_audit_verify(struct req *r);
void api_audit_export(struct req *r);

/* api_statement.c */
void api_statement(struct req *r);
/* api_forecast.c */
void api_forecast(struct req *r);
/* api_history.c */
void api_policy_history(struct req *r);
void api_definition_history(struct req *r);
void api_escalation_history(struct req *r);
void api_calendar_history(struct req *r);

/* api_findings.c, api_policy.c */
void api_finding_create(struct req *r);
void api_finding_list(struct req *r);
void api_finding_get(struct req *r);
void api_finding_pause(struct req *r);
void api_finding_resume(struct req *r);
void api_finding_close(struct req *r);
void api_finding_reopen(struct req *r);
void api_finding_severity(struct req *r);
void api_finding_explain(struct req *r);
void api_finding_events(struct req *r);
void api_policy_get(struct req *r);
void api_policy_put(struct req *r);
void api_policy_delete(struct req *r);
void api_policy_recalculate(struct req *r);

/* api_alerts.c, api_definition.c, api_configs.c */
void api_alert_create(struct req *r);
void api_alert_bulk(struct req *r);
void api_alert_list(struct req *r);
void api_alert_acknowledge(struct req *r);
void api_alert_resolve(struct req *r);
void api_alert_reopen(struct req *r);
void api_alert_severity(struct req *r);
void api_alert_events(struct req *r);
void api_alert_tracking(struct req *r);
void api_definition_get(struct req *r);

/* api_calendars.c */
struct sw_calendar;
struct json_t *api_calendar_json(const struct sw_calendar *c);
void api_calendar_put(struct req *r);
void api_calendar_get(struct req *r);
void api_calendar_list(struct req *r);
void api_calendar_delete(struct req *r);
void api_calendar_due(struct req *r);
void api_calendar_elapsed(struct req *r);
void api_definition_put(struct req *r);
/* The fields a layer sets itself (others 0), in the definition's units:
 * a tenant's own edits, as apply-template keeps or reports them. */
struct sla_alert_layer;
struct sla_definition;
void definition_of_layer_own(const struct sla_alert_layer *l, struct sla_definition *out);
void api_templates_list(struct req *r);
void api_config_create(struct req *r);
void api_config_list(struct req *r);
void api_config_apply_template(struct req *r);
void api_config_get(struct req *r);
void api_config_update(struct req *r);
void api_config_delete(struct req *r);

/* api_ingest.c, api_integrations.c: documents of other tools (ingest.h) */
void api_ingest_alertmanager(struct req *r);
void api_ingest_defectdojo(struct req *r);
void api_ingest_generic(struct req *r);
void api_integration_put(struct req *r);
void api_integration_get(struct req *r);
void api_integration_list(struct req *r);
void api_integration_delete(struct req *r);

/* api_web.c: the embedded dashboard (src/web) */
void api_web_root(struct req *r);
void api_web_page(struct req *r);
void api_web_asset(struct req *r);
void api_web_vendor(struct req *r);

/* api_escalations.c: chains, manual escalation, status, history */
void api_escalation_list(struct req *r);
void api_escalation_put(struct req *r);
void api_escalate(struct req *r);
void api_escalation_status(struct req *r);
void api_escalation_events(struct req *r);

/* api_analytics.c, api_reports.c: dashboard numbers, reports, penalties
 * (from the rollups, analytics.h) */
void api_sla_current(struct req *r);
void api_sla_scorecard(struct req *r);
void api_sla_compliance(struct req *r);
void api_sla_trend_mtta(struct req *r);
void api_sla_trend_mttr(struct req *r);
void api_sla_trend_live(struct req *r);
void api_sla_breaches(struct req *r);
void api_report_daily(struct req *r);
void api_report_monthly(struct req *r);
/* api_findings_numbers.c */
void api_findings_summary(struct req *r);
void api_findings_upcoming(struct req *r);
void api_report_findings(struct req *r);
void api_report_trends(struct req *r);
void api_report_compare(struct req *r);
void api_penalties_list(struct req *r);
void api_penalties_summary(struct req *r);
void api_tenant_update(struct req *r);

/* api_ws.c: live push (WebSocket upgrade, src/ws) */
void api_ws(struct req *r);
/* The hub's auth callback (ws_auth_cb; ud = the server): the socket's token
 * or session checked again, read-only, and its right to read the tenant. */
enum ws_verdict api_ws_recheck(const char *tenant_id, const void *cred, size_t len, void *srv);

/* api_notifications.c: notification config, history, test notice */
void api_notify_configure(struct req *r);
void api_notify_config_get(struct req *r);
void api_notify_history(struct req *r);
void api_notify_test(struct req *r);

#endif
