/* Findings' SLA policy end to end: the waterfall with partial overrides,
 * zero = inherit, delete → inherit, recalculation on save (count header,
 * terminal findings untouched), on-demand recalculation after a global
 * change, explain, escalation contacts, validation and access control. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define T0 "2026-01-01T00:00:00.000Z"
#define GLOBAL "/api/v1/sla/policy/global"
#define ACME "/api/v1/sla/policy/companies/acme"
#define WEB "/api/v1/sla/policy/companies/acme/projects/web"

/* ---- helpers --------------------------------------------------------- */

static void make_project(struct sw_server *s, const char *tenant, const char *id)
{
    char path[256], body[256];
    snprintf(path, sizeof(path), "/api/v1/tenants/%s/projects", tenant);
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"Project %s\"}", id, id);
    assert_int_equal(api(s, "POST", path, ADMIN_TOKEN, body, NULL), 201);
}

static void add_finding(struct sw_server *s, const char *tenant, const char *project,
                        const char *id, const char *sev)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"discovered_at\":\"" T0
             "\"%s%s%s}", id, tenant, sev, project ? ",\"project_id\":\"" : "",
             project ? project : "", project ? "\"" : "");
    assert_int_equal(api(s, "POST", "/api/v1/findings", ADMIN_TOKEN, body, NULL), 201);
}

static void close_finding(struct sw_server *s, const char *tenant, const char *id)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/findings/%s/close?tenant_id=%s", id, tenant);
    assert_int_equal(api(s, "POST", path, ADMIN_TOKEN,
                         "{\"status\":\"closed\",\"at\":\"2026-01-01T05:00:00.000Z\"}", NULL), 200);
}

static void expect_sla(struct sw_server *s, const char *tenant, const char *id,
                       long long hours, const char *source, const char *deadline)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/findings/%s?tenant_id=%s", id, tenant);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *h = json_object_get(r.json, "sla_hours");
    const char *src = json_string_value(json_object_get(r.json, "sla_source"));
    if (json_integer_value(h) != hours || !src || strcmp(src, source))
        fail_msg("%s: expected %lld h from %s: %s", id, hours, source, r.body);
    if (deadline)
        assert_string_equal(json_string_value(json_object_get(r.json, "sla_deadline")),
                            deadline);
    http_free(&r);
}

/* PUT, expecting 200 and returning X-Recalculated-Count. */
static long put_policy(struct sw_server *s, const char *path, const char *body)
{
    struct http_resp r;
    char buf[32];
    long st = api(s, "PUT", path, ADMIN_TOKEN, body, &r);
    if (st != 200)
        fail_msg("PUT %s %s: %ld %s", path, body, st, r.body ? r.body : "");
    const char *h = http_resp_header(&r, "X-Recalculated-Count", buf, sizeof(buf));
    assert_non_null(h);
    long n = strtol(h, NULL, 10);
    http_free(&r);
    return n;
}

static long del_policy(struct sw_server *s, const char *path)
{
    struct http_resp r;
    char buf[32];
    assert_int_equal(api(s, "DELETE", path, ADMIN_TOKEN, NULL, &r), 204);
    const char *h = http_resp_header(&r, "X-Recalculated-Count", buf, sizeof(buf));
    assert_non_null(h);
    long n = strtol(h, NULL, 10);
    http_free(&r);
    return n;
}

static long recalc(struct sw_server *s, const char *path)
{
    char p[256];
    struct http_resp r;
    snprintf(p, sizeof(p), "%s/recalculate", path);
    assert_int_equal(api(s, "POST", p, ADMIN_TOKEN, NULL, &r), 200);
    json_t *n = json_object_get(r.json, "updated_count");
    assert_true(json_is_integer(n));
    long v = (long)json_integer_value(n);
    http_free(&r);
    return v;
}

static json_t *eff(struct http_resp *r, const char *field)
{
    json_t *e = json_object_get(json_object_get(r->json, "effective"), field);
    if (!json_is_object(e))
        fail_msg("effective.%s missing: %s", field, r->body);
    return e;
}

