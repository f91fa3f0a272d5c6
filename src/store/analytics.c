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
 * An extreme cannot be un-merged: when a removed duration was its row's
 * maximum (minimum), it is recomputed from the alerts of that row's key
 * (rare: a reopen, a severity change of an acknowledged alert).  That read
 * sees the caller's own writes, so the caller saves the alert first.
 * The row code is rollup_rows.c's, shared with the findings' rollups
 * (finding_rollups.c); the alerts' volume and auto-resolutions are kept
 * next to the rollups by alert_counts.c, in the same transaction.
 *
 * Rebuild streams a tenant's stopped clocks ordered by (project, severity,
 * stop instant), so rows sharing a local day come together: one
 * accumulator, flushed when the key changes, and util/tz's day cache costs
 * ICU calls per new day only.  Rows are written BATCH at a time in one
 * multi-row INSERT (one round trip on PostgreSQL instead of BATCH).  The
 * PostgreSQL driver fetches a statement's whole result, so a tenant's
 * stopped clocks are held in memory once per clock while it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rollups_int.h"
#include "store/store_alerts.h"
#include "store/store_analytics.h"
#include "util/log.h"
#include "util/xalloc.h"

static const char *const clock_names[SW_CLOCK_COUNT] = {"ack", "resolve"};

static enum sla_sev sev_of(const char *s)
{
    enum sla_sev v = SLA_SEV_LOW;
    if (s)
        sla_sev_parse(SLA_ALERT, s, &v);
    return v;
}

/* ---- the rollups table -------------------------------------------------------- */

#define ROW_KEY "tenant_id = ?1 AND day = ?2 AND severity = ?3 AND project_id = ?4 AND clock = ?5"
#define ROW_COLS "tenant_id, day, severity, project_id, clock, count, met, breached, " \
                 "sum_ms, min_ms, max_ms, hist, penalty_cents"

static const char SQL_ROW_LOCK[] =
    "SELECT count, met, breached, sum_ms, COALESCE(min_ms, 0), max_ms, hist, penalty_cents "
    "FROM rollups WHERE " ROW_KEY " {FOR_UPDATE}";
static const char SQL_ROW_INSERT[] =
    "INSERT INTO rollups (" ROW_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, ?13) ON CONFLICT (tenant_id, day, severity, project_id, clock) DO NOTHING "
    "RETURNING count";
static const char SQL_ROW_UPDATE[] =
    "UPDATE rollups SET count = ?6, met = ?7, breached = ?8, sum_ms = ?9, min_ms = ?10, "
    "max_ms = ?11, hist = ?12, penalty_cents = ?13 WHERE " ROW_KEY;
static const char SQL_ROW_DELETE[] = "DELETE FROM rollups WHERE " ROW_KEY;
/* active duration of a stopped clock = stop - start - paused (alerts never
 * stay paused: paused_since is 0 for them) */
#define RAW_EXTREME(F, P)                                                       \
    "SELECT " F "(COALESCE(" P "_elapsed_ms, " P "_stopped_at - " P "_started_at - "   \
    P "_paused_ms)) FROM alerts "                                               \
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 "              \
    "AND " P "_stopped_at >= ?4 AND " P "_stopped_at < ?5"
static const char SQL_MAX_ACK[] = RAW_EXTREME("max", "ack");
static const char SQL_MAX_RES[] = RAW_EXTREME("max", "res");
static const char SQL_MIN_ACK[] = RAW_EXTREME("min", "ack");
static const char SQL_MIN_RES[] = RAW_EXTREME("min", "res");

static int raw_extreme(struct db_conn *c, const struct rkey *k, bool max, int64_t *out)
{
    bool ack = !strcmp(k->kind, "ack");
    struct db_stmt *st;
    int rc = db_prep(c, max ? (ack ? SQL_MAX_ACK : SQL_MAX_RES) : (ack ? SQL_MIN_ACK : SQL_MIN_RES),
                     &st);
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

static struct rollup_table alert_rollups = {
    .name = "rollups",
    .lock = SQL_ROW_LOCK,
    .insert = SQL_ROW_INSERT,
    .update = SQL_ROW_UPDATE,
    .del = SQL_ROW_DELETE,
    .raw_extreme = raw_extreme,
    .put_head = "INSERT INTO rollups (" ROW_COLS ") VALUES ",
    .put_tail = " ON CONFLICT (tenant_id, day, severity, project_id, clock) DO UPDATE SET "
                "count = excluded.count, met = excluded.met, breached = excluded.breached, "
                "sum_ms = excluded.sum_ms, min_ms = excluded.min_ms, max_ms = excluded.max_ms, "
                "hist = excluded.hist, penalty_cents = excluded.penalty_cents",
};

/* ---- a change ------------------------------------------------------------------------ */

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
    /* the resolve clock bills the penalty rate, the ack clock the MTTA one */
    sla_clock_sample(ck, k == SW_CLOCK_RESOLVE ? x->a.targets.penalty_cph
                                               : x->a.targets.ack_penalty_cph, smp);
    memset(key, 0, sizeof(*key));
    key->tenant_id = x->tenant_id;
    key->project_id = x->project_id;
    key->sev = x->a.sev;
    key->kind = clock_names[k];
    rollup_key_day(z, ck->stopped_at, key);
    return true;
}

