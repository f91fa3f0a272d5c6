/* Reports and penalties end to end: a New York tenant with resolutions on
 * both sides of the October/November boundary (23:30 EDT on Oct 31 is
 * 03:30Z on Nov 1 and belongs to October), daily and monthly reports (JSON
 * and CSV), trends by metric, period comparison (deltas, percent change),
 * penalties per breach and the monthly summary with a cap, grades exactly
 * at the band edges, a time-zone change rebuilding the rollups, 422s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "an_common.h"

static time_t at(const char *iso)
{
    /* the tests' instants are fixed; parse "YYYY-MM-DDTHH:MM:SSZ" */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm));
    return timegm(&tm);
}

static long long penalty(const struct an_alert *a)
{
    long long over = (long long)(a->res_at - a->created) - (long long)a->res_target_min * 60;
    if (over <= 0)
        return 0;
    return (over + 3599) / 3600 * a->rate_cph;
}

/* A: critical, 14:00 → ack 14:10 → resolved 23:30 EDT Oct 31 (03:30Z Nov 1)
 * B: high, ack 22:05 EDT Oct 31 (Oct), resolved 00:30 EDT Nov 1 (Nov)
 * C: medium, mid-October, quick.  D: critical, November, very late. */
static struct an_alert A = {.id = "A", .sev = "critical"}, B = {.id = "B", .sev = "high"},
                       C = {.id = "C", .sev = "medium"}, D = {.id = "D", .sev = "critical"};

static void load(struct sw_server *s)
{
    an_tenant(s, "nyr", "standard", "America/New_York");
    A.created = at("2026-10-31T18:00:00Z");
    an_create(s, "nyr", &A);
    an_act(s, "nyr", &A, "acknowledge", A.ack_at = at("2026-10-31T18:10:00Z"));
    an_act(s, "nyr", &A, "resolve", A.res_at = at("2026-11-01T03:30:00Z"));
    B.created = at("2026-11-01T01:00:00Z");
    an_create(s, "nyr", &B);
    an_act(s, "nyr", &B, "acknowledge", B.ack_at = at("2026-11-01T02:05:00Z"));
    B.res_at = B.created + (time_t)B.res_target_min * 60 + 2 * HOUR_S + 1;  /* 3 h billed */
    an_act(s, "nyr", &B, "resolve", B.res_at);
    C.created = at("2026-10-15T10:00:00Z");
    an_create(s, "nyr", &C);
    an_act(s, "nyr", &C, "resolve", C.res_at = at("2026-10-15T10:20:00Z"));
    C.ack_at = C.res_at;
    D.created = at("2026-11-10T12:00:00Z");
    an_create(s, "nyr", &D);
    an_act(s, "nyr", &D, "acknowledge", D.ack_at = D.created + 5 * MIN_S);
    an_act(s, "nyr", &D, "resolve", D.res_at = D.created + 3 * DAY_S);
    assert_true(A.res_breached && B.res_breached && D.res_breached && !C.res_breached);
    assert_true(A.rate_cph > 0);
}

static json_t *find_day(json_t *days, const char *date)
{
    for (size_t i = 0; i < json_array_size(days); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(days, i), "date")), date))
            return json_array_get(days, i);
    fail_msg("no day %s", date);
    return NULL;
}

