/* server.c: the libmicrohttpd instance and the request pipeline.
 *
 * Mode: MHD_USE_EPOLL_INTERNAL_THREAD with a pool of threads (2 by default),
 * measured here faster than nginx for small JSON answers; MHD_ALLOW_UPGRADE
 * for the WebSocket.  The listening socket is ours (bound before MHD starts),
 * so port 0 works and the bound port is known.
 *
 * Pipeline for every request, in this order, in one place:
 *   match route (404/405) -> body limit (413) -> authenticate (401; a
 *   bearer token, else the dashboard's session cookie, whose writes need the
 *   X-CSRF-Token header: 403 "csrf") -> parse JSON body (415/400) -> tenant
 *   scope (404 when not visible, 403 when the role lacks the route's
 *   permission) -> handler -> metrics.
 * TLS (tls_cert + tls_key) is libmicrohttpd's own, through GnuTLS.
 * libmicrohttpd 0.9.75 sends `Connection: close` on a response queued during
 * the first call of the access handler, so every response is queued on a
 * later call (after the body, if any, has been read).
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "http/analytics.h"
#include "http/api.h"
#include "http/audit.h"
#include "http/bulk.h"
#include "http/conn_guard.h"
#include "http/http.h"
#include "notify/notify.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "ws/ws.h"
#include "sched/sched.h"
#include "store/store_escalation.h"
#include "store/store_findings.h"

int64_t sw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t sw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- request accessors ----------------------------------------------- */

const char *http_param(const struct req *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (!strcmp(r->param_names[i], name))
            return r->param_values[i];
    return NULL;
}

const char *http_query(const struct req *r, const char *name)
{
    if (!r->conn) {         /* a request built by a test or a fuzzer */
        for (size_t i = 0; r->query_kv && r->query_kv[i]; i += 2)
            if (!strcmp(r->query_kv[i], name))
                return r->query_kv[i + 1];
        return NULL;
    }
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header_in(const struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- replies --------------------------------------------------------- */

static void set_response(struct req *r, int status, struct MHD_Response *resp)
{
    if (r->resp)    /* a handler answered twice: keep the first */
        MHD_destroy_response(r->resp);
    r->resp = resp;
    r->status = status;
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->srv && r->srv->tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static bool is_html(const char *content_type)
{
    return strncasecmp(content_type, "text/html", 9) == 0;
}

void http_html_security_headers(struct req *r)
{
    http_add_header(r, "Content-Security-Policy",
                    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                    "form-action 'self'");
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "Referrer-Policy", "no-referrer");
}

void http_raw(struct req *r, int status, const char *content_type, char *buf, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    set_response(r, status, resp);
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (is_html(content_type))
        http_html_security_headers(r);
}

void http_static(struct req *r, int status, const char *content_type,
                 const void *buf, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)buf, MHD_RESPMEM_PERSISTENT);
    set_response(r, status, resp);
    MHD_add_response_header(resp, "Content-Type", content_type);
    if (is_html(content_type))
        http_html_security_headers(r);
}

void http_json(struct req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        http_error(r, 500, "internal", NULL, "cannot encode the answer");
        return;
    }
    http_raw(r, status, "application/json", text, strlen(text));
    r->resp_json = text;        /* owned by the response from here on */
}

void http_no_content(struct req *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    set_response(r, 204, resp);
}

void http_error(struct req *r, int status, const char *code, const char *field,
                const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (field)
        json_object_set_new(err, "field", json_string(field));
    http_json(r, status, json_pack("{s:o}", "error", err));
    if (status == 401)
        http_add_header(r, "WWW-Authenticate", "Bearer");
}

void http_fail(struct req *r, int err, const char *what)
{
    switch (err) {
    case SW_E_NOTFOUND:
        http_error(r, 404, "not_found", NULL, "%s not found", what);
        break;
    case SW_E_EXISTS:
        http_error(r, 409, "conflict", "id", "%s already exists", what);
        break;
    case SW_E_CONFLICT:
        http_error(r, 409, "conflict", NULL, "%s: conflicting state", what);
        break;
    case SW_E_INVAL:
        http_error(r, 422, "invalid", NULL, "%s: invalid value", what);
        break;
    case SW_E_DENIED:
        http_error(r, 403, "forbidden", NULL, "not allowed");
        break;
    case SW_E_BUSY:
        http_error(r, 503, "unavailable", NULL, "busy, retry");
        http_add_header(r, "Retry-After", "1");
        break;
    case SW_E_UNAVAILABLE:
    case SW_E_RETRY:
        /* the database is down, full or read-only: the client may retry */
        http_error(r, 503, "unavailable", NULL, "%s: the database is unavailable, retry later",
                   what);
        http_add_header(r, "Retry-After", "5");
        break;
    default:
        http_error(r, 500, "internal", NULL, "%s: %s", what, sw_strerror(err));
        break;
    }
}

