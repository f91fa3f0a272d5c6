/* bench/calendar/calbench.c: business-time arithmetic on one core.
 *
 * One calendar as contracts write them: Europe/Berlin, Monday to Friday
 * 09:00-12:00 and 13:00-18:00, German public holidays every year plus
 * dated ones (Easter, Ascension, Whit Monday) for 2026-2031.  A million
 * random starts between 2026 and 2030 (a third of them outside business
 * hours) and targets from 15 minutes to 2160 hours, then the calls timed
 * in a loop for about two seconds each:
 *   due      sla_cal_due (a deadline: start + target in business time)
 *   elapsed  sla_cal_elapsed (business time between two instants)
 *   reach    sla_cal_reach (when a warning's share has elapsed)
 * and, for comparison, the same deadlines on 24x7 (start + target).
 * Prints calls per second; `BENCH_CAL_ZONE=UTC` etc. changes the zone.
 * Goal: >= 5,000,000 due computations per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "util/tzcal.h"

#define N 1000000

static uint64_t state = 88172645463325252u;
static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    const char *zone = getenv("BENCH_CAL_ZONE") ? getenv("BENCH_CAL_ZONE") : "Europe/Berlin";
    struct sla_cal_interval day[2] = {{9 * 3600, 12 * 3600}, {13 * 3600, 18 * 3600}};
    static const char *const hol[] = {
        "01-01", "05-01", "10-03", "12-24", "12-25", "12-26", "12-31",
        "2026-04-03", "2026-04-06", "2026-05-14", "2026-05-25", "2027-03-26", "2027-03-29",
        "2027-05-06", "2027-05-17", "2028-04-14", "2028-04-17", "2028-05-25", "2028-06-05",
        "2029-03-30", "2029-04-02", "2029-05-10", "2029-05-21", "2030-04-19", "2030-04-22",
        "2030-05-30", "2030-06-10", "2031-04-11", "2031-04-14", "2031-05-29", "2031-06-09",
    };
    struct sla_cal_holiday h[sizeof(hol) / sizeof(hol[0])];
    struct sla_cal_spec s;
    memset(&s, 0, sizeof(s));
    for (int d = 0; d < 5; d++) {
        s.days[d] = day;
        s.ndays[d] = 2;
    }
    for (size_t i = 0; i < sizeof(hol) / sizeof(hol[0]); i++)
        sla_cal_holiday_parse(hol[i], &h[i]);
    s.holidays = h;
    s.nholidays = sizeof(hol) / sizeof(hol[0]);
    struct tzcal t;
    struct sla_cal_error err;
    double c0 = now_s();
    if (tzcal_compile(zone, &s, &t, &err) < 0) {
        fprintf(stderr, "compile: %s\n", err.reason);
        return 1;
    }
    double c1 = now_s();
    sla_ms *start = malloc(N * sizeof(*start)), *target = malloc(N * sizeof(*target));
    sla_ms lo, hi;
    sla_time_parse("2026-01-01T00:00:00Z", &lo);
    sla_time_parse("2030-12-31T00:00:00Z", &hi);
    static const int hours[] = {1, 4, 8, 24, 72, 168, 720, 2160};
    for (int i = 0; i < N; i++) {
        start[i] = lo + (sla_ms)(rnd() % (uint64_t)(hi - lo));
        target[i] = i % 4 == 0 ? (sla_ms)(rnd() % 10 + 1) * 15 * SLA_MS_PER_MIN
                               : (sla_ms)hours[rnd() % 8] * SLA_MS_PER_HOUR;
    }
    printf("zone %s, calendar compiled in %.2f ms (%zu bytes)\n", zone, (c1 - c0) * 1e3,
           t.bytes);
    const char *names[] = {"due", "elapsed", "reach", "24x7 due (start + target)"};
    for (int k = 0; k < 4; k++) {
        volatile sla_ms sink = 0;
        long calls = 0;
        double a = now_s(), b;
        do {
            for (int i = 0; i < N; i++) {
                switch (k) {
                case 0: sink += sla_cal_due(t.cal, start[i], target[i]); break;
                case 1: sink += sla_cal_elapsed(t.cal, start[i], start[i] + target[i] * 3); break;
                case 2: sink += sla_cal_reach(t.cal, start[i], target[i]); break;
                default: sink += start[i] + target[i]; break;
                }
            }
            calls += N;
            b = now_s();
        } while (b - a < 2.0);
        printf("%-28s %12.0f calls/s  (%.0f ns each)\n", names[k], calls / (b - a),
               (b - a) / calls * 1e9);
        (void)sink;
    }
    tzcal_free(&t);
    free(start);
    free(target);
    return 0;
}
