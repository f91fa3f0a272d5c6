/* validate.c: THE field validators.  Every string a client sends goes
 * through here, so the rules live in one place:
 *
 *   - an id (http_id_valid): 1..128 printable ASCII, no '/';
 *   - free text (http_text_valid): titles, names, roles, sources, reasons,
 *     actors, resolutions...  It reaches email headers and bodies, Slack
 *     messages, CSV cells and log lines, where a CR or LF starts a new
 *     header or line (`Bcc:` in an email, a forged log entry), so no control
 *     character at all; see http_text_valid for the list;
 *   - a secret (passwords, webhook secrets): anything but NUL; never shown.
 *
 * Two forms of each: v_check_* fill a struct v_err and answer nothing (bulk
 * lines collect their errors), v_* answer 422 naming the field. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/sla.h"
#include "http/http.h"

bool http_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (ch < 0x20 || ch > 0x7e || ch == '/' || n >= SW_ID_MAX)
            return false;
    }
    return n > 0;
}

/* s is valid UTF-8 (jansson's strings always are; other callers check). */
bool http_text_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        /* C0 (NUL, TAB, LF, CR, ESC ...) and DEL */
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        /* C1 controls U+0080..U+009F: C2 80..C2 9F (NEL, U+0085, is a line
         * break to some readers) */
        if (c == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f)
            return false;
        /* U+2028 LINE / U+2029 PARAGRAPH SEPARATOR (E2 80 A8/A9): line
         * breaks too; U+202A..U+202E and U+2066..U+2069, the bidirectional
         * embeddings, overrides and isolates, which make a log line or a
         * subject read other than it is */
        if (c == 0xe2 && p + 2 < end && p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae)
            return false;
        if (c == 0xe2 && p + 2 < end && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
            return false;
        p += c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    }
    return true;
}

static int fail(struct v_err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct v_err *e, const char *field, const char *fmt, ...)
{
    va_list ap;
    e->field = field;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return SW_E_INVAL;
}

/* A string field, as is: absent or null gives NULL (an error if required). */
static int check_raw(json_t *obj, const char *field, bool required, size_t maxlen,
                     const char **out, struct v_err *e)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? fail(e, field, "%s is required", field) : 0;
    if (!json_is_string(v))
        return fail(e, field, "%s must be a string", field);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len > maxlen || strlen(s) != len)
        return fail(e, field, "%s must be at most %zu bytes, without NUL", field, maxlen);
    if (required && len == 0)
        return fail(e, field, "%s must not be empty", field);
    *out = s;
    return 0;
}

int v_check_string(json_t *obj, const char *field, bool required, size_t maxlen,
                   const char **out, struct v_err *e)
{
    const char *s;
    if (check_raw(obj, field, required, maxlen, &s, e) < 0)
        return SW_E_INVAL;
    if (s && !http_text_valid(s, strlen(s)))
        return fail(e, field, "%s must not contain control characters (CR, LF, TAB, "
                              "U+2028 ...)", field);
    *out = s;
    return 0;
}

int v_check_id(json_t *obj, const char *field, bool required, const char **out,
               struct v_err *e)
{
    const char *s;
    if (check_raw(obj, field, required, SW_ID_MAX, &s, e) < 0)
        return SW_E_INVAL;
    if (s && !http_id_valid(s))
        return fail(e, field, "%s must be 1-128 printable ASCII characters without '/'",
                    field);
    *out = s;
    return 0;
}

int v_check_time(json_t *obj, const char *field, int64_t now, int64_t max_ahead_ms,
                 int64_t *out, struct v_err *e)
{
    const char *s;
    if (check_raw(obj, field, false, 64, &s, e) < 0)
        return SW_E_INVAL;
    if (!s)
        return 0;
    sla_ms t;
    if (sla_time_parse(s, &t) < 0 || t <= 0)
        return fail(e, field, "%s must be an RFC 3339 instant like 2026-11-22T10:00:00Z",
                    field);
    if (t > now + max_ahead_ms)
        return fail(e, field, "%s must not be in the future", field);
    *out = t;
    return 0;
}

