/* sqlite_findings.c: findings, their SLA policy levels and the scheduler's
 * view of their deadlines, on SQLite.
 *
 * Derived deadlines (schema 0007).  A live finding row stores its clock
 * base (discovery + closed pauses), paused_since, state and fired progress
 * (stage, contacts_fired); its target comes from finding_targets, one row
 * per (tenant, project, severity) group, resolved in C through the core
 * waterfall.  Reads join the two: deadline = clock_base + hours (+ the
 * ongoing pause).  A terminal finding freezes its target in its own row.
 *
 * Single-finding writes load the row, its group's targets and the tenant's
 * warning thresholds, let the core (through the caller's store_finding_fn,
 * or sla_finding_init on create) decide, and write the row back with its
 * event, all in one IMMEDIATE transaction.
 *
 * Recalculation rewrites the scope's target rows (a handful), re-arms the
 * findings with something fired whose deadline moved into the future (one
 * UPDATE per moved (group, severity) over the partial index of fired
 * findings), and counts the scope's live findings over the live index.  No
 * finding row is rewritten for its deadline, and no per-finding event is
 * written: the recalculation is one action, recorded once by the caller.
 *
 * The scheduler's ops (next_due, process_due) walk the groups: within a
 * group and severity, every running finding with the same fired progress
 * has its next instant at clock_base + the same offset, so the earliest is
 * min(clock_base) of an index range and the due ones are a range scan. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/sqlite_int.h"
#include "store/store_findings.h"
#include "util/xalloc.h"

#define LIVE "state IN ('open', 'paused')"
#define TARGET_JOIN                                                           \
    " FROM findings f LEFT JOIN finding_targets t ON t.tenant_id = f.tenant_id " \
    "AND t.project_id = f.project_id AND t.severity = f.severity "

/* 0 tenant_id .. 18 updated_at, see row_finding */
#define COLS                                                                  \
    "f.tenant_id, f.id, f.project_id, f.severity, f.title, f.state, f.created_at, " \
    "COALESCE(f.closed_at, 0), f.clock_base, COALESCE(f.paused_since, 0), "   \
    "COALESCE(f.stopped_at, 0), f.last_event_at, f.stage, f.contacts_fired, "  \
    "COALESCE(f.frozen_hours, t.hours), COALESCE(f.frozen_source, t.source), " \
    "COALESCE(f.frozen_safety_net, t.safety_net), f.ingested_at, f.updated_at"

static const char SQL_GET[] =
    "SELECT " COLS TARGET_JOIN "WHERE f.tenant_id = ?1 AND f.id = ?2";

static const char SQL_INSERT[] =
    "INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at, "
    "closed_at, clock_base, paused_since, stopped_at, last_event_at, stage, contacts_fired, "
    "frozen_hours, frozen_source, frozen_safety_net, ingested_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULLIF(?8, 0), ?9, NULLIF(?10, 0), NULLIF(?11, 0), "
    "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

static const char SQL_UPDATE[] =
    "UPDATE findings SET severity = ?4, state = ?6, closed_at = NULLIF(?8, 0), "
    "clock_base = ?9, paused_since = NULLIF(?10, 0), stopped_at = NULLIF(?11, 0), "
    "last_event_at = ?12, stage = ?13, contacts_fired = ?14, frozen_hours = ?15, "
    "frozen_source = ?16, frozen_safety_net = ?17, updated_at = ?19 "
    "WHERE tenant_id = ?1 AND id = ?2";

/* breached at ?8: the clock's end (stop, pause start or now) minus its
 * base is over the target */
static const char SQL_LIST[] =
    "SELECT " COLS TARGET_JOIN "WHERE f.tenant_id = ?1 "
    "AND (?2 IS NULL OR f.state = ?2) AND (?3 IS NULL OR f.severity = ?3) "
    "AND (?4 IS NULL OR f.project_id = ?4) "
    "AND (?5 IS NULL OR (COALESCE(f.stopped_at, f.paused_since, ?8) - f.clock_base > "
    "COALESCE(f.frozen_hours, t.hours) * 3600000) = ?5) "
    "AND f.id > ?6 ORDER BY f.id LIMIT ?7";

static const char SQL_TENANT_EXISTS[] = "SELECT 1 FROM tenants WHERE id = ?1";
static const char SQL_PROJECT_EXISTS[] =
    "SELECT 1 FROM projects WHERE tenant_id = ?1 AND id = ?2";

static const char SQL_POLICY_GET[] =
    "SELECT urgent_hours, critical_hours, high_hours, medium_hours, low_hours, "
    "contact1_user, contact1_days, contact2_user, contact2_days, contact3_user, "
    "contact3_days, updated_at, updated_by FROM finding_policies "
    "WHERE tenant_id = ?1 AND project_id = ?2";

static const char SQL_POLICY_PUT[] =
    "INSERT OR REPLACE INTO finding_policies (tenant_id, project_id, urgent_hours, "
    "critical_hours, high_hours, medium_hours, low_hours, contact1_user, contact1_days, "
    "contact2_user, contact2_days, contact3_user, contact3_days, updated_at, updated_by) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

static const char SQL_POLICY_DELETE[] =
    "DELETE FROM finding_policies WHERE tenant_id = ?1 AND project_id = ?2";

/* ---- targets and thresholds ------------------------------------------ */

static const char SQL_TARGETS_GET[] =
    "SELECT severity, hours, source, safety_net FROM finding_targets "
    "WHERE tenant_id = ?1 AND project_id = ?2";

static const char SQL_TARGET_PUT[] =
    "INSERT INTO finding_targets (tenant_id, project_id, severity, hours, source, "
    "safety_net, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (tenant_id, project_id, severity) DO UPDATE SET hours = excluded.hours, "
    "source = excluded.source, safety_net = excluded.safety_net, "
    "updated_at = excluded.updated_at";

static const char SQL_TARGET_ADD[] =
    "INSERT OR IGNORE INTO finding_targets (tenant_id, project_id, severity, hours, source, "
    "safety_net, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static const char SQL_HAS_NOTIFY[] =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notification_config'";
/* no row: the tenant has no configuration; one row with a NULL value: an
 * empty list */
static const char SQL_THRESHOLDS[] =
    "SELECT j.value FROM notification_config n LEFT JOIN json_each(n.thresholds) j "
    "WHERE n.tenant_id = ?1";

/* ---- recalculation ---------------------------------------------------- */

/* Groups of a company: those with target rows, and those with live
 * findings (one index seek per project, never a scan). */
static const char SQL_TARGET_GROUPS[] =
    "SELECT DISTINCT project_id FROM finding_targets WHERE tenant_id = ?1";
static const char SQL_LIVE_GROUP_NEXT[] =
    "SELECT project_id FROM findings WHERE tenant_id = ?1 AND project_id > ?2 AND " LIVE
    " ORDER BY project_id LIMIT 1";
