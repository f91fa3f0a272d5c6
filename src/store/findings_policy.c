/* findings_policy.c: the stored levels of the findings' policy waterfall
 * (finding_policies), the groups' resolved targets (finding_targets) and
 * recalculation (store_findings.h).
 *
 * A group (tenant, project) has one target row per severity: a snapshot of
 * the waterfall taken when its scope was last recalculated or when its
 * first finding arrived.  Live findings read their deadline through it, so
 * recalculating a scope rewrites a handful of target rows, re-arms by one
 * UPDATE per moved (group, severity) the findings with something fired
 * whose deadline moved into the future, and counts the scope's live
 * findings over an index: set-based, never a loop over findings in C (a
 * company with a million open findings recalculates in a fraction of a
 * second).  No per-finding event: a recalculation is one action, recorded
 * once by the caller.
 *
 * Several nodes.  A policy write or a recalculation reads the scope's
 * levels and target rows to rewrite the target rows: it locks them first
 * (target rows, then its own policy row by writing it, then the tenant's
 * other levels it reads), always in that order, so two writers on
 * overlapping scopes (a project and its company, say) run one after the
 * other and the second sees what the first committed.  The global level is
 * read without a lock: a global change reaches a company only through its
 * recalculate endpoint anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/findings_int.h"
#include "store/store_proof.h"
#include "store/store_calendars.h"
#include "util/xalloc.h"

#define LIVE "state IN ('open', 'paused')"
#define POLICY_COLS                                                           \
    "SELECT urgent_hours, critical_hours, high_hours, medium_hours, low_hours, " \
    "contact1_user, contact1_days, contact2_user, contact2_days, contact3_user, " \
    "contact3_days, updated_at, updated_by FROM finding_policies "           \
    "WHERE tenant_id = ?1 AND project_id = ?2"

static const char SQL_POLICY_GET[] = POLICY_COLS;
static const char SQL_POLICY_GET_LOCK[] = POLICY_COLS " {FOR_UPDATE}";

static const char SQL_POLICY_PUT[] =
    "INSERT INTO finding_policies (tenant_id, project_id, urgent_hours, "
    "critical_hours, high_hours, medium_hours, low_hours, contact1_user, contact1_days, "
    "contact2_user, contact2_days, contact3_user, contact3_days, updated_at, updated_by) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT (tenant_id, project_id) DO UPDATE SET "
    "urgent_hours = excluded.urgent_hours, critical_hours = excluded.critical_hours, "
    "high_hours = excluded.high_hours, medium_hours = excluded.medium_hours, "
    "low_hours = excluded.low_hours, contact1_user = excluded.contact1_user, "
    "contact1_days = excluded.contact1_days, contact2_user = excluded.contact2_user, "
    "contact2_days = excluded.contact2_days, contact3_user = excluded.contact3_user, "
    "contact3_days = excluded.contact3_days, updated_at = excluded.updated_at, "
    "updated_by = excluded.updated_by";

static const char SQL_POLICY_DELETE[] =
    "DELETE FROM finding_policies WHERE tenant_id = ?1 AND project_id = ?2";

/* ---- targets ----------------------------------------------------------------- */

static const char SQL_TARGETS_GET[] =
    "SELECT severity, hours, source, safety_net, COALESCE(calendar, ''), calendar_source "
    "FROM finding_targets "
    "WHERE tenant_id = ?1 AND project_id = ?2";

static const char SQL_TARGET_PUT[] =
    "INSERT INTO finding_targets (tenant_id, project_id, severity, hours, source, "
    "safety_net, updated_at, calendar, calendar_source) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULLIF(?8, ''), ?9) "
    "ON CONFLICT (tenant_id, project_id, severity) DO UPDATE SET hours = excluded.hours, "
    "source = excluded.source, safety_net = excluded.safety_net, "
    "updated_at = excluded.updated_at, calendar = excluded.calendar, "
    "calendar_source = excluded.calendar_source";

