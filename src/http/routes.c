/* routes.c: THE route table.  Method, path, the permission the caller needs,
 * where the tenant comes from, body handling, handler.  Access control is
 * this data, checked once in server.c; deny by default (every route not
 * marked ROUTE_PUBLIC needs a valid token and its permission). */
#include "http/api.h"
#include "http/http.h"

#define JSON ROUTE_JSON_BODY
#define JSON_OPT (ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL)

const struct route http_routes[] = {
    /* operations */
    {"GET", "/healthz", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_healthz, "liveness"},
    {"GET", "/readyz", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_readyz, "readiness: store reachable"},
    {"GET", "/metrics", PERM_NONE, TENANT_NONE, ROUTE_PUBLIC, api_metrics, "Prometheus metrics"},

    /* tenants and projects */
    {"POST", "/api/v1/tenants", PERM_PLATFORM, TENANT_NONE, JSON, api_tenant_create, "create a tenant"},
    {"GET", "/api/v1/tenants", PERM_NONE, TENANT_NONE, 0, api_tenant_list, "tenants the caller may see"},
    {"GET", "/api/v1/tenants/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_tenant_get, "one tenant"},
    {"POST", "/api/v1/tenants/{tenant_id}/projects", PERM_CONFIGURE, TENANT_PATH, JSON, api_project_create, "create a project"},
    {"GET", "/api/v1/tenants/{tenant_id}/projects", PERM_READ, TENANT_PATH, 0, api_project_list, "a tenant's projects"},

    /* findings and SLA policy (api_findings.c, api_policy.c) */
    {"POST", "/api/v1/findings", PERM_INGEST, TENANT_BODY, JSON, api_finding_create, "track a finding (idempotent)"},
    {"GET", "/api/v1/findings", PERM_READ, TENANT_QUERY, 0, api_finding_list, "a tenant's findings, filtered, by id"},
    {"GET", "/api/v1/findings/{id}", PERM_READ, TENANT_QUERY, 0, api_finding_get, "one finding and its SLA"},
    {"POST", "/api/v1/findings/{id}/pause", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_pause, "pause a finding's SLA clock"},
    {"POST", "/api/v1/findings/{id}/resume", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_resume, "resume a paused finding"},
    {"POST", "/api/v1/findings/{id}/close", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_close, "close a finding (terminal status)"},
    {"POST", "/api/v1/findings/{id}/reopen", PERM_OPERATE, TENANT_QUERY, JSON_OPT, api_finding_reopen, "reopen a closed finding"},
    {"POST", "/api/v1/findings/{id}/severity", PERM_OPERATE, TENANT_QUERY, JSON, api_finding_severity, "change a finding's severity"},
    {"GET", "/api/v1/findings/{id}/sla/explain", PERM_READ, TENANT_QUERY, 0, api_finding_explain, "a finding's SLA waterfall, level by level"},
    {"GET", "/api/v1/findings/{id}/events", PERM_READ, TENANT_QUERY, 0, api_finding_events, "a finding's history"},
    {"GET", "/api/v1/sla/policy/global", PERM_PLATFORM, TENANT_NONE, 0, api_policy_get, "global finding SLA policy"},
    {"PUT", "/api/v1/sla/policy/global", PERM_PLATFORM, TENANT_NONE, JSON, api_policy_put, "set the global finding SLA policy"},
    {"DELETE", "/api/v1/sla/policy/global", PERM_PLATFORM, TENANT_NONE, 0, api_policy_delete, "clear the global finding SLA policy"},
    {"GET", "/api/v1/sla/policy/companies/{tenant_id}", PERM_READ, TENANT_PATH, 0, api_policy_get, "a company's finding SLA policy"},
    {"PUT", "/api/v1/sla/policy/companies/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_policy_put, "set a company's policy, recalculate"},
    {"DELETE", "/api/v1/sla/policy/companies/{tenant_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_delete, "revert a company to inherited, recalculate"},
    {"POST", "/api/v1/sla/policy/companies/{tenant_id}/recalculate", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_recalculate, "recalculate a company's open findings"},
    {"GET", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}", PERM_READ, TENANT_PATH, 0, api_policy_get, "a project's finding SLA policy"},
    {"PUT", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}", PERM_CONFIGURE, TENANT_PATH, JSON, api_policy_put, "set a project's policy, recalculate"},
    {"DELETE", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_delete, "revert a project to inherited, recalculate"},
    {"POST", "/api/v1/sla/policy/companies/{tenant_id}/projects/{project_id}/recalculate", PERM_CONFIGURE, TENANT_PATH, 0, api_policy_recalculate, "recalculate a project's open findings"},

    /* alerts, definition, templates, configs (api_alerts.c, api_definition.c, api_configs.c) */

    /* tokens */
    {"POST", "/api/v1/tokens", PERM_ADMIN, TENANT_BODY_OPT, JSON, api_token_create, "create an API token (shown once)"},
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
