/* core alarms: warning thresholds, breach notification, next check, re-arm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sla.h"
#include "util/err.h"

#define T0  INT64_C(1795341600000)     /* 2026-11-22T10:00:00Z */
#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR

static const uint8_t th3[] = { 80, 90, 100 };

static struct sla_clock started(sla_ms target)
{
    struct sla_clock c;

    assert_int_equal(sla_clock_start(&c, T0, target), 0);
    return c;
}

static void test_thresholds_normalize(void **state)
{
    int in[] = { 100, 80, 90, 80 };
    int bad_in[] = { 80, 101 };
    int zero[] = { 0 };
    int many[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90 };
    uint8_t out[SLA_THRESHOLDS_MAX];
    size_t n = 0;
    int bad = 0;

    (void)state;
    assert_int_equal(sla_thresholds_normalize(in, 4, out, &n, &bad), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 80);
    assert_int_equal(out[1], 90);
    assert_int_equal(out[2], 100);
    assert_int_equal(sla_thresholds_normalize(bad_in, 2, out, &n, &bad), SW_E_INVAL);
    assert_int_equal(bad, 101);
    assert_int_equal(sla_thresholds_normalize(zero, 1, out, &n, &bad), SW_E_INVAL);
    assert_int_equal(bad, 0);
    assert_int_equal(sla_thresholds_normalize(many, 9, out, &n, &bad), SW_E_INVAL);
    assert_int_equal(sla_thresholds_normalize(in, 0, out, &n, &bad), SW_E_INVAL);
    assert_int_equal(n, 3);     /* untouched by failures */
    assert_int_equal(sla_thresholds_default[0], 80);
}

static void test_warnings_fire_once_per_threshold(void **state)
{
    struct sla_clock c = started(100 * MIN);
    uint32_t fired = 0, now;

    (void)state;
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, fired, T0 + 80 * MIN - 1), 0);
    now = sla_warnings_crossed(&c, th3, 3, fired, T0 + 80 * MIN);
    assert_int_equal(now, 1u << 0);
    fired |= now;
    /* still past 80 %, but already fired: nothing new */
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, fired, T0 + 85 * MIN), 0);
    now = sla_warnings_crossed(&c, th3, 3, fired, T0 + 95 * MIN);
    assert_int_equal(now, 1u << 1);
    fired |= now;
    now = sla_warnings_crossed(&c, th3, 3, fired, T0 + 100 * MIN);   /* 100 % = at due */
    assert_int_equal(now, 1u << 2);
    fired |= now;
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, fired, T0 + 500 * MIN), 0);
}

static void test_late_scheduler_gets_all_crossed(void **state)
{
    struct sla_clock c = started(100 * MIN);

    (void)state;
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, 0, T0 + 99 * MIN), 0x3);
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, 0x1, T0 + 99 * MIN), 0x2);
}

static void test_threshold_rounds_up(void **state)
{
    /* 80 % of 1001 ms is 800.8 ms: the warning waits for 801 */
    struct sla_clock c = started(1001);

    (void)state;
    assert_int_equal(sla_warnings_crossed(&c, th3, 1, 0, T0 + 800), 0);
    assert_int_equal(sla_warnings_crossed(&c, th3, 1, 0, T0 + 801), 1);
    assert_true(sla_threshold_at(&c, 80, T0) == T0 + 801);
}

static void test_warnings_respect_pauses_and_stops(void **state)
{
    struct sla_clock c = started(100 * MIN);
    struct sla_clock s = started(100 * MIN);

    (void)state;
    assert_int_equal(sla_clock_pause(&c, T0 + 50 * MIN), 0);
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, 0, T0 + 500 * MIN), 0);
    assert_int_equal(sla_clock_resume(&c, T0 + 60 * MIN), 0);
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, 0, T0 + 89 * MIN), 0);
    assert_int_equal(sla_warnings_crossed(&c, th3, 3, 0, T0 + 90 * MIN), 1);
    assert_true(sla_threshold_at(&c, 90, T0 + 61 * MIN) == T0 + 100 * MIN);

    /* a resolved item warns about nothing, even if crossed and unfired */
    assert_int_equal(sla_clock_stop(&s, T0 + 95 * MIN), 0);
    assert_int_equal(sla_warnings_crossed(&s, th3, 3, 0, T0 + 96 * MIN), 0);
}

