/* The SLA definition, templates and configs end to end: effective values
 * and their sources, PUT with ranges and recalculation of open (not
 * resolved) alerts, project layers, configs CRUD and apply-template. */
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
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"T\",\"template\":\"%s\"}", id, tmpl);
    else
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"T\"}", id);
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, body, NULL), 201);
}

static void create_alert(struct sw_server *s, const char *tenant, const char *id, const char *sev,
                         const char *project, time_t created)
{
    char body[512], ts[32], proj[160] = "";
    if (project)
        snprintf(proj, sizeof(proj), ",\"project_id\":\"%s\"", project);
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"created_at\":\"%s\"%s}", id,
             tenant, sev, iso(created, ts), proj);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
}

static json_int_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", k);
    return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void assert_time(json_t *o, const char *k, time_t want)
{
    char buf[32];
    const char *got = jstr(o, k);
    if (!got || strcmp(got, iso(want, buf)) != 0)
        fail_msg("%s: expected %s, got %s", k, buf, got ? got : "null");
}

/* A tracking record, kept in *out (free with http_free). */
static void tracking(struct sw_server *s, const char *tenant, const char *id, struct http_resp *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=%s", id, tenant);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, out), 200);
}

static void get_definition(struct sw_server *s, const char *tenant, const char *project,
                           struct http_resp *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/definition?tenant_id=%s%s%s", tenant,
             project ? "&project_id=" : "", project ? project : "");
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, out), 200);
}

static const char *const fields[9] = {
    "critical_mtta_minutes", "critical_mttr_hours", "high_mtta_minutes", "high_mttr_hours",
    "medium_mtta_hours", "medium_mttr_hours", "low_mtta_hours", "low_mttr_hours",
    "notification_threshold_pct"};

static void assert_definition(json_t *d, const int want[9])
{
    for (int i = 0; i < 9; i++)
        if (jint(d, fields[i]) != want[i])
            fail_msg("%s: expected %d, got %lld", fields[i], want[i], (long long)jint(d, fields[i]));
}

static const char *source_of(json_t *d, const char *field)
{
    return jstr(json_object_get(d, "sources"), field);
}

static long recalculated(struct http_resp *r)
{
    char buf[32];
    const char *h = http_resp_header(r, "X-Recalculated-Count", buf, sizeof(buf));
    if (!h)
        fail_msg("no X-Recalculated-Count header");
    return atol(h);
}

/* ---- tests -------------------------------------------------------------- */

static const int builtin_def[9] = {15, 4, 30, 8, 4, 24, 8, 72, 80};

static void test_defaults_and_sources(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "plain", NULL);
    make_tenant(s, "ent", "enterprise");
    get_definition(s, "plain", NULL, &r);
    assert_definition(r.json, builtin_def);
    for (int i = 0; i < 9; i++)
        assert_string_equal(source_of(r.json, fields[i]), "builtin");
    assert_true(json_is_null(json_object_get(r.json, "template")));
    http_free(&r);

    get_definition(s, "ent", NULL, &r);
    static const int ent[9] = {5, 1, 10, 2, 1, 6, 2, 18, 80};
    assert_definition(r.json, ent);
    assert_string_equal(source_of(r.json, "critical_mtta_minutes"), "template");
    assert_string_equal(source_of(r.json, "notification_threshold_pct"), "builtin");
    assert_string_equal(jstr(r.json, "template"), "enterprise");
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/definition?tenant_id=ghost", ADMIN_TOKEN, NULL,
                         NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/definition", ADMIN_TOKEN, NULL, &r), 422);
    assert_error_shape(&r, "invalid", "tenant_id");
    http_free(&r);
}

