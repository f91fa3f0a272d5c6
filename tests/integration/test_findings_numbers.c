/* Findings in numbers over HTTP (API.md "Findings in numbers"), on SQLite
 * and PostgreSQL: /sla/findings/summary (open, paused, overdue, due in 7
 * days, closed, breach rate and MTTR over 30 days; the p50 of one sample is
 * that sample), /sla/findings/upcoming (soonest first, overdue and paused
 * left out), the monthly findings report in JSON and CSV, and the alerts'
 * volume and auto-resolve rate as trends and in the daily report.  Every
 * number kept live equals `slawatch rollups rebuild`'s.  Instants are
 * relative to now, as the 30-day window is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "an_common.h"

static time_t now_s;

static void finding(struct sw_server *s, const char *tenant, const char *id, const char *sev,
                    const char *project, time_t discovered)
{
    char body[512], ts[32];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"discovered_at\":\"%s\""
             "%s%s%s}", id, tenant, sev, an_iso(discovered, ts),
             project ? ",\"project_id\":\"" : "", project ? project : "", project ? "\"" : "");
    struct http_resp r;
    long st = api(s, "POST", "/api/v1/findings", ADMIN_TOKEN, body, &r);
    if (st != 201)
        fail_msg("finding %s: %ld %s", id, st, r.body);
    http_free(&r);
}

static void act(struct sw_server *s, const char *tenant, const char *id, const char *verb,
                const char *extra, time_t at)
{
    char path[256], body[256], ts[32];
    snprintf(path, sizeof(path), "/api/v1/findings/%s/%s?tenant_id=%s", id, verb, tenant);
    snprintf(body, sizeof(body), "{\"at\":\"%s\"%s%s}", an_iso(at, ts), extra ? "," : "",
             extra ? extra : "");
    struct http_resp r;
    long st = api(s, "POST", path, ADMIN_TOKEN, body, &r);
    if (st != 200)
        fail_msg("%s %s: %ld %s", verb, id, st, r.body);
    http_free(&r);
}

static json_t *by_sev(json_t *arr, const char *sev)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        if (!strcmp(json_string_value(json_object_get(o, "severity")), sev))
            return o;
    }
    fail_msg("no %s entry", sev);
    return NULL;
}

static void test_summary_and_upcoming(void **state)
{
    struct sw_server *s = *state;
    now_s = time(NULL);
    an_tenant(s, "fnum", NULL, NULL);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/fnum/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"Web\"}", NULL), 201);
    /* critical: 72 h.  f1 overdue, f2 due in 2 h, f5 paused; f3 closed in
     * 24 h (met), f4 closed in 96 h (breached), both within 30 days */
    finding(s, "fnum", "f1", "critical", NULL, now_s - 100 * HOUR_S);
    finding(s, "fnum", "f2", "critical", NULL, now_s - 70 * HOUR_S);
    finding(s, "fnum", "f3", "critical", NULL, now_s - 10 * DAY_S);
    act(s, "fnum", "f3", "close", "\"status\":\"closed\"", now_s - 9 * DAY_S);
    finding(s, "fnum", "f4", "critical", "web", now_s - 8 * DAY_S);
    act(s, "fnum", "f4", "close", "\"status\":\"accepted_risk\"", now_s - 4 * DAY_S);
    finding(s, "fnum", "f5", "critical", NULL, now_s - 5 * HOUR_S);
    act(s, "fnum", "f5", "pause", "\"reason\":\"vendor patch\"", now_s - 4 * HOUR_S);
    /* high: one closed in 30 h 7 min 5.5 s: p50 and p90 are exactly it */
    finding(s, "fnum", "h1", "high", NULL, now_s - 3 * DAY_S);
    char body[128], ts[32];
    struct http_resp r;
    snprintf(body, sizeof(body), "{\"status\":\"closed\",\"at\":\"%s\"}",
             an_iso(now_s - 3 * DAY_S + 30 * HOUR_S + 7 * MIN_S + 5, ts));
    assert_int_equal(api(s, "POST", "/api/v1/findings/h1/close?tenant_id=fnum", ADMIN_TOKEN, body,
                         NULL), 200);
    /* closed 40 days ago: outside the window */
    finding(s, "fnum", "old", "critical", NULL, now_s - 45 * DAY_S);
    act(s, "fnum", "old", "close", "\"status\":\"closed\"", now_s - 40 * DAY_S);

    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/summary?tenant_id=fnum", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(r.json), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r.json, 0),
                                                          "severity")), "urgent");
    json_t *c = by_sev(r.json, "critical");
    assert_int_equal(an_jint(c, "open"), 2);
    assert_int_equal(an_jint(c, "paused"), 1);
    assert_int_equal(an_jint(c, "overdue"), 1);
    assert_int_equal(an_jint(c, "due_7d"), 1);
    assert_int_equal(an_jint(c, "closed_30d"), 2);
    assert_int_equal(an_jint(c, "breached_30d"), 1);
    assert_true(an_jnum(c, "breach_rate_pct") == 50.0);
    assert_true(fabs(an_jnum(c, "mttr_avg_hours") - 60.0) < 1e-9);
    double p50 = an_jnum(c, "mttr_p50_hours"), p90 = an_jnum(c, "mttr_p90_hours");
    assert_true(p50 >= 24.0 && p50 <= 24.0 * 1.01);    /* clamped to the minimum */
    assert_true(p90 <= 96.0 && p90 >= 96.0 * 0.99);    /* and to the maximum */
    json_t *h = by_sev(r.json, "high");
    double exact = 30.0 + 7.0 / 60 + 5.0 / 3600;
    assert_int_equal(an_jint(h, "closed_30d"), 1);
    assert_true(an_jnum(h, "breach_rate_pct") == 0.0);
    assert_true(fabs(an_jnum(h, "mttr_p50_hours") - exact) < 1e-9);
    assert_true(fabs(an_jnum(h, "mttr_p90_hours") - exact) < 1e-9);
    /* no data: null, not 0 % or 100 % */
    json_t *u = by_sev(r.json, "urgent");
    assert_int_equal(an_jint(u, "closed_30d"), 0);
    assert_true(json_is_null(json_object_get(u, "breach_rate_pct")));
    assert_true(json_is_null(json_object_get(u, "mttr_avg_hours")));
    assert_true(json_is_null(json_object_get(u, "mttr_p50_hours")));
    http_free(&r);

    /* one project */
    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/summary?tenant_id=fnum&project_id=web",
                         ADMIN_TOKEN, NULL, &r), 200);
    c = by_sev(r.json, "critical");
    assert_int_equal(an_jint(c, "open"), 0);
    assert_int_equal(an_jint(c, "closed_30d"), 1);
    assert_int_equal(an_jint(json_object_get(c, "by_status"), "accepted_risk"), 1);
    http_free(&r);

    /* upcoming: f2 (2 h left); f1 is overdue, f5 paused */
    finding(s, "fnum", "u1", "urgent", "web", now_s - 20 * HOUR_S);     /* 4 h left */
    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/upcoming?tenant_id=fnum&hours=168",
                         ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 2);
    json_t *first = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(first, "finding_id")), "f2");
    assert_true(json_is_null(json_object_get(first, "project_id")));
    assert_true(fabs(an_jnum(first, "hours_left") - 2.0) < 0.1);
    json_t *second = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(second, "finding_id")), "u1");
    assert_string_equal(json_string_value(json_object_get(second, "project_id")), "web");
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(items, i),
                                                           "finding_id"));
        assert_true(strcmp(id, "f1") && strcmp(id, "f5"));
        if (i)
            assert_true(an_jnum(json_array_get(items, i), "hours_left") >=
                        an_jnum(json_array_get(items, i - 1), "hours_left"));
    }
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/upcoming?tenant_id=fnum&hours=3",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/upcoming?tenant_id=fnum&hours=0",
                         ADMIN_TOKEN, NULL, &r), 422);
    assert_error_shape(&r, "invalid", "hours");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/summary?tenant_id=nobody", ADMIN_TOKEN,
                         NULL, &r), 404);
    http_free(&r);

    /* a reopen takes the close back; the live counters follow */
    act(s, "fnum", "f3", "reopen", NULL, now_s - 60);
    assert_int_equal(api(s, "GET", "/api/v1/sla/findings/summary?tenant_id=fnum", ADMIN_TOKEN,
                         NULL, &r), 200);
    c = by_sev(r.json, "critical");
    assert_int_equal(an_jint(c, "closed_30d"), 1);
    assert_int_equal(an_jint(c, "open"), 3);
    /* f3's 9 closed days count as paused: 24 h used, 48 h left */
    assert_int_equal(an_jint(c, "overdue"), 1);
    assert_int_equal(an_jint(c, "due_7d"), 2);
    http_free(&r);
    an_assert_rebuild_agrees(s);
}

