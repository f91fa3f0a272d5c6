/* Money and marks: penalties per breach, compliance percentages, grades. */
#include "core/sla.h"

int64_t sla_penalty_cents(int64_t rate_cph, sla_ms overage_ms)
{
    int64_t hours;

    if (rate_cph <= 0 || overage_ms <= 0)
        return 0;
    /* Started hours: the contract bills any part of an hour as a whole one. */
    hours = overage_ms / SLA_MS_PER_HOUR + (overage_ms % SLA_MS_PER_HOUR != 0);
    if (hours > INT64_MAX / rate_cph)
        return INT64_MAX;
    return rate_cph * hours;
}

int64_t sla_clock_penalty_cents(const struct sla_clock *c, int64_t rate_cph, sla_ms now)
{
    return sla_penalty_cents(rate_cph, sla_clock_overage(c, now));
}

double sla_compliance_pct(uint64_t met, uint64_t decided)
{
    if (decided == 0 || met >= decided)
        return 100.0;
    /* met × 100 first: 19 of 20 gives exactly 95.0, not 94.999…, so a grade
     * boundary is not lost to rounding (exact for counts below 2^53 / 100). */
    return (double)(met * 100) / (double)decided;
}

char sla_grade(double pct)
{
    if (pct >= 95.0)
        return 'A';
    if (pct >= 90.0)
        return 'B';
    if (pct >= 85.0)
        return 'C';
    if (pct >= 75.0)
        return 'D';
    return 'F';
}

char sla_grade_counts(uint64_t met, uint64_t decided)
{
    static const struct { unsigned pct; char grade; } bands[] = {
        { 95, 'A' }, { 90, 'B' }, { 85, 'C' }, { 75, 'D' },
    };

    if (decided == 0 || met >= decided)
        return 'A';
    for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
        /* met / decided >= pct / 100, in integers; counts below 2^57 fit. */
        if (met * 100 >= (uint64_t)bands[i].pct * decided)
            return bands[i].grade;
    }
    return 'F';
}
