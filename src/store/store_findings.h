/* store_findings.h: the finding subject of store.h: vulnerability findings,
 * the stored levels of their SLA policy waterfall, and the scheduler's view
 * of their deadlines.
 *
 * A finding row is the core's struct sla_finding (core/sla.h) plus ids and
 * a title; the SLA arithmetic is always the core's.  Every write is one
 * transaction that also appends the item's events (who, when, what), so a
 * state change and its audit record commit together or not at all.
 *
 * Derived deadlines (migration 0007): a live finding stores its clock base
 * (discovery + closed pauses), its pause and its fired progress; its target
 * (hours, source, safety net) is its group's (tenant, project, severity) row
 * of resolved targets, so deadline = clock base + hours (+ the ongoing
 * pause).  Target rows are snapshots of the waterfall taken when the group's
 * company or project was last recalculated (policy PUT/DELETE, recalculate
 * endpoint) or when the group's first finding arrived: a global policy
 * change reaches a company only through its recalculate endpoint.  A
 * terminal finding keeps the target it was judged against.
 *
 * Policy writes recalculate the scope in the same transaction: the scope's
 * target rows are re-resolved through the waterfall, and findings with
 * something fired whose deadline moved into the future are re-armed; no
 * finding row is rewritten otherwise.  Count semantics, used by both
 * X-Recalculated-Count and updated_count: the number of live (open or
 * paused) findings in the scope, i.e. every live finding whose deadline the
 * recalculation re-evaluated, whether or not it ended up moving.  Terminal
 * findings are never touched nor counted.  The global level recalculates
 * nothing by itself (count 0): companies follow a global change through
 * their recalculate endpoints.  No per-finding event is written for a
 * recalculation: a policy change is one action (the HTTP layer records it
 * once in the audit log), not a million finding events. */
#ifndef SW_STORE_FINDINGS_H
#define SW_STORE_FINDINGS_H

#include "core/sla.h"
#include "store/store.h"

#define SW_FINDING_TITLE_MAX 1000

/* ---- records --------------------------------------------------------- */

struct sw_dry_run;                      /* store_proof.h */

struct sw_finding {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];     /* "" = none */
    char title[SW_FINDING_TITLE_MAX + 1];
    struct sla_finding f;               /* severity, state, clock, target, alarm */
    /* The tenant's warning thresholds (ascending, each < 100; 100 is the
     * breach itself): f.alarm.fired bit i = warn[i] fired. */
    uint8_t warn[SLA_THRESHOLDS_MAX];
    size_t nwarn;
    uint32_t contacts_fired;            /* escalation contacts engaged: bit (level - 1) */
    /* The business-hours calendar its clock counts on ("" = around the
     * clock; f.clock.cal is its compiled form, valid for the request). */
    char cal[SW_ID_MAX + 1];
    int64_t next_check_at;              /* next warning or breach; SLA_NEVER = none */
    int64_t ingested_at;                /* when slawatch first saw it */
    int64_t updated_at;
};

/* What POST /findings asks for.  History: a finding may arrive closed
 * (state terminal since closed_at, at or after discovery; 0 = now).  Every
 * create follows the history rule (core/sla.h): warnings, the breach and
 * escalation contacts due at or before `now` are marked, never told. */
struct sw_finding_new {
    const char *tenant_id;
    const char *id;
    const char *project_id;             /* NULL or "" = none */
    const char *title;                  /* NULL = "" */
    enum sla_sev sev;
    int64_t discovered_at;              /* the clock's start, > 0 */
    enum sla_finding_state state;       /* open (0) or terminal */
    int64_t closed_at;
};

/* What another tool says of a finding (sync_many): created as `in` when
 * new (unless only_if_tracked), else brought to in.state since state_at
 * (0 = unknown) with in.sev by sla_finding_sync.  A terminal state's
 * instant is in.closed_at (0 = state_at, else now). */
struct sw_finding_sync {
    struct sw_finding_new in;
    int64_t state_at;
    bool only_if_tracked;               /* the source has no verdict to create from */
};

