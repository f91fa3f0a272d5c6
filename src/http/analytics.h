/* analytics.h: what the analytics and report handlers share (analytics.c):
 * the tenant's reporting context (time zone, today, targets), date and range
 * parameters that answer 422 naming the field, sums and daily series over
 * the rollups, the JSON blocks of a summary, and the live numbers of
 * /current (also the WebSocket metrics message and the 5-minute gauges).
 *
 * Definitions (docs/openapi.yaml repeats them):
 *   - days and months are the tenant's (tenants.timezone, IANA, via ICU);
 *     a clock counts on the local day it stopped;
 *   - compliance % = met / decided over stopped clocks (ack and resolve) of
 *     the period (DESIGN.md); /current adds the running clocks of open
 *     alerts already past due, as breached;
 *   - averages and p50/p90 in minutes; percentiles are nearest-rank, from
 *     the rollups' histograms (within 1 %);
 *   - health: critical when a critical alert has an active breach or
 *     compliance < 85 %, degraded when anything is breached or warning or
 *     compliance < 95 %, else healthy. */
#ifndef SW_HTTP_ANALYTICS_H
#define SW_HTTP_ANALYTICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/rollup.h"
#include "core/sla.h"
#include "store/store_analytics.h"
#include "util/tz.h"

struct req;
struct store;

#define AN_MAX_RANGE_DAYS 366
#define AN_CURRENT_DAYS 30          /* /current's compliance window */

struct an_date {
    int y, m, d;
};

struct an_ctx {
    const char *tenant_id;
    struct sw_tenant_settings set;
    struct tz tz;
    struct an_date today;
    int32_t ack_target_min[SLA_SEV_COUNT];
    int32_t res_target_min[SLA_SEV_COUNT];
    int64_t penalty_cph[SLA_SEV_COUNT];
};

/* Loads the tenant's settings, zone, today and current targets; on failure
 * answers (404 unknown tenant, 500) and returns < 0. */
int an_ctx_open(struct req *r, const char *tenant_id, struct an_ctx *x);
int an_ctx_open_store(struct store *s, const char *tenant_id, int64_t now, struct an_ctx *x);
void an_ctx_close(struct an_ctx *x);

int64_t an_date_days(struct an_date d);                 /* days since 1970-01-01 */
struct an_date an_date_add(struct an_date d, int delta);
void an_date_fmt(struct an_date d, char buf[SLA_DATE_BUFSZ]);

/* ?name= as a date: YYYY-MM-DD, or an RFC 3339 instant (its local date in
 * the tenant's zone).  Absent → *present false, 0.  Malformed or
 * impossible (2026-13-45) → 422 naming the field, < 0. */
int an_param_date(struct req *r, struct an_ctx *x, const char *name, const char *value,
                  struct an_date *out, bool *present);
/* start..end inclusive: end before start, or more than 366 days → 422
 * naming end_field. */
int an_check_range(struct req *r, const char *end_field, struct an_date a, struct an_date b);
/* ?days= 1..max (default def) → 422 "days" outside or malformed. */
int an_param_days(struct req *r, const char *name, int def, int max, int *out);
/* ?month=YYYY-MM (default: the tenant's current month) → 422 "month". */
int an_param_month(struct req *r, struct an_ctx *x, const char *name, int *y, int *m);
/* ?severity= (optional): -1 = all; 422 "severity" when unknown. */
int an_param_sev(struct req *r, int *out);
/* ?project_id= (optional). */
const char *an_param_project(struct req *r);

/* Every rollup of [a, b] merged per severity and clock. */
struct an_sum {
    struct sla_rollup ck[SLA_SEV_COUNT][SW_CLOCK_COUNT];
};
int an_sum_range(struct store *s, struct an_ctx *x, struct an_date a, struct an_date b,
                 const char *project_id, struct an_sum *out);
