/* The hash chains of the audit log and the item events (src/store/chain.c,
 * chain_verify.c) on SQLite and PostgreSQL: appends form one chain per
 * (log, tenant), verify finds the first altered, deleted, reordered or
 * inserted record, an export checks out offline, rows older than the
 * chains are adopted by migration 0050, a failed append leaves nothing
 * half-chained, and two nodes appending at once never fork a chain. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "store/store_int.h"
#include "store/store_proof.h"
#include "store/store_users.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

struct ev_ctx {
    const char *tenant;
    int n;
    int base;
    const char *data;
};

static int events_tx(struct db_conn *c, void *ud)
{
    struct ev_ctx *x = ud;
    for (int i = 0; i < x->n; i++) {
        struct sw_event e = {.at = T0 + x->base + i, .data = x->data};
        snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", x->tenant);
        snprintf(e.item_kind, sizeof(e.item_kind), "alert");
        snprintf(e.item_id, sizeof(e.item_id), "a-%d", x->base + i);
        snprintf(e.type, sizeof(e.type), "created");
        snprintf(e.actor, sizeof(e.actor), "token:test");
        int rc = store_event_add_in(c, &e, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void events(struct store *s, const char *tenant, int base, int n)
{
    /* quotes, a backslash, a control character and UTF-8 in the data */
    struct ev_ctx x = {tenant, n, base, "{\"note\":\"a \\\"b\\\\ \\u0001 \xc3\xa9\"}"};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_WRITE, events_tx, &x), 0);
}

static void audit(struct store *s, const char *tenant, const char *action)
{
    struct sw_audit a = {.at = T0, .after = "{\"x\":1}"};
    snprintf(a.tenant_id, sizeof(a.tenant_id), "%s", tenant);
    snprintf(a.actor, sizeof(a.actor), "user:alice");
    snprintf(a.action, sizeof(a.action), "%s", action);
    snprintf(a.target, sizeof(a.target), "policy:%s", tenant);
    assert_int_equal(store_audit_add(s, &a), 0);
}

struct seen {
    int chains, broken;
    int64_t records;
    struct sw_chain_report first_bad;
};

static int report_cb(const struct sw_chain_report *r, void *ud)
{
    struct seen *s = ud;
    s->chains++;
    s->records += r->records;
    if (!r->intact && s->broken++ == 0)
        s->first_bad = *r;
    return 0;
}

static struct seen verify(struct store *s, const char *tenant)
{
    struct seen v = {0};
    assert_int_equal(store_chain_verify(s, tenant, report_cb, &v), 0);
    return v;
}

/* SQL as an attacker with the database would run it: the append-only
 * triggers dropped first. */
static void attack(struct storetest *t, const char *sql)
{
    static const char *const drop_sqlite =
        "DROP TRIGGER IF EXISTS events_append_only_update;"
        "DROP TRIGGER IF EXISTS events_append_only_delete;"
        "DROP TRIGGER IF EXISTS chain_links_append_only_update;"
        "DROP TRIGGER IF EXISTS chain_links_append_only_delete;"
        "DROP TRIGGER IF EXISTS audit_log_append_only_update;"
        "DROP TRIGGER IF EXISTS audit_log_append_only_delete;";
    static const char *const drop_pg =
        "DROP TRIGGER IF EXISTS events_append_only ON events;"
        "DROP TRIGGER IF EXISTS chain_links_append_only ON chain_links;"
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;";
    struct db_conn *c = db_acquire(sql_of(t->s)->db);
    assert_non_null(c);
    assert_int_equal(db_exec_script(c, t->pg ? drop_pg : drop_sqlite), 0);
    assert_int_equal(db_exec_script(c, sql), 0);
    db_release(c);
}

static int64_t scalar(struct store *s, const char *sql)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    assert_int_equal(db_step_one(st), 1);
    int64_t v = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return v;
}

