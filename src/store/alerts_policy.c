/* alerts_policy.c: the alert waterfall's layers (global, tenant, project;
 * the tenant's template is tenants.template), merging an SLA definition
 * into a layer, and recalculating a tenant's open alerts when its policy
 * changes (store_alerts.h).
 *
 * Policy writers of one tenant run one at a time: each reads the tenant row
 * {FOR_UPDATE} first, so two nodes merging definitions cannot lose one
 * another's fields, and two recalculations do not interleave.  Creates read
 * it {FOR_SHARE}: a create commits before a policy change starts, or reads
 * the changed policy, so no alert is created under targets read before a
 * recalculation that could not see it.
 *
 * Recalculation is set-based: targets are resolved in C once per severity
 * (and per project that has its own layer), then one UPDATE per group moves
 * every running clock of the tenant's open alerts, re-arms alarms and
 * recomputes next_check_at with the core's formulas written in SQL
 * (clock.c, alarm.c, alert.c):
 *   due        = started + target + paused total (a pause still going on
 *                counts up to now)
 *   target     = the new minutes x 60000 for a running clock; a stopped
 *                clock keeps the target it was judged against (and a
 *                stopped acknowledge clock its MTTA penalty rate)
 *   re-arm     = the target moved and the new due is after now: every
 *                fired flag of that clock is cleared
 *   next check = the earliest of the unfired threshold (started + paused +
 *                ceil(target x pct / 100)) and, unless fired, the breach
 *                (due + 1), over the running, unpaused clocks
 * Every derived value is written as an expression of the updated row's own
 * columns (never of a snapshot read before), so on PostgreSQL a row that
 * another node changed meanwhile (a breach fired, an acknowledgement) is
 * recomputed from its latest version when the UPDATE reaches it.
 * tests/unit/test_store_alert_recalc.c pins these formulas against the
 * core on random alerts.  SQLite is told to walk the open alerts' index
 * (tenant, severity) rather than every alert of the tenant once per
 * severity.  The "recalculated" events of a group are inserted
 * 32 to a statement (one round trip each, not one per alert). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts_int.h"
#include "store/store_calendars.h"
#include "store/store_proof.h"
#include "util/xalloc.h"

/* ---- layers -------------------------------------------------------------- */

static const char SQL_LAYER_GET[] =
    "SELECT severity, ack_min, resolve_min, warn_pct, penalty_cph, ack_penalty_cph "
    "FROM alert_policy_layers "
    "WHERE tenant_id = ?1 AND project_id = ?2";
static const char SQL_LAYER_DELETE[] =
    "DELETE FROM alert_policy_layers WHERE tenant_id = ?1 AND project_id = ?2";
static const char SQL_LAYER_INSERT[] =
    "INSERT INTO alert_policy_layers (tenant_id, project_id, severity, ack_min, resolve_min, "
    "warn_pct, penalty_cph, updated_at, ack_penalty_cph) "
    "VALUES (?1, ?2, ?3, NULLIF(?4, 0), NULLIF(?5, 0), NULLIF(?6, 0), NULLIF(?7, 0), ?8, "
    "NULLIF(?9, 0))";
static const char SQL_TENANT_TEMPLATE[] =
    "SELECT COALESCE(template, '') FROM tenants WHERE id = ?1";
static const char SQL_TENANT_TEMPLATE_SHARE[] =
    "SELECT COALESCE(template, '') FROM tenants WHERE id = ?1 {FOR_SHARE}";
static const char SQL_TENANT_TEMPLATE_LOCK[] =
    "SELECT COALESCE(template, '') FROM tenants WHERE id = ?1 {FOR_UPDATE}";
static const char SQL_PROJECT_LAYERS[] =
    "SELECT DISTINCT project_id FROM alert_policy_layers "
    "WHERE tenant_id = ?1 AND project_id <> '' ORDER BY project_id";