static const char SQL_LIVE_GROUP_NONE[] =
    "SELECT 1 FROM findings WHERE tenant_id = ?1 AND project_id = '' AND " LIVE " LIMIT 1";

/* sla_alarm_rearm over a (group, severity) whose hours changed: the
 * deadline moved; where the new one (with the ongoing pause) is in the
 * future, everything fired is cleared.  ?4 new target ms, ?5 now.  The
 * WHERE repeats findings_fired's, so only fired findings are visited. */
static const char SQL_REARM[] =
    "UPDATE findings INDEXED BY findings_fired SET stage = 0, contacts_fired = 0, "
    "updated_at = ?5 "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE
    " AND (stage <> 0 OR contacts_fired <> 0) "
    "AND clock_base + ?4 + (CASE WHEN paused_since IS NULL THEN 0 "
    "ELSE max(?5 - paused_since, 0) END) > ?5";

/* over findings_live alone: without statistics the planner would walk the
 * table's primary key instead */
static const char SQL_COUNT_COMPANY[] =
    "SELECT count(*) FROM findings INDEXED BY findings_live WHERE tenant_id = ?1 AND " LIVE;
static const char SQL_COUNT_PROJECT[] =
    "SELECT count(*) FROM findings INDEXED BY findings_live "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND " LIVE;

/* ---- the scheduler's queue (findings_due) ----------------------------- */

static const char SQL_GROUPS_ALL[] =
    "SELECT tenant_id, project_id, severity, hours FROM finding_targets "
    "ORDER BY tenant_id, project_id, severity";
#define DUE_GROUP                                                             \
    "FROM findings WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 " \
    "AND state = 'open' "
static const char SQL_NEXT_STAGE[] =
    "SELECT stage " DUE_GROUP "AND stage > ?4 ORDER BY stage LIMIT 1";
static const char SQL_NEXT_MASK[] =
    "SELECT contacts_fired " DUE_GROUP "AND stage = ?4 AND contacts_fired > ?5 "
    "ORDER BY contacts_fired LIMIT 1";
static const char SQL_MIN_BASE[] =
    "SELECT min(clock_base) " DUE_GROUP "AND stage = ?4 AND contacts_fired = ?5";
static const char SQL_DUE_IDS[] =
    "SELECT id " DUE_GROUP "AND stage = ?4 AND contacts_fired = ?5 AND clock_base <= ?6 "
    "ORDER BY clock_base LIMIT ?7";
static const char SQL_PROGRESS[] =
    "UPDATE findings SET stage = ?3, contacts_fired = ?4, updated_at = ?5 "
    "WHERE tenant_id = ?1 AND id = ?2";

/* ---- small helpers ---------------------------------------------------- */

struct thresholds {
    uint8_t v[SLA_THRESHOLDS_MAX];
    size_t n;
};

/* A group's resolved targets, by severity. */
struct group_targets {
    struct sla_finding_target t[SLA_SEV_COUNT];
    bool have[SLA_SEV_COUNT];
};

static int src_parse(const char *name, enum sla_src *out)
{
    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        const char *n = sla_src_name(SLA_FINDING, (enum sla_src)i);
        if (n && name && !strcmp(n, name)) {
            *out = (enum sla_src)i;
            return 0;
        }
    }
    return SW_E_INVAL;
}

static const char *text_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* The stored progress as the core's alarm over thresholds th. */
static struct sla_alarm alarm_of(int stage, const struct thresholds *th)
{
    struct sla_alarm a = {.fired = 0, .breach_fired = stage >= 100};
    for (size_t i = 0; i < th->n; i++)
        if (th->v[i] <= stage)
            a.fired |= UINT32_C(1) << i;
    return a;
}

/* And back: the highest percent fired (100 = the breach). */
static int stage_of(const struct sla_alarm *a, const struct thresholds *th)
{
    int stage = 0;
    if (a->breach_fired)
        return 100;
    for (size_t i = 0; i < th->n; i++)
        if (a->fired & (UINT32_C(1) << i))
            stage = th->v[i];
    return stage;
}

/* Offset from clock_base at which pct % of target_ms is reached: the
 * core's own rounding (a clock started at 0, never paused). */
static sla_ms warn_offset(sla_ms target_ms, unsigned pct)
{
    struct sla_clock z = {.started_at = 0, .target_ms = target_ms};
    return sla_threshold_at(&z, pct, 0);
}

static void row_thresholds(struct sw_finding *r, const struct thresholds *th)
{
    memcpy(r->warn, th->v, sizeof(r->warn));
    r->nwarn = th->n;
}

static int row_finding(sqlite3_stmt *st, const struct thresholds *th, struct sw_finding *r,
                       int *stage)
{
    struct sla_finding *f = &r->f;
    memset(r, 0, sizeof(*r));
    sq_copy_text(r->tenant_id, sizeof(r->tenant_id), st, 0);
    sq_copy_text(r->id, sizeof(r->id), st, 1);
    sq_copy_text(r->project_id, sizeof(r->project_id), st, 2);
    sq_copy_text(r->title, sizeof(r->title), st, 4);
    if (sla_sev_parse(SLA_FINDING, text_col(st, 3), &f->sev) < 0 ||
        sla_finding_state_parse(text_col(st, 5), &f->state) < 0)
        return SW_E_STORE;
    if (sqlite3_column_type(st, 14) == SQLITE_NULL) {
        /* a group without target rows (rows loaded by hand): the built-in
         * value until a recalculation or a write resolves the group */
        f->target.hours = sla_finding_builtin()->hours[f->sev];
        f->target.src = SLA_SRC_BUILTIN;
    } else {
        f->target.hours = sqlite3_column_int(st, 14);
        if (src_parse(text_col(st, 15), &f->target.src) < 0)
            return SW_E_STORE;
        f->target.safety_net = sqlite3_column_int(st, 16) != 0;
    }
    f->created_at = sqlite3_column_int64(st, 6);
    f->closed_at = sqlite3_column_int64(st, 7);
    f->clock.started_at = f->created_at;
    f->clock.target_ms = (sla_ms)f->target.hours * SLA_MS_PER_HOUR;
    f->clock.paused_ms = sqlite3_column_int64(st, 8) - f->created_at;
    f->clock.paused_since = sqlite3_column_int64(st, 9);
    f->clock.stopped_at = sqlite3_column_int64(st, 10);
    f->clock.last_event_at = sqlite3_column_int64(st, 11);
    f->alarm = alarm_of(sqlite3_column_int(st, 12), th);
    if (stage)
        *stage = sqlite3_column_int(st, 12);
    r->contacts_fired = (uint32_t)sqlite3_column_int64(st, 13);
    row_thresholds(r, th);
    r->next_check_at = sla_next_check(&f->clock, th->v, th->n, f->alarm.fired,
                                      f->alarm.breach_fired, 0);
    r->ingested_at = sqlite3_column_int64(st, 17);
    r->updated_at = sqlite3_column_int64(st, 18);
    return 0;
}

