/* api_findings_numbers.c: findings in numbers (API.md): the per-severity
 * summary (/sla/findings/summary), the upcoming deadlines
 * (/sla/findings/upcoming) and the monthly findings report
 * (/sla/reports/{tenant_id}/findings, JSON or CSV).
 *
 * Definitions (docs/openapi.yaml repeats them):
 *   - a finding is "closed" when it reaches any terminal status (closed,
 *     false_positive, accepted_risk, not_accessible); it counts on the
 *     tenant-local day it closed, once, as it stands (a reopen takes it
 *     back); met when it closed at or before its deadline, else breached;
 *   - breach rate % = breached / closed of the period; null when nothing
 *     closed (no data is not 0 % and not 100 %);
 *   - MTTR = active remediation time, discovery to close, pauses excluded;
 *     average exact, p50/p90 nearest-rank from the rollups' histograms,
 *     clamped to the observed minimum and maximum; in hours; null without
 *     data;
 *   - open / paused: live findings now; overdue: open and past their
 *     deadline; due_7d: open, deadline within the next 7 days (not yet
 *     past);
 *   - the summary's window is the 30 local days ending today. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/analytics.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_findings.h"
#include "util/xalloc.h"

#define SUMMARY_DAYS 30
#define DUE_SOON_MS (7 * SLA_MS_PER_DAY)
#define UPCOMING_HOURS_DEFAULT 168
#define UPCOMING_HOURS_MAX 8760
#define UPCOMING_LIMIT_DEFAULT 100
#define UPCOMING_LIMIT_MAX 1000

static const enum sla_finding_state STATUSES[] = {
    SLA_FINDING_CLOSED, SLA_FINDING_FALSE_POSITIVE, SLA_FINDING_ACCEPTED_RISK,
    SLA_FINDING_NOT_ACCESSIBLE};
#define NSTATUS 4

static int status_index(enum sla_finding_state s)
{
    for (int i = 0; i < NSTATUS; i++)
        if (STATUSES[i] == s)
            return i;
    return 0;
}

/* ?project_id=: NULL when absent; 422 when not an id (answered). */
static int project_param(struct req *r, const char **out)
{
    *out = an_param_project(r);
    if (*out && !http_id_valid(*out)) {
        http_error(r, 422, "invalid", "project_id", "project_id is not a valid id");
        return SW_E_INVAL;
    }
    return 0;
}

/* Closed findings of one severity (or all), merged over rows. */
struct closed {
    struct sla_rollup r;
    uint64_t by_status[NSTATUS];
};

static void closed_add(struct closed *c, const struct sw_finding_rollup_row *row, int *bad)
{
    if (row->count && (c->r.count == 0 || row->min_ms < c->r.min_ms))
        c->r.min_ms = row->min_ms;
    if (row->max_ms > c->r.max_ms)
        c->r.max_ms = row->max_ms;
    c->r.count += row->count;
    c->r.met += row->met;
    c->r.breached += row->breached;
    c->r.sum_ms += row->sum_ms;
    c->by_status[status_index(row->status)] += row->count;
    if (sla_hist_decode_add(&c->r.hist, row->hist, row->hist_len) < 0)
        (*bad)++;
}

static double hours_of(double ms)
{
    return ms / (double)SLA_MS_PER_HOUR;
}

/* closed, met, breached, breach_rate_pct, mttr_* of c into o; prefix ""
 * or "_30d"-style suffix on the counts (the summary's names). */
static void closed_fields(json_t *o, const struct closed *c, const char *count_suffix)
{
    char k[40];
    const struct sla_rollup *r = &c->r;
    bool have = r->count > 0;
    snprintf(k, sizeof(k), "closed%s", count_suffix);
    json_object_set_new(o, k, json_integer((json_int_t)r->count));
    snprintf(k, sizeof(k), "met%s", count_suffix);
    json_object_set_new(o, k, json_integer((json_int_t)r->met));
    snprintf(k, sizeof(k), "breached%s", count_suffix);
    json_object_set_new(o, k, json_integer((json_int_t)r->breached));
    json_object_set_new(o, "breach_rate_pct",
                        an_num_or_null(have, have ? 100.0 * (double)r->breached /
                                                        (double)r->count : 0));
    json_object_set_new(o, "mttr_avg_hours", an_num_or_null(have, hours_of(sla_rollup_avg_ms(r))));
    static const unsigned pcts[2] = {50, 90};
    for (int i = 0; i < 2; i++) {
        double q = 0;
        bool ok = have && sla_rollup_quantile(r, pcts[i], &q) == 0;
        snprintf(k, sizeof(k), "mttr_p%u_hours", pcts[i]);
        json_object_set_new(o, k, an_num_or_null(ok, hours_of(q)));
    }
    json_object_set_new(o, "mttr_max_hours", an_num_or_null(have, hours_of((double)r->max_ms)));
    json_t *bs = json_object();
    for (int i = 0; i < NSTATUS; i++)
        json_object_set_new(bs, sla_finding_state_name(STATUSES[i]),
                            json_integer((json_int_t)c->by_status[i]));
    json_object_set_new(o, "by_status", bs);
}

