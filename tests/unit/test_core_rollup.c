/* core rollups: the log-bucketed histogram (bucket error, quantiles within
 * 1 % of exact nearest-rank percentiles on random data, edge cases), its
 * compact encoding, and rollup add / remove / merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rollup.h"
#include "util/err.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, no libc rand */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* exact nearest-rank percentile of a sorted array */
static int64_t exact_q(const int64_t *v, size_t n, unsigned pct)
{
    size_t rank = (pct * n + 99) / 100;
    return v[rank - 1];
}

static void test_bucket_error(void **state)
{
    (void)state;
    /* every value's bucket representative is within 1 % of it */
    for (int64_t v = 0; v < 200000; v += (v < 1000 ? 1 : 37)) {
        double rep = sla_hist_value(sla_hist_bucket(v));
        if (v == 0)
            assert_true(rep == 0.0);
        else
            assert_true(fabs(rep - (double)v) / (double)v <= 0.01);
    }
    for (int i = 0; i < 100000; i++) {
        int64_t v = (int64_t)(rng() % (400ull * 86400000ull)) + 1;
        double rep = sla_hist_value(sla_hist_bucket(v));
        assert_true(fabs(rep - (double)v) / (double)v <= 0.01);
    }
    /* monotonic buckets; exact below the linear range; negative → 0 */
    int prev = -1;
    for (int64_t v = 0; v < 10000000; v = v * 1.01 + 1) {
        int b = sla_hist_bucket(v);
        assert_true(b >= prev);
        prev = b;
    }
    assert_int_equal(sla_hist_bucket(63), 63);
    assert_int_equal(sla_hist_bucket(-5), 0);
    assert_int_equal(sla_hist_bucket(INT64_MAX), SLA_HIST_BUCKETS - 1);
    /* the range covers 400 days without hitting the open-ended last bucket */
    assert_true(sla_hist_bucket(400 * SLA_MS_PER_DAY) < SLA_HIST_BUCKETS - 1);
}

static void check_random_quantiles(size_t n, int64_t lo, int64_t hi, int lognormal)
{
    int64_t *v = malloc(n * sizeof(*v));
    struct sla_hist *h = calloc(1, sizeof(*h));
    int64_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (lognormal) {
            /* heavy tail: exp of a uniform over [ln lo, ln hi] */
            double u = (double)(rng() % 1000000) / 1e6;
            v[i] = (int64_t)exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));
        } else {
            v[i] = lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
        }
        sla_hist_add(h, v[i]);
        if (v[i] > max)
            max = v[i];
    }
    qsort(v, n, sizeof(*v), cmp64);
    static const unsigned pcts[] = {1, 10, 25, 50, 75, 90, 95, 99, 100};
    for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
        double q;
        assert_int_equal(sla_hist_quantile(h, pcts[k], -1, max, &q), 0);
        int64_t e = exact_q(v, n, pcts[k]);
        double err = e ? fabs(q - (double)e) / (double)e : q;
        if (err > 0.01)
            fail_msg("n=%zu p%u: histogram %.3f exact %lld error %.4f", n, pcts[k], q,
                     (long long)e, err);
    }
    assert_int_equal(sla_hist_total(h), n);
    /* the one-pass form answers the same */
    double qs[sizeof(pcts) / sizeof(pcts[0])];
    assert_int_equal(sla_hist_quantiles(h, n, pcts, sizeof(pcts) / sizeof(pcts[0]), -1, max, qs), 0);
    for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
        double q;
        sla_hist_quantile(h, pcts[k], -1, max, &q);
        assert_true(q == qs[k]);
    }
    static const unsigned desc[] = {90, 50};
    assert_int_equal(sla_hist_quantiles(h, n, desc, 2, -1, max, qs), SW_E_INVAL);
    assert_int_equal(sla_hist_quantiles(h, 0, pcts, 1, -1, max, qs), SW_E_NOTFOUND);
    free(v);
    free(h);
}

static void test_quantiles_random(void **state)
{
    (void)state;
    check_random_quantiles(1, 1000, 100000, 0);
    check_random_quantiles(2, 1000, 100000, 0);
    check_random_quantiles(10, 1000, 100000, 0);
    check_random_quantiles(1000, 60000, 4 * 3600000, 0);          /* minutes to hours */
    check_random_quantiles(100000, 1, 30ll * 86400000, 1);        /* ms to a month, log */
    check_random_quantiles(5000, 0, 100, 0);                      /* small values, exact */
}