void http_add_header(struct req *r, const char *name, const char *value)
{
    if (r->resp)
        MHD_add_response_header(r->resp, name, value);
}

static void upgrade_done(void *urh)
{
    /* libmicrohttpd closes the socket (and, under TLS, its socketpair) */
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* libmicrohttpd sent the 101: the request is over for the server (counted
 * now, not when the socket closes hours later), the socket is fn's.
 * on_completed still frees r when the upgraded connection is closed. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls,
                       const char *extra, size_t extra_len, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
    struct req *r = con_cls;
    size_t ri = (size_t)(r->route - http_routes);
    metrics_observe(&r->srv->metrics, ri, 101, sw_mono_ns() - r->t0_ns);
    r->upgraded = true;
    conn_guard_upgraded(conn);
    r->srv->in_flight--;
    r->upgrade_fn(r, r->upgrade_ud, (int)sock, extra, extra_len, upgrade_done, urh);
}

void http_upgrade(struct req *r, http_upgrade_fn fn, void *ud)
{
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, NULL);
    if (!resp) {
        http_error(r, 500, "internal", NULL, "cannot upgrade");
        return;
    }
    set_response(r, 101, resp);
    r->upgrade_fn = fn;
    r->upgrade_ud = ud;
}

void http_client_addr(const struct req *r, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(buf, len, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                  (socklen_t)len);
}

/* ---- routing --------------------------------------------------------- */

/* Matches url against pattern, capturing {name} segments.  1 on match. */
static int path_match(const char *pattern, const char *url, struct req *r)
{
    size_t np = 0;
    const char *p = pattern, *u = url;
    while (*p && *u) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *ue = strchr(u, '/');
            if (!ue)
                ue = u + strlen(u);
            if (ue == u || np >= HTTP_MAX_PARAMS)
                return 0;
            if (r) {
                r->param_names[np] = NULL;  /* set below: names are in the pattern */
                r->param_values[np] = xstrndup(u, (size_t)(ue - u));
            }
            np++;
            p = pe + 1;
            u = ue;
            continue;
        }
        if (*p != *u)
            return 0;
        p++;
        u++;
    }
    if (*p || *u)
        return 0;
    if (r)
        r->nparams = np;
    return 1;
}

static void free_params(struct req *r)
{
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->param_values[i]);
        free((char *)r->param_names[i]);
    }
    r->nparams = 0;
}

static void name_params(struct req *r)
{
    size_t i = 0;
    for (const char *p = r->route->path; (p = strchr(p, '{')) && i < r->nparams; i++) {
        const char *e = strchr(p, '}');
        r->param_names[i] = xstrndup(p + 1, (size_t)(e - p - 1));
        p = e;
    }
}

/* "GET, POST" for every route on that path (the Allow header of a 405). */
static void route_methods(const char *url, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < http_nroutes; i++)
        if (path_match(http_routes[i].path, url, NULL) && n + 10 < len)
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", http_routes[i].method);
}

/* 0 with r->route set; 404 or 405 otherwise. */
static int route_find(struct req *r, const char *url, const char *method)
{
    int path_seen = 0;
    for (size_t i = 0; i < http_nroutes; i++) {
        const struct route *rt = &http_routes[i];
        if (!path_match(rt->path, url, NULL))
            continue;
        path_seen = 1;
        if (strcmp(rt->method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            continue;
        path_match(rt->path, url, r);
        r->route = rt;
        name_params(r);
        return 0;
    }
    return path_seen ? 405 : 404;
}

int http_route_index(const char *path, const char *method)
{
    struct req r;
    memset(&r, 0, sizeof(r));
    int miss = route_find(&r, path, method);
    int idx = miss ? -miss : (int)(r.route - http_routes);
    free_params(&r);
    return idx;
}

/* ---- the request line and Host (RFC 9112 3.2) ------------------------ */

const char *http_target_path(const char *target)
{
    if (target[0] == '/' || !strcmp(target, "*"))
        return target;          /* origin-form; asterisk-form (OPTIONS *) */
    /* absolute-form: a server MUST accept it and use the target's host
     * (RFC 9112 3.2.2); we serve one origin, so the path decides */
    size_t skip = !strncasecmp(target, "http://", 7) ? 7 : !strncasecmp(target, "https://", 8) ? 8 : 0;
    if (!skip)
        return NULL;            /* authority-form, other schemes, garbage: 400 */
    const char *auth = target + skip, *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (alen == 0 || memchr(auth, '@', alen))
        return NULL;            /* no host; userinfo is deprecated and refused */
    return slash ? slash : "/";
}

static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    const char **hosts = cls;
    if (!strcasecmp(key, "Host")) {
        hosts[hosts[0] ? 1 : 0] = value ? value : "";
        if (hosts[1])
            return MHD_NO;      /* two are enough to refuse */
    }
    return MHD_YES;
}

bool http_host_valid(const char *v)
{
    /* uri-host [ ":" port ]: reg-name, IPv4 or [IP-literal] characters */
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("/?#@\\\"<>^`{|}", *p))
            return false;
    return true;
}

