/* test_openapi.c: docs/openapi.yaml documents exactly the routes in routes.c.
 *
 * Fails, naming it, for a registered route whose path or method is missing
 * from the yaml, for a documented path + method that is not registered
 * (stale docs), for a public route without `security: []` (or a private one
 * with it), and for a path or method documented twice.
 *
 * The yaml is read line by line, relying on the layout docs/openapi.yaml
 * promises in its header: under the top-level `paths:`, a path key is
 * `  /...:` (2 spaces), an operation `    get:` (4 spaces) and its security
 * override `      security: []` (6 spaces).
 *
 * Where the file is: $SLAWATCH_OPENAPI if set (that file only: to try a
 * modified copy), else
 * $SLAWATCH_SRC/docs/openapi.yaml, else ../docs, ../../docs, docs relative
 * to the working directory (ctest runs this in the build directory), else
 * next to this source file (__FILE__ is absolute under CMake). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define MAX_OPS 1024

struct doc_op {
    char path[512];
    char method[16];            /* upper case, as in routes.c */
    bool is_public;             /* has `security: []` */
    int line;
};

struct doc {
    char file[1024];
    struct doc_op ops[MAX_OPS];
    size_t nops;
    /* path keys, to catch a path written twice */
    char paths[MAX_OPS][512];
    int path_lines[MAX_OPS];
    size_t npaths;
    char errors[8192];          /* layout problems found while parsing */
};

static const char *const methods[] = {"get", "put", "post", "delete", "patch",
                                      "head", "options", "trace"};

static void doc_errorf(struct doc *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void doc_errorf(struct doc *d, const char *fmt, ...)
{
    size_t n = strlen(d->errors);
    if (n + 1 >= sizeof(d->errors))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->errors + n, sizeof(d->errors) - n, fmt, ap);
    va_end(ap);
    n = strlen(d->errors);
    if (n + 1 < sizeof(d->errors)) {
        d->errors[n] = '\n';
        d->errors[n + 1] = '\0';
    }
}

static size_t indent_of(const char *s)
{
    size_t n = 0;
    while (s[n] == ' ')
        n++;
    return n;
}

