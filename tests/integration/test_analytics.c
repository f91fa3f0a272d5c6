/* Analytics end to end: alerts acknowledged and resolved with known
 * durations over several days in a New York tenant, then /scorecard,
 * /trends/mtta|mttr, /compliance, /current, /breaches and /trends/live
 * against values computed here from the same raw durations (averages
 * exact, p50/p90 within 1 %), local days from glibc's tzdata (independent
 * of the server's ICU); 422s; tenant isolation; reopen and severity changes
 * keep the rollups equal to `slawatch rollups rebuild`, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_common.h"

#define ZONE "America/New_York"
#define NA 60

static struct an_alert al[NA];
static time_t t_now;

static int setup(void **state)
{
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    static const char *const env[] = {"SLAWATCH_LIVE_SNAPSHOT_S=1", NULL};
    srv_start(s, NULL, env);
    *state = s;
    return 0;
}

static const char *const sevs[] = {"critical", "high", "medium", "low"};

/* 60 alerts over the last 6 days; durations vary, some breach. */
static void load(struct sw_server *s)
{
    an_tenant(s, "ny", "standard", ZONE);
    an_tenant(s, "other", NULL, NULL);
    t_now = time(NULL);
    for (int i = 0; i < NA; i++) {
        struct an_alert *a = &al[i];
        snprintf(a->id, sizeof(a->id), "a%02d", i);
        a->sev = sevs[i % 2 ? 1 : 0];                   /* critical and high */
        a->created = t_now - (time_t)(i % 6) * DAY_S - 20 * HOUR_S - i * 97;
        an_create(s, "ny", a);
        /* ack: 10 % .. 150 % of the target; resolve: 20 % .. 180 % */
        long ack_s = (long)a->ack_target_min * 60 * (10 + (i * 37) % 141) / 100;
        long res_s = (long)a->res_target_min * 60 * (20 + (i * 53) % 161) / 100;
        if (res_s <= ack_s)
            res_s = ack_s + 60;
        a->ack_at = a->created + ack_s;
        a->res_at = a->created + res_s;
        if (i % 5 != 4)
            an_act(s, "ny", a, "acknowledge", a->ack_at);
        else
            a->ack_at = a->res_at;                      /* resolved unacknowledged */
        an_act(s, "ny", a, "resolve", a->res_at);
    }
}

