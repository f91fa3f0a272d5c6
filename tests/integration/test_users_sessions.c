/* Users, dashboard sessions (cookie, CSRF, lockout, expiry), tokens listed
 * and revoked, and the audit log, end to end against the real binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_db.h"

#define PW "correct horse battery"

/* Each test: its own server; extra env per test (fast argon2 always). */
static struct sw_server *start(void *prestate)
{
    const char *const *env_extra = prestate;
    static const char *base_env[] = {"SLAWATCH_PASSWORD_COST=min", NULL};
    const char *env[16];
    size_t n = 0;
    env[n++] = base_env[0];
    for (size_t i = 0; env_extra && env_extra[i] && n < 15; i++)
        env[n++] = env_extra[i];
    env[n] = NULL;
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    srv_start(s, NULL, env);
    return s;
}

static void stop(struct sw_server *s)
{
    if (s->pid > 0)
        assert_int_equal(srv_stop(s), 0);
    srv_cleanup(s);
    free(s);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t make_token(struct sw_server *s, const char *by, const char *role,
                          const char *tenant, char *out, size_t len)
{
    char body[256];
    struct http_resp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s-%s\",\"role\":\"%s\",\"tenant_id\":\"%s\"}",
             role, tenant, role, tenant);
    assert_int_equal(api(s, "POST", "/api/v1/tokens", by, body, &r), 201);
    snprintf(out, len, "%s", json_string_value(json_object_get(r.json, "token")));
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    http_free(&r);
    return id;
}

static void make_user(struct sw_server *s, const char *by, const char *id, const char *roles)
{
    char body[512];
    struct http_resp r;
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"" PW "\","
             "\"roles\":%s}", id, id, roles);
    long st = api(s, "POST", "/api/v1/users", by, body, &r);
    if (st != 201)
        fail_msg("create user %s: %ld %s", id, st, r.body);
    assert_null(json_object_get(r.json, "password"));
    assert_null(json_object_get(r.json, "password_hash"));
    assert_true(json_is_true(json_object_get(r.json, "has_password")));
    http_free(&r);
}

struct session {
    char cookie[128];       /* "slawatch_session=..." */
    char csrf[96];
    char set_cookie[512];   /* the whole Set-Cookie header */
};

static long login(struct sw_server *s, const char *email, const char *pw, struct session *ss,
                  struct http_resp *keep)
{
    char body[512];
    struct http_resp r;
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, pw);
    long st = api(s, "POST", "/api/v1/session", NULL, body, &r);
    if (st == 200 && ss) {
        assert_non_null(http_resp_header(&r, "Set-Cookie", ss->set_cookie,
                                         sizeof(ss->set_cookie)));
        size_t n = strcspn(ss->set_cookie, ";");
        snprintf(ss->cookie, sizeof(ss->cookie), "%.*s", (int)n, ss->set_cookie);
        const char *csrf = json_string_value(json_object_get(r.json, "csrf_token"));
        assert_non_null(csrf);
        snprintf(ss->csrf, sizeof(ss->csrf), "%s", csrf);
    }
    if (keep)
        *keep = r;
    else
        http_free(&r);
    return st;
}

/* A request with the session cookie, and the CSRF header when csrf != NULL. */
static long with_cookie(struct sw_server *s, const char *method, const char *path,
                        const struct session *ss, const char *csrf, const char *body,
                        struct http_resp *out)
{
    char cookie[160], x[160];
    snprintf(cookie, sizeof(cookie), "Cookie: %s", ss->cookie);
    snprintf(x, sizeof(x), "X-CSRF-Token: %s", csrf ? csrf : "");
    const char *hdrs[] = {cookie, csrf ? x : NULL, NULL};
    struct http_resp tmp;
    struct http_resp *r = out ? out : &tmp;
    http_req_h(s, method, path, NULL, hdrs, NULL, body, body ? strlen(body) : 0, r);
    long st = r->status;
    if (!out)
        http_free(&tmp);
    return st;
}

