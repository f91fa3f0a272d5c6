/* core: items that arrive with a past (the history rule) and items other
 * tools keep reporting (sync): what is marked fired at ingestion, what the
 * scheduler still has to say afterwards, and which transitions a source
 * may cause. */
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

static const uint8_t TH[] = {50, 80};

/* Critical under built-in policy: ack 15 min (warning at 12), resolve 4 h. */
static struct sla_alert critical(sla_ms created)
{
    struct sla_alert a;
    assert_int_equal(sla_alert_init(&a, SLA_SEV_CRITICAL, created, NULL), 0);
    return a;
}

static sla_ms next_check(const struct sla_alert *a, sla_ms now)
{
    uint8_t th[1] = {(uint8_t)a->targets.warn_pct};
    sla_ms x = sla_next_check(&a->ack, th, 1, a->ack_alarm.fired, a->ack_alarm.breach_fired, now);
    sla_ms y = sla_next_check(&a->resolve, th, 1, a->resolve_alarm.fired,
                              a->resolve_alarm.breach_fired, now);
    return x < y ? x : y;
}

/* ---- sla_alarm_past ------------------------------------------------------ */

static void test_alarm_past_running(void **state)
{
    (void)state;
    struct sla_clock c;
    assert_int_equal(sla_clock_start(&c, T0, 100 * MIN), 0);
    struct sla_alarm a = sla_alarm_past(&c, TH, 2, T0 + 49 * MIN);
    assert_int_equal(a.fired, 0);
    assert_false(a.breach_fired);
    a = sla_alarm_past(&c, TH, 2, T0 + 50 * MIN);       /* at the instant: reached */
    assert_int_equal(a.fired, 1);
    a = sla_alarm_past(&c, TH, 2, T0 + 100 * MIN);      /* exactly due: not breached */
    assert_int_equal(a.fired, 3);
    assert_false(a.breach_fired);
    a = sla_alarm_past(&c, TH, 2, T0 + 100 * MIN + 1);
    assert_true(a.breach_fired);
}

static void test_alarm_past_stopped_and_paused(void **state)
{
    (void)state;
    struct sla_clock c;
    assert_int_equal(sla_clock_start(&c, T0, 100 * MIN), 0);
    assert_int_equal(sla_clock_stop(&c, T0 + 60 * MIN), 0);
    /* judged up to its stop, whenever ingested */
    struct sla_alarm a = sla_alarm_past(&c, TH, 2, T0 + 1000 * MIN);
    assert_int_equal(a.fired, 1);
    assert_false(a.breach_fired);
    /* a stop after the ingestion instant (sender clock skew): up to now */
    a = sla_alarm_past(&c, TH, 2, T0 + 55 * MIN);
    assert_int_equal(a.fired, 1);

    struct sla_clock late;
    assert_int_equal(sla_clock_start(&late, T0, 100 * MIN), 0);
    assert_int_equal(sla_clock_stop(&late, T0 + 130 * MIN), 0);
    a = sla_alarm_past(&late, TH, 2, T0 + 200 * MIN);
    assert_int_equal(a.fired, 3);
    assert_true(a.breach_fired);

    struct sla_clock p;
    assert_int_equal(sla_clock_start(&p, T0, 100 * MIN), 0);
    assert_int_equal(sla_clock_pause(&p, T0 + 10 * MIN), 0);
    a = sla_alarm_past(&p, TH, 2, T0 + 500 * MIN);      /* paused at 10 %: nothing */
    assert_int_equal(a.fired, 0);
    assert_false(a.breach_fired);
}

/* ---- alerts: history and arrival ----------------------------------------- */

static void test_alert_ingest_resolved_history(void **state)
{
    (void)state;
    struct sla_alert a = critical(T0);
    /* acknowledged after 20 min (breached), resolved after 2 h (met),
     * ingested a day later */
    assert_int_equal(sla_alert_ingest(&a, T0 + 20 * MIN, T0 + 2 * HOUR, T0 + 24 * HOUR), 0);
    assert_int_equal(a.state, SLA_ALERT_RESOLVED);
    assert_true(a.acknowledged_at == T0 + 20 * MIN && a.resolved_at == T0 + 2 * HOUR);
    assert_true(sla_clock_breached(&a.ack, T0 + 24 * HOUR));
    assert_false(sla_clock_breached(&a.resolve, T0 + 24 * HOUR));
    /* everything that happened is marked: nothing left to fire, ever */
    assert_true(a.ack_alarm.breach_fired && a.ack_alarm.fired == 1);
    assert_false(a.resolve_alarm.breach_fired);
    assert_true(next_check(&a, T0 + 24 * HOUR) == SLA_NEVER);
    /* a reopen continues the clocks: the old ack breach is not told again */
    assert_int_equal(sla_alert_reopen(&a, T0 + 25 * HOUR), 0);
    assert_false(sla_breach_due(&a.ack, a.ack_alarm.breach_fired, T0 + 25 * HOUR));
}

