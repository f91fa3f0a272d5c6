/* Ingest from other tools and history import, through the real binary
 * (API.md "Ingest from other tools", "History import"):
 *
 *   - history: alerts (single and NDJSON bulk) created acknowledged and
 *     resolved in the past, an open alert past its deadline, findings
 *     created closed: judged (tracking, scorecard) and never told (a real
 *     webhook receiver gets nothing for them, while a live alert's breach
 *     does reach it);
 *   - Alertmanager bodies: ids, severity map (the contract's and a
 *     tenant's), resolve at endsAt, a new episode reopens, the same body
 *     twice changes nothing, errors by index, 400/415/422;
 *   - DefectDojo pages: flags to states, Info skipped, the same page twice,
 *     active again, a single finding, project_id;
 *   - generic integrations: the ready mappings of docs/integrations.md (read
 *     from the page itself) with the sample documents of samples/, errors
 *     naming the pointer, the tenant of a one-tenant token, integrations'
 *     CRUD and audit;
 *   - tenancy: an ingest token of one tenant never writes another's; size
 *     limits as for bulk (413). */
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
#include "harness_sinks.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define SECRET "whsec-ingest-0123456789"

/* ---- helpers ------------------------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ms → "2026-11-22T10:00:00.123Z" */
static char *iso(int64_t ms, char *buf)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 40, "%s.%03dZ", base, (int)(ms % 1000));
    return buf;
}

static long post(struct sw_server *s, const char *path, const char *token, const char *ctype,
                 const char *body, struct http_resp *out)
{
    struct http_resp r;
    http_req(s, "POST", path, token, ctype ? ctype : "application/json", body, strlen(body),
             out ? out : &r);
    long st = out ? out->status : r.status;
    if (!out)
        http_free(&r);
    return st;
}

static json_t *get_json(struct sw_server *s, const char *path, long want)
{
    struct http_resp r;
    long st = api(s, "GET", path, ADMIN_TOKEN, NULL, &r);
    if (st != want)
        fail_msg("GET %s answered %ld: %s", path, st, r.body ? r.body : "");
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* The answer's counts as "created/…/unchanged", errors as "index:field;…" */
static void assert_counts(struct http_resp *r, const char *const *keys, const long long *want)
{
    for (size_t i = 0; keys[i]; i++)
        if (jint(r->json, keys[i]) != want[i])
            fail_msg("%s: %lld, want %lld: %s", keys[i], jint(r->json, keys[i]), want[i],
                     r->body);
}

static void errors_of(struct http_resp *r, char *out, size_t len)
{
    out[0] = '\0';
    json_t *errs = json_object_get(r->json, "errors");
    for (size_t i = 0; i < json_array_size(errs); i++) {
        json_t *e = json_array_get(errs, i);
        size_t k = strlen(out);
        snprintf(out + k, len - k, "%s%lld:%s", k ? ";" : "", jint(e, "index"), jstr(e, "field"));
    }
}

/* A file of the source tree (SLAWATCH_SRC, set by CMake), malloc'd. */
static char *src_file(const char *rel)
{
    const char *root = getenv("SLAWATCH_SRC");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root ? root : "..", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The ```json block after "<!-- mapping: NAME -->" in docs/integrations.md. */
static char *doc_mapping(const char *name)
{
    char *doc = src_file("docs/integrations.md");
    char marker[96];
    snprintf(marker, sizeof(marker), "<!-- mapping: %s -->", name);
    char *m = strstr(doc, marker);
    if (!m)
        fail_msg("docs/integrations.md has no %s", marker);
    char *b = strstr(m, "```json\n");
    assert_non_null(b);
    b += 8;
    char *e = strstr(b, "```");
    assert_non_null(e);
    char *out = strndup(b, (size_t)(e - b));
    free(doc);
    return out;
}

static char *sample(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "tests/integration/samples/%s.json", name);
    return src_file(rel);
}

/* Requests the webhook receiver got about an item. */
static size_t hook_count_item(struct http_sink *h, const char *item)
{
    size_t n = 0;
    for (size_t i = 0; i < http_sink_count(h); i++) {
        struct sink_request q;
        if (!http_sink_get(h, i, &q))
            continue;
        json_t *j = json_loads(q.body, 0, NULL);
        n += !strcmp(jstr(j, "item_id"), item);
        json_decref(j);
        sink_request_free(&q);
    }
    return n;
}

/* The alert's or finding's events that are notices (sla.*). */
static int sla_events(struct sw_server *s, const char *kind, const char *tenant, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/%s/%s/events?tenant_id=%s", kind, id, tenant);
    json_t *j = get_json(s, path, 200);
    int n = 0;
    json_t *items = json_object_get(j, "items");
    for (size_t i = 0; i < json_array_size(items); i++)
        n += !strncmp(jstr(json_array_get(items, i), "type"), "sla.", 4);
    json_decref(j);
    return n;
}

static json_t *tracking(struct sw_server *s, const char *tenant, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=%s", id, tenant);
    return get_json(s, path, 200);
}

static json_t *finding(struct sw_server *s, const char *tenant, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/findings/%s?tenant_id=%s", id, tenant);
    return get_json(s, path, 200);
}

static void configure_hook(struct sw_server *s, const char *tenant, struct http_sink *h)
{
    char body[512], path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/configure", tenant);
    snprintf(body, sizeof(body),
             "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":"
             "[\"http://127.0.0.1:%d/hook\"]},\"thresholds\":[50,80,100],"
             "\"webhook_secret\":\"" SECRET "\"}", http_sink_port(h));
    assert_int_equal(api(s, "POST", path, ADMIN_TOKEN, body, NULL), 200);
}

