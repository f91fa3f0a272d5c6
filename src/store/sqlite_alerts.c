/* sqlite_alerts.c: the alert subject on SQLite (store_alerts.h).
 *
 * Owns the alerts, alert_policy_layers and sla_configs tables.  Every write
 * runs the core inside one transaction: read the policy, resolve, change the
 * row, append its event, commit; on any error, roll back (nothing partial).
 *
 * Group commit.  synchronous=FULL makes every commit an fsync, so one
 * transaction per single-alert POST would cap ingest at the disk's fsync
 * rate.  Single creates therefore go to the store's alert writer: one
 * thread that takes everything queued, writes it in one transaction,
 * commits once, then hands each caller its own result (a callback: the
 * HTTP handler's connection is suspended meanwhile, so no server thread
 * waits; create() waits on its own condition variable).  While it fsyncs,
 * new requests queue and the next batch takes them all, so the batch grows
 * with the load and an answer is never sent before its commit.  The writer
 * and bulk batches take a process-local write mutex before BEGIN
 * IMMEDIATE, so they queue on it instead of sleeping in SQLite's busy
 * handler.  If a batch fails, its items are retried one transaction each,
 * so one bad row cannot fail the others.
 *
 * Recalculation is set-based: targets are resolved in C once per severity
 * (and per project that has its own layer), then one UPDATE … FROM per group
 * moves every running clock of the tenant's open alerts, re-arms alarms and
 * recomputes next_check_at with the core's formulas (clock.c, alarm.c)
 * written in SQL: due = started + target + paused; re-arm when a running
 * clock's target moved and the new due is in the future; next check = the
 * earliest unfired threshold (ceil(target × pct / 100) active ms) or
 * breach (due + 1).  Alerts never pause (paused_since stays 0): reopening
 * adds the resolved interval to paused_ms.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_alerts.h"
#include "store/sqlite_alerts_int.h"
#include "util/xalloc.h"

#define BATCH_ROWS 10000
#define NEVER_SQL "9223372036854775807"

/* ---- names ------------------------------------------------------------ */

static const char *src_name(enum sla_src src)
{
    const char *n = sla_src_name(SLA_ALERT, src);
    return n ? n : "builtin";
}

static enum sla_src src_parse(const char *s)
{
    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        const char *n = sla_src_name(SLA_ALERT, (enum sla_src)i);
        if (n && s && strcmp(n, s) == 0)
            return (enum sla_src)i;
    }
    return SLA_SRC_BUILTIN;
}

static enum sla_sev sev_parse_db(const unsigned char *s)
{
    enum sla_sev v = SLA_SEV_LOW;
    if (s)
        sla_sev_parse(SLA_ALERT, (const char *)s, &v);
    return v;
}

/* ---- rows ------------------------------------------------------------- */

#define ALERT_COLS                                                              \
    "tenant_id, id, project_id, severity, state, title, source, created_at, "   \
    "acknowledged_at, resolved_at, "                                            \
    "ack_started_at, ack_target_ms, ack_paused_ms, ack_paused_since, "          \
    "ack_stopped_at, ack_last_event_at, "                                       \
    "res_started_at, res_target_ms, res_paused_ms, res_paused_since, "          \
    "res_stopped_at, res_last_event_at, "                                       \
    "ack_fired, ack_breach_fired, res_fired, res_breach_fired, "                \
    "ack_min, resolve_min, warn_pct, penalty_cph, "                             \
    "ack_src, resolve_src, warn_src, penalty_src, "                             \
    "ack_due_at, resolve_due_at, next_check_at, escalation_level, updated_at"

#define ALERT_PARAMS                                                            \
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "   \
    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, "    \
    "?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39"

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (" ALERT_COLS ") VALUES (" ALERT_PARAMS ") "
    "ON CONFLICT (tenant_id, id) DO NOTHING";

static const char SQL_ALERT_UPDATE[] =
    "UPDATE alerts SET project_id = ?3, severity = ?4, state = ?5, title = ?6, source = ?7, "
    "created_at = ?8, acknowledged_at = ?9, resolved_at = ?10, "
    "ack_started_at = ?11, ack_target_ms = ?12, ack_paused_ms = ?13, ack_paused_since = ?14, "
    "ack_stopped_at = ?15, ack_last_event_at = ?16, "
    "res_started_at = ?17, res_target_ms = ?18, res_paused_ms = ?19, res_paused_since = ?20, "
    "res_stopped_at = ?21, res_last_event_at = ?22, "
    "ack_fired = ?23, ack_breach_fired = ?24, res_fired = ?25, res_breach_fired = ?26, "
    "ack_min = ?27, resolve_min = ?28, warn_pct = ?29, penalty_cph = ?30, "
    "ack_src = ?31, resolve_src = ?32, warn_src = ?33, penalty_src = ?34, "
    "ack_due_at = ?35, resolve_due_at = ?36, next_check_at = ?37, escalation_level = ?38, "
    "updated_at = ?39 WHERE tenant_id = ?1 AND id = ?2";

static const char SQL_ALERT_GET[] =
    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ?1 AND id = ?2";

/* Breached at ?7: a stopped clock after its due, a running one past it. */
#define BREACHED_SQL                                                            \
    "((CASE WHEN ack_stopped_at > 0 THEN ack_stopped_at ELSE ?7 END) > ack_due_at " \
    "OR (CASE WHEN res_stopped_at > 0 THEN res_stopped_at ELSE ?7 END) > resolve_due_at)"

static const char SQL_ALERT_LIST[] =
    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ?1 AND id > ?2 "
    "AND (?3 IS NULL OR project_id = ?3) AND (?4 IS NULL OR state = ?4) "
    "AND (?5 IS NULL OR severity = ?5) AND (?6 IS NULL OR ?6 = " BREACHED_SQL ") "
    "ORDER BY id LIMIT ?8";

static void bind_clock(sqlite3_stmt *st, int i, const struct sla_clock *k)
{
    sqlite3_bind_int64(st, i, k->started_at);
    sqlite3_bind_int64(st, i + 1, k->target_ms);
    sqlite3_bind_int64(st, i + 2, k->paused_ms);
    sqlite3_bind_int64(st, i + 3, k->paused_since);
    sqlite3_bind_int64(st, i + 4, k->stopped_at);
    sqlite3_bind_int64(st, i + 5, k->last_event_at);
}

static void read_clock(sqlite3_stmt *st, int i, struct sla_clock *k)
{
    k->started_at = sqlite3_column_int64(st, i);
    k->target_ms = sqlite3_column_int64(st, i + 1);
    k->paused_ms = sqlite3_column_int64(st, i + 2);
    k->paused_since = sqlite3_column_int64(st, i + 3);
    k->stopped_at = sqlite3_column_int64(st, i + 4);
    k->last_event_at = sqlite3_column_int64(st, i + 5);
}

/* Binds ?1..?39 of SQL_ALERT_INSERT / SQL_ALERT_UPDATE.  Strings are
 * SQLITE_STATIC: x must outlive the step. */
