/* sw_scopy (src/util/str.h) against the snprintf(dst, cap, "%s", src) it
 * replaces: the same bytes for every length around the capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/str.h"

static void test_same_as_snprintf(void **state)
{
    (void)state;
    char src[80];
    for (size_t len = 0; len < sizeof(src) - 1; len++) {
        for (size_t i = 0; i < len; i++)
            src[i] = (char)('a' + (i * 7 + len) % 26);
        src[len] = '\0';
        for (size_t cap = 1; cap <= 40; cap++) {
            char a[48], b[48];
            memset(a, 'X', sizeof(a));
            memset(b, 'X', sizeof(b));
            volatile size_t vcap = cap;     /* truncation is the point: no warning */
            snprintf(a, vcap, "%s", src);
            size_t n = sw_scopy(b, cap, src);
            assert_memory_equal(a, b, sizeof(a));   /* nothing past the NUL either */
            assert_int_equal(n, strlen(b));
            assert_int_equal(n, len < cap ? len : cap - 1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_snprintf),
    };
    return cmocka_run_group_tests_name("util_str", tests, NULL, NULL);
}
