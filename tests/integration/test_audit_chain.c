/* Tamper-evident records end to end (issue 17): the audit log and the item
 * events are hash-chained by the real binary; an auditor token reads them,
 * verifies them and exports them, writes nothing; the export checks out
 * with scripts/verify-audit-export.sh (sed and sha256sum, the procedure of
 * docs/audit.md) and stops checking once a record is altered in the
 * database; `slawatch audit verify` says the same from the command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_db.h"

static void world(struct sw_server *s)
{
    it_make_tenant(s, "acme");
    it_make_tenant(s, "globex");
    char body[256];
    for (int i = 0; i < 5; i++) {
        snprintf(body, sizeof(body), "{\"id\":\"al-%d\",\"tenant_id\":\"acme\",\"severity\":"
                 "\"high\",\"title\":\"t \\\"%d\\\" \xc3\xa9\"}", i, i);
        assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
    }
    assert_int_equal(api(s, "POST", "/api/v1/alerts/al-1/acknowledge?tenant_id=acme",
                         ADMIN_TOKEN, NULL, NULL), 200);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", ADMIN_TOKEN,
                         "{\"high_mtta_minutes\":45}", NULL), 200);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                         "{\"id\":\"g-1\",\"tenant_id\":\"globex\",\"severity\":\"low\"}", NULL),
                     201);
}

/* `slawatch audit verify --db URL [args]`: exit status, its last line in out. */
static int cli_verify(struct sw_server *s, const char *tenant, char *out, size_t len)
{
    const char *bin = getenv("SLAWATCH_BIN");
    const char *argv[] = {"/bin/sh", "-c",
                          "out=$(\"$0\" audit verify --db \"$1\" ${2:+--tenant \"$2\"}); rc=$?; "
                          "printf '%s\\n' \"$out\" | tail -n 1; exit $rc",
                          bin, s->db, tenant ? tenant : "", NULL};
    return run_capture(argv, NULL, out, len);
}

/* The export of one chain through the API into a file; the script's
 * verdict on it (exit status, its line in out). */
static int offline_check(struct sw_server *s, const char *token, const char *log,
                         const char *anchor, char *out, size_t len)
{
    char path[256], file[512], script[512];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/audit/export?tenant_id=acme&log=%s", log);
    http_req(s, "GET", path, token, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_non_null(http_resp_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "application/x-ndjson"));
    srv_path(s, "export.jsonl", file, sizeof(file));
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fwrite(r.body, 1, r.len, f);
    fclose(f);
    http_free(&r);
    snprintf(script, sizeof(script), "%s/scripts/verify-audit-export.sh", getenv("SLAWATCH_SRC"));
    const char *argv[] = {script, file, anchor, NULL};
    return run_capture(argv, NULL, out, len);
}

