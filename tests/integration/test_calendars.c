/* Business-hours calendars through the API (both backends): CRUD, the
 * contract's validation (422 naming the field), the due and elapsed
 * calculators, alerts and findings on calendars (deadlines, warnings,
 * pauses, breaches, MTTA/MTTR in business time), recalculation when a
 * calendar or a policy changes (X-Recalculated-Count, re-armed warnings),
 * 409 for a calendar in use, access control, and two nodes on one
 * database agreeing on a calendar saved on one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define CAL "/api/v1/tenants/acme/calendars"
/* Monday to Friday 09:00-18:00 Berlin, Christmas every year, one dated day */
#define OFFICE "{\"name\":\"Office\",\"timezone\":\"Europe/Berlin\",\"hours\":{" \
    "\"mon\":[[\"09:00\",\"18:00\"]],\"tue\":[[\"09:00\",\"18:00\"]]," \
    "\"wed\":[[\"09:00\",\"18:00\"]],\"thu\":[[\"09:00\",\"18:00\"]]," \
    "\"fri\":[[\"09:00\",\"18:00\"]]},\"holidays\":[\"12-25\",\"2026-12-28\"]}"

/* ---- helpers --------------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static long put_cal(struct sw_server *s, const char *id, const char *body, long *count)
{
    char path[256], buf[32];
    struct http_resp r;
    snprintf(path, sizeof(path), CAL "/%s", id);
    long st = api(s, "PUT", path, ADMIN_TOKEN, body, &r);
    const char *h = http_resp_header(&r, "X-Recalculated-Count", buf, sizeof(buf));
    if (count)
        *count = h ? strtol(h, NULL, 10) : -1;
    http_free(&r);
    return st;
}

static void expect_422(struct sw_server *s, const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, "PUT", CAL "/bad", ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("%s: expected 422 on %s, got %ld %s", body, field, st, r.body);
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void expect_due(struct sw_server *s, const char *id, const char *start, long minutes,
                       const char *business_start, const char *due)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), CAL "/%s/due?start=%s&minutes=%ld", id, start, minutes);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    if (strcmp(jstr(r.json, "due_at"), due) || strcmp(jstr(r.json, "business_start"),
                                                      business_start))
        fail_msg("due %s + %ld min: %s", start, minutes, r.body);
    http_free(&r);
}

static long elapsed_s(struct sw_server *s, const char *id, const char *from, const char *to)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), CAL "/%s/elapsed?from=%s&to=%s", id, from, to);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    long v = (long)json_integer_value(json_object_get(r.json, "seconds"));
    http_free(&r);
    return v;
}

/* ---- CRUD and validation ----------------------------------------------------------------- */