static const char SQL_TARGET_ADD[] =
    "INSERT INTO finding_targets (tenant_id, project_id, severity, hours, source, "
    "safety_net, updated_at, calendar, calendar_source) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULLIF(?8, ''), ?9) "
    "ON CONFLICT (tenant_id, project_id, severity) DO NOTHING";

/* a policy naming a calendar holds the tenant row shared: a calendar is
 * deleted under the row locked for update, so it is either still there
 * for this write or already named by it (409) */
static const char SQL_TENANT_SHARE[] = "SELECT id FROM tenants WHERE id = ?1 {FOR_SHARE}";
/* the groups on a calendar (a calendar saved: recalculate them) */
static const char SQL_CAL_GROUPS[] =
    "SELECT project_id, severity, hours FROM finding_targets "
    "WHERE tenant_id = ?1 AND calendar = ?2 ORDER BY project_id, severity {FOR_UPDATE}";

/* The scope's target rows, locked (a company's also name its groups). */
static const char SQL_TARGETS_LOCK_COMPANY[] =
    "SELECT project_id FROM finding_targets WHERE tenant_id = ?1 "
    "ORDER BY project_id, severity {FOR_UPDATE}";
static const char SQL_TARGETS_LOCK_PROJECT[] =
    "SELECT severity FROM finding_targets WHERE tenant_id = ?1 AND project_id = ?2 "
    "ORDER BY severity {FOR_UPDATE}";

/* ---- recalculation ------------------------------------------------------------ */

/* Groups of a company with live findings: one index seek per project,
 * never a scan. */
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
    "UPDATE findings {INDEXED_BY findings_fired} SET stage = 0, contacts_fired = 0, "
    "updated_at = ?5 "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE
    " AND (stage <> 0 OR contacts_fired <> 0) "
    "AND clock_base + ?4 + (CASE WHEN paused_since IS NULL THEN 0 "
    "ELSE {GREATEST}(?5 - paused_since, 0) END) > ?5";

/* A dry run of one moved (group, severity) (store_proof.h): its live
 * findings, those breached at once (the old deadline not past, the new
 * one past; deadline = base + target + the ongoing pause, as SQL_REARM),
 * and those SQL_REARM would re-arm.  ?4 new target ms, ?5 now, ?6 old.
 * Each count reads an index that has the group's severity (a count over
 * findings_live would visit every row for it: 1.8 s for 1 M findings):
 * running findings by clock base (findings_open_base: breached at once
 * is a range of it), paused ones (few) by state, fired ones by
 * findings_fired. */
#define DEADLINE(X)                                                           \
    "(clock_base + " X " + (CASE WHEN paused_since IS NULL THEN 0 "           \
    "ELSE {GREATEST}(?5 - paused_since, 0) END))"
static const char SQL_DRY_OPEN[] =
    "SELECT count(*), COALESCE(sum(CASE WHEN clock_base >= ?5 - ?6 AND clock_base < ?5 - ?4 "
    "THEN 1 ELSE 0 END), 0) FROM findings {INDEXED_BY findings_open_base} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND state = 'open'";
static const char SQL_DRY_PAUSED[] =
    "SELECT count(*), "
    "COALESCE(sum(CASE WHEN " DEADLINE("?6") " >= ?5 AND " DEADLINE("?4") " < ?5 "
    "THEN 1 ELSE 0 END), 0) "
    "FROM findings {INDEXED_BY findings_live} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND " LIVE " AND state = 'paused' "
    "AND severity = ?3";
static const char SQL_DRY_FIRED[] =
    "SELECT count(*) FROM findings {INDEXED_BY findings_fired} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE " "
    "AND (stage <> 0 OR contacts_fired <> 0) AND " DEADLINE("?4") " > ?5";

/* over findings_live alone: without statistics SQLite's planner would walk
 * the table's primary key instead */
