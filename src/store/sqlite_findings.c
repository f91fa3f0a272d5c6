/* sqlite_findings.c: findings and their SLA policy levels on SQLite.
 *
 * Single-finding writes load the row and its policy levels, let the core
 * (through the caller's store_finding_fn, or sla_finding_init on create)
 * decide, and write the row back with its event, all in one IMMEDIATE
 * transaction.
 *
 * Recalculation is set-based.  The waterfall is resolved in C once per
 * group of findings that resolve alike (the scope without project policy,
 * and each project with a policy row of its own), and each group is then
 * one INSERT … SELECT of "recalculated" events (rows whose hours change,
 * i.e. whose deadline moves) and one UPDATE whose CASE on severity carries
 * the five resolved targets.  The UPDATE implements in SQL exactly what
 * the core does per finding (sla_finding_recalculate): due = created +
 * hours + paused total, the re-arm rule of sla_alarm_rearm (deadline moved
 * and still in the future → fired flags cleared; a past deadline keeps
 * them), and next_check_at as sla_next_check with the default thresholds.
 * Rows whose stored target is already right are not rewritten, so a
 * recalculation that changes nothing is a read-only index scan. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_findings.h"
#include "util/xalloc.h"

#define COLS                                                                  \
    "tenant_id, id, project_id, severity, title, state, created_at, "         \
    "COALESCE(closed_at, 0), sla_hours, sla_source, safety_net, paused_ms, "  \
    "COALESCE(paused_since, 0), COALESCE(stopped_at, 0), last_event_at, "     \
    "warn_fired, breach_fired, next_check_at, ingested_at, updated_at"

static const char SQL_GET[] = "SELECT " COLS " FROM findings WHERE tenant_id = ?1 AND id = ?2";

static const char SQL_INSERT[] =
    "INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at, "
    "closed_at, sla_hours, sla_source, safety_net, paused_ms, paused_since, stopped_at, "
    "last_event_at, due_at, warn_fired, breach_fired, next_check_at, ingested_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULLIF(?8, 0), ?9, ?10, ?11, ?12, NULLIF(?13, 0), "
    "NULLIF(?14, 0), ?15, ?16, ?17, ?18, ?19, ?20, ?21)";

static const char SQL_UPDATE[] =
    "UPDATE findings SET severity = ?4, state = ?6, closed_at = NULLIF(?8, 0), "
    "sla_hours = ?9, sla_source = ?10, safety_net = ?11, paused_ms = ?12, "
    "paused_since = NULLIF(?13, 0), stopped_at = NULLIF(?14, 0), last_event_at = ?15, "
    "due_at = ?16, warn_fired = ?17, breach_fired = ?18, next_check_at = ?19, "
    "updated_at = ?21 WHERE tenant_id = ?1 AND id = ?2";

static const char SQL_LIST[] =
    "SELECT " COLS " FROM findings WHERE tenant_id = ?1 "
    "AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR severity = ?3) "
    "AND (?4 IS NULL OR project_id = ?4) "
    "AND (?5 IS NULL OR (COALESCE(stopped_at, paused_since, ?8) > due_at) = ?5) "
    "AND id > ?6 ORDER BY id LIMIT ?7";

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

static const char SQL_POLICY_PROJECTS[] =
    "SELECT project_id FROM finding_policies WHERE tenant_id = ?1 AND project_id <> '' "
    "ORDER BY project_id";

/* ---- set-based recalculation ------------------------------------------
 * Parameters: ?1 tenant, ?2 project (project groups), ?3 now, ?4 actor,
 * ?5 the default warning percent, ?11..?15 hours, ?21..?25 source names,
 * ?31..?35 safety-net flags, for urgent..low. */

#define BY_SEV(a, b, c, d, e)                                                 \
    "(CASE severity WHEN 'urgent' THEN " a " WHEN 'critical' THEN " b         \
    " WHEN 'high' THEN " c " WHEN 'medium' THEN " d " ELSE " e " END)"
#define NEW_H BY_SEV("?11", "?12", "?13", "?14", "?15")
#define NEW_SRC BY_SEV("?21", "?22", "?23", "?24", "?25")
#define NEW_SN BY_SEV("?31", "?32", "?33", "?34", "?35")
/* due without the ongoing pause, as stored */
#define NEW_DUE "(created_at + paused_ms + " NEW_H " * 3600000)"
/* the ongoing pause up to now: live due = stored due + this */
#define ONGOING "(CASE WHEN paused_since IS NULL THEN 0 ELSE max(?3 - paused_since, 0) END)"
/* sla_alarm_rearm: moved, new deadline in the future, something fired */
#define REARM                                                                 \
    "((warn_fired | breach_fired) <> 0 AND " NEW_DUE " <> due_at "            \
    "AND " NEW_DUE " + " ONGOING " > ?3)"
