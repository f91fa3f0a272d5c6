/* store_alerts.h: the alert subject of store.h.
 *
 * SOC alerts with their two clocks, the alert policy layers the waterfall
 * reads (global, tenant, project; the tenant's template is tenants.template),
 * and named SLA configs.  The store runs the core (core/sla.h) inside its
 * transactions: it reads the policy, resolves targets, applies lifecycle
 * changes and recalculations, and writes the row and its event together, so
 * what is read and what is written are one consistent snapshot.
 *
 * Groups:
 *   - records and inputs (sw_alert, sw_alert_new, sw_alert_change, filters)
 *   - alerts: create (grouped commits), create_many (bulk), get, change, list
 *   - policy: read a scope's layers, merge an SLA definition into one
 *   - configs: CRUD; saving an active config applies it
 * Writes that change policy recalculate the tenant's open alerts in the same
 * transaction and report how many changed.
 */
#ifndef SW_STORE_ALERTS_H
#define SW_STORE_ALERTS_H

#include "core/sla.h"
#include "store/store.h"

#define SW_ALERT_TITLE_MAX 512
/* A list filter's state: open or acknowledged. */
#define SW_ALERT_UNRESOLVED (-2)
/* A definition field of this value, merged, returns to inherited. */
#define SW_DEFINITION_CLEAR (-1)
#define SW_SOURCE_MAX 128
#define SW_TEMPLATE_MAX 31
#define SW_PENALTY_CPH_MAX INT64_C(100000000)   /* $1,000,000 an hour */

struct sw_dry_run;                      /* store_proof.h */

/* ---- records ---------------------------------------------------------- */

/* A stored alert: the core's struct plus what the API shows beside it. */
struct sw_alert {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];     /* "" = none */
    char title[SW_ALERT_TITLE_MAX + 1];
    char source[SW_SOURCE_MAX + 1];
    struct sla_alert a;
    /* The calendar each clock counts on ("" = around the clock; a.ack.cal
     * and a.resolve.cal are their compiled forms, valid for the request). */
    char ack_cal[SW_ID_MAX + 1];
    char res_cal[SW_ID_MAX + 1];
    int escalation_level;               /* 0 = not escalated */
    int64_t next_check_at;              /* SLA_NEVER = nothing to check */
    int64_t updated_at;
};

/* An alert to create.  Strings are borrowed; project_id, title, source may
 * be NULL.  created_at 0 = now.
 *
 * History: acknowledged_at and resolved_at (0 = not) create it with that
 * past (events at those instants, rollups, breach rows).  Every create
 * follows the history rule (core/sla.h): what was due at or before `now`
 * (the ingestion instant) is marked fired and never told.
 *
 * Sync (ingest from other tools): when (tenant, id) is tracked already,
 * the source's view `state` since state_at (0 = unknown) is applied by
 * sla_alert_sync instead of answering DUPLICATE. */
struct sw_alert_new {
    const char *tenant_id;
    const char *id;
    const char *project_id;
    const char *title;
    const char *source;
    enum sla_sev sev;
    int64_t created_at;
    int64_t acknowledged_at;
    int64_t resolved_at;
    bool sync;
    enum sla_alert_state state;
    int64_t state_at;
};

/* Outcome of one create (>= 0; negative SW_E_* is an error of the store). */
enum sw_alert_result {
    SW_ALERT_CREATED = 0,
    SW_ALERT_DUPLICATE,         /* (tenant, id) already tracked: nothing written */
    SW_ALERT_NO_TENANT,
    SW_ALERT_NO_PROJECT,
    SW_ALERT_INVALID,           /* history out of order: nothing written */
    /* sync of a tracked alert (the strongest step taken) */
    SW_ALERT_ACKNOWLEDGED,
    SW_ALERT_RESOLVED,
    SW_ALERT_REOPENED,
};

enum sw_alert_action {
    SW_ALERT_ACKNOWLEDGE,
    SW_ALERT_RESOLVE,
    SW_ALERT_REOPEN,
    SW_ALERT_SET_SEVERITY,
};

