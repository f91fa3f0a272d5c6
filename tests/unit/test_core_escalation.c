/* core escalation contacts: validation, inheritance, days-after-breach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sla.h"
#include "util/err.h"

#define T0  INT64_C(1795341600000)
#define DAY SLA_MS_PER_DAY

static void test_validate(void **state)
{
    struct sla_contact ok[] = { { 1, "alice", 0 }, { 3, "ciso", 7 } };
    struct sla_contact only2[] = { { 2, "lead", 3 } };
    struct sla_contact dup[] = { { 1, "alice", 0 }, { 1, "bob", 2 } };
    struct sla_contact level0[] = { { 0, "alice", 0 } };
    struct sla_contact level4[] = { { 4, "alice", 0 } };
    struct sla_contact noname[] = { { 1, "alice", 0 }, { 2, "", 1 } };
    struct sla_contact nouser[] = { { 1, NULL, 0 } };
    struct sla_contact negative[] = { { 1, "alice", -1 } };
    struct sla_contact four[] = { { 1, "a", 0 }, { 2, "b", 0 }, { 3, "c", 0 }, { 1, "d", 0 } };
    size_t bad = 99;

    (void)state;
    assert_int_equal(sla_contacts_validate(ok, 2, &bad), 0);
    assert_int_equal(sla_contacts_validate(only2, 1, &bad), 0);   /* levels independent */
    assert_int_equal(sla_contacts_validate(NULL, 0, &bad), 0);     /* none: inherit */
    assert_int_equal(sla_contacts_validate(dup, 2, &bad), SW_E_INVAL);
    assert_int_equal(bad, 1);
    assert_int_equal(sla_contacts_validate(level0, 1, &bad), SW_E_INVAL);
    assert_int_equal(bad, 0);
    assert_int_equal(sla_contacts_validate(level4, 1, &bad), SW_E_INVAL);
    assert_int_equal(sla_contacts_validate(noname, 2, &bad), SW_E_INVAL);
    assert_int_equal(bad, 1);
    assert_int_equal(sla_contacts_validate(nouser, 1, &bad), SW_E_INVAL);
    assert_int_equal(sla_contacts_validate(negative, 1, &bad), SW_E_INVAL);
    assert_int_equal(sla_contacts_validate(four, 4, &bad), SW_E_INVAL);
}

static void test_due_after_breach(void **state)
{
    struct sla_contact c[] = { { 1, "owner", 0 }, { 2, "lead", 3 }, { 3, "manager", 7 } };
    uint32_t fired = 0, now;

    (void)state;
    assert_int_equal(sla_contacts_due(0, c, 3, 0, T0), 0);          /* not breached */
    now = sla_contacts_due(T0, c, 3, fired, T0);
    assert_int_equal(now, 0x1);                                      /* day 0: at breach */
    fired |= now;
    assert_int_equal(sla_contacts_due(T0, c, 3, fired, T0 + 3 * DAY - 1), 0);
    assert_true(sla_contacts_next(T0, c, 3, fired) == T0 + 3 * DAY);
    now = sla_contacts_due(T0, c, 3, fired, T0 + 3 * DAY);
    assert_int_equal(now, 0x2);
    fired |= now;
    assert_int_equal(sla_contacts_due(T0, c, 3, fired, T0 + 5 * DAY), 0); /* once each */
    /* a scheduler back after a long outage gets what is due, once */
    assert_int_equal(sla_contacts_due(T0, c, 3, 0, T0 + 30 * DAY), 0x7);
    fired |= sla_contacts_due(T0, c, 3, fired, T0 + 8 * DAY);
    assert_int_equal(fired, 0x7);
    assert_true(sla_contacts_next(T0, c, 3, fired) == SLA_NEVER);
    assert_true(sla_contacts_next(0, c, 3, 0) == SLA_NEVER);
}

static void test_inherit_whole_list(void **state)
{
    struct sla_contacts project = { .n = 0 };
    struct sla_contacts company = { .item = { { 2, "lead", 1 } }, .n = 1 };
    struct sla_contacts global = { .item = { { 1, "a", 0 }, { 2, "b", 1 } }, .n = 2 };
    enum sla_src src = SLA_SRC_BUILTIN;

    (void)state;
    assert_ptr_equal(sla_contacts_inherit(&project, &company, &global, &src), &company);
    assert_int_equal(src, SLA_SRC_TENANT);
    assert_ptr_equal(sla_contacts_inherit(NULL, NULL, &global, &src), &global);
    assert_int_equal(src, SLA_SRC_GLOBAL);
    project.item[0] = (struct sla_contact){ 3, "ciso", 2 };
    project.n = 1;
    assert_ptr_equal(sla_contacts_inherit(&project, &company, &global, &src), &project);
    assert_int_equal(src, SLA_SRC_PROJECT);
    assert_null(sla_contacts_inherit(NULL, NULL, NULL, &src));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_due_after_breach),
        cmocka_unit_test(test_inherit_whole_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
