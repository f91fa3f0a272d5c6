/* finding_rollups.c: findings in numbers (schema 0040): the closed
 * findings' rollups and the live findings' counters, kept in every finding
 * write's transaction, rebuilt from the findings table, and read by
 * /findings/summary, /findings/upcoming and the findings report.
 *
 * Closed findings.  A finding reaching a terminal status adds one sample to
 * its row (tenant, local day of the close, severity, project, status): its
 * active remediation time (discovery to close, pauses excluded) and whether
 * it closed by its deadline, against the target it was judged by (the one
 * frozen in its row).  A reopen takes the sample back; the final close is
 * what counts.  The rows are the alert rollups' shape and code
 * (rollup_rows.c): locked read-modify-write, so two nodes closing findings
 * of one day never lose a count, and byte for byte what a rebuild writes.
 *
 * Live findings.  finding_counts holds per group (tenant, project,
 * severity) how many are open and paused: a finding write moves its group's
 * counts by an atomic upsert (the counts are plain integers), so the summary
 * reads a few rows instead of counting findings.  Overdue and due-soon
 * counts depend on the clock, so they are read live: one range of
 * findings_open_base per group (deadline = clock_base + the group's hours),
 * whose cost is the number of findings in the range, not in the tenant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "store/findings_int.h"
#include "store/rollups_int.h"
#include "store/store_calendars.h"
#include "store/store_analytics.h"
#include "util/log.h"
#include "util/xalloc.h"

/* ---- the finding_rollups table ---------------------------------------------------- */

#define FKEY "tenant_id = ?1 AND day = ?2 AND severity = ?3 AND project_id = ?4 AND status = ?5"
#define FCOLS "tenant_id, day, severity, project_id, status, count, met, breached, sum_ms, " \
              "min_ms, max_ms, hist, penalty_cents"

static const char SQL_ROW_LOCK[] =
    "SELECT count, met, breached, sum_ms, min_ms, max_ms, hist, penalty_cents "
    "FROM finding_rollups WHERE " FKEY " {FOR_UPDATE}";
static const char SQL_ROW_INSERT[] =
    "INSERT INTO finding_rollups (" FCOLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13) ON CONFLICT (tenant_id, day, severity, project_id, status) DO NOTHING "
    "RETURNING count";
static const char SQL_ROW_UPDATE[] =
    "UPDATE finding_rollups SET count = ?6, met = ?7, breached = ?8, sum_ms = ?9, "
    "min_ms = ?10, max_ms = ?11, hist = ?12, penalty_cents = ?13 WHERE " FKEY;
static const char SQL_ROW_DELETE[] = "DELETE FROM finding_rollups WHERE " FKEY;
/* the active time of a terminal finding: its stop minus its clock base
 * (discovery + every pause, the last one closed by the close) */
#define RAW_EXTREME(F)                                                          \
    "SELECT " F "(stopped_at - clock_base) FROM findings WHERE tenant_id = ?1 "  \
    "AND project_id = ?2 AND severity = ?3 AND state = ?4 "                     \
    "AND stopped_at >= ?5 AND stopped_at < ?6"
static const char SQL_MAX[] = RAW_EXTREME("max");
static const char SQL_MIN[] = RAW_EXTREME("min");

static int raw_extreme(struct db_conn *c, const struct rkey *k, bool max, int64_t *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, max ? SQL_MAX : SQL_MIN, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, k->tenant_id);
    db_bind_text(st, 2, k->project_id);
    db_bind_text(st, 3, sla_sev_name(k->sev));
    db_bind_text(st, 4, k->kind);
    db_bind_int64(st, 5, k->day_lo);
    db_bind_int64(st, 6, k->day_hi);
    rc = db_step_one(st);
    if (rc == 1) {
        *out = db_col_int64(st, 0);
        db_reset(st);
        return 0;
    }
    return rc < 0 ? rc : SW_E_STORE;
}

