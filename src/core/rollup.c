/* Rollups: the log-bucketed duration histogram and the per-group counters
 * the reports read (see rollup.h for the error bound and the encoding). */
#include "core/rollup.h"

#include <math.h>
#include <string.h>

#include "util/err.h"

void sla_hist_clear(struct sla_hist *h)
{
    memset(h, 0, sizeof(*h));
}

int sla_hist_bucket(int64_t ms)
{
    if (ms < SLA_HIST_LINEAR)
        return ms < 0 ? 0 : (int)ms;
    double j = floor(log((double)ms / SLA_HIST_LINEAR) / log(SLA_HIST_GAMMA));
    if (j < 0)
        j = 0;      /* ms == SLA_HIST_LINEAR with a log a hair below 0 */
    if (j >= SLA_HIST_BUCKETS - SLA_HIST_LINEAR)
        return SLA_HIST_BUCKETS - 1;
    return SLA_HIST_LINEAR + (int)j;
}

double sla_hist_value(int bucket)
{
    if (bucket < SLA_HIST_LINEAR)
        return bucket < 0 ? 0.0 : (double)bucket;
    double lo = SLA_HIST_LINEAR * pow(SLA_HIST_GAMMA, bucket - SLA_HIST_LINEAR);
    double hi = lo * SLA_HIST_GAMMA;
    return 2.0 * lo * hi / (lo + hi);
}

void sla_hist_add(struct sla_hist *h, int64_t ms)
{
    h->c[sla_hist_bucket(ms)]++;
}

int sla_hist_remove(struct sla_hist *h, int64_t ms)
{
    int b = sla_hist_bucket(ms);
    if (h->c[b] == 0)
        return SW_E_INVAL;
    h->c[b]--;
    return 0;
}

void sla_hist_merge(struct sla_hist *dst, const struct sla_hist *src)
{
    for (int i = 0; i < SLA_HIST_BUCKETS; i++)
        dst->c[i] += src->c[i];
}

uint64_t sla_hist_total(const struct sla_hist *h)
{
    uint64_t n = 0;
    for (int i = 0; i < SLA_HIST_BUCKETS; i++)
        n += h->c[i];
    return n;
}

static double clamp(double v, int64_t min_ms, int64_t max_ms)
{
    if (max_ms >= 0 && v > (double)max_ms)
        v = (double)max_ms;
    if (min_ms >= 0 && v < (double)min_ms)
        v = (double)min_ms;
    return v;
}

int sla_hist_quantile(const struct sla_hist *h, unsigned pct, int64_t min_ms, int64_t max_ms,
                      double *out)
{
    if (pct < 1 || pct > 100)
        return SW_E_INVAL;
    uint64_t n = sla_hist_total(h);
    if (n == 0)
        return SW_E_NOTFOUND;
    uint64_t rank = (pct * n + 99) / 100;     /* ceil(pct·n / 100), >= 1 */
    uint64_t seen = 0;
    for (int i = 0; i < SLA_HIST_BUCKETS; i++) {
        seen += h->c[i];
        if (seen >= rank) {
            *out = clamp(sla_hist_value(i), min_ms, max_ms);
            return 0;
        }
    }
    return SW_E_NOTFOUND;   /* not reached: seen ends at n >= rank */
}

int sla_hist_quantiles(const struct sla_hist *h, uint64_t n, const unsigned *pcts, size_t k,
                       int64_t min_ms, int64_t max_ms, double *out)
{
    if (n == 0)
        return SW_E_NOTFOUND;
    for (size_t j = 0; j < k; j++)
        if (pcts[j] < 1 || pcts[j] > 100 || (j && pcts[j] < pcts[j - 1]))
            return SW_E_INVAL;
    uint64_t seen = 0;
    size_t j = 0;
    for (int i = 0; i < SLA_HIST_BUCKETS && j < k; i++) {
        seen += h->c[i];
        while (j < k && seen >= (pcts[j] * n + 99) / 100)
            out[j++] = clamp(sla_hist_value(i), min_ms, max_ms);
    }
    return j == k ? 0 : SW_E_INVAL;     /* n larger than the histogram's total */
}

/* ---- encoding ------------------------------------------------------------ */