/* sla_next_check with thresholds {?5}: a paused clock checks nothing; an
 * unfired warning comes before the breach (pct < 100); then the breach. */
#define NEXT_CHECK                                                            \
    "(CASE WHEN paused_since IS NOT NULL THEN NULL "                          \
    "WHEN (warn_fired & 1) = 0 OR " REARM " "                                 \
    "THEN created_at + paused_ms + (" NEW_H " * 3600000 * ?5 + 99) / 100 "    \
    "WHEN breach_fired = 0 THEN " NEW_DUE " + 1 ELSE NULL END)"

#define LIVE "state IN ('open', 'paused')"
#define SCOPE_PROJECT "tenant_id = ?1 AND project_id = ?2 AND " LIVE
/* a company's findings whose project has no policy row of its own */
#define SCOPE_COMPANY                                                         \
    "tenant_id = ?1 AND " LIVE " AND project_id NOT IN "                      \
    "(SELECT project_id FROM finding_policies WHERE tenant_id = ?1 AND project_id <> '')"

/* only the findings whose deadline moves get an event; the data is
 * concatenated (ints and enum names only), json_object() costs 2x here */
#define RECALC_EVENTS(scope)                                                  \
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) "  \
    "SELECT tenant_id, 'finding', id, 'recalculated', ?4, ?3, "               \
    "'{\"from_hours\":' || sla_hours || ',\"to_hours\":' || " NEW_H " || "    \
    "',\"from_source\":\"' || sla_source || '\",\"to_source\":\"' || " NEW_SRC " || '\"}' " \
    "FROM findings WHERE " scope " AND sla_hours <> " NEW_H

#define RECALC_UPDATE(scope)                                                  \
    "UPDATE findings SET "                                                    \
    "warn_fired = CASE WHEN " REARM " THEN 0 ELSE warn_fired END, "           \
    "breach_fired = CASE WHEN " REARM " THEN 0 ELSE breach_fired END, "       \
    "next_check_at = " NEXT_CHECK ", "                                        \
    "sla_hours = " NEW_H ", sla_source = " NEW_SRC ", safety_net = " NEW_SN ", " \
    "due_at = " NEW_DUE ", updated_at = ?3 "                                  \
    "WHERE " scope " AND (sla_hours <> " NEW_H " OR sla_source <> " NEW_SRC   \
    " OR safety_net <> " NEW_SN ")"

#define RECALC_COUNT(scope) "SELECT count(*) FROM findings WHERE " scope

static const char SQL_EV_PROJECT[] = RECALC_EVENTS(SCOPE_PROJECT);
static const char SQL_EV_COMPANY[] = RECALC_EVENTS(SCOPE_COMPANY);
static const char SQL_UP_PROJECT[] = RECALC_UPDATE(SCOPE_PROJECT);
static const char SQL_UP_COMPANY[] = RECALC_UPDATE(SCOPE_COMPANY);
static const char SQL_CNT_PROJECT[] = RECALC_COUNT(SCOPE_PROJECT);
static const char SQL_CNT_COMPANY[] = RECALC_COUNT(SCOPE_COMPANY);

/* ---- rows ------------------------------------------------------------ */

static int src_parse(const char *name, enum sla_src *out)
{
    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        const char *n = sla_src_name(SLA_FINDING, (enum sla_src)i);
        if (n && !strcmp(n, name)) {
            *out = (enum sla_src)i;
            return 0;
        }
    }
    return SW_E_INVAL;
}

