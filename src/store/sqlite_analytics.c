/* sqlite_analytics.c: the analytics subject on SQLite (store_analytics.h).
 *
 * Owns the rollups and live_snapshots tables (schema 0009) and the
 * tenants' analytics settings (timezone, monthly_penalty_cap).
 *
 * Live upkeep: sq_rollup_change runs inside the alert store's change
 * transaction with the alert before and after the change.  For each clock,
 * the "before" sample (if that clock was stopped) is taken out of its row
 * and the "after" sample (if stopped) is put in; when both are the same
 * sample on the same row nothing is written (acknowledging does not touch
 * the resolve row, resolving an acknowledged alert leaves its ack row).
 * A row is read, changed in C (core/rollup.c) and written back (deleted when
 * its count reaches 0).  A maximum cannot be un-merged: when the removed
 * duration was the row's maximum, the maximum is recomputed from the alerts
 * of that row's key (rare: reopen or a severity change of an acknowledged
 * alert).
 *
 * Rebuild streams each tenant's stopped clocks ordered by (project,
 * severity, stop instant), so consecutive rows share a local day: one
 * accumulator, flushed when the key changes, and the time zone's day cache
 * (util/tz.c) costs ICU calls per new day only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_alerts.h"
#include "store/store_analytics.h"
#include "util/log.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *const clock_names[SW_CLOCK_COUNT] = {"ack", "resolve"};

static enum sla_sev sev_of(const unsigned char *s)
{
    enum sla_sev v = SLA_SEV_LOW;
    if (s)
        sla_sev_parse(SLA_ALERT, (const char *)s, &v);
    return v;
}

/* ---- statements ------------------------------------------------------- */

static const char SQL_TENANT_TZ[] = "SELECT timezone FROM tenants WHERE id = ?1";
static const char SQL_ROW_GET[] =
    "SELECT count, met, breached, sum_ms, max_ms, hist, penalty_cents FROM rollups "
    "WHERE tenant_id = ?1 AND day = ?2 AND severity = ?3 AND project_id = ?4 AND clock = ?5";
static const char SQL_ROW_PUT[] =
    "INSERT INTO rollups (tenant_id, day, severity, project_id, clock, count, met, breached, "
    "sum_ms, max_ms, hist, penalty_cents) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12) ON CONFLICT (tenant_id, day, severity, project_id, clock) DO UPDATE SET "
    "count = excluded.count, met = excluded.met, breached = excluded.breached, "
    "sum_ms = excluded.sum_ms, max_ms = excluded.max_ms, hist = excluded.hist, "
    "penalty_cents = excluded.penalty_cents";
static const char SQL_ROW_DELETE[] =
    "DELETE FROM rollups "
    "WHERE tenant_id = ?1 AND day = ?2 AND severity = ?3 AND project_id = ?4 AND clock = ?5";
/* active duration of a stopped clock = stop − start − paused (alerts never
 * stay paused: paused_since is 0 for them) */
static const char SQL_MAX_ACK[] =
    "SELECT max(ack_stopped_at - ack_started_at - ack_paused_ms) FROM alerts "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 "
    "AND ack_stopped_at >= ?4 AND ack_stopped_at < ?5";
static const char SQL_MAX_RES[] =
    "SELECT max(res_stopped_at - res_started_at - res_paused_ms) FROM alerts "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 "
    "AND res_stopped_at >= ?4 AND res_stopped_at < ?5";

static int tenant_tz(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                     struct tz *out)
{
    char zone[SW_TZ_MAX + 1] = "UTC";
    sqlite3_stmt *st = sq_stmt(s, c, SQL_TENANT_TZ);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sq_copy_text(zone, sizeof(zone), st, 0);
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "tenant_tz");
    sq_done(st);
    if (rc == 0)
        tz_open_or_utc(out, zone);
    return rc;
}

/* ---- one row ---------------------------------------------------------- */

