/* Business-hours calendars: see calendar.h for the model (G = F∘L + C).
 *
 * Layout of a compiled calendar (all in the caller's memory):
 *   - the weekly pattern: intervals in local ms from Monday 00:00, each with
 *     the business time before it (prefix), and per weekday its total;
 *   - holidays as sorted local day numbers with the business time lost
 *     before each (only days that have business hours are kept): a window
 *     of explicit days before the cycle start, and one 400-year template
 *     after it that repeats;
 *   - the zone's transitions (UTC instant, offset after), window and
 *     template the same way;
 *   - the transitions whose skipped or repeated wall range holds business
 *     time ("corrections"), with the running sum C and the value of G at
 *     each, so an inverse first finds the stretch between two corrections
 *     its answer lies in, then inverts F there.
 * Sequences with a template are read as one infinite sorted sequence:
 * window entries, then template entries shifted by k cycles. */
#include "core/calendar.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

#define DAY_MS SLA_MS_PER_DAY
#define WEEK_MS (7 * DAY_MS)
#define CYCLE_DAYS INT64_C(146097)          /* 400 Gregorian years */
#define CYCLE_WEEKS INT64_C(20871)
#define CYCLE_MS (CYCLE_DAYS * DAY_MS)
#define IV_MAX (7 * SLA_CAL_INTERVALS_MAX)
#define FIRST_YEAR 1969                     /* local days before the epoch's */
#define WEEK_MAX (SLA_CAL_MAX_MS / WEEK_MS + 2)

/* A sorted array's index: first[b] = the first entry >= base + b * width,
 * so "how many entries are below x" is a lookup and a short scan instead
 * of a binary search (the hot path's cost). */
struct bucket {
    int64_t base;
    size_t nb;
    int32_t *first;
};

#define HOL_BUCKET 64                       /* days */
#define TR_BUCKET (64 * DAY_MS)
#define TR_SLACK (2 * DAY_MS)               /* |offset| < 1 day, with room */

struct sla_cal {
    /* weekly pattern */
    int niv;
    int64_t iv_s[IV_MAX], iv_e[IV_MAX], iv_p[IV_MAX];
    int8_t iv_day[IV_MAX];
    int64_t day_pre[8], day_tot[7], wt;
    /* holidays */
    int64_t cycle_day;
    size_t nhw, nht;
    int64_t *hw_day, *hw_cum, hw_total;
    int64_t *ht_day, *ht_cum, ht_total;     /* ht_day relative to cycle_day */
    struct bucket hwb, htb;
    /* zone transitions */
    int64_t off0, cycle_at;
    size_t ntw, ntt;
    int64_t *tw_at, *tw_off;
    int64_t *tt_at, *tt_off;                /* absolute, cycle 0 */
    int64_t *tw_l1, *tt_l1;                 /* wall time just before each */
    struct bucket twb, ttb;                 /* over tw_at, tt_at */
    /* corrections */
    size_t ncw, nct;
    int64_t *cw_at, *cw_C, *cw_G;           /* C inclusive, G at the instant */
    int64_t *ct_at, *ct_C, *ct_G;           /* ct_C within the template */
    int64_t cw_total, ct_total;
    int64_t g_cycle;                        /* business time per cycle */
};

/* ---- arithmetic ------------------------------------------------------------ */

static int64_t fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Index of the last element <= x (or < x when strict) in v[0..n), -1 if none. */
static ptrdiff_t last_le(const int64_t *v, size_t n, int64_t x, bool strict)
{
    if (n == 0)
        return -1;
    /* branch-free halving: the comparisons become conditional moves */
    const int64_t *base = v;
    while (n > 1) {
        size_t half = n / 2;
        base = (strict ? base[half] < x : base[half] <= x) ? base + half : base;
        n -= half;
    }
    ptrdiff_t i = base - v;
    return (strict ? *base < x : *base <= x) ? i : i - 1;
}

/* Entries of v (sorted, n) below x (le: at or below x), with b indexing
 * v in buckets of width. */
static inline size_t b_count(const int64_t *v, size_t n, const struct bucket *b, int64_t width,
                             int64_t x, bool le)
{
    if (n == 0 || x < b->base)
        return 0;
    int64_t k = (x - b->base) / width;
    size_t i = (size_t)b->first[k < (int64_t)b->nb ? k : (int64_t)b->nb - 1];
    while (i < n && (le ? v[i] <= x : v[i] < x))
        i++;
    return i;
}

/* Builds b over v[0..n) from base up to (excluding) end; first has room
 * for b_slots(base, end, width). */
static size_t b_slots(int64_t base, int64_t end, int64_t width)
{
    return end > base ? (size_t)((end - base) / width) + 2 : 2;
}

