/* Generic integrations through the real binary (API.md "Ingest from other
 * tools", docs/integrations.md "Generic integrations"):
 *
 *   - the ready mappings of docs/integrations.md (read from the page itself)
 *     with the sample documents of samples/ (Elastic Security, Wazuh,
 *     TheHive 4, Splunk): every field as the page says, the same documents
 *     twice change nothing, a later workflow state moves the alert, errors
 *     naming the pointer, the tenant of a one-tenant token, integrations'
 *     CRUD and audit;
 *   - the page's mapping of findings (a scanner's export): project, history (closed,
 *     accepted risk) judged and never told, the same export twice, a fix
 *     that closes a finding, an unknown project reported by index. */
#include "ingest_common.h"

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

/* ---- a mapping of findings ------------------------------------------------------------ */

static void scan_doc(char *out, size_t len, const char *key, const char *sev,
                     const char *project, int64_t found_ms, const char *status,
                     int64_t status_ms)
{
    snprintf(out, len,
             "{\"key\":\"%s\",\"sev\":\"%s\",\"name\":\"Vulnerable %s\",\"project\":"
             "\"%s\",\"found\":%lld,\"status\":\"%s\",\"status_at\":%lld}", key, sev, key,
             project, (long long)(found_ms / 1000), status, (long long)(status_ms / 1000));
}

static void test_generic_findings(void **state)
{
    struct sw_server *s = *state;
    struct http_sink *hook = http_sink_start(0);
    assert_non_null(hook);
    it_make_tenant(s, "scan");
    configure_hook(s, "scan", hook);
    assert_int_equal(api(s, "POST", "/api/v1/tenants/scan/projects", ADMIN_TOKEN,
                         "{\"id\":\"api\",\"name\":\"API\"}", NULL), 201);
    char *m = doc_mapping("scanner");
    put_integration(s, "scan", "scanner", m);
    free(m);
    char tok[128];
    it_make_token(s, "ingest", "scan", tok, sizeof(tok));
    int64_t now = wall_ms() / 1000 * 1000;
    char d[5][400], body[2400], a[40];
    /* high, open 20 days (7 allowed: breached before it reached us) */
    scan_doc(d[0], sizeof(d[0]), "S-1", "HIGH", "api", now - 20 * DAY_MS, "open",
             now - 20 * DAY_MS);
    /* critical, fixed 2 days after it was found */
    scan_doc(d[1], sizeof(d[1]), "S-2", "CRITICAL", "api", now - 10 * DAY_MS, "fixed",
             now - 8 * DAY_MS);
    /* accepted risk */
    scan_doc(d[2], sizeof(d[2]), "S-3", "LOW", "api", now - 5 * DAY_MS, "wontfix",
             now - 4 * DAY_MS);
    /* open, found an hour ago: in time */
    scan_doc(d[3], sizeof(d[3]), "S-4", "MEDIUM", "api", now - HOUR_MS, "open", now - HOUR_MS);
    /* a project the tenant does not have */
    scan_doc(d[4], sizeof(d[4]), "S-5", "LOW", "nope", now - HOUR_MS, "open", now - HOUR_MS);
    snprintf(body, sizeof(body), "[%s,%s,%s,%s,%s]", d[0], d[1], d[2], d[3], d[4]);
    struct http_resp r;
    char errs[256];
    assert_int_equal(post(s, "/api/v1/ingest/generic/scanner", tok, NULL, body, &r), 200);
    assert_counts(&r, GEN_KEYS, (long long[]){4, 0, 0});
    errors_of(&r, errs, sizeof(errs));
    assert_string_equal(errs, "4:");
    assert_true(strstr(r.body, "project not found") != NULL);
    http_free(&r);

    json_t *x = finding(s, "scan", "S-1");
    assert_string_equal(jstr(x, "state"), "open");
    assert_string_equal(jstr(x, "project_id"), "api");
    assert_string_equal(jstr(x, "severity"), "high");
    assert_string_equal(jstr(x, "title"), "Vulnerable S-1");
    assert_string_equal(jstr(x, "discovered_at"), iso(now - 20 * DAY_MS, a));
    assert_true(json_is_true(json_object_get(x, "breached")));
    json_decref(x);
    x = finding(s, "scan", "S-2");
    assert_string_equal(jstr(x, "state"), "closed");
    assert_string_equal(jstr(x, "closed_at"), iso(now - 8 * DAY_MS, a));
    assert_false(json_is_true(json_object_get(x, "breached")));
    json_decref(x);
    x = finding(s, "scan", "S-3");
    assert_string_equal(jstr(x, "state"), "accepted_risk");
    json_decref(x);
    x = finding(s, "scan", "S-4");
    assert_false(json_is_true(json_object_get(x, "breached")));
    json_decref(x);
    assert_int_equal(api(s, "GET", "/api/v1/findings/S-5?tenant_id=scan", ADMIN_TOKEN, NULL,
                         NULL), 404);

    /* the same export again: nothing */
    snprintf(body, sizeof(body), "[%s,%s,%s,%s]", d[0], d[1], d[2], d[3]);
    assert_int_equal(post(s, "/api/v1/ingest/generic/scanner", tok, NULL, body, &r), 200);
    assert_counts(&r, GEN_KEYS, (long long[]){0, 0, 4});
    http_free(&r);

    /* the next scan: S-1 fixed now; one object alone */
    scan_doc(d[0], sizeof(d[0]), "S-1", "HIGH", "api", now - 20 * DAY_MS, "fixed", now);
    assert_int_equal(post(s, "/api/v1/ingest/generic/scanner", tok, NULL, d[0], &r), 200);
    assert_counts(&r, GEN_KEYS, (long long[]){0, 1, 0});
    http_free(&r);
    x = finding(s, "scan", "S-1");
    assert_string_equal(jstr(x, "state"), "closed");
    assert_string_equal(jstr(x, "closed_at"), iso(now, a));
    json_decref(x);

    /* history: nothing told (S-1 breached 13 days before it reached us) */
    sleep_ms(1000);
    assert_int_equal(http_sink_count(hook), 0);
    assert_int_equal(sla_events(s, "findings", "scan", "S-1"), 0);
    http_sink_stop(hook);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generic_samples, it_server_setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_generic_findings, it_server_setup,
                                        it_server_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