/* Outcome of one sync (>= 0; negative SW_E_* is an error of the store). */
enum sw_finding_result {
    SW_FINDING_CREATED = 0,
    SW_FINDING_UNCHANGED,
    SW_FINDING_CLOSED,
    SW_FINDING_REOPENED,
    SW_FINDING_UPDATED,                 /* severity followed */
    SW_FINDING_NO_PROJECT,
    SW_FINDING_INVALID,                 /* closed before discovery: nothing written */
};

struct sw_contact {
    int level;                          /* 1..3 */
    char user[SW_NAME_MAX + 1];
    int days_after_breach;
};

/* One scope's stored override.  tenant_id "" = the global level;
 * project_id "" = the company (or global) level. */
struct sw_finding_policy {
    char tenant_id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];
    bool hours_set[SLA_SEV_COUNT];      /* false = null */
    int32_t hours[SLA_SEV_COUNT];       /* as written; 0 = inherit too */
    size_t ncontacts;                   /* 0 = none, inherit */
    struct sw_contact contacts[SLA_CONTACTS_MAX];  /* by level */
    /* Calendars per severity: "" = null (inherit), "24x7" (around the
     * clock), or a calendar id of the tenant (not at the global level). */
    char calendars[SLA_SEV_COUNT][SW_ID_MAX + 1];
    int64_t updated_at;
    char updated_by[SW_NAME_MAX + 32];
};

/* The three stored levels above built-in that apply to one scope. */
enum sw_policy_level { SW_POL_PROJECT, SW_POL_COMPANY, SW_POL_GLOBAL, SW_POL_COUNT };

struct sw_policy_chain {
    bool has[SW_POL_COUNT];             /* that scope has a row */
    struct sw_finding_policy level[SW_POL_COUNT];
};

/* The same levels as the core wants them (pointers into layers[], NULL
 * where a scope has no row). */
static inline void sw_policy_chain_scopes(const struct sw_policy_chain *c,
                                          struct sla_finding_layer layers[SW_POL_COUNT],
                                          struct sla_finding_scopes *out)
{
    for (int l = 0; l < SW_POL_COUNT; l++)
        for (int s = 0; s < SLA_SEV_COUNT; s++)
            layers[l].hours[s] = c->has[l] && c->level[l].hours_set[s] ? c->level[l].hours[s] : 0;
    out->project = c->has[SW_POL_PROJECT] ? &layers[SW_POL_PROJECT] : NULL;
    out->company = c->has[SW_POL_COMPANY] ? &layers[SW_POL_COMPANY] : NULL;
    out->global = c->has[SW_POL_GLOBAL] ? &layers[SW_POL_GLOBAL] : NULL;
}

/* An event a finding update asks the store to append with the row. data
 * is JSON text or NULL, borrowed: it must live until the store call returns.
 * On entry to store_finding_fn, at holds the store's instant for this
 * change: the update's now (or, with now = 0, the clock read inside the
 * transaction once the row is locked), raised to the finding's last state
 * change.  A change the request gave no instant uses it, so concurrent
 * changes without an explicit instant are never refused as "before the
 * last change" (issue 12 item 7); at = 0 on return means the same. */
struct sw_finding_event {
    char type[48];                      /* "" = no event */
    int64_t at;
    const char *data;
};

/* The domain decision inside a finding's write transaction: f is the stored
 * finding, scopes its policy levels as they stand now.  Change *f (through
 * the core) and describe the event; a negative return rolls everything back
 * and is returned by the store call. */
typedef int (*store_finding_fn)(struct sw_finding *f, const struct sla_finding_scopes *scopes,
                                void *ud, struct sw_finding_event *ev);

struct sw_finding_filter {
    const char *tenant_id;
    const char *state;                  /* NULL = any */
    const char *severity;               /* NULL = any */
    const char *project_id;             /* NULL = any, "" = without project */
    int breached;                       /* -1 any, 0 not breached, 1 breached (at now) */
    const char *after_id;               /* keyset cursor: ids > this; NULL = start */
    int limit;
    int64_t now;
};