static void test_crud(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    long n = -2;
    it_make_tenant(s, "acme");
    assert_int_equal(put_cal(s, "office", OFFICE, &n), 200);
    assert_int_equal(n, 0);
    assert_int_equal(api(s, "GET", CAL "/office", ADMIN_TOKEN, NULL, &r), 200);
    assert_string_equal(jstr(r.json, "timezone"), "Europe/Berlin");
    assert_string_equal(jstr(r.json, "name"), "Office");
    json_t *hours = json_object_get(r.json, "hours");
    assert_int_equal(json_array_size(json_object_get(hours, "sat")), 0);    /* every day listed */
    assert_string_equal(json_string_value(json_array_get(
                            json_array_get(json_object_get(hours, "mon"), 0), 1)), "18:00");
    assert_int_equal(json_array_size(json_object_get(r.json, "holidays")), 2);
    assert_true(json_real_value(json_object_get(r.json, "hours_per_week")) == 45.0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 1);
    http_free(&r);
    /* replaced: a new version */
    assert_int_equal(put_cal(s, "office", OFFICE, NULL), 200);
    assert_int_equal(api(s, "GET", CAL, ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "version")), 2);
    http_free(&r);
    /* tried first: nothing stored, no version */
    assert_int_equal(api(s, "PUT", CAL "/office?dry_run=true", ADMIN_TOKEN,
                         "{\"timezone\":\"UTC\",\"hours\":{\"mon\":[[\"10:00\",\"11:00\"]]}}", &r),
                     200);
    assert_true(json_is_true(json_object_get(r.json, "dry_run")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "would_recalculate")), 0);
    http_free(&r);
    assert_int_equal(api(s, "PUT", CAL "/office?dry_run=maybe", ADMIN_TOKEN, OFFICE, &r), 422);
    assert_error_shape(&r, "invalid", "dry_run");
    http_free(&r);
    assert_int_equal(api(s, "GET", CAL "/office", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 2);
    assert_string_equal(jstr(r.json, "timezone"), "Europe/Berlin");
    http_free(&r);
    assert_int_equal(api(s, "GET", CAL "/nope", ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/ghost/calendars", ADMIN_TOKEN, NULL, NULL),
                     404);
    assert_int_equal(api(s, "DELETE", CAL "/office", ADMIN_TOKEN, NULL, NULL), 204);
    assert_int_equal(api(s, "DELETE", CAL "/office", ADMIN_TOKEN, NULL, NULL), 404);
    /* its history outlives it: created, saved again unchanged (no version),
     * deleted; newest first, who and what */
    assert_int_equal(api(s, "GET", CAL "/office/history", ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    if (json_array_size(items) != 2)
        fail_msg("history: %s", r.body);
    json_t *del = json_array_get(items, 0), *cr = json_array_get(items, 1);
    assert_string_equal(jstr(del, "action"), "delete");
    assert_int_equal(json_integer_value(json_object_get(del, "version")), 2);
    assert_true(json_is_null(json_object_get(del, "after")));
    assert_string_equal(jstr(json_object_get(del, "before"), "timezone"), "Europe/Berlin");
    assert_string_equal(jstr(cr, "action"), "create");
    assert_true(json_is_null(json_object_get(cr, "before")));
    assert_int_equal(json_array_size(json_object_get(json_object_get(cr, "after"), "holidays")),
                     2);
    assert_string_equal(jstr(cr, "changed_by"), "token:bootstrap (SLAWATCH_ADMIN_TOKEN)");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/ghost/calendars/office/history", ADMIN_TOKEN,
                         NULL, NULL), 404);
}

static void test_validation(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    expect_422(s, "{\"timezone\":\"Mars/Olympus\",\"hours\":{\"mon\":[[\"09:00\",\"17:00\"]]}}",
               "timezone");
    expect_422(s, "{\"hours\":{\"mon\":[[\"09:00\",\"17:00\"]]}}", "timezone");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"mon\":[[\"09:00\",\"25:00\"]]}}",
               "hours.mon[0]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"tue\":[[\"09:00\",\"12:00\"],"
                  "[\"11:00\",\"13:00\"]]}}", "hours.tue[1]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"wed\":[[\"13:00\",\"17:00\"],"
                  "[\"09:00\",\"12:00\"]]}}", "hours.wed[1]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"thu\":[[\"17:00\",\"09:00\"]]}}",
               "hours.thu[0]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"mon\":[],\"sun\":[]}}", "hours");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{}}", "hours");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"someday\":[]}}", "hours");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"fri\":[[\"9:00\",\"17:00\"]]}}",
               "hours.fri[0]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"fri\":[[\"09:00\",\"17:00\"]]},"
                  "\"holidays\":[\"01-01\",\"2026-02-30\"]}", "holidays[1]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"fri\":[[\"09:00\",\"17:00\"]]},"
                  "\"holidays\":[\"christmas\"]}", "holidays[0]");
    expect_422(s, "{\"timezone\":\"UTC\",\"hours\":{\"fri\":[[\"09:00\",\"17:00\"]]},"
                  "\"holidays\":\"01-01\"}", "holidays");
    /* 24:00 ends a day; touching intervals are one */
    assert_int_equal(put_cal(s, "late", "{\"timezone\":\"UTC\",\"hours\":{\"sat\":[[\"20:00\","
                                        "\"22:00\"],[\"22:00\",\"24:00\"]],\"sun\":[[\"00:00\","
                                        "\"02:00\"]]}}", NULL), 200);
    assert_int_equal(api(s, "PUT", CAL "/24x7", ADMIN_TOKEN, OFFICE, NULL), 422);
    /* the tenant's calendars are its own */
    char tok[128];
    it_make_tenant(s, "other");
    it_make_token(s, "tenant_admin", "other", tok, sizeof(tok));
    assert_int_equal(api(s, "GET", CAL "/late", tok, NULL, NULL), 404);
    assert_int_equal(api(s, "PUT", CAL "/x", tok, OFFICE, NULL), 404);
    it_make_token(s, "viewer", "acme", tok, sizeof(tok));
    assert_int_equal(api(s, "GET", CAL "/late", tok, NULL, NULL), 200);
    assert_int_equal(api(s, "PUT", CAL "/x", tok, OFFICE, NULL), 403);
    assert_int_equal(api(s, "DELETE", CAL "/late", tok, NULL, NULL), 403);
}

