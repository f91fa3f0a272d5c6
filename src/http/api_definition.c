/* api_definition.c: a tenant's SLA definition (the SOC seed's
 * SLADefinition, in its own field names and units) and the four templates.
 *
 * GET answers the effective definition: every field resolved through the
 * alert waterfall (project → tenant override → template → global →
 * built-in), with "sources" saying which level answered each field.
 * PUT takes a partial SLADefinitionRequest: each field given must be in the
 * seed's range (sla_definition_fields), and is written into the tenant's
 * override layer (or the project's, with &project_id=); fields not given
 * keep what they have; a field given as null drops the override, so it
 * inherits again (the template's value, else the global or built-in one).
 * The open alerts of the tenant are recalculated in the same transaction
 * (X-Recalculated-Count).  Beside the seed's fields, penalty_per_hour_cents
 * (the tenant's, or project's, rate override) and mtta_penalty_per_hour_cents
 * (the optional MTTA penalty) take {severity: cents}, 0 = inherit.
 * ?dry_run=true computes what the PUT would do and stores nothing. */
#include <stdio.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/dryrun.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_alerts.h"
#include "store/store_proof.h"

/* Where each definition field lives in an alert layer; unit 60 = hours. */
static const struct {
    enum sla_sev sev;
    enum sla_alert_field field;
    int unit_min;
} field_map[SLA_DEFINITION_NFIELDS] = {
    { SLA_SEV_CRITICAL, SLA_AF_ACK_MIN, 1 },     /* critical_mtta_minutes */
    { SLA_SEV_CRITICAL, SLA_AF_RESOLVE_MIN, 60 },/* critical_mttr_hours */
    { SLA_SEV_HIGH, SLA_AF_ACK_MIN, 1 },         /* high_mtta_minutes */
    { SLA_SEV_HIGH, SLA_AF_RESOLVE_MIN, 60 },    /* high_mttr_hours */
    { SLA_SEV_MEDIUM, SLA_AF_ACK_MIN, 60 },      /* medium_mtta_hours */
    { SLA_SEV_MEDIUM, SLA_AF_RESOLVE_MIN, 60 },  /* medium_mttr_hours */
    { SLA_SEV_LOW, SLA_AF_ACK_MIN, 60 },         /* low_mtta_hours */
    { SLA_SEV_LOW, SLA_AF_RESOLVE_MIN, 60 },     /* low_mttr_hours */
    { SLA_SEV_CRITICAL, SLA_AF_WARN_PCT, 1 },    /* notification_threshold_pct */
};

static const char *const sev_names[] = { "critical", "high", "medium", "low" };

void definition_of_layer_own(const struct sla_alert_layer *l, struct sla_definition *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        enum sla_sev sev = field_map[i].sev;
        int32_t v = field_map[i].field == SLA_AF_ACK_MIN ? l->ack_min[sev]
                  : field_map[i].field == SLA_AF_RESOLVE_MIN ? l->resolve_min[sev]
                  : l->warn_pct[sev];
        if (v <= 0)
            continue;
        if (field_map[i].unit_min == 60)
            v = v < 30 ? 1 : (v + 30) / 60;
        sla_definition_set(out, &sla_definition_fields[i], v);
    }
}

/* An effective layer as a definition.  The core's conversion when the
 * values fit the definition's ranges; otherwise (a global layer outside
 * them) each field on its own, rounded the same way, so GET still shows
 * what applies. */
static void layer_definition(const struct sla_alert_layer *l, struct sla_definition *d)
{
    if (sla_definition_from_layer(l, d) == 0)
        return;
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        enum sla_sev sev = field_map[i].sev;
        int32_t v = field_map[i].field == SLA_AF_ACK_MIN ? l->ack_min[sev]
                  : field_map[i].field == SLA_AF_RESOLVE_MIN ? l->resolve_min[sev]
                  : l->warn_pct[sev];
        if (field_map[i].unit_min == 60)
            v = v < 30 ? 1 : (v + 30) / 60;
        sla_definition_set(d, &sla_definition_fields[i], v);
    }
}

/* The definition as JSON, from the fields of d, in the seed's order. */
static void definition_fields(json_t *o, const struct sla_definition *d)
{
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++)
        json_object_set_new(o, sla_definition_fields[i].name,
                            json_integer(sla_definition_get(d, &sla_definition_fields[i])));
}

