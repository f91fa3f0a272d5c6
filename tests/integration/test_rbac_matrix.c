/* The role x route x tenant matrix: every route of the table (read from
 * `slawatch routes`, so routes added later are covered without touching this
 * file), against a token of every role of tenant A, a dashboard session, no
 * credentials, and requests aimed at tenant B.
 *
 * Fails on any route that answers 2xx where it must not:
 *   - anything A's callers aim at B: 404 exactly when the route takes its
 *     tenant from the request (path, query, body), never 2xx otherwise
 *     (a bulk route may answer 2xx only with "accepted": 0);
 *   - a route in A by a role without the route's permission: 403 exactly
 *     when the tenant comes from the request, never 2xx otherwise;
 *   - a platform-wide call (no tenant where one is optional) by A's roles;
 *   - every non-public route without credentials or with a bad token: 401;
 *   - any 2xx body A's callers get that mentions B's id (a leak);
 *   - declarations: a write needing only read (or only a login) unless
 *     listed with its reason, a {tenant_id} path not scoped by its path.
 * And, so the matrix cannot pass by refusing everything: a role holding the
 * permission is never answered 401/403 in its own tenant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define TA "tenant-alpha"
#define TB "tenant-bravo"
#define PW "matrix password 1"

enum { P_READ = 1, P_INGEST = 2, P_OPERATE = 4, P_CONFIGURE = 8, P_ADMIN = 16, P_PLATFORM = 32 };

struct route {
    char method[16];
    char path[512];
    unsigned perm;          /* 0: authenticated only */
    bool public_;
    char source[32];        /* none path query body body_opt query_opt */
};

struct caller {
    const char *name;
    unsigned perms;
    char token[128];        /* bearer, or "" for the session */
    char cookie[160], csrf[96];
};

static struct sw_server srv;
static struct route routes[512];
static size_t nroutes;
static struct caller callers[8];
static size_t ncallers;
static long long token_of[2], user_seq;     /* [0] alpha's sacrificial token, [1] bravo's */
static char failures[16384];
static int nfail;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
    size_t n = strlen(failures);
    va_list ap;
    va_start(ap, fmt);
    if (n + 200 < sizeof(failures))
        vsnprintf(failures + n, sizeof(failures) - n, fmt, ap);
    va_end(ap);
    n = strlen(failures);
    if (n + 1 < sizeof(failures))
        strcat(failures, "\n");
    nfail++;
}

static unsigned perm_of(const char *w, bool *pub)
{
    static const struct {
        const char *name;
        unsigned p;
    } names[] = {{"read", P_READ}, {"ingest", P_INGEST}, {"operate", P_OPERATE},
                 {"configure", P_CONFIGURE}, {"admin", P_ADMIN}, {"platform", P_PLATFORM},
                 {"authenticated", 0}, {"public", 0}};
    *pub = !strcmp(w, "public");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(w, names[i].name))
            return names[i].p;
    fail_msg("slawatch routes printed an unknown permission '%s'", w);
    return 0;
}

static void load_routes(void)
{
    char cmd[1024], line[1024];
    const char *bin = getenv("SLAWATCH_BIN");
    snprintf(cmd, sizeof(cmd), "'%s' routes", bin ? bin : "./slawatch");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t lines = 0;
    while (fgets(line, sizeof(line), p)) {
        char m[16], path[512], perm[32], src[32];
        lines++;
        if (sscanf(line, "%15s %511s %31s %31s", m, path, perm, src) != 4)
            fail_msg("cannot parse `slawatch routes` line: %s", line);
        assert_true(nroutes < sizeof(routes) / sizeof(routes[0]));
        struct route *r = &routes[nroutes++];
        snprintf(r->method, sizeof(r->method), "%s", m);
        snprintf(r->path, sizeof(r->path), "%s", path);
        r->perm = perm_of(perm, &r->public_);
        snprintf(r->source, sizeof(r->source), "%s", src);
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(lines, nroutes);
    assert_true(nroutes >= 20);
}

/* The path with its parameters aimed at tenant t (0 alpha, 1 bravo). */
static void build_path(const struct route *r, int t, bool with_tenant, char *out, size_t len)
{
    const char *tenant = t ? TB : TA;
    size_t o = 0;
    for (const char *p = r->path; *p && o + 1 < len;) {
        if (*p != '{') {
            out[o++] = *p++;
            continue;
        }
        const char *e = strchr(p, '}');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(e - p - 1), p + 1);
        char val[160];
        if (!strcmp(name, "tenant_id"))
            snprintf(val, sizeof(val), "%s", tenant);
        else if (!strcmp(name, "project_id"))
            snprintf(val, sizeof(val), "proj-%s", tenant);
        else if (!strcmp(name, "token_id"))
            snprintf(val, sizeof(val), "%lld", token_of[t]);
        else if (!strcmp(name, "user_id"))
            snprintf(val, sizeof(val), "user-%s", tenant);
        else
            snprintf(val, sizeof(val), "obj-%s", tenant);
        o += (size_t)snprintf(out + o, len - o, "%s", val);
        p = e + 1;
    }
    out[o < len ? o : len - 1] = '\0';
    if (with_tenant && (!strcmp(r->source, "query") || !strcmp(r->source, "query_opt")))
        snprintf(out + strlen(out), len - strlen(out), "?tenant_id=%s", tenant);
}

