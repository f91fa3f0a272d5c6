/* tz: IANA time zones through ICU's C API (ucal_*), for the tenant's days
 * and months in reports.  Nothing here is hand-written offset arithmetic:
 * ICU's zone data decides every instant's local date and every local
 * midnight, DST transitions included.
 *
 * A struct tz is a calendar in one zone plus a one-day cache (the local day
 * last asked for, as the UTC interval [lo, hi)), so converting instants
 * sorted by time costs a comparison per instant and three ICU calls per new
 * day.  Not thread-safe: one per thread (or request, or transaction). */
#ifndef SW_UTIL_TZ_H
#define SW_UTIL_TZ_H

#include <stdbool.h>
#include <stdint.h>

#define TZ_NAME_MAX 64

struct tz {
    char name[TZ_NAME_MAX + 1];
    void *cal;                  /* UCalendar * */
    int64_t lo, hi;             /* cached local day: [lo, hi) in UTC ms; lo > hi = none */
    int y, m, d;
};

/* A zone ICU knows (a system zone id: "UTC", "Europe/Paris", an alias like
 * "US/Eastern"); false for anything else, "" and NULL included. */
bool tz_valid(const char *zone);
/* Opens zone; an unknown zone → SW_E_INVAL (t is then unusable). */
int tz_open(struct tz *t, const char *zone);
/* As tz_open, falling back to UTC for an unknown or empty zone. */
void tz_open_or_utc(struct tz *t, const char *zone);
void tz_close(struct tz *t);
/* The local civil date of an instant. */
int tz_local_date(struct tz *t, int64_t ms, int *y, int *m, int *d);
/* The same as "YYYY-MM-DD" (buf >= 11 bytes). */
int tz_local_day(struct tz *t, int64_t ms, char *buf, unsigned len);
/* The first instant of a local day (its midnight, or the first valid time
 * after a transition that skips midnight), in UTC ms.  Any y-m-d that
 * sla_days_from_civil accepts; days out of range normalise (Jan 32 = Feb 1). */
int tz_day_start(struct tz *t, int y, int m, int d, int64_t *out);
/* Today's local date at instant now, and the local date `delta` days from
 * a civil date (pure calendar arithmetic, no zone involved). */
void tz_add_days(int y, int m, int d, int delta, int *oy, int *om, int *od);

#endif
