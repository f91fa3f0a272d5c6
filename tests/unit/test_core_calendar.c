/* core calendars without ICU: zones given as data (a fixed offset, a
 * made-up DST rule), the boundary rules by hand, and clocks on a calendar:
 * pauses in business time, warnings at their share of business time, the
 * breach one ms after the due, verdicts frozen at the stop, and a clock
 * moved onto a calendar re-measuring its pauses.  (test_calendar.c checks
 * the arithmetic against a brute-force walk in real zones.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "util/err.h"

#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR
#define DAY SLA_MS_PER_DAY

static sla_ms at(const char *iso)
{
    sla_ms t = 0;
    assert_int_equal(sla_time_parse(iso, &t), 0);
    return t;
}

static const struct sla_cal_interval office[1] = {{9 * 3600, 17 * 3600}};
static const struct sla_cal_interval whole[1] = {{0, SLA_CAL_DAY_S}};

/* Mon-Fri 09:00-17:00 at a fixed offset, with holidays. */
static const struct sla_cal *make(struct sla_cal_spec *s, int32_t offset_s,
                                  const struct sla_cal_holiday *h, size_t nh, void **mem)
{
    memset(s, 0, sizeof(*s));
    for (int d = 0; d < 5; d++) {
        s->days[d] = office;
        s->ndays[d] = 1;
    }
    s->holidays = h;
    s->nholidays = nh;
    s->offset_s = offset_s;
    size_t n = sla_cal_size(s);
    *mem = malloc(n);
    const struct sla_cal *c = NULL;
    assert_int_equal(sla_cal_compile(s, *mem, n, &c, NULL), 0);
    return c;
}

static void test_office_hours(void **state)
{
    (void)state;
    struct sla_cal_spec s;
    void *mem;
    struct sla_cal_holiday h[] = {{0, 12, 25}, {2026, 12, 28}};
    const struct sla_cal *c = make(&s, 3600, h, 2, &mem);     /* UTC+1 */
    assert_true(sla_cal_week_ms(c) == 40 * HOUR);
    /* Monday 2026-11-23 10:00 local (09:00Z) + 8 h: Tuesday 10:00 local */
    assert_true(sla_cal_due(c, at("2026-11-23T09:00:00Z"), 8 * HOUR) == at("2026-11-24T09:00:00Z"));
    /* used up at Friday 17:00 local exactly: due Monday 09:00 local */
    assert_true(sla_cal_due(c, at("2026-11-27T15:00:00Z"), 1 * HOUR) == at("2026-11-30T08:00:00Z"));
    assert_true(sla_cal_reach(c, at("2026-11-27T15:00:00Z"), 1 * HOUR) == at("2026-11-27T16:00:00Z"));
    /* a start in closed time counts from the next opening */
    assert_true(sla_cal_start(c, at("2026-11-28T12:00:00Z")) == at("2026-11-30T08:00:00Z"));
    assert_true(sla_cal_start(c, at("2026-11-30T08:30:00Z")) == at("2026-11-30T08:30:00Z"));
    /* Christmas (yearly, a Friday), the 28th (dated, a Monday) */
    assert_true(sla_cal_due(c, at("2026-12-24T15:00:00Z"), 2 * HOUR) == at("2026-12-29T09:00:00Z"));
    assert_true(sla_cal_elapsed(c, at("2026-12-21T00:00:00Z"), at("2027-01-04T00:00:00Z")) ==
                (10 - 2) * 8 * HOUR);
    /* back: the latest base that has used 1 h by Tuesday 09:30 local */
    assert_true(sla_cal_back(c, at("2026-11-24T08:30:00Z"), HOUR) == at("2026-11-23T15:30:00Z"));
    assert_false(sla_cal_is_open(c, at("2026-11-28T12:00:00Z")));
    assert_true(sla_cal_is_open(c, at("2026-11-30T08:00:00Z")));
    assert_false(sla_cal_is_open(c, at("2026-11-30T16:00:00Z")));   /* 17:00 local: closed */
    /* no horizon: 2160 h of 40 h weeks, a year away, each Christmas skipped */
    sla_ms d = sla_cal_due(c, at("2026-11-23T08:00:00Z"), 2160 * HOUR);
    assert_true(sla_cal_elapsed(c, at("2026-11-23T08:00:00Z"), d) == 2160 * HOUR);
    assert_true(sla_cal_is_open(c, d));
    free(mem);
}