static void test_findings_report(void **state)
{
    struct sw_server *s = *state;
    char month[8], path[256];
    struct tm tm;
    time_t close_at = now_s - 4 * DAY_S;            /* f4's close */
    gmtime_r(&close_at, &tm);
    strftime(month, sizeof(month), "%Y-%m", &tm);
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/reports/fnum/findings?month=%s", month);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *sm = json_object_get(r.json, "summary");
    assert_true(an_jint(sm, "closed") >= 1);
    json_t *c = by_sev(json_object_get(r.json, "by_severity"), "critical");
    assert_true(an_jint(json_object_get(c, "by_status"), "accepted_risk") == 1);
    assert_true(an_jint(c, "breached") == 1);
    json_t *days = json_object_get(r.json, "days");
    assert_true(json_array_size(days) >= 28);
    json_int_t sum = 0;
    for (size_t i = 0; i < json_array_size(days); i++)
        sum += an_jint(json_array_get(days, i), "closed");
    assert_int_equal(sum, an_jint(sm, "closed"));
    http_free(&r);

    snprintf(path, sizeof(path), "/api/v1/sla/reports/fnum/findings?month=%s&format=csv", month);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    char ct[128];
    assert_non_null(http_resp_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/csv"));
    assert_true(!strncmp(r.body, "date,severity,closed,met,breached,breach_rate_pct,"
                                 "mttr_avg_hours,mttr_p50_hours,mttr_p90_hours,status_closed,", 92));
    char want[64];
    snprintf(want, sizeof(want), "\r\n%s,critical,", month);
    assert_non_null(strstr(r.body, want));
    snprintf(want, sizeof(want), "\r\n%s,all,", month);
    assert_non_null(strstr(r.body, want));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/fnum/findings?month=2026-13",
                         ADMIN_TOKEN, NULL, &r), 422);
    assert_error_shape(&r, "invalid", "month");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/fnum/findings?format=xml", ADMIN_TOKEN,
                         NULL, &r), 422);
    assert_error_shape(&r, "invalid", "format");
    http_free(&r);
}