static void expect_eff(struct http_resp *r, const char *field, long long value,
                       const char *source)
{
    json_t *e = eff(r, field);
    assert_int_equal(json_integer_value(json_object_get(e, "value")), value);
    assert_string_equal(json_string_value(json_object_get(e, "source")), source);
}

static void expect_422(struct sw_server *s, const char *path, const char *body,
                       const char *field)
{
    struct http_resp r;
    long st = api(s, "PUT", path, ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("PUT %s %s: expected 422, got %ld: %s", path, body, st, r.body ? r.body : "");
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

static void test_get_without_override(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    make_project(s, "acme", "web");
    const char *paths[] = {GLOBAL, ACME, WEB};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(api(s, "GET", paths[i], ADMIN_TOKEN, NULL, &r), 200);
        static const char *const f[] = {"urgent_hours", "critical_hours", "high_hours",
                                        "medium_hours", "low_hours", "escalation_contacts"};
        for (int k = 0; k < 6; k++) {
            json_t *v = json_object_get(r.json, f[k]);
            if (!v || !json_is_null(v))
                fail_msg("%s: %s should be null: %s", paths[i], f[k], r.body);
        }
        expect_eff(&r, "urgent_hours", 24, "builtin");
        expect_eff(&r, "critical_hours", 72, "builtin");
        expect_eff(&r, "high_hours", 168, "builtin");
        expect_eff(&r, "medium_hours", 720, "builtin");
        expect_eff(&r, "low_hours", 2160, "builtin");
        http_free(&r);
    }
    /* unknown scopes */
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/ghost", ADMIN_TOKEN, NULL, &r),
                     404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/acme/projects/ghost",
                         ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/acme/projects/ghost",
                         ADMIN_TOKEN, "{\"low_hours\":5}", NULL), 404);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/ghost", ADMIN_TOKEN,
                         "{\"low_hours\":5}", NULL), 404);
    assert_int_equal(api(s, "DELETE", "/api/v1/sla/policy/companies/ghost", ADMIN_TOKEN, NULL,
                         NULL), 404);
    assert_int_equal(api(s, "POST", "/api/v1/sla/policy/companies/ghost/recalculate",
                         ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "POST",
                         "/api/v1/sla/policy/companies/acme/projects/ghost/recalculate",
                         ADMIN_TOKEN, NULL, NULL), 404);
}

