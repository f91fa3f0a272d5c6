/* findings_due.c: the scheduler's source of finding instants
 * (store_findings.h: next_due, process_due).
 *
 * A running finding's next instant (its next warning, its breach, its next
 * escalation contact) depends only on its group's target, the tenant's
 * thresholds, the group's contacts and its own fired progress (stage,
 * contacts_fired), and lies at clock_base + an offset they determine.  So
 * within one cell (group, severity, stage, contacts_fired) every running
 * finding's instant is clock_base + the same offset: the earliest is
 * min(clock_base) of an index range (findings_due), and the due ones are a
 * range scan of it.  Walking the cells costs a few index seeks per group,
 * whatever the number of findings.
 *
 * Several nodes.  process_due claims the due findings of each cell with
 * {SKIP_LOCKED}: a finding another scheduler holds is left to it, and one
 * it committed meanwhile no longer matches its old cell.  The events, the
 * new progress and the notices (store_notice_in) are written in the same
 * transaction, so a warning, a breach or a contact fires once across every
 * node, and a crash before the commit fires nothing. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "notify/notify.h"
#include "store/findings_int.h"
#include "util/xalloc.h"

static const char SQL_GROUPS_ALL[] =
    "SELECT tenant_id, project_id, severity, hours, COALESCE(calendar, '') FROM finding_targets "
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
/* the claim: rows another scheduler holds are skipped, not waited for */
static const char SQL_DUE_IDS[] =
    "SELECT id " DUE_GROUP "AND stage = ?4 AND contacts_fired = ?5 AND clock_base <= ?6 "
    "ORDER BY clock_base LIMIT ?7 {SKIP_LOCKED}";
static const char SQL_PROGRESS[] =
    "UPDATE findings SET stage = ?3, contacts_fired = ?4, updated_at = ?5 "
    "WHERE tenant_id = ?1 AND id = ?2";

/* What the scheduler needs of one (tenant, project) group. */
struct sched_group {
    char th_tenant[SW_ID_MAX + 1];          /* whose thresholds th are */
    struct thresholds th;
    char tenant[SW_ID_MAX + 1];             /* the group the rest is about */
    char project[SW_ID_MAX + 1];
    struct sw_policy_chain chain;
    struct sla_contacts lv[3];
    const struct sla_contacts *contacts;    /* NULL: none anywhere */
    struct cal_memo cals;                   /* the calendars met in this transaction */
};

/* The tenant's thresholds in g (tenant ids are never "", so a zeroed g
 * holds nothing). */
static int sched_tenant(struct db_conn *c, const char *tenant, struct sched_group *g)
{
    if (!strcmp(g->th_tenant, tenant))
        return 0;
    int rc = findings_thresholds_in(c, tenant, &g->th);
    if (rc == 0)
        snprintf(g->th_tenant, sizeof(g->th_tenant), "%s", tenant);
    return rc;
}

/* Makes g the context of (tenant, project), reloading only what changed. */
static int sched_group_load(struct db_conn *c, const char *tenant, const char *project,
                            struct sched_group *g)
{
    int rc = sched_tenant(c, tenant, g);
    if (rc < 0 || (!strcmp(g->tenant, tenant) && !strcmp(g->project, project)))
        return rc;
    g->tenant[0] = '\0';        /* half loaded is not loaded */
    if ((rc = findings_chain_in(c, tenant, project, false, &g->chain)) < 0)
        return rc;
    g->contacts = findings_chain_contacts(&g->chain, g->lv);
    snprintf(g->tenant, sizeof(g->tenant), "%s", tenant);
    snprintf(g->project, sizeof(g->project), "%s", project);
    return 0;
}

/* Offset from clock_base at which pct % of target_ms is reached: the
 * core's own rounding (a clock started at 0, never paused). */