/* ---- history import --------------------------------------------------------------------- */

static void test_history_import(void **state)
{
    struct sw_server *s = *state;
    struct http_sink *hook = http_sink_start(0);
    assert_non_null(hook);
    it_make_tenant(s, "hist");
    configure_hook(s, "hist", hook);
    char a[40], b[40], c[40], body[1024];
    struct http_resp r;
    int64_t now = wall_ms();

    /* critical: acknowledged after 20 min (ack breached), resolved after 2 h */
    snprintf(body, sizeof(body),
             "{\"id\":\"H-1\",\"tenant_id\":\"hist\",\"severity\":\"critical\",\"created_at\":"
             "\"%s\",\"acknowledged_at\":\"%s\",\"resolved_at\":\"%s\"}",
             iso(now - 10 * HOUR_MS, a), iso(now - 10 * HOUR_MS + 20 * MIN_MS, b),
             iso(now - 8 * HOUR_MS, c));
    assert_int_equal(post(s, "/api/v1/alerts", ADMIN_TOKEN, NULL, body, &r), 201);
    assert_string_equal(jstr(r.json, "state"), "resolved");
    assert_string_equal(jstr(r.json, "acknowledged_at"), b);
    assert_string_equal(jstr(r.json, "resolved_at"), c);
    assert_true(json_is_true(json_object_get(r.json, "ack_breached")));
    assert_false(json_is_true(json_object_get(r.json, "resolve_breached")));
    assert_true(json_is_null(json_object_get(r.json, "next_check_at")));
    http_free(&r);
    /* out of order: 422 naming the field */
    snprintf(body, sizeof(body),
             "{\"id\":\"H-2\",\"tenant_id\":\"hist\",\"severity\":\"low\",\"created_at\":"
             "\"%s\",\"acknowledged_at\":\"%s\",\"resolved_at\":\"%s\"}",
             iso(now - 10 * HOUR_MS, a), iso(now - 9 * HOUR_MS, b), iso(now - 10 * HOUR_MS, c));
    assert_int_equal(post(s, "/api/v1/alerts", ADMIN_TOKEN, NULL, body, &r), 422);
    assert_error_shape(&r, "invalid", "resolved_at");
    http_free(&r);
    snprintf(body, sizeof(body),
             "{\"id\":\"H-2\",\"tenant_id\":\"hist\",\"severity\":\"low\",\"created_at\":"
             "\"%s\",\"acknowledged_at\":\"%s\"}", iso(now - HOUR_MS, a), iso(now - DAY_MS, b));
    assert_int_equal(post(s, "/api/v1/alerts", ADMIN_TOKEN, NULL, body, &r), 422);
    assert_error_shape(&r, "invalid", "acknowledged_at");
    http_free(&r);

    /* bulk: 50 high alerts acknowledged after an hour (30 min: breached),
     * resolved after two (8 h: met) */
    enum { N = 50 };
    size_t cap = N * 300, len = 0;
    char *nd = malloc(cap);
    iso(now - 5 * HOUR_MS, a);
    iso(now - 4 * HOUR_MS, b);
    iso(now - 3 * HOUR_MS, c);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(nd + len, cap - len,
                                "{\"id\":\"B-%d\",\"tenant_id\":\"hist\",\"severity\":\"high\","
                                "\"created_at\":\"%s\",\"acknowledged_at\":\"%s\","
                                "\"resolved_at\":\"%s\"}\n", i, a, b, c);
    http_req(s, "POST", "/api/v1/alerts/bulk", ADMIN_TOKEN, "application/x-ndjson", nd, len, &r);
    free(nd);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "accepted"), N);
    http_free(&r);

    /* open, its ack deadline an hour before it reached us */
    snprintf(body, sizeof(body), "{\"id\":\"O-1\",\"tenant_id\":\"hist\",\"severity\":"
             "\"critical\",\"created_at\":\"%s\"}", iso(now - 75 * MIN_MS, a));
    assert_int_equal(post(s, "/api/v1/alerts", ADMIN_TOKEN, NULL, body, &r), 201);
    assert_true(json_is_true(json_object_get(r.json, "ack_breached")));
    http_free(&r);

    /* findings created closed: breached (high: 7 days) and in time */
    snprintf(body, sizeof(body), "{\"id\":\"F-1\",\"tenant_id\":\"hist\",\"severity\":\"high\","
             "\"discovered_at\":\"%s\",\"status\":\"closed\",\"closed_at\":\"%s\"}",
             iso(now - 10 * DAY_MS, a), iso(now - DAY_MS, b));
    assert_int_equal(post(s, "/api/v1/findings", ADMIN_TOKEN, NULL, body, &r), 201);
    assert_string_equal(jstr(r.json, "state"), "closed");
    assert_string_equal(jstr(r.json, "closed_at"), b);
    assert_true(json_is_true(json_object_get(r.json, "breached")));
    http_free(&r);
    snprintf(body, sizeof(body), "{\"id\":\"F-2\",\"tenant_id\":\"hist\",\"severity\":\"low\","
             "\"discovered_at\":\"%s\",\"status\":\"false_positive\"}", iso(now - DAY_MS, a));
    assert_int_equal(post(s, "/api/v1/findings", ADMIN_TOKEN, NULL, body, &r), 201);
    assert_string_equal(jstr(r.json, "state"), "false_positive");
    http_free(&r);
    snprintf(body, sizeof(body), "{\"id\":\"F-3\",\"tenant_id\":\"hist\",\"severity\":\"low\","
             "\"discovered_at\":\"%s\",\"status\":\"closed\",\"closed_at\":\"%s\"}",
             iso(now - DAY_MS, a), iso(now - 2 * DAY_MS, b));
    assert_int_equal(post(s, "/api/v1/findings", ADMIN_TOKEN, NULL, body, &r), 422);
    assert_error_shape(&r, "invalid", "closed_at");
    http_free(&r);
    snprintf(body, sizeof(body), "{\"id\":\"F-3\",\"tenant_id\":\"hist\",\"severity\":\"low\","
             "\"status\":\"paused\"}");
    assert_int_equal(post(s, "/api/v1/findings", ADMIN_TOKEN, NULL, body, &r), 422);
    assert_error_shape(&r, "invalid", "status");
    http_free(&r);

    /* the control: a live alert due 1.5 s from now is told */
    snprintf(body, sizeof(body), "{\"id\":\"L-1\",\"tenant_id\":\"hist\",\"severity\":"
             "\"critical\",\"created_at\":\"%s\"}", iso(wall_ms() + 1500 - 15 * MIN_MS, a));
    assert_int_equal(post(s, "/api/v1/alerts", ADMIN_TOKEN, NULL, body, NULL), 201);
    int64_t until = wall_ms() + 8000;
    while (hook_count_item(hook, "L-1") < 1 && wall_ms() < until)
        sleep_ms(50);
    assert_int_equal(hook_count_item(hook, "L-1"), 1);
    sleep_ms(1000);
    /* the history: nothing told, ever */
    assert_int_equal(http_sink_count(hook), 1);
    assert_int_equal(sla_events(s, "alerts", "hist", "H-1"), 0);
    assert_int_equal(sla_events(s, "alerts", "hist", "B-7"), 0);
    assert_int_equal(sla_events(s, "alerts", "hist", "O-1"), 0);
    assert_int_equal(sla_events(s, "findings", "hist", "F-1"), 0);

    /* judged and counted: the scorecard holds the imported clocks */
    json_t *sc = get_json(s, "/api/v1/sla/scorecard?tenant_id=hist&days=30", 200);
    for (size_t i = 0; i < json_array_size(sc); i++) {
        json_t *it = json_array_get(sc, i);
        if (!strcmp(jstr(it, "severity"), "high")) {
            assert_int_equal(jint(it, "total"), 2 * N);
            assert_int_equal(jint(it, "breached"), N);
        } else if (!strcmp(jstr(it, "severity"), "critical")) {
            assert_int_equal(jint(it, "total"), 2);
            assert_int_equal(jint(it, "breached"), 1);
        }
    }
    json_decref(sc);
    /* and the open one is an active breach */
    json_t *br = get_json(s, "/api/v1/sla/breaches?tenant_id=hist", 200);
    bool seen = false;
    for (size_t i = 0; i < json_array_size(br); i++)
        seen |= !strcmp(jstr(json_array_get(br, i), "alert_id"), "O-1") &&
                !strcmp(jstr(json_array_get(br, i), "status"), "breached");
    assert_true(seen);
    json_decref(br);
    http_sink_stop(hook);
}

