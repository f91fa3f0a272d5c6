/* opts.c: the hub's settings, their defaults and SLAWATCH_WS_* overrides.
 * (The environment for now; the config file can take them over later.) */
#include "ws/ws.h"

#include <errno.h>
#include <stdlib.h>

#include "util/log.h"

void ws_opts_default(struct ws_opts *o)
{
    o->metrics_interval_ms = 5000;
    o->ping_interval_ms = 30000;
    o->pong_timeout_ms = 75000;
    o->max_queue_msgs = 256;
    o->max_queue_bytes = 1u << 20;
}

/* The variable's value when set, a number in lo..hi; else *out stays. */
static void env_num(const char *name, unsigned long long lo, unsigned long long hi,
                    unsigned long long *out)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n < lo || n > hi) {
        log_warn("ws: ignoring %s=%s (want %llu..%llu)", name, v, lo, hi);
        return;
    }
    *out = n;
}

void ws_opts_from_env(struct ws_opts *o)
{
    unsigned long long v;
    v = o->metrics_interval_ms;
    env_num("SLAWATCH_WS_METRICS_INTERVAL_MS", 10, 3600000, &v);
    o->metrics_interval_ms = (unsigned)v;
    v = o->ping_interval_ms;
    env_num("SLAWATCH_WS_PING_INTERVAL_MS", 10, 3600000, &v);
    o->ping_interval_ms = (unsigned)v;
    v = o->pong_timeout_ms;
    env_num("SLAWATCH_WS_PONG_TIMEOUT_MS", 10, 3600000, &v);
    o->pong_timeout_ms = (unsigned)v;
    v = o->max_queue_msgs;
    env_num("SLAWATCH_WS_MAX_QUEUE_MSGS", 1, 1000000, &v);
    o->max_queue_msgs = (size_t)v;
    v = o->max_queue_bytes;
    env_num("SLAWATCH_WS_MAX_QUEUE_BYTES", 1024, 1ull << 30, &v);
    o->max_queue_bytes = (size_t)v;
}