static const char SQL_COUNT_COMPANY[] =
    "SELECT count(*) FROM findings {INDEXED_BY findings_live} WHERE tenant_id = ?1 AND " LIVE;
static const char SQL_COUNT_PROJECT[] =
    "SELECT count(*) FROM findings {INDEXED_BY findings_live} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND " LIVE;

/* ---- policy rows --------------------------------------------------------------- */

/* *found = false (and p cleared but for its keys) when the scope has no row. */
static int load_policy(struct db_conn *c, const char *tenant_id, const char *project_id,
                       bool lock, struct sw_finding_policy *p, bool *found)
{
    struct db_stmt *st;
    memset(p, 0, sizeof(*p));
    snprintf(p->tenant_id, sizeof(p->tenant_id), "%s", tenant_id);
    snprintf(p->project_id, sizeof(p->project_id), "%s", project_id);
    *found = false;
    int rc = store_policy_calendars_in(c, tenant_id, project_id, "finding", p->calendars);
    if (rc < 0 || (rc = db_prep(c, lock ? SQL_POLICY_GET_LOCK : SQL_POLICY_GET, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    if ((rc = db_step_one(st)) <= 0)
        return rc;
    *found = true;
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        p->hours_set[i] = !db_col_null(st, i);
        p->hours[i] = (int32_t)db_col_int64(st, i);
    }
    for (int l = 0; l < SLA_CONTACTS_MAX; l++) {
        int col = 5 + 2 * l;
        if (db_col_null(st, col))
            continue;
        struct sw_contact *ct = &p->contacts[p->ncontacts++];
        ct->level = l + 1;
        db_col_copy(st, col, ct->user, sizeof(ct->user));
        ct->days_after_breach = db_col_int(st, col + 1);
    }
    p->updated_at = db_col_int64(st, 11);
    db_col_copy(st, 12, p->updated_by, sizeof(p->updated_by));
    db_reset(st);
    return 0;
}

int findings_chain_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                      bool lock, struct sw_policy_chain *out)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (*tenant_id && *project_id)
        rc = load_policy(c, tenant_id, project_id, lock, &out->level[SW_POL_PROJECT],
                         &out->has[SW_POL_PROJECT]);
    if (rc == 0 && *tenant_id)
        rc = load_policy(c, tenant_id, "", lock, &out->level[SW_POL_COMPANY],
                         &out->has[SW_POL_COMPANY]);
    if (rc == 0)
        rc = load_policy(c, "", "", false, &out->level[SW_POL_GLOBAL], &out->has[SW_POL_GLOBAL]);
    return rc;
}

/* ---- group targets --------------------------------------------------------------- */

static int load_group(struct db_conn *c, const char *tenant_id, const char *project_id,
                      struct group_targets *g)
{
    struct db_stmt *st;
    memset(g, 0, sizeof(*g));
    int rc = db_prep(c, SQL_TARGETS_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    while ((rc = db_step(st)) == DB_ROW) {
        enum sla_sev sev;
        struct sla_finding_target t = {0};
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 0), &sev) < 0 ||
            findings_src_parse(db_col_text(st, 2), &t.src) < 0) {
            rc = SW_E_STORE;
            break;
        }
        t.hours = db_col_int(st, 1);
        t.safety_net = db_col_int64(st, 3) != 0;
        g->t[sev] = t;
        g->have[sev] = true;
        db_col_copy(st, 4, g->cal[sev], sizeof(g->cal[sev]));
        db_col_copy(st, 5, g->cal_src[sev], sizeof(g->cal_src[sev]));
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

/* Writes one target row with sql (SQL_TARGET_PUT or SQL_TARGET_ADD);
 * *written (optional) = whether a row changed. */
