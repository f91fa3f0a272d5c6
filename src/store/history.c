/* history.c: policy history (issue 17): every version of every policy
 * scope, with who, when, and the scope before and after, and the scopes as
 * they stood at an instant (explain?at=).
 *
 * A writer of a scope calls, inside its transaction and after its change,
 *
 *     store_history_record_in(c, SW_HISTORY_FINDING_POLICY, tenant, project,
 *                             now, actor, "update");
 *
 * which snapshots the scope as JSON (NULL: nothing set there) and, when it
 * differs from the latest version's, appends the next version with the
 * latest as its "before": the version commits with the change or not at
 * all, and a save that changes nothing makes none.  The latest version is
 * read after the change, so under the scope's row lock: two nodes changing
 * one scope are serialized by that lock and the second's "before" is the
 * first's "after".  Versions are numbered 1, 2, ... per scope by INSERT ...
 * SELECT max + 1; should two writers ever race for a number (a scope with
 * no row to lock), the loser's transaction runs again (retry).
 *
 * The snapshot of a kind is built here from the subject's own loader
 * (findings_chain_in, alert_policy_load_in, esc_chain_load_in), so the
 * columns stay known in one place.  A new kind (calendars) adds a case to
 * snapshot_in and the call in its writers (put, delete). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/findings_int.h"
#include "store/proof_int.h"
#include "util/xalloc.h"

static const char SQL_VERSION_ADD[] =
    "INSERT INTO policy_versions (kind, tenant_id, scope, version, changed_at, changed_by, "
    "action, before, after) "
    "SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), COALESCE(max(version), 0) + 1, "
    "CAST(?4 AS {BIGINT}), CAST(?5 AS TEXT), CAST(?6 AS TEXT), CAST(?7 AS TEXT), "
    "CAST(?8 AS TEXT) FROM policy_versions WHERE kind = ?1 AND tenant_id = ?2 AND scope = ?3 "
    "ON CONFLICT (kind, tenant_id, scope, version) DO NOTHING RETURNING version";

#define VERSION_COLS "kind, tenant_id, scope, version, changed_at, changed_by, action, before, after"
static const char SQL_LIST_SCOPE[] =
    "SELECT " VERSION_COLS " FROM policy_versions WHERE kind = ?1 AND tenant_id = ?2 "
    "AND scope = ?3 AND version < ?4 ORDER BY version DESC LIMIT ?5";
/* every scope of a kind and tenant (the escalation chains of all severities) */
static const char SQL_LIST_ALL[] =
    "SELECT " VERSION_COLS " FROM policy_versions WHERE kind = ?1 AND tenant_id = ?2 "
    "ORDER BY changed_at DESC, scope, version DESC LIMIT ?3";
/* the version in force at ?4, and the first one (whose before held until it) */
static const char SQL_AT[] =
    "SELECT version, after FROM policy_versions WHERE kind = ?1 AND tenant_id = ?2 "
    "AND scope = ?3 AND changed_at <= ?4 ORDER BY version DESC LIMIT 1";
static const char SQL_FIRST[] =
    "SELECT version, before FROM policy_versions WHERE kind = ?1 AND tenant_id = ?2 "
    "AND scope = ?3 ORDER BY version LIMIT 1";

/* ---- snapshots ------------------------------------------------------------- */

char *history_dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static json_t *finding_policy_json(const struct sw_finding_policy *p)
{
    json_t *o = json_object();
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        char key[32];
        snprintf(key, sizeof(key), "%s_hours", sla_sev_name((enum sla_sev)s));
        json_object_set_new(o, key, p->hours_set[s] ? json_integer(p->hours[s]) : json_null());
    }
    json_t *a = json_array();
    for (size_t i = 0; i < p->ncontacts; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:i}", "level", p->contacts[i].level,
                                           "user", p->contacts[i].user, "days_after_breach",
                                           p->contacts[i].days_after_breach));
    json_object_set_new(o, "escalation_contacts", p->ncontacts ? a : (json_decref(a), json_null()));
    /* only when one is named: scopes without calendars snapshot as before */
    json_t *cals = json_object();
    for (int s = 0; s < SLA_SEV_COUNT; s++)
        if (p->calendars[s][0])
            json_object_set_new(cals, sla_sev_name((enum sla_sev)s), json_string(p->calendars[s]));
    if (json_object_size(cals))
        json_object_set_new(o, "calendars", cals);
    else
        json_decref(cals);
    return o;
}

