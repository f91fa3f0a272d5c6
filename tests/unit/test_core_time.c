/* core time: RFC 3339 parsing and formatting, civil-date arithmetic.
 * Expected instants were computed independently (Python's datetime). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sla.h"
#include "util/err.h"

#define T_2026_11_22_10 INT64_C(1795341600000)   /* 2026-11-22T10:00:00Z */
#define T_2028_02_29    INT64_C(1835395200000)   /* 2028-02-29T00:00:00Z */
#define T_2000_03_01    INT64_C(951868800000)
#define T_9999_END      INT64_C(253402300799000) /* 9999-12-31T23:59:59Z */

static sla_ms parse_ok(const char *s)
{
    sla_ms t = -42;

    assert_int_equal(sla_time_parse(s, &t), 0);
    return t;
}

static void parse_bad(const char *s)
{
    sla_ms t = -42;

    assert_int_equal(sla_time_parse(s, &t), SW_E_INVAL);
    assert_true(t == -42);      /* outputs untouched on failure */
}

static void test_parse_utc(void **state)
{
    (void)state;
    assert_true(parse_ok("2026-11-22T10:00:00Z") == T_2026_11_22_10);
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("1970-01-01T00:00:01Z") == 1000);
    assert_true(parse_ok("9999-12-31T23:59:59Z") == T_9999_END);
    assert_true(parse_ok("2000-03-01T00:00:00Z") == T_2000_03_01);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    assert_true(parse_ok("2026-11-22T12:30:00+02:30") == T_2026_11_22_10);
    assert_true(parse_ok("2026-11-22T05:00:00-05:00") == T_2026_11_22_10);
    assert_true(parse_ok("2026-11-22T10:00:00+00:00") == T_2026_11_22_10);
    assert_true(parse_ok("2026-11-21T23:00:00-11:00") == T_2026_11_22_10);
    /* an offset crossing a month/year boundary */
    assert_true(parse_ok("2027-01-01T00:30:00+01:00") ==
                parse_ok("2026-12-31T23:30:00Z"));
}

static void test_parse_fractions(void **state)
{
    (void)state;
    assert_true(parse_ok("2026-11-22T10:00:00.5Z") == T_2026_11_22_10 + 500);
    assert_true(parse_ok("2026-11-22T10:00:00.05Z") == T_2026_11_22_10 + 50);
    assert_true(parse_ok("2026-11-22T10:00:00.123Z") == T_2026_11_22_10 + 123);
    /* beyond milliseconds: truncated, never rounded into the next ms */
    assert_true(parse_ok("2026-11-22T10:00:00.123999999Z") == T_2026_11_22_10 + 123);
    assert_true(parse_ok("2026-11-22T12:00:00.250+02:00") == T_2026_11_22_10 + 250);
    parse_bad("2026-11-22T10:00:00.Z");
    parse_bad("2026-11-22T10:00:00.1234567890Z");
    parse_bad("2026-11-22T10:00:00,5Z");
}

static void test_parse_rejects_impossible_dates(void **state)
{
    (void)state;
    parse_bad("2026-13-45T10:00:00Z");
    parse_bad("2026-13-01T10:00:00Z");
    parse_bad("2026-00-10T10:00:00Z");
    parse_bad("2026-01-00T10:00:00Z");
    parse_bad("2026-01-32T10:00:00Z");
    parse_bad("2026-04-31T10:00:00Z");
    parse_bad("2026-02-30T10:00:00Z");
    parse_bad("2026-02-29T10:00:00Z");      /* 2026 is not a leap year */
    parse_bad("2100-02-29T10:00:00Z");      /* centuries are not, unless /400 */
    assert_true(parse_ok("2028-02-29T00:00:00Z") == T_2028_02_29);
    assert_true(parse_ok("2000-02-29T00:00:00Z") == T_2000_03_01 - SLA_MS_PER_DAY);
}

static void test_parse_rejects_bad_times(void **state)
{
    (void)state;
    parse_bad("2026-11-22T24:00:00Z");
    parse_bad("2026-11-22T10:60:00Z");
    parse_bad("2026-11-22T10:00:60Z");      /* no leap seconds */
    parse_bad("2026-11-22T10:00:00+24:00");
    parse_bad("2026-11-22T10:00:00+02:60");
}

static void test_parse_rejects_bad_syntax(void **state)
{
    (void)state;
    parse_bad("");
    parse_bad("2026-11-22");
    parse_bad("2026-11-22T10:00:00");       /* missing zone */
    parse_bad("2026-11-22T10:00Z");         /* missing seconds */
    parse_bad("2026-11-22T10:00:00Zjunk");  /* trailing garbage */
    parse_bad("2026-11-22T10:00:00Z ");
    parse_bad(" 2026-11-22T10:00:00Z");
    parse_bad("2026-11-22t10:00:00Z");      /* strict: upper case only */
    parse_bad("2026-11-22T10:00:00z");
    parse_bad("2026-11-22 10:00:00Z");
    parse_bad("2026-11-22T10:00:00+0200");
    parse_bad("2026-11-22T10:00:00+02");
    parse_bad("2026-1-22T10:00:00Z");
    parse_bad("26-11-22T10:00:00Z");
    parse_bad("+2026-11-22T10:00:00Z");
    parse_bad("2026/11/22T10:00:00Z");
    assert_int_equal(sla_time_parse(NULL, &(sla_ms){ 0 }), SW_E_INVAL);
    assert_int_equal(sla_time_parse("2026-11-22T10:00:00Z", NULL), SW_E_INVAL);
}