/* ---- Alertmanager -------------------------------------------------------------------------- */

/* An Alertmanager alert object. */
static void am_alert(char *out, size_t len, const char *fp, const char *status, const char *sev,
                     const char *summary, int64_t starts, int64_t ends)
{
    char a[40], b[40], labels[200], ann[200];
    snprintf(labels, sizeof(labels), "{\"alertname\":\"Alert%s\",\"job\":\"node\"%s%s%s}", fp,
             sev ? ",\"severity\":\"" : "", sev ? sev : "", sev ? "\"" : "");
    snprintf(ann, sizeof(ann), summary ? "{\"summary\":\"%s\"}" : "{}", summary);
    snprintf(out, len,
             "{\"status\":\"%s\",\"labels\":%s,\"annotations\":%s,\"startsAt\":\"%s\","
             "\"endsAt\":\"%s\",\"generatorURL\":\"http://prometheus:9090/graph\","
             "\"fingerprint\":\"%s\"}", status, labels, ann, iso(starts, a),
             ends ? iso(ends, b) : "0001-01-01T00:00:00Z", fp);
}

static char *am_body(const char *status, const char *alerts)
{
    char *out = malloc(strlen(alerts) + 512);
    sprintf(out, "{\"receiver\":\"slawatch\",\"status\":\"%s\",\"alerts\":[%s],\"groupLabels\":"
            "{},\"commonLabels\":{},\"commonAnnotations\":{},\"externalURL\":"
            "\"http://alertmanager:9093\",\"version\":\"4\",\"groupKey\":\"{}:{}\","
            "\"truncatedAlerts\":0}", status, alerts);
    return out;
}

static const char *const AM_KEYS[] = {"created", "resolved", "reopened", "unchanged", NULL};

