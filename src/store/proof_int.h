/* proof_int.h: the files of the proof subject (store_proof.h) and the
 * ops table that gathers them (proof.c).
 *
 *   chain.c, chain_verify.c   hash chains: appending, adopting, verify, export
 *   history.c                 policy history
 *   history_alerts.c          its snapshots of the alert scopes
 *   forecast.c                the breach forecast
 */
#ifndef SW_STORE_PROOF_INT_H
#define SW_STORE_PROOF_INT_H

#include "store/store_int.h"
#include "store/store_proof.h"

int proof_chain_verify(struct store *s, const char *tenant_id, store_chain_report_cb cb,
                       void *ud);
int proof_chain_export(struct store *s, const char *log, const char *tenant_id,
                       int64_t after_seq, int64_t limit, store_chain_line_cb cb, void *ud,
                       int64_t *last_seq);
int proof_history_list(struct store *s, const char *kind, const char *tenant_id,
                       const char *scope, int64_t before_version, int limit,
                       store_history_cb cb, void *ud);
int proof_finding_chain_at(struct store *s, const char *tenant_id, const char *project_id,
                           int64_t at, struct sw_policy_chain *out,
                           int64_t versions[3]);

int proof_forecast(struct store *s, const char *tenant_id, int64_t now, int64_t until,
                   int limit, struct sw_forecast *out);

/* history_alerts.c: a scope as JSON text (*out NULL: nothing set there). */
int history_snap_definition_in(struct db_conn *c, const char *tenant, const char *project,
                               char **out);
int history_snap_escalation_in(struct db_conn *c, const char *tenant, const char *sev_name,
                               char **out);
/* history.c: compact JSON text of o (steals o). */
struct json_t;
char *history_dump(struct json_t *o);

#endif
