/* api_policy.c: the findings' SLA policy at its three stored scopes
 * (global, company, project): read with the effective values and their
 * sources, replace, revert to inherited, and recalculate on demand.
 *
 * A scope is named by the route's path parameters: none = global,
 * {tenant_id} = a company, {tenant_id}+{project_id} = a project.  Saving or
 * deleting a company or project policy recalculates its live findings in
 * the same transaction (store_findings.h has the count semantics); the
 * global level does not, its companies follow through /recalculate.
 *
 * Each write and each recalculation is recorded once in the audit log
 * (action sla_policy.update | sla_policy.delete | sla_policy.recalculate,
 * before/after the scope's own fields, and the recalculated count).  The
 * findings it moved get no event of their own: a policy change is one
 * action, not a million finding events, and each finding's deadline can be
 * re-derived from its group's targets and this record.  PUT ?dry_run=true
 * answers what the save would do (dryrun.h) and stores, notifies and
 * audits nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/audit.h"
#include "http/dryrun.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "http/users.h"
#include "store/store_calendars.h"
#include "store/store_findings.h"
#include "store/store_proof.h"
#include "util/xalloc.h"

struct scope {
    const char *tenant;         /* "" = global */
    const char *project;        /* "" = none */
    enum sw_policy_level level;
};

static int get_scope(struct req *r, struct scope *sc)
{
    const char *t = http_param(r, "tenant_id");
    const char *p = http_param(r, "project_id");
    if (p && !http_id_valid(p)) {
        http_error(r, 404, "not_found", NULL, "project not found");
        return SW_E_NOTFOUND;
    }
    sc->tenant = t ? t : "";
    sc->project = p ? p : "";
    sc->level = p ? SW_POL_PROJECT : t ? SW_POL_COMPANY : SW_POL_GLOBAL;
    return 0;
}

static const char *const level_name[SW_POL_COUNT] = {"project", "company", "global"};

static void hours_key(enum sla_sev s, char *buf, size_t len)
{
    snprintf(buf, len, "%s_hours", sla_sev_name(s));
}

static json_t *contacts_json(const struct sw_contact *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:i}", "level", c[i].level, "user",
                                           c[i].user, "days_after_breach",
                                           c[i].days_after_breach));
    return a;
}

static void core_contacts(const struct sw_policy_chain *ch, int l, struct sla_contacts *out)
{
    memset(out, 0, sizeof(*out));
    if (!ch->has[l])
        return;
    const struct sw_finding_policy *p = &ch->level[l];
    for (size_t i = 0; i < p->ncontacts && i < SLA_CONTACTS_MAX; i++)
        out->item[out->n++] = (struct sla_contact){.level = p->contacts[i].level,
                                                   .user = p->contacts[i].user,
                                                   .days_after_breach =
                                                       p->contacts[i].days_after_breach};
}

/* The GET/PUT shape: the scope's own stored fields (null when not set)
 * and what applies there, with where each value comes from. */
