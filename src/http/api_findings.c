/* api_findings.c: vulnerability findings: ingest (idempotent), the
 * lifecycle (pause, resume, close, reopen, severity), reads, the waterfall
 * explained, and the event history.
 *
 * Every state change goes through store_finding_update with a callback that
 * asks the core (core/sla.h) what the change means, so the arithmetic lives
 * in one place and the row and its event commit together. */
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_findings.h"
#include "store/store_proof.h"
#include "util/xalloc.h"

/* How far ahead of our clock a client's timestamp may be (clock skew). */
#define FUTURE_SKEW_MS (5 * SLA_MS_PER_MIN)
#define REASON_MAX 1000
#define LIST_DEFAULT 100
#define LIST_MAX 1000

/* ---- output ---------------------------------------------------------- */

static json_t *json_id_or_null(const char *s)
{
    return *s ? json_string(s) : json_null();
}

static json_t *api_json_finding(const struct sw_finding *r, int64_t now)
{
    const struct sla_finding *f = &r->f;
    const struct sla_clock *c = &f->clock;
    sla_ms paused = sla_clock_paused_total(c, now);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "tenant_id", json_string(r->tenant_id));
    json_object_set_new(o, "project_id", json_id_or_null(r->project_id));
    json_object_set_new(o, "severity", json_string(sla_sev_name(f->sev)));
    json_object_set_new(o, "title", json_string(r->title));
    json_object_set_new(o, "state", json_string(sla_finding_state_name(f->state)));
    json_object_set_new(o, "discovered_at", json_time(f->created_at));
    json_object_set_new(o, "sla_deadline", json_time(sla_clock_due(c, now)));
    /* the business-hours calendar its clock counts on (null: around the clock) */
    json_object_set_new(o, "calendar", json_id_or_null(r->cal));
    json_object_set_new(o, "sla_hours", json_integer(f->target.hours));
    json_object_set_new(o, "sla_source",
                        json_string(sla_src_name(SLA_FINDING, f->target.src)));
    json_object_set_new(o, "safety_net", json_boolean(f->target.safety_net));
    json_object_set_new(o, "paused_since", json_time(c->paused_since));
    json_object_set_new(o, "paused_seconds", json_integer(paused / SLA_MS_PER_SEC));
    json_object_set_new(o, "paused_hours", json_real((double)(paused / 3600) / 1000.0));
    json_object_set_new(o, "elapsed_pct", json_integer(sla_clock_percent(c, now)));
    json_object_set_new(o, "sla_notified", json_boolean(sla_alarm_notified(&f->alarm)));
    json_t *warned = json_array();     /* the tenant's thresholds fired, ascending */
    for (size_t i = 0; i < r->nwarn; i++)
        if (f->alarm.fired & (UINT32_C(1) << i))
            json_array_append_new(warned, json_integer(r->warn[i]));
    json_object_set_new(o, "warnings_fired", warned);
    json_object_set_new(o, "breach_notified", json_boolean(f->alarm.breach_fired));
    json_object_set_new(o, "breached", json_boolean(sla_clock_breached(c, now)));
    json_object_set_new(o, "overage_seconds",
                        json_integer(sla_clock_overage(c, now) / SLA_MS_PER_SEC));
    json_object_set_new(o, "closed_at", json_time(f->closed_at));
    json_object_set_new(o, "next_check_at",
                        r->next_check_at == SLA_NEVER ? json_null() : json_time(r->next_check_at));
    json_object_set_new(o, "ingested_at", json_time(r->ingested_at));
    json_object_set_new(o, "updated_at", json_time(r->updated_at));
    return o;
}

/* ---- input ----------------------------------------------------------- */

/* An optional RFC 3339 instant in obj[field]; *out untouched when absent. */
static int v_time(struct req *r, json_t *obj, const char *field, sla_ms *out, bool *present)
{
    const char *s;
    *present = false;
    if (v_string(r, obj, field, false, 64, &s) < 0)
        return SW_E_INVAL;
    if (!s)
        return 0;
    sla_ms t;
    if (sla_time_parse(s, &t) < 0 || t <= 0) {
        http_error(r, 422, "invalid", field,
                   "%s must be an ISO 8601 UTC timestamp like 2026-11-22T10:00:00Z", field);
        return SW_E_INVAL;
    }
    if (t > r->now + FUTURE_SKEW_MS) {
        http_error(r, 422, "invalid", field, "%s is in the future", field);
        return SW_E_INVAL;
    }
    *out = t;
    *present = true;
    return 0;
}

