/* SOC alerts end to end: create (idempotent), targets from built-ins and
 * templates, lifecycle, breach flags, bulk NDJSON, list paging and
 * filters, events, tenant isolation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define MIN 60
#define HOUR 3600

/* ---- helpers ----------------------------------------------------------- */

/* Whole seconds: the API prints no fraction then, so strings compare. */
static time_t now_s(void)
{
    return time(NULL);
}

static const char *iso(time_t t, char *buf)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

static void make_tenant(struct sw_server *s, const char *id, const char *tmpl)
{
    char body[256];
    if (tmpl)
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"T %s\",\"template\":\"%s\"}", id,
                 id, tmpl);
    else
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"T %s\"}", id, id);
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, body, NULL), 201);
}

/* POST /alerts; created 0 = now (no created_at). */
static long create_alert(struct sw_server *s, const char *token, const char *tenant,
                         const char *id, const char *sev, time_t created, struct http_resp *out)
{
    char body[512], ts[32];
    if (created)
        snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"created_at\":\"%s\","
                 "\"title\":\"Alert %s\",\"source\":\"siem\"}",
                 id, tenant, sev, iso(created, ts), id);
    else
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\"}",
                 id, tenant, sev);
    return api(s, "POST", "/api/v1/alerts", token ? token : ADMIN_TOKEN, body, out);
}

static long action(struct sw_server *s, const char *token, const char *tenant, const char *id,
                   const char *verb, const char *body, struct http_resp *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/alerts/%s/%s?tenant_id=%s", id, verb, tenant);
    return api(s, "POST", path, token ? token : ADMIN_TOKEN, body, out);
}

static long tracking(struct sw_server *s, const char *token, const char *tenant, const char *id,
                     struct http_resp *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=%s", id, tenant);
    return api(s, "GET", path, token ? token : ADMIN_TOKEN, NULL, out);
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", k);
    return json_integer_value(v);
}

static bool jbool(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_boolean(v))
        fail_msg("%s is not a boolean", k);
    return json_is_true(v);
}

static void assert_time(json_t *o, const char *k, time_t want)
{
    char buf[32];
    const char *got = jstr(o, k);
    if (!got || strcmp(got, iso(want, buf)) != 0)
        fail_msg("%s: expected %s, got %s", k, buf, got ? got : "null");
}

/* ---- tests -------------------------------------------------------------- */