static void test_put_recalculates_open_not_resolved(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "acme", NULL);
    make_tenant(s, "other", NULL);
    time_t c = time(NULL) - 10 * MIN;
    create_alert(s, "acme", "open1", "critical", NULL, c);
    create_alert(s, "acme", "acked", "critical", NULL, c);
    create_alert(s, "acme", "done", "critical", NULL, c);
    create_alert(s, "acme", "hi", "high", NULL, c);
    create_alert(s, "other", "theirs", "critical", NULL, c);
    assert_int_equal(api(s, "POST", "/api/v1/alerts/acked/acknowledge?tenant_id=acme",
                         ADMIN_TOKEN, NULL, NULL), 200);
    assert_int_equal(api(s, "POST", "/api/v1/alerts/done/resolve?tenant_id=acme", ADMIN_TOKEN,
                         NULL, NULL), 200);

    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":20,\"critical_mttr_hours\":6,"
                         "\"notification_threshold_pct\":90}", &r), 200);
    static const int want[9] = {20, 6, 30, 8, 4, 24, 8, 72, 90};
    assert_definition(r.json, want);
    assert_string_equal(source_of(r.json, "critical_mttr_hours"), "tenant");
    assert_string_equal(source_of(r.json, "high_mttr_hours"), "builtin");
    /* open1, acked (its resolve clock), hi (its threshold): not done */
    assert_int_equal(recalculated(&r), 3);
    http_free(&r);

    tracking(s, "acme", "open1", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 20);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 360);
    assert_time(r.json, "ack_due_at", c + 20 * MIN);
    assert_time(r.json, "resolve_due_at", c + 6 * HOUR);
    assert_string_equal(jstr(r.json, "resolve_source"), "tenant");
    assert_int_equal(jint(r.json, "warn_pct"), 90);
    /* the scheduler's next look: 90 % of the new 20-minute ack window */
    assert_time(r.json, "next_check_at", c + 18 * MIN);
    http_free(&r);

    /* acknowledged: the stopped ack clock keeps its 15 min, resolve moves */
    tracking(s, "acme", "acked", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 15);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 360);
    http_free(&r);

    /* resolved: never recalculated */
    tracking(s, "acme", "done", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 15);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 240);
    assert_time(r.json, "resolve_due_at", c + 4 * HOUR);
    http_free(&r);

    /* another tenant: untouched */
    tracking(s, "other", "theirs", &r);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 240);
    http_free(&r);

    /* a partial PUT keeps what was set: high only */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN,
                         "{\"high_mtta_minutes\":45}", &r), 200);
    static const int want2[9] = {20, 6, 45, 8, 4, 24, 8, 72, 90};
    assert_definition(r.json, want2);
    assert_int_equal(recalculated(&r), 1);     /* hi only */
    http_free(&r);
    tracking(s, "acme", "hi", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 45);
    http_free(&r);

    /* the same values again change nothing */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN,
                         "{\"high_mtta_minutes\":45}", &r), 200);
    assert_int_equal(recalculated(&r), 0);
    http_free(&r);

    /* the recalculation is in each alert's history */
    assert_int_equal(api(s, "GET", "/api/v1/alerts/open1/events?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(jstr(json_array_get(items, 1), "type"), "recalculated");
    http_free(&r);
}

static void test_put_out_of_range(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "acme", NULL);
    time_t c = time(NULL) - MIN;
    create_alert(s, "acme", "a1", "critical", NULL, c);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"critical_mttr_hours\":49}", "critical_mttr_hours"},
        {"{\"critical_mttr_hours\":0}", "critical_mttr_hours"},
        {"{\"notification_threshold_pct\":49}", "notification_threshold_pct"},
        {"{\"notification_threshold_pct\":100}", "notification_threshold_pct"},
        {"{\"critical_mtta_minutes\":121}", "critical_mtta_minutes"},
        {"{\"low_mttr_hours\":721}", "low_mttr_hours"},
        {"{\"medium_mtta_hours\":\"4\"}", "medium_mtta_hours"},
        /* a valid field beside a bad one: nothing is written */
        {"{\"critical_mtta_minutes\":30,\"high_mttr_hours\":73}", "high_mttr_hours"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long st = api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN, bad[i].body,
                      &r);
        if (st != 422)
            fail_msg("%s: expected 422, got %ld", bad[i].body, st);
        assert_error_shape(&r, "invalid", bad[i].field);
        http_free(&r);
    }
    get_definition(s, "acme", NULL, &r);
    assert_definition(r.json, builtin_def);
    assert_string_equal(source_of(r.json, "critical_mtta_minutes"), "builtin");
    http_free(&r);
    tracking(s, "acme", "a1", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 15);
    assert_time(r.json, "resolve_due_at", c + 4 * HOUR);
    http_free(&r);

    /* the edges are fine */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN,
                         "{\"critical_mttr_hours\":48,\"notification_threshold_pct\":50,"
                         "\"low_mttr_hours\":720,\"critical_mtta_minutes\":1}", NULL), 200);
    /* a viewer may read, not write */
    char viewer[128];
    it_make_token(s, "viewer", "acme", viewer, sizeof(viewer));
    assert_int_equal(api(s, "GET", "/api/v1/sla/definition?tenant_id=acme", viewer, NULL, NULL),
                     200);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", viewer,
                         "{\"critical_mttr_hours\":5}", NULL), 403);
}

