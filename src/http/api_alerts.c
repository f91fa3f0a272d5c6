/* api_alerts.c: SOC alerts: create (single and NDJSON bulk), lifecycle
 * (acknowledge, resolve, reopen, severity), list, tracking record, events.
 *
 * Handlers validate, call the store (which runs the core inside its
 * transaction) and answer; roles and tenant scope are the route table's.
 * The bulk route is not tenant-scoped (each line names its tenant), so it
 * checks every line's tenant here with auth_check, answering a tenant the
 * caller may not use exactly like an unknown one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/alert_input.h"
#include "http/api.h"
#include "http/bulk.h"
#include "http/http.h"
#include "util/xalloc.h"
#include "http/json_out.h"
#include "http/live.h"
#include "http/server.h"
#include "store/store_alerts.h"

#define FUTURE_SKEW_MS (5 * SLA_MS_PER_MIN)    /* clocks of senders drift a little */
#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define BULK_CHUNK 10000
#define BULK_MAX_ERRORS 1000

/* ---- the tracking record ---------------------------------------------- */

static json_t *warnings_json(const struct sw_alert *x)
{
    json_t *arr = json_array();
    const struct sla_alert *a = &x->a;
    /* bit 0 of each alarm is the resolved threshold (warn_pct) */
    if (((a->ack_alarm.fired | a->resolve_alarm.fired) & 1u) && a->targets.warn_pct > 0)
        json_array_append_new(arr, json_integer(a->targets.warn_pct));
    return arr;
}

static json_t *alert_json(const struct sw_alert *x, int64_t now)
{
    const struct sla_alert *a = &x->a;
    json_t *o = json_object();
    json_object_set_new(o, "alert_id", json_string(x->id));
    json_object_set_new(o, "id", json_string(x->id));
    json_object_set_new(o, "tenant_id", json_string(x->tenant_id));
    json_object_set_new(o, "project_id", x->project_id[0] ? json_string(x->project_id)
                                                           : json_null());
    json_object_set_new(o, "title", json_string(x->title));
    json_object_set_new(o, "source", json_string(x->source));
    json_object_set_new(o, "severity", json_string(sla_sev_name(a->sev)));
    json_object_set_new(o, "state", json_string(sla_alert_state_name(a->state)));
    json_object_set_new(o, "created_at", json_time(a->created_at));
    json_object_set_new(o, "acknowledged_at", json_time(a->acknowledged_at));
    json_object_set_new(o, "resolved_at", json_time(a->resolved_at));
    json_object_set_new(o, "ack_due_at", json_time(sla_clock_due(&a->ack, now)));
    json_object_set_new(o, "resolve_due_at", json_time(sla_clock_due(&a->resolve, now)));
    /* the business-hours calendar each clock counts on (null: around the clock) */
    json_object_set_new(o, "ack_calendar", x->ack_cal[0] ? json_string(x->ack_cal) : json_null());
    json_object_set_new(o, "resolve_calendar",
                        x->res_cal[0] ? json_string(x->res_cal) : json_null());
    /* the target each clock is judged against (a stopped clock keeps its own) */
    json_object_set_new(o, "ack_target_minutes", json_integer(a->ack.target_ms / SLA_MS_PER_MIN));
    json_object_set_new(o, "resolve_target_minutes",
                        json_integer(a->resolve.target_ms / SLA_MS_PER_MIN));
    json_object_set_new(o, "ack_breached", json_boolean(sla_clock_breached(&a->ack, now)));
    json_object_set_new(o, "resolve_breached",
                        json_boolean(sla_clock_breached(&a->resolve, now)));
    json_object_set_new(o, "warnings_fired", warnings_json(x));
    json_object_set_new(o, "escalation_level", json_integer(x->escalation_level));
    json_object_set_new(o, "paused_seconds",
                        json_integer(sla_clock_paused_total(&a->resolve, now) / SLA_MS_PER_SEC));
    json_object_set_new(o, "ack_source", json_string(sla_src_name(SLA_ALERT, a->targets.ack_src)));
    json_object_set_new(o, "resolve_source",
                        json_string(sla_src_name(SLA_ALERT, a->targets.resolve_src)));
    json_object_set_new(o, "warn_pct", json_integer(a->targets.warn_pct));
    json_object_set_new(o, "penalty_per_hour_cents", json_integer(a->targets.penalty_cph));
    json_object_set_new(o, "mtta_penalty_per_hour_cents",
                        json_integer(a->targets.ack_penalty_cph));
    json_object_set_new(o, "next_check_at",
                        x->next_check_at == SLA_NEVER ? json_null() : json_time(x->next_check_at));
    json_object_set_new(o, "updated_at", json_time(x->updated_at));
    return o;
}