static void test_create_idempotent_builtin_targets(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "acme", NULL);
    time_t created = now_s() - 10 * MIN;

    assert_int_equal(create_alert(s, NULL, "acme", "a1", "critical", created, &r), 201);
    static const char *const fields[] = {
        "alert_id", "tenant_id", "severity", "state", "created_at", "acknowledged_at",
        "resolved_at", "ack_due_at", "resolve_due_at", "ack_target_minutes",
        "resolve_target_minutes", "ack_breached", "resolve_breached", "warnings_fired",
        "escalation_level", "paused_seconds"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!json_object_get(r.json, fields[i]))
            fail_msg("tracking record lacks %s: %s", fields[i], r.body);
    assert_string_equal(jstr(r.json, "alert_id"), "a1");
    assert_string_equal(jstr(r.json, "state"), "open");
    assert_time(r.json, "created_at", created);
    assert_time(r.json, "ack_due_at", created + 15 * MIN);
    assert_time(r.json, "resolve_due_at", created + 4 * HOUR);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 15);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 240);
    assert_string_equal(jstr(r.json, "ack_source"), "builtin");
    assert_false(jbool(r.json, "ack_breached"));
    assert_int_equal(jint(r.json, "escalation_level"), 0);
    assert_int_equal(jint(r.json, "paused_seconds"), 0);
    assert_true(json_is_null(json_object_get(r.json, "acknowledged_at")));
    http_free(&r);

    /* same id again, even with another severity: 200, the stored record */
    assert_int_equal(create_alert(s, NULL, "acme", "a1", "low", 0, &r), 200);
    assert_string_equal(jstr(r.json, "severity"), "critical");
    assert_time(r.json, "created_at", created);
    http_free(&r);

    assert_int_equal(tracking(s, NULL, "acme", "a1", &r), 200);
    assert_time(r.json, "resolve_due_at", created + 4 * HOUR);
    assert_string_equal(jstr(r.json, "title"), "Alert a1");
    http_free(&r);
    assert_int_equal(tracking(s, NULL, "acme", "nope", &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);

    /* the other severities' built-ins */
    assert_int_equal(create_alert(s, NULL, "acme", "h1", "high", created, &r), 201);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 30);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 8 * 60);
    http_free(&r);
    assert_int_equal(create_alert(s, NULL, "acme", "l1", "low", created, &r), 201);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 8 * 60);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 72 * 60);
    http_free(&r);

    /* bad input and unknown tenant / project */
    assert_int_equal(create_alert(s, NULL, "acme", "x1", "urgent", 0, &r), 422);
    assert_error_shape(&r, "invalid", "severity");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                         "{\"id\":\"x2\",\"tenant_id\":\"acme\",\"severity\":\"low\","
                         "\"created_at\":\"yesterday\"}", &r), 422);
    assert_error_shape(&r, "invalid", "created_at");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                         "{\"tenant_id\":\"acme\",\"severity\":\"low\"}", &r), 422);
    assert_error_shape(&r, "invalid", "id");
    http_free(&r);
    assert_int_equal(create_alert(s, NULL, "ghost", "x3", "low", 0, &r), 404);
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                         "{\"id\":\"x4\",\"tenant_id\":\"acme\",\"severity\":\"low\","
                         "\"project_id\":\"nope\"}", &r), 404);
    http_free(&r);
    assert_int_equal(tracking(s, NULL, "acme", "x4", NULL), 404);
}

static void test_template_targets(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "prem", "premium");
    make_tenant(s, "ent", "enterprise");
    make_tenant(s, "gov", "government");
    make_tenant(s, "std", "standard");
    time_t created = now_s() - MIN;
    static const struct {
        const char *tenant;
        int ack, res;
    } want[] = {{"prem", 15, 240}, {"ent", 5, 60}, {"gov", 10, 120}, {"std", 30, 480}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(create_alert(s, NULL, want[i].tenant, "c1", "critical", created, &r), 201);
        assert_int_equal(jint(r.json, "ack_target_minutes"), want[i].ack);
        assert_int_equal(jint(r.json, "resolve_target_minutes"), want[i].res);
        assert_time(r.json, "ack_due_at", created + want[i].ack * MIN);
        assert_time(r.json, "resolve_due_at", created + want[i].res * MIN);
        assert_string_equal(jstr(r.json, "ack_source"), "template");
        assert_string_equal(jstr(r.json, "resolve_source"), "template");
        http_free(&r);
    }
    /* a non-critical severity of a template: enterprise high = 10 min / 2 h */
    assert_int_equal(create_alert(s, NULL, "ent", "h1", "high", created, &r), 201);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 10);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 120);
    assert_true(jint(r.json, "penalty_per_hour_cents") > 0);
    http_free(&r);
}

