/* api_statement.c: GET /sla/statements/{tenant_id}?month=YYYY-MM, the
 * month's service-credit statement as PDF (issue 17): compliance per
 * severity, each billed breach with its overage and credit, the cap and
 * the totals.  The numbers are the monthly report's and the penalty
 * endpoints' own (reports.h), laid out by statement_pdf.c. */
#include <stdio.h>
#include <stdlib.h>

#include "http/analytics.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/reports.h"
#include "http/server.h"
#include "http/statement.h"
#include "util/xalloc.h"

/* every breach of a month on the statement, up to the list's own maximum */
#define STATEMENT_BREACHES_MAX 10000

/* The statement's data (statement.h); 0 or answered. */
static int gather(struct req *r, struct an_ctx *x, int y, int m, json_t **out)
{
    struct sw_tenant t;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &t);
    if (rc < 0) {
        http_fail(r, rc, "statement");
        return rc;
    }
    int n = sla_days_in_month(y, m);
    struct an_date a = {y, m, 1}, b = {y, m, n};
    struct an_sum *sum = xmalloc(sizeof(*sum));
    json_t *list = NULL, *summary = NULL;
    rc = an_sum_range(r->srv->store, x, a, b, NULL, sum);
    if (rc == 0)
        rc = penalties_list_json(r->srv->store, x, r->tenant_id, y, m, STATEMENT_BREACHES_MAX,
                                 &list);
    if (rc == 0)
        rc = penalties_summary_json(r->srv->store, x, r->tenant_id, y, m, NULL, &summary);
    if (rc < 0) {
        free(sum);
        json_decref(list);
        json_decref(summary);
        if (rc == SW_E_INVAL)
            http_error(r, 422, "invalid", "month", "month out of range");
        else
            http_fail(r, rc, "statement");
        return rc;
    }
    char month[16], from[SLA_DATE_BUFSZ], to[SLA_DATE_BUFSZ], now[SLA_TIME_BUFSZ];
    snprintf(month, sizeof(month), "%04d-%02d", y, m);
    an_date_fmt(a, from);
    an_date_fmt(b, to);
    sla_time_format(r->now, now);
    now[16] = '\0';                     /* to the minute */
    now[10] = ' ';
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
                     "tenant_id", t.id, "tenant_name", t.name, "month", month,
                     "start_date", from, "end_date", to, "timezone", x->tz.name,
                     "generated_at", now, "by_severity", an_by_severity_json(x, sum),
                     "breaches", list, "summary", summary);
    free(sum);
    return 0;
}

void api_statement(struct req *r)
{
    struct an_ctx x;
    int y, m;
    if (an_ctx_open(r, r->tenant_id, &x) < 0)
        return;
    json_t *st = NULL;
    if (an_param_month(r, &x, "month", &y, &m) < 0 || gather(r, &x, y, m, &st) < 0) {
        an_ctx_close(&x);
        return;
    }
    an_ctx_close(&x);
    char *buf;
    size_t len;
    int rc = statement_pdf(st, &buf, &len);
    json_decref(st);
    if (rc < 0) {
        http_fail(r, rc, "statement");
        return;
    }
    http_raw(r, 200, "application/pdf", buf, len);
    char disp[SW_ID_MAX + 80];
    snprintf(disp, sizeof(disp), "attachment; filename=\"statement-%s-%04d-%02d.pdf\"",
             r->tenant_id, y, m);
    http_add_header(r, "Content-Disposition", disp);
}