static int layer_read(struct db_conn *c, const char *tenant_id, const char *project_id,
                      struct sla_alert_layer *out, bool *has)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LAYER_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    sla_alert_layer_clear(out);
    *has = false;
    while ((rc = db_step(st)) == DB_ROW) {
        enum sla_sev sev;
        if (sla_sev_parse(SLA_ALERT, db_col_text(st, 0), &sev) < 0)
            continue;
        out->ack_min[sev] = db_col_int(st, 1);
        out->resolve_min[sev] = db_col_int(st, 2);
        out->warn_pct[sev] = db_col_int(st, 3);
        out->penalty_cph[sev] = db_col_int64(st, 4);
        out->ack_penalty_cph[sev] = db_col_int64(st, 5);
        *has = true;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int alert_layer_write_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                         const struct sla_alert_layer *l, int64_t now)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LAYER_DELETE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    if ((rc = db_exec(st)) < 0)
        return rc;
    bool any = false;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        any |= l->ack_min[sev] > 0 || l->resolve_min[sev] > 0 || l->warn_pct[sev] > 0 ||
               l->penalty_cph[sev] > 0 || l->ack_penalty_cph[sev] > 0;
    if (!any)
        return 0;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT && rc == 0; sev++) {
        if ((rc = db_prep(c, SQL_LAYER_INSERT, &st)) < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);
        db_bind_text(st, 3, sla_sev_name((enum sla_sev)sev));
        db_bind_int64(st, 4, l->ack_min[sev]);
        db_bind_int64(st, 5, l->resolve_min[sev]);
        db_bind_int64(st, 6, l->warn_pct[sev]);
        db_bind_int64(st, 7, l->penalty_cph[sev]);
        db_bind_int64(st, 8, now);
        db_bind_int64(st, 9, l->ack_penalty_cph[sev]);
        rc = db_exec(st);
    }
    return rc;
}

/* The tenant's template name: 1 (found), 0 (no tenant), or SW_E_*. */
static int tenant_template(struct db_conn *c, const char *tenant_id, enum alert_lock lock,
                           char *out, size_t len)
{
    static const char *const sql[] = {
        [ALERT_LOCK_NONE] = SQL_TENANT_TEMPLATE,
        [ALERT_LOCK_SHARE] = SQL_TENANT_TEMPLATE_SHARE,
        [ALERT_LOCK_UPDATE] = SQL_TENANT_TEMPLATE_LOCK,
    };
    struct db_stmt *st;
    int rc = db_prep(c, sql[lock], &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    rc = db_step_one(st);
    if (rc == 1) {
        db_col_copy(st, 0, out, len);
        db_reset(st);
    }
    return rc;
}

int alert_tenant_lock_in(struct db_conn *c, const char *tenant_id, enum alert_lock lock)
{
    char name[SW_TEMPLATE_MAX + 1];
    int rc = tenant_template(c, tenant_id, lock, name, sizeof(name));
    return rc < 0 ? rc : rc == 0 ? SW_E_NOTFOUND : 0;
}

int alert_policy_load_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                         enum alert_lock lock, struct sw_alert_policy *p)
{
    memset(p, 0, sizeof(*p));
    int rc = tenant_template(c, tenant_id, lock, p->template_name, sizeof(p->template_name));
    if (rc <= 0)
        return rc < 0 ? rc : SW_ALERT_NO_TENANT;
    const struct sla_template *t;
    if (p->template_name[0] && sla_template_find(p->template_name, &t) == 0)
        sla_template_layer(t, &p->tmpl);
    else
        p->template_name[0] = '\0';     /* unknown name: as if none */
    if (project_id && *project_id) {
        rc = store_project_exists_in(c, tenant_id, project_id);
        if (rc <= 0)
            return rc < 0 ? rc : SW_ALERT_NO_PROJECT;
        rc = layer_read(c, tenant_id, project_id, &p->project, &p->has_project);
        if (rc < 0)
            return rc;
    }
    rc = layer_read(c, tenant_id, "", &p->tenant, &p->has_tenant);
    if (rc == 0)
        rc = layer_read(c, "", "", &p->global, &p->has_global);
    if (rc == 0)
        rc = store_policy_calendars_in(c, tenant_id, "", "alert", p->cal_tenant);
    if (rc == 0 && project_id && *project_id)
        rc = store_policy_calendars_in(c, tenant_id, project_id, "alert", p->cal_project);
    if (rc == 0)
        alert_policy_calendars(p);
    return rc;
}

void alert_policy_calendars(struct sw_alert_policy *p)
{
    for (int sev = 0; sev < SLA_SEV_COUNT; sev++) {
        const char *v = p->cal_project[sev][0] ? p->cal_project[sev] : p->cal_tenant[sev];
        snprintf(p->cal[sev], sizeof(p->cal[sev]), "%s", strcmp(v, SW_CAL_24X7) ? v : "");
    }
}

/* ---- recalculation ---------------------------------------------------------- */

#define NEVER_SQL "9223372036854775807"

/* Per clock P (ack, res) of the row a, with t its severity's new targets
 * (MIN the column of t in minutes); ?3 = now. */
#define RUNNING(P) "a." P "_stopped_at = 0"
#define TARGET(P, MIN)                                                          \
    "(CASE WHEN a." P "_stopped_at = 0 THEN t." MIN " * 60000 ELSE a." P "_target_ms END)"
