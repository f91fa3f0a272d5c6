/* api_users.c: people who log in to the dashboard, and their roles.
 *
 * The route only says "admin somewhere" (a user's roles may span tenants);
 * the handlers check each tenant a user touches with auth_check, the same
 * one check the route table uses: admin in every tenant of the roles given
 * (platform_admin for a platform role).  A user the caller may not
 * administer in any tenant answers 404, as another tenant's object does. */
#include <sodium.h>
#include <string.h>

#include "http/api.h"
#include "http/audit.h"
#include "http/http.h"
#include "http/server.h"
#include "http/users.h"
#include "ws/ws.h"
#include "store/store_users.h"

/* 0, or answered (404 tenant not visible, 403 role not enough). */
static int check_admin_over(struct req *r, const char *tenant_id)
{
    int rc = tenant_id[0] ? auth_check(&r->who, PERM_ADMIN, tenant_id)
                          : auth_check(&r->who, PERM_PLATFORM, NULL);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "tenant not found");
        return rc;
    }
    if (rc < 0) {
        http_error(r, 403, "forbidden", NULL, "your role may not give roles in %s",
                   tenant_id[0] ? tenant_id : "every tenant");
        return rc;
    }
    return 0;
}

/* Visible to the caller: in a tenant where the caller is admin. */
static bool admin_sees(const char *tenant_id, void *ud)
{
    const struct req *r = ud;
    return tenant_id[0] ? auth_check(&r->who, PERM_ADMIN, tenant_id) == 0
                        : auth_sees_all(&r->who);
}

static bool user_visible(struct req *r, const struct sw_user *u)
{
    if (auth_sees_all(&r->who))
        return true;
    for (size_t i = 0; i < u->nroles; i++)
        if (u->roles[i].tenant_id[0] && admin_sees(u->roles[i].tenant_id, r))
            return true;
    return false;
}

/* The distinct tenants of u's roles ("" = platform), for one audit row each. */
static size_t role_tenants(const struct sw_user *u, const char *out[SW_USER_MAX_ROLES])
{
    size_t n = 0;
    for (size_t i = 0; i < u->nroles; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= !strcmp(out[k], u->roles[i].tenant_id);
        if (!dup)
            out[n++] = u->roles[i].tenant_id;
    }
    return n;
}

/* Whether the id or the email that made a create collide belongs to a user
 * the caller may see (then saying so reveals nothing). */
static bool collision_visible(struct req *r, const struct sw_user *want)
{
    struct sw_user other;
    char hash[SW_PWHASH_MAX + 1];
    bool seen = false;
    if (store_user_get(r->srv->store, want->id, &other) == 0)
        seen |= user_visible(r, &other);
    if (!seen && store_user_get_by_email(r->srv->store, want->email, &other, hash) == 0)
        seen |= user_visible(r, &other);
    sodium_memzero(hash, sizeof(hash));
    return seen;
}

/* The id or email is taken by someone in a tenant the caller does not
 * administer.  Saying 409 would tell a tenant admin that this address has
 * an account with another customer (an MSSP's customer list, one probe at
 * a time), so the answer is the one a creation gets: 201 with the user as
 * asked.  Nothing is stored, the other user is untouched; the platform
 * audit log (platform_admin only) records the attempt.  See docs/users.md
 * for what this does and does not hide. */
static void answer_hidden_collision(struct req *r, const struct sw_user *u, json_t *after)
{
    char target[SW_ID_MAX + 8];
    snprintf(target, sizeof(target), "user:%s", u->id);
    json_t *note = json_pack("{s:O, s:s}", "requested", after, "outcome",
                             "not created: the id or email belongs to a user of another tenant");
    audit_record(r, "", "user.create_collision", target, NULL, note);
    json_decref(note);
    http_json(r, 201, after);
}

