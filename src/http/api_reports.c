/* api_reports.c: reports and penalties of one tenant
 * (/api/v1/sla/reports/{tenant_id}/daily, /monthly, /trends, /compare;
 * /api/v1/sla/penalties/{tenant_id}, /summary), from the rollups; the list
 * of breaches with their amounts reads the breached resolutions (indexed).
 * Days and months are the tenant's (analytics.h).  CSV: ?format=csv, one
 * header row, then rows as documented in docs/openapi.yaml. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/analytics.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "util/xalloc.h"

#define PENALTY_LIST_DEFAULT 1000
#define PENALTY_LIST_MAX 10000

/* ?format=json|csv → 1 for csv, 0 json, < 0 answered 422. */
static int want_csv(struct req *r)
{
    const char *f = http_query(r, "format");
    if (!f || !strcmp(f, "json"))
        return 0;
    if (!strcmp(f, "csv"))
        return 1;
    http_error(r, 422, "invalid", "format", "format must be json or csv");
    return SW_E_INVAL;
}

/* ---- CSV ------------------------------------------------------------------ */

static const char CSV_HEADER[] =
    "date,severity,total,met,breached,compliance_pct,grade,acknowledged,mtta_avg_min,"
    "mtta_p50_min,mtta_p90_min,resolved,mttr_avg_min,mttr_p50_min,mttr_p90_min,"
    "penalty_cents,volume,auto_resolved,auto_resolve_rate_pct\r\n";

struct csv_clock {
    uint64_t count, met, breached;
    int64_t sum_ms, penalty_cents;
    double p50_ms, p90_ms;
};

static void csv_from_rollup(const struct sla_rollup *r, struct csv_clock *o)
{
    memset(o, 0, sizeof(*o));
    o->count = r->count;
    o->met = r->met;
    o->breached = r->breached;
    o->sum_ms = r->sum_ms;
    o->penalty_cents = r->penalty_cents;
    if (r->count) {
        sla_rollup_quantile(r, 50, &o->p50_ms);
        sla_rollup_quantile(r, 90, &o->p90_ms);
    }
}

static void csv_from_day(const struct an_day_clock *d, struct csv_clock *o)
{
    o->count = d->count;
    o->met = d->met;
    o->breached = d->breached;
    o->sum_ms = d->sum_ms;
    o->penalty_cents = d->penalty_cents;
    o->p50_ms = d->p50_ms;
    o->p90_ms = d->p90_ms;
}

static void csv_min(FILE *f, bool have, double ms)
{
    if (have)
        fprintf(f, ",%.3f", an_min(ms));
    else
        fputs(",", f);
}

static void csv_row(FILE *f, const char *date, const char *sev, const struct csv_clock *a,
                    const struct csv_clock *res, uint64_t volume, uint64_t autor)
{
    uint64_t met = a->met + res->met, decided = a->count + res->count;
    fprintf(f, "%s,%s,%llu,%llu,%llu,%.2f,%c,%llu", date, sev, (unsigned long long)decided,
            (unsigned long long)met, (unsigned long long)(a->breached + res->breached),
            sla_compliance_pct(met, decided), sla_grade_counts(met, decided),
            (unsigned long long)a->count);
    csv_min(f, a->count > 0, a->count ? (double)a->sum_ms / (double)a->count : 0);
    csv_min(f, a->count > 0, a->p50_ms);
    csv_min(f, a->count > 0, a->p90_ms);
    fprintf(f, ",%llu", (unsigned long long)res->count);
    csv_min(f, res->count > 0, res->count ? (double)res->sum_ms / (double)res->count : 0);
    csv_min(f, res->count > 0, res->p50_ms);
    csv_min(f, res->count > 0, res->p90_ms);
    fprintf(f, ",%lld,%llu,%llu,", (long long)(a->penalty_cents + res->penalty_cents),
            (unsigned long long)volume, (unsigned long long)autor);
    if (res->count)
        fprintf(f, "%.2f", 100.0 * (double)autor / (double)res->count);
    fputs("\r\n", f);
}

static uint64_t counts_of(const struct an_counts *c, int sev, bool autor)
{
    uint64_t n = 0;
    for (int i = SLA_SEV_CRITICAL; i < SLA_SEV_COUNT; i++)
        if (sev < 0 || sev == i)
            n += autor ? c->auto_resolved[i] : c->created[i];
    return n;
}