static int put_target(struct db_conn *c, const char *sql, const char *tenant_id,
                      const char *project_id, enum sla_sev sev,
                      const struct sla_finding_target *t, const char *cal, const char *cal_src,
                      int64_t now, bool *written)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    db_bind_text(st, 3, sla_sev_name(sev));
    db_bind_int64(st, 4, t->hours);
    db_bind_text(st, 5, sla_src_name(SLA_FINDING, t->src));
    db_bind_int64(st, 6, t->safety_net ? 1 : 0);
    db_bind_int64(st, 7, now);
    db_bind_text(st, 8, cal);
    db_bind_text(st, 9, cal_src);
    rc = db_exec(st);
    if (rc == 0 && written)
        *written = db_changes(st) > 0;
    return rc;
}

int findings_group_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                      int64_t now, struct group_targets *g)
{
    int rc = load_group(c, tenant_id, project_id, g);
    bool complete = true;
    for (int i = 0; i < SLA_SEV_COUNT; i++)
        complete = complete && g->have[i];
    if (rc < 0 || complete)
        return rc;

    struct sw_policy_chain *chain = xmalloc(sizeof(*chain));
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    bool raced = false;
    if ((rc = findings_chain_in(c, tenant_id, project_id, false, chain)) < 0)
        goto cleanup;
    sw_policy_chain_scopes(chain, layers, &scopes);
    for (int i = 0; i < SLA_SEV_COUNT && rc == 0; i++) {
        struct sla_finding_target t;
        bool written = false;
        if (g->have[i])
            continue;
        if ((rc = sla_finding_policy_resolve(&scopes, (enum sla_sev)i, &t)) < 0)
            break;
        const char *src;
        findings_chain_calendar(chain, (enum sla_sev)i, g->cal[i], &src);
        snprintf(g->cal_src[i], sizeof(g->cal_src[i]), "%s", src);
        rc = put_target(c, SQL_TARGET_ADD, tenant_id, project_id, (enum sla_sev)i, &t, g->cal[i],
                        src, now, &written);
        raced = raced || !written;
        g->t[i] = t;
        g->have[i] = true;
    }
    /* another node wrote the group's first rows a moment ago: theirs stand */
    if (rc == 0 && raced)
        rc = load_group(c, tenant_id, project_id, g);
cleanup:
    free(chain);
    return rc;
}

void findings_group_scopes(const struct group_targets *g, struct sla_finding_layer layers[3],
                           struct sla_finding_scopes *out)
{
    /* each value sits at the level it came from, so the core's lifecycle
     * functions (init, set_severity) compute what the group says */
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

void findings_follow_group(struct sw_finding *r, const struct group_targets *g, int64_t now)
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

const struct sla_contacts *findings_chain_contacts(const struct sw_policy_chain *ch,
                                                   struct sla_contacts lv[3])
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
    return sla_contacts_inherit(&lv[SW_POL_PROJECT], &lv[SW_POL_COMPANY], &lv[SW_POL_GLOBAL],
                                NULL);
}

uint32_t findings_contacts_pos(const struct sla_contacts *cs, uint32_t levels)
{
    uint32_t m = 0;
    for (size_t i = 0; cs && i < cs->n; i++)
        if (levels & (UINT32_C(1) << (cs->item[i].level - 1)))
            m |= UINT32_C(1) << i;
    return m;
}

/* ---- recalculation ---------------------------------------------------------------- */

struct strv {
    char **v;
    size_t n, cap;
};