struct rkey {
    const char *tenant_id;
    const char *project_id;
    enum sla_sev sev;
    enum sw_clock_kind clock;
    char day[SLA_DATE_BUFSZ];
    int64_t day_lo, day_hi;     /* the local day as UTC [lo, hi) */
};

static void bind_key(sqlite3_stmt *st, const struct rkey *k)
{
    SQ_TEXT(st, 1, k->tenant_id);
    SQ_TEXT(st, 2, k->day);
    SQ_TEXT(st, 3, sla_sev_name(k->sev));
    SQ_TEXT(st, 4, k->project_id);
    SQ_TEXT(st, 5, clock_names[k->clock]);
}

/* 1 = found, 0 = none (r cleared), < 0 error. */
static int row_read(struct sqlite_store *s, struct conn *c, const struct rkey *k,
                    struct sla_rollup *r)
{
    sla_rollup_clear(r);
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ROW_GET);
    if (!st)
        return SW_E_STORE;
    bind_key(st, k);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->count = (uint64_t)sqlite3_column_int64(st, 0);
        r->met = (uint64_t)sqlite3_column_int64(st, 1);
        r->breached = (uint64_t)sqlite3_column_int64(st, 2);
        r->sum_ms = sqlite3_column_int64(st, 3);
        r->max_ms = sqlite3_column_int64(st, 4);
        const void *b = sqlite3_column_blob(st, 5);
        int n = sqlite3_column_bytes(st, 5);
        r->penalty_cents = sqlite3_column_int64(st, 6);
        rc = sla_hist_decode_add(&r->hist, b, (size_t)n) < 0 ? SW_E_STORE : 1;
        if (rc < 0)
            log_error("rollups: corrupt histogram for %s %s", k->tenant_id, k->day);
    } else {
        rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "rollup_get");
    }
    sq_done(st);
    return rc;
}

static int row_write(struct sqlite_store *s, struct conn *c, const struct rkey *k,
                     const struct sla_rollup *r)
{
    sqlite3_stmt *st;
    int rc;
    if (r->count == 0) {
        st = sq_stmt(s, c, SQL_ROW_DELETE);
        if (!st)
            return SW_E_STORE;
        bind_key(st, k);
        rc = sq_exec(s, c, st);
        sqlite3_clear_bindings(st);
        return rc;
    }
    uint8_t *buf = xmalloc(SLA_HIST_ENC_MAX);
    size_t len = 0;
    sla_hist_encode(&r->hist, buf, SLA_HIST_ENC_MAX, &len);
    st = sq_stmt(s, c, SQL_ROW_PUT);
    if (!st) {
        free(buf);
        return SW_E_STORE;
    }
    bind_key(st, k);
    sqlite3_bind_int64(st, 6, (int64_t)r->count);
    sqlite3_bind_int64(st, 7, (int64_t)r->met);
    sqlite3_bind_int64(st, 8, (int64_t)r->breached);
    sqlite3_bind_int64(st, 9, r->sum_ms);
    sqlite3_bind_int64(st, 10, r->max_ms);
    sqlite3_bind_blob(st, 11, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, r->penalty_cents);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    free(buf);
    return rc;
}

static int raw_max(struct sqlite_store *s, struct conn *c, const struct rkey *k, int64_t *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, k->clock == SW_CLOCK_ACK ? SQL_MAX_ACK : SQL_MAX_RES);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, k->tenant_id);
    SQ_TEXT(st, 2, k->project_id);
    SQ_TEXT(st, 3, sla_sev_name(k->sev));
    sqlite3_bind_int64(st, 4, k->day_lo);
    sqlite3_bind_int64(st, 5, k->day_hi);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = sq_fail(s, c, "rollup_max");
    }
    sq_done(st);
    return rc;
}