static struct rollup_table finding_table = {
    .name = "finding_rollups",
    .lock = SQL_ROW_LOCK,
    .insert = SQL_ROW_INSERT,
    .update = SQL_ROW_UPDATE,
    .del = SQL_ROW_DELETE,
    .raw_extreme = raw_extreme,
    .put_head = "INSERT INTO finding_rollups (" FCOLS ") VALUES ",
    .put_tail = " ON CONFLICT (tenant_id, day, severity, project_id, status) DO UPDATE SET "
                "count = excluded.count, met = excluded.met, breached = excluded.breached, "
                "sum_ms = excluded.sum_ms, min_ms = excluded.min_ms, max_ms = excluded.max_ms, "
                "hist = excluded.hist, penalty_cents = excluded.penalty_cents",
};

/* The sample of a terminal finding: its clock, judged against hours. */
static void closed_sample(const struct sla_finding *f, int32_t hours, struct sla_sample *smp)
{
    struct sla_clock ck = f->clock;
    ck.target_ms = (sla_ms)hours * SLA_MS_PER_HOUR;
    sla_clock_sample(&ck, 0, smp);
}

static bool closed_key(struct tz *z, const struct sw_finding *x, struct rkey *k,
                       struct sla_sample *smp)
{
    if (!x || !sla_finding_state_terminal(x->f.state) || !sla_clock_is_stopped(&x->f.clock))
        return false;
    memset(k, 0, sizeof(*k));
    k->tenant_id = x->tenant_id;
    k->project_id = x->project_id;
    k->sev = x->f.sev;
    k->kind = sla_finding_state_name(x->f.state);
    rollup_key_day(z, x->f.clock.stopped_at, k);
    closed_sample(&x->f, x->f.target.hours, smp);
    return true;
}

/* ---- live counters -------------------------------------------------------------- */

#define CKEY "tenant_id = ?1 AND project_id = ?2 AND severity = ?3"

static const char SQL_COUNT_ADD[] =
    "INSERT INTO finding_counts (tenant_id, project_id, severity, open, paused) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, project_id, severity) DO UPDATE SET "
    "open = finding_counts.open + excluded.open, paused = finding_counts.paused + excluded.paused";
static const char SQL_COUNT_MOVE[] =
    "UPDATE finding_counts SET open = open + ?4, paused = paused + ?5 WHERE " CKEY
    " AND open + ?4 >= 0 AND paused + ?5 >= 0";
static const char SQL_COUNT_DROP[] =
    "DELETE FROM finding_counts WHERE " CKEY " AND open = 0 AND paused = 0";

struct gdelta {
    const char *project_id;
    enum sla_sev sev;
    int open, paused;
};

static void delta_of(const struct sw_finding *x, int sign, struct gdelta *d)
{
    d->project_id = x->project_id;
    d->sev = x->f.sev;
    d->open = x->f.state == SLA_FINDING_OPEN ? sign : 0;
    d->paused = x->f.state == SLA_FINDING_PAUSED ? sign : 0;
}

