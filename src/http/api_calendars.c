/* api_calendars.c: a tenant's business-hours calendars (API.md
 * "Business-hours calendars"): create or replace, read, list, delete, and
 * the two calculators (due, elapsed) that answer with the same arithmetic
 * every clock on the calendar uses.
 *
 * Input is checked here, each failure a 422 naming its field
 * ("timezone", "hours.tue[1]", "holidays[3]"); the store compiles the
 * calendar (core/calendar.h) before it stores it, and refuses what the
 * core refuses (a week without business time, holidays that leave none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/sla.h"
#include "http/api.h"
#include "http/dryrun.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_calendars.h"
#include "store/store_proof.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *path_calendar(struct req *r)
{
    const char *id = http_param(r, "calendar_id");
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "calendar not found");
        return NULL;
    }
    return id;
}

json_t *api_calendar_json(const struct sw_calendar *c)
{
    sla_ms week = 0;
    for (int d = 0; d < 7; d++)
        for (size_t i = 0; i < c->niv[d]; i++)
            week += (sla_ms)(c->iv[d][i].end_s - c->iv[d][i].start_s) * 1000;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "tenant_id", json_string(c->tenant_id));
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "timezone", json_string(c->timezone));
    json_object_set_new(o, "hours", store_calendar_hours_json(c));
    json_object_set_new(o, "holidays", store_calendar_holidays_json(c));
    json_object_set_new(o, "hours_per_week", json_real((double)week / SLA_MS_PER_HOUR));
    json_object_set_new(o, "version", json_integer(c->version));
    json_object_set_new(o, "created_at", json_time(c->created_at));
    json_object_set_new(o, "updated_at", json_time(c->updated_at));
    json_object_set_new(o, "updated_by", json_string(c->updated_by));
    return o;
}

/* ---- input ------------------------------------------------------------------- */

static void bad(struct req *r, const char *field, const char *msg)
{
    http_error(r, 422, "invalid", field, "%s: %s", field, msg);
}

/* hours: {"mon": [["09:00","18:00"], ...], ...}; absent days are closed. */
static int parse_hours(struct req *r, json_t *h, struct sw_calendar *c)
{
    char field[48];
    if (!json_is_object(h)) {
        bad(r, "hours", "must be an object with the days mon..sun, each a list of "
            "[\"HH:MM\", \"HH:MM\"] intervals");
        return SW_E_INVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        int d = -1;
        for (int i = 0; i < 7; i++)
            if (!strcmp(key, sw_cal_day_names[i]))
                d = i;
        if (d < 0) {
            bad(r, "hours", "days are mon, tue, wed, thu, fri, sat, sun");
            return SW_E_INVAL;
        }
        snprintf(field, sizeof(field), "hours.%s", key);
        if (json_is_null(v))
            continue;
        if (!json_is_array(v) || json_array_size(v) > SLA_CAL_INTERVALS_MAX) {
            bad(r, field, "must be a list of at most 16 [\"HH:MM\", \"HH:MM\"] intervals");
            return SW_E_INVAL;
        }
        size_t i;
        json_t *iv;
        json_array_foreach(v, i, iv) {
            snprintf(field, sizeof(field), "hours.%s[%zu]", key, i);
            const char *a = json_string_value(json_array_get(iv, 0));
            const char *b = json_string_value(json_array_get(iv, 1));
            int32_t s, e;
            if (!json_is_array(iv) || json_array_size(iv) != 2 || !a || !b) {
                bad(r, field, "an interval is [\"HH:MM\", \"HH:MM\"]");
                return SW_E_INVAL;
            }
            if (sla_cal_time_parse(a, false, &s) < 0 || sla_cal_time_parse(b, true, &e) < 0) {
                bad(r, field, "times are HH:MM or HH:MM:SS from 00:00 to 23:59:59 "
                    "(24:00 ends a day)");
                return SW_E_INVAL;
            }
            c->iv[d][i] = (struct sla_cal_interval){s, e};
            c->niv[d] = i + 1;
        }
    }
    return 0;
}

