/* slawatch core: business-hours calendars (calendar.c).
 *
 * A calendar is weekly business intervals in wall-clock time of one IANA
 * zone, minus holidays (local days, once or every year).  A clock on a
 * calendar counts only the instants whose local wall time is business time:
 * a spring-forward night that skips an hour inside business hours removes
 * that hour, a fall-back night that repeats one counts it twice.
 *
 * Pure like the rest of core: the zone's offsets come in as data (the UTC
 * instants at which the offset changes, computed from ICU by util/tzcal.c
 * when a calendar is compiled), the compiled calendar lives in memory the
 * caller provides, and nothing reads the clock.
 *
 * The model.  Let L(u) be the local wall time of instant u (u + offset), F
 * the business time of the local time line up to L (weeks × weekly total
 * − holidays: a closed form plus sorted tables), and C(u) the sum of the
 * zone's corrections up to u (each offset change removes the business time
 * its skipped wall range holds, or adds that of its repeated range).  Then
 * the business time up to u is G(u) = F(L(u)) + C(u), and every question is
 * G or one of its two inverses:
 *   elapsed(a, b) = G(b) − G(a);
 *   due(a, t)     the LAST instant u with G(u) − G(a) = t: a target used up
 *                 exactly at a closing time is due at the next opening;
 *   reach(a, t)   the FIRST instant u >= a with G(u) − G(a) = t (when a
 *                 warning's share of the target has elapsed);
 *   start(a)      due(a, 0): the first business instant at or after a.
 * Costs: a few binary searches over the weekly intervals, the holidays and
 * the zone's transitions, plus a step per holiday-dense stretch crossed;
 * no walk over time, no horizon.  Beyond a cycle start (2100, or after the
 * last dated holiday) the calendar repeats every 400 Gregorian years
 * (146097 days, 20871 weeks: dates, weekdays and the zone's final rules
 * repeat), so any instant is answered, however far.
 *
 * Exactness: instants are milliseconds; hours are given to the second,
 * offsets change on seconds; every answer is exact. */
#ifndef SW_CORE_CALENDAR_H
#define SW_CORE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sla.h"

#define SLA_CAL_DAY_S 86400
/* Limits that bound a compiled calendar's size. */
#define SLA_CAL_INTERVALS_MAX 16            /* per weekday */
#define SLA_CAL_HOLIDAYS_MAX 1000

/* One business interval of a weekday: [start_s, end_s) in seconds of the
 * local day, 0 <= start_s < end_s <= 86400 (24:00 ends a day). */
struct sla_cal_interval {
    int32_t start_s, end_s;
};

/* A holiday: a whole local day without business time.  year 0 = every
 * year (MM-DD; 02-29 only in leap years). */
struct sla_cal_holiday {
    int year, month, day;
};

/* From `at` on, the zone's UTC offset is offset_s seconds east. */
struct sla_tz_transition {
    sla_ms at;
    int32_t offset_s;
};

/* What a calendar is made of.  days[0] is Monday.  Each day's intervals in
 * ascending order, not overlapping (touching ones are merged). */
struct sla_cal_spec {
    const struct sla_cal_interval *days[7];
    size_t ndays[7];
    const struct sla_cal_holiday *holidays;
    size_t nholidays;
    /* The zone: its offset before the first transition, and its transitions
     * in ascending order up to sla_cal_zone_until(spec) (at least); those at
     * or after sla_cal_cycle_at(spec) must repeat every 146097 days. */
    int32_t offset_s;
    const struct sla_tz_transition *tr;
    size_t ntr;
};

/* Where a spec is wrong: field "hours" (day 0..6, interval index, or -1 for
 * the week as a whole) or "holidays" (index, or -1). */
struct sla_cal_error {
    const char *field;
    int day;
    int index;
    const char *reason;
};

/* Parses "HH:MM" or "HH:MM:SS" into seconds of the day; "24:00" (and
 * "24:00:00") only when end is true.  SW_E_INVAL otherwise. */
int sla_cal_time_parse(const char *s, bool end, int32_t *sec);
/* "HH:MM", or "HH:MM:SS" when seconds are not 0; 24:00 for 86400. */
void sla_cal_time_format(int32_t sec, char buf[12]);
/* "YYYY-MM-DD" (a real date, 1970..9999) or "MM-DD" (every year; 02-29
 * allowed).  SW_E_INVAL otherwise. */
int sla_cal_holiday_parse(const char *s, struct sla_cal_holiday *out);
/* "YYYY-MM-DD" or "MM-DD" (buf >= 12 bytes). */
void sla_cal_holiday_format(const struct sla_cal_holiday *h, char buf[12]);

/* Hours and holidays only (the zone is not looked at): 0, or SW_E_INVAL
 * with *err saying where (err may be NULL).  Rules: each interval within
 * the day and non-empty, each day's intervals ascending and not
 * overlapping, at most SLA_CAL_INTERVALS_MAX a day, some business time in
 * the week, holidays real dates, at most SLA_CAL_HOLIDAYS_MAX. */
int sla_cal_spec_check(const struct sla_cal_spec *s, struct sla_cal_error *err);

/* The instant from which the zone's transitions must repeat every 146097
 * days (the calendar's cycle start), and the instant up to which the spec
 * must list them (the cycle's end). */
sla_ms sla_cal_cycle_at(const struct sla_cal_spec *s);
sla_ms sla_cal_zone_until(const struct sla_cal_spec *s);

struct sla_cal;

/* Bytes sla_cal_compile needs for s (an upper bound). */
size_t sla_cal_size(const struct sla_cal_spec *s);
/* Compiles s into mem (size bytes, aligned for int64_t); *out points into
 * mem, which must outlive it.  SW_E_INVAL (*err set) for a bad spec, also
 * when holidays leave no business time at all; SW_E_TOOBIG when size is
 * too small. */
int sla_cal_compile(const struct sla_cal_spec *s, void *mem, size_t size,
                    const struct sla_cal **out, struct sla_cal_error *err);

/* Business time per week without holidays (ms). */
sla_ms sla_cal_week_ms(const struct sla_cal *c);

/* The questions (see the top).  Instants in [0, SLA_CAL_MAX_MS]; answers
 * beyond it (a huge target on a nearly closed calendar) are SLA_NEVER. */
#define SLA_CAL_MAX_MS INT64_C(9000000000000000)   /* year ~287,000 */
sla_ms sla_cal_elapsed(const struct sla_cal *c, sla_ms from, sla_ms to); /* 0 when to <= from */
sla_ms sla_cal_start(const struct sla_cal *c, sla_ms t);
sla_ms sla_cal_due(const struct sla_cal *c, sla_ms start, sla_ms business_ms);
sla_ms sla_cal_reach(const struct sla_cal *c, sla_ms start, sla_ms business_ms);
/* The latest instant u with elapsed(u, end) >= business_ms: a clock based
 * at u has used business_ms by end exactly when its base is <= this. */
sla_ms sla_cal_back(const struct sla_cal *c, sla_ms end, sla_ms business_ms);
/* True when [t, t + 1 ms) is business time. */
bool sla_cal_is_open(const struct sla_cal *c, sla_ms t);

#endif
