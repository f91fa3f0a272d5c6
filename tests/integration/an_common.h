/* an_common.h: helpers shared by the analytics and reports integration
 * tests (test_analytics.c, test_reports.c): tenants, tokens, alerts with
 * explicit instants, exact statistics to compare the rollups with, and the
 * rollups table dumped straight from the database (harness_db.h). */
#ifndef SW_TEST_AN_COMMON_H
#define SW_TEST_AN_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "harness_db.h"

#define MIN_S 60
#define HOUR_S 3600
#define DAY_S 86400

static inline const char *an_iso(time_t t, char *buf)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* The local date of t in zone (glibc's tzdata: an implementation independent
 * of the server's ICU). */
static inline void an_local_day(const char *zone, time_t t, char *buf)
{
    const char *old = getenv("TZ");
    char saved[128] = "";
    if (old)
        snprintf(saved, sizeof(saved), "%s", old);
    setenv("TZ", zone, 1);
    tzset();
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, 16, "%Y-%m-%d", &tm);
    if (old)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
}

static inline void an_tenant(struct sw_server *s, const char *id, const char *tmpl,
                             const char *zone)
{
    char body[320];
    int n = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"T %s\"", id, id);
    if (tmpl)
        n += snprintf(body + n, sizeof(body) - (size_t)n, ",\"template\":\"%s\"", tmpl);
    if (zone)
        n += snprintf(body + n, sizeof(body) - (size_t)n, ",\"timezone\":\"%s\"", zone);
    snprintf(body + n, sizeof(body) - (size_t)n, "}");
    struct http_resp r;
    long st = api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, body, &r);
    if (st != 201)
        fail_msg("create tenant %s: %ld %s", id, st, r.body);
    http_free(&r);
}

/* One alert as the test knows it. */
struct an_alert {
    char id[48];
    const char *sev;
    time_t created, ack_at, res_at;     /* 0 = not done */
    int ack_target_min, res_target_min;
    long long rate_cph;
    bool ack_breached, res_breached;
};

static inline json_int_t an_jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", k);
    return json_integer_value(v);
}

static inline double an_jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        fail_msg("%s is not a number", k);
    return json_number_value(v);
}

/* Creates a->id at a->created; fills the targets from the answer. */
static inline void an_create(struct sw_server *s, const char *tenant, struct an_alert *a)
{
    char body[512], ts[32];
    struct http_resp r;
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"created_at\":\"%s\"}",
             a->id, tenant, a->sev, an_iso(a->created, ts));
    long st = api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, &r);
    if (st != 201)
        fail_msg("create %s: %ld %s", a->id, st, r.body);
    a->ack_target_min = (int)an_jint(r.json, "ack_target_minutes");
    a->res_target_min = (int)an_jint(r.json, "resolve_target_minutes");
    a->rate_cph = an_jint(r.json, "penalty_per_hour_cents");
    http_free(&r);
}

/* POST /alerts/{id}/{verb} {"at":…}; refreshes the breach flags. */
static inline void an_act(struct sw_server *s, const char *tenant, struct an_alert *a,
                          const char *verb, time_t when)
{
    char path[1024], body[96], ts[32];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/alerts/%s/%s?tenant_id=%s", a->id, verb, tenant);
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", an_iso(when, ts));
    long st = api(s, "POST", path, ADMIN_TOKEN, body, &r);
    if (st != 200)
        fail_msg("%s %s: %ld %s", verb, a->id, st, r.body);
    a->ack_breached = json_is_true(json_object_get(r.json, "ack_breached"));
    a->res_breached = json_is_true(json_object_get(r.json, "resolve_breached"));
    http_free(&r);
}

static inline int an_cmp_ll(const void *x, const void *y)
{
    long long a = *(const long long *)x, b = *(const long long *)y;
    return (a > b) - (a < b);
}

/* Exact stats of durations (ms). */
struct an_stats {
    size_t n;
    long long sum, v[4096];
};

