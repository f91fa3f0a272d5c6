/* store_analytics.h: the analytics subject of store.h.
 *
 * Rollups (schema 0009, 0041): per tenant × local day × severity × project ×
 * clock, the stopped clocks' counts, met/breached, duration sum, minimum and
 * maximum, penalties, and a log-bucketed histogram (core/rollup.h).  The
 * findings' rollups (0040) are the same per terminal status instead of
 * clock, kept by the finding store when a finding closes or reopens; the
 * alert counts (0042) keep the daily volume and auto-resolutions.  One
 * rebuild recomputes all of them.  The alert store
 * keeps them in the transaction that stops or un-stops a clock
 * (store_rollup_change_in, store_int.h); this interface reads them, rebuilds
 * them from the alerts table, and serves the few raw reads that reports
 * need (open alerts, breached resolutions), plus tenant settings (time zone,
 * monthly penalty cap) and the live gauges' snapshots.
 *
 * Rules of the rollups, which a rebuild reproduces byte for byte:
 *   - every stopped clock of an alert counts once, as it stands now, on the
 *     tenant-local day (tenants.timezone) of the instant it stopped;
 *   - resolving an unacknowledged alert stops both clocks: its ack clock
 *     counts (met when resolved in time), as the clock did stop;
 *   - reopening takes the alert's earlier contribution back out; its final
 *     stop is what counts;
 *   - penalties are on resolve clocks only: rate × started hours over due;
 *   - changing a tenant's time zone rebuilds its rollups in the same
 *     transaction.
 */
#ifndef SW_STORE_ANALYTICS_H
#define SW_STORE_ANALYTICS_H

#include "core/rollup.h"
#include "core/sla.h"
#include "store/store.h"

enum sw_clock_kind { SW_CLOCK_ACK, SW_CLOCK_RESOLVE, SW_CLOCK_COUNT };

/* One rollups row; hist points into the statement (valid in the callback). */
struct sw_rollup_row {
    char day[SLA_DATE_BUFSZ];
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    enum sw_clock_kind clock;
    uint64_t count, met, breached;
    int64_t sum_ms, min_ms, max_ms, penalty_cents;
    const uint8_t *hist;
    size_t hist_len;
};

/* One finding_rollups row (schema 0040): findings that reached a terminal
 * status on a local day; hist points into the statement. */
struct sw_finding_rollup_row {
    char day[SLA_DATE_BUFSZ];
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    enum sla_finding_state status;
    uint64_t count, met, breached;
    int64_t sum_ms, min_ms, max_ms;
    const uint8_t *hist;
    size_t hist_len;
};

/* One alert_counts row (schema 0042): alerts created on a local day, and
 * alerts resolved that day without an acknowledgement. */
struct sw_alert_count_row {
    char day[SLA_DATE_BUFSZ];
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    uint64_t created, auto_resolved;
};

/* An alert's clocks, for the raw reads (open alerts, breached resolutions). */
struct sw_alert_clocks {
    char id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    enum sla_alert_state state;
    int64_t created_at, resolved_at;
    struct sla_clock ack, resolve;
    int32_t warn_pct;
    int64_t penalty_cph;
};

struct sw_tenant_settings {
    char timezone[SW_TZ_MAX + 1];
    bool has_cap;
    int64_t monthly_penalty_cap;        /* cents, when has_cap */
};

/* PATCH: NULL / cap_action -1 keep the value; cap_action 0 clears, 1 sets. */
struct sw_tenant_patch {
    const char *name;
    const char *timezone;               /* validated by the caller (tz_valid) */
    int cap_action;
    int64_t cap;
};

struct sw_live_snapshot {
    int64_t at;
    int64_t open, breaches, warnings;
};

typedef int (*store_rollup_cb)(const struct sw_rollup_row *r, void *ud);
typedef int (*store_alert_clocks_cb)(const struct sw_alert_clocks *a, void *ud);
typedef int (*store_live_cb)(const struct sw_live_snapshot *s, void *ud);
typedef int (*store_finding_rollup_cb)(const struct sw_finding_rollup_row *r, void *ud);
typedef int (*store_alert_count_cb)(const struct sw_alert_count_row *r, void *ud);

