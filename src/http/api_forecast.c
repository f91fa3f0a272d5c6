/* api_forecast.c: the breach forecast (issue 17): what will breach in the
 * next N hours, alerts and findings, by severity and item by item, so a
 * shift lead sees tomorrow's breaches while they can still be avoided.
 *
 *   GET /sla/forecast?tenant_id=&hours=24&limit=1000
 *
 * The store answers from the rows' due instants (store_proof.h); the
 * counts are the window's whatever limit cuts from the items. */
#include <stdio.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "store/store_proof.h"

#define FORECAST_HOURS_DEFAULT 24
#define FORECAST_HOURS_MAX (24 * 31)
#define FORECAST_LIMIT_DEFAULT 1000
#define FORECAST_LIMIT_MAX 10000

void api_forecast(struct req *r)
{
    int64_t hours = FORECAST_HOURS_DEFAULT, limit = FORECAST_LIMIT_DEFAULT;
    if (q_int(r, "hours", 1, FORECAST_HOURS_MAX, &hours) < 0 ||
        q_int(r, "limit", 1, FORECAST_LIMIT_MAX, &limit) < 0)
        return;
    int64_t until = r->now + hours * SLA_MS_PER_HOUR;
    struct sw_forecast f;
    int rc = store_forecast(r->srv->store, r->tenant_id, r->now, until, (int)limit, &f);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 404, "not_found", NULL, "tenant not found");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "forecast");
        return;
    }
    json_t *by = json_object();
    int64_t alerts = 0, findings = 0;
    for (int sev = SLA_SEV_URGENT; sev < SLA_SEV_COUNT; sev++) {
        json_object_set_new(by, sla_sev_name((enum sla_sev)sev),
                            json_pack("{s:I, s:I}", "alerts", (json_int_t)f.alerts[sev],
                                      "findings", (json_int_t)f.findings[sev]));
        alerts += f.alerts[sev];
        findings += f.findings[sev];
    }
    json_t *items = json_array();
    for (size_t i = 0; i < f.n; i++) {
        const struct sw_forecast_item *it = &f.items[i];
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:o}",
                                               "kind", it->alert ? "alert" : "finding",
                                               "id", it->id, "severity", sla_sev_name(it->sev),
                                               "clock", it->ack ? "ack" : "resolve",
                                               "due_at", json_time(it->due_at)));
    }
    json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:I, s:b, s:o}",
                          "tenant_id", r->tenant_id, "from", json_time(r->now),
                          "until", json_time(until), "hours", (json_int_t)hours,
                          "alerts", (json_int_t)alerts, "findings", (json_int_t)findings,
                          "by_severity", by, "count", (json_int_t)f.n,
                          "truncated", f.truncated, "items", items);
    store_forecast_free(&f);
    http_json(r, 200, o);
}