/* Adds (sign > 0) or removes one sample on its row. */
static int row_apply(struct sqlite_store *s, struct conn *c, const struct rkey *k,
                     const struct sla_sample *smp, int sign)
{
    struct sla_rollup *r = xmalloc(sizeof(*r));
    int rc = row_read(s, c, k, r);
    if (rc >= 0) {
        if (sign > 0) {
            sla_rollup_add(r, smp);
            rc = 0;
        } else {
            bool stale = false;
            if (sla_rollup_remove(r, smp, &stale) < 0) {
                /* not there: rollups of a database that predates them were
                 * never built (rollup_ensure), or were edited by hand */
                log_warn("rollups: %s/%s %s %s has no such %s sample to take back; "
                         "run `slawatch rollups rebuild`",
                         k->tenant_id, k->day, sla_sev_name(k->sev), k->project_id,
                         clock_names[k->clock]);
                free(r);
                return 0;
            }
            rc = 0;
            if (stale)
                rc = raw_max(s, c, k, &r->max_ms);
        }
    }
    if (rc == 0)
        rc = row_write(s, c, k, r);
    free(r);
    return rc;
}

static const struct sla_clock *clock_of(const struct sw_alert *x, enum sw_clock_kind k)
{
    return k == SW_CLOCK_ACK ? &x->a.ack : &x->a.resolve;
}

/* The key and sample of one stopped clock; false when it runs. */
static bool stopped_sample(struct tz *z, const struct sw_alert *x, enum sw_clock_kind k,
                           struct rkey *key, struct sla_sample *smp)
{
    const struct sla_clock *ck = clock_of(x, k);
    if (!sla_clock_is_stopped(ck))
        return false;
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

int sq_rollup_change(struct sqlite_store *s, struct conn *c, const struct sw_alert *before,
                     const struct sw_alert *after)
{
    bool any = false;
    for (int k = 0; k < SW_CLOCK_COUNT; k++)
        any |= sla_clock_is_stopped(clock_of(before, k)) ||
               sla_clock_is_stopped(clock_of(after, k));
    if (!any)
        return 0;
    struct tz z;
    int rc = tenant_tz(s, c, after->tenant_id, &z);
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
            rc = row_apply(s, c, &kb, &sb, -1);
        if (rc == 0 && ha)
            rc = row_apply(s, c, &ka, &sa, +1);
    }
    tz_close(&z);
    return rc;
}

/* ---- rebuild ------------------------------------------------------------ */

static const char SQL_DELETE_TENANT[] = "DELETE FROM rollups WHERE tenant_id = ?1";
static const char SQL_DELETE_ALL[] = "DELETE FROM rollups";
static const char SQL_TENANT_IDS[] = "SELECT id FROM tenants ORDER BY id";

#define STOPPED_COLS(P)                                                         \
    "SELECT project_id, severity, " P "_started_at, " P "_target_ms, "          \
    P "_paused_ms, " P "_paused_since, " P "_stopped_at, " P "_last_event_at, " \
    "penalty_cph FROM alerts WHERE tenant_id = ?1 AND " P "_stopped_at > 0 "    \
    "ORDER BY project_id, severity, " P "_stopped_at"

static const char SQL_STOPPED_ACK[] = STOPPED_COLS("ack");
static const char SQL_STOPPED_RES[] = STOPPED_COLS("res");