struct store_analytics_ops {
    /* Rows of tenant_id with from_day <= day <= to_day (YYYY-MM-DD), in
     * (day, severity, project, clock) order; project_id NULL = all, clock
     * -1 = both. */
    int (*rollup_scan)(struct store *s, const char *tenant_id, const char *from_day,
                       const char *to_day, const char *project_id, int clock,
                       store_rollup_cb cb, void *ud);
    /* Recomputes the rollups of tenant_id (NULL = every tenant, and drops
     * rows of tenants that no longer exist) from the alerts and findings
     * tables: alert rollups, alert counts, finding rollups and the live
     * finding counters, in one transaction.  *rows = rows written
     * (optional). */
    int (*rollup_rebuild)(struct store *s, const char *tenant_id, int64_t *rows);
    /* A database upgraded to 0009 with stopped clocks but no rollups at all,
     * or whose migrations queued a rebuild (rollups_pending), gets them
     * rebuilt (called once at start).  *rebuilt tells. */
    int (*rollup_ensure)(struct store *s, bool *rebuilt);
    /* The tenant's alerts that are not resolved (project_id NULL = all). */
    int (*open_alerts)(struct store *s, const char *tenant_id, const char *project_id,
                       store_alert_clocks_cb cb, void *ud);
    /* Resolved alerts whose resolve clock breached, stopped in [from, to),
     * by stop instant then id, at most limit. */
    int (*breached_resolutions)(struct store *s, const char *tenant_id, int64_t from_ms,
                                int64_t to_ms, int limit, store_alert_clocks_cb cb, void *ud);
    /* NOTFOUND when the tenant does not exist. */
    int (*tenant_settings)(struct store *s, const char *tenant_id, struct sw_tenant_settings *out);
    /* Applies p; a new time zone rebuilds the tenant's rollups in the same
     * transaction.  *out = the tenant after it. */
    int (*tenant_update)(struct store *s, const char *tenant_id, const struct sw_tenant_patch *p,
                         struct sw_tenant *out);
    /* Appends a snapshot and forgets the tenant's snapshots older than
     * keep_after. */
    int (*live_add)(struct store *s, const char *tenant_id, const struct sw_live_snapshot *snap,
                    int64_t keep_after);
    /* Snapshots of the tenant with at >= from_ms, oldest first. */
    int (*live_list)(struct store *s, const char *tenant_id, int64_t from_ms,
                     store_live_cb cb, void *ud);
    /* finding_rollups rows of [from_day, to_day], in (day, severity,
     * project, status) order; project_id NULL = all. */
    int (*finding_rollup_scan)(struct store *s, const char *tenant_id, const char *from_day,
                               const char *to_day, const char *project_id,
                               store_finding_rollup_cb cb, void *ud);
    /* alert_counts rows of [from_day, to_day], in (day, severity, project)
     * order; project_id NULL = all. */
    int (*alert_count_scan)(struct store *s, const char *tenant_id, const char *from_day,
                            const char *to_day, const char *project_id,
                            store_alert_count_cb cb, void *ud);
};

static inline int store_rollup_scan(struct store *s, const char *tenant_id, const char *from_day,
                                    const char *to_day, const char *project_id, int clock,
                                    store_rollup_cb cb, void *ud)
{ return s->analytics->rollup_scan(s, tenant_id, from_day, to_day, project_id, clock, cb, ud); }
static inline int store_rollup_rebuild(struct store *s, const char *tenant_id, int64_t *rows)
{ return s->analytics->rollup_rebuild(s, tenant_id, rows); }
static inline int store_rollup_ensure(struct store *s, bool *rebuilt)
{ return s->analytics->rollup_ensure(s, rebuilt); }
static inline int store_open_alerts(struct store *s, const char *tenant_id, const char *project_id,
                                    store_alert_clocks_cb cb, void *ud)
{ return s->analytics->open_alerts(s, tenant_id, project_id, cb, ud); }
static inline int store_breached_resolutions(struct store *s, const char *tenant_id,
                                             int64_t from_ms, int64_t to_ms, int limit,
                                             store_alert_clocks_cb cb, void *ud)
{ return s->analytics->breached_resolutions(s, tenant_id, from_ms, to_ms, limit, cb, ud); }
static inline int store_tenant_settings(struct store *s, const char *tenant_id,
                                        struct sw_tenant_settings *out)
{ return s->analytics->tenant_settings(s, tenant_id, out); }
static inline int store_tenant_update(struct store *s, const char *tenant_id,
                                      const struct sw_tenant_patch *p, struct sw_tenant *out)
{ return s->analytics->tenant_update(s, tenant_id, p, out); }
static inline int store_live_add(struct store *s, const char *tenant_id,
                                 const struct sw_live_snapshot *snap, int64_t keep_after)
{ return s->analytics->live_add(s, tenant_id, snap, keep_after); }
static inline int store_finding_rollup_scan(struct store *s, const char *tenant_id,
                                            const char *from_day, const char *to_day,
                                            const char *project_id,
                                            store_finding_rollup_cb cb, void *ud)
{ return s->analytics->finding_rollup_scan(s, tenant_id, from_day, to_day, project_id, cb, ud); }
static inline int store_alert_count_scan(struct store *s, const char *tenant_id,
                                         const char *from_day, const char *to_day,
                                         const char *project_id, store_alert_count_cb cb,
                                         void *ud)
{ return s->analytics->alert_count_scan(s, tenant_id, from_day, to_day, project_id, cb, ud); }
static inline int store_live_list(struct store *s, const char *tenant_id, int64_t from_ms,
                                  store_live_cb cb, void *ud)
{ return s->analytics->live_list(s, tenant_id, from_ms, cb, ud); }

#endif