static void test_scorecard_trends(void **state)
{
    struct sw_server *s = *state;
    load(s);
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=ny&days=30", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 4);
    for (int k = 0; k < 4; k++) {
        json_t *it = json_array_get(r.json, (size_t)k);
        assert_string_equal(json_string_value(json_object_get(it, "severity")), sevs[k]);
        struct an_stats *ack = calloc(1, sizeof(*ack)), *res = calloc(1, sizeof(*res));
        long long met = 0, breached = 0;
        int tgt_a = 0, tgt_r = 0;
        for (int i = 0; i < NA; i++) {
            if (strcmp(al[i].sev, sevs[k]))
                continue;
            an_stats_add(ack, (long long)(al[i].ack_at - al[i].created) * 1000);
            an_stats_add(res, (long long)(al[i].res_at - al[i].created) * 1000);
            met += !al[i].ack_breached + !al[i].res_breached;
            breached += al[i].ack_breached + al[i].res_breached;
            tgt_a = al[i].ack_target_min;
            tgt_r = al[i].res_target_min;
        }
        assert_int_equal(an_jint(it, "total"), (json_int_t)(ack->n + res->n));
        assert_int_equal(an_jint(it, "breached"), breached);
        assert_int_equal(an_jint(it, "met"), met);
        double pct = ack->n ? (double)(met * 100) / (double)(ack->n + res->n) : 100.0;
        assert_true(fabs(an_jnum(it, "compliance_pct") - pct) < 1e-9);
        char g = pct >= 95 ? 'A' : pct >= 90 ? 'B' : pct >= 85 ? 'C' : pct >= 75 ? 'D' : 'F';
        char gs[2] = {g, 0};
        assert_string_equal(json_string_value(json_object_get(it, "grade")), gs);
        if (ack->n) {
            an_assert_avg("mtta_avg", an_jnum(it, "mtta_avg_min"), ack);
            an_assert_avg("mttr_avg", an_jnum(it, "mttr_avg_min"), res);
            an_assert_pct("mtta_p50", an_jnum(it, "mtta_p50_min"), an_exact_pct(ack, 50));
            an_assert_pct("mtta_p90", an_jnum(it, "mtta_p90_min"), an_exact_pct(ack, 90));
            an_assert_pct("mttr_p50", an_jnum(it, "mttr_p50_min"), an_exact_pct(res, 50));
            an_assert_pct("mttr_p90", an_jnum(it, "mttr_p90_min"), an_exact_pct(res, 90));
            assert_int_equal(an_jint(it, "mtta_target_min"), tgt_a);
            assert_int_equal(an_jint(it, "mttr_target_min"), tgt_r);
        } else {
            assert_true(json_is_null(json_object_get(it, "mtta_avg_min")));
            assert_int_equal(an_jint(it, "total"), 0);
        }
        free(ack);
        free(res);
    }
    http_free(&r);

    /* trends: exactly `days` points ending today (New York), zero-filled,
     * each day's average and count as computed from the raw stops */
    for (int clock = 0; clock < 2; clock++) {
        const char *path = clock ? "/api/v1/sla/trends/mttr?tenant_id=ny&days=10"
                                 : "/api/v1/sla/trends/mtta?tenant_id=ny&days=10";
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        assert_int_equal(json_array_size(r.json), 10);
        char today[16];
        an_local_day(ZONE, time(NULL), today);
        assert_string_equal(json_string_value(json_object_get(json_array_get(r.json, 9), "date")),
                            today);
        size_t total = 0;
        for (size_t p = 0; p < 10; p++) {
            json_t *pt = json_array_get(r.json, p);
            const char *date = json_string_value(json_object_get(pt, "date"));
            struct an_stats *st = calloc(1, sizeof(*st));
            for (int i = 0; i < NA; i++) {
                time_t stop = clock ? al[i].res_at : al[i].ack_at;
                char d[16];
                an_local_day(ZONE, stop, d);
                if (!strcmp(d, date))
                    an_stats_add(st, (long long)(stop - al[i].created) * 1000);
            }
            assert_int_equal(an_jint(pt, "count"), (json_int_t)st->n);
            if (st->n) {
                an_assert_avg(date, an_jnum(pt, "value_min"), st);
                an_assert_pct(date, an_jnum(pt, "p90_min"), an_exact_pct(st, 90));
            } else {
                assert_true(an_jnum(pt, "value_min") == 0.0);
            }
            assert_true(an_jnum(pt, "target_min") > 0);
            total += st->n;
            free(st);
        }
        assert_int_equal(total, NA);
        http_free(&r);
    }
    /* one severity: its own target */
    assert_int_equal(api(s, "GET", "/api/v1/sla/trends/mttr?tenant_id=ny&days=3&severity=high",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(r.json), 3);
    assert_true(an_jnum(json_array_get(r.json, 0), "target_min") == al[1].res_target_min);
    http_free(&r);
    /* 365 points at most */
    assert_int_equal(api(s, "GET", "/api/v1/sla/trends/mtta?tenant_id=ny&days=365", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(r.json), 365);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/trends/mtta?tenant_id=ny", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(json_array_size(r.json), 30);
    http_free(&r);

    /* compliance over an explicit range equals the scorecard's sums */
    char from[16], to[16], url[256];
    an_local_day(ZONE, t_now - 8 * DAY_S, from);
    an_local_day(ZONE, t_now, to);
    snprintf(url, sizeof(url), "/api/v1/sla/compliance?tenant_id=ny&start_date=%s&end_date=%s",
             from, to);
    assert_int_equal(api(s, "GET", url, ADMIN_TOKEN, NULL, &r), 200);
    json_t *sm = json_object_get(r.json, "summary");
    assert_int_equal(an_jint(sm, "total"), 2 * NA);
    long long met = 0;
    for (int i = 0; i < NA; i++)
        met += !al[i].ack_breached + !al[i].res_breached;
    assert_int_equal(an_jint(sm, "met"), met);
    assert_true(fabs(an_jnum(r.json, "compliance_pct") - (double)(met * 100) / (2.0 * NA)) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(r.json, "by_severity")), 4);
    http_free(&r);

    an_assert_rebuild_agrees(s);
}

static void expect_422(struct sw_server *s, const char *path, const char *field)
{
    struct http_resp r;
    long st = api(s, "GET", path, ADMIN_TOKEN, NULL, &r);
    if (st != 422)
        fail_msg("%s: %ld %s", path, st, r.body);
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void test_bad_input(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "v", NULL, NULL);
    expect_422(s, "/api/v1/sla/trends/mtta?tenant_id=v&days=0", "days");
    expect_422(s, "/api/v1/sla/trends/mttr?tenant_id=v&days=366", "days");
    expect_422(s, "/api/v1/sla/trends/mttr?tenant_id=v&days=abc", "days");
    expect_422(s, "/api/v1/sla/trends/mttr?tenant_id=v&days=7&severity=urgent", "severity");
    expect_422(s, "/api/v1/sla/compliance?tenant_id=v&start_date=2026-13-45", "start_date");
    expect_422(s, "/api/v1/sla/compliance?tenant_id=v&start_date=2026-02-29", "start_date");
    expect_422(s, "/api/v1/sla/compliance?tenant_id=v&start_date=2026-01-01&end_date=yesterday",
               "end_date");
    expect_422(s, "/api/v1/sla/compliance?tenant_id=v&start_date=2026-03-01&end_date=2026-02-01",
               "end_date");
    expect_422(s, "/api/v1/sla/compliance?tenant_id=v&start_date=2025-01-01&end_date=2026-01-02",
               "end_date");
    expect_422(s, "/api/v1/sla/scorecard?tenant_id=v&start_date=2026-1-1", "start_date");
    expect_422(s, "/api/v1/sla/trends/live?tenant_id=v&hours=0", "hours");
    /* 366 days is fine, and full ISO instants are accepted */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/compliance?tenant_id=v&start_date=2025-01-01"
                         "&end_date=2026-01-01", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "days"), 366);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/compliance?tenant_id=v&start_date="
                         "2026-01-01T10:00:00Z&end_date=2026-01-31T23:59:59%2B02:00",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "end_date")), "2026-01-31");
    http_free(&r);
    /* unknown tenant */
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=nope", ADMIN_TOKEN, NULL,
                         NULL), 404);
}