#define BASE(P)                                                                 \
    "(a." P "_started_at + a." P "_paused_ms + CASE WHEN a." P "_paused_since <> 0 "    \
    "AND ?3 > a." P "_paused_since THEN ?3 - a." P "_paused_since ELSE 0 END)"
#define DUE(P, MIN) "(" BASE(P) " + " TARGET(P, MIN) ")"
#define MOVED(P, MIN) "(a." P "_stopped_at = 0 AND t." MIN " * 60000 <> a." P "_target_ms)"
#define REARM(P, MIN) "(" MOVED(P, MIN) " AND " DUE(P, MIN) " > ?3)"
#define FIRED(P, MIN) "(CASE WHEN " REARM(P, MIN) " THEN 0 ELSE a." P "_fired END)"
#define BFIRED(P, MIN) "(CASE WHEN " REARM(P, MIN) " THEN 0 ELSE a." P "_breach_fired END)"
/* The clock's first threshold not yet fired (NULL: none): ?48 = 0, the
 * alert's warn_pct (bit 0); else the tenant's list, ascending, ?49..?56
 * (bit i = the i-th; 0 = absent; store_int.h struct alert_th). */
#define UNFIRED(P, MIN, BIT) "(" FIRED(P, MIN) " & " BIT ") = 0"
#define TH(P, MIN, BIT, Q) "WHEN " UNFIRED(P, MIN, BIT) " AND " Q " > 0 THEN " Q " "
#define PCT(P, MIN)                                                             \
    "(CASE WHEN ?48 = 0 THEN (CASE WHEN " UNFIRED(P, MIN, "1") " AND t.warn_pct > 0 "     \
    "AND t.warn_pct <= 100 THEN t.warn_pct END) "                               \
    TH(P, MIN, "1", "?49") TH(P, MIN, "2", "?50") TH(P, MIN, "4", "?51")        \
    TH(P, MIN, "8", "?52") TH(P, MIN, "16", "?53") TH(P, MIN, "32", "?54")      \
    TH(P, MIN, "64", "?55") TH(P, MIN, "128", "?56") "END)"
_Static_assert(SLA_THRESHOLDS_MAX == 8, "PCT names eight thresholds");
/* The clock's next instant: its threshold and its breach. */
#define CHECKS(P, MIN)                                                          \
    "CASE WHEN " RUNNING(P) " AND a." P "_paused_since = 0 AND " PCT(P, MIN) " IS NOT NULL " \
    "THEN " BASE(P) " + (" TARGET(P, MIN) " * " PCT(P, MIN) " + 99) / 100 "     \
    "ELSE " NEVER_SQL " END, "                                                  \
    "CASE WHEN " RUNNING(P) " AND a." P "_paused_since = 0 AND " BFIRED(P, MIN) " = 0 "     \
    "THEN " DUE(P, MIN) " + 1 ELSE " NEVER_SQL " END"

/* ?1 tenant, ?2 project ("" = the alerts whose project has no layer of its
 * own), ?3 now, ?4.. per severity: ack_min, resolve_min, warn_pct,
 * penalty_cph, ack_penalty_cph, and the five sources; ?44..?47: the
 * severity is on a calendar.  Alerts on a calendar, or that move onto one,
 * are left to the C path (alerts_calendar.c): business time is not an SQL
 * expression. */
#define RECALC_WITH                                                             \
    "WITH t(sev, ack_min, resolve_min, warn_pct, penalty_cph, ack_penalty_cph, ack_src, " \
    "resolve_src, warn_src, penalty_src, ack_penalty_src, cal) AS (VALUES "     \
    "('critical', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?44), "           \
    "('high', ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?45), "         \
    "('medium', ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?46), "       \
    "('low', ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?47)) "
/* the group's open alerts that something would change for */
#define RECALC_WHERE                                                            \
    "WHERE a.tenant_id = ?1 AND a.severity = t.sev AND a.state <> 'resolved' "  \
    "AND ((?2 = '' AND a.project_id NOT IN (SELECT l.project_id FROM alert_policy_layers AS l " \
    "      WHERE l.tenant_id = ?1 AND l.project_id <> '')) "                    \
    "  OR (?2 <> '' AND a.project_id = ?2)) "                                   \
    "AND t.cal = 0 AND a.ack_calendar IS NULL AND a.res_calendar IS NULL "      \
    "AND a.project_id NOT IN (SELECT pc.project_id FROM policy_calendars AS pc " \
    "  WHERE pc.tenant_id = ?1 AND pc.kind = 'alert' AND pc.project_id <> '') " \
    "AND (" MOVED("ack", "ack_min") " OR " MOVED("res", "resolve_min") " "      \
    "  OR a.ack_min <> t.ack_min OR a.resolve_min <> t.resolve_min "            \
    "  OR a.warn_pct <> t.warn_pct OR a.penalty_cph <> t.penalty_cph "          \
    "  OR a.ack_src <> t.ack_src OR a.resolve_src <> t.resolve_src "            \
    "  OR a.warn_src <> t.warn_src OR a.penalty_src <> t.penalty_src "          \
    "  OR (" RUNNING("ack") " AND (a.ack_penalty_cph <> t.ack_penalty_cph "     \
    "      OR a.ack_penalty_src <> t.ack_penalty_src))) "

