/* The store's tenants, projects, tokens and events (src/store/tenants.c,
 * events.c) on SQLite and PostgreSQL, and its caches: what one node writes
 * holds on another from the next request. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_int.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    snprintf(t.template_name, sizeof(t.template_name), "premium");
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static int count_cb(const struct sw_tenant *t, void *ud)
{
    (*(int *)ud)++;
    return 0;
}

static void test_tenants_projects(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "b");
    tenant(t->s, "a");
    struct sw_tenant got;
    assert_int_equal(store_tenant_get(t->s, "a", &got), 0);
    assert_string_equal(got.name, "Tenant a");
    assert_string_equal(got.template_name, "premium");
    assert_string_equal(got.timezone, "UTC");
    assert_int_equal(store_tenant_get(t->s, "zz", &got), SW_E_NOTFOUND);
    struct sw_tenant dup = {.created_at = T0};
    snprintf(dup.id, sizeof(dup.id), "a");
    assert_int_equal(store_tenant_create(t->s, &dup, NULL), SW_E_EXISTS);
    int n = 0;
    assert_int_equal(store_tenant_list(t->s, NULL, 0, count_cb, &n), 0);
    assert_int_equal(n, 2);
    /* created after the cache was filled: found at once */
    tenant(t->s, "c");
    assert_int_equal(store_tenant_get(t->s, "c", &got), 0);
    const char *ids[] = {"c", "nope", "a"};
    n = 0;
    assert_int_equal(store_tenant_list(t->s, ids, 3, count_cb, &n), 0);
    assert_int_equal(n, 2);

    struct sw_project p = {.created_at = T0};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "a");
    snprintf(p.id, sizeof(p.id), "web");
    snprintf(p.name, sizeof(p.name), "Web");
    assert_int_equal(store_project_create(t->s, &p, NULL), 0);
    assert_int_equal(store_project_create(t->s, &p, NULL), SW_E_EXISTS);
    snprintf(p.tenant_id, sizeof(p.tenant_id), "ghost");
    assert_int_equal(store_project_create(t->s, &p, NULL), SW_E_NOTFOUND);
    struct sw_project gp;
    assert_int_equal(store_project_get(t->s, "a", "web", &gp), 0);
    assert_string_equal(gp.name, "Web");
    assert_int_equal(store_project_get(t->s, "b", "web", &gp), SW_E_NOTFOUND);
}

static void test_tokens(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "a");
    uint8_t h1[SW_TOKEN_HASH_LEN], h2[SW_TOKEN_HASH_LEN];
    memset(h1, 1, sizeof(h1));
    memset(h2, 2, sizeof(h2));
    struct sw_token tok = {.created_at = T0, .expires_at = T0 + 86400000};
    snprintf(tok.name, sizeof(tok.name), "ci");
    snprintf(tok.role, sizeof(tok.role), "viewer");
    snprintf(tok.tenant_id, sizeof(tok.tenant_id), "a");
    int64_t id1 = 0, id2 = 0, count = 0;
    assert_int_equal(store_token_count(t->s, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_token_create(t->s, &tok, h1, &id1), 0);
    tok.tenant_id[0] = '\0';
    tok.expires_at = 0;
    assert_int_equal(store_token_create(t->s, &tok, h2, &id2), 0);
    assert_true(id2 > id1);
    assert_int_equal(store_token_create(t->s, &tok, h2, NULL), SW_E_EXISTS);
    struct sw_token got;
    assert_int_equal(store_token_lookup(t->s, h1, &got), 0);
    assert_int_equal(got.id, id1);
    assert_string_equal(got.tenant_id, "a");
    assert_true(got.expires_at == T0 + 86400000);
    assert_int_equal(store_token_lookup(t->s, h2, &got), 0);
    assert_string_equal(got.tenant_id, "");
    assert_int_equal(got.expires_at, 0);
    uint8_t h3[SW_TOKEN_HASH_LEN];
    memset(h3, 3, sizeof(h3));
    assert_int_equal(store_token_lookup(t->s, h3, &got), SW_E_NOTFOUND);
    assert_int_equal(store_token_count(t->s, &count), 0);
    assert_int_equal(count, 2);
}

