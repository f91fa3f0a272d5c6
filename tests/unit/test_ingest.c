/* The pure ingest module (src/http/ingest*.c): JSON pointers, instants as
 * tools write them, text made safe, Alertmanager and DefectDojo elements,
 * and generic mappings (compile errors name the mapping's field, apply
 * errors the document's pointer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "http/ingest.h"

#define NOW INT64_C(1795341600000)      /* 2026-11-22T10:00:00Z */

static json_t *J(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("bad test JSON: %s: %s", err.text, text);
    return j;
}

static void test_pointer(void **state)
{
    (void)state;
    json_t *d = J("{\"a\":{\"b\":[10,{\"c\":\"x\"}]},\"kibana.alert.uuid\":\"u\","
                  "\"m~n\":1,\"p/q\":2,\"\":3}");
    assert_ptr_equal(ingest_pointer(d, ""), d);
    assert_int_equal(json_integer_value(ingest_pointer(d, "/a/b/0")), 10);
    assert_string_equal(json_string_value(ingest_pointer(d, "/a/b/1/c")), "x");
    assert_string_equal(json_string_value(ingest_pointer(d, "/kibana.alert.uuid")), "u");
    assert_int_equal(json_integer_value(ingest_pointer(d, "/m~0n")), 1);
    assert_int_equal(json_integer_value(ingest_pointer(d, "/p~1q")), 2);
    assert_int_equal(json_integer_value(ingest_pointer(d, "/")), 3);
    assert_null(ingest_pointer(d, "/a/b/01"));
    assert_null(ingest_pointer(d, "/a/b/-"));
    assert_null(ingest_pointer(d, "/a/b/9"));
    assert_null(ingest_pointer(d, "/a/b/1/c/d"));
    assert_null(ingest_pointer(d, "a"));
    assert_false(ingest_pointer_valid("/a~2"));
    assert_false(ingest_pointer_valid("/a~"));
    json_decref(d);
}

static int64_t t_of(const char *json, enum ingest_time_fmt fmt)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    int64_t t = -1;
    if (ingest_time(v, fmt, &t) < 0)
        t = -1;
    json_decref(v);
    return t;
}

static void test_time(void **state)
{
    (void)state;
    const int64_t T = NOW;
    assert_true(t_of("\"2026-11-22T10:00:00Z\"", INGEST_TIME_AUTO) == T);
    assert_true(t_of("\"2026-11-22T11:00:00.123456789+01:00\"", INGEST_TIME_AUTO) == T + 123);
    assert_true(t_of("\"2026-11-22T10:00:00.000+0000\"", INGEST_TIME_AUTO) == T);    /* Wazuh */
    assert_true(t_of("\"2026-11-22 12:00:00+02\"", INGEST_TIME_AUTO) == T);
    assert_true(t_of("\"2026-11-22T10:00:00\"", INGEST_TIME_AUTO) == T);     /* no zone: UTC */
    assert_true(t_of("\"2026-11-22T10:00\"", INGEST_TIME_AUTO) == T);
    assert_true(t_of("\"2026-11-22\"", INGEST_TIME_AUTO) == T - 10 * SLA_MS_PER_HOUR);
    assert_true(t_of("1795341600", INGEST_TIME_AUTO) == T);                   /* seconds */
    assert_true(t_of("1795341600000", INGEST_TIME_AUTO) == T);                /* ms */
    assert_true(t_of("\"1795341600.5\"", INGEST_TIME_AUTO) == T + 500);       /* Splunk */
    assert_true(t_of("1795341600", INGEST_TIME_EPOCH_MS) == 1795341600);
    assert_true(t_of("\"1795341600000\"", INGEST_TIME_EPOCH_MS) == T);
    assert_true(t_of("1795341600", INGEST_TIME_RFC3339) == -1);
    assert_true(t_of("\"2026-11-22T10:00:00Z\"", INGEST_TIME_EPOCH_S) == -1);
    assert_true(t_of("\"0001-01-01T00:00:00Z\"", INGEST_TIME_AUTO) == -1);    /* AM's zero */
    assert_true(t_of("\"2026-13-01\"", INGEST_TIME_AUTO) == -1);
    assert_true(t_of("\"2026-11-22T10:00:00Zjunk\"", INGEST_TIME_AUTO) == -1);
    assert_true(t_of("\"yesterday\"", INGEST_TIME_AUTO) == -1);
    assert_true(t_of("-5", INGEST_TIME_AUTO) == -1);
    assert_true(t_of("1e300", INGEST_TIME_AUTO) == -1);
    assert_true(t_of("true", INGEST_TIME_AUTO) == -1);
    enum ingest_time_fmt f;
    assert_int_equal(ingest_time_fmt_parse("epoch_s", &f), 0);
    assert_int_equal(f, INGEST_TIME_EPOCH_S);
    assert_int_equal(ingest_time_fmt_parse("unix", &f), SW_E_INVAL);
}