static json_t *effective_json(const char *tenant_id, const char *project_id,
                              const struct sw_alert_policy *p)
{
    struct sla_alert_scopes sc;
    struct sla_alert_layer eff;
    struct sla_definition d;
    sw_alert_policy_scopes(p, &sc);
    sla_alert_policy_effective(&sc, &eff);
    layer_definition(&eff, &d);

    json_t *o = json_object();
    json_object_set_new(o, "tenant_id", json_string(tenant_id));
    json_object_set_new(o, "project_id", project_id ? json_string(project_id) : json_null());
    definition_fields(o, &d);
    json_object_set_new(o, "template", p->template_name[0] ? json_string(p->template_name)
                                                            : json_null());
    json_t *src = json_object();
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        struct sla_explain e;
        if (sla_alert_policy_explain(&sc, field_map[i].sev, field_map[i].field, &e) == 0)
            json_object_set_new(src, sla_definition_fields[i].name,
                                json_string(sla_src_name(SLA_ALERT, e.source)));
    }
    json_object_set_new(o, "sources", src);
    /* not part of the seed's definition, but what a breach costs */
    json_t *pen = json_object();
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
        json_object_set_new(pen, sev_names[s - SLA_SEV_CRITICAL], json_integer(eff.penalty_cph[s]));
    json_object_set_new(o, "penalty_per_hour_cents", pen);
    json_t *mtta = json_object();       /* optional: 0 = acknowledging late costs nothing */
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
        json_object_set_new(mtta, sev_names[s - SLA_SEV_CRITICAL],
                            json_integer(eff.ack_penalty_cph[s]));
    json_object_set_new(o, "mtta_penalty_per_hour_cents", mtta);
    /* the calendar of each severity's clocks (null: around the clock), and
     * whose definition named it */
    json_t *cals = json_object(), *csrc = json_object();
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        const char *name = sev_names[sev - SLA_SEV_CRITICAL];
        json_object_set_new(cals, name, p->cal[sev][0] ? json_string(p->cal[sev]) : json_null());
        json_object_set_new(csrc, name, json_string(p->cal_project[sev][0] ? "project"
                                                    : p->cal_tenant[sev][0] ? "tenant"
                                                                            : "builtin"));
    }
    json_object_set_new(o, "calendars", cals);
    json_object_set_new(o, "calendar_sources", csrc);
    return o;
}

/* calendars: {"critical": null | "24x7" | "<calendar id>", ...}: each
 * severity given is set (null and "24x7": around the clock). */
static int parse_calendars(struct req *r, struct sw_alert_calendars *out)
{
    json_t *o = json_object_get(r->json, "calendars");
    memset(out, 0, sizeof(*out));
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o)) {
        http_error(r, 422, "invalid", "calendars", "calendars must be an object "
                   "{severity: calendar id or null}");
        return SW_E_INVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        enum sla_sev sev;
        char field[48];
        if (sla_sev_parse(SLA_ALERT, key, &sev) < 0) {
            http_error(r, 422, "invalid", "calendars", "calendars has the severities critical, "
                       "high, medium, low");
            return SW_E_INVAL;
        }
        snprintf(field, sizeof(field), "calendars.%s", key);
        if (!json_is_null(v) && (!json_is_string(v) || !http_id_valid(json_string_value(v)))) {
            http_error(r, 422, "invalid", field, "%s must be a calendar id or null", field);
            return SW_E_INVAL;
        }
        out->set[sev] = true;
        snprintf(out->id[sev], sizeof(out->id[sev]), "%s",
                 json_is_string(v) ? json_string_value(v) : "");
    }
    return 0;
}

/* ?project_id=: NULL when absent; 422 when malformed (answered). */
static int project_param(struct req *r, const char **out)
{
    const char *p = http_query(r, "project_id");
    *out = NULL;
    if (!p || !*p)
        return 0;
    if (!http_id_valid(p)) {
        http_error(r, 422, "invalid", "project_id", "project_id is not a valid id");
        return SW_E_INVAL;
    }
    *out = p;
    return 0;
}

static void answer_definition(struct req *r, int status, const char *project_id)
{
    struct sw_alert_policy p;
    int rc = store_alert_policy_get(r->srv->store, r->tenant_id, project_id, &p);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, project_id ? "tenant or project not found"
                                                         : "tenant not found");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "definition");
        return;
    }
    http_json(r, status, effective_json(r->tenant_id, project_id, &p));
}

void api_definition_get(struct req *r)
{
    const char *project_id;
    if (project_param(r, &project_id) < 0)
        return;
    answer_definition(r, 200, project_id);
}

/* {"critical": cents, ...}: each severity given sets that rate (0: back to
 * inheriting); absent or null keeps it.  The per-tenant (or per-project)
 * penalty rate override, and the optional MTTA penalty. */
static int parse_rates(struct req *r, const char *field, struct sw_rate_patch *out)
{
    json_t *o = json_object_get(r->json, field);
    memset(out, 0, sizeof(*out));
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o) || json_object_size(o) > 4) {
        http_error(r, 422, "invalid", field, "%s must be an object of severities "
                   "(critical, high, medium, low) to cents per started hour", field);
        return SW_E_INVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        enum sla_sev sev;
        if (sla_sev_parse(SLA_ALERT, key, &sev) < 0 ||
            (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0 ||
                                  json_integer_value(v) > SW_PENALTY_CPH_MAX))) {
            http_error(r, 422, "invalid", field, "%s.%s must be an integer number of cents "
                       "from 0 to %lld (0: inherit)", field, key, (long long)SW_PENALTY_CPH_MAX);
            return SW_E_INVAL;
        }
        if (json_is_integer(v)) {
            out->set[sev] = true;
            out->cph[sev] = json_integer_value(v);
        }
    }
    return 0;
}

