/* Business-hours calendars (core/calendar.c compiled by util/tzcal.c)
 * against a brute-force reference that walks time minute by minute.
 *
 * The reference knows nothing of the compiled tables: for each minute it
 * asks ICU the zone's offset (once per hour, and per minute in an hour
 * whose offset changes), takes the local date and wall time, and says
 * "business" when the date is no holiday and the wall time is inside one
 * of that weekday's intervals.  Elapsed time counts such minutes; due
 * walks until the target is used up and then to the next business minute
 * (a target used up at a closing time is due at the next opening); reach
 * stops where it is used up; back walks backwards.
 *
 * Thousands of random calendars (empty days, whole days, up to three
 * intervals a day, some around the small hours where DST switches happen),
 * random holidays once and every year (weekends included), in zones of
 * both hemispheres and with odd offsets, with starts near their DST
 * transitions and targets that end exactly at a closing time.  Then long
 * targets (2160 h on 8 h a week), the 400-year cycle beyond 2100, and
 * second/millisecond exactness on a short walk by seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "util/err.h"
#include "util/tzcal.h"

#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR
#define DAY SLA_MS_PER_DAY

static const char *const zones[] = {
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Santiago",
    "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "America/Havana",
    "Africa/Casablanca", "Europe/London", "America/Sao_Paulo", "Asia/Tehran",
    "Pacific/Auckland",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* ---- deterministic randomness ----------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1du;
}

static int64_t rnd_in(int64_t lo, int64_t hi)     /* [lo, hi] */
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* ---- the reference ------------------------------------------------------------------- */

struct ref {
    struct sla_cal_interval iv[7][4];
    size_t n[7];
    struct sla_cal_holiday hol[16];
    size_t nhol;
    const char *zone;
    UCalendar *ucal;
    int64_t cache_hour;         /* UTC hour whose offsets are cached */
    int64_t cache_off;          /* its offset (ms), or INT64_MIN: per minute */
};

static int64_t icu_offset(struct ref *r, int64_t u)
{
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(r->ucal, (UDate)u, &st);
    int64_t z = ucal_get(r->ucal, UCAL_ZONE_OFFSET, &st);
    int64_t d = ucal_get(r->ucal, UCAL_DST_OFFSET, &st);
    assert_true(U_SUCCESS(st));
    return z + d;
}

static int64_t ref_offset(struct ref *r, int64_t u)
{
    int64_t h = u / HOUR;
    if (h != r->cache_hour) {
        int64_t a = icu_offset(r, h * HOUR), b = icu_offset(r, (h + 1) * HOUR);
        r->cache_hour = h;
        r->cache_off = a == b ? a : INT64_MIN;
    }
    return r->cache_off != INT64_MIN ? r->cache_off : icu_offset(r, u);
}

/* Is the minute (or second) starting at u business time? */
static bool ref_open(struct ref *r, int64_t u)
{
    int64_t L = u + ref_offset(r, u);
    int64_t d = L >= 0 ? L / DAY : -((-L + DAY - 1) / DAY);
    int64_t tod_s = (L - d * DAY) / 1000;
    int y, m, dd;
    sla_civil_from_days(d, &y, &m, &dd);
    for (size_t i = 0; i < r->nhol; i++)
        if (r->hol[i].month == m && r->hol[i].day == dd && (!r->hol[i].year || r->hol[i].year == y))
            return false;
    int wd = (int)(((d % 7) + 7 + 3) % 7);      /* Monday 0; 1970-01-01 was a Thursday */
    for (size_t i = 0; i < r->n[wd]; i++)
        if (tod_s >= r->iv[wd][i].start_s && tod_s < r->iv[wd][i].end_s)
            return true;
    return false;
}

static int64_t ref_elapsed(struct ref *r, int64_t a, int64_t b, int64_t step)
{
    int64_t n = 0;
    for (int64_t u = a; u < b; u += step)
        if (ref_open(r, u))
            n += step;
    return n;
}

static int64_t ref_next_open(struct ref *r, int64_t u, int64_t step)
{
    while (!ref_open(r, u))
        u += step;
    return u;
}

/* reach: where t is used up; due: then the next business instant. */
static void ref_walk(struct ref *r, int64_t a, int64_t t, int64_t step, int64_t *reach,
                     int64_t *due)
{
    int64_t acc = 0, u = a;
    while (acc < t) {
        if (ref_open(r, u))
            acc += step;
        u += step;
    }
    *reach = u;
    *due = ref_next_open(r, u, step);
}

