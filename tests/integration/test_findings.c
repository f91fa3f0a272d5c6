/* Findings end to end: ingest (idempotent), built-in deadlines, the
 * lifecycle (pause/resume/close/reopen/severity) with its conflicts and
 * its arithmetic, lists, the event history, isolation and bad input.
 * Timestamps are explicit and in the past, so every deadline is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define T0 "2026-01-01T00:00:00.000Z"

/* ---- helpers --------------------------------------------------------- */

static void make_project(struct sw_server *s, const char *tenant, const char *id)
{
    char path[256], body[256];
    snprintf(path, sizeof(path), "/api/v1/tenants/%s/projects", tenant);
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"Project %s\"}", id, id);
    assert_int_equal(api(s, "POST", path, ADMIN_TOKEN, body, NULL), 201);
}

static void make_token(struct sw_server *s, const char *name, const char *role,
                       const char *tenant, char *out, size_t len)
{
    char body[256];
    struct http_resp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"role\":\"%s\",\"tenant_id\":\"%s\"}", name,
             role, tenant);
    assert_int_equal(api(s, "POST", "/api/v1/tokens", ADMIN_TOKEN, body, &r), 201);
    snprintf(out, len, "%s", json_string_value(json_object_get(r.json, "token")));
    http_free(&r);
}

static const char *jstr(struct http_resp *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string in %s", key, r->body ? r->body : "(null)");
    return json_string_value(v);
}

static long long jint(struct http_resp *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer in %s", key, r->body ? r->body : "(null)");
    return (long long)json_integer_value(v);
}

/* POST /findings; returns the status. */
static long add_finding(struct sw_server *s, const char *tenant, const char *id,
                        const char *sev, const char *extra, struct http_resp *out)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"discovered_at\":\"" T0
             "\"%s%s}", id, tenant, sev, extra ? "," : "", extra ? extra : "");
    return api(s, "POST", "/api/v1/findings", ADMIN_TOKEN, body, out);
}

/* POST /findings/{id}/{verb}?tenant_id=… with body (may be NULL). */
static long act(struct sw_server *s, const char *token, const char *tenant, const char *id,
                const char *verb, const char *body, struct http_resp *out)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/findings/%s/%s?tenant_id=%s", id, verb, tenant);
    return api(s, "POST", path, token, body, out);
}

static void get_finding(struct sw_server *s, const char *tenant, const char *id,
                        struct http_resp *r)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/findings/%s?tenant_id=%s", id, tenant);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, r), 200);
}

static void expect_deadline(struct sw_server *s, const char *tenant, const char *id,
                            const char *deadline, long long hours, const char *source)
{
    struct http_resp r;
    get_finding(s, tenant, id, &r);
    assert_string_equal(jstr(&r, "sla_deadline"), deadline);
    assert_int_equal(jint(&r, "sla_hours"), hours);
    assert_string_equal(jstr(&r, "sla_source"), source);
    http_free(&r);
}

static void expect_status(long got, long want, struct http_resp *r, const char *what)
{
    if (got != want)
        fail_msg("%s: expected %ld, got %ld: %s", what, want, got,
                 r && r->body ? r->body : "");
}

