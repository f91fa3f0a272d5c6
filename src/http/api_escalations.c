/* api_escalations.c: escalation chains, manual escalation, an alert's
 * escalation status and the escalation audit history.
 *
 *   GET  /api/v1/sla/escalations/{tenant_id}             the chains, by severity
 *   POST /api/v1/sla/escalations/{tenant_id}             replace one severity's chain
 *   POST /api/v1/sla/escalate/{alert_id}?tenant_id=&severity=   one step by hand
 *   GET  /api/v1/sla/escalation-status/{alert_id}?tenant_id=
 *   GET  /api/v1/sla/escalation-events/{tenant_id}?limit=&alert_id=&cursor=
 *
 * The automatic steps are the scheduler's (store_escalation.h); a manual
 * step writes the same event, audit row and outbox rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "http/users.h"
#include "notify/notify.h"
#include "store/store_escalation.h"

#define EVENTS_DEFAULT 50
#define EVENTS_MAX 500

/* ---- shapes ---------------------------------------------------------------- */

static json_t *step_json(const struct sw_esc_step *s)
{
    return json_pack("{s:s, s:s, s:o, s:i, s:s}", "level", sla_esc_level_name(s->level), "role",
                     s->role, "user", s->user[0] ? json_string(s->user) : json_null(),
                     "timeout_minutes", (int)s->timeout_min, "notification_method",
                     sla_esc_method_name(s->method));
}

static json_t *chain_json(const struct sw_esc_chain *c)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(steps, step_json(&c->step[i]));
    return json_pack("{s:s, s:s, s:o, s:o, s:s}", "tenant_id", c->tenant_id, "severity",
                     sla_sev_name(c->sev), "chain", steps, "updated_at",
                     json_time(c->updated_at), "updated_by", c->updated_by);
}

static json_t *time_or_null(int64_t t)
{
    return t == SLA_NEVER || t <= 0 ? json_null() : json_time(t);
}

/* ---- chains ---------------------------------------------------------------- */

static int add_chain(const struct sw_esc_chain *c, void *ud)
{
    json_array_append_new(ud, chain_json(c));
    return 0;
}

void api_escalation_list(struct req *r)
{
    json_t *items = json_array();
    int rc = store_esc_chain_list(r->srv->store, r->tenant_id, add_chain, items);
    if (rc < 0) {
        json_decref(items);
        http_fail(r, rc, "tenant");
        return;
    }
    http_json(r, 200, json_pack("{s:s, s:o}", "tenant_id", r->tenant_id, "chains", items));
}

/* 422 naming the field, e.g. chain[1].timeout_minutes. */
static void bad_step(struct req *r, size_t i, const char *field, const char *msg)
{
    char name[64];
    snprintf(name, sizeof(name), "chain[%zu].%s", i, field);
    http_error(r, 422, "invalid", name, "%s %s", name, msg);
}