static int64_t ref_back(struct ref *r, int64_t end, int64_t t, int64_t step)
{
    int64_t acc = 0, u = end;
    while (acc < t) {
        u -= step;
        if (ref_open(r, u))
            acc += step;
    }
    return u;
}

static void ref_open_zone(struct ref *r, const char *zone)
{
    UChar id[80];
    int32_t len = 0;
    UErrorCode st = U_ZERO_ERROR;
    u_strFromUTF8(id, 80, &len, zone, -1, &st);
    r->ucal = ucal_open(id, len, "en_US_POSIX", UCAL_GREGORIAN, &st);
    assert_true(U_SUCCESS(st));
    r->zone = zone;
    r->cache_hour = INT64_MIN;
}

static void ref_spec(const struct ref *r, struct sla_cal_spec *s)
{
    memset(s, 0, sizeof(*s));
    for (int d = 0; d < 7; d++) {
        s->days[d] = r->iv[d];
        s->ndays[d] = r->n[d];
    }
    s->holidays = r->hol;
    s->nholidays = r->nhol;
}

static void compile(struct ref *r, struct tzcal *t)
{
    struct sla_cal_spec s;
    struct sla_cal_error err;
    ref_spec(r, &s);
    int rc = tzcal_compile(r->zone, &s, t, &err);
    if (rc != 0)
        fail_msg("compile %s: %s", r->zone, err.reason);
}

/* A random week: empty days, whole days, up to three intervals, minute
 * granularity, some in the small hours where zones switch. */
static void random_week(struct ref *r)
{
    int64_t total;
    do {
        total = 0;
        for (int d = 0; d < 7; d++) {
            r->n[d] = 0;
            int kind = (int)rnd_in(0, 9);
            if (kind <= 1)
                continue;
            if (kind == 2) {
                r->iv[d][0] = (struct sla_cal_interval){0, SLA_CAL_DAY_S};
                r->n[d] = 1;
                total += SLA_CAL_DAY_S;
                continue;
            }
            int k = (int)rnd_in(1, 3);
            int32_t at = kind == 3 ? 0 : (int32_t)rnd_in(0, 10) * 3600;
            for (int i = 0; i < k && at < SLA_CAL_DAY_S; i++) {
                int32_t s = at + (int32_t)rnd_in(0, 4 * 60) * 60;
                int32_t e = s + (int32_t)rnd_in(1, 8 * 60) * 60;
                if (s >= SLA_CAL_DAY_S)
                    break;
                if (e > SLA_CAL_DAY_S)
                    e = SLA_CAL_DAY_S;
                r->iv[d][r->n[d]++] = (struct sla_cal_interval){s, e};
                total += e - s;
                at = e + (rnd_in(0, 3) == 0 ? 0 : (int32_t)rnd_in(1, 120) * 60);
            }
        }
    } while (total == 0);
    r->nhol = 0;
    int ny = (int)rnd_in(0, 6), no = (int)rnd_in(0, 6);
    for (int i = 0; i < ny; i++) {
        int m = (int)rnd_in(1, 12), d = (int)rnd_in(1, sla_days_in_month(2001, m));
        r->hol[r->nhol++] = (struct sla_cal_holiday){0, m, d};
    }
    for (int i = 0; i < no; i++) {
        int y = (int)rnd_in(2024, 2032), m = (int)rnd_in(1, 12), d = (int)rnd_in(1, 28);
        r->hol[r->nhol++] = (struct sla_cal_holiday){y, m, d};
    }
}

/* A DST transition of the zone between 2024 and 2032, or 0. */
static int64_t some_transition(const char *zone)
{
    int32_t off;
    struct sla_tz_transition *tr;
    size_t n;
    sla_ms a, b;
    sla_time_parse("2024-01-01T00:00:00Z", &a);
    sla_time_parse("2032-01-01T00:00:00Z", &b);
    assert_int_equal(tzcal_transitions(zone, a, b, &off, &tr, &n), 0);
    int64_t t = n ? tr[rnd_in(0, (int64_t)n - 1)].at : 0;
    free(tr);
    return t;
}

static int64_t random_start(const char *zone)
{
    sla_ms a, b;
    sla_time_parse("2024-01-01T00:00:00Z", &a);
    sla_time_parse("2032-01-01T00:00:00Z", &b);
    if (rnd_in(0, 2) == 0) {
        int64_t t = some_transition(zone);
        if (t)
            return (t / MIN + rnd_in(-3 * 24 * 60, 24 * 60)) * MIN;
    }
    return rnd_in(a / MIN, b / MIN) * MIN;
}

static int checked;

