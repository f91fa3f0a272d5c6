/* rollup_rows.c: rollup rows, whatever they roll up (rollups_int.h): one
 * row changed under its lock, a rebuild's rows in batches, the tenant's
 * zone.  analytics.c (alerts) and finding_rollups.c (findings) hold the
 * statements of their tables and decide what a sample is. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rollups_int.h"
#include "util/log.h"
#include "util/xalloc.h"

static const char SQL_TZ_SHARE[] = "SELECT timezone FROM tenants WHERE id = ?1 {FOR_SHARE}";
static const char SQL_TZ_LOCK[] = "SELECT timezone FROM tenants WHERE id = ?1 {FOR_UPDATE}";

int rollup_tenant_tz_in(struct db_conn *c, const char *tenant_id, bool exclusive,
                        struct tz *out)
{
    char zone[SW_TZ_MAX + 1] = "UTC";
    struct db_stmt *st;
    int rc = db_prep(c, exclusive ? SQL_TZ_LOCK : SQL_TZ_SHARE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    rc = db_step_one(st);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        db_col_copy(st, 0, zone, sizeof(zone));
        db_reset(st);
    }
    tz_open_or_utc(out, zone);
    return 0;
}

void rollup_key_day(struct tz *z, int64_t at, struct rkey *k)
{
    tz_local_day(z, at, k->day, sizeof(k->day));
    k->day_lo = z->lo <= z->hi ? z->lo : at;
    k->day_hi = z->lo <= z->hi ? z->hi : at + 1;
}

/* ---- one row ------------------------------------------------------------------ */

static void bind_key(struct db_stmt *st, const struct rkey *k)
{
    db_bind_text(st, 1, k->tenant_id);
    db_bind_text(st, 2, k->day);
    db_bind_text(st, 3, sla_sev_name(k->sev));
    db_bind_text(st, 4, k->project_id);
    db_bind_text(st, 5, k->kind);
}

/* Values from parameter `first` on; hist is encoded into buf
 * (SLA_HIST_ENC_MAX bytes), which must outlive the statement's run. */
static void bind_values(struct db_stmt *st, int first, const struct sla_rollup *r, uint8_t *buf,
                        size_t len)
{
    db_bind_int64(st, first, (int64_t)r->count);
    db_bind_int64(st, first + 1, (int64_t)r->met);
    db_bind_int64(st, first + 2, (int64_t)r->breached);
    db_bind_int64(st, first + 3, r->sum_ms);
    db_bind_int64(st, first + 4, r->min_ms);
    db_bind_int64(st, first + 5, r->max_ms);
    db_bind_blob(st, first + 6, buf, len);
    db_bind_int64(st, first + 7, r->penalty_cents);
}

void rollup_row_read(struct db_stmt *st, int first, struct sla_rollup *r, const uint8_t **hist,
                     size_t *hist_len)
{
    r->count = (uint64_t)db_col_int64(st, first);
    r->met = (uint64_t)db_col_int64(st, first + 1);
    r->breached = (uint64_t)db_col_int64(st, first + 2);
    r->sum_ms = db_col_int64(st, first + 3);
    r->min_ms = db_col_int64(st, first + 4);
    r->max_ms = db_col_int64(st, first + 5);
    *hist = db_col_blob(st, first + 6, hist_len);
    r->penalty_cents = db_col_int64(st, first + 7);
}

/* The row, locked: 1 = found (into r), 0 = none, < 0 error. */
static int row_lock_read(struct db_conn *c, const struct rollup_table *t, const struct rkey *k,
                         struct sla_rollup *r)
{
    sla_rollup_clear(r);
    struct db_stmt *st;
    int rc = db_prep(c, t->lock, &st);
    if (rc < 0)
        return rc;
    bind_key(st, k);
    rc = db_step_one(st);
    if (rc != 1)
        return rc;
    const uint8_t *b;
    size_t n = 0;
    rollup_row_read(st, 0, r, &b, &n);
    if (sla_hist_decode_add(&r->hist, b, n) < 0) {
        log_error("%s: corrupt histogram for %s %s", t->name, k->tenant_id, k->day);
        rc = SW_E_STORE;
    }
    db_reset(st);
    return rc;
}