static int rebuild_clock(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                         struct tz *z, enum sw_clock_kind k, int64_t *rows)
{
    sqlite3_stmt *st = sq_stmt(s, c, k == SW_CLOCK_ACK ? SQL_STOPPED_ACK : SQL_STOPPED_RES);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    struct sla_rollup *acc = xmalloc(sizeof(*acc));
    sla_rollup_clear(acc);
    /* rows are written while this statement is still stepping: inserts into
     * rollups do not disturb a read of alerts on the same connection */
    char project[SW_ID_MAX + 1] = "", prev_project[SW_ID_MAX + 1] = "";
    struct rkey key = {.tenant_id = tenant_id, .project_id = prev_project, .clock = k};
    bool have = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sq_copy_text(project, sizeof(project), st, 0);
        enum sla_sev sev = sev_of(sqlite3_column_text(st, 1));
        struct sla_clock ck = {
            .started_at = sqlite3_column_int64(st, 2),
            .target_ms = sqlite3_column_int64(st, 3),
            .paused_ms = sqlite3_column_int64(st, 4),
            .paused_since = sqlite3_column_int64(st, 5),
            .stopped_at = sqlite3_column_int64(st, 6),
            .last_event_at = sqlite3_column_int64(st, 7),
        };
        int64_t rate = k == SW_CLOCK_RESOLVE ? sqlite3_column_int64(st, 8) : 0;
        char day[SLA_DATE_BUFSZ];
        tz_local_day(z, ck.stopped_at, day, sizeof(day));
        if (have && (sev != key.sev || strcmp(day, key.day) || strcmp(project, prev_project))) {
            rc = row_write(s, c, &key, acc);
            if (rc < 0)
                break;
            (*rows)++;
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
    if (rc == SQLITE_DONE) {
        rc = 0;
        if (have) {
            rc = row_write(s, c, &key, acc);
            if (rc == 0)
                (*rows)++;
        }
    } else if (rc > 0) {
        rc = sq_fail(s, c, "rollup_rebuild");
    }
    sq_done(st);
    free(acc);
    return rc;
}

/* One tenant, inside the caller's transaction. */
static int rebuild_tenant(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                          bool delete_first, int64_t *rows)
{
    int rc = 0;
    if (delete_first) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_DELETE_TENANT);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, tenant_id);
        rc = sq_exec(s, c, st);
        sqlite3_clear_bindings(st);
        if (rc < 0)
            return rc;
    }
    struct tz z;
    rc = tenant_tz(s, c, tenant_id, &z);
    if (rc == 0)
        rc = rebuild_clock(s, c, tenant_id, &z, SW_CLOCK_ACK, rows);
    if (rc == 0)
        rc = rebuild_clock(s, c, tenant_id, &z, SW_CLOCK_RESOLVE, rows);
    tz_close(&z);
    return rc;
}

static int sq_rollup_rebuild(struct store *base, const char *tenant_id, int64_t *rows)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int64_t n = 0;
    int rc = sq_begin(s, c);
    sqlite3_exec(c->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    if (rc == 0 && tenant_id) {
        rc = rebuild_tenant(s, c, tenant_id, true, &n);
    } else if (rc == 0) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_DELETE_ALL);
        rc = st ? sq_exec(s, c, st) : SW_E_STORE;
        size_t nt = 0, cap = 0;
        char (*ids)[SW_ID_MAX + 1] = NULL;
        st = rc == 0 ? sq_stmt(s, c, SQL_TENANT_IDS) : NULL;
        if (st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (nt == cap)
                    ids = xrealloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(*ids));
                sq_copy_text(ids[nt++], sizeof(ids[0]), st, 0);
            }
            rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "tenant_ids");
            sq_done(st);
        } else if (rc == 0) {
            rc = SW_E_STORE;
        }
        for (size_t i = 0; i < nt && rc == 0; i++)
            rc = rebuild_tenant(s, c, ids[i], false, &n);
        free(ids);
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    sqlite3_exec(c->db, "PRAGMA cache_size = -2000", NULL, NULL, NULL);
    sq_release(s, c);
    if (rc == 0 && rows)
        *rows = n;
    return rc;
}

