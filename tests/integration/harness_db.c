/* harness_db.c: see harness_db.h. */
#include "harness_db.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long on_sqlite(const char *path, const char *sql, char *err, size_t errlen)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    long rc = -1;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        rc = (long)sqlite3_changes(db);
    else
        snprintf(err, errlen, "%s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

static long on_pg(const char *url, const char *sql, char *err, size_t errlen)
{
    PGconn *h = PQconnectdb(url);
    long rc = -1;
    if (PQstatus(h) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(h));
    } else {
        PGresult *r = PQexec(h, sql);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            rc = atol(PQcmdTuples(r));
        else
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(h);
    return rc;
}

long it_db_exec(struct sw_server *s, const char *sql, char *err, size_t errlen)
{
    if (!strncmp(s->db, "sqlite:", 7))
        return on_sqlite(s->db + 7, sql, err, errlen);
    return on_pg(s->db, sql, err, errlen);
}
