/* fuzz_query: what a request line carries, as the server reads it.
 * Input: the request target on the first line ("/api/v1/alerts?limit=5",
 * "http://host/path", ...), the Host header value on the second, a method
 * on the third.  The target goes through http_target_path (origin- and
 * absolute-form), the route table (http_route_index), and its query string,
 * split and percent-decoded like libmicrohttpd does (MHD_http_unescape),
 * through every query parser the handlers use: q_int, q_enum, q_id,
 * q_time, an_param_days/sev/project.  The Host value through
 * http_host_valid. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/analytics.h"
#include "http/http.h"

#define MAXKV 16

static void reset(struct req *r)
{
    if (r->resp)
        MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->resp_json = NULL;
    if (r->status && r->status != 422)
        abort();            /* a query parser answers 422 or nothing */
    r->status = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char *host = strchr(s, '\n');
    char *method = NULL;
    if (host) {
        *host++ = '\0';
        method = strchr(host, '\n');
        if (method)
            *method++ = '\0';
        http_host_valid(host);
    }
    char *q = strchr(s, '?');
    if (q)
        *q++ = '\0';

    const char *path = http_target_path(s);
    if (path) {
        if (path != s && strncasecmp(s, "http", 4) != 0)
            abort();
        if (path[0] != '/' && strcmp(path, "*") != 0)
            abort();
        int idx = http_route_index(path, method && *method ? method : "GET");
        if (idx >= (int)http_nroutes || (idx < 0 && idx != -404 && idx != -405))
            abort();
    }

    /* the query, as libmicrohttpd hands it over: split on '&' then '=',
     * '+' as space, %XX decoded (values may then hold any byte) */
    const char *kv[2 * MAXKV + 1];
    size_t n = 0;
    for (char *tok = q ? strtok(q, "&") : NULL; tok && n < 2 * MAXKV; tok = strtok(NULL, "&")) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq++ = '\0';
        for (char *p = tok; *p; p++)
            if (*p == '+')
                *p = ' ';
        for (char *p = eq; p && *p; p++)
            if (*p == '+')
                *p = ' ';
        MHD_http_unescape(tok);
        if (eq)
            MHD_http_unescape(eq);
        kv[n++] = tok;
        kv[n++] = eq ? eq : "";
    }
    kv[n] = NULL;

    struct req r;
    memset(&r, 0, sizeof(r));
    r.query_kv = kv;
    int64_t v = -7;
    int e = 0, days = 0;
    const char *id;
    static const char *const words[] = {"open", "acknowledged", "resolved"};
    static const char *const names[] = {"limit", "cursor", "days", "since", "state",
                                        "severity", "project_id", "tenant_id"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        v = -7;
        if (q_int(&r, names[i], 1, 1000, &v) == 0 && v != -7 && (v < 1 || v > 1000))
            abort();
        reset(&r);
        if (q_enum(&r, names[i], words, 3, &e) == 0 && (e < -1 || e > 2))
            abort();
        reset(&r);
        if (q_id(&r, names[i], &id) == 0 && id && !http_id_valid(id))
            abort();
        reset(&r);
        int64_t t = -7;
        if (q_time(&r, names[i], &t) == 0 && t != -7 && t < 0)
            abort();
        reset(&r);
    }
    if (an_param_days(&r, "days", 30, 365, &days) == 0 && (days < 1 || days > 365))
        abort();
    reset(&r);
    an_param_sev(&r, &e);
    reset(&r);
    an_param_project(&r);
    free(s);
    return 0;
}
