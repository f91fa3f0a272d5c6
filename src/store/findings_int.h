/* findings_int.h: what the three finding files share.
 *
 *   findings.c         rows (the derived-deadline join), the tenant's
 *                      warning thresholds, create/get/update/list;
 *   findings_policy.c  the policy levels, the groups' resolved targets and
 *                      recalculation;
 *   findings_due.c     the scheduler's source (next_due, process_due);
 *   finding_rollups.c  findings in numbers: closed rollups, live counters.
 *
 * Every function here runs inside the caller's transaction (c). */
#ifndef SW_STORE_FINDINGS_INT_H
#define SW_STORE_FINDINGS_INT_H

#include <jansson.h>

#include "store/store_findings.h"
#include "store/store_int.h"

/* A group's (tenant, project) resolved targets, by severity. */
struct group_targets {
    struct sla_finding_target t[SLA_SEV_COUNT];
    bool have[SLA_SEV_COUNT];
    /* the calendar each severity counts on ("" = around the clock) and the
     * level that chose it ("project", "company", "global", "builtin") */
    char cal[SLA_SEV_COUNT][SW_ID_MAX + 1];
    char cal_src[SLA_SEV_COUNT][16];
};

/* ---- findings.c --------------------------------------------------------- */

/* Runs fn in a read transaction (one snapshot) on a pooled connection,
 * once: never retried, so callbacks inside fn run once per row. */
int findings_read(struct sql_store *s, db_tx_fn fn, void *ud);

/* The tenant's notification thresholds (notification_config.thresholds,
 * parsed here), or {80} when it has no configuration. */
int findings_thresholds_in(struct db_conn *c, const char *tenant_id, struct thresholds *out);

/* One finding with its group's target; lock = {FOR_UPDATE} on the finding
 * row (to rewrite it).  *stage (optional) = the stored stage.  0 or
 * SW_E_NOTFOUND or SW_E_*. */
int findings_row_in(struct db_conn *c, const char *tenant_id, const char *id, bool lock,
                    const struct thresholds *th, struct sw_finding *out, int *stage);

/* 0 when the scope exists (tenant "" is the global level), else
 * SW_E_NOTFOUND or SW_E_*. */
int findings_scope_exists_in(struct db_conn *c, const char *tenant_id,
                             const char *project_id);

/* A source name ("project", "company", ...) back to the core's enum. */
int findings_src_parse(const char *name, enum sla_src *out);

/* Creates in (the history rule applied at now) unless (tenant, id) is
 * there: *created, and r = the row either way.  SW_E_NOTFOUND: no such
 * tenant or project; SW_E_INVAL: closed before discovery (nothing
 * written: the transaction is still usable). */
int findings_create_in(struct db_conn *c, const struct sw_finding_new *in, int64_t now,
                       const char *actor, const struct thresholds *th, struct sw_finding *r,
                       bool *created);

/* Writes a changed finding back (r as changed by the core; was: its alarm
 * before; *stage: the stored stage, updated): its group's target, fired
 * progress, next instant and the scheduler's hint. */
int findings_save_in(struct db_conn *c, struct sw_finding *r, const struct sla_alarm *was,
                     int *stage, const struct thresholds *th, const struct group_targets *g,
                     int64_t now);

/* A finding event (item_kind "finding"); data borrowed. */
void findings_event_init(struct sw_event *e, const char *tenant_id, const char *item_id,
                         const char *type, const char *actor, int64_t at, const char *data);

/* ---- findings_policy.c ------------------------------------------------------ */

/* The levels that apply to (tenant, project): project, company, global.
 * lock: the tenant's own levels are read {FOR_UPDATE} (recalculation). */
int findings_chain_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                      bool lock, struct sw_policy_chain *out);

/* The group's targets; a group seen for the first time (or missing a
 * severity) is resolved through the waterfall as it stands now. */
int findings_group_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                      int64_t now, struct group_targets *g);

/* Scopes under which the core resolves exactly the group's targets. */
void findings_group_scopes(const struct group_targets *g, struct sla_finding_layer layers[3],
                           struct sla_finding_scopes *out);

/* A live finding follows its group's target (re-armed by the rule when it
 * moved); a terminal one keeps what it was judged against. */
void findings_follow_group(struct sw_finding *r, const struct group_targets *g, int64_t now);

/* ---- findings_calendar.c -------------------------------------------------------- */

/* Puts r's clock on its calendar r->cal as this transaction sees it: the
 * stored clock base B (r->f.clock.paused_ms = B - created as read) becomes
 * the business time from discovery to B.  A calendar deleted since: around
 * the clock. */
int findings_attach_in(struct db_conn *c, struct cal_memo *memo, struct sw_finding *r);
/* Records a closed pause [from, to) of r's clock (clock_pauses). */
int findings_pause_add_in(struct db_conn *c, const struct sw_finding *r, int64_t from,
                          int64_t to);