void api_escalation_put(struct req *r)
{
    struct sw_esc_chain *c = calloc(1, sizeof(*c));
    if (!c) {
        http_fail(r, SW_E_NOMEM, "chain");
        return;
    }
    snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", r->tenant_id);
    json_t *sev = json_object_get(r->json, "severity");
    json_t *chain = json_object_get(r->json, "chain");
    if (!json_is_string(sev) || sla_sev_parse(SLA_ALERT, json_string_value(sev), &c->sev) < 0) {
        http_error(r, 422, "invalid", "severity",
                   "severity must be one of critical, high, medium, low");
        goto out;
    }
    if (!json_is_array(chain) || json_array_size(chain) < 1 ||
        json_array_size(chain) > SLA_ESC_STEPS_MAX) {
        http_error(r, 422, "invalid", "chain", "chain must be an array of 1 to %d steps",
                   SLA_ESC_STEPS_MAX);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(chain); i++) {
        json_t *o = json_array_get(chain, i);
        struct sw_esc_step *s = &c->step[i];
        if (!json_is_object(o)) {
            char name[32];
            snprintf(name, sizeof(name), "chain[%zu]", i);
            http_error(r, 422, "invalid", name, "%s must be an object", name);
            goto out;
        }
        json_t *v = json_object_get(o, "level");
        if (!json_is_string(v) || sla_esc_level_parse(json_string_value(v), &s->level) < 0) {
            bad_step(r, i, "level", "must be one of L1, L2, L3, Manager, CISO");
            goto out;
        }
        v = json_object_get(o, "role");
        char fname[64];
        struct v_err e;
        snprintf(fname, sizeof(fname), "chain[%zu].role", i);
        if (!json_is_string(v)) {
            bad_step(r, i, "role", "must be a string of 1 to 128 characters");
            goto out;
        }
        if (v_check_text_value(json_string_value(v), json_string_length(v), fname, 1,
                               SW_ROLE_MAX, &e) < 0) {
            v_answer(r, &e);
            goto out;
        }
        snprintf(s->role, sizeof(s->role), "%s", json_string_value(v));
        v = json_object_get(o, "user");     /* a person of this tenant, or none */
        if (v && !json_is_null(v)) {
            snprintf(fname, sizeof(fname), "chain[%zu].user", i);
            if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
                bad_step(r, i, "user", "must be a user id of this tenant");
                goto out;
            }
            if (people_check_user(r, json_string_value(v), r->tenant_id, fname) < 0)
                goto out;
            snprintf(s->user, sizeof(s->user), "%s", json_string_value(v));
        }
        v = json_object_get(o, "timeout_minutes");
        if (!json_is_integer(v) || json_integer_value(v) < SLA_ESC_TIMEOUT_MIN_MIN ||
            json_integer_value(v) > SLA_ESC_TIMEOUT_MIN_MAX) {
            bad_step(r, i, "timeout_minutes", "must be an integer between 1 and 1440");
            goto out;
        }
        s->timeout_min = (int32_t)json_integer_value(v);
        v = json_object_get(o, "notification_method");
        if (!json_is_string(v) || sla_esc_method_parse(json_string_value(v), &s->method) < 0) {
            bad_step(r, i, "notification_method", "must be one of email, slack, pager, phone");
            goto out;
        }
        c->n++;
    }
    int rc = store_esc_chain_put(r->srv->store, c, r->now, r->who.actor);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        goto out;
    }
    c->updated_at = r->now;
    snprintf(c->updated_by, sizeof(c->updated_by), "%s", r->who.actor);
    http_json(r, 200, chain_json(c));
out:
    free(c);
}

/* ---- manual escalation ---------------------------------------------------- */

void api_escalate(struct req *r)
{
    const char *id = http_param(r, "alert_id");
    const char *sv = http_query(r, "severity");
    int sev = -1;
    if (sv && *sv) {
        enum sla_sev v;
        if (sla_sev_parse(SLA_ALERT, sv, &v) < 0) {
            http_error(r, 422, "invalid", "severity",
                       "severity must be one of critical, high, medium, low");
            return;
        }
        sev = (int)v;
    }
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "alert not found");
        return;
    }
    struct sw_esc_result res;
    int rc = store_escalate(r->srv->store, r->tenant_id, id, sev, r->now, r->who.actor, &res);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "alert not found");
        return;
    }
    if (rc == SW_E_CONFLICT) {
        http_error(r, 409, "conflict", NULL, "the alert is resolved: nothing to escalate");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "escalation");
        return;
    }
    if (res.outcome == SW_ESC_NO_CHAIN) {
        http_error(r, 400, "no_chain", "severity",
                   "no escalation chain is defined for tenant %s and severity %s",
                   r->tenant_id, sla_sev_name(res.sev));
        return;
    }
    if (res.outcome == SW_ESC_EXHAUSTED) {
        http_error(r, 400, "exhausted", NULL,
                   "the %s escalation chain is exhausted: all %d steps have fired",
                   sla_sev_name(res.sev), res.level);
        return;
    }
    /* the notices are in the outbox: deliver now */
    notify_wake(r->srv->notifier);
    http_json(r, 200, json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:s, s:o, s:I}", "alert_id", id,
                                "tenant_id", r->tenant_id, "severity", sla_sev_name(res.sev),
                                "escalation_level", res.level, "level",
                                sla_esc_level_name(res.step.level), "step", step_json(&res.step),
                                "trigger", "manual", "next_escalation_at",
                                time_or_null(res.next_at), "event_id",
                                (json_int_t)res.event_id));
}

/* ---- status -------------------------------------------------------------- */