/* Binds the row for SQL_INSERT / SQL_UPDATE (same parameter numbers). */
static void bind_finding(sqlite3_stmt *st, const struct sw_finding *r, int stage)
{
    const struct sla_finding *f = &r->f;
    SQ_TEXT(st, 1, r->tenant_id);
    SQ_TEXT(st, 2, r->id);
    SQ_TEXT(st, 3, r->project_id);
    SQ_TEXT(st, 4, sla_sev_name(f->sev));
    SQ_TEXT(st, 5, r->title);
    SQ_TEXT(st, 6, sla_finding_state_name(f->state));
    sqlite3_bind_int64(st, 7, f->created_at);
    sqlite3_bind_int64(st, 8, f->closed_at);
    sqlite3_bind_int64(st, 9, f->clock.started_at + f->clock.paused_ms);
    sqlite3_bind_int64(st, 10, f->clock.paused_since);
    sqlite3_bind_int64(st, 11, f->clock.stopped_at);
    sqlite3_bind_int64(st, 12, f->clock.last_event_at);
    sqlite3_bind_int(st, 13, stage);
    sqlite3_bind_int64(st, 14, f->alarm.breach_fired ? r->contacts_fired : 0);
    if (sla_finding_state_terminal(f->state)) {   /* the verdict's target, kept */
        sqlite3_bind_int(st, 15, f->target.hours);
        SQ_TEXT(st, 16, sla_src_name(SLA_FINDING, f->target.src));
        sqlite3_bind_int(st, 17, f->target.safety_net);
    } else {
        sqlite3_bind_null(st, 15);
        sqlite3_bind_null(st, 16);
        sqlite3_bind_null(st, 17);
    }
    sqlite3_bind_int64(st, 18, r->ingested_at);
    sqlite3_bind_int64(st, 19, r->updated_at);
}

/* 0 when the query with text parameters a (and b) returns a row,
 * SW_E_NOTFOUND when not. */
static int exists(struct sqlite_store *s, struct conn *c, const char *sql, const char *a,
                  const char *b)
{
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
    if (a)
        SQ_TEXT(st, 1, a);
    if (b)
        SQ_TEXT(st, 2, b);
    int rc = sqlite3_step(st);
    rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "exists");
    sq_done(st);
    return rc;
}

/* The scope must exist: tenant "" is the global level. */
static int scope_exists(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id)
{
    int rc = 0;
    if (*tenant_id)
        rc = exists(s, c, SQL_TENANT_EXISTS, tenant_id, NULL);
    if (rc == 0 && *project_id)
        rc = *tenant_id ? exists(s, c, SQL_PROJECT_EXISTS, tenant_id, project_id)
                        : SW_E_NOTFOUND;
    return rc;
}

/* The tenant's warning thresholds below 100 (100 is the breach itself):
 * its notification config's, or {80} without one. */
static int load_thresholds(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                           struct thresholds *out)
{
    int vals[32], n = 0, rc;
    bool configured = false;

    out->v[0] = sla_thresholds_default[0];
    out->n = 1;
    rc = exists(s, c, SQL_HAS_NOTIFY, NULL, NULL);
    if (rc == SW_E_NOTFOUND)
        return 0;                       /* no notifications subject in this schema */
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_THRESHOLDS);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        configured = true;
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
            continue;
        int64_t v = sqlite3_column_int64(st, 0);
        if (v >= 1 && v < 100 && n < (int)(sizeof(vals) / sizeof(vals[0])))
            vals[n++] = (int)v;
    }
    sq_done(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, c, "thresholds");
    if (!configured)
        return 0;
    out->n = 0;
    if (n > 0 && sla_thresholds_normalize(vals, (size_t)n, out->v, &out->n, NULL) < 0) {
        /* more distinct values than the core tracks: keep the lowest ones */
        uint8_t tmp[SLA_THRESHOLDS_MAX];
        size_t k = 0;
        for (int want = 1; want < 100 && k < SLA_THRESHOLDS_MAX; want++)
            for (int i = 0; i < n; i++)
                if (vals[i] == want) {
                    tmp[k++] = (uint8_t)want;
                    break;
                }
        memcpy(out->v, tmp, k);
        out->n = k;
    }
    return 0;
}

/* The row, and its stored stage when stage != NULL. */
static int get_row_stage(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                         const char *id, const struct thresholds *th, struct sw_finding *out,
                         int *stage)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = row_finding(st, th, out, stage) < 0 ? sq_fail(s, c, "finding row") : 0;
    else
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "finding_get");
    sq_done(st);
    return rc;
}

static int get_row(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                   const char *id, const struct thresholds *th, struct sw_finding *out)
{
    return get_row_stage(s, c, tenant_id, id, th, out, NULL);
}

/* ---- policy rows ----------------------------------------------------- */

/* *found = false (and p cleared) when the scope has no row. */
static int load_policy(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                       const char *project_id, struct sw_finding_policy *p, bool *found)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_POLICY_GET);
    if (!st)
        return SW_E_STORE;
    memset(p, 0, sizeof(*p));
    snprintf(p->tenant_id, sizeof(p->tenant_id), "%s", tenant_id);
    snprintf(p->project_id, sizeof(p->project_id), "%s", project_id);
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, project_id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < SLA_SEV_COUNT; i++) {
            p->hours_set[i] = sqlite3_column_type(st, i) != SQLITE_NULL;
            p->hours[i] = sqlite3_column_int(st, i);
        }
        for (int l = 0; l < SLA_CONTACTS_MAX; l++) {
            int col = 5 + 2 * l;
            if (sqlite3_column_type(st, col) == SQLITE_NULL)
                continue;
            struct sw_contact *ct = &p->contacts[p->ncontacts++];
            ct->level = l + 1;
            sq_copy_text(ct->user, sizeof(ct->user), st, col);
            ct->days_after_breach = sqlite3_column_int(st, col + 1);
        }
        p->updated_at = sqlite3_column_int64(st, 11);
        sq_copy_text(p->updated_by, sizeof(p->updated_by), st, 12);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "policy_get");
    }
    sq_done(st);
    return rc;
}

static int load_chain(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                      const char *project_id, struct sw_policy_chain *out)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (*tenant_id && *project_id)
        rc = load_policy(s, c, tenant_id, project_id, &out->level[SW_POL_PROJECT],
                         &out->has[SW_POL_PROJECT]);
    if (rc == 0 && *tenant_id)
        rc = load_policy(s, c, tenant_id, "", &out->level[SW_POL_COMPANY],
                         &out->has[SW_POL_COMPANY]);
    if (rc == 0)
        rc = load_policy(s, c, "", "", &out->level[SW_POL_GLOBAL], &out->has[SW_POL_GLOBAL]);
    return rc;
}

/* ---- group targets ---------------------------------------------------- */

