/* ingest_map.c: generic integrations (ingest.h): any JSON source mapped
 * onto alerts or findings by RFC 6901 pointers, with value maps.
 *
 * A mapping is compiled once per request (ingest_mapping_parse checks
 * every pointer, every map value and every default against the item
 * kind's words, so a stored mapping can only fail on a document's
 * values) and applied to each document.  An error names the mapping's
 * pointer whose value did not map, which is what a user has to look at
 * in their document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/ingest.h"
#include "util/xalloc.h"

struct ingest_mapping {
    enum ingest_kind kind;
    struct ingest_field id, severity, title, source, project_id, created_at, state, state_at;
};

static bool alert_sev(const char *v)
{
    enum sla_sev s;
    return sla_sev_parse(SLA_ALERT, v, &s) == 0;
}

static bool finding_sev(const char *v)
{
    enum sla_sev s;
    return sla_sev_parse(SLA_FINDING, v, &s) == 0;
}

static bool alert_state(const char *v)
{
    enum sla_alert_state s;
    return sla_alert_state_parse(v, &s) == 0;
}

static bool finding_state(const char *v)
{
    enum sla_finding_state s;
    return sla_finding_state_parse(v, &s) == 0 && s != SLA_FINDING_PAUSED;
}

void ingest_mapping_free(struct ingest_mapping *m)
{
    if (!m)
        return;
    struct ingest_field *f[] = {&m->id, &m->severity, &m->title, &m->source, &m->project_id,
                                &m->created_at, &m->state, &m->state_at};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        ingest_field_free(f[i]);
    free(m);
}

enum ingest_kind ingest_mapping_kind(const struct ingest_mapping *m)
{
    return m->kind;
}

int ingest_mapping_parse(json_t *mapping, struct ingest_mapping **out, struct ingest_err *e)
{
    if (!json_is_object(mapping))
        return ingest_fail(e, "mapping", "mapping must be an object of JSON pointers");
    struct ingest_mapping *m = xcalloc(1, sizeof(*m));
    const char *key;
    json_t *v;
    json_object_foreach(mapping, key, v) {
        static const char *const known[] = {"item", "id", "severity", "title", "source",
                                            "project_id", "created_at", "state"};
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= !strcmp(key, known[i]);
        if (!ok) {
            ingest_fail(e, "mapping", "unknown key mapping.%.64s (item, id, severity, title, "
                        "source, project_id, created_at, state)", key);
            goto fail;
        }
    }
    json_t *item = json_object_get(mapping, "item");
    if (item && (!json_is_string(item) || (strcmp(json_string_value(item), "alert") &&
                                            strcmp(json_string_value(item), "finding")))) {
        ingest_fail(e, "mapping.item", "mapping.item must be alert or finding");
        goto fail;
    }
    m->kind = item && !strcmp(json_string_value(item), "finding") ? INGEST_FINDING
                                                                 : INGEST_ALERT;
    bool alert = m->kind == INGEST_ALERT;
    /* state: a FIELD plus "at", the instant of the state */
    json_t *state = json_object_get(mapping, "state");
    json_t *state_copy = NULL;
    if (json_is_object(state)) {
        state_copy = json_deep_copy(state);
        json_object_del(state_copy, "at");
    }
    int rc = ingest_field_parse(json_object_get(mapping, "id"), "mapping.id", NULL, &m->id, e);
    if (rc == 0)
        rc = ingest_field_parse(json_object_get(mapping, "severity"), "mapping.severity",
                                alert ? alert_sev : finding_sev, &m->severity, e);
    if (rc == 0)
        rc = ingest_field_parse(json_object_get(mapping, "title"), "mapping.title", NULL,
                                &m->title, e);
    if (rc == 0)
        rc = ingest_field_parse(json_object_get(mapping, "source"), "mapping.source", NULL,
                                &m->source, e);
    if (rc == 0)
        rc = ingest_field_parse(json_object_get(mapping, "project_id"), "mapping.project_id",
                                NULL, &m->project_id, e);
    if (rc == 0)
        rc = ingest_field_parse(json_object_get(mapping, "created_at"), "mapping.created_at",
                                NULL, &m->created_at, e);
    if (rc == 0)
        rc = ingest_field_parse(state_copy ? state_copy : state, "mapping.state",
                                alert ? alert_state : finding_state, &m->state, e);
    if (rc == 0 && json_is_object(state))
        rc = ingest_field_parse(json_object_get(state, "at"), "mapping.state.at", NULL,
                                &m->state_at, e);
    json_decref(state_copy);
    if (rc < 0)
        goto fail;
    if (!m->id.set || !m->id.has_pointer) {
        ingest_fail(e, "mapping.id", "mapping.id is required: the pointer of the item's id");
        goto fail;
    }
    if (!m->severity.set) {
        ingest_fail(e, "mapping.severity", "mapping.severity is required");
        goto fail;
    }
    *out = m;
    return 0;
fail:
    ingest_mapping_free(m);
    return SW_E_INVAL;
}

/* The text of an optional free-text field, cleaned into out. */
static void text_field(const struct ingest_field *f, json_t *doc, char *out, size_t cap)
{
    char buf[64];
    const char *s;
    size_t n;
    if (ingest_field_text(f, doc, buf, sizeof(buf), &s, &n) == 1)
        ingest_text(s, n, out, cap);
}