static int sq_rollup_ensure(struct store *base, bool *rebuilt)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = NULL;
    int need = 0;
    /* the open-alert index makes "any resolved alert?" cheap to refute
     * only when there are none; a stopped ack clock without a resolved
     * alert is found by the scan's first acknowledged row */
    if (sqlite3_prepare_v2(c->db,
            "SELECT NOT EXISTS (SELECT 1 FROM rollups) AND "
            "EXISTS (SELECT 1 FROM alerts WHERE ack_stopped_at > 0 OR res_stopped_at > 0)",
            -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        need = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sq_release(s, c);
    *rebuilt = false;
    if (!need)
        return 0;
    int64_t rows = 0;
    int rc = sq_rollup_rebuild(base, NULL, &rows);
    if (rc == 0) {
        *rebuilt = true;
        log_info("rollups: built %lld rows from the alerts table", (long long)rows);
    }
    return rc;
}

/* ---- reads -------------------------------------------------------------- */

static const char SQL_SCAN[] =
    "SELECT day, severity, project_id, clock, count, met, breached, sum_ms, max_ms, hist, "
    "penalty_cents FROM rollups WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 "
    "AND (?4 IS NULL OR project_id = ?4) AND (?5 IS NULL OR clock = ?5)";

static int sq_rollup_scan(struct store *base, const char *tenant_id, const char *from_day,
                          const char *to_day, const char *project_id, int clock,
                          store_rollup_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_SCAN);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, from_day);
    SQ_TEXT(st, 3, to_day);
    if (project_id)
        SQ_TEXT(st, 4, project_id);
    if (clock >= 0 && clock < SW_CLOCK_COUNT)
        SQ_TEXT(st, 5, clock_names[clock]);
    struct sw_rollup_row r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sq_copy_text(r.day, sizeof(r.day), st, 0);
        r.sev = sev_of(sqlite3_column_text(st, 1));
        sq_copy_text(r.project_id, sizeof(r.project_id), st, 2);
        const unsigned char *ck = sqlite3_column_text(st, 3);
        r.clock = ck && !strcmp((const char *)ck, "ack") ? SW_CLOCK_ACK : SW_CLOCK_RESOLVE;
        r.count = (uint64_t)sqlite3_column_int64(st, 4);
        r.met = (uint64_t)sqlite3_column_int64(st, 5);
        r.breached = (uint64_t)sqlite3_column_int64(st, 6);
        r.sum_ms = sqlite3_column_int64(st, 7);
        r.max_ms = sqlite3_column_int64(st, 8);
        r.hist = sqlite3_column_blob(st, 9);
        r.hist_len = (size_t)sqlite3_column_bytes(st, 9);
        r.penalty_cents = sqlite3_column_int64(st, 10);
        if (cb(&r, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "rollup_scan");
    sq_done(st);
    sq_release(s, c);
    return rc;
}

#define CLOCKS_COLS                                                             \
    "id, project_id, severity, state, created_at, resolved_at, "                \
    "ack_started_at, ack_target_ms, ack_paused_ms, ack_paused_since, ack_stopped_at, " \
    "ack_last_event_at, res_started_at, res_target_ms, res_paused_ms, res_paused_since, " \
    "res_stopped_at, res_last_event_at, warn_pct, penalty_cph"

/* `state <> 'resolved'` literally: the partial index alerts_open answers it */
static const char SQL_OPEN[] =
    "SELECT " CLOCKS_COLS " FROM alerts WHERE tenant_id = ?1 AND state <> 'resolved' "
    "AND (?2 IS NULL OR project_id = ?2)";
/* `res_stopped_at > resolve_due_at` literally: alerts_res_breached */
static const char SQL_BREACHED_RES[] =
    "SELECT " CLOCKS_COLS " FROM alerts WHERE tenant_id = ?1 "
    "AND res_stopped_at > resolve_due_at AND res_stopped_at >= ?2 AND res_stopped_at < ?3 "
    "ORDER BY res_stopped_at, id LIMIT ?4";

