/* findings_calendar.c: findings on business-hours calendars.
 *
 * A policy level names a calendar per severity (policy_calendars, kind
 * 'finding'); a group resolves it through the waterfall like its hours and
 * keeps the result in its target rows (finding_targets.calendar), so the
 * deadline stays derived: a live finding stores its clock base B, and its
 * active time is the business time from B (around the clock: B - ...).
 * B is the discovery while it never paused, so moving a group onto or off
 * a calendar rewrites no finding; a pause moves B to the instant whose
 * business time to the resume equals the active time before the pause.
 * Moving a clock re-measures its closed pauses (clock_pauses, written when
 * a pause closes or a reopen continues the clock) on the new calendar and
 * moves B accordingly; a finding paused before pauses were kept keeps B.
 * Only findings with a pause history (findings_paused_history) are
 * rewritten when their group's calendar changes: a million findings that
 * never paused move onto or off a calendar without a write.  A terminal
 * finding freezes the calendar, due and active time it was judged with
 * (findings.frozen_*), like its hours.
 *
 * The scheduler keeps its index walk (findings_due.c): within a cell every
 * finding's next instant is reach(B, off), monotone in B, so the earliest
 * is that of min(B), and the due ones are B <= back(now, off). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/findings_int.h"
#include "store/store_calendars.h"
#include "store/store_proof.h"
#include "util/xalloc.h"

#define LIVE "state IN ('open', 'paused')"

/* the fired ones without a pause history (those are taken by SQL_HISTORY) */
static const char SQL_FIRED[] =
    "SELECT id, clock_base, COALESCE(paused_since, 0), created_at, 1 FROM findings "
    "{INDEXED_BY findings_fired} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE
    " AND (stage <> 0 OR contacts_fired <> 0) AND clock_base = created_at "
    "AND paused_since IS NULL ORDER BY id {FOR_UPDATE}";
/* those whose clock base depends on the calendar */
static const char SQL_HISTORY[] =
    "SELECT id, clock_base, COALESCE(paused_since, 0), created_at, "
    "CASE WHEN stage <> 0 OR contacts_fired <> 0 THEN 1 ELSE 0 END FROM findings "
    "{INDEXED_BY findings_paused_history} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE
    " AND (clock_base <> created_at OR paused_since IS NOT NULL) ORDER BY id {FOR_UPDATE}";
static const char SQL_BASE[] =
    "UPDATE findings SET clock_base = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CLEAR[] =
    "UPDATE findings SET stage = 0, contacts_fired = 0, updated_at = ?3 "
    "WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_COUNT[] =
    "SELECT count(*) FROM findings {INDEXED_BY findings_live} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE;

int findings_pause_add_in(struct db_conn *c, const struct sw_finding *r, int64_t from,
                          int64_t to)
{
    return store_clock_pause_add_in(c, r->tenant_id, "finding", r->id, "resolve", from, to);
}

/* The clock base of a finding discovered at created whose closed pauses
 * are re-measured on cal (NULL: around the clock); *found = whether it has
 * kept pauses at all (else the caller keeps its base). */
static int base_of_pauses(struct db_conn *c, const char *tenant_id, const char *id,
                          sla_ms created, const struct sla_cal *cal, sla_ms *base, bool *found)
{
    int64_t(*p)[2] = xmalloc(CLOCK_PAUSES_MAX * sizeof(*p));
    size_t n = 0;
    int rc = store_clock_pauses_in(c, tenant_id, "finding", id, "resolve", p, CLOCK_PAUSES_MAX,
                                   &n);
    sla_ms paused = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        paused += cal ? sla_cal_elapsed(cal, p[i][0], p[i][1]) : p[i][1] - p[i][0];
    free(p);
    if (rc < 0)
        return rc == SW_E_TOOBIG ? 0 : rc;      /* beyond the cap: the base stands */
    *found = n > 0;
    *base = !cal || paused == 0 ? created + paused : sla_cal_reach(cal, created, paused);
    return 0;
}