/* NULL, or why this request's Host is unacceptable: an HTTP/1.1 request
 * carries exactly one, with a valid value (RFC 9112 3.2: else 400). */
static const char *host_problem(struct MHD_Connection *conn, const char *version)
{
    const char *hosts[2] = {NULL, NULL};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_host, hosts);
    if (hosts[1])
        return "more than one Host header";
    if (hosts[0] && !http_host_valid(hosts[0]))
        return "an invalid Host header";
    if (!hosts[0] && strcmp(version, MHD_HTTP_VERSION_1_0) != 0)
        return "an HTTP/1.1 request without a Host header";
    return NULL;
}

/* ---- the pipeline ---------------------------------------------------- */

static bool content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool method_is_safe(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

/* The dashboard's session cookie.  A write through it must echo the
 * session's CSRF token in X-CSRF-Token: a cross-site page can make the
 * browser send the cookie (SameSite=Strict aside) but cannot read the token. */
static int authenticate_session(struct req *r, const char *cookie)
{
    const struct cfg *cfg = r->srv->cfg;
    int rc = auth_session_authenticate(r->srv->store, cookie, r->now,
                                       (int64_t)cfg->session_idle_s * 1000, &r->who);
    if (rc == SW_E_AUTH) {
        http_error(r, 401, "unauthorized", NULL, "session expired or invalid: log in again");
        return -1;
    }
    if (rc < 0) {
        http_fail(r, rc, "authentication");
        return -1;
    }
    if (method_is_safe(r->method))
        return 0;
    const char *sent = http_header_in(r, "X-CSRF-Token");
    size_t n = strlen(r->who.csrf);
    if (!sent || strlen(sent) != n || n == 0 ||
        sodium_memcmp(sent, r->who.csrf, n) != 0) {
        http_error(r, 403, "csrf", NULL,
                   "a write with the session cookie needs the X-CSRF-Token header");
        return -1;
    }
    return 0;
}

/* A bearer token if the request has an Authorization header, else the
 * session cookie; neither: 401. */
static int authenticate(struct req *r)
{
    const char *h = http_header_in(r, "Authorization");
    if (!h) {
        const char *cookie =
            MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, AUTH_SESSION_COOKIE);
        if (cookie)
            return authenticate_session(r, cookie);
    }
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        http_error(r, 401, "unauthorized", NULL, "missing bearer token");
        return -1;
    }
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    int rc = auth_authenticate(r->srv->store, tok, r->now, &r->who);
    if (rc == SW_E_AUTH) {
        http_error(r, 401, "unauthorized", NULL, "invalid, expired or revoked token");
        return -1;
    }
    if (rc < 0) {
        http_fail(r, rc, "authentication");
        return -1;
    }
    return 0;
}

static int parse_body(struct req *r)
{
    const struct route *rt = r->route;
    if (!(rt->flags & ROUTE_JSON_BODY))
        return 0;
    if (r->body_len == 0) {
        if (rt->flags & ROUTE_BODY_OPTIONAL) {
            r->json = json_object();
            return 0;
        }
        http_error(r, 400, "bad_request", NULL, "a JSON object body is required");
        return -1;
    }
    const char *ct = http_header_in(r, "Content-Type");
    if (!content_type_is(ct, "application/json")) {
        http_error(r, 415, "unsupported_media_type", NULL,
                   "Content-Type must be application/json");
        return -1;
    }
    json_error_t jerr;
    r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!r->json) {
        http_error(r, 400, "bad_request", NULL, "malformed JSON at line %d column %d: %s",
                   jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(r->json)) {
        http_error(r, 400, "bad_request", NULL, "the body must be a JSON object");
        return -1;
    }
    return 0;
}

static int check_scope(struct req *r)
{
    const struct route *rt = r->route;
    const char *t = NULL;
    switch (rt->tenant) {
    case TENANT_NONE:
        break;
    case TENANT_PATH:
        t = http_param(r, "tenant_id");
        break;
    case TENANT_QUERY:
    case TENANT_QUERY_OPT:
        t = http_query(r, "tenant_id");
        break;
    case TENANT_BODY:
    case TENANT_BODY_OPT: {
        json_t *v = r->json ? json_object_get(r->json, "tenant_id") : NULL;
        t = json_is_string(v) ? json_string_value(v) : NULL;
        break;
    }
    }
    unsigned perm = rt->perm;
    if ((rt->tenant == TENANT_BODY_OPT || rt->tenant == TENANT_QUERY_OPT) && !t)
        perm |= PERM_PLATFORM;
    else if (rt->tenant != TENANT_NONE) {
        if (!t || !*t) {
            http_error(r, 422, "invalid", "tenant_id", "tenant_id is required");
            return -1;
        }
        if (!http_id_valid(t)) {
            http_error(r, 422, "invalid", "tenant_id",
                       "tenant_id must be 1-128 printable characters without '/'");
            return -1;
        }
    }
    int rc = auth_check(&r->who, perm, t);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "tenant not found");
        return -1;
    }
    if (rc < 0) {
        http_error(r, 403, "forbidden", NULL, "your role may not do this");
        return -1;
    }
    if (t) {
        /* a tenant the caller may act in must also exist (a platform_admin
         * sees every tenant, including ones that do not) */
        struct sw_tenant known;
        rc = store_tenant_get(r->srv->store, t, &known);
        if (rc == SW_E_NOTFOUND) {
            http_error(r, 404, "not_found", NULL, "tenant not found");
            return -1;
        }
        if (rc < 0) {
            http_fail(r, rc, "tenant");
            return -1;
        }
    }
    r->tenant_id = t;
    return 0;
}

