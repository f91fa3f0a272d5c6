/* harness_db: SQL straight on a test server's database, as an operator
 * with the file or another node would run it, on SQLite or PostgreSQL. */
#ifndef SW_TEST_HARNESS_DB_H
#define SW_TEST_HARNESS_DB_H

#include <stddef.h>

#include "harness.h"

/* Runs sql (one statement or several) on s's database: the rows the last
 * statement changed, or -1 with the database's message in err. */
long it_db_exec(struct sw_server *s, const char *sql, char *err, size_t errlen);

/* The rows of a query, one line each, columns joined by '|' (blobs as
 * hex on SQLite, PostgreSQL's \x text on PostgreSQL); malloc'd. */
char *it_db_dump(struct sw_server *s, const char *sql);

#endif
