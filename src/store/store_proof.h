/* store_proof.h: the proof subject of store.h (issue 17): what auditors and
 * customers rely on beyond the live numbers.
 *
 * Groups:
 *   - hash chains: the audit log and the item events, one chain per (log,
 *     tenant), verified and exported here (chain.c appends, chain_int.h
 *     has the format);
 *   - policy history: every version of every policy scope (history.c),
 *     and the finding policies as they stood at an instant;
 *   - breach forecast: the running clocks that will breach in a window
 *     (forecast.c);
 * Each group's details are at its declarations. */
#ifndef SW_STORE_PROOF_H
#define SW_STORE_PROOF_H

#include "core/sla.h"
#include "store/store.h"

struct sw_policy_chain;        /* store_findings.h */

/* ---- hash chains ---------------------------------------------------------- */

#define SW_CHAIN_HASH_LEN 64

/* One chain as verify found it.  A problem names the first bad record. */
struct sw_chain_report {
    char log[8];                        /* "audit" | "events" */
    char tenant_id[SW_ID_MAX + 1];      /* "" = the platform's audit chain */
    int64_t records;                    /* records walked (up to the problem) */
    int64_t adopted;                    /* chained by migration 0050: their
                                         * evidence starts at started_at */
    int64_t started_at;                 /* the chain's first link */
    char head[SW_CHAIN_HASH_LEN + 1];   /* the head as stored */
    bool intact;
    /* the first problem: altered | deleted | reordered | inserted | head */
    char problem[16];
    int64_t bad_seq;                    /* its place in the chain (0: none) */
    int64_t bad_row_id;                 /* audit_log.id / events.id (0: none) */
    char detail[256];
};

typedef int (*store_chain_report_cb)(const struct sw_chain_report *r, void *ud);
/* One line of an export (no newline), valid during the call. */
typedef int (*store_chain_line_cb)(const char *line, size_t len, void *ud);

/* ---- policy history -------------------------------------------------------- */

/* Kinds of scope (policy_versions.kind) and what their scope names. */
#define SW_HISTORY_FINDING_POLICY "finding_policy"  /* project id, "" = company / global */
#define SW_HISTORY_DEFINITION "definition"          /* project id, "" = the tenant */
#define SW_HISTORY_ESCALATION "escalation"          /* the severity */
#define SW_HISTORY_CALENDAR "calendar"              /* the calendar id */

/* One version; before/after are JSON text (NULL: nothing set), valid in
 * the callback. */
struct sw_policy_version {
    char kind[24];
    char tenant_id[SW_ID_MAX + 1];      /* "" = global */
    char scope[SW_ID_MAX + 1];
    int64_t version;                    /* 1, 2, ... per scope */
    int64_t changed_at;
    char changed_by[SW_NAME_MAX + 32];
    char action[16];                    /* baseline | create | update | delete | config */
    const char *before, *after;
};

typedef int (*store_history_cb)(const struct sw_policy_version *v, void *ud);

/* ---- dry runs -------------------------------------------------------------- */

/* What a policy or definition change would do to the open items of its
 * scope, computed in a transaction that is rolled back (store_alerts.h's
 * sw_definition_change.dry_run, store_findings.h's policy_dry_run). */
struct sw_dry_run {
    int64_t would_recalculate;          /* items the change recalculates */
    int64_t earlier, later;             /* items with a running clock due sooner / later */
    int64_t new_breaches;               /* items that would be breached at once */
    int64_t rearmed;                    /* items whose fired warnings/breach re-arm */
    int64_t penalty_delta_cents;        /* accrued by running breached clocks, new - old */
};

/* ---- breach forecast ------------------------------------------------------- */

/* One running clock that will breach: an alert's acknowledge or resolve
 * clock, or a finding's SLA clock (ack false). */
struct sw_forecast_item {
    bool alert;
    bool ack;
    char id[SW_ID_MAX + 1];
    enum sla_sev sev;
    int64_t due_at;                     /* it breaches just after */
};

