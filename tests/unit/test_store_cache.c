/* The store's read caches (tenants, tokens) against concurrent readers: a
 * write on this node is visible to the very next read, whatever lookups ran
 * beside it.  Reader threads keep refreshing the caches while the main
 * thread creates tenants and revokes tokens and reads each change back at
 * once.  Before the generation counters in the SQLite backend, a refresh
 * that read the old rows could install them after the write's clear: a
 * tenant created a moment earlier answered 404 and a revoked token kept
 * working, for the cache's TTL.
 *
 * The race needs a read that straddles a commit, so the test makes such
 * reads common: the reader threads pause in the middle of their reads (an
 * SQLite trace hook on every row, on the readers' threads only), so a write
 * commits and clears the cache while they hold the old rows.  Tenants: a
 * writer renames another tenant without pause, so every commit clears the
 * cache and the readers reload all the time.  Tokens: the readers alternate
 * between two tokens that share a cache slot, so every lookup misses and
 * reads the database; after the revoke the main thread watches the token
 * for a few pauses.  With the old code both tests fail within a few
 * rounds. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_analytics.h"
#include "store/store_users.h"

#define ROUNDS 30
#define READERS 2
#define PRELOAD 100         /* tenants written before the test */
#define READER_PAUSE_US 300 /* in a reader's read of the tenants or a token */

static __thread bool tl_reader;

static int on_trace(unsigned what, void *ud, void *p, void *x)
{
    (void)ud;
    (void)x;
    if (what == SQLITE_TRACE_ROW && tl_reader) {
        const char *sql = sqlite3_sql(p);
        const unsigned char *id = sqlite3_column_text(p, 0);
        if (sql && strstr(sql, "FROM tokens WHERE hash"))
            usleep(READER_PAUSE_US);
        /* the first row of the whole list */
        else if (sql && strstr(sql, "FROM tenants ORDER BY id") && id &&
                 !strcmp((const char *)id, "p00000"))
            usleep(READER_PAUSE_US);
    }
    return 0;
}

/* every connection the store opens (sqlite3_auto_extension) */
static int hook_connection(sqlite3 *db, const char **err, const void *api)
{
    (void)err;
    (void)api;
    sqlite3_trace_v2(db, SQLITE_TRACE_ROW, on_trace, NULL);
    return SQLITE_OK;
}

struct fx {
    char dir[64];
    struct store *s;
    atomic_bool stop;
    pthread_t th[READERS + 1];  /* the readers, then the noise writer */
    int nth;
    /* the tokens the readers look up: same first 4 bytes, same cache slot */
    uint8_t hash[2][SW_TOKEN_HASH_LEN];
    pthread_mutex_t hash_mu;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char url[160], err[256];
    /* on tmpfs when there is one: the test is about races, not fsync */
    snprintf(x->dir, sizeof(x->dir), "/dev/shm/sw-store-cache.XXXXXX");
    if (!mkdtemp(x->dir)) {
        snprintf(x->dir, sizeof(x->dir), "/tmp/sw-store-cache.XXXXXX");
        assert_non_null(mkdtemp(x->dir));
    }
    snprintf(url, sizeof(url), "sqlite:%s/db", x->dir);
    if (store_open(url, &x->s, err, sizeof(err)) < 0)
        fail_msg("store_open: %s", err);
    pthread_mutex_init(&x->hash_mu, NULL);

    /* PRELOAD tenants in one transaction, beside the store (nothing is
     * cached yet) */
    sqlite3 *db;
    snprintf(url, sizeof(url), "%s/db", x->dir);
    assert_int_equal(sqlite3_open(url, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
        "INSERT INTO tenants (id, name, timezone, created_at) VALUES (?1, ?1, 'UTC', 1)",
        -1, &st, NULL), SQLITE_OK);
    for (int i = 0; i < PRELOAD; i++) {
        char id[32];
        snprintf(id, sizeof(id), "p%05d", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    char cmd[128];
    atomic_store(&x->stop, true);       /* a failed test left them running */
    for (int i = 0; i < x->nth; i++)
        pthread_join(x->th[i], NULL);
    store_close(x->s);
    pthread_mutex_destroy(&x->hash_mu);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", x->dir);
    free(x);
    return 0;
}

static int count_cb(const struct sw_tenant *t, void *ud)
{
    (void)t;
    (*(int *)ud)++;
    return 0;
}

struct find {
    const char *id;
    bool found;
};

static int find_cb(const struct sw_tenant *t, void *ud)
{
    struct find *f = ud;
    if (strcmp(t->id, f->id) == 0)
        f->found = true;
    return f->found;
}

static void *reader(void *arg)
{
    struct fx *x = arg;
    struct sw_tenant t;
    struct sw_token tok;
    uint8_t h[SW_TOKEN_HASH_LEN];
    tl_reader = true;
    while (!atomic_load(&x->stop)) {
        int n = 0;
        store_tenant_list(x->s, NULL, 0, count_cb, &n);
        store_tenant_get(x->s, "t0", &t);
        for (int k = 0; k < 2; k++) {
            pthread_mutex_lock(&x->hash_mu);
            memcpy(h, x->hash[k], sizeof(h));
            pthread_mutex_unlock(&x->hash_mu);
            store_token_lookup(x->s, h, &tok);
        }
    }
    return NULL;
}

/* Renames tenant p00001 until stopped: every commit clears the cache. */
static void *noise(void *arg)
{
    struct fx *x = arg;
    for (int i = 0; !atomic_load(&x->stop); i++) {
        char name[32];
        snprintf(name, sizeof(name), "Noise %d", i);
        struct sw_tenant_patch p = {.name = name, .cap_action = -1};
        struct sw_tenant t;
        store_tenant_update(x->s, "p00001", &p, &t);
    }
    return NULL;
}

/* READERS readers, and the noise writer when asked; joined at teardown */
static void start_readers(struct fx *x, bool with_noise)
{
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&x->th[x->nth++], NULL, reader, x), 0);
    if (with_noise)
        assert_int_equal(pthread_create(&x->th[x->nth++], NULL, noise, x), 0);
}

