/* analytics.c: the rollups (store_analytics.h): kept live inside the
 * alert subject's transactions, rebuilt from the alerts table, read by the
 * reports.  Raw reads, tenant settings and live gauges: analytics_reads.c.
 *
 * Why rows are locked, not upserted.  A rollup row holds a histogram blob
 * that only C (core/rollup.c) can change, so a change is read, changed in
 * C and written back.  With several nodes on one PostgreSQL the read takes
 * {FOR_UPDATE}; a row that is not there yet is inserted with ON CONFLICT DO
 * NOTHING RETURNING, and when another node inserted it first the row is
 * read again, locked.  Two nodes acknowledging alerts of the same tenant,
 * day and severity at once therefore queue on the row and never lose a
 * count.  A row whose count reaches 0 is deleted.
 *
 * Why the tenant row is locked too.  A clock counts on the tenant-local
 * day of its stop, so every change reads tenants.timezone {FOR_SHARE}
 * (changes of one tenant run side by side), and a rebuild locks the same
 * row {FOR_UPDATE} before it deletes and recomputes: a rebuild never reads
 * the alerts while a change it cannot see is about to write rows by the
 * old zone, and a change that waited for a rebuild finds the new zone and
 * the rebuilt rows.
 *
 * A maximum cannot be un-merged: when a removed duration was its row's
 * maximum, the maximum is recomputed from the alerts of that row's key
 * (rare: a reopen, a severity change of an acknowledged alert).  That read
 * sees the caller's own writes, so the caller saves the alert first.
 *
 * Rebuild streams a tenant's stopped clocks ordered by (project, severity,
 * stop instant), so rows sharing a local day come together: one
 * accumulator, flushed when the key changes, and util/tz's day cache costs
 * ICU calls per new day only.  Rows are written BATCH at a time in one
 * multi-row INSERT (one round trip on PostgreSQL instead of BATCH).  The
 * PostgreSQL driver fetches a statement's whole result, so a tenant's
 * stopped clocks are held in memory once per clock while it runs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_alerts.h"
#include "store/store_analytics.h"
#include "store/store_int.h"
#include "util/log.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *const clock_names[SW_CLOCK_COUNT] = {"ack", "resolve"};

static enum sla_sev sev_of(const char *s)
{
    enum sla_sev v = SLA_SEV_LOW;
    if (s)
        sla_sev_parse(SLA_ALERT, s, &v);
    return v;
}

/* ---- statements ---------------------------------------------------------------- */

/* the zone of a change: shared with other changes, exclusive of a rebuild */
static const char SQL_TZ_SHARE[] = "SELECT timezone FROM tenants WHERE id = ?1 {FOR_SHARE}";
static const char SQL_TZ_LOCK[] = "SELECT timezone FROM tenants WHERE id = ?1 {FOR_UPDATE}";

#define ROW_KEY "tenant_id = ?1 AND day = ?2 AND severity = ?3 AND project_id = ?4 AND clock = ?5"
#define ROW_COLS "tenant_id, day, severity, project_id, clock, count, met, breached, " \
                 "sum_ms, max_ms, hist, penalty_cents"

static const char SQL_ROW_LOCK[] =
    "SELECT count, met, breached, sum_ms, max_ms, hist, penalty_cents FROM rollups "
    "WHERE " ROW_KEY " {FOR_UPDATE}";
static const char SQL_ROW_INSERT[] =
    "INSERT INTO rollups (" ROW_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12) ON CONFLICT (tenant_id, day, severity, project_id, clock) DO NOTHING RETURNING count";
static const char SQL_ROW_UPDATE[] =
    "UPDATE rollups SET count = ?6, met = ?7, breached = ?8, sum_ms = ?9, max_ms = ?10, "
    "hist = ?11, penalty_cents = ?12 WHERE " ROW_KEY;
static const char SQL_ROW_DELETE[] = "DELETE FROM rollups WHERE " ROW_KEY;
/* active duration of a stopped clock = stop - start - paused (alerts never
 * stay paused: paused_since is 0 for them) */
static const char SQL_MAX_ACK[] =
    "SELECT max(COALESCE(ack_elapsed_ms, ack_stopped_at - ack_started_at - ack_paused_ms)) "
    "FROM alerts "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 "
    "AND ack_stopped_at >= ?4 AND ack_stopped_at < ?5";
