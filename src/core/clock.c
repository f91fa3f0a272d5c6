/* SLA clocks: active time against a target, with pauses and stops.
 *
 * The struct holds only totals and the start of the current pause, not a
 * list of intervals, so it is a fixed-size row the store can update in
 * place. The price is that events must come in time order; last_event_at
 * enforces it (an out-of-order pause would otherwise be counted twice). */
#include "core/sla.h"

#include "core/calendar.h"
#include "util/err.h"

#define TARGET_MAX_MS ((sla_ms)SLA_TARGET_MAX_HOURS * SLA_MS_PER_HOUR)

static bool target_ok(sla_ms target_ms)
{
    return target_ms > 0 && target_ms <= TARGET_MAX_MS;
}

int sla_clock_start(struct sla_clock *c, sla_ms at, sla_ms target_ms)
{
    if (!c || at <= 0 || !target_ok(target_ms))
        return SW_E_INVAL;
    *c = (struct sla_clock){ .started_at = at, .target_ms = target_ms, .last_event_at = at };
    return 0;
}

sla_ms sla_clock_span(const struct sla_clock *c, sla_ms from, sla_ms to)
{
    if (to <= from)
        return 0;
    return c->cal ? sla_cal_elapsed(c->cal, from, to) : to - from;
}

int sla_clock_set_calendar(struct sla_clock *c, const struct sla_cal *cal,
                           const sla_ms (*pauses)[2], size_t npauses)
{
    if (sla_clock_is_stopped(c))
        return SW_E_CONFLICT;
    struct sla_clock n = *c;
    n.cal = cal;
    n.paused_ms = 0;
    for (size_t i = 0; i < npauses; i++)
        n.paused_ms += sla_clock_span(&n, pauses[i][0], pauses[i][1]);
    *c = n;
    return 0;
}

int sla_clock_set_target(struct sla_clock *c, sla_ms target_ms)
{
    if (!c || !target_ok(target_ms))
        return SW_E_INVAL;
    c->target_ms = target_ms;
    return 0;
}

bool sla_clock_is_paused(const struct sla_clock *c)
{
    return c->paused_since != 0;
}

bool sla_clock_is_stopped(const struct sla_clock *c)
{
    return c->stopped_at != 0;
}

static int check_order(const struct sla_clock *c, sla_ms at)
{
    return at < c->last_event_at ? SW_E_INVAL : 0;
}

int sla_clock_pause(struct sla_clock *c, sla_ms at)
{
    if (sla_clock_is_stopped(c) || sla_clock_is_paused(c))
        return SW_E_CONFLICT;
    if (check_order(c, at) < 0)
        return SW_E_INVAL;
    c->paused_since = at;
    c->last_event_at = at;
    return 0;
}

int sla_clock_resume(struct sla_clock *c, sla_ms at)
{
    if (!sla_clock_is_paused(c))
        return SW_E_CONFLICT;
    if (check_order(c, at) < 0)
        return SW_E_INVAL;
    c->paused_ms += sla_clock_span(c, c->paused_since, at);
    c->paused_since = 0;
    c->last_event_at = at;
    return 0;
}

int sla_clock_stop(struct sla_clock *c, sla_ms at)
{
    if (sla_clock_is_stopped(c))
        return SW_E_CONFLICT;
    if (check_order(c, at) < 0)
        return SW_E_INVAL;
    /* A stopped clock is never also paused: close the pause at the stop. */
    if (sla_clock_is_paused(c)) {
        c->paused_ms += sla_clock_span(c, c->paused_since, at);
        c->paused_since = 0;
    }
    if (c->cal) {
        /* the verdict, as the calendar stands now: kept from here on */
        sla_ms e = sla_clock_span(c, c->started_at, at) - c->paused_ms;
        c->stop_elapsed = e > 0 ? e : 0;
        c->stop_due = sla_cal_due(c->cal, c->started_at, c->target_ms + c->paused_ms);
    }
    c->stopped_at = at;
    c->last_event_at = at;
    return 0;
}

int sla_clock_continue(struct sla_clock *c, sla_ms at)
{
    if (!sla_clock_is_stopped(c))
        return SW_E_CONFLICT;
    if (check_order(c, at) < 0)
        return SW_E_INVAL;
    /* The item was done meanwhile: that time is nobody's fault. */
    c->paused_ms += sla_clock_span(c, c->stopped_at, at);
    c->stopped_at = 0;
    c->stop_elapsed = 0;
    c->stop_due = 0;
    c->last_event_at = at;
    return 0;
}

sla_ms sla_clock_paused_total(const struct sla_clock *c, sla_ms now)
{
    if (sla_clock_is_paused(c) && now > c->paused_since)
        return c->paused_ms + sla_clock_span(c, c->paused_since, now);
    return c->paused_ms;
}

/* Stopped on a calendar: the verdict was frozen (stop_due is then a real
 * instant, never 0), whether or not the calendar still exists. */
static bool frozen(const struct sla_clock *c)
{
    return sla_clock_is_stopped(c) && c->stop_due != 0;
}

sla_ms sla_clock_due(const struct sla_clock *c, sla_ms now)
{
    if (frozen(c))
        return c->stop_due;
    if (!c->cal)
        return c->started_at + c->target_ms + sla_clock_paused_total(c, now);
    return sla_cal_due(c->cal, c->started_at, c->target_ms + sla_clock_paused_total(c, now));
}

sla_ms sla_clock_elapsed(const struct sla_clock *c, sla_ms now)
{
    sla_ms end = now;
    sla_ms e;

    if (sla_clock_is_stopped(c)) {
        if (frozen(c))
            return c->stop_elapsed;
        end = c->stopped_at;
    } else if (sla_clock_is_paused(c)) {
        end = c->paused_since;
    }
    e = sla_clock_span(c, c->started_at, end) - c->paused_ms;
    return e > 0 ? e : 0;
}

double sla_clock_fraction(const struct sla_clock *c, sla_ms now)
{
    if (c->target_ms <= 0)
        return 0.0;
    return (double)sla_clock_elapsed(c, now) / (double)c->target_ms;
}

int64_t sla_clock_percent(const struct sla_clock *c, sla_ms now)
{
    if (c->target_ms <= 0)
        return 0;
    /* Targets are at most 10 years, so 100 × elapsed stays in range for
     * any elapsed below ~2.9 million years. */
    return sla_clock_elapsed(c, now) * 100 / c->target_ms;
}

bool sla_clock_breached(const struct sla_clock *c, sla_ms now)
{
    return sla_clock_elapsed(c, now) > c->target_ms;
}

sla_ms sla_clock_overage(const struct sla_clock *c, sla_ms now)
{
    sla_ms over = sla_clock_elapsed(c, now) - c->target_ms;

    return over > 0 ? over : 0;
}

enum sla_outcome sla_clock_outcome(const struct sla_clock *c, sla_ms now)
{
    if (sla_clock_breached(c, now))
        return SLA_BREACHED;
    return sla_clock_is_stopped(c) ? SLA_MET : SLA_PENDING;
}