static int setup(void **state)
{
    *state = start(*state);
    return 0;
}

static int teardown(void **state)
{
    stop(*state);
    return 0;
}

/* per-test settings (the prestate of each test) */
static const char *env_lockout_after_failures[] = {
    "SLAWATCH_LOGIN_MAX_FAILURES=3", "SLAWATCH_LOGIN_LOCKOUT=2", "SLAWATCH_LOGIN_WINDOW=60",
    NULL};
static const char *env_per_address_limit[] = {
    "SLAWATCH_LOGIN_MAX_FAILURES=100", "SLAWATCH_LOGIN_IP_MAX_FAILURES=4",
    "SLAWATCH_LOGIN_LOCKOUT=60", NULL};
static const char *env_session_expires[] = {"SLAWATCH_SESSION_LIFETIME=2", NULL};
static const char *env_session_idle_timeout[] = {"SLAWATCH_SESSION_IDLE=2", NULL};

/* ---- login, cookie, CSRF, logout ------------------------------------- */

static void test_login_cookie_csrf_logout(void **state)
{
    struct sw_server *s = *state;
    struct session ss;
    struct http_resp r;
    char buf[256];
    it_make_tenant(s, "A");
    it_make_tenant(s, "B");
    make_user(s, ADMIN_TOKEN, "alice", "[{\"role\":\"manager\",\"tenant_id\":\"A\"}]");

    assert_int_equal(login(s, "alice@example.com", "wrong password!", NULL, &r), 401);
    assert_error_shape(&r, "unauthorized", NULL);
    assert_null(http_resp_header(&r, "Set-Cookie", buf, sizeof(buf)));
    http_free(&r);
    assert_int_equal(login(s, "nobody@example.com", PW, NULL, NULL), 401);

    /* email is case-insensitive */
    assert_int_equal(login(s, "Alice@Example.com", PW, &ss, &r), 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "user"), "id")),
                        "alice");
    http_free(&r);
    assert_non_null(strstr(ss.set_cookie, "slawatch_session="));
    assert_non_null(strstr(ss.set_cookie, "HttpOnly"));
    assert_non_null(strstr(ss.set_cookie, "SameSite=Strict"));
    assert_non_null(strstr(ss.set_cookie, "Path=/"));
    assert_null(strstr(ss.set_cookie, "Secure"));       /* plain HTTP here */

    /* the cookie authenticates reads, within the user's tenants only */
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL), 200);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/B", &ss, NULL, NULL, NULL), 404);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants", &ss, NULL, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/session", &ss, NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "via")), "session");
    assert_string_equal(json_string_value(json_object_get(r.json, "user_id")), "alice");
    assert_string_equal(json_string_value(json_object_get(r.json, "csrf_token")), ss.csrf);
    http_free(&r);

    /* a cookie write without the CSRF header, or a wrong one: 403 csrf */
    const char *proj = "{\"id\":\"p1\",\"name\":\"P1\"}";
    assert_int_equal(with_cookie(s, "POST", "/api/v1/tenants/A/projects", &ss, NULL, proj, &r),
                     403);
    assert_error_shape(&r, "csrf", NULL);
    http_free(&r);
    assert_int_equal(with_cookie(s, "POST", "/api/v1/tenants/A/projects", &ss,
                                 "swc_not-the-right-token-000000000000000000000", proj, &r),
                     403);
    assert_error_shape(&r, "csrf", NULL);
    http_free(&r);
    assert_int_equal(with_cookie(s, "POST", "/api/v1/tenants/A/projects", &ss, "", proj, NULL),
                     403);
    /* with it: the write goes through, the role is still enforced */
    assert_int_equal(with_cookie(s, "POST", "/api/v1/tenants/A/projects", &ss, ss.csrf, proj,
                                 NULL), 201);
    assert_int_equal(with_cookie(s, "POST", "/api/v1/tokens", &ss, ss.csrf,
                                 "{\"name\":\"x\",\"role\":\"viewer\",\"tenant_id\":\"A\"}", NULL),
                     403);      /* manager is not admin */
    /* a bearer token needs no CSRF header */
    assert_int_equal(api(s, "POST", "/api/v1/tenants/A/projects", ADMIN_TOKEN,
                         "{\"id\":\"p2\",\"name\":\"P2\"}", NULL), 201);

    /* logout: 204, the cookie cleared, and the old value no longer works */
    assert_int_equal(with_cookie(s, "DELETE", "/api/v1/session", &ss, NULL, NULL, NULL), 403);
    assert_int_equal(with_cookie(s, "DELETE", "/api/v1/session", &ss, ss.csrf, NULL, &r), 204);
    assert_non_null(http_resp_header(&r, "Set-Cookie", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "Max-Age=0"));
    http_free(&r);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, &r), 401);
    assert_error_shape(&r, "unauthorized", NULL);
    http_free(&r);

    /* garbage cookies are 401, never 500 */
    struct session bad = ss;
    snprintf(bad.cookie, sizeof(bad.cookie), "slawatch_session=sws_%s", "x");
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants", &bad, NULL, NULL, NULL), 401);
    snprintf(bad.cookie, sizeof(bad.cookie), "slawatch_session=");
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants", &bad, NULL, NULL, NULL), 401);
}