static void check_one(struct ref *r, const struct sla_cal *c, int64_t a, int64_t t)
{
    int64_t reach, due;
    ref_walk(r, a, t, MIN, &reach, &due);
    int64_t got_due = sla_cal_due(c, a, t), got_reach = sla_cal_reach(c, a, t);
    if (got_due != due || (t > 0 && got_reach != reach)) {
        char s[SLA_TIME_BUFSZ], d1[SLA_TIME_BUFSZ], d2[SLA_TIME_BUFSZ];
        sla_time_format(a, s);
        sla_time_format(due, d1);
        sla_time_format(got_due, d2);
        fail_msg("%s start %s target %lld min: due %s, got %s (reach %lld vs %lld)", r->zone, s,
                 (long long)(t / MIN), d1, d2, (long long)reach, (long long)got_reach);
    }
    int64_t back = ref_back(r, due, t, MIN);
    if (t > 0 && sla_cal_back(c, due, t) != back)
        fail_msg("%s back from %lld by %lld: %lld, got %lld", r->zone, (long long)due,
                 (long long)t, (long long)back, (long long)sla_cal_back(c, due, t));
    int64_t b = a + rnd_in(0, 20 * 24 * 60) * MIN;
    int64_t e = ref_elapsed(r, a, b, MIN);
    if (sla_cal_elapsed(c, a, b) != e)
        fail_msg("%s elapsed %lld..%lld: %lld, got %lld", r->zone, (long long)a, (long long)b,
                 (long long)e, (long long)sla_cal_elapsed(c, a, b));
    if (sla_cal_start(c, a) != ref_next_open(r, a, MIN))
        fail_msg("%s start of %lld", r->zone, (long long)a);
    if (sla_cal_is_open(c, a) != ref_open(r, a))
        fail_msg("%s open at %lld", r->zone, (long long)a);
    checked++;
}

/* A target that ends exactly at a closing time: the business time from a
 * to the end of the first interval that closes after it. */
static int64_t target_to_closing(struct ref *r, int64_t a)
{
    int64_t u = ref_next_open(r, a, MIN);
    u += rnd_in(0, 3) * 7 * DAY;          /* sometimes weeks later */
    u = ref_next_open(r, u, MIN);
    while (ref_open(r, u))
        u += MIN;
    return ref_elapsed(r, a, u, MIN);
}

static void test_random_calendars(void **state)
{
    (void)state;
    for (int cal = 0; cal < 420; cal++) {
        struct ref r;
        memset(&r, 0, sizeof(r));
        ref_open_zone(&r, zones[cal % NZONES]);
        random_week(&r);
        struct tzcal t;
        compile(&r, &t);
        for (int q = 0; q < 8; q++) {
            int64_t a = random_start(r.zone), target;
            switch (rnd_in(0, 4)) {
            case 0: target = 0; break;
            case 1: target = target_to_closing(&r, a); break;
            case 2: target = rnd_in(1, 60) * MIN; break;
            default: target = rnd_in(1, 60 * 60) * MIN; break;
            }
            check_one(&r, t.cal, a, target);
        }
        tzcal_free(&t);
        ucal_close(r.ucal);
    }
    print_message("checked %d random cases\n", checked);
    assert_true(checked >= 3000);
}

/* 2160 hours on 8 hours a week: five years of weeks, holidays on the way. */
static void test_long_target(void **state)
{
    (void)state;
    static const char *const zz[] = {"Europe/Berlin", "Australia/Sydney", "America/Santiago"};
    for (size_t z = 0; z < 3; z++) {
        struct ref r;
        memset(&r, 0, sizeof(r));
        ref_open_zone(&r, zz[z]);
        r.iv[1][0] = (struct sla_cal_interval){9 * 3600, 13 * 3600};     /* Tue 09-13 */
        r.iv[3][0] = (struct sla_cal_interval){1 * 3600, 5 * 3600};      /* Thu 01-05 */
        r.n[1] = r.n[3] = 1;
        r.hol[r.nhol++] = (struct sla_cal_holiday){0, 12, 25};
        r.hol[r.nhol++] = (struct sla_cal_holiday){0, 1, 1};
        r.hol[r.nhol++] = (struct sla_cal_holiday){2027, 3, 4};
        struct tzcal t;
        compile(&r, &t);
        sla_ms a;
        sla_time_parse("2026-05-05T07:13:00Z", &a);
        check_one(&r, t.cal, a, 2160 * HOUR);
        /* exactly the same answer from a start on the other side of a week */
        check_one(&r, t.cal, a + 3 * DAY, 2160 * HOUR);
        tzcal_free(&t);
        ucal_close(r.ucal);
    }
}

/* Beyond 2100 the calendar repeats every 400 years: compare the cycle's
 * formula with the walk across its start and far into it. */