static int load_group(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                      const char *project_id, struct group_targets *g)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_TARGETS_GET);
    if (!st)
        return SW_E_STORE;
    memset(g, 0, sizeof(*g));
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, project_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        enum sla_sev sev;
        struct sla_finding_target t = {0};
        if (sla_sev_parse(SLA_FINDING, text_col(st, 0), &sev) < 0 ||
            src_parse(text_col(st, 2), &t.src) < 0) {
            rc = SQLITE_CORRUPT;
            break;
        }
        t.hours = sqlite3_column_int(st, 1);
        t.safety_net = sqlite3_column_int(st, 3) != 0;
        g->t[sev] = t;
        g->have[sev] = true;
    }
    sq_done(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, c, "finding targets");
}

static int put_target(struct sqlite_store *s, struct conn *c, const char *sql,
                      const char *tenant_id, const char *project_id, enum sla_sev sev,
                      const struct sla_finding_target *t, int64_t now)
{
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, project_id);
    SQ_TEXT(st, 3, sla_sev_name(sev));
    sqlite3_bind_int(st, 4, t->hours);
    SQ_TEXT(st, 5, sla_src_name(SLA_FINDING, t->src));
    sqlite3_bind_int(st, 6, t->safety_net);
    sqlite3_bind_int64(st, 7, now);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* The group's targets; a group seen for the first time (or missing a
 * severity) is resolved through the waterfall as it stands now. */
static int ensure_group(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id, int64_t now, struct group_targets *g)
{
    int rc = load_group(s, c, tenant_id, project_id, g);
    bool complete = true;
    for (int i = 0; i < SLA_SEV_COUNT; i++)
        complete = complete && g->have[i];
    if (rc < 0 || complete)
        return rc;

    struct sw_policy_chain *chain = xmalloc(sizeof(*chain));
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    if ((rc = load_chain(s, c, tenant_id, project_id, chain)) < 0)
        goto out;
    sw_policy_chain_scopes(chain, layers, &scopes);
    for (int i = 0; i < SLA_SEV_COUNT && rc == 0; i++) {
        struct sla_finding_target t;
        if (g->have[i])
            continue;
        if ((rc = sla_finding_policy_resolve(&scopes, (enum sla_sev)i, &t)) < 0)
            break;
        rc = put_target(s, c, SQL_TARGET_ADD, tenant_id, project_id, (enum sla_sev)i, &t, now);
        g->t[i] = t;
        g->have[i] = true;
    }
out:
    free(chain);
    return rc;
}

/* Scopes under which the core resolves exactly the group's targets: each
 * value sits at the level it came from.  The core's lifecycle functions
 * (init, set_severity) then compute what the group says. */
static void group_scopes(const struct group_targets *g, struct sla_finding_layer layers[3],
                         struct sla_finding_scopes *out)
{
    memset(layers, 0, 3 * sizeof(layers[0]));
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        switch (g->t[i].src) {
        case SLA_SRC_PROJECT: layers[0].hours[i] = g->t[i].hours; break;
        case SLA_SRC_TENANT: layers[1].hours[i] = g->t[i].hours; break;
        case SLA_SRC_GLOBAL: layers[2].hours[i] = g->t[i].hours; break;
        default: break;     /* built-in: the core's own value */
        }
    }
    out->project = &layers[0];
    out->company = &layers[1];
    out->global = &layers[2];
}

/* A live finding follows its group: when the core left it another target
 * (reopen after a recalculation, say), take the group's and re-arm by the
 * rule.  A terminal finding keeps what it was judged against. */
static void follow_group(struct sw_finding *r, const struct group_targets *g, int64_t now)
{
    struct sla_finding *f = &r->f;
    if (sla_finding_state_terminal(f->state))
        return;
    const struct sla_finding_target *t = &g->t[f->sev];
    if (t->hours != f->target.hours) {
        sla_ms old_due = sla_clock_due(&f->clock, now);
        f->clock.target_ms = (sla_ms)t->hours * SLA_MS_PER_HOUR;
        sla_alarm_rearm(&f->alarm, old_due, sla_clock_due(&f->clock, now), now);
    }
    f->target = *t;
}

/* The escalation contacts a group inherits (project → company → global),
 * pointing into chain. */
static void chain_contacts(const struct sw_policy_chain *ch, struct sla_contacts lv[3],
                           const struct sla_contacts **out)
{
    for (int l = 0; l < 3; l++) {
        memset(&lv[l], 0, sizeof(lv[l]));
        if (!ch->has[l])
            continue;
        const struct sw_finding_policy *p = &ch->level[l];
        for (size_t i = 0; i < p->ncontacts && i < SLA_CONTACTS_MAX; i++)
            lv[l].item[lv[l].n++] = (struct sla_contact){
                .level = p->contacts[i].level, .user = p->contacts[i].user,
                .days_after_breach = p->contacts[i].days_after_breach};
    }
    *out = sla_contacts_inherit(&lv[SW_POL_PROJECT], &lv[SW_POL_COMPANY], &lv[SW_POL_GLOBAL],
                                NULL);
}

/* Stored contacts mask (bit level - 1) as the core's positional mask over
 * the list, and back. */
static uint32_t contacts_pos(const struct sla_contacts *cs, uint32_t levels)
{
    uint32_t m = 0;
    for (size_t i = 0; cs && i < cs->n; i++)
        if (levels & (UINT32_C(1) << (cs->item[i].level - 1)))
            m |= UINT32_C(1) << i;
    return m;
}

/* ---- recalculation ---------------------------------------------------- */

struct strv {
    char **v;
    size_t n, cap;
};

static void strv_add(struct strv *a, const char *s)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->v[i], s))
            return;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = xstrdup(s);
}

static void strv_free(struct strv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* A company's groups: with target rows or with live findings. */
static int company_groups(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                          struct strv *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_TARGET_GROUPS);
    int rc;
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        strv_add(out, text_col(st, 0));
    sq_done(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, c, "target groups");
    rc = exists(s, c, SQL_LIVE_GROUP_NONE, tenant_id, NULL);
    if (rc == 0)
        strv_add(out, "");
    else if (rc != SW_E_NOTFOUND)
        return rc;
    char last[SW_ID_MAX + 1] = "";
    for (;;) {
        st = sq_stmt(s, c, SQL_LIVE_GROUP_NEXT);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, tenant_id);
        SQ_TEXT(st, 2, last);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            sq_copy_text(last, sizeof(last), st, 0);
            strv_add(out, last);
        }
        sq_done(st);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return sq_fail(s, c, "live groups");
    }
}

/* Re-resolves one group's targets with the policy as it stands; where a
 * severity's hours change, re-arms its fired findings. */