static void strv_add(struct strv *a, const char *s)
{
    for (size_t i = a->n; i > 0; i--)      /* newest first: lists come sorted */
        if (!strcmp(a->v[i - 1], s))
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

/* Locks the scope's target rows and names its groups: a project is its
 * own; a company's are those with target rows or with live findings. */
static int scope_lock(struct db_conn *c, const char *tenant_id, const char *project_id,
                      struct strv *groups)
{
    struct db_stmt *st;
    int rc;
    if (*project_id) {
        if ((rc = db_prep(c, SQL_TARGETS_LOCK_PROJECT, &st)) < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);
        if ((rc = db_exec(st)) < 0)
            return rc;
        strv_add(groups, project_id);
        return 0;
    }
    if ((rc = db_prep(c, SQL_TARGETS_LOCK_COMPANY, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    while ((rc = db_step(st)) == DB_ROW)
        strv_add(groups, db_col_text(st, 0));
    db_reset(st);
    if (rc < 0 || (rc = db_prep(c, SQL_LIVE_GROUP_NONE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    if ((rc = db_step_one(st)) < 0)
        return rc;
    if (rc == 1) {
        db_reset(st);
        strv_add(groups, "");
    }
    char last[SW_ID_MAX + 1] = "";
    for (;;) {
        if ((rc = db_prep(c, SQL_LIVE_GROUP_NEXT, &st)) < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, last);
        if ((rc = db_step_one(st)) <= 0)
            return rc;
        db_col_copy(st, 0, last, sizeof(last));
        db_reset(st);
        strv_add(groups, last);
    }
}

/* Re-resolves one group's targets with the policy as it stands; where a
 * severity's hours change, re-arms its fired findings.  *moved: some
 * deadline of the group moved. */
static int dry_group(struct db_conn *c, const char *tenant_id, const char *project_id,
                     enum sla_sev sev, int32_t was_hours, int32_t hours, int64_t now,
                     struct sw_dry_run *dry)
{
    const char *const sql[3] = {SQL_DRY_OPEN, SQL_DRY_PAUSED, SQL_DRY_FIRED};
    int64_t n = 0, newly = 0;
    for (int k = 0; k < 3; k++) {
        struct db_stmt *st;
        int rc = db_prep(c, sql[k], &st);
        if (rc < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);
        db_bind_text(st, 3, sla_sev_name(sev));
        db_bind_int64(st, 4, (sla_ms)hours * SLA_MS_PER_HOUR);
        db_bind_int64(st, 5, now);
        if (k < 2)      /* the old deadline: breached at once */
            db_bind_int64(st, 6, (sla_ms)was_hours * SLA_MS_PER_HOUR);
        if ((rc = db_step_one(st)) <= 0)
            return rc < 0 ? rc : SW_E_STORE;
        if (k < 2) {
            n += db_col_int64(st, 0);
            newly += db_col_int64(st, 1);
        } else {
            dry->rearmed += db_col_int64(st, 0);
        }
        db_reset(st);
    }
    *(hours < was_hours ? &dry->earlier : &dry->later) += n;
    dry->new_breaches += newly;
    return 0;
}

static int recalc_group(struct db_conn *c, const char *tenant_id, const char *project_id,
                        const struct sw_policy_chain *chain, int64_t now, bool *moved,
                        struct sw_dry_run *dry)
{
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    struct group_targets old;
    int rc = load_group(c, tenant_id, project_id, &old);
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
        char cal[SW_ID_MAX + 1];
        const char *cal_src;
        findings_chain_calendar(chain, sev, cal, &cal_src);
        bool cal_same = !strcmp(cal, old.cal[i]);
        if (old.have[i] && was.hours == t.hours && was.src == t.src &&
            was.safety_net == t.safety_net && cal_same && !strcmp(cal_src, old.cal_src[i]))
            continue;
        if ((rc = put_target(c, SQL_TARGET_PUT, tenant_id, project_id, sev, &t, cal, cal_src,
                             now, NULL)) < 0)
            return rc;
        if (was.hours == t.hours && cal_same)
            continue;
        *moved = true;
        if (dry && !*cal && !*old.cal[i]) {
            if ((rc = dry_group(c, tenant_id, project_id, sev, was.hours, t.hours, now,
                                dry)) < 0)
                return rc;
            continue;
        }
        if (*cal || *old.cal[i]) {
            /* business time is not an SQL expression: the fired ones in C */
            const struct sla_cal *oc = NULL, *nc = NULL;
            if (((rc = store_calendar_in(c, NULL, tenant_id, old.cal[i], &oc)) < 0 &&
                 rc != SW_E_NOTFOUND) ||
                ((rc = store_calendar_in(c, NULL, tenant_id, cal, &nc)) < 0 &&
                 rc != SW_E_NOTFOUND) ||
                (rc = dry ? findings_dry_calendar_in(c, tenant_id, project_id, sev, oc,
                                                     (sla_ms)was.hours * SLA_MS_PER_HOUR, nc,
                                                     (sla_ms)t.hours * SLA_MS_PER_HOUR, now,
                                                     dry, &(int64_t){0})
                          : findings_rearm_calendar_in(c, tenant_id, project_id, sev, oc,
                                                       (sla_ms)was.hours * SLA_MS_PER_HOUR, nc,
                                                       (sla_ms)t.hours * SLA_MS_PER_HOUR, now,
                                                       NULL)) < 0)
                return rc;
            continue;
        }
        struct db_stmt *st;
        if ((rc = db_prep(c, SQL_REARM, &st)) < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);
        db_bind_text(st, 3, sla_sev_name(sev));
        db_bind_int64(st, 4, (sla_ms)t.hours * SLA_MS_PER_HOUR);
        db_bind_int64(st, 5, now);
        if ((rc = db_exec(st)) < 0)
            return rc;
    }
    return 0;
}

/* Recalculates the groups scope_lock named (a project without a policy of
 * its own gets the company's values and sources); *count = the scope's
 * live findings. */
static int recalc_scope(struct db_conn *c, const char *tenant_id, const char *project_id,
                        const struct strv *groups, int64_t now, int64_t *count,
                        struct sw_dry_run *dry)
{
    struct sw_policy_chain *chain = xmalloc(sizeof(*chain));
    bool moved = false;
    int rc = 0;
    for (size_t i = 0; i < groups->n && rc == 0; i++) {
        if ((rc = findings_chain_in(c, tenant_id, groups->v[i], true, chain)) == 0)
            rc = recalc_group(c, tenant_id, groups->v[i], chain, now, &moved, dry);
    }
    free(chain);
    struct db_stmt *st;
    if (rc < 0 || (rc = db_prep(c, *project_id ? SQL_COUNT_PROJECT : SQL_COUNT_COMPANY, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    if (*project_id)
        db_bind_text(st, 2, project_id);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_STORE;
    *count = db_col_int64(st, 0);
    db_reset(st);
    /* a deadline may have come closer, or been re-armed to fire now */
    return moved ? store_hint_in(c, now, now) : 0;
}

/* A dry run's transaction ends with this: everything it wrote is rolled back. */
#define DRY_RUN_DONE SW_E_EXHAUSTED

/* ---- the ops --------------------------------------------------------------------- */

struct chain_ctx {
    const char *tenant_id, *project_id;
    struct sw_policy_chain *out;
};

static int chain_tx(struct db_conn *c, void *ud)
{
    struct chain_ctx *x = ud;
    int rc = findings_scope_exists_in(c, x->tenant_id, x->project_id);
    return rc < 0 ? rc : findings_chain_in(c, x->tenant_id, x->project_id, false, x->out);
}

int findings_policy_chain(struct store *base, const char *tenant_id, const char *project_id,
                          struct sw_policy_chain *out)
{
    /* one snapshot: the levels as of one instant */
    struct chain_ctx x = {.tenant_id = tenant_id, .project_id = project_id, .out = out};
    return findings_read(sql_of(base), chain_tx, &x);
}

static void bind_policy(struct db_stmt *st, const struct sw_finding_policy *p, int64_t now,
                        const char *actor)
{
    db_bind_text(st, 1, p->tenant_id);
    db_bind_text(st, 2, p->project_id);
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        if (p->hours_set[i])
            db_bind_int64(st, 3 + i, p->hours[i]);
        else
            db_bind_null(st, 3 + i);
    }
    for (int l = 0; l < SLA_CONTACTS_MAX; l++) {
        db_bind_null(st, 8 + 2 * l);
        db_bind_null(st, 9 + 2 * l);
    }
    for (size_t i = 0; i < p->ncontacts && i < SLA_CONTACTS_MAX; i++) {
        const struct sw_contact *ct = &p->contacts[i];
        if (ct->level < 1 || ct->level > SLA_CONTACTS_MAX)
            continue;
        db_bind_text(st, 8 + 2 * (ct->level - 1), ct->user);
        db_bind_int64(st, 9 + 2 * (ct->level - 1), ct->days_after_breach);
    }
    db_bind_int64(st, 14, now);
    db_bind_text(st, 15, actor ? actor : "");
}

/* A policy write (put: p; delete: p NULL, keys in tenant_id, project_id)
 * or a recalculation alone (recalc_only). */
struct policy_ctx {
    const char *tenant_id, *project_id;
    const struct sw_finding_policy *p;
    bool recalc_only;
    struct sw_dry_run *dry;             /* non-NULL: computed, rolled back */
    int64_t now;
    const char *actor;
    int64_t count;
};

/* The scope's calendars as p names them (delete: none).  A calendar id
 * must be the tenant's; the global level names none (calendars belong to
 * a tenant). */
static int calendars_write(struct db_conn *c, struct policy_ctx *x)
{
    bool set[SLA_SEV_COUNT];
    char val[SLA_SEV_COUNT][SW_ID_MAX + 1];
    bool named = false;
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        set[i] = true;
        snprintf(val[i], sizeof(val[i]), "%s", x->p ? x->p->calendars[i] : "");
        named = named || (*val[i] && strcmp(val[i], SW_CAL_24X7));
    }
    int rc = 0;
    if (named) {
        struct db_stmt *st;
        if (!*x->tenant_id)
            return SW_E_INVAL;
        if ((rc = db_prep(c, SQL_TENANT_SHARE, &st)) < 0)
            return rc;
        db_bind_text(st, 1, x->tenant_id);
        if ((rc = db_step_one(st)) <= 0)
            return rc < 0 ? rc : SW_E_NOTFOUND;
        db_reset(st);
        for (int i = 0; i < SLA_SEV_COUNT; i++) {
            const struct sla_cal *cal;
            if (!*val[i] || !strcmp(val[i], SW_CAL_24X7))
                continue;
            rc = store_calendar_in(c, NULL, x->tenant_id, val[i], &cal);
            if (rc < 0)
                return rc == SW_E_NOTFOUND ? SW_E_INVAL : rc;
        }
    }
    return store_policy_calendars_put_in(c, x->tenant_id, x->project_id, "finding", set, val,
                                         x->now);
}

static int policy_tx(struct db_conn *c, void *ud)
{
    struct policy_ctx *x = ud;
    struct strv groups = {0};
    struct db_stmt *st;
    x->count = 0;
    if (x->dry)
        memset(x->dry, 0, sizeof(*x->dry));     /* a retried run counts afresh */
    int rc = findings_scope_exists_in(c, x->tenant_id, x->project_id);
    if (rc < 0)
        return rc;
    /* the target rows first: the order every writer of the scope locks in */
    if (*x->tenant_id && (rc = scope_lock(c, x->tenant_id, x->project_id, &groups)) < 0)
        goto cleanup;
    if (!x->recalc_only) {
        if ((rc = db_prep(c, x->p ? SQL_POLICY_PUT : SQL_POLICY_DELETE, &st)) < 0)
            goto cleanup;
        if (x->p) {
            bind_policy(st, x->p, x->now, x->actor);
        } else {
            db_bind_text(st, 1, x->tenant_id);
            db_bind_text(st, 2, x->project_id);
        }
        if ((rc = db_exec(st)) < 0 || (rc = calendars_write(c, x)) < 0)
            goto cleanup;
        /* the new version of the scope, with the change (history.c) */
        if ((rc = store_history_record_in(c, SW_HISTORY_FINDING_POLICY, x->tenant_id,
                                          x->project_id, x->now, x->actor,
                                          x->p ? "update" : "delete")) < 0)
            goto cleanup;
    }
    if (*x->tenant_id)
        rc = recalc_scope(c, x->tenant_id, x->project_id, &groups, x->now, &x->count, x->dry);
    if (rc == 0 && x->dry) {
        x->dry->would_recalculate = x->count;
        rc = DRY_RUN_DONE;              /* roll back what the run wrote */
    }
cleanup:
    strv_free(&groups);
    return rc;
}

static int policy_run(struct store *base, struct policy_ctx *x, int64_t *count)
{
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, policy_tx, x);
    if (rc == DRY_RUN_DONE && x->dry)
        rc = 0;
    if (rc == 0 && count)
        *count = x->count;
    return rc;
}

int findings_policy_put(struct store *base, const struct sw_finding_policy *p, int64_t now,
                        const char *actor, int64_t *recalculated)
{
    struct policy_ctx x = {.tenant_id = p->tenant_id, .project_id = p->project_id, .p = p,
                           .now = now, .actor = actor};
    return policy_run(base, &x, recalculated);
}

int findings_policy_dry_run(struct store *base, const struct sw_finding_policy *p,
                            int64_t now, struct sw_dry_run *out)
{
    struct policy_ctx x = {.tenant_id = p->tenant_id, .project_id = p->project_id, .p = p,
                           .now = now, .actor = "", .dry = out};
    memset(out, 0, sizeof(*out));
    return policy_run(base, &x, NULL);
}

int findings_policy_delete(struct store *base, const char *tenant_id, const char *project_id,
                           int64_t now, const char *actor, int64_t *recalculated)
{
    struct policy_ctx x = {.tenant_id = tenant_id, .project_id = project_id, .now = now,
                           .actor = actor};
    return policy_run(base, &x, recalculated);
}

int findings_recalculate(struct store *base, const char *tenant_id, const char *project_id,
                         int64_t now, const char *actor, int64_t *updated)
{
    if (!*tenant_id)
        return SW_E_INVAL;
    struct policy_ctx x = {.tenant_id = tenant_id, .project_id = project_id,
                           .recalc_only = true, .now = now, .actor = actor};
    return policy_run(base, &x, updated);
}

int findings_recalc_calendar_in(struct db_conn *c, const char *tenant_id, const char *cal_id,
                                const struct sla_cal *old_cal, int64_t now, int64_t *count,
                                struct sw_dry_run *dry)
{
    struct grp {
        char project[SW_ID_MAX + 1];
        enum sla_sev sev;
        sla_ms target_ms;
    } *v = NULL;
    size_t n = 0, cap = 0;
    const struct sla_cal *cal = NULL;
    struct db_stmt *st;
    *count = 0;
    int rc = store_calendar_in(c, NULL, tenant_id, cal_id, &cal);
    if (rc < 0 || (rc = db_prep(c, SQL_CAL_GROUPS, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, cal_id);
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            v = xrealloc(v, cap * sizeof(*v));
        }
        db_col_copy(st, 0, v[n].project, sizeof(v[n].project));
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 1), &v[n].sev) < 0)
            continue;
        v[n].target_ms = db_col_int64(st, 2) * SLA_MS_PER_HOUR;
        n++;
    }
    db_reset(st);
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = dry ? findings_dry_calendar_in(c, tenant_id, v[i].project, v[i].sev, old_cal,
                                            v[i].target_ms, cal, v[i].target_ms, now, dry, count)
                 : findings_rearm_calendar_in(c, tenant_id, v[i].project, v[i].sev, old_cal,
                                              v[i].target_ms, cal, v[i].target_ms, now, count);
    free(v);
    return rc < 0 ? rc : 0;
}
