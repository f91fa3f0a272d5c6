/* util/tz: ICU time zones: validity, local dates across DST transitions
 * (America/New_York), day boundaries (Europe/Paris), the one-day cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/sla.h"
#include "util/err.h"
#include "util/tz.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    assert_int_equal(sla_time_parse(iso, &t), 0);
    return t;
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(tz_valid("UTC"));
    assert_true(tz_valid("Europe/Paris"));
    assert_true(tz_valid("America/New_York"));
    assert_true(tz_valid("US/Eastern"));       /* an alias ICU knows */
    assert_false(tz_valid("Mars/Olympus"));
    assert_false(tz_valid(""));
    assert_false(tz_valid(NULL));
    assert_false(tz_valid("+05:00 "));
    struct tz t;
    assert_int_equal(tz_open(&t, "Nowhere/City"), SW_E_INVAL);
    tz_open_or_utc(&t, "Nowhere/City");
    assert_string_equal(t.name, "UTC");
    tz_close(&t);
}

static void test_new_york_dst(void **state)
{
    (void)state;
    struct tz t;
    char day[16];
    int64_t s, e;
    assert_int_equal(tz_open(&t, "America/New_York"), 0);
    /* 2026-03-08: clocks go 02:00 EST → 03:00 EDT, a 23-hour day */
    assert_int_equal(tz_day_start(&t, 2026, 3, 8, &s), 0);
    assert_int_equal(tz_day_start(&t, 2026, 3, 9, &e), 0);
    assert_int_equal(s, at("2026-03-08T05:00:00Z"));
    assert_int_equal(e, at("2026-03-09T04:00:00Z"));
    assert_int_equal(e - s, 23 * SLA_MS_PER_HOUR);
    /* 2026-11-01: 02:00 EDT → 01:00 EST, a 25-hour day */
    assert_int_equal(tz_day_start(&t, 2026, 11, 1, &s), 0);
    assert_int_equal(tz_day_start(&t, 2026, 11, 2, &e), 0);
    assert_int_equal(e - s, 25 * SLA_MS_PER_HOUR);
    /* 23:30 EDT on Oct 31 is 03:30Z on Nov 1: still October locally */
    assert_int_equal(tz_local_day(&t, at("2026-11-01T03:30:00Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-10-31");
    assert_int_equal(tz_local_day(&t, at("2026-11-01T04:00:00Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-11-01");
    /* the last instant of the long day, then the next day */
    assert_int_equal(tz_local_day(&t, at("2026-11-02T04:59:59.999Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-11-01");
    assert_int_equal(tz_local_day(&t, at("2026-11-02T05:00:00Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-11-02");
    tz_close(&t);
}

static void test_paris_days(void **state)
{
    (void)state;
    struct tz t;
    char day[16];
    int64_t s;
    assert_int_equal(tz_open(&t, "Europe/Paris"), 0);
    /* winter midnight is 23:00Z the day before, summer 22:00Z */
    assert_int_equal(tz_day_start(&t, 2026, 1, 15, &s), 0);
    assert_int_equal(s, at("2026-01-14T23:00:00Z"));
    assert_int_equal(tz_day_start(&t, 2026, 7, 1, &s), 0);
    assert_int_equal(s, at("2026-06-30T22:00:00Z"));
    assert_int_equal(tz_local_day(&t, at("2026-06-30T21:59:59.999Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-06-30");
    assert_int_equal(tz_local_day(&t, at("2026-06-30T22:00:00Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-07-01");
    /* 2026-10-25: a 25-hour day; the cache answers inside it and moves on */
    int64_t a, b;
    assert_int_equal(tz_day_start(&t, 2026, 10, 25, &a), 0);
    assert_int_equal(tz_day_start(&t, 2026, 10, 26, &b), 0);
    assert_int_equal(b - a, 25 * SLA_MS_PER_HOUR);
    for (int64_t x = a - SLA_MS_PER_HOUR; x < b + SLA_MS_PER_HOUR; x += 7 * SLA_MS_PER_MIN) {
        assert_int_equal(tz_local_day(&t, x, day, sizeof(day)), 0);
        const char *want = x < a ? "2026-10-24" : x < b ? "2026-10-25" : "2026-10-26";
        assert_string_equal(day, want);
    }
    /* month boundary: 2026-11-01 00:00 Paris = 2026-10-31T23:00Z */
    assert_int_equal(tz_local_day(&t, at("2026-10-31T23:00:00Z"), day, sizeof(day)), 0);
    assert_string_equal(day, "2026-11-01");
    tz_close(&t);
}

static void test_add_days(void **state)
{
    (void)state;
    int y, m, d;
    tz_add_days(2026, 2, 28, 1, &y, &m, &d);
    assert_true(y == 2026 && m == 3 && d == 1);
    tz_add_days(2028, 2, 28, 1, &y, &m, &d);
    assert_true(y == 2028 && m == 2 && d == 29);
    tz_add_days(2026, 1, 1, -1, &y, &m, &d);
    assert_true(y == 2025 && m == 12 && d == 31);
    tz_add_days(2026, 1, 1, 364, &y, &m, &d);
    assert_true(y == 2026 && m == 12 && d == 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_new_york_dst),
        cmocka_unit_test(test_paris_days),
        cmocka_unit_test(test_add_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