int findings_attach_in(struct db_conn *c, struct cal_memo *memo, struct sw_finding *r)
{
    struct sla_clock *k = &r->f.clock;
    k->cal = NULL;
    if (!r->cal[0])
        return 0;
    const struct sla_cal *cal;
    int rc = store_calendar_in(c, memo, r->tenant_id, r->cal, &cal);
    if (rc == SW_E_NOTFOUND) {
        /* deleted: a live finding runs around the clock from its base; a
         * frozen verdict stands without it */
        if (!sla_finding_state_terminal(r->f.state))
            r->cal[0] = '\0';
        return 0;
    }
    if (rc < 0)
        return rc;
    sla_ms base = k->started_at + k->paused_ms;
    k->cal = cal;
    k->paused_ms = base <= k->started_at ? 0 : sla_cal_elapsed(cal, k->started_at, base);
    return 0;
}

int64_t findings_clock_base(const struct sw_finding *r)
{
    const struct sla_clock *k = &r->f.clock;
    if (!k->cal || k->paused_ms == 0)
        return k->started_at + k->paused_ms;
    return sla_cal_reach(k->cal, k->started_at, k->paused_ms);
}

int findings_follow_calendar_in(struct db_conn *c, struct cal_memo *memo, struct sw_finding *r,
                                const struct group_targets *g, int64_t now)
{
    struct sla_clock *k = &r->f.clock;
    const char *want = g->cal[r->f.sev];
    if (sla_finding_state_terminal(r->f.state) || !strcmp(want, r->cal))
        return 0;
    const struct sla_cal *cal = NULL;
    int rc = store_calendar_in(c, memo, r->tenant_id, want, &cal);
    if (rc < 0 && rc != SW_E_NOTFOUND)
        return rc;
    sla_ms base = findings_clock_base(r);
    sla_ms old_due = sla_clock_due(k, now);
    if (base != k->started_at) {
        bool found = false;
        sla_ms b;
        if ((rc = base_of_pauses(c, r->tenant_id, r->id, k->started_at, cal, &b, &found)) < 0)
            return rc;
        if (found)
            base = b;
    }
    k->cal = cal;
    if (!cal)
        k->paused_ms = base - k->started_at;
    else
        k->paused_ms = base <= k->started_at ? 0 : sla_cal_elapsed(cal, k->started_at, base);
    snprintf(r->cal, sizeof(r->cal), "%s", cal ? want : "");
    sla_alarm_rearm(&r->f.alarm, old_due, sla_clock_due(k, now), now);
    return 0;
}

void findings_chain_calendar(const struct sw_policy_chain *ch, enum sla_sev sev,
                             char id[SW_ID_MAX + 1], const char **src)
{
    static const char *const names[SW_POL_COUNT] = {"project", "company", "global"};
    for (int l = 0; l < SW_POL_COUNT; l++) {
        const char *v = ch->level[l].calendars[sev];
        if (!*v)
            continue;
        snprintf(id, SW_ID_MAX + 1, "%s", strcmp(v, SW_CAL_24X7) ? v : "");
        *src = names[l];
        return;
    }
    id[0] = '\0';
    *src = "builtin";
}

struct fired {
    char id[SW_ID_MAX + 1];
    int64_t base, paused_since, created;
    bool fired;
};

/* Rows of one of the statements above. */
static int read_fired(struct db_conn *c, const char *sql, const char *tenant_id,
                      const char *project_id, enum sla_sev sev, struct fired **v, size_t *n)
{
    struct db_stmt *st;
    size_t cap = 0;
    *v = NULL;
    *n = 0;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    db_bind_text(st, 3, sla_sev_name(sev));
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *v = xrealloc(*v, cap * sizeof(**v));
        }
        struct fired *f = &(*v)[(*n)++];
        db_col_copy(st, 0, f->id, sizeof(f->id));
        f->base = db_col_int64(st, 1);
        f->paused_since = db_col_int64(st, 2);
        f->created = db_col_int64(st, 3);
        f->fired = db_col_int64(st, 4) != 0;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

/* The deadline of a live finding based at base (paused since paused_since,
 * 0 = running) on cal (NULL: around the clock), as the core would say it. */
static sla_ms due_of(const struct sla_cal *cal, sla_ms base, sla_ms target_ms,
                     sla_ms paused_since, sla_ms now)
{
    if (cal) {
        sla_ms paused = paused_since ? sla_cal_elapsed(cal, paused_since, now) : 0;
        return sla_cal_due(cal, base, target_ms + paused);
    }
    return base + target_ms + (paused_since && now > paused_since ? now - paused_since : 0);
}

/* The group's running findings by clock base (index only), its paused
 * ones (few), its fired ones (findings_fired, index only). */