/* A lifecycle change.  Errors: SW_E_NOTFOUND (no such alert), SW_E_CONFLICT
 * (wrong state: acknowledge/resolve a resolved alert, reopen one not
 * resolved), SW_E_INVAL (an explicit at before the last event of the clock,
 * e.g. before creation).  Acknowledging an acknowledged alert changes
 * nothing and writes no event.
 *
 * at = 0 means "now, inside the transaction": the later of the call's now
 * and the alert's last state change, read under the row lock, so a request
 * without an instant is never refused because a concurrent change (on any
 * node) committed a later instant after the request took its now. */
struct sw_alert_change {
    enum sw_alert_action action;
    int64_t at;                 /* when it happened; 0 = now (above); unused by SET_SEVERITY */
    enum sla_sev sev;           /* SET_SEVERITY */
    const char *actor;          /* the event's actor */
    const char *data_json;      /* event data (JSON object text) or NULL */
};

/* GET /alerts: filters (-1 = any), keyset on id. */
struct sw_alert_filter {
    const char *tenant_id;
    const char *project_id;     /* NULL = any, "" = alerts without a project */
    int state;                  /* enum sla_alert_state, SW_ALERT_UNRESOLVED or -1 */
    int sev;                    /* enum sla_sev or -1 */
    int breached;               /* 1 either clock breached at now, 0 neither, -1 any */
    const char *after_id;       /* NULL = from the first id */
    const char *text;           /* NULL = any; else a substring of the id or title (ASCII
                                   case-insensitive) */
    int limit;
    int64_t now;
};

/* Everything the waterfall reads for one tenant (and project). */
struct sw_alert_policy {
    char template_name[SW_TEMPLATE_MAX + 1];   /* "" = none */
    bool has_project, has_tenant, has_global;
    struct sla_alert_layer project, tenant, tmpl, global;
    /* Calendars per severity: what the project's and the tenant's
     * definitions say ("" = nothing, "24x7", or a calendar id), and the
     * effective one (the project's if it says one, else the tenant's; ""
     * = around the clock). */
    char cal_project[SLA_SEV_COUNT][SW_ID_MAX + 1];
    char cal_tenant[SLA_SEV_COUNT][SW_ID_MAX + 1];
    char cal[SLA_SEV_COUNT][SW_ID_MAX + 1];
};

/* Calendars an SLA definition sets: for each severity with set[sev], the
 * calendar id, or "" (null: around the clock). */
struct sw_alert_calendars {
    bool set[SLA_SEV_COUNT];
    char id[SLA_SEV_COUNT][SW_ID_MAX + 1];
};

/* The core's view of a policy; pointers into p. */
static inline void sw_alert_policy_scopes(const struct sw_alert_policy *p,
                                          struct sla_alert_scopes *out)
{
    out->project = p->has_project ? &p->project : NULL;
    out->tenant = p->has_tenant ? &p->tenant : NULL;
    out->tmpl = p->template_name[0] ? &p->tmpl : NULL;
    out->global = p->has_global ? &p->global : NULL;
}

/* A named SLA config: template + overrides in the SLA definition's fields
 * and units (0 = not overridden). */
struct sw_sla_config {
    int64_t id;
    char tenant_id[SW_ID_MAX + 1];
    char name[SW_NAME_MAX + 1];
    char template_name[SW_TEMPLATE_MAX + 1];
    struct sla_definition overrides;
    bool active;
    int64_t created_at, updated_at;
};

/* Partial update: NULL / has_overrides false / active -1 keep the value. */
struct sw_sla_config_patch {
    const char *name;
    const char *template_name;
    bool has_overrides;
    struct sla_definition overrides;    /* replaces all overrides when given */
    int active;                         /* 1, 0 or -1 */
};

/* A change of a scope's SLA definition (PUT /sla/definition): the seed's
 * fields of d that are > 0, and penalty rates (cents per started hour over
 * target, per severity): set[sev] true gives the scope that rate, 0 back
 * to inheriting.  Fields not given keep what the scope had. */
struct sw_rate_patch {
    bool set[SLA_SEV_COUNT];
    int64_t cph[SLA_SEV_COUNT];
};