static const char SQL_MAX_RES[] =
    "SELECT max(COALESCE(res_elapsed_ms, res_stopped_at - res_started_at - res_paused_ms)) "
    "FROM alerts "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 "
    "AND res_stopped_at >= ?4 AND res_stopped_at < ?5";

/* The tenant's zone (UTC when unknown or missing), read with sql's lock;
 * *out is opened only on success. */
static int tenant_tz(struct db_conn *c, const char *sql, const char *tenant_id, struct tz *out)
{
    char zone[SW_TZ_MAX + 1] = "UTC";
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
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

/* ---- one row ----------------------------------------------------------------------- */

struct rkey {
    const char *tenant_id;
    const char *project_id;
    enum sla_sev sev;
    enum sw_clock_kind clock;
    char day[SLA_DATE_BUFSZ];
    int64_t day_lo, day_hi;     /* the local day as UTC [lo, hi) */
};

static void bind_key(struct db_stmt *st, const struct rkey *k)
{
    db_bind_text(st, 1, k->tenant_id);
    db_bind_text(st, 2, k->day);
    db_bind_text(st, 3, sla_sev_name(k->sev));
    db_bind_text(st, 4, k->project_id);
    db_bind_text(st, 5, clock_names[k->clock]);
}

/* Columns 6..12 of the insert and the update; hist is encoded into buf
 * (SLA_HIST_ENC_MAX bytes), which must outlive the statement's run. */
static void bind_values(struct db_stmt *st, int first, const struct sla_rollup *r, uint8_t *buf)
{
    size_t len = 0;
    sla_hist_encode(&r->hist, buf, SLA_HIST_ENC_MAX, &len);
    db_bind_int64(st, first, (int64_t)r->count);
    db_bind_int64(st, first + 1, (int64_t)r->met);
    db_bind_int64(st, first + 2, (int64_t)r->breached);
    db_bind_int64(st, first + 3, r->sum_ms);
    db_bind_int64(st, first + 4, r->max_ms);
    db_bind_blob(st, first + 5, buf, len);
    db_bind_int64(st, first + 6, r->penalty_cents);
}

/* The row, locked: 1 = found (into r), 0 = none, < 0 error. */
static int row_lock_read(struct db_conn *c, const struct rkey *k, struct sla_rollup *r)
{
    sla_rollup_clear(r);
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ROW_LOCK, &st);
    if (rc < 0)
        return rc;
    bind_key(st, k);
    rc = db_step_one(st);
    if (rc != 1)
        return rc;
    r->count = (uint64_t)db_col_int64(st, 0);
    r->met = (uint64_t)db_col_int64(st, 1);
    r->breached = (uint64_t)db_col_int64(st, 2);
    r->sum_ms = db_col_int64(st, 3);
    r->max_ms = db_col_int64(st, 4);
    size_t n = 0;
    const void *b = db_col_blob(st, 5, &n);
    r->penalty_cents = db_col_int64(st, 6);
    if (sla_hist_decode_add(&r->hist, b, n) < 0) {
        log_error("rollups: corrupt histogram for %s %s", k->tenant_id, k->day);
        rc = SW_E_STORE;
    }
    db_reset(st);
    return rc;
}

/* A new row: 1 = inserted, 0 = another transaction inserted it first. */
static int row_insert(struct db_conn *c, const struct rkey *k, const struct sla_rollup *r)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ROW_INSERT, &st);
    if (rc < 0)
        return rc;
    uint8_t *buf = xmalloc(SLA_HIST_ENC_MAX);
    bind_key(st, k);
    bind_values(st, 6, r, buf);
    rc = db_step_one(st);
    if (rc == 1)
        db_reset(st);
    free(buf);
    return rc;
}

/* Writes a locked row back, or deletes it when its count is 0. */
static int row_write(struct db_conn *c, const struct rkey *k, const struct sla_rollup *r)
{
    struct db_stmt *st;
    int rc = db_prep(c, r->count ? SQL_ROW_UPDATE : SQL_ROW_DELETE, &st);
    if (rc < 0)
        return rc;
    bind_key(st, k);
    if (r->count == 0)
        return db_exec(st);
    uint8_t *buf = xmalloc(SLA_HIST_ENC_MAX);
    bind_values(st, 6, r, buf);
    rc = db_exec(st);
    free(buf);
    return rc;
}