static void expect_422(struct sw_server *s, const char *method, const char *path,
                       const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, method, path, ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("%s %s %s: expected 422, got %ld: %s", method, path, body ? body : "", st,
                 r.body ? r.body : "");
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

/* ---- tests ----------------------------------------------------------- */

/* The item's own history: events that are not the scheduler's (sla.*),
 * which fire at once for findings discovered long ago. */
static json_t *own_events(json_t *items)
{
    json_t *out = json_array(), *e;
    size_t i;
    json_array_foreach(items, i, e) {
        const char *t = json_string_value(json_object_get(e, "type"));
        if (t && strncmp(t, "sla.", 4) != 0)
            json_array_append(out, e);
    }
    return out;
}

static void test_create_is_idempotent(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    assert_int_equal(add_finding(s, "acme", "CVE-1", "critical", "\"title\":\"openssl\"", &r),
                     201);
    assert_string_equal(jstr(&r, "id"), "CVE-1");
    assert_string_equal(jstr(&r, "tenant_id"), "acme");
    assert_string_equal(jstr(&r, "title"), "openssl");
    assert_string_equal(jstr(&r, "state"), "open");
    assert_true(json_is_null(json_object_get(r.json, "project_id")));
    char first[64];
    snprintf(first, sizeof(first), "%s", jstr(&r, "sla_deadline"));
    http_free(&r);
    /* the same id again, even with other fields: the tracked record, 200 */
    assert_int_equal(add_finding(s, "acme", "CVE-1", "low", NULL, &r), 200);
    assert_string_equal(jstr(&r, "severity"), "critical");
    assert_string_equal(jstr(&r, "sla_deadline"), first);
    http_free(&r);
    /* one "created" event only */
    assert_int_equal(api(s, "GET", "/api/v1/findings/CVE-1/events?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *items = own_events(json_object_get(r.json, "items"));
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "type")),
                        "created");
    json_decref(items);
    http_free(&r);
    /* the same id in another tenant is another finding */
    it_make_tenant(s, "other");
    assert_int_equal(add_finding(s, "other", "CVE-1", "low", NULL, NULL), 201);
}

static void test_builtin_deadlines(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    static const struct {
        const char *sev, *deadline;
        long long hours;
    } want[] = {
        {"urgent", "2026-01-02T00:00:00.000Z", 24},
        {"critical", "2026-01-04T00:00:00.000Z", 72},
        {"high", "2026-01-08T00:00:00.000Z", 168},
        {"medium", "2026-01-31T00:00:00.000Z", 720},
        {"low", "2026-04-01T00:00:00.000Z", 2160},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct http_resp r;
        assert_int_equal(add_finding(s, "acme", want[i].sev, want[i].sev, NULL, &r), 201);
        assert_string_equal(jstr(&r, "discovered_at"), T0);
        assert_string_equal(jstr(&r, "sla_deadline"), want[i].deadline);
        assert_int_equal(jint(&r, "sla_hours"), want[i].hours);
        assert_string_equal(jstr(&r, "sla_source"), "builtin");
        /* discovered in January: long breached */
        assert_true(json_is_true(json_object_get(r.json, "breached")));
        http_free(&r);
        expect_deadline(s, "acme", want[i].sev, want[i].deadline, want[i].hours, "builtin");
    }
    /* without discovered_at the clock starts now and is not breached */
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN,
                         "{\"id\":\"fresh\",\"tenant_id\":\"acme\",\"severity\":\"low\"}", &r),
                     201);
    assert_true(json_is_false(json_object_get(r.json, "breached")));
    assert_true(json_is_false(json_object_get(r.json, "sla_notified")));
    http_free(&r);
}

static void test_pause_resume_conflicts(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    assert_int_equal(add_finding(s, "acme", "f", "critical", NULL, NULL), 201);
    /* resume while open */
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "resume", NULL, &r), 409, &r, "resume open");
    assert_error_shape(&r, "conflict", NULL);
    http_free(&r);
    /* at before discovery */
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "pause", "{\"at\":\"2025-12-31T00:00:00.000Z\"}",
                      &r), 422, &r, "pause before discovery");
    assert_error_shape(&r, "invalid", "at");
    http_free(&r);
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "pause",
                      "{\"at\":\"2026-01-01T10:00:00.000Z\",\"reason\":\"vendor\"}", &r), 200, &r,
                  "pause");
    assert_string_equal(jstr(&r, "state"), "paused");
    assert_string_equal(jstr(&r, "paused_since"), "2026-01-01T10:00:00.000Z");
    http_free(&r);
    /* pause twice */
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "pause", NULL, &r), 409, &r, "pause twice");
    assert_error_shape(&r, "conflict", NULL);
    http_free(&r);
    /* resume before the pause started */
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "resume", "{\"at\":\"2026-01-01T09:00:00.000Z\"}",
                      &r), 422, &r, "resume before pause");
    assert_error_shape(&r, "invalid", "at");
    http_free(&r);
    /* nothing was half-written: still paused since 10:00 */
    get_finding(s, "acme", "f", &r);
    assert_string_equal(jstr(&r, "state"), "paused");
    assert_string_equal(jstr(&r, "paused_since"), "2026-01-01T10:00:00.000Z");
    http_free(&r);
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "resume", "{\"at\":\"2026-01-01T13:30:00.000Z\"}",
                  &r), 200, &r, "resume");
    assert_string_equal(jstr(&r, "state"), "open");
    assert_int_equal(jint(&r, "paused_seconds"), 3 * 3600 + 1800);
    assert_string_equal(jstr(&r, "sla_deadline"), "2026-01-04T03:30:00.000Z");
    http_free(&r);
    /* unknown finding */
    expect_status(act(s, ADMIN_TOKEN, "acme", "nope", "pause", NULL, &r), 404, &r, "unknown");
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
}