struct sw_definition_change {
    const char *tenant_id;
    const char *project_id;             /* NULL or "" = the tenant's layer */
    const struct sla_definition *d;     /* may be NULL */
    struct sw_rate_patch penalty;       /* resolve (MTTR) penalty: the per-tenant rate override */
    struct sw_rate_patch ack_penalty;   /* optional MTTA penalty */
    /* NULL, or each severity's calendar (set[sev]: "" or "24x7" = around
     * the clock); a calendar the tenant lacks: SW_E_INVAL, and *bad_sev
     * (when given) names its severity (else -1) */
    const struct sw_alert_calendars *cals;
    int *bad_sev;
    /* non-NULL: a dry run (store_proof.h): computes what the change would
     * do into *dry_run, stores nothing, notifies nothing */
    struct sw_dry_run *dry_run;
};

typedef int (*store_alert_cb)(const struct sw_alert *a, void *ud);
typedef int (*store_config_cb)(const struct sw_sla_config *c, void *ud);

/* ---- the backend interface ------------------------------------------- */

struct store_alert_ops {
    /* Creates one alert, or finds it: *result CREATED (out = the new
     * record), DUPLICATE (out = the stored one), NO_TENANT, NO_PROJECT.
     * Concurrent calls are grouped into one transaction and one commit
     * (group commit); each returns only after the commit holding its row. */
    int (*create)(struct store *s, const struct sw_alert_new *in, int64_t now,
                  const char *actor, struct sw_alert *out, enum sw_alert_result *result);
    /* The same, without waiting: cb(ud, rc, result) is called once, from
     * the store's writer thread, after the commit holding the row (*out is
     * filled by then).  in, its strings, actor and out must stay valid
     * until cb. */
    int (*create_async)(struct store *s, const struct sw_alert_new *in, int64_t now,
                        const char *actor, struct sw_alert *out,
                        void (*cb)(void *ud, int rc, enum sw_alert_result res), void *ud);
    /* Many at once, in transactions of up to 10,000 rows; results[i] for
     * in[i].  A store error rolls back only the batch it happened in and
     * returns it (results of committed batches stand). */
    int (*create_many)(struct store *s, const struct sw_alert_new *in, size_t n,
                       int64_t now, const char *actor, enum sw_alert_result *results);
    int (*get)(struct store *s, const char *tenant_id, const char *id, struct sw_alert *out);
    /* A lifecycle change, its event, in one transaction; *out = the result. */
    int (*change)(struct store *s, const char *tenant_id, const char *id,
                  const struct sw_alert_change *ch, int64_t now, struct sw_alert *out);
    int (*list)(struct store *s, const struct sw_alert_filter *f, store_alert_cb cb, void *ud);

    /* The layers for tenant (and project_id, NULL/"" = none): NOTFOUND when
     * the tenant or the project does not exist. */
    int (*policy_get)(struct store *s, const char *tenant_id, const char *project_id,
                      struct sw_alert_policy *out);
    /* Merges the fields of d that are > 0 into the tenant's (or the
     * project's) layer, keeping the others (0), clearing those that are
     * SW_DEFINITION_CLEAR back to inherited (the template's value), and
     * recalculates the tenant's open alerts; sets the calendars cals names
     * (NULL: none).  Values must be in sla_definition_fields' ranges; a
     * calendar the tenant does not have: SW_E_INVAL with *bad_sev (may be
     * NULL) its severity. */
    int (*definition_merge)(struct store *s, const char *tenant_id, const char *project_id,
                            const struct sla_definition *d, int64_t now, const char *actor,
                            int64_t *recalculated);
    /* definition_merge with penalty rates too (struct sw_definition_change);
     * one transaction, one recalculation.  SW_E_INVAL for a value out of
     * range (a rate above SW_PENALTY_CPH_MAX). */
    int (*definition_apply)(struct store *s, const struct sw_definition_change *ch,
                            int64_t now, const char *actor, int64_t *recalculated);
    /* Recalculates the tenant's open alerts against the current policy. */
    int (*recalculate)(struct store *s, const char *tenant_id, int64_t now,
                       const char *actor, int64_t *recalculated);