static json_t *policy_json(const struct sw_policy_chain *ch, const struct scope *sc)
{
    const struct sw_finding_policy *own = &ch->level[sc->level];
    bool has = ch->has[sc->level];
    char key[32];
    json_t *o = json_object();

    json_object_set_new(o, "scope", json_string(level_name[sc->level]));
    json_object_set_new(o, "tenant_id", *sc->tenant ? json_string(sc->tenant) : json_null());
    json_object_set_new(o, "project_id", *sc->project ? json_string(sc->project) : json_null());
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        hours_key((enum sla_sev)s, key, sizeof(key));
        json_object_set_new(o, key, has && own->hours_set[s] ? json_integer(own->hours[s])
                                                             : json_null());
    }
    json_object_set_new(o, "escalation_contacts",
                        has && own->ncontacts ? contacts_json(own->contacts, own->ncontacts)
                                              : json_null());
    json_t *cals = json_object();
    for (int s = 0; s < SLA_SEV_COUNT; s++)
        json_object_set_new(cals, sla_sev_name((enum sla_sev)s),
                            own->calendars[s][0] ? json_string(own->calendars[s]) : json_null());
    json_object_set_new(o, "calendars", cals);
    json_object_set_new(o, "updated_at", has ? json_time(own->updated_at) : json_null());
    json_object_set_new(o, "updated_by", has ? json_string(own->updated_by) : json_null());

    struct sla_finding_layer layers[SW_POL_COUNT];
    struct sla_finding_scopes scopes;
    sw_policy_chain_scopes(ch, layers, &scopes);
    json_t *eff = json_object();
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        struct sla_explain e;
        hours_key((enum sla_sev)s, key, sizeof(key));
        if (sla_finding_policy_explain(&scopes, (enum sla_sev)s, &e) < 0)
            continue;
        json_object_set_new(eff, key, json_pack("{s:I, s:s, s:b}", "value", (json_int_t)e.value,
                                                "source", sla_src_name(SLA_FINDING, e.source),
                                                "safety_net", e.safety_net));
    }
    struct sla_contacts cp, cc, cg;
    enum sla_src src;
    core_contacts(ch, SW_POL_PROJECT, &cp);
    core_contacts(ch, SW_POL_COMPANY, &cc);
    core_contacts(ch, SW_POL_GLOBAL, &cg);
    const struct sla_contacts *win = sla_contacts_inherit(&cp, &cc, &cg, &src);
    json_t *items = json_array();
    for (size_t i = 0; win && i < win->n; i++)
        json_array_append_new(items, json_pack("{s:i, s:s, s:i}", "level", win->item[i].level,
                                               "user", win->item[i].user, "days_after_breach",
                                               win->item[i].days_after_breach));
    json_object_set_new(eff, "escalation_contacts",
                        json_pack("{s:o, s:o}", "source",
                                  win ? json_string(sla_src_name(SLA_FINDING, src)) : json_null(),
                                  "items", items));
    /* the calendar of each severity and the level that chose it */
    json_t *ecal = json_object();
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        const char *id = NULL, *from = "builtin";
        for (int l = sc->level; l < SW_POL_COUNT && !id; l++)
            if (ch->level[l].calendars[s][0]) {
                id = ch->level[l].calendars[s];
                from = level_name[l];
            }
        json_object_set_new(ecal, sla_sev_name((enum sla_sev)s),
                            json_pack("{s:o, s:s}", "value",
                                      id && strcmp(id, SW_CAL_24X7) ? json_string(id)
                                                                    : json_null(),
                                      "source", from));
    }
    json_object_set_new(eff, "calendars", ecal);
    json_object_set_new(o, "effective", eff);
    return o;
}

/* calendars: {severity: null | "24x7" | calendar id}; absent severities are
 * null (inherit), like absent hours.  A company or project names its
 * tenant's calendars; the global level only "24x7" (calendars belong to a
 * tenant). */
static int parse_calendars(struct req *r, const struct scope *sc, struct sw_finding_policy *p)
{
    json_t *o = json_object_get(r->json, "calendars");
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o)) {
        http_error(r, 422, "invalid", "calendars", "calendars must be an object {severity: "
                   "calendar id, \"24x7\" or null}");
        return SW_E_INVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        enum sla_sev sev;
        char field[48];
        if (sla_sev_parse(SLA_FINDING, key, &sev) < 0) {
            http_error(r, 422, "invalid", "calendars", "calendars has the severities urgent, "
                       "critical, high, medium, low");
            return SW_E_INVAL;
        }
        snprintf(field, sizeof(field), "calendars.%s", key);
        if (json_is_null(v))
            continue;
        const char *id = json_string_value(v);
        if (!id || !http_id_valid(id)) {
            http_error(r, 422, "invalid", field, "%s must be a calendar id, \"24x7\" or null",
                       field);
            return SW_E_INVAL;
        }
        if (strcmp(id, SW_CAL_24X7)) {
            struct sw_calendar *c = xmalloc(sizeof(*c));
            int rc = *sc->tenant ? store_calendar_get(r->srv->store, sc->tenant, id, c)
                                 : SW_E_NOTFOUND;
            free(c);
            if (rc == SW_E_NOTFOUND) {
                http_error(r, 422, "invalid", field, *sc->tenant
                           ? "%s: the tenant has no calendar \"%s\""
                           : "%s: the global level names no calendar (\"%s\"): calendars "
                             "belong to a tenant; \"24x7\" or null", field, id);
                return SW_E_INVAL;
            }
            if (rc < 0) {
                http_fail(r, rc, "calendar");
                return rc;
            }
        }
        snprintf(p->calendars[sev], sizeof(p->calendars[sev]), "%s", id);
    }
    return 0;
}

