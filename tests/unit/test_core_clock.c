/* core clocks: due, elapsed, pauses, stops, breach and overage. */
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

static struct sla_clock started(sla_ms target)
{
    struct sla_clock c;

    assert_int_equal(sla_clock_start(&c, T0, target), 0);
    return c;
}

static void test_start_validates(void **state)
{
    struct sla_clock c = { .started_at = 7 };

    (void)state;
    assert_int_equal(sla_clock_start(&c, 0, HOUR), SW_E_INVAL);     /* 0 means "none" */
    assert_int_equal(sla_clock_start(&c, T0, 0), SW_E_INVAL);
    assert_int_equal(sla_clock_start(&c, T0, -HOUR), SW_E_INVAL);
    assert_int_equal(sla_clock_start(&c, T0, (SLA_TARGET_MAX_HOURS + 1) * HOUR), SW_E_INVAL);
    assert_true(c.started_at == 7);
    assert_int_equal(sla_clock_start(&c, T0, HOUR), 0);
    assert_true(c.started_at == T0 && c.target_ms == HOUR && c.paused_ms == 0);
    assert_false(sla_clock_is_paused(&c));
    assert_false(sla_clock_is_stopped(&c));
}

static void test_running_clock(void **state)
{
    struct sla_clock c = started(4 * HOUR);

    (void)state;
    assert_true(sla_clock_due(&c, T0) == T0 + 4 * HOUR);
    assert_true(sla_clock_elapsed(&c, T0 + 3 * HOUR) == 3 * HOUR);
    assert_true(sla_clock_elapsed(&c, T0 - HOUR) == 0);     /* never negative */
    assert_int_equal(sla_clock_percent(&c, T0 + 3 * HOUR), 75);
    assert_true(sla_clock_fraction(&c, T0 + 2 * HOUR) == 0.5);
    assert_int_equal(sla_clock_outcome(&c, T0 + HOUR), SLA_PENDING);
}

static void test_breach_is_strictly_past_due(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_false(sla_clock_breached(&c, T0 + HOUR));
    assert_true(sla_clock_overage(&c, T0 + HOUR) == 0);
    assert_true(sla_clock_breached(&c, T0 + HOUR + 1));
    assert_true(sla_clock_overage(&c, T0 + HOUR + 1) == 1);
    assert_int_equal(sla_clock_outcome(&c, T0 + HOUR + 1), SLA_BREACHED);  /* running, breached */
    assert_int_equal(sla_clock_percent(&c, T0 + 2 * HOUR), 200);
}

static void test_stop_met_or_breached(void **state)
{
    struct sla_clock met = started(HOUR), late = started(HOUR);

    (void)state;
    assert_int_equal(sla_clock_stop(&met, T0 + HOUR), 0);           /* exactly at due */
    assert_false(sla_clock_breached(&met, T0 + 100 * HOUR));        /* frozen */
    assert_int_equal(sla_clock_outcome(&met, T0 + 100 * HOUR), SLA_MET);
    assert_true(sla_clock_elapsed(&met, T0 + 100 * HOUR) == HOUR);

    assert_int_equal(sla_clock_stop(&late, T0 + HOUR + 30 * MIN), 0);
    assert_true(sla_clock_breached(&late, T0 + 100 * HOUR));
    assert_true(sla_clock_overage(&late, T0 + 100 * HOUR) == 30 * MIN);
    assert_int_equal(sla_clock_outcome(&late, T0 + 100 * HOUR), SLA_BREACHED);
    assert_int_equal(sla_clock_stop(&late, T0 + 200 * HOUR), SW_E_CONFLICT);
}

static void test_pause_moves_due(void **state)
{
    struct sla_clock c = started(4 * HOUR);

    (void)state;
    assert_int_equal(sla_clock_pause(&c, T0 + HOUR), 0);
    assert_true(sla_clock_is_paused(&c));
    /* while paused, the effective due moves with now */
    assert_true(sla_clock_due(&c, T0 + 2 * HOUR) == T0 + 5 * HOUR);
    assert_true(sla_clock_due(&c, T0 + 3 * HOUR) == T0 + 6 * HOUR);
    assert_true(sla_clock_elapsed(&c, T0 + 3 * HOUR) == HOUR);      /* frozen */
    assert_true(sla_clock_paused_total(&c, T0 + 3 * HOUR) == 2 * HOUR);
    assert_int_equal(sla_clock_resume(&c, T0 + 3 * HOUR), 0);
    assert_true(c.paused_ms == 2 * HOUR);
    assert_true(sla_clock_due(&c, T0 + 10 * HOUR) == T0 + 6 * HOUR);
    assert_true(sla_clock_elapsed(&c, T0 + 4 * HOUR) == 2 * HOUR);
}