/* ---- the calculators ----------------------------------------------------------------------- */

static void test_due_elapsed(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    assert_int_equal(put_cal(s, "office", OFFICE, NULL), 200);
    /* Friday 2026-12-18 17:00 Berlin (16:00Z) + 2 h: 1 h Friday, Monday 10:00 */
    expect_due(s, "office", "2026-12-18T16:00:00Z", 120, "2026-12-18T16:00:00.000Z",
               "2026-12-21T09:00:00.000Z");
    /* used up exactly at Friday 18:00: due at Monday's opening */
    expect_due(s, "office", "2026-12-18T16:00:00Z", 60, "2026-12-18T16:00:00.000Z",
               "2026-12-21T08:00:00.000Z");
    /* a Saturday start begins on Monday 09:00 */
    expect_due(s, "office", "2026-12-19T10:00:00Z", 0, "2026-12-21T08:00:00.000Z",
               "2026-12-21T08:00:00.000Z");
    /* Christmas (a Friday), the weekend and the dated Monday the 28th */
    expect_due(s, "office", "2026-12-24T16:00:00Z", 120, "2026-12-24T16:00:00.000Z",
               "2026-12-29T09:00:00.000Z");
    /* no horizon: 2160 hours of 45-hour weeks */
    assert_int_equal(api(s, "GET", CAL "/office/due?start=2026-01-05T08:00:00Z&minutes=129600",
                         ADMIN_TOKEN, NULL, &r), 200);
    const char *due = jstr(r.json, "due_at");
    assert_true(strcmp(due, "2026-11-30") > 0);         /* 48 weeks later */
    char path[256];
    snprintf(path, sizeof(path), CAL "/office/elapsed?from=2026-01-05T08:00:00Z&to=%s", due);
    http_free(&r);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "seconds")), 2160 * 3600);
    http_free(&r);
    /* elapsed: one business week; DST on a Sunday changes nothing here */
    assert_int_equal(elapsed_s(s, "office", "2027-03-22T00:00:00Z", "2027-03-29T00:00:00Z"),
                     45 * 3600);
    /* bad input */
    assert_int_equal(api(s, "GET", CAL "/office/due?start=2026-12-18T16:00:00Z", ADMIN_TOKEN,
                         NULL, &r), 422);
    assert_error_shape(&r, "invalid", "minutes");
    http_free(&r);
    assert_int_equal(api(s, "GET", CAL "/office/due?start=yesterday&minutes=5", ADMIN_TOKEN,
                         NULL, &r), 422);
    assert_error_shape(&r, "invalid", "start");
    http_free(&r);
    assert_int_equal(api(s, "GET", CAL "/office/elapsed?from=2026-12-18T16:00:00Z&to="
                         "2026-12-17T16:00:00Z", ADMIN_TOKEN, NULL, &r), 422);
    assert_error_shape(&r, "invalid", "to");
    http_free(&r);
    assert_int_equal(api(s, "GET", CAL "/nope/due?start=2026-12-18T16:00:00Z&minutes=5",
                         ADMIN_TOKEN, NULL, NULL), 404);
}