static void read_clocks(sqlite3_stmt *st, struct sw_alert_clocks *a)
{
    memset(a, 0, sizeof(*a));
    sq_copy_text(a->id, sizeof(a->id), st, 0);
    sq_copy_text(a->project_id, sizeof(a->project_id), st, 1);
    a->sev = sev_of(sqlite3_column_text(st, 2));
    enum sla_alert_state state = SLA_ALERT_OPEN;
    const unsigned char *t = sqlite3_column_text(st, 3);
    if (t)
        sla_alert_state_parse((const char *)t, &state);
    a->state = state;
    a->created_at = sqlite3_column_int64(st, 4);
    a->resolved_at = sqlite3_column_int64(st, 5);
    struct sla_clock *k[2] = {&a->ack, &a->resolve};
    for (int i = 0; i < 2; i++) {
        int b = 6 + 6 * i;
        k[i]->started_at = sqlite3_column_int64(st, b);
        k[i]->target_ms = sqlite3_column_int64(st, b + 1);
        k[i]->paused_ms = sqlite3_column_int64(st, b + 2);
        k[i]->paused_since = sqlite3_column_int64(st, b + 3);
        k[i]->stopped_at = sqlite3_column_int64(st, b + 4);
        k[i]->last_event_at = sqlite3_column_int64(st, b + 5);
    }
    a->warn_pct = sqlite3_column_int(st, 18);
    a->penalty_cph = sqlite3_column_int64(st, 19);
}

static int clocks_run(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st,
                      store_alert_clocks_cb cb, void *ud, const char *what)
{
    struct sw_alert_clocks a;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_clocks(st, &a);
        if (cb(&a, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, what);
    sq_done(st);
    return rc;
}

static int sq_open_alerts(struct store *base, const char *tenant_id, const char *project_id,
                          store_alert_clocks_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_OPEN);
    int rc = SW_E_STORE;
    if (st) {
        SQ_TEXT(st, 1, tenant_id);
        if (project_id)
            SQ_TEXT(st, 2, project_id);
        rc = clocks_run(s, c, st, cb, ud, "open_alerts");
    }
    sq_release(s, c);
    return rc;
}

static int sq_breached_resolutions(struct store *base, const char *tenant_id, int64_t from_ms,
                                   int64_t to_ms, int limit, store_alert_clocks_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_BREACHED_RES);
    int rc = SW_E_STORE;
    if (st) {
        SQ_TEXT(st, 1, tenant_id);
        sqlite3_bind_int64(st, 2, from_ms);
        sqlite3_bind_int64(st, 3, to_ms);
        sqlite3_bind_int(st, 4, limit);
        rc = clocks_run(s, c, st, cb, ud, "breached_resolutions");
    }
    sq_release(s, c);
    return rc;
}

/* ---- tenants ---------------------------------------------------------- */

static const char SQL_SETTINGS[] =
    "SELECT timezone, monthly_penalty_cap FROM tenants WHERE id = ?1";
static const char SQL_TENANT_ROW[] =
    "SELECT id, name, COALESCE(template, ''), timezone, created_at FROM tenants WHERE id = ?1";
static const char SQL_TENANT_PATCH[] =
    "UPDATE tenants SET name = COALESCE(?2, name), timezone = COALESCE(?3, timezone), "
    "monthly_penalty_cap = CASE ?4 WHEN 0 THEN NULL WHEN 1 THEN ?5 "
    "ELSE monthly_penalty_cap END WHERE id = ?1";

static int settings_in(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                       struct sw_tenant_settings *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_SETTINGS);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        sq_copy_text(out->timezone, sizeof(out->timezone), st, 0);
        out->has_cap = sqlite3_column_type(st, 1) != SQLITE_NULL;
        out->monthly_penalty_cap = sqlite3_column_int64(st, 1);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "tenant_settings");
    }
    sq_done(st);
    return rc;
}

static int sq_tenant_settings(struct store *base, const char *tenant_id,
                              struct sw_tenant_settings *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = settings_in(s, c, tenant_id, out);
    sq_release(s, c);
    return rc;
}

