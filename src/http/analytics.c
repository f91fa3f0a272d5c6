/* analytics.c: see analytics.h. */
#include "http/analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/server.h"
#include "store/store_alerts.h"
#include "util/xalloc.h"

/* ---- context ------------------------------------------------------------ */

int an_ctx_open_store(struct store *s, const char *tenant_id, int64_t now, struct an_ctx *x)
{
    memset(x, 0, sizeof(*x));
    x->tenant_id = tenant_id;
    int rc = store_tenant_settings(s, tenant_id, &x->set);
    if (rc < 0)
        return rc;
    struct sw_alert_policy *p = xmalloc(sizeof(*p));
    rc = store_alert_policy_get(s, tenant_id, NULL, p);
    if (rc == 0) {
        struct sla_alert_scopes sc;
        sw_alert_policy_scopes(p, &sc);
        for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
            struct sla_alert_targets t;
            if (sla_alert_policy_resolve(&sc, (enum sla_sev)sev, &t) == 0) {
                x->ack_target_min[sev] = t.ack_min;
                x->res_target_min[sev] = t.resolve_min;
                x->penalty_cph[sev] = t.penalty_cph;
            }
        }
    }
    free(p);
    if (rc < 0)
        return rc;
    tz_open_or_utc(&x->tz, x->set.timezone);
    tz_local_date(&x->tz, now, &x->today.y, &x->today.m, &x->today.d);
    return 0;
}

int an_ctx_open(struct req *r, const char *tenant_id, struct an_ctx *x)
{
    int rc = an_ctx_open_store(r->srv->store, tenant_id, r->now, x);
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", "tenant_id", "tenant not found");
    else if (rc < 0)
        http_fail(r, rc, "tenant");
    return rc;
}

void an_ctx_close(struct an_ctx *x)
{
    tz_close(&x->tz);
}

int64_t an_date_days(struct an_date d)
{
    return sla_days_from_civil(d.y, d.m, d.d);
}

struct an_date an_date_add(struct an_date d, int delta)
{
    struct an_date o;
    tz_add_days(d.y, d.m, d.d, delta, &o.y, &o.m, &o.d);
    return o;
}

void an_date_fmt(struct an_date d, char buf[SLA_DATE_BUFSZ])
{
    snprintf(buf, SLA_DATE_BUFSZ, "%04d-%02d-%02d", d.y, d.m, d.d);
}

/* ---- parameters ----------------------------------------------------------- */

int an_param_date(struct req *r, struct an_ctx *x, const char *name, const char *value,
                  struct an_date *out, bool *present)
{
    if (present)
        *present = false;
    if (!value)
        return 0;
    if (present)
        *present = true;
    if (sla_date_parse(value, &out->y, &out->m, &out->d) == 0)
        return 0;
    int64_t t;
    if (strlen(value) > 10 && sla_time_parse(value, &t) == 0 &&
        tz_local_date(&x->tz, t, &out->y, &out->m, &out->d) == 0)
        return 0;
    http_error(r, 422, "invalid", name,
               "%s must be a real date YYYY-MM-DD or an RFC 3339 instant", name);
    return SW_E_INVAL;
}

int an_check_range(struct req *r, const char *end_field, struct an_date a, struct an_date b)
{
    int64_t n = an_date_days(b) - an_date_days(a) + 1;
    if (n < 1) {
        http_error(r, 422, "invalid", end_field, "%s is before the start of the range",
                   end_field);
        return SW_E_INVAL;
    }
    if (n > AN_MAX_RANGE_DAYS) {
        http_error(r, 422, "invalid", end_field, "a range covers at most %d days (this one %lld)",
                   AN_MAX_RANGE_DAYS, (long long)n);
        return SW_E_INVAL;
    }
    return 0;
}

int an_param_days(struct req *r, const char *name, int def, int max, int *out)
{
    int64_t n = def;
    int rc = q_int(r, name, 1, max, &n);
    *out = (int)n;
    return rc;
}

