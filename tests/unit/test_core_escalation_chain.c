/* core escalation chains: names, validation, anchored automatic steps,
 * catch-up, manual steps, acknowledgement stops the walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sla.h"
#include "util/err.h"

#define T0  INT64_C(1795341600000)
#define MIN SLA_MS_PER_MIN

static const struct sla_esc_step chain3[] = {
    { SLA_ESC_L1, "SOC Analyst", 10, SLA_ESC_SLACK },
    { SLA_ESC_L2, "SOC Lead", 30, SLA_ESC_PAGER },
    { SLA_ESC_MANAGER, "SOC Manager", 60, SLA_ESC_PHONE },
};

static void ack_clock(struct sla_clock *c)
{
    assert_int_equal(sla_clock_start(c, T0, 15 * MIN), 0);   /* due T0+15m */
}

static void test_names(void **state)
{
    (void)state;
    enum sla_esc_level l;
    enum sla_esc_method m;
    assert_string_equal(sla_esc_level_name(SLA_ESC_MANAGER), "Manager");
    assert_string_equal(sla_esc_level_name(SLA_ESC_CISO), "CISO");
    assert_null(sla_esc_level_name(SLA_ESC_LEVEL_COUNT));
    assert_int_equal(sla_esc_level_parse("L3", &l), 0);
    assert_int_equal(l, SLA_ESC_L3);
    assert_int_equal(sla_esc_level_parse("l3", &l), SW_E_INVAL);
    assert_int_equal(sla_esc_level_parse(NULL, &l), SW_E_INVAL);
    assert_int_equal(sla_esc_method_parse("pager", &m), 0);
    assert_int_equal(m, SLA_ESC_PAGER);
    assert_int_equal(sla_esc_method_parse("sms", &m), SW_E_INVAL);
    assert_string_equal(sla_esc_method_name(SLA_ESC_PHONE), "phone");
}

static void test_validate(void **state)
{
    (void)state;
    size_t bi = 99;
    const char *bf = NULL;
    struct sla_esc_step s[6];
    for (int i = 0; i < 6; i++)
        s[i] = (struct sla_esc_step){ SLA_ESC_L1, "x", 1, SLA_ESC_EMAIL };
    assert_int_equal(sla_esc_chain_validate(chain3, 3, &bi, &bf), 0);
    assert_int_equal(sla_esc_chain_validate(s, 5, &bi, &bf), 0);
    assert_int_equal(sla_esc_chain_validate(s, 6, &bi, &bf), SW_E_INVAL);
    assert_string_equal(bf, "chain");
    assert_int_equal(sla_esc_chain_validate(s, 0, &bi, &bf), SW_E_INVAL);
    assert_string_equal(bf, "chain");
    s[1].timeout_min = 1441;
    assert_int_equal(sla_esc_chain_validate(s, 3, &bi, &bf), SW_E_INVAL);
    assert_int_equal(bi, 1);
    assert_string_equal(bf, "timeout_minutes");
    s[1].timeout_min = 0;
    assert_int_equal(sla_esc_chain_validate(s, 3, &bi, &bf), SW_E_INVAL);
    s[1].timeout_min = 1440;
    s[2].role = "";
    assert_int_equal(sla_esc_chain_validate(s, 3, &bi, &bf), SW_E_INVAL);
    assert_int_equal(bi, 2);
    assert_string_equal(bf, "role");
    s[2].role = "r";
    s[0].method = SLA_ESC_METHOD_COUNT;
    assert_int_equal(sla_esc_chain_validate(s, 3, &bi, &bf), SW_E_INVAL);
    assert_int_equal(bi, 0);
    assert_string_equal(bf, "notification_method");
    s[0].method = SLA_ESC_EMAIL;
    s[0].level = SLA_ESC_LEVEL_COUNT;
    assert_int_equal(sla_esc_chain_validate(s, 3, NULL, NULL), SW_E_INVAL);
}

