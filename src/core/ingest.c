/* Items that arrive with a past, and items other tools keep telling us
 * about (sla.h, "Items that reach slawatch with a past").
 *
 * Why fired flags and not a flag "imported": the scheduler fires what is
 * due and not yet fired, and the rest of the code already trusts those
 * flags (one breach per deadline, re-armed only when a deadline moves into
 * the future).  Marking at creation what had happened before ingestion
 * keeps one mechanism: nothing downstream knows an item was imported.
 *
 * Sync: a tool that re-sends its view of an item (Alertmanager every
 * repeat_interval, a DefectDojo page imported twice) must not move it back
 * or undo what a person did here, so only forward steps are taken, and a
 * reopen needs the source's own instant after the stored resolution. */
#include "core/sla.h"

#include "util/err.h"

struct sla_alarm sla_alarm_past(const struct sla_clock *c, const uint8_t *thresholds, size_t n,
                                sla_ms now)
{
    /* the clock as it ran until its stop (or now, if that comes first):
     * what would have fired by then */
    struct sla_clock k = *c;
    sla_ms t = now;
    if (sla_clock_is_stopped(c)) {
        if (c->stopped_at < t)
            t = c->stopped_at;
        k.stopped_at = 0;
    }
    struct sla_alarm a = {
        .fired = sla_warnings_crossed(&k, thresholds, n, 0, t),
        .breach_fired = sla_clock_breached(&k, t),
    };
    return a;
}

size_t sla_alert_warn_threshold(const struct sla_alert *a, uint8_t th[1])
{
    if (a->targets.warn_pct > 0 && a->targets.warn_pct <= 100) {
        th[0] = (uint8_t)a->targets.warn_pct;
        return 1;
    }
    return 0;
}

int sla_alert_ingest(struct sla_alert *a, sla_ms ack_at, sla_ms resolved_at, sla_ms now)
{
    struct sla_alert n = *a;
    uint8_t th[1];
    size_t nth;
    int rc = 0;

    if (ack_at < 0 || resolved_at < 0 || (ack_at && resolved_at && resolved_at < ack_at))
        return SW_E_INVAL;
    if (ack_at)
        rc = sla_alert_acknowledge(&n, ack_at);
    if (rc == 0 && resolved_at)
        rc = sla_alert_resolve(&n, resolved_at);
    if (rc < 0)
        return rc;
    nth = sla_alert_warn_threshold(&n, th);
    n.ack_alarm = sla_alarm_past(&n.ack, th, nth, now);
    n.resolve_alarm = sla_alarm_past(&n.resolve, th, nth, now);
    *a = n;
    return 0;
}

static sla_ms later(sla_ms x, sla_ms y)
{
    return x > y ? x : y;
}

int sla_alert_sync(struct sla_alert *a, enum sla_alert_state want, sla_ms at, sla_ms now,
                   unsigned *done)
{
    struct sla_alert n = *a;
    sla_ms t = later(at ? at : now, later(a->ack.last_event_at, a->resolve.last_event_at));
    unsigned d = 0;
    int rc = 0;

    if (!done || (unsigned)want > SLA_ALERT_RESOLVED)
        return SW_E_INVAL;
    switch (a->state) {
    case SLA_ALERT_RESOLVED:
        /* a new episode only: the source's own instant after ours */
        if (want == SLA_ALERT_RESOLVED || at <= 0 || at <= a->resolved_at)
            break;
        rc = sla_alert_reopen(&n, t);
        d |= SLA_SYNC_REOPENED;
        if (rc == 0 && want == SLA_ALERT_ACKNOWLEDGED && n.state == SLA_ALERT_OPEN) {
            rc = sla_alert_acknowledge(&n, t);
            d |= SLA_SYNC_ACKNOWLEDGED;
        }
        break;
    case SLA_ALERT_OPEN:
    case SLA_ALERT_ACKNOWLEDGED:
        if (want == SLA_ALERT_RESOLVED) {
            rc = sla_alert_resolve(&n, t);
            d |= SLA_SYNC_RESOLVED;
        } else if (want == SLA_ALERT_ACKNOWLEDGED && a->state == SLA_ALERT_OPEN) {
            rc = sla_alert_acknowledge(&n, t);
            d |= SLA_SYNC_ACKNOWLEDGED;
        }
        break;
    }
    if (rc < 0)
        return rc;
    *a = n;
    *done = d;
    return 0;
}

int sla_finding_ingest(struct sla_finding *f, enum sla_finding_state state, sla_ms closed_at,
                       const uint8_t *thresholds, size_t n, sla_ms now)
{
    struct sla_finding x = *f;
    int rc = 0;

    if (state != SLA_FINDING_OPEN) {
        if (!sla_finding_state_terminal(state) || closed_at <= 0)
            return SW_E_INVAL;
        rc = sla_finding_close(&x, state, closed_at);
    }
    if (rc < 0)
        return rc;
    x.alarm = sla_alarm_past(&x.clock, thresholds, n, now);
    *f = x;
    return 0;
}

int sla_finding_sync(struct sla_finding *f, enum sla_finding_state want, sla_ms at,
                     enum sla_sev sev, const struct sla_finding_scopes *s, sla_ms now,
                     unsigned *done)
{
    struct sla_finding x = *f;
    sla_ms t = later(at ? at : now, f->clock.last_event_at);
    unsigned d = 0;
    int rc = 0;

    if (!done || (unsigned)want >= SLA_FINDING_STATE_COUNT || !sla_sev_valid(SLA_FINDING, sev))
        return SW_E_INVAL;
    if (sla_finding_state_terminal(want)) {
        if (!sla_finding_state_terminal(f->state)) {
            rc = sla_finding_close(&x, want, t);
            d |= SLA_SYNC_RESOLVED;
        }
    } else if (want == SLA_FINDING_OPEN && sla_finding_state_terminal(f->state) && at > 0 &&
               at > f->closed_at) {
        rc = sla_finding_reopen(&x, t);
        d |= SLA_SYNC_REOPENED;
    }
    if (rc == 0 && !sla_finding_state_terminal(x.state) && x.sev != sev) {
        rc = sla_finding_set_severity(&x, sev, s, now);
        d |= SLA_SYNC_SEVERITY;
    }
    if (rc < 0)
        return rc;
    *f = x;
    *done = d;
    return 0;
}