/* ---- lockout and rate limiting --------------------------------------- */

static void test_lockout_after_failures(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char buf[64];
    it_make_tenant(s, "A");
    make_user(s, ADMIN_TOKEN, "bob", "[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]");

    for (int i = 0; i < 3; i++)
        assert_int_equal(login(s, "bob@example.com", "wrong password!", NULL, NULL), 401);
    /* locked: even the right password answers 429, with Retry-After */
    assert_int_equal(login(s, "bob@example.com", PW, NULL, &r), 429);
    assert_error_shape(&r, "too_many_requests", NULL);
    assert_non_null(http_resp_header(&r, "Retry-After", buf, sizeof(buf)));
    assert_true(atoi(buf) >= 1 && atoi(buf) <= 2);
    http_free(&r);
    assert_int_equal(login(s, "BOB@example.com", PW, NULL, NULL), 429);   /* same account */
    /* another account is not locked */
    make_user(s, ADMIN_TOKEN, "carol", "[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]");
    assert_int_equal(login(s, "carol@example.com", PW, NULL, NULL), 200);

    /* the lock runs out */
    sleep_ms(2300);
    assert_int_equal(login(s, "bob@example.com", PW, NULL, NULL), 200);
    /* a success resets the count: two failures do not lock again */
    assert_int_equal(login(s, "bob@example.com", "wrong password!", NULL, NULL), 401);
    assert_int_equal(login(s, "bob@example.com", "wrong password!", NULL, NULL), 401);
    assert_int_equal(login(s, "bob@example.com", PW, NULL, NULL), 200);

    /* an unknown email locks the same way (no way to tell it is unknown) */
    for (int i = 0; i < 3; i++)
        assert_int_equal(login(s, "ghost@example.com", PW, NULL, NULL), 401);
    assert_int_equal(login(s, "ghost@example.com", PW, NULL, NULL), 429);
}

static void test_per_address_limit(void **state)
{
    struct sw_server *s = *state;
    it_make_tenant(s, "A");
    make_user(s, ADMIN_TOKEN, "dave", "[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]");
    char email[64];
    for (int i = 0; i < 4; i++) {
        snprintf(email, sizeof(email), "guess%d@example.com", i);
        assert_int_equal(login(s, email, "whatever-password", NULL, NULL), 401);
    }
    /* this address is now refused, whatever the account */
    assert_int_equal(login(s, "dave@example.com", PW, NULL, NULL), 429);
    /* bad input is refused before it counts */
    assert_int_equal(api(s, "POST", "/api/v1/session", NULL, "{\"email\":1}", NULL), 422);
    assert_int_equal(api(s, "POST", "/api/v1/session", NULL, "{\"email\":\"a@b\"}", NULL), 422);
}