static void b_build(struct bucket *b, int32_t *first, const int64_t *v, size_t n, int64_t base,
                    int64_t end, int64_t width)
{
    b->base = base;
    b->nb = b_slots(base, end, width);
    b->first = first;
    size_t i = 0;
    for (size_t k = 0; k < b->nb; k++) {
        int64_t at = base + (int64_t)k * width;
        while (i < n && v[i] < at)
            i++;
        first[k] = (int32_t)i;
    }
}

/* ---- text helpers ------------------------------------------------------------- */

static bool two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

int sla_cal_time_parse(const char *s, bool end, int32_t *sec)
{
    int h, m, x = 0;
    size_t n = s ? strlen(s) : 0;
    if ((n != 5 && n != 8) || !two_digits(s, &h) || s[2] != ':' || !two_digits(s + 3, &m))
        return SW_E_INVAL;
    if (n == 8 && (s[5] != ':' || !two_digits(s + 6, &x)))
        return SW_E_INVAL;
    if (m > 59 || x > 59)
        return SW_E_INVAL;
    if (h == 24 && m == 0 && x == 0 && end) {
        *sec = SLA_CAL_DAY_S;
        return 0;
    }
    if (h > 23)
        return SW_E_INVAL;
    *sec = h * 3600 + m * 60 + x;
    return 0;
}

void sla_cal_time_format(int32_t sec, char buf[12])
{
    unsigned v = sec < 0 ? 0 : (unsigned)sec;
    unsigned h = v / 3600 % 100, m = v / 60 % 60, x = v % 60;
    if (x)
        snprintf(buf, 12, "%02u:%02u:%02u", h, m, x);
    else
        snprintf(buf, 12, "%02u:%02u", h, m);
}

int sla_cal_holiday_parse(const char *s, struct sla_cal_holiday *out)
{
    int y, m, d;
    if (!s || !out)
        return SW_E_INVAL;
    if (strlen(s) == 5) {
        if (!two_digits(s, &m) || s[2] != '-' || !two_digits(s + 3, &d) ||
            !sla_date_valid(2000, m, d))        /* a leap year: 02-29 is a date */
            return SW_E_INVAL;
        *out = (struct sla_cal_holiday){.year = 0, .month = m, .day = d};
        return 0;
    }
    if (sla_date_parse(s, &y, &m, &d) < 0)
        return SW_E_INVAL;
    *out = (struct sla_cal_holiday){.year = y, .month = m, .day = d};
    return 0;
}

void sla_cal_holiday_format(const struct sla_cal_holiday *h, char buf[12])
{
    unsigned y = (unsigned)h->year % 10000, m = (unsigned)h->month % 100,
             d = (unsigned)h->day % 100;
    if (y)
        snprintf(buf, 12, "%04u-%02u-%02u", y, m, d);
    else
        snprintf(buf, 12, "%02u-%02u", m, d);
}

/* ---- the spec ------------------------------------------------------------------ */

static int fail(struct sla_cal_error *err, const char *field, int day, int index,
                const char *reason)
{
    if (err)
        *err = (struct sla_cal_error){field, day, index, reason};
    return SW_E_INVAL;
}

int sla_cal_spec_check(const struct sla_cal_spec *s, struct sla_cal_error *err)
{
    int64_t total = 0;
    for (int d = 0; d < 7; d++) {
        if (s->ndays[d] > SLA_CAL_INTERVALS_MAX)
            return fail(err, "hours", d, -1, "too many intervals in a day");
        for (size_t i = 0; i < s->ndays[d]; i++) {
            const struct sla_cal_interval *v = &s->days[d][i];
            if (v->start_s < 0 || v->end_s > SLA_CAL_DAY_S || v->start_s >= v->end_s)
                return fail(err, "hours", d, (int)i, "an interval must start before it ends, "
                            "within the day");
            if (i > 0 && v->start_s < s->days[d][i - 1].end_s)
                return fail(err, "hours", d, (int)i, "intervals must be in order and must "
                            "not overlap");
            total += v->end_s - v->start_s;
        }
    }
    if (total == 0)
        return fail(err, "hours", -1, -1, "the week has no business time");
    if (s->nholidays > SLA_CAL_HOLIDAYS_MAX)
        return fail(err, "holidays", -1, -1, "too many holidays");
    for (size_t i = 0; i < s->nholidays; i++) {
        const struct sla_cal_holiday *h = &s->holidays[i];
        bool ok = h->year == 0 ? sla_date_valid(2000, h->month, h->day)
                               : h->year >= 1970 && h->year <= 9999 &&
                                 sla_date_valid(h->year, h->month, h->day);
        if (!ok)
            return fail(err, "holidays", -1, (int)i, "not a date (YYYY-MM-DD or MM-DD)");
    }
    return 0;
}