static int recalc_group(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id, const struct sw_policy_chain *chain,
                        int64_t now)
{
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    struct group_targets old;
    int rc = load_group(s, c, tenant_id, project_id, &old);
    if (rc < 0)
        return rc;
    sw_policy_chain_scopes(chain, layers, &scopes);
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        enum sla_sev sev = (enum sla_sev)i;
        struct sla_finding_target t;
        if (sla_finding_policy_resolve(&scopes, sev, &t) < 0)
            return SW_E_INVAL;
        /* without a row, live findings read the built-in value */
        struct sla_finding_target was = old.have[i] ? old.t[i]
            : (struct sla_finding_target){.hours = sla_finding_builtin()->hours[i],
                                          .src = SLA_SRC_BUILTIN};
        if (old.have[i] && was.hours == t.hours && was.src == t.src &&
            was.safety_net == t.safety_net)
            continue;
        if ((rc = put_target(s, c, SQL_TARGET_PUT, tenant_id, project_id, sev, &t, now)) < 0)
            return rc;
        if (was.hours == t.hours)
            continue;
        sqlite3_stmt *st = sq_stmt(s, c, SQL_REARM);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, tenant_id);
        SQ_TEXT(st, 2, project_id);
        SQ_TEXT(st, 3, sla_sev_name(sev));
        sqlite3_bind_int64(st, 4, (sla_ms)t.hours * SLA_MS_PER_HOUR);
        sqlite3_bind_int64(st, 5, now);
        rc = sqlite3_step(st);
        sq_done(st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, c, "re-arm");
    }
    return 0;
}

/* Recalculates a company (project_id "": each of its groups, a project
 * without a policy of its own getting the company's values and sources)
 * or one project, inside the caller's transaction; *count = the scope's
 * live findings. */
static int recalc_scope(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id, int64_t now, int64_t *count)
{
    struct sw_policy_chain *chain = xmalloc(sizeof(*chain));
    struct strv groups = {0};
    int rc;

    *count = 0;
    if (*project_id) {
        strv_add(&groups, project_id);
    } else if ((rc = company_groups(s, c, tenant_id, &groups)) < 0) {
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < groups.n && rc == 0; i++) {
        if ((rc = load_chain(s, c, tenant_id, groups.v[i], chain)) == 0)
            rc = recalc_group(s, c, tenant_id, groups.v[i], chain, now);
    }
    if (rc < 0)
        goto out;

    sqlite3_stmt *st = sq_stmt(s, c, *project_id ? SQL_COUNT_PROJECT : SQL_COUNT_COMPANY);
    if (!st) {
        rc = SW_E_STORE;
        goto out;
    }
    SQ_TEXT(st, 1, tenant_id);
    if (*project_id)
        SQ_TEXT(st, 2, project_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    sq_done(st);
    rc = rc == SQLITE_ROW ? 0 : sq_fail(s, c, "recalc count");
out:
    strv_free(&groups);
    free(chain);
    return rc;
}

/* ---- the ops --------------------------------------------------------- */

static void event_init(struct sw_event *e, const char *tenant_id, const char *item_id,
                       const char *type, const char *actor, int64_t at, const char *data)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", tenant_id);
    snprintf(e->item_kind, sizeof(e->item_kind), "finding");
    snprintf(e->item_id, sizeof(e->item_id), "%s", item_id);
    snprintf(e->type, sizeof(e->type), "%s", type);
    snprintf(e->actor, sizeof(e->actor), "%s", actor ? actor : "");
    e->at = at;
    e->data = data;
}

static int sq_finding_create(struct store *base, const struct sw_finding_new *in, int64_t now,
                             const char *actor, struct sw_finding *out, bool *created)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    struct group_targets g;
    struct sla_finding_layer layers[3];
    struct sla_finding_scopes scopes;
    struct thresholds th;
    struct sw_finding *r = xmalloc(sizeof(*r));
    const char *project = in->project_id ? in->project_id : "";
    int rc;

    if (!c) {
        free(r);
        return SW_E_STORE;
    }
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    if ((rc = load_thresholds(s, c, in->tenant_id, &th)) < 0)
        goto fail;
    rc = get_row(s, c, in->tenant_id, in->id, &th, r);
    if (rc == 0) {                      /* already tracked: idempotent */
        sq_rollback(s, c);
        *out = *r;
        *created = false;
        goto done;
    }
    if (rc != SW_E_NOTFOUND)
        goto fail;
    if ((rc = scope_exists(s, c, in->tenant_id, project)) < 0 ||
        (rc = ensure_group(s, c, in->tenant_id, project, now, &g)) < 0)
        goto fail;
    group_scopes(&g, layers, &scopes);

    memset(r, 0, sizeof(*r));
    snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", in->tenant_id);
    snprintf(r->id, sizeof(r->id), "%s", in->id);
    snprintf(r->project_id, sizeof(r->project_id), "%s", project);
    snprintf(r->title, sizeof(r->title), "%s", in->title ? in->title : "");
    if ((rc = sla_finding_init(&r->f, in->sev, in->discovered_at, &scopes)) < 0)
        goto fail;
    follow_group(r, &g, now);
    row_thresholds(r, &th);
    r->ingested_at = now;
    r->updated_at = now;
    r->next_check_at = sla_next_check(&r->f.clock, th.v, th.n, 0, false, now);

    sqlite3_stmt *st = sq_stmt(s, c, SQL_INSERT);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    bind_finding(st, r, 0);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        goto fail;

    char data[64];
    snprintf(data, sizeof(data), "{\"severity\":\"%s\",\"sla_hours\":%d}",
             sla_sev_name(r->f.sev), (int)r->f.target.hours);
    struct sw_event e;
    event_init(&e, r->tenant_id, r->id, "created", actor, in->discovered_at, data);
    if ((rc = sq_event_add(s, c, &e)) < 0 || (rc = sq_commit(s, c)) < 0)
        goto fail;
    *out = *r;
    *created = true;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    free(r);
    return rc;
}

static int sq_finding_get(struct store *base, const char *tenant_id, const char *id,
                          struct sw_finding *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    struct thresholds th;
    if (!c)
        return SW_E_STORE;
    /* one read transaction: the thresholds and the row as of one instant */
    int rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                 ? 0 : sq_fail(s, c, "begin");
    if (rc == 0)
        rc = load_thresholds(s, c, tenant_id, &th);
    if (rc == 0)
        rc = get_row(s, c, tenant_id, id, &th, out);
    sq_rollback(s, c);
    sq_release(s, c);
    return rc;
}