static void test_alertmanager(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "am");
    it_make_tenant(s, "other");
    char tok[128], viewer[128], other[128];
    it_make_token(s, "ingest", "am", tok, sizeof(tok));
    it_make_token(s, "viewer", "am", viewer, sizeof(viewer));
    it_make_token(s, "ingest", "other", other, sizeof(other));
    int64_t now = wall_ms();
    char x[5][1024], all[6000], errs[256];
    am_alert(x[0], sizeof(x[0]), "f1", "firing", "critical", "Disk full on db1", now - 2 * MIN_MS,
             0);
    am_alert(x[1], sizeof(x[1]), "f2", "resolved", "warning", NULL, now - 3 * HOUR_MS,
             now - 2 * HOUR_MS);
    am_alert(x[2], sizeof(x[2]), "f3", "firing", NULL, "no severity", now - MIN_MS, 0);
    snprintf(x[3], sizeof(x[3]), "{\"status\":\"firing\",\"labels\":{},\"startsAt\":\"later\","
             "\"fingerprint\":\"bad\"}");
    am_alert(x[4], sizeof(x[4]), "f4", "firing", "error", "an error", now - MIN_MS, 0);
    snprintf(all, sizeof(all), "%s,%s,%s,%s,%s", x[0], x[1], x[2], x[3], x[4]);
    char *body = am_body("firing", all);
    const char *path = "/api/v1/ingest/alertmanager?tenant_id=am";
    struct http_resp r;
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){4, 0, 0, 0});
    errors_of(&r, errs, sizeof(errs));
    assert_string_equal(errs, "3:/startsAt");
    http_free(&r);
    /* the same body again: nothing */
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){0, 0, 0, 4});
    http_free(&r);
    free(body);

    json_t *t = tracking(s, "am", "am-f1");
    assert_string_equal(jstr(t, "severity"), "critical");
    assert_string_equal(jstr(t, "title"), "Disk full on db1");
    assert_string_equal(jstr(t, "source"), "alertmanager");
    assert_string_equal(jstr(t, "state"), "open");
    char a[40];
    assert_string_equal(jstr(t, "created_at"), iso(now - 2 * MIN_MS, a));
    json_decref(t);
    t = tracking(s, "am", "am-f2");
    assert_string_equal(jstr(t, "severity"), "medium");
    assert_string_equal(jstr(t, "title"), "Alertf2");
    assert_string_equal(jstr(t, "state"), "resolved");
    assert_string_equal(jstr(t, "resolved_at"), iso(now - 2 * HOUR_MS, a));
    json_decref(t);
    t = tracking(s, "am", "am-f3");
    assert_string_equal(jstr(t, "severity"), "low");
    json_decref(t);
    t = tracking(s, "am", "am-f4");
    assert_string_equal(jstr(t, "severity"), "high");
    json_decref(t);

    /* f1 resolved, then the repeat, then a new episode */
    am_alert(x[0], sizeof(x[0]), "f1", "resolved", "critical", "Disk full on db1",
             now - 2 * MIN_MS, now - MIN_MS);
    body = am_body("resolved", x[0]);
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){0, 1, 0, 0});
    http_free(&r);
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){0, 0, 0, 1});
    http_free(&r);
    free(body);
    t = tracking(s, "am", "am-f1");
    assert_string_equal(jstr(t, "state"), "resolved");
    assert_string_equal(jstr(t, "resolved_at"), iso(now - MIN_MS, a));
    json_decref(t);
    /* the old episode still firing (a late repeat): nothing */
    am_alert(x[0], sizeof(x[0]), "f1", "firing", "critical", NULL, now - 2 * MIN_MS, 0);
    body = am_body("firing", x[0]);
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){0, 0, 0, 1});
    http_free(&r);
    free(body);
    am_alert(x[0], sizeof(x[0]), "f1", "firing", "critical", NULL, now - 20 * 1000, 0);
    body = am_body("firing", x[0]);
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){0, 0, 1, 0});
    http_free(&r);
    free(body);
    t = tracking(s, "am", "am-f1");
    assert_string_equal(jstr(t, "state"), "open");
    json_decref(t);

    /* the tenant's own severity map */
    assert_int_equal(api(s, "PUT", "/api/v1/tenants/am/integrations/alertmanager", ADMIN_TOKEN,
                         "{\"kind\":\"alertmanager\",\"mapping\":{\"severity\":{\"pointer\":"
                         "\"/labels/priority\",\"map\":{\"P1\":\"critical\"},\"default\":"
                         "\"medium\"}}}", &r), 200);
    assert_string_equal(jstr(r.json, "kind"), "alertmanager");
    http_free(&r);
    snprintf(all, sizeof(all),
             "{\"status\":\"firing\",\"labels\":{\"alertname\":\"P\",\"priority\":\"P1\"},"
             "\"startsAt\":\"%s\",\"fingerprint\":\"p1\"},{\"status\":\"firing\",\"labels\":"
             "{\"alertname\":\"Q\",\"severity\":\"critical\"},\"startsAt\":\"%s\","
             "\"fingerprint\":\"q1\"}", iso(now, a), a);
    body = am_body("firing", all);
    assert_int_equal(post(s, path, tok, NULL, body, &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){2, 0, 0, 0});
    http_free(&r);
    free(body);
    t = tracking(s, "am", "am-p1");
    assert_string_equal(jstr(t, "severity"), "critical");
    json_decref(t);
    t = tracking(s, "am", "am-q1");
    assert_string_equal(jstr(t, "severity"), "medium");
    json_decref(t);

    /* errors: malformed, not JSON, not a webhook, nothing maps */
    assert_int_equal(post(s, path, tok, NULL, "{\"alerts\":[", &r), 400);
    assert_error_shape(&r, "bad_request", NULL);
    http_free(&r);
    assert_int_equal(post(s, path, tok, "text/plain", "{\"alerts\":[]}", &r), 415);
    http_free(&r);
    assert_int_equal(post(s, path, tok, NULL, "{\"alerts\":5}", &r), 422);
    assert_error_shape(&r, "invalid", "/alerts");
    http_free(&r);
    assert_int_equal(post(s, path, tok, NULL, "{\"version\":\"3\",\"alerts\":[]}", &r), 422);
    assert_error_shape(&r, "invalid", "/version");
    http_free(&r);
    body = am_body("firing", x[3]);
    assert_int_equal(post(s, path, tok, NULL, body, &r), 422);
    assert_error_shape(&r, "invalid", "/alerts/0/startsAt");
    errors_of(&r, errs, sizeof(errs));
    assert_string_equal(errs, "0:/startsAt");
    http_free(&r);
    free(body);
    assert_int_equal(post(s, path, tok, NULL, "{\"version\":\"4\",\"alerts\":[]}", &r), 200);
    assert_counts(&r, AM_KEYS, (long long[]){0, 0, 0, 0});
    http_free(&r);

    /* tenancy: another tenant's ingest token, a viewer, no token */
    am_alert(x[0], sizeof(x[0]), "zz", "firing", "critical", NULL, now, 0);
    body = am_body("firing", x[0]);
    assert_int_equal(post(s, path, other, NULL, body, &r), 404);
    http_free(&r);
    assert_int_equal(post(s, path, viewer, NULL, body, &r), 403);
    http_free(&r);
    assert_int_equal(post(s, path, NULL, NULL, body, &r), 401);
    http_free(&r);
    free(body);
    assert_int_equal(api(s, "GET", "/api/v1/sla/alerts/am-zz/tracking?tenant_id=am",
                         ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/sla/alerts/am-zz/tracking?tenant_id=other",
                         ADMIN_TOKEN, NULL, NULL), 404);
}