/* A new row: 1 = inserted, 0 = another transaction inserted it first. */
static int row_insert(struct db_conn *c, const struct rollup_table *t, const struct rkey *k,
                      const struct sla_rollup *r)
{
    struct db_stmt *st;
    int rc = db_prep(c, t->insert, &st);
    if (rc < 0)
        return rc;
    uint8_t *buf = xmalloc(SLA_HIST_ENC_MAX);
    size_t len = 0;
    sla_hist_encode(&r->hist, buf, SLA_HIST_ENC_MAX, &len);
    bind_key(st, k);
    bind_values(st, 6, r, buf, len);
    rc = db_step_one(st);
    if (rc == 1)
        db_reset(st);
    free(buf);
    return rc;
}

/* Writes a locked row back, or deletes it when its count is 0. */
static int row_write(struct db_conn *c, const struct rollup_table *t, const struct rkey *k,
                     const struct sla_rollup *r)
{
    struct db_stmt *st;
    int rc = db_prep(c, r->count ? t->update : t->del, &st);
    if (rc < 0)
        return rc;
    bind_key(st, k);
    if (r->count == 0)
        return db_exec(st);
    uint8_t *buf = xmalloc(SLA_HIST_ENC_MAX);
    size_t len = 0;
    sla_hist_encode(&r->hist, buf, SLA_HIST_ENC_MAX, &len);
    bind_values(st, 6, r, buf, len);
    rc = db_exec(st);
    free(buf);
    return rc;
}

static void warn_missing(const struct rollup_table *t, const struct rkey *k)
{
    /* rollups of a database that predates them were never built
     * (rollup_ensure), or were edited by hand */
    log_warn("%s: %s/%s %s %s has no such %s sample to take back; run `slawatch rollups "
             "rebuild`", t->name, k->tenant_id, k->day, sla_sev_name(k->sev), k->project_id,
             k->kind);
}

/* Rounds of "not there, then inserted by another" before giving up (the
 * transaction is then run again by db_tx). */
#define INSERT_RACES 3

int rollup_row_apply_in(struct db_conn *c, struct rollup_table *t, const struct rkey *k,
                        const struct sla_sample *smp, int sign)
{
    struct sla_rollup *r = xmalloc(sizeof(*r));
    int rc;
    for (int round = 0;; round++) {
        if ((rc = row_lock_read(c, t, k, r)) != 0)
            break;
        if (sign < 0) {
            warn_missing(t, k);
            goto done;
        }
        sla_rollup_add(r, smp);
        if ((rc = row_insert(c, t, k, r)) != 0) {
            rc = rc < 0 ? rc : 0;
            goto done;
        }
        if (round + 1 == INSERT_RACES) {
            rc = SW_E_RETRY;
            goto done;
        }
    }
    if (rc < 0)
        goto done;
    if (sign > 0) {
        sla_rollup_add(r, smp);
    } else {
        bool max_stale = false, min_stale = false;
        if (sla_rollup_remove(r, smp, &max_stale, &min_stale) < 0) {
            warn_missing(t, k);
            rc = 0;
            goto done;
        }
        if (max_stale && (rc = t->raw_extreme(c, k, true, &r->max_ms)) < 0)
            goto done;
        if (min_stale && (rc = t->raw_extreme(c, k, false, &r->min_ms)) < 0)
            goto done;
    }
    rc = row_write(c, t, k, r);
done:
    free(r);
    return rc;
}

/* ---- a rebuild's batches ---------------------------------------------------------- */

/* Rows per multi-row upsert (12 parameters each, and the tenant). */
#define BATCH 32
#define ROW_PARAMS 12

static pthread_mutex_t put_mu = PTHREAD_MUTEX_INITIALIZER;

static char *put_sql_build(const struct rollup_table *t, int rows)
{
    size_t cap = strlen(t->put_head) + strlen(t->put_tail) + (size_t)rows * 96 + 1;
    char *dst = xmalloc(cap);
    size_t n = (size_t)snprintf(dst, cap, "%s", t->put_head);
    for (int i = 0; i < rows; i++) {
        int p = 2 + ROW_PARAMS * i;
        n += (size_t)snprintf(dst + n, cap - n, "%s(?1", i ? ", " : "");
        for (int j = 0; j < ROW_PARAMS; j++)
            n += (size_t)snprintf(dst + n, cap - n, ", ?%d", p + j);
        n += (size_t)snprintf(dst + n, cap - n, ")");
    }
    snprintf(dst + n, cap - n, "%s", t->put_tail);
    return dst;
}