/* The route's read of the resource, run on a shadow of the request: its
 * JSON answer (a copy, the caller's) or NULL. */
static char *audit_read_before(struct req *r)
{
    struct req g = *r;
    g.resp = NULL;
    g.resp_json = NULL;
    g.status = 0;
    g.deferred = false;
    r->route->audit_before(&g);
    char *text = g.status == 200 && g.resp_json ? xstrdup(g.resp_json) : NULL;
    if (g.resp)
        MHD_destroy_response(g.resp);
    return text;
}

static json_t *json_or_null(const char *text)
{
    return text ? json_loads(text, 0, NULL) : NULL;
}

static void audit_route(struct req *r, const char *before_text)
{
    json_t *before = json_or_null(before_text);
    json_t *after = json_or_null(r->resp_json);
    audit_record(r, r->tenant_id, r->route->audit, r->url, before, after);
    json_decref(before);
    json_decref(after);
}

/* A query key or value with a NUL byte in it (%00): C strings would see
 * only its head, so "a%00b" would silently mean "a". */
static enum MHD_Result nul_in_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    bool *bad = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        *bad = true;
        return MHD_NO;
    }
    return MHD_YES;
}

static void dispatch(struct req *r)
{
    if (r->status)      /* answered already (404, 405, 413) */
        return;
    bool bad = false;
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, nul_in_query, &bad);
    if (bad) {
        http_error(r, 400, "bad_request", NULL, "a query parameter contains a NUL byte");
        return;
    }
    const struct route *rt = r->route;
    if (!(rt->flags & ROUTE_PUBLIC) && !r->authenticated && authenticate(r) < 0)
        return;
    if (parse_body(r) < 0)
        return;
    if (!(rt->flags & ROUTE_PUBLIC) && check_scope(r) < 0)
        return;
    char *before = rt->audit && rt->audit_before ? audit_read_before(r) : NULL;
    rt->handler(r);
    if (!r->deferred && !r->resp)
        http_error(r, 500, "internal", NULL, "no answer");
    if (rt->audit && !r->deferred && !r->changed_nothing && r->status >= 200 &&
        r->status < 300)
        audit_route(r, before);
    free(before);
}

void http_defer(struct req *r)
{
    r->deferred = true;
}

/* Suspends the connection after a deferring handler returned, unless the
 * answer is already there.  Returns true when suspended (nothing to queue). */
static bool suspend_deferred(struct req *r)
{
    MHD_suspend_connection(r->conn);
    int expected = 0;
    if (atomic_compare_exchange_strong(&r->defer_state, &expected, 1))
        return true;            /* http_resume will resume it */
    /* answered while the handler was returning: resume at once, and the
     * access handler's next call queues the answer */
    MHD_resume_connection(r->conn);
    return true;
}

/* The answer a finish function owes, built at most once. */
static void run_finish(struct req *r)
{
    void (*fn)(struct req *, void *) = r->finish;
    if (!fn)
        return;
    r->finish = NULL;
    fn(r, r->finish_ud);
    if (!r->resp)
        http_error(r, 500, "internal", NULL, "no answer");
}

static void resume_common(struct req *r)
{
    atomic_store_explicit(&r->answered, true, memory_order_release);
    int expected = 0;
    if (atomic_compare_exchange_strong(&r->defer_state, &expected, 2))
        return;                 /* the handler has not returned yet: it will see 2 */
    MHD_resume_connection(r->conn);
}

void http_resume(struct req *r)
{
    if (!r->resp)
        http_error(r, 500, "internal", NULL, "no answer");
    resume_common(r);
}

void http_resume_then(struct req *r, void (*fn)(struct req *r, void *ud), void *ud)
{
    r->finish = fn;
    r->finish_ud = ud;
    resume_common(r);
}

/* A body that will not be used (the answer is already decided: 404, 413,
 * 401 ...) is read and dropped, up to DISCARD_MAX bytes beyond the route's
 * limit, and the answer goes out once it is all in: a client still
 * sending would otherwise get a reset (EPIPE) instead of the answer.
 * Beyond that bound, or for a client that said `Expect: 100-continue`
 * (it sends nothing before it is told to), the answer goes out at once
 * and the connection closes. */
