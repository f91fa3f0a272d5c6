/* api_people.c: the people escalations reach.
 *
 *   GET /api/v1/users/{user_id}/contact      a user's contact points
 *   PUT /api/v1/users/{user_id}/contact      set them (the user, or an admin
 *                                            of one of the user's tenants)
 *   GET /api/v1/tenants/{tenant_id}/people   the tenant's users with their
 *                                            contact points, for whoever sets
 *                                            up its escalation (configure)
 *
 * and the one check every chain and policy save makes of a person it
 * names (people_check_user): a user of that tenant, else 422.
 *
 * Contact points decide where an escalation that names the person goes
 * (store people.c); a PagerDuty routing key is a credential and is never
 * shown back, only whether one is set and its last four characters. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/audit.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "http/users.h"
#include "store/store_users.h"
#include "util/xalloc.h"

/* ---- the shared check ------------------------------------------------------ */

int people_check_user(struct req *r, const char *user_id, const char *tenant_id,
                      const char *field)
{
    struct sw_user u;
    int rc = http_id_valid(user_id) ? store_user_get(r->srv->store, user_id, &u) : SW_E_NOTFOUND;
    if (rc < 0 && rc != SW_E_NOTFOUND) {
        http_fail(r, rc, "user");
        return rc;
    }
    bool ok = rc == 0 && !*tenant_id;
    for (size_t i = 0; rc == 0 && i < u.nroles && !ok; i++)
        ok = !u.roles[i].tenant_id[0] || !strcmp(u.roles[i].tenant_id, tenant_id);
    if (!ok) {
        /* unknown or another tenant's: the same answer, so ids cannot be probed */
        http_error(r, 422, "invalid", field, "%s: no user %.128s in %s", field, user_id,
                   *tenant_id ? "this tenant" : "slawatch");
        return SW_E_INVAL;
    }
    return 0;
}

/* ---- who may see and change whose ------------------------------------------- */

static bool is_self(const struct req *r, const char *user_id)
{
    return r->who.user_id[0] && !strcmp(r->who.user_id, user_id);
}

/* perm in at least one tenant of u's roles (a platform role: platform_admin). */
static bool holds_over(const struct req *r, const struct sw_user *u, unsigned perm)
{
    if (auth_sees_all(&r->who))
        return true;
    for (size_t i = 0; i < u->nroles; i++)
        if (u->roles[i].tenant_id[0] && auth_check(&r->who, perm, u->roles[i].tenant_id) == 0)
            return true;
    return false;
}

/* The {user_id} user when the caller may read (write) its contact points;
 * 404 otherwise, as for any object the caller may not see. */
static int load_user(struct req *r, bool write, struct sw_user *u)
{
    const char *id = http_param(r, "user_id");
    int rc = id && http_id_valid(id) ? store_user_get(r->srv->store, id, u) : SW_E_NOTFOUND;
    if (rc == 0 && !is_self(r, id) && !holds_over(r, u, PERM_ADMIN) &&
        !(!write && holds_over(r, u, PERM_CONFIGURE)))
        rc = SW_E_NOTFOUND;
    if (rc < 0)
        http_fail(r, rc, "user");
    return rc;
}

/* ---- shapes ------------------------------------------------------------------ */

static json_t *contact_json(const struct sw_user *u, const struct sw_contact_points *cp)
{
    size_t kl = strlen(cp->pagerduty_routing_key);
    char masked[16] = "";
    if (kl)
        snprintf(masked, sizeof(masked), "...%s", kl > 8 ? cp->pagerduty_routing_key + kl - 4 : "");
    json_t *o = json_object();
    json_object_set_new(o, "user_id", json_string(u->id));
    json_object_set_new(o, "email", cp->email[0] ? json_string(cp->email) : json_null());
    json_object_set_new(o, "effective_email", json_string(cp->email[0] ? cp->email : u->email));
    json_object_set_new(o, "slack_user_id",
                        cp->slack_user_id[0] ? json_string(cp->slack_user_id) : json_null());
    json_object_set_new(o, "phone", cp->phone[0] ? json_string(cp->phone) : json_null());
    json_object_set_new(o, "pagerduty_routing_key", kl ? json_string(masked) : json_null());
    json_object_set_new(o, "pagerduty_routing_key_set", json_boolean(kl > 0));
    json_object_set_new(o, "updated_at", cp->updated_at ? json_time(cp->updated_at) : json_null());
    json_object_set_new(o, "updated_by", cp->updated_at ? json_string(cp->updated_by) : json_null());
    return o;
}

/* ---- validation ---------------------------------------------------------------- */

/* Slack member ids: U… or W… and capitals/digits (what <@…> resolves). */
static bool slack_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > SW_SLACK_ID_MAX || (s[0] != 'U' && s[0] != 'W'))
        return false;
    for (; *s; s++)
        if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s))
            return false;
    return true;
}

/* E.164: '+', a country code not starting with 0, at most 15 digits in all. */
static bool phone_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return false;
    for (s++; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* PagerDuty integration keys: 32 characters; letters and digits. */
static bool routing_key_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 20 || n > SW_ROUTING_KEY_MAX)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return false;
    return true;
}

