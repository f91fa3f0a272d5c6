/* The hub's ticker: when the next {"type":"metrics"} pass runs
 * (src/ws/ticker.c hub_ticker_next). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ws/hub_int.h"

#define MS INT64_C(1000000)

static void test_next_tick(void **state)
{
    (void)state;
    /* a quick pass: one interval after the previous tick */
    assert_int_equal(hub_ticker_next(5000 * MS, 5000 * MS, 5002 * MS, 5000 * MS), 10000 * MS);
    /* late (the thread was held up): one interval from now, no burst */
    assert_int_equal(hub_ticker_next(5000 * MS, 20000 * MS, 20001 * MS, 5000 * MS),
                     25001 * MS);
    /* a pass of a second (a million open alerts): 9 s after it, not 4 */
    assert_int_equal(hub_ticker_next(5000 * MS, 5000 * MS, 6000 * MS, 5000 * MS), 15000 * MS);
    /* a short pass keeps a short interval's rhythm */
    assert_int_equal(hub_ticker_next(100 * MS, 100 * MS, 150 * MS, 10 * MS), 160 * MS);
    /* so over any stretch, the passes take at most a tenth of the time */
    int64_t next = 0, busy = 0, t = 0;
    for (int i = 0; i < 100; i++) {
        int64_t start = next > t ? next : t, len = (i % 7 + 1) * 150 * MS;
        t = start + len;
        busy += len;
        next = hub_ticker_next(next, start, t, 5000 * MS);
    }
    assert_true(busy * 10 <= next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_tick),
    };
    return cmocka_run_group_tests_name("ws_ticker", tests, NULL, NULL);
}