static int sq_finding_update(struct store *base, const char *tenant_id, const char *id,
                             int64_t now, const char *actor, store_finding_fn fn, void *ud,
                             struct sw_finding *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    struct group_targets g;
    struct sla_finding_layer layers[3];
    struct sla_finding_scopes scopes;
    struct thresholds th;
    struct sw_finding *r = xmalloc(sizeof(*r));
    struct sw_finding_event ev;
    int stage = 0, rc;

    if (!c) {
        free(r);
        return SW_E_STORE;
    }
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    if ((rc = load_thresholds(s, c, tenant_id, &th)) < 0 ||
        (rc = get_row_stage(s, c, tenant_id, id, &th, r, &stage)) < 0 ||
        (rc = ensure_group(s, c, tenant_id, r->project_id, now, &g)) < 0)
        goto fail;
    group_scopes(&g, layers, &scopes);
    struct sla_alarm was = r->f.alarm;
    memset(&ev, 0, sizeof(ev));
    if ((rc = fn(r, &scopes, ud, &ev)) < 0)
        goto fail;
    follow_group(r, &g, now);
    /* the stored stage stands unless the alarm changed (it may sit between
     * two thresholds after the tenant edited its list) */
    if (r->f.alarm.fired != was.fired || r->f.alarm.breach_fired != was.breach_fired)
        stage = stage_of(&r->f.alarm, &th);
    if (!r->f.alarm.breach_fired)
        r->contacts_fired = 0;
    r->updated_at = now;
    r->next_check_at = sla_next_check(&r->f.clock, th.v, th.n, r->f.alarm.fired,
                                      r->f.alarm.breach_fired, now);

    sqlite3_stmt *st = sq_stmt(s, c, SQL_UPDATE);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    bind_finding(st, r, stage);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        goto fail;
    if (ev.type[0]) {
        struct sw_event e;
        event_init(&e, tenant_id, id, ev.type, actor, ev.at ? ev.at : now, ev.data);
        if ((rc = sq_event_add(s, c, &e)) < 0)
            goto fail;
    }
    if ((rc = sq_commit(s, c)) < 0)
        goto fail;
    *out = *r;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    free(r);
    return rc;
}

static int sq_finding_list(struct store *base, const struct sw_finding_filter *fl,
                           store_finding_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    struct thresholds th;
    if (!c)
        return SW_E_STORE;
    int rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                 ? 0 : sq_fail(s, c, "begin");
    if (rc == 0)
        rc = load_thresholds(s, c, fl->tenant_id, &th);
    sqlite3_stmt *st = rc == 0 ? sq_stmt(s, c, SQL_LIST) : NULL;
    if (!st) {
        sq_rollback(s, c);
        sq_release(s, c);
        return rc < 0 ? rc : SW_E_STORE;
    }
    SQ_TEXT(st, 1, fl->tenant_id);
    if (fl->state)
        SQ_TEXT(st, 2, fl->state);
    if (fl->severity)
        SQ_TEXT(st, 3, fl->severity);
    if (fl->project_id)
        SQ_TEXT(st, 4, fl->project_id);
    if (fl->breached >= 0)
        sqlite3_bind_int(st, 5, fl->breached);
    SQ_TEXT(st, 6, fl->after_id ? fl->after_id : "");
    sqlite3_bind_int(st, 7, fl->limit);
    sqlite3_bind_int64(st, 8, fl->now);
    /* a struct sw_finding is ~1.5 KiB: keep it off the stack of callers' callers */
    struct sw_finding *r = xmalloc(sizeof(*r));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (row_finding(st, &th, r, NULL) < 0) {
            rc = SQLITE_ERROR;
            break;
        }
        if (cb(r, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "finding_list");
    free(r);
    sq_done(st);
    sq_rollback(s, c);
    sq_release(s, c);
    return rc;
}

static int sq_policy_chain(struct store *base, const char *tenant_id, const char *project_id,
                           struct sw_policy_chain *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    /* one read transaction: the levels are seen as of one instant */
    int rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                 ? 0 : sq_fail(s, c, "begin");
    if (rc == 0)
        rc = scope_exists(s, c, tenant_id, project_id);
    if (rc == 0)
        rc = load_chain(s, c, tenant_id, project_id, out);
    sq_rollback(s, c);
    sq_release(s, c);
    return rc;
}

static void bind_policy(sqlite3_stmt *st, const struct sw_finding_policy *p, int64_t now,
                        const char *actor)
{
    SQ_TEXT(st, 1, p->tenant_id);
    SQ_TEXT(st, 2, p->project_id);
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        if (p->hours_set[i])
            sqlite3_bind_int(st, 3 + i, p->hours[i]);
        else
            sqlite3_bind_null(st, 3 + i);
    }
    for (int l = 0; l < SLA_CONTACTS_MAX; l++) {
        sqlite3_bind_null(st, 8 + 2 * l);
        sqlite3_bind_null(st, 9 + 2 * l);
    }
    for (size_t i = 0; i < p->ncontacts && i < SLA_CONTACTS_MAX; i++) {
        const struct sw_contact *ct = &p->contacts[i];
        if (ct->level < 1 || ct->level > SLA_CONTACTS_MAX)
            continue;
        SQ_TEXT(st, 8 + 2 * (ct->level - 1), ct->user);
        sqlite3_bind_int(st, 9 + 2 * (ct->level - 1), ct->days_after_breach);
    }
    sqlite3_bind_int64(st, 14, now);
    SQ_TEXT(st, 15, actor ? actor : "");
}

/* put (p != NULL) or delete (p == NULL) a scope's row, then recalculate. */
static int policy_write(struct store *base, const char *tenant_id, const char *project_id,
                        const struct sw_finding_policy *p, int64_t now, const char *actor,
                        int64_t *recalculated)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    int64_t n = 0;
    int rc;

    if (!c)
        return SW_E_STORE;
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    if ((rc = scope_exists(s, c, tenant_id, project_id)) < 0)
        goto fail;
    sqlite3_stmt *st = sq_stmt(s, c, p ? SQL_POLICY_PUT : SQL_POLICY_DELETE);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    if (p) {
        bind_policy(st, p, now, actor);
    } else {
        SQ_TEXT(st, 1, tenant_id);
        SQ_TEXT(st, 2, project_id);
    }
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        goto fail;
    if (*tenant_id && (rc = recalc_scope(s, c, tenant_id, project_id, now, &n)) < 0)
        goto fail;
    if ((rc = sq_commit(s, c)) < 0)
        goto fail;
    if (recalculated)
        *recalculated = n;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    return rc;
}

static int sq_policy_put(struct store *base, const struct sw_finding_policy *p, int64_t now,
                         const char *actor, int64_t *recalculated)
{
    return policy_write(base, p->tenant_id, p->project_id, p, now, actor, recalculated);
}

static int sq_policy_delete(struct store *base, const char *tenant_id, const char *project_id,
                            int64_t now, const char *actor, int64_t *recalculated)
{
    return policy_write(base, tenant_id, project_id, NULL, now, actor, recalculated);
}

static int sq_recalculate(struct store *base, const char *tenant_id, const char *project_id,
                          int64_t now, const char *actor, int64_t *updated)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    int64_t n = 0;
    int rc;

    if (!c)
        return SW_E_STORE;
    if (!*tenant_id) {
        rc = SW_E_INVAL;
        goto done;
    }
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    if ((rc = scope_exists(s, c, tenant_id, project_id)) < 0 ||
        (rc = recalc_scope(s, c, tenant_id, project_id, now, &n)) < 0 ||
        (rc = sq_commit(s, c)) < 0)
        goto fail;
    *updated = n;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    return rc;
}

/* ---- the scheduler ---------------------------------------------------- */

