/* alerts_int.h: what the alert files share, so each row, policy and chain
 * is read and written one way only.
 *
 *   alerts.c          the alerts row, get/change/list, events, ops table
 *   alert_writer.c    creates: group commit of single creates, bulk
 *   alerts_policy.c   policy layers, definition_merge, recalculation
 *   alert_configs.c   named SLA configs
 *   alerts_due.c      the scheduler's alert source (next_due, process_due)
 *   escalation.c      chains, manual steps, status, history, sync
 *
 * Every function here runs inside the caller's transaction. */
#ifndef SW_STORE_ALERTS_INT_H
#define SW_STORE_ALERTS_INT_H

#include "store/store_alerts.h"
#include "store/store_escalation.h"
#include "store/store_int.h"

struct sw_notice;

/* ---- alerts.c ------------------------------------------------------------ */

/* Puts x's clocks on their calendars (x->ack_cal, x->res_cal) as this
 * transaction sees them. */
int alert_attach_in(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x);
/* Moves x's running clocks onto p's calendar for x's severity (their
 * pauses re-measured from clock_pauses), re-arming alarms whose deadline
 * moved into the future.  *moved (optional): something moved. */
int alert_follow_calendar_in(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x,
                             const struct sw_alert_policy *p, int64_t now, bool *moved);
/* Puts a new alert's clocks on p's calendar for its severity (a calendar
 * deleted meanwhile: around the clock). */
int alert_calendar_start_in(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x,
                            const struct sw_alert_policy *p);
/* Records the pauses a change closed (a reopen continues stopped clocks:
 * the resolved interval is a pause) from before to after. */
int alert_pauses_record_in(struct db_conn *c, const struct sw_alert *before,
                           const struct sw_alert *after);
/* Inserts x unless (tenant_id, id) exists: 1 inserted, 0 already there. */
int alert_insert_in(struct db_conn *c, const struct sw_alert *x);
/* The same for n rows in key order, in statements of up to ALERT_INSERT_MAX
 * rows: created[i] says whether x[i] was inserted (false: its key existed,
 * or an earlier x[j] had it).  0 or SW_E_*. */
#define ALERT_INSERT_MAX 128
int alert_insert_many_in(struct db_conn *c, struct sw_alert *const *x, size_t n, bool *created);
/* *e = the event `type` of alert x (strings copied; data borrowed). */
void alert_event_fill(struct sw_event *e, const struct sw_alert *x, const char *type,
                      const char *actor, int64_t at, const char *data);
/* {"severity":…,"ack_due_at":…,"resolve_due_at":…<extra>} into buf. */
void alert_due_json(const struct sw_alert *x, const char *extra, char *buf, size_t len);
/* An alert severity from its stored name (dflt for "" or garbage). */
enum sla_sev alert_sev_of(const char *name, enum sla_sev dflt);
/* After a lifecycle change of x (before: the row as read, locked): saves
 * x with its next instant, its rollups and its next escalation instant;
 * *hint_at = the earliest of them (for store_hint_in).  The caller writes
 * the change's event. */
int alert_save_change_in(struct db_conn *c, const struct sw_alert *before, struct sw_alert *x,
                         int64_t now, int64_t *hint_at);

/* ---- alert_writer.c ---------------------------------------------------------- */

int alert_create(struct store *s, const struct sw_alert_new *in, int64_t now, const char *actor,
                 struct sw_alert *out, enum sw_alert_result *result);
int alert_create_async(struct store *s, const struct sw_alert_new *in, int64_t now,
                       const char *actor, struct sw_alert *out,
                       void (*cb)(void *ud, int rc, enum sw_alert_result res), void *ud);
int alert_create_many(struct store *s, const struct sw_alert_new *in, size_t n, int64_t now,
                      const char *actor, enum sw_alert_result *results);

/* ---- alerts_policy.c ----------------------------------------------------------- */

/* How the tenant row is read with its policy. */
enum alert_lock {
    ALERT_LOCK_NONE,
    ALERT_LOCK_SHARE,       /* {FOR_SHARE}: creates, that the policy not change till COMMIT */
    ALERT_LOCK_UPDATE,      /* {FOR_UPDATE}: policy writers, one at a time per tenant */
};



/* What the waterfall reads for (tenant, project): 0, SW_ALERT_NO_TENANT or
 * SW_ALERT_NO_PROJECT (positive), or SW_E_*. */
int alert_policy_load_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                         enum alert_lock lock, struct sw_alert_policy *p);
/* Locks the tenant row (SHARE or UPDATE): 0, SW_E_NOTFOUND, or SW_E_*.
 * Lock order: the tenant row before its alerts' rows, in every write. */
int alert_tenant_lock_in(struct db_conn *c, const char *tenant_id, enum alert_lock lock);
/* Replaces a scope's layer (project_id "" = the tenant's); an all-unset
 * layer leaves no rows. */
int alert_layer_write_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                         const struct sla_alert_layer *l, int64_t now);
/* Recalculates every open alert of the tenant against its current policy
 * (set-based); *count = alerts changed, each with a "recalculated" event. */
int alert_recalc_tenant_in(struct db_conn *c, const char *tenant_id, int64_t now,
                           const char *actor, int64_t *count);
