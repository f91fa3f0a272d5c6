/* backoff: how long a loop waits after its store failed, pure.
 *
 * The scheduler and the notifier workers retry a failing database (disk
 * full, read-only, down) after base, 2*base, 4*base ... up to cap, and go
 * back to full speed the moment a round succeeds.  No clock inside: the
 * caller sleeps for what it is told. */
#ifndef SW_UTIL_BACKOFF_H
#define SW_UTIL_BACKOFF_H

#include <stdint.h>

#define BACKOFF_STORE_BASE_MS 50
#define BACKOFF_STORE_CAP_MS  5000

struct backoff {
    int64_t base_ms, cap_ms;
    int64_t delay_ms;           /* the delay the last failure asked for; 0 = none */
    unsigned failures;          /* in a row */
};

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms);
/* One more failure in a row: the delay before the next try (base, then
 * doubling, never above cap). */
int64_t backoff_fail(struct backoff *b);
/* A success: the next failure starts again at base.  Returns how many
 * failures in a row it ends (0 when there were none). */
unsigned backoff_ok(struct backoff *b);

#endif