/* What the scheduler needs of one (tenant, project) group. */
struct sched_group {
    char th_tenant[SW_ID_MAX + 1];          /* whose thresholds th are */
    struct thresholds th;
    char tenant[SW_ID_MAX + 1];             /* the group the rest is about */
    char project[SW_ID_MAX + 1];
    struct sw_policy_chain chain;
    struct sla_contacts lv[3];
    const struct sla_contacts *contacts;    /* NULL: none anywhere */
};

/* The tenant's thresholds in g (tenant ids are never "", so a zeroed g
 * holds nothing). */
static int sched_tenant(struct sqlite_store *s, struct conn *c, const char *tenant,
                        struct sched_group *g)
{
    if (!strcmp(g->th_tenant, tenant))
        return 0;
    int rc = load_thresholds(s, c, tenant, &g->th);
    if (rc == 0)
        snprintf(g->th_tenant, sizeof(g->th_tenant), "%s", tenant);
    return rc;
}

/* Makes g the context of (tenant, project), reloading only what changed. */
static int sched_group_load(struct sqlite_store *s, struct conn *c, const char *tenant,
                            const char *project, struct sched_group *g)
{
    int rc = sched_tenant(s, c, tenant, g);
    if (rc < 0 || (!strcmp(g->tenant, tenant) && !strcmp(g->project, project)))
        return rc;
    if ((rc = load_chain(s, c, tenant, project, &g->chain)) < 0)
        return rc;
    chain_contacts(&g->chain, g->lv, &g->contacts);
    snprintf(g->tenant, sizeof(g->tenant), "%s", tenant);
    snprintf(g->project, sizeof(g->project), "%s", project);
    return 0;
}

/* Offset from clock_base of the next instant of a running finding with
 * this progress: its next warning, its breach, or its next contact. */
static sla_ms next_offset(const struct sched_group *g, sla_ms target_ms, int stage,
                          uint32_t levels)
{
    if (stage < 100) {
        for (size_t i = 0; i < g->th.n; i++)
            if (g->th.v[i] > stage)
                return warn_offset(target_ms, g->th.v[i]);
        return target_ms + 1;
    }
    if (!g->contacts)
        return SLA_NEVER;
    return sla_contacts_next(target_ms + 1, g->contacts->item, g->contacts->n,
                             contacts_pos(g->contacts, levels));
}

/* One (group, severity, stage, contacts) cell of findings_due: its running
 * findings all have their next instant at clock_base + off.  A non-zero
 * return stops the walk (> 0) or fails it (< 0). */
typedef int (*cell_fn)(struct sqlite_store *s, struct conn *c, const struct sched_group *g,
                       const char *sev, int stage, uint32_t levels, sla_ms off, void *ud);

static int bind_cell(sqlite3_stmt *st, const char *tenant, const char *project,
                     const char *sev)
{
    SQ_TEXT(st, 1, tenant);
    SQ_TEXT(st, 2, project);
    SQ_TEXT(st, 3, sev);
    return 0;
}

/* Steps a one-column seek; 1 and *v on a row, 0 on none, < 0 on error. */
static int seek_int(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st, int64_t *v)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *v = sqlite3_column_int64(st, 0);
        rc = 1;
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(s, c, "due seek");
    }
    sq_done(st);
    return rc;
}

/* The cells of one (group, severity): distinct stages, then distinct
 * contact masks within each, one index seek apiece. */
static int walk_group(struct sqlite_store *s, struct conn *c, const struct sched_group *g,
                      const char *sev, sla_ms target_ms, cell_fn fn, void *ud)
{
    int64_t stage = -1;
    for (;;) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_NEXT_STAGE);
        if (!st)
            return SW_E_STORE;
        bind_cell(st, g->tenant, g->project, sev);
        sqlite3_bind_int64(st, 4, stage);
        int rc = seek_int(s, c, st, &stage);
        if (rc <= 0)
            return rc;
        int64_t levels = -1;
        for (;;) {
            st = sq_stmt(s, c, SQL_NEXT_MASK);
            if (!st)
                return SW_E_STORE;
            bind_cell(st, g->tenant, g->project, sev);
            sqlite3_bind_int64(st, 4, stage);
            sqlite3_bind_int64(st, 5, levels);
            if ((rc = seek_int(s, c, st, &levels)) < 0)
                return rc;
            if (rc == 0)
                break;
            sla_ms off = next_offset(g, target_ms, (int)stage, (uint32_t)levels);
            if (off != SLA_NEVER &&
                (rc = fn(s, c, g, sev, (int)stage, (uint32_t)levels, off, ud)) != 0)
                return rc;
        }
    }
}

/* Every cell of every group with target rows (a live finding's group
 * always has them: its creation or a recalculation wrote them). */
static int walk_cells(struct sqlite_store *s, struct conn *c, cell_fn fn, void *ud)
{
    struct sched_group *g = xcalloc(1, sizeof(*g));
    sqlite3_stmt *groups = sq_stmt(s, c, SQL_GROUPS_ALL);
    int rc = 0, step = SQLITE_DONE;
    if (!groups) {
        free(g);
        return SW_E_STORE;
    }
    while ((step = sqlite3_step(groups)) == SQLITE_ROW) {
        char tenant[SW_ID_MAX + 1], project[SW_ID_MAX + 1], sev[16];
        sq_copy_text(tenant, sizeof(tenant), groups, 0);
        sq_copy_text(project, sizeof(project), groups, 1);
        sq_copy_text(sev, sizeof(sev), groups, 2);
        sla_ms target_ms = sqlite3_column_int64(groups, 3) * SLA_MS_PER_HOUR;
        if ((rc = sched_group_load(s, c, tenant, project, g)) < 0 ||
            (rc = walk_group(s, c, g, sev, target_ms, fn, ud)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = sq_fail(s, c, "due groups");
    sq_done(groups);
    free(g);
    return rc < 0 ? rc : 0;
}

static int min_cell(struct sqlite_store *s, struct conn *c, const struct sched_group *g,
                    const char *sev, int stage, uint32_t levels, sla_ms off, void *ud)
{
    sla_ms *best = ud;
    int64_t base = 0;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_MIN_BASE);
    if (!st)
        return SW_E_STORE;
    bind_cell(st, g->tenant, g->project, sev);
    sqlite3_bind_int(st, 4, stage);
    sqlite3_bind_int64(st, 5, levels);
    int rc = seek_int(s, c, st, &base);
    if (rc > 0 && base + off < *best)
        *best = base + off;
    return rc < 0 ? rc : 0;
}

static int sq_next_due(struct store *base, int64_t now, int64_t *at)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    sla_ms best = SLA_NEVER;
    if (!c)
        return SW_E_STORE;
    int rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                 ? 0 : sq_fail(s, c, "begin");
    if (rc == 0)
        rc = walk_cells(s, c, min_cell, &best);
    sq_rollback(s, c);
    sq_release(s, c);
    if (rc == 0)
        *at = best;
    return rc;
}

struct due_item {
    char tenant[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
};

struct due_list {
    struct due_item *v;
    int n, limit;
    sla_ms now;
};

static int collect_cell(struct sqlite_store *s, struct conn *c, const struct sched_group *g,
                        const char *sev, int stage, uint32_t levels, sla_ms off, void *ud)
{
    struct due_list *l = ud;
    if (off > l->now)
        return 0;       /* nobody's instant can have come (clock_base > 0) */
    sqlite3_stmt *st = sq_stmt(s, c, SQL_DUE_IDS);
    if (!st)
        return SW_E_STORE;
    bind_cell(st, g->tenant, g->project, sev);
    sqlite3_bind_int(st, 4, stage);
    sqlite3_bind_int64(st, 5, levels);
    sqlite3_bind_int64(st, 6, l->now - off);
    sqlite3_bind_int(st, 7, l->limit - l->n);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct due_item *it = &l->v[l->n++];
        snprintf(it->tenant, sizeof(it->tenant), "%s", g->tenant);
        sq_copy_text(it->id, sizeof(it->id), st, 0);
    }
    sq_done(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, c, "due findings");
    return l->n >= l->limit ? 1 : 0;
}

/* Appends one scheduler event and its outbox rows. */
static int fire(struct sqlite_store *s, struct conn *c, const struct sw_finding *r,
                const char *type, json_t *data, struct sw_notice *n, int64_t now)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!text)
        return SW_E_NOMEM;
    struct sw_event e;
    event_init(&e, r->tenant_id, r->id, type, "scheduler", now, text);
    int rc = sq_event_add(s, c, &e);
    free(text);
    if (rc < 0)
        return rc;
    int64_t event_id = sqlite3_last_insert_rowid(c->db);
    snprintf(n->tenant_id, sizeof(n->tenant_id), "%s", r->tenant_id);
    snprintf(n->type, sizeof(n->type), "%s", type);
    snprintf(n->item_kind, sizeof(n->item_kind), "finding");
    snprintf(n->item_id, sizeof(n->item_id), "%s", r->id);
    snprintf(n->severity, sizeof(n->severity), "%s", sla_sev_name(r->f.sev));
    snprintf(n->clock, sizeof(n->clock), "resolve");
    n->due_at = sla_clock_due(&r->f.clock, now);
    n->occurred_at = now;
    rc = sq_outbox_enqueue(s, c, n, event_id);
    return rc < 0 ? rc : 0;
}