    /* Configs.  create fills c->id, created_at, updated_at; an active config
     * is applied (see api_configs.c) and *recalculated set.  NOTFOUND when
     * the tenant (or the config) does not exist. */
    int (*config_create)(struct store *s, struct sw_sla_config *c, int64_t now,
                         const char *actor, int64_t *recalculated);
    int (*config_get)(struct store *s, const char *tenant_id, int64_t id,
                      struct sw_sla_config *out);
    int (*config_list)(struct store *s, const char *tenant_id, store_config_cb cb, void *ud);
    int (*config_update)(struct store *s, const char *tenant_id, int64_t id,
                         const struct sw_sla_config_patch *p, int64_t now, const char *actor,
                         struct sw_sla_config *out, int64_t *recalculated);
    int (*config_delete)(struct store *s, const char *tenant_id, int64_t id);
};

/* ---- wrappers --------------------------------------------------------- */

static inline int store_alert_create(struct store *s, const struct sw_alert_new *in, int64_t now,
                                     const char *actor, struct sw_alert *out,
                                     enum sw_alert_result *result)
{ return s->alerts->create(s, in, now, actor, out, result); }
static inline int store_alert_create_async(struct store *s, const struct sw_alert_new *in,
                                           int64_t now, const char *actor, struct sw_alert *out,
                                           void (*cb)(void *, int, enum sw_alert_result),
                                           void *ud)
{ return s->alerts->create_async(s, in, now, actor, out, cb, ud); }
static inline int store_alert_create_many(struct store *s, const struct sw_alert_new *in,
                                          size_t n, int64_t now, const char *actor,
                                          enum sw_alert_result *results)
{ return s->alerts->create_many(s, in, n, now, actor, results); }
static inline int store_alert_get(struct store *s, const char *tenant_id, const char *id,
                                  struct sw_alert *out)
{ return s->alerts->get(s, tenant_id, id, out); }
static inline int store_alert_change(struct store *s, const char *tenant_id, const char *id,
                                     const struct sw_alert_change *ch, int64_t now,
                                     struct sw_alert *out)
{ return s->alerts->change(s, tenant_id, id, ch, now, out); }
static inline int store_alert_list(struct store *s, const struct sw_alert_filter *f,
                                   store_alert_cb cb, void *ud)
{ return s->alerts->list(s, f, cb, ud); }
static inline int store_alert_policy_get(struct store *s, const char *tenant_id,
                                         const char *project_id, struct sw_alert_policy *out)
{ return s->alerts->policy_get(s, tenant_id, project_id, out); }
static inline int store_alert_definition_merge(struct store *s, const char *tenant_id,
                                               const char *project_id,
                                               const struct sla_definition *d, int64_t now,
                                               const char *actor, int64_t *recalculated)
{ return s->alerts->definition_merge(s, tenant_id, project_id, d, now, actor, recalculated); }
static inline int store_alert_definition_apply(struct store *s,
                                               const struct sw_definition_change *ch,
                                               int64_t now, const char *actor,
                                               int64_t *recalculated)
{ return s->alerts->definition_apply(s, ch, now, actor, recalculated); }
static inline int store_alert_recalculate(struct store *s, const char *tenant_id, int64_t now,
                                          const char *actor, int64_t *recalculated)
{ return s->alerts->recalculate(s, tenant_id, now, actor, recalculated); }
static inline int store_config_create(struct store *s, struct sw_sla_config *c, int64_t now,
                                      const char *actor, int64_t *recalculated)
{ return s->alerts->config_create(s, c, now, actor, recalculated); }
static inline int store_config_get(struct store *s, const char *tenant_id, int64_t id,
                                   struct sw_sla_config *out)
{ return s->alerts->config_get(s, tenant_id, id, out); }
static inline int store_config_list(struct store *s, const char *tenant_id,
                                    store_config_cb cb, void *ud)
{ return s->alerts->config_list(s, tenant_id, cb, ud); }
static inline int store_config_update(struct store *s, const char *tenant_id, int64_t id,
                                      const struct sw_sla_config_patch *p, int64_t now,
                                      const char *actor, struct sw_sla_config *out,
                                      int64_t *recalculated)
{ return s->alerts->config_update(s, tenant_id, id, p, now, actor, out, recalculated); }
static inline int store_config_delete(struct store *s, const char *tenant_id, int64_t id)
{ return s->alerts->config_delete(s, tenant_id, id); }

#endif
