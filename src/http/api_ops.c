/* api_ops.c: liveness, readiness and metrics for operators (no auth). */
#include <stdlib.h>

#include "http/http.h"
#include "http/server.h"

void api_healthz(struct req *r)
{
    http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* 503 while the store cannot be reached or refuses writes (store_ping
 * probes a write while writes fail: disk full, read-only), so a load
 * balancer sends the traffic to a node that can take it. */
void api_readyz(struct req *r)
{
    int rc = store_ping(r->srv->store);
    if (rc < 0) {
        http_error(r, 503, "unavailable", NULL, "store not ready: %s", sw_strerror(rc));
        http_add_header(r, "Retry-After", "5");
        return;
    }
    http_json(r, 200, json_pack("{s:s, s:s}", "status", "ready", "store",
                                store_backend(r->srv->store)));
}

void api_metrics(struct req *r)
{
    size_t len;
    struct store_stats st;
    store_stats(r->srv->store, &st);
    char *text = metrics_render(&r->srv->metrics, &st, r->srv->in_flight, &len);
    http_raw(r, 200, "text/plain; version=0.0.4", text, len);
}