static int v_severity(struct req *r, json_t *obj, enum sla_sev *out)
{
    const char *s;
    if (v_string(r, obj, "severity", true, 16, &s) < 0)
        return SW_E_INVAL;
    if (sla_sev_parse(SLA_FINDING, s, out) < 0) {
        http_error(r, 422, "invalid", "severity",
                   "severity must be one of urgent, critical, high, medium, low");
        return SW_E_INVAL;
    }
    return 0;
}

/* The {id} path parameter. */
static const char *path_id(struct req *r)
{
    const char *id = http_param(r, "id");
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "finding not found");
        return NULL;
    }
    return id;
}

/* ---- create and read ------------------------------------------------- */

void api_finding_create(struct req *r)
{
    const char *id, *project = NULL, *title;
    enum sla_sev sev;
    sla_ms discovered = r->now;
    bool has_at;
    const char *status = NULL;
    sla_ms closed_at = 0;
    bool has_closed;
    enum sla_finding_state state = SLA_FINDING_OPEN;
    if (v_id(r, r->json, "id", true, &id) < 0 ||
        v_id(r, r->json, "project_id", false, &project) < 0 ||
        v_severity(r, r->json, &sev) < 0 ||
        v_string(r, r->json, "title", false, SW_FINDING_TITLE_MAX, &title) < 0 ||
        v_time(r, r->json, "discovered_at", &discovered, &has_at) < 0 ||
        v_string(r, r->json, "status", false, 32, &status) < 0 ||
        v_time(r, r->json, "closed_at", &closed_at, &has_closed) < 0)
        return;
    /* history import: a finding that arrives closed */
    if (status && (sla_finding_state_parse(status, &state) < 0 ||
                   (state != SLA_FINDING_OPEN && !sla_finding_state_terminal(state)))) {
        http_error(r, 422, "invalid", "status",
                   "status must be one of open, closed, false_positive, accepted_risk, "
                   "not_accessible");
        return;
    }
    if (has_closed && state == SLA_FINDING_OPEN) {
        http_error(r, 422, "invalid", "closed_at", "closed_at needs a terminal status");
        return;
    }
    if (state != SLA_FINDING_OPEN && !has_closed)
        closed_at = r->now;
    if (state != SLA_FINDING_OPEN && closed_at < discovered) {
        http_error(r, 422, "invalid", "closed_at", "closed_at must not be before discovered_at");
        return;
    }
    struct sw_tenant t;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &t);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        return;
    }
    struct sw_finding_new in = {
        .tenant_id = r->tenant_id, .id = id, .project_id = project, .title = title,
        .sev = sev, .discovered_at = discovered, .state = state, .closed_at = closed_at,
    };
    struct sw_finding *f = xmalloc(sizeof(*f));
    bool created = false;
    rc = store_finding_create(r->srv->store, &in, r->now, r->who.actor, f, &created);
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", "project_id", "project not found");
    else if (rc == SW_E_INVAL)
        http_error(r, 422, "invalid", "closed_at", "closed_at must not be before discovered_at");
    else if (rc < 0)
        http_fail(r, rc, "finding");
    else
        http_json(r, created ? 201 : 200, api_json_finding(f, r->now));
    free(f);
}

void api_finding_get(struct req *r)
{
    const char *id = path_id(r);
    if (!id)
        return;
    struct sw_finding *f = xmalloc(sizeof(*f));
    int rc = store_finding_get(r->srv->store, r->tenant_id, id, f);
    if (rc < 0)
        http_fail(r, rc, "finding");
    else
        http_json(r, 200, api_json_finding(f, r->now));
    free(f);
}

struct list_ctx {
    json_t *items;
    int limit, n;
    char last[SW_ID_MAX + 1];
    bool more;
    int64_t now;
};

static int add_finding(const struct sw_finding *f, void *ud)
{
    struct list_ctx *l = ud;
    if (l->n == l->limit) {     /* the extra row: there is a next page */
        l->more = true;
        return 1;
    }
    json_array_append_new(l->items, api_json_finding(f, l->now));
    snprintf(l->last, sizeof(l->last), "%s", f->id);
    l->n++;
    return 0;
}