static void bind_alert(sqlite3_stmt *st, const struct sw_alert *x)
{
    const struct sla_alert *a = &x->a;
    SQ_TEXT(st, 1, x->tenant_id);
    SQ_TEXT(st, 2, x->id);
    SQ_TEXT(st, 3, x->project_id);
    SQ_TEXT(st, 4, sla_sev_name(a->sev));
    SQ_TEXT(st, 5, sla_alert_state_name(a->state));
    SQ_TEXT(st, 6, x->title);
    SQ_TEXT(st, 7, x->source);
    sqlite3_bind_int64(st, 8, a->created_at);
    sqlite3_bind_int64(st, 9, a->acknowledged_at);
    sqlite3_bind_int64(st, 10, a->resolved_at);
    bind_clock(st, 11, &a->ack);
    bind_clock(st, 17, &a->resolve);
    sqlite3_bind_int64(st, 23, a->ack_alarm.fired);
    sqlite3_bind_int(st, 24, a->ack_alarm.breach_fired);
    sqlite3_bind_int64(st, 25, a->resolve_alarm.fired);
    sqlite3_bind_int(st, 26, a->resolve_alarm.breach_fired);
    sqlite3_bind_int(st, 27, a->targets.ack_min);
    sqlite3_bind_int(st, 28, a->targets.resolve_min);
    sqlite3_bind_int(st, 29, a->targets.warn_pct);
    sqlite3_bind_int64(st, 30, a->targets.penalty_cph);
    SQ_TEXT(st, 31, src_name(a->targets.ack_src));
    SQ_TEXT(st, 32, src_name(a->targets.resolve_src));
    SQ_TEXT(st, 33, src_name(a->targets.warn_src));
    SQ_TEXT(st, 34, src_name(a->targets.penalty_src));
    sqlite3_bind_int64(st, 35, sla_clock_due(&a->ack, x->updated_at));
    sqlite3_bind_int64(st, 36, sla_clock_due(&a->resolve, x->updated_at));
    if (x->next_check_at == SLA_NEVER)
        sqlite3_bind_null(st, 37);
    else
        sqlite3_bind_int64(st, 37, x->next_check_at);
    sqlite3_bind_int(st, 38, x->escalation_level);
    sqlite3_bind_int64(st, 39, x->updated_at);
}

static void read_alert(sqlite3_stmt *st, struct sw_alert *x)
{
    struct sla_alert *a = &x->a;
    memset(x, 0, sizeof(*x));
    sq_copy_text(x->tenant_id, sizeof(x->tenant_id), st, 0);
    sq_copy_text(x->id, sizeof(x->id), st, 1);
    sq_copy_text(x->project_id, sizeof(x->project_id), st, 2);
    a->sev = sev_parse_db(sqlite3_column_text(st, 3));
    {
        enum sla_alert_state s = SLA_ALERT_OPEN;
        const unsigned char *t = sqlite3_column_text(st, 4);
        if (t)
            sla_alert_state_parse((const char *)t, &s);
        a->state = s;
    }
    sq_copy_text(x->title, sizeof(x->title), st, 5);
    sq_copy_text(x->source, sizeof(x->source), st, 6);
    a->created_at = sqlite3_column_int64(st, 7);
    a->acknowledged_at = sqlite3_column_int64(st, 8);
    a->resolved_at = sqlite3_column_int64(st, 9);
    read_clock(st, 10, &a->ack);
    read_clock(st, 16, &a->resolve);
    a->ack_alarm.fired = (uint32_t)sqlite3_column_int64(st, 22);
    a->ack_alarm.breach_fired = sqlite3_column_int(st, 23) != 0;
    a->resolve_alarm.fired = (uint32_t)sqlite3_column_int64(st, 24);
    a->resolve_alarm.breach_fired = sqlite3_column_int(st, 25) != 0;
    a->targets.ack_min = sqlite3_column_int(st, 26);
    a->targets.resolve_min = sqlite3_column_int(st, 27);
    a->targets.warn_pct = sqlite3_column_int(st, 28);
    a->targets.penalty_cph = sqlite3_column_int64(st, 29);
    a->targets.ack_src = src_parse((const char *)sqlite3_column_text(st, 30));
    a->targets.resolve_src = src_parse((const char *)sqlite3_column_text(st, 31));
    a->targets.warn_src = src_parse((const char *)sqlite3_column_text(st, 32));
    a->targets.penalty_src = src_parse((const char *)sqlite3_column_text(st, 33));
    /* 34, 35: derived due instants, recomputed by the core on read */
    x->next_check_at = sqlite3_column_type(st, 36) == SQLITE_NULL
                           ? SLA_NEVER : sqlite3_column_int64(st, 36);
    x->escalation_level = sqlite3_column_int(st, 37);
    x->updated_at = sqlite3_column_int64(st, 38);
}

/* The scheduler's next instant for this alert: its one threshold (the
 * resolved warn_pct) and breach, over both clocks. */
static int64_t next_check(const struct sla_alert *a, int64_t now)
{
    uint8_t th[1];
    size_t n = 0;
    if (a->targets.warn_pct > 0 && a->targets.warn_pct <= 100)
        th[n++] = (uint8_t)a->targets.warn_pct;
    sla_ms x = sla_next_check(&a->ack, th, n, a->ack_alarm.fired, a->ack_alarm.breach_fired, now);
    sla_ms y = sla_next_check(&a->resolve, th, n, a->resolve_alarm.fired,
                              a->resolve_alarm.breach_fired, now);
    return x < y ? x : y;
}

static int get_in(struct sqlite_store *s, struct conn *c, const char *tenant_id, const char *id,
                  struct sw_alert *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ALERT_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_alert(st, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "alert_get");
    }
    sq_done(st);
    return rc;
}

/* ---- events ----------------------------------------------------------- */

static int add_event(struct sqlite_store *s, struct conn *c, const struct sw_alert *x,
                     const char *type, const char *actor, int64_t at, const char *data)
{
    struct sw_event e;
    memset(&e, 0, sizeof(e));
    snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", x->tenant_id);
    snprintf(e.item_kind, sizeof(e.item_kind), "alert");
    snprintf(e.item_id, sizeof(e.item_id), "%s", x->id);
    snprintf(e.type, sizeof(e.type), "%s", type);
    snprintf(e.actor, sizeof(e.actor), "%s", actor ? actor : "");
    e.at = at;
    e.data = data;
    return sq_event_add(s, c, &e);
}

/* {"severity":…,"ack_due_at":…,"resolve_due_at":…}: names and instants
 * only, nothing that needs escaping. */
static void due_json(const struct sw_alert *x, const char *extra, char *buf, size_t len)
{
    char ack[SLA_TIME_BUFSZ], res[SLA_TIME_BUFSZ];
    sla_time_format(sla_clock_due(&x->a.ack, x->updated_at), ack);
    sla_time_format(sla_clock_due(&x->a.resolve, x->updated_at), res);
    snprintf(buf, len, "{\"severity\":\"%s\",\"ack_due_at\":\"%s\",\"resolve_due_at\":\"%s\"%s}",
             sla_sev_name(x->a.sev), ack, res, extra ? extra : "");
}

/* ---- policy ----------------------------------------------------------- */

static const char SQL_LAYER_GET[] =
    "SELECT severity, ack_min, resolve_min, warn_pct, penalty_cph FROM alert_policy_layers "
    "WHERE tenant_id = ?1 AND project_id = ?2";
static const char SQL_LAYER_DELETE[] =
    "DELETE FROM alert_policy_layers WHERE tenant_id = ?1 AND project_id = ?2";
static const char SQL_LAYER_INSERT[] =
    "INSERT INTO alert_policy_layers (tenant_id, project_id, severity, ack_min, resolve_min, "
    "warn_pct, penalty_cph, updated_at) "
    "VALUES (?1, ?2, ?3, NULLIF(?4, 0), NULLIF(?5, 0), NULLIF(?6, 0), NULLIF(?7, 0), ?8)";