static void test_lifecycle(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char body[256], ts[32];
    make_tenant(s, "acme", NULL);
    time_t c = now_s() - 2 * HOUR;
    assert_int_equal(create_alert(s, NULL, "acme", "a1", "critical", c, NULL), 201);

    /* at before creation: 422 on "at", nothing changes */
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", iso(c - MIN, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "acknowledge", body, &r), 422);
    assert_error_shape(&r, "invalid", "at");
    http_free(&r);
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", iso(now_s() + 2 * HOUR, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "acknowledge", body, &r), 422);
    assert_error_shape(&r, "invalid", "at");
    http_free(&r);

    snprintf(body, sizeof(body), "{\"at\":\"%s\",\"by\":\"alice\"}", iso(c + 10 * MIN, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "acknowledge", body, &r), 200);
    assert_string_equal(jstr(r.json, "state"), "acknowledged");
    assert_time(r.json, "acknowledged_at", c + 10 * MIN);
    assert_false(jbool(r.json, "ack_breached"));        /* 10 min < 15 */
    http_free(&r);
    /* again: idempotent, the first acknowledgement stands */
    assert_int_equal(action(s, NULL, "acme", "a1", "acknowledge", NULL, &r), 200);
    assert_time(r.json, "acknowledged_at", c + 10 * MIN);
    http_free(&r);

    snprintf(body, sizeof(body), "{\"at\":\"%s\",\"resolution\":\"false positive\"}",
             iso(c + 30 * MIN, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "resolve", body, &r), 200);
    assert_string_equal(jstr(r.json, "state"), "resolved");
    assert_time(r.json, "resolved_at", c + 30 * MIN);
    assert_false(jbool(r.json, "resolve_breached"));
    http_free(&r);

    /* a resolved alert cannot be acknowledged or resolved: 409 */
    assert_int_equal(action(s, NULL, "acme", "a1", "acknowledge", NULL, &r), 409);
    assert_error_shape(&r, "conflict", NULL);
    http_free(&r);
    assert_int_equal(action(s, NULL, "acme", "a1", "resolve", NULL, NULL), 409);
    assert_int_equal(action(s, NULL, "acme", "a1", "severity", "{\"severity\":\"low\"}", NULL),
                     409);

    /* reopen 1 h after the resolution: that hour counts as paused */
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", iso(c + 90 * MIN, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "reopen", body, &r), 200);
    assert_string_equal(jstr(r.json, "state"), "acknowledged");
    assert_true(json_is_null(json_object_get(r.json, "resolved_at")));
    assert_int_equal(jint(r.json, "paused_seconds"), HOUR);
    assert_time(r.json, "resolve_due_at", c + 4 * HOUR + HOUR);
    assert_time(r.json, "acknowledged_at", c + 10 * MIN);
    http_free(&r);
    assert_int_equal(action(s, NULL, "acme", "a1", "reopen", NULL, &r), 409);
    http_free(&r);

    /* unknown alert */
    assert_int_equal(action(s, NULL, "acme", "ghost", "acknowledge", NULL, &r), 404);
    http_free(&r);
}

static void test_resolve_before_ack_stops_both(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char body[128], ts[32];
    make_tenant(s, "acme", NULL);
    time_t c = now_s() - HOUR;
    assert_int_equal(create_alert(s, NULL, "acme", "a1", "critical", c, NULL), 201);
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", iso(c + 5 * MIN, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "resolve", body, &r), 200);
    http_free(&r);
    /* an hour after creation, yet neither clock breached: both stopped at 5 min */
    assert_int_equal(tracking(s, NULL, "acme", "a1", &r), 200);
    assert_string_equal(jstr(r.json, "state"), "resolved");
    assert_true(json_is_null(json_object_get(r.json, "acknowledged_at")));
    assert_false(jbool(r.json, "ack_breached"));
    assert_false(jbool(r.json, "resolve_breached"));
    http_free(&r);
    /* reopen: unacknowledged, so the ack clock continues too */
    snprintf(body, sizeof(body), "{\"at\":\"%s\"}", iso(c + 35 * MIN, ts));
    assert_int_equal(action(s, NULL, "acme", "a1", "reopen", body, &r), 200);
    assert_string_equal(jstr(r.json, "state"), "open");
    /* ack: 5 min active + 25 min since the reopen (at c+35, now c+60) = 30 > 15 */
    assert_true(jbool(r.json, "ack_breached"));
    assert_time(r.json, "ack_due_at", c + 15 * MIN + 30 * MIN);
    http_free(&r);
}