static const char SQL_RECALC[] =
    RECALC_WITH
    "UPDATE alerts AS a {INDEXED_BY alerts_open} SET "
    "ack_target_ms = " TARGET("ack", "ack_min") ", "
    "res_target_ms = " TARGET("res", "resolve_min") ", "
    "ack_due_at = " DUE("ack", "ack_min") ", "
    "resolve_due_at = " DUE("res", "resolve_min") ", "
    "ack_fired = " FIRED("ack", "ack_min") ", "
    "ack_breach_fired = " BFIRED("ack", "ack_min") ", "
    "res_fired = " FIRED("res", "resolve_min") ", "
    "res_breach_fired = " BFIRED("res", "resolve_min") ", "
    "ack_min = t.ack_min, resolve_min = t.resolve_min, warn_pct = t.warn_pct, "
    "penalty_cph = t.penalty_cph, ack_src = t.ack_src, resolve_src = t.resolve_src, "
    "warn_src = t.warn_src, penalty_src = t.penalty_src, "
    "ack_penalty_cph = CASE WHEN " RUNNING("ack") " THEN t.ack_penalty_cph "
    "ELSE a.ack_penalty_cph END, "
    "ack_penalty_src = CASE WHEN " RUNNING("ack") " THEN t.ack_penalty_src "
    "ELSE a.ack_penalty_src END, "
    "next_check_at = NULLIF({LEAST}(" CHECKS("ack", "ack_min") ", "
    CHECKS("res", "resolve_min") "), " NEVER_SQL "), "
    "updated_at = ?3 "
    "FROM t " RECALC_WHERE
    "RETURNING id, ack_due_at, resolve_due_at";

/* A dry run (struct sw_dry_run): what SQL_RECALC would do to the same rows,
 * as one aggregate with the same formulas.  A running clock moves earlier
 * or later with its target; it newly breaches when its old due is not past
 * and its new one is; a re-arm counts where it clears something fired; the
 * penalty delta is what the running breached clocks have accrued by now
 * (started hours over due x rate, resolve and MTTA), new minus old. */
#define OLD_DUE(P) "(" BASE(P) " + a." P "_target_ms)"
#define EARLIER(P, MIN) "(" MOVED(P, MIN) " AND t." MIN " * 60000 < a." P "_target_ms)"
#define LATER(P, MIN) "(" MOVED(P, MIN) " AND t." MIN " * 60000 > a." P "_target_ms)"
#define NEWLY(P, MIN) "(" RUNNING(P) " AND " OLD_DUE(P) " >= ?3 AND " DUE(P, MIN) " < ?3)"
#define REARMS(P, MIN) "(" REARM(P, MIN) " AND (a." P "_fired <> 0 OR a." P "_breach_fired <> 0))"
#define ACCRUED(DUEX, RATE)                                                     \
    "(CASE WHEN ?3 > " DUEX " THEN (?3 - " DUEX " + 3599999) / 3600000 * " RATE " ELSE 0 END)"
#define DELTA(P, MIN, RATE)                                                     \
    "(CASE WHEN " RUNNING(P) " THEN " ACCRUED(DUE(P, MIN), "t." RATE) " - "    \
    ACCRUED(OLD_DUE(P), "a." RATE) " ELSE 0 END)"
#define ANY(M) "(CASE WHEN " M("ack", "ack_min") " OR " M("res", "resolve_min") " THEN 1 ELSE 0 END)"
static const char SQL_DRY[] =
    RECALC_WITH
    "SELECT count(*), COALESCE(sum(" ANY(EARLIER) "), 0), COALESCE(sum(" ANY(LATER) "), 0), "
    "COALESCE(sum(" ANY(NEWLY) "), 0), COALESCE(sum(" ANY(REARMS) "), 0), "
    "CAST(COALESCE(sum(" DELTA("res", "resolve_min", "penalty_cph") " + "
    DELTA("ack", "ack_min", "ack_penalty_cph") "), 0) AS {BIGINT}) "
    "FROM alerts AS a {INDEXED_BY alerts_open} CROSS JOIN t " RECALC_WHERE;