static void test_append_and_verify(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    tenant(t->s, "globex");
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 0);
    events(t->s, "acme", 0, 40);            /* more than a link chunk */
    events(t->s, "globex", 100, 3);
    events(t->s, "acme", 40, 1);
    audit(t->s, "acme", "sla_policy.update");
    audit(t->s, "", "tenant.create");
    v = verify(t->s, NULL);
    assert_int_equal(v.broken, 0);
    assert_int_equal(v.chains, 4);          /* events/acme, events/globex, audit/acme, audit/ */
    assert_int_equal(v.records, 46);
    static const char heads[] = "SELECT seq FROM chain_heads WHERE log = 'events' AND tenant_id = 'acme'";
    assert_int_equal(scalar(t->s, heads), 41);
    v = verify(t->s, "globex");
    assert_int_equal(v.chains, 1);
    assert_int_equal(v.records, 3);
    /* a transaction that rolls back leaves neither rows nor links */
    struct ev_ctx x = {"acme", 2, 500, NULL};
    struct db_conn *c = db_acquire(sql_of(t->s)->db);
    assert_int_equal(db_begin(c, DB_TX_WRITE), 0);
    assert_int_equal(events_tx(c, &x), 0);
    db_rollback(c);
    db_release(c);
    assert_int_equal(scalar(t->s, heads), 41);
    assert_int_equal(verify(t->s, NULL).broken, 0);
    /* restart: the chain goes on */
    storetest_reopen(t);
    events(t->s, "acme", 41, 2);
    v = verify(t->s, "acme");
    assert_int_equal(v.broken, 0);
    assert_int_equal(v.records, 44);
}

static void expect_bad(struct storetest *t, const char *problem, int64_t row_id)
{
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 1);
    assert_string_equal(v.first_bad.problem, problem);
    if (row_id >= 0)
        assert_int_equal(v.first_bad.bad_row_id, row_id);
}

static int64_t event_id(struct store *s, const char *item)
{
    static const char sql[] = "SELECT id FROM events WHERE item_id = ?1";
    struct db_conn *c = db_acquire(sql_of(s)->db);
    struct db_stmt *st;
    int64_t v = -1;
    assert_int_equal(db_prep(c, sql, &st), 0);
    db_bind_text(st, 1, item);
    if (db_step_one(st) == 1) {
        v = db_col_int64(st, 0);
        db_reset(st);
    }
    db_release(c);
    return v;
}

static void tamper_setup(struct storetest *t)
{
    tenant(t->s, "acme");
    events(t->s, "acme", 0, 20);
    audit(t->s, "acme", "a");
    assert_int_equal(verify(t->s, NULL).broken, 0);
}

static void test_altered(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    int64_t id = event_id(t->s, "a-7");
    attack(t, "UPDATE events SET actor = 'mallory' WHERE item_id = 'a-7'");
    expect_bad(t, "altered", id);
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.first_bad.bad_seq, 8);
    /* an audit row moved to another tenant is altered too */
    attack(t, "UPDATE events SET actor = 'token:test' WHERE item_id = 'a-7'");
    assert_int_equal(verify(t->s, NULL).broken, 0);
    attack(t, "UPDATE audit_log SET tenant_id = 'other' WHERE action = 'a'");
    v = verify(t->s, NULL);
    assert_true(v.broken >= 1);
}

static void test_deleted(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    int64_t id = event_id(t->s, "a-3");
    attack(t, "DELETE FROM events WHERE item_id = 'a-3'");
    expect_bad(t, "deleted", id);
}

static void test_deleted_with_link(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    /* the row and its link both gone: the next record no longer follows */
    attack(t, "DELETE FROM chain_links WHERE log = 'events' AND seq = 5;"
              "DELETE FROM events WHERE item_id = 'a-4'");
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 1);
    assert_string_equal(v.first_bad.problem, "deleted");
    assert_int_equal(v.first_bad.bad_seq, 5);
    /* and the tail: the last record and its link, the head left alone */
    attack(t, "DELETE FROM chain_links WHERE log = 'events';"
              "DELETE FROM events WHERE tenant_id = 'acme';"
              "UPDATE chain_heads SET seq = 0, hash = '0000000000000000000000000000000000000000000000000000000000000000' WHERE log = 'events'");
    assert_int_equal(verify(t->s, NULL).broken, 0);     /* rewound entirely: see docs/audit.md */
}

static void test_truncated_tail(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    attack(t, "DELETE FROM chain_links WHERE log = 'events' AND seq = 20;"
              "DELETE FROM events WHERE item_id = 'a-19'");
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 1);
    assert_string_equal(v.first_bad.problem, "deleted");
    assert_int_equal(v.first_bad.bad_seq, 20);
}

static void test_reordered(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    attack(t, "UPDATE chain_links SET seq = -1 WHERE log = 'events' AND seq = 6;"
              "UPDATE chain_links SET seq = 6 WHERE log = 'events' AND seq = 9;"
              "UPDATE chain_links SET seq = 9 WHERE log = 'events' AND seq = -1");
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 1);
    assert_string_equal(v.first_bad.problem, "reordered");
    assert_int_equal(v.first_bad.bad_seq, 6);
    assert_int_equal(v.first_bad.bad_row_id, event_id(t->s, "a-8"));
}