typedef int (*store_finding_cb)(const struct sw_finding *f, void *ud);

/* One group's (project, severity) live findings at an instant. */
struct sw_finding_group_numbers {
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    int32_t hours;                      /* the group's target */
    char calendar[SW_ID_MAX + 1];       /* its business-hours calendar; "" = around the clock */
    int64_t open, paused;
    int64_t overdue;                    /* open, past their deadline */
    int64_t due_soon;                   /* open, deadline in [now, now + soon] */
};

/* A running finding's deadline. */
struct sw_finding_due {
    char id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    int64_t deadline;
};

typedef int (*store_finding_numbers_cb)(const struct sw_finding_group_numbers *g, void *ud);
typedef int (*store_finding_due_cb)(const struct sw_finding_due *d, void *ud);

/* Where a breached finding's escalation stands: its contacts engaged so
 * far (by level) and who took it. */
struct sw_finding_escalation {
    size_t n;
    struct {
        int level;
        char user[SW_ID_MAX + 1];
        char via[64];                   /* "email,slack" */
        int64_t engaged_at;
    } engaged[SLA_CONTACTS_MAX];
    int64_t acked_at;                   /* 0 = nobody took it */
    char acked_by[SW_NAME_MAX + 32];
};

/* The answer of an acknowledgement. */
struct sw_finding_ack {
    struct sw_finding_escalation esc;
    bool already;                       /* taken before: nothing written */
};

/* ---- the backend interface ------------------------------------------ */

struct store_finding_ops {
    /* now: the instant of the write (ingested_at, updated_at, what is due);
     * 0 = the store reads the clock inside its transaction. */

    /* Idempotent on (tenant_id, id), also between nodes: a new finding is
     * resolved through the waterfall and stored with a "created" event
     * (*created = true); an existing one is returned unchanged (*created =
     * false).  SW_E_NOTFOUND when the tenant or the project does not exist. */
    int (*create)(struct store *s, const struct sw_finding_new *in, int64_t now,
                  const char *actor, struct sw_finding *out, bool *created);
    int (*get)(struct store *s, const char *tenant_id, const char *id, struct sw_finding *out);
    /* Read-modify-write of one finding in one transaction, the row locked
     * (see store_finding_fn and sw_finding_event.at); *out is the stored
     * result. */
    int (*update)(struct store *s, const char *tenant_id, const char *id, int64_t now,
                  const char *actor, store_finding_fn fn, void *ud, struct sw_finding *out);
    /* By id, at most filter->limit rows; cb returning non-zero stops. */
    int (*list)(struct store *s, const struct sw_finding_filter *filter,
                store_finding_cb cb, void *ud);

    /* The levels that apply to a scope (tenant "" = global only; project ""
     * = company and global).  SW_E_NOTFOUND for an unknown tenant/project. */
    int (*policy_chain)(struct store *s, const char *tenant_id, const char *project_id,
                        struct sw_policy_chain *out);
    /* Replaces a scope's override and recalculates the scope (not for the
     * global level) in the same transaction; *recalculated per the count
     * semantics above.  SW_E_NOTFOUND for an unknown tenant/project;
     * SW_E_INVAL when p->calendars names a calendar the tenant does not
     * have (or any calendar at the global level). */
    int (*policy_put)(struct store *s, const struct sw_finding_policy *p, int64_t now,
                      const char *actor, int64_t *recalculated);
    /* What policy_put would do (store_proof.h's struct sw_dry_run), in a
     * transaction rolled back: nothing stored, nothing notified.  The
     * global level recalculates nothing (all zero). */
    int (*policy_dry_run)(struct store *s, const struct sw_finding_policy *p, int64_t now,
                          struct sw_dry_run *out);
    /* Drops a scope's override (no row is not an error) and recalculates. */
    int (*policy_delete)(struct store *s, const char *tenant_id, const char *project_id,
                         int64_t now, const char *actor, int64_t *recalculated);
    /* Recalculates a company (project_id "") or one project, policy unchanged. */
    int (*recalculate)(struct store *s, const char *tenant_id, const char *project_id,
                       int64_t now, const char *actor, int64_t *updated);