static int sq_tenant_update(struct store *base, const char *tenant_id,
                            const struct sw_tenant_patch *p, struct sw_tenant *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sw_tenant_settings old;
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = settings_in(s, c, tenant_id, &old);
    if (rc == 0) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_TENANT_PATCH);
        sq_tenants_touched(c);
        if (!st) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, tenant_id);
            if (p->name)
                SQ_TEXT(st, 2, p->name);
            if (p->timezone)
                SQ_TEXT(st, 3, p->timezone);
            sqlite3_bind_int(st, 4, p->cap_action);
            sqlite3_bind_int64(st, 5, p->cap);
            rc = sq_exec(s, c, st);
            sqlite3_clear_bindings(st);
        }
    }
    if (rc == 0 && p->timezone && strcmp(p->timezone, old.timezone) != 0) {
        int64_t rows = 0;
        rc = rebuild_tenant(s, c, tenant_id, true, &rows);
    }
    if (rc == 0) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_TENANT_ROW);
        if (!st) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, tenant_id);
            if (sqlite3_step(st) == SQLITE_ROW) {
                memset(out, 0, sizeof(*out));
                sq_copy_text(out->id, sizeof(out->id), st, 0);
                sq_copy_text(out->name, sizeof(out->name), st, 1);
                sq_copy_text(out->template_name, sizeof(out->template_name), st, 2);
                sq_copy_text(out->timezone, sizeof(out->timezone), st, 3);
                out->created_at = sqlite3_column_int64(st, 4);
            } else {
                rc = sq_fail(s, c, "tenant_update");
            }
            sq_done(st);
        }
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    sq_release(s, c);
    return rc;
}

/* ---- live gauges ---------------------------------------------------------- */

static const char SQL_LIVE_ADD[] =
    "INSERT INTO live_snapshots (tenant_id, at, open, breaches, warnings) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, at) DO UPDATE SET "
    "open = excluded.open, breaches = excluded.breaches, warnings = excluded.warnings";
static const char SQL_LIVE_PRUNE[] =
    "DELETE FROM live_snapshots WHERE tenant_id = ?1 AND at < ?2";
static const char SQL_LIVE_LIST[] =
    "SELECT at, open, breaches, warnings FROM live_snapshots "
    "WHERE tenant_id = ?1 AND at >= ?2 ORDER BY at";

static int sq_live_add(struct store *base, const char *tenant_id,
                       const struct sw_live_snapshot *snap, int64_t keep_after)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    sqlite3_stmt *st = rc == 0 ? sq_stmt(s, c, SQL_LIVE_ADD) : NULL;
    if (st) {
        SQ_TEXT(st, 1, tenant_id);
        sqlite3_bind_int64(st, 2, snap->at);
        sqlite3_bind_int64(st, 3, snap->open);
        sqlite3_bind_int64(st, 4, snap->breaches);
        sqlite3_bind_int64(st, 5, snap->warnings);
        rc = sq_exec(s, c, st);
        sqlite3_clear_bindings(st);
    } else if (rc == 0) {
        rc = SW_E_STORE;
    }
    st = rc == 0 ? sq_stmt(s, c, SQL_LIVE_PRUNE) : NULL;
    if (st) {
        SQ_TEXT(st, 1, tenant_id);
        sqlite3_bind_int64(st, 2, keep_after);
        rc = sq_exec(s, c, st);
        sqlite3_clear_bindings(st);
    } else if (rc == 0) {
        rc = SW_E_STORE;
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    sq_release(s, c);
    return rc;
}

static int sq_live_list(struct store *base, const char *tenant_id, int64_t from_ms,
                        store_live_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_LIVE_LIST);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, from_ms);
    struct sw_live_snapshot snap;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        snap.at = sqlite3_column_int64(st, 0);
        snap.open = sqlite3_column_int64(st, 1);
        snap.breaches = sqlite3_column_int64(st, 2);
        snap.warnings = sqlite3_column_int64(st, 3);
        if (cb(&snap, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "live_list");
    sq_done(st);
    sq_release(s, c);
    return rc;
}

const struct store_analytics_ops sqlite_analytics_ops = {
    .rollup_scan = sq_rollup_scan,
    .rollup_rebuild = sq_rollup_rebuild,
    .rollup_ensure = sq_rollup_ensure,
    .open_alerts = sq_open_alerts,
    .breached_resolutions = sq_breached_resolutions,
    .tenant_settings = sq_tenant_settings,
    .tenant_update = sq_tenant_update,
    .live_add = sq_live_add,
    .live_list = sq_live_list,
};