static int put_varint(uint8_t *buf, size_t cap, size_t *pos, uint64_t v)
{
    do {
        if (*pos >= cap)
            return SW_E_TOOBIG;
        uint8_t b = v & 0x7f;
        v >>= 7;
        buf[(*pos)++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return 0;
}

static int get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return SW_E_INVAL;
        uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return SW_E_INVAL;
}

int sla_hist_encode(const struct sla_hist *h, uint8_t *buf, size_t cap, size_t *len)
{
    size_t pos = 0;
    int prev = -1;
    for (int i = 0; i < SLA_HIST_BUCKETS; i++) {
        if (!h->c[i])
            continue;
        if (put_varint(buf, cap, &pos, (uint64_t)(i - prev)) < 0 ||
            put_varint(buf, cap, &pos, h->c[i]) < 0)
            return SW_E_TOOBIG;
        prev = i;
    }
    *len = pos;
    return 0;
}

int sla_hist_decode_add(struct sla_hist *h, const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    int64_t at = -1;
    while (pos < len) {
        uint64_t gap, n;
        if (get_varint(buf, len, &pos, &gap) < 0 || get_varint(buf, len, &pos, &n) < 0)
            return SW_E_INVAL;
        if (gap == 0 || gap > SLA_HIST_BUCKETS || n == 0 || n > UINT32_MAX)
            return SW_E_INVAL;
        at += (int64_t)gap;
        if (at >= SLA_HIST_BUCKETS)
            return SW_E_INVAL;
        h->c[at] += (uint32_t)n;
    }
    return 0;
}

/* ---- rollups ---------------------------------------------------------------- */

int sla_clock_sample(const struct sla_clock *c, int64_t bill_rate_cph, struct sla_sample *out)
{
    if (!sla_clock_is_stopped(c))
        return SW_E_INVAL;
    out->duration_ms = sla_clock_elapsed(c, c->stopped_at);
    out->met = !sla_clock_breached(c, c->stopped_at);
    out->penalty_cents = bill_rate_cph > 0 ? sla_clock_penalty_cents(c, bill_rate_cph,
                                                                     c->stopped_at)
                                           : 0;
    return 0;
}

void sla_rollup_clear(struct sla_rollup *r)
{
    memset(r, 0, sizeof(*r));
}

void sla_rollup_add(struct sla_rollup *r, const struct sla_sample *s)
{
    if (r->count == 0 || s->duration_ms < r->min_ms)
        r->min_ms = s->duration_ms;
    r->count++;
    if (s->met)
        r->met++;
    else
        r->breached++;
    r->sum_ms += s->duration_ms;
    if (s->duration_ms > r->max_ms)
        r->max_ms = s->duration_ms;
    r->penalty_cents += s->penalty_cents;
    sla_hist_add(&r->hist, s->duration_ms);
}

int sla_rollup_remove(struct sla_rollup *r, const struct sla_sample *s, bool *max_stale,
                      bool *min_stale)
{
    *max_stale = false;
    *min_stale = false;
    if (r->count == 0 || (s->met ? r->met == 0 : r->breached == 0))
        return SW_E_INVAL;
    if (sla_hist_remove(&r->hist, s->duration_ms) < 0)
        return SW_E_INVAL;
    r->count--;
    if (s->met)
        r->met--;
    else
        r->breached--;
    r->sum_ms -= s->duration_ms;
    r->penalty_cents -= s->penalty_cents;
    if (r->count == 0) {
        r->max_ms = 0;
        r->min_ms = 0;
        return 0;
    }
    *max_stale = s->duration_ms >= r->max_ms;
    *min_stale = s->duration_ms <= r->min_ms;
    return 0;
}

void sla_rollup_merge(struct sla_rollup *dst, const struct sla_rollup *src)
{
    if (src->count && (dst->count == 0 || src->min_ms < dst->min_ms))
        dst->min_ms = src->min_ms;
    dst->count += src->count;
    dst->met += src->met;
    dst->breached += src->breached;
    dst->sum_ms += src->sum_ms;
    if (src->max_ms > dst->max_ms)
        dst->max_ms = src->max_ms;
    dst->penalty_cents += src->penalty_cents;
    sla_hist_merge(&dst->hist, &src->hist);
}

double sla_rollup_avg_ms(const struct sla_rollup *r)
{
    return r->count ? (double)r->sum_ms / (double)r->count : 0.0;
}

int sla_rollup_quantile(const struct sla_rollup *r, unsigned pct, double *out)
{
    if (r->count == 0)
        return SW_E_NOTFOUND;
    return sla_hist_quantile(&r->hist, pct, r->min_ms, r->max_ms, out);
}
