/* jtext.c: see jtext.h. */
#include "util/jtext.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/xalloc.h"

static void put(struct jtext *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (t->n + n + 1 > cap)
            cap *= 2;
        t->p = xrealloc(t->p, cap);
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
}

void jt_lit(struct jtext *t, const char *s)
{
    put(t, s, strlen(s));
}

void jt_key(struct jtext *t, const char *key)
{
    if (t->n && t->p[t->n - 1] != '{')
        put(t, ",", 1);
    jt_str(t, key);
    put(t, ":", 1);
}

/* The length of the valid UTF-8 character at p (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void jt_str(struct jtext *t, const char *s)
{
    if (!s) {
        put(t, "null", 4);
        return;
    }
    put(t, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        if (*p >= 0x80) {
            size_t k = utf8_len(p);
            if (!k)
                break;
            p += k;
            continue;
        }
        if (*p >= 0x20 && *p != '"' && *p != '\\') {
            p++;
            continue;
        }
        put(t, (const char *)run, (size_t)(p - run));
        char esc[8];
        switch (*p) {
        case '"': put(t, "\\\"", 2); break;
        case '\\': put(t, "\\\\", 2); break;
        case '\b': put(t, "\\b", 2); break;
        case '\f': put(t, "\\f", 2); break;
        case '\n': put(t, "\\n", 2); break;
        case '\r': put(t, "\\r", 2); break;
        case '\t': put(t, "\\t", 2); break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", *p);
            put(t, esc, 6);
        }
        run = ++p;
    }
    put(t, (const char *)run, (size_t)(p - run));
    put(t, "\"", 1);
}

void jt_int(struct jtext *t, int64_t v)
{
    char buf[24], *e = buf + sizeof(buf), *q = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    put(t, q, (size_t)(e - q));
}

char *jt_take(struct jtext *t)
{
    put(t, "", 0);
    t->p[t->n] = '\0';
    char *s = t->p;
    *t = (struct jtext){0};
    return s;
}