static int count_apply(struct db_conn *c, const char *tenant_id, const struct gdelta *d)
{
    if (!d->open && !d->paused)
        return 0;
    bool add = d->open >= 0 && d->paused >= 0;
    struct db_stmt *st;
    int rc = db_prep(c, add ? SQL_COUNT_ADD : SQL_COUNT_MOVE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, d->project_id);
    db_bind_text(st, 3, sla_sev_name(d->sev));
    db_bind_int64(st, 4, d->open);
    db_bind_int64(st, 5, d->paused);
    if ((rc = db_exec(st)) < 0 || add)
        return rc;
    if (db_changes(st) == 0) {
        log_warn("finding_counts: %s/%s %s has nothing to take back; run `slawatch rollups "
                 "rebuild`", tenant_id, d->project_id, sla_sev_name(d->sev));
        return 0;
    }
    if ((rc = db_prep(c, SQL_COUNT_DROP, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, d->project_id);
    db_bind_text(st, 3, sla_sev_name(d->sev));
    return db_exec(st);
}

static int gkey_cmp(const struct gdelta *a, const struct gdelta *b)
{
    int c = strcmp(a->project_id, b->project_id);
    return c ? c : (int)a->sev - (int)b->sev;
}

/* The groups' counts; two groups (a severity change) in key order, so two
 * writers moving findings between the same groups never deadlock. */
static int counts_change_in(struct db_conn *c, const struct sw_finding *before,
                            const struct sw_finding *after)
{
    struct gdelta d[2];
    int n = 0;
    if (before)
        delta_of(before, -1, &d[n++]);
    delta_of(after, +1, &d[n++]);
    if (n == 2 && gkey_cmp(&d[0], &d[1]) == 0) {
        d[0].open += d[1].open;
        d[0].paused += d[1].paused;
        n = 1;
    } else if (n == 2 && gkey_cmp(&d[0], &d[1]) > 0) {
        struct gdelta t = d[0];
        d[0] = d[1];
        d[1] = t;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = count_apply(c, after->tenant_id, &d[i]);
    return rc;
}

/* ---- a change ------------------------------------------------------------------------ */

int store_finding_numbers_change_in(struct db_conn *c, const struct sw_finding *before,
                                    const struct sw_finding *after)
{
    if (!after)
        return SW_E_INVAL;
    int rc = counts_change_in(c, before, after);
    bool tb = before && sla_finding_state_terminal(before->f.state);
    bool ta = sla_finding_state_terminal(after->f.state);
    if (rc < 0 || (!tb && !ta))
        return rc;
    struct tz z;
    if ((rc = rollup_tenant_tz_in(c, after->tenant_id, false, &z)) < 0)
        return rc;
    struct rkey kb, ka;
    struct sla_sample sb, sa;
    bool hb = closed_key(&z, before, &kb, &sb);
    bool ha = closed_key(&z, after, &ka, &sa);
    if (!(hb && ha && kb.sev == ka.sev && !strcmp(kb.day, ka.day) && !strcmp(kb.kind, ka.kind) &&
          !strcmp(kb.project_id, ka.project_id) && sb.duration_ms == sa.duration_ms &&
          sb.met == sa.met)) {
        if (hb)
            rc = rollup_row_apply_in(c, &finding_table, &kb, &sb, -1);
        if (rc == 0 && ha)
            rc = rollup_row_apply_in(c, &finding_table, &ka, &sa, +1);
    }
    tz_close(&z);
    return rc;
}

/* ---- rebuild ----------------------------------------------------------------------- */

static const char SQL_DELETE_ROLLUPS[] = "DELETE FROM finding_rollups WHERE tenant_id = ?1";
static const char SQL_DELETE_COUNTS[] = "DELETE FROM finding_counts WHERE tenant_id = ?1";
static const char SQL_COUNTS_BUILD[] =
    "INSERT INTO finding_counts (tenant_id, project_id, severity, open, paused) "
    "SELECT tenant_id, project_id, severity, "
    "sum(CASE WHEN state = 'open' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN state = 'paused' THEN 1 ELSE 0 END) "
    "FROM findings WHERE tenant_id = ?1 AND state IN ('open', 'paused') "
    "GROUP BY tenant_id, project_id, severity";
/* terminal findings with the target they were judged by (as findings.c
 * reads them: frozen, else the group's, else built-in) */
static const char SQL_CLOSED[] =
    "SELECT f.project_id, f.severity, f.state, f.created_at, f.clock_base, f.stopped_at, "
    "COALESCE(f.frozen_hours, t.hours, 0) FROM findings f LEFT JOIN finding_targets t "
    "ON t.tenant_id = f.tenant_id AND t.project_id = f.project_id AND t.severity = f.severity "
    "WHERE f.tenant_id = ?1 AND f.state NOT IN ('open', 'paused') AND f.stopped_at > 0 "
    "ORDER BY f.project_id, f.severity, f.state, f.stopped_at";

static int rebuild_closed(struct db_conn *c, const char *tenant_id, struct tz *z,
                          int64_t *rows)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CLOSED, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    struct rollup_batch *b = rollup_batch_new(&finding_table, tenant_id);
    struct sla_rollup *acc = xmalloc(sizeof(*acc));
    sla_rollup_clear(acc);
    char project[SW_ID_MAX + 1] = "", prev_project[SW_ID_MAX + 1] = "";
    char status[24] = "", prev_status[24] = "";
    struct rkey key = {.tenant_id = tenant_id, .project_id = prev_project, .kind = prev_status};
    bool have = false;
    while ((rc = db_step(st)) == DB_ROW) {
        struct sla_finding f;
        memset(&f, 0, sizeof(f));
        db_col_copy(st, 0, project, sizeof(project));
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 1), &f.sev) < 0) {
            rc = SW_E_STORE;
            break;
        }
        db_col_copy(st, 2, status, sizeof(status));
        f.clock.started_at = db_col_int64(st, 3);
        f.clock.paused_ms = db_col_int64(st, 4) - f.clock.started_at;
        f.clock.stopped_at = db_col_int64(st, 5);
        f.clock.last_event_at = f.clock.stopped_at;
        int32_t hours = (int32_t)db_col_int64(st, 6);
        if (hours <= 0)
            hours = sla_finding_builtin()->hours[f.sev];
        char day[SLA_DATE_BUFSZ];
        tz_local_day(z, f.clock.stopped_at, day, sizeof(day));
        if (have && (f.sev != key.sev || strcmp(day, key.day) || strcmp(project, prev_project) ||
                     strcmp(status, prev_status))) {
            if ((rc = rollup_batch_push(c, b, &key, acc)) < 0)
                break;
            sla_rollup_clear(acc);
            have = false;
        }
        if (!have) {
            snprintf(prev_project, sizeof(prev_project), "%s", project);
            snprintf(prev_status, sizeof(prev_status), "%s", status);
            key.sev = f.sev;
            snprintf(key.day, sizeof(key.day), "%s", day);
            have = true;
        }
        struct sla_sample smp;
        closed_sample(&f, hours, &smp);
        sla_rollup_add(acc, &smp);
    }
    db_reset(st);
    if (rc == 0 && have)
        rc = rollup_batch_push(c, b, &key, acc);
    if (rc == 0)
        rc = rollup_batch_finish(c, b, rows);
    rollup_batch_free(b);
    free(acc);
    return rc < 0 ? rc : 0;
}