static int raw_max(struct db_conn *c, const struct rkey *k, int64_t *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, k->clock == SW_CLOCK_ACK ? SQL_MAX_ACK : SQL_MAX_RES, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, k->tenant_id);
    db_bind_text(st, 2, k->project_id);
    db_bind_text(st, 3, sla_sev_name(k->sev));
    db_bind_int64(st, 4, k->day_lo);
    db_bind_int64(st, 5, k->day_hi);
    rc = db_step_one(st);
    if (rc == 1) {
        *out = db_col_int64(st, 0);
        db_reset(st);
        return 0;
    }
    return rc < 0 ? rc : SW_E_STORE;
}

/* Rounds of "not there, then inserted by another" before giving up (the
 * transaction is then run again by db_tx). */
#define INSERT_RACES 3

/* Adds (sign > 0) or removes one sample on its row. */
static int row_apply(struct db_conn *c, const struct rkey *k, const struct sla_sample *smp,
                     int sign)
{
    struct sla_rollup *r = xmalloc(sizeof(*r));
    int rc;
    for (int round = 0;; round++) {
        if ((rc = row_lock_read(c, k, r)) != 0)
            break;
        if (sign < 0) {
            /* not there: rollups of a database that predates them were
             * never built (rollup_ensure), or were edited by hand */
            log_warn("rollups: %s/%s %s %s has no such %s sample to take back; "
                     "run `slawatch rollups rebuild`",
                     k->tenant_id, k->day, sla_sev_name(k->sev), k->project_id,
                     clock_names[k->clock]);
            goto done;
        }
        sla_rollup_add(r, smp);
        if ((rc = row_insert(c, k, r)) != 0) {
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
        bool stale = false;
        if (sla_rollup_remove(r, smp, &stale) < 0) {
            log_warn("rollups: %s/%s %s %s has no such %s sample to take back; "
                     "run `slawatch rollups rebuild`",
                     k->tenant_id, k->day, sla_sev_name(k->sev), k->project_id,
                     clock_names[k->clock]);
            rc = 0;
            goto done;
        }
        if (stale && (rc = raw_max(c, k, &r->max_ms)) < 0)
            goto done;
    }
    rc = row_write(c, k, r);
done:
    free(r);
    return rc;
}

static const struct sla_clock *clock_of(const struct sw_alert *x, enum sw_clock_kind k)
{
    return k == SW_CLOCK_ACK ? &x->a.ack : &x->a.resolve;
}

static bool is_stopped(const struct sw_alert *x, enum sw_clock_kind k)
{
    return x && sla_clock_is_stopped(clock_of(x, k));
}

/* The key and sample of one stopped clock; false when it runs. */
static bool stopped_sample(struct tz *z, const struct sw_alert *x, enum sw_clock_kind k,
                           struct rkey *key, struct sla_sample *smp)
{
    if (!is_stopped(x, k))
        return false;
    const struct sla_clock *ck = clock_of(x, k);
    sla_clock_sample(ck, k == SW_CLOCK_RESOLVE ? x->a.targets.penalty_cph : 0, smp);
    memset(key, 0, sizeof(*key));
    key->tenant_id = x->tenant_id;
    key->project_id = x->project_id;
    key->sev = x->a.sev;
    key->clock = k;
    tz_local_day(z, ck->stopped_at, key->day, sizeof(key->day));
    key->day_lo = z->lo <= z->hi ? z->lo : ck->stopped_at;
    key->day_hi = z->lo <= z->hi ? z->hi : ck->stopped_at + 1;
    return true;
}

int store_rollup_change_in(struct db_conn *c, const struct sw_alert *before,
                           const struct sw_alert *after)
{
    if (!after)
        return SW_E_INVAL;
    bool any = false;
    for (int k = 0; k < SW_CLOCK_COUNT; k++)
        any |= is_stopped(before, k) || is_stopped(after, k);
    if (!any)
        return 0;
    struct tz z;
    int rc = tenant_tz(c, SQL_TZ_SHARE, after->tenant_id, &z);
    if (rc < 0)
        return rc;
    for (int k = 0; k < SW_CLOCK_COUNT && rc == 0; k++) {
        struct rkey kb, ka;
        struct sla_sample sb, sa;
        bool hb = stopped_sample(&z, before, k, &kb, &sb);
        bool ha = stopped_sample(&z, after, k, &ka, &sa);
        if (hb && ha && kb.sev == ka.sev && !strcmp(kb.day, ka.day) &&
            !strcmp(kb.project_id, ka.project_id) && sb.duration_ms == sa.duration_ms &&
            sb.met == sa.met && sb.penalty_cents == sa.penalty_cents)
            continue;       /* the same sample on the same row */
        if (hb)
            rc = row_apply(c, &kb, &sb, -1);
        if (rc == 0 && ha)
            rc = row_apply(c, &ka, &sa, +1);
    }
    tz_close(&z);
    return rc;
}

/* ---- rebuild --------------------------------------------------------------------- */

static const char SQL_DELETE_TENANT[] = "DELETE FROM rollups WHERE tenant_id = ?1";
static const char SQL_DELETE_ORPHANS[] =
    "DELETE FROM rollups WHERE NOT EXISTS "
    "(SELECT 1 FROM tenants t WHERE t.id = rollups.tenant_id)";
static const char SQL_TENANT_IDS_LOCK[] = "SELECT id FROM tenants ORDER BY id {FOR_UPDATE}";
static const char SQL_NEED_BUILD[] =
    "SELECT NOT EXISTS (SELECT 1 FROM rollups) AND "
    "EXISTS (SELECT 1 FROM alerts WHERE ack_stopped_at > 0 OR res_stopped_at > 0)";

/* 9, 10: a clock stopped on a calendar, its frozen verdict (business
 * active time, due) */
#define STOPPED_COLS(P, DUE)                                                    \
    "SELECT project_id, severity, " P "_started_at, " P "_target_ms, "          \
    P "_paused_ms, " P "_paused_since, " P "_stopped_at, " P "_last_event_at, " \
    "penalty_cph, " P "_elapsed_ms, " DUE " FROM alerts "                       \
    "WHERE tenant_id = ?1 AND " P "_stopped_at > 0 "                            \
    "ORDER BY project_id, severity, " P "_stopped_at"

static const char SQL_STOPPED_ACK[] = STOPPED_COLS("ack", "ack_due_at");
static const char SQL_STOPPED_RES[] = STOPPED_COLS("res", "resolve_due_at");

/* Rows per multi-row INSERT (11 parameters each, and the tenant). */
#define BATCH 32
#define PUT_HEAD "INSERT INTO rollups (" ROW_COLS ") VALUES "
#define PUT_TAIL                                                                      \
    " ON CONFLICT (tenant_id, day, severity, project_id, clock) DO UPDATE SET "       \
    "count = excluded.count, met = excluded.met, breached = excluded.breached, "      \
    "sum_ms = excluded.sum_ms, max_ms = excluded.max_ms, hist = excluded.hist, "      \
    "penalty_cents = excluded.penalty_cents"

/* Built once (the statement cache keys on the text's address, which is
 * static): one row's and BATCH rows' upsert. */
static char sql_put1[sizeof(PUT_HEAD) + sizeof(PUT_TAIL) + 80];
static char sql_putn[sizeof(PUT_HEAD) + sizeof(PUT_TAIL) + BATCH * 80];
static pthread_once_t put_once = PTHREAD_ONCE_INIT;

static void put_sql_build(char *dst, size_t cap, int rows)
{
    size_t n = (size_t)snprintf(dst, cap, "%s", PUT_HEAD);
    for (int i = 0; i < rows; i++) {
        int p = 2 + 11 * i;
        n += (size_t)snprintf(dst + n, cap - n,
                              "%s(?1, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d)",
                              i ? ", " : "", p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6,
                              p + 7, p + 8, p + 9, p + 10);
    }
    snprintf(dst + n, cap - n, "%s", PUT_TAIL);
}

static void put_sql_init(void)
{
    put_sql_build(sql_put1, sizeof(sql_put1), 1);
    put_sql_build(sql_putn, sizeof(sql_putn), BATCH);
}

/* Rows of one tenant waiting for their INSERT. */
struct batch {
    const char *tenant_id;
    int n;
    struct brow {
        char day[SLA_DATE_BUFSZ];
        char project_id[SW_ID_MAX + 1];
        enum sla_sev sev;
        enum sw_clock_kind clock;
        uint64_t count, met, breached;
        int64_t sum_ms, max_ms, penalty_cents;
        size_t hist_len;
    } row[BATCH];
    uint8_t *hist;              /* BATCH x SLA_HIST_ENC_MAX */
    int64_t written;
};

static void bind_brow(struct db_stmt *st, int p, const struct brow *b, const uint8_t *hist)
{
    db_bind_text(st, p, b->day);
    db_bind_text(st, p + 1, sla_sev_name(b->sev));
    db_bind_text(st, p + 2, b->project_id);
    db_bind_text(st, p + 3, clock_names[b->clock]);
    db_bind_int64(st, p + 4, (int64_t)b->count);
    db_bind_int64(st, p + 5, (int64_t)b->met);
    db_bind_int64(st, p + 6, (int64_t)b->breached);
    db_bind_int64(st, p + 7, b->sum_ms);
    db_bind_int64(st, p + 8, b->max_ms);
    db_bind_blob(st, p + 9, hist, b->hist_len);
    db_bind_int64(st, p + 10, b->penalty_cents);
}

/* Writes what is queued: one statement when the batch is full, else one
 * per row (the tail of a tenant). */
static int batch_flush(struct db_conn *c, struct batch *b)
{
    if (b->n == 0)
        return 0;
    pthread_once(&put_once, put_sql_init);
    struct db_stmt *st;
    int rc;
    if (b->n == BATCH) {
        if ((rc = db_prep(c, sql_putn, &st)) < 0)
            return rc;
        db_bind_text(st, 1, b->tenant_id);
        for (int i = 0; i < b->n; i++)
            bind_brow(st, 2 + 11 * i, &b->row[i], b->hist + (size_t)i * SLA_HIST_ENC_MAX);
        if ((rc = db_exec(st)) < 0)
            return rc;
    } else {
        for (int i = 0; i < b->n; i++) {
            if ((rc = db_prep(c, sql_put1, &st)) < 0)
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

static int batch_push(struct db_conn *c, struct batch *b, const struct rkey *k,
                      const struct sla_rollup *r)
{
    struct brow *w = &b->row[b->n];
    snprintf(w->day, sizeof(w->day), "%s", k->day);
    snprintf(w->project_id, sizeof(w->project_id), "%s", k->project_id);
    w->sev = k->sev;
    w->clock = k->clock;
    w->count = r->count;
    w->met = r->met;
    w->breached = r->breached;
    w->sum_ms = r->sum_ms;
    w->max_ms = r->max_ms;
    w->penalty_cents = r->penalty_cents;
    sla_hist_encode(&r->hist, b->hist + (size_t)b->n * SLA_HIST_ENC_MAX, SLA_HIST_ENC_MAX,
                    &w->hist_len);
    b->n++;
    return b->n == BATCH ? batch_flush(c, b) : 0;
}

static int rebuild_clock(struct db_conn *c, struct batch *b, struct tz *z,
                         enum sw_clock_kind k)
{
    struct db_stmt *st;
    int rc = db_prep(c, k == SW_CLOCK_ACK ? SQL_STOPPED_ACK : SQL_STOPPED_RES, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, b->tenant_id);
    struct sla_rollup *acc = xmalloc(sizeof(*acc));
    sla_rollup_clear(acc);
    /* rows are written while this statement is still stepping: the
     * drivers allow other statements between two steps */
    char project[SW_ID_MAX + 1] = "", prev_project[SW_ID_MAX + 1] = "";
    struct rkey key = {.tenant_id = b->tenant_id, .project_id = prev_project, .clock = k};
    bool have = false;
    while ((rc = db_step(st)) == DB_ROW) {
        db_col_copy(st, 0, project, sizeof(project));
        enum sla_sev sev = sev_of(db_col_text(st, 1));
        struct sla_clock ck = {
            .started_at = db_col_int64(st, 2),
            .target_ms = db_col_int64(st, 3),
            .paused_ms = db_col_int64(st, 4),
            .paused_since = db_col_int64(st, 5),
            .stopped_at = db_col_int64(st, 6),
            .last_event_at = db_col_int64(st, 7),
        };
        if (!db_col_null(st, 9)) {
            ck.stop_elapsed = db_col_int64(st, 9);
            ck.stop_due = db_col_int64(st, 10);
        }
        int64_t rate = k == SW_CLOCK_RESOLVE ? db_col_int64(st, 8) : 0;
        char day[SLA_DATE_BUFSZ];
        tz_local_day(z, ck.stopped_at, day, sizeof(day));
        if (have && (sev != key.sev || strcmp(day, key.day) || strcmp(project, prev_project))) {
            if ((rc = batch_push(c, b, &key, acc)) < 0)
                break;
            sla_rollup_clear(acc);
            have = false;
        }
        if (!have) {
            snprintf(prev_project, sizeof(prev_project), "%s", project);
            key.sev = sev;
            snprintf(key.day, sizeof(key.day), "%s", day);
            have = true;
        }
        struct sla_sample smp;
        sla_clock_sample(&ck, rate, &smp);
        sla_rollup_add(acc, &smp);
    }
    db_reset(st);
    if (rc == 0 && have)
        rc = batch_push(c, b, &key, acc);
    free(acc);
    return rc < 0 ? rc : 0;
}

/* One tenant's rollups from its alerts, inside the caller's write
 * transaction; *rows += rows written.  (Also tenant_update's, in
 * analytics_reads.c, when the time zone changes.) */
int sql_analytics_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, int64_t *rows)
{
    struct tz z;
    int rc = tenant_tz(c, SQL_TZ_LOCK, tenant_id, &z);  /* first: see the top */
    if (rc < 0)
        return rc;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_DELETE_TENANT, &st)) < 0)
        goto out;
    db_bind_text(st, 1, tenant_id);
    if ((rc = db_exec(st)) < 0)
        goto out;
    struct batch *b = xcalloc(1, sizeof(*b));
    b->tenant_id = tenant_id;
    b->hist = xmalloc((size_t)BATCH * SLA_HIST_ENC_MAX);
    rc = rebuild_clock(c, b, &z, SW_CLOCK_ACK);
    if (rc == 0)
        rc = rebuild_clock(c, b, &z, SW_CLOCK_RESOLVE);
    if (rc == 0)
        rc = batch_flush(c, b);
    if (rc == 0 && rows)
        *rows += b->written;
    free(b->hist);
    free(b);
out:
    tz_close(&z);
    return rc;
}

