/* fuzz_ndjson: POST /api/v1/alerts/bulk bodies as the bulk worker reads
 * them: NDJSON split into lines (ndjson_next), each line through jansson's
 * strict parse and alert_input_parse (ids, free text, severity, instants).
 * Checks: lines stay inside the body and come in order, line numbers grow,
 * and whatever is accepted obeys the rules the store relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/alert_input.h"

#define NOW 1795341600000LL     /* 2026-11-22T10:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data, *p = body, *end = body + size, *line, *prev = body;
    size_t len, lineno = 0, last = 0;
    while (ndjson_next(&p, end, &line, &len, &lineno)) {
        if (line < prev || line + len > end || len == 0 || lineno <= last)
            abort();
        prev = line + len;
        last = lineno;
        json_error_t jerr;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o)
            continue;
        struct sw_alert_new in;
        struct v_err e;
        for (int want_tenant = 0; want_tenant < 2; want_tenant++) {
            if (json_is_object(o) && alert_input_parse(o, want_tenant, NOW, &in, &e) == 0) {
                if (!in.id || !http_id_valid(in.id))
                    abort();
                if (want_tenant && (!in.tenant_id || !http_id_valid(in.tenant_id)))
                    abort();
                if (in.project_id && !http_id_valid(in.project_id))
                    abort();
                if (in.title && (strlen(in.title) > SW_ALERT_TITLE_MAX ||
                                 !http_text_valid(in.title, strlen(in.title))))
                    abort();
                if (in.source && !http_text_valid(in.source, strlen(in.source)))
                    abort();
                if (in.created_at < 0 || in.created_at > NOW + 5 * 60 * 1000)
                    abort();
            } else if (json_is_object(o) && (!e.field || !e.msg[0])) {
                abort();    /* a refusal names its field */
            }
        }
        json_decref(o);
    }
    if (p != end)
        abort();
    return 0;
}