/* The scope's own stored fields (no effective values): what the audit
 * log keeps before and after a change.  NULL when the scope is unknown. */
static json_t *own_json(struct req *r, const struct scope *sc)
{
    struct sw_policy_chain *ch = xmalloc(sizeof(*ch));
    json_t *o = NULL;
    if (store_finding_policy_chain(r->srv->store, sc->tenant, sc->project, ch) == 0) {
        o = policy_json(ch, sc);
        json_object_del(o, "effective");
    }
    free(ch);
    return o;
}

/* Answers the scope's policy; *own (optional) gets its own fields. */
static void reply_policy(struct req *r, const struct scope *sc, int status, json_t **own)
{
    struct sw_policy_chain *ch = xmalloc(sizeof(*ch));
    int rc = store_finding_policy_chain(r->srv->store, sc->tenant, sc->project, ch);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "%s not found", *sc->project ? "project" : "tenant");
    } else if (rc < 0) {
        http_fail(r, rc, "policy");
    } else {
        json_t *o = policy_json(ch, sc);
        if (own) {
            *own = json_deep_copy(o);
            json_object_del(*own, "effective");
        }
        http_json(r, status, o);
    }
    free(ch);
}

/* One audit row per policy write or recalculation, after its commit. */
static void audit_policy(struct req *r, const struct scope *sc, const char *action,
                         json_t *before, json_t *after, int64_t count)
{
    char target[2 * SW_ID_MAX + 16];
    if (!*sc->tenant)
        snprintf(target, sizeof(target), "policy:global");
    else if (!*sc->project)
        snprintf(target, sizeof(target), "policy:%s", sc->tenant);
    else
        snprintf(target, sizeof(target), "policy:%s/%s", sc->tenant, sc->project);
    if (!after)
        after = json_object();
    json_object_set_new(after, "recalculated_count", json_integer(count));
    audit_record(r, sc->tenant, action, target, before, after);
    json_decref(before);
    json_decref(after);
}

static void count_header(struct req *r, int64_t n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)n);
    http_add_header(r, "X-Recalculated-Count", buf);
}

void api_policy_get(struct req *r)
{
    struct scope sc;
    if (get_scope(r, &sc) == 0)
        reply_policy(r, &sc, 200, NULL);
}

/* escalation_contacts: null/absent = none; else up to three objects
 * {level 1..3, user, days_after_breach 0..3650}, each level once. */
