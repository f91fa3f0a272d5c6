/* validate.c: field validators that answer 422 naming the field. */
#include <stdio.h>
#include <string.h>

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

int v_string(struct req *r, json_t *obj, const char *field, bool required,
             size_t maxlen, const char **out)
{
    json_t *v = json_object_get(obj, field);
    if (!v || json_is_null(v)) {
        if (!required) {
            *out = NULL;
            return 0;
        }
        http_error(r, 422, "invalid", field, "%s is required", field);
        return SW_E_INVAL;
    }
    if (!json_is_string(v)) {
        http_error(r, 422, "invalid", field, "%s must be a string", field);
        return SW_E_INVAL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len > maxlen || strlen(s) != len) {
        http_error(r, 422, "invalid", field, "%s must be at most %zu bytes, without NUL",
                   field, maxlen);
        return SW_E_INVAL;
    }
    if (required && len == 0) {
        http_error(r, 422, "invalid", field, "%s must not be empty", field);
        return SW_E_INVAL;
    }
    *out = s;
    return 0;
}

int v_id(struct req *r, json_t *obj, const char *field, bool required, const char **out)
{
    const char *s;
    if (v_string(r, obj, field, required, SW_ID_MAX, &s) < 0)
        return SW_E_INVAL;
    if (s && !http_id_valid(s)) {
        http_error(r, 422, "invalid", field,
                   "%s must be 1-128 printable ASCII characters without '/'", field);
        return SW_E_INVAL;
    }
    *out = s;
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