/* ?limit=: 1..LIST_MAX. */
static int q_limit(struct req *r, int *out)
{
    int64_t v = LIST_DEFAULT;
    int rc = q_int(r, "limit", 1, LIST_MAX, &v);
    *out = (int)v;
    return rc;
}

void api_finding_list(struct req *r)
{
    struct sw_finding_filter fl = {.tenant_id = r->tenant_id, .breached = -1, .now = r->now};
    enum sla_finding_state st;
    enum sla_sev sev;
    const char *b;

    fl.state = http_query(r, "state");
    if (fl.state && sla_finding_state_parse(fl.state, &st) < 0) {
        http_error(r, 422, "invalid", "state",
                   "state must be one of open, paused, closed, false_positive, "
                   "accepted_risk, not_accessible");
        return;
    }
    fl.severity = http_query(r, "severity");
    if (fl.severity && sla_sev_parse(SLA_FINDING, fl.severity, &sev) < 0) {
        http_error(r, 422, "invalid", "severity",
                   "severity must be one of urgent, critical, high, medium, low");
        return;
    }
    fl.project_id = http_query(r, "project_id");
    if (fl.project_id && *fl.project_id && !http_id_valid(fl.project_id)) {
        http_error(r, 422, "invalid", "project_id", "project_id is not a valid id");
        return;
    }
    if ((b = http_query(r, "breached"))) {
        if (!strcmp(b, "true"))
            fl.breached = 1;
        else if (!strcmp(b, "false"))
            fl.breached = 0;
        else {
            http_error(r, 422, "invalid", "breached", "breached must be true or false");
            return;
        }
    }
    fl.after_id = http_query(r, "cursor");
    if (fl.after_id && !http_id_valid(fl.after_id)) {
        http_error(r, 422, "invalid", "cursor", "cursor is not a valid cursor");
        return;
    }
    struct list_ctx l = {.items = json_array(), .now = r->now};
    if (q_limit(r, &l.limit) < 0) {
        json_decref(l.items);
        return;
    }
    fl.limit = l.limit + 1;
    int rc = store_finding_list(r->srv->store, &fl, add_finding, &l);
    if (rc < 0) {
        json_decref(l.items);
        http_fail(r, rc, "findings");
        return;
    }
    http_json(r, 200, json_pack("{s:o, s:o}", "items", l.items, "next_cursor",
                                l.more ? json_string(l.last) : json_null()));
}

/* ---- lifecycle ------------------------------------------------------- */

enum op { OP_PAUSE, OP_RESUME, OP_CLOSE, OP_REOPEN, OP_SEVERITY };

struct change {
    enum op op;
    sla_ms at;                  /* 0 = now (or the last event, if later) */
    int64_t now;
    const char *reason;
    enum sla_finding_state status;
    enum sla_sev sev;
    char *data;                 /* the event's JSON, freed by the handler */
};

static int apply_change(struct sw_finding *r, const struct sla_finding_scopes *scopes,
                        void *ud, struct sw_finding_event *ev)
{
    struct change *ch = ud;
    struct sla_finding *f = &r->f;
    struct sla_finding before = *f;
    sla_ms at = ch->at;
    const char *type = NULL;
    int rc = 0;

    if (!at)    /* none given: the store's instant, taken under the row lock */
        at = ev->at > 0 ? ev->at
                        : (ch->now > f->clock.last_event_at ? ch->now : f->clock.last_event_at);
    json_t *d = json_object();
    switch (ch->op) {
    case OP_PAUSE:
        rc = sla_finding_pause(f, at);
        type = "paused";
        break;
    case OP_RESUME:
        rc = sla_finding_resume(f, at);
        type = "resumed";
        if (rc == 0)
            json_object_set_new(d, "paused_seconds",
                                json_integer((at - before.clock.paused_since) / SLA_MS_PER_SEC));
        break;
    case OP_CLOSE:
        rc = sla_finding_close(f, ch->status, at);
        type = "closed";
        if (rc == 0)
            json_object_set_new(d, "breached", json_boolean(sla_clock_breached(&f->clock, at)));
        break;
    case OP_REOPEN:
        rc = sla_finding_reopen(f, at);
        type = "reopened";
        break;
    case OP_SEVERITY:
        rc = sla_finding_set_severity(f, ch->sev, scopes, at);
        type = "severity_changed";
        if (rc == 0) {
            json_object_set_new(d, "from_hours", json_integer(before.target.hours));
            json_object_set_new(d, "to_hours", json_integer(f->target.hours));
            json_object_set_new(d, "sla_deadline",
                                json_time(sla_clock_due(&f->clock, at)));
        }
        break;
    }
    if (rc < 0) {
        json_decref(d);
        return rc;
    }
    if (ch->op == OP_SEVERITY) {
        json_object_set_new(d, "from", json_string(sla_sev_name(before.sev)));
        json_object_set_new(d, "to", json_string(sla_sev_name(f->sev)));
    } else {
        json_object_set_new(d, "from", json_string(sla_finding_state_name(before.state)));
        json_object_set_new(d, "to", json_string(sla_finding_state_name(f->state)));
    }
    if (ch->reason)
        json_object_set_new(d, "reason", json_string(ch->reason));
    if (ch->op == OP_SEVERITY && before.sev == f->sev) {
        /* same severity: only a policy change since the last recalculation
         * can move the deadline, and that is what gets recorded */
        if (before.target.hours == f->target.hours) {
            json_decref(d);
            return 0;
        }
        type = "recalculated";
    }
    ch->data = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    snprintf(ev->type, sizeof(ev->type), "%s", type);
    ev->at = at;
    ev->data = ch->data;
    return 0;
}

