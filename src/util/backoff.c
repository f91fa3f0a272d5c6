/* backoff.c: see backoff.h. */
#include "util/backoff.h"

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->cap_ms = cap_ms > b->base_ms ? cap_ms : b->base_ms;
    b->delay_ms = 0;
    b->failures = 0;
}

int64_t backoff_fail(struct backoff *b)
{
    if (b->failures < UINT32_MAX)
        b->failures++;
    if (b->delay_ms <= 0)
        b->delay_ms = b->base_ms;
    else
        b->delay_ms = b->delay_ms > b->cap_ms / 2 ? b->cap_ms : b->delay_ms * 2;
    return b->delay_ms;
}

unsigned backoff_ok(struct backoff *b)
{
    unsigned n = b->failures;
    b->failures = 0;
    b->delay_ms = 0;
    return n;
}