void api_user_create(struct req *r)
{
    const char *id, *email, *password;
    struct sw_user u;
    char err[256];
    memset(&u, 0, sizeof(u));
    if (v_id(r, r->json, "id", true, &id) < 0 ||
        v_string(r, r->json, "email", true, SW_EMAIL_MAX, &email) < 0 ||
        v_secret(r, r->json, "password", false, AUTH_PASSWORD_MAX, &password) < 0)
        return;
    if (!users_email_valid(email)) {
        http_error(r, 422, "invalid", "email", "email must look like name@domain");
        return;
    }
    if (password && strlen(password) < AUTH_PASSWORD_MIN) {
        http_error(r, 422, "invalid", "password", "password must be at least %d bytes",
                   AUTH_PASSWORD_MIN);
        return;
    }
    if (users_parse_roles(json_object_get(r->json, "roles"), &u, err, sizeof(err)) < 0) {
        http_error(r, 422, "invalid", "roles", "%s", err);
        return;
    }
    for (size_t i = 0; i < u.nroles; i++) {
        if (check_admin_over(r, u.roles[i].tenant_id) < 0)
            return;
        struct sw_tenant t;
        int rc = u.roles[i].tenant_id[0]
                     ? store_tenant_get(r->srv->store, u.roles[i].tenant_id, &t) : 0;
        if (rc < 0) {
            http_fail(r, rc, "tenant");
            return;
        }
    }
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.email, sizeof(u.email), "%s", email);
    u.created_at = r->now;
    u.has_password = password != NULL;
    char hash[SW_PWHASH_MAX + 1] = "";
    if (password && auth_password_hash(password, r->srv->cfg->password_cost, hash) < 0) {
        http_error(r, 503, "unavailable", NULL, "cannot hash the password now, retry");
        return;
    }

    json_t *after = users_json(&u, NULL, NULL);
    char target[SW_ID_MAX + 8];
    snprintf(target, sizeof(target), "user:%s", u.id);
    const char *tenants[SW_USER_MAX_ROLES];
    size_t nt = role_tenants(&u, tenants);
    struct audit_entry e[SW_USER_MAX_ROLES];
    struct sw_audit a[SW_USER_MAX_ROLES];
    for (size_t i = 0; i < nt; i++) {
        audit_entry_init(&e[i], r, tenants[i], "user.create", target, NULL, after);
        a[i] = e[i].a;
    }
    int rc = store_user_create(r->srv->store, &u, hash, a, nt);
    for (size_t i = 0; i < nt; i++)
        audit_entry_release(&e[i]);
    sodium_memzero(hash, sizeof(hash));
    if (rc == SW_E_EXISTS && !auth_sees_all(&r->who) && !collision_visible(r, &u)) {
        answer_hidden_collision(r, &u, after);
        return;
    }
    if (rc == SW_E_EXISTS) {
        json_decref(after);
        http_error(r, 409, "conflict", "id", "a user with this id or email already exists");
        return;
    }
    if (rc < 0) {
        json_decref(after);
        http_fail(r, rc, "user");
        return;
    }
    http_json(r, 201, after);
}

struct list_ctx {
    struct req *r;
    json_t *items;
};

static int add_user(const struct sw_user *u, void *ud)
{
    struct list_ctx *c = ud;
    json_array_append_new(c->items, users_json(u, admin_sees, c->r));
    return 0;
}

void api_user_list(struct req *r)
{
    /* r->tenant_id NULL: the route checked platform_admin */
    struct list_ctx c = {r, json_array()};
    int rc = store_user_list(r->srv->store, r->tenant_id, add_user, &c);
    if (rc < 0) {
        json_decref(c.items);
        http_fail(r, rc, "users");
        return;
    }
    http_json(r, 200, json_pack("{s:o}", "items", c.items));
}

/* The {user_id} user if the caller may see it; answered otherwise. */
static int load_visible(struct req *r, struct sw_user *u)
{
    int rc = store_user_get(r->srv->store, http_param(r, "user_id"), u);
    if (rc == 0 && !user_visible(r, u))
        rc = SW_E_NOTFOUND;
    if (rc < 0)
        http_fail(r, rc, "user");
    return rc;
}

void api_user_get(struct req *r)
{
    struct sw_user u;
    if (load_visible(r, &u) < 0)
        return;
    http_json(r, 200, users_json(&u, admin_sees, r));
}

void api_user_delete(struct req *r)
{
    struct sw_user u;
    if (load_visible(r, &u) < 0)
        return;
    /* every tenant the user has a role in: deleting a person is deleting
     * their access everywhere */
    for (size_t i = 0; i < u.nroles; i++)
        if (!admin_sees(u.roles[i].tenant_id, r)) {
            http_error(r, 403, "forbidden", NULL,
                       "this user has roles in tenants you do not administer");
            return;
        }
    json_t *before = users_json(&u, NULL, NULL);
    char target[SW_ID_MAX + 8];
    snprintf(target, sizeof(target), "user:%s", u.id);
    const char *tenants[SW_USER_MAX_ROLES];
    size_t nt = role_tenants(&u, tenants);
    if (nt == 0)
        tenants[nt++] = "";
    struct audit_entry e[SW_USER_MAX_ROLES];
    struct sw_audit a[SW_USER_MAX_ROLES];
    for (size_t i = 0; i < nt; i++) {
        audit_entry_init(&e[i], r, tenants[i], "user.delete", target, before, NULL);
        a[i] = e[i].a;
    }
    int rc = store_user_remove(r->srv->store, u.id, a, nt);
    for (size_t i = 0; i < nt; i++)
        audit_entry_release(&e[i]);
    json_decref(before);
    if (rc < 0) {
        http_fail(r, rc, "user");
        return;
    }
    ws_hub_recheck(r->srv->ws);     /* the user's live sockets close now */
    http_no_content(r);
}