/* ---- DefectDojo ---------------------------------------------------------------------------- */

static void dd_finding(char *out, size_t len, int id, const char *sev, const char *date,
                       const char *flags, const char *mitigated, const char *updated)
{
    char m[64] = "null", u[64] = "null";
    if (mitigated)
        snprintf(m, sizeof(m), "\"%s\"", mitigated);
    if (updated)
        snprintf(u, sizeof(u), "\"%s\"", updated);
    snprintf(out, len,
             "{\"id\":%d,\"title\":\"Finding %d\",\"severity\":\"%s\",\"date\":\"%.10s\","
             "\"sla_start_date\":null,\"test\":12,\"found_by\":[3],\"verified\":true,"
             "\"duplicate\":false,%s,\"mitigated\":%s,\"last_status_update\":%s,"
             "\"description\":\"multi\\nline\"}", id, id, sev, date, flags, m, u);
}

static const char *const DD_KEYS[] = {"created", "updated", "closed", "unchanged", NULL};
#define ACTIVE "\"active\":true,\"false_p\":false,\"risk_accepted\":false,\"out_of_scope\":false,\"is_mitigated\":false"
#define MITIGATED "\"active\":false,\"false_p\":false,\"risk_accepted\":false,\"out_of_scope\":false,\"is_mitigated\":true"
#define FALSE_P "\"active\":false,\"false_p\":true,\"risk_accepted\":false,\"out_of_scope\":false,\"is_mitigated\":false"
#define INACTIVE "\"active\":false,\"false_p\":false,\"risk_accepted\":false,\"out_of_scope\":false,\"is_mitigated\":false"