static const char SQL_TENANT_TEMPLATE[] =
    "SELECT COALESCE(template, '') FROM tenants WHERE id = ?1";
static const char SQL_TENANT_SET_TEMPLATE[] =
    "UPDATE tenants SET template = NULLIF(?2, '') WHERE id = ?1";
static const char SQL_PROJECT_EXISTS[] =
    "SELECT 1 FROM projects WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PROJECT_LAYERS[] =
    "SELECT DISTINCT project_id FROM alert_policy_layers "
    "WHERE tenant_id = ?1 AND project_id <> '' ORDER BY project_id";

static int layer_read(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                      const char *project_id, struct sla_alert_layer *out, bool *has)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_LAYER_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, project_id);
    sla_alert_layer_clear(out);
    *has = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        enum sla_sev sev;
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (!name || sla_sev_parse(SLA_ALERT, (const char *)name, &sev) < 0)
            continue;
        out->ack_min[sev] = sqlite3_column_int(st, 1);
        out->resolve_min[sev] = sqlite3_column_int(st, 2);
        out->warn_pct[sev] = sqlite3_column_int(st, 3);
        out->penalty_cph[sev] = sqlite3_column_int64(st, 4);
        *has = true;
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "layer_read");
    sq_done(st);
    return rc;
}

/* Replaces a scope's layer; an all-unset layer leaves no rows. */
static int layer_write(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                       const char *project_id, const struct sla_alert_layer *l, int64_t now)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_LAYER_DELETE);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, project_id);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        return rc;
    bool any = false;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        any |= l->ack_min[sev] > 0 || l->resolve_min[sev] > 0 || l->warn_pct[sev] > 0 ||
               l->penalty_cph[sev] > 0;
    if (!any)
        return 0;
    st = sq_stmt(s, c, SQL_LAYER_INSERT);
    if (!st)
        return SW_E_STORE;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT && rc == 0; sev++) {
        SQ_TEXT(st, 1, tenant_id);
        SQ_TEXT(st, 2, project_id);
        SQ_TEXT(st, 3, sla_sev_name((enum sla_sev)sev));
        sqlite3_bind_int(st, 4, l->ack_min[sev]);
        sqlite3_bind_int(st, 5, l->resolve_min[sev]);
        sqlite3_bind_int(st, 6, l->warn_pct[sev]);
        sqlite3_bind_int64(st, 7, l->penalty_cph[sev]);
        sqlite3_bind_int64(st, 8, now);
        rc = sq_exec(s, c, st);
    }
    sqlite3_clear_bindings(st);
    return rc;
}

/* 1 when the row exists, 0 when not, < 0 on error. */
static int exists2(struct sqlite_store *s, struct conn *c, const char *sql, const char *a,
                   const char *b, char *text_out, size_t text_len)
{
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, a);
    if (b)
        SQ_TEXT(st, 2, b);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (text_out)
            sq_copy_text(text_out, text_len, st, 0);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "exists");
    }
    sq_done(st);
    return rc;
}

/* Loads what the waterfall reads.  0, or SW_ALERT_NO_TENANT /
 * SW_ALERT_NO_PROJECT (positive), or a negative store error. */
static int policy_load(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                       const char *project_id, struct sw_alert_policy *p)
{
    memset(p, 0, sizeof(*p));
    int rc = exists2(s, c, SQL_TENANT_TEMPLATE, tenant_id, NULL, p->template_name,
                     sizeof(p->template_name));
    if (rc <= 0)
        return rc < 0 ? rc : SW_ALERT_NO_TENANT;
    const struct sla_template *t;
    if (p->template_name[0] && sla_template_find(p->template_name, &t) == 0)
        sla_template_layer(t, &p->tmpl);
    else
        p->template_name[0] = '\0';     /* unknown name: as if none */
    if (project_id && *project_id) {
        rc = exists2(s, c, SQL_PROJECT_EXISTS, tenant_id, project_id, NULL, 0);
        if (rc <= 0)
            return rc < 0 ? rc : SW_ALERT_NO_PROJECT;
        rc = layer_read(s, c, tenant_id, project_id, &p->project, &p->has_project);
        if (rc < 0)
            return rc;
    }
    rc = layer_read(s, c, tenant_id, "", &p->tenant, &p->has_tenant);
    if (rc == 0)
        rc = layer_read(s, c, "", "", &p->global, &p->has_global);
    return rc;
}

/* ---- recalculation ---------------------------------------------------- */

/* Targets per severity as a 4-row table: (severity, ack_min, resolve_min,
 * warn_pct, penalty_cph, ack_src, resolve_src, warn_src, penalty_src). */
#define RECALC_TARGETS                                                          \
    "(VALUES ('critical', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11), "                  \
    "('high', ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19), "                        \
    "('medium', ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27), "                      \
    "('low', ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35))"

/* m: new targets of running clocks; n: their due; f: alarms re-armed and
 * whether anything stored changes.  ?1 tenant, ?2 project, ?3 now. */
#define RECALC_SQL(FILTER)                                                      \
    "UPDATE alerts AS a SET "                                                   \
    "ack_target_ms = f.ack_target_ms, res_target_ms = f.res_target_ms, "        \
    "ack_due_at = f.ack_due, resolve_due_at = f.res_due, "                      \
    "ack_fired = f.ack_fired, ack_breach_fired = f.ack_bfired, "                \
    "res_fired = f.res_fired, res_breach_fired = f.res_bfired, "                \
    "ack_min = f.ack_min, resolve_min = f.resolve_min, warn_pct = f.warn_pct, " \
    "penalty_cph = f.penalty_cph, ack_src = f.ack_src, resolve_src = f.resolve_src, " \
    "warn_src = f.warn_src, penalty_src = f.penalty_src, "                      \
    "next_check_at = NULLIF(min("                                               \
    " CASE WHEN f.ack_run AND (f.ack_fired & 1) = 0 AND f.warn_pct > 0"         \
    "  THEN f.ack_base + (f.ack_target_ms * f.warn_pct + 99) / 100 ELSE " NEVER_SQL " END," \
    " CASE WHEN f.ack_run AND f.ack_bfired = 0 THEN f.ack_due + 1 ELSE " NEVER_SQL " END," \
    " CASE WHEN f.res_run AND (f.res_fired & 1) = 0 AND f.warn_pct > 0"         \
    "  THEN f.res_base + (f.res_target_ms * f.warn_pct + 99) / 100 ELSE " NEVER_SQL " END," \
    " CASE WHEN f.res_run AND f.res_bfired = 0 THEN f.res_due + 1 ELSE " NEVER_SQL " END" \
    "), " NEVER_SQL "), "                                                       \
    "updated_at = ?3 "                                                          \
    "FROM (SELECT n.*, "                                                        \
    "  CASE WHEN n.ack_moved AND n.ack_due > ?3 THEN 0 ELSE n.old_ack_fired END AS ack_fired, " \
    "  CASE WHEN n.ack_moved AND n.ack_due > ?3 THEN 0 ELSE n.old_ack_bfired END AS ack_bfired, " \
    "  CASE WHEN n.res_moved AND n.res_due > ?3 THEN 0 ELSE n.old_res_fired END AS res_fired, " \
    "  CASE WHEN n.res_moved AND n.res_due > ?3 THEN 0 ELSE n.old_res_bfired END AS res_bfired " \
    " FROM (SELECT m.*, m.ack_target_ms <> m.old_ack_target AS ack_moved, "    \
    "   m.res_target_ms <> m.old_res_target AS res_moved, "                     \
    "   m.ack_base + m.ack_target_ms AS ack_due, m.res_base + m.res_target_ms AS res_due " \
    "  FROM (SELECT x.tenant_id AS tid, x.id AS aid, "                          \
    "    t.column2 AS ack_min, t.column3 AS resolve_min, t.column4 AS warn_pct, " \
    "    t.column5 AS penalty_cph, t.column6 AS ack_src, t.column7 AS resolve_src, " \
    "    t.column8 AS warn_src, t.column9 AS penalty_src, "                     \
    "    x.ack_stopped_at = 0 AS ack_run, x.res_stopped_at = 0 AS res_run, "    \
    "    CASE WHEN x.ack_stopped_at = 0 THEN t.column2 * 60000 ELSE x.ack_target_ms END AS ack_target_ms, " \
    "    CASE WHEN x.res_stopped_at = 0 THEN t.column3 * 60000 ELSE x.res_target_ms END AS res_target_ms, " \
    "    x.ack_target_ms AS old_ack_target, x.res_target_ms AS old_res_target, " \
    "    x.ack_started_at + x.ack_paused_ms AS ack_base, "                      \
    "    x.res_started_at + x.res_paused_ms AS res_base, "                      \
    "    x.ack_fired AS old_ack_fired, x.ack_breach_fired AS old_ack_bfired, "  \
    "    x.res_fired AS old_res_fired, x.res_breach_fired AS old_res_bfired, "  \
    "    x.ack_min <> t.column2 OR x.resolve_min <> t.column3 OR x.warn_pct <> t.column4 " \
    "    OR x.penalty_cph <> t.column5 OR x.ack_src <> t.column6 OR x.resolve_src <> t.column7 " \
    "    OR x.warn_src <> t.column8 OR x.penalty_src <> t.column9 AS targets_changed " \
    "   FROM alerts AS x JOIN " RECALC_TARGETS " AS t ON t.column1 = x.severity " \
    "   WHERE x.tenant_id = ?1 AND x.state <> 'resolved' AND " FILTER ") AS m) AS n " \
    " WHERE n.ack_moved OR n.res_moved OR n.targets_changed) AS f "             \
    "WHERE a.tenant_id = f.tid AND a.id = f.aid "                               \
    "RETURNING id, ack_due_at, resolve_due_at"