static void test_month_boundary_reports(void **state)
{
    struct sw_server *s = *state;
    load(s);
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-10", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *sm = json_object_get(r.json, "summary");
    assert_int_equal(an_jint(sm, "resolved"), 2);          /* A (local Oct 31) and C */
    assert_int_equal(an_jint(sm, "acknowledged"), 3);      /* A, B (22:05 EDT), C's stop */
    assert_string_equal(json_string_value(json_object_get(r.json, "timezone")),
                        "America/New_York");
    json_t *days = json_object_get(r.json, "days");
    assert_int_equal(json_array_size(days), 31);
    json_t *d31 = find_day(days, "2026-10-31");
    assert_int_equal(an_jint(d31, "resolved"), 1);
    assert_int_equal(an_jint(d31, "acknowledged"), 2);
    assert_int_equal(an_jint(find_day(days, "2026-10-01"), "total"), 0);
    /* averages exact: MTTR of A and C */
    struct an_stats st = {0};
    an_stats_add(&st, (long long)(A.res_at - A.created) * 1000);
    an_stats_add(&st, (long long)(C.res_at - C.created) * 1000);
    an_assert_avg("oct mttr", an_jnum(sm, "mttr_avg_min"), &st);
    assert_int_equal(an_jint(json_object_get(r.json, "penalties"), "total_cents"), penalty(&A));
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-11", ADMIN_TOKEN,
                         NULL, &r), 200);
    sm = json_object_get(r.json, "summary");
    assert_int_equal(an_jint(sm, "resolved"), 2);          /* B and D */
    assert_int_equal(an_jint(sm, "acknowledged"), 1);      /* D */
    assert_int_equal(json_array_size(json_object_get(r.json, "days")), 30);
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/daily?date=2026-10-31", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(json_object_get(r.json, "summary"), "resolved"), 1);
    json_t *crit = json_array_get(json_object_get(r.json, "by_severity"), 0);
    assert_string_equal(json_string_value(json_object_get(crit, "severity")), "critical");
    assert_int_equal(an_jint(crit, "mttr_breached"), 1);
    assert_int_equal(an_jint(crit, "penalty_cents"), penalty(&A));
    http_free(&r);

    /* CSV: the header, 31 daily rows, 4 severities + all for the month */
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-10&format=csv",
                         ADMIN_TOKEN, NULL, &r), 200);
    char ct[128];
    assert_non_null(http_resp_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/csv"));
    int lines = 0;
    bool saw31 = false, saw_month = false;
    for (char *p = r.body, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (lines == 0)
            assert_true(!strncmp(p, "date,severity,total,met,breached,compliance_pct,grade,"
                                    "acknowledged,mtta_avg_min", 70));
        if (!strncmp(p, "2026-10-31,all,", 15)) {
            /* …,acknowledged (8th),…,resolved (12th) */
            char *f[16];
            int n = 0;
            for (char *q = p; n < 16; q = strchr(q, ',') + 1) {
                f[n++] = q;
                if (!strchr(q, ','))
                    break;
            }
            assert_int_equal(atoi(f[7]), 2);
            assert_int_equal(atoi(f[11]), 1);
            saw31 = true;
        }
        if (!strncmp(p, "2026-10,all,", 12))
            saw_month = true;
        lines++;
    }
    assert_int_equal(lines, 1 + 31 + 5);
    assert_true(saw31 && saw_month);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/daily?date=2026-10-31&format=csv",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_non_null(strstr(r.body, "\r\n2026-10-31,critical,2,1,1,50.00,F,1,"));
    http_free(&r);
    an_assert_rebuild_agrees(s);
}

static void test_penalties_and_cap(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/nyr?month=2026-10", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(an_jint(r.json, "count"), 1);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "alert_id")), "A");
    assert_int_equal(an_jint(it, "amount_cents"), penalty(&A));
    assert_int_equal(an_jint(it, "rate_cents_per_hour"), A.rate_cph);
    assert_int_equal(an_jint(r.json, "total_cents"), penalty(&A));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/nyr?month=2026-11", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(an_jint(r.json, "count"), 2);
    assert_int_equal(an_jint(r.json, "total_cents"), penalty(&B) + penalty(&D));
    assert_int_equal(an_jint(json_array_get(json_object_get(r.json, "items"), 0), "hours_billed"),
                     3);
    http_free(&r);
    /* the summary (rollups) agrees with the list (raw) */
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/nyr/summary?month=2026-11", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "total_cents"), penalty(&B) + penalty(&D));
    assert_int_equal(an_jint(r.json, "breaches"), 2);
    assert_true(json_is_null(json_object_get(r.json, "cap_cents")));
    assert_int_equal(an_jint(r.json, "credited_cents"), penalty(&B) + penalty(&D));
    json_t *by = json_object_get(r.json, "by_severity");
    assert_int_equal(an_jint(json_array_get(by, 0), "amount_cents"), penalty(&D));
    assert_int_equal(an_jint(json_array_get(by, 1), "amount_cents"), penalty(&B));
    http_free(&r);
    /* a monthly cap on service credits */
    char body[96];
    long long cap = penalty(&D);
    snprintf(body, sizeof(body), "{\"monthly_penalty_cap\":%lld}", cap);
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/nyr", ADMIN_TOKEN, body, &r), 200);
    assert_int_equal(an_jint(r.json, "monthly_penalty_cap"), cap);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/nyr/summary?month=2026-11", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "cap_cents"), cap);
    assert_int_equal(an_jint(r.json, "credited_cents"), cap);
    assert_true(json_is_true(json_object_get(r.json, "capped")));
    assert_int_equal(an_jint(r.json, "excess_cents"), penalty(&B));
    http_free(&r);
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/nyr", ADMIN_TOKEN,
                         "{\"monthly_penalty_cap\":null}", &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "monthly_penalty_cap")));
    http_free(&r);
}