static inline void an_stats_add(struct an_stats *st, long long ms)
{
    assert_true(st->n < 4096);
    st->v[st->n++] = ms;
    st->sum += ms;
}

static inline double an_exact_pct(struct an_stats *st, unsigned pct)
{
    qsort(st->v, st->n, sizeof(st->v[0]), an_cmp_ll);
    size_t rank = (pct * st->n + 99) / 100;
    return (double)st->v[rank - 1];
}

/* value (minutes, from the API) within 1 % of exact (ms) */
static inline void an_assert_pct(const char *what, double api_min, double exact_ms)
{
    double got = api_min * 60000.0;
    double err = exact_ms > 0 ? fabs(got - exact_ms) / exact_ms : fabs(got);
    if (err > 0.01 + 1e-9)
        fail_msg("%s: api %.3f ms, exact %.3f ms (error %.4f)", what, got, exact_ms, err);
}

static inline void an_assert_avg(const char *what, double api_min, const struct an_stats *st)
{
    double want = (double)st->sum / (double)st->n / 60000.0;
    if (fabs(api_min - want) > 1e-9 * (want > 1 ? want : 1))
        fail_msg("%s: api %.12f min, exact %.12f min", what, api_min, want);
}

/* The rollups table, one line per row in key order (hex histogram); with
 * no filter also the tables one rebuild writes with it: the alerts'
 * volume and auto-resolutions, the findings' rollups and live counters. */
static inline char *an_dump_rollups(struct sw_server *s, const char *extra_where)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT tenant_id, day, severity, project_id, clock, count, met, breached, "
             "sum_ms, min_ms, max_ms, hist, penalty_cents FROM rollups %s ORDER BY tenant_id, "
             "day, severity, project_id, clock", extra_where ? extra_where : "");
    char *out = it_db_dump(s, sql);
    assert_non_null(out);
    if (extra_where)
        return out;
    static const char *const more[] = {
        "SELECT tenant_id, day, severity, project_id, created, auto_resolved FROM alert_counts "
        "ORDER BY tenant_id, day, severity, project_id",
        "SELECT tenant_id, day, severity, project_id, status, count, met, breached, sum_ms, "
        "min_ms, max_ms, hist FROM finding_rollups ORDER BY tenant_id, day, severity, "
        "project_id, status",
        "SELECT tenant_id, project_id, severity, open, paused FROM finding_counts "
        "ORDER BY tenant_id, project_id, severity",
    };
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        char *part = it_db_dump(s, more[i]);
        assert_non_null(part);
        size_t a = strlen(out), b = strlen(part);
        out = realloc(out, a + b + 8);
        assert_non_null(out);
        memcpy(out + a, "--\n", 3);
        memcpy(out + a + 3, part, b + 1);
        free(part);
    }
    return out;
}

/* `slawatch rollups rebuild --db …`: exit 0. */
static inline void an_rebuild(struct sw_server *s)
{
    const char *bin = getenv("SLAWATCH_BIN");
    assert_non_null(bin);
    const char *argv[] = {bin, "rollups", "rebuild", "--db", s->db, NULL};
    char out[256];
    int st = run_capture(argv, NULL, out, sizeof(out));
    if (st != 0)
        fail_msg("rollups rebuild exited %d: %s", st, out);
    assert_non_null(strstr(out, "rollups rebuilt"));
}

/* Live rollups == rebuilt ones, byte for byte. */
static inline void an_assert_rebuild_agrees(struct sw_server *s)
{
    char *live = an_dump_rollups(s, NULL);
    an_rebuild(s);
    char *rebuilt = an_dump_rollups(s, NULL);
    if (strcmp(live, rebuilt) != 0)
        fail_msg("rollups differ after rebuild:\n--- live\n%s\n--- rebuilt\n%s", live, rebuilt);
    assert_true(strlen(live) > 0);
    free(live);
    free(rebuilt);
}

#endif