static void test_cycle(void **state)
{
    (void)state;
    struct ref r;
    memset(&r, 0, sizeof(r));
    ref_open_zone(&r, "Europe/Paris");
    for (int d = 0; d < 5; d++) {
        r.iv[d][0] = (struct sla_cal_interval){2 * 3600, 12 * 3600};
        r.n[d] = 1;
    }
    r.iv[6][0] = (struct sla_cal_interval){0, SLA_CAL_DAY_S};
    r.n[6] = 1;
    r.hol[r.nhol++] = (struct sla_cal_holiday){0, 5, 1};
    r.hol[r.nhol++] = (struct sla_cal_holiday){0, 3, 29};
    r.hol[r.nhol++] = (struct sla_cal_holiday){0, 2, 29};
    struct tzcal t;
    compile(&r, &t);
    static const char *const starts[] = {"2099-12-20T10:00:00Z", "2107-03-20T00:00:00Z",
                                         "2543-10-20T05:00:00Z", "2999-03-25T00:00:00Z"};
    for (size_t i = 0; i < 4; i++) {
        sla_ms a;
        assert_int_equal(sla_time_parse(starts[i], &a), 0);
        check_one(&r, t.cal, a, 500 * HOUR);
        check_one(&r, t.cal, a, 17 * MIN);
    }
    tzcal_free(&t);
    ucal_close(r.ucal);
}

/* Seconds and milliseconds: hours given to the second, starts at any ms,
 * walked second by second. */
static void test_seconds(void **state)
{
    (void)state;
    static const char *const zz[] = {"Asia/Kolkata", "America/New_York"};
    for (size_t z = 0; z < 2; z++) {
        struct ref r;
        memset(&r, 0, sizeof(r));
        ref_open_zone(&r, zz[z]);
        for (int d = 0; d < 7; d++) {
            r.iv[d][0] = (struct sla_cal_interval){1 * 3600 + 17, 2 * 3600 + 41};
            r.iv[d][1] = (struct sla_cal_interval){9 * 3600 + 1, 9 * 3600 + 59};
            r.n[d] = 2;
        }
        struct tzcal t;
        compile(&r, &t);
        for (int q = 0; q < 40; q++) {
            int64_t a = random_start(r.zone) / 1000 * 1000 + rnd_in(0, 59) * 1000;
            int64_t target = rnd_in(1, 3 * 3600) * 1000;
            int64_t reach, due;
            ref_walk(&r, a, target, 1000, &reach, &due);
            assert_true(sla_cal_due(t.cal, a, target) == due);
            assert_true(sla_cal_reach(t.cal, a, target) == reach);
            /* a start 250 ms into a second: everything moves by 250 ms
             * while open, and the first business instant is its own */
            int64_t b = a + 250;
            if (ref_open(&r, a)) {
                assert_true(sla_cal_start(t.cal, b) == b);
                assert_true(sla_cal_elapsed(t.cal, b, b + 500) == 500);
            }
            assert_true(sla_cal_elapsed(t.cal, a, a + 3 * HOUR) ==
                        ref_elapsed(&r, a, a + 3 * HOUR, 1000));
        }
        tzcal_free(&t);
        ucal_close(r.ucal);
    }
}