#define DISCARD_MAX ((uint64_t)16 << 20)
#define BODY_FIRST_ALLOC ((size_t)1 << 20)

static bool expects_continue(struct MHD_Connection *conn)
{
    const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    return e && !strcasecmp(e, "100-continue");
}

/* Whose import this is, for the per-tenant bound: the tenant of a
 * principal that acts in one tenant, else the principal itself. */
static void bulk_key_of(const struct auth_principal *p, char *out, size_t len)
{
    const char *t = NULL;
    bool one = p->ngrants > 0;
    for (size_t i = 0; i < p->ngrants && one; i++) {
        const char *g = p->grants[i].tenant_id;
        one = g[0] && (!t || !strcmp(t, g));
        t = g;
    }
    if (one)
        snprintf(out, len, "tenant:%s", t);
    else
        snprintf(out, len, "actor:%s", p->actor);
}

/* A bulk import is admitted from its headers, before its body (up to
 * max_bulk_bytes) is read and buffered: who it is must be known then
 * (401 or 429 now, the body dropped). */
static void bulk_admission(struct req *r)
{
    if (authenticate(r) < 0)
        return;
    r->authenticated = true;
    char key[SW_ID_MAX + SW_NAME_MAX + 48];
    bulk_key_of(&r->who, key, sizeof(key));
    if (bulk_admit(r->srv->bulk, key) < 0) {
        http_error(r, 429, "too_many_requests", NULL,
                   "too many bulk imports at once (%u per tenant, %u in all): retry later",
                   r->srv->cfg->bulk_max_per_tenant, r->srv->cfg->bulk_max_concurrent);
        http_add_header(r, "Retry-After", "5");
        return;
    }
    r->bulk_key = xstrdup(key);
}

void http_bulk_done(struct req *r)
{
    if (r->bulk_key)
        bulk_release(r->srv->bulk, r->bulk_key);
    free(r->bulk_key);
    r->bulk_key = NULL;
}

/* The first call: headers in, no body read yet.  Decides the route, the
 * body's limit and whether the answer is already known. */
static enum MHD_Result on_head(struct server *srv, struct MHD_Connection *conn,
                               const char *url, const char *method, const char *version,
                               void **con_cls)
{
    if (!conn_guard_head(conn))
        return MHD_NO;          /* past its deadline: closed already */
    const char *path = http_target_path(url);
    const char *bad_host = host_problem(conn, version);
    struct req *r = xcalloc(1, sizeof(*r));
    r->srv = srv;
    r->conn = conn;
    r->method = method;
    r->url = xstrdup(path ? path : url);
    r->now = sw_now_ms();
    r->t0_ns = sw_mono_ns();
    srv->in_flight++;
    *con_cls = r;

    int miss = path ? route_find(r, path, method) : 0;
    if (!path)
        http_error(r, 400, "bad_request", NULL,
                   "the request target must be a path or an http(s) absolute URI");
    else if (bad_host)
        http_error(r, 400, "bad_request", NULL, "%s (RFC 9112 3.2)", bad_host);
    else if (miss == 404)
        http_error(r, 404, "not_found", NULL, "no such path");
    else if (miss == 405) {
        char allow[128];
        route_methods(path, allow, sizeof(allow));
        http_error(r, 405, "method_not_allowed", NULL, "method %s not allowed here", method);
        http_add_header(r, "Allow", allow);
    } else
        r->body_limit = (r->route->flags & ROUTE_BULK_BODY) ? srv->cfg->max_bulk_bytes
                                                            : srv->cfg->max_body_bytes;

    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    uint64_t clen = cl ? strtoull(cl, NULL, 10) : 0;    /* libmicrohttpd checked its form */
    if (!r->status && r->route && (r->route->flags & ROUTE_BULK_BODY))
        bulk_admission(r);
    if (!r->status && cl && clen > r->body_limit) {
        r->body_too_big = true;
        http_error(r, 413, "too_large", NULL, "body over %zu bytes", r->body_limit);
    } else if (!r->status && cl && clen) {
        /* grow toward the announced size, never past it: few copies, and
         * no memory promised to a client that announces and never sends */
        r->body_expect = (size_t)clen;
        r->body_cap = (clen < BODY_FIRST_ALLOC ? (size_t)clen : BODY_FIRST_ALLOC) + 1;
        r->body = xmalloc(r->body_cap);
    }
    if (!r->status || (!(cl && clen) && !te))
        return MHD_YES;         /* answered on the last call, after the body */
    if (expects_continue(conn) || (cl && clen > r->body_limit + DISCARD_MAX)) {
        /* the client is waiting for 100 Continue, or will send too much to
         * read: answer now, libmicrohttpd closes the connection after it */
        conn_guard_received(conn);
        return MHD_queue_response(conn, (unsigned)r->status, r->resp);
    }
    return MHD_YES;             /* read and drop the body, then answer */
}