static void test_alert_ingest_open_past_due(void **state)
{
    (void)state;
    /* created 20 min before it reached us: ack warning and breach happened
     * before; the resolve clock (4 h) still has its warning and breach ahead */
    struct sla_alert a = critical(T0);
    sla_ms now = T0 + 20 * MIN;
    assert_int_equal(sla_alert_ingest(&a, 0, 0, now), 0);
    assert_int_equal(a.state, SLA_ALERT_OPEN);
    assert_true(a.ack_alarm.breach_fired && a.ack_alarm.fired == 1);
    assert_false(a.resolve_alarm.breach_fired);
    assert_int_equal(a.resolve_alarm.fired, 0);
    /* the next instant is the resolve warning (80 % of 4 h), after now */
    assert_true(next_check(&a, now) == T0 + 192 * MIN);
    assert_false(sla_breach_due(&a.ack, a.ack_alarm.breach_fired, now));

    /* in time: nothing marked, the usual instants */
    struct sla_alert b = critical(T0);
    assert_int_equal(sla_alert_ingest(&b, 0, 0, T0 + MIN), 0);
    assert_int_equal(b.ack_alarm.fired, 0);
    assert_true(next_check(&b, T0 + MIN) == T0 + 12 * MIN);
}

static void test_alert_ingest_refuses_disorder(void **state)
{
    (void)state;
    struct sla_alert a = critical(T0), keep = a;
    assert_int_equal(sla_alert_ingest(&a, T0 - 1, 0, T0 + HOUR), SW_E_INVAL);
    assert_int_equal(sla_alert_ingest(&a, 0, T0 - 1, T0 + HOUR), SW_E_INVAL);
    assert_int_equal(sla_alert_ingest(&a, T0 + 10 * MIN, T0 + 5 * MIN, T0 + HOUR), SW_E_INVAL);
    assert_memory_equal(&a, &keep, sizeof(a));
    /* resolved without acknowledgement: both clocks stop, nobody acknowledged */
    assert_int_equal(sla_alert_ingest(&a, 0, T0 + 5 * MIN, T0 + HOUR), 0);
    assert_true(a.acknowledged_at == 0 && a.ack.stopped_at == T0 + 5 * MIN);
}

/* ---- alerts: sync --------------------------------------------------------- */

static void test_alert_sync_forward_only(void **state)
{
    (void)state;
    struct sla_alert a = critical(T0);
    unsigned d = 99;
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_OPEN, T0, T0 + MIN, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_ACKNOWLEDGED, T0 + 5 * MIN, T0 + 6 * MIN, &d),
                     0);
    assert_int_equal(d, SLA_SYNC_ACKNOWLEDGED);
    assert_true(a.acknowledged_at == T0 + 5 * MIN);
    /* back to open: an acknowledgement stands */
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_OPEN, T0 + 7 * MIN, T0 + 7 * MIN, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(a.state, SLA_ALERT_ACKNOWLEDGED);
    /* resolved at an instant before the last change: taken at that change */
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_RESOLVED, T0 + MIN, T0 + 8 * MIN, &d), 0);
    assert_int_equal(d, SLA_SYNC_RESOLVED);
    assert_true(a.resolved_at == T0 + 5 * MIN);
    /* the same report again: nothing */
    struct sla_alert keep = a;
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_RESOLVED, T0 + MIN, T0 + 9 * MIN, &d), 0);
    assert_int_equal(d, 0);
    assert_memory_equal(&a, &keep, sizeof(a));
}

static void test_alert_sync_reopen_needs_new_episode(void **state)
{
    (void)state;
    struct sla_alert a = critical(T0);
    unsigned d;
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_RESOLVED, T0 + 10 * MIN, T0 + 11 * MIN, &d), 0);
    /* still firing since T0 (the episode that was resolved), or no instant */
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_OPEN, T0, T0 + 12 * MIN, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_OPEN, 0, T0 + 12 * MIN, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(a.state, SLA_ALERT_RESOLVED);
    /* firing again since after the resolution: reopened then */
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_OPEN, T0 + 30 * MIN, T0 + 31 * MIN, &d), 0);
    assert_int_equal(d, SLA_SYNC_REOPENED);
    assert_int_equal(a.state, SLA_ALERT_OPEN);
    assert_true(sla_clock_paused_total(&a.resolve, T0 + 31 * MIN) == 20 * MIN);
    /* and straight to acknowledged */
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_RESOLVED, T0 + 40 * MIN, T0 + 41 * MIN, &d), 0);
    assert_int_equal(sla_alert_sync(&a, SLA_ALERT_ACKNOWLEDGED, T0 + 50 * MIN, T0 + 51 * MIN, &d),
                     0);
    assert_int_equal(d, SLA_SYNC_REOPENED | SLA_SYNC_ACKNOWLEDGED);
    assert_int_equal(a.state, SLA_ALERT_ACKNOWLEDGED);
}