static void test_partial_overrides_waterfall(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    make_project(s, "acme", "web");
    static const char *const sevs[] = {"urgent", "critical", "high", "medium", "low"};
    char id[32];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "w-%s", sevs[i]);
        add_finding(s, "acme", "web", id, sevs[i]);
        snprintf(id, sizeof(id), "c-%s", sevs[i]);
        add_finding(s, "acme", NULL, id, sevs[i]);
    }
    /* global: medium 500 (no recalculation by itself) */
    assert_int_equal(put_policy(s, GLOBAL, "{\"medium_hours\":500}"), 0);
    expect_sla(s, "acme", "w-medium", 720, "builtin", NULL);
    /* company: critical 48, high 100 → recalculates all 10 open findings */
    assert_int_equal(put_policy(s, ACME, "{\"critical_hours\":48,\"high_hours\":100}"), 10);
    expect_sla(s, "acme", "w-medium", 500, "global", "2026-01-21T20:00:00.000Z");
    expect_sla(s, "acme", "c-critical", 48, "company", "2026-01-03T00:00:00.000Z");
    /* project: critical 12 only → the project's 5 */
    assert_int_equal(put_policy(s, WEB, "{\"critical_hours\":12}"), 5);
    expect_sla(s, "acme", "w-critical", 12, "project", "2026-01-01T12:00:00.000Z");
    expect_sla(s, "acme", "w-high", 100, "company", "2026-01-05T04:00:00.000Z");
    expect_sla(s, "acme", "w-medium", 500, "global", NULL);
    expect_sla(s, "acme", "w-low", 2160, "builtin", "2026-04-01T00:00:00.000Z");
    expect_sla(s, "acme", "w-urgent", 24, "builtin", "2026-01-02T00:00:00.000Z");
    /* the company's own findings are not the project's */
    expect_sla(s, "acme", "c-critical", 48, "company", NULL);
    /* a new finding resolves the same way at creation */
    add_finding(s, "acme", "web", "w-new", "critical");
    expect_sla(s, "acme", "w-new", 12, "project", NULL);

    /* the project's GET: own fields, and the effective chain */
    assert_int_equal(api(s, "GET", WEB, ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "critical_hours")), 12);
    assert_true(json_is_null(json_object_get(r.json, "high_hours")));
    expect_eff(&r, "critical_hours", 12, "project");
    expect_eff(&r, "high_hours", 100, "company");
    expect_eff(&r, "medium_hours", 500, "global");
    expect_eff(&r, "low_hours", 2160, "builtin");
    http_free(&r);

    /* explain, level by level */
    assert_int_equal(api(s, "GET", "/api/v1/findings/w-high/sla/explain?tenant_id=acme",
                         ADMIN_TOKEN, NULL, &r), 200);
    json_t *levels = json_object_get(r.json, "levels");
    assert_int_equal(json_array_size(levels), 4);
    static const char *const names[] = {"project", "company", "global", "builtin"};
    static const long long values[] = {0, 100, 0, 168};
    for (size_t i = 0; i < 4; i++) {
        json_t *l = json_array_get(levels, i);
        assert_string_equal(json_string_value(json_object_get(l, "level")), names[i]);
        json_t *v = json_object_get(l, "value");
        if (values[i])
            assert_int_equal(json_integer_value(v), values[i]);
        else
            assert_true(json_is_null(v));
        assert_int_equal(json_is_true(json_object_get(l, "answered")), i == 1);
    }
    assert_string_equal(json_string_value(json_object_get(r.json, "answered")), "company");
    assert_int_equal(json_integer_value(json_object_get(r.json, "value")), 100);
    assert_true(json_is_false(json_object_get(r.json, "safety_net")));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/findings/w-medium/sla/explain?tenant_id=acme",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "answered")), "global");
    http_free(&r);
}

static void test_zero_and_null_inherit(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    add_finding(s, "acme", NULL, "f", "critical");
    assert_int_equal(put_policy(s, GLOBAL, "{\"critical_hours\":60}"), 0);
    assert_int_equal(put_policy(s, ACME, "{\"critical_hours\":0,\"high_hours\":null}"), 1);
    /* zero is inherit: global answers */
    expect_sla(s, "acme", "f", 60, "global", "2026-01-03T12:00:00.000Z");
    assert_int_equal(api(s, "GET", ACME, ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "critical_hours")), 0);
    assert_true(json_is_null(json_object_get(r.json, "high_hours")));
    expect_eff(&r, "critical_hours", 60, "global");
    http_free(&r);
    /* zero at global too: built-in */
    assert_int_equal(put_policy(s, GLOBAL, "{\"critical_hours\":0}"), 0);
    assert_int_equal(recalc(s, ACME), 1);
    expect_sla(s, "acme", "f", 72, "builtin", "2026-01-04T00:00:00.000Z");
}

static void test_delete_falls_back(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    make_project(s, "acme", "web");
    add_finding(s, "acme", "web", "f", "high");
    assert_int_equal(put_policy(s, ACME, "{\"high_hours\":100}"), 1);
    assert_int_equal(put_policy(s, WEB, "{\"high_hours\":10}"), 1);
    expect_sla(s, "acme", "f", 10, "project", "2026-01-01T10:00:00.000Z");
    /* project override gone: the company answers */
    assert_int_equal(del_policy(s, WEB), 1);
    expect_sla(s, "acme", "f", 100, "company", "2026-01-05T04:00:00.000Z");
    assert_int_equal(api(s, "GET", WEB, ADMIN_TOKEN, NULL, &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "high_hours")));
    expect_eff(&r, "high_hours", 100, "company");
    http_free(&r);
    /* company override gone: built-in */
    assert_int_equal(del_policy(s, ACME), 1);
    expect_sla(s, "acme", "f", 168, "builtin", "2026-01-08T00:00:00.000Z");
    /* deleting what is not there is still 204 */
    assert_int_equal(del_policy(s, ACME), 1);
    /* the global level can be reverted too */
    assert_int_equal(put_policy(s, GLOBAL, "{\"high_hours\":5}"), 0);
    assert_int_equal(del_policy(s, GLOBAL), 0);
    assert_int_equal(api(s, "GET", GLOBAL, ADMIN_TOKEN, NULL, &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "high_hours")));
    expect_eff(&r, "high_hours", 168, "builtin");
    http_free(&r);
}