/* GET the statement of a month; its text as pdftotext reads it (malloc'd).
 * SLAWATCH_STATEMENT_SAMPLE=DIR keeps each PDF there (docs/statement.png
 * is rendered from one with pdftoppm the same way). */
static char *statement_text(struct sw_server *s, const char *tenant, const char *month)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/statements/%s?month=%s", tenant, month);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    char ct[64], cd[160];
    assert_non_null(http_resp_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/pdf");
    assert_non_null(http_resp_header(&r, "Content-Disposition", cd, sizeof(cd)));
    assert_non_null(strstr(cd, "statement-"));
    assert_true(r.len > 1000 && !memcmp(r.body, "%PDF-", 5));
    char file[] = "/tmp/slawatch-statement-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, r.body, r.len), (ssize_t)r.len);
    close(fd);
    const char *keep = getenv("SLAWATCH_STATEMENT_SAMPLE");
    if (keep) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "cp %s %s/statement-%s-%s.pdf", file, keep, tenant, month);
        assert_int_equal(system(cmd), 0);
    }
    http_free(&r);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "pdftotext -layout %s -", file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        fwrite(buf, 1, n, out);
    assert_int_equal(pclose(p), 0);
    fclose(out);
    unlink(file);
    return text;
}

static void money_str(long long cents, char *buf, size_t len)
{
    /* the statement's format: 1,234.56 */
    char d[24], g[40];
    snprintf(d, sizeof(d), "%lld", cents / 100);
    size_t n = strlen(d), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            g[k++] = ',';
        g[k++] = d[i];
    }
    g[k] = '\0';
    snprintf(buf, len, "%s.%02lld", g, cents % 100);
}

static void assert_has(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("the statement lacks \"%s\":\n%s", what, text);
}

/* The monthly service-credit statement, read back with pdftotext: the
 * tenant, the month, compliance per severity, each breach with its credit,
 * the cap applied and the totals; the PDF says what the JSON says. */
static void test_statement(void **state)
{
    struct sw_server *s = *state;
    char body[96], a[64];
    long long total = penalty(&B) + penalty(&D), cap = penalty(&D);
    snprintf(body, sizeof(body), "{\"monthly_penalty_cap\":%lld}", cap);
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/nyr", ADMIN_TOKEN, body, NULL), 200);
    char *t = statement_text(s, "nyr", "2026-11");
    assert_has(t, "Service-credit statement");
    assert_has(t, "T nyr (nyr)");
    assert_has(t, "Month 2026-11, 2026-11-01 to 2026-11-30 (America/New_York)");
    assert_has(t, "Compliance by severity");
    assert_has(t, "Breaches and credits");
    money_str(penalty(&B), a, sizeof(a));
    assert_has(t, a);
    money_str(penalty(&D), a, sizeof(a));
    assert_has(t, a);
    money_str(total, a, sizeof(a));
    assert_has(t, a);
    assert_has(t, "Cap applied");
    assert_has(t, "yes");
    money_str(penalty(&B), a, sizeof(a));       /* above the cap */
    assert_has(t, "Service credit due");
    assert_has(t, "page 1");
    free(t);
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/nyr", ADMIN_TOKEN,
                         "{\"monthly_penalty_cap\":null}", NULL), 200);
    /* a month without breaches */
    t = statement_text(s, "nyr", "2026-08");
    assert_has(t, "No billed breach this month.");
    assert_has(t, "none");
    free(t);
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/statements/nyr?month=2026-13", ADMIN_TOKEN, NULL,
                         &r), 422);
    assert_error_shape(&r, "invalid", "month");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/statements/nosuch?month=2026-11", ADMIN_TOKEN,
                         NULL, &r), 404);
    http_free(&r);
}