/* The change a PUT (or its dry run) asks for; 0, or answered. */
static int definition_change(struct req *r, struct sla_definition *d,
                             struct sw_alert_calendars *cals, struct sw_definition_change *ch)
{
    const char *project_id;
    if (project_param(r, &project_id) < 0)
        return SW_E_INVAL;
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        const struct sla_field_range *f = &sla_definition_fields[i];
        int64_t v = 0;
        bool present;
        json_t *j = json_object_get(r->json, f->name);
        if (j && json_is_null(j)) {
            sla_definition_set(d, f, SW_DEFINITION_CLEAR);
            continue;
        }
        if (v_int(r, r->json, f->name, false, f->min, f->max, &v, &present) < 0)
            return SW_E_INVAL;
        if (present)
            sla_definition_set(d, f, (int32_t)v);
    }
    memset(ch, 0, sizeof(*ch));
    ch->tenant_id = r->tenant_id;
    ch->project_id = project_id;
    ch->d = d;
    if (parse_rates(r, "penalty_per_hour_cents", &ch->penalty) < 0 ||
        parse_rates(r, "mtta_penalty_per_hour_cents", &ch->ack_penalty) < 0 ||
        parse_calendars(r, cals) < 0)
        return SW_E_INVAL;
    ch->cals = cals;
    return 0;
}

void api_definition_put(struct req *r)
{
    struct sla_definition d;
    struct sw_alert_calendars cals;
    struct sw_definition_change ch;
    bool dry;
    if (q_dry_run(r, &dry) < 0 || definition_change(r, &d, &cals, &ch) < 0)
        return;
    struct sw_dry_run what;
    if (dry)
        ch.dry_run = &what;
    int bad_sev = -1;
    ch.bad_sev = &bad_sev;
    const char *project_id = ch.project_id;
    int64_t count = 0;
    int rc = store_alert_definition_apply(r->srv->store, &ch, r->now, r->who.actor, &count);
    if (rc == SW_E_INVAL && bad_sev >= 0) {
        char field[48];
        snprintf(field, sizeof(field), "calendars.%s", sla_sev_name((enum sla_sev)bad_sev));
        http_error(r, 422, "invalid", field, "%s: the tenant has no calendar \"%s\"", field,
                   cals.id[bad_sev]);
        return;
    }
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, project_id ? "tenant or project not found"
                                                         : "tenant not found");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "definition");
        return;
    }
    if (dry) {
        answer_dry_run(r, &what);
        return;
    }
    answer_definition(r, 200, project_id);
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)count);
    http_add_header(r, "X-Recalculated-Count", buf);
}

/* ---- templates ---------------------------------------------------------- */

static json_t *template_json(const struct sla_template *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "notes", json_string(t->notes));
    json_object_set_new(o, "critical_mtta_minutes", json_integer(t->ack_min[SLA_SEV_CRITICAL]));
    json_object_set_new(o, "critical_mttr_hours",
                        json_integer(t->resolve_min[SLA_SEV_CRITICAL] / 60));
    json_object_set_new(o, "penalty_per_hour", json_real(t->penalty_cph[SLA_SEV_CRITICAL] / 100.0));
    json_t *sevs = json_object();
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
        json_object_set_new(sevs, sev_names[s - SLA_SEV_CRITICAL],
                            json_pack("{s:i, s:i, s:I, s:f}", "mtta_minutes", t->ack_min[s],
                                      "mttr_minutes", t->resolve_min[s],
                                      "penalty_per_hour_cents", (json_int_t)t->penalty_cph[s],
                                      "penalty_per_hour", t->penalty_cph[s] / 100.0));
    json_object_set_new(o, "severities", sevs);
    json_object_set_new(o, "flags", json_pack("{s:b, s:b, s:b}",
                        "fedramp", (t->flags & SLA_TPL_FEDRAMP) != 0,
                        "data_sovereignty", (t->flags & SLA_TPL_DATA_SOVEREIGNTY) != 0,
                        "audit_logging", (t->flags & SLA_TPL_AUDIT_LOGGING) != 0));
    /* the template as an SLA definition (threshold inherits: the default) */
    struct sla_alert_layer l;
    struct sla_definition d;
    sla_template_layer(t, &l);
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
        l.warn_pct[s] = SLA_WARN_PCT_DEFAULT;
    layer_definition(&l, &d);
    json_t *def = json_object();
    definition_fields(def, &d);
    json_object_set_new(o, "definition", def);
    return o;
}

void api_templates_list(struct req *r)
{
    json_t *items = json_array();
    const struct sla_template *t;
    for (size_t i = 0; (t = sla_template_at(i)); i++)
        json_array_append_new(items, template_json(t));
    http_json(r, 200, json_pack("{s:o}", "items", items));
}