/* The clock base to store: the instant from which r's active time counts. */
int64_t findings_clock_base(const struct sw_finding *r);
/* A live finding moves onto its group's calendar for its severity, its
 * clock base kept (re-armed by the rule when its deadline moved). */
int findings_follow_calendar_in(struct db_conn *c, struct cal_memo *memo, struct sw_finding *r,
                                const struct group_targets *g, int64_t now);
/* The calendar the levels name for sev: *id ("" = around the clock) and
 * the level that chose it. */
void findings_chain_calendar(const struct sw_policy_chain *ch, enum sla_sev sev,
                             char id[SW_ID_MAX + 1], const char **src);
/* Re-arms the fired live findings of (group, sev) whose deadline moved
 * from (old_cal, old_target) to (new_cal, new_target) into the future
 * (cal NULL: around the clock); *count (optional) grows by the group's
 * live findings of sev. */
int findings_rearm_calendar_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                               enum sla_sev sev, const struct sla_cal *old_cal, sla_ms old_target,
                               const struct sla_cal *new_cal, sla_ms new_target, int64_t now,
                               int64_t *count);
/* A dry run's tally (store_proof.h) of moving a group from (old_cal,
 * old_target) to (new_cal, new_target), either calendar NULL for around
 * the clock: per live finding, its deadline earlier or later, newly past,
 * fired and re-armed (the re-arm rule); *count grows by those whose
 * deadline moves.  A finding with a pause history is judged on its
 * current clock base. */
int findings_dry_calendar_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                             enum sla_sev sev, const struct sla_cal *old_cal, sla_ms old_target,
                             const struct sla_cal *new_cal, sla_ms new_target, int64_t now,
                             struct sw_dry_run *dry, int64_t *count);

/* The escalation contacts a group inherits (project → company → global),
 * pointing into ch and lv; NULL when no level has any. */
const struct sla_contacts *findings_chain_contacts(const struct sw_policy_chain *ch,
                                                   struct sla_contacts lv[3]);

/* Stored contacts mask (bit level - 1) as the core's positional mask over
 * the list. */
uint32_t findings_contacts_pos(const struct sla_contacts *cs, uint32_t levels);

/* The ops themselves (sql_finding_ops is in findings.c). */
int findings_policy_chain(struct store *s, const char *tenant_id, const char *project_id,
                          struct sw_policy_chain *out);
int findings_policy_dry_run(struct store *s, const struct sw_finding_policy *p,
                            int64_t now, struct sw_dry_run *out);
int findings_policy_put(struct store *s, const struct sw_finding_policy *p, int64_t now,
                        const char *actor, int64_t *recalculated);
int findings_policy_delete(struct store *s, const char *tenant_id, const char *project_id,
                           int64_t now, const char *actor, int64_t *recalculated);
int findings_recalculate(struct store *s, const char *tenant_id, const char *project_id,
                         int64_t now, const char *actor, int64_t *updated);

/* ---- findings_contacts.c ------------------------------------------------------- */

/* contacts_fired: bits 0..2 = levels 1..3 engaged; this bit = someone took
 * the escalation (POST …/escalation/acknowledge): no later level fires. */
#define FINDING_ESC_ACKED (UINT32_C(1) << 3)

/* Engages one escalation contact of a breached finding: whom and how
 * (people.c), its sla.escalation event and notices, and its
 * finding_escalations row, inside the scheduler's transaction. */
int findings_contact_fire_in(struct db_conn *c, const struct sw_finding *r,
                             const struct sla_contact *ct, int64_t now);
int findings_escalation_ack(struct store *s, const char *tenant_id, const char *id,
                            int64_t now, const char *actor, const char *by_user,
                            bool may_operate, struct sw_finding_ack *out);
int findings_escalation_get(struct store *s, const char *tenant_id, const char *id,
                            struct sw_finding_escalation *out);

/* ---- findings_due.c ------------------------------------------------------------ */

struct sw_notice;
/* Appends one scheduler event of r (data: stolen) and its notices (n: the
 * notice's particulars; the finding's are filled in). */
int findings_fire_in(struct db_conn *c, const struct sw_finding *r, const char *type,
                     json_t *data, struct sw_notice *n, int64_t now);

int findings_next_due(struct store *s, int64_t now, int64_t *at);
int findings_process_due(struct store *s, int64_t now, int limit, int *processed);

/* ---- findings_sync.c --------------------------------------------------------------- */

int findings_sync_many(struct store *s, const struct sw_finding_sync *in, size_t n, int64_t now,
                       const char *actor, enum sw_finding_result *results);
/* ---- finding_rollups.c ------------------------------------------------------------ */

int findings_live_numbers(struct store *s, const char *tenant_id, const char *project_id,
                          int64_t now, int64_t soon_ms, store_finding_numbers_cb cb, void *ud);
int findings_upcoming(struct store *s, const char *tenant_id, const char *project_id,
                      int64_t now, int64_t until, int limit, store_finding_due_cb cb, void *ud);

#endif
