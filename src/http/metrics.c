/* metrics.c: counters and their Prometheus rendering. */
#include "http/metrics.h"
#include "store/store.h"
#include "http/bulk.h"
#include "http/conn_guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "notify/notify.h"
#include "util/xalloc.h"
#include "ws/ws.h"
#include "sched/sched.h"

static const int statuses[METRICS_NSTATUS] = {
    200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503,
    101, 0 /* any other */
};

/* Upper bounds in microseconds, as seconds in the output. */
static const uint64_t bucket_us[METRICS_NBUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000, UINT64_MAX
};

void metrics_init(struct metrics *m, size_t nroutes)
{
    m->nroutes = nroutes;
    m->routes = xcalloc(nroutes + 1, sizeof(*m->routes));
}

void metrics_release(struct metrics *m)
{
    free(m->routes);
    m->routes = NULL;
}

void metrics_observe(struct metrics *m, size_t route_index, int status, uint64_t ns)
{
    struct route_metrics *rm = &m->routes[route_index <= m->nroutes ? route_index : m->nroutes];
    int si = METRICS_NSTATUS - 1;
    for (int i = 0; i < METRICS_NSTATUS - 1; i++)
        if (statuses[i] == status) {
            si = i;
            break;
        }
    rm->by_status[si]++;
    uint64_t us = ns / 1000;
    int b = 0;
    while (b < METRICS_NBUCKETS - 1 && us > bucket_us[b])
        b++;
    rm->latency[b]++;
    rm->latency_sum_us += us;
    rm->count++;
}

struct buf {
    char *p;
    size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n;
        b->p = xrealloc(b->p, b->cap);
    }
}

static void route_label(char *out, size_t cap, size_t i, size_t nroutes)
{
    if (i == nroutes)
        snprintf(out, cap, "method=\"\",route=\"unmatched\"");
    else
        snprintf(out, cap, "method=\"%s\",route=\"%s\"", http_routes[i].method,
                 http_routes[i].path);
}

/* A label value: backslash, quote and newline escaped (Prometheus text). */
static void label_value(char *out, size_t cap, const char *v)
{
    size_t k = 0;
    for (; *v && k + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[k++] = '\\';
            out[k++] = *v;
        } else if (*v == '\n') {
            out[k++] = '\\';
            out[k++] = 'n';
        } else {
            out[k++] = *v;
        }
    }
    out[k] = '\0';
}

#define METRICS_MAX_DESTS 1000

/* Per destination (host:port, never a URL: a Slack URL is a credential):
 * its breaker and its deliveries in flight. */
static void notify_dest_metrics(struct buf *b, struct notifier *n)
{
    size_t max = notify_dest_stats(n, NULL, 0) + 16;     /* a few more may come meanwhile */
    if (max > METRICS_MAX_DESTS)
        max = METRICS_MAX_DESTS;
    struct notify_dest_stat *ds = xcalloc(max, sizeof(*ds));
    size_t k = notify_dest_stats(n, ds, max);
    if (k > max)
        k = max;
    char dest[2 * sizeof(ds->destination)];
    bprintf(b, "# HELP slawatch_notify_breaker_open Whether a destination's circuit breaker "
               "holds its deliveries back (1: open or probing).\n"
               "# TYPE slawatch_notify_breaker_open gauge\n");
    for (size_t i = 0; i < k; i++) {
        label_value(dest, sizeof(dest), ds[i].destination);
        bprintf(b, "slawatch_notify_breaker_open{channel=\"%s\",destination=\"%s\"} %d\n",
                notify_channel_name(ds[i].channel), dest,
                ds[i].state != NOTIFY_BREAKER_CLOSED);
    }
    bprintf(b, "# HELP slawatch_notify_destination_in_flight Deliveries being sent now, by "
               "destination.\n"
               "# TYPE slawatch_notify_destination_in_flight gauge\n");
    for (size_t i = 0; i < k; i++) {
        label_value(dest, sizeof(dest), ds[i].destination);
        bprintf(b, "slawatch_notify_destination_in_flight{channel=\"%s\",destination=\"%s\"} "
                   "%d\n", notify_channel_name(ds[i].channel), dest, ds[i].in_flight);
    }
    free(ds);
}