static int parse_holidays(struct req *r, json_t *h, struct sw_calendar *c)
{
    if (!h || json_is_null(h))
        return 0;
    if (!json_is_array(h) || json_array_size(h) > SLA_CAL_HOLIDAYS_MAX) {
        bad(r, "holidays", "must be a list of at most 1000 dates YYYY-MM-DD (once) or "
            "MM-DD (every year)");
        return SW_E_INVAL;
    }
    size_t i;
    json_t *v;
    json_array_foreach(h, i, v) {
        char field[32];
        snprintf(field, sizeof(field), "holidays[%zu]", i);
        if (!json_is_string(v) || sla_cal_holiday_parse(json_string_value(v),
                                                        &c->holidays[c->nholidays]) < 0) {
            bad(r, field, "not a date: YYYY-MM-DD (once, 1970-9999) or MM-DD (every year)");
            return SW_E_INVAL;
        }
        /* each date once, in order: the stored list is canonical */
        bool dup = false;
        for (size_t k = 0; k < c->nholidays && !dup; k++)
            dup = !memcmp(&c->holidays[k], &c->holidays[c->nholidays], sizeof(c->holidays[k]));
        if (!dup)
            c->nholidays++;
    }
    return 0;
}

static int holiday_cmp(const void *a, const void *b)
{
    const struct sla_cal_holiday *x = a, *y = b;
    if (x->year != y->year)
        return x->year < y->year ? -1 : 1;
    if (x->month != y->month)
        return x->month < y->month ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

/* The core's words for what is wrong, as a 422 naming the field. */
static void answer_cal_error(struct req *r, const struct sla_cal_error *err)
{
    char field[48];
    if (!strcmp(err->field, "hours") && err->day >= 0 && err->index >= 0)
        snprintf(field, sizeof(field), "hours.%s[%d]", sw_cal_day_names[err->day], err->index);
    else if (!strcmp(err->field, "hours") && err->day >= 0)
        snprintf(field, sizeof(field), "hours.%s", sw_cal_day_names[err->day]);
    else if (!strcmp(err->field, "holidays") && err->index >= 0)
        snprintf(field, sizeof(field), "holidays[%d]", err->index);
    else
        snprintf(field, sizeof(field), "%s", err->field);
    bad(r, field, err->reason);
}

/* ---- handlers ---------------------------------------------------------------------- */

void api_calendar_put(struct req *r)
{
    const char *id = path_calendar(r), *name = NULL, *zone = NULL;
    bool dry;
    if (!id || q_dry_run(r, &dry) < 0)
        return;
    if (!strcmp(id, SW_CAL_24X7)) {
        bad(r, "calendar_id", "\"24x7\" means around the clock and cannot name a calendar");
        return;
    }
    if (v_string(r, r->json, "name", false, SW_NAME_MAX, &name) < 0 ||
        v_string(r, r->json, "timezone", true, SW_TZ_MAX, &zone) < 0)
        return;
    if (!tz_valid(zone)) {
        bad(r, "timezone", "not an IANA time zone (like Europe/Berlin)");
        return;
    }
    struct sw_calendar *c = xcalloc(1, sizeof(*c));
    snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", r->tenant_id);
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    snprintf(c->timezone, sizeof(c->timezone), "%s", zone);
    json_t *hours = json_object_get(r->json, "hours");
    if (!hours) {
        bad(r, "hours", "required: the business hours of each day");
        goto out;
    }
    if (parse_hours(r, hours, c) < 0 ||
        parse_holidays(r, json_object_get(r->json, "holidays"), c) < 0)
        goto out;
    qsort(c->holidays, c->nholidays, sizeof(c->holidays[0]), holiday_cmp);
    bool created = false;
    int64_t n = 0;
    struct sla_cal_error err = {0};
    struct sw_dry_run what;
    int rc = dry ? store_calendar_put_dry_run(r->srv->store, c, r->now, &what, &err)
                 : store_calendar_put(r->srv->store, c, r->now, r->who.actor, &created, &n, &err);
    if (rc == SW_E_INVAL && err.field) {
        answer_cal_error(r, &err);
    } else if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "tenant not found");
    } else if (rc < 0) {
        http_fail(r, rc, "calendar");
    } else if (dry) {
        answer_dry_run(r, &what);
    } else {
        http_json(r, 200, api_calendar_json(c));
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)n);
        http_add_header(r, "X-Recalculated-Count", buf);
    }
