/* pgtest.c: see pgtest.h. */
#include "pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char base[512];

const char *pgtest_base_url(void)
{
    if (base[0])
        return base;
    const char *u = getenv("SLAWATCH_TEST_PG");
    if (u && *u) {
        snprintf(base, sizeof(base), "%s", u);
        return base;
    }
    const char *f = getenv("SLAWATCH_TEST_PG_FILE");
    if (!f || !*f)
        return NULL;
    FILE *fp = fopen(f, "r");
    if (!fp)
        return NULL;
    if (!fgets(base, sizeof(base), fp))
        base[0] = '\0';
    fclose(fp);
    base[strcspn(base, "\r\n")] = '\0';
    return base[0] ? base : NULL;
}

/* url with its database (the path) replaced by name. */
static void with_db(const char *url, const char *name, char *out, size_t len)
{
    const char *scheme = strstr(url, "://");
    const char *slash = strchr(scheme ? scheme + 3 : url, '/');
    const char *q = strchr(url, '?');
    size_t head = slash ? (size_t)(slash - url) : (q ? (size_t)(q - url) : strlen(url));
    snprintf(out, len, "%.*s/%s%s", (int)head, url, name, q ? q : "");
}

static int admin(const char *sql)
{
    PGconn *h = PQconnectdb(pgtest_base_url());
    if (PQstatus(h) != CONNECTION_OK) {
        fprintf(stderr, "pgtest: %s", PQerrorMessage(h));
        PQfinish(h);
        return -1;
    }
    PGresult *r = PQexec(h, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "pgtest: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(h);
    return rc;
}

int pgtest_db_create(char *url, size_t len)
{
    if (!pgtest_base_url()) {
        fprintf(stderr, "pgtest: no cluster (SLAWATCH_TEST_PG or SLAWATCH_TEST_PG_FILE)\n");
        return -1;
    }
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char name[64], sql[128];
    snprintf(name, sizeof(name), "t_%d_%u_%ld", (int)getpid(), ++counter, ts.tv_nsec);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (admin(sql) < 0)
        return -1;
    with_db(pgtest_base_url(), name, url, len);
    return 0;
}

void pgtest_db_drop(const char *url)
{
    const char *slash = strrchr(url, '/');
    if (!slash || !pgtest_base_url())
        return;
    char name[64], sql[160];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(slash + 1, "?"), slash + 1);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    admin(sql);
}
