/* fuzz_json_body: request bodies as the server sees them: jansson's strict
 * parse (duplicates rejected), then the field validators every handler uses
 * (v_id, v_string, v_check_string for free text, v_check_time, v_secret,
 * v_int answering 422) and the users' pure validators (email, roles array),
 * and the user JSON they produce. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/users.h"

static void reset(struct req *r)
{
    if (r->resp)
        MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->status = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return 0;
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    struct req r;
    memset(&r, 0, sizeof(r));
    const char *s;
    int64_t n = 0;
    bool present;
    static const char *const ids[] = {"id", "tenant_id", "project_id"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        if (v_id(&r, j, ids[i], i == 0, &s) == 0 && s && !http_id_valid(s))
            abort();            /* v_id accepted what http_id_valid refuses */
        reset(&r);
    }
    if (v_string(&r, j, "name", true, SW_NAME_MAX, &s) == 0 &&
        (strlen(s) > SW_NAME_MAX || !http_text_valid(s, strlen(s))))
        abort();
    reset(&r);
    /* free text: what passes has no control character, whatever the field */
    static const char *const texts[] = {"title", "source", "role", "reason", "by", "resolution"};
    struct v_err e;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (v_check_string(j, texts[i], false, 4096, &s, &e) == 0) {
            for (size_t k = 0; s && s[k]; k++)
                if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
                    abort();
        } else if (e.field != texts[i]) {
            abort();
        }
        int64_t t = 0;
        if (v_check_time(j, texts[i], 1795341600000LL, 300000, &t, &e) == 0 &&
            (t < 0 || t > 1795341600000LL + 300000))
            abort();
    }
    /* a secret keeps every byte but NUL */
    if (v_secret(&r, j, "password", false, 1024, &s) == 0 && s && strlen(s) > 1024)
        abort();
    reset(&r);
    if (v_int(&r, j, "expires_in_days", false, 1, 3650, &n, &present) == 0 && present &&
        (n < 1 || n > 3650))
        abort();
    reset(&r);

    struct sw_user u;
    char err[256];
    memset(&u, 0, sizeof(u));
    if (v_string(&r, j, "email", true, SW_EMAIL_MAX, &s) == 0 && users_email_valid(s))
        snprintf(u.email, sizeof(u.email), "%s", s);
    reset(&r);
    snprintf(u.id, sizeof(u.id), "fuzz");
    if (users_parse_roles(json_object_get(j, "roles"), &u, err, sizeof(err)) == 0) {
        if (u.nroles == 0 || u.nroles > SW_USER_MAX_ROLES)
            abort();
        json_t *out = users_json(&u, NULL, NULL);
        char *text = json_dumps(out, JSON_COMPACT);
        if (!text)
            abort();
        free(text);
        json_decref(out);
    }
    json_decref(j);
    return 0;
}
