/* reports.h: the month's penalties as the API answers them
 * (api_reports.c), for the endpoints and the service-credit statement
 * (api_statement.c) alike, so the PDF says what the JSON says. */
#ifndef SW_HTTP_REPORTS_H
#define SW_HTTP_REPORTS_H

#include <jansson.h>

#include "http/analytics.h"

/* GET /sla/penalties/{t}'s object: at most limit items (both clocks, by
 * stop instant), the month's totals.  SW_E_INVAL: month out of range. */
int penalties_list_json(struct store *st, struct an_ctx *x, const char *tenant_id, int y,
                        int m, int limit, json_t **out);
/* GET /sla/penalties/{t}/summary's object (project NULL: every project). */
int penalties_summary_json(struct store *st, struct an_ctx *x, const char *tenant_id, int y,
                           int m, const char *project, json_t **out);

#endif