static void test_chain_end_to_end(void **state)
{
    struct sw_server *s = *state;
    world(s);
    char aud[128], out[1024];
    it_make_token(s, "auditor", "acme", aud, sizeof(aud));
    struct http_resp r;

    /* the auditor reads the audit log and the chains */
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=acme", aud, NULL, &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit/verify?tenant_id=acme", aud, NULL, &r), 200);
    assert_true(json_is_true(json_object_get(r.json, "intact")));
    /* 5 created + 1 acknowledged + recalculated events, and audit rows */
    assert_true(json_integer_value(json_object_get(r.json, "records")) >= 7);
    assert_int_equal(json_array_size(json_object_get(r.json, "chains")), 2);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit/verify?tenant_id=globex", aud, NULL, NULL),
                     404);
    assert_int_equal(api(s, "GET", "/api/v1/audit/export?tenant_id=acme", aud, NULL, &r), 422);
    assert_error_shape(&r, "invalid", "log");
    http_free(&r);

    /* ... and writes nothing */
    assert_int_equal(api(s, "POST", "/api/v1/alerts", aud,
                         "{\"id\":\"x\",\"tenant_id\":\"acme\",\"severity\":\"low\"}", NULL), 403);
    assert_int_equal(api(s, "PUT", "/api/v1/sla/definition?tenant_id=acme", aud,
                         "{\"high_mtta_minutes\":40}", NULL), 403);
    assert_int_equal(api(s, "POST", "/api/v1/alerts/al-2/acknowledge?tenant_id=acme", aud, NULL,
                         NULL), 403);
    /* a viewer reads the data but not the audit log */
    char viewer[128];
    it_make_token(s, "viewer", "acme", viewer, sizeof(viewer));
    assert_int_equal(api(s, "GET", "/api/v1/audit/verify?tenant_id=acme", viewer, NULL, NULL),
                     403);

    /* offline: the export checks with sed and sha256sum alone */
    assert_int_equal(offline_check(s, aud, "events", NULL, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "records, chain intact"));
    assert_int_equal(offline_check(s, aud, "audit", NULL, out, sizeof(out)), 0);
    /* the head an auditor kept: the last hash of the events export */
    assert_int_equal(api(s, "GET", "/api/v1/audit/export?tenant_id=acme&log=events", aud, NULL,
                         &r), 200);
    const char *last = r.body + r.len - 2;
    while (last > r.body && last[-1] != '\n')
        last--;
    char head[65];
    const char *hp = strstr(last, "\"hash\":\"");
    assert_non_null(hp);
    snprintf(head, sizeof(head), "%.64s", hp + 8);
    char lastseq[24];
    assert_non_null(http_resp_header(&r, "X-Chain-Last-Seq", lastseq, sizeof(lastseq)));
    http_free(&r);
    /* paging */
    assert_int_equal(api(s, "GET", "/api/v1/audit/export?tenant_id=acme&log=events&limit=2",
                         aud, NULL, &r), 200);
    char next[24];
    assert_non_null(http_resp_header(&r, "X-Chain-Next-After-Seq", next, sizeof(next)));
    assert_string_equal(next, "2");
    http_free(&r);

    /* more happens; the kept head is still in the chain */
    assert_int_equal(api(s, "POST", "/api/v1/alerts/al-3/resolve?tenant_id=acme", ADMIN_TOKEN,
                         NULL, NULL), 200);
    assert_int_equal(offline_check(s, aud, "events", head, out, sizeof(out)), 0);
    assert_int_equal(cli_verify(s, NULL, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "records, chain intact"));

    /* someone with the database changes a record */
    char err[512];
    const char *drop = strncmp(s->db, "sqlite:", 7)
        ? "DROP TRIGGER events_append_only ON events"
        : "DROP TRIGGER events_append_only_update";
    assert_true(it_db_exec(s, drop, err, sizeof(err)) >= 0);
    assert_int_equal(it_db_exec(s, "UPDATE events SET actor = 'mallory' WHERE item_id = 'al-1' "
                                   "AND type = 'acknowledged'", err, sizeof(err)), 1);
    assert_int_equal(api(s, "GET", "/api/v1/audit/verify?tenant_id=acme", aud, NULL, &r), 200);
    assert_true(json_is_false(json_object_get(r.json, "intact")));
    json_t *chains = json_object_get(r.json, "chains");
    bool named = false;
    for (size_t i = 0; i < json_array_size(chains); i++) {
        json_t *p = json_object_get(json_array_get(chains, i), "problem");
        if (p && !strcmp(json_string_value(json_object_get(p, "kind")), "altered"))
            named = json_integer_value(json_object_get(p, "record_id")) > 0;
    }
    assert_true(named);
    http_free(&r);
    assert_int_equal(offline_check(s, aud, "events", NULL, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "altered"));
    assert_int_equal(cli_verify(s, "acme", out, sizeof(out)), 1);
    /* globex's chains are untouched */
    assert_int_equal(cli_verify(s, "globex", out, sizeof(out)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_end_to_end, it_server_setup,
                                        it_server_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
