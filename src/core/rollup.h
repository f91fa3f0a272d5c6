/* slawatch core: rollups, the pure half of analytics (rollup.c).
 *
 * A rollup is what the reports need about a set of stopped clocks (one
 * tenant × project × severity × day × clock in the store): how many, how
 * many met and breached, the sum and maximum of their durations, the
 * penalties they owe, and a log-bucketed histogram of the durations from
 * which percentiles come with a bounded relative error, without the raw rows.
 *
 * The histogram.  Durations are integer milliseconds >= 0.  Below
 * SLA_HIST_LINEAR ms each value has its own bucket (exact); from there on,
 * bucket k covers [L·γ^j, L·γ^(j+1)) with L = SLA_HIST_LINEAR, γ = 1.02 and
 * j = k − L.  A bucket is represented by the value 2·lo·hi / (lo + hi), whose
 * relative distance to any value of the bucket is at most (γ−1)/(γ+1) =
 * 0.990 % (≤ 1 %).  The last bucket is open-ended (about 58 years and up).
 * Quantiles are clamped to the exact minimum and maximum, which the rollup
 * keeps: a bucket's representative may lie outside the values it holds, and
 * the clamp makes the p50 of one sample that sample, and every percentile of
 * equal samples their value.
 * 1280 buckets × 4 bytes: a dense histogram is 5 KiB, fine on the stack; the
 * store keeps the compact encoding (sla_hist_encode), typically a few dozen
 * bytes.
 *
 * Quantiles use the nearest-rank definition: the p-th percentile of n values
 * is the value of rank ceil(p·n / 100) (1-based) in ascending order.  The
 * histogram answers the representative of the bucket holding that rank, so
 * it is within 1 % of the exact nearest-rank percentile.
 *
 * Like the rest of core: no I/O, no allocation, no clock; deterministic. */
#ifndef SW_CORE_ROLLUP_H
#define SW_CORE_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sla.h"

#define SLA_HIST_LINEAR  64
#define SLA_HIST_BUCKETS 1280
#define SLA_HIST_GAMMA   1.02
/* Worst case of sla_hist_encode: every bucket, index gap and count as
 * varints (gap ≤ 2 bytes, count ≤ 5 bytes). */
#define SLA_HIST_ENC_MAX (SLA_HIST_BUCKETS * 7)

struct sla_hist {
    uint32_t c[SLA_HIST_BUCKETS];
};

void sla_hist_clear(struct sla_hist *h);
/* The bucket of a duration (negative counts as 0). */
int sla_hist_bucket(int64_t ms);
/* The bucket's representative value (exact below SLA_HIST_LINEAR). */
double sla_hist_value(int bucket);
void sla_hist_add(struct sla_hist *h, int64_t ms);
/* Removes one value; SW_E_INVAL when its bucket is already empty. */
int sla_hist_remove(struct sla_hist *h, int64_t ms);
void sla_hist_merge(struct sla_hist *dst, const struct sla_hist *src);
uint64_t sla_hist_total(const struct sla_hist *h);
/* Nearest-rank percentile, pct 1..100, of the values counted; min_ms and
 * max_ms (each when >= 0) clamp the answer to the observed range.
 * SW_E_INVAL for pct out of range, SW_E_NOTFOUND for an empty histogram. */
int sla_hist_quantile(const struct sla_hist *h, unsigned pct, int64_t min_ms, int64_t max_ms,
                      double *out);
/* Several percentiles in one pass, n = the histogram's total (known to the
 * caller: the rollup's count), pcts ascending 1..100.  Same answers as
 * sla_hist_quantile; SW_E_INVAL for bad pcts or n, SW_E_NOTFOUND for n 0. */
int sla_hist_quantiles(const struct sla_hist *h, uint64_t n, const unsigned *pcts, size_t k,
                       int64_t min_ms, int64_t max_ms, double *out);

/* Compact encoding: for each non-empty bucket in ascending order, a LEB128
 * varint of (bucket − previous bucket) (the first: bucket + 1), then a varint
 * of its count.  Empty histogram → 0 bytes.  Deterministic: equal histograms
 * encode to equal bytes.  SW_E_TOOBIG when cap is too small. */
int sla_hist_encode(const struct sla_hist *h, uint8_t *buf, size_t cap, size_t *len);
/* Adds the encoded counts to h (does not clear it first: decoding several
 * rows into one histogram merges them).  SW_E_INVAL for malformed input
 * (h may then hold part of it). */
int sla_hist_decode_add(struct sla_hist *h, const uint8_t *buf, size_t len);

/* ---- rollups -------------------------------------------------------------- */

struct sla_rollup {
    uint64_t count, met, breached;
    int64_t sum_ms;             /* durations, total */
    int64_t min_ms, max_ms;     /* observed range; both 0 when empty */
    int64_t penalty_cents;
    struct sla_hist hist;
};

/* One stopped clock as the rollups count it. */
struct sla_sample {
    int64_t duration_ms;        /* active time from start to stop (pauses excluded) */
    bool met;                   /* stopped at or before its due */
    int64_t penalty_cents;      /* rate × started hours over target (0 unless billed) */
};

/* The sample of a stopped clock; bill_rate_cph > 0 prices its overage (the
 * resolve clock of an alert), 0 does not (the ack clock).  SW_E_INVAL when
 * the clock is running. */
int sla_clock_sample(const struct sla_clock *c, int64_t bill_rate_cph, struct sla_sample *out);

void sla_rollup_clear(struct sla_rollup *r);
void sla_rollup_add(struct sla_rollup *r, const struct sla_sample *s);
/* Takes one sample back out.  SW_E_INVAL when r does not hold it (count 0,
 * empty bucket).  *max_stale (*min_stale) is set when the removed value was
 * the maximum (minimum) and others remain: the caller must recompute it
 * from the raw items (an extreme cannot be un-merged); with none left both
 * are 0. */
int sla_rollup_remove(struct sla_rollup *r, const struct sla_sample *s, bool *max_stale,
                      bool *min_stale);
void sla_rollup_merge(struct sla_rollup *dst, const struct sla_rollup *src);
/* Mean duration in ms; 0 when empty. */
double sla_rollup_avg_ms(const struct sla_rollup *r);
/* Nearest-rank percentile of the rollup, clamped to its minimum and
 * maximum; SW_E_NOTFOUND when empty. */
int sla_rollup_quantile(const struct sla_rollup *r, unsigned pct, double *out);

#endif