static sla_ms warn_offset(sla_ms target_ms, unsigned pct)
{
    struct sla_clock z = {.started_at = 0, .target_ms = target_ms};
    return sla_threshold_at(&z, pct, 0);
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
    if (!g->contacts || (levels & FINDING_ESC_ACKED))
        return SLA_NEVER;       /* someone took it: no later level */
    return sla_contacts_next(target_ms + 1, g->contacts->item, g->contacts->n,
                             findings_contacts_pos(g->contacts, levels));
}

/* ---- walking the cells ------------------------------------------------------ */

/* One (group, severity, stage, contacts) cell: its running findings all
 * have their next instant at clock_base + off, or on a calendar cal when
 * off of business time has elapsed from clock_base (reach; monotone in
 * clock_base, so the same index order holds).  A non-zero return stops the
 * walk (> 0) or fails it (< 0). */
typedef int (*cell_fn)(struct db_conn *c, const struct sched_group *g, const char *sev,
                       const struct sla_cal *cal, int stage, uint32_t levels, sla_ms off,
                       void *ud);

static void bind_cell(struct db_stmt *st, const struct sched_group *g, const char *sev)
{
    db_bind_text(st, 1, g->tenant);
    db_bind_text(st, 2, g->project);
    db_bind_text(st, 3, sev);
}

/* Steps a one-column seek: 1 and *v on a non-NULL value, 0 on none. */
static int seek_int(struct db_stmt *st, int64_t *v)
{
    int rc = db_step_one(st);
    if (rc <= 0)
        return rc;
    if (!db_col_null(st, 0)) {
        *v = db_col_int64(st, 0);
        rc = 1;
    } else {
        rc = 0;
    }
    db_reset(st);
    return rc;
}

/* The cells of one (group, severity): distinct stages, then distinct
 * contact masks within each, one index seek apiece. */
static int walk_group(struct db_conn *c, const struct sched_group *g, const char *sev,
                      const struct sla_cal *cal, sla_ms target_ms, cell_fn fn, void *ud)
{
    struct db_stmt *st;
    int64_t stage = -1;
    for (;;) {
        int rc = db_prep(c, SQL_NEXT_STAGE, &st);
        if (rc < 0)
            return rc;
        bind_cell(st, g, sev);
        db_bind_int64(st, 4, stage);
        if ((rc = seek_int(st, &stage)) <= 0)
            return rc;
        int64_t levels = -1;
        for (;;) {
            if ((rc = db_prep(c, SQL_NEXT_MASK, &st)) < 0)
                return rc;
            bind_cell(st, g, sev);
            db_bind_int64(st, 4, stage);
            db_bind_int64(st, 5, levels);
            if ((rc = seek_int(st, &levels)) < 0)
                return rc;
            if (rc == 0)
                break;
            sla_ms off = next_offset(g, target_ms, (int)stage, (uint32_t)levels);
            if (off != SLA_NEVER &&
                (rc = fn(c, g, sev, cal, (int)stage, (uint32_t)levels, off, ud)) != 0)
                return rc;
        }
    }
}

/* Every cell of every group with target rows (a live finding's group
 * always has them: its creation or a recalculation wrote them).  g is the
 * caller's, zeroed. */
static int walk_cells(struct db_conn *c, struct sched_group *g, cell_fn fn, void *ud)
{
    struct db_stmt *groups;
    int rc = db_prep(c, SQL_GROUPS_ALL, &groups);
    if (rc < 0)
        return rc;
    int step;
    /* the other statements run between two steps of this one */
    while ((step = db_step(groups)) == DB_ROW) {
        char tenant[SW_ID_MAX + 1], project[SW_ID_MAX + 1], sev[16];
        db_col_copy(groups, 0, tenant, sizeof(tenant));
        db_col_copy(groups, 1, project, sizeof(project));
        db_col_copy(groups, 2, sev, sizeof(sev));
        sla_ms target_ms = db_col_int64(groups, 3) * SLA_MS_PER_HOUR;
        char cal_id[SW_ID_MAX + 1];
        const struct sla_cal *cal = NULL;
        db_col_copy(groups, 4, cal_id, sizeof(cal_id));
        if ((rc = store_calendar_in(c, &g->cals, tenant, cal_id, &cal)) < 0 &&
            rc != SW_E_NOTFOUND)
            break;      /* deleted: its findings run around the clock */
        if ((rc = sched_group_load(c, tenant, project, g)) < 0 ||
            (rc = walk_group(c, g, sev, cal, target_ms, fn, ud)) != 0)
            break;
    }
    db_reset(groups);
    if (rc == 0 && step < 0)
        rc = step;
    return rc < 0 ? rc : 0;
}