static int64_t day_of(int y, int m, int d)
{
    return sla_days_from_civil(y, m, d);
}

/* A dated holiday that a yearly one already covers adds nothing. */
static bool once_covered(const struct sla_cal_spec *s, const struct sla_cal_holiday *h)
{
    for (size_t i = 0; i < s->nholidays; i++) {
        const struct sla_cal_holiday *y = &s->holidays[i];
        if (y->year == 0 && y->month == h->month && y->day == h->day)
            return true;
    }
    return false;
}

static int64_t cycle_day_of(const struct sla_cal_spec *s)
{
    int64_t cd = day_of(2100, 1, 1);
    for (size_t i = 0; i < s->nholidays; i++) {
        const struct sla_cal_holiday *h = &s->holidays[i];
        if (h->year)
            cd = max64(cd, day_of(h->year, h->month, h->day) + 1);
    }
    return cd;
}

sla_ms sla_cal_cycle_at(const struct sla_cal_spec *s)
{
    /* a week after the holidays' cycle start: the transitions' wall times
     * then all fall in the periodic part of the holidays */
    return (cycle_day_of(s) + 7) * DAY_MS;
}

sla_ms sla_cal_zone_until(const struct sla_cal_spec *s)
{
    return sla_cal_cycle_at(s) + CYCLE_MS;
}

/* ---- size and layout ---------------------------------------------------------------- */

struct counts {
    size_t hw, ht, tr;
};

static void count(const struct sla_cal_spec *s, struct counts *n)
{
    size_t yearly = 0, once = 0;
    for (size_t i = 0; i < s->nholidays; i++) {
        if (s->holidays[i].year == 0)
            yearly++;
        else
            once++;
    }
    int y0, m0, d0;
    sla_civil_from_days(cycle_day_of(s), &y0, &m0, &d0);
    n->hw = (size_t)(y0 - FIRST_YEAR + 1) * yearly + once;
    n->ht = 402 * yearly;
    n->tr = s->ntr;
}

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

/* Bucket slots of the four indexes (an upper bound). */
static size_t bucket_slots(const struct sla_cal_spec *s)
{
    int64_t cd = cycle_day_of(s), cyc = sla_cal_cycle_at(s);
    int64_t tr0 = s->ntr ? s->tr[0].at : cyc;
    return b_slots(day_of(FIRST_YEAR, 1, 1), cd, HOL_BUCKET) +
           b_slots(0, CYCLE_DAYS, HOL_BUCKET) + b_slots(tr0, cyc, TR_BUCKET) +
           b_slots(0, CYCLE_MS, TR_BUCKET);
}

size_t sla_cal_size(const struct sla_cal_spec *s)
{
    struct counts n;
    count(s, &n);
    /* hw: day + cum; ht: same; transitions: at, off, l1; corrections: at,
     * C, G; the buckets' int32 slots */
    size_t words = 2 * n.hw + 2 * n.ht + 3 * n.tr + 3 * n.tr;
    return ALIGN8(sizeof(struct sla_cal)) + words * sizeof(int64_t) +
           ALIGN8(bucket_slots(s) * sizeof(int32_t)) + 64;
}

/* ---- the weekly pattern --------------------------------------------------------------- */

/* Business time in [0, x) of a plain week (x in [0, WEEK_MS]). */
/* The last of a few ascending values below x (at or below, le): a scan,
 * cheaper than halving for the handful of intervals a week has. */
static inline int last_small(const int64_t *v, int n, int64_t x, bool le)
{
    int i = 0;
    while (i < n && (le ? v[i] <= x : v[i] < x))
        i++;
    return i - 1;
}

static int64_t inweek(const struct sla_cal *c, int64_t x)
{
    ptrdiff_t i = c->niv <= 16 ? last_small(c->iv_s, c->niv, x, false)
                               : last_le(c->iv_s, (size_t)c->niv, x, true);
    if (i < 0)
        return 0;
    return c->iv_p[i] + min64(x - c->iv_s[i], c->iv_e[i] - c->iv_s[i]);
}

/* ---- holidays ------------------------------------------------------------------------ */