static void test_quantile_edges(void **state)
{
    (void)state;
    struct sla_hist h;
    double q = -1;
    sla_hist_clear(&h);
    assert_int_equal(sla_hist_quantile(&h, 50, -1, -1, &q), SW_E_NOTFOUND);   /* empty */
    sla_hist_add(&h, 0);
    assert_int_equal(sla_hist_quantile(&h, 50, 0, 0, &q), 0);                 /* 0 ms */
    assert_true(q == 0.0);
    assert_int_equal(sla_hist_quantile(&h, 0, 0, 0, &q), SW_E_INVAL);
    assert_int_equal(sla_hist_quantile(&h, 101, 0, 0, &q), SW_E_INVAL);
    sla_hist_clear(&h);
    sla_hist_add(&h, 600000);                                              /* one value */
    for (unsigned p = 1; p <= 100; p += 33) {
        assert_int_equal(sla_hist_quantile(&h, p, -1, 600000, &q), 0);
        assert_true(fabs(q - 600000) / 600000 <= 0.01);
        /* clamped to the observed range: one sample is exactly itself */
        assert_int_equal(sla_hist_quantile(&h, p, 600000, 600000, &q), 0);
        assert_true(q == 600000.0);
    }
    /* equal samples: every percentile is their value, with the clamp */
    sla_hist_clear(&h);
    for (int i = 0; i < 7; i++)
        sla_hist_add(&h, 4321987);
    for (unsigned p = 1; p <= 100; p++) {
        assert_int_equal(sla_hist_quantile(&h, p, 4321987, 4321987, &q), 0);
        assert_true(q == 4321987.0);
    }
    /* a bucket's representative below the smallest value is raised to it */
    sla_hist_clear(&h);
    sla_hist_add(&h, 1000000);
    sla_hist_add(&h, 1000001);
    assert_int_equal(sla_hist_quantile(&h, 50, 1000000, 1000001, &q), 0);
    assert_true(q >= 1000000.0 && q <= 1000001.0);
    /* clamped to the maximum given */
    sla_hist_clear(&h);
    sla_hist_add(&h, 1000001);
    assert_int_equal(sla_hist_quantile(&h, 100, -1, 1000001, &q), 0);
    assert_true(q <= 1000001.0);
}