/* Events of recalculated alerts, EV_CHUNK to a statement: ?1 tenant,
 * ?2 actor, ?3 at, then (alert id, data) pairs from ?4. */
#define EV_CHUNK 32
#define EV_ROW(i, d) ", (?1, 'alert', ?" #i ", 'recalculated', ?2, ?3, ?" #d ")"
static const char SQL_EVENTS_CHUNK[] =
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) VALUES "
    "(?1, 'alert', ?4, 'recalculated', ?2, ?3, ?5)"
    EV_ROW(6, 7) EV_ROW(8, 9) EV_ROW(10, 11) EV_ROW(12, 13) EV_ROW(14, 15) EV_ROW(16, 17)
    EV_ROW(18, 19) EV_ROW(20, 21) EV_ROW(22, 23) EV_ROW(24, 25) EV_ROW(26, 27)
    EV_ROW(28, 29) EV_ROW(30, 31) EV_ROW(32, 33) EV_ROW(34, 35) EV_ROW(36, 37)
    EV_ROW(38, 39) EV_ROW(40, 41) EV_ROW(42, 43) EV_ROW(44, 45) EV_ROW(46, 47)
    EV_ROW(48, 49) EV_ROW(50, 51) EV_ROW(52, 53) EV_ROW(54, 55) EV_ROW(56, 57)
    EV_ROW(58, 59) EV_ROW(60, 61) EV_ROW(62, 63) EV_ROW(64, 65) EV_ROW(66, 67)
    " RETURNING id, item_id";

struct ev_chunk {
    struct sw_alert x;              /* tenant_id, and the id of a single event */
    const char *actor;
    int64_t now;
    size_t n;
    char id[EV_CHUNK][SW_ID_MAX + 1];
    char data[EV_CHUNK][128];
};

static int chunk_flush(struct db_conn *c, struct ev_chunk *k)
{
    int rc = 0;
    if (k->n == EV_CHUNK) {
        struct db_stmt *st;
        if ((rc = db_prep(c, SQL_EVENTS_CHUNK, &st)) < 0)
            return rc;
        db_bind_text(st, 1, k->x.tenant_id);
        db_bind_text(st, 2, k->actor ? k->actor : "");
        db_bind_int64(st, 3, k->now);
        for (size_t i = 0; i < EV_CHUNK; i++) {
            db_bind_text(st, 4 + 2 * (int)i, k->id[i]);
            db_bind_text(st, 5 + 2 * (int)i, k->data[i]);
        }
        /* each event on its chain (chain.c): ids come back in any order,
         * matched by the alert (one event per alert in a chunk) */
        int64_t ids[EV_CHUNK];
        char item[SW_ID_MAX + 1];
        size_t got = 0;
        while ((rc = db_step(st)) == DB_ROW && got < EV_CHUNK) {
            db_col_copy(st, 1, item, sizeof(item));
            for (size_t i = 0; i < EV_CHUNK; i++)
                if (!strcmp(item, k->id[i]))
                    ids[i] = db_col_int64(st, 0);
            got++;
        }
        db_reset(st);
        if (rc < 0)
            return rc;
        if (got != EV_CHUNK)
            return SW_E_STORE;
        struct sw_event e;
        memset(&e, 0, sizeof(e));
        snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", k->x.tenant_id);
        snprintf(e.item_kind, sizeof(e.item_kind), "alert");
        snprintf(e.type, sizeof(e.type), "recalculated");
        snprintf(e.actor, sizeof(e.actor), "%s", k->actor ? k->actor : "");
        e.at = k->now;
        rc = 0;
        for (size_t i = 0; i < EV_CHUNK && rc == 0; i++) {
            snprintf(e.item_id, sizeof(e.item_id), "%s", k->id[i]);
            e.data = k->data[i];
            rc = store_chain_event_in(c, ids[i], &e);
        }
    } else {
        for (size_t i = 0; i < k->n && rc == 0; i++) {
            snprintf(k->x.id, sizeof(k->x.id), "%s", k->id[i]);
            rc = store_alert_event_add_in(c, &k->x, "recalculated", k->actor, k->now,
                                          k->data[i], NULL);
        }
    }
    k->n = 0;
    return rc;
}

/* One group: alerts of tenant_id (project_id "" = those whose project has
 * no layer of its own), under the scopes of p. */