static const char *const conflict_msg[] = {
    [OP_PAUSE] = "only an open finding can be paused",
    [OP_RESUME] = "only a paused finding can be resumed",
    [OP_CLOSE] = "the finding is already closed",
    [OP_REOPEN] = "only a closed finding can be reopened",
    [OP_SEVERITY] = "a closed finding's severity cannot change",
};

static void change(struct req *r, enum op op)
{
    const char *id = path_id(r);
    struct change ch = {.op = op, .now = r->now};
    bool has_at = false;
    if (!id)
        return;
    if (op == OP_SEVERITY) {
        if (v_severity(r, r->json, &ch.sev) < 0)
            return;
    } else if (v_time(r, r->json, "at", &ch.at, &has_at) < 0 ||
               v_string(r, r->json, "reason", false, REASON_MAX, &ch.reason) < 0) {
        return;
    }
    if (op == OP_CLOSE) {
        const char *st;
        if (v_string(r, r->json, "status", true, 32, &st) < 0)
            return;
        if (sla_finding_state_parse(st, &ch.status) < 0 ||
            !sla_finding_state_terminal(ch.status)) {
            http_error(r, 422, "invalid", "status",
                       "status must be one of closed, false_positive, accepted_risk, "
                       "not_accessible");
            return;
        }
    }
    struct sw_finding *f = xmalloc(sizeof(*f));
    /* now = 0: the store reads the clock inside the transaction */
    int rc = store_finding_update(r->srv->store, r->tenant_id, id, 0, r->who.actor,
                                  apply_change, &ch, f);
    if (rc == SW_E_CONFLICT)
        http_error(r, 409, "conflict", NULL, "%s", conflict_msg[op]);
    else if (rc == SW_E_INVAL)
        http_error(r, 422, "invalid", "at",
                   "at must not be before the finding's discovery or its previous event");
    else if (rc < 0)
        http_fail(r, rc, "finding");
    else
        http_json(r, 200, api_json_finding(f, r->now));
    free(ch.data);
    free(f);
}

void api_finding_pause(struct req *r) { change(r, OP_PAUSE); }
void api_finding_resume(struct req *r) { change(r, OP_RESUME); }
void api_finding_close(struct req *r) { change(r, OP_CLOSE); }
void api_finding_reopen(struct req *r) { change(r, OP_REOPEN); }
void api_finding_severity(struct req *r) { change(r, OP_SEVERITY); }

/* ---- explain and history --------------------------------------------- */