static void test_several_pause_cycles(void **state)
{
    struct sla_clock c = started(10 * HOUR);

    (void)state;
    for (int i = 0; i < 3; i++) {
        sla_ms base = T0 + i * 4 * HOUR;
        assert_int_equal(sla_clock_pause(&c, base + HOUR), 0);
        assert_int_equal(sla_clock_resume(&c, base + HOUR + 30 * MIN), 0);
    }
    assert_true(c.paused_ms == 90 * MIN);
    assert_true(sla_clock_due(&c, T0 + 12 * HOUR) == T0 + 10 * HOUR + 90 * MIN);
    assert_false(sla_clock_breached(&c, T0 + 10 * HOUR + 90 * MIN));
    assert_true(sla_clock_breached(&c, T0 + 10 * HOUR + 90 * MIN + 1));
}

static void test_pause_state_conflicts(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_int_equal(sla_clock_resume(&c, T0 + 1), SW_E_CONFLICT);
    assert_int_equal(sla_clock_continue(&c, T0 + 1), SW_E_CONFLICT);
    assert_int_equal(sla_clock_pause(&c, T0 + 1), 0);
    assert_int_equal(sla_clock_pause(&c, T0 + 2), SW_E_CONFLICT);
    assert_true(c.paused_since == T0 + 1);
    assert_int_equal(sla_clock_stop(&c, T0 + 3), 0);
    assert_int_equal(sla_clock_pause(&c, T0 + 4), SW_E_CONFLICT);
    assert_int_equal(sla_clock_resume(&c, T0 + 4), SW_E_CONFLICT);
}

static void test_events_cannot_go_back(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_int_equal(sla_clock_pause(&c, T0 - 1), SW_E_INVAL);     /* before start */
    assert_int_equal(sla_clock_stop(&c, T0 - 1), SW_E_INVAL);
    assert_int_equal(sla_clock_pause(&c, T0 + 10 * MIN), 0);
    assert_int_equal(sla_clock_resume(&c, T0 + 5 * MIN), SW_E_INVAL);
    assert_int_equal(sla_clock_resume(&c, T0 + 20 * MIN), 0);
    /* before the previous event (the resume), though after the start */
    assert_int_equal(sla_clock_stop(&c, T0 + 15 * MIN), SW_E_INVAL);
    assert_int_equal(sla_clock_pause(&c, T0 + 15 * MIN), SW_E_INVAL);
    assert_true(c.paused_ms == 10 * MIN && c.stopped_at == 0 && c.paused_since == 0);
    /* the same instant as the previous event is fine */
    assert_int_equal(sla_clock_stop(&c, T0 + 20 * MIN), 0);
    assert_int_equal(sla_clock_continue(&c, T0 + 19 * MIN), SW_E_INVAL);
}

static void test_stop_while_paused_closes_pause(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_int_equal(sla_clock_pause(&c, T0 + 10 * MIN), 0);
    assert_int_equal(sla_clock_stop(&c, T0 + 40 * MIN), 0);
    assert_false(sla_clock_is_paused(&c));
    assert_true(c.paused_ms == 30 * MIN);
    assert_true(sla_clock_elapsed(&c, T0 + 5 * HOUR) == 10 * MIN);
    assert_true(sla_clock_due(&c, T0 + 5 * HOUR) == T0 + 90 * MIN);
}

static void test_continue_counts_stopped_time_as_paused(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_int_equal(sla_clock_stop(&c, T0 + 20 * MIN), 0);
    assert_int_equal(sla_clock_continue(&c, T0 + 3 * HOUR), 0);
    assert_false(sla_clock_is_stopped(&c));
    assert_true(c.paused_ms == 3 * HOUR - 20 * MIN);
    assert_true(sla_clock_elapsed(&c, T0 + 3 * HOUR + 10 * MIN) == 30 * MIN);
    assert_true(sla_clock_due(&c, T0 + 3 * HOUR) == T0 + 4 * HOUR - 20 * MIN);
    assert_false(sla_clock_breached(&c, T0 + 3 * HOUR + 40 * MIN));
    assert_true(sla_clock_breached(&c, T0 + 3 * HOUR + 40 * MIN + 1));
}

static void test_set_target_keeps_start_and_pauses(void **state)
{
    struct sla_clock c = started(HOUR);

    (void)state;
    assert_int_equal(sla_clock_pause(&c, T0 + 10 * MIN), 0);
    assert_int_equal(sla_clock_resume(&c, T0 + 30 * MIN), 0);
    assert_int_equal(sla_clock_set_target(&c, 2 * HOUR), 0);
    assert_true(c.started_at == T0 && c.paused_ms == 20 * MIN);
    assert_true(sla_clock_due(&c, T0) == T0 + 2 * HOUR + 20 * MIN);
    assert_int_equal(sla_clock_set_target(&c, 0), SW_E_INVAL);
    assert_true(c.target_ms == 2 * HOUR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_validates),
        cmocka_unit_test(test_running_clock),
        cmocka_unit_test(test_breach_is_strictly_past_due),
        cmocka_unit_test(test_stop_met_or_breached),
        cmocka_unit_test(test_pause_moves_due),
        cmocka_unit_test(test_several_pause_cycles),
        cmocka_unit_test(test_pause_state_conflicts),
        cmocka_unit_test(test_events_cannot_go_back),
        cmocka_unit_test(test_stop_while_paused_closes_pause),
        cmocka_unit_test(test_continue_counts_stopped_time_as_paused),
        cmocka_unit_test(test_set_target_keeps_start_and_pauses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