static void test_current_breaches_live(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "cur", "standard", "Europe/Paris");
    time_t now = time(NULL);
    struct an_alert late = {.id = "late", .sev = "critical", .created = now - 2 * DAY_S};
    struct an_alert warn = {.id = "warn", .sev = "high"};
    struct an_alert fine = {.id = "fine", .sev = "low", .created = now - 60};
    an_create(s, "cur", &late);
    an_create(s, "cur", &fine);
    /* 90 % of high's ack target elapsed: a warning, not a breach */
    warn.created = now;
    an_create(s, "cur", &warn);     /* learn the target first */
    struct an_alert warn2 = {.id = "warn2", .sev = "high",
                             .created = now - (time_t)warn.ack_target_min * 60 * 9 / 10};
    an_create(s, "cur", &warn2);
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/current?tenant_id=cur", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(an_jint(r.json, "open_alerts"), 4);
    assert_int_equal(an_jint(r.json, "active_breaches"), 2);   /* late: ack and resolve */
    assert_true(an_jint(r.json, "warnings") >= 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "overall_health")), "critical");
    /* no stopped clocks, 2 running ones breached: 0 of 2 */
    assert_true(an_jnum(r.json, "overall_compliance_pct") == 0.0);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/breaches?tenant_id=cur", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_true(json_array_size(r.json) >= 3);
    json_t *first = json_array_get(r.json, 0);
    assert_string_equal(json_string_value(json_object_get(first, "alert_id")), "late");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "breached");
    assert_true(an_jnum(first, "elapsed_min") > an_jnum(first, "target_min"));
    bool saw_warning = false;
    for (size_t i = 0; i < json_array_size(r.json); i++) {
        json_t *it = json_array_get(r.json, i);
        if (!strcmp(json_string_value(json_object_get(it, "alert_id")), "warn2")) {
            assert_string_equal(json_string_value(json_object_get(it, "status")), "warning");
            assert_string_equal(json_string_value(json_object_get(it, "clock")), "ack");
            saw_warning = true;
        }
        assert_string_not_equal(json_string_value(json_object_get(it, "alert_id")), "fine");
    }
    assert_true(saw_warning);
    http_free(&r);
    /* resolving the late one: no critical breach left, still degraded */
    an_act(s, "cur", &late, "resolve", now);
    assert_int_equal(api(s, "GET", "/api/v1/sla/current?tenant_id=cur", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(an_jint(r.json, "open_alerts"), 3);
    assert_int_equal(an_jint(r.json, "active_breaches"), 0);
    assert_int_equal(an_jint(r.json, "decided"), 2);           /* both stopped clocks, late */
    assert_string_equal(json_string_value(json_object_get(r.json, "overall_health")), "critical");
    http_free(&r);

    /* live gauges: a snapshot per second here (SLAWATCH_LIVE_SNAPSHOT_S=1) */
    int tries = 0;
    size_t n = 0;
    do {
        struct timespec ts = {1, 100000000};
        nanosleep(&ts, NULL);
        assert_int_equal(api(s, "GET", "/api/v1/sla/trends/live?tenant_id=cur&hours=1",
                             ADMIN_TOKEN, NULL, &r), 200);
        n = json_array_size(r.json);
        if (n) {
            json_t *last = json_array_get(r.json, n - 1);
            assert_int_equal(an_jint(last, "open"), 3);
            assert_int_equal(an_jint(last, "breaches"), 0);
        }
        http_free(&r);
    } while (n == 0 && ++tries < 10);
    assert_true(n > 0);
}

static void test_isolation(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "iso-a", NULL, NULL);
    an_tenant(s, "iso-b", NULL, NULL);
    struct an_alert a = {.id = "x1", .sev = "high", .created = time(NULL) - HOUR_S};
    an_create(s, "iso-a", &a);
    an_act(s, "iso-a", &a, "resolve", time(NULL) - 60);
    char tok[128];
    it_make_token(s, "viewer", "iso-b", tok, sizeof(tok));
    struct http_resp r;
    /* another tenant's numbers: 404, like an unknown one */
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=iso-a", tok, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/current?tenant_id=iso-a", tok, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/iso-a/monthly", tok, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/iso-a", tok, NULL, NULL), 404);
    /* its own: nothing of iso-a's */
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=iso-b", tok, NULL, &r), 200);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(an_jint(json_array_get(r.json, i), "total"), 0);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=iso-a", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(an_jint(json_array_get(r.json, 1), "total"), 2);
    http_free(&r);
}