static void test_pause_cycles_then_policy_change(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    assert_int_equal(add_finding(s, "acme", "f", "critical", NULL, NULL), 201);
    /* 2 h + 5 h + 1 h of pauses */
    static const char *const cycle[][2] = {
        {"2026-01-01T10:00:00.000Z", "2026-01-01T12:00:00.000Z"},
        {"2026-01-02T00:00:00.000Z", "2026-01-02T05:00:00.000Z"},
        {"2026-01-03T00:00:00.000Z", "2026-01-03T01:00:00.000Z"},
    };
    for (size_t i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"at\":\"%s\"}", cycle[i][0]);
        expect_status(act(s, ADMIN_TOKEN, "acme", "f", "pause", body, NULL), 200, NULL, "pause");
        snprintf(body, sizeof(body), "{\"at\":\"%s\"}", cycle[i][1]);
        expect_status(act(s, ADMIN_TOKEN, "acme", "f", "resume", body, NULL), 200, NULL,
                      "resume");
    }
    get_finding(s, "acme", "f", &r);
    assert_int_equal(jint(&r, "paused_seconds"), 8 * 3600);
    assert_true(json_real_value(json_object_get(r.json, "paused_hours")) == 8.0);
    http_free(&r);
    /* 72 h + 8 h */
    expect_deadline(s, "acme", "f", "2026-01-04T08:00:00.000Z", 72, "builtin");
    /* tighten critical to 24 h: discovered + 24 h + 8 h */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/acme", ADMIN_TOKEN,
                         "{\"critical_hours\":24}", NULL), 200);
    expect_deadline(s, "acme", "f", "2026-01-02T08:00:00.000Z", 24, "company");
    /* and loosen it: the pauses are never lost */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/acme", ADMIN_TOKEN,
                         "{\"critical_hours\":100}", NULL), 200);
    expect_deadline(s, "acme", "f", "2026-01-05T12:00:00.000Z", 100, "company");
    /* the severity changes too keep start and pauses: low 2160 h + 8 h */
    expect_status(act(s, ADMIN_TOKEN, "acme", "f", "severity", "{\"severity\":\"low\"}", &r),
                  200, &r, "severity");
    assert_string_equal(jstr(&r, "severity"), "low");
    assert_string_equal(jstr(&r, "sla_deadline"), "2026-04-01T08:00:00.000Z");
    assert_string_equal(jstr(&r, "sla_source"), "builtin");
    http_free(&r);
}