static void test_inserted(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    attack(t, "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at) "
              "VALUES ('acme', 'alert', 'forged', 'resolved', 'x', 1)");
    expect_bad(t, "inserted", event_id(t->s, "forged"));
    /* a tenant with no chain at all */
    attack(t, "INSERT INTO audit_log (tenant_id, actor, at, action) VALUES ('ghost', 'x', 1, 'y')");
    struct seen v = verify(t->s, "ghost");
    assert_int_equal(v.broken, 1);
    assert_string_equal(v.first_bad.problem, "inserted");
}

/* ---- export, checked the way docs/audit.md does it ---------------------------- */

struct exp {
    char prev[65];
    int64_t lines, bad;
};

static void sha_hex(const char *s, size_t n, char out[65])
{
    uint8_t d[32];
    crypto_hash_sha256(d, (const unsigned char *)s, n);
    sodium_bin2hex(out, 65, d, 32);
}

static int export_cb(const char *line, size_t len, void *ud)
{
    struct exp *e = ud;
    char prev[65], hash[65], digest[65], h[65], both[129];
    long long seq;
    int off = 0;
    /* the shape the sed of docs/audit.md relies on */
    if (sscanf(line, "{\"seq\":%lld,\"prev\":\"%64[0-9a-f]\",\"hash\":\"%64[0-9a-f]\",\"record\":%n",
               &seq, prev, hash, &off) != 3 || off == 0 || line[len - 1] != '}') {
        e->bad++;
        return 0;
    }
    sha_hex(line + off, len - (size_t)off - 1, digest);
    snprintf(both, sizeof(both), "%s%s", prev, digest);
    sha_hex(both, 128, h);
    if (strcmp(prev, e->prev) || strcmp(h, hash))
        e->bad++;
    snprintf(e->prev, sizeof(e->prev), "%s", hash);
    e->lines++;
    return 0;
}

static void test_export(void **state)
{
    struct storetest *t = *state;
    tamper_setup(t);
    struct exp e = {0};
    memset(e.prev, '0', 64);
    int64_t last = -1;
    assert_int_equal(store_chain_export(t->s, "events", "acme", 0, 7, export_cb, &e, &last), 0);
    assert_int_equal(last, 7);
    assert_int_equal(store_chain_export(t->s, "events", "acme", 7, 1000, export_cb, &e, &last),
                     0);
    assert_int_equal(last, 20);
    assert_int_equal(e.lines, 20);
    assert_int_equal(e.bad, 0);
    assert_int_equal(store_chain_export(t->s, "events", "nobody", 0, 10, export_cb, &e, &last),
                     SW_E_NOTFOUND);
    assert_int_equal(store_chain_export(t->s, "bogus", "acme", 0, 10, export_cb, &e, &last),
                     SW_E_INVAL);
    /* an altered row: its line no longer checks */
    attack(t, "UPDATE events SET type = 'x' WHERE item_id = 'a-11'");
    struct exp f = {0};
    memset(f.prev, '0', 64);
    assert_int_equal(store_chain_export(t->s, "events", "acme", 0, 1000, export_cb, &f, &last),
                     0);
    assert_int_equal(f.bad, 1);
}

/* ---- rows older than the chains ------------------------------------------------ */

static void test_adopt(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    /* a database as it was before 0050: rows, no chain */
    attack(t, "DROP TABLE chain_links; DROP TABLE chain_heads;"
              "DELETE FROM schema_version WHERE version = 50;"
              "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) VALUES "
              "('acme', 'alert', 'old-1', 'created', 'x', 1, NULL),"
              "('beta', 'finding', 'old-2', 'created', '', 2, '{}'),"
              "('acme', 'alert', 'old-1', 'acknowledged', 'y', 3, 'z');"
              "INSERT INTO audit_log (tenant_id, actor, at, action) VALUES ('', 'x', 1, 'boot')");
    storetest_reopen(t);        /* migrates again: 0050 adopts them */
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 0);
    assert_int_equal(v.records, 4);
    static const char adopted[] = "SELECT sum(adopted) FROM chain_heads";
    assert_int_equal(scalar(t->s, adopted), 4);
    events(t->s, "acme", 0, 2);
    v = verify(t->s, "acme");
    assert_int_equal(v.broken, 0);
    assert_int_equal(v.records, 4);     /* 2 adopted + 2 new */
}

/* Events written many to a statement (store_event_add_many_in, the alert
 * writer's batches) are each on their tenant's chain, 1 + 2 + 4 rows here
 * across two tenants. */