/* ---- input ------------------------------------------------------------- */

/* The rules are validate.c's (ids, free text, instants); only what is
 * particular to alerts is here. */

/* An optional id where "" means none (senders fill absent columns so). */
static int p_id(json_t *o, const char *field, bool required, const char **out,
                struct v_err *e)
{
    json_t *v = json_object_get(o, field);
    if (!required && json_is_string(v) && json_string_length(v) == 0) {
        *out = NULL;
        return 0;
    }
    return v_check_id(o, field, required, out, e);
}

static int p_sev(json_t *o, const char *field, enum sla_sev *out, struct v_err *e)
{
    const char *s;
    if (v_check_string(o, field, true, 16, &s, e) < 0)
        return SW_E_INVAL;
    if (sla_sev_parse(SLA_ALERT, s, out) < 0) {
        e->field = field;
        snprintf(e->msg, sizeof(e->msg), "%s must be one of critical, high, medium, low",
                 field);
        return SW_E_INVAL;
    }
    return 0;
}

int alert_input_parse(json_t *o, bool want_tenant, int64_t now, struct sw_alert_new *out,
                      struct v_err *e)
{
    memset(out, 0, sizeof(*out));
    if (p_id(o, "id", true, &out->id, e) < 0)
        return SW_E_INVAL;
    if (want_tenant && p_id(o, "tenant_id", true, &out->tenant_id, e) < 0)
        return SW_E_INVAL;
    if (p_sev(o, "severity", &out->sev, e) < 0 ||
        v_check_string(o, "title", false, SW_ALERT_TITLE_MAX, &out->title, e) < 0 ||
        v_check_string(o, "source", false, SW_SOURCE_MAX, &out->source, e) < 0 ||
        p_id(o, "project_id", false, &out->project_id, e) < 0 ||
        v_check_time(o, "created_at", now, FUTURE_SKEW_MS, &out->created_at, e) < 0 ||
        v_check_time(o, "acknowledged_at", now, FUTURE_SKEW_MS, &out->acknowledged_at, e) < 0 ||
        v_check_time(o, "resolved_at", now, FUTURE_SKEW_MS, &out->resolved_at, e) < 0)
        return SW_E_INVAL;
    /* history import: each instant at or after the one before */
    int64_t created = out->created_at ? out->created_at : now;
    if (out->acknowledged_at && out->acknowledged_at < created) {
        e->field = "acknowledged_at";
        snprintf(e->msg, sizeof(e->msg), "acknowledged_at must not be before created_at");
        return SW_E_INVAL;
    }
    if (out->resolved_at &&
        out->resolved_at < (out->acknowledged_at ? out->acknowledged_at : created)) {
        e->field = "resolved_at";
        snprintf(e->msg, sizeof(e->msg), "resolved_at must not be before %s",
                 out->acknowledged_at ? "acknowledged_at" : "created_at");
        return SW_E_INVAL;
    }
    return 0;
}

/* ---- create ------------------------------------------------------------ */

/* The result, from the store's writer thread once the row is committed;
 * the answer is built on the server's thread (create_answer), so the
 * writer goes straight on to its next batch. */
struct create_ctx {
    struct req *r;
    struct sw_alert_new in;
    struct sw_alert x;
    int rc;
    enum sw_alert_result res;
};

static void create_answer(struct req *r, void *ud)
{
    struct create_ctx *cx = ud;
    int rc = cx->rc;
    enum sw_alert_result res = cx->res;
    if (rc < 0)
        http_fail(r, rc, "alert");
    else if (res == SW_ALERT_NO_TENANT)
        http_error(r, 404, "not_found", "tenant_id", "tenant not found");
    else if (res == SW_ALERT_NO_PROJECT)
        http_error(r, 404, "not_found", "project_id", "project not found");
    else if (res == SW_ALERT_INVALID)
        http_error(r, 422, "invalid", "resolved_at",
                   "acknowledged_at and resolved_at must follow created_at in that order");
    else
        http_json(r, res == SW_ALERT_CREATED ? 201 : 200, alert_json(&cx->x, r->now));
    if (rc == 0 && res == SW_ALERT_CREATED)
        live_alert_updated(r->srv, &cx->x, "created", r->now);
    free(cx);
}