/* A made-up zone: +1 h from 2027-03-28T01:00Z, back on 2027-10-31T01:00Z. */
static void test_dst_data(void **state)
{
    (void)state;
    struct sla_tz_transition tr[] = {{at("2027-03-28T01:00:00Z"), 7200},
                                     {at("2027-10-31T01:00:00Z"), 3600}};
    struct sla_cal_spec s;
    memset(&s, 0, sizeof(s));
    s.days[6] = whole;          /* Sundays around the clock */
    s.ndays[6] = 1;
    s.days[0] = office;
    s.ndays[0] = 1;
    s.offset_s = 3600;
    s.tr = tr;
    s.ntr = 2;
    size_t n = sla_cal_size(&s);
    void *mem = malloc(n);
    const struct sla_cal *c;
    assert_int_equal(sla_cal_compile(&s, mem, n, &c, NULL), 0);
    /* spring forward removes an hour of Sunday, fall back adds one */
    assert_true(sla_cal_elapsed(c, at("2027-03-27T23:00:00Z"), at("2027-03-28T22:00:00Z")) ==
                23 * HOUR);
    assert_true(sla_cal_elapsed(c, at("2027-10-30T22:00:00Z"), at("2027-10-31T23:00:00Z")) ==
                25 * HOUR);
    /* Monday 09:00 local moved from 08:00Z to 07:00Z */
    assert_true(sla_cal_start(c, at("2027-03-29T00:00:00Z")) == at("2027-03-29T07:00:00Z"));
    /* 23 h from Sunday's start end at Sunday's end: due Monday 09:00 */
    assert_true(sla_cal_due(c, at("2027-03-27T23:00:00Z"), 23 * HOUR) ==
                at("2027-03-29T07:00:00Z"));
    /* and 24 h end an hour into Monday */
    assert_true(sla_cal_due(c, at("2027-03-27T23:00:00Z"), 24 * HOUR) ==
                at("2027-03-29T08:00:00Z"));
    free(mem);
}