void api_escalation_status(struct req *r)
{
    const char *id = http_param(r, "alert_id");
    struct sw_esc_status *st = calloc(1, sizeof(*st));
    int rc = !st                          ? SW_E_NOMEM
             : (id && http_id_valid(id)) ? store_esc_status(r->srv->store, r->tenant_id, id,
                                                            r->now, st)
                                         : SW_E_NOTFOUND;
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "alert not found");
        free(st);
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "escalation status");
        free(st);
        return;
    }
    json_t *steps = json_array();
    for (size_t i = 0; st->has_chain && i < st->chain.n; i++) {
        json_t *s = step_json(&st->chain.step[i]);
        json_object_set_new(s, "index", json_integer((json_int_t)i + 1));
        json_object_set_new(s, "fired", json_boolean((int)i < st->level));
        json_object_set_new(s, "fired_at", st->fired_at[i] ? json_time(st->fired_at[i])
                                                           : json_null());
        json_object_set_new(s, "trigger", st->fired_at[i] ? json_string(st->fired_manual[i]
                                                                            ? "manual"
                                                                            : "auto")
                                                          : json_null());
        json_array_append_new(steps, s);
    }
    bool exhausted = st->has_chain && (size_t)st->level >= st->chain.n;
    json_t *cur = st->level > 0 && st->has_chain && (size_t)st->level <= st->chain.n
                      ? step_json(&st->chain.step[st->level - 1])
                      : json_null();
    json_t *next = st->has_chain && !exhausted ? step_json(&st->chain.step[st->level])
                                               : json_null();
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:b, s:b, s:b, s:b, s:o, s:o, s:o}",
                          "alert_id", id, "tenant_id", r->tenant_id, "severity",
                          sla_sev_name(st->sev), "escalation_level", st->level, "current_step",
                          cur, "next_step", next, "chain_defined", st->has_chain, "exhausted",
                          exhausted, "acknowledged", st->acknowledged, "resolved",
                          st->resolved, "escalated_at", time_or_null(st->escalated_at),
                          "next_escalation_at", time_or_null(st->next_at), "steps", steps);
    http_json(r, 200, o);
    free(st);
}

/* ---- history -------------------------------------------------------------- */

struct ev_ctx {
    json_t *items;
    int limit, n;
    int64_t last;
};

static int add_ev(const struct sw_esc_event *e, void *ud)
{
    struct ev_ctx *x = ud;
    if (x->n == x->limit) {
        x->n++;
        return 1;
    }
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id",
                  (json_int_t)e->id, "alert_id", e->alert_id, "severity", sla_sev_name(e->sev),
                  "level_index", e->level_index, "level", sla_esc_level_name(e->level), "role",
                  e->role, "notification_method", sla_esc_method_name(e->method), "trigger",
                  e->manual ? "manual" : "auto", "actor", e->actor, "at", json_time(e->at),
                  "due_at", json_time(e->due_at));
    /* whom it engaged and how it reached them ("via": channels, after any fallback) */
    json_object_set_new(o, "user", e->user[0] ? json_string(e->user) : json_null());
    json_object_set_new(o, "via", e->via[0] ? json_string(e->via) : json_null());
    json_array_append_new(x->items, o);
    x->last = e->id;
    x->n++;
    return 0;
}

void api_escalation_events(struct req *r)
{
    int64_t limit = EVENTS_DEFAULT, before = 0;
    if (q_int(r, "limit", 1, EVENTS_MAX, &limit) < 0 ||
        q_int(r, "cursor", 1, INT64_MAX, &before) < 0)
        return;
    const char *alert_id = http_query(r, "alert_id");
    if (alert_id && !*alert_id)
        alert_id = NULL;
    if (alert_id && !http_id_valid(alert_id)) {
        http_error(r, 422, "invalid", "alert_id", "alert_id is not a valid id");
        return;
    }
    struct ev_ctx x = {.items = json_array(), .limit = limit};
    int rc = store_esc_events(r->srv->store, r->tenant_id, alert_id, before, limit + 1, add_ev,
                              &x);
    if (rc < 0) {
        json_decref(x.items);
        http_fail(r, rc, "tenant");
        return;
    }
    char cur[32];
    snprintf(cur, sizeof(cur), "%lld", (long long)x.last);
    http_json(r, 200, json_pack("{s:s, s:o, s:o}", "tenant_id", r->tenant_id, "items", x.items,
                                "next_cursor", x.n > x.limit ? json_string(cur) : json_null()));
}