/* The blocks of a summary and its by_severity with the period's counts. */
static void add_counts(json_t *summary, json_t *by, const struct an_counts *c)
{
    an_counts_json(summary, c, -1);
    for (size_t i = 0; i < json_array_size(by); i++)
        an_counts_json(json_array_get(by, i), c, SLA_SEV_CRITICAL + (int)i);
}

/* Per severity, then "all", of a sum, under the label `date`. */
static void csv_sum_rows(FILE *f, const char *date, const struct an_sum *sum,
                         const struct an_counts *c)
{
    struct csv_clock a, res;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        csv_from_rollup(&sum->ck[sev][SW_CLOCK_ACK], &a);
        csv_from_rollup(&sum->ck[sev][SW_CLOCK_RESOLVE], &res);
        csv_row(f, date, sla_sev_name((enum sla_sev)sev), &a, &res, counts_of(c, sev, false),
                counts_of(c, sev, true));
    }
    struct sla_rollup *ra = xmalloc(sizeof(*ra)), *rr = xmalloc(sizeof(*rr));
    an_sum_clock(sum, -1, SW_CLOCK_ACK, ra);
    an_sum_clock(sum, -1, SW_CLOCK_RESOLVE, rr);
    csv_from_rollup(ra, &a);
    csv_from_rollup(rr, &res);
    csv_row(f, date, "all", &a, &res, counts_of(c, -1, false), counts_of(c, -1, true));
    free(ra);
    free(rr);
}

/* Closes f (open_memstream on *buf, *len: both final only after fclose). */
static void csv_send(struct req *r, FILE *f, char **buf, size_t *len, const char *name)
{
    fclose(f);
    http_raw(r, 200, "text/csv; charset=utf-8", *buf, *len);
    char disp[160];
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", name);
    http_add_header(r, "Content-Disposition", disp);
}

/* ---- daily and monthly ------------------------------------------------------ */

static json_t *day_json(const struct an_ctx *x, struct an_date date, const struct an_day *d)
{
    char ds[SLA_DATE_BUFSZ];
    an_date_fmt(date, ds);
    const struct an_day_clock *a = &d->ck[SW_CLOCK_ACK], *res = &d->ck[SW_CLOCK_RESOLVE];
    uint64_t met = a->met + res->met, decided = a->count + res->count;
    char grade[2] = {sla_grade_counts(met, decided), 0};
    (void)x;
    return json_pack("{s:s, s:I, s:I, s:I, s:f, s:s, s:I, s:o, s:o, s:I, s:o, s:o, s:I}",
                     "date", ds, "total", (json_int_t)decided, "met", (json_int_t)met,
                     "breached", (json_int_t)(a->breached + res->breached),
                     "compliance_pct", sla_compliance_pct(met, decided), "grade", grade,
                     "acknowledged", (json_int_t)a->count,
                     "mtta_avg_min", an_num_or_null(a->count > 0, a->count ? an_min((double)a->sum_ms / (double)a->count) : 0),
                     "mtta_p90_min", an_num_or_null(a->count > 0, an_min(a->p90_ms)),
                     "resolved", (json_int_t)res->count,
                     "mttr_avg_min", an_num_or_null(res->count > 0, res->count ? an_min((double)res->sum_ms / (double)res->count) : 0),
                     "mttr_p90_min", an_num_or_null(res->count > 0, an_min(res->p90_ms)),
                     "penalty_cents", (json_int_t)(a->penalty_cents + res->penalty_cents));
}

void api_report_daily(struct req *r)
{
    struct an_ctx x;
    struct an_date d;
    bool has;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    int csv = want_csv(r);
    if (csv < 0 || an_param_date(r, &x, "date", http_query(r, "date"), &d, &has) < 0) {
        an_ctx_close(&x);
        return;
    }
    if (!has)
        d = x.today;
    struct an_sum *sum = xmalloc(sizeof(*sum));
    struct an_counts cnt;
    int rc = an_sum_range(r->srv->store, &x, d, d, an_param_project(r), sum);
    if (rc == 0)
        rc = an_counts_range(r->srv->store, &x, d, d, an_param_project(r), &cnt);
    char ds[SLA_DATE_BUFSZ];
    an_date_fmt(d, ds);
    if (rc < 0) {
        http_fail(r, rc, "report");
    } else if (csv) {
        char *buf = NULL, name[64];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fputs(CSV_HEADER, f);
        csv_sum_rows(f, ds, sum, &cnt);
        snprintf(name, sizeof(name), "sla-daily-%s.csv", ds);
        csv_send(r, f, &buf, &len, name);
    } else {
        json_t *sm = an_summary_json(&x, sum), *by = an_by_severity_json(&x, sum);
        add_counts(sm, by, &cnt);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "tenant_id", r->tenant_id,
                              "date", ds, "timezone", x.tz.name, "summary", sm,
                              "by_severity", by);
        http_json(r, 200, o);
    }
    free(sum);
    an_ctx_close(&x);
}

