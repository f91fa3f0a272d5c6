/* core findings: pause/resume, terminal states, reopen, severity change and
 * the vulnerability seed's recalculation (created + hours + paused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/sla.h"
#include "util/err.h"

#define T0  INT64_C(1795341600000)     /* 2026-11-22T10:00:00Z */
#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR

/* A critical finding under built-in policy: 72 h. */
static struct sla_finding critical(void)
{
    struct sla_finding f;

    assert_int_equal(sla_finding_init(&f, SLA_SEV_CRITICAL, T0, NULL), 0);
    return f;
}

static void test_init(void **state)
{
    struct sla_finding_layer company = { .hours = { [SLA_SEV_URGENT] = 12 } };
    struct sla_finding_scopes s = { .company = &company };
    struct sla_finding f = critical();

    (void)state;
    assert_int_equal(f.state, SLA_FINDING_OPEN);
    assert_int_equal(f.target.hours, 72);
    assert_int_equal(f.target.src, SLA_SRC_BUILTIN);
    assert_true(sla_clock_due(&f.clock, T0) == T0 + 72 * HOUR);
    assert_false(sla_alarm_notified(&f.alarm));

    assert_int_equal(sla_finding_init(&f, SLA_SEV_URGENT, T0, &s), 0);
    assert_int_equal(f.target.hours, 12);
    assert_int_equal(f.target.src, SLA_SRC_TENANT);
    assert_int_equal(sla_finding_init(&f, SLA_SEV_COUNT, T0, &s), SW_E_INVAL);
    assert_int_equal(f.sev, SLA_SEV_URGENT);
}

static void test_pause_resume_conflicts(void **state)
{
    struct sla_finding f = critical();

    (void)state;
    assert_int_equal(sla_finding_resume(&f, T0 + HOUR), SW_E_CONFLICT);   /* open */
    assert_int_equal(sla_finding_pause(&f, T0 + HOUR), 0);
    assert_int_equal(f.state, SLA_FINDING_PAUSED);
    assert_int_equal(sla_finding_pause(&f, T0 + 2 * HOUR), SW_E_CONFLICT); /* paused */
    assert_true(f.clock.paused_since == T0 + HOUR);
    assert_int_equal(sla_finding_resume(&f, T0 + 3 * HOUR), 0);
    assert_int_equal(f.state, SLA_FINDING_OPEN);
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_CLOSED, T0 + 4 * HOUR), 0);
    assert_int_equal(sla_finding_pause(&f, T0 + 5 * HOUR), SW_E_CONFLICT); /* terminal */
    assert_int_equal(sla_finding_resume(&f, T0 + 5 * HOUR), SW_E_CONFLICT);
}

static void test_timestamps_before_creation_rejected(void **state)
{
    struct sla_finding f = critical();

    (void)state;
    assert_int_equal(sla_finding_pause(&f, T0 - 1), SW_E_INVAL);
    assert_int_equal(f.state, SLA_FINDING_OPEN);
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_CLOSED, T0 - HOUR), SW_E_INVAL);
    assert_int_equal(f.state, SLA_FINDING_OPEN);
    assert_int_equal(sla_finding_pause(&f, T0 + HOUR), 0);
    assert_int_equal(sla_finding_resume(&f, T0 + 30 * MIN), SW_E_INVAL);   /* before the pause */
    assert_int_equal(f.state, SLA_FINDING_PAUSED);
}

static void test_pause_cycles_then_recalculate(void **state)
{
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 24 } };
    struct sla_finding_scopes s = { .company = &company };
    struct sla_finding f = critical();
    bool changed = false;

    (void)state;
    /* pauses of 2 h, 3 h and 5 h: 10 h paused in total */
    assert_int_equal(sla_finding_pause(&f, T0 + 1 * HOUR), 0);
    assert_int_equal(sla_finding_resume(&f, T0 + 3 * HOUR), 0);
    assert_int_equal(sla_finding_pause(&f, T0 + 4 * HOUR), 0);
    assert_int_equal(sla_finding_resume(&f, T0 + 7 * HOUR), 0);
    assert_int_equal(sla_finding_pause(&f, T0 + 8 * HOUR), 0);
    assert_int_equal(sla_finding_resume(&f, T0 + 13 * HOUR), 0);
    assert_true(f.clock.paused_ms == 10 * HOUR);
    assert_true(sla_clock_due(&f.clock, T0 + 14 * HOUR) == T0 + 72 * HOUR + 10 * HOUR);

    /* tightened to 24 h: due = created + 24 h + 10 h paused, not created + 24 h */
    assert_int_equal(sla_finding_recalculate(&f, &s, T0 + 14 * HOUR, &changed), 0);
    assert_true(changed);
    assert_int_equal(f.target.hours, 24);
    assert_int_equal(f.target.src, SLA_SRC_TENANT);
    assert_true(sla_clock_due(&f.clock, T0 + 14 * HOUR) == T0 + 34 * HOUR);
    assert_true(f.clock.started_at == T0);

    /* again with no change: nothing to write */
    assert_int_equal(sla_finding_recalculate(&f, &s, T0 + 14 * HOUR, &changed), 0);
    assert_false(changed);
}