static void created(void *ud, int rc, enum sw_alert_result res)
{
    struct create_ctx *cx = ud;
    cx->rc = rc;
    cx->res = res;
    http_resume_then(cx->r, create_answer, cx);
}

/* Single creates are group-committed: the connection waits suspended while
 * the store's writer batches concurrent creates into one fsync. */
void api_alert_create(struct req *r)
{
    struct create_ctx *cx = xcalloc(1, sizeof(*cx));
    struct v_err e;
    if (alert_input_parse(r->json, false, r->now, &cx->in, &e) < 0) {
        free(cx);
        v_answer(r, &e);
        return;
    }
    cx->in.tenant_id = r->tenant_id;
    cx->r = r;
    http_defer(r);
    store_alert_create_async(r->srv->store, &cx->in, r->now, r->who.actor, &cx->x, created, cx);
}

/* ---- bulk (NDJSON) ------------------------------------------------------ */

int ndjson_next(const char **p, const char *end, const char **line, size_t *len,
                size_t *lineno)
{
    while (*p < end) {
        const char *s = *p;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - s);
        *p = nl ? nl + 1 : end;
        (*lineno)++;
        if (n && s[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k < n) {
            *line = s;
            *len = n;
            return 1;
        }
    }
    return 0;
}

struct bulk {
    struct req *r;
    struct sw_alert_new items[BULK_CHUNK];
    json_t *objs[BULK_CHUNK];
    size_t lines[BULK_CHUNK];
    enum sw_alert_result res[BULK_CHUNK];
    size_t n;
    int64_t accepted, duplicates, nerrors;
    json_t *errors;
};

static void bulk_error(struct bulk *b, size_t line, const char *msg)
{
    b->nerrors++;
    if (json_array_size(b->errors) < BULK_MAX_ERRORS)
        json_array_append_new(b->errors, json_pack("{s:I, s:s}", "line", (json_int_t)line,
                                                   "error", msg));
}

static int bulk_flush(struct bulk *b)
{
    int rc = 0;
    if (b->n)
        rc = store_alert_create_many(b->r->srv->store, b->items, b->n, b->r->now,
                                     b->r->who.actor, b->res);
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        switch (b->res[i]) {
        case SW_ALERT_CREATED: b->accepted++; break;
        case SW_ALERT_DUPLICATE: b->duplicates++; break;
        case SW_ALERT_NO_TENANT: bulk_error(b, b->lines[i], "tenant not found"); break;
        case SW_ALERT_NO_PROJECT: bulk_error(b, b->lines[i], "project not found"); break;
        case SW_ALERT_INVALID:
            bulk_error(b, b->lines[i], "acknowledged_at and resolved_at must follow created_at");
            break;
        case SW_ALERT_ACKNOWLEDGED:     /* sync results: bulk creates never sync */
        case SW_ALERT_RESOLVED:
        case SW_ALERT_REOPENED: b->duplicates++; break;
        }
    }
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->objs[i]);
    b->n = 0;
    return rc;
}

static void bulk_line(struct bulk *b, const char *p, size_t len, size_t line)
{
    json_error_t jerr;
    char msg[256];
    json_t *o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf(msg, sizeof(msg), "malformed JSON at column %d: %s", jerr.column, jerr.text);
        bulk_error(b, line, msg);
        return;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        bulk_error(b, line, "a line must be a JSON object");
        return;
    }
    struct sw_alert_new *in = &b->items[b->n];
    struct v_err e;
    if (alert_input_parse(o, true, b->r->now, in, &e) < 0) {
        json_decref(o);
        bulk_error(b, line, e.msg);
        return;
    }
    /* Not visible, or no ingest right there: the same words as unknown. */
    if (auth_check(&b->r->who, PERM_INGEST, in->tenant_id) < 0) {
        json_decref(o);
        bulk_error(b, line, "tenant not found");
        return;
    }
    b->objs[b->n] = o;
    b->lines[b->n] = line;
    b->n++;
}

/* On a bulk worker (bulk.h): parse, write in chunks, answer, resume.  The
 * connection is suspended meanwhile; r and its body stay valid. */