char *metrics_render(const struct metrics *m, const struct store_stats *st, int in_flight,
                     size_t *len)
{
    struct buf b = {xmalloc(16384), 0, 16384};
    char label[512];

    bprintf(&b, "# HELP slawatch_http_requests_total HTTP requests by route and status.\n"
                "# TYPE slawatch_http_requests_total counter\n");
    for (size_t i = 0; i <= m->nroutes; i++) {
        route_label(label, sizeof(label), i, m->nroutes);
        for (int s = 0; s < METRICS_NSTATUS; s++) {
            uint64_t v = m->routes[i].by_status[s];
            if (!v)
                continue;
            if (statuses[s])
                bprintf(&b, "slawatch_http_requests_total{%s,status=\"%d\"} %llu\n", label,
                        statuses[s], (unsigned long long)v);
            else
                bprintf(&b, "slawatch_http_requests_total{%s,status=\"other\"} %llu\n",
                        label, (unsigned long long)v);
        }
    }

    bprintf(&b, "# HELP slawatch_http_request_duration_seconds Time to answer, by route.\n"
                "# TYPE slawatch_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->nroutes; i++) {
        const struct route_metrics *rm = &m->routes[i];
        if (!rm->count)
            continue;
        route_label(label, sizeof(label), i, m->nroutes);
        uint64_t cum = 0;
        for (int k = 0; k < METRICS_NBUCKETS; k++) {
            cum += rm->latency[k];
            if (bucket_us[k] == UINT64_MAX)
                bprintf(&b, "slawatch_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
                        label, (unsigned long long)cum);
            else
                bprintf(&b, "slawatch_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                        label, (double)bucket_us[k] / 1e6, (unsigned long long)cum);
        }
        bprintf(&b, "slawatch_http_request_duration_seconds_sum{%s} %.6f\n", label,
                (double)rm->latency_sum_us / 1e6);
        bprintf(&b, "slawatch_http_request_duration_seconds_count{%s} %llu\n", label,
                (unsigned long long)rm->count);
    }

    bprintf(&b, "# HELP slawatch_http_requests_in_flight Requests being answered now.\n"
                "# TYPE slawatch_http_requests_in_flight gauge\n"
                "slawatch_http_requests_in_flight %d\n", in_flight);
    bprintf(&b, "# HELP slawatch_store_errors_total Errors reported by the database.\n"
                "# TYPE slawatch_store_errors_total counter\n"
                "slawatch_store_errors_total %llu\n"
                "# HELP slawatch_store_info The database this node uses.\n"
                "# TYPE slawatch_store_info gauge\n"
                "slawatch_store_info{backend=\"%s\"} 1\n"
                "# HELP slawatch_store_retries_total Transactions run again after a deadlock "
                "or serialization failure.\n"
                "# TYPE slawatch_store_retries_total counter\n"
                "slawatch_store_retries_total %llu\n"
                "# HELP slawatch_store_degraded 1 while the database refuses writes "
                "(unreachable, full, read-only).\n"
                "# TYPE slawatch_store_degraded gauge\n"
                "slawatch_store_degraded %d\n"
                "# HELP slawatch_cluster_signals_lossy 1 while this node may miss other nodes' "
                "invalidations (its PostgreSQL listener reconnects); caches are off meanwhile.\n"
                "# TYPE slawatch_cluster_signals_lossy gauge\n"
                "slawatch_cluster_signals_lossy %d\n"
                "# HELP slawatch_cluster_nodes Nodes alive on this database.\n"
                "# TYPE slawatch_cluster_nodes gauge\n"
                "slawatch_cluster_nodes %d\n",
            (unsigned long long)st->errors, st->backend, (unsigned long long)st->retries,
            st->degraded ? 1 : 0, st->lossy ? 1 : 0, st->nodes);
    bprintf(&b, "# HELP slawatch_ws_clients Connected WebSocket clients.\n"
                "# TYPE slawatch_ws_clients gauge\n"
                "slawatch_ws_clients %zu\n"
                "# HELP slawatch_ws_auth_closed_total WebSocket clients closed because their "
                "token or session ended or no longer allows their tenant.\n"
                "# TYPE slawatch_ws_auth_closed_total counter\n"
                "slawatch_ws_auth_closed_total %llu\n",
            ws_client_count(m->ws), (unsigned long long)ws_auth_closed_count(m->ws));
    if (m->guard)
        bprintf(&b, "# HELP slawatch_http_request_timeouts_total Connections closed because a "
                    "request's head or body was not in by header_timeout / request_timeout.\n"
                    "# TYPE slawatch_http_request_timeouts_total counter\n"
                    "slawatch_http_request_timeouts_total %lu\n",
                conn_guard_timeouts(m->guard));
    if (m->bulk) {
        unsigned inflight, queued;
        bulk_counts(m->bulk, &inflight, &queued);
        bprintf(&b, "# HELP slawatch_bulk_imports_in_flight Bulk imports admitted and not "
                    "answered yet (uploading, queued or running).\n"
                    "# TYPE slawatch_bulk_imports_in_flight gauge\n"
                    "slawatch_bulk_imports_in_flight %u\n"
                    "# HELP slawatch_bulk_imports_queued Bulk imports waiting for a worker.\n"
                    "# TYPE slawatch_bulk_imports_queued gauge\n"
                    "slawatch_bulk_imports_queued %u\n",
                inflight, queued);
    }
    if (m->sched) {
        struct sched_stats ss;
        sched_stats(m->sched, &ss);
        bprintf(&b, "# HELP slawatch_sched_rounds_total Scheduler rounds (wake-ups).\n"
                    "# TYPE slawatch_sched_rounds_total counter\n"
                    "slawatch_sched_rounds_total %llu\n"
                    "# HELP slawatch_sched_processed_total Due items the scheduler processed.\n"
                    "# TYPE slawatch_sched_processed_total counter\n"
                    "slawatch_sched_processed_total %llu\n"
                    "# HELP slawatch_sched_errors_total Scheduler rounds that failed.\n"
                    "# TYPE slawatch_sched_errors_total counter\n"
                    "slawatch_sched_errors_total %llu\n"
                    "# HELP slawatch_sched_backoff_seconds Wait between rounds while the store "
                    "fails (0 = healthy).\n"
                    "# TYPE slawatch_sched_backoff_seconds gauge\n"
                    "slawatch_sched_backoff_seconds %.3f\n",
                (unsigned long long)ss.rounds, (unsigned long long)ss.processed,
                (unsigned long long)ss.errors, (double)ss.backoff_ms / 1000.0);
    }
    if (m->notifier) {
        struct notify_stats ns;
        notify_get_stats(m->notifier, &ns);
        bprintf(&b, "# HELP slawatch_notify_delivered_total Notifications accepted by their receiver.\n"
                    "# TYPE slawatch_notify_delivered_total counter\n"
                    "slawatch_notify_delivered_total %llu\n"
                    "# HELP slawatch_notify_failed_attempts_total Delivery attempts that failed.\n"
                    "# TYPE slawatch_notify_failed_attempts_total counter\n"
                    "slawatch_notify_failed_attempts_total %llu\n"
                    "# HELP slawatch_notify_dead_total Notifications given up after the last attempt.\n"
                    "# TYPE slawatch_notify_dead_total counter\n"
                    "slawatch_notify_dead_total %llu\n"
                    "# HELP slawatch_notify_digests_total Digests sent instead of a flood.\n"
                    "# TYPE slawatch_notify_digests_total counter\n"
                    "slawatch_notify_digests_total %llu\n",
                (unsigned long long)ns.delivered, (unsigned long long)ns.failed,
                (unsigned long long)ns.dead, (unsigned long long)ns.digested);
        bprintf(&b, "# HELP slawatch_notify_skipped_total Attempts not sent: the destination's "
                    "circuit breaker was open.\n"
                    "# TYPE slawatch_notify_skipped_total counter\n"
                    "slawatch_notify_skipped_total %llu\n"
                    "# HELP slawatch_notify_in_flight Deliveries being sent now, by channel.\n"
                    "# TYPE slawatch_notify_in_flight gauge\n",
                (unsigned long long)ns.skipped);
        for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
            if (ch != NOTIFY_WEBSOCKET)
                bprintf(&b, "slawatch_notify_in_flight{channel=\"%s\"} %d\n",
                        notify_channel_name((enum notify_channel)ch), ns.in_flight[ch]);
        notify_dest_metrics(&b, m->notifier);
    }
    *len = b.len;
    return b.p;
}