/* Removes a trailing comment (" #...") and trailing blanks, in place. */
static void strip_tail(char *s)
{
    char *hash = strstr(s, " #");
    if (hash)
        *hash = '\0';
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* Parses the yaml text (modified in place) into d.  Returns 0, or -1 when no
 * `paths:` section was found. */
static int doc_parse(struct doc *d, char *text)
{
    bool in_paths = false, seen_paths = false;
    char cur_path[512] = "";
    struct doc_op *cur_op = NULL;
    int lineno = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        strip_tail(line);
        size_t ind = indent_of(line);
        const char *s = line + ind;

        if (*s == '\0' || *s == '#') {
            /* blank or comment: no structure */
        } else if (ind == 0) {
            in_paths = !strcmp(s, "paths:");
            seen_paths |= in_paths;
            cur_path[0] = '\0';
            cur_op = NULL;
        } else if (in_paths && ind == 2) {
            cur_op = NULL;
            cur_path[0] = '\0';
            size_t n = strlen(s);
            if (s[0] != '/' || n < 2 || s[n - 1] != ':' || strchr(s, ' ')) {
                doc_errorf(d, "%s:%d: not a path key `  /...:` under paths: \"%s\"",
                           d->file, lineno, s);
            } else if (d->npaths >= MAX_OPS) {
                doc_errorf(d, "%s:%d: too many paths", d->file, lineno);
            } else {
                snprintf(cur_path, sizeof(cur_path), "%.*s", (int)(n - 1), s);
                for (size_t i = 0; i < d->npaths; i++)
                    if (!strcmp(d->paths[i], cur_path))
                        doc_errorf(d, "%s:%d: path %s already documented at line %d",
                                   d->file, lineno, cur_path, d->path_lines[i]);
                snprintf(d->paths[d->npaths], sizeof(d->paths[0]), "%s", cur_path);
                d->path_lines[d->npaths++] = lineno;
            }
        } else if (in_paths && ind == 4 && cur_path[0]) {
            cur_op = NULL;
            for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
                size_t k = strlen(methods[m]);
                if (strncmp(s, methods[m], k) != 0 || s[k] != ':')
                    continue;
                if (d->nops >= MAX_OPS) {
                    doc_errorf(d, "%s:%d: too many operations", d->file, lineno);
                    break;
                }
                struct doc_op *op = &d->ops[d->nops];
                memset(op, 0, sizeof(*op));
                snprintf(op->path, sizeof(op->path), "%s", cur_path);
                for (size_t i = 0; i < k && i + 1 < sizeof(op->method); i++)
                    op->method[i] = (char)toupper((unsigned char)methods[m][i]);
                op->line = lineno;
                for (size_t i = 0; i < d->nops; i++)
                    if (!strcmp(d->ops[i].path, op->path) &&
                        !strcmp(d->ops[i].method, op->method))
                        doc_errorf(d, "%s:%d: %s %s already documented at line %d",
                                   d->file, lineno, op->method, op->path, d->ops[i].line);
                cur_op = op;
                d->nops++;
                break;
            }
        } else if (in_paths && ind == 6 && cur_op) {
            if (!strncmp(s, "security:", 9)) {
                const char *v = s + 9;
                while (*v == ' ')
                    v++;
                cur_op->is_public = !strcmp(v, "[]");
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return seen_paths ? 0 : -1;
}

static const struct doc_op *doc_find(const struct doc *d, const char *method, const char *path)
{
    for (size_t i = 0; i < d->nops; i++)
        if (!strcmp(d->ops[i].method, method) && !strcmp(d->ops[i].path, path))
            return &d->ops[i];
    return NULL;
}

static bool doc_has_path(const struct doc *d, const char *path)
{
    for (size_t i = 0; i < d->npaths; i++)
        if (!strcmp(d->paths[i], path))
            return true;
    return false;
}

static const struct route *route_find_exact(const struct route *routes, size_t n,
                                            const char *method, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(routes[i].method, method) && !strcmp(routes[i].path, path))
            return &routes[i];
    return NULL;
}

/* ---- the checks, each printing every problem and returning their count -- */

static int check_missing(const struct doc *d, const struct route *routes, size_t n, bool say)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &routes[i];
        if (!doc_has_path(d, rt->path)) {
            if (say)
                print_error("%s: route %s %s: path missing under paths:\n", d->file,
                            rt->method, rt->path);
            bad++;
        } else if (!doc_find(d, rt->method, rt->path)) {
            char lower[16] = "";
            for (size_t k = 0; rt->method[k] && k + 1 < sizeof(lower); k++)
                lower[k] = (char)tolower((unsigned char)rt->method[k]);
            if (say)
                print_error("%s: route %s %s: method `%s:` missing under path %s\n", d->file,
                            rt->method, rt->path, lower, rt->path);
            bad++;
        }
    }
    return bad;
}

static int check_stale(const struct doc *d, const struct route *routes, size_t n, bool say)
{
    int bad = 0;
    for (size_t i = 0; i < d->nops; i++) {
        const struct doc_op *op = &d->ops[i];
        if (!route_find_exact(routes, n, op->method, op->path)) {
            if (say)
                print_error("%s:%d: %s %s is documented but not registered in routes.c\n",
                            d->file, op->line, op->method, op->path);
            bad++;
        }
    }
    return bad;
}

static int check_security(const struct doc *d, const struct route *routes, size_t n, bool say)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &routes[i];
        const struct doc_op *op = doc_find(d, rt->method, rt->path);
        if (!op)
            continue;           /* check_missing reports it */
        bool pub = (rt->flags & ROUTE_PUBLIC) != 0;
        if (pub && !op->is_public) {
            if (say)
                print_error("%s:%d: %s %s is public: its operation needs `security: []`\n",
                            d->file, op->line, rt->method, rt->path);
            bad++;
        } else if (!pub && op->is_public) {
            if (say)
                print_error("%s:%d: %s %s needs a bearer token: remove `security: []`\n",
                            d->file, op->line, rt->method, rt->path);
            bad++;
        }
    }
    return bad;
}