/* Whether a change can move anything of the alert's numbers: a stopped
 * clock on either side, a new alert (its volume), or a severity or project
 * that moved (the volume's row). */
static bool touches(const struct sw_alert *before, const struct sw_alert *after)
{
    if (!before || before->a.sev != after->a.sev || strcmp(before->project_id, after->project_id))
        return true;
    for (int k = 0; k < SW_CLOCK_COUNT; k++)
        if (is_stopped(before, k) || is_stopped(after, k))
            return true;
    return false;
}

int store_rollup_change_in(struct db_conn *c, const struct sw_alert *before,
                           const struct sw_alert *after)
{
    if (!after)
        return SW_E_INVAL;
    if (!touches(before, after))
        return 0;
    struct tz z;
    int rc = rollup_tenant_tz_in(c, after->tenant_id, false, &z);
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
            rc = rollup_row_apply_in(c, &alert_rollups, &kb, &sb, -1);
        if (rc == 0 && ha)
            rc = rollup_row_apply_in(c, &alert_rollups, &ka, &sa, +1);
    }
    if (rc == 0)
        rc = alert_counts_change_in(c, &z, before, after);
    tz_close(&z);
    return rc;
}

/* ---- rebuild --------------------------------------------------------------------- */

static const char SQL_DELETE_TENANT[] = "DELETE FROM rollups WHERE tenant_id = ?1";
static const char *const SQL_DELETE_ORPHANS[] = {
    "DELETE FROM rollups WHERE NOT EXISTS "
    "(SELECT 1 FROM tenants t WHERE t.id = rollups.tenant_id)",
    "DELETE FROM alert_counts WHERE NOT EXISTS "
    "(SELECT 1 FROM tenants t WHERE t.id = alert_counts.tenant_id)",
    "DELETE FROM finding_rollups WHERE NOT EXISTS "
    "(SELECT 1 FROM tenants t WHERE t.id = finding_rollups.tenant_id)",
    "DELETE FROM finding_counts WHERE NOT EXISTS "
    "(SELECT 1 FROM tenants t WHERE t.id = finding_counts.tenant_id)",
};
static const char SQL_TENANT_IDS_LOCK[] = "SELECT id FROM tenants ORDER BY id {FOR_UPDATE}";
/* A migration queued a rebuild, or a database upgraded to 0009 has stopped
 * clocks and no rollups at all. */
static const char SQL_NEED_BUILD[] =
    "SELECT EXISTS (SELECT 1 FROM rollups_pending) OR (NOT EXISTS (SELECT 1 FROM rollups) AND "
    "EXISTS (SELECT 1 FROM alerts WHERE ack_stopped_at > 0 OR res_stopped_at > 0))";
static const char SQL_PENDING_DONE[] = "DELETE FROM rollups_pending";

/* 8: the clock's own penalty rate; 9, 10: a clock stopped on a calendar,
 * its frozen verdict (business active time, due) */
#define STOPPED_COLS(P, RATE, DUE)                                              \
    "SELECT project_id, severity, " P "_started_at, " P "_target_ms, "          \
    P "_paused_ms, " P "_paused_since, " P "_stopped_at, " P "_last_event_at, " \
    RATE ", " P "_elapsed_ms, " DUE " FROM alerts "                             \
    "WHERE tenant_id = ?1 AND " P "_stopped_at > 0 "                            \
    "ORDER BY project_id, severity, " P "_stopped_at"

static const char SQL_STOPPED_ACK[] = STOPPED_COLS("ack", "ack_penalty_cph", "ack_due_at");
static const char SQL_STOPPED_RES[] = STOPPED_COLS("res", "penalty_cph", "resolve_due_at");