/* ---- expiry ---------------------------------------------------------- */

static void test_session_expires(void **state)
{
    struct sw_server *s = *state;
    struct session ss;
    it_make_tenant(s, "A");
    make_user(s, ADMIN_TOKEN, "erin", "[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]");
    assert_int_equal(login(s, "erin@example.com", PW, &ss, NULL), 200);
    assert_non_null(strstr(ss.set_cookie, "Max-Age=2"));
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL), 200);
    sleep_ms(2300);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL), 401);
}

static void test_session_idle_timeout(void **state)
{
    struct sw_server *s = *state;
    struct session ss;
    it_make_tenant(s, "A");
    make_user(s, ADMIN_TOKEN, "fay", "[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]");
    assert_int_equal(login(s, "fay@example.com", PW, &ss, NULL), 200);
    /* used every second: stays alive past the idle limit in total */
    for (int i = 0; i < 3; i++) {
        sleep_ms(1000);
        assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL),
                         200);
    }
    sleep_ms(2300);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL), 401);
}

/* ---- tokens: list and revoke ------------------------------------------ */

static void test_token_list_and_revoke(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char ta[128], viewer[128], tb[128], path[128];
    it_make_tenant(s, "A");
    it_make_tenant(s, "B");
    make_token(s, ADMIN_TOKEN, "tenant_admin", "A", ta, sizeof(ta));
    int64_t bid = make_token(s, ADMIN_TOKEN, "viewer", "B", tb, sizeof(tb));
    int64_t vid = make_token(s, ta, "viewer", "A", viewer, sizeof(viewer));

    assert_int_equal(api(s, "GET", "/api/v1/tokens?tenant_id=A", ta, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    size_t i;
    json_t *t;
    json_array_foreach(items, i, t) {
        assert_null(json_object_get(t, "token"));       /* never the secret */
        assert_null(json_object_get(t, "hash"));
        assert_string_equal(json_string_value(json_object_get(t, "tenant_id")), "A");
    }
    assert_null(strstr(r.body, viewer));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tokens?tenant_id=B", ta, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/tokens", ta, NULL, NULL), 403);
    assert_int_equal(api(s, "GET", "/api/v1/tokens", viewer, NULL, NULL), 403);
    assert_int_equal(api(s, "GET", "/api/v1/tokens", ADMIN_TOKEN, NULL, &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 4);
    http_free(&r);

    /* another tenant's token: 404, and it keeps working */
    snprintf(path, sizeof(path), "/api/v1/tokens/%lld", (long long)bid);
    assert_int_equal(api(s, "DELETE", path, ta, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/B", tb, NULL, NULL), 200);
    assert_int_equal(api(s, "DELETE", "/api/v1/tokens/999999", ta, NULL, NULL), 404);
    assert_int_equal(api(s, "DELETE", "/api/v1/tokens/abc", ta, NULL, NULL), 404);
    assert_int_equal(api(s, "DELETE", "/api/v1/tokens/1", ta, NULL, NULL), 404); /* platform's */

    /* the viewer may not revoke; the tenant admin may, and it is dead at once */
    snprintf(path, sizeof(path), "/api/v1/tokens/%lld", (long long)vid);
    assert_int_equal(api(s, "DELETE", path, viewer, NULL, NULL), 403);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/A", viewer, NULL, NULL), 200);
    assert_int_equal(api(s, "DELETE", path, ta, NULL, NULL), 204);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/A", viewer, NULL, &r), 401);
    assert_error_shape(&r, "unauthorized", NULL);
    http_free(&r);
    assert_int_equal(api(s, "DELETE", path, ta, NULL, NULL), 204);     /* idempotent */
    assert_int_equal(api(s, "GET", "/api/v1/tokens?tenant_id=A", ta, NULL, &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, t)
        if (json_integer_value(json_object_get(t, "id")) == vid)
            assert_true(json_is_string(json_object_get(t, "revoked_at")));
    http_free(&r);
}

/* ---- users ----------------------------------------------------------- */

static void test_users_roles_and_scope(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    struct session ss;
    char ta[128], path[128];
    it_make_tenant(s, "A");
    it_make_tenant(s, "B");
    it_make_tenant(s, "C");
    make_token(s, ADMIN_TOKEN, "tenant_admin", "A", ta, sizeof(ta));

    /* a user with roles in two tenants sees both, and only them */
    make_user(s, ADMIN_TOKEN, "gus",
              "[{\"role\":\"viewer\",\"tenant_id\":\"A\"},{\"role\":\"analyst\",\"tenant_id\":\"B\"}]");
    assert_int_equal(login(s, "gus@example.com", PW, &ss, NULL), 200);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants", &ss, NULL, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    http_free(&r);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL), 200);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/B", &ss, NULL, NULL, NULL), 200);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/C", &ss, NULL, NULL, NULL), 404);
    /* viewer in A may not create a project there, analyst in B neither */
    assert_int_equal(with_cookie(s, "POST", "/api/v1/tenants/A/projects", &ss, ss.csrf,
                                 "{\"id\":\"p\",\"name\":\"p\"}", NULL), 403);

    /* a tenant admin creates users in its tenant only */
    make_user(s, ta, "hal", "[{\"role\":\"analyst\",\"tenant_id\":\"A\"}]");
    const char *in_b = "{\"id\":\"ivy\",\"email\":\"ivy@example.com\",\"password\":\"" PW "\","
                       "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"B\"}]}";
    assert_int_equal(api(s, "POST", "/api/v1/users", ta, in_b, NULL), 404);
    const char *plat = "{\"id\":\"ivy\",\"email\":\"ivy@example.com\","
                       "\"roles\":[{\"role\":\"platform_admin\"}]}";
    assert_int_equal(api(s, "POST", "/api/v1/users", ta, plat, NULL), 403);
    const char *ghost = "{\"id\":\"ivy\",\"email\":\"ivy@example.com\","
                        "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"nope\"}]}";
    assert_int_equal(api(s, "POST", "/api/v1/users", ADMIN_TOKEN, ghost, NULL), 404);

    /* validation */
    struct {
        const char *body, *field;
    } bad[] = {
        {"{\"id\":\"x\",\"email\":\"not-an-email\",\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]}", "email"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\"}", "roles"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\",\"roles\":[]}", "roles"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\",\"roles\":[{\"role\":\"king\",\"tenant_id\":\"A\"}]}", "roles"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\",\"roles\":[{\"role\":\"viewer\"}]}", "roles"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\",\"roles\":[{\"role\":\"platform_admin\",\"tenant_id\":\"A\"}]}", "roles"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\",\"roles\":[\"viewer\"]}", "roles"},
        {"{\"id\":\"x\",\"email\":\"x@y.z\",\"password\":\"short\",\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]}", "password"},
        {"{\"id\":\"a/b\",\"email\":\"x@y.z\",\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]}", "id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(api(s, "POST", "/api/v1/users", ta, bad[i].body, &r), 422);
        assert_error_shape(&r, "invalid", bad[i].field);
        http_free(&r);
    }
    /* duplicates: id or email */
    assert_int_equal(api(s, "POST", "/api/v1/users", ta,
                         "{\"id\":\"hal\",\"email\":\"other@example.com\","
                         "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]}", NULL), 409);
    assert_int_equal(api(s, "POST", "/api/v1/users", ta,
                         "{\"id\":\"hal2\",\"email\":\"HAL@example.com\","
                         "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"A\"}]}", NULL), 409);

    /* listing: A's users, B's roles hidden from A's admin */
    assert_int_equal(api(s, "GET", "/api/v1/users?tenant_id=A", ta, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);       /* gus, hal */
    assert_null(strstr(r.body, "\"B\""));
    assert_null(strstr(r.body, "$argon2"));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/users?tenant_id=B", ta, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/users", ta, NULL, NULL), 403);
    assert_int_equal(api(s, "GET", "/api/v1/users", ADMIN_TOKEN, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/users/hal", ta, NULL, NULL), 200);
    assert_int_equal(api(s, "GET", "/api/v1/users/nobody", ta, NULL, NULL), 404);

    /* deleting: gus also has a role in B, so A's admin may not */
    assert_int_equal(api(s, "DELETE", "/api/v1/users/gus", ta, NULL, NULL), 403);
    assert_int_equal(api(s, "DELETE", "/api/v1/users/gus", ADMIN_TOKEN, NULL, NULL), 204);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/tenants/A", &ss, NULL, NULL, NULL), 401);
    assert_int_equal(login(s, "gus@example.com", PW, NULL, NULL), 401);
    snprintf(path, sizeof(path), "/api/v1/users/%s", "hal");
    assert_int_equal(api(s, "DELETE", path, ta, NULL, NULL), 204);
    assert_int_equal(api(s, "GET", path, ta, NULL, NULL), 404);
}

static void test_user_cli(void **state)
{
    struct sw_server *s = *state;
    char out[512];
    it_make_tenant(s, "A");
    const char *bin = getenv("SLAWATCH_BIN");
    const char *argv[] = {bin, "user", "create", "--db", s->db, "--id", "kim",
                          "--email", "kim@example.com", "--role", "tenant_admin", "--tenant",
                          "A", NULL};
    const char *env[] = {"SLAWATCH_PASSWORD=" PW, "SLAWATCH_PASSWORD_COST=min", NULL};
    assert_int_equal(run_capture(argv, env, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "kim"));
    assert_int_equal(run_capture(argv, env, out, sizeof(out)), 2);      /* exists */
    const char *bad[] = {bin, "user", "create", "--db", s->db, "--id", "lee", "--email",
                         "lee@example.com", "--role", "viewer", NULL};
    assert_int_equal(run_capture(bad, env, out, sizeof(out)), 2);        /* no tenant */
    const char *ghost[] = {bin, "user", "create", "--db", s->db, "--id", "lee", "--email",
                           "lee@example.com", "--role", "viewer", "--tenant", "Z", NULL};
    assert_int_equal(run_capture(ghost, env, out, sizeof(out)), 2);      /* no such tenant */

    struct session ss;
    struct http_resp r;
    assert_int_equal(login(s, "kim@example.com", PW, &ss, NULL), 200);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/users?tenant_id=A", &ss, NULL, NULL, &r),
                     200);
    assert_non_null(strstr(r.body, "kim@example.com"));
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&action=user.create", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_non_null(strstr(r.body, "\"actor\":\"cli\""));
    http_free(&r);
}

/* ---- the audit log --------------------------------------------------- */

static json_t *find_action(json_t *items, const char *action, const char *target)
{
    size_t i;
    json_t *a;
    json_array_foreach(items, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "action")), action))
            continue;
        if (target && strcmp(json_string_value(json_object_get(a, "target")), target))
            continue;
        return a;
    }
    return NULL;
}