static void bulk_run(void *ud, bool cancelled)
{
    struct bulk *b = ud;
    struct req *r = b->r;
    int rc = cancelled ? SW_E_BUSY : 0;
    bool cut = false;
    const char *p = r->body ? r->body : "", *end = p + r->body_len, *l;
    size_t len, line = 0;
    while (rc == 0 && ndjson_next(&p, end, &l, &len, &line)) {
        bulk_line(b, l, len, line);
        if (b->n == BULK_CHUNK) {
            rc = bulk_flush(b);
            if (rc == 0 && p < end && bulk_stopping(r->srv->bulk)) {
                cut = true;     /* shutting down: what is written stays */
                break;
            }
        }
    }
    if (rc == 0 && !cut)
        rc = bulk_flush(b);
    if (cancelled || cut) {
        http_error(r, 503, "unavailable", NULL,
                   "the server is shutting down; %lld alerts were accepted before it did "
                   "(resend the body: duplicates are recognised)", (long long)b->accepted);
        http_add_header(r, "Retry-After", "5");
    } else if (rc < 0) {
        http_error(r, 500, "internal", NULL,
                   "store error after %lld alerts were accepted: %s (resend: duplicates are "
                   "recognised)", (long long)b->accepted, sw_strerror(rc));
    } else {
        json_t *out = json_pack("{s:I, s:I, s:I, s:o}", "accepted", (json_int_t)b->accepted,
                                "duplicates", (json_int_t)b->duplicates, "error_count",
                                (json_int_t)b->nerrors, "errors", b->errors);
        b->errors = NULL;
        if (b->nerrors > BULK_MAX_ERRORS)
            json_object_set_new(out, "errors_truncated", json_true());
        http_json(r, 200, out);
    }
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->objs[i]);
    json_decref(b->errors);
    free(b);
    http_bulk_done(r);
    http_resume(r);
}

/* The HTTP thread only hands the body over: parsing and writing tens of
 * megabytes would hold every connection this thread serves. */
void api_alert_bulk(struct req *r)
{
    struct bulk *b = calloc(1, sizeof(*b));
    if (!b) {
        http_fail(r, SW_E_NOMEM, "bulk");
        return;
    }
    b->r = r;
    b->errors = json_array();
    http_defer(r);
    bulk_submit(r->srv->bulk, bulk_run, b);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void change(struct req *r, enum sw_alert_action action)
{
    const char *id = http_param(r, "id");
    struct v_err e;
    /* no `at`: the instant is taken inside the transaction, never before the
     * alert's last change (store_alerts.h), so concurrent changes never 422 */
    struct sw_alert_change ch = { .action = action, .at = 0 };
    const char *by = NULL, *resolution = NULL;
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", NULL, "alert not found");
        return;
    }
    if (action == SW_ALERT_SET_SEVERITY) {
        if (p_sev(r->json, "severity", &ch.sev, &e) < 0) {
            v_answer(r, &e);
            return;
        }
    } else if (v_check_time(r->json, "at", r->now, FUTURE_SKEW_MS, &ch.at, &e) < 0 ||
               v_check_string(r->json, "by", false, SW_NAME_MAX, &by, &e) < 0 ||
               (action == SW_ALERT_RESOLVE &&
                v_check_string(r->json, "resolution", false, 4096, &resolution, &e) < 0)) {
        v_answer(r, &e);
        return;
    }
    json_t *data = json_object();
    if (by)
        json_object_set_new(data, "by", json_string(by));
    if (resolution)
        json_object_set_new(data, "resolution", json_string(resolution));
    json_object_set_new(data, "via", json_string(r->who.actor));
    char *data_text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    ch.actor = by ? by : r->who.actor;
    ch.data_json = data_text;

    struct sw_alert *x = malloc(sizeof(*x));
    int rc = x ? store_alert_change(r->srv->store, r->tenant_id, id, &ch, r->now, x)
               : SW_E_NOMEM;
    free(data_text);
    switch (rc) {
    case 0:
        http_json(r, 200, alert_json(x, r->now));
        live_alert_updated(r->srv, x, action == SW_ALERT_ACKNOWLEDGE ? "acknowledged"
                                      : action == SW_ALERT_RESOLVE   ? "resolved"
                                      : action == SW_ALERT_REOPEN    ? "reopened"
                                                                     : "severity_changed",
                           r->now);
        break;
    case SW_E_NOTFOUND:
        http_error(r, 404, "not_found", NULL, "alert not found");
        break;
    case SW_E_CONFLICT:
        http_error(r, 409, "conflict", NULL, action == SW_ALERT_REOPEN
                                                 ? "the alert is not resolved"
                                                 : "the alert is already resolved");
        break;
    case SW_E_INVAL:
        http_error(r, 422, "invalid", "at",
                   "at is before the alert's creation or its last state change");
        break;
    default:
        http_fail(r, rc, "alert");
    }
    free(x);
}