static int row_finding(sqlite3_stmt *st, struct sw_finding *r)
{
    struct sla_finding *f = &r->f;
    memset(r, 0, sizeof(*r));
    sq_copy_text(r->tenant_id, sizeof(r->tenant_id), st, 0);
    sq_copy_text(r->id, sizeof(r->id), st, 1);
    sq_copy_text(r->project_id, sizeof(r->project_id), st, 2);
    sq_copy_text(r->title, sizeof(r->title), st, 4);
    if (sla_sev_parse(SLA_FINDING, (const char *)sqlite3_column_text(st, 3), &f->sev) < 0 ||
        sla_finding_state_parse((const char *)sqlite3_column_text(st, 5), &f->state) < 0 ||
        src_parse((const char *)sqlite3_column_text(st, 9), &f->target.src) < 0)
        return SW_E_STORE;
    f->created_at = sqlite3_column_int64(st, 6);
    f->closed_at = sqlite3_column_int64(st, 7);
    f->target.hours = sqlite3_column_int(st, 8);
    f->target.safety_net = sqlite3_column_int(st, 10) != 0;
    f->clock.started_at = f->created_at;
    f->clock.target_ms = (sla_ms)f->target.hours * SLA_MS_PER_HOUR;
    f->clock.paused_ms = sqlite3_column_int64(st, 11);
    f->clock.paused_since = sqlite3_column_int64(st, 12);
    f->clock.stopped_at = sqlite3_column_int64(st, 13);
    f->clock.last_event_at = sqlite3_column_int64(st, 14);
    f->alarm.fired = (uint32_t)sqlite3_column_int64(st, 15);
    f->alarm.breach_fired = sqlite3_column_int(st, 16) != 0;
    r->next_check_at = sqlite3_column_type(st, 17) == SQLITE_NULL ? SLA_NEVER
                                                                   : sqlite3_column_int64(st, 17);
    r->ingested_at = sqlite3_column_int64(st, 18);
    r->updated_at = sqlite3_column_int64(st, 19);
    return 0;
}

/* Binds the row for SQL_INSERT / SQL_UPDATE (same parameter numbers). */
static void bind_finding(sqlite3_stmt *st, const struct sw_finding *r)
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
    sqlite3_bind_int(st, 9, f->target.hours);
    SQ_TEXT(st, 10, sla_src_name(SLA_FINDING, f->target.src));
    sqlite3_bind_int(st, 11, f->target.safety_net);
    sqlite3_bind_int64(st, 12, f->clock.paused_ms);
    sqlite3_bind_int64(st, 13, f->clock.paused_since);
    sqlite3_bind_int64(st, 14, f->clock.stopped_at);
    sqlite3_bind_int64(st, 15, f->clock.last_event_at);
    /* the stored due excludes an ongoing pause (see the schema) */
    sqlite3_bind_int64(st, 16, f->clock.started_at + f->clock.target_ms + f->clock.paused_ms);
    sqlite3_bind_int64(st, 17, f->alarm.fired);
    sqlite3_bind_int(st, 18, f->alarm.breach_fired);
    if (r->next_check_at == SLA_NEVER)
        sqlite3_bind_null(st, 19);
    else
        sqlite3_bind_int64(st, 19, r->next_check_at);
    sqlite3_bind_int64(st, 20, r->ingested_at);
    sqlite3_bind_int64(st, 21, r->updated_at);
}

static void schedule(struct sw_finding *r, int64_t now)
{
    const struct sla_finding *f = &r->f;
    r->next_check_at = sla_next_check(&f->clock, sla_thresholds_default, 1, f->alarm.fired,
                                      f->alarm.breach_fired, now);
    r->updated_at = now;
}

/* 0 when the query with text parameters a (and b) returns a row,
 * SW_E_NOTFOUND when not. */
static int exists(struct sqlite_store *s, struct conn *c, const char *sql, const char *a,
                  const char *b)
{
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
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

static int get_row(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                   const char *id, struct sw_finding *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = row_finding(st, out) < 0 ? sq_fail(s, c, "finding row") : 0;
    else
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "finding_get");
    sq_done(st);
    return rc;
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

/* ---- recalculation --------------------------------------------------- */

/* One group: findings that resolve through the same levels.  project_id
 * NULL = the company's findings outside projects with their own policy. */
static int recalc_group(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id, const struct sla_finding_scopes *scopes,
                        int64_t now, const char *actor, int64_t *count)
{
    struct sla_finding_target t[SLA_SEV_COUNT];
    for (int i = 0; i < SLA_SEV_COUNT; i++)
        if (sla_finding_policy_resolve(scopes, (enum sla_sev)i, &t[i]) < 0)
            return SW_E_INVAL;

    const char *sqls[3] = {
        project_id ? SQL_EV_PROJECT : SQL_EV_COMPANY,
        project_id ? SQL_UP_PROJECT : SQL_UP_COMPANY,
        project_id ? SQL_CNT_PROJECT : SQL_CNT_COMPANY,
    };
    for (int k = 0; k < 3; k++) {
        sqlite3_stmt *st = sq_stmt(s, c, sqls[k]);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, tenant_id);
        if (project_id)
            SQ_TEXT(st, 2, project_id);
        int np = sqlite3_bind_parameter_count(st);
        if (np >= 3)
            sqlite3_bind_int64(st, 3, now);
        if (np >= 4)
            SQ_TEXT(st, 4, actor);
        if (np >= 5)
            sqlite3_bind_int(st, 5, sla_thresholds_default[0]);
        for (int i = 0; i < SLA_SEV_COUNT && np >= 11; i++) {
            sqlite3_bind_int(st, 11 + i, t[i].hours);
            SQ_TEXT(st, 21 + i, sla_src_name(SLA_FINDING, t[i].src));
            sqlite3_bind_int(st, 31 + i, t[i].safety_net);
        }
        int rc = sqlite3_step(st);
        if (k == 2 && rc == SQLITE_ROW) {
            *count += sqlite3_column_int64(st, 0);
            rc = SQLITE_DONE;
        }
        sq_done(st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, c, k == 0 ? "recalc events" : k == 1 ? "recalc" : "recalc count");
    }
    return 0;
}