/* A 24x7 calendar in Berlin: the spring-forward night removes an hour. */
static void test_dst(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    assert_int_equal(put_cal(s, "always", "{\"timezone\":\"Europe/Berlin\",\"hours\":{"
                                          "\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\","
                                          "\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":"
                                          "[[\"00:00\",\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],"
                                          "\"sat\":[[\"00:00\",\"24:00\"]],\"sun\":[[\"00:00\","
                                          "\"24:00\"]]}}", NULL), 200);
    /* local midnight to local midnight on 2027-03-28: 23 hours */
    assert_int_equal(elapsed_s(s, "always", "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z"),
                     23 * 3600);
    /* but instants: 24 hours of real time are 24 hours of business time */
    assert_int_equal(elapsed_s(s, "always", "2027-03-27T12:00:00Z", "2027-03-28T12:00:00Z"),
                     24 * 3600);
}


/* ---- alerts on a calendar ----------------------------------------------------------------- */

#define DEF "/api/v1/sla/definition?tenant_id=acme"

static const char *const days[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const char *iso_s(time_t t, char *buf)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

/* A UTC calendar open all day on the weekday `ahead` days from today only
 * (ahead 0..6), or every day (ahead < 0). */
static void cal_body(int ahead, char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t k = (size_t)snprintf(out, len, "{\"timezone\":\"UTC\",\"hours\":{");
    for (int d = 0; d < 7; d++)
        if (ahead < 0 || d == (tm.tm_wday + ahead) % 7)
            k += (size_t)snprintf(out + k, len - k, "%s\"%s\":[[\"00:00\",\"24:00\"]]",
                                  out[k - 1] == '{' ? "" : ",", days[d]);
    snprintf(out + k, len - k, "}}");
}

/* UTC midnight `ahead` days from today. */
static time_t midnight_ahead(int ahead)
{
    time_t now = time(NULL);
    return now - now % 86400 + (time_t)ahead * 86400;
}

static json_t *alert_get(struct sw_server *s, const char *id)
{
    char path[160];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=acme", id);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

static void create_alert(struct sw_server *s, const char *id, const char *sev, time_t created)
{
    char body[256], ts[32];
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"tenant_id\":\"acme\",\"severity\":\"%s\","
             "\"created_at\":\"%s\",\"title\":\"t\"}", id, sev, iso_s(created, ts));
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
}

static bool has_event(struct sw_server *s, const char *id, const char *type)
{
    char path[160];
    struct http_resp r;
    bool found = false;
    snprintf(path, sizeof(path), "/api/v1/alerts/%s/events?tenant_id=acme", id);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    for (size_t i = 0; i < json_array_size(items); i++)
        found |= !strcmp(jstr(json_array_get(items, i), "type"), type);
    http_free(&r);
    return found;
}

static long put_def(struct sw_server *s, const char *body, long *count)
{
    char buf[32];
    struct http_resp r;
    long st = api(s, "PUT", DEF, ADMIN_TOKEN, body, &r);
    const char *h = http_resp_header(&r, "X-Recalculated-Count", buf, sizeof(buf));
    if (count)
        *count = h ? strtol(h, NULL, 10) : -1;
    if (st != 200)
        print_message("PUT definition %s: %ld %s\n", body, st, r.body);
    http_free(&r);
    return st;
}

/* A critical alert two hours old on a calendar that opens only in three
 * days: not breached, due 15 business minutes into that day; a high one
 * (around the clock) is.  Opening every day recalculates it: the deadline
 * falls in the past and the scheduler reports the breach. */
static void test_alert_on_calendar(void **state)
{
    struct sw_server *s = *state;
    char body[512], ts[32];
    long n = -2;
    it_make_tenant(s, "acme");
    cal_body(3, body, sizeof(body));
    assert_int_equal(put_cal(s, "far", body, NULL), 200);
    /* an unknown calendar: 422 naming the severity */
    struct http_resp r;
    assert_int_equal(api(s, "PUT", DEF, ADMIN_TOKEN, "{\"calendars\":{\"critical\":\"nope\"}}",
                         &r), 422);
    assert_error_shape(&r, "invalid", "calendars.critical");
    http_free(&r);
    assert_int_equal(api(s, "PUT", DEF, ADMIN_TOKEN, "{\"calendars\":{\"urgent\":null}}", &r),
                     422);
    assert_error_shape(&r, "invalid", "calendars");
    http_free(&r);
    assert_int_equal(put_def(s, "{\"calendars\":{\"critical\":\"far\"}}", &n), 200);
    assert_int_equal(n, 0);
    assert_int_equal(api(s, "GET", DEF, ADMIN_TOKEN, NULL, &r), 200);
    json_t *cals = json_object_get(r.json, "calendars");
    assert_string_equal(jstr(cals, "critical"), "far");
    assert_true(json_is_null(json_object_get(cals, "high")));
    assert_string_equal(jstr(json_object_get(r.json, "calendar_sources"), "critical"), "tenant");
    http_free(&r);

    time_t created = time(NULL) - 2 * 3600;
    create_alert(s, "c1", "critical", created);
    create_alert(s, "h1", "high", created);
    json_t *a = alert_get(s, "c1");
    assert_string_equal(jstr(a, "ack_due_at"), iso_s(midnight_ahead(3) + 15 * 60, ts));
    assert_string_equal(jstr(a, "resolve_due_at"), iso_s(midnight_ahead(3) + 4 * 3600, ts));
    assert_false(json_is_true(json_object_get(a, "ack_breached")));
    assert_string_equal(jstr(a, "ack_calendar"), "far");
    json_decref(a);
    a = alert_get(s, "h1");
    assert_true(json_is_true(json_object_get(a, "ack_breached")));
    assert_true(json_is_null(json_object_get(a, "ack_calendar")));
    json_decref(a);
    /* named by the definition: 409 */
    assert_int_equal(api(s, "DELETE", CAL "/far", ADMIN_TOKEN, NULL, &r), 409);
    assert_error_shape(&r, "conflict", NULL);
    http_free(&r);

    /* open every day: c1 is recalculated, its deadline passed long ago */
    cal_body(-1, body, sizeof(body));
    assert_int_equal(put_cal(s, "far", body, &n), 200);
    assert_int_equal(n, 1);
    a = alert_get(s, "c1");
    assert_string_equal(jstr(a, "ack_due_at"), iso_s(created + 15 * 60, ts));
    assert_true(json_is_true(json_object_get(a, "ack_breached")));
    json_decref(a);
    bool breach = false;
    for (int i = 0; i < 100 && !breach; i++) {
        breach = has_event(s, "c1", "sla.breach");
        if (!breach)
            usleep(50 * 1000);
    }
    assert_true(breach);

    /* around the clock again: same deadline, the clocks leave the calendar */
    assert_int_equal(put_def(s, "{\"calendars\":{\"critical\":null}}", &n), 200);
    assert_int_equal(n, 1);
    a = alert_get(s, "c1");
    assert_true(json_is_null(json_object_get(a, "ack_calendar")));
    assert_string_equal(jstr(a, "ack_due_at"), iso_s(created + 15 * 60, ts));
    json_decref(a);
    assert_int_equal(api(s, "DELETE", CAL "/far", ADMIN_TOKEN, NULL, NULL), 204);
}

/* An acknowledgement on a calendar keeps the verdict it was judged with:
 * MTTA in business time, unchanged when the calendar changes later. */
static void test_alert_stop_frozen(void **state)
{
    struct sw_server *s = *state;
    char body[512], ts[32];
    long n;
    it_make_tenant(s, "acme");
    cal_body(3, body, sizeof(body));
    assert_int_equal(put_cal(s, "far", body, NULL), 200);
    assert_int_equal(put_def(s, "{\"calendars\":{\"medium\":\"far\"}}", NULL), 200);
    time_t created = time(NULL) - 3600;
    create_alert(s, "m1", "medium", created);
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", iso_s(created + 1800, ts));
    assert_int_equal(api(s, "POST", "/api/v1/alerts/m1/acknowledge?tenant_id=acme", ADMIN_TOKEN,
                         body, NULL), 200);
    json_t *a = alert_get(s, "m1");
    char due[40];
    snprintf(due, sizeof(due), "%s", jstr(a, "ack_due_at"));
    assert_string_equal(due, iso_s(midnight_ahead(3) + 4 * 3600, ts));
    assert_false(json_is_true(json_object_get(a, "ack_breached")));
    json_decref(a);
    /* the calendar opens every day: the stopped clock keeps its verdict,
     * the running resolve clock follows */
    cal_body(-1, body, sizeof(body));
    assert_int_equal(put_cal(s, "far", body, &n), 200);
    assert_int_equal(n, 1);
    a = alert_get(s, "m1");
    assert_string_equal(jstr(a, "ack_due_at"), due);
    assert_false(json_is_true(json_object_get(a, "ack_breached")));
    assert_string_equal(jstr(a, "resolve_due_at"), iso_s(created + 24 * 3600, ts));
    json_decref(a);
}

/* ---- findings on a calendar ------------------------------------------------------------------ */

#define COMPANY "/api/v1/sla/policy/companies/acme"
/* Monday to Friday 09:00-17:00 UTC */
#define UTC_OFFICE "{\"timezone\":\"UTC\",\"hours\":{\"mon\":[[\"09:00\",\"17:00\"]]," \
    "\"tue\":[[\"09:00\",\"17:00\"]],\"wed\":[[\"09:00\",\"17:00\"]]," \
    "\"thu\":[[\"09:00\",\"17:00\"]],\"fri\":[[\"09:00\",\"17:00\"]]}%s}"

static json_t *finding_get(struct sw_server *s, const char *id)
{
    char path[160];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/findings/%s?tenant_id=acme", id);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

static void finding_add(struct sw_server *s, const char *id, const char *sev, const char *at)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"tenant_id\":\"acme\",\"severity\":\"%s\","
             "\"discovered_at\":\"%s\"}", id, sev, at);
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN, body, NULL), 201);
}