void api_report_monthly(struct req *r)
{
    struct an_ctx x;
    int y, m;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    int csv = want_csv(r);
    if (csv < 0 || an_param_month(r, &x, "month", &y, &m) < 0) {
        an_ctx_close(&x);
        return;
    }
    int n = sla_days_in_month(y, m);
    struct an_date a = {y, m, 1}, b = {y, m, n};
    const char *project = an_param_project(r);
    struct an_sum *sum = xmalloc(sizeof(*sum));
    struct an_day *days = xmalloc((size_t)n * sizeof(*days));
    struct an_counts cnt, *cdays = xmalloc((size_t)n * sizeof(*cdays));
    int rc = an_sum_range(r->srv->store, &x, a, b, project, sum);
    if (rc == 0)
        rc = an_series(r->srv->store, &x, a, n, project, -1, -1, days);
    if (rc == 0)
        rc = an_counts_range(r->srv->store, &x, a, b, project, &cnt);
    if (rc == 0)
        rc = an_counts_series(r->srv->store, &x, a, n, project, cdays);
    char month[16];
    snprintf(month, sizeof(month), "%04d-%02d", y, m);
    if (rc < 0) {
        http_fail(r, rc, "report");
    } else if (csv) {
        char *buf = NULL, name[64];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fputs(CSV_HEADER, f);
        for (int i = 0; i < n; i++) {
            char ds[SLA_DATE_BUFSZ];
            struct csv_clock ca, cr;
            an_date_fmt(an_date_add(a, i), ds);
            csv_from_day(&days[i].ck[SW_CLOCK_ACK], &ca);
            csv_from_day(&days[i].ck[SW_CLOCK_RESOLVE], &cr);
            csv_row(f, ds, "all", &ca, &cr, counts_of(&cdays[i], -1, false),
                    counts_of(&cdays[i], -1, true));
        }
        csv_sum_rows(f, month, sum, &cnt);
        snprintf(name, sizeof(name), "sla-monthly-%s.csv", month);
        csv_send(r, f, &buf, &len, name);
    } else {
        json_t *dl = json_array();
        for (int i = 0; i < n; i++) {
            json_t *dj = day_json(&x, an_date_add(a, i), &days[i]);
            an_counts_json(dj, &cdays[i], -1);
            json_array_append_new(dl, dj);
        }
        char from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
        an_date_fmt(a, from);
        an_date_fmt(b, to);
        json_t *sm = an_summary_json(&x, sum), *by = an_by_severity_json(&x, sum);
        add_counts(sm, by, &cnt);
        int64_t total = json_integer_value(json_object_get(sm, "penalty_cents"));
        json_t *pen = json_pack("{s:I, s:o, s:I}", "total_cents", (json_int_t)total,
                                "cap_cents", x.set.has_cap ? json_integer(x.set.monthly_penalty_cap)
                                                           : json_null(),
                                "credited_cents",
                                (json_int_t)(x.set.has_cap && total > x.set.monthly_penalty_cap
                                                 ? x.set.monthly_penalty_cap : total));
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
                              "tenant_id", r->tenant_id, "month", month, "timezone", x.tz.name,
                              "start_date", from, "end_date", to, "summary", sm,
                              "by_severity", by, "days", dl, "penalties", pen);
        http_json(r, 200, o);
    }
    free(cdays);
    free(days);
    free(sum);
    an_ctx_close(&x);
}

/* ---- trends ------------------------------------------------------------------ */

/* metric: mtta | mttr (daily average minutes against the target, with
 * p50/p90), compliance (daily %), volume (alerts created that local day),
 * auto_resolve_rate (% of the day's resolutions never acknowledged; null on
 * a day without resolutions).  ?severity= narrows every metric. */