static void build_body(int t, bool with_tenant, char *out, size_t len)
{
    const char *tenant = t ? TB : TA;
    long long n = ++user_seq;
    char tid[64] = "";
    if (with_tenant)
        snprintf(tid, sizeof(tid), "\"tenant_id\":\"%s\",", tenant);
    snprintf(out, len,
             "{%s\"id\":\"new-%lld\",\"name\":\"matrix\",\"severity\":\"high\","
             "\"title\":\"matrix\",\"template\":\"standard\",\"role\":\"viewer\","
             "\"email\":\"m%lld@example.com\",\"password\":\"" PW "\","
             "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"%s\"}]}",
             tid, n, n, tenant);
}

static bool has_body(const char *m)
{
    return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

static long call(const struct caller *c, const struct route *r, const char *path,
                 const char *body, struct http_resp *out)
{
    char cookie[200], csrf[160];
    const char *hdrs[3] = {NULL, NULL, NULL};
    if (c && !c->token[0]) {
        snprintf(cookie, sizeof(cookie), "Cookie: %s", c->cookie);
        snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", c->csrf);
        hdrs[0] = cookie;
        hdrs[1] = csrf;
    }
    http_req_h(&srv, r->method, path, c && c->token[0] ? c->token : NULL, hdrs, NULL, body,
               body ? strlen(body) : 0, out);
    return out->status;
}

static bool scoped(const struct route *r)
{
    return strcmp(r->source, "none") != 0;
}

static bool optional_tenant(const struct route *r)
{
    return !strcmp(r->source, "query_opt") || !strcmp(r->source, "body_opt");
}

static void check_no_leak(const struct caller *c, const struct route *r, struct http_resp *h)
{
    if (h->status >= 200 && h->status < 300 && h->body && strstr(h->body, TB))
        violation("%s %s: %s got %ld mentioning %s: %.200s", r->method, r->path, c->name,
                  h->status, TB, h->body);
}

/* ---- setup ----------------------------------------------------------- */

static void admin(const char *method, const char *path, const char *body, long want)
{
    struct http_resp r;
    long st = api(&srv, method, path, ADMIN_TOKEN, body, &r);
    if (want && st != want)
        fail_msg("setup %s %s: %ld %s", method, path, st, r.body ? r.body : "");
    http_free(&r);
}

static long long token(const char *role, const char *tenant, char *out, size_t len)
{
    char body[256];
    struct http_resp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s-%s\",\"role\":\"%s\",\"tenant_id\":\"%s\"}",
             role, tenant, role, tenant);
    assert_int_equal(api(&srv, "POST", "/api/v1/tokens", ADMIN_TOKEN, body, &r), 201);
    if (out)
        snprintf(out, len, "%s", json_string_value(json_object_get(r.json, "token")));
    long long id = json_integer_value(json_object_get(r.json, "id"));
    http_free(&r);
    return id;
}

static void add_caller(const char *name, unsigned perms, const char *role)
{
    struct caller *c = &callers[ncallers++];
    c->name = name;
    c->perms = perms;
    token(role, TA, c->token, sizeof(c->token));
}