static const char SQL_RECALC_TENANT[] = RECALC_SQL(
    "x.project_id NOT IN (SELECT project_id FROM alert_policy_layers "
    "WHERE tenant_id = ?1 AND project_id <> '')");
static const char SQL_RECALC_PROJECT[] = RECALC_SQL("x.project_id = ?2");

/* One group: alerts of tenant_id (project_id "" = those whose project has
 * no layer of its own), under the scopes of p. */
static int recalc_group(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id, const struct sw_alert_policy *p, int64_t now,
                        const char *actor, int64_t *count)
{
    struct sla_alert_scopes sc;
    sw_alert_policy_scopes(p, &sc);
    sqlite3_stmt *st = sq_stmt(s, c, *project_id ? SQL_RECALC_PROJECT : SQL_RECALC_TENANT);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    if (*project_id)
        SQ_TEXT(st, 2, project_id);
    sqlite3_bind_int64(st, 3, now);
    int i = 4;
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        struct sla_alert_targets t;
        if (sla_alert_policy_resolve(&sc, (enum sla_sev)sev, &t) < 0) {
            sq_done(st);
            return SW_E_INVAL;
        }
        sqlite3_bind_int(st, i++, t.ack_min);
        sqlite3_bind_int(st, i++, t.resolve_min);
        sqlite3_bind_int(st, i++, t.warn_pct);
        sqlite3_bind_int64(st, i++, t.penalty_cph);
        SQ_TEXT(st, i++, src_name(t.ack_src));
        SQ_TEXT(st, i++, src_name(t.resolve_src));
        SQ_TEXT(st, i++, src_name(t.warn_src));
        SQ_TEXT(st, i++, src_name(t.penalty_src));
    }
    /* The UPDATE happens at the first step; the rest streams RETURNING. */
    int rc;
    struct sw_alert x;
    memset(&x, 0, sizeof(x));
    snprintf(x.tenant_id, sizeof(x.tenant_id), "%s", tenant_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char ack[SLA_TIME_BUFSZ], res[SLA_TIME_BUFSZ], data[160];
        sq_copy_text(x.id, sizeof(x.id), st, 0);
        sla_time_format(sqlite3_column_int64(st, 1), ack);
        sla_time_format(sqlite3_column_int64(st, 2), res);
        snprintf(data, sizeof(data), "{\"ack_due_at\":\"%s\",\"resolve_due_at\":\"%s\"}", ack, res);
        int erc = add_event(s, c, &x, "recalculated", actor, now, data);
        if (erc < 0) {
            sq_done(st);
            return erc;
        }
        (*count)++;
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "recalculate");
    sq_done(st);
    return rc;
}

/* Every open alert of the tenant, inside the caller's transaction. */
static int recalc_tenant(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                         int64_t now, const char *actor, int64_t *count)
{
    struct sw_alert_policy p;
    int rc = policy_load(s, c, tenant_id, NULL, &p);
    if (rc != 0)
        return rc > 0 ? SW_E_NOTFOUND : rc;
    *count = 0;
    rc = recalc_group(s, c, tenant_id, "", &p, now, actor, count);
    if (rc < 0)
        return rc;
    /* Projects with their own layer: collected first, the statement must be
     * finished before the groups run on the same connection. */
    sqlite3_stmt *st = sq_stmt(s, c, SQL_PROJECT_LAYERS);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    size_t n = 0, cap = 0;
    char (*projects)[SW_ID_MAX + 1] = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            projects = xrealloc(projects, cap * sizeof(*projects));
        }
        sq_copy_text(projects[n++], sizeof(projects[0]), st, 0);
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "project_layers");
    sq_done(st);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct sw_alert_policy pp = p;
        rc = layer_read(s, c, tenant_id, projects[i], &pp.project, &pp.has_project);
        if (rc == 0)
            rc = recalc_group(s, c, tenant_id, projects[i], &pp, now, actor, count);
    }
    free(projects);
    return rc;
}

/* ---- create: one alert inside a transaction --------------------------- */

/* Policies seen in the current transaction, by (tenant, project). */
#define PCACHE_SLOTS 16

struct pcache {
    struct {
        char tenant_id[SW_ID_MAX + 1];
        char project_id[SW_ID_MAX + 1];
        int rc;                         /* policy_load's result */
        struct sw_alert_policy p;
    } e[PCACHE_SLOTS];
    size_t n, next;
    int64_t min_next;   /* earliest next_check_at created (0 = none): the scheduler's hint */
};

static int pcache_get(struct sqlite_store *s, struct conn *c, struct pcache *pc,
                      const char *tenant_id, const char *project_id,
                      const struct sw_alert_policy **out)
{
    if (!project_id)
        project_id = "";
    for (size_t i = 0; i < pc->n; i++) {
        if (strcmp(pc->e[i].tenant_id, tenant_id) == 0 &&
            strcmp(pc->e[i].project_id, project_id) == 0) {
            *out = &pc->e[i].p;
            return pc->e[i].rc;
        }
    }
    size_t k = pc->n < PCACHE_SLOTS ? pc->n++ : (pc->next++ % PCACHE_SLOTS);
    int rc = policy_load(s, c, tenant_id, project_id, &pc->e[k].p);
    if (rc < 0) {
        if (pc->n > 0 && k == pc->n - 1)
            pc->n--;    /* do not cache failures of the store */
        return rc;
    }
    snprintf(pc->e[k].tenant_id, sizeof(pc->e[k].tenant_id), "%s", tenant_id);
    snprintf(pc->e[k].project_id, sizeof(pc->e[k].project_id), "%s", project_id);
    pc->e[k].rc = rc;
    *out = &pc->e[k].p;
    return rc;
}