struct sw_forecast {
    /* distinct items per severity (enum sla_sev), whatever limit cut */
    int64_t alerts[SLA_SEV_COUNT], findings[SLA_SEV_COUNT];
    struct sw_forecast_item *items;     /* due soonest first */
    size_t n;
    bool truncated;                     /* more than limit items */
};

struct store_proof_ops {
    /* Versions of one scope, newest first, version < before_version (0: from
     * the newest), at most limit; scope NULL = every scope of the kind and
     * tenant, newest change first. */
    int (*history_list)(struct store *s, const char *kind, const char *tenant_id,
                        const char *scope, int64_t before_version, int limit,
                        store_history_cb cb, void *ud);
    /* The finding policy levels of (tenant, project) as they stood at
     * instant at (store_findings.h's policy_chain, from the history);
     * versions[SW_POL_*] = the version in force at each level (0: before
     * the first one).
     * NOTFOUND for an unknown tenant or project. */
    int (*finding_chain_at)(struct store *s, const char *tenant_id, const char *project_id,
                            int64_t at, struct sw_policy_chain *out,
                            int64_t versions[3]);

    /* Walks every chain (tenant_id NULL) or the tenant's two, recomputing
     * each record's digest and hash, and reports each chain; then looks
     * for rows that are on no chain (reported as an "inserted" problem of
     * their tenant's chain).  0 when walked, whatever was found. */
    int (*chain_verify)(struct store *s, const char *tenant_id, store_chain_report_cb cb,
                        void *ud);
    /* The chain (log, tenant) as JSON lines, seq > after_seq, at most
     * limit: {"seq":N,"prev":"hex","hash":"hex","record":{...}} where
     * record is the exact text the digest covers.  *last_seq = the last
     * seq written (after_seq when none); NOTFOUND when there is no such
     * chain. */
    int (*chain_export)(struct store *s, const char *log, const char *tenant_id,
                        int64_t after_seq, int64_t limit, store_chain_line_cb cb, void *ud,
                        int64_t *last_seq);
    /* The tenant's running, unpaused clocks (open alerts' ack and resolve,
     * open findings') whose due instant is in (now, until]: counts by
     * severity, and the first limit items by due instant.  Free *out with
     * store_forecast_free.  INVAL for limit < 1 or until < now; NOTFOUND
     * for an unknown tenant. */
    int (*forecast)(struct store *s, const char *tenant_id, int64_t now, int64_t until,
                    int limit, struct sw_forecast *out);
};

static inline int store_history_list(struct store *s, const char *kind, const char *tenant_id,
                                     const char *scope, int64_t before_version, int limit,
                                     store_history_cb cb, void *ud)
{ return s->proof->history_list(s, kind, tenant_id, scope, before_version, limit, cb, ud); }
static inline int store_finding_chain_at(struct store *s, const char *tenant_id,
                                         const char *project_id, int64_t at,
                                         struct sw_policy_chain *out,
                                         int64_t versions[3])
{ return s->proof->finding_chain_at(s, tenant_id, project_id, at, out, versions); }
static inline int store_chain_verify(struct store *s, const char *tenant_id,
                                     store_chain_report_cb cb, void *ud)
{ return s->proof->chain_verify(s, tenant_id, cb, ud); }
static inline int store_chain_export(struct store *s, const char *log, const char *tenant_id,
                                     int64_t after_seq, int64_t limit, store_chain_line_cb cb,
                                     void *ud, int64_t *last_seq)
{ return s->proof->chain_export(s, log, tenant_id, after_seq, limit, cb, ud, last_seq); }

static inline int store_forecast(struct store *s, const char *tenant_id, int64_t now,
                                 int64_t until, int limit, struct sw_forecast *out)
{ return s->proof->forecast(s, tenant_id, now, until, limit, out); }
void store_forecast_free(struct sw_forecast *f);

#endif
