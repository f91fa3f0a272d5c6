/* live_gauges.c: the live gauges (analytics.h).  One thread: at start and then
 * every interval (5 minutes; SLAWATCH_LIVE_SNAPSHOT_S overrides, 1..3600),
 * for every tenant, the open alerts, active breaches and warnings of
 * /current go into live_snapshots (kept 8 days) for intraday charts
 * (/trends/live).  Snapshots are stamped with, and taken at, the interval's
 * wall-clock boundary, so every node of a cluster picks the same instant and
 * the store keeps the first node's snapshot only (one per tenant and
 * interval).  Also the WebSocket metrics callback: each tenant's
 * periodic metrics message carries the /current numbers. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/analytics.h"
#include "http/server.h"
#include "util/log.h"
#include "util/xalloc.h"

#define LIVE_INTERVAL_S 300
#define LIVE_KEEP_MS (8 * SLA_MS_PER_DAY)

struct gauges {
    struct server *srv;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    unsigned interval_s;
};

struct ids {
    char (*v)[SW_ID_MAX + 1];
    size_t n, cap;
};

static int add_id(const struct sw_tenant *t, void *ud)
{
    struct ids *ids = ud;
    if (ids->n == ids->cap)
        ids->v = xrealloc(ids->v, (ids->cap = ids->cap ? ids->cap * 2 : 32) * sizeof(*ids->v));
    snprintf(ids->v[ids->n++], sizeof(ids->v[0]), "%s", t->id);
    return 0;
}

static void snapshot_all(struct gauges *l)
{
    struct store *s = l->srv->store;
    struct ids ids = {0};
    if (store_tenant_list(s, NULL, 0, add_id, &ids) < 0) {
        free(ids.v);
        return;
    }
    int64_t now = sw_now_ms();
    int64_t step = (int64_t)l->interval_s * 1000;
    int64_t at = now - now % step;
    for (size_t i = 0; i < ids.n; i++) {
        struct an_ctx x;
        struct an_current c;
        if (an_ctx_open_store(s, ids.v[i], now, &x) < 0)
            continue;
        if (an_current(s, &x, now, NULL, &c) == 0) {
            struct sw_live_snapshot snap = {at, c.open_alerts, c.active_breaches, c.warnings};
            if (store_live_add(s, ids.v[i], &snap, now - LIVE_KEEP_MS) < 0)
                log_warn("live gauges: cannot store the snapshot of %s", ids.v[i]);
        }
        an_ctx_close(&x);
    }
    free(ids.v);
}

static void *gauges_main(void *arg)
{
    struct gauges *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stopping) {
        pthread_mutex_unlock(&l->mu);
        snapshot_all(l);
        pthread_mutex_lock(&l->mu);
        /* until the next boundary of the wall clock (condition variables
         * wait on CLOCK_REALTIME) */
        int64_t step = (int64_t)l->interval_s * 1000;
        int64_t next = (sw_now_ms() / step + 1) * step;
        struct timespec until = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};
        while (!l->stopping && pthread_cond_timedwait(&l->cv, &l->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int gauges_start(struct server *srv, struct gauges **out)
{
    bool rebuilt = false;
    if (store_rollup_ensure(srv->store, &rebuilt) < 0)
        log_warn("rollups: could not check or build them; run `slawatch rollups rebuild`");
    struct gauges *l = xcalloc(1, sizeof(*l));
    l->srv = srv;
    l->interval_s = LIVE_INTERVAL_S;
    const char *env = getenv("SLAWATCH_LIVE_SNAPSHOT_S");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v >= 1 && v <= 3600)
            l->interval_s = (unsigned)v;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, gauges_main, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return SW_E_NOMEM;
    }
    *out = l;
    return 0;
}

void gauges_stop(struct gauges *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

char *gauges_ws_metrics(const char *tenant_id, void *ud)
{
    struct server *srv = ud;
    struct an_ctx x;
    struct an_current c;
    int64_t now = sw_now_ms();
    if (an_ctx_open_store(srv->store, tenant_id, now, &x) < 0)
        return NULL;
    int rc = an_current(srv->store, &x, now, NULL, &c);
    an_ctx_close(&x);
    if (rc < 0)
        return NULL;
    json_t *o = an_current_json(&c);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}