static void test_compare_and_trends(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/sla/reports/nyr/compare", ADMIN_TOKEN,
                         "{\"period1_start\":\"2026-10-01\",\"period1_end\":\"2026-10-31\","
                         "\"period2_start\":\"2026-11-01T04:00:00Z\",\"period2_end\":\"2026-11-30\"}",
                         &r), 200);
    json_t *p1 = json_object_get(r.json, "period1"), *p2 = json_object_get(r.json, "period2");
    assert_string_equal(json_string_value(json_object_get(p2, "start_date")), "2026-11-01");
    assert_int_equal(an_jint(p1, "resolved"), 2);
    assert_int_equal(an_jint(p2, "resolved"), 2);
    assert_int_equal(an_jint(p1, "total"), 5);
    assert_int_equal(an_jint(p2, "total"), 3);
    json_t *delta = json_object_get(r.json, "delta"), *pc = json_object_get(r.json, "percent_change");
    assert_int_equal(an_jint(delta, "total"), -2);
    assert_true(fabs(an_jnum(pc, "total") - (-40.0)) < 1e-9);
    assert_int_equal(an_jint(delta, "penalty_cents"), penalty(&B) + penalty(&D) - penalty(&A));
    double d = an_jnum(p2, "mttr_avg_min") - an_jnum(p1, "mttr_avg_min");
    assert_true(fabs(an_jnum(delta, "mttr_avg_min") - d) < 1e-9);
    assert_true(fabs(an_jnum(pc, "mttr_avg_min") - d / an_jnum(p1, "mttr_avg_min") * 100) < 1e-9);
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/trends?metric=compliance&days=45",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "points")), 45);
    assert_string_equal(json_string_value(json_object_get(r.json, "unit")), "percent");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/trends?metric=mttr", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "points")), 90);
    http_free(&r);
}

static void expect_422(struct sw_server *s, const char *method, const char *path,
                       const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, method, path, ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("%s %s: %ld %s", method, path, st, r.body);
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void test_bad_input(void **state)
{
    struct sw_server *s = *state;
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-13", NULL, "month");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-1", NULL, "month");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/monthly?format=xml", NULL, "format");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/daily?date=2026-02-30", NULL, "date");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/daily?date=2026-13-45", NULL, "date");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/trends?metric=latency", NULL, "metric");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/trends", NULL, "metric");
    expect_422(s, "GET", "/api/v1/sla/reports/nyr/trends?metric=mtta&days=400", NULL, "days");
    expect_422(s, "GET", "/api/v1/sla/penalties/nyr/summary?month=26-01", NULL, "month");
    expect_422(s, "POST", "/api/v1/sla/reports/nyr/compare",
               "{\"period1_start\":\"2026-10-01\",\"period1_end\":\"2026-10-31\","
               "\"period2_start\":\"2026-11-01\"}", "period2_end");
    expect_422(s, "POST", "/api/v1/sla/reports/nyr/compare",
               "{\"period1_start\":\"2026-10-31\",\"period1_end\":\"2026-10-01\","
               "\"period2_start\":\"2026-11-01\",\"period2_end\":\"2026-11-02\"}", "period1_end");
    expect_422(s, "POST", "/api/v1/sla/reports/nyr/compare",
               "{\"period1_start\":\"2026-10-01\",\"period1_end\":\"2026-10-31\","
               "\"period2_start\":\"2025-01-01\",\"period2_end\":\"2026-11-02\"}", "period2_end");
    expect_422(s, "POST", "/api/v1/sla/reports/nyr/compare",
               "{\"period1_start\":\"2026-13-45\",\"period1_end\":\"2026-10-31\","
               "\"period2_start\":\"2025-01-01\",\"period2_end\":\"2026-11-02\"}", "period1_start");
    expect_422(s, "PATCH", "/api/v1/tenants/nyr", "{\"timezone\":\"Mars/Olympus\"}", "timezone");
    expect_422(s, "POST", "/api/v1/tenants",
               "{\"id\":\"tzbad\",\"name\":\"x\",\"timezone\":\"EST5EDT6\"}", "timezone");
    expect_422(s, "PATCH", "/api/v1/tenants/nyr", "{\"monthly_penalty_cap\":-1}",
               "monthly_penalty_cap");
}