static void test_close_and_reopen(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    static const char *const statuses[] = {"closed", "false_positive", "accepted_risk",
                                           "not_accessible"};
    it_make_tenant(s, "acme");
    for (size_t i = 0; i < 4; i++) {
        char body[128];
        assert_int_equal(add_finding(s, "acme", statuses[i], "high", NULL, NULL), 201);
        snprintf(body, sizeof(body), "{\"status\":\"%s\",\"at\":\"2026-01-03T00:00:00.000Z\"}",
                 statuses[i]);
        expect_status(act(s, ADMIN_TOKEN, "acme", statuses[i], "close", body, &r), 200, &r,
                      "close");
        assert_string_equal(jstr(&r, "state"), statuses[i]);
        assert_string_equal(jstr(&r, "closed_at"), "2026-01-03T00:00:00.000Z");
        /* closed 2 days in, inside its 7 days: met, not breached */
        assert_true(json_is_false(json_object_get(r.json, "breached")));
        assert_true(json_is_null(json_object_get(r.json, "next_check_at")));
        http_free(&r);
        /* closing twice, pausing or resuming a closed finding */
        expect_status(act(s, ADMIN_TOKEN, "acme", statuses[i], "close", body, &r), 409, &r,
                      "close twice");
        http_free(&r);
        expect_status(act(s, ADMIN_TOKEN, "acme", statuses[i], "pause", NULL, NULL), 409, NULL,
                      "pause closed");
        expect_status(act(s, ADMIN_TOKEN, "acme", statuses[i], "severity",
                          "{\"severity\":\"low\"}", NULL), 409, NULL, "severity closed");
    }
    /* reopen: the time spent closed counts as paused (2 days) */
    expect_status(act(s, ADMIN_TOKEN, "acme", "closed", "reopen",
                      "{\"at\":\"2026-01-05T00:00:00.000Z\"}", &r), 200, &r, "reopen");
    assert_string_equal(jstr(&r, "state"), "open");
    assert_true(json_is_null(json_object_get(r.json, "closed_at")));
    assert_string_equal(jstr(&r, "sla_deadline"), "2026-01-10T00:00:00.000Z");
    http_free(&r);
    expect_status(act(s, ADMIN_TOKEN, "acme", "closed", "reopen", NULL, NULL), 409, NULL,
                  "reopen open");
    /* closing a paused finding ends its pause at the close */
    assert_int_equal(add_finding(s, "acme", "p", "high", NULL, NULL), 201);
    expect_status(act(s, ADMIN_TOKEN, "acme", "p", "pause", "{\"at\":\"2026-01-02T00:00:00.000Z\"}",
                      NULL), 200, NULL, "pause");
    expect_status(act(s, ADMIN_TOKEN, "acme", "p", "close",
                      "{\"status\":\"closed\",\"at\":\"2026-01-02T06:00:00.000Z\"}", &r), 200, &r,
                  "close paused");
    assert_int_equal(jint(&r, "paused_seconds"), 6 * 3600);
    http_free(&r);
    /* status is required and must be terminal */
    expect_422(s, "POST", "/api/v1/findings/p/close?tenant_id=acme", NULL, "status");
    expect_422(s, "POST", "/api/v1/findings/p/close?tenant_id=acme", "{\"status\":\"open\"}",
               "status");
    expect_422(s, "POST", "/api/v1/findings/p/close?tenant_id=acme", "{\"status\":\"done\"}",
               "status");
}