static void test_count_and_terminal_untouched(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    it_make_tenant(s, "other");
    make_project(s, "acme", "web");
    add_finding(s, "acme", NULL, "o1", "critical");
    add_finding(s, "acme", NULL, "o2", "low");
    add_finding(s, "acme", "web", "o3", "critical");
    add_finding(s, "acme", NULL, "p1", "critical");
    add_finding(s, "acme", NULL, "c1", "critical");
    add_finding(s, "acme", "web", "c2", "critical");
    add_finding(s, "other", NULL, "x1", "critical");
    assert_int_equal(api(s, "POST", "/api/v1/findings/p1/pause?tenant_id=acme", ADMIN_TOKEN,
                         "{\"at\":\"2026-01-01T01:00:00.000Z\"}", NULL), 200);
    close_finding(s, "acme", "c1");
    close_finding(s, "acme", "c2");
    /* 3 open + 1 paused in scope; the 2 closed ones and the other tenant's are not */
    assert_int_equal(put_policy(s, ACME, "{\"critical_hours\":24}"), 4);
    expect_sla(s, "acme", "o1", 24, "company", "2026-01-02T00:00:00.000Z");
    expect_sla(s, "acme", "o3", 24, "company", NULL);
    expect_sla(s, "acme", "o2", 2160, "builtin", NULL);
    expect_sla(s, "acme", "p1", 24, "company", NULL);
    expect_sla(s, "acme", "c1", 72, "builtin", "2026-01-04T00:00:00.000Z");
    expect_sla(s, "acme", "c2", 72, "builtin", "2026-01-04T00:00:00.000Z");
    expect_sla(s, "other", "x1", 72, "builtin", "2026-01-04T00:00:00.000Z");
    /* a project scope counts the project's live findings only */
    assert_int_equal(put_policy(s, WEB, "{\"critical_hours\":6}"), 1);
    expect_sla(s, "acme", "o3", 6, "project", "2026-01-01T06:00:00.000Z");
    expect_sla(s, "acme", "c2", 72, "builtin", NULL);
    /* a reopened finding is live again and follows the policy */
    assert_int_equal(api(s, "POST", "/api/v1/findings/c1/reopen?tenant_id=acme", ADMIN_TOKEN,
                         "{\"at\":\"2026-01-01T07:00:00.000Z\"}", NULL), 200);
    assert_int_equal(recalc(s, ACME), 5);
    /* closed 05:00 → 07:00 counts as paused */
    expect_sla(s, "acme", "c1", 24, "company", "2026-01-02T02:00:00.000Z");
    /* no finding gets an event of its own for a recalculation: a policy
     * change is one action, recorded once in the audit log */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/findings/o1/events?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *items = own_events(json_object_get(r.json, "items"));
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "type")),
                        "created");
    json_decref(items);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=acme&action=sla_policy.update",
                         ADMIN_TOKEN, NULL, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);        /* newest first: web, then acme */
    json_t *e = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(e, "target")), "policy:acme");
    json_t *before = json_object_get(e, "before"), *after = json_object_get(e, "after");
    assert_true(json_is_null(json_object_get(before, "critical_hours")));
    assert_int_equal(json_integer_value(json_object_get(after, "critical_hours")), 24);
    assert_int_equal(json_integer_value(json_object_get(after, "recalculated_count")), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "target")),
                        "policy:acme/web");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=acme&action=sla_policy.recalculate",
                         ADMIN_TOKEN, NULL, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(items, 0), "after"), "recalculated_count")),
                     5);
    http_free(&r);
}

/* A recalculation over a thousand findings moves every deadline (read back
 * a sample, in the company and in a project following it) and answers the
 * count of the scope's live findings. */
