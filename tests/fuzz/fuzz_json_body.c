/* fuzz_json_body: request bodies as the server sees them: jansson's strict
 * parse (duplicates rejected), then the field validators every handler uses
 * (v_id, v_string, v_int answering 422) and the users' pure validators
 * (email, roles array), and the user JSON they produce. */
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
    if (v_string(&r, j, "name", true, SW_NAME_MAX, &s) == 0 && strlen(s) > SW_NAME_MAX)
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