static void test_tenant_change_is_seen_at_once(void **state)
{
    struct fx *x = *state;
    start_readers(x, true);
    for (int i = 0; i < ROUNDS; i++) {
        struct sw_tenant t = {.created_at = 1};
        snprintf(t.id, sizeof(t.id), "t%d", i);
        snprintf(t.name, sizeof(t.name), "Tenant %d", i);
        assert_int_equal(store_tenant_create(x->s, &t, NULL), 0);
        /* a stale list installed by a reader would show within its pause */
        struct sw_tenant got;
        for (int k = 0; k < 4; k++) {
            int rc = store_tenant_get(x->s, t.id, &got);
            if (rc != 0)
                fail_msg("round %d: tenant %s created, then get answered %d", i, t.id, rc);
            struct find f = {t.id, false};
            assert_int_equal(store_tenant_list(x->s, NULL, 0, find_cb, &f), 0);
            if (!f.found)
                fail_msg("round %d: tenant %s created, then missing from the list", i, t.id);
            usleep(READER_PAUSE_US / 2);
        }
        /* and a change */
        char name[32];
        snprintf(name, sizeof(name), "Renamed %d", i);
        struct sw_tenant_patch p = {.name = name, .cap_action = -1};
        assert_int_equal(store_tenant_update(x->s, t.id, &p, &got), 0);
        for (int k = 0; k < 4; k++) {
            assert_int_equal(store_tenant_get(x->s, t.id, &got), 0);
            if (strcmp(got.name, name) != 0)
                fail_msg("round %d: tenant %s renamed '%s', then get answered '%s'", i, t.id,
                         name, got.name);
            usleep(READER_PAUSE_US / 2);
        }
    }
}

static void test_revoked_token_is_dead_at_once(void **state)
{
    struct fx *x = *state;
    start_readers(x, false);
    for (int i = 0; i < ROUNDS; i++) {
        struct sw_token t = {.created_at = 1};
        uint8_t h[2][SW_TOKEN_HASH_LEN];
        int64_t id = 0, id2 = 0;
        memset(h, 0, sizeof(h));
        memcpy(h[0], &i, sizeof(i));
        memcpy(h[1], &i, sizeof(i));
        h[1][SW_TOKEN_HASH_LEN - 1] = 1;
        snprintf(t.name, sizeof(t.name), "tok%d", i);
        snprintf(t.role, sizeof(t.role), "platform_admin");
        assert_int_equal(store_token_create(x->s, &t, h[0], &id), 0);
        assert_int_equal(store_token_create(x->s, &t, h[1], &id2), 0);
        pthread_mutex_lock(&x->hash_mu);
        memcpy(x->hash, h, sizeof(h));
        pthread_mutex_unlock(&x->hash_mu);
        struct sw_token got;
        const uint8_t *hh = h[0];
        assert_int_equal(store_token_lookup(x->s, hh, &got), 0);
        assert_int_equal(got.revoked_at, 0);
        usleep(1000);                   /* the readers are at it */
        assert_int_equal(store_token_revoke(x->s, id, 2, NULL), 0);
        /* a stale row put back by a reader would show within its pause */
        for (int k = 0; k < 6; k++) {
            assert_int_equal(store_token_lookup(x->s, hh, &got), 0);
            if (got.revoked_at == 0)
                fail_msg("round %d: token revoked, then a lookup found it live", i);
            usleep(READER_PAUSE_US / 2);
        }
    }
}

int main(void)
{
    sqlite3_auto_extension((void (*)(void))hook_connection);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tenant_change_is_seen_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_token_is_dead_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