static int parse_contacts(struct req *r, struct sw_finding_policy *p)
{
    static const char F[] = "escalation_contacts";
    json_t *a = json_object_get(r->json, F);
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a)) {
        http_error(r, 422, "invalid", F, "%s must be an array", F);
        return SW_E_INVAL;
    }
    if (json_array_size(a) > SLA_CONTACTS_MAX) {
        http_error(r, 422, "invalid", F, "%s has at most %d contacts", F, SLA_CONTACTS_MAX);
        return SW_E_INVAL;
    }
    struct sla_contact cc[SLA_CONTACTS_MAX];
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it) {
        json_t *lv = json_object_get(it, "level");
        json_t *us = json_object_get(it, "user");
        json_t *dy = json_object_get(it, "days_after_breach");
        if (!json_is_object(it)) {
            http_error(r, 422, "invalid", F, "%s[%zu] must be an object", F, i);
            return SW_E_INVAL;
        }
        if (!json_is_integer(lv) || json_integer_value(lv) < 1 ||
            json_integer_value(lv) > SLA_CONTACTS_MAX) {
            http_error(r, 422, "invalid", F, "%s[%zu].level must be 1, 2 or 3", F, i);
            return SW_E_INVAL;
        }
        if (!json_is_string(us) || json_string_length(us) == 0 ||
            json_string_length(us) > SW_NAME_MAX ||
            strlen(json_string_value(us)) != json_string_length(us)) {
            http_error(r, 422, "invalid", F, "%s[%zu].user must be a non-empty string of "
                       "at most %d bytes", F, i, SW_NAME_MAX);
            return SW_E_INVAL;
        }
        struct v_err e;
        if (v_check_text_value(json_string_value(us), json_string_length(us), F, 1,
                               SW_NAME_MAX, &e) < 0) {
            snprintf(e.msg, sizeof(e.msg), "%s[%zu].user must not contain control "
                     "characters (CR, LF, TAB ...)", F, i);
            v_answer(r, &e);
            return SW_E_INVAL;
        }
        if (dy && !json_is_null(dy) &&
            (!json_is_integer(dy) || json_integer_value(dy) < 0 ||
             json_integer_value(dy) > SLA_CONTACT_DAYS_MAX)) {
            http_error(r, 422, "invalid", F, "%s[%zu].days_after_breach must be an integer "
                       "from 0 to %d", F, i, SLA_CONTACT_DAYS_MAX);
            return SW_E_INVAL;
        }
        struct sw_contact *c = &p->contacts[i];
        c->level = (int)json_integer_value(lv);
        snprintf(c->user, sizeof(c->user), "%s", json_string_value(us));
        c->days_after_breach = json_is_integer(dy) ? (int)json_integer_value(dy) : 0;
        cc[i] = (struct sla_contact){.level = c->level, .user = c->user,
                                     .days_after_breach = c->days_after_breach};
    }
    size_t bad = 0;
    if (sla_contacts_validate(cc, json_array_size(a), &bad) < 0) {
        http_error(r, 422, "invalid", F, "%s[%zu]: each level may appear only once", F, bad);
        return SW_E_INVAL;
    }
    /* each a user of this tenant (global ladder: any user; at engagement
     * only one with a role in the finding's tenant is told) */
    json_array_foreach(a, i, it) {
        char fname[64];
        snprintf(fname, sizeof(fname), "%s[%zu].user", F, i);
        if (people_check_user(r, p->contacts[i].user, p->tenant_id, fname) < 0)
            return SW_E_INVAL;
    }
    p->ncontacts = json_array_size(a);
    /* stored and shown by level */
    for (size_t x = 1; x < p->ncontacts; x++)
        for (size_t y = x; y > 0 && p->contacts[y - 1].level > p->contacts[y].level; y--) {
            struct sw_contact t = p->contacts[y];
            p->contacts[y] = p->contacts[y - 1];
            p->contacts[y - 1] = t;
        }
    return 0;
}

/* A key PUT does not know answers 422 naming it: a PUT replaces the
 * scope's policy, so a misspelt "hgih_hours" would otherwise store an
 * override without high_hours and silently wipe it.  Keys of the GET
 * answer (read-only) may come back unchanged and are ignored. */