/* Inserts one alert (or finds it).  *res set; negative = store error (the
 * caller rolls back).  out may be NULL (bulk: duplicates are not read). */
static int create_in(struct sqlite_store *s, struct conn *c, struct pcache *pc,
                     const struct sw_alert_new *in, int64_t now, const char *actor,
                     struct sw_alert *out, enum sw_alert_result *res)
{
    const struct sw_alert_policy *p;
    int rc = pcache_get(s, c, pc, in->tenant_id, in->project_id, &p);
    if (rc < 0)
        return rc;
    if (rc > 0) {
        *res = (enum sw_alert_result)rc;
        return 0;
    }
    struct sla_alert_scopes sc;
    sw_alert_policy_scopes(p, &sc);
    struct sw_alert x;
    memset(&x, 0, sizeof(x));
    rc = sla_alert_init(&x.a, in->sev, in->created_at ? in->created_at : now, &sc);
    if (rc < 0)
        return rc;
    snprintf(x.tenant_id, sizeof(x.tenant_id), "%s", in->tenant_id);
    snprintf(x.id, sizeof(x.id), "%s", in->id);
    snprintf(x.project_id, sizeof(x.project_id), "%s", in->project_id ? in->project_id : "");
    snprintf(x.title, sizeof(x.title), "%s", in->title ? in->title : "");
    snprintf(x.source, sizeof(x.source), "%s", in->source ? in->source : "");
    x.updated_at = now;
    x.next_check_at = next_check(&x.a, now);

    sqlite3_stmt *st = sq_stmt(s, c, SQL_ALERT_INSERT);
    if (!st)
        return SW_E_STORE;
    bind_alert(st, &x);
    rc = sq_exec(s, c, st);
    int changed = sqlite3_changes(c->db);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        return rc;
    if (changed == 0) {
        *res = SW_ALERT_DUPLICATE;
        return out ? get_in(s, c, in->tenant_id, in->id, out) : 0;
    }
    char data[192];
    due_json(&x, NULL, data, sizeof(data));
    rc = add_event(s, c, &x, "created", actor, x.a.created_at, data);
    if (rc < 0)
        return rc;
    *res = SW_ALERT_CREATED;
    if (!pc->min_next || x.next_check_at < pc->min_next)
        pc->min_next = x.next_check_at;
    if (out)
        *out = x;
    return 0;
}

/* ---- create: group commit --------------------------------------------- */

typedef void (*gc_done_fn)(void *ud, int rc, enum sw_alert_result res);

struct gc_item {
    const struct sw_alert_new *in;
    int64_t now;
    const char *actor;
    struct sw_alert *out;
    enum sw_alert_result res;
    int rc;
    gc_done_fn done;            /* called once, from the writer thread */
    void *ud;
    struct gc_item *next;
};

/* The store's alert writer: one thread that owns single-alert creates. */
struct sq_alert_writer {
    struct sqlite_store *s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct gc_item *head, **tail;
    bool stopping;
    /* Our writers (this thread, bulk batches) queue here rather than in
     * SQLite's busy handler, which sleeps in steps of milliseconds. */
    pthread_mutex_t write_mu;
};

static void write_lock(struct sq_alert_writer *w)
{
    if (w)
        pthread_mutex_lock(&w->write_mu);
}

static void write_unlock(struct sq_alert_writer *w)
{
    if (w)
        pthread_mutex_unlock(&w->write_mu);
}

/* Writes items in one transaction.  0, or a store error (rolled back). */
static int gc_write(struct sqlite_store *s, struct conn *c, struct gc_item *items, size_t max)
{
    struct pcache *pc = xcalloc(1, sizeof(*pc));
    int rc = sq_begin(s, c);
    size_t k = 0;
    for (struct gc_item *it = items; it && rc == 0 && k < max; it = it->next, k++)
        rc = create_in(s, c, pc, it->in, it->now, it->actor, it->out, &it->res);
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    free(pc);
    return rc;
}

static void gc_run(struct sqlite_store *s, struct sq_alert_writer *w, struct gc_item *batch)
{
    struct conn *c = sq_acquire(s);
    if (!c) {
        for (struct gc_item *it = batch; it; it = it->next)
            it->rc = SW_E_STORE;
        return;
    }
    write_lock(w);
    int rc = gc_write(s, c, batch, SIZE_MAX);
    if (rc < 0 && batch->next) {
        /* One item's failure must not fail its neighbours: alone, each. */
        for (struct gc_item *it = batch; it; it = it->next)
            it->rc = gc_write(s, c, it, 1);
    } else {
        for (struct gc_item *it = batch; it; it = it->next)
            it->rc = rc;
    }
    write_unlock(w);
    sq_release(s, c);
}

/* Takes everything queued, writes it in one transaction, commits once,
 * then tells each caller its own result.  While it fsyncs, new requests
 * queue, so the batch grows with the load; an answer never precedes its
 * commit.  On stop it drains the queue first. */
static void *writer_main(void *arg)
{
    struct sq_alert_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break;              /* stopping, and nothing left */
        struct gc_item *batch = w->head;
        w->head = NULL;
        w->tail = &w->head;
        pthread_mutex_unlock(&w->mu);
        gc_run(w->s, w, batch);
        int64_t earliest = INT64_MAX;
        for (struct gc_item *it = batch, *next; it; it = next) {
            next = it->next;    /* the item may be freed by its callback */
            if (it->rc == 0 && it->res == SW_ALERT_CREATED && it->out &&
                it->out->next_check_at > 0 && it->out->next_check_at < earliest)
                earliest = it->out->next_check_at;
            it->done(it->ud, it->rc, it->res);
        }
        if (earliest != INT64_MAX)
            store_hint_due((struct store *)w->s, earliest);  /* base is first */
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct sq_alert_writer *sq_alert_writer_new(struct sqlite_store *s)
{
    struct sq_alert_writer *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->tail = &w->head;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_mutex_init(&w->write_mu, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->write_mu);
        free(w);
        return NULL;    /* creates then write synchronously, one each */
    }
    return w;
}

void sq_alert_writer_free(struct sq_alert_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->write_mu);
    free(w);
}

