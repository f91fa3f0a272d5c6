/* alerts_calendar.c: alerts on business-hours calendars.
 *
 * The definition names a calendar per severity (policy_calendars, kind
 * 'alert'); both clocks of an alert of that severity count on it.  A
 * running clock follows the calendar its severity names now; a stopped one
 * keeps the calendar and the verdict it was judged with (core: stop_due,
 * stop_elapsed; the row: *_calendar, *_elapsed_ms and the due column).
 *
 * Moving a clock onto another calendar re-measures its pauses (for an
 * alert, the time it spent resolved before a reopen) from clock_pauses, so
 * its active time is what the new calendar says; then the re-arm rule:
 * fired warnings are cleared when the deadline moved into the future.
 *
 * Recalculation.  The set-based UPDATE of alerts_policy.c (the 24x7 fast
 * path) leaves alone every alert that has or gets a calendar; those are
 * recalculated here, one row at a time in C, because business time is not
 * an SQL expression.  Open alerts are short-lived, so these are few. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts_int.h"
#include "store/store_calendars.h"
#include "store/store_proof.h"
#include "util/xalloc.h"

static const char *const clock_name[2] = {"ack", "resolve"};

/* Deadlines and alarms before a change, for the re-arm rule after it. */
struct snap {
    sla_ms due[2];
    struct sla_alarm al[2];
};

static void snap_take(const struct sw_alert *x, int64_t now, struct snap *s)
{
    s->due[0] = sla_clock_due(&x->a.ack, now);
    s->due[1] = sla_clock_due(&x->a.resolve, now);
    s->al[0] = x->a.ack_alarm;
    s->al[1] = x->a.resolve_alarm;
}

/* Once for the whole change, from the deadline before it to the one after:
 * a target moved later and a calendar that then brings it back into the
 * past re-arms nothing (no second breach notice for one breach). */
static void snap_rearm(struct sw_alert *x, const struct snap *s, int64_t now)
{
    struct sla_alarm *al[2] = {&x->a.ack_alarm, &x->a.resolve_alarm};
    const struct sla_clock *k[2] = {&x->a.ack, &x->a.resolve};
    for (int i = 0; i < 2; i++) {
        if (sla_clock_is_stopped(k[i]))
            continue;
        *al[i] = s->al[i];
        sla_alarm_rearm(al[i], s->due[i], sla_clock_due(k[i], now), now);
    }
}

