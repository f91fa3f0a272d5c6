/* db_rows.c: multi-row statement texts (db.h, struct db_rows). */
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* ROW with its ?N renumbered by off, appended at s + *len. */
static void row_put(char *s, size_t cap, size_t *len, const char *row, int off)
{
    for (const char *p = row; *p;) {
        if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
            char *end;
            long k = strtol(p + 1, &end, 10);
            *len += (size_t)snprintf(s + *len, cap - *len, "?%ld", k + off);
            p = end;
        } else {
            s[(*len)++] = *p++;
        }
    }
    s[*len] = '\0';
}

const char *db_rows_sql(struct db_rows *m, int k)
{
    char *have = atomic_load(&m->sql[k]);
    if (have)
        return have;
    int rows = 1 << k;
    /* each renumbered ?N grows by at most 5 digits */
    size_t rowcap = strlen(m->row) + (size_t)m->nparams * 6 + 2;
    size_t cap = strlen(m->head) + strlen(m->tail) + (size_t)rows * rowcap + 1, len = 0;
    char *s = xmalloc(cap);
    len = (size_t)snprintf(s, cap, "%s", m->head);
    for (int r = 0; r < rows; r++) {
        if (r)
            len += (size_t)snprintf(s + len, cap - len, ", ");
        row_put(s, cap, &len, m->row, r * m->nparams);
    }
    snprintf(s + len, cap - len, "%s", m->tail);
    char *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->sql[k], &expected, s)) {
        free(s);                /* another thread built it first */
        return expected;
    }
    return s;
}

int db_rows_piece(size_t n)
{
    int k = DB_ROWS_LOG2_MAX;
    while (k > 0 && (size_t)1 << k > n)
        k--;
    return k;
}

int db_rows_exec(struct db_conn *c, struct db_rows *m, size_t n, db_rows_bind_fn bind,
                 const void *ud)
{
    int rc = 0;
    for (size_t off = 0; off < n && rc == 0;) {
        int k = db_rows_piece(n - off);
        struct db_stmt *st;
        if ((rc = db_prep(c, db_rows_sql(m, k), &st)) < 0)
            break;
        for (int r = 0; r < 1 << k; r++, off++)
            bind(st, r * m->nparams, off, ud);
        rc = db_exec(st);
    }
    return rc;
}
