/* tzcal.c: see tzcal.h.  ICU's ucal_getTimeZoneTransitionDate walks the
 * zone's transitions (historic ones, then its final rule). */
#include "util/tzcal.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "util/err.h"
#include "util/tz.h"
#include "util/xalloc.h"

static int32_t offset_at(UCalendar *cal, UDate t, UErrorCode *st)
{
    ucal_setMillis(cal, t, st);
    int32_t z = ucal_get(cal, UCAL_ZONE_OFFSET, st);
    int32_t d = ucal_get(cal, UCAL_DST_OFFSET, st);
    return (z + d) / 1000;
}

int tzcal_transitions(const char *zone, sla_ms from, sla_ms until, int32_t *offset_s,
                      struct sla_tz_transition **tr, size_t *n)
{
    if (!tz_valid(zone))
        return SW_E_INVAL;
    UChar id[TZ_NAME_MAX + 1];
    int32_t len = 0;
    UErrorCode st = U_ZERO_ERROR;
    u_strFromUTF8(id, TZ_NAME_MAX + 1, &len, zone, -1, &st);
    if (U_FAILURE(st))
        return SW_E_INVAL;
    UCalendar *cal = ucal_open(id, len, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || !cal)
        return SW_E_INVAL;
    size_t cap = 64, k = 0;
    struct sla_tz_transition *v = xmalloc(cap * sizeof(*v));
    int32_t prev = offset_at(cal, (UDate)from, &st);
    *offset_s = prev;
    UDate t = (UDate)from;
    while (U_SUCCESS(st)) {
        ucal_setMillis(cal, t, &st);
        UDate next;
        if (!ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_NEXT, &next, &st) ||
            U_FAILURE(st) || next >= (UDate)until || next <= t)
            break;
        int32_t off = offset_at(cal, next, &st);
        t = next;
        if (off == prev)
            continue;       /* a rename or a raw/DST split change: same wall time */
        if (k == cap) {
            cap *= 2;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[k++] = (struct sla_tz_transition){.at = (sla_ms)next, .offset_s = off};
        prev = off;
    }
    ucal_close(cal);
    if (U_FAILURE(st)) {
        free(v);
        return SW_E_INVAL;
    }
    *tr = v;
    *n = k;
    return 0;
}

int tzcal_compile(const char *zone, const struct sla_cal_spec *s, struct tzcal *out,
                  struct sla_cal_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = sla_cal_spec_check(s, err);
    if (rc < 0)
        return rc;
    struct sla_cal_spec z = *s;
    struct sla_tz_transition *tr = NULL;
    size_t n = 0;
    /* from a day before 1969, so local days of the epoch are covered */
    rc = tzcal_transitions(zone, -INT64_C(366) * SLA_MS_PER_DAY, sla_cal_zone_until(s),
                           &z.offset_s, &tr, &n);
    if (rc < 0) {
        if (err)
            *err = (struct sla_cal_error){"timezone", -1, -1, "not a time zone ICU knows"};
        return rc;
    }
    z.tr = tr;
    z.ntr = n;
    out->bytes = sla_cal_size(&z);
    out->mem = xmalloc(out->bytes);
    rc = sla_cal_compile(&z, out->mem, out->bytes, &out->cal, err);
    free(tr);
    if (rc < 0) {
        free(out->mem);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

void tzcal_free(struct tzcal *t)
{
    if (!t)
        return;
    free(t->mem);
    memset(t, 0, sizeof(*t));
}