struct rebuild_ctx {
    const char *tenant_id;      /* NULL = every tenant */
    bool only_if_needed;        /* rollup_ensure */
    bool built;
    int64_t rows;
};

/* Every tenant: their rows locked first (in id order), rows of tenants
 * that no longer exist dropped, then one tenant after the other. */
static int rebuild_all_in(struct db_conn *c, int64_t *rows)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TENANT_IDS_LOCK, &st);
    if (rc < 0)
        return rc;
    size_t n = 0, cap = 0;
    char (*ids)[SW_ID_MAX + 1] = NULL;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap)
            ids = xrealloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(*ids));
        db_col_copy(st, 0, ids[n++], sizeof(ids[0]));
    }
    db_reset(st);
    if (rc == 0 && (rc = db_prep(c, SQL_DELETE_ORPHANS, &st)) == 0)
        rc = db_exec(st);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sql_analytics_rebuild_tenant_in(c, ids[i], rows);
    free(ids);
    return rc;
}

static int rebuild_tx(struct db_conn *c, void *ud)
{
    struct rebuild_ctx *x = ud;
    x->rows = 0;
    x->built = false;
    int rc;
    if (x->only_if_needed) {
        struct db_stmt *st;
        if ((rc = db_prep(c, SQL_NEED_BUILD, &st)) < 0)
            return rc;
        if ((rc = db_step_one(st)) < 0)
            return rc;
        bool need = rc == 1 && db_col_int64(st, 0) != 0;
        if (rc == 1)
            db_reset(st);
        if (!need)
            return 0;
    }
    rc = x->tenant_id ? sql_analytics_rebuild_tenant_in(c, x->tenant_id, &x->rows)
                      : rebuild_all_in(c, &x->rows);
    x->built = rc == 0;
    return rc;
}

