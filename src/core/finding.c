/* Vulnerability finding lifecycle: one resolve clock, pausable, four
 * terminal states, recalculated when policy changes.
 *
 * The clock's due (started_at + target + paused total) is the seed's
 * recalculation formula (created + resolved hours + paused hours) as long as
 * the clock starts at created_at, which sla_finding_init guarantees. As in
 * alert.c, operations work on a copy and commit only on success. */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

static const char *const state_names[SLA_FINDING_STATE_COUNT] = {
    "open", "paused", "closed", "false_positive", "accepted_risk", "not_accessible",
};

const char *sla_finding_state_name(enum sla_finding_state s)
{
    return (unsigned)s < SLA_FINDING_STATE_COUNT ? state_names[s] : NULL;
}

int sla_finding_state_parse(const char *s, enum sla_finding_state *out)
{
    if (!s || !out)
        return SW_E_INVAL;
    for (int i = 0; i < SLA_FINDING_STATE_COUNT; i++) {
        if (strcmp(state_names[i], s) == 0) {
            *out = (enum sla_finding_state)i;
            return 0;
        }
    }
    return SW_E_INVAL;
}

bool sla_finding_state_terminal(enum sla_finding_state s)
{
    return s >= SLA_FINDING_CLOSED && s < SLA_FINDING_STATE_COUNT;
}

int sla_finding_init(struct sla_finding *f, enum sla_sev sev, sla_ms created_at,
                     const struct sla_finding_scopes *s)
{
    struct sla_finding n = { .sev = sev, .state = SLA_FINDING_OPEN, .created_at = created_at };
    int rc;

    if (!f)
        return SW_E_INVAL;
    rc = sla_finding_policy_resolve(s, sev, &n.target);
    if (rc == 0)
        rc = sla_clock_start(&n.clock, created_at, n.target.hours * SLA_MS_PER_HOUR);
    if (rc < 0)
        return rc;
    *f = n;
    return 0;
}

int sla_finding_pause(struct sla_finding *f, sla_ms at)
{
    int rc;

    if (f->state != SLA_FINDING_OPEN)
        return SW_E_CONFLICT;
    rc = sla_clock_pause(&f->clock, at);
    if (rc < 0)
        return rc;
    f->state = SLA_FINDING_PAUSED;
    return 0;
}

int sla_finding_resume(struct sla_finding *f, sla_ms at)
{
    int rc;

    if (f->state != SLA_FINDING_PAUSED)
        return SW_E_CONFLICT;
    rc = sla_clock_resume(&f->clock, at);
    if (rc < 0)
        return rc;
    f->state = SLA_FINDING_OPEN;
    return 0;
}

int sla_finding_close(struct sla_finding *f, enum sla_finding_state status, sla_ms at)
{
    int rc;

    if (!sla_finding_state_terminal(status))
        return SW_E_INVAL;
    if (sla_finding_state_terminal(f->state))
        return SW_E_CONFLICT;
    /* sla_clock_stop closes a running pause at the same instant. */
    rc = sla_clock_stop(&f->clock, at);
    if (rc < 0)
        return rc;
    f->state = status;
    f->closed_at = at;
    return 0;
}

int sla_finding_reopen(struct sla_finding *f, sla_ms at)
{
    int rc;

    if (!sla_finding_state_terminal(f->state))
        return SW_E_CONFLICT;
    rc = sla_clock_continue(&f->clock, at);
    if (rc < 0)
        return rc;
    f->state = SLA_FINDING_OPEN;
    f->closed_at = 0;
    return 0;
}

/* New hours on the clock (start and pauses untouched) and the re-arm rule;
 * *changed when the stored target or its source differs. */
static int apply_target(struct sla_finding *n, const struct sla_finding_target *t,
                        sla_ms now, bool *changed)
{
    sla_ms old_due = sla_clock_due(&n->clock, now);
    int rc = sla_clock_set_target(&n->clock, t->hours * SLA_MS_PER_HOUR);

    if (rc < 0)
        return rc;
    sla_alarm_rearm(&n->alarm, old_due, sla_clock_due(&n->clock, now), now);
    *changed = n->target.hours != t->hours || n->target.src != t->src ||
               n->target.safety_net != t->safety_net;
    n->target = *t;
    return 0;
}

int sla_finding_set_severity(struct sla_finding *f, enum sla_sev sev,
                             const struct sla_finding_scopes *s, sla_ms now)
{
    struct sla_finding n = *f;
    struct sla_finding_target t;
    bool changed;
    int rc;

    if (sla_finding_state_terminal(f->state))
        return SW_E_CONFLICT;
    rc = sla_finding_policy_resolve(s, sev, &t);
    if (rc == 0)
        rc = apply_target(&n, &t, now, &changed);
    if (rc < 0)
        return rc;
    n.sev = sev;
    *f = n;
    return 0;
}

int sla_finding_recalculate(struct sla_finding *f, const struct sla_finding_scopes *s,
                            sla_ms now, bool *changed)
{
    struct sla_finding n = *f;
    struct sla_finding_target t;
    bool ch = false;
    int rc;

    if (!changed)
        return SW_E_INVAL;
    if (sla_finding_state_terminal(f->state)) {
        *changed = false;           /* no live deadline to move */
        return 0;
    }
    rc = sla_finding_policy_resolve(s, f->sev, &t);
    if (rc == 0)
        rc = apply_target(&n, &t, now, &ch);
    if (rc < 0)
        return rc;
    *f = n;
    *changed = ch;
    return 0;
}