static void layer_of(const struct sw_finding_policy *p, bool has, struct sla_finding_layer *l,
                     const struct sla_finding_layer **ptr)
{
    for (int i = 0; i < SLA_SEV_COUNT; i++)
        l->hours[i] = has && p->hours_set[i] ? p->hours[i] : 0;
    *ptr = has ? l : NULL;
}

/* Recalculates a company (project_id "") or a project, inside the caller's
 * transaction.  Terminal findings are outside every group's WHERE. */
static int recalc_scope(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *project_id, int64_t now, const char *actor, int64_t *count)
{
    struct sw_finding_policy pol;
    struct sla_finding_layer lg, lc, lp;
    struct sla_finding_scopes sc = {0};
    bool has;
    char **projects = NULL;
    size_t np = 0, cap = 0;
    int rc;

    *count = 0;
    /* A big UPDATE spills a small page cache to the WAL mid-transaction,
     * writing pages twice: give this connection room while it runs. */
    sqlite3_exec(c->db, "PRAGMA cache_size = -1048576", NULL, NULL, NULL);

    if ((rc = load_policy(s, c, "", "", &pol, &has)) < 0)
        goto out;
    layer_of(&pol, has, &lg, &sc.global);
    if ((rc = load_policy(s, c, tenant_id, "", &pol, &has)) < 0)
        goto out;
    layer_of(&pol, has, &lc, &sc.company);

    if (*project_id) {
        if ((rc = load_policy(s, c, tenant_id, project_id, &pol, &has)) < 0)
            goto out;
        layer_of(&pol, has, &lp, &sc.project);
        rc = recalc_group(s, c, tenant_id, project_id, &sc, now, actor, count);
        goto out;
    }

    /* the company: first each project that speaks for itself ... */
    sqlite3_stmt *st = sq_stmt(s, c, SQL_POLICY_PROJECTS);
    if (!st) {
        rc = SW_E_STORE;
        goto out;
    }
    SQ_TEXT(st, 1, tenant_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (np == cap) {
            cap = cap ? cap * 2 : 8;
            projects = xrealloc(projects, cap * sizeof(*projects));
        }
        projects[np++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sq_done(st);
    if (rc != SQLITE_DONE) {
        rc = sq_fail(s, c, "policy projects");
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++) {
        struct sla_finding_scopes ps = sc;
        if ((rc = load_policy(s, c, tenant_id, projects[i], &pol, &has)) < 0)
            break;
        layer_of(&pol, has, &lp, &ps.project);
        rc = recalc_group(s, c, tenant_id, projects[i], &ps, now, actor, count);
    }
    /* ... then everything else in one go */
    if (rc == 0)
        rc = recalc_group(s, c, tenant_id, NULL, &sc, now, actor, count);
out:
    for (size_t i = 0; i < np; i++)
        free(projects[i]);
    free(projects);
    sqlite3_exec(c->db, "PRAGMA cache_size = -2000", NULL, NULL, NULL);
    return rc;
}

/* ---- the ops --------------------------------------------------------- */

static int sq_finding_create(struct store *base, const struct sw_finding_new *in, int64_t now,
                             const char *actor, struct sw_finding *out, bool *created)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    struct sw_policy_chain chain;
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    struct sw_finding r;
    const char *project = in->project_id ? in->project_id : "";
    int rc;

    if (!c)
        return SW_E_STORE;
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    rc = get_row(s, c, in->tenant_id, in->id, &r);
    if (rc == 0) {                      /* already tracked: idempotent */
        sq_rollback(s, c);
        *out = r;
        *created = false;
        goto done;
    }
    if (rc != SW_E_NOTFOUND)
        goto fail;
    if ((rc = scope_exists(s, c, in->tenant_id, project)) < 0 ||
        (rc = load_chain(s, c, in->tenant_id, project, &chain)) < 0)
        goto fail;
    sw_policy_chain_scopes(&chain, layers, &scopes);

    memset(&r, 0, sizeof(r));
    snprintf(r.tenant_id, sizeof(r.tenant_id), "%s", in->tenant_id);
    snprintf(r.id, sizeof(r.id), "%s", in->id);
    snprintf(r.project_id, sizeof(r.project_id), "%s", project);
    snprintf(r.title, sizeof(r.title), "%s", in->title ? in->title : "");
    if ((rc = sla_finding_init(&r.f, in->sev, in->discovered_at, &scopes)) < 0)
        goto fail;
    r.ingested_at = now;
    schedule(&r, now);

    sqlite3_stmt *st = sq_stmt(s, c, SQL_INSERT);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    bind_finding(st, &r);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        goto fail;

    char data[64];
    snprintf(data, sizeof(data), "{\"severity\":\"%s\",\"sla_hours\":%d}",
             sla_sev_name(r.f.sev), (int)r.f.target.hours);
    struct sw_event e = {.at = in->discovered_at, .data = data};
    snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", r.tenant_id);
    snprintf(e.item_kind, sizeof(e.item_kind), "finding");
    snprintf(e.item_id, sizeof(e.item_id), "%s", r.id);
    snprintf(e.type, sizeof(e.type), "created");
    snprintf(e.actor, sizeof(e.actor), "%s", actor ? actor : "");
    if ((rc = sq_event_add(s, c, &e)) < 0 || (rc = sq_commit(s, c)) < 0)
        goto fail;
    *out = r;
    *created = true;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    return rc;
}

static int sq_finding_get(struct store *base, const char *tenant_id, const char *id,
                          struct sw_finding *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = get_row(s, c, tenant_id, id, out);
    sq_release(s, c);
    return rc;
}

static int sq_finding_update(struct store *base, const char *tenant_id, const char *id,
                             int64_t now, const char *actor, store_finding_fn fn, void *ud,
                             struct sw_finding *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    struct sw_policy_chain chain;
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    struct sw_finding r;
    struct sw_finding_event ev;
    int rc;

    if (!c)
        return SW_E_STORE;
    if ((rc = sq_begin(s, c)) < 0)
        goto done;
    if ((rc = get_row(s, c, tenant_id, id, &r)) < 0 ||
        (rc = load_chain(s, c, tenant_id, r.project_id, &chain)) < 0)
        goto fail;
    sw_policy_chain_scopes(&chain, layers, &scopes);
    memset(&ev, 0, sizeof(ev));
    if ((rc = fn(&r, &scopes, ud, &ev)) < 0)
        goto fail;
    schedule(&r, now);

    sqlite3_stmt *st = sq_stmt(s, c, SQL_UPDATE);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    bind_finding(st, &r);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        goto fail;
    if (ev.type[0]) {
        struct sw_event e = {.at = ev.at ? ev.at : now, .data = ev.data};
        snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", tenant_id);
        snprintf(e.item_kind, sizeof(e.item_kind), "finding");
        snprintf(e.item_id, sizeof(e.item_id), "%s", id);
        snprintf(e.type, sizeof(e.type), "%s", ev.type);
        snprintf(e.actor, sizeof(e.actor), "%s", actor ? actor : "");
        if ((rc = sq_event_add(s, c, &e)) < 0)
            goto fail;
    }
    if ((rc = sq_commit(s, c)) < 0)
        goto fail;
    *out = r;
    goto done;
fail:
    sq_rollback(s, c);
done:
    sq_release(s, c);
    return rc;
}

static int sq_finding_list(struct store *base, const struct sw_finding_filter *fl,
                           store_finding_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_LIST);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
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
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (row_finding(st, r) < 0) {
            rc = SQLITE_ERROR;
            break;
        }
        if (cb(r, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "finding_list");
    free(r);
    sq_done(st);
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
    if (*tenant_id && (rc = recalc_scope(s, c, tenant_id, project_id, now, actor, &n)) < 0)
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
        (rc = recalc_scope(s, c, tenant_id, project_id, now, actor, &n)) < 0 ||
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

const struct store_finding_ops sqlite_finding_ops = {
    .create = sq_finding_create,
    .get = sq_finding_get,
    .update = sq_finding_update,
    .list = sq_finding_list,
    .policy_chain = sq_policy_chain,
    .policy_put = sq_policy_put,
    .policy_delete = sq_policy_delete,
    .recalculate = sq_recalculate,
};