static int rollup_rebuild(struct store *base, const char *tenant_id, int64_t *rows)
{
    struct rebuild_ctx x = {.tenant_id = tenant_id};
    int rc = db_tx(sql_of(base)->db, DB_TX_LOCKING, rebuild_tx, &x);
    if (rc == 0 && rows)
        *rows = x.rows;
    return rc;
}

/* The check and the build in one locking transaction: nodes starting
 * together build once. */
static int rollup_ensure(struct store *base, bool *rebuilt)
{
    struct rebuild_ctx x = {.only_if_needed = true};
    *rebuilt = false;
    int rc = db_tx(sql_of(base)->db, DB_TX_LOCKING, rebuild_tx, &x);
    if (rc == 0 && x.built) {
        *rebuilt = true;
        log_info("rollups: built %lld rows from the alerts table", (long long)x.rows);
    }
    return rc;
}

/* ---- reads --------------------------------------------------------------------------- */

/* (day, severity, project, clock): the primary key's order, so SQLite
 * walks it and reports find a day's rows together */
static const char SQL_SCAN[] =
    "SELECT day, severity, project_id, clock, count, met, breached, sum_ms, max_ms, hist, "
    "penalty_cents FROM rollups WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 "
    "AND (CAST(?4 AS TEXT) IS NULL OR project_id = ?4) "
    "AND (CAST(?5 AS TEXT) IS NULL OR clock = ?5) "
    "ORDER BY day, severity, project_id, clock";

