/* api_ingest.c: the ingest endpoints (API.md "Ingest from other tools"):
 *
 *   POST /api/v1/ingest/alertmanager?tenant_id=…           Alertmanager webhook (version 4)
 *   POST /api/v1/ingest/defectdojo?tenant_id=…[&project_id=…]   a finding or a page
 *   POST /api/v1/ingest/generic/{integration_id}[?tenant_id=…]  objects mapped by an integration
 *
 * Bodies are as large as bulk imports (max_bulk_bytes: a DefectDojo page
 * of thousands), so they take the bulk path: admitted by the bulk slots,
 * buffered, then parsed, mapped and written on a bulk worker, never on an
 * HTTP thread.  Elements are mapped (ingest.h, pure) and written in chunks
 * through the store's sync paths (alerts: create_many with sync, findings:
 * sync_many), which apply the history rule to new items and only forward
 * steps to tracked ones, so the same body twice changes nothing.
 *
 * Answers: malformed JSON 400; a body that is not the source's shape, or
 * whose elements all fail, 422 naming the pointer (and errors[] with the
 * index of each element counted from 0); otherwise 200 with the counts and
 * an error per element that did not map.  Tenants: the route's (its
 * ?tenant_id=, checked by the server) or, for a generic integration
 * without one, the caller's only tenant: an ingest token of one tenant
 * never writes another's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/bulk.h"
#include "http/http.h"
#include "http/ingest.h"
#include "http/server.h"
#include "store/store_integrations.h"
#include "util/xalloc.h"

#define CHUNK 1000
#define MAX_ERRORS 1000

enum source { SRC_AM, SRC_DD, SRC_GENERIC };

struct tally {
    int64_t created, acknowledged, resolved, closed, reopened, updated, unchanged, nerrors;
    json_t *errors;
    char first_field[INGEST_POINTER_MAX + 64];  /* the body-level pointer of the first error */
    char first_msg[256];
};

struct job {
    struct req *r;
    enum source src;
    char tenant_id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];         /* DefectDojo: "" = none */
    char integration_id[SW_ID_MAX + 1];     /* generic */
    struct ingest_am am;
    struct ingest_mapping *mapping;
    struct ingest_item *items;              /* CHUNK, filled in place */
    size_t *index;                          /* the body index of items[k] */
    size_t n;
    struct sw_alert_new *alerts;            /* copies for the store */
    struct sw_finding_sync *findings;
    size_t *ai, *fi;                        /* items[] of each copy */
    enum sw_alert_result *ares;
    enum sw_finding_result *fres;
    struct tally t;
};

/* ---- counting ----------------------------------------------------------------- */

/* prefix: where elements sit in the body ("/alerts", "/results", "" or
 * NULL for a body that is one element). */
static void tally_error(struct job *j, const char *prefix, size_t index, const char *field,
                        const char *msg)
{
    struct tally *t = &j->t;
    if (!t->nerrors) {
        if (prefix)
            snprintf(t->first_field, sizeof(t->first_field), "%s/%zu%s", prefix, index, field);
        else
            snprintf(t->first_field, sizeof(t->first_field), "%s", field);
        snprintf(t->first_msg, sizeof(t->first_msg), "%s", msg);
    }
    t->nerrors++;
    if (json_array_size(t->errors) < MAX_ERRORS)
        json_array_append_new(t->errors, json_pack("{s:I, s:s, s:s}", "index",
                                                   (json_int_t)index, "error", msg, "field",
                                                   field));
}

static const char *prefix_of(struct job *j, bool one)
{
    if (one)
        return NULL;
    return j->src == SRC_AM ? "/alerts" : j->src == SRC_DD ? "/results" : "";
}

