/* audit.c: writing audit rows for handlers; GET /api/v1/audit, and the
 * audit log's and item events' hash chains (verify, export). */
#include "http/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_proof.h"
#include "util/log.h"

void audit_entry_init(struct audit_entry *e, const struct req *r, const char *tenant_id,
                      const char *action, const char *target, json_t *before, json_t *after)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->a.tenant_id, sizeof(e->a.tenant_id), "%s", tenant_id ? tenant_id : "");
    snprintf(e->a.actor, sizeof(e->a.actor), "%s", r->who.actor[0] ? r->who.actor : "anonymous");
    e->a.at = r->now;
    snprintf(e->a.action, sizeof(e->a.action), "%s", action);
    snprintf(e->a.target, sizeof(e->a.target), "%s", target ? target : "");
    if (before)
        e->before_text = json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (after)
        e->after_text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    e->a.before = e->before_text;
    e->a.after = e->after_text;
}

void audit_entry_release(struct audit_entry *e)
{
    free(e->before_text);
    free(e->after_text);
    e->before_text = e->after_text = NULL;
}

int audit_record(struct req *r, const char *tenant_id, const char *action,
                 const char *target, json_t *before, json_t *after)
{
    struct audit_entry e;
    audit_entry_init(&e, r, tenant_id, action, target, before, after);
    int rc = store_audit_add(r->srv->store, &e.a);
    if (rc < 0)
        log_error("audit: cannot record %s %s by %s: %s", action, target ? target : "",
                  e.a.actor, sw_strerror(rc));
    audit_entry_release(&e);
    return rc;
}

/* ---- GET /api/v1/audit ----------------------------------------------- */

struct collect {
    json_t *items;
    int64_t last_id;
    int n;
};

static json_t *json_text_or_null(const char *text)
{
    if (!text)
        return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

static int add_row(const struct sw_audit *a, void *ud)
{
    struct collect *c = ud;
    json_t *o = json_pack("{s:I, s:o, s:s, s:o, s:s, s:s, s:o, s:o}",
        "id", (json_int_t)a->id,
        "tenant_id", a->tenant_id[0] ? json_string(a->tenant_id) : json_null(),
        "actor", a->actor, "at", json_time(a->at), "action", a->action,
        "target", a->target, "before", json_text_or_null(a->before),
        "after", json_text_or_null(a->after));
    json_array_append_new(c->items, o);
    c->last_id = a->id;
    c->n++;
    return 0;
}

void api_audit_list(struct req *r)
{
    struct sw_audit_filter f;
    memset(&f, 0, sizeof(f));
    f.tenant_id = r->tenant_id;     /* NULL: the route checked platform_admin */
    int64_t n = 100;
    if (q_time(r, "since", &f.since) < 0 || q_int(r, "limit", 1, 1000, &n) < 0 ||
        q_int(r, "cursor", 1, INT64_MAX, &f.before_id) < 0)
        return;
    f.limit = (int)n;
    f.actor = http_query(r, "actor");
    f.action = http_query(r, "action");
    struct collect c = {json_array(), 0, 0};
    int rc = store_audit_list(r->srv->store, &f, add_row, &c);
    if (rc < 0) {
        json_decref(c.items);
        http_fail(r, rc, "audit log");
        return;
    }
    char next[24];
    snprintf(next, sizeof(next), "%lld", (long long)c.last_id);
    http_json(r, 200, json_pack("{s:o, s:o}", "items", c.items, "next_cursor",
                                c.n == f.limit ? json_string(next) : json_null()));
}

/* ---- the hash chains: GET /api/v1/audit/verify, /export ---------------- */

struct verify_out {
    json_t *chains;
    int64_t records;
    bool intact;
};

static int chain_row(const struct sw_chain_report *c, void *ud)
{
    struct verify_out *v = ud;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:s, s:b}", "log", c->log, "tenant_id",
                          c->tenant_id, "records", (json_int_t)c->records, "adopted",
                          (json_int_t)c->adopted, "started_at",
                          c->started_at ? json_time(c->started_at) : json_null(), "head",
                          c->head, "intact", c->intact);
    if (!c->intact)
        json_object_set_new(o, "problem",
                            json_pack("{s:s, s:o, s:o, s:s}", "kind", c->problem, "seq",
                                      c->bad_seq ? json_integer(c->bad_seq) : json_null(),
                                      "record_id",
                                      c->bad_row_id ? json_integer(c->bad_row_id) : json_null(),
                                      "detail", c->detail));
    json_array_append_new(v->chains, o);
    v->records += c->records;
    v->intact &= c->intact;
    return 0;
}

void api_audit_verify(struct req *r)
{
    struct verify_out v = {json_array(), 0, true};
    int rc = store_chain_verify(r->srv->store, r->tenant_id, chain_row, &v);
    if (rc < 0) {
        json_decref(v.chains);
        http_fail(r, rc, "audit chains");
        return;
    }
    http_json(r, 200, json_pack("{s:s, s:b, s:I, s:o}", "tenant_id", r->tenant_id, "intact",
                                v.intact, "records", (json_int_t)v.records, "chains", v.chains));
}

#define EXPORT_DEFAULT 100000
#define EXPORT_MAX 1000000

static int export_line(const char *line, size_t len, void *ud)
{
    FILE *f = ud;
    fwrite(line, 1, len, f);
    fputc('\n', f);
    return 0;
}

void api_audit_export(struct req *r)
{
    static const char *const logs[] = {"audit", "events"};
    int log;
    int64_t after = 0, limit = EXPORT_DEFAULT;
    if (q_enum(r, "log", logs, 2, &log) < 0 || q_int(r, "after_seq", 0, INT64_MAX, &after) < 0 ||
        q_int(r, "limit", 1, EXPORT_MAX, &limit) < 0)
        return;
    if (log < 0) {
        http_error(r, 422, "invalid", "log", "log must be audit or events");
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int64_t last = after;
    int rc = store_chain_export(r->srv->store, logs[log], r->tenant_id, after, limit,
                                export_line, f, &last);
    fclose(f);
    if (rc < 0) {
        free(buf);
        if (rc == SW_E_NOTFOUND)
            http_error(r, 404, "not_found", NULL, "no %s chain for this tenant (nothing "
                       "recorded yet), or no record at after_seq", logs[log]);
        else
            http_fail(r, rc, "audit export");
        return;
    }
    http_raw(r, 200, "application/x-ndjson", buf, len);
    char n[24];
    snprintf(n, sizeof(n), "%lld", (long long)last);
    http_add_header(r, "X-Chain-Last-Seq", n);
    if (last - after == limit)      /* a full page: ask again from there */
        http_add_header(r, "X-Chain-Next-After-Seq", n);
}