int an_param_month(struct req *r, struct an_ctx *x, const char *name, int *y, int *m)
{
    const char *v = http_query(r, name);
    if (!v) {
        *y = x->today.y;
        *m = x->today.m;
        return 0;
    }
    if (sla_month_parse(v, y, m) < 0) {
        http_error(r, 422, "invalid", name, "%s must be a month YYYY-MM", name);
        return SW_E_INVAL;
    }
    return 0;
}

int an_param_sev(struct req *r, int *out)
{
    const char *v = http_query(r, "severity");
    enum sla_sev sev;
    *out = -1;
    if (!v)
        return 0;
    if (sla_sev_parse(SLA_ALERT, v, &sev) < 0) {
        http_error(r, 422, "invalid", "severity",
                   "severity must be one of critical, high, medium, low");
        return SW_E_INVAL;
    }
    *out = (int)sev;
    return 0;
}

const char *an_param_project(struct req *r)
{
    const char *v = http_query(r, "project_id");
    return v && *v ? v : NULL;
}

/* ---- sums ------------------------------------------------------------------- */

struct sum_ud {
    struct an_sum *sum;
    int bad;
};

static int sum_row(const struct sw_rollup_row *row, void *ud)
{
    struct sum_ud *u = ud;
    struct sla_rollup *r = &u->sum->ck[row->sev][row->clock];
    if (row->count && (r->count == 0 || row->min_ms < r->min_ms))
        r->min_ms = row->min_ms;
    r->count += row->count;
    r->met += row->met;
    r->breached += row->breached;
    r->sum_ms += row->sum_ms;
    if (row->max_ms > r->max_ms)
        r->max_ms = row->max_ms;
    r->penalty_cents += row->penalty_cents;
    if (sla_hist_decode_add(&r->hist, row->hist, row->hist_len) < 0)
        u->bad++;
    return 0;
}

int an_sum_range(struct store *s, struct an_ctx *x, struct an_date a, struct an_date b,
                 const char *project_id, struct an_sum *out)
{
    char from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
    an_date_fmt(a, from);
    an_date_fmt(b, to);
    memset(out, 0, sizeof(*out));
    struct sum_ud u = {out, 0};
    int rc = store_rollup_scan(s, x->tenant_id, from, to, project_id, -1, sum_row, &u);
    return rc < 0 ? rc : (u.bad ? SW_E_STORE : 0);
}

void an_sum_clock(const struct an_sum *sum, int sev, enum sw_clock_kind k,
                  struct sla_rollup *out)
{
    sla_rollup_clear(out);
    for (int i = SLA_SEV_CRITICAL; i < SLA_SEV_COUNT; i++)
        if (sev < 0 || sev == i)
            sla_rollup_merge(out, &sum->ck[i][k]);
}

/* ---- volume and auto-resolutions ------------------------------------------------ */

struct counts_ud {
    struct an_counts *days;
    int64_t first;
    int n;
};

static int counts_row(const struct sw_alert_count_row *row, void *ud)
{
    struct counts_ud *u = ud;
    int64_t i = 0;
    if (u->n > 1) {
        int y, m, d;
        if (sla_date_parse(row->day, &y, &m, &d) < 0)
            return 0;
        i = sla_days_from_civil(y, m, d) - u->first;
        if (i < 0 || i >= u->n)
            return 0;
    }
    u->days[i].created[row->sev] += row->created;
    u->days[i].auto_resolved[row->sev] += row->auto_resolved;
    return 0;
}

static int counts_scan(struct store *s, struct an_ctx *x, struct an_date a, struct an_date b,
                       const char *project_id, struct counts_ud *u)
{
    char from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
    an_date_fmt(a, from);
    an_date_fmt(b, to);
    memset(u->days, 0, (size_t)u->n * sizeof(*u->days));
    return store_alert_count_scan(s, x->tenant_id, from, to, project_id, counts_row, u);
}