/* SW_E_INVAL when a field of d is set (!= 0) and out of its range. */
int alert_definition_valid(const struct sla_definition *d);

/* Fills p->cal from p->cal_project and p->cal_tenant. */
void alert_policy_calendars(struct sw_alert_policy *p);
int alert_policy_get(struct store *s, const char *tenant_id, const char *project_id,
                     struct sw_alert_policy *out);
int alert_definition_merge(struct store *s, const char *tenant_id, const char *project_id,
                           const struct sla_definition *d, int64_t now, const char *actor,
                           int64_t *recalculated);
int alert_definition_apply(struct store *s, const struct sw_definition_change *ch,
                           int64_t now, const char *actor, int64_t *recalculated);

/* ---- alerts_calendar.c ----------------------------------------------------------- */

/* Recalculates in C the tenant's open alerts the set-based UPDATE leaves
 * alone: those with a calendar clock, of a severity cal_sev puts on a
 * calendar, or of a project with calendars of its own (cal_id NULL); or
 * those with a running clock on calendar cal_id.  Each changed one gets a
 * "recalculated" event; *count grows by them; dry (non-NULL): what changes
 * is counted into it too (the caller rolls the transaction back). */
int alert_recalc_c_in(struct db_conn *c, const char *tenant_id, const bool *cal_sev,
                      const char *cal_id, int64_t now, const char *actor, int64_t *count,
                      struct sw_dry_run *dry);
int alert_recalculate(struct store *s, const char *tenant_id, int64_t now, const char *actor,
                      int64_t *recalculated);

/* ---- alert_configs.c ------------------------------------------------------------ */

int alert_config_create(struct store *s, struct sw_sla_config *c, int64_t now,
                        const char *actor, int64_t *recalculated);
int alert_config_get(struct store *s, const char *tenant_id, int64_t id,
                     struct sw_sla_config *out);
int alert_config_list(struct store *s, const char *tenant_id, store_config_cb cb, void *ud);
int alert_config_update(struct store *s, const char *tenant_id, int64_t id,
                        const struct sw_sla_config_patch *p, int64_t now, const char *actor,
                        struct sw_sla_config *out, int64_t *recalculated);
int alert_config_delete(struct store *s, const char *tenant_id, int64_t id);

/* ---- alerts_due.c ------------------------------------------------------------------- */

int alerts_next_due(struct store *s, int64_t now, int64_t *at);
int alerts_process_due(struct store *s, int64_t now, int limit, int *processed);
/* Breach rows: each the breach of one clock of an alert (due_at: its
 * deadline), seen at breached_at; once per (alert, clock, deadline).
 * Multi-row INSERTs; the strings are the caller's until the call returns. */
struct alert_breach {
    const char *tenant_id, *id;
    enum sla_sev sev;
    const char *clock;
    int64_t due_at, breached_at;
};
int alert_breach_rows_in(struct db_conn *c, const struct alert_breach *v, size_t n);

/* ---- escalation.c (shared with alerts_due.c) --------------------------------------- */

/* The escalation columns of one alert. */
struct esc_cols {
    int64_t escalated_at;
    char sev[16];               /* "" = not walking a chain */
    int64_t due_at;             /* SLA_NEVER = none */
};
/* The alert, locked for the transaction, and its escalation columns: one
 * read (alerts.c).  SW_E_NOTFOUND when there is no such alert. */
int alert_get_esc_in(struct db_conn *c, const char *tenant_id, const char *id,
                     struct sw_alert *x, struct esc_cols *e);
/* What the scheduler and an escalation change, one UPDATE (alerts.c): the
 * alarms, the due instants, next_check_at, the level, updated_at and the
 * escalation columns.  Any other change goes through store_alert_save_in. */
int alert_save_esc_in(struct db_conn *c, const struct sw_alert *x, const struct esc_cols *e);
/* Columns first..first+2 of a row: escalated_at, esc_severity, esc_due_at. */
void esc_cols_read(struct db_stmt *st, int first, struct esc_cols *out);

int esc_cols_get_in(struct db_conn *c, const char *tenant_id, const char *id,
                    struct esc_cols *out);
/* 1 when the chain exists with steps (out filled), 0 when not, or SW_E_*. */
int esc_chain_load_in(struct db_conn *c, const char *tenant_id, enum sla_sev sev,
                      struct sw_esc_chain *out);
/* An sla.* notice of x: its event (at now), then its outbox rows and live
 * path (store_notice_in; through memo when not NULL: store_notice_memo_in).
 * *event_id (optional) = the event's id. */
int esc_notice_write_in(struct db_conn *c, const struct sw_alert *x, const struct sw_notice *n,
                        const char *actor, const char *data, int64_t now,
                        struct notice_memo *memo, int64_t *event_id);
/* n describes an sla.* notice of x. */
void esc_notice_init(struct sw_notice *n, const struct sw_alert *x, const char *type,
                     const char *clock, int64_t due_at, int64_t now);
/* One fired step: its sla.escalation notice and its escalation_events row. */
int esc_step_fired_in(struct db_conn *c, const struct sw_alert *x, enum sla_sev chain_sev,
                      const struct sw_esc_step *step, int level_index, int64_t due_at,
                      bool manual, const char *actor, int64_t now, int64_t *event_id);

#endif