/* Built once per table and kept for the process: the statement cache keys
 * on the text's address. */
static void put_sql_init(struct rollup_table *t)
{
    pthread_mutex_lock(&put_mu);
    if (!t->put1) {
        t->putn = put_sql_build(t, BATCH);
        t->put1 = put_sql_build(t, 1);
    }
    pthread_mutex_unlock(&put_mu);
}

struct rollup_batch {
    struct rollup_table *t;
    const char *tenant_id;
    int n;
    struct brow {
        char day[SLA_DATE_BUFSZ];
        char project_id[SW_ID_MAX + 1];
        enum sla_sev sev;
        char kind[24];
        struct sla_rollup v;        /* all but the histogram */
        size_t hist_len;
    } row[BATCH];
    uint8_t *hist;                  /* BATCH x SLA_HIST_ENC_MAX */
    int64_t written;
};

struct rollup_batch *rollup_batch_new(struct rollup_table *t, const char *tenant_id)
{
    put_sql_init(t);
    struct rollup_batch *b = xcalloc(1, sizeof(*b));
    b->t = t;
    b->tenant_id = tenant_id;
    b->hist = xmalloc((size_t)BATCH * SLA_HIST_ENC_MAX);
    return b;
}

void rollup_batch_free(struct rollup_batch *b)
{
    if (!b)
        return;
    free(b->hist);
    free(b);
}

static void bind_brow(struct db_stmt *st, int p, const struct brow *w, uint8_t *hist)
{
    db_bind_text(st, p, w->day);
    db_bind_text(st, p + 1, sla_sev_name(w->sev));
    db_bind_text(st, p + 2, w->project_id);
    db_bind_text(st, p + 3, w->kind);
    bind_values(st, p + 4, &w->v, hist, w->hist_len);
}

/* One statement when the batch is full, else one per row (a tenant's tail). */
static int batch_flush(struct db_conn *c, struct rollup_batch *b)
{
    if (b->n == 0)
        return 0;
    struct db_stmt *st;
    int rc;
    if (b->n == BATCH) {
        if ((rc = db_prep(c, b->t->putn, &st)) < 0)
            return rc;
        db_bind_text(st, 1, b->tenant_id);
        for (int i = 0; i < b->n; i++)
            bind_brow(st, 2 + ROW_PARAMS * i, &b->row[i],
                      b->hist + (size_t)i * SLA_HIST_ENC_MAX);
        if ((rc = db_exec(st)) < 0)
            return rc;
    } else {
        for (int i = 0; i < b->n; i++) {
            if ((rc = db_prep(c, b->t->put1, &st)) < 0)
                return rc;
            db_bind_text(st, 1, b->tenant_id);
            bind_brow(st, 2, &b->row[i], b->hist + (size_t)i * SLA_HIST_ENC_MAX);
            if ((rc = db_exec(st)) < 0)
                return rc;
        }
    }
    b->written += b->n;
    b->n = 0;
    return 0;
}

int rollup_batch_push(struct db_conn *c, struct rollup_batch *b, const struct rkey *k,
                      const struct sla_rollup *r)
{
    struct brow *w = &b->row[b->n];
    snprintf(w->day, sizeof(w->day), "%s", k->day);
    snprintf(w->project_id, sizeof(w->project_id), "%s", k->project_id);
    snprintf(w->kind, sizeof(w->kind), "%s", k->kind);
    w->sev = k->sev;
    w->v = *r;
    sla_hist_encode(&r->hist, b->hist + (size_t)b->n * SLA_HIST_ENC_MAX, SLA_HIST_ENC_MAX,
                    &w->hist_len);
    b->n++;
    return b->n == BATCH ? batch_flush(c, b) : 0;
}

int rollup_batch_finish(struct db_conn *c, struct rollup_batch *b, int64_t *written)
{
    int rc = batch_flush(c, b);
    if (rc == 0 && written)
        *written += b->written;
    b->written = 0;
    return rc;
}