static void test_audit_log(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char ta[128], viewer[128], path[128], target[64];
    it_make_tenant(s, "A");
    it_make_tenant(s, "B");
    make_token(s, ADMIN_TOKEN, "tenant_admin", "A", ta, sizeof(ta));
    int64_t vid = make_token(s, ta, "viewer", "A", viewer, sizeof(viewer));
    make_user(s, ta, "max", "[{\"role\":\"analyst\",\"tenant_id\":\"A\"}]");
    make_user(s, ADMIN_TOKEN, "ned", "[{\"role\":\"viewer\",\"tenant_id\":\"B\"}]");
    snprintf(path, sizeof(path), "/api/v1/tokens/%lld", (long long)vid);
    assert_int_equal(api(s, "DELETE", path, ta, NULL, NULL), 204);
    assert_int_equal(login(s, "max@example.com", "wrong password!", NULL, NULL), 401);
    struct session ss;
    assert_int_equal(login(s, "max@example.com", PW, &ss, NULL), 200);

    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A", ta, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    /* who created the token, what it is; never its secret */
    snprintf(target, sizeof(target), "token:%lld", (long long)vid);
    json_t *a = find_action(items, "token.create", target);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "actor")), "token:tenant_admin-A");
    assert_string_equal(json_string_value(json_object_get(a, "tenant_id")), "A");
    assert_true(json_is_null(json_object_get(a, "before")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "after"), "role")),
                        "viewer");
    assert_true(json_is_string(json_object_get(a, "at")));
    assert_null(strstr(r.body, viewer));
    /* the revocation, with what it was before */
    a = find_action(items, "token.revoke", target);
    assert_non_null(a);
    assert_true(json_is_null(json_object_get(json_object_get(a, "before"), "revoked_at")));
    assert_true(json_is_string(json_object_get(json_object_get(a, "after"), "revoked_at")));
    a = find_action(items, "user.create", "user:max");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "after"), "email")),
                        "max@example.com");
    assert_null(strstr(r.body, "$argon2"));
    /* nothing of B's */
    assert_null(find_action(items, "user.create", "user:ned"));
    /* newest first */
    assert_true(json_integer_value(json_object_get(json_array_get(items, 0), "id")) >
                json_integer_value(json_object_get(json_array_get(items, 1), "id")));
    http_free(&r);

    /* filters */
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&action=user.create", ta, NULL, &r),
                     200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&actor=token:tenant_admin-A", ta,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&since=2999-01-01T00:00:00Z", ta,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&since=yesterday", ta, NULL, &r),
                     422);
    assert_error_shape(&r, "invalid", "since");
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&limit=0", ta, NULL, NULL), 422);
    /* paging */
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=A&limit=1", ta, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    char next[160];
    snprintf(next, sizeof(next), "/api/v1/audit?tenant_id=A&limit=1&cursor=%s",
             json_string_value(json_object_get(r.json, "next_cursor")));
    int64_t first = json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "id"));
    http_free(&r);
    assert_int_equal(api(s, "GET", next, ta, NULL, &r), 200);
    assert_true(json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "id")) < first);
    http_free(&r);

    /* who may read it */
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=B", ta, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/audit", ta, NULL, NULL), 403);
    assert_int_equal(with_cookie(s, "GET", "/api/v1/audit?tenant_id=A", &ss, NULL, NULL, NULL),
                     403);     /* analyst */
    /* the platform sees logins, failed ones too, and tenant creation */
    assert_int_equal(api(s, "GET", "/api/v1/audit", ADMIN_TOKEN, NULL, &r), 200);
    items = json_object_get(r.json, "items");
    a = find_action(items, "session.login_failed", "email:max@example.com");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "actor")), "anonymous");
    a = find_action(items, "session.login", "user:max");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "actor")), "user:max");
    assert_non_null(find_action(items, "tenant.create", "tenant:A"));
    assert_non_null(find_action(items, "user.create", "user:ned"));
    http_free(&r);

    /* append-only, even for someone with the database file */
    char err[512];
    assert_int_equal(it_db_exec(s, "UPDATE audit_log SET actor = 'x'", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "append-only"));
    assert_int_equal(it_db_exec(s, "DELETE FROM audit_log", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "append-only"));
}

int main(void)
{
#define T(f, env) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, env)
    const struct CMUnitTest tests[] = {
        T(test_login_cookie_csrf_logout, NULL),
        T(test_lockout_after_failures, env_lockout_after_failures),
        T(test_per_address_limit, env_per_address_limit),
        T(test_session_expires, env_session_expires),
        T(test_session_idle_timeout, env_session_idle_timeout),
        T(test_token_list_and_revoke, NULL),
        T(test_users_roles_and_scope, NULL),
        T(test_user_cli, NULL),
        T(test_audit_log, NULL),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
