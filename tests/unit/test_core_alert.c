/* core alerts: acknowledge, resolve, reopen, severity change, recalculation. */
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

/* A critical alert under built-in policy: ack 15 min, resolve 4 h. */
static struct sla_alert critical(void)
{
    struct sla_alert a;

    assert_int_equal(sla_alert_init(&a, SLA_SEV_CRITICAL, T0, NULL), 0);
    return a;
}

static void assert_unchanged(const struct sla_alert *a, const struct sla_alert *b)
{
    assert_memory_equal(a, b, sizeof(*a));
}

static void test_init_from_waterfall(void **state)
{
    struct sla_alert_layer tenant;
    struct sla_alert_scopes s = { .tenant = &tenant };
    struct sla_alert a = critical(), b;

    (void)state;
    assert_int_equal(a.state, SLA_ALERT_OPEN);
    assert_true(a.ack.started_at == T0 && a.resolve.started_at == T0);
    assert_true(sla_clock_due(&a.ack, T0) == T0 + 15 * MIN);
    assert_true(sla_clock_due(&a.resolve, T0) == T0 + 4 * HOUR);
    assert_int_equal(a.targets.ack_src, SLA_SRC_BUILTIN);

    sla_alert_layer_clear(&tenant);
    tenant.ack_min[SLA_SEV_CRITICAL] = 10;
    assert_int_equal(sla_alert_init(&b, SLA_SEV_CRITICAL, T0, &s), 0);
    assert_true(b.ack.target_ms == 10 * MIN);
    assert_int_equal(b.targets.ack_src, SLA_SRC_TENANT);
    assert_true(b.resolve.target_ms == 4 * HOUR);

    memset(&b, 0x5a, sizeof(b));
    struct sla_alert before = b;
    assert_int_equal(sla_alert_init(&b, SLA_SEV_URGENT, T0, NULL), SW_E_INVAL);
    assert_int_equal(sla_alert_init(&b, SLA_SEV_HIGH, 0, NULL), SW_E_INVAL);
    assert_unchanged(&b, &before);
}

static void test_acknowledge(void **state)
{
    struct sla_alert a = critical();

    (void)state;
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 10 * MIN), 0);
    assert_int_equal(a.state, SLA_ALERT_ACKNOWLEDGED);
    assert_true(a.acknowledged_at == T0 + 10 * MIN);
    assert_true(sla_clock_is_stopped(&a.ack));
    assert_false(sla_clock_is_stopped(&a.resolve));
    assert_int_equal(sla_clock_outcome(&a.ack, T0 + 5 * HOUR), SLA_MET);
}

static void test_acknowledge_twice_is_idempotent(void **state)
{
    struct sla_alert a = critical(), before;

    (void)state;
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 10 * MIN), 0);
    before = a;
    /* a retry, even with a later instant, changes nothing */
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 50 * MIN), 0);
    assert_unchanged(&a, &before);
    assert_true(a.acknowledged_at == T0 + 10 * MIN);
}

static void test_acknowledge_resolved_conflicts(void **state)
{
    struct sla_alert a = critical(), before;

    (void)state;
    assert_int_equal(sla_alert_resolve(&a, T0 + HOUR), 0);
    before = a;
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 2 * HOUR), SW_E_CONFLICT);
    assert_int_equal(sla_alert_resolve(&a, T0 + 2 * HOUR), SW_E_CONFLICT);
    assert_unchanged(&a, &before);
}

static void test_resolve_before_acknowledge_stops_both(void **state)
{
    struct sla_alert a = critical();

    (void)state;
    assert_int_equal(sla_alert_resolve(&a, T0 + 30 * MIN), 0);
    assert_int_equal(a.state, SLA_ALERT_RESOLVED);
    assert_true(a.resolved_at == T0 + 30 * MIN);
    assert_true(a.acknowledged_at == 0);            /* nobody acknowledged */
    assert_true(a.ack.stopped_at == T0 + 30 * MIN);
    assert_true(a.resolve.stopped_at == T0 + 30 * MIN);
    /* the ack clock ran 30 min against 15: breached, and stays so */
    assert_int_equal(sla_clock_outcome(&a.ack, T0 + 9 * HOUR), SLA_BREACHED);
    assert_int_equal(sla_clock_outcome(&a.resolve, T0 + 9 * HOUR), SLA_MET);
}