static void test_recalculate_while_paused(void **state)
{
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 24 } };
    struct sla_finding_scopes s = { .company = &company };
    struct sla_finding f = critical();
    bool changed;

    (void)state;
    assert_int_equal(sla_finding_pause(&f, T0 + 2 * HOUR), 0);
    assert_int_equal(sla_finding_recalculate(&f, &s, T0 + 5 * HOUR, &changed), 0);
    assert_true(changed);
    /* the running pause counts up to now */
    assert_true(sla_clock_due(&f.clock, T0 + 5 * HOUR) == T0 + 27 * HOUR);
    assert_int_equal(f.state, SLA_FINDING_PAUSED);
}

static void test_close_paused_stops_pause(void **state)
{
    struct sla_finding f = critical();

    (void)state;
    assert_int_equal(sla_finding_pause(&f, T0 + HOUR), 0);
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_ACCEPTED_RISK, T0 + 4 * HOUR), 0);
    assert_int_equal(f.state, SLA_FINDING_ACCEPTED_RISK);
    assert_true(f.closed_at == T0 + 4 * HOUR);
    assert_false(sla_clock_is_paused(&f.clock));
    assert_true(f.clock.paused_ms == 3 * HOUR);
    assert_true(sla_clock_elapsed(&f.clock, T0 + 100 * HOUR) == HOUR);
}

static void test_close_statuses(void **state)
{
    static const enum sla_finding_state terminal[] = {
        SLA_FINDING_CLOSED, SLA_FINDING_FALSE_POSITIVE,
        SLA_FINDING_ACCEPTED_RISK, SLA_FINDING_NOT_ACCESSIBLE,
    };

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        struct sla_finding f = critical();
        assert_true(sla_finding_state_terminal(terminal[i]));
        assert_int_equal(sla_finding_close(&f, terminal[i], T0 + HOUR), 0);
        assert_int_equal(f.state, terminal[i]);
        assert_int_equal(sla_finding_close(&f, SLA_FINDING_CLOSED, T0 + 2 * HOUR), SW_E_CONFLICT);
    }
    struct sla_finding f = critical();
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_OPEN, T0 + HOUR), SW_E_INVAL);
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_PAUSED, T0 + HOUR), SW_E_INVAL);
    assert_int_equal(f.state, SLA_FINDING_OPEN);
}

static void test_reopen_counts_closed_time_as_paused(void **state)
{
    struct sla_finding f = critical();

    (void)state;
    assert_int_equal(sla_finding_reopen(&f, T0 + HOUR), SW_E_CONFLICT);   /* not terminal */
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_FALSE_POSITIVE, T0 + 10 * HOUR), 0);
    assert_int_equal(sla_finding_reopen(&f, T0 + 9 * HOUR), SW_E_INVAL);
    assert_int_equal(sla_finding_reopen(&f, T0 + 30 * HOUR), 0);
    assert_int_equal(f.state, SLA_FINDING_OPEN);
    assert_true(f.closed_at == 0);
    assert_true(f.clock.paused_ms == 20 * HOUR);
    assert_true(sla_clock_due(&f.clock, T0 + 30 * HOUR) == T0 + 92 * HOUR);
}

static void test_terminal_never_recalculated(void **state)
{
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 1 } };
    struct sla_finding_scopes s = { .company = &company };
    struct sla_finding f = critical(), before;
    bool changed = true;

    (void)state;
    assert_int_equal(sla_finding_close(&f, SLA_FINDING_NOT_ACCESSIBLE, T0 + 2 * HOUR), 0);
    before = f;
    assert_int_equal(sla_finding_recalculate(&f, &s, T0 + 3 * HOUR, &changed), 0);
    assert_false(changed);
    assert_memory_equal(&f, &before, sizeof(f));
    assert_int_equal(sla_finding_set_severity(&f, SLA_SEV_LOW, &s, T0 + 3 * HOUR), SW_E_CONFLICT);
    assert_memory_equal(&f, &before, sizeof(f));
}