static void test_defectdojo(void **state)
{
    struct sw_server *s = *state;
    struct http_sink *hook = http_sink_start(0);
    it_make_tenant(s, "dd");
    configure_hook(s, "dd", hook);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/dd/projects", ADMIN_TOKEN,
                         "{\"id\":\"web\",\"name\":\"Web\"}", NULL), 201);
    char tok[128];
    it_make_token(s, "ingest", "dd", tok, sizeof(tok));
    int64_t now = wall_ms();
    char d20[40], d10[40], m2[40], f[6][700], page[6000], errs[256], u[40];
    iso(now - 20 * DAY_MS, d20);
    iso(now - 10 * DAY_MS, d10);
    iso(now - 2 * DAY_MS, m2);
    dd_finding(f[0], sizeof(f[0]), 1, "High", d20, ACTIVE, NULL, d20);
    dd_finding(f[1], sizeof(f[1]), 2, "Critical", d10, MITIGATED, m2, m2);
    dd_finding(f[2], sizeof(f[2]), 3, "Medium", d10, FALSE_P, NULL, m2);
    dd_finding(f[3], sizeof(f[3]), 4, "Info", d10, ACTIVE, NULL, NULL);
    dd_finding(f[4], sizeof(f[4]), 5, "Low", d10, INACTIVE, NULL, NULL);
    dd_finding(f[5], sizeof(f[5]), 6, "Severe", d10, ACTIVE, NULL, NULL);
    snprintf(page, sizeof(page), "{\"count\":6,\"next\":null,\"previous\":null,\"results\":"
             "[%s,%s,%s,%s,%s,%s]}", f[0], f[1], f[2], f[3], f[4], f[5]);
    const char *path = "/api/v1/ingest/defectdojo?tenant_id=dd&project_id=web";
    struct http_resp r;
    assert_int_equal(post(s, path, tok, NULL, page, &r), 200);
    assert_counts(&r, DD_KEYS, (long long[]){3, 0, 0, 2});
    errors_of(&r, errs, sizeof(errs));
    assert_string_equal(errs, "5:/severity");
    http_free(&r);
    json_t *x = finding(s, "dd", "dd-1");
    assert_string_equal(jstr(x, "state"), "open");
    assert_string_equal(jstr(x, "project_id"), "web");
    assert_string_equal(jstr(x, "title"), "Finding 1");
    assert_true(json_is_true(json_object_get(x, "breached")));     /* 20 days, 7 allowed */
    json_decref(x);
    x = finding(s, "dd", "dd-2");
    assert_string_equal(jstr(x, "state"), "closed");
    assert_string_equal(jstr(x, "closed_at"), m2);
    json_decref(x);
    x = finding(s, "dd", "dd-3");
    assert_string_equal(jstr(x, "state"), "false_positive");
    json_decref(x);
    assert_int_equal(api(s, "GET", "/api/v1/findings/dd-4?tenant_id=dd", ADMIN_TOKEN, NULL,
                         NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/findings/dd-5?tenant_id=dd", ADMIN_TOKEN, NULL,
                         NULL), 404);

    /* the same page again */
    assert_int_equal(post(s, path, tok, NULL, page, &r), 200);
    assert_counts(&r, DD_KEYS, (long long[]){0, 0, 0, 5});
    http_free(&r);

    /* DefectDojo moves: 1 mitigated, 3 active again, 2 rated Low (closed:
     * stays), 5 still no verdict */
    iso(now - HOUR_MS, u);
    dd_finding(f[0], sizeof(f[0]), 1, "High", d20, MITIGATED, u, u);
    iso(now, u);
    dd_finding(f[2], sizeof(f[2]), 3, "Medium", d10, ACTIVE, NULL, u);
    dd_finding(f[1], sizeof(f[1]), 2, "Low", d10, MITIGATED, m2, m2);
    snprintf(page, sizeof(page), "{\"results\":[%s,%s,%s,%s]}", f[0], f[1], f[2], f[4]);
    assert_int_equal(post(s, path, tok, NULL, page, &r), 200);
    assert_counts(&r, DD_KEYS, (long long[]){0, 1, 1, 2});
    http_free(&r);
    x = finding(s, "dd", "dd-1");
    assert_string_equal(jstr(x, "state"), "closed");
    json_decref(x);
    x = finding(s, "dd", "dd-3");
    assert_string_equal(jstr(x, "state"), "open");
    json_decref(x);

    /* one finding alone; without project_id */
    dd_finding(f[0], sizeof(f[0]), 7, "Critical", d10, ACTIVE, NULL, NULL);
    assert_int_equal(post(s, "/api/v1/ingest/defectdojo?tenant_id=dd", tok, NULL, f[0], &r),
                     200);
    assert_counts(&r, DD_KEYS, (long long[]){1, 0, 0, 0});
    http_free(&r);
    x = finding(s, "dd", "dd-7");
    assert_true(json_is_null(json_object_get(x, "project_id")));
    json_decref(x);

    /* bodies that do not map */
    assert_int_equal(post(s, path, tok, NULL, "{\"results\":{}}", &r), 422);
    assert_error_shape(&r, "invalid", "/results");
    http_free(&r);
    assert_int_equal(post(s, path, tok, NULL, "[]", &r), 422);
    http_free(&r);
    snprintf(page, sizeof(page), "{\"results\":[%s]}", f[5]);
    assert_int_equal(post(s, path, tok, NULL, page, &r), 422);
    assert_error_shape(&r, "invalid", "/results/0/severity");
    http_free(&r);
    dd_finding(f[0], sizeof(f[0]), 8, "Low", d10, ACTIVE, NULL, NULL);
    assert_int_equal(post(s, "/api/v1/ingest/defectdojo?tenant_id=dd&project_id=nope", tok,
                          NULL, f[0], &r), 422);
    assert_true(strstr(r.body, "project not found") != NULL);
    http_free(&r);

    /* history: nothing told (dd-1 breached 13 days before it reached us) */
    sleep_ms(1000);
    assert_int_equal(http_sink_count(hook), 0);
    assert_int_equal(sla_events(s, "findings", "dd", "dd-1"), 0);
    http_sink_stop(hook);
}

/* ---- generic integrations ------------------------------------------------------------------- */

static const char *const GEN_KEYS[] = {"created", "updated", "unchanged", NULL};

static void put_integration(struct sw_server *s, const char *tenant, const char *id,
                            const char *body)
{
    char path[256];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/tenants/%s/integrations/%s", tenant, id);
    long st = api(s, "PUT", path, ADMIN_TOKEN, body, &r);
    if (st != 200)
        fail_msg("PUT %s: %ld %s", path, st, r.body);
    assert_string_equal(jstr(r.json, "id"), id);
    http_free(&r);
}