/* Business time lost to holidays on days before d; *is_hol: d is one. */
static int64_t hol_before(const struct sla_cal *c, int64_t d, bool *is_hol)
{
    *is_hol = false;
    if (c->nht == 0 || d < c->cycle_day) {
        size_t i = b_count(c->hw_day, c->nhw, &c->hwb, HOL_BUCKET, d, false);  /* first >= d */
        if (i < c->nhw) {
            *is_hol = c->hw_day[i] == d;
            return c->hw_cum[i];
        }
        return c->hw_total;
    }
    int64_t k = fdiv(d - c->cycle_day, CYCLE_DAYS);
    int64_t r = d - c->cycle_day - k * CYCLE_DAYS;
    size_t j = b_count(c->ht_day, c->nht, &c->htb, HOL_BUCKET, r, false);
    int64_t in = c->ht_total;
    if (j < c->nht) {
        *is_hol = c->ht_day[j] == r;
        in = c->ht_cum[j];
    }
    return c->hw_total + k * c->ht_total + in;
}

/* The local time line's business time up to week w's start (Monday 00:00). */
static int64_t fw(const struct sla_cal *c, int64_t w)
{
    bool h;
    return w * c->wt - hol_before(c, 7 * w - 3, &h);
}

/* Holiday days of week w as bits (0 = Monday), and their lost time. */
static unsigned week_mask(const struct sla_cal *c, int64_t w, int64_t *lost)
{
    bool h;
    int64_t d0 = 7 * w - 3;
    int64_t a = hol_before(c, d0, &h), b = hol_before(c, d0 + 7, &h);
    unsigned mask = 0;
    *lost = b - a;
    if (a == b)
        return 0;
    for (int i = 0; i < 7; i++) {
        hol_before(c, d0 + i, &h);
        if (h)
            mask |= 1u << i;
    }
    return mask;
}

/* F: business time of the local time line up to L. */
static int64_t f_of(const struct sla_cal *c, int64_t L)
{
    int64_t d = fdiv(L, DAY_MS), w = fdiv(d + 3, 7);
    int64_t x = L - (7 * w - 3) * DAY_MS;
    bool h;
    int64_t in = inweek(c, x), lost = hol_before(c, d, &h);
    if (h)
        lost += in - c->day_pre[d - (7 * w - 3)];
    return w * c->wt + in - lost;
}

/* The smallest week w with fw(w + 1) > t, from a hint week; *f0 and *f1
 * = fw(w), fw(w + 1).  -1 when the answer lies beyond WEEK_MAX. */
static int64_t week_find(const struct sla_cal *c, int64_t t, int64_t w, int64_t *f0,
                         int64_t *f1)
{
    int64_t f = fw(c, w), step = 1;
    while (f > t) {                     /* down until fw(w) <= t */
        int64_t need = (f - t + c->wt - 1) / c->wt;
        step = max64(need, step * 2);
        w -= step;
        f = fw(c, w);
    }
    for (int i = 0; i < 8; i++) {       /* up by jumps: holidays make them short */
        int64_t g = fw(c, w + 1);
        if (g > t) {
            *f0 = f;
            *f1 = g;
            return w;
        }
        int64_t jump = (t - g) / c->wt;
        w += 1 + jump;
        if (w > WEEK_MAX)
            return -1;
        f = jump ? fw(c, w) : g;
    }
    /* holiday-dense stretch: gallop to a bound, then bisect */
    int64_t lo = w, span = 1;
    int64_t hi = w + span;
    while (fw(c, hi) <= t) {
        lo = hi;
        span *= 2;
        hi = lo + span;
        if (hi > WEEK_MAX)
            return -1;
    }
    /* fw(lo) <= t < fw(hi): the answer is the last w with fw(w) <= t */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (fw(c, mid) <= t)
            lo = mid;
        else
            hi = mid;
    }
    *f0 = fw(c, lo);
    *f1 = fw(c, lo + 1);
    return lo;
}

/* Week-relative position of business ms number q of week w (next: the
 * start of ms q, 0 <= q < week total) or where q ms have elapsed (reach:
 * 1 <= q <= week total). */
static int64_t week_pos(const struct sla_cal *c, int64_t q, bool reach, unsigned mask)
{
    if (!mask) {
        ptrdiff_t j = c->niv <= 16 ? last_small(c->iv_p, c->niv, q, !reach)
                                   : last_le(c->iv_p, (size_t)c->niv, q, reach);
        if (j < 0)
            j = 0;
        return c->iv_s[j] + (q - c->iv_p[j]);
    }
    int64_t p = 0;
    int last = -1;
    for (int j = 0; j < c->niv; j++) {
        if (mask & (1u << c->iv_day[j]))
            continue;
        int64_t len = c->iv_e[j] - c->iv_s[j];
        if (reach ? q <= p + len : q < p + len)
            return c->iv_s[j] + (q - p);
        p += len;
        last = j;
    }
    return last >= 0 ? c->iv_e[last] : 0;     /* not reached for valid q */
}

