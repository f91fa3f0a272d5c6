/* str.h: copying text into fixed buffers. */
#ifndef SW_UTIL_STR_H
#define SW_UTIL_STR_H

#include <stddef.h>
#include <string.h>

/* src into dst[cap] (cap > 0), cut to cap - 1 bytes and NUL-terminated:
 * what snprintf(dst, cap, "%s", src) does, without the format engine (a
 * tenth of the instructions; the scheduler copies ~30 strings a breach).
 * Returns the length copied. */
static inline size_t sw_scopy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

#endif