/* Writes the mapped items of the chunk and counts what happened. */
static int flush(struct job *j, bool one)
{
    size_t na = 0, nf = 0;
    for (size_t k = 0; k < j->n; k++) {
        struct ingest_item *it = &j->items[k];
        if (it->skip) {
            j->t.unchanged++;
        } else if (it->kind == INGEST_ALERT) {
            j->alerts[na] = it->alert;
            j->ai[na++] = k;
        } else {
            j->findings[nf] = it->finding;
            j->fi[nf++] = k;
        }
    }
    struct store *s = j->r->srv->store;
    const char *actor = j->r->who.actor;
    int rc = 0;
    if (na)
        rc = store_alert_create_many(s, j->alerts, na, j->r->now, actor, j->ares);
    if (rc == 0 && nf)
        rc = store_finding_sync_many(s, j->findings, nf, j->r->now, actor, j->fres);
    if (rc < 0)
        return rc;
    const char *prefix = prefix_of(j, one);
    for (size_t i = 0; i < na; i++) {
        size_t at = j->index[j->ai[i]];
        switch (j->ares[i]) {
        case SW_ALERT_CREATED: j->t.created++; break;
        case SW_ALERT_DUPLICATE: j->t.unchanged++; break;
        case SW_ALERT_ACKNOWLEDGED: j->t.acknowledged++; break;
        case SW_ALERT_RESOLVED: j->t.resolved++; break;
        case SW_ALERT_REOPENED: j->t.reopened++; break;
        case SW_ALERT_NO_TENANT: tally_error(j, prefix, at, "", "tenant not found"); break;
        case SW_ALERT_NO_PROJECT:
            tally_error(j, prefix, at, "", "project not found");
            break;
        case SW_ALERT_INVALID:
            tally_error(j, prefix, at, "", "the alert's instants are out of order");
            break;
        }
    }
    for (size_t i = 0; i < nf; i++) {
        size_t at = j->index[j->fi[i]];
        switch (j->fres[i]) {
        case SW_FINDING_CREATED: j->t.created++; break;
        case SW_FINDING_UNCHANGED: j->t.unchanged++; break;
        case SW_FINDING_CLOSED: j->t.closed++; break;
        case SW_FINDING_REOPENED: j->t.reopened++; break;
        case SW_FINDING_UPDATED: j->t.updated++; break;
        case SW_FINDING_NO_PROJECT:
            tally_error(j, prefix, at, "", "project not found");
            break;
        case SW_FINDING_INVALID:
            tally_error(j, prefix, at, "", "closed before it was discovered");
            break;
        }
    }
    j->n = 0;
    return 0;
}

/* Maps element el (body index i) into the chunk; writes a full chunk. */
static int element(struct job *j, json_t *el, size_t i, const char *group_status, bool one)
{
    struct ingest_item *it = &j->items[j->n];
    struct ingest_err e = {.field = "", .msg = ""};
    int rc;
    switch (j->src) {
    case SRC_AM:
        rc = ingest_am_alert(&j->am, el, group_status, j->tenant_id, j->r->now, it, &e);
        break;
    case SRC_DD:
        rc = ingest_dd_finding(el, j->tenant_id, j->project_id[0] ? j->project_id : NULL,
                               j->r->now, it, &e);
        break;
    default:
        rc = ingest_mapping_apply(j->mapping, el, j->tenant_id, j->integration_id, j->r->now,
                                  it, &e);
        break;
    }
    if (rc < 0) {
        tally_error(j, prefix_of(j, one), i, e.field, e.msg);
        return 0;
    }
    j->index[j->n++] = i;
    return j->n == CHUNK ? flush(j, one) : 0;
}

/* ---- the body ---------------------------------------------------------------------- */

static void answer_422(struct req *r, const char *field, const char *msg, json_t *errors)
{
    json_t *err = json_pack("{s:s, s:s}", "code", "invalid", "message", msg);
    json_object_set_new(err, "field", field ? json_string(field) : json_null());
    json_t *out = json_pack("{s:o}", "error", err);
    if (errors)
        json_object_set(out, "errors", errors);
    http_json(r, 422, out);
}

static void answer(struct job *j)
{
    struct tally *t = &j->t;
    int64_t ok = t->created + t->acknowledged + t->resolved + t->closed + t->reopened +
                 t->updated + t->unchanged;
    if (!ok && t->nerrors) {
        /* nothing in the body mapped: the body does not map */
        answer_422(j->r, t->first_field, t->first_msg, t->errors);
        return;
    }
    json_t *out;
    switch (j->src) {
    case SRC_AM:
        out = json_pack("{s:I, s:I, s:I, s:I}", "created", (json_int_t)t->created, "resolved",
                        (json_int_t)t->resolved, "reopened", (json_int_t)t->reopened,
                        "unchanged", (json_int_t)(t->unchanged + t->acknowledged));
        break;
    case SRC_DD:
        out = json_pack("{s:I, s:I, s:I, s:I}", "created", (json_int_t)t->created, "updated",
                        (json_int_t)(t->updated + t->reopened), "closed",
                        (json_int_t)t->closed, "unchanged", (json_int_t)t->unchanged);
        break;
    default:
        out = json_pack("{s:I, s:I, s:I}", "created", (json_int_t)t->created, "updated",
                        (json_int_t)(t->acknowledged + t->resolved + t->closed + t->reopened +
                                     t->updated), "unchanged", (json_int_t)t->unchanged);
        break;
    }
    json_object_set(out, "errors", t->errors);
    json_object_set_new(out, "error_count", json_integer(t->nerrors));
    if (t->nerrors > MAX_ERRORS)
        json_object_set_new(out, "errors_truncated", json_true());
    http_json(j->r, 200, out);
}

