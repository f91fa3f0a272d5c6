/* api_analytics.c: the SLA dashboard's numbers (/api/v1/sla/current,
 * /scorecard, /compliance, /trends/mtta, /trends/mttr, /trends/live,
 * /breaches).  Everything over time comes from the rollups (analytics.h);
 * only the open alerts (few, indexed) are read raw, for what is running. */
#include <stdlib.h>
#include <string.h>

#include "http/analytics.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "util/xalloc.h"

#define SCORECARD_DAYS 30
#define TREND_DAYS_DEFAULT 30
#define TREND_DAYS_MAX 365

void api_sla_current(struct req *r)
{
    struct an_ctx x;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    struct an_current c;
    int rc = an_current(r->srv->store, &x, r->now, an_param_project(r), &c);
    an_ctx_close(&x);
    if (rc < 0) {
        http_fail(r, rc, "current");
        return;
    }
    json_t *o = an_current_json(&c);
    json_object_set_new(o, "tenant_id", json_string(r->tenant_id));
    json_object_set_new(o, "at", json_time(r->now));
    http_json(r, 200, o);
}

/* The period of /scorecard and /compliance: start_date..end_date (local
 * days, inclusive), or the `days` days ending today. */
static int period(struct req *r, struct an_ctx *x, int def_days, struct an_date *a,
                  struct an_date *b)
{
    bool has_a, has_b;
    if (an_param_date(r, x, "start_date", http_query(r, "start_date"), a, &has_a) < 0 ||
        an_param_date(r, x, "end_date", http_query(r, "end_date"), b, &has_b) < 0)
        return SW_E_INVAL;
    int days;
    if (an_param_days(r, "days", def_days, TREND_DAYS_MAX, &days) < 0)
        return SW_E_INVAL;
    if (!has_b)
        *b = x->today;
    if (!has_a)
        *a = an_date_add(*b, -(days - 1));
    return an_check_range(r, "end_date", *a, *b);
}

static json_t *period_json(struct an_date a, struct an_date b)
{
    char from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ];
    an_date_fmt(a, from);
    an_date_fmt(b, to);
    return json_pack("{s:s, s:s, s:I}", "start_date", from, "end_date", to, "days",
                     (json_int_t)(an_date_days(b) - an_date_days(a) + 1));
}

void api_sla_scorecard(struct req *r)
{
    struct an_ctx x;
    struct an_date a, b;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    if (period(r, &x, SCORECARD_DAYS, &a, &b) < 0) {
        an_ctx_close(&x);
        return;
    }
    struct an_sum *sum = xmalloc(sizeof(*sum));
    int rc = an_sum_range(r->srv->store, &x, a, b, an_param_project(r), sum);
    if (rc < 0)
        http_fail(r, rc, "scorecard");
    else
        http_json(r, 200, an_by_severity_json(&x, sum));
    free(sum);
    an_ctx_close(&x);
}

void api_sla_compliance(struct req *r)
{
    struct an_ctx x;
    struct an_date a, b;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    if (period(r, &x, SCORECARD_DAYS, &a, &b) < 0) {
        an_ctx_close(&x);
        return;
    }
    struct an_sum *sum = xmalloc(sizeof(*sum));
    int rc = an_sum_range(r->srv->store, &x, a, b, an_param_project(r), sum);
    if (rc < 0) {
        http_fail(r, rc, "compliance");
    } else {
        json_t *o = period_json(a, b);
        json_object_set_new(o, "tenant_id", json_string(r->tenant_id));
        json_object_set_new(o, "timezone", json_string(x.tz.name));
        json_t *sm = an_summary_json(&x, sum);
        json_object_set_new(o, "compliance_pct", json_incref(json_object_get(sm, "compliance_pct")));
        json_object_set_new(o, "grade", json_incref(json_object_get(sm, "grade")));
        json_object_set_new(o, "summary", sm);
        json_object_set_new(o, "by_severity", an_by_severity_json(&x, sum));
        http_json(r, 200, o);
    }
    free(sum);
    an_ctx_close(&x);
}

/* [{date, value_min, target_min, count, p50_min, p90_min, breached}],
 * exactly `days` points ending today (tenant's zone), zero-filled. */
static void trend(struct req *r, enum sw_clock_kind k)
{
    struct an_ctx x;
    int days, sev;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    if (an_param_days(r, "days", TREND_DAYS_DEFAULT, TREND_DAYS_MAX, &days) < 0 ||
        an_param_sev(r, &sev) < 0) {
        an_ctx_close(&x);
        return;
    }
    struct an_date a = an_date_add(x.today, -(days - 1));
    struct an_day *d = xmalloc((size_t)days * sizeof(*d));
    int rc = an_series(r->srv->store, &x, a, days, an_param_project(r), sev, (int)k, d);
    if (rc < 0) {
        http_fail(r, rc, "trend");
    } else {
        uint64_t w[SLA_SEV_COUNT] = {0};
        for (int i = 0; i < days; i++)
            for (int s = 0; s < SLA_SEV_COUNT; s++)
                w[s] += d[i].ck[k].sev_count[s];
        double window_target = an_target_min(&x, k, sev, w);
        json_t *arr = json_array();
        for (int i = 0; i < days; i++) {
            const struct an_day_clock *c = &d[i].ck[k];
            char date[SLA_DATE_BUFSZ];
            an_date_fmt(an_date_add(a, i), date);
            double target = c->count || sev >= 0
                                ? an_target_min(&x, k, sev, c->sev_count) : window_target;
            json_t *p = json_pack("{s:s, s:f, s:f, s:I, s:f, s:f, s:I}", "date", date,
                                  "value_min", c->count ? an_min((double)c->sum_ms / (double)c->count) : 0.0,
                                  "target_min", target, "count", (json_int_t)c->count,
                                  "p50_min", an_min(c->p50_ms), "p90_min", an_min(c->p90_ms),
                                  "breached", (json_int_t)c->breached);
            json_array_append_new(arr, p);
        }
        http_json(r, 200, arr);
    }
    free(d);
    an_ctx_close(&x);
}