static json_t *sev_of(json_t *o, const char *k, const char *sev)
{
    return json_object_get(json_object_get(o, k), sev);
}

static void put_definition(struct sw_server *s, const char *tenant, const char *body,
                           struct http_resp *r)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/sla/definition?tenant_id=%s", tenant);
    long st = api(s, "PUT", path, ADMIN_TOKEN, body, r);
    if (st != 200)
        fail_msg("PUT %s: %ld %s", body, st, r->body);
}

/* Per-tenant rate override and the optional MTTA penalty: a late
 * acknowledgement bills the MTTA rate (acknowledge clocks only where a rate
 * is set), the list merges both clocks by stop instant, the totals are the
 * month's whatever the page holds, a stopped acknowledge clock keeps the rate
 * it was billed at when the policy changes later, 0 goes back to inheriting. */
static void test_rate_override_and_mtta(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    an_tenant(s, "mt", "standard", "UTC");
    assert_int_equal(api(s, "GET", "/api/v1/sla/definition?tenant_id=mt", ADMIN_TOKEN, NULL,
                         &r), 200);
    json_int_t tmpl_crit = json_integer_value(sev_of(r.json, "penalty_per_hour_cents",
                                                     "critical"));
    json_int_t tmpl_high = json_integer_value(sev_of(r.json, "penalty_per_hour_cents", "high"));
    assert_true(tmpl_crit > 0 && tmpl_crit != 12345);
    assert_int_equal(json_integer_value(sev_of(r.json, "mtta_penalty_per_hour_cents",
                                               "critical")), 0);
    http_free(&r);
    put_definition(s, "mt", "{\"penalty_per_hour_cents\":{\"critical\":12345},"
                            "\"mtta_penalty_per_hour_cents\":{\"critical\":700}}", &r);
    assert_int_equal(json_integer_value(sev_of(r.json, "penalty_per_hour_cents", "critical")),
                     12345);
    assert_int_equal(json_integer_value(sev_of(r.json, "penalty_per_hour_cents", "high")),
                     tmpl_high);
    assert_int_equal(json_integer_value(sev_of(r.json, "mtta_penalty_per_hour_cents",
                                               "critical")), 700);
    assert_int_equal(json_integer_value(sev_of(r.json, "mtta_penalty_per_hour_cents", "high")),
                     0);
    http_free(&r);

    /* M1: acknowledged 61 min late (2 h at 700) and resolved 30 min late
     * (1 h at 12345); M2: on time to acknowledge, 3 h 1 s late to resolve;
     * M3 (high): late to acknowledge, no MTTA rate: nothing billed */
    struct an_alert m1 = {.id = "M1", .sev = "critical"}, m2 = {.id = "M2", .sev = "critical"},
                    m3 = {.id = "M3", .sev = "high"};
    m1.created = at("2026-09-10T10:00:00Z");
    an_create(s, "mt", &m1);
    assert_int_equal(m1.rate_cph, 12345);
    an_act(s, "mt", &m1, "acknowledge", m1.created + (m1.ack_target_min + 61) * MIN_S);
    assert_true(m1.ack_breached);
    an_act(s, "mt", &m1, "resolve", m1.created + (m1.res_target_min + 30) * MIN_S);
    m2.created = at("2026-09-12T10:00:00Z");
    an_create(s, "mt", &m2);
    an_act(s, "mt", &m2, "acknowledge", m2.created + MIN_S);
    an_act(s, "mt", &m2, "resolve", m2.created + m2.res_target_min * MIN_S + 3 * HOUR_S + 1);
    m3.created = at("2026-09-14T10:00:00Z");
    an_create(s, "mt", &m3);
    an_act(s, "mt", &m3, "acknowledge", m3.created + (m3.ack_target_min + 120) * MIN_S);
    an_act(s, "mt", &m3, "resolve", m3.created + m3.res_target_min * MIN_S / 2);
    /* M4: acknowledged 10 min late in September, still open */
    struct an_alert m4 = {.id = "M4", .sev = "critical"};
    m4.created = at("2026-09-20T10:00:00Z");
    an_create(s, "mt", &m4);
    an_act(s, "mt", &m4, "acknowledge", m4.created + (m4.ack_target_min + 10) * MIN_S);
    const long long total = 2 * 700 + 12345 + 4 * 12345 + 700;

    /* the MTTA rate changes after M4's acknowledgement: it was billed at 700 */
    put_definition(s, "mt", "{\"mtta_penalty_per_hour_cents\":{\"critical\":900}}", &r);
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/mt?month=2026-09", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(an_jint(r.json, "count"), 4);
    assert_int_equal(an_jint(r.json, "total_cents"), total);
    assert_int_equal(an_jint(r.json, "page_total_cents"), total);
    assert_false(json_is_true(json_object_get(r.json, "truncated")));
    json_t *items = json_object_get(r.json, "items");
    static const struct { const char *id, *clock; long long rate, amount; } want[] = {
        {"M1", "ack", 700, 1400}, {"M1", "resolve", 12345, 12345},
        {"M2", "resolve", 12345, 4 * 12345}, {"M4", "ack", 700, 700},
    };
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(items, i);
        assert_string_equal(json_string_value(json_object_get(it, "alert_id")), want[i].id);
        assert_string_equal(json_string_value(json_object_get(it, "clock")), want[i].clock);
        assert_int_equal(an_jint(it, "rate_cents_per_hour"), want[i].rate);
        assert_int_equal(an_jint(it, "amount_cents"), want[i].amount);
    }
    http_free(&r);
    /* a page of one: the month's total still */
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/mt?month=2026-09&limit=1", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "count"), 1);
    assert_true(json_is_true(json_object_get(r.json, "truncated")));
    assert_int_equal(an_jint(r.json, "total_cents"), total);
    assert_int_equal(an_jint(r.json, "page_total_cents"), 1400);
    http_free(&r);
    /* the summary (rollups) agrees with the list (raw rows) */
    assert_int_equal(api(s, "GET", "/api/v1/sla/penalties/mt/summary?month=2026-09", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(r.json, "total_cents"), total);
    assert_int_equal(an_jint(r.json, "breaches"), 2);
    json_t *crit = json_array_get(json_object_get(r.json, "by_severity"), 0);
    assert_int_equal(an_jint(crit, "amount_cents"), total);
    assert_int_equal(an_jint(crit, "mtta_amount_cents"), 1400 + 700);
    assert_int_equal(an_jint(crit, "mtta_breaches"), 2);
    assert_int_equal(an_jint(crit, "mtta_rate_cents_per_hour"), 900);
    assert_int_equal(an_jint(crit, "rate_cents_per_hour"), 12345);
    json_t *high = json_array_get(json_object_get(r.json, "by_severity"), 1);
    assert_int_equal(an_jint(high, "mtta_amount_cents"), 0);
    assert_int_equal(an_jint(high, "mtta_breaches"), 0);
    http_free(&r);
    an_assert_rebuild_agrees(s);
    /* the statement lists both clocks: MTTA and MTTR rows */
    char *t = statement_text(s, "mt", "2026-09");
    assert_has(t, "MTTA");
    assert_has(t, "M4");
    char a[64];
    money_str(total, a, sizeof(a));
    assert_has(t, a);
    free(t);

    /* 0: back to inheriting the template's rate */
    put_definition(s, "mt", "{\"penalty_per_hour_cents\":{\"critical\":0},"
                            "\"mtta_penalty_per_hour_cents\":{\"critical\":0}}", &r);
    assert_int_equal(json_integer_value(sev_of(r.json, "penalty_per_hour_cents", "critical")),
                     tmpl_crit);
    assert_int_equal(json_integer_value(sev_of(r.json, "mtta_penalty_per_hour_cents",
                                               "critical")), 0);
    http_free(&r);
    expect_422(s, "PUT", "/api/v1/sla/definition?tenant_id=mt",
               "{\"mtta_penalty_per_hour_cents\":{\"critical\":-1}}",
               "mtta_penalty_per_hour_cents");
    expect_422(s, "PUT", "/api/v1/sla/definition?tenant_id=mt",
               "{\"penalty_per_hour_cents\":{\"urgent\":5}}", "penalty_per_hour_cents");
    expect_422(s, "PUT", "/api/v1/sla/definition?tenant_id=mt",
               "{\"penalty_per_hour_cents\":5}", "penalty_per_hour_cents");
    expect_422(s, "PUT", "/api/v1/sla/definition?tenant_id=mt",
               "{\"penalty_per_hour_cents\":{\"low\":100000001}}", "penalty_per_hour_cents");
}