static void finding_act(struct sw_server *s, const char *id, const char *verb, const char *body)
{
    char path[160];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/findings/%s/%s?tenant_id=acme", id, verb);
    long st = api(s, "POST", path, ADMIN_TOKEN, body, &r);
    if (st != 200)
        fail_msg("%s %s: %ld %s", verb, id, st, r.body);
    http_free(&r);
}

static void expect_finding(struct sw_server *s, const char *id, const char *deadline,
                           bool breached)
{
    json_t *f = finding_get(s, id);
    if (strcmp(jstr(f, "sla_deadline"), deadline) ||
        json_is_true(json_object_get(f, "breached")) != breached) {
        char *t = json_dumps(f, 0);
        fail_msg("%s: expected %s breached %d: %s", id, deadline, breached, t);
    }
    json_decref(f);
}

static long put_policy(struct sw_server *s, const char *path, const char *body, long *count)
{
    char buf[32];
    struct http_resp r;
    long st = api(s, "PUT", path, ADMIN_TOKEN, body, &r);
    const char *h = http_resp_header(&r, "X-Recalculated-Count", buf, sizeof(buf));
    if (count)
        *count = h ? strtol(h, NULL, 10) : -1;
    if (st != 200)
        print_message("PUT %s %s: %ld %s\n", path, body, st, r.body);
    http_free(&r);
    return st;
}