static void test_bad_input(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    const char *F = "/api/v1/findings";
    expect_422(s, "POST", F, "{\"tenant_id\":\"acme\",\"severity\":\"high\"}", "id");
    expect_422(s, "POST", F, "{\"id\":\"a/b\",\"tenant_id\":\"acme\",\"severity\":\"high\"}",
               "id");
    expect_422(s, "POST", F, "{\"id\":\"x\",\"tenant_id\":\"acme\"}", "severity");
    expect_422(s, "POST", F, "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"severe\"}",
               "severity");
    expect_422(s, "POST", F, "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"Critical\"}",
               "severity");
    expect_422(s, "POST", F, "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":3}", "severity");
    expect_422(s, "POST", F,
               "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\","
               "\"discovered_at\":\"2026-13-45T00:00:00.000Z\"}", "discovered_at");
    expect_422(s, "POST", F,
               "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\","
               "\"discovered_at\":\"yesterday\"}", "discovered_at");
    expect_422(s, "POST", F,
               "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\","
               "\"discovered_at\":\"2099-01-01T00:00:00.000Z\"}", "discovered_at");
    expect_422(s, "POST", F,
               "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"project_id\":\"\"}",
               "project_id");
    char *big = malloc(1200);
    memset(big, 'x', 1001);
    big[1001] = '\0';
    char *body = malloc(1400);
    snprintf(body, 1400, "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\","
             "\"title\":\"%s\"}", big);
    expect_422(s, "POST", F, body, "title");
    /* nothing was created by any of these */
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=acme", ADMIN_TOKEN, NULL, &r),
                     200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    http_free(&r);

    /* unknown project and tenant: 404 */
    assert_int_equal(api(s, "POST", F, ADMIN_TOKEN,
                         "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\","
                         "\"project_id\":\"ghost\"}", &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "POST", F, ADMIN_TOKEN,
                         "{\"id\":\"x\",\"tenant_id\":\"ghost\",\"severity\":\"low\"}", &r), 404);
    http_free(&r);

    /* lifecycle bodies */
    assert_int_equal(add_finding(s, "acme", "f", "low", NULL, NULL), 201);
    expect_422(s, "POST", "/api/v1/findings/f/pause?tenant_id=acme",
               "{\"at\":\"2026-02-30T00:00:00.000Z\"}", "at");
    expect_422(s, "POST", "/api/v1/findings/f/pause?tenant_id=acme", "{\"at\":42}", "at");
    expect_422(s, "POST", "/api/v1/findings/f/pause?tenant_id=acme",
               "{\"at\":\"2099-01-01T00:00:00.000Z\"}", "at");
    memset(big, 'r', 1001);
    snprintf(body, 1400, "{\"reason\":\"%s\"}", big);
    expect_422(s, "POST", "/api/v1/findings/f/pause?tenant_id=acme", body, "reason");
    expect_422(s, "POST", "/api/v1/findings/f/severity?tenant_id=acme", "{\"severity\":\"x\"}",
               "severity");
    expect_422(s, "POST", "/api/v1/findings/f/severity?tenant_id=acme", "{}", "severity");
    free(big);
    free(body);
    /* list parameters */
    expect_422(s, "GET", "/api/v1/findings?tenant_id=acme&limit=0", NULL, "limit");
    expect_422(s, "GET", "/api/v1/findings?tenant_id=acme&limit=1001", NULL, "limit");
    expect_422(s, "GET", "/api/v1/findings?tenant_id=acme&limit=abc", NULL, "limit");
    expect_422(s, "GET", "/api/v1/findings?tenant_id=acme&state=done", NULL, "state");
    expect_422(s, "GET", "/api/v1/findings?tenant_id=acme&severity=huge", NULL, "severity");
    expect_422(s, "GET", "/api/v1/findings?tenant_id=acme&breached=maybe", NULL, "breached");
    expect_422(s, "GET", "/api/v1/findings", NULL, "tenant_id");
    /* still unchanged */
    expect_deadline(s, "acme", "f", "2026-04-01T00:00:00.000Z", 2160, "builtin");
}

static void test_list_filters_and_pages(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    make_project(s, "acme", "web");
    static const char *const ids[] = {"a1", "a2", "a3", "a4", "a5"};
    static const char *const sevs[] = {"high", "low", "high", "urgent", "high"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(add_finding(s, "acme", ids[i], sevs[i],
                                     i == 4 ? "\"project_id\":\"web\"" : NULL, NULL), 201);
    /* a1..a5 were discovered long ago: breached; "new" is not */
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN,
                         "{\"id\":\"new\",\"tenant_id\":\"acme\",\"severity\":\"low\"}", NULL),
                     201);
    expect_status(act(s, ADMIN_TOKEN, "acme", "a2", "close", "{\"status\":\"accepted_risk\"}",
                      NULL), 200, NULL, "close");

    /* pages of two, by id */
    const char *expect_pages[][2] = {{"a1", "a2"}, {"a3", "a4"}, {"a5", "new"}};
    char cursor[64] = "";
    for (int p = 0; p < 3; p++) {
        char path[256];
        snprintf(path, sizeof(path), "/api/v1/findings?tenant_id=acme&limit=2%s%s",
                 *cursor ? "&cursor=" : "", cursor);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 2);
        for (int k = 0; k < 2; k++)
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(items, k), "id")),
                expect_pages[p][k]);
        json_t *next = json_object_get(r.json, "next_cursor");
        if (p < 2)
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        else
            assert_true(json_is_null(next));
        http_free(&r);
    }
    static const struct {
        const char *query;
        size_t n;
    } filters[] = {
        {"severity=high", 3},
        {"severity=high&state=open", 3},
        {"state=accepted_risk", 1},
        {"project_id=web", 1},
        {"breached=true", 5},       /* a2 was closed long after its deadline */
        {"breached=false", 1},
        {"breached=true&state=open", 4},
        {"", 6},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "/api/v1/findings?tenant_id=acme&%s", filters[i].query);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        if (json_array_size(json_object_get(r.json, "items")) != filters[i].n)
            fail_msg("%s: expected %zu items: %s", filters[i].query, filters[i].n, r.body);
        http_free(&r);
    }
}