static int snap_finding_policy(struct db_conn *c, const char *tenant, const char *project,
                               char **out)
{
    struct sw_policy_chain *ch = xmalloc(sizeof(*ch));
    int rc = findings_chain_in(c, tenant, project, false, ch);
    int l = *project ? SW_POL_PROJECT : *tenant ? SW_POL_COMPANY : SW_POL_GLOBAL;
    if (rc == 0 && ch->has[l])
        *out = history_dump(finding_policy_json(&ch->level[l]));
    free(ch);
    return rc;
}

static const char SQL_CALENDAR_SNAP[] =
    "SELECT name, timezone, hours, holidays FROM calendars WHERE tenant_id = ?1 AND id = ?2";

/* A calendar as saved (hours and holidays as stored: the API's shape). */
static int snap_calendar(struct db_conn *c, const char *tenant, const char *id, char **out)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CALENDAR_SNAP, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant);
    db_bind_text(st, 2, id);
    if ((rc = db_step_one(st)) <= 0)
        return rc;      /* deleted: nothing */
    json_t *hours = json_loads(db_col_text(st, 2), 0, NULL);
    json_t *hol = json_loads(db_col_text(st, 3), 0, NULL);
    *out = history_dump(json_pack("{s:s, s:s, s:o, s:o}", "name", db_col_text(st, 0),
                                  "timezone", db_col_text(st, 1),
                                  "hours", hours ? hours : json_null(),
                                  "holidays", hol ? hol : json_null()));
    db_reset(st);
    return 0;
}

static int snapshot_in(struct db_conn *c, const char *kind, const char *tenant,
                       const char *scope, char **out)
{
    *out = NULL;
    if (!strcmp(kind, SW_HISTORY_FINDING_POLICY))
        return snap_finding_policy(c, tenant, scope, out);
    if (!strcmp(kind, SW_HISTORY_DEFINITION))
        return history_snap_definition_in(c, tenant, scope, out);
    if (!strcmp(kind, SW_HISTORY_ESCALATION))
        return history_snap_escalation_in(c, tenant, scope, out);
    if (!strcmp(kind, SW_HISTORY_CALENDAR))
        return snap_calendar(c, tenant, scope, out);
    return SW_E_INVAL;
}

/* ---- recording ----------------------------------------------------------------- */

static int version_add(struct db_conn *c, const char *kind, const char *tenant,
                       const char *scope, int64_t at, const char *actor, const char *action,
                       const char *before, const char *after)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_VERSION_ADD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, tenant);
    db_bind_text(st, 3, scope);
    db_bind_int64(st, 4, at);
    db_bind_text(st, 5, actor ? actor : "");
    db_bind_text(st, 6, action);
    db_bind_text(st, 7, before);
    db_bind_text(st, 8, after);
    if ((rc = db_step_one(st)) < 0)
        return rc;
    if (rc == 0)
        return SW_E_RETRY;          /* another writer took the number: run again */
    db_reset(st);
    return 0;
}

static const char SQL_LATEST[] =
    "SELECT after FROM policy_versions WHERE kind = ?1 AND tenant_id = ?2 AND scope = ?3 "
    "ORDER BY version DESC LIMIT 1";