/* One field: absent = keep (*set false); null or "" = clear; else valid. */
static int field(struct req *r, const char *name, size_t cap, bool (*valid)(const char *),
                 const char *rule, char *dst)
{
    json_t *v = json_object_get(r->json, name);
    if (!v)
        return 0;
    if (json_is_null(v)) {
        dst[0] = '\0';
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v) || strlen(s) >= cap ||
        (*s && !valid(s))) {
        http_error(r, 422, "invalid", name, "%s must be %s (or null to clear it)", name, rule);
        return SW_E_INVAL;
    }
    snprintf(dst, cap, "%s", s);
    return 0;
}

/* ---- handlers ---------------------------------------------------------------------- */

void api_contact_get(struct req *r)
{
    struct sw_user u;
    struct sw_contact_points cp;
    if (load_user(r, false, &u) < 0)
        return;
    int rc = store_contact_get(r->srv->store, u.id, &cp);
    if (rc < 0) {
        http_fail(r, rc, "user");
        return;
    }
    http_json(r, 200, contact_json(&u, &cp));
}

void api_contact_put(struct req *r)
{
    struct sw_user u;
    struct sw_contact_points cp, old;
    if (load_user(r, true, &u) < 0)
        return;
    int rc = store_contact_get(r->srv->store, u.id, &old);
    if (rc < 0) {
        http_fail(r, rc, "user");
        return;
    }
    static const char *const known[] = {"email", "slack_user_id", "phone",
                                        "pagerduty_routing_key"};
    const char *key;
    json_t *v;
    json_object_foreach(r->json, key, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= !strcmp(key, known[i]);
        if (!ok) {
            http_error(r, 422, "invalid", key, "unknown field %.64s (email, slack_user_id, "
                       "phone, pagerduty_routing_key)", key);
            return;
        }
    }
    cp = old;
    if (field(r, "email", sizeof(cp.email), users_email_valid, "an email address", cp.email) < 0 ||
        field(r, "slack_user_id", sizeof(cp.slack_user_id), slack_id_valid,
              "a Slack member id (U or W, then capitals and digits)", cp.slack_user_id) < 0 ||
        field(r, "phone", sizeof(cp.phone), phone_valid,
              "an E.164 number (+ and 2 to 15 digits, e.g. +14155550123)", cp.phone) < 0 ||
        field(r, "pagerduty_routing_key", sizeof(cp.pagerduty_routing_key), routing_key_valid,
              "a PagerDuty routing key (20 to 64 letters and digits)",
              cp.pagerduty_routing_key) < 0)
        return;
    cp.updated_at = r->now;
    snprintf(cp.updated_by, sizeof(cp.updated_by), "%s", r->who.actor);

    /* one audit row per tenant of the user (the key masked in both) */
    json_t *before = contact_json(&u, &old), *after = contact_json(&u, &cp);
    char target[SW_ID_MAX + 16];
    snprintf(target, sizeof(target), "user:%s", u.id);
    const char *tenants[SW_USER_MAX_ROLES];
    size_t nt = 0;
    for (size_t i = 0; i < u.nroles; i++) {
        bool dup = false;
        for (size_t k = 0; k < nt; k++)
            dup |= !strcmp(tenants[k], u.roles[i].tenant_id);
        if (!dup)
            tenants[nt++] = u.roles[i].tenant_id;
    }
    if (nt == 0)
        tenants[nt++] = "";
    struct audit_entry e[SW_USER_MAX_ROLES];
    struct sw_audit a[SW_USER_MAX_ROLES];
    for (size_t i = 0; i < nt; i++) {
        audit_entry_init(&e[i], r, tenants[i], "user.contact_update", target, before, after);
        a[i] = e[i].a;
    }
    rc = store_contact_put(r->srv->store, &cp, a, nt);
    for (size_t i = 0; i < nt; i++)
        audit_entry_release(&e[i]);
    json_decref(before);
    if (rc < 0) {
        json_decref(after);
        http_fail(r, rc, "user");
        return;
    }
    http_json(r, 200, after);
}

struct people_ctx {
    struct req *r;
    json_t *items;
};

static int add_person(const struct sw_user *u, void *ud)
{
    struct people_ctx *x = ud;
    struct sw_contact_points cp;
    if (store_contact_get(x->r->srv->store, u->id, &cp) < 0)
        memset(&cp, 0, sizeof(cp));
    json_t *roles = json_array();
    for (size_t i = 0; i < u->nroles; i++)
        if (!strcmp(u->roles[i].tenant_id, x->r->tenant_id))
            json_array_append_new(roles, json_string(u->roles[i].role));
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "id", u->id, "email", u->email, "roles",
                          roles, "contact", contact_json(u, &cp));
    json_array_append_new(x->items, o);
    return 0;
}

void api_tenant_people(struct req *r)
{
    struct people_ctx x = {r, json_array()};
    int rc = store_user_list(r->srv->store, r->tenant_id, add_person, &x);
    if (rc < 0) {
        json_decref(x.items);
        http_fail(r, rc, "tenant");
        return;
    }
    http_json(r, 200, json_pack("{s:s, s:o}", "tenant_id", r->tenant_id, "items", x.items));
}