static void test_project_layer(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    make_tenant(s, "acme", "premium");
    assert_int_equal(api(s, "POST", "/api/v1/tenants/acme/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"Web\"}", NULL), 201);
    time_t c = time(NULL) - MIN;
    create_alert(s, "acme", "in-web", "critical", "web", c);
    create_alert(s, "acme", "no-proj", "critical", NULL, c);

    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme&project_id=web",
                         ADMIN_TOKEN, "{\"critical_mtta_minutes\":7}", &r), 200);
    assert_int_equal(jint(r.json, "critical_mtta_minutes"), 7);
    assert_string_equal(source_of(r.json, "critical_mtta_minutes"), "project");
    assert_string_equal(source_of(r.json, "critical_mttr_hours"), "template");
    assert_int_equal(recalculated(&r), 1);
    http_free(&r);
    tracking(s, "acme", "in-web", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 7);
    assert_string_equal(jstr(r.json, "ack_source"), "project");
    http_free(&r);
    tracking(s, "acme", "no-proj", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 15);
    http_free(&r);

    /* a tenant-level change reaches both, the project's own field wins */
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN,
                         "{\"critical_mtta_minutes\":12,\"critical_mttr_hours\":3}", &r), 200);
    assert_int_equal(recalculated(&r), 2);
    http_free(&r);
    tracking(s, "acme", "in-web", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 7);
    assert_int_equal(jint(r.json, "resolve_target_minutes"), 180);
    http_free(&r);
    tracking(s, "acme", "no-proj", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 12);
    http_free(&r);

    /* new alerts in the project take the layer at creation */
    create_alert(s, "acme", "in-web-2", "critical", "web", c);
    tracking(s, "acme", "in-web-2", &r);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 7);
    http_free(&r);

    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme&project_id=nope",
                         ADMIN_TOKEN, "{\"critical_mtta_minutes\":7}", NULL), 404);
}

