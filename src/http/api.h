/* api.h: every handler, one group per resource file (api_<resource>.c). */
#ifndef SW_HTTP_API_H
#define SW_HTTP_API_H

struct req;

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

/* api_findings.c, api_policy.c */

/* api_alerts.c, api_definition.c, api_configs.c */

#endif
