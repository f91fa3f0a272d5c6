/* store_calendars.h: the calendar subject of store.h: a tenant's
 * business-hours calendars (API.md "Business-hours calendars"), compiled
 * for the core (core/calendar.h) on demand.
 *
 * A calendar is stored as the API writes it (zone, hours, holidays) with a
 * version that every save bumps.  Compiled calendars are cached per node by
 * (tenant, id, version), and every use reads the version first: a calendar
 * saved on one node applies on every node from the next request, with no
 * invalidation to lose.  A compiled calendar handed out stays valid for at
 * least STORE_CAL_GRACE_MS after it was replaced (a request, a scheduler
 * pass or a recalculation never lasts that long), then its memory goes.
 *
 * Saving a calendar recalculates, in the same transaction, the live items
 * on it: the running clocks of the tenant's alerts on it, and the live
 * findings of the groups whose resolved calendar it is (X-Recalculated-
 * Count).  Deleting one that a policy names is refused (SW_E_CONFLICT). */
#ifndef SW_STORE_CALENDARS_H
#define SW_STORE_CALENDARS_H

#include "core/calendar.h"
#include "store/store.h"

#define STORE_CAL_GRACE_MS (10 * 60 * 1000)
#define SW_CAL_24X7 "24x7"

static const char *const sw_cal_day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

struct sw_calendar {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
    char name[SW_NAME_MAX + 1];
    char timezone[SW_TZ_MAX + 1];
    struct sla_cal_interval iv[7][SLA_CAL_INTERVALS_MAX];   /* Monday first */
    size_t niv[7];
    struct sla_cal_holiday holidays[SLA_CAL_HOLIDAYS_MAX];
    size_t nholidays;
    int64_t version;
    int64_t created_at, updated_at;
    char updated_by[SW_NAME_MAX + 32];
};

/* The core's view of a calendar's hours and holidays (pointers into c). */
static inline void sw_calendar_spec(const struct sw_calendar *c, struct sla_cal_spec *out)
{
    *out = (struct sla_cal_spec){.holidays = c->holidays, .nholidays = c->nholidays};
    for (int d = 0; d < 7; d++) {
        out->days[d] = c->iv[d];
        out->ndays[d] = c->niv[d];
    }
}

typedef int (*store_calendar_cb)(const struct sw_calendar *c, void *ud);

/* The API's (and the stored) JSON of hours {"mon": [["09:00","18:00"]],
 * ...} (every day, [] when closed) and holidays ["2026-12-25", "01-01"]. */
struct json_t;
struct json_t *store_calendar_hours_json(const struct sw_calendar *c);
struct json_t *store_calendar_holidays_json(const struct sw_calendar *c);

struct sw_dry_run;             /* store_proof.h */

struct store_calendar_ops {
    /* Creates or replaces c (tenant_id, id), after compiling it: SW_E_INVAL
     * with *err saying where when it does not compile (unknown zone,
     * hours, holidays); SW_E_NOTFOUND without the tenant.  Recalculates
     * the live items on it in the same transaction.  On success c holds
     * what is stored (version, instants). */
    int (*put)(struct store *s, struct sw_calendar *c, int64_t now, const char *actor,
               bool *created, int64_t *recalculated, struct sla_cal_error *err);
    int (*get)(struct store *s, const char *tenant_id, const char *id, struct sw_calendar *out);
    /* By id. */
    int (*list)(struct store *s, const char *tenant_id, store_calendar_cb cb, void *ud);
    /* SW_E_NOTFOUND, or SW_E_CONFLICT while a policy (alert definition or
     * finding policy) names it. */
    int (*del)(struct store *s, const char *tenant_id, const char *id, int64_t now,
               const char *actor);
    /* What put would do (store_proof.h's struct sw_dry_run) to the items
     * on the calendar, computed in a transaction rolled back: nothing is
     * stored.  A new calendar: all zero.  Errors as put. */
    int (*put_dry_run)(struct store *s, struct sw_calendar *c, int64_t now,
                       struct sw_dry_run *out, struct sla_cal_error *err);
    /* The compiled calendar as stored now (see the top for its lifetime). */
    int (*compiled)(struct store *s, const char *tenant_id, const char *id,
                    const struct sla_cal **out);
};

static inline int store_calendar_put(struct store *s, struct sw_calendar *c, int64_t now,
                                     const char *actor, bool *created, int64_t *recalculated,
                                     struct sla_cal_error *err)
{ return s->calendars->put(s, c, now, actor, created, recalculated, err); }
static inline int store_calendar_get(struct store *s, const char *tenant_id, const char *id,
                                     struct sw_calendar *out)
{ return s->calendars->get(s, tenant_id, id, out); }
static inline int store_calendar_list(struct store *s, const char *tenant_id,
                                      store_calendar_cb cb, void *ud)
{ return s->calendars->list(s, tenant_id, cb, ud); }
static inline int store_calendar_delete(struct store *s, const char *tenant_id, const char *id,
                                        int64_t now, const char *actor)
{ return s->calendars->del(s, tenant_id, id, now, actor); }
static inline int store_calendar_put_dry_run(struct store *s, struct sw_calendar *c,
                                             int64_t now, struct sw_dry_run *out,
                                             struct sla_cal_error *err)
{ return s->calendars->put_dry_run(s, c, now, out, err); }
static inline int store_calendar_compiled(struct store *s, const char *tenant_id, const char *id,
                                          const struct sla_cal **out)
{ return s->calendars->compiled(s, tenant_id, id, out); }

#endif