static void test_templates(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char viewer[128];
    make_tenant(s, "acme", NULL);
    it_make_token(s, "viewer", "acme", viewer, sizeof(viewer));
    assert_int_equal(api(s, "GET", "/api/v1/sla/templates", viewer, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 4);
    static const struct {
        const char *name;
        int mtta, mttr_h;
        double pen;
        bool fedramp;
    } want[] = {{"standard", 30, 8, 50.0, false}, {"premium", 15, 4, 100.0, false},
                {"enterprise", 5, 1, 250.0, false}, {"government", 10, 2, 200.0, true}};
    for (size_t i = 0; i < 4; i++) {
        json_t *t = json_array_get(items, i);
        assert_string_equal(jstr(t, "name"), want[i].name);
        assert_int_equal(jint(t, "critical_mtta_minutes"), want[i].mtta);
        assert_int_equal(jint(t, "critical_mttr_hours"), want[i].mttr_h);
        assert_true(json_real_value(json_object_get(t, "penalty_per_hour")) == want[i].pen);
        json_t *flags = json_object_get(t, "flags");
        assert_int_equal(json_is_true(json_object_get(flags, "fedramp")), want[i].fedramp);
        assert_int_equal(json_is_true(json_object_get(flags, "data_sovereignty")), want[i].fedramp);
        assert_int_equal(json_is_true(json_object_get(flags, "audit_logging")), want[i].fedramp);
        json_t *sevs = json_object_get(t, "severities");
        static const char *const names[] = {"critical", "high", "medium", "low"};
        for (size_t k = 0; k < 4; k++) {
            json_t *sv = json_object_get(sevs, names[k]);
            assert_true(jint(sv, "mtta_minutes") > 0);
            assert_true(jint(sv, "mttr_minutes") > 0);
            assert_true(jint(sv, "penalty_per_hour_cents") > 0);
        }
        assert_int_equal(jint(json_object_get(sevs, "critical"), "mttr_minutes"),
                         want[i].mttr_h * 60);
    }
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/templates", NULL, NULL, NULL), 401);
}

static void test_configs(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char id1[32], id2[32], path[256], viewer[128];
    make_tenant(s, "acme", NULL);
    it_make_token(s, "viewer", "acme", viewer, sizeof(viewer));
    time_t c = time(NULL) - MIN;
    create_alert(s, "acme", "a1", "critical", NULL, c);

    /* an inactive config changes nothing */
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/acme", ADMIN_TOKEN,
                         "{\"name\":\"fast\",\"template\":\"enterprise\","
                         "\"overrides\":{\"critical_mttr_hours\":2}}", &r), 201);
    snprintf(id1, sizeof(id1), "%s", jstr(r.json, "id"));
    assert_true(strncmp(id1, "cfg_", 4) == 0);
    assert_string_equal(jstr(r.json, "template"), "enterprise");
    assert_false(json_is_true(json_object_get(r.json, "active")));
    assert_int_equal(jint(json_object_get(r.json, "overrides"), "critical_mttr_hours"), 2);
    http_free(&r);
    get_definition(s, "acme", NULL, &r);
    assert_definition(r.json, builtin_def);
    http_free(&r);

    assert_int_equal(api(s, "GET", "/api/v1/sla/configs/acme", viewer, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    snprintf(path, sizeof(path), "/api/v1/sla/configs/acme/%s", id1);
    assert_int_equal(api(s, "GET", path, viewer, NULL, &r), 200);
    assert_string_equal(jstr(r.json, "name"), "fast");
    http_free(&r);

    /* validation */
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"name\":\"x\",\"template\":\"gold\"}", "template"},
        {"{\"template\":\"premium\"}", "name"},
        {"{\"name\":\"x\",\"template\":\"premium\",\"overrides\":{\"bogus\":1}}", "overrides.bogus"},
        {"{\"name\":\"x\",\"template\":\"premium\",\"overrides\":{\"critical_mttr_hours\":49}}",
         "overrides.critical_mttr_hours"},
        {"{\"name\":\"x\",\"template\":\"premium\",\"overrides\":[]}", "overrides"},
        {"{\"name\":\"x\",\"template\":\"premium\",\"active\":\"yes\"}", "active"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(api(s, "POST", "/api/v1/sla/configs/acme", ADMIN_TOKEN, bad[i].body, &r),
                         422);
        assert_error_shape(&r, "invalid", bad[i].field);
        http_free(&r);
    }
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/acme/apply-template", ADMIN_TOKEN,
                         "{\"template_name\":\"platinum\"}", &r), 422);
    assert_error_shape(&r, "invalid", "template_name");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/acme", viewer,
                         "{\"name\":\"x\",\"template\":\"premium\"}", NULL), 403);
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/ghost", ADMIN_TOKEN,
                         "{\"name\":\"x\",\"template\":\"premium\"}", NULL), 404);

    /* apply-template: the tenant now follows enterprise, a1 recalculated */
    assert_int_equal(api(s, "POST", "/api/v1/sla/configs/acme/apply-template", ADMIN_TOKEN,
                         "{\"template_name\":\"enterprise\"}", &r), 200);
    assert_true(json_is_true(json_object_get(r.json, "active")));
    snprintf(id2, sizeof(id2), "%s", jstr(r.json, "id"));
    assert_int_equal(recalculated(&r), 1);
    http_free(&r);
    get_definition(s, "acme", NULL, &r);
    static const int ent[9] = {5, 1, 10, 2, 1, 6, 2, 18, 80};
    assert_definition(r.json, ent);
    assert_string_equal(jstr(r.json, "template"), "enterprise");
    assert_string_equal(source_of(r.json, "critical_mtta_minutes"), "template");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/alerts/a1/tracking?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(jint(r.json, "ack_target_minutes"), 5);
    assert_time(r.json, "resolve_due_at", c + HOUR);
    http_free(&r);

    /* activating the first config (partial update): premium + 3 h override;
     * the apply-template config goes inactive */
    snprintf(path, sizeof(path), "/api/v1/sla/configs/acme/%s", id1);
    assert_int_equal(api(s, "PUT", path, ADMIN_TOKEN,
                         "{\"template\":\"premium\",\"overrides\":{\"critical_mttr_hours\":3},"
                         "\"active\":true}", &r), 200);
    assert_string_equal(jstr(r.json, "name"), "fast");     /* kept */
    assert_true(json_is_true(json_object_get(r.json, "active")));
    assert_int_equal(recalculated(&r), 1);
    http_free(&r);
    get_definition(s, "acme", NULL, &r);
    static const int prem3[9] = {15, 3, 30, 8, 4, 24, 8, 72, 80};
    assert_definition(r.json, prem3);
    assert_string_equal(source_of(r.json, "critical_mttr_hours"), "tenant");
    assert_string_equal(source_of(r.json, "critical_mtta_minutes"), "template");
    http_free(&r);
    snprintf(path, sizeof(path), "/api/v1/sla/configs/acme/%s", id2);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    assert_false(json_is_true(json_object_get(r.json, "active")));
    http_free(&r);

    /* rename only: no recalculation */
    snprintf(path, sizeof(path), "/api/v1/sla/configs/acme/%s", id1);
    assert_int_equal(api(s, "PUT", path, ADMIN_TOKEN, "{\"name\":\"renamed\"}", &r), 200);
    assert_string_equal(jstr(r.json, "name"), "renamed");
    assert_int_equal(recalculated(&r), 0);
    http_free(&r);
    assert_int_equal(api(s, "PUT", path, ADMIN_TOKEN, "{\"template\":\"tin\"}", &r), 422);
    assert_error_shape(&r, "invalid", "template");
    http_free(&r);

    /* delete: 204, then 404; the live policy stays */
    assert_int_equal(api(s, "DELETE", path, ADMIN_TOKEN, NULL, NULL), 204);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "DELETE", path, ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/configs/acme/nonsense", ADMIN_TOKEN, NULL, NULL),
                     404);
    get_definition(s, "acme", NULL, &r);
    assert_definition(r.json, prem3);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/sla/configs/acme", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_sources, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_put_recalculates_open_not_resolved, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_put_out_of_range, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_project_layer, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_templates, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_configs, it_server_setup, it_server_teardown),
    };
    return cmocka_run_group_tests_name("definition", tests, NULL, NULL);
}