static void session_login(struct caller *c)
{
    struct http_resp r;
    assert_int_equal(api(&srv, "POST", "/api/v1/session", NULL,
                         "{\"email\":\"sess@example.com\",\"password\":\"" PW "\"}", &r),
                     200);
    char sc[512];
    assert_non_null(http_resp_header(&r, "Set-Cookie", sc, sizeof(sc)));
    snprintf(c->cookie, sizeof(c->cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    snprintf(c->csrf, sizeof(c->csrf), "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    http_free(&r);
}

/* A 2xx DELETE of a tenant-less singleton is the caller ending its own
 * session (logout): the session caller logs in again for the next routes. */
static void relogin_if_logged_out(struct caller *c, const struct route *r, long st)
{
    if (!c->token[0] && st >= 200 && st < 300 && !strcmp(r->method, "DELETE") &&
        !strchr(r->path, '{') && !strcmp(r->source, "none"))
        session_login(c);
}

static void setup_world(void)
{
    char body[512];
    const char *tenants[2] = {TA, TB};
    for (int t = 0; t < 2; t++) {
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"%s\"}", tenants[t], tenants[t]);
        admin("POST", "/api/v1/tenants", body, 201);
        snprintf(body, sizeof(body), "{\"id\":\"proj-%s\",\"name\":\"p\"}", tenants[t]);
        char path[256];
        snprintf(path, sizeof(path), "/api/v1/tenants/%s/projects", tenants[t]);
        admin("POST", path, body, 201);
        snprintf(body, sizeof(body),
                 "{\"id\":\"user-%s\",\"email\":\"user-%s@example.com\",\"password\":\"" PW "\","
                 "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"%s\"}]}",
                 tenants[t], tenants[t], tenants[t]);
        admin("POST", "/api/v1/users", body, 201);
        token_of[t] = token("viewer", tenants[t], NULL, 0);
        /* an item of every ingest route (alerts, findings, ...), so {id}
         * names a real object of that tenant */
        for (size_t i = 0; i < nroutes; i++) {
            const struct route *r = &routes[i];
            if (!strcmp(r->method, "POST") && !strcmp(r->source, "body") &&
                !strchr(r->path, '{') && r->perm == P_INGEST) {
                snprintf(body, sizeof(body),
                         "{\"id\":\"obj-%s\",\"tenant_id\":\"%s\",\"severity\":\"high\","
                         "\"title\":\"matrix\"}", tenants[t], tenants[t]);
                admin("POST", r->path, body, 0);
            }
        }
    }
    add_caller("tenant_admin", P_READ | P_INGEST | P_OPERATE | P_CONFIGURE | P_ADMIN,
               "tenant_admin");
    add_caller("manager", P_READ | P_OPERATE | P_CONFIGURE, "manager");
    add_caller("analyst", P_READ | P_OPERATE, "analyst");
    add_caller("viewer", P_READ, "viewer");
    add_caller("ingest", P_INGEST, "ingest");

    /* a dashboard session of a manager of A: the cookie path of the same checks */
    snprintf(body, sizeof(body),
             "{\"id\":\"sess-manager\",\"email\":\"sess@example.com\",\"password\":\"" PW "\","
             "\"roles\":[{\"role\":\"manager\",\"tenant_id\":\"" TA "\"}]}");
    admin("POST", "/api/v1/users", body, 201);
    struct caller *c = &callers[ncallers++];
    c->name = "manager (session)";
    c->perms = P_READ | P_OPERATE | P_CONFIGURE;
    session_login(c);
}

/* ---- the matrix ------------------------------------------------------ */

static void foreign_pass(void)
{
    char path[512], body[1024];
    for (size_t i = 0; i < nroutes; i++) {
        const struct route *r = &routes[i];
        if (r->public_)
            continue;
        for (size_t k = 0; k < ncallers; k++) {
            const struct caller *c = &callers[k];
            struct http_resp h;
            build_path(r, 1, true, path, sizeof(path));
            build_body(1, true, body, sizeof(body));
            long st = call(c, r, path, has_body(r->method) ? body : NULL, &h);
            if (scoped(r) && st != 404)
                violation("%s %s aimed at %s: %s got %ld, want 404", r->method, path, TB,
                          c->name, st);
            /* a tenant-less route: B's objects by id must not answer 2xx; a
             * write must not succeed with B in its body (a bulk route may
             * answer 2xx when it accepted nothing); a read or a delete of
             * the caller's own singleton (its session) may, without leaking */
            bool write = has_body(r->method), by_id = strchr(r->path, '{') != NULL;
            if (!scoped(r) && st >= 200 && st < 300 && (by_id || write)) {
                json_t *acc = h.json ? json_object_get(h.json, "accepted") : NULL;
                if (by_id || !(json_is_integer(acc) && json_integer_value(acc) == 0))
                    violation("%s %s aimed at %s: %s got %ld: %.200s", r->method, path, TB,
                              c->name, st, h.body);
            }
            check_no_leak(c, r, &h);
            relogin_if_logged_out(&callers[k], r, st);
            http_free(&h);
        }
    }
}

static void platform_pass(void)
{
    char path[512], body[1024];
    for (size_t i = 0; i < nroutes; i++) {
        const struct route *r = &routes[i];
        if (r->public_ || !optional_tenant(r))
            continue;
        for (size_t k = 0; k < ncallers; k++) {
            struct http_resp h;
            build_path(r, 0, false, path, sizeof(path));
            build_body(0, false, body, sizeof(body));
            long st = call(&callers[k], r, path, has_body(r->method) ? body : NULL, &h);
            if (st >= 200 && st < 300)
                violation("%s %s without a tenant (platform-wide): %s got %ld", r->method,
                          path, callers[k].name, st);
            relogin_if_logged_out(&callers[k], r, st);
            http_free(&h);
        }
    }
}

static void own_pass(int *allowed_ok)
{
    char path[512], body[1024];
    for (size_t i = 0; i < nroutes; i++) {
        const struct route *r = &routes[i];
        if (r->public_)
            continue;
        for (size_t k = 0; k < ncallers; k++) {
            const struct caller *c = &callers[k];
            bool allowed = (c->perms & r->perm) == r->perm;
            struct http_resp h;
            build_path(r, 0, true, path, sizeof(path));
            build_body(0, true, body, sizeof(body));
            long st = call(c, r, path, has_body(r->method) ? body : NULL, &h);
            if (!allowed && st >= 200 && st < 300)
                violation("%s %s: %s lacks the permission but got %ld", r->method, path,
                          c->name, st);
            if (!allowed && scoped(r) && st != 403)
                violation("%s %s: %s lacks the permission: got %ld, want 403", r->method,
                          path, c->name, st);
            if (allowed && scoped(r) && (st == 401 || st == 403))
                violation("%s %s: %s holds the permission but got %ld: %.200s", r->method,
                          path, c->name, st, h.body);
            if (allowed && scoped(r) && st != 401 && st != 403)
                (*allowed_ok)++;
            check_no_leak(c, r, &h);
            relogin_if_logged_out(&callers[k], r, st);
            http_free(&h);
        }
    }
}

/* The table itself: what the matrix cannot see from behaviour, since it
 * trusts each route's declared permission. */
static void declaration_pass(void)
{
    /* writes that any authenticated caller may make: each one justified */
    static const char *const open_writes[] = {
        "DELETE /api/v1/session",   /* a caller ends its own session */
        /* API.md's POST: a query with a body (two periods), it writes nothing */
        "POST /api/v1/sla/reports/{tenant_id}/compare",
        /* a user sets their own contact points; anyone else: admin of one
         * of the user's tenants, or 404 (api_people.c) */
        "PUT /api/v1/users/{user_id}/contact",
        /* the person engaged takes the escalation whatever their role;
         * anyone else needs operate, or 403 (api_finding_escalation.c) */
        "POST /api/v1/findings/{id}/escalation/acknowledge",
    };
    char key[600];
    for (size_t i = 0; i < nroutes; i++) {
        const struct route *r = &routes[i];
        if (strstr(r->path, "{tenant_id}") && strcmp(r->source, "path"))
            violation("%s %s: {tenant_id} in the path but the tenant is taken from %s",
                      r->method, r->path, r->source);
        if (r->public_ || !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"))
            continue;
        if (r->perm & ~(unsigned)P_READ)
            continue;
        snprintf(key, sizeof(key), "%.15s %.511s", r->method, r->path);
        bool ok = false;
        for (size_t k = 0; k < sizeof(open_writes) / sizeof(open_writes[0]); k++)
            ok |= !strcmp(key, open_writes[k]);
        if (!ok)
            violation("%s: a write that only needs %s", key, r->perm ? "read" : "a login");
    }
}

static void anonymous_pass(void)
{
    char path[512], body[1024];
    struct caller bad = {.name = "bad token", .token = "swt_not-a-real-token"};
    for (size_t i = 0; i < nroutes; i++) {
        const struct route *r = &routes[i];
        if (r->public_)
            continue;
        build_path(r, 0, true, path, sizeof(path));
        build_body(0, true, body, sizeof(body));
        struct http_resp h;
        long st = call(NULL, r, path, has_body(r->method) ? body : NULL, &h);
        if (st != 401)
            violation("%s %s without credentials: got %ld, want 401", r->method, path, st);
        http_free(&h);
        st = call(&bad, r, path, has_body(r->method) ? body : NULL, &h);
        if (st != 401)
            violation("%s %s with a bad token: got %ld, want 401", r->method, path, st);
        http_free(&h);
    }
}

static int setup(void **state)
{
    static const char *env[] = {"SLAWATCH_PASSWORD_COST=min", NULL};
    srv_init(&srv);
    srv_start(&srv, NULL, env);
    return 0;
}

static int teardown(void **state)
{
    if (srv.pid > 0)
        assert_int_equal(srv_stop(&srv), 0);
    srv_cleanup(&srv);
    return 0;
}

static void test_matrix(void **state)
{
    load_routes();
    setup_world();

    int allowed_ok = 0;
    declaration_pass();
    anonymous_pass();
    foreign_pass();         /* before own_pass: that one may delete its own objects */
    platform_pass();
    own_pass(&allowed_ok);
    print_message("matrix: %zu routes x %zu callers, %d allowed calls went through, "
                  "%d violations\n", nroutes, ncallers, allowed_ok, nfail);
    if (nfail) {
        fputs(failures, stderr);
        fail_msg("%d violations (listed above)", nfail);
    }
    assert_true(allowed_ok > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