int alert_pauses_record_in(struct db_conn *c, const struct sw_alert *before,
                           const struct sw_alert *after)
{
    const struct sla_clock *b[2] = {&before->a.ack, &before->a.resolve};
    const struct sla_clock *a[2] = {&after->a.ack, &after->a.resolve};
    for (int i = 0; i < 2; i++) {
        if (!sla_clock_is_stopped(b[i]) || sla_clock_is_stopped(a[i]))
            continue;
        int rc = store_clock_pause_add_in(c, after->tenant_id, "alert", after->id, clock_name[i],
                                          b[i]->stopped_at, a[i]->last_event_at);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int alert_attach_in(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x)
{
    const char *id[2] = {x->ack_cal, x->res_cal};
    struct sla_clock *k[2] = {&x->a.ack, &x->a.resolve};
    for (int i = 0; i < 2; i++) {
        k[i]->cal = NULL;
        if (!id[i][0])
            continue;
        int rc = store_calendar_in(c, memo, x->tenant_id, id[i], &k[i]->cal);
        /* gone (deleted after its clocks stopped): the frozen verdict stands */
        if (rc < 0 && rc != SW_E_NOTFOUND)
            return rc;
    }
    return 0;
}

int alert_calendar_start_in(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x,
                            const struct sw_alert_policy *p)
{
    const char *id = p->cal[x->a.sev];
    const struct sla_cal *cal = NULL;
    if (!*id)
        return 0;
    int rc = store_calendar_in(c, memo, x->tenant_id, id, &cal);
    if (rc == SW_E_NOTFOUND)
        return 0;       /* deletion refuses a named calendar: only a race gets here */
    if (rc < 0)
        return rc;
    x->a.ack.cal = x->a.resolve.cal = cal;
    snprintf(x->ack_cal, sizeof(x->ack_cal), "%s", id);
    snprintf(x->res_cal, sizeof(x->res_cal), "%s", id);
    return 0;
}

/* Moves the running clocks onto p's calendar for x's severity, without
 * re-arming (the caller does, once).  A clock already on calendar refresh
 * (a calendar just saved: a new version) is re-measured too. */
static int follow(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x,
                  const struct sw_alert_policy *p, const char *refresh, bool *moved)
{
    const char *want = p->cal[x->a.sev];
    char *id[2] = {x->ack_cal, x->res_cal};
    struct sla_clock *k[2] = {&x->a.ack, &x->a.resolve};
    int64_t(*pauses)[2] = NULL;
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (sla_clock_is_stopped(k[i]) ||
            (!strcmp(id[i], want) && !(refresh && !strcmp(id[i], refresh))))
            continue;
        const struct sla_cal *cal;
        size_t n = 0;
        if (!pauses)
            pauses = xmalloc(CLOCK_PAUSES_MAX * sizeof(*pauses));
        if ((rc = store_calendar_in(c, memo, x->tenant_id, want, &cal)) < 0 ||
            (rc = store_clock_pauses_in(c, x->tenant_id, "alert", x->id, clock_name[i], pauses,
                                        CLOCK_PAUSES_MAX, &n)) < 0)
            break;
        rc = sla_clock_set_calendar(k[i], cal, (const sla_ms(*)[2])pauses, n);
        snprintf(id[i], SW_ID_MAX + 1, "%s", want);
        *moved = true;
    }
    free(pauses);
    return rc;
}

int alert_follow_calendar_in(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x,
                             const struct sw_alert_policy *p, int64_t now, bool *moved)
{
    struct snap s;
    bool m = false;
    snap_take(x, now, &s);
    int rc = follow(c, memo, x, p, NULL, &m);
    if (rc == 0 && m)
        snap_rearm(x, &s, now);
    if (moved)
        *moved = m;
    return rc;
}

/* ---- recalculation in C ------------------------------------------------------------- */

/* The open alerts the fast path leaves to C: those with a calendar clock,
 * those of severities the tenant's definition puts on a calendar (?2..?5:
 * critical..low), those of projects with calendars of their own; and, for
 * a calendar that changed (?6 not NULL), those with a running clock on it. */
static const char SQL_CAL_ALERTS[] =
    "SELECT id, ack_due_at, resolve_due_at FROM alerts {INDEXED_BY alerts_open} WHERE tenant_id = ?1 "
    "AND state <> 'resolved' AND ("
    "  (CAST(?6 AS TEXT) IS NULL AND (ack_calendar IS NOT NULL OR res_calendar IS NOT NULL "
    "    OR (severity = 'critical' AND ?2 <> 0) OR (severity = 'high' AND ?3 <> 0) "
    "    OR (severity = 'medium' AND ?4 <> 0) OR (severity = 'low' AND ?5 <> 0) "
    "    OR project_id IN (SELECT pc.project_id FROM policy_calendars AS pc "
    "      WHERE pc.tenant_id = ?1 AND pc.kind = 'alert' AND pc.project_id <> ''))) "
    "  OR (ack_calendar = ?6 AND ack_stopped_at = 0) OR (res_calendar = ?6 AND "
    "      res_stopped_at = 0)) ORDER BY id";

struct key {
    char id[SW_ID_MAX + 1];
    sla_ms due[2];          /* as stored: the deadlines before this change */
};

/* Policies of the projects met in one recalculation. */
#define PPOL_SLOTS 8
struct ppol {
    size_t n, next;
    struct {
        char project[SW_ID_MAX + 1];
        struct sw_alert_policy p;
    } e[PPOL_SLOTS];
};

static int ppol_get(struct db_conn *c, struct ppol *pp, const char *tenant_id,
                    const char *project_id, const struct sw_alert_policy **out)
{
    for (size_t i = 0; i < pp->n; i++)
        if (!strcmp(pp->e[i].project, project_id)) {
            *out = &pp->e[i].p;
            return 0;
        }
    size_t k = pp->n < PPOL_SLOTS ? pp->n++ : pp->next++ % PPOL_SLOTS;
    int rc = alert_policy_load_in(c, tenant_id, project_id, ALERT_LOCK_NONE, &pp->e[k].p);
    if (rc != 0) {
        pp->n = k;      /* not cached */
        return rc > 0 ? 1 : rc;
    }
    snprintf(pp->e[k].project, sizeof(pp->e[k].project), "%s", project_id);
    *out = &pp->e[k].p;
    return 0;
}

/* One alert: targets and calendar as the policy says now (refresh: the
 * calendar just saved); 1 when something stored changed.  The deadlines
 * before are the stored ones: x was read with the calendars as they are
 * now. */
static int recalc_one(struct db_conn *c, struct cal_memo *memo, struct sw_alert *x,
                      const struct sw_alert_policy *p, const char *refresh, const sla_ms *due,
                      int64_t now)
{
    struct sla_alert_scopes sc;
    struct snap s;
    bool changed = false, moved = false;
    char cal_before[2][SW_ID_MAX + 1];
    snprintf(cal_before[0], sizeof(cal_before[0]), "%s", x->ack_cal);
    snprintf(cal_before[1], sizeof(cal_before[1]), "%s", x->res_cal);
    sw_alert_policy_scopes(p, &sc);
    snap_take(x, now, &s);
    s.due[0] = due[0];
    s.due[1] = due[1];
    int rc = sla_alert_recalculate(&x->a, &sc, now, &changed);
    if (rc == 0)
        rc = follow(c, memo, x, p, refresh, &moved);
    if (rc < 0)
        return rc;
    if (!changed && strcmp(cal_before[0], x->ack_cal) == 0 &&
        strcmp(cal_before[1], x->res_cal) == 0 && sla_clock_due(&x->a.ack, now) == due[0] &&
        sla_clock_due(&x->a.resolve, now) == due[1])
        return 0;
    snap_rearm(x, &s, now);
    return 1;
}

/* A dry run's tally of one recalculated alert, the SQL path's rules
 * (alerts_policy.c SQL_DRY): per running clock, its deadline moved earlier
 * or later, newly past, a fired alarm cleared.  Penalties accrued on
 * business time are left out of penalty_delta_cents. */
static void dry_count(struct sw_dry_run *dry, const struct sw_alert *x, const sla_ms *due,
                      const struct sw_alert *before, int64_t now)
{
    const struct sla_clock *k[2] = {&x->a.ack, &x->a.resolve};
    const struct sla_alarm *al[2] = {&x->a.ack_alarm, &x->a.resolve_alarm};
    const struct sla_alarm *was[2] = {&before->a.ack_alarm, &before->a.resolve_alarm};
    bool earlier = false, later = false, newly = false, rearmed = false;
    for (int i = 0; i < 2; i++) {
        if (sla_clock_is_stopped(k[i]))
            continue;
        sla_ms d = sla_clock_due(k[i], now);
        earlier |= d < due[i];
        later |= d > due[i];
        newly |= due[i] >= now && d < now;
        rearmed |= (was[i]->fired && !al[i]->fired) || (was[i]->breach_fired && !al[i]->breach_fired);
    }
    dry->earlier += earlier;
    dry->later += later;
    dry->new_breaches += newly;
    dry->rearmed += rearmed;
}

int alert_recalc_c_in(struct db_conn *c, const char *tenant_id, const bool *cal_sev,
                      const char *cal_id, int64_t now, const char *actor, int64_t *count,
                      struct sw_dry_run *dry)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CAL_ALERTS, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++)
        db_bind_int64(st, 2 + sev - SLA_SEV_CRITICAL, cal_sev && cal_sev[sev] ? 1 : 0);
    db_bind_text(st, 6, cal_id);
    struct key *keys = NULL;
    size_t n = 0, cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            keys = xrealloc(keys, cap * sizeof(*keys));
        }
        db_col_copy(st, 0, keys[n].id, sizeof(keys[0].id));
        keys[n].due[0] = db_col_int64(st, 1);
        keys[n].due[1] = db_col_int64(st, 2);
        n++;
    }
    db_reset(st);
    struct ppol *pp = xcalloc(1, sizeof(*pp));
    struct sw_alert *x = xmalloc(sizeof(*x));
    struct sw_alert *before = dry ? xmalloc(sizeof(*before)) : NULL;
    struct cal_memo memo = {0};
    struct alert_th th = {0};
    int64_t min_next = SLA_NEVER;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        const struct sw_alert_policy *p;
        if ((rc = store_alert_get_in(c, tenant_id, keys[i].id, true, x)) < 0 ||
            (rc = ppol_get(c, pp, tenant_id, x->project_id, &p)) < 0)
            break;
        if (rc > 0 || x->a.state == SLA_ALERT_RESOLVED) {
            rc = 0;
            continue;
        }
        if (before)
            *before = *x;
        if ((rc = recalc_one(c, &memo, x, p, cal_id, keys[i].due, now)) <= 0)
            continue;
        if (dry) {
            dry_count(dry, x, keys[i].due, before, now);
            (*count)++;
            continue;
        }
        x->updated_at = now;
        if ((rc = alert_th_load_in(c, &th, tenant_id)) < 0)
            break;
        x->next_check_at = store_alert_next_check(&x->a, &th, now);
        if (x->next_check_at < min_next)
            min_next = x->next_check_at;
        char data[192];
        alert_due_json(x, NULL, data, sizeof(data));
        if ((rc = store_alert_save_in(c, x)) < 0 ||
            (rc = store_alert_event_add_in(c, x, "recalculated", actor, now, data, NULL)) < 0)
            break;
        (*count)++;
    }
    free(before);
    free(x);
    free(pp);
    free(keys);
    if (rc < 0 || dry)
        return rc < 0 ? rc : 0;
    return store_hint_in(c, min_next, now);
}

int alert_recalc_calendar_in(struct db_conn *c, const char *tenant_id, const char *cal_id,
                             int64_t now, const char *actor, int64_t *count,
                             struct sw_dry_run *dry)
{
    *count = 0;
    return alert_recalc_c_in(c, tenant_id, NULL, cal_id, now, actor, count, dry);
}
