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

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 4096;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

char *it_db_dump(struct sw_server *s, const char *sql)
{
    struct buf b = {0};
    put(&b, "", 0);
    if (!strncmp(s->db, "sqlite:", 7)) {
        sqlite3 *db;
        sqlite3_stmt *st;
        if (sqlite3_open_v2(s->db + 7, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            fprintf(stderr, "it_db_dump: %s\n", sqlite3_errmsg(db));
            sqlite3_close(db);
            free(b.p);
            return NULL;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                if (i)
                    put(&b, "|", 1);
                if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
                    const unsigned char *p = sqlite3_column_blob(st, i);
                    int n = sqlite3_column_bytes(st, i);
                    for (int k = 0; k < n; k++) {
                        char hx[3];
                        snprintf(hx, sizeof(hx), "%02x", p[k]);
                        put(&b, hx, 2);
                    }
                } else {
                    const char *t = (const char *)sqlite3_column_text(st, i);
                    put(&b, t ? t : "", t ? strlen(t) : 0);
                }
            }
            put(&b, "\n", 1);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return b.p;
    }
    PGconn *h = PQconnectdb(s->db);
    PGresult *r = PQexec(h, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "it_db_dump: %s\n", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(h);
        free(b.p);
        return NULL;
    }
    for (int row = 0; row < PQntuples(r); row++) {
        for (int i = 0; i < PQnfields(r); i++) {
            if (i)
                put(&b, "|", 1);
            const char *t = PQgetvalue(r, row, i);
            put(&b, t, strlen(t));
        }
        put(&b, "\n", 1);
    }
    PQclear(r);
    PQfinish(h);
    return b.p;
}