static void test_recalculate_thousand(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "big");
    make_project(s, "big", "p");
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "f%04d", i);
        add_finding(s, "big", i % 4 == 3 ? "p" : NULL, id, i % 2 ? "high" : "critical");
    }
    close_finding(s, "big", "f0000");
    close_finding(s, "big", "f0003");
    assert_int_equal(put_policy(s, "/api/v1/sla/policy/companies/big",
                                "{\"critical_hours\":10,\"high_hours\":20}"), 998);
    for (int i = 0; i < 1000; i += 97) {
        char id[32];
        snprintf(id, sizeof(id), "f%04d", i);
        if (i == 0)
            expect_sla(s, "big", id, 72, "builtin", "2026-01-04T00:00:00.000Z");
        else if (i % 2)
            expect_sla(s, "big", id, 20, "company", "2026-01-01T20:00:00.000Z");
        else
            expect_sla(s, "big", id, 10, "company", "2026-01-01T10:00:00.000Z");
    }
    expect_sla(s, "big", "f0999", 20, "company", "2026-01-01T20:00:00.000Z");   /* in p */
    expect_sla(s, "big", "f0003", 168, "builtin", "2026-01-08T00:00:00.000Z");  /* closed */
    /* the project speaks for itself: its 249 live ones */
    assert_int_equal(put_policy(s, "/api/v1/sla/policy/companies/big/projects/p",
                                "{\"high_hours\":5}"), 249);
    expect_sla(s, "big", "f0999", 5, "project", "2026-01-01T05:00:00.000Z");
    expect_sla(s, "big", "f0997", 20, "company", NULL);
    assert_int_equal(recalc(s, "/api/v1/sla/policy/companies/big"), 998);
    expect_sla(s, "big", "f0999", 5, "project", NULL);
    /* a breached filter reads the derived deadlines: all 998 live ones are
     * past; the two closed at 05:00 met theirs */
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=big&breached=false&limit=1000",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/findings?tenant_id=big&breached=true&limit=1000",
                         ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 998);
    http_free(&r);
}

static void test_recalculate_after_global_change(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "acme");
    it_make_tenant(s, "beta");
    make_project(s, "acme", "web");
    add_finding(s, "acme", NULL, "a1", "high");
    add_finding(s, "acme", "web", "a2", "high");
    add_finding(s, "acme", "web", "a3", "medium");
    add_finding(s, "acme", NULL, "a4", "high");
    close_finding(s, "acme", "a4");
    add_finding(s, "beta", NULL, "b1", "high");
    assert_int_equal(put_policy(s, GLOBAL, "{\"high_hours\":50,\"medium_hours\":60}"), 0);
    /* no company saved: nothing moved yet */
    expect_sla(s, "acme", "a1", 168, "builtin", NULL);
    expect_sla(s, "beta", "b1", 168, "builtin", NULL);
    /* a project sweep moves the project's own */
    assert_int_equal(recalc(s, WEB), 2);
    expect_sla(s, "acme", "a2", 50, "global", "2026-01-03T02:00:00.000Z");
    expect_sla(s, "acme", "a3", 60, "global", "2026-01-03T12:00:00.000Z");
    expect_sla(s, "acme", "a1", 168, "builtin", NULL);
    /* the company sweep: every live finding in the company, evaluated */
    assert_int_equal(recalc(s, ACME), 3);
    expect_sla(s, "acme", "a1", 50, "global", "2026-01-03T02:00:00.000Z");
    expect_sla(s, "acme", "a4", 168, "builtin", "2026-01-08T00:00:00.000Z");
    expect_sla(s, "beta", "b1", 168, "builtin", NULL);
    /* idempotent: same count, same deadlines */
    assert_int_equal(recalc(s, ACME), 3);
    expect_sla(s, "acme", "a1", 50, "global", "2026-01-03T02:00:00.000Z");
    assert_int_equal(recalc(s, "/api/v1/sla/policy/companies/beta"), 1);
    expect_sla(s, "beta", "b1", 50, "global", NULL);
}