int store_history_record_in(struct db_conn *c, const char *kind, const char *tenant_id,
                            const char *scope, int64_t at, const char *actor,
                            const char *action)
{
    char *after = NULL, *before = NULL;
    int rc = snapshot_in(c, kind, tenant_id, scope, &after);
    struct db_stmt *st;
    if (rc == 0 && (rc = db_prep(c, SQL_LATEST, &st)) == 0) {
        db_bind_text(st, 1, kind);
        db_bind_text(st, 2, tenant_id);
        db_bind_text(st, 3, scope);
        if ((rc = db_step_one(st)) == 1) {
            before = db_col_null(st, 0) ? NULL : xstrdup(db_col_text(st, 0));
            db_reset(st);
            rc = 0;
        }
    }
    bool same = (!before && !after) || (before && after && !strcmp(before, after));
    if (rc == 0 && !same)
        rc = version_add(c, kind, tenant_id, scope, at, actor, action, before, after);
    free(before);
    free(after);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

static void version_read(struct db_stmt *st, struct sw_policy_version *v)
{
    memset(v, 0, sizeof(*v));
    db_col_copy(st, 0, v->kind, sizeof(v->kind));
    db_col_copy(st, 1, v->tenant_id, sizeof(v->tenant_id));
    db_col_copy(st, 2, v->scope, sizeof(v->scope));
    v->version = db_col_int64(st, 3);
    v->changed_at = db_col_int64(st, 4);
    db_col_copy(st, 5, v->changed_by, sizeof(v->changed_by));
    db_col_copy(st, 6, v->action, sizeof(v->action));
    v->before = db_col_null(st, 7) ? NULL : db_col_text(st, 7);
    v->after = db_col_null(st, 8) ? NULL : db_col_text(st, 8);
}

int proof_history_list(struct store *base, const char *kind, const char *tenant_id,
                        const char *scope, int64_t before_version, int limit,
                        store_history_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, scope ? SQL_LIST_SCOPE : SQL_LIST_ALL, &st);
    if (rc == 0) {
        db_bind_text(st, 1, kind);
        db_bind_text(st, 2, tenant_id);
        if (scope) {
            db_bind_text(st, 3, scope);
            db_bind_int64(st, 4, before_version > 0 ? before_version : INT64_MAX);
            db_bind_int64(st, 5, limit);
        } else {
            db_bind_int64(st, 3, limit);
        }
        struct sw_policy_version v;
        while ((rc = db_step(st)) == DB_ROW) {
            version_read(st, &v);
            if (cb(&v, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

/* The scope's JSON at instant at: the latest version changed by then, or
 * else the state before its first version (the scope never changed: as it
 * is now).  *version = the version in force, 0 before the first one. */
static int scope_at_in(struct db_conn *c, const char *kind, const char *tenant,
                       const char *scope, int64_t at, char **json, int64_t *version)
{
    struct db_stmt *st;
    *json = NULL;
    *version = 0;
    int rc = db_prep(c, SQL_AT, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, tenant);
    db_bind_text(st, 3, scope);
    db_bind_int64(st, 4, at);
    if ((rc = db_step_one(st)) < 0)
        return rc;
    if (rc == 1) {
        *version = db_col_int64(st, 0);
        *json = db_col_null(st, 1) ? NULL : xstrdup(db_col_text(st, 1));
        db_reset(st);
        return 0;
    }
    if ((rc = db_prep(c, SQL_FIRST, &st)) < 0)
        return rc;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, tenant);
    db_bind_text(st, 3, scope);
    if ((rc = db_step_one(st)) < 0)
        return rc;
    if (rc == 1) {
        *json = db_col_null(st, 1) ? NULL : xstrdup(db_col_text(st, 1));
        db_reset(st);
        return 0;
    }
    return snapshot_in(c, kind, tenant, scope, json);
}

/* A finding_policy snapshot back into the struct (the shape written above). */
static int finding_policy_parse(const char *text, struct sw_finding_policy *p)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return SW_E_STORE;
    }
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        char key[32];
        snprintf(key, sizeof(key), "%s_hours", sla_sev_name((enum sla_sev)s));
        json_t *v = json_object_get(o, key);
        p->hours_set[s] = json_is_integer(v);
        p->hours[s] = json_is_integer(v) ? (int32_t)json_integer_value(v) : 0;
    }
    json_t *a = json_object_get(o, "escalation_contacts");
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it) {
        if (p->ncontacts >= SLA_CONTACTS_MAX)
            break;
        struct sw_contact *ct = &p->contacts[p->ncontacts++];
        ct->level = (int)json_integer_value(json_object_get(it, "level"));
        snprintf(ct->user, sizeof(ct->user), "%s",
                 json_string_value(json_object_get(it, "user")) ?: "");
        ct->days_after_breach = (int)json_integer_value(json_object_get(it,
                                                                        "days_after_breach"));
    }
    json_t *cals = json_object_get(o, "calendars");
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        const char *v = json_string_value(json_object_get(cals, sla_sev_name((enum sla_sev)s)));
        snprintf(p->calendars[s], sizeof(p->calendars[s]), "%s", v ? v : "");
    }
    json_decref(o);
    return 0;
}

struct chain_at_ctx {
    const char *tenant, *project;
    int64_t at;
    struct sw_policy_chain *out;
    int64_t *versions;
};