int an_counts_range(struct store *s, struct an_ctx *x, struct an_date a, struct an_date b,
                    const char *project_id, struct an_counts *out)
{
    struct counts_ud u = {.days = out, .first = an_date_days(a), .n = 1};
    return counts_scan(s, x, a, b, project_id, &u);
}

int an_counts_series(struct store *s, struct an_ctx *x, struct an_date a, int n,
                     const char *project_id, struct an_counts *days)
{
    struct counts_ud u = {.days = days, .first = an_date_days(a), .n = n};
    if (n == 1)     /* one day: no date to place, the range form does */
        return an_counts_range(s, x, a, a, project_id, days);
    return counts_scan(s, x, a, an_date_add(a, n - 1), project_id, &u);
}

void an_counts_json(json_t *block, const struct an_counts *c, int sev)
{
    uint64_t created = 0, autor = 0;
    for (int i = SLA_SEV_CRITICAL; i < SLA_SEV_COUNT; i++) {
        if (sev >= 0 && sev != i)
            continue;
        created += c->created[i];
        autor += c->auto_resolved[i];
    }
    json_int_t resolved = json_integer_value(json_object_get(block, "resolved"));
    json_object_set_new(block, "volume", json_integer((json_int_t)created));
    json_object_set_new(block, "auto_resolved", json_integer((json_int_t)autor));
    json_object_set_new(block, "auto_resolve_rate_pct",
                        an_num_or_null(resolved > 0, resolved > 0 ? 100.0 * (double)autor /
                                                                        (double)resolved : 0));
}

double an_min(double ms)
{
    return ms / 60000.0;
}

json_t *an_num_or_null(bool have, double v)
{
    return have ? json_real(v) : json_null();
}

static void clock_fields(json_t *o, const char *pfx, const struct sla_rollup *r, bool target,
                         int32_t target_min)
{
    char k[32];
    double q;
    bool have = r->count > 0;
    snprintf(k, sizeof(k), "%s_avg_min", pfx);
    json_object_set_new(o, k, an_num_or_null(have, an_min(sla_rollup_avg_ms(r))));
    static const unsigned pcts[2] = {50, 90};
    for (int i = 0; i < 2; i++) {
        bool ok = have && sla_rollup_quantile(r, pcts[i], &q) == 0;
        snprintf(k, sizeof(k), "%s_p%u_min", pfx, pcts[i]);
        json_object_set_new(o, k, an_num_or_null(ok, ok ? an_min(q) : 0));
    }
    snprintf(k, sizeof(k), "%s_max_min", pfx);
    json_object_set_new(o, k, an_num_or_null(have, an_min((double)r->max_ms)));
    if (target) {
        snprintf(k, sizeof(k), "%s_target_min", pfx);
        json_object_set_new(o, k, json_integer(target_min));
    }
}

json_t *an_block_json(const struct an_ctx *x, int sev, const struct sla_rollup *ack,
                      const struct sla_rollup *res)
{
    uint64_t met = ack->met + res->met, decided = ack->count + res->count;
    char grade[2] = {sla_grade_counts(met, decided), 0};
    json_t *o = json_object();
    if (sev >= 0)
        json_object_set_new(o, "severity", json_string(sla_sev_name((enum sla_sev)sev)));
    json_object_set_new(o, "compliance_pct", json_real(sla_compliance_pct(met, decided)));
    json_object_set_new(o, "grade", json_string(grade));
    json_object_set_new(o, "total", json_integer((json_int_t)decided));
    json_object_set_new(o, "met", json_integer((json_int_t)met));
    json_object_set_new(o, "breached", json_integer((json_int_t)(ack->breached + res->breached)));
    json_object_set_new(o, "acknowledged", json_integer((json_int_t)ack->count));
    json_object_set_new(o, "resolved", json_integer((json_int_t)res->count));
    json_object_set_new(o, "mtta_breached", json_integer((json_int_t)ack->breached));
    json_object_set_new(o, "mttr_breached", json_integer((json_int_t)res->breached));
    clock_fields(o, "mtta", ack, sev >= 0, sev >= 0 ? x->ack_target_min[sev] : 0);
    clock_fields(o, "mttr", res, sev >= 0, sev >= 0 ? x->res_target_min[sev] : 0);
    json_object_set_new(o, "penalty_cents", json_integer(res->penalty_cents + ack->penalty_cents));
    return o;
}