/* how many events finding f of acme has now */
static size_t event_count(struct sw_server *s)
{
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/findings/f/events?tenant_id=acme&limit=100",
                         ADMIN_TOKEN, NULL, &r), 200);
    size_t n = json_array_size(json_object_get(r.json, "items"));
    http_free(&r);
    return n;
}

static void test_events_history(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char ops[128];
    it_make_tenant(s, "acme");
    make_token(s, "ops-bot", "tenant_admin", "acme", ops, sizeof(ops));
    assert_int_equal(add_finding(s, "acme", "f", "high", NULL, NULL), 201);
    expect_status(act(s, ops, "acme", "f", "pause",
                      "{\"at\":\"2026-01-01T01:00:00.000Z\",\"reason\":\"change window\"}", NULL),
                  200, NULL, "pause");
    expect_status(act(s, ops, "acme", "f", "resume", "{\"at\":\"2026-01-01T02:00:00.000Z\"}", NULL),
                  200, NULL, "resume");
    expect_status(act(s, ops, "acme", "f", "severity", "{\"severity\":\"critical\"}", NULL), 200,
                  NULL, "severity");
    expect_status(act(s, ops, "acme", "f", "close",
                      "{\"status\":\"false_positive\",\"at\":\"2026-01-02T00:00:00.000Z\"}", NULL),
                  200, NULL, "close");
    expect_status(act(s, ops, "acme", "f", "reopen", "{\"at\":\"2026-01-03T00:00:00.000Z\"}", NULL),
                  200, NULL, "reopen");
    /* refused changes leave no trace */
    expect_status(act(s, ops, "acme", "f", "resume", NULL, NULL), 409, NULL, "resume open");

    assert_int_equal(api(s, "GET", "/api/v1/findings/f/events?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *items = own_events(json_object_get(r.json, "items"));
    static const char *const types[] = {"created", "paused", "resumed", "severity_changed",
                                        "closed", "reopened"};
    static const char *const ats[] = {T0, "2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z", NULL,
                                      "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"};
    assert_int_equal(json_array_size(items), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *e = json_array_get(items, i);
        assert_string_equal(json_string_value(json_object_get(e, "type")), types[i]);
        const char *actor = json_string_value(json_object_get(e, "actor"));
        assert_non_null(actor);
        if (i > 0 && !strstr(actor, "ops-bot"))
            fail_msg("event %zu actor %s", i, actor);
        if (ats[i])
            assert_string_equal(json_string_value(json_object_get(e, "at")), ats[i]);
        assert_true(json_is_integer(json_object_get(e, "id")));
    }
    json_t *paused = json_object_get(json_array_get(items, 1), "data");
    assert_string_equal(json_string_value(json_object_get(paused, "reason")), "change window");
    json_t *sev = json_object_get(json_array_get(items, 3), "data");
    assert_string_equal(json_string_value(json_object_get(sev, "from")), "high");
    assert_string_equal(json_string_value(json_object_get(sev, "to")), "critical");
    json_t *closed = json_object_get(json_array_get(items, 4), "data");
    assert_string_equal(json_string_value(json_object_get(closed, "to")), "false_positive");
    json_decref(items);
    size_t total = json_array_size(json_object_get(r.json, "items"));
    assert_true(total >= 6 && total <= 8);
    http_free(&r);
    /* paging: the scheduler may still add the finding's warning and breach
       events (its deadlines are long past), so a page walk counts only when
       the full list had the same length before and after it (at most two
       events arrive, so this settles within three walks) */
    for (int walk = 0;; walk++) {
        assert_true(walk < 4);
        size_t before = event_count(s);
        assert_int_equal(api(s, "GET", "/api/v1/findings/f/events?tenant_id=acme&limit=4",
                             ADMIN_TOKEN, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), 4);
        char path[256];
        snprintf(path, sizeof(path),
                 "/api/v1/findings/f/events?tenant_id=acme&limit=4&cursor=%s",
                 json_string_value(json_object_get(r.json, "next_cursor")));
        http_free(&r);
        assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        size_t second = json_array_size(json_object_get(r.json, "items"));
        bool last = json_is_null(json_object_get(r.json, "next_cursor"));
        http_free(&r);
        if (event_count(s) != before)
            continue;
        assert_int_equal(second, before - 4);
        assert_true(last);
        break;
    }
    assert_int_equal(api(s, "GET", "/api/v1/findings/nope/events?tenant_id=acme", ADMIN_TOKEN,
                         NULL, NULL), 404);
}

static void test_tenant_isolation(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char viewer_a[128], ingest_a[128], analyst_a[128];
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    make_token(s, "va", "viewer", "a", viewer_a, sizeof(viewer_a));
    make_token(s, "ia", "ingest", "a", ingest_a, sizeof(ingest_a));
    make_token(s, "aa", "analyst", "a", analyst_a, sizeof(analyst_a));
    assert_int_equal(add_finding(s, "b", "secret", "high", NULL, NULL), 201);

    /* ingest creates in its tenant, not in another */
    assert_int_equal(api(s, "POST", "/api/v1/findings", ingest_a,
                         "{\"id\":\"mine\",\"tenant_id\":\"a\",\"severity\":\"low\"}", NULL),
                     201);
    assert_int_equal(api(s, "POST", "/api/v1/findings", ingest_a,
                         "{\"id\":\"x\",\"tenant_id\":\"b\",\"severity\":\"low\"}", &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    /* b's finding is invisible to a: by b's tenant_id, and by a's */
    assert_int_equal(api(s, "GET", "/api/v1/findings/secret?tenant_id=b", viewer_a, NULL, &r),
                     404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/findings/secret?tenant_id=a", viewer_a, NULL, NULL),
                     404);
    assert_int_equal(api(s, "GET", "/api/v1/findings/secret/events?tenant_id=b", viewer_a, NULL,
                         NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/findings/secret/sla/explain?tenant_id=b", viewer_a,
                         NULL, NULL), 404);
    assert_int_equal(act(s, analyst_a, "b", "secret", "pause", NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=b", viewer_a, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=a", viewer_a, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    /* a viewer reads but does not operate; an analyst operates */
    assert_int_equal(api(s, "GET", "/api/v1/findings/mine?tenant_id=a", viewer_a, NULL, NULL),
                     200);
    assert_int_equal(act(s, viewer_a, "a", "mine", "pause", NULL, &r), 403);
    assert_error_shape(&r, "forbidden", NULL);
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/findings", viewer_a,
                         "{\"id\":\"v\",\"tenant_id\":\"a\",\"severity\":\"low\"}", NULL), 403);
    assert_int_equal(act(s, analyst_a, "a", "mine", "pause", NULL, NULL), 200);
    /* b's finding did not move */
    get_finding(s, "b", "secret", &r);
    assert_string_equal(jstr(&r, "state"), "open");
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_is_idempotent, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_builtin_deadlines, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_pause_resume_conflicts, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_pause_cycles_then_policy_change, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_close_and_reopen, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_pages, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_events_history, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_isolation, it_server_setup, it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