static void test_breach_flags(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "acme", NULL);
    time_t c = now_s() - HOUR;
    assert_int_equal(create_alert(s, NULL, "acme", "a1", "critical", c, &r), 201);
    assert_true(jbool(r.json, "ack_breached"));     /* running, past its 15 min */
    assert_false(jbool(r.json, "resolve_breached"));
    http_free(&r);
    assert_int_equal(action(s, NULL, "acme", "a1", "acknowledge", NULL, &r), 200);
    assert_true(jbool(r.json, "ack_breached"));     /* stopped after due */
    assert_false(jbool(r.json, "resolve_breached"));
    http_free(&r);

    /* severity change keeps the start: critical → low re-resolves targets */
    assert_int_equal(create_alert(s, NULL, "acme", "a2", "critical", c, NULL), 201);
    assert_int_equal(action(s, NULL, "acme", "a2", "severity", "{\"severity\":\"low\"}", &r), 200);
    assert_string_equal(jstr(r.json, "severity"), "low");
    assert_int_equal(jint(r.json, "ack_target_minutes"), 8 * 60);
    assert_time(r.json, "ack_due_at", c + 8 * HOUR);
    assert_false(jbool(r.json, "ack_breached"));
    http_free(&r);
    assert_int_equal(action(s, NULL, "acme", "a2", "severity", "{\"severity\":\"big\"}", &r), 422);
    assert_error_shape(&r, "invalid", "severity");
    http_free(&r);
}

static void test_bulk(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char ingest[128];
    make_tenant(s, "acme", NULL);
    make_tenant(s, "other", NULL);
    it_make_token(s, "ingest", "acme", ingest, sizeof(ingest));
    assert_int_equal(create_alert(s, ingest, "acme", "old", "high", 0, NULL), 201);

    const char *body =
        "{\"id\":\"b1\",\"tenant_id\":\"acme\",\"severity\":\"critical\"}\n"          /* 1 ok */
        "{\"id\":\"b2\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"title\":\"t\"}\r\n" /* 2 ok */
        "{\"id\":\"old\",\"tenant_id\":\"acme\",\"severity\":\"high\"}\n"             /* 3 dup */
        "{\"id\":\"b3\",\"tenant_id\":\"acme\",\n"                                    /* 4 bad JSON */
        "\n"                                                                          /* 5 blank */
        "{\"id\":\"b4\",\"tenant_id\":\"acme\",\"severity\":\"severe\"}\n"            /* 6 bad sev */
        "{\"id\":\"b5\",\"tenant_id\":\"ghost\",\"severity\":\"low\"}\n"              /* 7 unknown */
        "{\"id\":\"b6\",\"tenant_id\":\"other\",\"severity\":\"low\"}\n"              /* 8 foreign */
        "{\"id\":\"b1\",\"tenant_id\":\"acme\",\"severity\":\"critical\"}\n"          /* 9 dup */
        "[1,2]\n"                                                                     /* 10 */
        "{\"id\":\"b7\",\"tenant_id\":\"acme\",\"severity\":\"medium\","
        "\"created_at\":\"2026-01-01T00:00:00Z\"}";                                   /* 11 ok */
    http_req(s, "POST", "/api/v1/alerts/bulk", ingest, "application/x-ndjson", body,
             strlen(body), &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "accepted"), 3);
    assert_int_equal(jint(r.json, "duplicates"), 2);
    json_t *errs = json_object_get(r.json, "errors");
    static const struct {
        int line;
        const char *word;
    } want[] = {{4, "JSON"}, {6, "severity"}, {7, "not found"}, {8, "not found"}, {10, "object"}};
    if (json_array_size(errs) != 5)
        fail_msg("errors: %s", r.body);
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(errs, i);
        assert_int_equal(jint(e, "line"), want[i].line);
        if (!strstr(jstr(e, "error"), want[i].word))
            fail_msg("line %d: '%s' lacks '%s'", want[i].line, jstr(e, "error"), want[i].word);
    }
    /* a foreign tenant reads exactly like an unknown one */
    assert_string_equal(jstr(json_array_get(errs, 2), "error"),
                        jstr(json_array_get(errs, 3), "error"));
    http_free(&r);

    assert_int_equal(tracking(s, NULL, "acme", "b2", &r), 200);
    assert_string_equal(jstr(r.json, "severity"), "low");
    http_free(&r);
    assert_int_equal(tracking(s, NULL, "acme", "b7", &r), 200);
    assert_string_equal(jstr(r.json, "created_at"), "2026-01-01T00:00:00.000Z");
    http_free(&r);
    assert_int_equal(tracking(s, NULL, "other", "b6", NULL), 404);
    assert_int_equal(tracking(s, NULL, "acme", "b4", NULL), 404);

    /* the created event is written for bulk rows too */
    assert_int_equal(api(s, "GET", "/api/v1/alerts/b1/events?tenant_id=acme", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);

    /* an empty body is fine: nothing to do */
    http_req(s, "POST", "/api/v1/alerts/bulk", ingest, "application/x-ndjson", "", 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "accepted"), 0);
    http_free(&r);
}

