/* Warnings, breach notifications and when to look again.
 *
 * The scheduler keeps one next_check_at per open clock and sleeps until the
 * smallest; these functions decide what fires at an instant and what the
 * next instant is, so the scheduler itself holds no SLA rules. */
#include "core/sla.h"

#include "core/calendar.h"
#include "util/err.h"

const uint8_t sla_thresholds_default[1] = { SLA_WARN_PCT_DEFAULT };

bool sla_alarm_notified(const struct sla_alarm *a)
{
    return a->fired != 0 || a->breach_fired;
}

int sla_thresholds_normalize(const int *in, size_t n, uint8_t out[SLA_THRESHOLDS_MAX],
                             size_t *nout, int *bad)
{
    uint8_t t[SLA_THRESHOLDS_MAX];
    size_t k = 0;

    if (!in || !out || !nout || n == 0)
        return SW_E_INVAL;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < 1 || in[i] > 100) {
            if (bad)
                *bad = in[i];
            return SW_E_INVAL;
        }
    }
    /* Insertion sort with dedupe: at most a handful of values. */
    for (size_t i = 0; i < n; i++) {
        size_t j = k;
        uint8_t v = (uint8_t)in[i];
        bool dup = false;
        for (size_t x = 0; x < k; x++)
            dup = dup || t[x] == v;
        if (dup)
            continue;
        if (k == SLA_THRESHOLDS_MAX) {
            if (bad)
                *bad = in[i];
            return SW_E_INVAL;
        }
        for (; j > 0 && t[j - 1] > v; j--)
            t[j] = t[j - 1];
        t[j] = v;
        k++;
    }
    for (size_t i = 0; i < k; i++)
        out[i] = t[i];
    *nout = k;
    return 0;
}

/* Active milliseconds at which pct % of the target is reached, rounded up
 * so a warning never fires before its percentage is truly elapsed. */
static sla_ms threshold_active_ms(const struct sla_clock *c, unsigned pct)
{
    return (c->target_ms * (sla_ms)pct + 99) / 100;
}

sla_ms sla_threshold_at(const struct sla_clock *c, unsigned pct, sla_ms now)
{
    if (sla_clock_is_stopped(c) || sla_clock_is_paused(c))
        return SLA_NEVER;
    if (c->cal)     /* the first instant that much business time has elapsed */
        return sla_cal_reach(c->cal, c->started_at,
                             sla_clock_paused_total(c, now) + threshold_active_ms(c, pct));
    return c->started_at + sla_clock_paused_total(c, now) + threshold_active_ms(c, pct);
}

uint32_t sla_warnings_crossed(const struct sla_clock *c, const uint8_t *thresholds, size_t n,
                              uint32_t fired_mask, sla_ms now)
{
    uint32_t crossed = 0;
    sla_ms elapsed;

    if (sla_clock_is_stopped(c))
        return 0;
    elapsed = sla_clock_elapsed(c, now);
    for (size_t i = 0; i < n && i < 32; i++) {
        uint32_t bit = UINT32_C(1) << i;
        if (!(fired_mask & bit) && elapsed >= threshold_active_ms(c, thresholds[i]))
            crossed |= bit;
    }
    return crossed;
}

bool sla_breach_due(const struct sla_clock *c, bool breach_fired, sla_ms now)
{
    return !breach_fired && !sla_clock_is_stopped(c) && sla_clock_breached(c, now);
}

sla_ms sla_next_check(const struct sla_clock *c, const uint8_t *thresholds, size_t n,
                      uint32_t fired_mask, bool breach_fired, sla_ms now)
{
    sla_ms next = SLA_NEVER;

    /* A paused clock cannot cross anything; resuming reschedules it. */
    if (sla_clock_is_stopped(c) || sla_clock_is_paused(c))
        return SLA_NEVER;
    for (size_t i = 0; i < n && i < 32; i++) {
        sla_ms at;
        if (fired_mask & (UINT32_C(1) << i))
            continue;
        at = sla_threshold_at(c, thresholds[i], now);
        if (at < next)
            next = at;
    }
    if (!breach_fired) {
        sla_ms due = sla_clock_due(c, now);
        /* strictly past due; a calendar may put the due beyond any date */
        sla_ms breach_at = due == SLA_NEVER ? SLA_NEVER : due + 1;
        if (breach_at < next)
            next = breach_at;
    }
    return next;
}

bool sla_alarm_rearm(struct sla_alarm *a, sla_ms old_due, sla_ms new_due, sla_ms now)
{
    /* Unmoved: the old warnings still describe this deadline. Still past:
     * a second breach notification for the same breach would be noise. */
    if (new_due == old_due || new_due <= now || !sla_alarm_notified(a))
        return false;
    a->fired = 0;
    a->breach_fired = false;
    return true;
}