static void gc_submit(struct sqlite_store *s, struct gc_item *it)
{
    struct sq_alert_writer *w = sq_alert_writer_of(s);
    if (!w) {
        gc_run(s, NULL, it);
        it->done(it->ud, it->rc, it->res);
        return;
    }
    pthread_mutex_lock(&w->mu);
    *w->tail = it;
    w->tail = &it->next;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- create, asynchronous: the HTTP handler's path ---------------------- */

struct async_create {
    struct gc_item item;
    void (*cb)(void *ud, int rc, enum sw_alert_result res);
    void *ud;
};

static void async_done(void *ud, int rc, enum sw_alert_result res)
{
    struct async_create *a = ud;
    void (*cb)(void *, int, enum sw_alert_result) = a->cb;
    void *cud = a->ud;
    free(a);
    cb(cud, rc, res);
}

static int sq_alert_create_async(struct store *base, const struct sw_alert_new *in,
                                 int64_t now, const char *actor, struct sw_alert *out,
                                 void (*cb)(void *ud, int rc, enum sw_alert_result res),
                                 void *ud)
{
    struct async_create *a = xcalloc(1, sizeof(*a));
    a->item = (struct gc_item){.in = in, .now = now, .actor = actor, .out = out,
                               .done = async_done, .ud = a};
    a->cb = cb;
    a->ud = ud;
    gc_submit(sq_of(base), &a->item);
    return 0;
}

/* ---- create, synchronous: waits for the writer -------------------------- */

struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void sync_done(void *ud, int rc, enum sw_alert_result res)
{
    struct sync_wait *sw = ud;
    pthread_mutex_lock(&sw->mu);
    sw->done = true;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
}

static int sq_alert_create(struct store *base, const struct sw_alert_new *in, int64_t now,
                           const char *actor, struct sw_alert *out,
                           enum sw_alert_result *result)
{
    struct sync_wait sw = {.done = false};
    pthread_mutex_init(&sw.mu, NULL);
    pthread_cond_init(&sw.cv, NULL);
    struct gc_item me = {.in = in, .now = now, .actor = actor, .out = out,
                         .done = sync_done, .ud = &sw};
    gc_submit(sq_of(base), &me);
    pthread_mutex_lock(&sw.mu);
    while (!sw.done)
        pthread_cond_wait(&sw.cv, &sw.mu);
    pthread_mutex_unlock(&sw.mu);
    pthread_mutex_destroy(&sw.mu);
    pthread_cond_destroy(&sw.cv);
    if (me.rc == 0)
        *result = me.res;
    return me.rc;
}

static int sq_alert_create_many(struct store *base, const struct sw_alert_new *in, size_t n,
                                int64_t now, const char *actor,
                                enum sw_alert_result *results)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sq_alert_writer *g = sq_alert_writer_of(s);
    struct pcache *pc = xcalloc(1, sizeof(*pc));
    int rc = 0;
    /* A 10,000-row transaction dirties ~10 MiB: with the default 2 MiB
     * cache SQLite spills pages into the WAL mid-transaction and writes
     * them again.  Room for the whole batch, then back to the default. */
    if (n > 1)
        sqlite3_exec(c->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    for (size_t off = 0; off < n && rc == 0; off += BATCH_ROWS) {
        size_t end = n - off > BATCH_ROWS ? off + BATCH_ROWS : n;
        pc->n = pc->next = 0;   /* policies may change between transactions */
        pc->min_next = 0;
        write_lock(g);
        rc = sq_begin(s, c);
        for (size_t i = off; i < end && rc == 0; i++)
            rc = create_in(s, c, pc, &in[i], now, actor, NULL, &results[i]);
        if (rc == 0)
            rc = sq_commit(s, c);
        else
            sq_rollback(s, c);
        write_unlock(g);
        if (rc == 0)            /* wake the scheduler for an earlier instant */
            store_hint_due(base, pc->min_next);
    }
    if (n > 1)
        sqlite3_exec(c->db, "PRAGMA cache_size = -2000", NULL, NULL, NULL);
    free(pc);
    sq_release(s, c);
    return rc;
}

/* ---- get, change, list ------------------------------------------------ */

static int sq_alert_get(struct store *base, const char *tenant_id, const char *id,
                        struct sw_alert *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = get_in(s, c, tenant_id, id, out);
    sq_release(s, c);
    return rc;
}

static const char *action_event(enum sw_alert_action a)
{
    switch (a) {
    case SW_ALERT_ACKNOWLEDGE: return "acknowledged";
    case SW_ALERT_RESOLVE: return "resolved";
    case SW_ALERT_REOPEN: return "reopened";
    case SW_ALERT_SET_SEVERITY: return "severity_changed";
    }
    return "changed";
}

/* Applies ch to x.  1 = nothing to change, 0 = changed, < 0 = refused. */
static int apply_change(struct sqlite_store *s, struct conn *c, struct sw_alert *x,
                        const struct sw_alert_change *ch, int64_t now)
{
    switch (ch->action) {
    case SW_ALERT_ACKNOWLEDGE:
        if (x->a.state == SLA_ALERT_ACKNOWLEDGED)
            return 1;       /* the first acknowledgement stands */
        return sla_alert_acknowledge(&x->a, ch->at);
    case SW_ALERT_RESOLVE:
        return sla_alert_resolve(&x->a, ch->at);
    case SW_ALERT_REOPEN:
        return sla_alert_reopen(&x->a, ch->at);
    case SW_ALERT_SET_SEVERITY: {
        if (x->a.state == SLA_ALERT_RESOLVED)
            return SW_E_CONFLICT;
        if (x->a.sev == ch->sev)
            return 1;
        struct sw_alert_policy p;
        int rc = policy_load(s, c, x->tenant_id, x->project_id, &p);
        if (rc != 0)
            return rc > 0 ? SW_E_NOTFOUND : rc;
        struct sla_alert_scopes sc;
        sw_alert_policy_scopes(&p, &sc);
        return sla_alert_set_severity(&x->a, ch->sev, &sc, now);
    }
    }
    return SW_E_INVAL;
}

static int sq_alert_change(struct store *base, const char *tenant_id, const char *id,
                           const struct sw_alert_change *ch, int64_t now, struct sw_alert *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sw_alert *x = xmalloc(sizeof(*x));
    struct sw_alert *before = xmalloc(sizeof(*before));  /* for the rollups */
    enum sla_sev old_sev = SLA_SEV_LOW;
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = get_in(s, c, tenant_id, id, x);
    if (rc == 0) {
        old_sev = x->a.sev;
        *before = *x;
        rc = apply_change(s, c, x, ch, now);
    }
    if (rc == 1) {                       /* no change: no write, no event */
        sq_rollback(s, c);
        *out = *x;
        rc = 0;
        goto done;
    }
    if (rc == 0) {
        x->updated_at = now;
        x->next_check_at = next_check(&x->a, now);
        sqlite3_stmt *st = sq_stmt(s, c, SQL_ALERT_UPDATE);
        if (!st) {
            rc = SW_E_STORE;
        } else {
            bind_alert(st, x);
            rc = sq_exec(s, c, st);
            sqlite3_clear_bindings(st);
        }
    }
    if (rc == 0)        /* a clock stopped or un-stopped: its day's rollup */
        rc = sq_rollup_change(s, c, before, x);
    int64_t esc_at = SLA_NEVER;
    if (rc == 0)        /* the next automatic escalation step (sqlite_alerts_due.c) */
        rc = sq_alert_escalation_sync(s, c, x, now, &esc_at);
    if (rc == 0) {
        char sevdata[96];
        const char *data = ch->data_json;
        if (ch->action == SW_ALERT_SET_SEVERITY) {
            snprintf(sevdata, sizeof(sevdata), "{\"from\":\"%s\",\"to\":\"%s\"}",
                     sla_sev_name(old_sev), sla_sev_name(x->a.sev));
            data = sevdata;
        }
        rc = add_event(s, c, x, action_event(ch->action), ch->actor,
                       ch->action == SW_ALERT_SET_SEVERITY ? now : ch->at, data);
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    if (rc == 0) {
        *out = *x;      /* and wake the scheduler if this made an earlier instant */
        store_hint_due(base, x->next_check_at < esc_at ? x->next_check_at : esc_at);
    }
done:
    free(before);
    free(x);
    sq_release(s, c);
    return rc;
}

static int sq_alert_list(struct store *base, const struct sw_alert_filter *f,
                         store_alert_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ALERT_LIST);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, f->tenant_id);
    SQ_TEXT(st, 2, f->after_id ? f->after_id : "");
    if (f->project_id)
        SQ_TEXT(st, 3, f->project_id);
    if (f->state >= 0)
        SQ_TEXT(st, 4, sla_alert_state_name((enum sla_alert_state)f->state));
    if (f->sev >= 0)
        SQ_TEXT(st, 5, sla_sev_name((enum sla_sev)f->sev));
    if (f->breached >= 0)
        sqlite3_bind_int(st, 6, f->breached);
    sqlite3_bind_int64(st, 7, f->now);
    sqlite3_bind_int(st, 8, f->limit);
    struct sw_alert *x = xmalloc(sizeof(*x));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_alert(st, x);
        if (cb(x, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "alert_list");
    free(x);
    sq_done(st);
    sq_release(s, c);
    return rc;
}

/* ---- policy and definition -------------------------------------------- */

static int sq_policy_get(struct store *base, const char *tenant_id, const char *project_id,
                         struct sw_alert_policy *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = policy_load(s, c, tenant_id, project_id, out);
    sq_release(s, c);
    return rc > 0 ? SW_E_NOTFOUND : rc;
}

/* The definition's fields that are > 0, as a layer (0 elsewhere). */
static void definition_layer(const struct sla_definition *d, struct sla_alert_layer *out)
{
    /* to_layer multiplies and copies: 0 stays 0, so unset stays unset. */
    sla_definition_to_layer(d, out);
}

static void layer_merge(struct sla_alert_layer *dst, const struct sla_alert_layer *src)
{
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        if (src->ack_min[sev] > 0)
            dst->ack_min[sev] = src->ack_min[sev];
        if (src->resolve_min[sev] > 0)
            dst->resolve_min[sev] = src->resolve_min[sev];
        if (src->warn_pct[sev] > 0)
            dst->warn_pct[sev] = src->warn_pct[sev];
        if (src->penalty_cph[sev] > 0)
            dst->penalty_cph[sev] = src->penalty_cph[sev];
    }
}

