/* api_web.c: the embedded dashboard (src/web, turned into C arrays at build
 * time by cmake/embed.cmake, so the binary carries it).
 *
 * GET /sla-dashboard is the page; its scripts, styles and vendored libraries
 * are GET /sla-dashboard/{asset} and /sla-dashboard/vendor/{asset}.  All are
 * public: the page holds no data, every data call it makes is authenticated
 * (session cookie) by the API itself.
 *
 * Caching: every file carries a strong ETag (its content hash, computed at
 * build time) and If-None-Match answers 304.  The page itself is `no-cache`
 * (always revalidated, so an upgrade is seen at once); assets may be reused
 * for ASSET_MAX_AGE without asking, then revalidate with their ETag.  The
 * HTML answers carry the security headers (CSP default-src 'self', so the
 * page has no inline script or style; frame-ancestors 'none'). */
#include <stdio.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "util/embed.h"

#define ASSET_CACHE "public, max-age=600"
#define PAGE_CACHE "no-cache"

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static const struct embed_file *find(const char *name)
{
    for (const struct embed_file *f = web_assets; f->name; f++)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

/* Does If-None-Match name this ETag ("*", or one of a comma-separated list,
 * weak or strong: RFC 9110 13.1.2 compares weakly for GET)? */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static void serve(struct req *r, const char *name, const char *cache)
{
    const struct embed_file *f = find(name);
    if (!f) {
        http_error(r, 404, "not_found", NULL, "no such dashboard file");
        return;
    }
    const char *type = content_type(f->name);
    /* A 304 has no body; its Content-Length, if any, must be the length of
     * the 200's body (RFC 9110 8.6), never 0: libmicrohttpd sends the
     * length of the buffer and no body for a 304, so give it the file. */
    if (etag_matches(http_header_in(r, "If-None-Match"), f->etag))
        http_static(r, 304, type, f->data, f->len);
    else
        http_static(r, 200, type, f->data, f->len);
    http_add_header(r, "ETag", f->etag);
    http_add_header(r, "Cache-Control", cache);
}

void api_web_root(struct req *r)
{
    http_static(r, 302, "text/plain; charset=utf-8", "", 0);
    http_add_header(r, "Location", "/sla-dashboard");
    http_add_header(r, "Cache-Control", "no-cache");
}

void api_web_page(struct req *r)
{
    serve(r, "index.html", PAGE_CACHE);
}

void api_web_asset(struct req *r)
{
    const char *a = http_param(r, "asset");
    /* the page is served by its own route; the folder's html is not an asset */
    if (!a || strstr(a, ".html")) {
        http_error(r, 404, "not_found", NULL, "no such dashboard file");
        return;
    }
    serve(r, a, ASSET_CACHE);
}

void api_web_vendor(struct req *r)
{
    char name[160];
    const char *a = http_param(r, "asset");
    if (!a || (size_t)snprintf(name, sizeof(name), "vendor/%s", a) >= sizeof(name)) {
        http_error(r, 404, "not_found", NULL, "no such dashboard file");
        return;
    }
    serve(r, name, ASSET_CACHE);
}