static void test_breach_due_once(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_false(sla_breach_due(&c, false, T0 + HOUR));
    assert_true(sla_breach_due(&c, false, T0 + HOUR + 1));
    assert_false(sla_breach_due(&c, true, T0 + HOUR + 1));
    assert_int_equal(sla_clock_stop(&c, T0 + 2 * HOUR), 0);
    assert_false(sla_breach_due(&c, false, T0 + 3 * HOUR));  /* done: recorded, not notified */
}

static void test_next_check(void **state)
{
    struct sla_clock c = started(100 * MIN);

    (void)state;
    assert_true(sla_next_check(&c, th3, 3, 0, false, T0) == T0 + 80 * MIN);
    assert_true(sla_next_check(&c, th3, 3, 0x1, false, T0) == T0 + 90 * MIN);
    assert_true(sla_next_check(&c, th3, 3, 0x3, false, T0) == T0 + 100 * MIN);
    /* all warnings fired: the breach, 1 ms past due */
    assert_true(sla_next_check(&c, th3, 3, 0x7, false, T0) == T0 + 100 * MIN + 1);
    assert_true(sla_next_check(&c, th3, 3, 0x7, true, T0) == SLA_NEVER);
    /* an overdue unfired threshold is returned as is: look now */
    assert_true(sla_next_check(&c, th3, 3, 0, false, T0 + 95 * MIN) == T0 + 80 * MIN);
    /* no thresholds at all: breach only */
    assert_true(sla_next_check(&c, NULL, 0, 0, false, T0) == T0 + 100 * MIN + 1);

    assert_int_equal(sla_clock_pause(&c, T0 + 10 * MIN), 0);
    assert_true(sla_next_check(&c, th3, 3, 0, false, T0 + 20 * MIN) == SLA_NEVER);
    assert_int_equal(sla_clock_resume(&c, T0 + 30 * MIN), 0);
    assert_true(sla_next_check(&c, th3, 3, 0, false, T0 + 30 * MIN) == T0 + 100 * MIN);
    assert_int_equal(sla_clock_stop(&c, T0 + 40 * MIN), 0);
    assert_true(sla_next_check(&c, th3, 3, 0, false, T0 + 40 * MIN) == SLA_NEVER);
}

static void test_rearm_when_deadline_moves_to_future(void **state)
{
    struct sla_alarm a = { .fired = 0x3, .breach_fired = true };

    (void)state;
    assert_true(sla_alarm_notified(&a));
    assert_true(sla_alarm_rearm(&a, T0, T0 + 10 * HOUR, T0 + HOUR));
    assert_int_equal(a.fired, 0);
    assert_false(a.breach_fired);
    assert_false(sla_alarm_notified(&a));
}

static void test_rearm_kept_when_still_past(void **state)
{
    struct sla_alarm a = { .fired = 0x1, .breach_fired = true };

    (void)state;
    /* extended, but the new deadline is still behind now */
    assert_false(sla_alarm_rearm(&a, T0, T0 + HOUR, T0 + 2 * HOUR));
    assert_int_equal(a.fired, 0x1);
    assert_true(a.breach_fired);
    /* exactly now is not the future */
    assert_false(sla_alarm_rearm(&a, T0, T0 + 2 * HOUR, T0 + 2 * HOUR));
    assert_true(a.breach_fired);
}

static void test_rearm_needs_a_move(void **state)
{
    struct sla_alarm a = { .fired = 0x1 };

    (void)state;
    /* an unmoved deadline keeps its warnings: no duplicates on a no-op recalc */
    assert_false(sla_alarm_rearm(&a, T0 + 5 * HOUR, T0 + 5 * HOUR, T0));
    assert_int_equal(a.fired, 0x1);
    /* a deadline pulled earlier but still in the future also re-arms */
    assert_true(sla_alarm_rearm(&a, T0 + 5 * HOUR, T0 + 3 * HOUR, T0));
    assert_int_equal(a.fired, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds_normalize),
        cmocka_unit_test(test_warnings_fire_once_per_threshold),
        cmocka_unit_test(test_late_scheduler_gets_all_crossed),
        cmocka_unit_test(test_threshold_rounds_up),
        cmocka_unit_test(test_warnings_respect_pauses_and_stops),
        cmocka_unit_test(test_breach_due_once),
        cmocka_unit_test(test_next_check),
        cmocka_unit_test(test_rearm_when_deadline_moves_to_future),
        cmocka_unit_test(test_rearm_kept_when_still_past),
        cmocka_unit_test(test_rearm_needs_a_move),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