static int recalc_group(struct db_conn *c, const char *tenant_id, const char *project_id,
                        const struct sw_alert_policy *p, const struct alert_th *th, int64_t now,
                        const char *actor, int64_t *count, struct sw_dry_run *dry)
{
    struct sla_alert_scopes sc;
    sw_alert_policy_scopes(p, &sc);
    struct sla_alert_targets t[SLA_SEV_COUNT];
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        if (sla_alert_policy_resolve(&sc, (enum sla_sev)sev, &t[sev]) < 0)
            return SW_E_INVAL;
    struct db_stmt *st;
    int rc = db_prep(c, dry ? SQL_DRY : SQL_RECALC, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    db_bind_int64(st, 3, now);
    int i = 4;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        db_bind_int64(st, i++, t[sev].ack_min);
        db_bind_int64(st, i++, t[sev].resolve_min);
        db_bind_int64(st, i++, t[sev].warn_pct);
        db_bind_int64(st, i++, t[sev].penalty_cph);
        db_bind_int64(st, i++, t[sev].ack_penalty_cph);
        const enum sla_src src[5] = {t[sev].ack_src, t[sev].resolve_src, t[sev].warn_src,
                                     t[sev].penalty_src, t[sev].ack_penalty_src};
        for (int k = 0; k < 5; k++) {
            const char *name = sla_src_name(SLA_ALERT, src[k]);
            db_bind_text(st, i++, name ? name : "builtin");
        }
    }
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        db_bind_int64(st, 44 + sev - SLA_SEV_CRITICAL, p->cal[sev][0] ? 1 : 0);
    if (!dry) {
        /* the warnings' thresholds (CHECKS) */
        db_bind_int64(st, 48, th->list ? 1 : 0);
        for (size_t k = 0; k < SLA_THRESHOLDS_MAX; k++)
            db_bind_int64(st, 49 + (int)k, th->list && k < th->t.n ? th->t.v[k] : 0);
    }
    if (dry) {
        if ((rc = db_step_one(st)) <= 0)
            return rc < 0 ? rc : SW_E_STORE;
        *count += db_col_int64(st, 0);
        dry->earlier += db_col_int64(st, 1);
        dry->later += db_col_int64(st, 2);
        dry->new_breaches += db_col_int64(st, 3);
        dry->rearmed += db_col_int64(st, 4);
        dry->penalty_delta_cents += db_col_int64(st, 5);
        db_reset(st);
        return 0;
    }
    /* The UPDATE happens at the first step; the rest reads RETURNING. */
    struct ev_chunk *k = xcalloc(1, sizeof(*k));
    snprintf(k->x.tenant_id, sizeof(k->x.tenant_id), "%s", tenant_id);
    k->actor = actor;
    k->now = now;
    while ((rc = db_step(st)) == DB_ROW) {
        char ack[SLA_TIME_BUFSZ], res[SLA_TIME_BUFSZ];
        db_col_copy(st, 0, k->id[k->n], sizeof(k->id[0]));
        sla_time_format(db_col_int64(st, 1), ack);
        sla_time_format(db_col_int64(st, 2), res);
        snprintf(k->data[k->n], sizeof(k->data[0]),
                 "{\"ack_due_at\":\"%s\",\"resolve_due_at\":\"%s\"}", ack, res);
        (*count)++;
        if (++k->n == EV_CHUNK && (rc = chunk_flush(c, k)) < 0)
            break;
    }
    db_reset(st);
    if (rc == DB_DONE)
        rc = chunk_flush(c, k);
    free(k);
    return rc;
}

static int recalc_tenant(struct db_conn *c, const char *tenant_id, int64_t now,
                         const char *actor, int64_t *count, struct sw_dry_run *dry)
{
    struct sw_alert_policy *p = xmalloc(sizeof(*p));
    char (*projects)[SW_ID_MAX + 1] = NULL;
    *count = 0;
    int rc = alert_policy_load_in(c, tenant_id, NULL, ALERT_LOCK_UPDATE, p);
    if (rc != 0) {
        rc = rc > 0 ? SW_E_NOTFOUND : rc;
        goto done;
    }
    struct alert_th th = {0};
    if ((rc = alert_th_load_in(c, &th, tenant_id)) < 0 ||
        (rc = recalc_group(c, tenant_id, "", p, &th, now, actor, count, dry)) < 0)
        goto done;
    /* projects with their own layer, each under its own scopes */
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_PROJECT_LAYERS, &st)) < 0)
        goto done;
    db_bind_text(st, 1, tenant_id);
    size_t n = 0, cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            projects = xrealloc(projects, cap * sizeof(*projects));
        }
        db_col_copy(st, 0, projects[n++], sizeof(projects[0]));
    }
    db_reset(st);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = layer_read(c, tenant_id, projects[i], &p->project, &p->has_project);
        if (rc == 0)
            rc = recalc_group(c, tenant_id, projects[i], p, &th, now, actor, count, dry);
    }
    /* what the fast path left alone: alerts on (or onto, or off) calendars */
    if (rc >= 0) {
        bool cal_sev[SLA_SEV_COUNT];
        for (int sev = 0; sev < SLA_SEV_COUNT; sev++)
            cal_sev[sev] = p->cal_tenant[sev][0] && strcmp(p->cal_tenant[sev], SW_CAL_24X7);
        rc = alert_recalc_c_in(c, tenant_id, cal_sev, NULL, now, actor, count, dry);
    }