void api_sla_trend_mtta(struct req *r)
{
    trend(r, SW_CLOCK_ACK);
}

void api_sla_trend_mttr(struct req *r)
{
    trend(r, SW_CLOCK_RESOLVE);
}

/* ---- breaches ------------------------------------------------------------- */

struct br_ud {
    json_t *arr;
    int64_t now;
};

static void br_add(struct br_ud *u, const struct sw_alert_clocks *a, const char *clock,
                   const struct sla_clock *k, const char *status)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:f, s:f, s:s, s:s, s:o, s:f}",
                          "alert_id", a->id, "severity", sla_sev_name(a->sev),
                          "created_at", json_time(a->created_at),
                          "elapsed_min", an_min((double)sla_clock_elapsed(k, u->now)),
                          "target_min", an_min((double)k->target_ms), "clock", clock,
                          "status", status, "due_at", json_time(sla_clock_due(k, u->now)),
                          "overage_min", an_min((double)sla_clock_overage(k, u->now)));
    json_object_set_new(o, "state", json_string(sla_alert_state_name(a->state)));
    json_object_set_new(o, "project_id", a->project_id[0] ? json_string(a->project_id)
                                                           : json_null());
    json_array_append_new(u->arr, o);
}

static int br_alert(const struct sw_alert_clocks *a, void *ud)
{
    struct br_ud *u = ud;
    const struct sla_clock *k[2] = {&a->ack, &a->resolve};
    static const char *const names[2] = {"ack", "resolve"};
    for (int i = 0; i < 2; i++) {
        if (sla_clock_breached(k[i], u->now))
            br_add(u, a, names[i], k[i], "breached");
        else if (!sla_clock_is_stopped(k[i]) && a->warn_pct > 0 &&
                 sla_clock_percent(k[i], u->now) >= a->warn_pct)
            br_add(u, a, names[i], k[i], "warning");
    }
    return 0;
}

static int br_cmp(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    /* breached first, then the longest over (elapsed / target) */
    int sa = strcmp(json_string_value(json_object_get(a, "status")), "breached") != 0;
    int sb = strcmp(json_string_value(json_object_get(b, "status")), "breached") != 0;
    if (sa != sb)
        return sa - sb;
    double ra = json_real_value(json_object_get(a, "elapsed_min")) /
                json_real_value(json_object_get(a, "target_min"));
    double rb = json_real_value(json_object_get(b, "elapsed_min")) /
                json_real_value(json_object_get(b, "target_min"));
    if (ra != rb)
        return ra < rb ? 1 : -1;
    return strcmp(json_string_value(json_object_get(a, "alert_id")),
                  json_string_value(json_object_get(b, "alert_id")));
}

void api_sla_breaches(struct req *r)
{
    struct an_ctx x;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    an_ctx_close(&x);
    struct br_ud u = {json_array(), r->now};
    int rc = store_open_alerts(r->srv->store, r->tenant_id, an_param_project(r), br_alert, &u);
    if (rc < 0) {
        json_decref(u.arr);
        http_fail(r, rc, "breaches");
        return;
    }
    size_t n = json_array_size(u.arr);
    json_t **v = xmalloc((n ? n : 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(u.arr, i));
    qsort(v, n, sizeof(*v), br_cmp);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
    free(v);
    json_decref(u.arr);
    http_json(r, 200, out);
}

/* ---- live gauges ------------------------------------------------------------- */

static int live_row(const struct sw_live_snapshot *s, void *ud)
{
    json_array_append_new(ud, json_pack("{s:o, s:I, s:I, s:I}", "at", json_time(s->at),
                                        "open", (json_int_t)s->open,
                                        "breaches", (json_int_t)s->breaches,
                                        "warnings", (json_int_t)s->warnings));
    return 0;
}

void api_sla_trend_live(struct req *r)
{
    struct an_ctx x;
    int hours;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    an_ctx_close(&x);
    if (an_param_days(r, "hours", 24, 168, &hours) < 0)
        return;
    json_t *arr = json_array();
    int rc = store_live_list(r->srv->store, r->tenant_id, r->now - hours * SLA_MS_PER_HOUR,
                             live_row, arr);
    if (rc < 0) {
        json_decref(arr);
        http_fail(r, rc, "live");
        return;
    }
    http_json(r, 200, arr);
}