static int chain_at_tx(struct db_conn *c, void *ud)
{
    struct chain_at_ctx *x = ud;
    int rc = findings_scope_exists_in(c, x->tenant, x->project);
    if (rc < 0)
        return rc;
    memset(x->out, 0, sizeof(*x->out));
    const char *tenant[SW_POL_COUNT] = {x->tenant, x->tenant, ""};
    const char *scope[SW_POL_COUNT] = {x->project, "", ""};
    for (int l = 0; l < SW_POL_COUNT && rc == 0; l++) {
        x->versions[l] = 0;
        if ((l == SW_POL_PROJECT && !*x->project) || (l != SW_POL_GLOBAL && !*x->tenant))
            continue;
        char *json = NULL;
        rc = scope_at_in(c, SW_HISTORY_FINDING_POLICY, tenant[l], scope[l], x->at, &json,
                         &x->versions[l]);
        if (rc == 0 && json) {
            struct sw_finding_policy *p = &x->out->level[l];
            snprintf(p->tenant_id, sizeof(p->tenant_id), "%s", tenant[l]);
            snprintf(p->project_id, sizeof(p->project_id), "%s", scope[l]);
            rc = finding_policy_parse(json, p);
            x->out->has[l] = rc == 0;
        }
        free(json);
    }
    return rc;
}

int proof_finding_chain_at(struct store *base, const char *tenant_id, const char *project_id,
                            int64_t at, struct sw_policy_chain *out,
                            int64_t versions[3])
{
    struct chain_at_ctx x = {tenant_id, project_id, at, out, versions};
    return findings_read(sql_of(base), chain_at_tx, &x);
}

/* ---- the scopes set before the history (migration 0051) -------------------------- */

static const char SQL_BASE_FINDING[] =
    "SELECT tenant_id, project_id, updated_at, updated_by FROM finding_policies "
    "ORDER BY tenant_id, project_id";
static const char SQL_BASE_LAYERS[] =
    "SELECT tenant_id, project_id, max(updated_at) FROM alert_policy_layers "
    "WHERE tenant_id <> '' GROUP BY tenant_id, project_id ORDER BY tenant_id, project_id";
static const char SQL_BASE_TEMPLATES[] =
    "SELECT id, created_at FROM tenants WHERE template IS NOT NULL AND id NOT IN "
    "(SELECT tenant_id FROM alert_policy_layers WHERE project_id = '') ORDER BY id";
static const char SQL_BASE_CHAINS[] =
    "SELECT tenant_id, severity, updated_at, updated_by FROM escalation_chains "
    "ORDER BY tenant_id, severity";

struct base_row {
    char tenant[SW_ID_MAX + 1], scope[SW_ID_MAX + 1], by[SW_NAME_MAX + 32];
    int64_t at;
};

/* The rows of sql first (the driver may buffer them), then their versions. */
static int baseline(struct db_conn *c, const char *sql, const char *kind, int ncols)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    struct base_row *rows = NULL;
    size_t n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        rows = xrealloc(rows, (n + 1) * sizeof(*rows));
        struct base_row *r = &rows[n++];
        memset(r, 0, sizeof(*r));
        db_col_copy(st, 0, r->tenant, sizeof(r->tenant));
        if (ncols == 2) {               /* templates: (tenant, at) */
            r->at = db_col_int64(st, 1);
        } else {
            db_col_copy(st, 1, r->scope, sizeof(r->scope));
            r->at = db_col_int64(st, 2);
            if (ncols == 4)
                db_col_copy(st, 3, r->by, sizeof(r->by));
        }
    }
    db_reset(st);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        char *after = NULL;
        rc = snapshot_in(c, kind, rows[i].tenant, rows[i].scope, &after);
        if (rc >= 0 && after)
            rc = version_add(c, kind, rows[i].tenant, rows[i].scope, rows[i].at, rows[i].by,
                             "baseline", NULL, after);
        free(after);
    }
    free(rows);
    return rc < 0 ? rc : 0;
}

int store_history_adopt_in(struct db_conn *c)
{
    int rc = baseline(c, SQL_BASE_FINDING, SW_HISTORY_FINDING_POLICY, 4);
    if (rc == 0)
        rc = baseline(c, SQL_BASE_LAYERS, SW_HISTORY_DEFINITION, 3);
    if (rc == 0)
        rc = baseline(c, SQL_BASE_TEMPLATES, SW_HISTORY_DEFINITION, 2);
    if (rc == 0)
        rc = baseline(c, SQL_BASE_CHAINS, SW_HISTORY_ESCALATION, 4);
    return rc;
}

