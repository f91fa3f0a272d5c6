/* ws: live push to dashboards over WebSocket.
 *
 * One hub per server.  Upgraded sockets (libmicrohttpd's upgrade API) are
 * handed to the hub, which owns them on one broadcaster thread (epoll, no
 * thread per client) and frames with wslay.  Publishing never blocks the
 * caller: messages go to a per-client bounded queue, and a client too slow
 * to drain it is dropped rather than allowed to stall the others. */
#ifndef SW_WS_H
#define SW_WS_H

#include <stdbool.h>
#include <stddef.h>

struct ws_hub;

/* ---- the hub's life ---------------------------------------------------- */

struct ws_opts {
    unsigned metrics_interval_ms;   /* the periodic {"type":"metrics"} (5000) */
    unsigned ping_interval_ms;      /* server pings every client (30000) */
    unsigned pong_timeout_ms;       /* silent this long: dropped (75000) */
    size_t max_queue_msgs;          /* per client, unsent messages (256) */
    size_t max_queue_bytes;         /* per client, unsent bytes (1 MiB) */
};

/* Defaults; the server sets them from its configuration (ws_* keys). */
void ws_opts_default(struct ws_opts *o);

/* Starts the broadcaster thread. *out is the caller's (ws_hub_free). */
int ws_hub_new(struct ws_hub **out);
/* The same with settings (NULL = defaults). */
int ws_hub_new_opts(const struct ws_opts *o, struct ws_hub **out);
/* Closes every client (1001 going away), joins the threads, and from then
 * on refuses new clients (ws_hub_add releases them at once).  Idempotent.
 * The server calls it before stopping libmicrohttpd, which must see every
 * upgraded socket released before it stops. */
void ws_hub_shutdown(struct ws_hub *h);
/* ws_hub_shutdown, then frees the hub.  NULL is a no-op. */
void ws_hub_free(struct ws_hub *h);

/* ---- clients ----------------------------------------------------------- */

/* Hands an upgraded connection to the hub, subscribed to tenant_id (copied).
 * extra: bytes the client sent after its handshake, read before fd (copied).
 * The hub never closes fd: it calls release(release_arg) exactly once, on
 * its thread, when it is done with it (or at once, on this thread, when the
 * hub is shutting down: then SW_E_BUSY).  Thread-safe, never blocks. */
int ws_hub_add(struct ws_hub *h, int fd, const char *tenant_id, const char *extra,
               size_t extra_len, void (*release)(void *), void *release_arg);

/* Connected clients, for /metrics and tests. */
size_t ws_client_count(const struct ws_hub *h);

/* ---- messages ---------------------------------------------------------- */

/* Queues a text message (a JSON object) for every client subscribed to
 * tenant_id; tenant_id NULL = every client.  Copies text; thread-safe. */
void ws_publish(struct ws_hub *h, const char *tenant_id, const char *text, size_t len);

/* Extra members for a tenant's periodic metrics message: returns a malloc'ed
 * JSON object text (or NULL).  Its members are added to
 * {"type":"metrics","tenant_id","clients","at"}, which keep their values.
 * Called on the hub's ticker thread (not the broadcaster), once per tenant
 * with clients per interval: it may query the store, but slowly delays only
 * the next metrics message. */
typedef char *(*ws_metrics_cb)(const char *tenant_id, void *ud);
void ws_set_metrics_cb(struct ws_hub *h, ws_metrics_cb cb, void *ud);

/* ---- the handshake (RFC 6455 section 4.2), pure functions ---------------- */

enum ws_handshake_err {
    WS_HS_OK = 0,
    WS_HS_NOT_UPGRADE = -1,     /* no "Upgrade: websocket" / "Connection: Upgrade" */
    WS_HS_VERSION = -2,         /* Sec-WebSocket-Version is not 13 */
    WS_HS_KEY = -3,             /* Sec-WebSocket-Key missing or not 16 bytes in base64 */
};

/* Checks the request's header values (NULL when absent). */
enum ws_handshake_err ws_handshake_check(const char *upgrade, const char *connection,
                                         const char *version, const char *key);

#define WS_ACCEPT_LEN 28
/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). */
void ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

#endif