void api_report_trends(struct req *r)
{
    static const char *const metrics[] = {"mtta", "mttr", "compliance", "volume",
                                          "auto_resolve_rate"};
    enum { M_MTTA, M_MTTR, M_COMPLIANCE, M_VOLUME, M_AUTO, M_COUNT };
    struct an_ctx x;
    int days, sev;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    const char *metric = http_query(r, "metric");
    int kind = -1;
    for (int i = 0; metric && i < M_COUNT; i++)
        if (!strcmp(metric, metrics[i]))
            kind = i;
    if (kind < 0) {
        http_error(r, 422, "invalid", "metric",
                   "metric must be one of mtta, mttr, compliance, volume, auto_resolve_rate");
        an_ctx_close(&x);
        return;
    }
    if (an_param_days(r, "days", 90, 365, &days) < 0 || an_param_sev(r, &sev) < 0) {
        an_ctx_close(&x);
        return;
    }
    struct an_date a = an_date_add(x.today, -(days - 1));
    struct an_day *d = xmalloc((size_t)days * sizeof(*d));
    struct an_counts *cd = xcalloc((size_t)days, sizeof(*cd));
    int clock = kind == M_MTTA ? SW_CLOCK_ACK : kind == M_COMPLIANCE ? -1 : SW_CLOCK_RESOLVE;
    int rc = kind == M_VOLUME ? 0
                              : an_series(r->srv->store, &x, a, days, an_param_project(r), sev,
                                          clock, d);
    if (rc == 0 && (kind == M_VOLUME || kind == M_AUTO))
        rc = an_counts_series(r->srv->store, &x, a, days, an_param_project(r), cd);
    if (rc < 0) {
        http_fail(r, rc, "trends");
        free(d);
        free(cd);
        an_ctx_close(&x);
        return;
    }
    json_t *pts = json_array();
    for (int i = 0; i < days; i++) {
        char ds[SLA_DATE_BUFSZ];
        an_date_fmt(an_date_add(a, i), ds);
        json_t *p;
        if (kind == M_COMPLIANCE) {
            uint64_t met = d[i].ck[0].met + d[i].ck[1].met;
            uint64_t dec = d[i].ck[0].count + d[i].ck[1].count;
            p = json_pack("{s:s, s:f, s:I, s:I, s:f}", "date", ds,
                          "value", sla_compliance_pct(met, dec), "count", (json_int_t)dec,
                          "met", (json_int_t)met, "target", 95.0);
        } else if (kind == M_VOLUME) {
            json_t *by = json_object();
            for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
                json_object_set_new(by, sla_sev_name((enum sla_sev)s),
                                    json_integer((json_int_t)cd[i].created[s]));
            uint64_t n = counts_of(&cd[i], sev, false);
            p = json_pack("{s:s, s:I, s:I, s:o}", "date", ds, "value", (json_int_t)n, "count",
                          (json_int_t)n, "by_severity", by);
        } else if (kind == M_AUTO) {
            uint64_t res = d[i].ck[SW_CLOCK_RESOLVE].count, au = counts_of(&cd[i], sev, true);
            p = json_pack("{s:s, s:o, s:I, s:I, s:I}", "date", ds, "value",
                          an_num_or_null(res > 0, res ? 100.0 * (double)au / (double)res : 0),
                          "count", (json_int_t)res, "resolved", (json_int_t)res,
                          "auto_resolved", (json_int_t)au);
        } else {
            enum sw_clock_kind k = kind == M_MTTA ? SW_CLOCK_ACK : SW_CLOCK_RESOLVE;
            const struct an_day_clock *c = &d[i].ck[k];
            p = json_pack("{s:s, s:f, s:I, s:f, s:f, s:f}", "date", ds,
                          "value", c->count ? an_min((double)c->sum_ms / (double)c->count) : 0.0,
                          "count", (json_int_t)c->count,
                          "target", an_target_min(&x, k, sev, c->sev_count),
                          "p50", an_min(c->p50_ms), "p90", an_min(c->p90_ms));
        }
        json_array_append_new(pts, p);
    }
    free(d);
    free(cd);
    static const char *const units[] = {"minutes", "minutes", "percent", "alerts", "percent"};
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "tenant_id", r->tenant_id,
                          "metric", metric, "unit", units[kind], "days", days, "timezone",
                          x.tz.name, "points", pts);
    json_object_set_new(o, "severity", sev >= 0 ? json_string(sla_sev_name((enum sla_sev)sev))
                                                : json_null());
    http_json(r, 200, o);
    an_ctx_close(&x);
}

/* ---- compare ------------------------------------------------------------------ */

static int body_date(struct req *r, struct an_ctx *x, const char *field, struct an_date *out)
{
    json_t *v = json_object_get(r->json, field);
    if (!v || json_is_null(v)) {
        http_error(r, 422, "invalid", field, "%s is required", field);
        return SW_E_INVAL;
    }
    if (!json_is_string(v)) {
        http_error(r, 422, "invalid", field, "%s must be a string", field);
        return SW_E_INVAL;
    }
    return an_param_date(r, x, field, json_string_value(v), out, NULL);
}