static void test_text(void **state)
{
    (void)state;
    char out[16];
    const char in[] = "  Disk\r\nfull\t\x1b[31m \xe2\x80\xae evil  ";
    ingest_text(in, sizeof(in) - 1, out, sizeof(out));
    assert_true(http_text_valid(out, strlen(out)));
    assert_string_equal(out, "Disk full [31m");
    /* cut at a character boundary, invalid bytes become spaces */
    const char utf[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    ingest_text(utf, sizeof(utf) - 1, out, 6);
    assert_string_equal(out, "\xc3\xa9\xc3\xa9");
    const char bad[] = "a\xff\xfe" "b\xc0\xaf" "c";
    ingest_text(bad, sizeof(bad) - 1, out, sizeof(out));
    assert_string_equal(out, "a b c");
}

/* ---- Alertmanager ---------------------------------------------------------------- */

static void test_alertmanager(void **state)
{
    (void)state;
    struct ingest_am am;
    struct ingest_err e;
    struct ingest_item it;
    assert_int_equal(ingest_am_parse(NULL, &am, &e), 0);
    json_t *a = J("{\"status\":\"firing\",\"labels\":{\"alertname\":\"DiskFull\",\"severity\":"
                  "\"error\"},\"annotations\":{\"summary\":\"Disk full\\non db1\"},"
                  "\"startsAt\":\"2026-11-22T09:00:00.5+00:00\",\"endsAt\":"
                  "\"0001-01-01T00:00:00Z\",\"fingerprint\":\"c6eadffa33fcdf37\"}");
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), 0);
    assert_string_equal(it.alert.id, "am-c6eadffa33fcdf37");
    assert_int_equal(it.alert.sev, SLA_SEV_HIGH);
    assert_string_equal(it.alert.title, "Disk full on db1");
    assert_true(it.alert.created_at == NOW - SLA_MS_PER_HOUR + 500);
    assert_true(it.alert.sync && it.alert.state == SLA_ALERT_OPEN && !it.alert.resolved_at);
    /* resolved at endsAt; warning is medium, other values low, no summary:
     * the alertname */
    json_object_set_new(a, "status", json_string("resolved"));
    json_object_set_new(a, "endsAt", json_string("2026-11-22T09:30:00Z"));
    json_object_set_new(json_object_get(a, "labels"), "severity", json_string("Warning"));
    json_object_del(a, "annotations");
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), 0);
    assert_int_equal(it.alert.sev, SLA_SEV_MEDIUM);
    assert_string_equal(it.alert.title, "DiskFull");
    assert_true(it.alert.state == SLA_ALERT_RESOLVED &&
                it.alert.resolved_at == NOW - 30 * SLA_MS_PER_MIN);
    json_object_set_new(json_object_get(a, "labels"), "severity", json_string("page"));
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), 0);
    assert_int_equal(it.alert.sev, SLA_SEV_LOW);
    /* errors name the alert's pointer */
    json_object_set_new(a, "fingerprint", json_string("a/b"));
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/fingerprint");
    json_object_set_new(a, "fingerprint", json_string("ff"));
    json_object_set_new(a, "startsAt", json_string("2027-01-01T00:00:00Z"));
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/startsAt");
    json_object_set_new(a, "startsAt", json_string("2026-11-22T09:00:00Z"));
    json_object_set_new(a, "status", json_string("pending"));
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/status");
    json_object_del(a, "status");               /* the group's */
    assert_int_equal(ingest_am_alert(&am, a, "resolved", "acme", NOW, &it, &e), 0);
    assert_true(it.alert.state == SLA_ALERT_RESOLVED);
    ingest_am_free(&am);

    /* a tenant's own map: priority label, P1 critical, nothing else matches */
    json_t *cfg = J("{\"severity\":{\"pointer\":\"/labels/priority\",\"map\":{\"P1\":"
                    "\"critical\",\"P2\":\"high\"}}}");
    assert_int_equal(ingest_am_parse(cfg, &am, &e), 0);
    json_object_set_new(json_object_get(a, "labels"), "priority", json_string("P1"));
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), 0);
    assert_int_equal(it.alert.sev, SLA_SEV_CRITICAL);
    json_object_set_new(json_object_get(a, "labels"), "priority", json_string("P5"));
    assert_int_equal(ingest_am_alert(&am, a, "firing", "acme", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/labels/priority");
    ingest_am_free(&am);
    json_decref(cfg);
    cfg = J("{\"severity\":{\"pointer\":\"/labels/x\",\"map\":{\"a\":\"urgent\"}}}");
    assert_int_equal(ingest_am_parse(cfg, &am, &e), SW_E_INVAL);
    assert_string_equal(e.field, "mapping.severity.map.a");
    json_decref(cfg);
    cfg = J("{\"title\":\"/x\"}");
    assert_int_equal(ingest_am_parse(cfg, &am, &e), SW_E_INVAL);
    json_decref(cfg);

    json_t *body = J("{\"version\":\"3\",\"alerts\":[]}"), *alerts;
    const char *st;
    assert_int_equal(ingest_am_body(body, &alerts, &st, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/version");
    json_decref(body);
    body = J("{\"version\":\"4\",\"status\":\"firing\",\"alerts\":{}}");
    assert_int_equal(ingest_am_body(body, &alerts, &st, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/alerts");
    json_decref(body);
    json_decref(a);
}

/* ---- DefectDojo -------------------------------------------------------------------- */

static void test_defectdojo(void **state)
{
    (void)state;
    struct ingest_err e;
    struct ingest_item it;
    json_t *f = J("{\"id\":4211,\"title\":\"SQL injection in /login\",\"severity\":\"High\","
                  "\"date\":\"2026-11-01\",\"sla_start_date\":null,\"active\":false,"
                  "\"verified\":true,\"false_p\":false,\"duplicate\":false,\"out_of_scope\":"
                  "false,\"risk_accepted\":false,\"is_mitigated\":true,\"mitigated\":"
                  "\"2026-11-10T08:00:00Z\",\"last_status_update\":\"2026-11-10T08:05:00Z\"}");
    assert_int_equal(ingest_dd_finding(f, "acme", "web", NOW, &it, &e), 0);
    assert_string_equal(it.finding.in.id, "dd-4211");
    assert_string_equal(it.finding.in.project_id, "web");
    assert_int_equal(it.finding.in.sev, SLA_SEV_HIGH);
    assert_int_equal(it.finding.in.state, SLA_FINDING_CLOSED);
    int64_t day1 = NOW - 21 * SLA_MS_PER_DAY - 10 * SLA_MS_PER_HOUR;   /* 2026-11-01 */
    assert_true(it.finding.in.discovered_at == day1);
    assert_true(it.finding.in.closed_at == day1 + 9 * SLA_MS_PER_DAY + 8 * SLA_MS_PER_HOUR);
    /* sla_start_date wins over date; flags in order */
    json_object_set_new(f, "sla_start_date", json_string("2026-11-02"));
    json_object_set_new(f, "false_p", json_true());
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), 0);
    assert_true(it.finding.in.discovered_at == day1 + SLA_MS_PER_DAY);
    assert_int_equal(it.finding.in.state, SLA_FINDING_FALSE_POSITIVE);
    assert_null(it.finding.in.project_id);
    json_object_set_new(f, "active", json_true());  /* active again: open */
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), 0);
    assert_int_equal(it.finding.in.state, SLA_FINDING_OPEN);
    assert_true(it.finding.state_at == NOW - 12 * SLA_MS_PER_DAY - 115 * SLA_MS_PER_MIN);
    /* inactive for no known reason (a duplicate): nothing to create */
    json_object_set_new(f, "active", json_false());
    json_object_set_new(f, "false_p", json_false());
    json_object_set_new(f, "is_mitigated", json_false());
    json_object_set_new(f, "duplicate", json_true());
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), 0);
    assert_true(it.finding.only_if_tracked);
    json_object_set_new(f, "severity", json_string("Info"));
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), 0);
    assert_true(it.skip);
    json_object_set_new(f, "severity", json_string("Severe"));
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/severity");
    json_object_set_new(f, "severity", json_string("Low"));
    json_object_set_new(f, "id", json_string("4211"));
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/id");
    json_object_set_new(f, "id", json_integer(1));
    json_object_set_new(f, "mitigated", json_string("soon"));
    assert_int_equal(ingest_dd_finding(f, "acme", NULL, NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/mitigated");
    json_decref(f);
    json_t *r, *one;
    json_t *page = J("{\"count\":0,\"next\":null,\"results\":{}}");
    assert_int_equal(ingest_dd_body(page, &r, &one, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/results");
    json_decref(page);
}

/* ---- generic ---------------------------------------------------------------------------- */

static void test_generic(void **state)
{
    (void)state;
    struct ingest_err e;
    struct ingest_item it;
    struct ingest_mapping *m = NULL;
    json_t *map = J("{\"id\":\"/kibana.alert.uuid\",\"severity\":{\"pointer\":"
                    "\"/kibana.alert.severity\",\"map\":{\"critical\":\"critical\",\"high\":"
                    "\"high\",\"medium\":\"medium\",\"low\":\"low\"}},\"title\":"
                    "\"/kibana.alert.rule.name\",\"created_at\":\"/@timestamp\",\"state\":"
                    "{\"pointer\":\"/kibana.alert.workflow_status\",\"map\":{\"open\":\"open\","
                    "\"acknowledged\":\"acknowledged\",\"closed\":\"resolved\"},\"at\":"
                    "\"/kibana.alert.workflow_status_updated_at\"}}");
    assert_int_equal(ingest_mapping_parse(map, &m, &e), 0);
    assert_int_equal(ingest_mapping_kind(m), INGEST_ALERT);
    json_t *doc = J("{\"@timestamp\":\"2026-11-22T08:00:00Z\",\"kibana.alert.uuid\":\"u-1\","
                    "\"kibana.alert.severity\":\"HIGH\",\"kibana.alert.rule.name\":\"PowerShell\","
                    "\"kibana.alert.workflow_status\":\"closed\","
                    "\"kibana.alert.workflow_status_updated_at\":\"2026-11-22T09:00:00Z\"}");
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "elastic", NOW, &it, &e), 0);
    assert_string_equal(it.alert.id, "u-1");
    assert_int_equal(it.alert.sev, SLA_SEV_HIGH);          /* the map, lower-cased */
    assert_string_equal(it.alert.source, "elastic");
    assert_true(it.alert.state == SLA_ALERT_RESOLVED &&
                it.alert.resolved_at == NOW - SLA_MS_PER_HOUR);
    assert_true(it.alert.state_at == NOW - SLA_MS_PER_HOUR);
    /* a value the map does not know: the pointer named */
    json_object_set_new(doc, "kibana.alert.severity", json_string("extreme"));
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "elastic", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/kibana.alert.severity");
    json_object_del(doc, "kibana.alert.uuid");
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "elastic", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/kibana.alert.uuid");
    ingest_mapping_free(m);
    json_decref(map);
    json_decref(doc);

    /* findings, integer severities with a default, epoch instants */
    map = J("{\"item\":\"finding\",\"id\":\"/key\",\"severity\":{\"pointer\":\"/sev\",\"map\":"
            "{\"4\":\"urgent\",\"3\":\"high\"},\"default\":\"low\"},\"created_at\":{\"pointer\":"
            "\"/ts\",\"format\":\"epoch_ms\"},\"state\":{\"pointer\":\"/st\",\"map\":{\"done\":"
            "\"closed\"}},\"project_id\":\"/proj\"}");
    assert_int_equal(ingest_mapping_parse(map, &m, &e), 0);
    doc = J("{\"key\":42,\"sev\":4,\"ts\":1795338000000,\"st\":\"done\",\"proj\":\"web\"}");
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "x", NOW, &it, &e), 0);
    assert_int_equal(it.kind, INGEST_FINDING);
    assert_string_equal(it.finding.in.id, "42");
    assert_int_equal(it.finding.in.sev, SLA_SEV_URGENT);
    assert_true(it.finding.in.discovered_at == NOW - SLA_MS_PER_HOUR);
    assert_int_equal(it.finding.in.state, SLA_FINDING_CLOSED);
    assert_true(it.finding.in.closed_at == NOW);            /* no instant: now */
    assert_string_equal(it.finding.in.project_id, "web");
    json_object_set_new(doc, "sev", json_integer(9));
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "x", NOW, &it, &e), 0);
    assert_int_equal(it.finding.in.sev, SLA_SEV_LOW);       /* the default */
    json_object_set_new(doc, "st", json_string("later"));
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "x", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/st");
    json_object_set_new(doc, "st", json_string("done"));
    json_object_set_new(doc, "proj", json_string("a/b"));
    assert_int_equal(ingest_mapping_apply(m, doc, "acme", "x", NOW, &it, &e), SW_E_INVAL);
    assert_string_equal(e.field, "/proj");
    ingest_mapping_free(m);
    json_decref(map);
    json_decref(doc);

    /* compile errors name the mapping's field */
    static const struct { const char *map, *field; } bad[] = {
        {"{\"severity\":\"/s\"}", "mapping.id"},
        {"{\"id\":\"/i\"}", "mapping.severity"},
        {"{\"id\":\"i\",\"severity\":\"/s\"}", "mapping.id"},
        {"{\"id\":\"/i\",\"severity\":{\"pointer\":\"/s\",\"map\":{\"x\":\"urgent\"}}}",
         "mapping.severity.map.x"},
        {"{\"item\":\"finding\",\"id\":\"/i\",\"severity\":\"/s\",\"state\":{\"pointer\":"
         "\"/t\",\"map\":{\"p\":\"paused\"}}}", "mapping.state.map.p"},
        {"{\"id\":\"/i\",\"severity\":\"/s\",\"created_at\":{\"pointer\":\"/t\",\"format\":"
         "\"unix\"}}", "mapping.created_at.format"},
        {"{\"id\":\"/i\",\"severity\":\"/s\",\"colour\":\"/c\"}", "mapping"},
        {"{\"item\":\"incident\",\"id\":\"/i\",\"severity\":\"/s\"}", "mapping.item"},
        {"{\"id\":\"/i\",\"severity\":{\"default\":\"critical\",\"extra\":1}}",
         "mapping.severity.extra"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        map = J(bad[i].map);
        m = NULL;
        assert_int_equal(ingest_mapping_parse(map, &m, &e), SW_E_INVAL);
        assert_null(m);
        assert_string_equal(e.field, bad[i].field);
        json_decref(map);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_alertmanager),
        cmocka_unit_test(test_defectdojo),
        cmocka_unit_test(test_generic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
