/* clock.h: the process's clock readings for timeouts and intervals (never
 * for SLA arithmetic, which takes its time as an argument: src/core). */
#ifndef SW_UTIL_CLOCK_H
#define SW_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds (intervals, back-offs, cache ages). */
static inline int64_t sw_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The instant ms milliseconds from now on clock clk, as
 * pthread_cond_timedwait takes it (CLOCK_REALTIME unless the condition
 * variable was made with another clock). */
static inline struct timespec sw_deadline_ms(clockid_t clk, int64_t ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