static int definition_valid(const struct sla_definition *d)
{
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        const struct sla_field_range *f = &sla_definition_fields[i];
        int32_t v = sla_definition_get(d, f);
        if (v != 0 && (v < f->min || v > f->max))
            return SW_E_INVAL;
    }
    return 0;
}

static int sq_definition_merge(struct store *base, const char *tenant_id,
                               const char *project_id, const struct sla_definition *d,
                               int64_t now, const char *actor, int64_t *recalculated)
{
    struct sqlite_store *s = sq_of(base);
    if (definition_valid(d) < 0)
        return SW_E_INVAL;
    if (!project_id)
        project_id = "";
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sw_alert_policy *p = xmalloc(sizeof(*p));
    struct sla_alert_layer add, *l = *project_id ? &p->project : &p->tenant;
    int64_t count = 0;
    int rc = sq_begin(s, c);
    if (rc == 0) {
        rc = policy_load(s, c, tenant_id, project_id, p);
        if (rc > 0)
            rc = SW_E_NOTFOUND;
    }
    if (rc == 0) {
        definition_layer(d, &add);
        layer_merge(l, &add);
        rc = layer_write(s, c, tenant_id, project_id, l, now);
    }
    if (rc == 0)
        rc = recalc_tenant(s, c, tenant_id, now, actor, &count);
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    if (rc == 0 && recalculated)
        *recalculated = count;
    if (rc == 0 && count > 0)   /* deadlines moved: the scheduler looks again */
        store_hint_due(base, now);
    free(p);
    sq_release(s, c);
    return rc;
}

static int sq_recalculate(struct store *base, const char *tenant_id, int64_t now,
                          const char *actor, int64_t *recalculated)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int64_t count = 0;
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = recalc_tenant(s, c, tenant_id, now, actor, &count);
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    if (rc == 0 && recalculated)
        *recalculated = count;
    if (rc == 0 && count > 0)   /* deadlines moved: the scheduler looks again */
        store_hint_due(base, now);
    sq_release(s, c);
    return rc;
}

/* ---- configs ---------------------------------------------------------- */

#define CONFIG_COLS                                                             \
    "id, tenant_id, name, template, critical_mtta_minutes, critical_mttr_hours, " \
    "high_mtta_minutes, high_mttr_hours, medium_mtta_hours, medium_mttr_hours, " \
    "low_mtta_hours, low_mttr_hours, notification_threshold_pct, active, "      \
    "created_at, updated_at"

/* Override columns are named as sla_definition_fields, in its order, from
 * column 4 (select) / parameter ?5 (insert, update). */
static const char SQL_CONFIG_INSERT[] =
    "INSERT INTO sla_configs (tenant_id, name, template, active, critical_mtta_minutes, "
    "critical_mttr_hours, high_mtta_minutes, high_mttr_hours, medium_mtta_hours, "
    "medium_mttr_hours, low_mtta_hours, low_mttr_hours, notification_threshold_pct, "
    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, NULLIF(?5, 0), NULLIF(?6, 0), "
    "NULLIF(?7, 0), NULLIF(?8, 0), NULLIF(?9, 0), NULLIF(?10, 0), NULLIF(?11, 0), "
    "NULLIF(?12, 0), NULLIF(?13, 0), ?14, ?14)";
static const char SQL_CONFIG_UPDATE[] =
    "UPDATE sla_configs SET name = ?2, template = ?3, active = ?4, "
    "critical_mtta_minutes = NULLIF(?5, 0), critical_mttr_hours = NULLIF(?6, 0), "
    "high_mtta_minutes = NULLIF(?7, 0), high_mttr_hours = NULLIF(?8, 0), "
    "medium_mtta_hours = NULLIF(?9, 0), medium_mttr_hours = NULLIF(?10, 0), "
    "low_mtta_hours = NULLIF(?11, 0), low_mttr_hours = NULLIF(?12, 0), "
    "notification_threshold_pct = NULLIF(?13, 0), updated_at = ?14 "
    "WHERE id = ?15 AND tenant_id = ?1";
static const char SQL_CONFIG_GET[] =
    "SELECT " CONFIG_COLS " FROM sla_configs WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CONFIG_LIST[] =
    "SELECT " CONFIG_COLS " FROM sla_configs WHERE tenant_id = ?1 ORDER BY id";
static const char SQL_CONFIG_DELETE[] =
    "DELETE FROM sla_configs WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CONFIG_DEACTIVATE[] =
    "UPDATE sla_configs SET active = 0, updated_at = ?2 "
    "WHERE tenant_id = ?1 AND active = 1 AND id <> ?3";

static void read_config(sqlite3_stmt *st, struct sw_sla_config *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    sq_copy_text(c->tenant_id, sizeof(c->tenant_id), st, 1);
    sq_copy_text(c->name, sizeof(c->name), st, 2);
    sq_copy_text(c->template_name, sizeof(c->template_name), st, 3);
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++)
        sla_definition_set(&c->overrides, &sla_definition_fields[i],
                           sqlite3_column_int(st, 4 + (int)i));
    c->active = sqlite3_column_int(st, 13) != 0;
    c->created_at = sqlite3_column_int64(st, 14);
    c->updated_at = sqlite3_column_int64(st, 15);
}

