/* storetest.c: see storetest.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgtest.h"
#include "store/store_int.h"
#include "storetest.h"

static int open_store(struct storetest *t)
{
    char err[512] = "";
    if (store_sql_open(t->url, &t->s, err, sizeof(err)) < 0) {
        fprintf(stderr, "store_sql_open %s: %s\n", t->url, err);
        return -1;
    }
    return 0;
}

int storetest_setup_sqlite(void **state)
{
    struct storetest *t = calloc(1, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/slawatch-store-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->url, sizeof(t->url), "sqlite:%s/store.db", t->dir);
    if (open_store(t) < 0)
        return -1;
    *state = t;
    return 0;
}

int storetest_setup_pg(void **state)
{
    struct storetest *t = calloc(1, sizeof(*t));
    t->pg = true;
    if (pgtest_db_create(t->url, sizeof(t->url)) < 0 || open_store(t) < 0)
        return -1;
    *state = t;
    return 0;
}

int storetest_teardown(void **state)
{
    struct storetest *t = *state;
    if (!t)
        return 0;
    store_close(t->s);
    if (t->pg) {
        pgtest_db_drop(t->url);
    } else {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", t->dir);
    }
    free(t);
    return 0;
}

void storetest_reopen(struct storetest *t)
{
    store_close(t->s);
    t->s = NULL;
    assert_int_equal(open_store(t), 0);
}

int storetest_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    struct CMUnitTest *sq = calloc(n, sizeof(*sq)), *pg = calloc(n, sizeof(*pg));
    for (size_t i = 0; i < n; i++) {
        sq[i] = tests[i];
        sq[i].setup_func = storetest_setup_sqlite;
        sq[i].teardown_func = storetest_teardown;
        pg[i] = tests[i];
        pg[i].setup_func = storetest_setup_pg;
        pg[i].teardown_func = storetest_teardown;
    }
    char a[96], b[96];
    snprintf(a, sizeof(a), "%s_sqlite", name);
    snprintf(b, sizeof(b), "%s_postgres", name);
    int failed = _cmocka_run_group_tests(a, sq, n, NULL, NULL);
    failed += _cmocka_run_group_tests(b, pg, n, NULL, NULL);
    free(sq);
    free(pg);
    return failed;
}