/* ---- next_due ------------------------------------------------------------------ */

static int min_cell(struct db_conn *c, const struct sched_group *g, const char *sev,
                    const struct sla_cal *cal, int stage, uint32_t levels, sla_ms off, void *ud)
{
    sla_ms *best = ud;
    int64_t base = 0;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_MIN_BASE, &st);
    if (rc < 0)
        return rc;
    bind_cell(st, g, sev);
    db_bind_int64(st, 4, stage);
    db_bind_int64(st, 5, levels);
    rc = seek_int(st, &base);
    sla_ms at = rc <= 0 ? SLA_NEVER : cal ? sla_cal_reach(cal, base, off) : base + off;
    if (at < *best)
        *best = at;
    return rc < 0 ? rc : 0;
}

struct next_ctx {
    struct sched_group *g;
    sla_ms best;
};

static int next_tx(struct db_conn *c, void *ud)
{
    struct next_ctx *x = ud;
    memset(x->g, 0, sizeof(*x->g));
    x->best = SLA_NEVER;
    return walk_cells(c, x->g, min_cell, &x->best);
}

int findings_next_due(struct store *base, int64_t now, int64_t *at)
{
    (void)now;
    struct next_ctx x = {.g = xmalloc(sizeof(*x.g))};
    int rc = findings_read(sql_of(base), next_tx, &x);
    free(x.g);
    if (rc == 0)
        *at = x.best;
    return rc;
}

/* ---- process_due ----------------------------------------------------------------- */

struct due_item {
    char tenant[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
};

struct due_ctx {
    int64_t now;
    int limit;
    struct due_item *v;         /* limit slots */
    int n;                      /* claimed */
    struct sched_group *g;
    struct sw_finding *r;
};

static int claim_cell(struct db_conn *c, const struct sched_group *g, const char *sev,
                      const struct sla_cal *cal, int stage, uint32_t levels, sla_ms off,
                      void *ud)
{
    struct due_ctx *x = ud;
    if (off > x->now)
        return 0;       /* nobody's instant can have come (clock_base > 0) */
    /* the latest clock base whose instant has come */
    sla_ms cutoff = cal ? sla_cal_back(cal, x->now, off) : x->now - off;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_DUE_IDS, &st);
    if (rc < 0)
        return rc;
    bind_cell(st, g, sev);
    db_bind_int64(st, 4, stage);
    db_bind_int64(st, 5, levels);
    db_bind_int64(st, 6, cutoff);
    db_bind_int64(st, 7, x->limit - x->n);
    while ((rc = db_step(st)) == DB_ROW) {
        struct due_item *it = &x->v[x->n++];
        snprintf(it->tenant, sizeof(it->tenant), "%s", g->tenant);
        db_col_copy(st, 0, it->id, sizeof(it->id));
    }
    db_reset(st);
    if (rc < 0)
        return rc;
    return x->n >= x->limit ? 1 : 0;
}

static json_t *json_instant(sla_ms t)
{
    char buf[SLA_TIME_BUFSZ];
    sla_time_format(t, buf);
    return json_string(buf);
}