static void test_timestamps_before_creation_rejected(void **state)
{
    struct sla_alert a = critical(), before = a;

    (void)state;
    assert_int_equal(sla_alert_acknowledge(&a, T0 - 1), SW_E_INVAL);
    assert_int_equal(sla_alert_resolve(&a, T0 - 1), SW_E_INVAL);
    assert_unchanged(&a, &before);
    assert_int_equal(sla_alert_acknowledge(&a, T0), 0);     /* at creation is fine */
    /* resolving before the acknowledgement is going back in time */
    before = a;
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 5 * MIN), 0);
    assert_int_equal(sla_alert_resolve(&a, T0 - 1), SW_E_INVAL);
    assert_unchanged(&a, &before);
}

static void test_reopen_counts_resolved_time_as_paused(void **state)
{
    struct sla_alert a = critical();

    (void)state;
    assert_int_equal(sla_alert_reopen(&a, T0 + MIN), SW_E_CONFLICT);
    assert_int_equal(sla_alert_resolve(&a, T0 + 10 * MIN), 0);
    assert_int_equal(sla_alert_reopen(&a, T0 + 5 * MIN), SW_E_INVAL);  /* before the resolve */
    assert_int_equal(sla_alert_reopen(&a, T0 + 3 * HOUR + 10 * MIN), 0);
    assert_int_equal(a.state, SLA_ALERT_OPEN);
    assert_true(a.resolved_at == 0);
    /* both clocks continue; the 3 h resolved are paused time */
    assert_false(sla_clock_is_stopped(&a.ack));
    assert_false(sla_clock_is_stopped(&a.resolve));
    assert_true(a.resolve.paused_ms == 3 * HOUR);
    assert_true(sla_clock_due(&a.resolve, T0 + 4 * HOUR) == T0 + 7 * HOUR);
    assert_true(sla_clock_due(&a.ack, T0 + 4 * HOUR) == T0 + 3 * HOUR + 15 * MIN);
    assert_true(sla_clock_elapsed(&a.ack, T0 + 3 * HOUR + 12 * MIN) == 12 * MIN);
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 3 * HOUR + 12 * MIN), 0);
    assert_int_equal(sla_clock_outcome(&a.ack, T0 + 5 * HOUR), SLA_MET);
}

static void test_reopen_keeps_acknowledgement(void **state)
{
    struct sla_alert a = critical();

    (void)state;
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 5 * MIN), 0);
    assert_int_equal(sla_alert_resolve(&a, T0 + HOUR), 0);
    assert_int_equal(sla_alert_reopen(&a, T0 + 2 * HOUR), 0);
    assert_int_equal(a.state, SLA_ALERT_ACKNOWLEDGED);
    assert_true(a.acknowledged_at == T0 + 5 * MIN);
    assert_true(a.ack.stopped_at == T0 + 5 * MIN);  /* the ack stands */
    assert_false(sla_clock_is_stopped(&a.resolve));
    assert_true(a.resolve.paused_ms == HOUR);
}

static void test_severity_change_keeps_start_and_pauses(void **state)
{
    struct sla_alert a = critical(), before;

    (void)state;
    assert_int_equal(sla_alert_resolve(&a, T0 + 10 * MIN), 0);
    assert_int_equal(sla_alert_reopen(&a, T0 + 40 * MIN), 0);       /* 30 min paused */
    assert_int_equal(sla_alert_set_severity(&a, SLA_SEV_LOW, NULL, T0 + HOUR), 0);
    assert_int_equal(a.sev, SLA_SEV_LOW);
    assert_true(a.resolve.started_at == T0 && a.resolve.paused_ms == 30 * MIN);
    assert_true(a.resolve.target_ms == 72 * HOUR);
    assert_true(a.ack.target_ms == 8 * HOUR);
    assert_true(sla_clock_due(&a.resolve, T0 + HOUR) == T0 + 72 * HOUR + 30 * MIN);
    assert_int_equal(a.targets.resolve_min, 72 * 60);

    before = a;
    assert_int_equal(sla_alert_set_severity(&a, SLA_SEV_URGENT, NULL, T0 + HOUR), SW_E_INVAL);
    assert_unchanged(&a, &before);
}

