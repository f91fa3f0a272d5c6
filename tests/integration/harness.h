/* harness: start the real slawatch binary on a port it picks (port 0, read
 * back from its `listening on` line) with its own temp database, and talk
 * HTTP to it with libcurl.  Every integration test uses this. */
#ifndef SW_TEST_HARNESS_H
#define SW_TEST_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ADMIN_TOKEN "test-admin-token-0123456789abcdef"

struct sw_server {
    pid_t pid;
    int port;
    int out_fd;             /* the child's stdout, kept open */
    char dir[256];          /* temp dir holding the db and the log */
    char db[512];           /* sqlite:PATH, or postgres://... under SLAWATCH_TEST_BACKEND=postgres */
    bool pg;                /* db is a database of the test cluster (pgtest.h) */
    char base[64];          /* http://127.0.0.1:PORT (https:// under --tls-cert) */
    bool tls;               /* the server said `listening on https://` */
};

struct http_resp {
    long status;
    char *body;
    size_t len;
    char *headers;          /* raw header block */
    json_t *json;           /* parsed body, or NULL */
};

/* A fresh temp dir and database: SQLite in the dir, or a new database in
 * the test cluster when SLAWATCH_TEST_BACKEND=postgres (ctest runs every
 * integration test both ways). */
void srv_init(struct sw_server *s);
/* Starts (or restarts, on the same database) the binary; extra_args are
 * appended to `serve`, env is a NULL-terminated list of NAME=VALUE.
 * Fails the test on error. */
void srv_start(struct sw_server *s, const char *const *extra_args, const char *const *env);
/* SIGTERM, and the exit status (0 expected). */
int srv_stop(struct sw_server *s);
/* SIGKILL, no cleanup: a crash. */
void srv_kill9(struct sw_server *s);
/* Removes the temp dir. */
void srv_cleanup(struct sw_server *s);
/* Path of a file in the server's temp dir. */
const char *srv_path(struct sw_server *s, const char *name, char *buf, size_t len);

/* cmocka fixtures: a fresh server on a temp database in *state, and its
 * stop (SIGTERM must exit 0: a leak or crash under the sanitizers fails the
 * test) and cleanup. */
int it_server_setup(void **state);
int it_server_teardown(void **state);

/* A tenant `id` named "Tenant <id>", and a token of role in tenant (its
 * secret in out), both made through the API by the admin; fail the test
 * unless 201. */
void it_make_tenant(struct sw_server *s, const char *id);
void it_make_token(struct sw_server *s, const char *role, const char *tenant, char *out,
                   size_t len);

/* One request.  body may be NULL; ctype NULL means application/json when a
 * body is given; token NULL means no Authorization header. */
void http_req(struct sw_server *s, const char *method, const char *path, const char *token,
              const char *ctype, const char *body, size_t body_len, struct http_resp *out);
/* As http_req, with extra request headers ("Name: value", NULL-terminated
 * list, may be NULL): cookies, X-CSRF-Token, ... */
void http_req_h(struct sw_server *s, const char *method, const char *path, const char *token,
                const char *const *headers, const char *ctype, const char *body,
                size_t body_len, struct http_resp *out);
void http_free(struct http_resp *r);
/* Frees this thread's connection; call before a test thread ends. */
void http_thread_done(void);
/* Header value (case-insensitive name) or NULL; points into r->headers' copy. */
const char *http_resp_header(struct http_resp *r, const char *name, char *buf, size_t len);

/* Shorthands with the admin token and JSON; they return the status and
 * free the response unless out is given. */
long api(struct sw_server *s, const char *method, const char *path, const char *token,
         const char *json_body, struct http_resp *out);

/* An error answer has the DESIGN.md shape, with that field when given. */
void assert_error_shape(struct http_resp *r, const char *code, const char *field);

/* Runs a command line and captures its stdout (first line) into out. Returns
 * the exit status. */
int run_capture(const char *const *argv, const char *const *env, char *out, size_t outlen);

/* A latency bound of the normal build, ms, times SLAWATCH_TEST_TIME_SCALE
 * (set by CMake for the sanitizer build).  The bounds are product claims
 * (a breach is seen within a second) that the normal build checks; under
 * AddressSanitizer the same work is several times slower (its allocator's
 * quarantine turns SQLite's page-cache churn into fresh pages and page
 * faults: the 300-breach burst takes 45-235 ms normally, 260-1700 ms under
 * ASan on a loaded 2-core machine), and those runs check memory, not speed. */
long it_time_bound_ms(long ms);

#endif