void api_finding_explain(struct req *r)
{
    const char *id = path_id(r);
    if (!id)
        return;
    struct sw_finding *f = xmalloc(sizeof(*f));
    struct sw_policy_chain *chain = xmalloc(sizeof(*chain));
    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    struct sla_explain e;
    /* ?at=: the levels as they stood then (the policy history); the
     * finding's own severity and project are today's */
    int64_t at = 0, versions[SW_POL_COUNT] = {0};
    if (q_time(r, "at", &at) < 0)
        goto out;
    int rc = store_finding_get(r->srv->store, r->tenant_id, id, f);
    if (rc == 0 && at)
        rc = store_finding_chain_at(r->srv->store, r->tenant_id, f->project_id, at, chain,
                                    versions);
    else if (rc == 0)
        rc = store_finding_policy_chain(r->srv->store, r->tenant_id, f->project_id, chain);
    if (rc == 0) {
        sw_policy_chain_scopes(chain, layers, &scopes);
        rc = sla_finding_policy_explain(&scopes, f->f.sev, &e);
    }
    if (rc < 0) {
        http_fail(r, rc, "finding");
        goto out;
    }
    static const enum sla_src order[] = {SLA_SRC_PROJECT, SLA_SRC_TENANT, SLA_SRC_GLOBAL,
                                         SLA_SRC_BUILTIN};
    static const int pol_of[] = {SW_POL_PROJECT, SW_POL_COMPANY, SW_POL_GLOBAL, -1};
    json_t *levels = json_array();
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        enum sla_src src = order[i];
        bool configured = pol_of[i] < 0 || chain->has[pol_of[i]];
        if (src == SLA_SRC_PROJECT && !f->project_id[0])
            configured = false;
        json_t *lv = json_pack(
            "{s:s, s:o, s:b, s:b}", "level", sla_src_name(SLA_FINDING, src),
            "value", e.level[src] > 0 ? json_integer(e.level[src]) : json_null(),
            "configured", configured,
            "answered", !e.safety_net && e.source == src);
        if (at && pol_of[i] >= 0)     /* the policy version in force then (0: none yet) */
            json_object_set_new(lv, "version", json_integer(versions[pol_of[i]]));
        json_array_append_new(levels, lv);
    }
    json_t *out = json_object();
    json_object_set_new(out, "finding_id", json_string(f->id));
    json_object_set_new(out, "tenant_id", json_string(f->tenant_id));
    json_object_set_new(out, "project_id", json_id_or_null(f->project_id));
    json_object_set_new(out, "severity", json_string(sla_sev_name(f->f.sev)));
    json_object_set_new(out, "levels", levels);
    json_object_set_new(out, "answered", json_string(sla_src_name(SLA_FINDING, e.source)));
    json_object_set_new(out, "value", json_integer(e.value));
    json_object_set_new(out, "safety_net", json_boolean(e.safety_net));
    if (at)
        json_object_set_new(out, "at", json_time(at));
    /* the calendar, level by level: the first that says one chose it
     * ("24x7": around the clock, said explicitly) */
    json_t *clv = json_array();
    const char *cal = NULL, *cal_from = "builtin";
    static const char *const pol_name[SW_POL_COUNT] = {"project", "company", "global"};
    for (int l = 0; l < SW_POL_COUNT; l++) {
        const char *v = chain->level[l].calendars[f->f.sev];
        if (l == SW_POL_PROJECT && !f->project_id[0])
            v = "";
        if (*v && !cal) {
            cal = v;
            cal_from = pol_name[l];
        }
        json_array_append_new(clv, json_pack("{s:s, s:o}", "level", pol_name[l], "value",
                                             *v ? json_string(v) : json_null()));
    }
    json_object_set_new(out, "calendar",
                        json_pack("{s:o, s:s, s:o, s:o}", "value",
                                  cal && strcmp(cal, "24x7") ? json_string(cal) : json_null(),
                                  "answered", cal_from, "levels", clv,
                                  "stored", json_id_or_null(f->cal)));
    /* what the finding carries: differs from value until a recalculation
     * follows a global change */
    json_object_set_new(out, "stored",
                        json_pack("{s:i, s:s, s:o}", "sla_hours", (int)f->f.target.hours,
                                  "sla_source", sla_src_name(SLA_FINDING, f->f.target.src),
                                  "sla_deadline",
                                  json_time(sla_clock_due(&f->f.clock, r->now))));
    http_json(r, 200, out);
out:
    free(chain);
    free(f);
}

void api_finding_events(struct req *r)
{
    const char *id = path_id(r);
    if (!id)
        return;
    struct sw_finding *f = xmalloc(sizeof(*f));
    int rc = store_finding_get(r->srv->store, r->tenant_id, id, f);
    free(f);
    if (rc < 0) {
        http_fail(r, rc, "finding");
        return;
    }
    api_events_page(r, "finding", id);
}
