/* api_session.c: dashboard login and logout.
 *
 * POST /api/v1/session {email, password}: argon2id verification, then a
 * session whose random cookie value is stored only as a hash.  The cookie is
 * HttpOnly, SameSite=Strict, Path=/, and Secure under TLS; the answer's
 * csrf_token must come back in X-CSRF-Token on every cookie-authenticated
 * write (server.c checks it).
 *
 * Guessing is throttled per email and per client address (store-backed, so
 * it holds across restarts and nodes): login_max_failures failures for an
 * email within login_window lock it for login_lockout, answering 429 with
 * Retry-After whatever the password; login_ip_max_failures does the same for
 * an address trying many emails.  An unknown email costs the same argon2
 * verification as a known one, against a dummy hash. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "http/api.h"
#include "http/audit.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "http/users.h"
#include "util/log.h"
#include "ws/ws.h"

static void set_cookie(struct req *r, const char *value, int64_t max_age_s)
{
    char c[256];
    snprintf(c, sizeof(c), "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
             AUTH_SESSION_COOKIE, value, (long long)max_age_s,
             r->srv->tls ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", c);
}

static void too_many(struct req *r, int64_t locked_until)
{
    int64_t secs = (locked_until - r->now + 999) / 1000;
    char ra[24];
    snprintf(ra, sizeof(ra), "%lld", (long long)(secs > 0 ? secs : 1));
    http_error(r, 429, "too_many_requests", NULL,
               "too many failed logins: try again in %s seconds", ra);
    http_add_header(r, "Retry-After", ra);
}

void api_session_create(struct req *r)
{
    const struct cfg *cfg = r->srv->cfg;
    struct store *st = r->srv->store;
    const char *email, *password;
    if (v_string(r, r->json, "email", true, SW_EMAIL_MAX, &email) < 0 ||
        v_secret(r, r->json, "password", true, AUTH_PASSWORD_MAX, &password) < 0)
        return;

    char email_key[SW_EMAIL_MAX + 8], ip_key[80], ip[64];
    snprintf(email_key, sizeof(email_key), "email:%s", email);
    for (char *p = email_key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    http_client_addr(r, ip, sizeof(ip));
    snprintf(ip_key, sizeof(ip_key), "ip:%s", ip);

    int64_t lock_email = 0, lock_ip = 0;
    int rc = store_throttle_check(st, email_key, r->now, &lock_email);
    if (rc == 0)
        rc = store_throttle_check(st, ip_key, r->now, &lock_ip);
    if (rc < 0) {
        http_fail(r, rc, "login");
        return;
    }
    if (lock_email > r->now || lock_ip > r->now) {
        too_many(r, lock_email > lock_ip ? lock_email : lock_ip);
        return;
    }

    struct sw_user u;
    char hash[SW_PWHASH_MAX + 1] = "";
    memset(&u, 0, sizeof(u));
    rc = users_email_valid(email) ? store_user_get_by_email(st, email, &u, hash)
                                  : SW_E_NOTFOUND;
    if (rc < 0 && rc != SW_E_NOTFOUND) {
        http_fail(r, rc, "login");
        return;
    }
    bool ok = auth_password_verify(rc == 0 ? hash : NULL, r->srv->dummy_pwhash, password);
    sodium_memzero(hash, sizeof(hash));
    if (ok && u.disabled)
        ok = false;
    if (!ok) {
        struct sw_throttle te = {(int)cfg->login_max_failures,
                                 (int64_t)cfg->login_window_s * 1000,
                                 (int64_t)cfg->login_lockout_s * 1000};
        struct sw_throttle ti = te;
        ti.max_failures = (int)cfg->login_ip_max_failures;
        int64_t until;
        if (store_throttle_fail(st, email_key, r->now, &te, &until) < 0 ||
            store_throttle_fail(st, ip_key, r->now, &ti, &until) < 0)
            log_warn("login: cannot count a failure for %s", ip);
        char target[SW_EMAIL_MAX + 8];
        snprintf(target, sizeof(target), "email:%s", email);
        json_t *detail = json_pack("{s:s}", "client", ip);
        audit_record(r, NULL, "session.login_failed", target, NULL, detail);
        json_decref(detail);
        http_error(r, 401, "unauthorized", NULL, "invalid email or password");
        return;
    }
    store_throttle_reset(st, email_key);

    char cookie[AUTH_TOKEN_LEN + 1];
    struct sw_session ss;
    memset(&ss, 0, sizeof(ss));
    auth_random_secret(AUTH_SESSION_PREFIX, cookie);
    auth_token_hash(cookie, ss.hash);
    auth_random_secret("swc_", ss.csrf);
    snprintf(ss.user_id, sizeof(ss.user_id), "%s", u.id);
    ss.created_at = ss.last_seen = r->now;
    ss.expires_at = r->now + (int64_t)cfg->session_lifetime_s * 1000;

    /* the audit row names the user who logged in, not "anonymous" */
    auth_user_principal(&u, &r->who);
    char target[SW_ID_MAX + 8];
    snprintf(target, sizeof(target), "user:%s", u.id);
    json_t *detail = json_pack("{s:s, s:o}", "client", ip, "expires_at", json_time(ss.expires_at));
    struct audit_entry e;
    audit_entry_init(&e, r, NULL, "session.login", target, NULL, detail);
    json_decref(detail);
    rc = store_session_create(st, &ss, &e.a);
    audit_entry_release(&e);
    if (rc < 0) {
        sodium_memzero(cookie, sizeof(cookie));
        http_fail(r, rc, "session");
        return;
    }
    json_t *out = json_pack("{s:o, s:s, s:o}", "user", users_json(&u, NULL, NULL),
                            "csrf_token", ss.csrf, "expires_at", json_time(ss.expires_at));
    http_json(r, 200, out);
    set_cookie(r, cookie, cfg->session_lifetime_s);
    sodium_memzero(cookie, sizeof(cookie));
}

void api_session_get(struct req *r)
{
    json_t *grants = json_array();
    for (size_t i = 0; i < r->who.ngrants; i++) {
        const struct auth_grant *g = &r->who.grants[i];
        json_array_append_new(grants, json_pack("{s:s, s:o}", "role", auth_role_name(g->role),
                                                "tenant_id", g->tenant_id[0]
                                                                 ? json_string(g->tenant_id)
                                                                 : json_null()));
    }
    json_t *out = json_pack("{s:s, s:s, s:o, s:o}", "actor", r->who.actor, "via",
                            r->who.via_session ? "session" : "token", "user_id",
                            r->who.user_id[0] ? json_string(r->who.user_id) : json_null(),
                            "roles", grants);
    if (r->who.via_session)
        json_object_set_new(out, "csrf_token", json_string(r->who.csrf));
    http_json(r, 200, out);
}

void api_session_delete(struct req *r)
{
    if (r->who.via_session) {
        char target[SW_ID_MAX + 8];
        snprintf(target, sizeof(target), "user:%s", r->who.user_id);
        struct audit_entry e;
        audit_entry_init(&e, r, NULL, "session.logout", target, NULL, NULL);
        int rc = store_session_delete(r->srv->store, r->who.session_hash, &e.a);
        audit_entry_release(&e);
        if (rc < 0 && rc != SW_E_NOTFOUND) {
            http_fail(r, rc, "session");
            return;
        }
        ws_hub_recheck(r->srv->ws);     /* the session's live sockets close now */
    }
    http_no_content(r);
    set_cookie(r, "", 0);
}