/* A user with a role in tenant (a contact must be one: issue 13). */
static void make_user(struct sw_server *s, const char *id, const char *tenant)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"email\":\"%s@example.test\",\"roles\":[{\"role\":\"analyst\","
             "\"tenant_id\":\"%s\"}]}", id, id, tenant);
    assert_int_equal(api(s, "POST", "/api/v1/users", ADMIN_TOKEN, body, NULL), 201);
}

static void test_escalation_contacts(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    make_project(s, "acme", "web");
    make_user(s, "noc", "acme");
    make_user(s, "ciso", "acme");
    make_user(s, "lead", "acme");
    it_make_tenant(s, "beta");
    make_user(s, "stranger", "beta");
    /* a contact is a user of the tenant: unknown or another tenant's, 422 */
    expect_422(s, ACME, "{\"escalation_contacts\":[{\"level\":1,\"user\":\"ghost\"}]}",
               "escalation_contacts[0].user");
    expect_422(s, ACME, "{\"escalation_contacts\":[{\"level\":1,\"user\":\"noc\"},"
               "{\"level\":2,\"user\":\"stranger\"}]}", "escalation_contacts[1].user");
    expect_422(s, GLOBAL, "{\"escalation_contacts\":[{\"level\":1,\"user\":\"ghost\"}]}",
               "escalation_contacts[0].user");
    put_policy(s, GLOBAL, "{\"escalation_contacts\":[{\"level\":1,\"user\":\"noc\"}]}");
    /* any subset of levels, stored by level */
    assert_int_equal(api(s, "PUT", ACME, ADMIN_TOKEN,
                         "{\"escalation_contacts\":[{\"level\":3,\"user\":\"ciso\","
                         "\"days_after_breach\":7},{\"level\":2,\"user\":\"lead\","
                         "\"days_after_breach\":3}]}", &r), 200);
    json_t *c = json_object_get(r.json, "escalation_contacts");
    assert_int_equal(json_array_size(c), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(c, 0), "level")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "user")), "ciso");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(c, 1), "days_after_breach")), 7);
    json_t *ec = eff(&r, "escalation_contacts");
    assert_string_equal(json_string_value(json_object_get(ec, "source")), "company");
    http_free(&r);
    /* a project without contacts inherits the company's */
    assert_int_equal(api(s, "GET", WEB, ADMIN_TOKEN, NULL, &r), 200);
    ec = eff(&r, "escalation_contacts");
    assert_string_equal(json_string_value(json_object_get(ec, "source")), "company");
    assert_int_equal(json_array_size(json_object_get(ec, "items")), 2);
    http_free(&r);
    /* without the company's: the global ladder */
    del_policy(s, ACME);
    assert_int_equal(api(s, "GET", WEB, ADMIN_TOKEN, NULL, &r), 200);
    ec = eff(&r, "escalation_contacts");
    assert_string_equal(json_string_value(json_object_get(ec, "source")), "global");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(ec, "items"), 0),
                                          "user")), "noc");
    http_free(&r);
}