static const char SQL_DRY_OPEN[] =
    "SELECT clock_base, 0 FROM findings {INDEXED_BY findings_open_base} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND state = 'open'";
static const char SQL_DRY_PAUSED[] =
    "SELECT clock_base, paused_since FROM findings {INDEXED_BY findings_live} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND " LIVE " AND state = 'paused' "
    "AND severity = ?3";
static const char SQL_DRY_FIRED[] =
    "SELECT clock_base, COALESCE(paused_since, 0) FROM findings {INDEXED_BY findings_fired} "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND severity = ?3 AND " LIVE " "
    "AND (stage <> 0 OR contacts_fired <> 0)";

int findings_dry_calendar_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                             enum sla_sev sev, const struct sla_cal *old_cal, sla_ms old_target,
                             const struct sla_cal *new_cal, sla_ms new_target, int64_t now,
                             struct sw_dry_run *dry, int64_t *count)
{
    const char *const sql[3] = {SQL_DRY_OPEN, SQL_DRY_PAUSED, SQL_DRY_FIRED};
    int rc = 0;
    for (int k = 0; k < 3 && rc >= 0; k++) {
        struct db_stmt *st;
        if ((rc = db_prep(c, sql[k], &st)) < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);
        db_bind_text(st, 3, sla_sev_name(sev));
        while ((rc = db_step(st)) == DB_ROW) {
            sla_ms base = db_col_int64(st, 0), paused = db_col_int64(st, 1);
            sla_ms was = due_of(old_cal, base, old_target, paused, now);
            sla_ms due = due_of(new_cal, base, new_target, paused, now);
            if (due == was)
                continue;
            if (k == 2) {               /* fired: the re-arm rule */
                dry->rearmed += due > now;
                continue;
            }
            (*count)++;
            if (due < was)
                dry->earlier++;
            else
                dry->later++;
            dry->new_breaches += was >= now && due < now;
        }
        db_reset(st);
    }
    return rc < 0 ? rc : 0;
}

int findings_rearm_calendar_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                               enum sla_sev sev, const struct sla_cal *old_cal, sla_ms old_target,
                               const struct sla_cal *new_cal, sla_ms new_target, int64_t now,
                               int64_t *count)
{
    struct db_stmt *st;
    struct fired *v = NULL;
    size_t n = 0;
    int rc = 0;
    for (int pass = 0; pass < 2 && rc >= 0; pass++) {
        free(v);
        if ((rc = read_fired(c, pass ? SQL_FIRED : SQL_HISTORY, tenant_id, project_id, sev, &v,
                             &n)) < 0)
            break;
        for (size_t i = 0; i < n && rc >= 0; i++) {
            sla_ms base = v[i].base;
            if (pass == 0 && base != v[i].created) {
                /* a pause history: its pauses measured on the new calendar */
                bool found = false;
                sla_ms b;
                if ((rc = base_of_pauses(c, tenant_id, v[i].id, v[i].created, new_cal, &b,
                                         &found)) < 0)
                    break;
                if (found && b != base) {
                    if ((rc = db_prep(c, SQL_BASE, &st)) < 0)
                        break;
                    db_bind_text(st, 1, tenant_id);
                    db_bind_text(st, 2, v[i].id);
                    db_bind_int64(st, 3, b);
                    db_bind_int64(st, 4, now);
                    if ((rc = db_exec(st)) < 0)
                        break;
                    base = b;
                }
            }
            if (!v[i].fired)
                continue;
            /* the re-arm rule: moved, and now in the future */
            sla_ms was = due_of(old_cal, v[i].base, old_target, v[i].paused_since, now);
            sla_ms due = due_of(new_cal, base, new_target, v[i].paused_since, now);
            if (due == was || due <= now)
                continue;
            if ((rc = db_prep(c, SQL_CLEAR, &st)) < 0)
                break;
            db_bind_text(st, 1, tenant_id);
            db_bind_text(st, 2, v[i].id);
            db_bind_int64(st, 3, now);
            rc = db_exec(st);
        }
    }
    free(v);
    if (rc < 0 || !count)
        return rc < 0 ? rc : 0;
    if ((rc = db_prep(c, SQL_COUNT, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    db_bind_text(st, 3, sla_sev_name(sev));
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_STORE;
    *count += db_col_int64(st, 0);
    db_reset(st);
    return 0;
}
