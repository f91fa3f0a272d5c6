/* http.h: what a handler sees.
 *
 * A handler validates its input, calls the domain, and answers with one of
 * the reply functions below; the server owns authentication, tenant scope,
 * body limits, JSON parsing, metrics and the response's lifetime.  A handler
 * never checks roles itself: its route in routes.c says what it needs. */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/auth.h"

struct server;
struct req;

typedef void (*http_handler)(struct req *r);

/* Where a route's tenant comes from; server.c checks the caller may act in it. */
enum tenant_from {
    TENANT_NONE,        /* not tenant-scoped (or the handler filters, as lists do) */
    TENANT_PATH,        /* the {tenant_id} path parameter */
    TENANT_QUERY,       /* ?tenant_id= */
    TENANT_BODY,        /* the JSON body's "tenant_id" */
    TENANT_BODY_OPT,    /* the body's "tenant_id" if present, else platform-wide */
    TENANT_QUERY_OPT,   /* ?tenant_id= if present, else platform-wide */
};

enum route_flags {
    ROUTE_PUBLIC    = 1 << 0,   /* no authentication (health, metrics, dashboard) */
    ROUTE_JSON_BODY = 1 << 1,   /* body must be a JSON object (may be empty if optional) */
    ROUTE_BODY_OPTIONAL = 1 << 2,
    ROUTE_BULK_BODY = 1 << 3,   /* raw body up to max_bulk_bytes (NDJSON) */
};

struct route {
    const char *method;
    const char *path;           /* "/api/v1/tenants/{tenant_id}/projects" */
    unsigned perm;              /* enum perm the caller needs */
    enum tenant_from tenant;
    unsigned flags;
    http_handler handler;
    const char *summary;        /* one line, for `slawatch routes` */
    /* Audit, recorded by the server after a 2xx answer: the action name
     * (NULL: not audited here, or the handler records its own row), and a
     * read of the same resource whose answer, taken just before the write,
     * is the row's "before" (NULL: none).  The answer is the "after". */
    const char *audit;
    http_handler audit_before;
};

extern const struct route http_routes[];
extern const size_t http_nroutes;

#define HTTP_MAX_PARAMS 6

struct req {
    struct server *srv;
    struct MHD_Connection *conn;
    /* without conn (tests, fuzzers): the query as name, value, ..., NULL */
    const char *const *query_kv;
    const struct route *route;
    const char *method;
    char *url;

    /* path parameters, in pattern order */
    size_t nparams;
    const char *param_names[HTTP_MAX_PARAMS];
    char *param_values[HTTP_MAX_PARAMS];

    char *body;
    size_t body_len, body_cap, body_limit;
    size_t body_expect;         /* Content-Length, 0 if none (chunked) */
    bool body_too_big;
    uint64_t discarded;         /* body bytes read and dropped (answer known) */
    json_t *json;               /* parsed JSON body (object) or NULL */

    struct auth_principal who;
    bool authenticated;         /* who is set (early, for a bulk route) */
    char *bulk_key;             /* an admitted bulk import's slot (bulk.h) */
    const char *tenant_id;      /* the route's tenant, checked; NULL if none */
    int64_t now;                /* ms since the epoch at arrival */
    uint64_t t0_ns;

    /* the answer */
    int status;
    struct MHD_Response *resp;
    const char *resp_json;      /* the JSON answer's text (inside resp), or NULL */

    /* http_upgrade: who takes the connection; set once it has */
    void (*upgrade_fn)(struct req *, void *, int, const char *, size_t,
                       void (*)(void *), void *);
    void *upgrade_ud;
    bool upgraded;

    /* http_defer: answered later, from another thread (http_resume) */
    bool deferred;
    _Atomic int defer_state;    /* 0 handler running, 1 suspended, 2 answered early */
    /* http_resume_then: the answer is built on the server's thread */
    void (*finish)(struct req *, void *);
    void *finish_ud;
    _Atomic bool answered;      /* set (release) once resp or finish is */

    /* set by a handler that changed nothing (a dry run): the route's
     * audit record is not written */
    bool changed_nothing;
};

/* ---- request accessors ----------------------------------------------- */

const char *http_param(const struct req *r, const char *name);
const char *http_query(const struct req *r, const char *name);
const char *http_header_in(const struct req *r, const char *name);

/* ---- replies (each queues exactly one response) ----------------------- */

/* Steals body. */
void http_json(struct req *r, int status, json_t *body);
void http_no_content(struct req *r);
/* Steals buf (malloc'ed). */
void http_raw(struct req *r, int status, const char *content_type, char *buf, size_t len);
/* Static bytes, never freed (embedded assets). */
void http_static(struct req *r, int status, const char *content_type,
                 const void *buf, size_t len);
/* Deferred answers: a handler that hands its work to another thread (the
 * store's group-commit writer) calls http_defer before returning; that
 * thread later sets the answer with the reply functions above and calls
 * http_resume.  The server thread is free meanwhile (the connection is
 * suspended), so a handful of threads can keep thousands of requests
 * waiting for one commit.  Until http_resume, r and its body stay valid. */
