/* SOC alert lifecycle: two clocks (acknowledge, resolve) on one item.
 *
 * State transitions validate first and mutate last, on a copy, so a
 * rejected operation leaves the caller's alert untouched. */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

static const char *const state_names[] = { "open", "acknowledged", "resolved" };

const char *sla_alert_state_name(enum sla_alert_state s)
{
    return (unsigned)s <= SLA_ALERT_RESOLVED ? state_names[s] : NULL;
}

int sla_alert_state_parse(const char *s, enum sla_alert_state *out)
{
    if (!s || !out)
        return SW_E_INVAL;
    for (int i = 0; i <= SLA_ALERT_RESOLVED; i++) {
        if (strcmp(state_names[i], s) == 0) {
            *out = (enum sla_alert_state)i;
            return 0;
        }
    }
    return SW_E_INVAL;
}

static int resolve_targets(enum sla_sev sev, const struct sla_alert_scopes *s,
                           struct sla_alert_targets *t)
{
    if (!sla_sev_valid(SLA_ALERT, sev))
        return SW_E_INVAL;
    return sla_alert_policy_resolve(s, sev, t);
}

int sla_alert_init(struct sla_alert *a, enum sla_sev sev, sla_ms created_at,
                   const struct sla_alert_scopes *s)
{
    struct sla_alert n = { .sev = sev, .state = SLA_ALERT_OPEN, .created_at = created_at };
    int rc;

    if (!a)
        return SW_E_INVAL;
    rc = resolve_targets(sev, s, &n.targets);
    if (rc == 0)
        rc = sla_clock_start(&n.ack, created_at, n.targets.ack_min * SLA_MS_PER_MIN);
    if (rc == 0)
        rc = sla_clock_start(&n.resolve, created_at, n.targets.resolve_min * SLA_MS_PER_MIN);
    if (rc < 0)
        return rc;
    *a = n;
    return 0;
}

int sla_alert_acknowledge(struct sla_alert *a, sla_ms at)
{
    struct sla_alert n = *a;
    int rc;

    if (a->state == SLA_ALERT_RESOLVED)
        return SW_E_CONFLICT;
    if (a->state == SLA_ALERT_ACKNOWLEDGED)
        return 0;                   /* idempotent: the first ack stands */
    rc = sla_clock_stop(&n.ack, at);
    if (rc < 0)
        return rc;
    n.state = SLA_ALERT_ACKNOWLEDGED;
    n.acknowledged_at = at;
    *a = n;
    return 0;
}

int sla_alert_resolve(struct sla_alert *a, sla_ms at)
{
    struct sla_alert n = *a;
    int rc;

    if (a->state == SLA_ALERT_RESOLVED)
        return SW_E_CONFLICT;
    /* Nobody acknowledged it, but nobody needs to any more: the ack clock
     * stops with the resolution (and may have breached before). */
    if (!sla_clock_is_stopped(&n.ack)) {
        rc = sla_clock_stop(&n.ack, at);
        if (rc < 0)
            return rc;
    }
    rc = sla_clock_stop(&n.resolve, at);
    if (rc < 0)
        return rc;
    n.state = SLA_ALERT_RESOLVED;
    n.resolved_at = at;
    *a = n;
    return 0;
}

int sla_alert_reopen(struct sla_alert *a, sla_ms at)
{
    struct sla_alert n = *a;
    int rc;

    if (a->state != SLA_ALERT_RESOLVED)
        return SW_E_CONFLICT;
    rc = sla_clock_continue(&n.resolve, at);
    /* The ack clock was stopped by the resolution only if nobody had
     * acknowledged; an acknowledgement is a fact the reopen does not undo. */
    if (rc == 0 && n.acknowledged_at == 0)
        rc = sla_clock_continue(&n.ack, at);
    if (rc < 0)
        return rc;
    n.state = n.acknowledged_at ? SLA_ALERT_ACKNOWLEDGED : SLA_ALERT_OPEN;
    n.resolved_at = 0;
    *a = n;
    return 0;
}

/* A running clock takes its new target; the alarm re-arms if that moved
 * the deadline into the future. *moved tells whether the target changed. */
static int retarget(struct sla_clock *c, struct sla_alarm *alarm, int32_t minutes,
                    sla_ms now, bool *moved)
{
    sla_ms old_due, target = minutes * SLA_MS_PER_MIN;
    int rc;

    *moved = false;
    if (sla_clock_is_stopped(c) || c->target_ms == target)
        return 0;
    old_due = sla_clock_due(c, now);
    rc = sla_clock_set_target(c, target);
    if (rc < 0)
        return rc;
    sla_alarm_rearm(alarm, old_due, sla_clock_due(c, now), now);
    *moved = true;
    return 0;
}

static bool same_targets(const struct sla_alert_targets *x, const struct sla_alert_targets *y)
{
    /* Field by field: memcmp would also compare padding bytes. */
    return x->ack_min == y->ack_min && x->resolve_min == y->resolve_min &&
           x->warn_pct == y->warn_pct && x->penalty_cph == y->penalty_cph &&
           x->ack_penalty_cph == y->ack_penalty_cph &&
           x->ack_src == y->ack_src && x->resolve_src == y->resolve_src &&
           x->warn_src == y->warn_src && x->penalty_src == y->penalty_src &&
           x->ack_penalty_src == y->ack_penalty_src;
}

/* Shared by severity change and recalculation. */
static int apply_targets(struct sla_alert *n, const struct sla_alert_targets *t,
                         sla_ms now, bool *changed)
{
    bool ack_moved, res_moved;
    int rc;

    rc = retarget(&n->ack, &n->ack_alarm, t->ack_min, now, &ack_moved);
    if (rc == 0)
        rc = retarget(&n->resolve, &n->resolve_alarm, t->resolve_min, now, &res_moved);
    if (rc < 0)
        return rc;
    /* a stopped acknowledge clock was billed at the MTTA rate in force when
     * it stopped (like its target, it keeps what it was judged against) */
    struct sla_alert_targets nt = *t;
    if (n->ack.stopped_at != 0) {
        nt.ack_penalty_cph = n->targets.ack_penalty_cph;
        nt.ack_penalty_src = n->targets.ack_penalty_src;
    }
    *changed = ack_moved || res_moved || !same_targets(&n->targets, &nt);
    n->targets = nt;
    return 0;
}

int sla_alert_set_severity(struct sla_alert *a, enum sla_sev sev,
                           const struct sla_alert_scopes *s, sla_ms now)
{
    struct sla_alert n = *a;
    struct sla_alert_targets t;
    bool changed;
    int rc;

    if (a->state == SLA_ALERT_RESOLVED)
        return SW_E_CONFLICT;
    rc = resolve_targets(sev, s, &t);
    if (rc == 0)
        rc = apply_targets(&n, &t, now, &changed);
    if (rc < 0)
        return rc;
    n.sev = sev;
    *a = n;
    return 0;
}

int sla_alert_recalculate(struct sla_alert *a, const struct sla_alert_scopes *s,
                          sla_ms now, bool *changed)
{
    struct sla_alert n = *a;
    struct sla_alert_targets t;
    bool ch;
    int rc;

    if (!changed)
        return SW_E_INVAL;
    if (a->state == SLA_ALERT_RESOLVED) {
        *changed = false;           /* terminal items are never recalculated */
        return 0;
    }
    rc = resolve_targets(a->sev, s, &t);
    if (rc == 0)
        rc = apply_targets(&n, &t, now, &ch);
    if (rc < 0)
        return rc;
    *a = n;
    *changed = ch;
    return 0;
}