static void bind_config(sqlite3_stmt *st, const struct sw_sla_config *c, int64_t now)
{
    SQ_TEXT(st, 1, c->tenant_id);
    SQ_TEXT(st, 2, c->name);
    SQ_TEXT(st, 3, c->template_name);
    sqlite3_bind_int(st, 4, c->active);
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++)
        sqlite3_bind_int(st, 5 + (int)i, sla_definition_get(&c->overrides,
                                                            &sla_definition_fields[i]));
    sqlite3_bind_int64(st, 14, now);
}

/* Makes cfg the tenant's live policy: template, tenant layer := overrides
 * (replacing), other configs inactive, open alerts recalculated. */
static int config_apply(struct sqlite_store *s, struct conn *c, const struct sw_sla_config *cfg,
                        int64_t now, const char *actor, int64_t *count)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_DEACTIVATE);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, cfg->tenant_id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, cfg->id);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        return rc;
    st = sq_stmt(s, c, SQL_TENANT_SET_TEMPLATE);
    if (!st)
        return SW_E_STORE;
    sq_tenants_touched(c);
    SQ_TEXT(st, 1, cfg->tenant_id);
    SQ_TEXT(st, 2, cfg->template_name);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        return rc;
    struct sla_alert_layer l;
    definition_layer(&cfg->overrides, &l);
    rc = layer_write(s, c, cfg->tenant_id, "", &l, now);
    if (rc < 0)
        return rc;
    return recalc_tenant(s, c, cfg->tenant_id, now, actor, count);
}

static int config_check(const struct sw_sla_config *cfg)
{
    const struct sla_template *t;
    if (sla_template_find(cfg->template_name, &t) < 0 || definition_valid(&cfg->overrides) < 0)
        return SW_E_INVAL;
    return 0;
}

static int sq_config_create(struct store *base, struct sw_sla_config *cfg, int64_t now,
                            const char *actor, int64_t *recalculated)
{
    struct sqlite_store *s = sq_of(base);
    if (config_check(cfg) < 0)
        return SW_E_INVAL;
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int64_t count = 0;
    int rc = sq_begin(s, c);
    if (rc == 0) {
        /* insert inactive first: the one-active index holds until apply
         * has switched the others off */
        struct sw_sla_config tmp = *cfg;
        tmp.active = false;
        sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_INSERT);
        if (!st) {
            rc = SW_E_STORE;
        } else {
            bind_config(st, &tmp, now);
            rc = sq_exec(s, c, st);
            sqlite3_clear_bindings(st);
        }
    }
    if (rc == 0) {
        cfg->id = sqlite3_last_insert_rowid(c->db);
        cfg->created_at = cfg->updated_at = now;
        if (cfg->active) {
            rc = config_apply(s, c, cfg, now, actor, &count);
            if (rc == 0) {
                sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_UPDATE);
                if (!st) {
                    rc = SW_E_STORE;
                } else {
                    bind_config(st, cfg, now);
                    sqlite3_bind_int64(st, 15, cfg->id);
                    rc = sq_exec(s, c, st);
                    sqlite3_clear_bindings(st);
                }
            }
        }
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    if (rc == 0 && recalculated)
        *recalculated = count;
    if (rc == 0 && count > 0)   /* deadlines moved: the scheduler looks again */
        store_hint_due(base, now);
    sq_release(s, c);
    return rc;
}

static int config_get_in(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                         int64_t id, struct sw_sla_config *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_config(st, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "config_get");
    }
    sq_done(st);
    return rc;
}

static int sq_config_get(struct store *base, const char *tenant_id, int64_t id,
                         struct sw_sla_config *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = config_get_in(s, c, tenant_id, id, out);
    sq_release(s, c);
    return rc;
}

static int sq_config_list(struct store *base, const char *tenant_id, store_config_cb cb,
                          void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = exists2(s, c, SQL_TENANT_TEMPLATE, tenant_id, NULL, NULL, 0);
    if (rc <= 0) {
        sq_release(s, c);
        return rc < 0 ? rc : SW_E_NOTFOUND;
    }
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_LIST);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, tenant_id);
    struct sw_sla_config cfg;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_config(st, &cfg);
        if (cb(&cfg, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "config_list");
    sq_done(st);
    sq_release(s, c);
    return rc;
}

static int sq_config_update(struct store *base, const char *tenant_id, int64_t id,
                            const struct sw_sla_config_patch *p, int64_t now, const char *actor,
                            struct sw_sla_config *out, int64_t *recalculated)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sw_sla_config cfg;
    int64_t count = 0;
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = config_get_in(s, c, tenant_id, id, &cfg);
    if (rc == 0) {
        bool was_active = cfg.active;
        bool policy_changed = false;
        if (p->name)
            snprintf(cfg.name, sizeof(cfg.name), "%s", p->name);
        if (p->template_name) {
            policy_changed |= strcmp(cfg.template_name, p->template_name) != 0;
            snprintf(cfg.template_name, sizeof(cfg.template_name), "%s", p->template_name);
        }
        if (p->has_overrides) {
            policy_changed = true;
            cfg.overrides = p->overrides;
        }
        if (p->active >= 0)
            cfg.active = p->active != 0;
        cfg.updated_at = now;
        rc = config_check(&cfg);
        /* apply when switched on, or when the live config's policy changed */
        if (rc == 0 && cfg.active && (!was_active || policy_changed))
            rc = config_apply(s, c, &cfg, now, actor, &count);
        if (rc == 0) {
            sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_UPDATE);
            if (!st) {
                rc = SW_E_STORE;
            } else {
                bind_config(st, &cfg, now);
                sqlite3_bind_int64(st, 15, cfg.id);
                rc = sq_exec(s, c, st);
                sqlite3_clear_bindings(st);
            }
        }
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    if (rc == 0) {
        *out = cfg;
        if (recalculated)
            *recalculated = count;
        if (count > 0)          /* deadlines moved: the scheduler looks again */
            store_hint_due(base, now);
    }
    sq_release(s, c);
    return rc;
}

static int sq_config_delete(struct store *base, const char *tenant_id, int64_t id)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CONFIG_DELETE);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, id);
    int rc = sq_exec(s, c, st);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = SW_E_NOTFOUND;
    sqlite3_clear_bindings(st);
    sq_release(s, c);
    return rc;
}

/* ---- for the other alert files (sqlite_alerts_int.h) ---------------- */

int sq_alert_get_in(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                    const char *id, struct sw_alert *out)
{
    return get_in(s, c, tenant_id, id, out);
}

int sq_alert_save(struct sqlite_store *s, struct conn *c, const struct sw_alert *x)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ALERT_UPDATE);
    if (!st)
        return SW_E_STORE;
    bind_alert(st, x);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    return rc;
}

int64_t sq_alert_next_check(const struct sla_alert *a, int64_t now)
{
    return next_check(a, now);
}

int sq_alert_event_add(struct sqlite_store *s, struct conn *c, const struct sw_alert *x,
                       const char *type, const char *actor, int64_t at, const char *data,
                       int64_t *event_id)
{
    int rc = add_event(s, c, x, type, actor, at, data);
    if (rc == 0 && event_id)
        *event_id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

const struct store_alert_ops sqlite_alert_ops = {
    .create = sq_alert_create,
    .create_async = sq_alert_create_async,
    .create_many = sq_alert_create_many,
    .get = sq_alert_get,
    .change = sq_alert_change,
    .list = sq_alert_list,
    .policy_get = sq_policy_get,
    .definition_merge = sq_definition_merge,
    .recalculate = sq_recalculate,
    .config_create = sq_config_create,
    .config_get = sq_config_get,
    .config_list = sq_config_list,
    .config_update = sq_config_update,
    .config_delete = sq_config_delete,
};
