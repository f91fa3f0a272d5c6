/* opts.c: the hub's settings and their defaults (config.c sets them from
 * the ws_* keys and SLAWATCH_WS_* variables). */
#include "ws/ws.h"

void ws_opts_default(struct ws_opts *o)
{
    o->metrics_interval_ms = 5000;
    o->ping_interval_ms = 30000;
    o->pong_timeout_ms = 75000;
    o->max_queue_msgs = 256;
    o->max_queue_bytes = 1u << 20;
    o->recheck_interval_ms = 500;
}