/* ---- findings --------------------------------------------------------------- */

static struct sla_finding high(sla_ms discovered)
{
    struct sla_finding f;
    assert_int_equal(sla_finding_init(&f, SLA_SEV_HIGH, discovered, NULL), 0);   /* 168 h */
    return f;
}

static void test_finding_ingest(void **state)
{
    (void)state;
    struct sla_finding f = high(T0);
    /* closed 200 h after discovery (breached), imported later */
    assert_int_equal(sla_finding_ingest(&f, SLA_FINDING_CLOSED, T0 + 200 * HOUR, TH, 2,
                                        T0 + 300 * HOUR), 0);
    assert_int_equal(f.state, SLA_FINDING_CLOSED);
    assert_true(f.closed_at == T0 + 200 * HOUR);
    assert_true(f.alarm.breach_fired && f.alarm.fired == 3);
    assert_true(sla_clock_breached(&f.clock, T0 + 300 * HOUR));

    struct sla_finding g = high(T0);     /* open, 100 h old: the 50 % warning passed */
    assert_int_equal(sla_finding_ingest(&g, SLA_FINDING_OPEN, 0, TH, 2, T0 + 100 * HOUR), 0);
    assert_int_equal(g.alarm.fired, 1);
    assert_false(g.alarm.breach_fired);
    assert_true(sla_next_check(&g.clock, TH, 2, g.alarm.fired, false, T0 + 100 * HOUR) ==
                T0 + 134 * HOUR + 24 * MIN);

    struct sla_finding h = high(T0);
    assert_int_equal(sla_finding_ingest(&h, SLA_FINDING_PAUSED, T0, TH, 2, T0), SW_E_INVAL);
    assert_int_equal(sla_finding_ingest(&h, SLA_FINDING_CLOSED, 0, TH, 2, T0), SW_E_INVAL);
    assert_int_equal(sla_finding_ingest(&h, SLA_FINDING_CLOSED, T0 - 1, TH, 2, T0), SW_E_INVAL);
}

static void test_finding_sync(void **state)
{
    (void)state;
    struct sla_finding f = high(T0);
    unsigned d;
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_OPEN, 0, SLA_SEV_HIGH, NULL, T0 + HOUR, &d),
                     0);
    assert_int_equal(d, 0);
    /* severity follows while live */
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_OPEN, 0, SLA_SEV_CRITICAL, NULL,
                                      T0 + HOUR, &d), 0);
    assert_int_equal(d, SLA_SYNC_SEVERITY);
    assert_int_equal(f.target.hours, 72);
    /* closed as a false positive */
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_FALSE_POSITIVE, T0 + 2 * HOUR,
                                      SLA_SEV_CRITICAL, NULL, T0 + 3 * HOUR, &d), 0);
    assert_int_equal(d, SLA_SYNC_RESOLVED);
    assert_int_equal(f.state, SLA_FINDING_FALSE_POSITIVE);
    /* another terminal verdict, a severity for a closed one, an old "active":
     * nothing */
    struct sla_finding keep = f;
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_CLOSED, T0 + 4 * HOUR, SLA_SEV_LOW, NULL,
                                      T0 + 4 * HOUR, &d), 0);
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_OPEN, T0 + HOUR, SLA_SEV_LOW, NULL,
                                      T0 + 4 * HOUR, &d), 0);
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_OPEN, 0, SLA_SEV_LOW, NULL, T0 + 4 * HOUR,
                                      &d), 0);
    assert_int_equal(d, 0);
    assert_memory_equal(&f, &keep, sizeof(f));
    /* active again since after the close: reopened, then the new severity */
    assert_int_equal(sla_finding_sync(&f, SLA_FINDING_OPEN, T0 + 5 * HOUR, SLA_SEV_LOW, NULL,
                                      T0 + 6 * HOUR, &d), 0);
    assert_int_equal(d, SLA_SYNC_REOPENED | SLA_SYNC_SEVERITY);
    assert_int_equal(f.state, SLA_FINDING_OPEN);
    assert_int_equal(f.target.hours, 2160);
    assert_true(sla_clock_paused_total(&f.clock, T0 + 6 * HOUR) == 3 * HOUR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alarm_past_running),
        cmocka_unit_test(test_alarm_past_stopped_and_paused),
        cmocka_unit_test(test_alert_ingest_resolved_history),
        cmocka_unit_test(test_alert_ingest_open_past_due),
        cmocka_unit_test(test_alert_ingest_refuses_disorder),
        cmocka_unit_test(test_alert_sync_forward_only),
        cmocka_unit_test(test_alert_sync_reopen_needs_new_episode),
        cmocka_unit_test(test_finding_ingest),
        cmocka_unit_test(test_finding_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