/* Appends one scheduler event (data: stolen) and its notices. */
int findings_fire_in(struct db_conn *c, const struct sw_finding *r, const char *type, json_t *data,
                struct sw_notice *n, int64_t now)
{
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    if (!text)
        return SW_E_NOMEM;
    struct sw_event e;
    int64_t event_id = 0;
    findings_event_init(&e, r->tenant_id, r->id, type, "scheduler", now, text);
    int rc = store_event_add_in(c, &e, &event_id);
    free(text);
    if (rc < 0)
        return rc;
    snprintf(n->tenant_id, sizeof(n->tenant_id), "%s", r->tenant_id);
    snprintf(n->type, sizeof(n->type), "%s", type);
    snprintf(n->item_kind, sizeof(n->item_kind), "finding");
    snprintf(n->item_id, sizeof(n->item_id), "%s", r->id);
    snprintf(n->severity, sizeof(n->severity), "%s", sla_sev_name(r->f.sev));
    snprintf(n->clock, sizeof(n->clock), "resolve");
    snprintf(n->title, sizeof(n->title), "%s", r->title);
    n->due_at = sla_clock_due(&r->f.clock, now);
    n->overage_ms = sla_clock_overage(&r->f.clock, now);
    n->occurred_at = now;
    rc = store_notice_in(c, n, event_id);
    return rc < 0 ? rc : 0;
}

/* One claimed finding: what the core says happened, its events and
 * notices, and its new progress. */
static int process_one(struct db_conn *c, const struct due_item *it, struct sched_group *g,
                       struct sw_finding *r, int64_t now)
{
    int stage = 0, rc;
    if ((rc = sched_tenant(c, it->tenant, g)) < 0 ||
        (rc = findings_row_in(c, it->tenant, it->id, false, &g->th, r, &stage)) < 0 ||
        (rc = sched_group_load(c, it->tenant, r->project_id, g)) < 0)
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
        rc = findings_fire_in(c, r, "sla.breach",
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
            rc = findings_fire_in(c, r, "sla.warning",
                      json_pack("{s:i, s:o}", "threshold_pct", pct, "due_at",
                                json_instant(due)), &n, now);
        }
    }
    if (rc == 0 && new_stage == 100 && g->contacts && !(levels & FINDING_ESC_ACKED)) {
        const struct sla_contacts *cs = g->contacts;
        uint32_t fired = sla_contacts_due(due + 1, cs->item, cs->n,
                                          findings_contacts_pos(cs, levels), now);
        for (size_t i = 0; i < cs->n && rc == 0; i++) {
            if (!(fired & (UINT32_C(1) << i)))
                continue;
            levels |= UINT32_C(1) << (cs->item[i].level - 1);
            rc = findings_contact_fire_in(c, r, &cs->item[i], now);
        }
    }
    if (rc < 0)
        return rc;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_PROGRESS, &st)) < 0)
        return rc;
    db_bind_text(st, 1, r->tenant_id);
    db_bind_text(st, 2, r->id);
    db_bind_int64(st, 3, new_stage);
    db_bind_int64(st, 4, new_stage == 100 ? levels : 0);
    db_bind_int64(st, 5, now);
    return db_exec(st);
}

static int due_tx(struct db_conn *c, void *ud)
{
    struct due_ctx *x = ud;
    x->n = 0;
    memset(x->g, 0, sizeof(*x->g));
    /* claim every due finding first: processing moves findings to later
     * cells, which the walk must not meet again */
    int rc = walk_cells(c, x->g, claim_cell, x);
    for (int i = 0; i < x->n && rc == 0; i++)
        rc = process_one(c, &x->v[i], x->g, x->r, x->now);
    return rc;
}

int findings_process_due(struct store *base, int64_t now, int limit, int *processed)
{
    *processed = 0;
    if (limit <= 0)
        return SW_E_INVAL;
    struct due_ctx x = {
        .now = now,
        .limit = limit,
        .v = xmalloc((size_t)limit * sizeof(*x.v)),
        .g = xmalloc(sizeof(*x.g)),
        .r = xmalloc(sizeof(*x.r)),
    };
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, due_tx, &x);
    if (rc == 0)
        *processed = x.n;
    free(x.v);
    free(x.g);
    free(x.r);
    return rc;
}