int finding_numbers_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, struct tz *z,
                                      int64_t *rows)
{
    static const char *const wipe[] = {SQL_DELETE_ROLLUPS, SQL_DELETE_COUNTS};
    struct db_stmt *st;
    int rc = 0;
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        if ((rc = db_prep(c, wipe[i], &st)) == 0) {
            db_bind_text(st, 1, tenant_id);
            rc = db_exec(st);
        }
    }
    if (rc < 0 || (rc = db_prep(c, SQL_COUNTS_BUILD, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (rows)
        *rows += db_changes(st);
    return rebuild_closed(c, tenant_id, z, rows);
}

/* ---- reads: closed rollups ------------------------------------------------------------ */

static const char SQL_SCAN[] =
    "SELECT day, severity, project_id, status, count, met, breached, sum_ms, min_ms, max_ms, "
    "hist, penalty_cents FROM finding_rollups WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 "
    "AND (CAST(?4 AS TEXT) IS NULL OR project_id = ?4) "
    "ORDER BY day, severity, project_id, status";

int sql_finding_rollup_scan(struct store *base, const char *tenant_id, const char *from_day,
                            const char *to_day, const char *project_id,
                            store_finding_rollup_cb cb, void *ud)
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
        struct sw_finding_rollup_row r;
        while ((rc = db_step(st)) == DB_ROW) {
            db_col_copy(st, 0, r.day, sizeof(r.day));
            if (sla_sev_parse(SLA_FINDING, db_col_text(st, 1), &r.sev) < 0 ||
                sla_finding_state_parse(db_col_text(st, 3), &r.status) < 0) {
                rc = SW_E_STORE;
                break;
            }
            db_col_copy(st, 2, r.project_id, sizeof(r.project_id));
            struct sla_rollup v;
            rollup_row_read(st, 4, &v, &r.hist, &r.hist_len);
            r.count = v.count;
            r.met = v.met;
            r.breached = v.breached;
            r.sum_ms = v.sum_ms;
            r.min_ms = v.min_ms;
            r.max_ms = v.max_ms;
            if (cb(&r, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

/* ---- reads: live numbers and upcoming deadlines ------------------------------------------ */

/* The groups with live findings, and each group's target (built-in when
 * the group has no target rows yet). */
static const char SQL_GROUPS[] =
    "SELECT c.project_id, c.severity, c.open, c.paused, COALESCE(t.hours, 0), "
    "COALESCE(t.calendar, '') "
    "FROM finding_counts c LEFT JOIN finding_targets t ON t.tenant_id = c.tenant_id "
    "AND t.project_id = c.project_id AND t.severity = c.severity "
    "WHERE c.tenant_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR c.project_id = ?2) "
    "ORDER BY c.project_id, c.severity";
static const char SQL_DUE_LIST[] =
    "SELECT id, clock_base FROM findings {INDEXED_BY findings_open_base} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND state = 'open' "
    "AND clock_base >= ?4 AND clock_base <= ?5 ORDER BY clock_base, id LIMIT ?6";
/* a calendar group's open findings based in (?4, ?5] */
static const char SQL_BASE_RANGE[] =
    "SELECT count(*) FROM findings {INDEXED_BY findings_open_base} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND state = 'open' "
    "AND clock_base > ?4 AND clock_base <= ?5";

/* A group's calendar as the core's (NULL: around the clock, or a calendar
 * gone since: wall time). */
static int group_cal(struct db_conn *c, struct cal_memo *memo, const char *tenant_id,
                     const struct sw_finding_group_numbers *g, const struct sla_cal **out)
{
    *out = NULL;
    if (!g->calendar[0] || !strcmp(g->calendar, SW_CAL_24X7))
        return 0;
    int rc = store_calendar_in(c, memo, tenant_id, g->calendar, out);
    return rc == SW_E_NOTFOUND ? 0 : rc;
}

/* On calendar cal, a finding based at B with target t is past its deadline
 * at `at` (due(B) < at) exactly when its business time to `at` exceeds t:
 * B <= back(at, t + 1).  Monotone in B, so a group's overdue and due-soon
 * findings are again two ranges of clock_base. */
static sla_ms cal_cutoff(const struct sla_cal *cal, sla_ms at, sla_ms target_ms)
{
    return sla_cal_back(cal, at, target_ms + 1);
}

struct groups {
    struct sw_finding_group_numbers *v;
    size_t n, cap;
};

static int load_groups(struct db_conn *c, const char *tenant_id, const char *project_id,
                       struct groups *g)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_GROUPS, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    while ((rc = db_step(st)) == DB_ROW) {
        if (g->n == g->cap)
            g->v = xrealloc(g->v, (g->cap = g->cap ? g->cap * 2 : 16) * sizeof(*g->v));
        struct sw_finding_group_numbers *x = &g->v[g->n];
        memset(x, 0, sizeof(*x));
        db_col_copy(st, 0, x->project_id, sizeof(x->project_id));
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 1), &x->sev) < 0) {
            rc = SW_E_STORE;
            break;
        }
        x->open = db_col_int64(st, 2);
        x->paused = db_col_int64(st, 3);
        x->hours = (int32_t)db_col_int64(st, 4);
        db_col_copy(st, 5, x->calendar, sizeof(x->calendar));
        if (x->hours <= 0)
            x->hours = sla_finding_builtin()->hours[x->sev];
        g->n++;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

struct live_ctx {
    const char *tenant_id, *project_id;
    int64_t now, soon_ms;
    struct groups g;
};

/* Every group's live numbers in ONE statement: a group's overdue and
 * due-soon counts are two ranges of findings_open_base (correlated on the
 * group), so the cost is a round trip whatever the number of groups (a
 * statement per group was 25 round trips for a tenant of 5 projects: most
 * of the summary's time on PostgreSQL).  A group without target rows runs
 * on the built-in hours (?5..?9 by severity). */
#define GROUP_HOURS "COALESCE(t.hours, CASE c.severity WHEN 'urgent' THEN ?5 " \
    "WHEN 'critical' THEN ?6 WHEN 'high' THEN ?7 WHEN 'medium' THEN ?8 ELSE ?9 END)"
#define OPEN_OF_GROUP "SELECT count(*) FROM findings f {INDEXED_BY findings_open_base} " \
    "WHERE f.tenant_id = ?1 AND f.project_id = g.project_id AND f.severity = g.severity " \
    "AND f.state = 'open' "
static const char SQL_LIVE[] =
    "SELECT g.project_id, g.severity, g.open, g.paused, g.hours, "
    "(" OPEN_OF_GROUP "AND f.clock_base < ?3 - g.hours * 3600000), "
    "(" OPEN_OF_GROUP "AND f.clock_base >= ?3 - g.hours * 3600000 "
    "AND f.clock_base <= ?3 + ?4 - g.hours * 3600000), g.calendar "
    "FROM (SELECT c.project_id, c.severity, c.open, c.paused, " GROUP_HOURS " AS hours, "
    "COALESCE(t.calendar, '') AS calendar "
    "FROM finding_counts c LEFT JOIN finding_targets t ON t.tenant_id = c.tenant_id "
    "AND t.project_id = c.project_id AND t.severity = c.severity "
    "WHERE c.tenant_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR c.project_id = ?2)) g "
    "ORDER BY g.project_id, g.severity";

static int live_tx(struct db_conn *c, void *ud)
{
    struct live_ctx *x = ud;
    x->g.n = 0;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LIVE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->project_id);
    db_bind_int64(st, 3, x->now);
    db_bind_int64(st, 4, x->soon_ms);
    for (int sev = 0; sev < SLA_SEV_COUNT; sev++)
        db_bind_int64(st, 5 + sev, sla_finding_builtin()->hours[sev]);
    while ((rc = db_step(st)) == DB_ROW) {
        struct groups *g = &x->g;
        if (g->n == g->cap)
            g->v = xrealloc(g->v, (g->cap = g->cap ? g->cap * 2 : 16) * sizeof(*g->v));
        struct sw_finding_group_numbers *y = &g->v[g->n];
        memset(y, 0, sizeof(*y));
        db_col_copy(st, 0, y->project_id, sizeof(y->project_id));
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 1), &y->sev) < 0) {
            rc = SW_E_STORE;
            break;
        }
        y->open = db_col_int64(st, 2);
        y->paused = db_col_int64(st, 3);
        y->hours = (int32_t)db_col_int64(st, 4);
        y->overdue = db_col_int64(st, 5);
        y->due_soon = db_col_int64(st, 6);
        db_col_copy(st, 7, y->calendar, sizeof(y->calendar));
        g->n++;
    }
    db_reset(st);
    if (rc < 0)
        return rc;
    /* groups on a calendar: the statement counted wall time; their two
     * ranges again, with cutoffs in business time */
    struct cal_memo memo = {0};
    for (size_t i = 0; i < x->g.n; i++) {
        struct sw_finding_group_numbers *y = &x->g.v[i];
        const struct sla_cal *cal;
        if ((rc = group_cal(c, &memo, x->tenant_id, y, &cal)) < 0)
            return rc;
        if (!cal || y->open == 0)
            continue;
        sla_ms t = (sla_ms)y->hours * SLA_MS_PER_HOUR;
        sla_ms past = cal_cutoff(cal, x->now, t), soon = cal_cutoff(cal, x->now + x->soon_ms + 1, t);
        int64_t *out[2] = {&y->overdue, &y->due_soon};
        const sla_ms lo[2] = {INT64_MIN, past}, hi[2] = {past, soon};
        for (int k = 0; k < 2; k++) {
            if ((rc = db_prep(c, SQL_BASE_RANGE, &st)) < 0)
                return rc;
            db_bind_text(st, 1, x->tenant_id);
            db_bind_text(st, 2, y->project_id);
            db_bind_text(st, 3, sla_sev_name(y->sev));
            db_bind_int64(st, 4, lo[k]);
            db_bind_int64(st, 5, hi[k]);
            if ((rc = db_step_one(st)) <= 0)
                return rc < 0 ? rc : SW_E_STORE;
            *out[k] = db_col_int64(st, 0);
            db_reset(st);
        }
    }
    return 0;
}