out:
    free(c);
}

void api_calendar_get(struct req *r)
{
    const char *id = path_calendar(r);
    if (!id)
        return;
    struct sw_calendar *c = xmalloc(sizeof(*c));
    int rc = store_calendar_get(r->srv->store, r->tenant_id, id, c);
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", NULL, "calendar not found");
    else if (rc < 0)
        http_fail(r, rc, "calendar");
    else
        http_json(r, 200, api_calendar_json(c));
    free(c);
}

static int add_cal(const struct sw_calendar *c, void *ud)
{
    json_array_append_new(ud, api_calendar_json(c));
    return 0;
}

void api_calendar_list(struct req *r)
{
    json_t *items = json_array();
    int rc = store_calendar_list(r->srv->store, r->tenant_id, add_cal, items);
    if (rc < 0) {
        json_decref(items);
        http_fail(r, rc, "calendars");
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "items", items));
}

void api_calendar_delete(struct req *r)
{
    const char *id = path_calendar(r);
    if (!id)
        return;
    int rc = store_calendar_delete(r->srv->store, r->tenant_id, id, r->now,
                                   r->who.actor);
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", NULL, "calendar not found");
    else if (rc == SW_E_CONFLICT)
        http_error(r, 409, "conflict", NULL, "a policy names this calendar: change the SLA "
                   "definition or finding policy that uses it first");
    else if (rc < 0)
        http_fail(r, rc, "calendar");
    else
        http_no_content(r);
}

/* The calendar of the path, compiled; answered (404) when it is not. */
static const struct sla_cal *compiled(struct req *r)
{
    const char *id = path_calendar(r);
    const struct sla_cal *cal = NULL;
    if (!id)
        return NULL;
    int rc = store_calendar_compiled(r->srv->store, r->tenant_id, id, &cal);
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", NULL, "calendar not found");
    else if (rc < 0)
        http_fail(r, rc, "calendar");
    return rc < 0 ? NULL : cal;
}

static int required_time(struct req *r, const char *name, sla_ms *out)
{
    *out = -1;
    if (q_time(r, name, out) < 0)
        return SW_E_INVAL;
    if (*out < 0) {
        http_error(r, 422, "invalid", name, "%s is required (an RFC 3339 instant)", name);
        return SW_E_INVAL;
    }
    return 0;
}

void api_calendar_due(struct req *r)
{
    sla_ms start;
    int64_t minutes = -1;
    if (required_time(r, "start", &start) < 0 ||
        q_int(r, "minutes", 0, (int64_t)SLA_TARGET_MAX_HOURS * 60, &minutes) < 0)
        return;
    if (minutes < 0) {
        http_error(r, 422, "invalid", "minutes", "minutes is required (0 to %d)",
                   SLA_TARGET_MAX_HOURS * 60);
        return;
    }
    const struct sla_cal *cal = compiled(r);
    if (!cal)
        return;
    sla_ms due = sla_cal_due(cal, start, minutes * SLA_MS_PER_MIN);
    http_json(r, 200, json_pack("{s:s, s:o, s:o, s:o, s:I}", "calendar_id",
                                http_param(r, "calendar_id"), "start", json_time(start),
                                "business_start", json_time(sla_cal_start(cal, start)),
                                "due_at", due == SLA_NEVER ? json_null() : json_time(due),
                                "minutes", (json_int_t)minutes));
}

void api_calendar_elapsed(struct req *r)
{
    sla_ms from, to;
    if (required_time(r, "from", &from) < 0 || required_time(r, "to", &to) < 0)
        return;
    if (to < from) {
        http_error(r, 422, "invalid", "to", "to must not be before from");
        return;
    }
    const struct sla_cal *cal = compiled(r);
    if (!cal)
        return;
    sla_ms ms = sla_cal_elapsed(cal, from, to);
    http_json(r, 200, json_pack("{s:s, s:o, s:o, s:I, s:I}", "calendar_id",
                                http_param(r, "calendar_id"), "from", json_time(from), "to",
                                json_time(to), "seconds", (json_int_t)(ms / SLA_MS_PER_SEC),
                                "milliseconds", (json_int_t)ms));
}