json_t *an_by_severity_json(const struct an_ctx *x, const struct an_sum *sum)
{
    json_t *arr = json_array();
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        json_array_append_new(arr, an_block_json(x, sev, &sum->ck[sev][SW_CLOCK_ACK],
                                                 &sum->ck[sev][SW_CLOCK_RESOLVE]));
    return arr;
}

json_t *an_summary_json(const struct an_ctx *x, const struct an_sum *sum)
{
    struct sla_rollup *ack = xmalloc(sizeof(*ack)), *res = xmalloc(sizeof(*res));
    an_sum_clock(sum, -1, SW_CLOCK_ACK, ack);
    an_sum_clock(sum, -1, SW_CLOCK_RESOLVE, res);
    json_t *o = an_block_json(x, -1, ack, res);
    free(ack);
    free(res);
    return o;
}

/* ---- daily series ------------------------------------------------------------- */

struct series_ud {
    struct an_day *days;
    int n;
    int64_t first;              /* days number of day 0 */
    int sev;
    int cur;                    /* day index whose histograms are accumulating, -1 none */
    struct sla_hist *h[SW_CLOCK_COUNT];
    int bad;
};

static void series_flush(struct series_ud *u)
{
    if (u->cur < 0)
        return;
    static const unsigned pcts[2] = {50, 90};
    for (int k = 0; k < SW_CLOCK_COUNT; k++) {
        struct an_day_clock *d = &u->days[u->cur].ck[k];
        double q[2];
        if (!d->count)
            continue;       /* nothing was added: the histogram is still clear */
        if (sla_hist_quantiles(u->h[k], d->count, pcts, 2, d->min_ms, d->max_ms, q) == 0) {
            d->p50_ms = q[0];
            d->p90_ms = q[1];
        }
        sla_hist_clear(u->h[k]);
    }
    u->cur = -1;
}

static int series_row(const struct sw_rollup_row *row, void *ud)
{
    struct series_ud *u = ud;
    int y, m, d;
    if (sla_date_parse(row->day, &y, &m, &d) < 0)
        return 0;
    int64_t i = sla_days_from_civil(y, m, d) - u->first;
    if (i < 0 || i >= u->n)
        return 0;
    struct an_day_clock *c = &u->days[i].ck[row->clock];
    c->sev_count[row->sev] += row->count;
    if (u->sev >= 0 && u->sev != (int)row->sev)
        return 0;
    if (i != u->cur) {
        series_flush(u);
        u->cur = (int)i;
    }
    if (row->count && (c->count == 0 || row->min_ms < c->min_ms))
        c->min_ms = row->min_ms;
    c->count += row->count;
    c->met += row->met;
    c->breached += row->breached;
    c->sum_ms += row->sum_ms;
    if (row->max_ms > c->max_ms)
        c->max_ms = row->max_ms;
    c->penalty_cents += row->penalty_cents;
    if (sla_hist_decode_add(u->h[row->clock], row->hist, row->hist_len) < 0)
        u->bad++;
    return 0;
}

