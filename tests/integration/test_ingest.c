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
 *   - tenancy: an ingest token of one tenant never writes another's; size
 *     limits as for bulk (413).
 *
 * Generic integrations: test_ingest_generic.c; the real Alertmanager:
 * test_ingest_alertmanager.c. */
#include "ingest_common.h"

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
        cmocka_unit_test(test_size_limit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
