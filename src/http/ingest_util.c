/* ingest_util.c: what every ingest source needs (ingest.h): RFC 6901
 * pointers, instants in the shapes tools write them, free text made safe,
 * and the FIELD specs of mappings.
 *
 * Instants.  Tools disagree: Alertmanager writes RFC 3339 with
 * nanoseconds, Wazuh "+0000" offsets, DefectDojo dates alone, TheHive
 * epoch milliseconds, Splunk epoch seconds as a string.  Strings are
 * rewritten into strict RFC 3339 and handed to the core's parser (one
 * parser of instants in the code base); numbers are epochs. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/http.h"
#include "http/ingest.h"
#include "util/xalloc.h"

/* 10000-01-01T00:00:00Z: the first instant sla_time_parse refuses */
#define YEAR_10000_MS INT64_C(253402300800000)

int ingest_fail(struct ingest_err *e, const char *field, const char *fmt, ...)
{
    va_list ap;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return SW_E_INVAL;
}

/* ---- JSON pointers ------------------------------------------------------------ */

bool ingest_pointer_valid(const char *ptr)
{
    size_t n = strlen(ptr);
    if (n > INGEST_POINTER_MAX || (n && ptr[0] != '/'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (ptr[i] == '~' && ptr[i + 1] != '0' && ptr[i + 1] != '1')
            return false;
    return true;
}

json_t *ingest_pointer(json_t *doc, const char *ptr)
{
    char tok[INGEST_POINTER_MAX + 1];
    if (!doc || !ingest_pointer_valid(ptr))
        return NULL;
    const char *p = ptr;
    while (doc && *p == '/') {
        p++;
        size_t k = 0;
        for (; *p && *p != '/'; p++) {
            if (*p == '~') {
                tok[k++] = p[1] == '0' ? '~' : '/';
                p++;
            } else {
                tok[k++] = *p;
            }
        }
        tok[k] = '\0';
        if (json_is_object(doc)) {
            doc = json_object_getn(doc, tok, k);
        } else if (json_is_array(doc)) {
            /* an index: digits, no leading zero ("-" names no element) */
            if (!k || k > 9 || (tok[0] == '0' && k > 1))
                return NULL;
            size_t idx = 0;
            for (size_t i = 0; i < k; i++) {
                if (!isdigit((unsigned char)tok[i]))
                    return NULL;
                idx = idx * 10 + (size_t)(tok[i] - '0');
            }
            doc = json_array_get(doc, idx);
        } else {
            return NULL;
        }
    }
    return doc;
}

/* ---- instants ------------------------------------------------------------------ */

int ingest_time_fmt_parse(const char *s, enum ingest_time_fmt *out)
{
    static const char *const names[] = {"auto", "rfc3339", "epoch_s", "epoch_ms"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (enum ingest_time_fmt)i;
            return 0;
        }
    return SW_E_INVAL;
}

static int from_epoch(double v, bool ms, int64_t *out)
{
    if (!isfinite(v))
        return SW_E_INVAL;
    double t = ms ? v : v * 1000.0;
    if (t < 1.0 || t >= (double)YEAR_10000_MS)
        return SW_E_INVAL;
    *out = (int64_t)floor(t);
    return 0;
}

/* "123", "123.456": digits with an optional fraction. */
static bool digits_number(const char *s, size_t n, double *v)
{
    size_t i = 0, dots = 0;
    if (!n || n > 32)
        return false;
    for (; i < n; i++) {
        if (s[i] == '.' && i > 0 && !dots)
            dots++;
        else if (!isdigit((unsigned char)s[i]))
            return false;
    }
    if (s[n - 1] == '.')
        return false;
    char buf[40];
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return true;
}

static bool ndigits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* The RFC 3339-ish string s rewritten strictly into out: date, time (a
 * date alone: midnight), fraction (at most 9 digits), zone ("Z", or
 * +hh:mm from +hhmm, +hh; none: UTC). */
static bool canonical(const char *s, size_t n, char *out, size_t cap)
{
    if (n < 10 || !ndigits(s, 4) || s[4] != '-' || !ndigits(s + 5, 2) || s[7] != '-' ||
        !ndigits(s + 8, 2))
        return false;
    if (n == 10) {
        snprintf(out, cap, "%.10sT00:00:00Z", s);
        return true;
    }
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || n < 16 || !ndigits(s + 11, 2) ||
        s[13] != ':' || !ndigits(s + 14, 2))
        return false;
    size_t i = 16;
    char secs[3] = "00";
    if (i < n && s[i] == ':') {
        if (i + 3 > n || !ndigits(s + i + 1, 2))
            return false;
        memcpy(secs, s + i + 1, 2);
        i += 3;
    }
    char frac[11] = "";
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        size_t k = 0;
        i++;
        frac[k++] = '.';
        size_t start = i;
        while (i < n && isdigit((unsigned char)s[i])) {
            if (k < 10)
                frac[k++] = s[i];
            i++;
        }
        if (i == start)
            return false;
        frac[k] = '\0';
    }
    char zone[8] = "Z";
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            /* Z */
        } else if (s[i] == '+' || s[i] == '-') {
            size_t r = n - i - 1;
            const char *z = s + i + 1;
            if (r == 5 && ndigits(z, 2) && z[2] == ':' && ndigits(z + 3, 2))
                snprintf(zone, sizeof(zone), "%c%.2s:%.2s", s[i], z, z + 3);
            else if (r == 4 && ndigits(z, 4))
                snprintf(zone, sizeof(zone), "%c%.2s:%.2s", s[i], z, z + 2);
            else if (r == 2 && ndigits(z, 2))
                snprintf(zone, sizeof(zone), "%c%.2s:00", s[i], z);
            else
                return false;
        } else {
            return false;
        }
    }
    snprintf(out, cap, "%.10sT%.2s:%.2s:%s%s%s", s, s + 11, s + 14, secs, frac, zone);
    return true;
}