static void test_generic_samples(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "gen");
    it_make_tenant(s, "gen2");
    char tok[128];
    it_make_token(s, "ingest", "gen", tok, sizeof(tok));
    static const struct {
        const char *name;
        int n;
    } tools[] = {{"elastic", 2}, {"wazuh", 1}, {"thehive", 1}, {"splunk", 1}};
    struct http_resp r;
    char path[256];
    for (size_t i = 0; i < 4; i++) {
        char *m = doc_mapping(tools[i].name);
        put_integration(s, "gen", tools[i].name, m);
        free(m);
        char *doc = sample(tools[i].name);
        /* the ingest token's own tenant: no tenant_id needed */
        snprintf(path, sizeof(path), "/api/v1/ingest/generic/%s", tools[i].name);
        assert_int_equal(post(s, path, tok, NULL, doc, &r), 200);
        assert_counts(&r, GEN_KEYS, (long long[]){tools[i].n, 0, 0});
        assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 0);
        http_free(&r);
        assert_int_equal(post(s, path, tok, NULL, doc, &r), 200);
        assert_counts(&r, GEN_KEYS, (long long[]){0, 0, tools[i].n});
        http_free(&r);
        free(doc);
    }
    static const struct {
        const char *id, *sev, *state, *title, *source, *created, *ack, *res;
    } want[] = {
        {"5e2f0c9a7b1d4e6f8a3c2b1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f", "high",
         "acknowledged", "Suspicious PowerShell Encoded Command", "elastic",
         "2024-03-05T09:12:44.120Z", "2024-03-05T09:40:02.000Z", NULL},
        {"9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b", "critical",
         "resolved", "Credential Dumping via LSASS Access", "elastic",
         "2024-03-05T11:02:10.501Z", NULL, "2024-03-05T17:30:00.000Z"},
        {"1709629964.1234567", "critical", "open",
         "sshd: brute force trying to get access to the system. Authentication failed.",
         "wazuh", "2024-03-05T09:12:44.123Z", NULL, NULL},
        {"~41112", "high", "acknowledged", "Phishing email reported by finance", "SIEM",
         "2024-03-05T09:12:44.000Z", "2024-03-05T09:30:00.000Z", NULL},
        {"scheduler__admin__search__RMD5e3b0c44298fc1c14_at_1709629964_1234", "critical",
         "open", "Brute force from a single source", "splunk", "2024-03-05T09:12:44.000Z",
         NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        json_t *t = tracking(s, "gen", want[i].id);
        assert_string_equal(jstr(t, "severity"), want[i].sev);
        assert_string_equal(jstr(t, "state"), want[i].state);
        assert_string_equal(jstr(t, "title"), want[i].title);
        assert_string_equal(jstr(t, "source"), want[i].source);
        assert_string_equal(jstr(t, "created_at"), want[i].created);
        if (want[i].ack)
            assert_string_equal(jstr(t, "acknowledged_at"), want[i].ack);
        if (want[i].res)
            assert_string_equal(jstr(t, "resolved_at"), want[i].res);
        /* years old: breached, never told */
        assert_true(json_is_true(json_object_get(t, "ack_breached")) ||
                    !strcmp(want[i].state, "acknowledged"));
        json_decref(t);
        assert_int_equal(sla_events(s, "alerts", "gen", want[i].id), 0);
    }

    /* Elastic: the analyst closes the first alert */
    char *doc = sample("elastic");
    json_t *arr = json_loads(doc, 0, NULL);
    free(doc);
    json_t *first = json_array_get(arr, 0);
    json_object_set_new(first, "kibana.alert.workflow_status", json_string("closed"));
    json_object_set_new(first, "kibana.alert.workflow_status_updated_at",
                        json_string("2024-03-06T08:00:00.000Z"));
    doc = json_dumps(arr, 0);
    assert_int_equal(post(s, "/api/v1/ingest/generic/elastic", tok, NULL, doc, &r), 200);
    assert_counts(&r, GEN_KEYS, (long long[]){0, 1, 1});
    http_free(&r);
    free(doc);
    json_t *t = tracking(s, "gen", want[0].id);
    assert_string_equal(jstr(t, "state"), "resolved");
    assert_string_equal(jstr(t, "resolved_at"), "2024-03-06T08:00:00.000Z");
    json_decref(t);

    /* a document that does not map: 422 naming the pointer; in an array,
     * the index */
    json_object_set_new(first, "kibana.alert.uuid", json_string("new-1"));
    json_object_set_new(first, "kibana.alert.severity", json_string("extreme"));
    doc = json_dumps(first, 0);
    assert_int_equal(post(s, "/api/v1/ingest/generic/elastic", tok, NULL, doc, &r), 422);
    assert_error_shape(&r, "invalid", "/kibana.alert.severity");
    http_free(&r);
    free(doc);
    json_t *second = json_array_get(arr, 1);
    json_object_set_new(second, "kibana.alert.uuid", json_string("new-2"));
    doc = json_dumps(arr, 0);
    assert_int_equal(post(s, "/api/v1/ingest/generic/elastic", tok, NULL, doc, &r), 200);
    assert_counts(&r, GEN_KEYS, (long long[]){1, 0, 0});
    char errs[256];
    errors_of(&r, errs, sizeof(errs));
    assert_string_equal(errs, "0:/kibana.alert.severity");
    http_free(&r);
    free(doc);
    json_decref(arr);
    /* valid JSON, not a document: 422 (not 400) */
    assert_int_equal(post(s, "/api/v1/ingest/generic/elastic", tok, NULL, "\"x\"", &r), 422);
    http_free(&r);
    assert_int_equal(post(s, "/api/v1/ingest/generic/elastic", tok, NULL, "{", &r), 400);
    http_free(&r);

    /* tenants: the token's own; another tenant's integration of the same
     * name is out of its reach; a platform admin names the tenant */
    char *m = doc_mapping("wazuh");
    put_integration(s, "gen2", "wazuh", m);
    free(m);
    doc = sample("wazuh");
    assert_int_equal(post(s, "/api/v1/ingest/generic/wazuh?tenant_id=gen2", tok, NULL, doc,
                          &r), 404);
    http_free(&r);
    assert_int_equal(post(s, "/api/v1/ingest/generic/wazuh", ADMIN_TOKEN, NULL, doc, &r), 422);
    assert_error_shape(&r, "invalid", "tenant_id");
    http_free(&r);
    assert_int_equal(post(s, "/api/v1/ingest/generic/wazuh?tenant_id=gen2", ADMIN_TOKEN, NULL,
                          doc, &r), 200);
    assert_counts(&r, GEN_KEYS, (long long[]){1, 0, 0});
    http_free(&r);
    free(doc);
    assert_int_equal(post(s, "/api/v1/ingest/generic/nope", tok, NULL, "{}", &r), 404);
    http_free(&r);

    /* integrations: checked mappings, kinds, list, audit, delete */
    assert_int_equal(api(s, "PUT", "/api/v1/tenants/gen/integrations/bad", ADMIN_TOKEN,
                         "{\"kind\":\"generic\",\"mapping\":{\"id\":\"/i\",\"severity\":"
                         "{\"pointer\":\"/s\",\"map\":{\"x\":\"severe\"}}}}", &r), 422);
    assert_error_shape(&r, "invalid", "mapping.severity.map.x");
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/tenants/gen/integrations/bad", ADMIN_TOKEN,
                         "{\"kind\":\"splunk\",\"mapping\":{}}", &r), 422);
    assert_error_shape(&r, "invalid", "kind");
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/tenants/gen/integrations/am2", ADMIN_TOKEN,
                         "{\"kind\":\"alertmanager\"}", &r), 422);
    http_free(&r);
    assert_int_equal(api(s, "PUT", "/api/v1/tenants/gen/integrations/alertmanager", ADMIN_TOKEN,
                         "{\"kind\":\"alertmanager\"}", &r), 200);
    http_free(&r);
    assert_int_equal(post(s, "/api/v1/ingest/generic/alertmanager", tok, NULL, "{}", &r), 422);
    assert_error_shape(&r, "invalid", "integration_id");
    http_free(&r);
    json_t *l = get_json(s, "/api/v1/tenants/gen/integrations", 200);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 5);
    json_decref(l);
    l = get_json(s, "/api/v1/tenants/gen/integrations/splunk", 200);
    assert_string_equal(jstr(l, "ingest_path"), "/api/v1/ingest/generic/splunk");
    assert_string_equal(jstr(json_object_get(json_object_get(l, "mapping"), "severity"),
                             "default"), "medium");
    json_decref(l);
    l = get_json(s, "/api/v1/audit?tenant_id=gen&action=integration.update", 200);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 5);
    json_decref(l);
    assert_int_equal(api(s, "DELETE", "/api/v1/tenants/gen/integrations/splunk", ADMIN_TOKEN,
                         NULL, NULL), 204);
    assert_int_equal(api(s, "DELETE", "/api/v1/tenants/gen/integrations/splunk", ADMIN_TOKEN,
                         NULL, NULL), 404);
    doc = sample("splunk");
    assert_int_equal(post(s, "/api/v1/ingest/generic/splunk", tok, NULL, doc, &r), 404);
    http_free(&r);
    free(doc);
    /* the ingest token may not configure */
    struct http_resp q;
    const char *am_kind = "{\"kind\":\"alertmanager\"}";
    http_req(s, "PUT", "/api/v1/tenants/gen/integrations/x", tok, NULL, am_kind,
             strlen(am_kind), &q);
    assert_int_equal(q.status, 403);
    http_free(&q);
}