/* The contract's own examples, by hand. */
static void test_examples(void **state)
{
    (void)state;
    struct ref r;
    memset(&r, 0, sizeof(r));
    ref_open_zone(&r, "Europe/Berlin");
    for (int d = 0; d < 5; d++) {
        r.iv[d][0] = (struct sla_cal_interval){9 * 3600, 18 * 3600};
        r.n[d] = 1;
    }
    r.hol[r.nhol++] = (struct sla_cal_holiday){2026, 12, 25};
    r.hol[r.nhol++] = (struct sla_cal_holiday){0, 1, 1};
    struct tzcal t;
    compile(&r, &t);
    sla_ms a, want;
    /* Friday 2026-12-18 17:00 Berlin + 2 h: 1 h Friday, then Monday 09:00 + 1 h */
    sla_time_parse("2026-12-18T16:00:00Z", &a);
    sla_time_parse("2026-12-21T09:00:00Z", &want);
    assert_true(sla_cal_due(t.cal, a, 2 * HOUR) == want);
    /* used up exactly at Friday 18:00: due at Monday 09:00 (the next opening) */
    sla_time_parse("2026-12-21T08:00:00Z", &want);
    assert_true(sla_cal_due(t.cal, a, 1 * HOUR) == want);
    sla_time_parse("2026-12-18T17:00:00Z", &want);
    assert_true(sla_cal_reach(t.cal, a, 1 * HOUR) == want);
    /* Thursday 24th 17:00 + 2 h: the 25th is a holiday, the 26th-27th a weekend */
    sla_time_parse("2026-12-24T16:00:00Z", &a);
    sla_time_parse("2026-12-28T09:00:00Z", &want);
    assert_true(sla_cal_due(t.cal, a, 2 * HOUR) == want);
    /* a Saturday start begins on Monday 09:00 */
    sla_time_parse("2026-12-19T10:00:00Z", &a);
    sla_time_parse("2026-12-21T08:00:00Z", &want);
    assert_true(sla_cal_start(t.cal, a) == want);
    /* spring forward, Sunday 2027-03-28: a 24x7 day in Berlin lasts 23 h */
    tzcal_free(&t);
    memset(r.n, 0, sizeof(r.n));
    r.iv[6][0] = (struct sla_cal_interval){0, SLA_CAL_DAY_S};
    r.n[6] = 1;
    compile(&r, &t);
    sla_time_parse("2027-03-27T23:00:00Z", &a);         /* Sunday 00:00 CET */
    assert_true(sla_cal_elapsed(t.cal, a, a + 2 * DAY) == 23 * HOUR);
    sla_time_parse("2027-10-30T22:00:00Z", &a);         /* Sunday 00:00 CEST */
    assert_true(sla_cal_elapsed(t.cal, a, a + 2 * DAY) == 25 * HOUR);
    tzcal_free(&t);
    ucal_close(r.ucal);
}

static void test_bad_specs(void **state)
{
    (void)state;
    struct sla_cal_interval a[2] = {{9 * 3600, 12 * 3600}, {11 * 3600, 13 * 3600}};
    struct sla_cal_spec s;
    memset(&s, 0, sizeof(s));
    struct sla_cal_error err;
    assert_int_equal(sla_cal_spec_check(&s, &err), SW_E_INVAL);     /* no business time */
    assert_string_equal(err.field, "hours");
    s.days[2] = a;
    s.ndays[2] = 2;
    assert_int_equal(sla_cal_spec_check(&s, &err), SW_E_INVAL);     /* overlap */
    assert_int_equal(err.day, 2);
    assert_int_equal(err.index, 1);
    a[1] = (struct sla_cal_interval){12 * 3600, 13 * 3600};         /* touching: fine */
    assert_int_equal(sla_cal_spec_check(&s, &err), 0);
    struct sla_cal_holiday h = {2026, 2, 30};
    s.holidays = &h;
    s.nholidays = 1;
    assert_int_equal(sla_cal_spec_check(&s, &err), SW_E_INVAL);
    assert_string_equal(err.field, "holidays");
    struct tzcal t;
    h.day = 28;
    assert_int_equal(tzcal_compile("Mars/Olympus_Mons", &s, &t, &err), SW_E_INVAL);
    assert_string_equal(err.field, "timezone");
    /* every day of the year a holiday: no business time, ever */
    struct sla_cal_holiday all[366];
    size_t n = 0;
    for (int m = 1; m <= 12; m++)
        for (int d = 1; d <= sla_days_in_month(2000, m); d++)
            all[n++] = (struct sla_cal_holiday){0, m, d};
    s.holidays = all;
    s.nholidays = n;
    assert_int_equal(tzcal_compile("UTC", &s, &t, &err), SW_E_INVAL);
    assert_string_equal(err.field, "holidays");
    /* parsers */
    int32_t sec;
    assert_int_equal(sla_cal_time_parse("24:00", true, &sec), 0);
    assert_int_equal(sec, 86400);
    assert_int_equal(sla_cal_time_parse("24:00", false, &sec), SW_E_INVAL);
    assert_int_equal(sla_cal_time_parse("25:00", true, &sec), SW_E_INVAL);
    assert_int_equal(sla_cal_time_parse("09:60", false, &sec), SW_E_INVAL);
    assert_int_equal(sla_cal_time_parse("9:00", false, &sec), SW_E_INVAL);
    assert_int_equal(sla_cal_time_parse("09:00:30", false, &sec), 0);
    assert_int_equal(sec, 9 * 3600 + 30);
    struct sla_cal_holiday hh;
    assert_int_equal(sla_cal_holiday_parse("02-29", &hh), 0);
    assert_int_equal(sla_cal_holiday_parse("02-30", &hh), SW_E_INVAL);
    assert_int_equal(sla_cal_holiday_parse("2027-02-29", &hh), SW_E_INVAL);
    assert_int_equal(sla_cal_holiday_parse("christmas", &hh), SW_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_long_target),
        cmocka_unit_test(test_random_calendars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