static void test_list_filters_and_paging(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "acme", NULL);
    make_tenant(s, "other", NULL);
    /* 250 alerts: every 5th high, the rest medium; created 1 h ago, so the
     * high ones (30 min to acknowledge) are breached, the medium ones not */
    char ts[32];
    iso(now_s() - HOUR, ts);
    size_t cap = 250 * 160, len = 0;
    char *body = malloc(cap);
    for (int i = 0; i < 250; i++)
        len += (size_t)snprintf(body + len, cap - len,
                                "{\"id\":\"a%03d\",\"tenant_id\":\"acme\",\"severity\":\"%s\","
                                "\"created_at\":\"%s\"}\n", i, i % 5 == 0 ? "high" : "medium", ts);
    http_req(s, "POST", "/api/v1/alerts/bulk", ADMIN_TOKEN, "application/x-ndjson", body, len, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "accepted"), 250);
    http_free(&r);
    free(body);
    assert_int_equal(create_alert(s, NULL, "other", "z1", "high", 0, NULL), 201);
    for (int i = 1; i <= 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "a%03d", i);
        assert_int_equal(action(s, NULL, "acme", id, "acknowledge", NULL, NULL), 200);
    }

    /* pages of 100 by id, no overlap, no gap */
    char path[256], cursor[64] = "";
    int seen = 0, pages = 0;
    for (;;) {
        snprintf(path, sizeof(path), "/api/v1/alerts?tenant_id=acme&limit=100%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        json_t *items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            char want[16];
            snprintf(want, sizeof(want), "a%03d", seen++);
            assert_string_equal(jstr(json_array_get(items, i), "alert_id"), want);
        }
        pages++;
        json_t *next = json_object_get(r.json, "next_cursor");
        if (json_is_null(next)) {
            http_free(&r);
            break;
        }
        assert_int_equal(json_array_size(items), 100);
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        http_free(&r);
        assert_true(pages < 10);
    }
    assert_int_equal(seen, 250);
    assert_int_equal(pages, 3);

    static const struct {
        const char *query;
        size_t n;
    } filters[] = {
        {"state=acknowledged", 10},
        {"state=open", 240},
        {"severity=high", 50},
        {"severity=low", 0},
        {"breached=true", 50},
        {"breached=false", 200},
        {"severity=medium&state=acknowledged", 8},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/alerts?tenant_id=acme&limit=1000&%s",
                 filters[i].query);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        if (json_array_size(json_object_get(r.json, "items")) != filters[i].n)
            fail_msg("%s: expected %zu items, got %zu", filters[i].query, filters[i].n,
                     json_array_size(json_object_get(r.json, "items")));
        http_free(&r);
    }
    /* default limit is 100 */
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=acme", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 100);
    http_free(&r);

    static const struct {
        const char *query, *field;
    } bad[] = {{"state=closed", "state"}, {"severity=urgent", "severity"},
               {"breached=maybe", "breached"}, {"limit=0", "limit"}, {"limit=1001", "limit"},
               {"limit=x", "limit"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/alerts?tenant_id=acme&%s", bad[i].query);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 422);
        assert_error_shape(&r, "invalid", bad[i].field);
        http_free(&r);
    }
}