/* A chunk of the body. */
static enum MHD_Result on_body(struct req *r, const char *upload, size_t size)
{
    if (!r->status && r->body_len + size > r->body_limit) {
        /* chunked (or longer than announced): over the limit in flight */
        r->body_too_big = true;
        free(r->body);
        r->body = NULL;
        r->discarded = r->body_len;
        r->body_len = r->body_cap = 0;
        http_error(r, 413, "too_large", NULL, "body over %zu bytes", r->body_limit);
    }
    if (r->status) {
        r->discarded += size;
        if (r->discarded <= r->body_limit + DISCARD_MAX)
            return MHD_YES;
        /* enough: libmicrohttpd cannot queue an answer in the middle of a
         * body, so it is written to the socket, and the connection closed */
        conn_guard_send_raw(r->conn, r->srv->tls, (unsigned)r->status,
                            r->resp_json ? r->resp_json : "{}");
        return MHD_NO;
    }
    if (r->body_len + size + 1 > r->body_cap) {
        /* double, up to the announced size (or the limit, past it) */
        size_t need = r->body_len + size + 1;
        size_t top = (r->body_expect >= need - 1 ? r->body_expect : r->body_limit) + 1;
        size_t cap = r->body_cap * 2 > need ? r->body_cap * 2 : need;
        r->body_cap = cap < top ? cap : top;
        r->body = xrealloc(r->body, r->body_cap);
    }
    memcpy(r->body + r->body_len, upload, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
    return MHD_YES;
}

/* Accept policy: once server_stop has begun, a new connection is closed as
 * soon as accepted (the client sees its connection reset). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    const struct server *srv = cls;
    return atomic_load(&srv->stopping) ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct server *srv = cls;
    struct req *r = *con_cls;

    if (!r)
        return on_head(srv, conn, url, method, version, con_cls);

    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return on_body(r, upload, n);
    }
    if (!conn_guard_received(conn))
        return MHD_NO;          /* the reaper answered 408 and closed it */

    if (r->deferred) {
        /* resumed: the answer is set (a spurious call before it is: wait) */
        if (!atomic_load_explicit(&r->answered, memory_order_acquire))
            return MHD_YES;
        run_finish(r);
        return MHD_queue_response(conn, (unsigned)r->status, r->resp);
    }
    dispatch(r);
    if (r->deferred && suspend_deferred(r))
        return MHD_YES;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, r->resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct req *r = *con_cls;
    conn_guard_idle(conn);      /* the next request's deadlines start now */
    if (!r)
        return;
    size_t ri = r->route ? (size_t)(r->route - http_routes) : http_nroutes;
    if (!r->upgraded)   /* else counted by on_upgrade */
        metrics_observe(&srv->metrics, ri, r->status, sw_mono_ns() - r->t0_ns);
    http_bulk_done(r);          /* an import refused or cut short */
    if (r->deferred && atomic_load_explicit(&r->answered, memory_order_acquire))
        run_finish(r);          /* the client left before its answer was built */
    if (r->resp)
        MHD_destroy_response(r->resp);
    json_decref(r->json);
    free_params(r);
    free(r->body);
    free(r->url);
    bool upgraded = r->upgraded;
    free(r);
    *con_cls = NULL;
    if (!upgraded)
        srv->in_flight--;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug("http: %s", msg);
}