/* ---- summary ------------------------------------------------------------------ */

struct live_sum {
    int64_t open[SLA_SEV_COUNT], paused[SLA_SEV_COUNT];
    int64_t overdue[SLA_SEV_COUNT], due[SLA_SEV_COUNT];
};

static int live_add(const struct sw_finding_group_numbers *g, void *ud)
{
    struct live_sum *l = ud;
    l->open[g->sev] += g->open;
    l->paused[g->sev] += g->paused;
    l->overdue[g->sev] += g->overdue;
    l->due[g->sev] += g->due_soon;
    return 0;
}

struct closed_sum {
    struct closed c[SLA_SEV_COUNT];
    int bad;
};

static int closed_row(const struct sw_finding_rollup_row *row, void *ud)
{
    struct closed_sum *u = ud;
    closed_add(&u->c[row->sev], row, &u->bad);
    return 0;
}

static int closed_range(struct store *s, struct an_ctx *x, struct an_date a, struct an_date b,
                        const char *project, store_finding_rollup_cb cb, void *ud)
{
    char from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
    an_date_fmt(a, from);
    an_date_fmt(b, to);
    return store_finding_rollup_scan(s, x->tenant_id, from, to, project, cb, ud);
}

void api_findings_summary(struct req *r)
{
    const char *project;
    struct an_ctx x;
    if (project_param(r, &project) < 0 || an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    struct live_sum live;
    memset(&live, 0, sizeof(live));
    struct closed_sum *cs = xcalloc(1, sizeof(*cs));
    int rc = store_finding_live_numbers(r->srv->store, r->tenant_id, project, r->now,
                                        DUE_SOON_MS, live_add, &live);
    if (rc == 0)
        rc = closed_range(r->srv->store, &x, an_date_add(x.today, -(SUMMARY_DAYS - 1)), x.today,
                          project, closed_row, cs);
    if (rc == 0 && cs->bad)
        rc = SW_E_STORE;
    if (rc < 0) {
        http_fail(r, rc, "findings summary");
    } else {
        json_t *arr = json_array();
        for (int sev = 0; sev < SLA_SEV_COUNT; sev++) {
            json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "severity",
                                  sla_sev_name((enum sla_sev)sev), "open",
                                  (json_int_t)live.open[sev], "paused",
                                  (json_int_t)live.paused[sev], "overdue",
                                  (json_int_t)live.overdue[sev], "due_7d",
                                  (json_int_t)live.due[sev]);
            closed_fields(o, &cs->c[sev], "_30d");
            json_array_append_new(arr, o);
        }
        http_json(r, 200, arr);
    }
    free(cs);
    an_ctx_close(&x);
}

/* ---- upcoming ------------------------------------------------------------------- */

struct up_ud {
    json_t *items;
    int64_t now;
};

static int up_item(const struct sw_finding_due *d, void *ud)
{
    struct up_ud *u = ud;
    json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:f}", "finding_id", d->id, "project_id",
                          d->project_id[0] ? json_string(d->project_id) : json_null(),
                          "severity", sla_sev_name(d->sev), "sla_deadline",
                          json_time(d->deadline), "hours_left",
                          hours_of((double)(d->deadline - u->now)));
    json_array_append_new(u->items, o);
    return 0;
}

void api_findings_upcoming(struct req *r)
{
    const char *project;
    int64_t hours = UPCOMING_HOURS_DEFAULT, limit = UPCOMING_LIMIT_DEFAULT;
    if (project_param(r, &project) < 0 ||
        q_int(r, "hours", 1, UPCOMING_HOURS_MAX, &hours) < 0 ||
        q_int(r, "limit", 1, UPCOMING_LIMIT_MAX, &limit) < 0)
        return;
    struct sw_tenant t;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &t);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        return;
    }
    struct up_ud u = {json_array(), r->now};
    rc = store_finding_upcoming(r->srv->store, r->tenant_id, project, r->now,
                                r->now + hours * SLA_MS_PER_HOUR, (int)limit, up_item, &u);
    if (rc < 0) {
        json_decref(u.items);
        http_fail(r, rc, "upcoming");
        return;
    }
    http_json(r, 200, json_pack("{s:s, s:I, s:o}", "tenant_id", r->tenant_id, "hours",
                                (json_int_t)hours, "items", u.items));
}

/* ---- the monthly findings report ------------------------------------------------------ */

struct month_ud {
    struct closed sev[SLA_SEV_COUNT];
    struct closed *days;            /* one per local day, all severities */
    int64_t first;                  /* days number of day 0 */
    int n, bad;
};

static int month_row(const struct sw_finding_rollup_row *row, void *ud)
{
    struct month_ud *u = ud;
    closed_add(&u->sev[row->sev], row, &u->bad);
    int y, m, d;
    if (sla_date_parse(row->day, &y, &m, &d) == 0) {
        int64_t i = sla_days_from_civil(y, m, d) - u->first;
        if (i >= 0 && i < u->n)
            closed_add(&u->days[i], row, &u->bad);
    }
    return 0;
}