/* The integration's stored mapping for this source: 0, or -1 after an
 * answer. */
static int load_config(struct job *j)
{
    struct req *r = j->r;
    struct ingest_err e = {.field = "", .msg = ""};
    if (j->src == SRC_DD)
        return 0;       /* DefectDojo's shape is fixed: nothing to configure */
    const char *id = j->src == SRC_AM ? "alertmanager" : j->integration_id;
    struct sw_integration x;
    int rc = store_integration_get(r->srv->store, j->tenant_id, id, &x);
    if (rc == SW_E_NOTFOUND && j->src == SRC_AM)
        return ingest_am_parse(NULL, &j->am, &e) < 0 ? -1 : 0;  /* the contract's map */
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", "integration_id", "integration not found");
        return -1;
    }
    if (rc < 0) {
        http_fail(r, rc, "integration");
        return -1;
    }
    const char *want = j->src == SRC_AM ? "alertmanager" : "generic";
    bool answered = false;
    if (strcmp(x.kind, want)) {
        http_error(r, 422, "invalid", "integration_id",
                   "integration %s is of kind %s: post to /api/v1/ingest/%s", x.id, x.kind,
                   x.kind);
        answered = true;
    } else {
        json_t *cfg = json_loads(x.config, 0, NULL);
        rc = j->src == SRC_AM ? ingest_am_parse(cfg, &j->am, &e)
                              : ingest_mapping_parse(cfg, &j->mapping, &e);
        json_decref(cfg);
        if (rc < 0) {       /* stored by an older version, say: not usable */
            http_error(r, 422, "invalid", e.field, "the integration's mapping: %s", e.msg);
            answered = true;
        }
    }
    sw_integration_clear(&x);
    return answered ? -1 : 0;
}

static void run_body(struct job *j, json_t *body)
{
    struct ingest_err e = {.field = "", .msg = ""};
    json_t *arr = NULL, *one = NULL;
    const char *status = NULL;
    int rc = 0;
    switch (j->src) {
    case SRC_AM:
        rc = ingest_am_body(body, &arr, &status, &e);
        break;
    case SRC_DD:
        rc = ingest_dd_body(body, &arr, &one, &e);
        break;
    default:
        if (json_is_array(body))
            arr = body;
        else if (json_is_object(body))
            one = body;
        else
            rc = ingest_fail(&e, "", "the body must be a JSON object or an array of objects");
        break;
    }
    if (rc < 0) {
        answer_422(j->r, e.field, e.msg, NULL);
        return;
    }
    size_t n = arr ? json_array_size(arr) : 1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = element(j, arr ? json_array_get(arr, i) : one, i, status, !arr);
    if (rc == 0)
        rc = flush(j, !arr);
    if (rc < 0) {
        http_fail(j->r, rc, "ingest");
        return;
    }
    answer(j);
}

static void job_free(struct job *j)
{
    ingest_am_free(&j->am);
    ingest_mapping_free(j->mapping);
    json_decref(j->t.errors);
    free(j->items);
    free(j->index);
    free(j->alerts);
    free(j->findings);
    free(j->ai);
    free(j->fi);
    free(j->ares);
    free(j->fres);
    free(j);
}