static void test_severity_change_spares_stopped_clock(void **state)
{
    struct sla_alert a = critical();

    (void)state;
    assert_int_equal(sla_alert_acknowledge(&a, T0 + 20 * MIN), 0);  /* breached: 15 min */
    assert_int_equal(sla_alert_set_severity(&a, SLA_SEV_LOW, NULL, T0 + HOUR), 0);
    assert_true(a.ack.target_ms == 15 * MIN);       /* its verdict stands */
    assert_true(sla_clock_breached(&a.ack, T0 + HOUR));
    assert_true(a.resolve.target_ms == 72 * HOUR);
    assert_int_equal(sla_alert_resolve(&a, T0 + 2 * HOUR), 0);
    assert_int_equal(sla_alert_set_severity(&a, SLA_SEV_HIGH, NULL, T0 + 3 * HOUR), SW_E_CONFLICT);
}

static void test_recalculate_rearms_future_deadline(void **state)
{
    struct sla_alert_layer tenant;
    struct sla_alert_scopes s = { .tenant = &tenant };
    struct sla_alert a = critical();
    bool changed = false;

    (void)state;
    /* 5 h in: resolve (4 h) breached and notified */
    a.resolve_alarm = (struct sla_alarm){ .fired = 0x1, .breach_fired = true };
    a.ack_alarm = (struct sla_alarm){ .fired = 0x1, .breach_fired = true };
    sla_alert_layer_clear(&tenant);
    tenant.resolve_min[SLA_SEV_CRITICAL] = 8 * 60;  /* loosened to 8 h: due in the future */
    tenant.ack_min[SLA_SEV_CRITICAL] = 60;          /* loosened to 1 h: still past */
    assert_int_equal(sla_alert_recalculate(&a, &s, T0 + 5 * HOUR, &changed), 0);
    assert_true(changed);
    assert_true(a.resolve.target_ms == 8 * HOUR);
    assert_int_equal(a.resolve_alarm.fired, 0);
    assert_false(a.resolve_alarm.breach_fired);
    assert_int_equal(a.ack_alarm.fired, 0x1);       /* 1 h deadline still behind */
    assert_true(a.ack_alarm.breach_fired);

    /* the same policy again moves nothing */
    assert_int_equal(sla_alert_recalculate(&a, &s, T0 + 5 * HOUR, &changed), 0);
    assert_false(changed);
}

static void test_recalculate_skips_resolved(void **state)
{
    struct sla_alert_layer tenant;
    struct sla_alert_scopes s = { .tenant = &tenant };
    struct sla_alert a = critical(), before;
    bool changed = true;

    (void)state;
    assert_int_equal(sla_alert_resolve(&a, T0 + HOUR), 0);
    before = a;
    sla_alert_layer_clear(&tenant);
    tenant.resolve_min[SLA_SEV_CRITICAL] = 30;
    assert_int_equal(sla_alert_recalculate(&a, &s, T0 + 2 * HOUR, &changed), 0);
    assert_false(changed);
    assert_unchanged(&a, &before);
}

static void test_state_names(void **state)
{
    enum sla_alert_state s;

    (void)state;
    assert_string_equal(sla_alert_state_name(SLA_ALERT_ACKNOWLEDGED), "acknowledged");
    assert_int_equal(sla_alert_state_parse("resolved", &s), 0);
    assert_int_equal(s, SLA_ALERT_RESOLVED);
    assert_int_equal(sla_alert_state_parse("closed", &s), SW_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_from_waterfall),
        cmocka_unit_test(test_acknowledge),
        cmocka_unit_test(test_acknowledge_twice_is_idempotent),
        cmocka_unit_test(test_acknowledge_resolved_conflicts),
        cmocka_unit_test(test_resolve_before_acknowledge_stops_both),
        cmocka_unit_test(test_timestamps_before_creation_rejected),
        cmocka_unit_test(test_reopen_counts_resolved_time_as_paused),
        cmocka_unit_test(test_reopen_keeps_acknowledgement),
        cmocka_unit_test(test_severity_change_keeps_start_and_pauses),
        cmocka_unit_test(test_severity_change_spares_stopped_clock),
        cmocka_unit_test(test_recalculate_rearms_future_deadline),
        cmocka_unit_test(test_recalculate_skips_resolved),
        cmocka_unit_test(test_state_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