/* Inverse of F: the local instant where F reaches v (reach: the first
 * L with F(L) = v; next: the one where business time follows).  Returns
 * INT64_MIN when beyond range. */
static int64_t f_inv(const struct sla_cal *c, int64_t v, bool reach, int64_t hint_w)
{
    int64_t f0, f1;
    int64_t w = week_find(c, reach ? v - 1 : v, hint_w, &f0, &f1);
    if (w < 0)
        return INT64_MIN;
    int64_t lost;
    /* a week that lost nothing to holidays needs no look at its days */
    unsigned mask = f1 - f0 == c->wt ? 0 : week_mask(c, w, &lost);
    return (7 * w - 3) * DAY_MS + week_pos(c, v - f0, reach, mask);
}

/* ---- zone transitions, as one sequence ------------------------------------------------- */

/* Virtual index: window entries 0..ntw-1, then template entry j of cycle
 * m at ntw + m * ntt + j. */
static int64_t tr_at(const struct sla_cal *c, int64_t i)
{
    if (i < (int64_t)c->ntw)
        return c->tw_at[i];
    int64_t k = (i - (int64_t)c->ntw) / (int64_t)c->ntt, j = (i - (int64_t)c->ntw) % (int64_t)c->ntt;
    return c->tt_at[j] + k * CYCLE_MS;
}

static int64_t tr_off(const struct sla_cal *c, int64_t i)
{
    if (i < 0)
        return c->off0;
    if (i < (int64_t)c->ntw)
        return c->tw_off[i];
    return c->tt_off[(i - (int64_t)c->ntw) % (int64_t)c->ntt];
}

/* The last transition at or before u (-1: none). */
static int64_t tr_last(const struct sla_cal *c, int64_t u)
{
    if (c->ntt == 0 || u < c->tt_at[0])
        return (int64_t)b_count(c->tw_at, c->ntw, &c->twb, TR_BUCKET, u, true) - 1;
    int64_t k = fdiv(u - c->tt_at[0], CYCLE_MS);
    int64_t j = (int64_t)b_count(c->tt_at, c->ntt, &c->ttb, TR_BUCKET, u - k * CYCLE_MS, true) - 1;
    return (int64_t)c->ntw + k * (int64_t)c->ntt + j;                 /* j >= 0 */
}

/* The first entry of l1 (n, indexed by b over the instants at) that is
 * > L: wall times lie within TR_SLACK of their instants. */
static size_t l1_first_after(const int64_t *at, const int64_t *l1, size_t n,
                             const struct bucket *b, int64_t L)
{
    size_t i = b_count(at, n, b, TR_BUCKET, L - TR_SLACK, true);
    while (i < n && l1[i] <= L)
        i++;
    return i;
}

/* The first transition whose wall time just before it is > L. */
static int64_t tr_first_l1_after(const struct sla_cal *c, int64_t L)
{
    size_t i = l1_first_after(c->tw_at, c->tw_l1, c->ntw, &c->twb, L);
    if (i < c->ntw || c->ntt == 0)
        return (int64_t)i;  /* == ntw with no template: none, the last regime */
    int64_t k = fdiv(L - c->tt_l1[0], CYCLE_MS);
    if (k < 0)
        return (int64_t)c->ntw;
    size_t j = l1_first_after(c->tt_at, c->tt_l1, c->ntt, &c->ttb, L - k * CYCLE_MS);
    return (int64_t)c->ntw + k * (int64_t)c->ntt + (int64_t)j;
}

static int64_t offset_at(const struct sla_cal *c, int64_t u)
{
    return tr_off(c, tr_last(c, u));
}

/* The first instant u >= lo whose wall time is >= L. */
static int64_t l2u(const struct sla_cal *c, int64_t L, int64_t lo)
{
    int64_t k = tr_first_l1_after(c, L) - 1;     /* the regime before it */
    if (lo != INT64_MIN) {
        int64_t klo = tr_last(c, lo);
        if (k < klo)
            k = klo;
    }
    int64_t start = k < 0 ? INT64_MIN : tr_at(c, k);
    return max64(max64(start, L - tr_off(c, k)), lo);
}

/* ---- corrections and G -------------------------------------------------------------- */

/* C(u): the corrections up to and including u. */
static int64_t c_of(const struct sla_cal *c, int64_t u)
{
    if (c->nct == 0 || u < c->ct_at[0]) {
        ptrdiff_t i = last_le(c->cw_at, c->ncw, u, false);
        return i < 0 ? 0 : c->cw_C[i];
    }
    int64_t k = fdiv(u - c->ct_at[0], CYCLE_MS);
    ptrdiff_t j = last_le(c->ct_at, c->nct, u - k * CYCLE_MS, false);
    return c->cw_total + k * c->ct_total + c->ct_C[j];
}