static int rollup_scan(struct store *base, const char *tenant_id, const char *from_day,
                       const char *to_day, const char *project_id, int clock,
                       store_rollup_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_SCAN, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, from_day);
        db_bind_text(st, 3, to_day);
        db_bind_text(st, 4, project_id);
        db_bind_text(st, 5, clock >= 0 && clock < SW_CLOCK_COUNT ? clock_names[clock] : NULL);
        struct sw_rollup_row r;
        while ((rc = db_step(st)) == DB_ROW) {
            db_col_copy(st, 0, r.day, sizeof(r.day));
            r.sev = sev_of(db_col_text(st, 1));
            db_col_copy(st, 2, r.project_id, sizeof(r.project_id));
            r.clock = !strcmp(db_col_text(st, 3), "ack") ? SW_CLOCK_ACK : SW_CLOCK_RESOLVE;
            r.count = (uint64_t)db_col_int64(st, 4);
            r.met = (uint64_t)db_col_int64(st, 5);
            r.breached = (uint64_t)db_col_int64(st, 6);
            r.sum_ms = db_col_int64(st, 7);
            r.max_ms = db_col_int64(st, 8);
            r.hist = db_col_blob(st, 9, &r.hist_len);
            r.penalty_cents = db_col_int64(st, 10);
            if (cb(&r, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

/* analytics_reads.c */
int sql_analytics_open_alerts(struct store *base, const char *tenant_id,
                              const char *project_id, store_alert_clocks_cb cb, void *ud);
int sql_analytics_breached_resolutions(struct store *base, const char *tenant_id,
                                       int64_t from_ms, int64_t to_ms, int limit,
                                       store_alert_clocks_cb cb, void *ud);
int sql_analytics_tenant_settings(struct store *base, const char *tenant_id,
                                  struct sw_tenant_settings *out);
int sql_analytics_tenant_update(struct store *base, const char *tenant_id,
                                const struct sw_tenant_patch *p, struct sw_tenant *out);
int sql_analytics_live_add(struct store *base, const char *tenant_id,
                           const struct sw_live_snapshot *snap, int64_t keep_after);
int sql_analytics_live_list(struct store *base, const char *tenant_id, int64_t from_ms,
                            store_live_cb cb, void *ud);

const struct store_analytics_ops sql_analytics_ops = {
    .rollup_scan = rollup_scan,
    .rollup_rebuild = rollup_rebuild,
    .rollup_ensure = rollup_ensure,
    .open_alerts = sql_analytics_open_alerts,
    .breached_resolutions = sql_analytics_breached_resolutions,
    .tenant_settings = sql_analytics_tenant_settings,
    .tenant_update = sql_analytics_tenant_update,
    .live_add = sql_analytics_live_add,
    .live_list = sql_analytics_live_list,
};
