/* server: the HTTP instance (libmicrohttpd, epoll, a pool of threads),
 * its listening socket, start and graceful stop. */
#ifndef SW_HTTP_SERVER_H
#define SW_HTTP_SERVER_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "http/metrics.h"
#include "store/store.h"

struct ws_hub;
struct notifier;
struct sched;
struct gauges;
struct conn_guard;
struct bulk_pool;

struct server {
    const struct cfg *cfg;
    struct store *store;
    struct MHD_Daemon *mhd;
    int listen_fd;
    int port;                   /* the bound port (useful when asked for 0) */
    atomic_int in_flight;
    atomic_bool stopping;       /* new connections are closed at once */
    struct metrics metrics;
    int64_t started_at;
    struct ws_hub *ws;          /* live push: WebSocket clients (src/ws) */
    struct notifier *notifier;  /* outbox delivery workers (src/notify) */
    struct sched *sched;        /* due instants → SLA events (src/sched) */
    struct gauges *gauges;      /* 5-minute live gauges (live_gauges.c) */
    struct conn_guard *guard;   /* request deadlines against slow clients */
    struct bulk_pool *bulk;     /* bulk imports, off the HTTP threads (bulk.h) */
    bool tls;                   /* serving HTTPS (cookies get Secure) */
    char *tls_cert_pem, *tls_key_pem;   /* read at start; MHD keeps pointers */
    /* argon2id hash of a random password, with the configured cost: checked
     * against for unknown emails so they take as long as known ones. */
    char dummy_pwhash[160];
};

/* Binds, starts serving.  *out is the caller's, freed by server_stop. */
int server_start(const struct cfg *cfg, struct store *store, struct server **out,
                 char *err, size_t errlen);
/* Stops accepting, waits up to cfg->drain_timeout_s for requests in flight,
 * then stops the threads and frees the server. */
void server_stop(struct server *srv);

/* Milliseconds since the epoch, from the real clock (the core never reads it). */
int64_t sw_now_ms(void);
uint64_t sw_mono_ns(void);

#endif
