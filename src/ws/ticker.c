/* ticker.c: the hub's ticker thread.  Every metrics_interval it builds one
 * {"type":"metrics"} message per tenant with clients, calling the metrics
 * callback (which may query the store, so never on the broadcaster), and
 * publishes it like any other message. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sla.h"
#include "util/xalloc.h"
#include "ws/hub_int.h"

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct tcount {
    char *id;
    size_t n;
};

static void publish_metrics(struct ws_hub *h, const char *tenant, size_t n, ws_metrics_cb cb,
                            void *ud)
{
    json_t *extra = NULL;
    if (cb) {
        char *s = cb(tenant, ud);
        if (s) {
            extra = json_loads(s, 0, NULL);
            free(s);
            if (extra && !json_is_object(extra)) {
                json_decref(extra);
                extra = NULL;
            }
        }
    }
    char at[SLA_TIME_BUFSZ];
    int64_t now = real_ms();
    if (now % 1000 == 0)
        now++;      /* keep the milliseconds visible: clients measure latency with them */
    sla_time_format(now, at);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "type", "metrics", "tenant_id", tenant,
                          "clients", (json_int_t)n, "at", at);
    if (extra)
        json_object_update_missing(o, extra);
    json_decref(extra);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text) {
        ws_publish(h, tenant, text, strlen(text));
        free(text);
    }
}

/* A pass this short is left alone whatever the interval: at the default
 * 5 s it is 2 % of a core at most, and a short interval set on purpose
 * (the tests' 10 ms) keeps its rhythm. */
#define TICKER_CHEAP_NS INT64_C(100000000)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t hub_ticker_next(int64_t next, int64_t start, int64_t now, int64_t interval)
{
    next += interval;
    if (next < now)
        next = now + interval;
    int64_t d = now - start;
    if (d > TICKER_CHEAP_NS && next < now + 9 * d)
        next = now + 9 * d;
    return next;
}

void *hub_ticker_main(void *arg)
{
    struct ws_hub *h = arg;
    const int64_t interval_ns = (int64_t)h->o.metrics_interval_ms * 1000000;
    int64_t next_ns = mono_ns() + interval_ns;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        struct timespec next = {(time_t)(next_ns / 1000000000), (long)(next_ns % 1000000000)};
        while (!h->stopping && pthread_cond_timedwait(&h->tick, &h->lock, &next) != ETIMEDOUT)
            ;
        if (h->stopping)
            break;
        /* snapshot the tenants with clients, then work without the lock */
        size_t nt = 0, cap = 16;
        struct tcount *ts = xmalloc(cap * sizeof(*ts));
        for (unsigned b = 0; b < NBUCKETS; b++)
            for (struct tenant *t = h->buckets[b]; t; t = t->next) {
                if (nt == cap)
                    ts = xrealloc(ts, (cap *= 2) * sizeof(*ts));
                ts[nt].id = xstrdup(t->id);
                ts[nt++].n = t->n;
            }
        ws_metrics_cb cb = h->mcb;
        void *ud = h->mud;
        pthread_mutex_unlock(&h->lock);
        int64_t start = mono_ns();
        for (size_t i = 0; i < nt; i++) {
            publish_metrics(h, ts[i].id, ts[i].n, cb, ud);
            free(ts[i].id);
        }
        free(ts);
        /* a slow callback must not make the ticks pile up, nor take more
         * than a tenth of a core (a tenant with a million open alerts
         * costs about a second per pass) */
        next_ns = hub_ticker_next(next_ns, start, mono_ns(), interval_ns);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

void ws_set_metrics_cb(struct ws_hub *h, ws_metrics_cb cb, void *ud)
{
    pthread_mutex_lock(&h->lock);
    h->mcb = cb;
    h->mud = ud;
    pthread_mutex_unlock(&h->lock);
}