void http_defer(struct req *r);
void http_resume(struct req *r);
/* Resumes a deferred request whose answer fn(r, ud) builds on the server's
 * own thread when the connection runs again (or when the request ends, if
 * the client went away meanwhile: fn is called exactly once).  The thread
 * that resumes (the store's writer) then only hands over a result, and
 * goes on to its next batch instead of serializing JSON for every caller. */
void http_resume_then(struct req *r, void (*fn)(struct req *r, void *ud), void *ud);
/* A bulk import is over (answered): its slot goes to the next one.  Call
 * before http_resume; the server calls it anyway when the request ends. */
void http_bulk_done(struct req *r);

/* {"error":{"code","message","field"}}; field may be NULL. */
void http_error(struct req *r, int status, const char *code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Maps a store/core error code to its HTTP answer. */
void http_fail(struct req *r, int err, const char *what);
/* Adds a header to the queued response (call after a reply function). */
void http_add_header(struct req *r, const char *name, const char *value);
/* 101 Switching Protocols (add its headers with http_add_header).  Once the
 * answer is out, fn runs on an HTTP thread (it must not block) and owns the
 * connection: fd, plus extra, bytes the client sent after its request, to be
 * read first.  It must never close(fd) but call done(done_arg) exactly once,
 * from any thread, when finished.  The request then no longer counts as in
 * flight; r is valid during fn only. */
typedef void (*http_upgrade_fn)(struct req *r, void *ud, int fd, const char *extra,
                                size_t extra_len, void (*done)(void *), void *done_arg);
void http_upgrade(struct req *r, http_upgrade_fn fn, void *ud);
/* The headers every HTML page carries (CSP with frame-ancestors 'none',
 * X-Frame-Options, Referrer-Policy); http_raw and http_static add them by
 * themselves to any text/html answer. */
void http_html_security_headers(struct req *r);
/* The path a request target names (RFC 9112 3.2): origin-form as is,
 * absolute-form ("http://host:port/path") by its path, "*" as is; NULL for
 * anything else (answered 400). */
const char *http_target_path(const char *target);
/* A Host header value: uri-host [":" port], no spaces, controls or
 * delimiters that cannot appear in an authority. */
bool http_host_valid(const char *value);
/* The route table's answer for a path and method: the route's index, or
 * -404 / -405 (for fuzzers and tests; the server routes the same way). */
int http_route_index(const char *path, const char *method);
/* The client's address as text ("?" when unknown). */
void http_client_addr(const struct req *r, char *buf, size_t len);

/* ---- validation (validate.c): the one set of rules for what clients send.
 * v_* answer 422 naming the field on failure and return a negative code, so
 * handlers just `if (v_...(...) < 0) return;`; v_check_* answer nothing and
 * describe the failure in a struct v_err (bulk lines collect them). ------ */

/* An external id: 1..128 printable ASCII characters, no '/'. */
bool http_id_valid(const char *s);
/* Free text that may reach an email, a Slack message, a CSV cell or a log
 * line: no control character (C0 with CR, LF and TAB, DEL, C1), no Unicode
 * line or paragraph separator, no bidirectional override.  s: UTF-8. */
bool http_text_valid(const char *s, size_t len);

struct v_err {
    const char *field;          /* static or the caller's */
    char msg[192];
};

/* Free text (http_text_valid), at most maxlen bytes; absent or null: *out
 * NULL, an error if required (and then "" is refused too). */
int v_check_string(json_t *obj, const char *field, bool required, size_t maxlen,
                   const char **out, struct v_err *e);
int v_check_id(json_t *obj, const char *field, bool required, const char **out,
               struct v_err *e);
/* An RFC 3339 instant after the epoch, at most max_ahead_ms after now. */
int v_check_time(json_t *obj, const char *field, int64_t now, int64_t max_ahead_ms,
                 int64_t *out, struct v_err *e);
/* A string value already in hand (an array element, a nested field). */
int v_check_text_value(const char *s, size_t len, const char *field, size_t minlen,
                       size_t maxlen, struct v_err *e);
/* 422 {"error":{"code":"invalid","message":e->msg,"field":e->field}}. */
void v_answer(struct req *r, const struct v_err *e);

int v_id(struct req *r, json_t *obj, const char *field, bool required, const char **out);
int v_string(struct req *r, json_t *obj, const char *field, bool required,
             size_t maxlen, const char **out);
/* Passwords and signing secrets: any bytes but NUL (never shown or logged). */
int v_secret(struct req *r, json_t *obj, const char *field, bool required,
             size_t maxlen, const char **out);
int v_int(struct req *r, json_t *obj, const char *field, bool required,
          int64_t lo, int64_t hi, int64_t *out, bool *present);

/* Query parameters (absent or empty: *out untouched, or NULL / -1; 0
 * returned).
 * Integers are plain decimal digits (no sign, space or overflow). */
bool http_uint_parse(const char *s, int64_t lo, int64_t hi, int64_t *out);
int q_int(struct req *r, const char *name, int64_t lo, int64_t hi, int64_t *out);
/* One of n words: *out its index, -1 when absent or empty. */
int q_enum(struct req *r, const char *name, const char *const *words, int n, int *out);
/* An id (http_id_valid); "" counts as absent. */
int q_id(struct req *r, const char *name, const char **out);
/* An RFC 3339 instant. */
int q_time(struct req *r, const char *name, int64_t *out);

#endif