/* Merges severity sev (or all with sev < 0) of one clock into out. */
void an_sum_clock(const struct an_sum *sum, int sev, enum sw_clock_kind k,
                  struct sla_rollup *out);

/* A summary block over both clocks of one severity (sev >= 0: targets
 * included) or all (sev < 0: no targets):
 * {total, met, breached, compliance_pct, grade, acknowledged, resolved,
 *  mtta_avg_min, mtta_p50_min, mtta_p90_min, mtta_max_min, mtta_target_min,
 *  mttr_…, penalty_cents} (averages and percentiles null without data). */
json_t *an_block_json(const struct an_ctx *x, int sev, const struct sla_rollup *ack,
                      const struct sla_rollup *res);
/* by_severity array (critical, high, medium, low) + "summary" over all. */
json_t *an_by_severity_json(const struct an_ctx *x, const struct an_sum *sum);
json_t *an_summary_json(const struct an_ctx *x, const struct an_sum *sum);

/* Daily series over [a, a + n): per day and clock, counts, sums, maxima,
 * penalties, per-severity counts and p50/p90 (computed per day). */
struct an_day_clock {
    uint64_t count, met, breached;
    int64_t sum_ms, min_ms, max_ms, penalty_cents;
    uint64_t sev_count[SLA_SEV_COUNT];
    double p50_ms, p90_ms;
};
struct an_day {
    struct an_day_clock ck[SW_CLOCK_COUNT];
};
/* days: n entries, zeroed here.  sev < 0 = all severities; clock < 0 =
 * both (else the other clock's entries stay 0). */
int an_series(struct store *s, struct an_ctx *x, struct an_date a, int n, const char *project_id,
              int sev, int clock, struct an_day *days);
/* The target a day's clocks were held to: the severity's (sev >= 0), else the
 * mean of the severities' targets weighted by w (counts), else (no counts)
 * their plain mean. */
double an_target_min(const struct an_ctx *x, enum sw_clock_kind k, int sev,
                     const uint64_t w[SLA_SEV_COUNT]);

/* The alerts' volume and auto-resolutions (alert_counts), per severity:
 * over [a, b] (an_counts_range), or per day over [a, a + n)
 * (an_counts_series, days: n entries, zeroed here). */
struct an_counts {
    uint64_t created[SLA_SEV_COUNT], auto_resolved[SLA_SEV_COUNT];
};
int an_counts_range(struct store *s, struct an_ctx *x, struct an_date a, struct an_date b,
                    const char *project_id, struct an_counts *out);
int an_counts_series(struct store *s, struct an_ctx *x, struct an_date a, int n,
                     const char *project_id, struct an_counts *days);
/* Adds volume, auto_resolved and auto_resolve_rate_pct (auto-resolved /
 * resolved × 100, null when nothing was resolved) to a block whose
 * "resolved" is the period's resolutions; sev < 0 sums the severities. */
void an_counts_json(json_t *block, const struct an_counts *c, int sev);

double an_min(double ms);           /* ms → minutes */
json_t *an_num_or_null(bool have, double v);

/* The live numbers of a tenant. */
struct an_current {
    int64_t open_alerts, active_breaches, warnings;
    bool critical_breach;
    uint64_t met, decided;
    double compliance_pct;
    const char *health;             /* healthy | degraded | critical */
};
int an_current(struct store *s, struct an_ctx *x, int64_t now, const char *project_id,
               struct an_current *out);
json_t *an_current_json(const struct an_current *c);

/* The server's live gauges: a snapshot of every tenant's open, breaches and
 * warnings each interval (5 minutes; SLAWATCH_LIVE_SNAPSHOT_S overrides,
 * for tests), kept 8 days; and the WebSocket metrics callback adding the
 * /current numbers to each tenant's periodic metrics message (live_gauges.c). */
struct server;
struct gauges;
int gauges_start(struct server *srv, struct gauges **out);
void gauges_stop(struct gauges *l);
char *gauges_ws_metrics(const char *tenant_id, void *srv);

#endif
