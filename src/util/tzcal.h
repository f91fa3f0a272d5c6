/* tzcal: compiles a business-hours calendar (core/calendar.h) in an IANA
 * zone.  The core is pure and takes the zone as data; this is where ICU's
 * zone rules become that data: the UTC offset at the start and every
 * offset change from 1969 to the calendar's cycle end (about 400 years
 * after 2100), computed once per compile. */
#ifndef SW_UTIL_TZCAL_H
#define SW_UTIL_TZCAL_H

#include "core/calendar.h"

/* A compiled calendar and the memory it lives in (free with tzcal_free). */
struct tzcal {
    const struct sla_cal *cal;
    void *mem;
    size_t bytes;
};

/* Compiles hours and holidays of s (its zone fields are filled here) in
 * zone.  SW_E_INVAL with *err for a bad spec, or err->field "timezone" for
 * a zone ICU does not know. */
int tzcal_compile(const char *zone, const struct sla_cal_spec *s, struct tzcal *out,
                  struct sla_cal_error *err);
void tzcal_free(struct tzcal *t);

/* The zone's offset before `from` and its changes in [from, until): *tr is
 * the caller's (free).  SW_E_INVAL for an unknown zone. */
int tzcal_transitions(const char *zone, sla_ms from, sla_ms until, int32_t *offset_s,
                      struct sla_tz_transition **tr, size_t *n);

#endif
