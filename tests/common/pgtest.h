/* pgtest.h: databases on the throw-away PostgreSQL cluster that ctest's
 * fixture starts (scripts/pg-test-cluster.sh), for tests that run on both
 * backends.  The cluster's URL comes from SLAWATCH_TEST_PG (a URL) or the
 * file named by SLAWATCH_TEST_PG_FILE. */
#ifndef SW_TESTS_PGTEST_H
#define SW_TESTS_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

/* The cluster's URL, or NULL when none was given. */
const char *pgtest_base_url(void);
/* Creates an empty database with a unique name; url = its URL.  0 or -1
 * (with a message on stderr). */
int pgtest_db_create(char *url, size_t len);
/* Drops it (connections to it are terminated). */
void pgtest_db_drop(const char *url);

#endif