static int64_t g_of(const struct sla_cal *c, int64_t u)
{
    return f_of(c, u + offset_at(c, u)) + c_of(c, u);
}

/* The stretch between corrections where G reaches g (strict: the last
 * correction with G < g, else <= g): its start and its C. */
static void g_stretch(const struct sla_cal *c, int64_t g, bool strict, int64_t *lo, int64_t *cs)
{
    if (c->nct && (strict ? c->ct_G[0] < g : c->ct_G[0] <= g)) {
        int64_t k = (g - c->ct_G[0]) / c->g_cycle;
        ptrdiff_t j = last_le(c->ct_G, c->nct, g - k * c->g_cycle, strict);
        if (j < 0) {
            k--;
            j = (ptrdiff_t)c->nct - 1;
        }
        *lo = c->ct_at[j] + k * CYCLE_MS;
        *cs = c->cw_total + k * c->ct_total + c->ct_C[j];
        return;
    }
    ptrdiff_t i = last_le(c->cw_G, c->ncw, g, strict);
    *lo = i < 0 ? INT64_MIN : c->cw_at[i];
    *cs = i < 0 ? 0 : c->cw_C[i];
}

/* Inverse of G (see the top): next = the last u with G(u) = g (business
 * time follows it), reach = the first u with G(u) = g.  hint: an instant
 * near the answer.  SLA_NEVER beyond range. */
static int64_t g_inv(const struct sla_cal *c, int64_t g, bool reach, int64_t hint)
{
    int64_t lo, cs;
    g_stretch(c, g, reach, &lo, &cs);
    int64_t hint_w = fdiv(fdiv(hint + c->off0, DAY_MS) + 3, 7);
    int64_t L = f_inv(c, g - cs, reach, hint_w);
    if (L == INT64_MIN || L > SLA_CAL_MAX_MS)
        return SLA_NEVER;
    int64_t u = l2u(c, L, lo);
    return u > SLA_CAL_MAX_MS ? SLA_NEVER : u;
}

/* ---- compile ------------------------------------------------------------------------ */

struct arena {
    char *p, *end;
};

static int64_t *take(struct arena *a, size_t n)
{
    char *p = (char *)ALIGN8((uintptr_t)a->p);
    if ((size_t)(a->end - p) < n * sizeof(int64_t))
        return NULL;
    a->p = p + n * sizeof(int64_t);
    return (int64_t *)p;
}

static int32_t *take32(struct arena *a, size_t n)
{
    char *p = (char *)ALIGN8((uintptr_t)a->p);
    if ((size_t)(a->end - p) < n * sizeof(int32_t))
        return NULL;
    a->p = p + n * sizeof(int32_t);
    return (int32_t *)p;
}

static void sort64(int64_t *v, size_t n)
{
    /* shell sort: a few thousand entries, once per compile */
    static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            int64_t t = v[i];
            size_t j = i;
            for (; j >= gap && v[j - gap] > t; j -= gap)
                v[j] = v[j - gap];
            v[j] = t;
        }
    }
}

static size_t uniq64(int64_t *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    return k;
}

static int64_t day_loss(const struct sla_cal *c, int64_t d)
{
    return c->day_tot[(d % 7 + 7 + 3) % 7];     /* day 0 (1970-01-01) is a Thursday */
}

static void build_week(struct sla_cal *c, const struct sla_cal_spec *s)
{
    int n = 0;
    int64_t p = 0;
    for (int d = 0; d < 7; d++) {
        c->day_pre[d] = p;
        c->day_tot[d] = 0;
        for (size_t i = 0; i < s->ndays[d]; i++) {
            int64_t a = d * DAY_MS + (int64_t)s->days[d][i].start_s * 1000;
            int64_t b = d * DAY_MS + (int64_t)s->days[d][i].end_s * 1000;
            if (n > 0 && c->iv_day[n - 1] == d && c->iv_e[n - 1] == a) {
                c->iv_e[n - 1] = b;         /* touching: one interval */
            } else {
                c->iv_s[n] = a;
                c->iv_e[n] = b;
                c->iv_p[n] = p;
                c->iv_day[n] = (int8_t)d;
                n++;
            }
            p += b - a;
            c->day_tot[d] += b - a;
        }
    }
    c->day_pre[7] = p;
    c->niv = n;
    c->wt = p;
}

/* Holiday days in [from, to) (local day numbers) with business hours,
 * sorted, unique, into out (at most cap); returns the count. */
