/* Files embedded into the binary at build time by cmake/embed.cmake. */
#ifndef SW_UTIL_EMBED_H
#define SW_UTIL_EMBED_H

#include <stddef.h>

struct embed_file {
    const char *name;               /* path relative to the embedded folder */
    const unsigned char *data;      /* NUL-terminated for convenience */
    size_t len;                     /* without the terminating NUL */
    const char *etag;               /* "\"<hash of the content>\"", for HTTP caching */
};

/* Tables end with an entry whose name is NULL. */
extern const struct embed_file schema_sqlite[];
extern const struct embed_file schema_postgres[];
/* The dashboard (src/web, served by src/http/api_web.c). */
extern const struct embed_file web_assets[];

#endif
