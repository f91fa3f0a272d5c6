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

#endif