done:
    free(projects);
    free(p);
    return rc < 0 ? rc : 0;
}

int alert_recalc_tenant_in(struct db_conn *c, const char *tenant_id, int64_t now,
                           const char *actor, int64_t *count)
{
    return recalc_tenant(c, tenant_id, now, actor, count, NULL);
}

/* ---- policy and definition ------------------------------------------------------ */

int alert_policy_get(struct store *base, const char *tenant_id, const char *project_id,
                     struct sw_alert_policy *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    /* several reads that must agree */
    int rc = db_begin(c, DB_TX_READ);
    if (rc == 0) {
        rc = alert_policy_load_in(c, tenant_id, project_id, ALERT_LOCK_NONE, out);
        db_rollback(c);
    }
    db_release(c);
    return rc > 0 ? SW_E_NOTFOUND : rc;
}

/* > 0 sets a value, < 0 (SW_DEFINITION_CLEAR, scaled by the definition's
 * unit) clears it back to inherited, 0 keeps it. */
static void merge_one(int32_t *dst, int32_t v)
{
    if (v != 0)
        *dst = v > 0 ? v : 0;
}

static void layer_merge(struct sla_alert_layer *dst, const struct sla_alert_layer *src)
{
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        merge_one(&dst->ack_min[sev], src->ack_min[sev]);
        merge_one(&dst->resolve_min[sev], src->resolve_min[sev]);
        merge_one(&dst->warn_pct[sev], src->warn_pct[sev]);
        if (src->penalty_cph[sev] > 0)
            dst->penalty_cph[sev] = src->penalty_cph[sev];
        if (src->ack_penalty_cph[sev] > 0)
            dst->ack_penalty_cph[sev] = src->ack_penalty_cph[sev];
    }
}

int alert_definition_valid(const struct sla_definition *d)
{
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        const struct sla_field_range *f = &sla_definition_fields[i];
        int32_t v = sla_definition_get(d, f);
        if (v != 0 && v != SW_DEFINITION_CLEAR && (v < f->min || v > f->max))
            return SW_E_INVAL;
    }
    return 0;
}

struct policy_write {
    const char *tenant_id, *project_id;
    const struct sw_definition_change *ch;  /* NULL: recalculate only */
    int64_t now;
    const char *actor;
    int64_t count;
    int bad_sev;
    struct sw_alert_policy p;
};

static void rates_apply(int64_t *dst, const struct sw_rate_patch *r)
{
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        if (r->set[sev])
            dst[sev] = r->cph[sev];     /* 0: back to inheriting */
}

/* Writes the calendars a definition names into its scope: a calendar the
 * tenant has, or null (around the clock: nothing at the tenant, "24x7" at
 * a project, so it does not inherit the tenant's). */
static int calendars_write(struct db_conn *c, struct policy_write *w)
{
    const struct sw_alert_calendars *cals = w->ch->cals;
    char val[SLA_SEV_COUNT][SW_ID_MAX + 1];
    for (int sev = 0; sev < SLA_SEV_COUNT; sev++) {
        val[sev][0] = '\0';
        if (!cals->set[sev])
            continue;
        const char *id = cals->id[sev];
        if (*id && strcmp(id, SW_CAL_24X7)) {
            const struct sla_cal *cal;
            int rc = store_calendar_in(c, NULL, w->tenant_id, id, &cal);
            if (rc == SW_E_NOTFOUND) {
                w->bad_sev = sev;
                return SW_E_INVAL;
            }
            if (rc < 0)
                return rc;
            snprintf(val[sev], sizeof(val[sev]), "%s", id);
        } else if (*w->project_id) {
            snprintf(val[sev], sizeof(val[sev]), "%s", SW_CAL_24X7);
        }
    }
    return store_policy_calendars_put_in(c, w->tenant_id, w->project_id, "alert", cals->set,
                                         val, w->now);
}