/* Level 0 waits for the ack breach; then each timeout, anchored. */
static void test_schedule(void **state)
{
    (void)state;
    struct sla_clock ack;
    ack_clock(&ack);
    struct sla_esc_state st = { 0, 0 };
    size_t fired = 9;
    sla_ms due = 0;
    sla_ms breach = T0 + 15 * MIN + 1;
    assert_int_equal(sla_esc_next_at(chain3, 3, &st, &ack, T0), breach);
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, breach - 1, &fired, &due), 0);
    assert_int_equal(st.level, 0);
    /* looked at 7 s late: step 0 fires, anchored on the breach instant */
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, breach + 7000, &fired, &due), 1);
    assert_int_equal(fired, 0);
    assert_int_equal(due, breach);
    assert_int_equal(st.level, 1);
    assert_int_equal(st.escalated_at, breach);
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, breach + 7000, &fired, &due), 0);
    assert_int_equal(sla_esc_next_at(chain3, 3, &st, &ack, breach), breach + 10 * MIN);
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, breach + 10 * MIN, &fired, &due), 1);
    assert_int_equal(fired, 1);
    assert_int_equal(sla_esc_next_at(chain3, 3, &st, &ack, breach), breach + 40 * MIN);
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, breach + 40 * MIN, &fired, &due), 1);
    assert_int_equal(fired, 2);
    /* exhausted: nothing more, ever */
    assert_int_equal(sla_esc_next_at(chain3, 3, &st, &ack, breach), SLA_NEVER);
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, breach + 999 * MIN, &fired, &due), 0);
}

/* After downtime every overdue step fires, each at its own anchor. */
static void test_catch_up(void **state)
{
    (void)state;
    struct sla_clock ack;
    ack_clock(&ack);
    struct sla_esc_state st = { 0, 0 };
    sla_ms now = T0 + 15 * MIN + 1 + 45 * MIN;     /* 45 min after the breach */
    size_t fired;
    sla_ms due;
    int n = 0;
    sla_ms dues[3];
    while (sla_esc_auto_step(chain3, 3, &st, &ack, now, &fired, &due) == 1)
        dues[n++] = due;
    assert_int_equal(n, 3);
    assert_int_equal(dues[1] - dues[0], 10 * MIN);
    assert_int_equal(dues[2] - dues[1], 30 * MIN);
    /* only two overdue at 39 min */
    st = (struct sla_esc_state){ 0, 0 };
    n = 0;
    while (sla_esc_auto_step(chain3, 3, &st, &ack, T0 + 15 * MIN + 39 * MIN, &fired, &due) == 1)
        n++;
    assert_int_equal(n, 2);
}

static void test_ack_stops(void **state)
{
    (void)state;
    struct sla_clock ack;
    ack_clock(&ack);
    struct sla_esc_state st = { 1, T0 + 15 * MIN + 1 };
    assert_int_equal(sla_clock_stop(&ack, T0 + 16 * MIN), 0);
    assert_int_equal(sla_esc_next_at(chain3, 3, &st, &ack, T0 + 16 * MIN), SLA_NEVER);
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, T0 + 99 * MIN, NULL, NULL), 0);
    assert_int_equal(st.level, 1);
    /* a hand still may */
    size_t fired;
    assert_int_equal(sla_esc_manual_step(chain3, 3, &st, T0 + 17 * MIN, &fired), 0);
    assert_int_equal(fired, 1);
}

static void test_manual(void **state)
{
    (void)state;
    struct sla_clock ack;
    ack_clock(&ack);
    struct sla_esc_state st = { 0, 0 };
    size_t fired = 9;
    /* before any breach, by hand: anchors on its own instant */
    assert_int_equal(sla_esc_manual_step(chain3, 3, &st, T0 + 2 * MIN, &fired), 0);
    assert_int_equal(fired, 0);
    assert_int_equal(sla_esc_next_at(chain3, 3, &st, &ack, T0 + 2 * MIN), T0 + 12 * MIN);
    /* the breach later does not fire step 0 again: the next is step 1 */
    assert_int_equal(sla_esc_auto_step(chain3, 3, &st, &ack, T0 + 12 * MIN, &fired, NULL), 1);
    assert_int_equal(fired, 1);
    assert_int_equal(sla_esc_manual_step(chain3, 3, &st, T0 + 13 * MIN, &fired), 0);
    assert_int_equal(fired, 2);
    assert_int_equal(sla_esc_manual_step(chain3, 3, &st, T0 + 14 * MIN, &fired), SW_E_EXHAUSTED);
    assert_int_equal(st.level, 3);
    /* no chain: undefined */
    struct sla_esc_state z = { 0, 0 };
    assert_int_equal(sla_esc_manual_step(NULL, 0, &z, T0, &fired), SW_E_EXHAUSTED);
    assert_int_equal(sla_esc_next_at(NULL, 0, &z, &ack, T0), SLA_NEVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_catch_up),
        cmocka_unit_test(test_ack_stops),
        cmocka_unit_test(test_manual),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