    /* ---- for the scheduler ----
     * Warning thresholds: the tenant's notification thresholds
     * (notification_config.thresholds, values below 100) or {80} when it has
     * no configuration; 100 % is the breach (due + 1 ms).  Escalation
     * contacts: the group's, inherited project → company → global from the
     * policy rows, each due at breach + days_after_breach days.  Only running
     * findings (open, not paused) ever fire; terminal and paused ones never. */

    /* The earliest instant any running finding needs a look (its next
     * unfired warning, its breach, or its next escalation contact), or
     * SLA_NEVER.  May be <= now: overdue, look now.  Read-only; a few index
     * seeks per (tenant, project, severity) group. */
    int (*next_due)(struct store *s, int64_t now, int64_t *at);
    /* In one write transaction: takes up to `limit` findings whose next
     * instant is <= now and, for each, asks the core what happened
     * (sla_warnings_crossed, sla_breach_due, sla_contacts_due), appends the
     * events sla.warning {threshold_pct, due_at}, sla.breach {due_at,
     * overage_ms} and sla.escalation {level, user, days_after_breach}, moves
     * the finding's fired progress, and enqueues each event's outbox rows
     * (store_notice_in).  Several schedulers (nodes) may run it at once:
     * each finding is claimed by one of them, so each fires once.  Each threshold fires once per deadline; a breach
     * found in the same pass as crossed warnings fires alone (the warnings
     * are marked fired: a warning after the fact is noise), and of several
     * warnings crossed at once only the highest is told.  *processed = the
     * findings handled; call again while it equals limit.  Wake the
     * notifier after it returns with *processed > 0. */
    int (*process_due)(struct store *s, int64_t now, int limit, int *processed);

    /* ---- ingest from other tools ----
     * Many findings of one tenant as their source sees them
     * (sw_finding_sync), in transactions of up to 1,000 findings, each
     * change with its events; results[i] for in[i].  A store error rolls
     * back only the batch it happened in and is returned (results of
     * committed batches stand).  The same input twice changes nothing. */
    int (*sync_many)(struct store *s, const struct sw_finding_sync *in, size_t n, int64_t now,
                     const char *actor, enum sw_finding_result *results);
    /* ---- findings in numbers (finding_rollups.c) ----
     * Closed findings are rollups (store_analytics.h finding_rollup_scan). */

    /* Every group of the tenant (project_id NULL = all) with live findings,
     * by (project, severity): open and paused from the groups' counters,
     * overdue and due within soon_ms of now counted over the running
     * findings' deadlines; one read snapshot. */
    int (*live_numbers)(struct store *s, const char *tenant_id, const char *project_id,
                        int64_t now, int64_t soon_ms, store_finding_numbers_cb cb, void *ud);
    /* Running findings whose deadline is in [now, until], soonest first
     * (then project, id), at most limit. */
    int (*upcoming)(struct store *s, const char *tenant_id, const char *project_id, int64_t now,
                    int64_t until, int limit, store_finding_due_cb cb, void *ud);

    /* ---- escalation contacts (findings_contacts.c) ----
     * The finding's engaged contacts and who took the escalation. */
    int (*escalation_get)(struct store *s, const char *tenant_id, const char *id,
                          struct sw_finding_escalation *out);
    /* Someone takes the escalation: no later contact of this finding is
     * engaged (until a recalculation moves its deadline into the future,
     * which re-arms everything), with an "escalation.acknowledged" event.
     * by_user: the caller's user id ("" for a token); allowed when it is
     * the person engaged last, or may_operate (an analyst or above).
     * SW_E_NOTFOUND, SW_E_CONFLICT (nobody engaged yet), SW_E_DENIED;
     * taken already: 0 with out->already. */
    int (*escalation_ack)(struct store *s, const char *tenant_id, const char *id, int64_t now,
                          const char *actor, const char *by_user, bool may_operate,
                          struct sw_finding_ack *out);
};