int ingest_time(json_t *v, enum ingest_time_fmt fmt, int64_t *out)
{
    double d;
    if (json_is_number(v)) {
        if (fmt == INGEST_TIME_RFC3339)
            return SW_E_INVAL;
        d = json_number_value(v);
        bool ms = fmt == INGEST_TIME_EPOCH_MS || (fmt == INGEST_TIME_AUTO && d >= 1e11);
        return from_epoch(d, ms, out);
    }
    if (!json_is_string(v))
        return SW_E_INVAL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (fmt != INGEST_TIME_RFC3339 && digits_number(s, n, &d)) {
        bool ms = fmt == INGEST_TIME_EPOCH_MS || (fmt == INGEST_TIME_AUTO && d >= 1e11);
        return from_epoch(d, ms, out);
    }
    if (fmt == INGEST_TIME_EPOCH_S || fmt == INGEST_TIME_EPOCH_MS)
        return SW_E_INVAL;
    char buf[64];
    if (n > 48 || strlen(s) != n || !canonical(s, n, buf, sizeof(buf)))
        return SW_E_INVAL;
    sla_ms t;
    if (sla_time_parse(buf, &t) < 0 || t <= 0)
        return SW_E_INVAL;
    *out = t;
    return 0;
}

/* ---- text ---------------------------------------------------------------------------- */

/* One UTF-8 character at p (n bytes left): its length, or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || len > n)
        return 0;
    unsigned v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static bool forbidden(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void ingest_text(const char *s, size_t len, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    bool space = true;          /* drops leading spaces */
    if (!cap)
        return;
    while (i < len) {
        unsigned cp = 0;
        size_t k = utf8_len(p + i, len - i, &cp);
        if (!k || forbidden(cp) || cp == ' ') {
            i += k ? k : 1;
            if (!space && o + 1 < cap)
                out[o++] = ' ';
            space = true;
            continue;
        }
        if (o + k + 1 > cap)
            break;
        memcpy(out + o, p + i, k);
        o += k;
        i += k;
        space = false;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

const char *ingest_scalar(json_t *v, char *buf, size_t cap, size_t *len)
{
    if (!v)
        return NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *len = json_string_length(v);
        return json_string_value(v);
    case JSON_INTEGER:
        *len = (size_t)snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        *len = (size_t)snprintf(buf, cap, "%.15g", json_real_value(v));
        return buf;
    case JSON_TRUE:
    case JSON_FALSE:
        *len = (size_t)snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
        return buf;
    default:
        return NULL;
    }
}

/* ---- FIELD specs ------------------------------------------------------------------------ */

void ingest_field_free(struct ingest_field *f)
{
    if (!f)
        return;
    json_decref(f->map);
    free(f->dflt);
    memset(f, 0, sizeof(*f));
}