static int ev_cb(const struct sw_event *e, void *ud)
{
    int *n = ud;
    if (*n == 0) {
        assert_string_equal(e->type, "created");
        assert_string_equal(e->data, "{\"x\":1}");
    } else {
        assert_null(e->data);
    }
    (*n)++;
    return 0;
}

struct ev_ud {
    int64_t ids[3];
};

static int ev_tx(struct db_conn *c, void *ud)
{
    struct ev_ud *u = ud;
    const char *types[] = {"created", "acknowledged", "resolved"};
    for (int i = 0; i < 3; i++) {
        struct sw_event e = {.at = T0 + i, .data = i == 0 ? "{\"x\":1}" : NULL};
        snprintf(e.tenant_id, sizeof(e.tenant_id), "a");
        snprintf(e.item_kind, sizeof(e.item_kind), "alert");
        snprintf(e.item_id, sizeof(e.item_id), "al-1");
        snprintf(e.type, sizeof(e.type), "%s", types[i]);
        int rc = store_event_add_in(c, &e, &u->ids[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void test_events(void **state)
{
    struct storetest *t = *state;
    struct ev_ud u;
    assert_int_equal(db_tx(sql_of(t->s)->db, DB_TX_WRITE, ev_tx, &u), 0);
    assert_true(u.ids[0] < u.ids[1] && u.ids[1] < u.ids[2]);
    int n = 0;
    assert_int_equal(store_event_list(t->s, "a", "alert", "al-1", 0, 10, ev_cb, &n), 0);
    assert_int_equal(n, 3);
    n = 1;      /* after the first: the others, which have no data */
    assert_int_equal(store_event_list(t->s, "a", "alert", "al-1", u.ids[0], 10, ev_cb, &n),
                     0);
    assert_int_equal(n, 3);
}

/* Restarting on the same database migrates nothing twice and keeps rows. */
static void test_reopen(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "kept");
    storetest_reopen(t);
    struct sw_tenant got;
    assert_int_equal(store_tenant_get(t->s, "kept", &got), 0);
}

/* SQLite: no CHECK of the schema holds an IN list of more than two
 * constants (SQLite builds a temporary b-tree from such a list for every
 * row written: 0053_check_lists.sql), and the rewritten ones still refuse. */
struct checks {
    int lists;
    char where[256];
};

static int count_lists(const char *sql, char *where, size_t len)
{
    int n = 0;
    for (const char *p = strstr(sql, " IN ("); p; p = strstr(p + 1, " IN (")) {
        int commas = 0;
        for (const char *q = p + 5; *q && *q != ')'; q++)
            commas += *q == ',';
        if (commas >= 2 && !n++)
            snprintf(where, len, "%.80s", p > sql + 40 ? p - 40 : sql);
    }
    return n;
}

static int checks_tx(struct db_conn *c, void *ud)
{
    struct checks *k = ud;
    struct db_stmt *st;
    int rc = db_prep(c, "SELECT sql FROM sqlite_schema WHERE type = 'table'", &st);
    if (rc < 0)
        return rc;
    while ((rc = db_step(st)) == DB_ROW)
        k->lists += count_lists(db_col_text(st, 0), k->where, sizeof(k->where));
    db_reset(st);
    if (rc < 0)
        return rc;
    if ((rc = db_prep(c, "INSERT INTO alert_counts (tenant_id, day, severity, created, "
                         "auto_resolved) VALUES ('t', '2026-01-01', ?1, 0, 0)", &st)) < 0)
        return rc;
    db_bind_text(st, 1, "urgent");      /* a finding's severity, not an alert's */
    rc = db_exec(st);
    return rc == 0 ? SW_E_STORE : 0;
}

static void test_schema_checks(void **state)
{
    struct storetest *t = *state;
    if (t->pg)
        skip();
    struct checks k = {0};
    assert_int_equal(db_tx(sql_of(t->s)->db, DB_TX_WRITE, checks_tx, &k), 0);
    if (k.lists)
        fail_msg("%d IN lists of more than two constants, the first near \"%s\"", k.lists,
                 k.where);
}

struct first {
    struct store *s;
    uint8_t hash[SW_TOKEN_HASH_LEN];
    int rc;
};

static void *first_thread(void *arg)
{
    struct first *f = arg;
    struct sw_token tok = {.created_at = T0};
    snprintf(tok.name, sizeof(tok.name), "first admin");
    snprintf(tok.role, sizeof(tok.role), "platform_admin");
    f->rc = store_token_create_first(f->s, &tok, f->hash, NULL);
    return NULL;
}

/* The first admin token, once in total, even from several nodes at once. */
static void test_first_token(void **state)
{
    struct storetest *t = *state;
    struct store *other = t->s;
    char err[512];
    if (t->pg)
        assert_int_equal(store_sql_open(t->url, &other, err, sizeof(err)), 0);
    struct first f[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        f[i].s = i % 2 ? other : t->s;
        memset(f[i].hash, 0x10 + i, sizeof(f[i].hash));
        pthread_create(&th[i], NULL, first_thread, &f[i]);
    }
    int created = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (f[i].rc == 0)
            created++;
        else
            assert_int_equal(f[i].rc, SW_E_EXISTS);
    }
    assert_int_equal(created, 1);
    int64_t n;
    assert_int_equal(store_token_count(t->s, &n), 0);
    assert_int_equal(n, 1);
    if (other != t->s)
        store_close(other);
}

/* ---- two nodes on one PostgreSQL ---------------------------------------------- */

static const char SQL_REVOKE[] = "UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1";
static const char SQL_RENAME[] = "UPDATE tenants SET name = ?2 WHERE id = ?1";

struct rev {
    const uint8_t *hash;
    const char *tenant;
};

static int revoke_tx(struct db_conn *c, void *ud)
{
    struct rev *r = ud;
    struct db_stmt *st;
    int rc = db_prep(c, r->hash ? SQL_REVOKE : SQL_RENAME, &st);
    if (rc < 0)
        return rc;
    if (r->hash) {
        db_bind_blob(st, 1, r->hash, SW_TOKEN_HASH_LEN);
        db_bind_int64(st, 2, T0 + 5);
    } else {
        db_bind_text(st, 1, r->tenant);
        db_bind_text(st, 2, "Renamed");
    }
    if ((rc = db_exec(st)) < 0)
        return rc;
    return r->hash ? store_tokens_changed_in(c) : store_tenants_changed_in(c);
}

static void test_two_nodes(void **state)
{
    struct storetest *a = *state;
    if (!a->pg)
        skip();
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(a->url, &b, err, sizeof(err)), 0);
    for (int i = 0; i < 500 && db_node_count(sql_of(a->s)->db) < 2; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(db_node_count(sql_of(a->s)->db), 2);
    for (int round = 0; round < 20; round++) {
        char id[16];
        snprintf(id, sizeof(id), "t%d", round);
        struct sw_tenant got;
        /* created on A: B finds it at once, though B has the list cached */
        assert_int_equal(store_tenant_get(b, "none", &got), SW_E_NOTFOUND);
        tenant(a->s, id);
        assert_int_equal(store_tenant_get(b, id, &got), 0);
        /* renamed on A: B says the new name from the next call */
        struct rev rn = {.tenant = id};
        assert_int_equal(db_tx(sql_of(a->s)->db, DB_TX_WRITE, revoke_tx, &rn), 0);
        assert_int_equal(store_tenant_get(b, id, &got), 0);
        assert_string_equal(got.name, "Renamed");

        uint8_t h[SW_TOKEN_HASH_LEN];
        memset(h, 0x40 + round, sizeof(h));
        struct sw_token tok = {.created_at = T0};
        snprintf(tok.name, sizeof(tok.name), "n");
        snprintf(tok.role, sizeof(tok.role), "viewer");
        assert_int_equal(store_token_create(a->s, &tok, h, NULL), 0);
        struct sw_token seen;
        assert_int_equal(store_token_lookup(b, h, &seen), 0);     /* B caches it */
        assert_int_equal(seen.revoked_at, 0);
        struct rev rv = {.hash = h};
        assert_int_equal(db_tx(sql_of(a->s)->db, DB_TX_WRITE, revoke_tx, &rv), 0);
        assert_int_equal(store_token_lookup(b, h, &seen), 0);
        assert_true(seen.revoked_at == T0 + 5);                  /* the next call */
    }
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenants_projects),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_schema_checks),
        cmocka_unit_test(test_first_token),
        cmocka_unit_test(test_two_nodes),
    };
    return storetest_run("store_tenants", tests, sizeof(tests) / sizeof(tests[0]));
}