struct many_ctx {
    struct sw_event ev[7];
    const struct sw_event *p[7];
};

static int many_tx(struct db_conn *c, void *ud)
{
    struct many_ctx *m = ud;
    return store_event_add_many_in(c, m->p, 7);
}

static void test_many(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    tenant(t->s, "globex");
    struct many_ctx m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < 7; i++) {
        struct sw_event *e = &m.ev[i];
        snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", i % 3 ? "acme" : "globex");
        snprintf(e->item_kind, sizeof(e->item_kind), "alert");
        snprintf(e->item_id, sizeof(e->item_id), "b-%d", i);
        snprintf(e->type, sizeof(e->type), "created");
        snprintf(e->actor, sizeof(e->actor), "ingest");
        e->at = T0 + i;
        m.p[i] = e;
    }
    assert_int_equal(db_tx(sql_of(t->s)->db, DB_TX_WRITE, many_tx, &m), 0);
    struct seen v = verify(t->s, NULL);
    assert_int_equal(v.broken, 0);
    assert_int_equal(v.records, 7);
    v = verify(t->s, "globex");
    assert_int_equal(v.records, 3);
    /* and a record of the batch altered is found */
    attack(t, "UPDATE events SET actor = 'mallory' WHERE item_id = 'b-4'");
    v = verify(t->s, "acme");
    assert_int_equal(v.broken, 1);
    assert_string_equal(v.first_bad.problem, "altered");
}

/* ---- failures ------------------------------------------------------------------------ */

static void test_faults(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    struct db *db = sql_of(t->s)->db;
    for (int k = 1;; k++) {
        struct ev_ctx x = {"acme", 20, 1000 * k, NULL};
        db_fail_after(db, k, SW_E_STORE);
        int rc = db_tx(db, DB_TX_WRITE, events_tx, &x);
        db_fail_after(db, 0, 0);
        struct seen v = verify(t->s, NULL);
        assert_int_equal(v.broken, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_true(k < 200);
    }
    struct seen v = verify(t->s, "acme");
    assert_int_equal(v.records, 20);
}

/* ---- two nodes on one PostgreSQL ----------------------------------------------------- */

struct node_arg {
    struct store *s;
    const char *tenant;
    int base;
    int rc;
};

static void *node_run(void *p)
{
    struct node_arg *a = p;
    for (int i = 0; i < 60 && a->rc == 0; i++) {
        struct ev_ctx x = {a->tenant, 1 + i % 3, a->base + 10 * i, NULL};
        a->rc = db_tx(sql_of(a->s)->db, DB_TX_WRITE, events_tx, &x);
        if (a->rc == 0 && i % 10 == 0) {
            struct sw_audit au = {.at = T0};
            snprintf(au.tenant_id, sizeof(au.tenant_id), "%s", a->tenant);
            snprintf(au.actor, sizeof(au.actor), "node");
            snprintf(au.action, sizeof(au.action), "x");
            a->rc = store_audit_add(a->s, &au);
        }
    }
    return NULL;
}

static void test_two_nodes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    tenant(t->s, "acme");
    tenant(t->s, "globex");
    struct store *b = NULL;
    char err[256];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    struct node_arg args[4] = {
        {t->s, "acme", 0, 0}, {b, "acme", 100000, 0},
        {t->s, "globex", 200000, 0}, {b, "acme", 300000, 0},
    };
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, node_run, &args[i]);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].rc, 0);
    }
    struct seen v = verify(b, NULL);
    assert_int_equal(v.broken, 0);
    int64_t rows = scalar(t->s, "SELECT count(*) FROM events") +
                   scalar(t->s, "SELECT count(*) FROM audit_log");
    assert_int_equal(v.records, rows);
    /* one chain per tenant and log: no fork (seq unique), no gap (seq = count) */
    assert_int_equal(scalar(t->s, "SELECT count(*) FROM chain_links WHERE log = 'events' "
                                  "AND tenant_id = 'acme'"),
                     scalar(t->s, "SELECT seq FROM chain_heads WHERE log = 'events' "
                                  "AND tenant_id = 'acme'"));
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_verify),
        cmocka_unit_test(test_altered),
        cmocka_unit_test(test_deleted),
        cmocka_unit_test(test_deleted_with_link),
        cmocka_unit_test(test_truncated_tail),
        cmocka_unit_test(test_reordered),
        cmocka_unit_test(test_inserted),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_adopt),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_two_nodes),
    };
    return storetest_run("store_chain", tests, sizeof(tests) / sizeof(tests[0]));
}