static void test_parse_year_range(void **state)
{
    (void)state;
    parse_bad("1969-12-31T23:59:59Z");
    parse_bad("10000-01-01T00:00:00Z");
    /* 1970 in text but before the epoch once the offset is applied */
    parse_bad("1970-01-01T00:30:00+01:00");
}

static void test_format(void **state)
{
    char buf[SLA_TIME_BUFSZ];

    (void)state;
    sla_time_format(T_2026_11_22_10, buf);
    assert_string_equal(buf, "2026-11-22T10:00:00.000Z");
    sla_time_format(T_2026_11_22_10 + 123, buf);
    assert_string_equal(buf, "2026-11-22T10:00:00.123Z");
    sla_time_format(T_2026_11_22_10 + 5, buf);
    assert_string_equal(buf, "2026-11-22T10:00:00.005Z");
    sla_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    sla_time_format(T_2028_02_29 + 23 * SLA_MS_PER_HOUR + 59 * SLA_MS_PER_MIN + 59999, buf);
    assert_string_equal(buf, "2028-02-29T23:59:59.999Z");
    sla_time_format(-1, buf);   /* floor, not truncation, before the epoch */
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void test_format_parse_round_trip(void **state)
{
    char buf[SLA_TIME_BUFSZ];

    (void)state;
    /* a stride coprime with days, hours and ms: varied fields */
    for (sla_ms t = 0; t < T_9999_END; t += INT64_C(987654321987)) {
        sla_time_format(t, buf);
        assert_true(parse_ok(buf) == t);
    }
}

static void test_date_and_month(void **state)
{
    int y = 0, m = 0, d = 0;
    char buf[SLA_DATE_BUFSZ];

    (void)state;
    assert_int_equal(sla_date_parse("2028-02-29", &y, &m, &d), 0);
    assert_int_equal(y, 2028);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_int_equal(sla_date_parse("2026-02-29", &y, &m, &d), SW_E_INVAL);
    assert_int_equal(sla_date_parse("2026-13-45", &y, &m, &d), SW_E_INVAL);
    assert_int_equal(sla_date_parse("2026-11-22T", &y, &m, &d), SW_E_INVAL);
    assert_int_equal(sla_date_parse("1969-12-31", &y, &m, &d), SW_E_INVAL);
    assert_int_equal(y, 2028);  /* untouched by failures */

    assert_int_equal(sla_month_parse("2026-11", &y, &m), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 11);
    assert_int_equal(sla_month_parse("2026-13", &y, &m), SW_E_INVAL);
    assert_int_equal(sla_month_parse("2026-00", &y, &m), SW_E_INVAL);
    assert_int_equal(sla_month_parse("2026-1", &y, &m), SW_E_INVAL);
    assert_int_equal(sla_month_parse("2026-11-01", &y, &m), SW_E_INVAL);

    sla_date_format(T_2026_11_22_10, buf);
    assert_string_equal(buf, "2026-11-22");
}

static void test_civil(void **state)
{
    int y, m, d;

    (void)state;
    assert_true(sla_days_from_civil(1970, 1, 1) == 0);
    assert_true(sla_days_from_civil(2000, 3, 1) == T_2000_03_01 / SLA_MS_PER_DAY);
    assert_true(sla_days_from_civil(1969, 12, 31) == -1);
    assert_true(sla_ms_from_civil(2028, 2, 29) == T_2028_02_29);
    sla_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    /* every day of several 400-year cycles, both directions */
    int64_t expect = sla_days_from_civil(1600, 1, 1);
    for (int yy = 1600; yy < 2401; yy++) {
        for (int mm = 1; mm <= 12; mm++) {
            for (int dd = 1; dd <= sla_days_in_month(yy, mm); dd++) {
                assert_true(sla_days_from_civil(yy, mm, dd) == expect);
                sla_civil_from_days(expect, &y, &m, &d);
                assert_true(y == yy && m == mm && d == dd);
                expect++;
            }
        }
    }
    assert_int_equal(sla_days_in_month(2026, 2), 28);
    assert_int_equal(sla_days_in_month(2028, 2), 29);
    assert_int_equal(sla_days_in_month(2026, 13), 0);
    assert_true(sla_is_leap(2000) && !sla_is_leap(1900) && sla_is_leap(2028));
}

static void test_day_start(void **state)
{
    (void)state;
    assert_true(sla_day_start(T_2026_11_22_10) == T_2026_11_22_10 - 10 * SLA_MS_PER_HOUR);
    assert_true(sla_day_start(T_2028_02_29) == T_2028_02_29);
    assert_true(sla_day_start(-1) == -SLA_MS_PER_DAY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_utc),
        cmocka_unit_test(test_parse_offsets),
        cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_rejects_impossible_dates),
        cmocka_unit_test(test_parse_rejects_bad_times),
        cmocka_unit_test(test_parse_rejects_bad_syntax),
        cmocka_unit_test(test_parse_year_range),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_date_and_month),
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_day_start),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