static json_t *json_instant(sla_ms t)
{
    char buf[SLA_TIME_BUFSZ];
    sla_time_format(t, buf);
    return json_string(buf);
}

/* One due finding: what the core says happened, its events and notices,
 * and its new progress. */
static int process_one(struct sqlite_store *s, struct conn *c, const struct due_item *it,
                       struct sched_group *g, struct sw_finding *r, int64_t now)
{
    int stage = 0, rc;
    if ((rc = sched_tenant(s, c, it->tenant, g)) < 0 ||
        (rc = get_row_stage(s, c, it->tenant, it->id, &g->th, r, &stage)) < 0 ||
        (rc = sched_group_load(s, c, it->tenant, r->project_id, g)) < 0)
        return rc;
    const struct sla_finding *f = &r->f;
    if (f->state != SLA_FINDING_OPEN)
        return 0;
    sla_ms due = sla_clock_due(&f->clock, now);
    uint32_t levels = r->contacts_fired;
    int new_stage = stage;

    if (sla_breach_due(&f->clock, f->alarm.breach_fired, now)) {
        /* warnings crossed on the way are superseded: marked, not told */
        struct sw_notice n = {0};
        new_stage = 100;
        rc = fire(s, c, r, "sla.breach",
                  json_pack("{s:o, s:I}", "due_at", json_instant(due), "overage_ms",
                            (json_int_t)sla_clock_overage(&f->clock, now)), &n, now);
    } else {
        uint32_t crossed = sla_warnings_crossed(&f->clock, g->th.v, g->th.n, f->alarm.fired,
                                                now);
        int pct = 0;
        for (size_t i = 0; i < g->th.n; i++)
            if (crossed & (UINT32_C(1) << i))
                pct = g->th.v[i];
        if (pct > new_stage) {
            struct sw_notice n = {.threshold_pct = pct};
            new_stage = pct;
            rc = fire(s, c, r, "sla.warning",
                      json_pack("{s:i, s:o}", "threshold_pct", pct, "due_at",
                                json_instant(due)), &n, now);
        }
    }
    if (rc == 0 && new_stage == 100 && g->contacts) {
        const struct sla_contacts *cs = g->contacts;
        uint32_t fired = sla_contacts_due(due + 1, cs->item, cs->n, contacts_pos(cs, levels),
                                          now);
        for (size_t i = 0; i < cs->n && rc == 0; i++) {
            if (!(fired & (UINT32_C(1) << i)))
                continue;
            const struct sla_contact *ct = &cs->item[i];
            struct sw_notice n = {.escalation_level = ct->level};
            snprintf(n.escalation_target, sizeof(n.escalation_target), "%s", ct->user);
            levels |= UINT32_C(1) << (ct->level - 1);
            rc = fire(s, c, r, "sla.escalation",
                      json_pack("{s:i, s:s, s:i}", "level", ct->level, "user", ct->user,
                                "days_after_breach", ct->days_after_breach), &n, now);
        }
    }
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_PROGRESS);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, r->tenant_id);
    SQ_TEXT(st, 2, r->id);
    sqlite3_bind_int(st, 3, new_stage);
    sqlite3_bind_int64(st, 4, new_stage == 100 ? levels : 0);
    sqlite3_bind_int64(st, 5, now);
    rc = sqlite3_step(st);
    sq_done(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, c, "due progress");
}

static int sq_process_due(struct store *base, int64_t now, int limit, int *processed)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c;
    struct due_list l = {.limit = limit, .now = now};
    struct sched_group *g = NULL;
    struct sw_finding *r = NULL;
    int rc;

    *processed = 0;
    if (limit <= 0)
        return SW_E_INVAL;
    if (!(c = sq_acquire(s)))
        return SW_E_STORE;
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    l.v = xmalloc((size_t)limit * sizeof(*l.v));
    if ((rc = walk_cells(s, c, collect_cell, &l)) < 0)
        goto fail;
    g = xcalloc(1, sizeof(*g));
    r = xmalloc(sizeof(*r));
    for (int i = 0; i < l.n && rc == 0; i++)
        rc = process_one(s, c, &l.v[i], g, r, now);
    if (rc < 0 || (rc = sq_commit(s, c)) < 0)
        goto fail;
    *processed = l.n;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    free(l.v);
    free(g);
    free(r);
    return rc;
}

const struct store_finding_ops sqlite_finding_ops = {
    .create = sq_finding_create,
    .get = sq_finding_get,
    .update = sq_finding_update,
    .list = sq_finding_list,
    .policy_chain = sq_policy_chain,
    .policy_put = sq_policy_put,
    .policy_delete = sq_policy_delete,
    .recalculate = sq_recalculate,
    .next_due = sq_next_due,
    .process_due = sq_process_due,
};