static void test_validation(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    it_make_tenant(s, "acme");
    add_finding(s, "acme", NULL, "f", "critical");
    expect_422(s, ACME, "{\"critical_hours\":-1}", "critical_hours");
    expect_422(s, ACME, "{\"urgent_hours\":1.5}", "urgent_hours");
    expect_422(s, ACME, "{\"high_hours\":\"12\"}", "high_hours");
    expect_422(s, ACME, "{\"medium_hours\":87601}", "medium_hours");
    expect_422(s, ACME, "{\"low_hours\":true}", "low_hours");
    expect_422(s, GLOBAL, "{\"low_hours\":-5}", "low_hours");
    expect_422(s, ACME, "{\"escalation_contacts\":{}}", "escalation_contacts");
    expect_422(s, ACME, "{\"escalation_contacts\":[{\"level\":4,\"user\":\"x\"}]}",
               "escalation_contacts");
    expect_422(s, ACME, "{\"escalation_contacts\":[{\"level\":0,\"user\":\"x\"}]}",
               "escalation_contacts");
    expect_422(s, ACME, "{\"escalation_contacts\":[{\"level\":1,\"user\":\"\"}]}",
               "escalation_contacts");
    expect_422(s, ACME, "{\"escalation_contacts\":[{\"level\":1}]}", "escalation_contacts");
    expect_422(s, ACME,
               "{\"escalation_contacts\":[{\"level\":1,\"user\":\"a\",\"days_after_breach\":-1}]}",
               "escalation_contacts");
    expect_422(s, ACME,
               "{\"escalation_contacts\":[{\"level\":1,\"user\":\"a\"},{\"level\":1,\"user\":\"b\"}]}",
               "escalation_contacts");
    expect_422(s, ACME,
               "{\"escalation_contacts\":[{\"level\":1,\"user\":\"a\"},{\"level\":2,\"user\":\"b\"},"
               "{\"level\":3,\"user\":\"c\"},{\"level\":3,\"user\":\"d\"}]}",
               "escalation_contacts");
    /* nothing stored by any of them, nothing recalculated */
    assert_int_equal(api(s, "GET", ACME, ADMIN_TOKEN, NULL, &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "critical_hours")));
    assert_true(json_is_null(json_object_get(r.json, "updated_at")));
    http_free(&r);
    expect_sla(s, "acme", "f", 72, "builtin", NULL);
    /* the bounds themselves are fine */
    assert_int_equal(put_policy(s, ACME, "{\"critical_hours\":87600,\"low_hours\":1}"), 1);
    expect_sla(s, "acme", "f", 87600, "company", NULL);
    /* malformed body */
    assert_int_equal(api(s, "PUT", ACME, ADMIN_TOKEN, "{", NULL), 400);
}

static void test_access_control(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char viewer_a[128], admin_a[128], manager_a[128];
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    it_make_token(s, "viewer", "a", viewer_a, sizeof(viewer_a));
    it_make_token(s, "tenant_admin", "a", admin_a, sizeof(admin_a));
    it_make_token(s, "manager", "a", manager_a, sizeof(manager_a));
    assert_int_equal(put_policy(s, "/api/v1/sla/policy/companies/b", "{\"high_hours\":9}"), 0);

    /* a viewer reads its company's policy, cannot change it */
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/a", viewer_a, NULL, NULL), 200);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/a", viewer_a,
                         "{\"high_hours\":1}", &r), 403);
    assert_error_shape(&r, "forbidden", NULL);
    http_free(&r);
    assert_int_equal(api(s, "DELETE", "/api/v1/sla/policy/companies/a", viewer_a, NULL, NULL),
                     403);
    assert_int_equal(api(s, "POST", "/api/v1/sla/policy/companies/a/recalculate", viewer_a,
                         NULL, NULL), 403);
    /* another company's policy does not exist for them */
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/b", viewer_a, NULL, &r), 404);
    assert_error_shape(&r, "not_found", NULL);
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/b", admin_a,
                         "{\"high_hours\":1}", NULL), 404);
    assert_int_equal(api(s, "DELETE", "/api/v1/sla/policy/companies/b", admin_a, NULL, NULL),
                     404);
    /* managers and tenant admins configure their own */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/a", manager_a,
                         "{\"high_hours\":20}", NULL), 200);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/policy/companies/a", admin_a,
                         "{\"high_hours\":21}", NULL), 200);
    /* the global level is the platform's */
    assert_int_equal(api(s, "PUT", GLOBAL, admin_a, "{\"high_hours\":1}", NULL), 403);
    assert_int_equal(api(s, "DELETE", GLOBAL, admin_a, NULL, NULL), 403);
    assert_int_equal(api(s, "GET", GLOBAL, viewer_a, NULL, NULL), 403);
    /* b's override is intact */
    assert_int_equal(api(s, "GET", "/api/v1/sla/policy/companies/b", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "high_hours")), 9);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_without_override, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_partial_overrides_waterfall, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_zero_and_null_inherit, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_delete_falls_back, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_count_and_terminal_untouched, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_recalculate_after_global_change, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_recalculate_thousand, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_escalation_contacts, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_validation, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_access_control, it_server_setup, it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