static void test_rearm_when_extended_into_future(void **state)
{
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 100 } };
    struct sla_finding_scopes s = { .company = &company };
    struct sla_finding f = critical();
    bool changed;

    (void)state;
    /* 80 h in: past the 72 h deadline, warned and breach-notified */
    f.alarm = (struct sla_alarm){ .fired = 0x1, .breach_fired = true };
    assert_true(sla_alarm_notified(&f.alarm));
    assert_int_equal(sla_finding_recalculate(&f, &s, T0 + 80 * HOUR, &changed), 0);
    assert_true(changed);
    assert_false(sla_alarm_notified(&f.alarm));     /* sla_notified reset */
    assert_false(sla_clock_breached(&f.clock, T0 + 80 * HOUR));
}

static void test_rearm_kept_when_still_past(void **state)
{
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 75 } };
    struct sla_finding_scopes s = { .company = &company };
    struct sla_finding f = critical();
    bool changed;

    (void)state;
    f.alarm = (struct sla_alarm){ .fired = 0x1, .breach_fired = true };
    /* extended to 75 h, but it is 80 h: still breached, no second alert */
    assert_int_equal(sla_finding_recalculate(&f, &s, T0 + 80 * HOUR, &changed), 0);
    assert_true(changed);
    assert_true(f.alarm.breach_fired);
    assert_int_equal(f.alarm.fired, 0x1);
    assert_true(sla_clock_breached(&f.clock, T0 + 80 * HOUR));
    assert_false(sla_breach_due(&f.clock, f.alarm.breach_fired, T0 + 80 * HOUR));
}

static void test_severity_change_keeps_start_and_pauses(void **state)
{
    struct sla_finding f = critical();

    (void)state;
    assert_int_equal(sla_finding_pause(&f, T0 + HOUR), 0);
    assert_int_equal(sla_finding_resume(&f, T0 + 5 * HOUR), 0);
    assert_int_equal(sla_finding_set_severity(&f, SLA_SEV_URGENT, NULL, T0 + 6 * HOUR), 0);
    assert_int_equal(f.sev, SLA_SEV_URGENT);
    assert_int_equal(f.target.hours, 24);
    assert_true(f.clock.started_at == T0 && f.clock.paused_ms == 4 * HOUR);
    assert_true(sla_clock_due(&f.clock, T0 + 6 * HOUR) == T0 + 28 * HOUR);
    assert_int_equal(sla_finding_set_severity(&f, SLA_SEV_COUNT, NULL, T0 + 6 * HOUR), SW_E_INVAL);
    assert_int_equal(f.sev, SLA_SEV_URGENT);
}

static void test_state_names(void **state)
{
    enum sla_finding_state s;

    (void)state;
    for (int i = 0; i < SLA_FINDING_STATE_COUNT; i++) {
        assert_int_equal(sla_finding_state_parse(sla_finding_state_name((enum sla_finding_state)i), &s), 0);
        assert_int_equal(s, i);
    }
    assert_string_equal(sla_finding_state_name(SLA_FINDING_FALSE_POSITIVE), "false_positive");
    assert_int_equal(sla_finding_state_parse("resolved", &s), SW_E_INVAL);
    assert_false(sla_finding_state_terminal(SLA_FINDING_PAUSED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_pause_resume_conflicts),
        cmocka_unit_test(test_timestamps_before_creation_rejected),
        cmocka_unit_test(test_pause_cycles_then_recalculate),
        cmocka_unit_test(test_recalculate_while_paused),
        cmocka_unit_test(test_close_paused_stops_pause),
        cmocka_unit_test(test_close_statuses),
        cmocka_unit_test(test_reopen_counts_closed_time_as_paused),
        cmocka_unit_test(test_terminal_never_recalculated),
        cmocka_unit_test(test_rearm_when_extended_into_future),
        cmocka_unit_test(test_rearm_kept_when_still_past),
        cmocka_unit_test(test_severity_change_keeps_start_and_pauses),
        cmocka_unit_test(test_state_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