static int rebuild_clock(struct db_conn *c, struct rollup_batch *b, const char *tenant_id,
                         struct tz *z, enum sw_clock_kind k)
{
    struct db_stmt *st;
    int rc = db_prep(c, k == SW_CLOCK_ACK ? SQL_STOPPED_ACK : SQL_STOPPED_RES, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    struct sla_rollup *acc = xmalloc(sizeof(*acc));
    sla_rollup_clear(acc);
    /* rows are written while this statement is still stepping: the
     * drivers allow other statements between two steps */
    char project[SW_ID_MAX + 1] = "", prev_project[SW_ID_MAX + 1] = "";
    struct rkey key = {.tenant_id = tenant_id, .project_id = prev_project,
                       .kind = clock_names[k]};
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
        int64_t rate = db_col_int64(st, 8);        /* the clock's own rate */
        char day[SLA_DATE_BUFSZ];
        tz_local_day(z, ck.stopped_at, day, sizeof(day));
        if (have && (sev != key.sev || strcmp(day, key.day) || strcmp(project, prev_project))) {
            if ((rc = rollup_batch_push(c, b, &key, acc)) < 0)
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
        rc = rollup_batch_push(c, b, &key, acc);
    free(acc);
    return rc < 0 ? rc : 0;
}

/* One tenant's rollups (the alerts', their counts, the findings') from its
 * alerts and findings, inside the caller's write transaction; *rows +=
 * rows written.  (Also tenant_update's, in analytics_reads.c, when the
 * time zone changes.) */
int sql_analytics_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, int64_t *rows)
{
    struct tz z;
    int rc = rollup_tenant_tz_in(c, tenant_id, true, &z);  /* first: see the top */
    if (rc < 0)
        return rc;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_DELETE_TENANT, &st)) < 0)
        goto out;
    db_bind_text(st, 1, tenant_id);
    if ((rc = db_exec(st)) < 0)
        goto out;
    struct rollup_batch *b = rollup_batch_new(&alert_rollups, tenant_id);
    int64_t n = 0;
    rc = rebuild_clock(c, b, tenant_id, &z, SW_CLOCK_ACK);
    if (rc == 0)
        rc = rebuild_clock(c, b, tenant_id, &z, SW_CLOCK_RESOLVE);
    if (rc == 0)
        rc = rollup_batch_finish(c, b, &n);
    rollup_batch_free(b);
    if (rc == 0)
        rc = alert_counts_rebuild_tenant_in(c, tenant_id, &z, &n);
    if (rc == 0)
        rc = finding_numbers_rebuild_tenant_in(c, tenant_id, &z, &n);
    if (rc == 0 && rows)
        *rows += n;
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
    for (size_t i = 0; i < sizeof(SQL_DELETE_ORPHANS) / sizeof(SQL_DELETE_ORPHANS[0]) && rc == 0;
         i++)
        if ((rc = db_prep(c, SQL_DELETE_ORPHANS[i], &st)) == 0)
            rc = db_exec(st);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sql_analytics_rebuild_tenant_in(c, ids[i], rows);
    if (rc == 0 && (rc = db_prep(c, SQL_PENDING_DONE, &st)) == 0)
        rc = db_exec(st);
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
        log_info("rollups: built %lld rows from the alerts and findings tables",
                 (long long)x.rows);
    }
    return rc;
}

/* ---- reads --------------------------------------------------------------------------- */

/* (day, severity, project, clock): the primary key's order, so SQLite
 * walks it and reports find a day's rows together */
static const char SQL_SCAN[] =
    "SELECT day, severity, project_id, clock, count, met, breached, sum_ms, "
    "COALESCE(min_ms, 0), max_ms, hist, penalty_cents FROM rollups "
    "WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 "
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
            struct sla_rollup v;
            rollup_row_read(st, 4, &v, &r.hist, &r.hist_len);
            r.count = v.count;
            r.met = v.met;
            r.breached = v.breached;
            r.sum_ms = v.sum_ms;
            r.min_ms = v.min_ms;
            r.max_ms = v.max_ms;
            r.penalty_cents = v.penalty_cents;
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
int sql_analytics_billed_acks(struct store *base, const char *tenant_id, int64_t from_ms,
                              int64_t to_ms, int limit, store_alert_clocks_cb cb, void *ud);
int sql_analytics_tenant_settings(struct store *base, const char *tenant_id,
                                  struct sw_tenant_settings *out);
int sql_analytics_tenant_update(struct store *base, const char *tenant_id,
                                const struct sw_tenant_patch *p, struct sw_tenant *out);
int sql_analytics_live_add(struct store *base, const char *tenant_id,
                           const struct sw_live_snapshot *snap, int64_t keep_after);
int sql_analytics_live_list(struct store *base, const char *tenant_id, int64_t from_ms,
                            store_live_cb cb, void *ud);
/* finding_rollups.c, alert_counts.c */
int sql_finding_rollup_scan(struct store *base, const char *tenant_id, const char *from_day,
                            const char *to_day, const char *project_id,
                            store_finding_rollup_cb cb, void *ud);
int sql_alert_count_scan(struct store *base, const char *tenant_id, const char *from_day,
                         const char *to_day, const char *project_id, store_alert_count_cb cb,
                         void *ud);

const struct store_analytics_ops sql_analytics_ops = {
    .rollup_scan = rollup_scan,
    .rollup_rebuild = rollup_rebuild,
    .rollup_ensure = rollup_ensure,
    .open_alerts = sql_analytics_open_alerts,
    .breached_resolutions = sql_analytics_breached_resolutions,
    .billed_acks = sql_analytics_billed_acks,
    .tenant_settings = sql_analytics_tenant_settings,
    .tenant_update = sql_analytics_tenant_update,
    .live_add = sql_analytics_live_add,
    .live_list = sql_analytics_live_list,
    .finding_rollup_scan = sql_finding_rollup_scan,
    .alert_count_scan = sql_alert_count_scan,
};
