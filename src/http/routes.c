/* routes.c: THE route table.  Method, path, the permission the caller needs,
 * where the tenant comes from, body handling, handler.  Access control is
 * this data, checked once in server.c; deny by default (every route not
 * marked ROUTE_PUBLIC needs a valid token and its permission). */
#include "http/api.h"
#include "http/http.h"

#define JSON ROUTE_JSON_BODY
#define JSON_OPT (ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL)

/* Most routes leave the trailing audit fields out: not audited by the server. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

const struct route http_routes[] = {
    /* operations */
    {"GET", "/healthz", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_healthz, "liveness"},
    {"GET", "/readyz", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_readyz, "readiness: store reachable"},
    {"GET", "/metrics", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_metrics, "Prometheus metrics"},

    /* the dashboard (api_web.c): the page and its files are public, its data
     * calls are authenticated like any other */
    {"GET", "/", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_web_root, "redirect to the dashboard"},
    {"GET", "/sla-dashboard", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_web_page, "the SLA dashboard page"},
    {"GET", "/sla-dashboard/{asset}", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_web_asset, "a dashboard script, style or image"},
    {"GET", "/sla-dashboard/vendor/{asset}", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_web_vendor, "a vendored front-end library file"},

    /* tenants and projects */
    {"POST", "/api/v1/tenants", PERM_PLATFORM, TENANT_NONE, JSON, api_tenant_create, "create a tenant"},
    {"GET", "/api/v1/tenants", PERM_NONE, TENANT_NONE, 0, api_tenant_list, "tenants the caller may see"},
    {"GET", "/api/v1/tenants/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_tenant_get, "one tenant"},
    {"PATCH", "/api/v1/tenants/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_tenant_update, "set a tenant's name, time zone, monthly penalty cap"},
    {"POST", "/api/v1/tenants/{tenant_id}/projects", PERM_CONFIGURE, TENANT_PATH, JSON, api_project_create, "create a project"},
    {"GET", "/api/v1/tenants/{tenant_id}/projects", PERM_READ, TENANT_PATH, 0, api_project_list, "a tenant's projects"},

    /* business-hours calendars (api_calendars.c) */
    {"GET", "/api/v1/tenants/{tenant_id}/calendars", PERM_READ, TENANT_PATH, 0, api_calendar_list, "a tenant's business-hours calendars"},
    {"PUT", "/api/v1/tenants/{tenant_id}/calendars/{calendar_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_calendar_put, "create or replace a calendar, recalculate the items on it", "calendar.put", api_calendar_get},
    {"GET", "/api/v1/tenants/{tenant_id}/calendars/{calendar_id}", PERM_READ, TENANT_PATH, 0, api_calendar_get, "one calendar"},
    {"DELETE", "/api/v1/tenants/{tenant_id}/calendars/{calendar_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_calendar_delete, "delete a calendar no policy names", "calendar.delete", api_calendar_get},
    {"GET", "/api/v1/tenants/{tenant_id}/calendars/{calendar_id}/due", PERM_READ, TENANT_PATH, 0, api_calendar_due, "the due instant of a target started at an instant"},
    {"GET", "/api/v1/tenants/{tenant_id}/calendars/{calendar_id}/elapsed", PERM_READ, TENANT_PATH, 0, api_calendar_elapsed, "business time between two instants"},
    {"GET", "/api/v1/tenants/{tenant_id}/calendars/{calendar_id}/history", PERM_READ, TENANT_PATH, 0, api_calendar_history, "every version of a calendar: who, when, before, after"},

    /* findings and SLA policy (api_findings.c, api_policy.c) */
    {"POST", "/api/v1/findings", PERM_INGEST, TENANT_BODY, JSON, api_finding_create, "track a finding (idempotent)"},
    {"GET", "/api/v1/findings", PERM_READ, TENANT_QUERY, 0, api_finding_list, "a tenant's findings, filtered, by id"},
    {"GET", "/api/v1/findings/{id}", PERM_READ, TENANT_QUERY, 0, api_finding_get, "one finding and its SLA"},
    {"POST", "/api/v1/findings/{id}/pause", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_pause, "pause a finding's SLA clock", "finding.pause", NULL},
    {"POST", "/api/v1/findings/{id}/resume", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_resume, "resume a paused finding", "finding.resume", NULL},
    {"POST", "/api/v1/findings/{id}/close", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_close, "close a finding (terminal status)", "finding.close", NULL},
    {"POST", "/api/v1/findings/{id}/reopen", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_reopen, "reopen a closed finding", "finding.reopen", NULL},
    {"POST", "/api/v1/findings/{id}/severity", PERM_OPERATE, TENANT_QUERY, JSON, api_finding_severity, "change a finding's severity", "finding.severity", NULL},
    {"GET", "/api/v1/findings/{id}/sla/explain", PERM_READ, TENANT_QUERY, 0, api_finding_explain, "a finding's SLA waterfall, level by level"},
    {"GET", "/api/v1/findings/{id}/events", PERM_READ, TENANT_QUERY, 0, api_finding_events, "a finding's history"},
    /* the engaged person (any role) or an analyst: the handler checks which */
    {"POST", "/api/v1/findings/{id}/escalation/acknowledge", PERM_READ, TENANT_QUERY, JSON_OPT, api_finding_escalation_ack, "take a finding's escalation: later contacts are not engaged", "finding.escalation_acknowledge", NULL},
    {"GET", "/api/v1/sla/policy/global", PERM_PLATFORM, TENANT_NONE, 0, api_policy_get, "global finding SLA policy"},
    {"GET", "/api/v1/sla/policy/global/history", PERM_PLATFORM, TENANT_NONE, 0, api_policy_history, "every version of the global policy: who, when, before, after"},
    {"PUT", "/api/v1/sla/policy/global", PERM_PLATFORM, TENANT_NONE, JSON, api_policy_put, "set the global finding SLA policy"},
    {"DELETE", "/api/v1/sla/policy/global", PERM_PLATFORM, TENANT_NONE, 0, api_policy_delete, "clear the global finding SLA policy"},
    {"GET", "/api/v1/sla/policy/companies/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_policy_get, "a company's finding SLA policy"},
    {"GET", "/api/v1/sla/policy/companies/{tenant_id}/history", PERM_READ, TENANT_PATH, 0, api_policy_history, "every version of a company's policy"},
    {"PUT", "/api/v1/sla/policy/companies/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_policy_put, "set a company's policy, recalculate"},
    {"DELETE", "/api/v1/sla/policy/companies/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_delete, "revert a company to inherited, recalculate"},
    {"POST", "/api/v1/sla/policy/companies/{tenant_id}/recalculate", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_recalculate, "recalculate a company's open findings"},
    {"GET", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}", PERM_READ, TENANT_PATH, 0, api_policy_get, "a project's finding SLA policy"},
    {"GET", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}/history", PERM_READ, TENANT_PATH, 0, api_policy_history, "every version of a project's policy"},
    {"PUT", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_policy_put, "set a project's policy, recalculate"},
    {"DELETE", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_delete, "revert a project to inherited, recalculate"},
    {"POST", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}/recalculate", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_recalculate, "recalculate a project's open findings"},

    /* other tools' documents (api_ingest.c, api_integrations.c): bodies as large as bulk
     * imports, on the bulk workers; the generic route's tenant is ?tenant_id= or the
     * caller's only tenant, checked by the handler with auth_check */
    {"POST", "/api/v1/ingest/alertmanager", PERM_INGEST, TENANT_QUERY, ROUTE_BULK_BODY, api_ingest_alertmanager, "Prometheus Alertmanager webhook (version 4)"},
    {"POST", "/api/v1/ingest/defectdojo", PERM_INGEST, TENANT_QUERY, ROUTE_BULK_BODY, api_ingest_defectdojo, "DefectDojo API v2 findings: one, or a page"},
    {"POST", "/api/v1/ingest/generic/{integration_id}", PERM_INGEST, TENANT_NONE, ROUTE_BULK_BODY, api_ingest_generic, "JSON documents mapped by an integration"},
    {"GET", "/api/v1/tenants/{tenant_id}/integrations", PERM_READ, TENANT_PATH, 0, api_integration_list, "a tenant's integrations"},
    {"GET", "/api/v1/tenants/{tenant_id}/integrations/{integration_id}", PERM_READ, TENANT_PATH, 0, api_integration_get, "one integration and its mapping"},
    {"PUT", "/api/v1/tenants/{tenant_id}/integrations/{integration_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_integration_put, "create or replace an integration", "integration.update", api_integration_get},
    {"DELETE", "/api/v1/tenants/{tenant_id}/integrations/{integration_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_integration_delete, "delete an integration", "integration.delete", api_integration_get},

    /* alerts, definition, templates, configs (api_alerts.c, api_definition.c, api_configs.c) */
    {"POST", "/api/v1/alerts", PERM_INGEST, TENANT_BODY, JSON, api_alert_create, "track an alert (idempotent)"},
    /* each NDJSON line names its tenant: the handler checks each with auth_check */
    {"POST", "/api/v1/alerts/bulk", PERM_INGEST, TENANT_NONE, ROUTE_BULK_BODY, api_alert_bulk, "track alerts from NDJSON"},
    {"GET", "/api/v1/alerts", PERM_READ, TENANT_QUERY, 0, api_alert_list, "a tenant's alerts, filtered, by id"},
    {"POST", "/api/v1/alerts/{id}/acknowledge", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_alert_acknowledge, "acknowledge an alert", "alert.acknowledge", NULL},
    {"POST", "/api/v1/alerts/{id}/resolve", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_alert_resolve, "resolve an alert", "alert.resolve", NULL},
    {"POST", "/api/v1/alerts/{id}/reopen", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_alert_reopen, "reopen a resolved alert", "alert.reopen", NULL},
    {"POST", "/api/v1/alerts/{id}/severity", PERM_OPERATE, TENANT_QUERY, JSON, api_alert_severity, "change an alert's severity", "alert.severity", NULL},
    {"GET", "/api/v1/alerts/{id}/events", PERM_READ, TENANT_QUERY, 0, api_alert_events, "an alert's history"},
    {"GET", "/api/v1/sla/alerts/{alert_id}/tracking", PERM_READ, TENANT_QUERY, 0, api_alert_tracking, "an alert's SLA tracking record"},
    {"GET", "/api/v1/sla/definition", PERM_READ, TENANT_QUERY, 0, api_definition_get, "a tenant's effective SLA definition"},
    {"GET", "/api/v1/sla/definition/history", PERM_READ, TENANT_QUERY, 0, api_definition_history, "every version of a tenant's (or project's) definition and template"},
    {"PUT", "/api/v1/sla/definition", PERM_CONFIGURE, TENANT_QUERY, JSON, api_definition_put, "set SLA definition fields, recalculate", "sla_definition.update", api_definition_get},
    {"GET", "/api/v1/sla/templates", PERM_NONE, TENANT_NONE, 0, api_templates_list, "the four SLA templates"},
    {"POST", "/api/v1/sla/configs/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_config_create, "create an SLA config", "sla_config.create", NULL},
    {"GET", "/api/v1/sla/configs/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_config_list, "a tenant's SLA configs"},
    {"POST", "/api/v1/sla/configs/{tenant_id}/apply-template", PERM_CONFIGURE, TENANT_PATH, JSON, api_config_apply_template, "apply a template (new active config)", "sla_config.apply_template", api_definition_get},
    {"GET", "/api/v1/sla/configs/{tenant_id}/{config_id}", PERM_READ, TENANT_PATH, 0, api_config_get, "one SLA config"},
    {"PUT", "/api/v1/sla/configs/{tenant_id}/{config_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_config_update, "update an SLA config (partial)", "sla_config.update", api_config_get},
    {"DELETE", "/api/v1/sla/configs/{tenant_id}/{config_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_config_delete, "delete an SLA config", "sla_config.delete", api_config_get},

    /* users, sessions, audit (api_users.c, api_session.c, audit.c); a user's
     * roles may span tenants: the handlers check admin in each (auth_check) */
    {"POST", "/api/v1/users", PERM_ADMIN, TENANT_NONE, JSON, api_user_create, "create a user with roles"},
    {"GET", "/api/v1/users", PERM_ADMIN, TENANT_QUERY_OPT, 0, api_user_list, "users of a tenant (all: platform_admin)"},
    {"GET", "/api/v1/users/{user_id}", PERM_ADMIN, TENANT_NONE, 0, api_user_get, "one user (404 unless admin of one of its tenants)"},
    {"DELETE", "/api/v1/users/{user_id}", PERM_ADMIN, TENANT_NONE, 0, api_user_delete, "delete a user (admin of all its tenants)"},
    /* contact points (api_people.c): the user themselves or an admin of one
     * of their tenants (read: also whoever configures one of them) */
    {"GET", "/api/v1/users/{user_id}/contact", PERM_NONE, TENANT_NONE, 0, api_contact_get, "a user's contact points (self, or admin/configure of one of its tenants)"},
    {"PUT", "/api/v1/users/{user_id}/contact", PERM_NONE, TENANT_NONE, JSON, api_contact_put, "set a user's contact points (self, or admin of one of its tenants)"},
    {"GET", "/api/v1/tenants/{tenant_id}/people", PERM_CONFIGURE, TENANT_PATH, 0, api_tenant_people, "the tenant's users and their contact points (escalation set-up)"},
    {"POST", "/api/v1/session", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC | JSON, api_session_create, "log in: session cookie + CSRF token"},
    {"GET", "/api/v1/session", PERM_NONE, TENANT_NONE, 0, api_session_get, "who the caller is, with its roles"},
    {"DELETE", "/api/v1/session", PERM_NONE, TENANT_NONE, 0, api_session_delete, "log out"},
    {"GET", "/api/v1/audit", PERM_AUDIT, TENANT_QUERY_OPT, 0, api_audit_list, "the audit log, newest first (all: platform_admin)"},
    {"GET", "/api/v1/audit/verify", PERM_AUDIT, TENANT_QUERY, 0, api_audit_verify, "verify the tenant's hash chains (audit log, item events)"},
    {"GET", "/api/v1/audit/export", PERM_AUDIT, TENANT_QUERY, 0, api_audit_export, "one hash chain of the tenant as JSON lines, checkable offline"},

    /* escalation (api_escalations.c; automatic steps: src/sched) */
    {"GET", "/api/v1/sla/escalations/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_escalation_list, "a tenant's escalation chains, by severity"},
    {"GET", "/api/v1/sla/escalations/{tenant_id}/history", PERM_READ, TENANT_PATH, 0, api_escalation_history, "every version of a tenant's escalation chains"},
    {"POST", "/api/v1/sla/escalations/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_escalation_put, "replace one severity's escalation chain", "escalation_chain.update", api_escalation_list},
    {"POST", "/api/v1/sla/escalate/{alert_id}", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_escalate, "escalate an alert one step by hand", "alert.escalate", NULL},
    {"GET", "/api/v1/sla/escalation-status/{alert_id}", PERM_READ, TENANT_QUERY, 0, api_escalation_status, "where an alert stands on its chain"},
    {"GET", "/api/v1/sla/escalation-events/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_escalation_events, "escalation history, newest first"},

    /* analytics and reports (api_analytics.c, api_reports.c): from the rollups */
    {"GET", "/api/v1/sla/current", PERM_READ, TENANT_QUERY, 0, api_sla_current, "live numbers: open, breaches, warnings, compliance, health"},
    {"GET", "/api/v1/sla/scorecard", PERM_READ, TENANT_QUERY, 0, api_sla_scorecard, "per severity: compliance, MTTA/MTTR avg p50 p90 vs target, grade"},
    {"GET", "/api/v1/sla/compliance", PERM_READ, TENANT_QUERY, 0, api_sla_compliance, "compliance over a date range"},
    {"GET", "/api/v1/sla/trends/mtta", PERM_READ, TENANT_QUERY, 0, api_sla_trend_mtta, "daily MTTA, 1-365 days, zero-filled"},
    {"GET", "/api/v1/sla/trends/mttr", PERM_READ, TENANT_QUERY, 0, api_sla_trend_mttr, "daily MTTR, 1-365 days, zero-filled"},
    {"GET", "/api/v1/sla/trends/live", PERM_READ, TENANT_QUERY, 0, api_sla_trend_live, "5-minute live gauges (open, breaches, warnings)"},
    {"GET", "/api/v1/sla/breaches", PERM_READ, TENANT_QUERY, 0, api_sla_breaches, "open alerts' breached and warning clocks"},
    {"GET", "/api/v1/sla/forecast", PERM_READ, TENANT_QUERY, 0, api_forecast, "what will breach in the next N hours: alerts and findings, by severity, items due soonest first"},
    {"GET", "/api/v1/sla/findings/summary", PERM_READ, TENANT_QUERY, 0, api_findings_summary, "findings per severity: open, paused, overdue, due in 7 days, closed and breach rate and MTTR over 30 days"},
    {"GET", "/api/v1/sla/findings/upcoming", PERM_READ, TENANT_QUERY, 0, api_findings_upcoming, "running findings due within the next hours, soonest first"},
    {"GET", "/api/v1/sla/reports/{tenant_id}/daily", PERM_READ, TENANT_PATH, 0, api_report_daily, "a day's report (JSON or CSV)"},
    {"GET", "/api/v1/sla/reports/{tenant_id}/monthly", PERM_READ, TENANT_PATH, 0, api_report_monthly, "a month's report (JSON or CSV)"},
    {"GET", "/api/v1/sla/reports/{tenant_id}/trends", PERM_READ, TENANT_PATH, 0, api_report_trends, "daily mtta, mttr, compliance, alert volume or auto-resolve rate"},
    {"GET", "/api/v1/sla/reports/{tenant_id}/findings", PERM_READ, TENANT_PATH, 0, api_report_findings, "a month's findings report: closed, breach rate, MTTR (JSON or CSV)"},
    {"POST", "/api/v1/sla/reports/{tenant_id}/compare", PERM_READ, TENANT_PATH, JSON, api_report_compare, "two periods, deltas and percent change"},
    {"GET", "/api/v1/sla/penalties/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_penalties_list, "a month's breached resolutions with their amounts"},
    {"GET", "/api/v1/sla/penalties/{tenant_id}/summary", PERM_READ, TENANT_PATH, 0, api_penalties_summary, "a month's penalties: totals, by severity, cap"},
    {"GET", "/api/v1/sla/statements/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_statement, "a month's service-credit statement (PDF)"},

    /* live push (api_ws.c, src/ws) */
    {"GET", "/api/v1/sla/ws", PERM_READ, TENANT_QUERY, 0, api_ws, "live events over WebSocket (upgrade)"},

    /* notifications (api_notifications.c, src/notify) */
    {"GET", "/api/v1/sla/notifications/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_notify_history, "a tenant's notification history, attempts included"},
    {"POST", "/api/v1/sla/notifications/{tenant_id}/configure", PERM_CONFIGURE, TENANT_PATH, JSON, api_notify_configure, "set channels, recipients, thresholds, webhook secret", "notification_config.update", api_notify_config_get},
    {"GET", "/api/v1/sla/notifications/{tenant_id}/config", PERM_READ, TENANT_PATH, 0, api_notify_config_get, "a tenant's notification config (never the secret)"},
    {"POST", "/api/v1/sla/notifications/{tenant_id}/test", PERM_CONFIGURE, TENANT_PATH, JSON_OPT, api_notify_test, "send a test notice through every configured channel"},

    /* tokens */
    {"POST", "/api/v1/tokens", PERM_ADMIN, TENANT_BODY_OPT, JSON, api_token_create, "create an API token (shown once)"},
    {"GET", "/api/v1/tokens", PERM_ADMIN, TENANT_QUERY_OPT, 0, api_token_list, "tokens of a tenant, never their secret (all: platform_admin)"},
    {"DELETE", "/api/v1/tokens/{token_id}", PERM_ADMIN, TENANT_NONE, 0, api_token_revoke, "revoke a token (its next use answers 401)"},
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