static void test_clock_on_calendar(void **state)
{
    (void)state;
    struct sla_cal_spec s;
    void *mem;
    const struct sla_cal *c = make(&s, 0, NULL, 0, &mem);
    struct sla_clock k;
    sla_ms mon9 = at("2026-11-23T09:00:00Z");
    /* created Saturday: its 8 business hours are Monday's, used up at
     * 17:00 exactly, so due at the next opening, Tuesday 09:00 */
    assert_int_equal(sla_clock_start(&k, at("2026-11-21T12:00:00Z"), 8 * HOUR), 0);
    assert_true(k.cal == NULL);
    assert_int_equal(sla_clock_set_calendar(&k, c, NULL, 0), 0);
    assert_true(sla_clock_due(&k, mon9) == at("2026-11-24T09:00:00Z"));
    assert_true(sla_clock_elapsed(&k, mon9 + 2 * HOUR) == 2 * HOUR);
    assert_int_equal(sla_clock_percent(&k, mon9 + 2 * HOUR), 25);
    /* 80 % of 8 business hours is 6.4 h: Monday 15:24 */
    uint8_t th[1] = {80};
    assert_true(sla_threshold_at(&k, 80, mon9) == mon9 + 6 * HOUR + 24 * MIN);
    assert_true(sla_next_check(&k, th, 1, 0, false, mon9) == mon9 + 6 * HOUR + 24 * MIN);
    assert_true(sla_next_check(&k, th, 1, 1, false, mon9) == at("2026-11-24T09:00:00Z") + 1);
    /* used up at Monday 17:00 exactly: met until Tuesday 09:00, breached 1 ms after */
    assert_false(sla_clock_breached(&k, at("2026-11-24T09:00:00Z")));
    assert_true(sla_clock_breached(&k, at("2026-11-24T09:00:00Z") + 1));
    /* a pause from Monday 13:00 to Tuesday 11:00 stops 6 business hours */
    assert_int_equal(sla_clock_pause(&k, mon9 + 4 * HOUR), 0);
    assert_true(sla_clock_due(&k, mon9 + 6 * HOUR) == at("2026-11-24T11:00:00Z"));
    assert_true(sla_clock_elapsed(&k, at("2026-11-24T10:00:00Z")) == 4 * HOUR);
    assert_int_equal(sla_clock_resume(&k, at("2026-11-24T11:00:00Z")), 0);
    assert_true(k.paused_ms == 6 * HOUR);
    assert_true(sla_clock_due(&k, 0) == at("2026-11-24T15:00:00Z"));
    /* stopped Wednesday: 4 h Monday + 6 h Tuesday = 10 h, 2 h over */
    assert_int_equal(sla_clock_stop(&k, at("2026-11-25T09:00:00Z")), 0);
    assert_true(k.stop_elapsed == 10 * HOUR && k.stop_due == at("2026-11-24T15:00:00Z"));
    assert_true(sla_clock_overage(&k, 0) == 2 * HOUR);
    /* the verdict stays, whatever the calendar says later */
    struct sla_cal_spec s2;
    void *mem2;
    struct sla_cal_holiday h[] = {{2026, 11, 24}};
    const struct sla_cal *c2 = make(&s2, 0, h, 1, &mem2);
    k.cal = c2;
    assert_true(sla_clock_elapsed(&k, 0) == 10 * HOUR);
    assert_true(sla_clock_due(&k, 0) == at("2026-11-24T15:00:00Z"));
    assert_int_equal(sla_clock_set_calendar(&k, c, NULL, 0), SW_E_CONFLICT);
    /* reopened Thursday 09:00: the stopped day counts as paused (8 h) */
    assert_int_equal(sla_clock_continue(&k, at("2026-11-26T09:00:00Z")), 0);
    assert_true(k.paused_ms == 6 * HOUR + 8 * HOUR);
    /* moved to the calendar without the 24th: the pauses re-measured */
    sla_ms pauses[2][2] = {{mon9 + 4 * HOUR, at("2026-11-24T11:00:00Z")},
                           {at("2026-11-25T09:00:00Z"), at("2026-11-26T09:00:00Z")}};
    assert_int_equal(sla_clock_set_calendar(&k, c2, (const sla_ms(*)[2])pauses, 2), 0);
    assert_true(k.paused_ms == 4 * HOUR + 8 * HOUR);
    free(mem);
    free(mem2);
}

static void test_alert_on_calendar(void **state)
{
    (void)state;
    struct sla_cal_spec s;
    void *mem;
    const struct sla_cal *c = make(&s, 0, NULL, 0, &mem);
    struct sla_alert a;
    sla_ms fri16 = at("2026-11-27T16:00:00Z");
    assert_int_equal(sla_alert_init(&a, SLA_SEV_MEDIUM, fri16, NULL), 0);
    a.ack.cal = a.resolve.cal = c;
    /* medium: 4 h to acknowledge: 1 h Friday, 3 h Monday */
    assert_true(sla_clock_due(&a.ack, fri16) == at("2026-11-30T12:00:00Z"));
    assert_int_equal(sla_alert_acknowledge(&a, at("2026-11-30T10:00:00Z")), 0);
    assert_true(sla_clock_elapsed(&a.ack, 0) == 2 * HOUR);

    assert_int_equal(sla_alert_resolve(&a, at("2026-12-01T10:00:00Z")), 0);
    assert_int_equal(sla_clock_elapsed(&a.resolve, 0) / HOUR, 10);   /* 1 + 8 + 1 */

    /* the escalation's first step fires at the ack clock's breach, in business time */
    struct sla_esc_step step = {SLA_ESC_L1, "soc", 30, SLA_ESC_EMAIL};
    struct sla_esc_state st = {0, 0};
    struct sla_alert b;
    assert_int_equal(sla_alert_init(&b, SLA_SEV_MEDIUM, fri16, NULL), 0);
    b.ack.cal = c;
    assert_true(sla_esc_next_at(&step, 1, &st, &b.ack, fri16) == at("2026-11-30T12:00:00Z") + 1);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_office_hours),
        cmocka_unit_test(test_dst_data),
        cmocka_unit_test(test_clock_on_calendar),
        cmocka_unit_test(test_alert_on_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