static const char *const CMP_KEYS[] = {
    "compliance_pct", "mtta_avg_min", "mtta_p50_min", "mtta_p90_min", "mttr_avg_min",
    "mttr_p50_min", "mttr_p90_min", "total", "met", "breached", "acknowledged", "resolved",
    "penalty_cents",
};

void api_report_compare(struct req *r)
{
    struct an_ctx x;
    struct an_date p[4];
    static const char *const f[4] = {"period1_start", "period1_end", "period2_start",
                                     "period2_end"};
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    for (int i = 0; i < 4; i++)
        if (body_date(r, &x, f[i], &p[i]) < 0) {
            an_ctx_close(&x);
            return;
        }
    if (an_check_range(r, "period1_end", p[0], p[1]) < 0 ||
        an_check_range(r, "period2_end", p[2], p[3]) < 0) {
        an_ctx_close(&x);
        return;
    }
    struct an_sum *sum = xmalloc(sizeof(*sum));
    json_t *per[2] = {NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = an_sum_range(r->srv->store, &x, p[2 * i], p[2 * i + 1], NULL, sum);
        if (rc == 0) {
            char a[SLA_DATE_BUFSZ], b[SLA_DATE_BUFSZ];
            an_date_fmt(p[2 * i], a);
            an_date_fmt(p[2 * i + 1], b);
            per[i] = an_summary_json(&x, sum);
            json_object_set_new(per[i], "start_date", json_string(a));
            json_object_set_new(per[i], "end_date", json_string(b));
            json_object_set_new(per[i], "days", json_integer(an_date_days(p[2 * i + 1]) -
                                                             an_date_days(p[2 * i]) + 1));
            json_object_set_new(per[i], "by_severity", an_by_severity_json(&x, sum));
        }
    }
    free(sum);
    if (rc < 0) {
        json_decref(per[0]);
        json_decref(per[1]);
        an_ctx_close(&x);
        http_fail(r, rc, "compare");
        return;
    }
    /* delta = period2 − period1; percent_change relative to period1 (null
     * when period1's value is 0 or either is missing) */
    json_t *delta = json_object(), *pct = json_object();
    for (size_t i = 0; i < sizeof(CMP_KEYS) / sizeof(CMP_KEYS[0]); i++) {
        json_t *v1 = json_object_get(per[0], CMP_KEYS[i]);
        json_t *v2 = json_object_get(per[1], CMP_KEYS[i]);
        if (!json_is_number(v1) || !json_is_number(v2)) {
            json_object_set_new(delta, CMP_KEYS[i], json_null());
            json_object_set_new(pct, CMP_KEYS[i], json_null());
            continue;
        }
        double a = json_number_value(v1), b = json_number_value(v2);
        if (json_is_integer(v1) && json_is_integer(v2))
            json_object_set_new(delta, CMP_KEYS[i],
                                json_integer(json_integer_value(v2) - json_integer_value(v1)));
        else
            json_object_set_new(delta, CMP_KEYS[i], json_real(b - a));
        json_object_set_new(pct, CMP_KEYS[i],
                            a != 0 ? json_real((b - a) / (a < 0 ? -a : a) * 100.0) : json_null());
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "tenant_id", r->tenant_id,
                          "timezone", x.tz.name, "period1", per[0], "period2", per[1],
                          "delta", delta, "percent_change", pct);
    an_ctx_close(&x);
    http_json(r, 200, o);
}

/* ---- penalties ------------------------------------------------------------------ */

/* The local month [y-m-01, next month) as UTC instants. */
static int month_bounds(struct an_ctx *x, int y, int m, int64_t *from, int64_t *to)
{
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    if (tz_day_start(&x->tz, y, m, 1, from) < 0 || tz_day_start(&x->tz, ny, nm, 1, to) < 0)
        return SW_E_INVAL;
    return 0;
}

struct pen_ud {
    json_t *items;
    int64_t total;
};