int findings_live_numbers(struct store *base, const char *tenant_id, const char *project_id,
                          int64_t now, int64_t soon_ms, store_finding_numbers_cb cb, void *ud)
{
    struct live_ctx x = {.tenant_id = tenant_id, .project_id = project_id, .now = now,
                         .soon_ms = soon_ms};
    int rc = findings_read(sql_of(base), live_tx, &x);
    for (size_t i = 0; rc == 0 && i < x.g.n; i++)
        if (cb(&x.g.v[i], ud))
            break;
    free(x.g.v);
    return rc;
}

struct up_ctx {
    const char *tenant_id, *project_id;
    int64_t now, until;
    int limit;
    struct groups g;
    struct sw_finding_due *v;
    size_t n, cap;
};

static int due_cmp(const void *pa, const void *pb)
{
    const struct sw_finding_due *a = pa, *b = pb;
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline ? -1 : 1;
    int c = strcmp(a->project_id, b->project_id);
    return c ? c : strcmp(a->id, b->id);
}

static int up_tx(struct db_conn *c, void *ud)
{
    struct up_ctx *x = ud;
    x->g.n = 0;
    x->n = 0;
    int rc = load_groups(c, x->tenant_id, x->project_id, &x->g);
    struct cal_memo memo = {0};
    for (size_t i = 0; i < x->g.n && rc == 0; i++) {
        const struct sw_finding_group_numbers *g = &x->g.v[i];
        if (g->open == 0)
            continue;
        int64_t t = (int64_t)g->hours * SLA_MS_PER_HOUR;
        const struct sla_cal *cal;
        if ((rc = group_cal(c, &memo, x->tenant_id, g, &cal)) < 0)
            break;
        /* deadlines in [now, until]: bases in [now - t, until - t], or on
         * a calendar (cal_cutoff(now), cal_cutoff(until + 1)] */
        int64_t lo = cal ? cal_cutoff(cal, x->now, t) + 1 : x->now - t;
        int64_t hi = cal ? cal_cutoff(cal, x->until + 1, t) : x->until - t;
        struct db_stmt *st;
        if ((rc = db_prep(c, SQL_DUE_LIST, &st)) < 0)
            break;
        db_bind_text(st, 1, x->tenant_id);
        db_bind_text(st, 2, g->project_id);
        db_bind_text(st, 3, sla_sev_name(g->sev));
        db_bind_int64(st, 4, lo);
        db_bind_int64(st, 5, hi);
        db_bind_int64(st, 6, x->limit);
        while ((rc = db_step(st)) == DB_ROW) {
            if (x->n == x->cap)
                x->v = xrealloc(x->v, (x->cap = x->cap ? x->cap * 2 : 64) * sizeof(*x->v));
            struct sw_finding_due *d = &x->v[x->n++];
            db_col_copy(st, 0, d->id, sizeof(d->id));
            snprintf(d->project_id, sizeof(d->project_id), "%s", g->project_id);
            d->sev = g->sev;
            d->deadline = cal ? sla_cal_due(cal, db_col_int64(st, 1), t) : db_col_int64(st, 1) + t;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

int findings_upcoming(struct store *base, const char *tenant_id, const char *project_id,
                      int64_t now, int64_t until, int limit, store_finding_due_cb cb, void *ud)
{
    struct up_ctx x = {.tenant_id = tenant_id, .project_id = project_id, .now = now,
                       .until = until, .limit = limit};
    int rc = findings_read(sql_of(base), up_tx, &x);
    if (rc == 0 && x.n)
        qsort(x.v, x.n, sizeof(*x.v), due_cmp);
    for (size_t i = 0; rc == 0 && i < x.n && (int)i < limit; i++)
        if (cb(&x.v[i], ud))
            break;
    free(x.g.v);
    free(x.v);
    return rc;
}