static int field_pointer(json_t *v, const char *where, struct ingest_field *f,
                         struct ingest_err *e)
{
    const char *p = json_string_value(v);
    if (!p || strlen(p) != json_string_length(v) || !ingest_pointer_valid(p))
        return ingest_fail(e, where, "%s must be a JSON pointer (RFC 6901) like "
                           "\"/labels/severity\", at most %d bytes", where, INGEST_POINTER_MAX);
    snprintf(f->pointer, sizeof(f->pointer), "%s", p);
    f->has_pointer = true;
    return 0;
}

int ingest_field_parse(json_t *j, const char *name, bool (*check)(const char *value),
                       struct ingest_field *f, struct ingest_err *e)
{
    char where[96];
    memset(f, 0, sizeof(*f));
    if (!j || json_is_null(j))
        return 0;
    f->set = true;
    if (json_is_string(j))
        return field_pointer(j, name, f, e);
    if (!json_is_object(j))
        return ingest_fail(e, name, "%s must be a JSON pointer or an object "
                           "{pointer, map, default, format}", name);
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        snprintf(where, sizeof(where), "%s.%s", name, key);
        if (!strcmp(key, "pointer")) {
            if (field_pointer(v, where, f, e) < 0)
                goto fail;
        } else if (!strcmp(key, "default")) {
            const char *d = json_string_value(v);
            if (!d || strlen(d) != json_string_length(v) || (check && !check(d)) ||
                !http_text_valid(d, strlen(d)) || strlen(d) > INGEST_MAP_KEY_MAX) {
                ingest_fail(e, where, "%s is not an acceptable value", where);
                goto fail;
            }
            f->dflt = xstrdup(d);
        } else if (!strcmp(key, "format")) {
            const char *d = json_string_value(v);
            if (!d || ingest_time_fmt_parse(d, &f->fmt) < 0) {
                ingest_fail(e, where, "%s must be one of auto, rfc3339, epoch_s, epoch_ms",
                            where);
                goto fail;
            }
        } else if (!strcmp(key, "map")) {
            if (!json_is_object(v) || json_object_size(v) > INGEST_MAP_MAX) {
                ingest_fail(e, where, "%s must be an object of at most %d entries", where,
                            INGEST_MAP_MAX);
                goto fail;
            }
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv) {
                const char *d = json_string_value(mv);
                if (strlen(mk) > INGEST_MAP_KEY_MAX || !d || (check && !check(d))) {
                    snprintf(where, sizeof(where), "%s.map.%.40s", name, mk);
                    ingest_fail(e, where, "%s is not an acceptable value", where);
                    goto fail;
                }
            }
            f->map = json_incref(v);
        } else {
            ingest_fail(e, where, "unknown key %s (pointer, map, default, format)", where);
            goto fail;
        }
    }
    if (!f->has_pointer && !f->dflt) {
        ingest_fail(e, name, "%s needs a pointer or a default", name);
        goto fail;
    }
    return 0;
fail:
    ingest_field_free(f);
    return SW_E_INVAL;
}

int ingest_field_text(const struct ingest_field *f, json_t *doc, char *buf, size_t cap,
                      const char **out, size_t *len)
{
    const char *s = NULL;
    size_t n = 0;
    if (!f->set)
        return 0;
    if (f->has_pointer)
        s = ingest_scalar(ingest_pointer(doc, f->pointer), buf, cap, &n);
    if (s && f->map) {
        json_t *m = json_object_getn(f->map, s, n);
        if (!m && n < 128) {
            char low[128];
            for (size_t i = 0; i < n; i++)
                low[i] = (char)tolower((unsigned char)s[i]);
            m = json_object_getn(f->map, low, n);
        }
        if (m) {
            *out = json_string_value(m);
            *len = strlen(*out);
            return 1;
        }
        if (!f->dflt) {
            *out = s;
            *len = n;
            return SW_E_INVAL;
        }
        s = NULL;
    }
    if (!s && f->dflt) {
        *out = f->dflt;
        *len = strlen(f->dflt);
        return 1;
    }
    if (!s)
        return 0;
    *out = s;
    *len = n;
    return 1;
}

int ingest_field_time(const struct ingest_field *f, json_t *doc, int64_t *out)
{
    *out = 0;
    if (!f->set)
        return 0;
    json_t *v = f->has_pointer ? ingest_pointer(doc, f->pointer) : NULL;
    json_t *d = NULL;
    if ((!v || json_is_null(v)) && f->dflt)
        v = d = json_string(f->dflt);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        json_decref(d);
        return 0;
    }
    int rc = ingest_time(v, f->fmt, out);
    json_decref(d);
    return rc;
}
