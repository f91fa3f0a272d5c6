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

    /* alerts, definition, templates, configs (api_alerts.c, api_definition.c, api_configs.c) */

    /* tokens */
    {"POST", "/api/v1/tokens", PERM_ADMIN, TENANT_BODY_OPT, JSON, api_token_create, "create an API token (shown once)"},
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
