/* json_out: the JSON shape of stored records, shared by the handlers. */
#ifndef SW_HTTP_JSON_OUT_H
#define SW_HTTP_JSON_OUT_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* ISO 8601 UTC string, or JSON null for 0. */
json_t *json_time(int64_t ms);
json_t *json_tenant(const struct sw_tenant *t);
json_t *json_project(const struct sw_project *p);

#endif