static int bind_listen(const struct cfg *cfg, int *port_out, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", cfg->listen_port);
    int rc = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    if (rc != 0) {
        /* not numeric: resolve names like localhost */
        hints.ai_flags = AI_PASSIVE;
        rc = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", cfg->listen_host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0)
        goto fail;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(ai);
    return fd;
fail:
    snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
             strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return -1;
}

/* A whole PEM file, NUL-terminated, or NULL with err set. */
static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    size_t k;
    while ((k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (len + 1 == cap) {
            if (cap >= (1u << 20))
                break;              /* no certificate chain is a megabyte */
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (!strstr(buf, "-----BEGIN ")) {
        snprintf(err, errlen, "the TLS %s %s is not PEM", what, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static void free_pems(struct server *srv)
{
    free(srv->tls_cert_pem);
    if (srv->tls_key_pem)
        sodium_memzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
    free(srv->tls_key_pem);
}

/* ---- the scheduler ----------------------------------------------------- */

/* A round wrote events: their outbox rows are waiting. */
static void sched_done(void *ud, int processed)
{
    notify_wake(((struct server *)ud)->notifier);
}

static void sched_hint_adapter(void *ud, int64_t at)
{
    sched_hint(ud, at);
}

/* Live notices (a websocket row delivered, or straight after the commit
 * for tenants without that channel: store_escalation.h) to this node's
 * dashboards, with the item's link when public_url is set: the link is
 * this node's setting, so it is added here, as the notifier adds it to
 * what it sends. */
static void live_publish(void *ud, const char *tenant_id, const char *text, size_t len)
{
    struct server *srv = ud;
    if (!srv->cfg->public_url[0] || !strstr(text, "\"item_id\"")) {
        ws_publish(srv->ws, tenant_id, text, len);
        return;
    }
    char *body = notify_body_with_url(text, srv->cfg->public_url);
    ws_publish(srv->ws, tenant_id, body, strlen(body));
    free(body);
}

/* Sources: alerts (store_escalation.h) and findings (store_findings.h). */
static int sched_wire(struct server *srv)
{
    struct store *st = srv->store;
    struct sched_source src[2];
    int n = 0;
    st->live = live_publish;
    st->live_ud = srv;
    if (!srv->cfg->scheduler_enabled)
        return 0;       /* an API-only node: the others detect and escalate */
    if (st->escalation)
        src[n++] = (struct sched_source){"alerts", st->escalation->alerts_next_due,
                                         st->escalation->alerts_process_due};
    if (st->findings && st->findings->next_due && st->findings->process_due)
        src[n++] = (struct sched_source){"findings", st->findings->next_due,
                                         st->findings->process_due};
    if (sched_start(st, src, n, NULL, sched_done, srv, &srv->sched) < 0)
        return -1;
    st->due_hint_ud = srv->sched;
    st->due_hint = sched_hint_adapter;
    srv->metrics.sched = srv->sched;
    return 0;
}

static void sched_unwire(struct server *srv)
{
    srv->store->due_hint = NULL;
    srv->store->due_hint_ud = NULL;
    srv->metrics.sched = NULL;
    sched_stop(srv->sched);     /* NULL-safe; no round runs after it */
    srv->sched = NULL;
    srv->store->live = NULL;
    srv->store->live_ud = NULL;
}

int server_start(const struct cfg *cfg, struct store *store, struct server **out,
                 char *err, size_t errlen)
{
    struct server *srv = xcalloc(1, sizeof(*srv));
    srv->cfg = cfg;
    srv->store = store;
    srv->started_at = sw_now_ms();
    srv->listen_fd = -1;
    metrics_init(&srv->metrics, http_nroutes);
    char pw[AUTH_TOKEN_LEN + 1];
    auth_random_secret("dmy_", pw);
    _Static_assert(sizeof(srv->dummy_pwhash) >= SW_PWHASH_MAX + 1, "dummy hash buffer");
    if (auth_password_hash(pw, cfg->password_cost, srv->dummy_pwhash) < 0) {
        snprintf(err, errlen, "argon2id: not enough memory for password_cost %s",
                 cfg->password_cost);
        goto fail;
    }
    if (cfg->tls_cert[0]) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "this libmicrohttpd has no TLS support: cannot serve HTTPS");
            goto fail;
        }
        srv->tls_cert_pem = read_pem(cfg->tls_cert, "certificate", err, errlen);
        srv->tls_key_pem = srv->tls_cert_pem ? read_pem(cfg->tls_key, "key", err, errlen) : NULL;
        if (!srv->tls_key_pem)
            goto fail;
        srv->tls = true;
    }
    srv->listen_fd = bind_listen(cfg, &srv->port, err, errlen);
    if (srv->listen_fd < 0)
        goto fail;
    /* before the daemon: an upgrade may come with the first request */
    struct ws_opts wo;
    ws_opts_default(&wo);
    wo.metrics_interval_ms = cfg->ws_metrics_interval_ms;
    wo.ping_interval_ms = cfg->ws_ping_interval_ms;
    wo.pong_timeout_ms = cfg->ws_pong_timeout_ms;
    wo.max_queue_msgs = cfg->ws_max_queue_msgs;
    wo.max_queue_bytes = cfg->ws_max_queue_bytes;
    wo.recheck_interval_ms = cfg->ws_recheck_interval_ms;
    if (ws_hub_new_opts(&wo, &srv->ws) < 0) {
        snprintf(err, errlen, "cannot start the WebSocket hub");
        goto fail;
    }
    /* each socket's token or session checked again (api_ws.c) */
    ws_set_auth_cb(srv->ws, api_ws_recheck, srv);
    srv->metrics.ws = srv->ws;
    /* before the daemon too: handlers wake it (srv->notifier) */
    struct notify_opts no;
    notify_opts_from_cfg(&no, cfg);
    if (notify_start(store, srv->ws, &no, &srv->notifier) < 0) {
        snprintf(err, errlen, "cannot start the notification workers");
        goto fail;
    }
    srv->metrics.notifier = srv->notifier;

    /* the scheduler too: writes hint it (store->due_hint) from the start */
    if (sched_wire(srv) < 0) {
        snprintf(err, errlen, "cannot start the scheduler");
        goto fail;
    }
    /* live gauges every 5 minutes; the /current numbers in WebSocket metrics */
    if (gauges_start(srv, &srv->gauges) < 0) {
        snprintf(err, errlen, "cannot start the live gauges");
        goto fail;
    }
    ws_set_metrics_cb(srv->ws, gauges_ws_metrics, srv);

    if (bulk_pool_start(cfg->bulk_workers, cfg->bulk_max_concurrent, cfg->bulk_max_per_tenant,
                        &srv->bulk) < 0) {
        snprintf(err, errlen, "cannot start the bulk import workers");
        goto fail;
    }
    srv->metrics.bulk = srv->bulk;
    if (conn_guard_start(cfg->header_timeout_s, cfg->request_timeout_s, srv->tls,
                         &srv->guard) < 0) {
        snprintf(err, errlen, "cannot start the request deadline thread");
        goto fail;
    }
    srv->metrics.guard = srv->guard;

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_UPGRADE | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    /* HTTPS through libmicrohttpd's GnuTLS; MHD keeps the PEM pointers */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    if (srv->tls)
        flags |= MHD_USE_TLS;
    else
        tls_opts[0].option = MHD_OPTION_END;
    srv->mhd = MHD_start_daemon(flags, 0, on_accept, srv, on_request, srv,
        MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_conn_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s,
        /* bounds the request line + headers (431 beyond), per connection;
         * libmicrohttpd clears this pool per request, so keep it modest */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        /* per-request deadlines (conn_guard.h): connection_timeout is only
         * an idle timeout, which a byte every few seconds never reaches */
        MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify, srv->guard,
        MHD_OPTION_URI_LOG_CALLBACK, conn_guard_uri_log, srv->guard,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_END);
    /* The listening socket is libmicrohttpd's from here on, whether the
     * daemon started or not: it closes the socket when the start fails
     * (0.9.75).  Closing it again in the fail path closed whatever another
     * thread had opened meanwhile under the same number (the notify workers
     * and the scheduler run already): SQLite's database file, seen as "disk
     * I/O error" (fstat: EBADF) and a connection LeakSanitizer reported as
     * lost by a notify worker.  A library that kept it open on failure would
     * leak one descriptor in a process about to exit. */
    srv->listen_fd = -1;
    if (!srv->mhd) {
        snprintf(err, errlen, srv->tls ? "cannot start the HTTPS server (the certificate and "
                                         "key must be PEM and match)"
                                       : "cannot start the HTTP server");
        goto fail;
    }
    *out = srv;
    return 0;
fail:
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    conn_guard_stop(srv->guard);
    bulk_pool_free(srv->bulk);
    gauges_stop(srv->gauges);
    sched_unwire(srv);
    notify_stop(srv->notifier);
    ws_hub_free(srv->ws);
    free_pems(srv);
    metrics_release(&srv->metrics);
    free(srv);
    return SW_E_IO;
}

void server_stop(struct server *srv)
{
    if (!srv)
        return;
    /* Stop accepting: connections arriving from here on are closed as soon
     * as accepted (on_accept).  Not MHD_quiesce_daemon: in 0.9.75-0.9.77,
     * with a pool of epoll threads, it races each thread taking the
     * listening socket out of its own epoll set and aborts the process
     * ("Failed to remove listen FD from epoll set", daemon.c:5531, its
     * epoll_ctl DEL meeting ENOENT), seen once in CI at a SIGTERM right
     * after a WebSocket close.  The listening socket stays open, in
     * libmicrohttpd's hands, until MHD_stop_daemon. */
    atomic_store(&srv->stopping, true);
    /* WebSocket clients get 1001 and their sockets go back to libmicrohttpd,
     * which must see them released before MHD_stop_daemon; later upgrades
     * are released at once.  The hub itself lives until the daemon is gone. */
    ws_hub_shutdown(srv->ws);
    uint64_t deadline = sw_mono_ns() + (uint64_t)srv->cfg->drain_timeout_s * 1000000000u;
    while (srv->in_flight > 0 && sw_mono_ns() < deadline) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (srv->in_flight > 0)
        log_warn("stopping with %d requests still in flight", (int)srv->in_flight);
    /* imports still queued answer 503, a running one stops between two
     * chunks; all resume their connections before the daemon goes */
    bulk_pool_stop(srv->bulk);
    MHD_stop_daemon(srv->mhd);
    srv->metrics.bulk = NULL;
    bulk_pool_free(srv->bulk);
    srv->metrics.guard = NULL;
    conn_guard_stop(srv->guard);    /* every connection is closed now */
    gauges_stop(srv->gauges);
    /* no handler writes now: the scheduler stops before the notifier it wakes */
    sched_unwire(srv);
    /* no handler runs now (none can wake it); deliveries in flight abort
     * and their rows are released for the next start */
    srv->metrics.notifier = NULL;
    notify_stop(srv->notifier);
    ws_hub_free(srv->ws);
    free_pems(srv);
    metrics_release(&srv->metrics);
    free(srv);
}