/* Deadlines in business time, pauses measured in it, a target used up at
 * closing due at the next opening, the scheduler's breach, a holiday added
 * (live findings move, a verdict stays), explain, 409, and off again. */
static void test_findings_on_calendar(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char body[512];
    long n = -2;
    it_make_tenant(s, "acme");
    snprintf(body, sizeof(body), UTC_OFFICE, "");
    assert_int_equal(put_cal(s, "office", body, NULL), 200);
    /* bad calendars: 422 naming the field */
    assert_int_equal(api(s, "PUT", COMPANY, ADMIN_TOKEN,
                         "{\"calendars\":{\"critical\":\"nope\"}}", &r), 422);
    assert_error_shape(&r, "invalid", "calendars.critical");
    http_free(&r);
    assert_int_equal(api(s, "PUT", COMPANY, ADMIN_TOKEN, "{\"calendars\":{\"severe\":null}}",
                         &r), 422);
    assert_error_shape(&r, "invalid", "calendars");
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/global", ADMIN_TOKEN,
                         "{\"calendars\":{\"low\":\"office\"}}", &r), 422);
    assert_error_shape(&r, "invalid", "calendars.low");
    http_free(&r);
    assert_int_equal(put_policy(s, COMPANY, "{\"critical_hours\":8,\"calendars\":"
                                            "{\"critical\":\"office\"}}", &n), 200);
    assert_int_equal(api(s, "GET", COMPANY, ADMIN_TOKEN, NULL, &r), 200);
    json_t *eff = json_object_get(json_object_get(r.json, "effective"), "calendars");
    assert_string_equal(jstr(json_object_get(eff, "critical"), "value"), "office");
    assert_string_equal(jstr(json_object_get(eff, "critical"), "source"), "company");
    assert_true(json_is_null(json_object_get(json_object_get(eff, "high"), "value")));
    assert_string_equal(jstr(json_object_get(r.json, "calendars"), "critical"), "office");
    http_free(&r);

    /* Thursday 2026-01-01 16:00: 1 h on Thursday, 7 h on Friday */
    finding_add(s, "f1", "critical", "2026-01-01T16:00:00.000Z");
    expect_finding(s, "f1", "2026-01-02T16:00:00.000Z", true);
    json_t *f = finding_get(s, "f1");
    assert_string_equal(jstr(f, "calendar"), "office");
    json_decref(f);
    /* Monday 09:00, paused 10:00 to Tuesday 10:00 (8 business hours): the
     * 7 h left end at Tuesday's closing, due at Wednesday's opening */
    finding_add(s, "f2", "critical", "2026-01-05T09:00:00.000Z");
    finding_act(s, "f2", "pause", "{\"at\":\"2026-01-05T10:00:00.000Z\"}");
    finding_act(s, "f2", "resume", "{\"at\":\"2026-01-06T10:00:00.000Z\"}");
    expect_finding(s, "f2", "2026-01-07T09:00:00.000Z", true);
    f = finding_get(s, "f2");
    assert_int_equal(json_integer_value(json_object_get(f, "paused_seconds")), 8 * 3600);
    json_decref(f);
    /* closed after 2 business hours: met */
    finding_add(s, "f3", "critical", "2026-01-01T16:00:00.000Z");
    finding_act(s, "f3", "close", "{\"status\":\"closed\",\"at\":\"2026-01-02T10:00:00.000Z\"}");
    expect_finding(s, "f3", "2026-01-02T16:00:00.000Z", false);
    /* a high one is around the clock */
    finding_add(s, "h1", "high", "2026-01-01T16:00:00.000Z");
    f = finding_get(s, "h1");
    assert_true(json_is_null(json_object_get(f, "calendar")));
    json_decref(f);

    /* the breached filter counts business time too */
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=acme&breached=false", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(jstr(json_array_get(items, 0), "id"), "f3");
    http_free(&r);
    /* a page of one: the rows on a calendar decided in C do not end the list */
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=acme&breached=false&limit=1",
                         ADMIN_TOKEN, NULL, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(jstr(json_array_get(items, 0), "id"), "f3");
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=acme&breached=true&limit=1",
                         ADMIN_TOKEN, NULL, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(jstr(json_array_get(items, 0), "id"), "f1");
    assert_false(json_is_null(json_object_get(r.json, "next_cursor")));
    http_free(&r);

    /* explain: the company chose the calendar */
    assert_int_equal(api(s, "GET", "/api/v1/findings/f1/sla/explain?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *cal = json_object_get(r.json, "calendar");
    assert_string_equal(jstr(cal, "value"), "office");
    assert_string_equal(jstr(cal, "answered"), "company");
    assert_string_equal(jstr(cal, "stored"), "office");
    http_free(&r);
    assert_int_equal(api(s, "DELETE", CAL "/office", ADMIN_TOKEN, NULL, NULL), 409);

    /* Friday a holiday: f1 moves to Monday 16:00; the verdict of f3 stands */
    snprintf(body, sizeof(body), UTC_OFFICE, ",\"holidays\":[\"2026-01-02\"]");
    assert_int_equal(put_cal(s, "office", body, &n), 200);
    assert_int_equal(n, 2);             /* f1, f2: the live findings on it */
    expect_finding(s, "f1", "2026-01-05T16:00:00.000Z", true);
    expect_finding(s, "f3", "2026-01-02T16:00:00.000Z", false);

    /* around the clock again: 8 wall hours from discovery */
    assert_int_equal(put_policy(s, COMPANY, "{\"critical_hours\":8,\"calendars\":"
                                            "{\"critical\":\"24x7\"}}", &n), 200);
    expect_finding(s, "f1", "2026-01-02T00:00:00.000Z", true);
    /* f2's pause re-measured around the clock: 24 hours, due Tuesday 17:00 */
    expect_finding(s, "f2", "2026-01-06T17:00:00.000Z", true);
    f = finding_get(s, "f2");
    assert_int_equal(json_integer_value(json_object_get(f, "paused_seconds")), 24 * 3600);
    json_decref(f);
    f = finding_get(s, "f1");
    assert_true(json_is_null(json_object_get(f, "calendar")));
    json_decref(f);
    assert_int_equal(api(s, "DELETE", CAL "/office", ADMIN_TOKEN, NULL, NULL), 204);
    /* the closed one keeps its verdict without its calendar */
    expect_finding(s, "f3", "2026-01-02T16:00:00.000Z", false);
}

/* A finding not due when it arrives (its calendar opens in three days)
 * becomes overdue when the calendar opens every day: the scheduler tells
 * the breach (it happened after slawatch knew the finding). */
static void test_finding_breach_told(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char body[512], ts[32];
    long n = -2;
    it_make_tenant(s, "acme");
    cal_body(3, body, sizeof(body));
    assert_int_equal(put_cal(s, "far", body, NULL), 200);
    assert_int_equal(put_policy(s, COMPANY, "{\"low_hours\":1,\"calendars\":{\"low\":\"far\"}}",
                                NULL), 200);
    finding_add(s, "f4", "low", iso_s(time(NULL) - 2 * 3600, ts));
    json_t *f = finding_get(s, "f4");
    assert_false(json_is_true(json_object_get(f, "breached")));
    assert_string_equal(jstr(f, "sla_deadline"), iso_s(midnight_ahead(3) + 3600, ts));
    json_decref(f);
    cal_body(-1, body, sizeof(body));
    assert_int_equal(put_cal(s, "far", body, &n), 200);
    assert_int_equal(n, 1);
    f = finding_get(s, "f4");
    assert_true(json_is_true(json_object_get(f, "breached")));
    json_decref(f);
    bool breach = false;
    for (int i = 0; i < 100 && !breach; i++) {
        assert_int_equal(api(s, "GET", "/api/v1/findings/f4/events?tenant_id=acme", ADMIN_TOKEN,
                             NULL, &r), 200);
        json_t *items = json_object_get(r.json, "items");
        for (size_t k = 0; k < json_array_size(items); k++)
            breach |= !strcmp(jstr(json_array_get(items, k), "type"), "sla.breach");
        http_free(&r);
        if (!breach)
            usleep(50 * 1000);
    }
    assert_true(breach);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crud, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_validation, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_due_elapsed, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_dst, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_alert_on_calendar, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_alert_stop_frozen, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_findings_on_calendar, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_finding_breach_told, it_server_setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
