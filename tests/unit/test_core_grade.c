/* core money and marks: penalties, compliance percentages, grades. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sla.h"

#define T0  INT64_C(1795341600000)
#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR

static void test_penalty_started_hours(void **state)
{
    (void)state;
    assert_int_equal(sla_penalty_cents(5000, 0), 0);                    /* exactly at target */
    assert_int_equal(sla_penalty_cents(5000, 1), 5000);                 /* 1 ms over = 1 h */
    assert_int_equal(sla_penalty_cents(5000, HOUR), 5000);
    assert_int_equal(sla_penalty_cents(5000, HOUR + 1), 10000);
    assert_int_equal(sla_penalty_cents(5000, 3 * HOUR + MIN), 4 * 5000); /* 3 h 1 min = 4 h */
    assert_int_equal(sla_penalty_cents(5000, -HOUR), 0);
    assert_int_equal(sla_penalty_cents(0, 10 * HOUR), 0);
    assert_true(sla_penalty_cents(INT64_MAX / 2, 3 * HOUR) == INT64_MAX); /* saturates */
}

static void test_clock_penalty(void **state)
{
    struct sla_clock c;

    (void)state;
    assert_int_equal(sla_clock_start(&c, T0, 4 * HOUR), 0);
    assert_int_equal(sla_clock_penalty_cents(&c, 10000, T0 + 4 * HOUR), 0);
    assert_int_equal(sla_clock_penalty_cents(&c, 10000, T0 + 4 * HOUR + 1), 10000);
    assert_int_equal(sla_clock_stop(&c, T0 + 7 * HOUR + MIN), 0);
    assert_int_equal(sla_clock_penalty_cents(&c, 10000, T0 + 100 * HOUR), 40000);
}

static void test_grade_bands(void **state)
{
    (void)state;
    assert_int_equal(sla_grade(100.0), 'A');
    assert_int_equal(sla_grade(95.0), 'A');
    assert_int_equal(sla_grade(94.99), 'B');
    assert_int_equal(sla_grade(90.0), 'B');
    assert_int_equal(sla_grade(89.99), 'C');
    assert_int_equal(sla_grade(85.0), 'C');
    assert_int_equal(sla_grade(84.99), 'D');
    assert_int_equal(sla_grade(75.0), 'D');
    assert_int_equal(sla_grade(74.9), 'F');
    assert_int_equal(sla_grade(0.0), 'F');
}

static void test_grade_counts(void **state)
{
    (void)state;
    assert_int_equal(sla_grade_counts(19, 20), 'A');        /* 95 % exactly */
    assert_int_equal(sla_grade_counts(1899, 2000), 'B');    /* 94.95 % */
    assert_int_equal(sla_grade_counts(9, 10), 'B');
    assert_int_equal(sla_grade_counts(17, 20), 'C');
    assert_int_equal(sla_grade_counts(3, 4), 'D');          /* 75 % */
    assert_int_equal(sla_grade_counts(749, 1000), 'F');
    assert_int_equal(sla_grade_counts(0, 0), 'A');          /* no data: nothing broken */
}

static void test_compliance_pct(void **state)
{
    (void)state;
    assert_true(sla_compliance_pct(19, 20) == 95.0);         /* exact, grade A */
    assert_int_equal(sla_grade(sla_compliance_pct(19, 20)), 'A');
    assert_true(sla_compliance_pct(3, 4) == 75.0);
    assert_true(sla_compliance_pct(0, 5) == 0.0);
    assert_true(sla_compliance_pct(0, 0) == 100.0);          /* defined: no data → 100 */
    assert_true(sla_compliance_pct(7, 3) == 100.0);          /* never above 100 */
    /* every count pair agrees with the integer grading at the boundaries */
    for (uint64_t d = 1; d <= 400; d++)
        for (uint64_t m = 0; m <= d; m++)
            assert_int_equal(sla_grade(sla_compliance_pct(m, d)), sla_grade_counts(m, d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_penalty_started_hours),
        cmocka_unit_test(test_clock_penalty),
        cmocka_unit_test(test_grade_bands),
        cmocka_unit_test(test_grade_counts),
        cmocka_unit_test(test_compliance_pct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
