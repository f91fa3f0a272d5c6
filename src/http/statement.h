/* statement.h: the monthly service-credit statement (issue 17). */
#ifndef SW_HTTP_STATEMENT_H
#define SW_HTTP_STATEMENT_H

#include <jansson.h>
#include <stddef.h>

/* Lays out st as a PDF into *buf (malloc'd, *len bytes).  st:
 * {tenant_id, tenant_name, month, start_date, end_date, timezone,
 *  generated_at, by_severity: [GET /reports/{t}/monthly's],
 *  breaches: GET /penalties/{t}'s object, summary: /penalties/{t}/summary's}.
 * SW_E_IO when cairo fails. */
int statement_pdf(const json_t *st, char **buf, size_t *len);

#endif