/* Changing the time zone rebuilds the tenant's rollups: in UTC, A's
 * resolution (03:30Z Nov 1) and B's acknowledgement move to November. */
static void test_timezone_change(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/nyr", ADMIN_TOKEN,
                         "{\"timezone\":\"UTC\",\"name\":\"NY Renamed\"}", &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "timezone")), "UTC");
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "NY Renamed");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-10", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *sm = json_object_get(r.json, "summary");
    assert_int_equal(an_jint(sm, "resolved"), 1);          /* C only */
    assert_int_equal(an_jint(sm, "acknowledged"), 2);      /* A, C */
    http_free(&r);
    an_assert_rebuild_agrees(s);
    assert_int_equal(api(s, "PATCH", "/api/v1/tenants/nyr", ADMIN_TOKEN,
                         "{\"timezone\":\"America/New_York\"}", NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/sla/reports/nyr/monthly?month=2026-10", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(an_jint(json_object_get(r.json, "summary"), "resolved"), 2);
    http_free(&r);
}

/* Grades exactly at the band edges: 95 % A, 90 % B, 85 % C, 75 % D. */
static void test_grade_edges(void **state)
{
    struct sw_server *s = *state;
    an_tenant(s, "edge", "standard", "Europe/Paris");
    static const struct {
        const char *sev;
        int n, res_breached;
        const char *grade;
        double pct;
    } g[] = {
        {"critical", 20, 10, "D", 75.0},
        {"high", 20, 2, "A", 95.0},
        {"medium", 10, 2, "B", 90.0},
        {"low", 20, 6, "C", 85.0},
    };
    time_t base = time(NULL) - 20 * DAY_S;
    int k = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < g[i].n; j++, k++) {
            struct an_alert a = {.sev = g[i].sev, .created = base + k * 60};
            snprintf(a.id, sizeof(a.id), "e%03d", k);
            an_create(s, "edge", &a);
            an_act(s, "edge", &a, "acknowledge", a.created + a.ack_target_min * 30);
            time_t res = j < g[i].res_breached ? a.created + a.res_target_min * 60 + 61
                                               : a.created + a.res_target_min * 30;
            an_act(s, "edge", &a, "resolve", res);
        }
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/scorecard?tenant_id=edge", ADMIN_TOKEN, NULL, &r),
                     200);
    for (int i = 0; i < 4; i++) {
        json_t *it = json_array_get(r.json, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(it, "severity")), g[i].sev);
        assert_string_equal(json_string_value(json_object_get(it, "grade")), g[i].grade);
        assert_true(an_jnum(it, "compliance_pct") == g[i].pct);
        assert_int_equal(an_jint(it, "breached"), g[i].res_breached);
    }
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_boundary_reports),
        cmocka_unit_test(test_penalties_and_cap),
        cmocka_unit_test(test_statement),
        cmocka_unit_test(test_compare_and_trends),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_rate_override_and_mtta),
        cmocka_unit_test(test_timezone_change),
        cmocka_unit_test(test_grade_edges),
    };
    return cmocka_run_group_tests(tests, it_server_setup, it_server_teardown);
}