/* A dry run's transaction ends here: everything it wrote is rolled back. */
#define DRY_RUN_DONE SW_E_EXHAUSTED

static int policy_write_tx(struct db_conn *c, void *ud)
{
    struct policy_write *w = ud;
    w->count = 0;
    w->bad_sev = -1;
    struct sw_dry_run *dry = w->ch ? w->ch->dry_run : NULL;
    if (dry)
        memset(dry, 0, sizeof(*dry));   /* a retried run counts afresh */
    int rc;
    if (w->ch) {
        rc = alert_policy_load_in(c, w->tenant_id, w->project_id, ALERT_LOCK_UPDATE, &w->p);
        if (rc != 0)
            return rc > 0 ? SW_E_NOTFOUND : rc;
        struct sla_alert_layer *l = *w->project_id ? &w->p.project : &w->p.tenant;
        if (w->ch->d) {
            /* to_layer multiplies and copies: 0 stays 0, so unset stays unset */
            struct sla_alert_layer add;
            sla_definition_to_layer(w->ch->d, &add);
            layer_merge(l, &add);
        }
        rates_apply(l->penalty_cph, &w->ch->penalty);
        rates_apply(l->ack_penalty_cph, &w->ch->ack_penalty);
        if ((rc = alert_layer_write_in(c, w->tenant_id, w->project_id, l, w->now)) < 0)
            return rc;
        if (w->ch->cals && (rc = calendars_write(c, w)) < 0)
            return rc;
        if ((rc = store_history_record_in(c, SW_HISTORY_DEFINITION, w->tenant_id,
                                          w->project_id, w->now, w->actor, "update")) < 0)
            return rc;
    }
    if (dry) {
        /* the new layer is written (in this transaction only): the groups
         * are read as the change would leave them */
        rc = recalc_tenant(c, w->tenant_id, w->now, w->actor, &w->count, dry);
        dry->would_recalculate = w->count;
        return rc < 0 ? rc : DRY_RUN_DONE;
    }
    if ((rc = alert_recalc_tenant_in(c, w->tenant_id, w->now, w->actor, &w->count)) < 0)
        return rc;
    /* deadlines moved: the scheduler looks again */
    return w->count > 0 ? store_hint_in(c, w->now, w->now) : 0;
}

static int policy_write(struct store *base, struct policy_write *w, int64_t *recalculated)
{
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, policy_write_tx, w);
    if (w->ch && w->ch->bad_sev)
        *w->ch->bad_sev = rc == SW_E_INVAL ? w->bad_sev : -1;
    if (rc == DRY_RUN_DONE && w->ch && w->ch->dry_run)
        rc = 0;
    if (rc == 0 && recalculated)
        *recalculated = w->count;
    return rc;
}

static bool rates_valid(const struct sw_rate_patch *r)
{
    for (int sev = 0; sev < SLA_SEV_COUNT; sev++)
        if (r->set[sev] && (r->cph[sev] < 0 || r->cph[sev] > SW_PENALTY_CPH_MAX))
            return false;
    return true;
}

int alert_definition_apply(struct store *base, const struct sw_definition_change *ch,
                           int64_t now, const char *actor, int64_t *recalculated)
{
    if ((ch->d && alert_definition_valid(ch->d) < 0) || !rates_valid(&ch->penalty) ||
        !rates_valid(&ch->ack_penalty))
        return SW_E_INVAL;
    struct policy_write *w = xcalloc(1, sizeof(*w));
    *w = (struct policy_write){.tenant_id = ch->tenant_id,
                               .project_id = ch->project_id ? ch->project_id : "",
                               .ch = ch, .now = now, .actor = actor};
    int rc = policy_write(base, w, recalculated);
    free(w);
    return rc;
}

int alert_definition_merge(struct store *base, const char *tenant_id, const char *project_id,
                           const struct sla_definition *d, int64_t now, const char *actor,
                           int64_t *recalculated)
{
    struct sw_definition_change ch = {.tenant_id = tenant_id, .project_id = project_id, .d = d};
    return alert_definition_apply(base, &ch, now, actor, recalculated);
}

int alert_recalculate(struct store *base, const char *tenant_id, int64_t now, const char *actor,
                      int64_t *recalculated)
{
    struct policy_write *w = xcalloc(1, sizeof(*w));
    *w = (struct policy_write){.tenant_id = tenant_id, .project_id = "", .now = now,
                               .actor = actor};
    int rc = policy_write(base, w, recalculated);
    free(w);
    return rc;
}
