/* alert_input: what an alert sender writes, parsed and validated without
 * answering: the POST /alerts body, and NDJSON bodies of /alerts/bulk line by
 * line.  Pure (no store, no request): the bulk workers and the fuzzers use
 * it as the handlers do. */
#ifndef SW_HTTP_ALERT_INPUT_H
#define SW_HTTP_ALERT_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "store/store_alerts.h"

/* One alert object; tenant_id is read from o when want_tenant.  Strings in
 * *out point into o.  SW_E_INVAL with e naming the field. */
int alert_input_parse(json_t *o, bool want_tenant, int64_t now, struct sw_alert_new *out,
                      struct v_err *e);

/* The next non-blank line of an NDJSON body at *p (before end): 1 with
 * *line, *len (without its "\n" or "\r\n") and *lineno (1-based, counting
 * blank lines) set and *p advanced; 0 at the end. */
int ndjson_next(const char **p, const char *end, const char **line, size_t *len,
                size_t *lineno);

#endif