void api_alert_acknowledge(struct req *r) { change(r, SW_ALERT_ACKNOWLEDGE); }
void api_alert_resolve(struct req *r) { change(r, SW_ALERT_RESOLVE); }
void api_alert_reopen(struct req *r) { change(r, SW_ALERT_REOPEN); }
void api_alert_severity(struct req *r) { change(r, SW_ALERT_SET_SEVERITY); }

/* ---- reads -------------------------------------------------------------- */

void api_alert_tracking(struct req *r)
{
    const char *id = http_param(r, "alert_id");
    struct sw_alert *x = malloc(sizeof(*x));
    int rc = !x ? SW_E_NOMEM
         : (id && http_id_valid(id)) ? store_alert_get(r->srv->store, r->tenant_id, id, x)
                                     : SW_E_NOTFOUND;
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", NULL, "alert not tracked");
    else if (rc < 0)
        http_fail(r, rc, "alert");
    else
        http_json(r, 200, alert_json(x, r->now));
    free(x);
}

struct list_ctx {
    json_t *items;
    int64_t now;
    int limit, n;
    char last[SW_ID_MAX + 1];
};

static int add_alert(const struct sw_alert *x, void *ud)
{
    struct list_ctx *l = ud;
    if (l->n == l->limit) {
        l->n++;                 /* one more than asked: there is a next page */
        return 1;
    }
    json_array_append_new(l->items, alert_json(x, l->now));
    snprintf(l->last, sizeof(l->last), "%s", x->id);
    l->n++;
    return 0;
}

void api_alert_list(struct req *r)
{
    static const char *const states[] = { "open", "acknowledged", "resolved", "unresolved" };
    static const char *const sevs[] = { "critical", "high", "medium", "low" };
    static const char *const bools[] = { "false", "true" };
    struct sw_alert_filter f = { .tenant_id = r->tenant_id, .now = r->now, .limit = LIST_DEFAULT };
    int sev;
    if (q_enum(r, "state", states, 4, &f.state) < 0 || q_enum(r, "severity", sevs, 4, &sev) < 0 ||
        q_enum(r, "breached", bools, 2, &f.breached) < 0)
        return;
    if (f.state == 3)           /* "unresolved": open or acknowledged */
        f.state = SW_ALERT_UNRESOLVED;
    f.sev = -1;
    if (sev >= 0) {
        enum sla_sev sv;
        if (sla_sev_parse(SLA_ALERT, sevs[sev], &sv) == 0)
            f.sev = (int)sv;
    }
    int64_t limit = f.limit;
    if (q_int(r, "limit", 1, LIST_MAX, &limit) < 0 || q_id(r, "cursor", &f.after_id) < 0 ||
        q_id(r, "project_id", &f.project_id) < 0)
        return;
    /* ?q=: a substring of the id or the title, free text */
    f.text = http_query(r, "q");
    if (f.text && (strlen(f.text) > 200 || !http_text_valid(f.text, strlen(f.text)))) {
        http_error(r, 422, "invalid", "q", "q must be at most 200 characters of text");
        return;
    }
    f.limit = (int)limit;
    struct list_ctx l = { .items = json_array(), .now = r->now, .limit = f.limit };
    f.limit++;
    int rc = store_alert_list(r->srv->store, &f, add_alert, &l);
    if (rc < 0) {
        json_decref(l.items);
        http_fail(r, rc, "alerts");
        return;
    }
    http_json(r, 200, json_pack("{s:o, s:o}", "items", l.items, "next_cursor",
                                l.n > l.limit ? json_string(l.last) : json_null()));
}

void api_alert_events(struct req *r)
{
    const char *id = http_param(r, "id");
    struct sw_alert *x = malloc(sizeof(*x));
    int rc = !x ? SW_E_NOMEM
         : (id && http_id_valid(id)) ? store_alert_get(r->srv->store, r->tenant_id, id, x)
                                     : SW_E_NOTFOUND;
    free(x);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "alert not found");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "alert");
        return;
    }
    api_events_page(r, "alert", id);
}
