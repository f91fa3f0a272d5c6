/* storetest.h: a fresh store for a store test, on either backend, so one
 * set of tests runs on SQLite and on PostgreSQL (the cluster of ctest's
 * pg fixture, pgtest.h).  Run a group twice:
 *
 *     storetest_run("alerts", tests, n)   // SQLite, then PostgreSQL
 *
 * and in each test take the store from *state (struct storetest *). */
#ifndef SW_TESTS_STORETEST_H
#define SW_TESTS_STORETEST_H

#include <stdbool.h>
#include <stddef.h>

struct store;
struct CMUnitTest;

struct storetest {
    struct store *s;
    bool pg;
    char url[512];
    char dir[128];          /* SQLite: the temp dir holding the file */
};

/* Opens a new empty store (migrated) on SQLite or PostgreSQL; cmocka
 * setup/teardown shapes. */
int storetest_setup_sqlite(void **state);
int storetest_setup_pg(void **state);
int storetest_teardown(void **state);
/* Closes and opens the same database again (restart). */
void storetest_reopen(struct storetest *t);

/* Runs the tests (their own setup/teardown are replaced) on both backends;
 * returns the number of failures. */
int storetest_run(const char *name, const struct CMUnitTest *tests, size_t n);

#endif
