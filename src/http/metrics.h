/* metrics: request counters by route and status, latency histograms,
 * rendered in the Prometheus text format for /metrics. Lock-free counters. */
#ifndef SW_HTTP_METRICS_H
#define SW_HTTP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_NSTATUS 18
#define METRICS_NBUCKETS 12

struct route_metrics {
    atomic_uint_fast64_t by_status[METRICS_NSTATUS];
    atomic_uint_fast64_t latency[METRICS_NBUCKETS];  /* cumulative at render */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t count;
};

struct ws_hub;
struct sched;
struct bulk_pool;
struct conn_guard;

struct metrics {
    size_t nroutes;                 /* + 1 slot for "unmatched" */
    struct route_metrics *routes;
    const struct ws_hub *ws;        /* for slawatch_ws_clients; may be NULL */
    const struct sched *sched;      /* for slawatch_sched_*; may be NULL */
    struct notifier *notifier;      /* for slawatch_notify_*; may be NULL */
    struct bulk_pool *bulk;         /* for slawatch_bulk_*; may be NULL */
    struct conn_guard *guard;       /* for slawatch_http_request_timeouts_total; may be NULL */
};

void metrics_init(struct metrics *m, size_t nroutes);
void metrics_release(struct metrics *m);
/* route_index == nroutes for a request that matched no route. */
void metrics_observe(struct metrics *m, size_t route_index, int status, uint64_t ns);
/* Appends the text exposition to a new string the caller frees. */
struct store_stats;
char *metrics_render(const struct metrics *m, const struct store_stats *st, int in_flight,
                     size_t *len);

#endif