static size_t expand_holidays(const struct sla_cal *c, const struct sla_cal_spec *s, int64_t from,
                              int64_t to, bool with_once, int64_t *out, size_t cap)
{
    int y0, y1, m, d;
    size_t n = 0;
    sla_civil_from_days(from, &y0, &m, &d);
    sla_civil_from_days(to, &y1, &m, &d);
    for (size_t i = 0; i < s->nholidays; i++) {
        const struct sla_cal_holiday *h = &s->holidays[i];
        if (h->year) {
            if (!with_once || once_covered(s, h))
                continue;
            int64_t day = day_of(h->year, h->month, h->day);
            if (day >= from && day < to && day_loss(c, day) > 0 && n < cap)
                out[n++] = day;
            continue;
        }
        for (int y = y0; y <= y1; y++) {
            if (!sla_date_valid(y, h->month, h->day))
                continue;
            int64_t day = day_of(y, h->month, h->day);
            if (day >= from && day < to && day_loss(c, day) > 0 && n < cap)
                out[n++] = day;
        }
    }
    sort64(out, n);
    return uniq64(out, n);
}

static void hol_cum(const struct sla_cal *c, const int64_t *day, int64_t *cum, size_t n,
                    int64_t base_day, int64_t *total)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        cum[i] = sum;
        sum += day_loss(c, day[i] + base_day);
    }
    *total = sum;
}

int sla_cal_compile(const struct sla_cal_spec *s, void *mem, size_t size,
                    const struct sla_cal **out, struct sla_cal_error *err)
{
    int rc = sla_cal_spec_check(s, err);
    if (rc < 0)
        return rc;
    if (size < sla_cal_size(s) || !mem)
        return SW_E_TOOBIG;
    struct counts n;
    count(s, &n);
    memset(mem, 0, sizeof(struct sla_cal));
    struct sla_cal *c = mem;
    struct arena a = {(char *)mem + ALIGN8(sizeof(*c)), (char *)mem + size};
    build_week(c, s);

    /* holidays: the window, then the template */
    c->cycle_day = cycle_day_of(s);
    c->hw_day = take(&a, n.hw);
    c->hw_cum = take(&a, n.hw);
    c->ht_day = take(&a, n.ht);
    c->ht_cum = take(&a, n.ht);
    if (!c->hw_day || !c->hw_cum || !c->ht_day || !c->ht_cum)
        return SW_E_TOOBIG;
    c->nhw = expand_holidays(c, s, day_of(FIRST_YEAR, 1, 1), c->cycle_day, true, c->hw_day, n.hw);
    hol_cum(c, c->hw_day, c->hw_cum, c->nhw, 0, &c->hw_total);
    c->nht = expand_holidays(c, s, c->cycle_day, c->cycle_day + CYCLE_DAYS, false, c->ht_day, n.ht);
    for (size_t i = 0; i < c->nht; i++)
        c->ht_day[i] -= c->cycle_day;
    hol_cum(c, c->ht_day, c->ht_cum, c->nht, c->cycle_day, &c->ht_total);
    int64_t hb0 = day_of(FIRST_YEAR, 1, 1);
    int32_t *bw = take32(&a, b_slots(hb0, c->cycle_day, HOL_BUCKET));
    int32_t *bt = take32(&a, b_slots(0, CYCLE_DAYS, HOL_BUCKET));
    if (!bw || !bt)
        return SW_E_TOOBIG;
    b_build(&c->hwb, bw, c->hw_day, c->nhw, hb0, c->cycle_day, HOL_BUCKET);
    b_build(&c->htb, bt, c->ht_day, c->nht, 0, CYCLE_DAYS, HOL_BUCKET);

    /* the zone: drop changes that change nothing, split window/template */
    c->off0 = (int64_t)s->offset_s * 1000;
    c->cycle_at = sla_cal_cycle_at(s);
    int64_t until = c->cycle_at + CYCLE_MS;
    c->tw_at = take(&a, n.tr);
    c->tw_off = take(&a, n.tr);
    c->tw_l1 = take(&a, n.tr);
    if (!c->tw_at || !c->tw_off || !c->tw_l1)
        return SW_E_TOOBIG;
    size_t nt = 0;
    int64_t prev = c->off0, prev_at = INT64_MIN;
    for (size_t i = 0; i < s->ntr; i++) {
        int64_t at = s->tr[i].at, off = (int64_t)s->tr[i].offset_s * 1000;
        if (at <= prev_at)
            return fail(err, "timezone", -1, -1, "zone transitions out of order");
        prev_at = at;
        if (at >= until)
            break;
        if (off == prev)
            continue;
        c->tw_at[nt] = at;
        c->tw_off[nt] = off;
        c->tw_l1[nt] = at + prev;
        prev = off;
        nt++;
    }
    size_t split = 0;
    while (split < nt && c->tw_at[split] < c->cycle_at)
        split++;
    c->ntw = split;
    c->ntt = nt - split;
    c->tt_at = c->tw_at + split;
    c->tt_off = c->tw_off + split;
    c->tt_l1 = c->tw_l1 + split;
    {
        int64_t b0 = c->ntw ? c->tw_at[0] : c->cycle_at;
        int64_t t0 = c->ntt ? c->tt_at[0] : 0;
        int32_t *bw2 = take32(&a, b_slots(b0, c->cycle_at, TR_BUCKET));
        int32_t *bt2 = take32(&a, b_slots(t0, t0 + CYCLE_MS, TR_BUCKET));
        if (!bw2 || !bt2)
            return SW_E_TOOBIG;
        b_build(&c->twb, bw2, c->tw_at, c->ntw, b0, c->cycle_at, TR_BUCKET);
        b_build(&c->ttb, bt2, c->tt_at, c->ntt, t0, t0 + CYCLE_MS, TR_BUCKET);
    }

    /* corrections, in order over window and template (cycle 0) */
    c->cw_at = take(&a, n.tr);
    c->cw_C = take(&a, n.tr);
    c->cw_G = take(&a, n.tr);
    if (!c->cw_at || !c->cw_C || !c->cw_G)
        return SW_E_TOOBIG;
    size_t nc = 0, split_c = 0;
    int64_t sum = 0, before = c->off0;
    for (size_t i = 0; i < nt; i++) {
        int64_t at = c->tw_at[i], after = c->tw_off[i];
        int64_t corr = -(f_of(c, at + after) - f_of(c, at + before));
        before = after;
        if (i == split) {
            split_c = nc;
            c->cw_total = sum;
        }
        if (corr == 0)
            continue;
        sum += corr;
        c->cw_at[nc] = at;
        c->cw_C[nc] = sum;
        nc++;
    }
    if (split == nt) {
        split_c = nc;
        c->cw_total = sum;
    }
    c->ncw = split_c;
    c->nct = nc - split_c;
    c->ct_at = c->cw_at + split_c;
    c->ct_C = c->cw_C + split_c;
    c->ct_G = c->cw_G + split_c;
    c->ct_total = sum - c->cw_total;
    /* the nct entries read C within the template; G needs C absolute */
    for (size_t i = 0; i < nc; i++) {
        int64_t at = c->cw_at[i];
        c->cw_G[i] = f_of(c, at + offset_at(c, at)) + c->cw_C[i];
    }
    for (size_t j = 0; j < c->nct; j++)
        c->ct_C[j] -= c->cw_total;
    c->g_cycle = CYCLE_WEEKS * c->wt - c->ht_total + c->ct_total;
    if (c->g_cycle <= 0)
        return fail(err, "holidays", -1, -1, "the holidays leave no business time");
    *out = c;
    return 0;
}

