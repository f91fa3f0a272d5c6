/* Time: strict RFC 3339 parsing and formatting, civil-date arithmetic.
 * Civil ↔ day-number conversions follow Howard Hinnant's public-domain
 * algorithms ("chrono-Compatible Low-Level Date Algorithms"), which need no
 * tables and no libc time functions (timegm is neither pure nor portable). */
#include "core/sla.h"

#include <stdio.h>

#include "util/err.h"

#define YEAR_MIN 1970
#define YEAR_MAX 9999

bool sla_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sla_days_in_month(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (m < 1 || m > 12)
        return 0;
    return m == 2 && sla_is_leap(y) ? 29 : days[m - 1];
}

bool sla_date_valid(int y, int m, int d)
{
    return d >= 1 && d <= sla_days_in_month(y, m);
}

/* Division rounding toward negative infinity: eras before 0000-03-01 and
 * instants before 1970 must land in the right day, not the next one. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t sla_days_from_civil(int y, int m, int d)
{
    /* Years start in March so the leap day is the last day of the year. */
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

void sla_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;

    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

sla_ms sla_ms_from_civil(int y, int m, int d)
{
    return sla_days_from_civil(y, m, d) * SLA_MS_PER_DAY;
}

sla_ms sla_day_start(sla_ms t)
{
    return floor_div(t, SLA_MS_PER_DAY) * SLA_MS_PER_DAY;
}

/* Exactly n ASCII digits at *p, advancing it; false on anything else. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* YYYY-MM-DD at *p (no terminator check), a valid date in range. */
static bool scan_date(const char **p, int *y, int *m, int *d)
{
    if (!digits(p, 4, y) || !expect(p, '-') || !digits(p, 2, m) ||
        !expect(p, '-') || !digits(p, 2, d))
        return false;
    return *y >= YEAR_MIN && *y <= YEAR_MAX && sla_date_valid(*y, *m, *d);
}

/* HH:MM:SS, no hour 24, no leap second (nothing upstream emits one and an
 * SLA clock cannot tell it from the next second). */
static bool scan_clock(const char **p, int *h, int *mi, int *s)
{
    if (!digits(p, 2, h) || !expect(p, ':') || !digits(p, 2, mi) ||
        !expect(p, ':') || !digits(p, 2, s))
        return false;
    return *h <= 23 && *mi <= 59 && *s <= 59;
}

/* Optional .fraction: 1..9 digits, kept to the millisecond (truncated). */
static bool scan_fraction(const char **p, int *ms)
{
    int n = 0;

    *ms = 0;
    if (**p != '.')
        return true;
    (*p)++;
    while (**p >= '0' && **p <= '9') {
        if (n < 3)
            *ms = *ms * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    if (n < 1 || n > 9)
        return false;
    for (; n < 3; n++)
        *ms *= 10;
    return true;
}

/* Z | +HH:MM | -HH:MM → offset east of UTC in minutes. */
static bool scan_zone(const char **p, int *offset_min)
{
    int sign, h, mi;

    if (expect(p, 'Z')) {
        *offset_min = 0;
        return true;
    }
    if (**p != '+' && **p != '-')
        return false;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!digits(p, 2, &h) || !expect(p, ':') || !digits(p, 2, &mi))
        return false;
    if (h > 23 || mi > 59)
        return false;
    *offset_min = sign * (h * 60 + mi);
    return true;
}

int sla_time_parse(const char *s, sla_ms *out)
{
    int y, mo, d, h, mi, sec, ms, off;
    sla_ms t;

    if (!s || !out)
        return SW_E_INVAL;
    if (!scan_date(&s, &y, &mo, &d) || !expect(&s, 'T') ||
        !scan_clock(&s, &h, &mi, &sec) || !scan_fraction(&s, &ms) ||
        !scan_zone(&s, &off) || *s != '\0')
        return SW_E_INVAL;
    t = sla_ms_from_civil(y, mo, d) + h * SLA_MS_PER_HOUR + mi * SLA_MS_PER_MIN +
        sec * SLA_MS_PER_SEC + ms - off * SLA_MS_PER_MIN;
    if (t < 0)
        return SW_E_INVAL;
    *out = t;
    return 0;
}

int sla_date_parse(const char *s, int *y, int *m, int *d)
{
    int yy, mm, dd;

    if (!s || !y || !m || !d)
        return SW_E_INVAL;
    if (!scan_date(&s, &yy, &mm, &dd) || *s != '\0')
        return SW_E_INVAL;
    *y = yy;
    *m = mm;
    *d = dd;
    return 0;
}

int sla_month_parse(const char *s, int *y, int *m)
{
    int yy, mm;

    if (!s || !y || !m)
        return SW_E_INVAL;
    if (!digits(&s, 4, &yy) || !expect(&s, '-') || !digits(&s, 2, &mm) || *s != '\0')
        return SW_E_INVAL;
    if (yy < YEAR_MIN || yy > YEAR_MAX || mm < 1 || mm > 12)
        return SW_E_INVAL;
    *y = yy;
    *m = mm;
    return 0;
}

/* v (0 <= v < 10^width) as exactly width digits at *p. */
static void put_digits(char **p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        (*p)[i] = (char)('0' + v % 10);
    *p += width;
}

void sla_time_format(sla_ms t, char buf[SLA_TIME_BUFSZ])
{
    int64_t days = floor_div(t, SLA_MS_PER_DAY);
    int64_t rest = t - days * SLA_MS_PER_DAY;
    int y, m, d;
    int h = (int)(rest / SLA_MS_PER_HOUR);
    int mi = (int)(rest / SLA_MS_PER_MIN % 60);
    int s = (int)(rest / SLA_MS_PER_SEC % 60);
    int ms = (int)(rest % SLA_MS_PER_SEC);

    sla_civil_from_days(days, &y, &m, &d);
    /* always three fraction digits: one fixed width for every answer, CSV
     * cell and notice, so `…:00.000Z` never sits beside `…:00Z` */
    if (y < 0 || y > 9999) {
        snprintf(buf, SLA_TIME_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, h, mi, s,
                 ms);
        return;
    }
    /* the digits by hand: every time in every answer comes through here,
     * and snprintf's format parsing cost ten times the digits */
    char *p = buf;
    put_digits(&p, y, 4);
    *p++ = '-';
    put_digits(&p, m, 2);
    *p++ = '-';
    put_digits(&p, d, 2);
    *p++ = 'T';
    put_digits(&p, h, 2);
    *p++ = ':';
    put_digits(&p, mi, 2);
    *p++ = ':';
    put_digits(&p, s, 2);
    *p++ = '.';
    put_digits(&p, ms, 3);
    *p++ = 'Z';
    *p = '\0';
}

void sla_date_format(sla_ms t, char buf[SLA_DATE_BUFSZ])
{
    int y, m, d;

    sla_civil_from_days(floor_div(t, SLA_MS_PER_DAY), &y, &m, &d);
    snprintf(buf, SLA_DATE_BUFSZ, "%04d-%02d-%02d", y, m, d);
}