int an_series(struct store *s, struct an_ctx *x, struct an_date a, int n, const char *project_id,
              int sev, int clock, struct an_day *days)
{
    char from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
    an_date_fmt(a, from);
    an_date_fmt(an_date_add(a, n - 1), to);
    memset(days, 0, (size_t)n * sizeof(*days));
    struct series_ud u = {.days = days, .n = n, .first = an_date_days(a), .sev = sev, .cur = -1};
    for (int k = 0; k < SW_CLOCK_COUNT; k++)
        u.h[k] = xcalloc(1, sizeof(struct sla_hist));
    /* rows come in (day, severity, project, clock) order: a day's rows are
     * consecutive, so one histogram per clock is enough */
    int rc = store_rollup_scan(s, x->tenant_id, from, to, project_id, clock, series_row, &u);
    series_flush(&u);
    for (int k = 0; k < SW_CLOCK_COUNT; k++)
        free(u.h[k]);
    return rc < 0 ? rc : (u.bad ? SW_E_STORE : 0);
}

double an_target_min(const struct an_ctx *x, enum sw_clock_kind k, int sev,
                     const uint64_t w[SLA_SEV_COUNT])
{
    const int32_t *t = k == SW_CLOCK_ACK ? x->ack_target_min : x->res_target_min;
    if (sev >= 0)
        return t[sev];
    double num = 0, den = 0, plain = 0;
    for (int i = SLA_SEV_CRITICAL; i < SLA_SEV_COUNT; i++) {
        num += (double)w[i] * t[i];
        den += (double)w[i];
        plain += t[i];
    }
    return den > 0 ? num / den : plain / (SLA_SEV_COUNT - SLA_SEV_CRITICAL);
}

/* ---- current -------------------------------------------------------------------- */

struct cur_ud {
    struct an_current *c;
    int64_t now;
};

static int cur_alert(const struct sw_alert_clocks *a, void *ud)
{
    struct cur_ud *u = ud;
    u->c->open_alerts++;
    const struct sla_clock *k[2] = {&a->ack, &a->resolve};
    for (int i = 0; i < 2; i++) {
        if (sla_clock_breached(k[i], u->now)) {
            u->c->active_breaches++;
            if (a->sev == SLA_SEV_CRITICAL)
                u->c->critical_breach = true;
            /* a running breached clock is decided already; a stopped one
             * (the ack clock of an acknowledged alert) is in the rollups */
            if (!sla_clock_is_stopped(k[i]))
                u->c->decided++;
        } else if (!sla_clock_is_stopped(k[i]) && a->warn_pct > 0 &&
                   sla_clock_percent(k[i], u->now) >= a->warn_pct) {
            u->c->warnings++;
        }
    }
    return 0;
}

int an_current(struct store *s, struct an_ctx *x, int64_t now, const char *project_id,
               struct an_current *out)
{
    memset(out, 0, sizeof(*out));
    struct an_sum *sum = xmalloc(sizeof(*sum));
    int rc = an_sum_range(s, x, an_date_add(x->today, -(AN_CURRENT_DAYS - 1)), x->today,
                          project_id, sum);
    if (rc == 0) {
        for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
            for (int k = 0; k < SW_CLOCK_COUNT; k++) {
                out->met += sum->ck[sev][k].met;
                out->decided += sum->ck[sev][k].count;
            }
        struct cur_ud u = {out, now};
        rc = store_open_alerts(s, x->tenant_id, project_id, cur_alert, &u);
    }
    free(sum);
    if (rc < 0)
        return rc;
    out->compliance_pct = sla_compliance_pct(out->met, out->decided);
    if (out->critical_breach || out->compliance_pct < 85.0)
        out->health = "critical";
    else if (out->active_breaches || out->warnings || out->compliance_pct < 95.0)
        out->health = "degraded";
    else
        out->health = "healthy";
    return 0;
}

json_t *an_current_json(const struct an_current *c)
{
    return json_pack("{s:I, s:I, s:I, s:f, s:s, s:I, s:I, s:i}",
                     "open_alerts", (json_int_t)c->open_alerts,
                     "active_breaches", (json_int_t)c->active_breaches,
                     "warnings", (json_int_t)c->warnings,
                     "overall_compliance_pct", c->compliance_pct,
                     "overall_health", c->health,
                     "met", (json_int_t)c->met, "decided", (json_int_t)c->decided,
                     "window_days", AN_CURRENT_DAYS);
}