static void test_events(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char analyst[128];
    make_tenant(s, "acme", NULL);
    it_make_token(s, "analyst", "acme", analyst, sizeof(analyst));
    assert_int_equal(create_alert(s, NULL, "acme", "a1", "high", 0, NULL), 201);
    assert_int_equal(action(s, analyst, "acme", "a1", "acknowledge", "{\"by\":\"alice\"}", NULL),
                     200);
    assert_int_equal(action(s, analyst, "acme", "a1", "acknowledge", NULL, NULL), 200);
    assert_int_equal(action(s, analyst, "acme", "a1", "resolve",
                            "{\"resolution\":\"contained\"}", NULL), 200);
    assert_int_equal(action(s, analyst, "acme", "a1", "reopen", NULL, NULL), 200);
    assert_int_equal(action(s, analyst, "acme", "a1", "severity", "{\"severity\":\"critical\"}",
                            NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/alerts/a1/events?tenant_id=acme", analyst, NULL, &r),
                     200);
    json_t *items = json_object_get(r.json, "items");
    static const char *const types[] = {"created", "acknowledged", "resolved", "reopened",
                                        "severity_changed"};
    if (json_array_size(items) != 5)     /* the repeated acknowledge changed nothing */
        fail_msg("events: %s", r.body);
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(items, i);
        assert_string_equal(jstr(e, "type"), types[i]);
        assert_non_null(jstr(e, "at"));
        assert_true(json_is_integer(json_object_get(e, "id")));
    }
    assert_string_equal(jstr(json_array_get(items, 1), "actor"), "alice");
    json_t *data = json_object_get(json_array_get(items, 2), "data");
    assert_string_equal(jstr(data, "resolution"), "contained");
    data = json_object_get(json_array_get(items, 4), "data");
    assert_string_equal(jstr(data, "from"), "high");
    assert_string_equal(jstr(data, "to"), "critical");
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/alerts/zz/events?tenant_id=acme", analyst, NULL, &r),
                     404);
    http_free(&r);

    /* a long history pages with next_cursor, like every list (it used to
     * stop at 1000 events with no way on): 1,203 events, pages of 500 */
    for (int i = 0; i < 600; i++) {
        assert_int_equal(action(s, analyst, "acme", "a1", "resolve", NULL, NULL), 200);
        assert_int_equal(action(s, analyst, "acme", "a1", "reopen", NULL, NULL), 200);
    }
    int total = 0, pages = 0;
    int64_t last_id = 0;
    char path[256], cursor[64] = "";
    for (;;) {
        snprintf(path, sizeof(path), "/api/v1/alerts/a1/events?tenant_id=acme&limit=500%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        assert_int_equal(api(s, "GET", path, analyst, NULL, &r), 200);
        json_t *page = json_object_get(r.json, "items"), *e;
        size_t k;
        json_array_foreach(page, k, e) {
            int64_t id = json_integer_value(json_object_get(e, "id"));
            assert_true(id > last_id);      /* oldest first, none twice */
            last_id = id;
            total++;
        }
        pages++;
        json_t *next = json_object_get(r.json, "next_cursor");
        if (json_is_null(next)) {
            http_free(&r);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        http_free(&r);
    }
    assert_int_equal(total, 1205);
    assert_int_equal(pages, 3);
    assert_int_equal(api(s, "GET", "/api/v1/alerts/a1/events?tenant_id=acme&limit=1001",
                         analyst, NULL, NULL), 422);
}

static void test_isolation(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char viewer[128], ingest[128], analyst_b[128];
    make_tenant(s, "a", NULL);
    make_tenant(s, "b", NULL);
    it_make_token(s, "viewer", "a", viewer, sizeof(viewer));
    it_make_token(s, "ingest", "a", ingest, sizeof(ingest));
    it_make_token(s, "analyst", "b", analyst_b, sizeof(analyst_b));
    assert_int_equal(create_alert(s, NULL, "a", "x", "high", 0, NULL), 201);
    assert_int_equal(create_alert(s, NULL, "b", "y", "high", 0, NULL), 201);

    /* the viewer of a reads a, never b (404: b is not probed) */
    assert_int_equal(tracking(s, viewer, "a", "x", NULL), 200);
    assert_int_equal(tracking(s, viewer, "b", "y", &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=b", viewer, NULL, NULL), 404);
    /* a's alert asked for under b's tenant: not there */
    assert_int_equal(tracking(s, analyst_b, "b", "x", NULL), 404);
    /* a viewer may not acknowledge, an ingest token may not read */
    assert_int_equal(action(s, viewer, "a", "x", "acknowledge", NULL, &r), 403);
    assert_error_shape(&r, "forbidden", NULL);
    http_free(&r);
    assert_int_equal(tracking(s, ingest, "a", "x", &r), 403);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=a", ingest, NULL, NULL), 403);
    /* ingest creates in its tenant, not in another */
    assert_int_equal(create_alert(s, ingest, "a", "x2", "low", 0, NULL), 201);
    assert_int_equal(create_alert(s, ingest, "b", "y2", "low", 0, NULL), 404);
    /* b's analyst cannot touch a's alert */
    assert_int_equal(action(s, analyst_b, "a", "x", "acknowledge", NULL, NULL), 404);
    assert_int_equal(action(s, analyst_b, "b", "x", "acknowledge", NULL, NULL), 404);
    assert_int_equal(tracking(s, NULL, "a", "x", &r), 200);
    assert_string_equal(jstr(r.json, "state"), "open");
    http_free(&r);
    /* no token */
    assert_int_equal(tracking(s, "", "a", "x", NULL), 401);
}

/* Concurrent single creates (grouped commits): every 201 is there after a
 * restart, each answer carries its own record. */
struct writer {
    struct sw_server *s;
    int base, n, ok;
};

static void *writer_main(void *ud)
{
    struct writer *w = ud;
    char id[32];
    struct http_resp r;
    for (int i = 0; i < w->n; i++) {
        snprintf(id, sizeof(id), "w%05d", w->base + i);
        long st = create_alert(w->s, NULL, "acme", id, i % 2 ? "low" : "critical", 0, &r);
        if (st == 201 && r.json && jstr(r.json, "alert_id") && !strcmp(jstr(r.json, "alert_id"), id))
            w->ok++;
        http_free(&r);
    }
    http_thread_done();
    return NULL;
}

static void test_concurrent_creates(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    assert_int_equal(srv_stop(s), 0);
    const char *env[] = {"SLAWATCH_THREADS=16", NULL};
    srv_start(s, NULL, env);
    make_tenant(s, "acme", NULL);
    enum { NT = 8, PER = 50 };
    pthread_t th[NT];
    struct writer w[NT];
    for (int i = 0; i < NT; i++) {
        w[i] = (struct writer){s, i * PER, PER, 0};
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
    }
    assert_int_equal(ok, NT * PER);
    srv_kill9(s);
    srv_start(s, NULL, env);
    assert_int_equal(api(s, "GET", "/api/v1/alerts?tenant_id=acme&limit=1000", ADMIN_TOKEN, NULL,
                         &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), NT * PER);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_idempotent_builtin_targets, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_template_targets, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_before_ack_stops_both, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_breach_flags, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_bulk, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_paging, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_events, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_isolation, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_creates, it_server_setup, it_server_teardown),
    };
    return cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
}