/* Reopen takes the earlier contribution back (its final stop counts), and a
 * severity change of an acknowledged alert moves its ack sample: the live
 * rollups stay equal to a rebuild. */
static void test_reopen_severity_rebuild(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "ro", "premium", "Asia/Tokyo");
    time_t now = time(NULL);
    struct an_alert a[6];
    for (int i = 0; i < 6; i++) {
        memset(&a[i], 0, sizeof(a[i]));
        snprintf(a[i].id, sizeof(a[i].id), "r%d", i);
        a[i].sev = i < 3 ? "high" : "medium";
        a[i].created = now - 3 * DAY_S + i * 600;
        an_create(s, "ro", &a[i]);
        an_act(s, "ro", &a[i], "acknowledge", a[i].created + 300 + i * 200);
        an_act(s, "ro", &a[i], "resolve", a[i].created + 7200 + i * 3600);
    }
    /* the maximum of its row goes away and comes back smaller, later */
    an_act(s, "ro", &a[5], "reopen", a[5].created + 7200 + 5 * 3600 + 60);
    an_assert_rebuild_agrees(s);
    an_act(s, "ro", &a[5], "resolve", now - 30);
    an_act(s, "ro", &a[2], "reopen", now - 20);
    an_assert_rebuild_agrees(s);
    /* an open, acknowledged alert changes severity: its ack sample moves */
    struct an_alert b = {.id = "sev1", .sev = "low", .created = now - DAY_S};
    an_create(s, "ro", &b);
    an_act(s, "ro", &b, "acknowledge", now - DAY_S + 999);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/alerts/sev1/severity?tenant_id=ro");
    assert_int_equal(api(s, "POST", path, ADMIN_TOKEN, "{\"severity\":\"critical\"}", NULL), 200);
    an_assert_rebuild_agrees(s);
    char *rows = an_dump_rollups(s, "WHERE tenant_id = 'ro' AND severity = 'low'");
    assert_string_equal(rows, "");
    free(rows);
    /* a reopened alert counts at its final resolution only */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=ro", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(an_jint(json_array_get(r.json, 2), "resolved"), 3);   /* medium */
    assert_int_equal(an_jint(json_array_get(r.json, 1), "resolved"), 2);   /* high: r2 reopened */
    assert_int_equal(an_jint(json_array_get(r.json, 1), "acknowledged"), 3);
    assert_int_equal(an_jint(json_array_get(r.json, 0), "acknowledged"), 1); /* sev1, now critical */
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scorecard_trends),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_current_breaches_live),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_reopen_severity_rebuild),
    };
    return cmocka_run_group_tests(tests, setup, it_server_teardown);
}