/* On a bulk worker (bulk.h): the connection is suspended meanwhile. */
static void run(void *ud, bool cancelled)
{
    struct job *j = ud;
    struct req *r = j->r;
    json_error_t jerr;
    json_t *body = NULL;
    if (cancelled) {
        http_error(r, 503, "unavailable", NULL, "the server is shutting down: resend the body");
        http_add_header(r, "Retry-After", "5");
    } else if (!r->body_len) {
        http_error(r, 400, "bad_request", NULL, "a JSON body is required");
    } else if (!(body = json_loadb(r->body, r->body_len,
                                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr))) {
        http_error(r, 400, "bad_request", NULL, "malformed JSON at line %d column %d: %s",
                   jerr.line, jerr.column, jerr.text);
    } else if (load_config(j) == 0) {
        j->items = xmalloc(CHUNK * sizeof(*j->items));
        j->index = xmalloc(CHUNK * sizeof(*j->index));
        j->alerts = xmalloc(CHUNK * sizeof(*j->alerts));
        j->findings = xmalloc(CHUNK * sizeof(*j->findings));
        j->ai = xmalloc(CHUNK * sizeof(*j->ai));
        j->fi = xmalloc(CHUNK * sizeof(*j->fi));
        j->ares = xmalloc(CHUNK * sizeof(*j->ares));
        j->fres = xmalloc(CHUNK * sizeof(*j->fres));
        run_body(j, body);
    }
    json_decref(body);
    job_free(j);
    http_bulk_done(r);
    http_resume(r);
}

/* ---- the handlers ------------------------------------------------------------------------ */

static bool json_content(struct req *r)
{
    const char *ct = http_header_in(r, "Content-Type");
    size_t n = strlen("application/json");
    if (ct && !strncasecmp(ct, "application/json", n) &&
        (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
        return true;
    http_error(r, 415, "unsupported_media_type", NULL, "Content-Type must be application/json");
    return false;
}

/* The caller's only tenant, or NULL (several, or every one). */
static const char *only_tenant(const struct auth_principal *p)
{
    const char *one = NULL;
    for (size_t i = 0; i < p->ngrants; i++) {
        const char *t = p->grants[i].tenant_id;
        if (!t[0] || (one && strcmp(one, t)))
            return NULL;
        one = t;
    }
    return one;
}

static void start(struct req *r, enum source src, const char *tenant_id)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->r = r;
    j->src = src;
    j->t.errors = json_array();
    snprintf(j->tenant_id, sizeof(j->tenant_id), "%s", tenant_id);
    const char *p = src == SRC_DD ? http_query(r, "project_id") : NULL;
    if (p && *p) {
        if (!http_id_valid(p)) {
            http_error(r, 422, "invalid", "project_id", "project_id is not a valid id");
            job_free(j);
            return;
        }
        snprintf(j->project_id, sizeof(j->project_id), "%s", p);
    }
    const char *ig = src == SRC_GENERIC ? http_param(r, "integration_id") : NULL;
    if (ig)
        snprintf(j->integration_id, sizeof(j->integration_id), "%s", ig);
    http_defer(r);
    bulk_submit(r->srv->bulk, run, j);
}

void api_ingest_alertmanager(struct req *r)
{
    if (json_content(r))
        start(r, SRC_AM, r->tenant_id);
}

void api_ingest_defectdojo(struct req *r)
{
    if (json_content(r))
        start(r, SRC_DD, r->tenant_id);
}

void api_ingest_generic(struct req *r)
{
    const char *id = http_param(r, "integration_id");
    if (!id || !http_id_valid(id)) {
        http_error(r, 404, "not_found", "integration_id", "integration not found");
        return;
    }
    /* the query's tenant, else the caller's only one */
    const char *t = http_query(r, "tenant_id");
    if (!t || !*t)
        t = only_tenant(&r->who);
    if (!t) {
        http_error(r, 422, "invalid", "tenant_id",
                   "tenant_id is required (the caller acts in several tenants)");
        return;
    }
    if (!http_id_valid(t)) {
        http_error(r, 422, "invalid", "tenant_id", "tenant_id is not a valid id");
        return;
    }
    int rc = auth_check(&r->who, PERM_INGEST, t);
    struct sw_tenant known;
    if (rc == SW_E_NOTFOUND ||
        (rc == 0 && (rc = store_tenant_get(r->srv->store, t, &known)) == SW_E_NOTFOUND)) {
        http_error(r, 404, "not_found", NULL, "tenant not found");
        return;
    }
    if (rc == SW_E_DENIED) {
        http_error(r, 403, "forbidden", NULL, "your role may not do this");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        return;
    }
    if (json_content(r))
        start(r, SRC_GENERIC, t);
}