/* ---- loading the real file -------------------------------------------- */

static char *slurp(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Finds and parses docs/openapi.yaml into *out (malloc'ed; caller frees). */
static int load_doc(struct doc **out, char *tried, size_t tried_sz)
{
    char cands[6][1024];
    size_t nc = 0;
    const char *env = getenv("SLAWATCH_OPENAPI");
    if (env && *env) {
        /* that file and no other */
        snprintf(cands[nc++], sizeof(cands[0]), "%s", env);
    } else {
        env = getenv("SLAWATCH_SRC");
        if (env && *env)
            snprintf(cands[nc++], sizeof(cands[0]), "%s/docs/openapi.yaml", env);
        snprintf(cands[nc++], sizeof(cands[0]), "../docs/openapi.yaml");
        snprintf(cands[nc++], sizeof(cands[0]), "../../docs/openapi.yaml");
        snprintf(cands[nc++], sizeof(cands[0]), "docs/openapi.yaml");
        /* this file is <src>/tests/unit/test_openapi.c */
        const char *me = __FILE__;
        const char *cut = strstr(me, "tests/unit/test_openapi.c");
        if (cut)
            snprintf(cands[nc++], sizeof(cands[0]), "%.*sdocs/openapi.yaml", (int)(cut - me),
                     me);
    }

    tried[0] = '\0';
    for (size_t i = 0; i < nc; i++) {
        char *text = slurp(cands[i]);
        if (!text) {
            size_t n = strlen(tried);
            if (snprintf(tried + n, tried_sz - n, " %s", cands[i]) < 0)
                return -1;
            continue;
        }
        struct doc *d = calloc(1, sizeof(*d));
        if (!d) {
            free(text);
            return -1;
        }
        if (snprintf(d->file, sizeof(d->file), "%s", cands[i]) >= (int)sizeof(d->file)) {
            free(text);
            free(d);
            return -1;
        }
        int rc = doc_parse(d, text);
        free(text);
        if (rc < 0) {
            snprintf(tried, tried_sz, "%.1000s has no top-level `paths:`", cands[i]);
            free(d);
            return -1;
        }
        *out = d;
        return 0;
    }
    return -1;
}

static int setup(void **state)
{
    char tried[4096];
    struct doc *d = NULL;
    if (load_doc(&d, tried, sizeof(tried)) < 0) {
        print_error("cannot read docs/openapi.yaml (set SLAWATCH_SRC to the source tree); "
                    "tried:%s\n", tried);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* ---- tests on the real file -------------------------------------------- */

static void test_layout(void **state)
{
    const struct doc *d = *state;
    if (d->errors[0]) {
        print_error("%s", d->errors);
        fail_msg("%s: layout problems (see above)", d->file);
    }
    assert_true(d->nops > 0);
}

static void test_every_route_documented(void **state)
{
    const struct doc *d = *state;
    int bad = check_missing(d, http_routes, http_nroutes, true);
    if (bad)
        fail_msg("%d registered route(s) missing from %s", bad, d->file);
}

static void test_no_stale_operations(void **state)
{
    const struct doc *d = *state;
    int bad = check_stale(d, http_routes, http_nroutes, true);
    if (bad)
        fail_msg("%d operation(s) in %s not registered in routes.c", bad, d->file);
}

static void test_public_routes_have_no_security(void **state)
{
    const struct doc *d = *state;
    int bad = check_security(d, http_routes, http_nroutes, true);
    if (bad)
        fail_msg("%d operation(s) in %s with the wrong security", bad, d->file);
}

/* ---- the checker itself, on a fixture ---------------------------------- */

static const struct route fixture_routes[] = {
    {"GET", "/healthz", 0, TENANT_NONE, ROUTE_PUBLIC, NULL, "", NULL, NULL},
    {"POST", "/api/v1/things", 0, TENANT_NONE, ROUTE_JSON_BODY, NULL, "", NULL, NULL},
    {"GET", "/api/v1/things/{thing_id}", 0, TENANT_NONE, 0, NULL, "", NULL, NULL},
    {"DELETE", "/api/v1/things/{thing_id}", 0, TENANT_NONE, 0, NULL, "", NULL, NULL},
    {"GET", "/api/v1/gone", 0, TENANT_NONE, 0, NULL, "", NULL, NULL},
};

static const char fixture_yaml[] =
    "openapi: 3.1.0\n"
    "paths:\n"
    "  # ---- ops --\n"
    "  /healthz:\n"
    "    get:\n"
    "      security: []\n"
    "      responses: {}\n"
    "  /api/v1/things:   # comment\n"
    "    post:\n"
    "      security: []\n"          /* wrong: not public */
    "    get:\n"                    /* stale: not registered */
    "      responses:\n"
    "        \"200\":\n"
    "          description: x\n"
    "  /api/v1/things/{thing_id}:\r\n"
    "    parameters:\n"
    "      - $ref: x\n"
    "    get:\n"
    "      summary: one\n"
    /* DELETE /api/v1/things/{thing_id}: method missing; /api/v1/gone: path missing */
    "components:\n"
    "  schemas:\n"
    "    get:\n"                    /* not under paths: ignored */
    "      type: object\n";

static void test_checker_on_fixture(void **state)
{
    (void)state;
    struct doc *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    snprintf(d->file, sizeof(d->file), "fixture.yaml");
    char *text = strdup(fixture_yaml);
    assert_non_null(text);
    assert_int_equal(doc_parse(d, text), 0);
    free(text);
    assert_string_equal(d->errors, "");
    assert_int_equal(d->npaths, 3);
    assert_int_equal(d->nops, 4);
    assert_non_null(doc_find(d, "GET", "/api/v1/things/{thing_id}"));
    assert_true(doc_find(d, "GET", "/healthz")->is_public);
    size_t n = sizeof(fixture_routes) / sizeof(fixture_routes[0]);
    assert_int_equal(check_missing(d, fixture_routes, n, false), 2);
    assert_int_equal(check_stale(d, fixture_routes, n, false), 1);
    assert_int_equal(check_security(d, fixture_routes, n, false), 1);
    free(d);

    /* duplicates and a malformed path key are layout errors */
    d = calloc(1, sizeof(*d));
    assert_non_null(d);
    text = strdup("paths:\n  /a:\n    get:\n  /a:\n    get:\n  a b:\n");
    assert_non_null(text);
    assert_int_equal(doc_parse(d, text), 0);
    free(text);
    assert_non_null(strstr(d->errors, "path /a already documented at line 2"));
    assert_non_null(strstr(d->errors, "GET /a already documented at line 3"));
    assert_non_null(strstr(d->errors, "not a path key"));
    free(d);

    /* no paths: section at all */
    d = calloc(1, sizeof(*d));
    assert_non_null(d);
    text = strdup("openapi: 3.1.0\ninfo:\n  title: x\n");
    assert_non_null(text);
    assert_int_equal(doc_parse(d, text), -1);
    free(text);
    free(d);
}

int main(void)
{
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_no_stale_operations),
        cmocka_unit_test(test_public_routes_have_no_security),
    };
    const struct CMUnitTest self[] = {
        cmocka_unit_test(test_checker_on_fixture),
    };
    int failed = cmocka_run_group_tests_name("openapi checker", self, NULL, NULL);
    failed += cmocka_run_group_tests_name("docs/openapi.yaml vs routes.c", real, setup, teardown);
    return failed ? 1 : 0;
}