/* ---- wrappers -------------------------------------------------------- */

static inline int store_finding_create(struct store *s, const struct sw_finding_new *in,
                                       int64_t now, const char *actor,
                                       struct sw_finding *out, bool *created)
{ return s->findings->create(s, in, now, actor, out, created); }
static inline int store_finding_get(struct store *s, const char *tenant_id, const char *id,
                                    struct sw_finding *out)
{ return s->findings->get(s, tenant_id, id, out); }
static inline int store_finding_update(struct store *s, const char *tenant_id, const char *id,
                                       int64_t now, const char *actor, store_finding_fn fn,
                                       void *ud, struct sw_finding *out)
{ return s->findings->update(s, tenant_id, id, now, actor, fn, ud, out); }
static inline int store_finding_list(struct store *s, const struct sw_finding_filter *filter,
                                     store_finding_cb cb, void *ud)
{ return s->findings->list(s, filter, cb, ud); }
static inline int store_finding_policy_chain(struct store *s, const char *tenant_id,
                                             const char *project_id,
                                             struct sw_policy_chain *out)
{ return s->findings->policy_chain(s, tenant_id, project_id, out); }
static inline int store_finding_policy_put(struct store *s, const struct sw_finding_policy *p,
                                           int64_t now, const char *actor,
                                           int64_t *recalculated)
{ return s->findings->policy_put(s, p, now, actor, recalculated); }
static inline int store_finding_policy_dry_run(struct store *s,
                                               const struct sw_finding_policy *p, int64_t now,
                                               struct sw_dry_run *out)
{ return s->findings->policy_dry_run(s, p, now, out); }
static inline int store_finding_policy_delete(struct store *s, const char *tenant_id,
                                              const char *project_id, int64_t now,
                                              const char *actor, int64_t *recalculated)
{ return s->findings->policy_delete(s, tenant_id, project_id, now, actor, recalculated); }
static inline int store_finding_recalculate(struct store *s, const char *tenant_id,
                                            const char *project_id, int64_t now,
                                            const char *actor, int64_t *updated)
{ return s->findings->recalculate(s, tenant_id, project_id, now, actor, updated); }
static inline int store_finding_next_due(struct store *s, int64_t now, int64_t *at)
{ return s->findings->next_due(s, now, at); }
static inline int store_finding_process_due(struct store *s, int64_t now, int limit,
                                            int *processed)
{ return s->findings->process_due(s, now, limit, processed); }
static inline int store_finding_sync_many(struct store *s, const struct sw_finding_sync *in,
                                          size_t n, int64_t now, const char *actor,
                                          enum sw_finding_result *results)
{ return s->findings->sync_many(s, in, n, now, actor, results); }
static inline int store_finding_escalation_get(struct store *s, const char *tenant_id,
                                               const char *id,
                                               struct sw_finding_escalation *out)
{ return s->findings->escalation_get(s, tenant_id, id, out); }
static inline int store_finding_escalation_ack(struct store *s, const char *tenant_id,
                                               const char *id, int64_t now, const char *actor,
                                               const char *by_user, bool may_operate,
                                               struct sw_finding_ack *out)
{ return s->findings->escalation_ack(s, tenant_id, id, now, actor, by_user, may_operate, out); }

static inline int store_finding_live_numbers(struct store *s, const char *tenant_id,
                                             const char *project_id, int64_t now,
                                             int64_t soon_ms, store_finding_numbers_cb cb,
                                             void *ud)
{ return s->findings->live_numbers(s, tenant_id, project_id, now, soon_ms, cb, ud); }
static inline int store_finding_upcoming(struct store *s, const char *tenant_id,
                                         const char *project_id, int64_t now, int64_t until,
                                         int limit, store_finding_due_cb cb, void *ud)
{ return s->findings->upcoming(s, tenant_id, project_id, now, until, limit, cb, ud); }

#endif