int v_check_text_value(const char *s, size_t len, const char *field, size_t minlen,
                       size_t maxlen, struct v_err *e)
{
    if (len < minlen || len > maxlen || strlen(s) != len)
        return fail(e, field, "%s must be a string of %zu to %zu bytes, without NUL", field,
                    minlen, maxlen);
    if (!http_text_valid(s, len))
        return fail(e, field, "%s must not contain control characters (CR, LF, TAB, "
                              "U+2028 ...)", field);
    return 0;
}

void v_answer(struct req *r, const struct v_err *e)
{
    http_error(r, 422, "invalid", e->field, "%s", e->msg);
}

int v_string(struct req *r, json_t *obj, const char *field, bool required,
             size_t maxlen, const char **out)
{
    struct v_err e;
    if (v_check_string(obj, field, required, maxlen, out, &e) < 0) {
        v_answer(r, &e);
        return SW_E_INVAL;
    }
    return 0;
}

int v_secret(struct req *r, json_t *obj, const char *field, bool required,
             size_t maxlen, const char **out)
{
    struct v_err e;
    if (check_raw(obj, field, required, maxlen, out, &e) < 0) {
        v_answer(r, &e);
        return SW_E_INVAL;
    }
    return 0;
}

int v_id(struct req *r, json_t *obj, const char *field, bool required, const char **out)
{
    struct v_err e;
    if (v_check_id(obj, field, required, out, &e) < 0) {
        v_answer(r, &e);
        return SW_E_INVAL;
    }
    return 0;
}

int v_int(struct req *r, json_t *obj, const char *field, bool required,
          int64_t lo, int64_t hi, int64_t *out, bool *present)
{
    json_t *v = json_object_get(obj, field);
    if (present)
        *present = v && !json_is_null(v);
    if (!v || json_is_null(v)) {
        if (required) {
            http_error(r, 422, "invalid", field, "%s is required", field);
            return SW_E_INVAL;
        }
        return 0;
    }
    if (!json_is_integer(v)) {
        http_error(r, 422, "invalid", field, "%s must be an integer", field);
        return SW_E_INVAL;
    }
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi) {
        http_error(r, 422, "invalid", field, "%s must be between %lld and %lld", field,
                   (long long)lo, (long long)hi);
        return SW_E_INVAL;
    }
    *out = n;
    return 0;
}

/* ---- query parameters ------------------------------------------------- */

bool http_uint_parse(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    /* digits only: no sign, no spaces, no hex, no overflow (strtol takes
     * " +5" and "-0" and saturates) */
    int64_t v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0 || s[i] || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int q_int(struct req *r, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = http_query(r, name);
    if (!v || !*v)
        return 0;
    if (!http_uint_parse(v, lo, hi, out)) {
        http_error(r, 422, "invalid", name, "%s must be an integer from %lld to %lld", name,
                   (long long)lo, (long long)hi);
        return SW_E_INVAL;
    }
    return 0;
}

int q_enum(struct req *r, const char *name, const char *const *words, int n, int *out)
{
    const char *v = http_query(r, name);
    *out = -1;
    if (!v || !*v)
        return 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(v, words[i])) {
            *out = i;
            return 0;
        }
    char list[256] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", words[i]);
    http_error(r, 422, "invalid", name, "%s must be one of %s", name, list);
    return SW_E_INVAL;
}

int q_id(struct req *r, const char *name, const char **out)
{
    const char *v = http_query(r, name);
    *out = NULL;
    if (!v || !*v)
        return 0;
    if (!http_id_valid(v)) {
        http_error(r, 422, "invalid", name,
                   "%s must be 1-128 printable ASCII characters without '/'", name);
        return SW_E_INVAL;
    }
    *out = v;
    return 0;
}

int q_time(struct req *r, const char *name, int64_t *out)
{
    const char *v = http_query(r, name);
    if (!v)
        return 0;
    sla_ms t;
    if (sla_time_parse(v, &t) < 0) {
        http_error(r, 422, "invalid", name, "%s must be an RFC 3339 instant like "
                                            "2026-11-22T10:00:00Z", name);
        return SW_E_INVAL;
    }
    *out = t;
    return 0;
}