/* An instant of the document: 0 when absent, SW_E_INVAL (e set) when not
 * an instant or in the future. */
static int time_field(const struct ingest_field *f, json_t *doc, int64_t now, int64_t *out,
                      struct ingest_err *e)
{
    if (ingest_field_time(f, doc, out) < 0)
        return ingest_fail(e, f->pointer, "%s is not an instant (RFC 3339, or epoch seconds "
                           "or milliseconds)", f->pointer);
    if (*out > now + INGEST_FUTURE_SKEW_MS)
        return ingest_fail(e, f->pointer, "%s is in the future", f->pointer);
    return 0;
}

static int64_t later(int64_t x, int64_t y)
{
    return x > y ? x : y;
}

int ingest_mapping_apply(const struct ingest_mapping *m, json_t *doc, const char *tenant_id,
                         const char *source, int64_t now, struct ingest_item *it,
                         struct ingest_err *e)
{
    memset(it, 0, sizeof(*it));
    it->kind = m->kind;
    bool alert = m->kind == INGEST_ALERT;
    if (!json_is_object(doc))
        return ingest_fail(e, "", "a document is a JSON object");
    char buf[64];
    const char *s;
    size_t n;

    int rc = ingest_field_text(&m->id, doc, buf, sizeof(buf), &s, &n);
    if (rc != 1 || n > SW_ID_MAX || strlen(s) != n) {
        return ingest_fail(e, m->id.pointer, rc == 0 ? "%s is missing: the item's id"
                           : "%s must be an id of at most 128 printable ASCII characters",
                           m->id.pointer);
    }
    memcpy(it->id, s, n);
    it->id[n] = '\0';
    if (!http_id_valid(it->id))
        return ingest_fail(e, m->id.pointer, "%s must be an id of at most 128 printable ASCII "
                           "characters without '/'", m->id.pointer);

    enum sla_sev sev;
    rc = ingest_field_text(&m->severity, doc, buf, sizeof(buf), &s, &n);
    if (rc == 0)
        return ingest_fail(e, m->severity.pointer, "%s is missing: the item's severity",
                           m->severity.pointer);
    if (rc < 0 || sla_sev_parse(alert ? SLA_ALERT : SLA_FINDING, s, &sev) < 0)
        return ingest_fail(e, m->severity.pointer, "%s: \"%.40s\" does not map to a severity",
                           m->severity.pointer, s);

    text_field(&m->title, doc, it->title, alert ? SW_ALERT_TITLE_MAX + 1 : sizeof(it->title));
    text_field(&m->source, doc, it->source, sizeof(it->source));
    if (!it->source[0])
        snprintf(it->source, sizeof(it->source), "%s", source);

    rc = ingest_field_text(&m->project_id, doc, buf, sizeof(buf), &s, &n);
    if (rc == 1 && n) {
        if (n > SW_ID_MAX || strlen(s) != n)
            return ingest_fail(e, m->project_id.pointer, "%s is not a project id",
                               m->project_id.pointer);
        memcpy(it->project_id, s, n);
        it->project_id[n] = '\0';
        if (!http_id_valid(it->project_id))
            return ingest_fail(e, m->project_id.pointer, "%s is not a project id",
                               m->project_id.pointer);
    }

    int64_t created = 0, at = 0;
    if (time_field(&m->created_at, doc, now, &created, e) < 0 ||
        time_field(&m->state_at, doc, now, &at, e) < 0)
        return SW_E_INVAL;
    if (!created)
        created = now;

    /* the state: open unless the document says otherwise */
    const char *st = "open";
    rc = ingest_field_text(&m->state, doc, buf, sizeof(buf), &s, &n);
    if (rc < 0 || (rc == 1 && !(alert ? alert_state(s) : finding_state(s))))
        return ingest_fail(e, m->state.pointer, "%s: \"%.40s\" does not map to a state",
                           m->state.pointer, s);
    if (rc == 1)
        st = s;
    /* an instant before the item's creation is taken as its creation */
    int64_t when = later(at ? at : now, created);
    const char *project = it->project_id[0] ? it->project_id : NULL;
    if (alert) {
        enum sla_alert_state as = SLA_ALERT_OPEN;
        sla_alert_state_parse(st, &as);
        struct sw_alert_new *a = &it->alert;
        a->tenant_id = tenant_id;
        a->id = it->id;
        a->project_id = project;
        a->title = it->title;
        a->source = it->source;
        a->sev = sev;
        a->created_at = created;
        a->acknowledged_at = as == SLA_ALERT_ACKNOWLEDGED ? when : 0;
        a->resolved_at = as == SLA_ALERT_RESOLVED ? when : 0;
        a->sync = true;
        a->state = as;
        a->state_at = at;
    } else {
        enum sla_finding_state fs = SLA_FINDING_OPEN;
        sla_finding_state_parse(st, &fs);
        struct sw_finding_sync *f = &it->finding;
        f->in.tenant_id = tenant_id;
        f->in.id = it->id;
        f->in.project_id = project;
        f->in.title = it->title;
        f->in.sev = sev;
        f->in.discovered_at = created;
        f->in.state = fs;
        f->in.closed_at = sla_finding_state_terminal(fs) ? when : 0;
        f->state_at = at;
    }
    return 0;
}