static int pen_item(const struct sw_alert_clocks *a, void *ud)
{
    struct pen_ud *u = ud;
    const struct sla_clock *k = &a->resolve;
    int64_t over = sla_clock_overage(k, k->stopped_at);
    int64_t hours = over / SLA_MS_PER_HOUR + (over % SLA_MS_PER_HOUR != 0);
    int64_t amount = sla_penalty_cents(a->penalty_cph, over);
    u->total += amount;
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:f, s:f, s:I, s:I, s:I}",
                          "alert_id", a->id, "severity", sla_sev_name(a->sev),
                          "created_at", json_time(a->created_at),
                          "resolved_at", json_time(k->stopped_at),
                          "due_at", json_time(sla_clock_due(k, k->stopped_at)),
                          "target_min", an_min((double)k->target_ms),
                          "overage_min", an_min((double)over), "hours_billed", (json_int_t)hours,
                          "rate_cents_per_hour", (json_int_t)a->penalty_cph,
                          "amount_cents", (json_int_t)amount);
    json_object_set_new(o, "project_id", a->project_id[0] ? json_string(a->project_id)
                                                           : json_null());
    json_array_append_new(u->items, o);
    return 0;
}

void api_penalties_list(struct req *r)
{
    struct an_ctx x;
    int y, m, limit;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    if (an_param_month(r, &x, "month", &y, &m) < 0 ||
        an_param_days(r, "limit", PENALTY_LIST_DEFAULT, PENALTY_LIST_MAX, &limit) < 0) {
        an_ctx_close(&x);
        return;
    }
    int64_t from, to;
    if (month_bounds(&x, y, m, &from, &to) < 0) {
        http_error(r, 422, "invalid", "month", "month out of range");
        an_ctx_close(&x);
        return;
    }
    struct pen_ud u = {json_array(), 0};
    int rc = store_breached_resolutions(r->srv->store, r->tenant_id, from, to, limit + 1,
                                        pen_item, &u);
    if (rc < 0) {
        json_decref(u.items);
        an_ctx_close(&x);
        http_fail(r, rc, "penalties");
        return;
    }
    bool truncated = json_array_size(u.items) > (size_t)limit;
    if (truncated) {
        json_t *last = json_array_get(u.items, (size_t)limit);
        u.total -= json_integer_value(json_object_get(last, "amount_cents"));
        json_array_remove(u.items, (size_t)limit);
    }
    char month[16];
    snprintf(month, sizeof(month), "%04d-%02d", y, m);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:o}", "tenant_id", r->tenant_id,
                          "month", month, "timezone", x.tz.name,
                          "count", (json_int_t)json_array_size(u.items),
                          "total_cents", (json_int_t)u.total, "truncated", truncated,
                          "items", u.items);
    an_ctx_close(&x);
    http_json(r, 200, o);
}

void api_penalties_summary(struct req *r)
{
    struct an_ctx x;
    int y, m;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    if (an_param_month(r, &x, "month", &y, &m) < 0) {
        an_ctx_close(&x);
        return;
    }
    struct an_date a = {y, m, 1}, b = {y, m, sla_days_in_month(y, m)};
    struct an_sum *sum = xmalloc(sizeof(*sum));
    int rc = an_sum_range(r->srv->store, &x, a, b, an_param_project(r), sum);
    if (rc < 0) {
        free(sum);
        an_ctx_close(&x);
        http_fail(r, rc, "penalties");
        return;
    }
    json_t *by = json_array();
    int64_t total = 0;
    uint64_t breaches = 0;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        const struct sla_rollup *res = &sum->ck[sev][SW_CLOCK_RESOLVE];
        total += res->penalty_cents;
        breaches += res->breached;
        json_array_append_new(by, json_pack("{s:s, s:I, s:I, s:I}", "severity",
                                            sla_sev_name((enum sla_sev)sev),
                                            "breaches", (json_int_t)res->breached,
                                            "amount_cents", (json_int_t)res->penalty_cents,
                                            "rate_cents_per_hour",
                                            (json_int_t)x.penalty_cph[sev]));
    }
    free(sum);
    bool capped = x.set.has_cap && total > x.set.monthly_penalty_cap;
    int64_t credited = capped ? x.set.monthly_penalty_cap : total;
    char month[16];
    snprintf(month, sizeof(month), "%04d-%02d", y, m);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:b, s:I, s:o}",
                          "tenant_id", r->tenant_id, "month", month, "timezone", x.tz.name,
                          "breaches", (json_int_t)breaches, "total_cents", (json_int_t)total,
                          "cap_cents", x.set.has_cap ? json_integer(x.set.monthly_penalty_cap)
                                                     : json_null(),
                          "credited_cents", (json_int_t)credited, "capped", capped,
                          "excess_cents", (json_int_t)(total - credited), "by_severity", by);
    an_ctx_close(&x);
    http_json(r, 200, o);
}
