/* The embedded dashboard's files (api_web.c): served without a token, with
 * their Content-Type, the HTML security headers, caching (ETag, 304 on
 * If-None-Match) and 404 for anything not embedded.  The page's behaviour
 * in a browser is tests/browser/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void test_page_has_security_headers(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char buf[512];
    http_req(s, "GET", "/sla-dashboard", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<!doctype html>"));
    assert_non_null(strstr(r.body, "/sla-dashboard/app.js"));
    assert_non_null(strstr(http_resp_header(&r, "Content-Type", buf, sizeof(buf)), "text/html"));
    const char *csp = http_resp_header(&r, "Content-Security-Policy", buf, sizeof(buf));
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_string_equal(http_resp_header(&r, "X-Frame-Options", buf, sizeof(buf)), "DENY");
    assert_string_equal(http_resp_header(&r, "Cache-Control", buf, sizeof(buf)), "no-cache");
    assert_non_null(http_resp_header(&r, "ETag", buf, sizeof(buf)));
    /* no inline script or style: the CSP would block them */
    assert_null(strstr(r.body, "<script>"));
    assert_null(strstr(r.body, "style="));
    http_free(&r);
}

static void test_assets_types_and_caching(void **state)
{
    struct sw_server *s = *state;
    static const struct {
        const char *path, *type;
    } files[] = {
        {"/sla-dashboard/app.js", "text/javascript; charset=utf-8"},
        {"/sla-dashboard/dashboard.js", "text/javascript; charset=utf-8"},
        {"/sla-dashboard/app.css", "text/css; charset=utf-8"},
        {"/sla-dashboard/favicon.svg", "image/svg+xml"},
        {"/sla-dashboard/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
        {"/sla-dashboard/vendor/uPlot.min.css", "text/css; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct http_resp r;
        char buf[256], etag[128], inm[160];
        http_req(s, "GET", files[i].path, NULL, NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        assert_true(r.len > 0);
        assert_string_equal(http_resp_header(&r, "Content-Type", buf, sizeof(buf)), files[i].type);
        assert_non_null(strstr(http_resp_header(&r, "Cache-Control", buf, sizeof(buf)),
                               "max-age="));
        snprintf(etag, sizeof(etag), "%s", http_resp_header(&r, "ETag", buf, sizeof(buf)));
        assert_int_equal(etag[0], '"');
        http_free(&r);

        /* the same ETag: 304, no body; a list holding it, or W/ of it: 304 too */
        const char *forms[] = {"%s", "\"x\", %s", "W/%s"};
        for (size_t k = 0; k < 3; k++) {
            char h[200];
            snprintf(inm, sizeof(inm), forms[k], etag);
            snprintf(h, sizeof(h), "If-None-Match: %s", inm);
            const char *hs[] = {h, NULL};
            http_req_h(s, "GET", files[i].path, NULL, hs, NULL, NULL, 0, &r);
            assert_int_equal(r.status, 304);
            assert_int_equal(r.len, 0);
            assert_string_equal(http_resp_header(&r, "ETag", buf, sizeof(buf)), etag);
            http_free(&r);
        }
        /* another ETag: the file */
        const char *other[] = {"If-None-Match: \"0000\"", NULL};
        http_req_h(s, "GET", files[i].path, NULL, other, NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        http_free(&r);
    }
}

static void test_unknown_files_404(void **state)
{
    struct sw_server *s = *state;
    const char *paths[] = {"/sla-dashboard/nope.js", "/sla-dashboard/index.html",
                           "/sla-dashboard/vendor/nope.css", "/sla-dashboard/vendor/uPlot.LICENSE",
                           "/sla-dashboard/..%2fCMakeLists.txt"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct http_resp r;
        http_req(s, "GET", paths[i], NULL, NULL, NULL, 0, &r);
        assert_int_equal(r.status, 404);
        http_free(&r);
    }
}

static void test_root_redirects(void **state)
{
    struct sw_server *s = *state;
    struct http_resp r;
    char buf[256];
    http_req(s, "GET", "/", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 302);
    assert_string_equal(http_resp_header(&r, "Location", buf, sizeof(buf)), "/sla-dashboard");
    http_free(&r);
    /* HEAD too, as everywhere GET is */
    http_req(s, "HEAD", "/sla-dashboard/app.css", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_has_security_headers),
        cmocka_unit_test(test_assets_types_and_caching),
        cmocka_unit_test(test_unknown_files_404),
        cmocka_unit_test(test_root_redirects),
    };
    return cmocka_run_group_tests(tests, it_server_setup, it_server_teardown);
}