static void test_alert_volume_and_auto_resolve(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "vol", NULL, NULL);
    time_t t = time(NULL) - 10 * MIN_S;
    struct an_alert a[4] = {{.sev = "high"}, {.sev = "high"}, {.sev = "low"}, {.sev = "low"}};
    for (int i = 0; i < 4; i++) {
        snprintf(a[i].id, sizeof(a[i].id), "v%d", i);
        a[i].created = t;
        an_create(s, "vol", &a[i]);
    }
    an_act(s, "vol", &a[0], "resolve", t + 60);              /* auto-resolved */
    an_act(s, "vol", &a[1], "acknowledge", t + 60);
    an_act(s, "vol", &a[1], "resolve", t + 120);             /* not auto */
    an_act(s, "vol", &a[2], "resolve", t + 180);             /* auto */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/vol/trends?metric=volume&days=2",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "unit")), "alerts");
    json_t *pts = json_object_get(r.json, "points");
    json_int_t created = 0, high = 0;
    for (size_t i = 0; i < json_array_size(pts); i++) {
        created += an_jint(json_array_get(pts, i), "value");
        high += an_jint(json_object_get(json_array_get(pts, i), "by_severity"), "high");
    }
    assert_int_equal(created, 4);
    assert_int_equal(high, 2);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/vol/trends?metric=volume&days=2"
                         "&severity=low", ADMIN_TOKEN, NULL, &r), 200);
    pts = json_object_get(r.json, "points");
    created = 0;
    for (size_t i = 0; i < json_array_size(pts); i++)
        created += an_jint(json_array_get(pts, i), "value");
    assert_int_equal(created, 2);
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/vol/trends?metric=auto_resolve_rate"
                         "&days=2", ADMIN_TOKEN, NULL, &r), 200);
    pts = json_object_get(r.json, "points");
    json_int_t res = 0, au = 0;
    bool some_null = false;
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *p = json_array_get(pts, i);
        res += an_jint(p, "resolved");
        au += an_jint(p, "auto_resolved");
        if (an_jint(p, "resolved") == 0)
            some_null |= json_is_null(json_object_get(p, "value"));
        else
            assert_true(fabs(an_jnum(p, "value") - 100.0 * (double)an_jint(p, "auto_resolved") /
                                                       (double)an_jint(p, "resolved")) < 1e-9);
    }
    assert_int_equal(res, 3);
    assert_int_equal(au, 2);
    (void)some_null;
    http_free(&r);

    /* the daily report of each day carries them too; summed, the same */
    json_int_t vol = 0, rep_auto = 0;
    for (int back = 0; back < 2; back++) {
        char path[128], day[16];
        time_t d = time(NULL) - back * DAY_S;
        an_local_day("UTC", d, day);
        snprintf(path, sizeof(path), "/api/v1/sla/reports/vol/daily?date=%s", day);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        json_t *sm = json_object_get(r.json, "summary");
        vol += an_jint(sm, "volume");
        rep_auto += an_jint(sm, "auto_resolved");
        if (an_jint(sm, "resolved") == 0)
            assert_true(json_is_null(json_object_get(sm, "auto_resolve_rate_pct")));
        http_free(&r);
    }
    assert_int_equal(vol, 4);
    assert_int_equal(rep_auto, 2);
    /* a reopen takes the auto-resolution back */
    an_act(s, "vol", &a[0], "reopen", t + 240);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/vol/trends?metric=auto_resolve_rate"
                         "&days=2", ADMIN_TOKEN, NULL, &r), 200);
    pts = json_object_get(r.json, "points");
    au = 0;
    for (size_t i = 0; i < json_array_size(pts); i++)
        au += an_jint(json_array_get(pts, i), "auto_resolved");
    assert_int_equal(au, 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/vol/trends?metric=volumes", ADMIN_TOKEN,
                         NULL, &r), 422);
    assert_error_shape(&r, "invalid", "metric");
    http_free(&r);
    an_assert_rebuild_agrees(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_and_upcoming),
        cmocka_unit_test(test_findings_report),
        cmocka_unit_test(test_alert_volume_and_auto_resolve),
    };
    return cmocka_run_group_tests(tests, it_server_setup, it_server_teardown);
}