/* ---- the questions ---------------------------------------------------------------------- */

sla_ms sla_cal_week_ms(const struct sla_cal *c)
{
    return c->wt;
}

static int64_t clamp_in(int64_t t)
{
    return t < 0 ? 0 : t > SLA_CAL_MAX_MS ? SLA_CAL_MAX_MS : t;
}

sla_ms sla_cal_elapsed(const struct sla_cal *c, sla_ms from, sla_ms to)
{
    if (to <= from)
        return 0;
    return g_of(c, clamp_in(to)) - g_of(c, clamp_in(from));
}

sla_ms sla_cal_due(const struct sla_cal *c, sla_ms start, sla_ms business_ms)
{
    start = clamp_in(start);
    if (business_ms < 0)
        business_ms = 0;
    return g_inv(c, g_of(c, start) + business_ms, false, start);
}

sla_ms sla_cal_start(const struct sla_cal *c, sla_ms t)
{
    return sla_cal_due(c, t, 0);
}

sla_ms sla_cal_reach(const struct sla_cal *c, sla_ms start, sla_ms business_ms)
{
    start = clamp_in(start);
    if (business_ms <= 0)
        return start;
    int64_t u = g_inv(c, g_of(c, start) + business_ms, true, start);
    return max64(u, start);
}

sla_ms sla_cal_back(const struct sla_cal *c, sla_ms end, sla_ms business_ms)
{
    end = clamp_in(end);
    if (business_ms <= 0)
        return end;
    int64_t g = g_of(c, end) - business_ms;
    int64_t hint = end - business_ms / (c->wt ? c->wt : 1) * WEEK_MS;
    return g_inv(c, g, false, hint);
}

bool sla_cal_is_open(const struct sla_cal *c, sla_ms t)
{
    t = clamp_in(t);
    return g_of(c, t + 1) - g_of(c, t) == 1;
}