static const char CSV_HEADER[] =
    "date,severity,closed,met,breached,breach_rate_pct,mttr_avg_hours,mttr_p50_hours,"
    "mttr_p90_hours,status_closed,status_false_positive,status_accepted_risk,"
    "status_not_accessible\r\n";

static void csv_hours(FILE *f, bool have, double ms)
{
    if (have)
        fprintf(f, ",%.3f", hours_of(ms));
    else
        fputs(",", f);
}

static void csv_row(FILE *f, const char *date, const char *sev, const struct closed *c)
{
    const struct sla_rollup *r = &c->r;
    bool have = r->count > 0;
    double q50 = 0, q90 = 0;
    if (have) {
        sla_rollup_quantile(r, 50, &q50);
        sla_rollup_quantile(r, 90, &q90);
    }
    fprintf(f, "%s,%s,%llu,%llu,%llu,", date, sev, (unsigned long long)r->count,
            (unsigned long long)r->met, (unsigned long long)r->breached);
    if (have)
        fprintf(f, "%.2f", 100.0 * (double)r->breached / (double)r->count);
    csv_hours(f, have, sla_rollup_avg_ms(r));
    csv_hours(f, have, q50);
    csv_hours(f, have, q90);
    for (int i = 0; i < NSTATUS; i++)
        fprintf(f, ",%llu", (unsigned long long)c->by_status[i]);
    fputs("\r\n", f);
}

static void closed_merge(struct closed *dst, const struct closed *src)
{
    sla_rollup_merge(&dst->r, &src->r);
    for (int i = 0; i < NSTATUS; i++)
        dst->by_status[i] += src->by_status[i];
}

void api_report_findings(struct req *r)
{
    const char *project;
    struct an_ctx x;
    int y, m;
    if (project_param(r, &project) < 0 || an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    const char *fmt = http_query(r, "format");
    bool csv = fmt && !strcmp(fmt, "csv");
    if (fmt && !csv && strcmp(fmt, "json")) {
        http_error(r, 422, "invalid", "format", "format must be json or csv");
        an_ctx_close(&x);
        return;
    }
    if (an_param_month(r, &x, "month", &y, &m) < 0) {
        an_ctx_close(&x);
        return;
    }
    int n = sla_days_in_month(y, m);
    struct an_date a = {y, m, 1}, b = {y, m, n};
    struct month_ud *u = xcalloc(1, sizeof(*u));
    u->days = xcalloc((size_t)n, sizeof(*u->days));
    u->first = an_date_days(a);
    u->n = n;
    int rc = closed_range(r->srv->store, &x, a, b, project, month_row, u);
    if (rc == 0 && u->bad)
        rc = SW_E_STORE;
    struct closed *all = xcalloc(1, sizeof(*all));
    for (int sev = 0; sev < SLA_SEV_COUNT; sev++)
        closed_merge(all, &u->sev[sev]);
    char month[16], from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
    snprintf(month, sizeof(month), "%04d-%02d", y, m);
    an_date_fmt(a, from);
    an_date_fmt(b, to);
    if (rc < 0) {
        http_fail(r, rc, "findings report");
    } else if (csv) {
        char *buf = NULL, name[96];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fputs(CSV_HEADER, f);
        for (int i = 0; i < n; i++) {
            char ds[SLA_DATE_BUFSZ];
            an_date_fmt(an_date_add(a, i), ds);
            csv_row(f, ds, "all", &u->days[i]);
        }
        for (int sev = 0; sev < SLA_SEV_COUNT; sev++)
            csv_row(f, month, sla_sev_name((enum sla_sev)sev), &u->sev[sev]);
        csv_row(f, month, "all", all);
        fclose(f);
        http_raw(r, 200, "text/csv; charset=utf-8", buf, len);
        snprintf(name, sizeof(name), "attachment; filename=\"findings-monthly-%s.csv\"", month);
        http_add_header(r, "Content-Disposition", name);
    } else {
        json_t *sm = json_object();
        closed_fields(sm, all, "");
        json_t *by = json_array();
        for (int sev = 0; sev < SLA_SEV_COUNT; sev++) {
            json_t *o = json_pack("{s:s}", "severity", sla_sev_name((enum sla_sev)sev));
            closed_fields(o, &u->sev[sev], "");
            json_array_append_new(by, o);
        }
        json_t *dl = json_array();
        for (int i = 0; i < n; i++) {
            char ds[SLA_DATE_BUFSZ];
            an_date_fmt(an_date_add(a, i), ds);
            json_array_append_new(dl, json_pack("{s:s, s:I, s:I}", "date", ds, "closed",
                                                (json_int_t)u->days[i].r.count, "breached",
                                                (json_int_t)u->days[i].r.breached));
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "tenant_id",
                              r->tenant_id, "month", month, "timezone", x.tz.name, "start_date",
                              from, "end_date", to, "project_id",
                              project ? json_string(project) : json_null(), "summary", sm,
                              "by_severity", by, "days", dl);
        http_json(r, 200, o);
    }
    free(all);
    free(u->days);
    free(u);
    an_ctx_close(&x);
}
