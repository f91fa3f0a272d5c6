/* tz.c: see tz.h.  ICU's ucal_* API (libicu, icu-i18n). */
#include "util/tz.h"

#include <stdio.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "core/sla.h"
#include "util/err.h"

static int to_uchars(const char *s, UChar *out, int cap)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(out, cap, &n, s, -1, &st);
    return U_SUCCESS(st) && n < cap ? n : -1;
}

bool tz_valid(const char *zone)
{
    if (!zone || !*zone || strlen(zone) > TZ_NAME_MAX)
        return false;
    UChar id[TZ_NAME_MAX + 1], canon[128];
    int n = to_uchars(zone, id, TZ_NAME_MAX + 1);
    if (n <= 0)
        return false;
    UBool sys = 0;
    UErrorCode st = U_ZERO_ERROR;
    ucal_getCanonicalTimeZoneID(id, n, canon, 128, &sys, &st);
    return U_SUCCESS(st) && sys;
}

int tz_open(struct tz *t, const char *zone)
{
    memset(t, 0, sizeof(*t));
    t->lo = 1;
    t->hi = 0;
    if (!tz_valid(zone))
        return SW_E_INVAL;
    UChar id[TZ_NAME_MAX + 1];
    int n = to_uchars(zone, id, TZ_NAME_MAX + 1);
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal = ucal_open(id, n, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || !cal)
        return SW_E_INVAL;
    /* a skipped midnight (DST at 00:00) starts the day at the transition;
     * a repeated one at its first occurrence */
    ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
    ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
    snprintf(t->name, sizeof(t->name), "%s", zone);
    t->cal = cal;
    return 0;
}

void tz_open_or_utc(struct tz *t, const char *zone)
{
    if (tz_open(t, zone) < 0)
        tz_open(t, "UTC");
}

void tz_close(struct tz *t)
{
    if (t->cal)
        ucal_close(t->cal);
    t->cal = NULL;
}

int tz_day_start(struct tz *t, int y, int m, int d, int64_t *out)
{
    if (!t->cal)
        return SW_E_INVAL;
    UErrorCode st = U_ZERO_ERROR;
    ucal_clear(t->cal);
    ucal_setDateTime(t->cal, y, m - 1, d, 0, 0, 0, &st);
    UDate ms = ucal_getMillis(t->cal, &st);
    if (U_FAILURE(st))
        return SW_E_INVAL;
    *out = (int64_t)ms;
    return 0;
}

int tz_local_date(struct tz *t, int64_t ms, int *y, int *m, int *d)
{
    if (!t->cal)
        return SW_E_INVAL;
    if (ms >= t->lo && ms < t->hi) {
        *y = t->y;
        *m = t->m;
        *d = t->d;
        return 0;
    }
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(t->cal, (UDate)ms, &st);
    int yy = ucal_get(t->cal, UCAL_YEAR, &st);
    int mm = ucal_get(t->cal, UCAL_MONTH, &st) + 1;
    int dd = ucal_get(t->cal, UCAL_DATE, &st);
    if (U_FAILURE(st))
        return SW_E_INVAL;
    int64_t lo, hi;
    int ny, nm, nd;
    tz_add_days(yy, mm, dd, 1, &ny, &nm, &nd);
    if (tz_day_start(t, yy, mm, dd, &lo) == 0 && tz_day_start(t, ny, nm, nd, &hi) == 0 &&
        lo <= ms && ms < hi) {
        t->lo = lo;
        t->hi = hi;
        t->y = yy;
        t->m = mm;
        t->d = dd;
    } else {
        t->lo = 1;
        t->hi = 0;
    }
    *y = yy;
    *m = mm;
    *d = dd;
    return 0;
}

int tz_local_day(struct tz *t, int64_t ms, char *buf, unsigned len)
{
    int y, m, d;
    int rc = tz_local_date(t, ms, &y, &m, &d);
    if (rc < 0)
        return rc;
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
    return 0;
}

void tz_add_days(int y, int m, int d, int delta, int *oy, int *om, int *od)
{
    sla_civil_from_days(sla_days_from_civil(y, m, d) + delta, oy, om, od);
}