/* ---- size limits ---------------------------------------------------------------------------------- */

static void test_size_limit(void **state)
{
    (void)state;
    struct sw_server s;
    const char *env[] = {"SLAWATCH_MAX_BULK_BYTES=2097152", NULL};
    srv_init(&s);
    srv_start(&s, NULL, env);
    it_make_tenant(&s, "big");
    size_t n = 3u << 20;
    char *body = malloc(n + 1);
    memset(body, ' ', n);
    memcpy(body, "{\"alerts\":[", 11);
    memcpy(body + n - 2, "]}", 2);
    body[n] = '\0';
    static const char *const paths[] = {"/api/v1/ingest/alertmanager?tenant_id=big",
                                        "/api/v1/ingest/defectdojo?tenant_id=big",
                                        "/api/v1/ingest/generic/x?tenant_id=big"};
    for (size_t i = 0; i < 3; i++) {
        struct http_resp r;
        assert_int_equal(post(&s, paths[i], ADMIN_TOKEN, NULL, body, &r), 413);
        assert_error_shape(&r, "too_large", NULL);
        http_free(&r);
    }
    /* under the limit, above max_body_bytes (1 MiB): accepted */
    body[(3u << 19) - 2] = ']';
    body[(3u << 19) - 1] = '}';
    body[3u << 19] = '\0';
    struct http_resp r;
    assert_int_equal(post(&s, paths[0], ADMIN_TOKEN, NULL, body, &r), 200);
    http_free(&r);
    free(body);
    assert_int_equal(srv_stop(&s), 0);
    srv_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_import, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_alertmanager, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_defectdojo, it_server_setup, it_server_teardown),
        cmocka_unit_test_setup_teardown(test_generic_samples, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test(test_size_limit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