static int check_keys(struct req *r)
{
    static const char *const writable[] = {"urgent_hours", "critical_hours", "high_hours",
                                           "medium_hours", "low_hours", "escalation_contacts",
                                           "calendars"};
    static const char *const read_only[] = {"scope", "tenant_id", "project_id", "updated_at",
                                            "updated_by", "effective"};
    const char *key;
    json_t *v;
    json_object_foreach(r->json, key, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]) && !known; i++)
            known = !strcmp(key, writable[i]);
        for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]) && !known; i++)
            known = !strcmp(key, read_only[i]);
        if (!known) {
            char field[72];
            snprintf(field, sizeof(field), "%.64s", key);
            http_error(r, 422, "invalid", field,
                       "%s is not a policy field (urgent_hours, critical_hours, high_hours, "
                       "medium_hours, low_hours, escalation_contacts, calendars)", field);
            return SW_E_INVAL;
        }
    }
    return 0;
}

static void write_fail(struct req *r, const struct scope *sc, int rc)
{
    if (rc == SW_E_NOTFOUND)
        http_error(r, 404, "not_found", NULL, "%s not found", *sc->project ? "project" : "tenant");
    else if (rc == SW_E_INVAL)      /* a calendar deleted a moment ago */
        http_error(r, 422, "invalid", "calendars", "calendars: a calendar named is not the "
                   "tenant's");
    else
        http_fail(r, rc, "policy");
}

void api_policy_put(struct req *r)
{
    struct scope sc;
    if (get_scope(r, &sc) < 0)
        return;
    if (check_keys(r) < 0)
        return;
    struct sw_finding_policy *p = xcalloc(1, sizeof(*p));
    snprintf(p->tenant_id, sizeof(p->tenant_id), "%s", sc.tenant);
    snprintf(p->project_id, sizeof(p->project_id), "%s", sc.project);
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        char key[32];
        int64_t v = 0;
        bool present;
        hours_key((enum sla_sev)s, key, sizeof(key));
        if (v_int(r, r->json, key, false, 0, SLA_TARGET_MAX_HOURS, &v, &present) < 0)
            goto out;
        p->hours_set[s] = present;
        p->hours[s] = (int32_t)v;
    }
    if (parse_contacts(r, p) < 0 || parse_calendars(r, &sc, p) < 0)
        goto out;
    bool dry;
    if (q_dry_run(r, &dry) < 0)
        goto out;
    if (dry) {
        struct sw_dry_run what;
        int rc = store_finding_policy_dry_run(r->srv->store, p, r->now, &what);
        if (rc < 0)
            write_fail(r, &sc, rc);
        else
            answer_dry_run(r, &what);
        goto out;
    }
    int64_t n = 0;
    json_t *before = own_json(r, &sc), *after = NULL;
    int rc = store_finding_policy_put(r->srv->store, p, r->now, r->who.actor, &n);
    if (rc < 0) {
        json_decref(before);
        write_fail(r, &sc, rc);
        goto out;
    }
    reply_policy(r, &sc, 200, &after);
    count_header(r, n);
    audit_policy(r, &sc, "sla_policy.update", before, after, n);
out:
    free(p);
}

void api_policy_delete(struct req *r)
{
    struct scope sc;
    if (get_scope(r, &sc) < 0)
        return;
    int64_t n = 0;
    json_t *before = own_json(r, &sc);
    int rc = store_finding_policy_delete(r->srv->store, sc.tenant, sc.project, r->now,
                                         r->who.actor, &n);
    if (rc < 0) {
        json_decref(before);
        write_fail(r, &sc, rc);
        return;
    }
    http_no_content(r);
    count_header(r, n);
    audit_policy(r, &sc, "sla_policy.delete", before, NULL, n);
}

void api_policy_recalculate(struct req *r)
{
    struct scope sc;
    if (get_scope(r, &sc) < 0)
        return;
    int64_t n = 0;
    int rc = store_finding_recalculate(r->srv->store, sc.tenant, sc.project, r->now,
                                       r->who.actor, &n);
    if (rc < 0) {
        write_fail(r, &sc, rc);
        return;
    }
    http_json(r, 200, json_pack("{s:I}", "updated_count", (json_int_t)n));
    audit_policy(r, &sc, "sla_policy.recalculate", NULL, NULL, n);
}