static void test_encoding(void **state)
{
    (void)state;
    struct sla_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    uint8_t *buf = malloc(SLA_HIST_ENC_MAX);
    size_t len;
    assert_int_equal(sla_hist_encode(a, buf, SLA_HIST_ENC_MAX, &len), 0);
    assert_int_equal(len, 0);                       /* empty: no bytes */
    for (int i = 0; i < 5000; i++)
        sla_hist_add(a, (int64_t)(rng() % 100000000));
    a->c[SLA_HIST_BUCKETS - 1] = UINT32_MAX;         /* widest count, last bucket */
    a->c[0] = 1;
    assert_int_equal(sla_hist_encode(a, buf, SLA_HIST_ENC_MAX, &len), 0);
    assert_int_equal(sla_hist_decode_add(b, buf, len), 0);
    assert_memory_equal(a, b, sizeof(*a));
    /* decoding adds: twice = double */
    assert_int_equal(sla_hist_decode_add(b, buf, len), 0);
    assert_int_equal(b->c[0], 2);
    /* deterministic: same counts, same bytes */
    uint8_t *buf2 = malloc(SLA_HIST_ENC_MAX);
    size_t len2;
    assert_int_equal(sla_hist_encode(a, buf2, SLA_HIST_ENC_MAX, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    /* too small a buffer, malformed input */
    assert_int_equal(sla_hist_encode(a, buf, 3, &len2), SW_E_TOOBIG);
    const uint8_t bad1[] = {0x00, 0x01};             /* gap 0 */
    const uint8_t bad2[] = {0x05};                   /* truncated */
    const uint8_t bad3[] = {0x81, 0x01, 0x01};       /* gap 129: bucket 128, fine */
    const uint8_t bad4[] = {0xff, 0x7f, 0x01};       /* gap 16383: out of range */
    assert_int_equal(sla_hist_decode_add(b, bad1, sizeof(bad1)), SW_E_INVAL);
    assert_int_equal(sla_hist_decode_add(b, bad2, sizeof(bad2)), SW_E_INVAL);
    assert_int_equal(sla_hist_decode_add(b, bad3, sizeof(bad3)), 0);
    assert_int_equal(sla_hist_decode_add(b, bad4, sizeof(bad4)), SW_E_INVAL);
    free(a);
    free(b);
    free(buf);
    free(buf2);
}

static void test_rollup_add_remove_merge(void **state)
{
    (void)state;
    struct sla_rollup *r = calloc(1, sizeof(*r)), *m = calloc(1, sizeof(*m));
    struct sla_sample s1 = {600000, true, 0}, s2 = {900000, false, 5000},
                      s3 = {300000, true, 0};
    sla_rollup_add(r, &s1);
    sla_rollup_add(r, &s2);
    sla_rollup_add(r, &s3);
    assert_int_equal(r->count, 3);
    assert_int_equal(r->met, 2);
    assert_int_equal(r->breached, 1);
    assert_int_equal(r->sum_ms, 1800000);
    assert_int_equal(r->max_ms, 900000);
    assert_int_equal(r->min_ms, 300000);
    assert_int_equal(r->penalty_cents, 5000);
    assert_true(sla_rollup_avg_ms(r) == 600000.0);
    double q;
    assert_int_equal(sla_rollup_quantile(r, 1, &q), 0);
    assert_true(q >= 300000.0 && fabs(q - 300000) / 300000 <= 0.01);
    bool stale, min_stale;
    assert_int_equal(sla_rollup_remove(r, &s3, &stale, &min_stale), 0);
    assert_false(stale);
    assert_true(min_stale);                          /* the minimum went */
    r->min_ms = 600000;                              /* the caller recomputes */
    assert_int_equal(sla_rollup_remove(r, &s2, &stale, &min_stale), 0);
    assert_true(stale);                              /* the maximum went */
    assert_false(min_stale);
    assert_int_equal(r->penalty_cents, 0);
    r->max_ms = 600000;                              /* the caller recomputes */
    assert_int_equal(sla_rollup_quantile(r, 50, &q), 0);
    assert_true(q == 600000.0);                      /* one sample: itself */
    assert_int_equal(sla_rollup_remove(r, &s1, &stale, &min_stale), 0);
    assert_int_equal(r->count, 0);
    assert_int_equal(r->max_ms, 0);
    assert_int_equal(r->min_ms, 0);
    assert_int_equal(sla_rollup_quantile(r, 50, &q), SW_E_NOTFOUND);
    assert_int_equal(sla_rollup_remove(r, &s1, &stale, &min_stale), SW_E_INVAL);
    /* merge */
    sla_rollup_add(r, &s1);
    sla_rollup_add(m, &s2);
    sla_rollup_merge(m, r);
    assert_int_equal(m->count, 2);
    assert_int_equal(m->max_ms, 900000);
    assert_int_equal(m->min_ms, 600000);
    assert_int_equal(sla_hist_total(&m->hist), 2);
    sla_rollup_clear(r);
    assert_true(sla_rollup_avg_ms(r) == 0.0);                     /* empty */
    free(r);
    free(m);
}

static void test_clock_sample(void **state)
{
    (void)state;
    const int64_t t0 = INT64_C(1795341600000);
    struct sla_clock c;
    struct sla_sample s;
    assert_int_equal(sla_clock_start(&c, t0, 4 * SLA_MS_PER_HOUR), 0);
    assert_int_equal(sla_clock_sample(&c, 5000, &s), SW_E_INVAL);      /* running */
    assert_int_equal(sla_clock_stop(&c, t0 + 4 * SLA_MS_PER_HOUR), 0);   /* exactly at due */
    assert_int_equal(sla_clock_sample(&c, 5000, &s), 0);
    assert_true(s.met);
    assert_int_equal(s.duration_ms, 4 * SLA_MS_PER_HOUR);
    assert_int_equal(s.penalty_cents, 0);
    assert_int_equal(sla_clock_continue(&c, t0 + 5 * SLA_MS_PER_HOUR), 0);
    assert_int_equal(sla_clock_stop(&c, t0 + 6 * SLA_MS_PER_HOUR + 1), 0);
    assert_int_equal(sla_clock_sample(&c, 5000, &s), 0);
    assert_false(s.met);                             /* 1 h + 1 ms active over 4 h: breached */
    assert_int_equal(s.duration_ms, 5 * SLA_MS_PER_HOUR + 1);  /* the stopped hour paused */
    assert_int_equal(s.penalty_cents, 2 * 5000);     /* 1 h 1 ms over: 2 started hours */
    assert_int_equal(sla_clock_sample(&c, 0, &s), 0);
    assert_int_equal(s.penalty_cents, 0);            /* ack clocks are not billed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_error),
        cmocka_unit_test(test_quantiles_random),
        cmocka_unit_test(test_quantile_edges),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_rollup_add_remove_merge),
        cmocka_unit_test(test_clock_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
