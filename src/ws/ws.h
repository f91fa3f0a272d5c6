/* ws: live push to dashboards over WebSocket.
 *
 * One hub per server.  Upgraded sockets (libmicrohttpd's upgrade API) are
 * handed to the hub, which owns them on one broadcaster thread (epoll, no
 * thread per client) and frames with wslay.  Publishing never blocks the
 * caller: messages go to a per-client bounded queue, and a client too slow
 * to drain it is dropped rather than allowed to stall the others.
 *
 * A socket outlives the request that opened it, so the credential it came
 * with (a token, a session) is checked again all the time: every
 * recheck_interval, and at once after ws_hub_recheck (a local revoke,
 * logout, user deletion).  The periodic check is what covers a change made
 * on another node.  A client whose credential no longer lets it read its
 * tenant gets a close frame (4001 or 4003, with a reason) and its socket is
 * released. */
#ifndef SW_WS_H
#define SW_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ws_hub;

/* ---- the hub's life ---------------------------------------------------- */

struct ws_opts {
    unsigned metrics_interval_ms;   /* the periodic {"type":"metrics"} (5000) */
    unsigned ping_interval_ms;      /* server pings every client (30000) */
    unsigned pong_timeout_ms;       /* silent this long: dropped (75000) */
    size_t max_queue_msgs;          /* per client, unsent messages (256) */
    size_t max_queue_bytes;         /* per client, unsent bytes (1 MiB) */
    unsigned recheck_interval_ms;   /* every client's credential checked again (500) */
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
 * cred[0..cred_len): what the auth callback needs to check the client's
 * credential again (copied, opaque to the hub; may be empty).
 * extra: bytes the client sent after its handshake, read before fd (copied).
 * The hub never closes fd: it calls release(release_arg) exactly once, on
 * its thread, when it is done with it (or at once, on this thread, when the
 * hub is shutting down: then SW_E_BUSY).  Thread-safe, never blocks. */
int ws_hub_add(struct ws_hub *h, int fd, const char *tenant_id, const void *cred,
               size_t cred_len, const char *extra, size_t extra_len,
               void (*release)(void *), void *release_arg);

/* Connected clients, for /metrics and tests. */
size_t ws_client_count(const struct ws_hub *h);
/* Whether a client of this tenant is connected: a publisher with nothing
 * to tell anyone skips building its message (a client connecting at that
 * instant would not have had it either). */
bool ws_watched(struct ws_hub *h, const char *tenant_id);

/* ---- credentials checked again ------------------------------------------ */

/* What the auth callback says of a credential.  The close codes are the
 * WebSocket close frame's (RFC 6455 7.4.2, 4000-4999: the application's). */
enum ws_verdict {
    WS_KEEP = 0,                    /* still valid, or cannot tell now (store down) */
    WS_CLOSE_UNAUTHORIZED = 4001,   /* revoked, expired, logged out, user gone */
    WS_CLOSE_FORBIDDEN = 4003,      /* valid, but may no longer read this tenant */
};

/* Whether the credential cred[0..len) may still read tenant_id.  Called on
 * the hub's checker thread (never the broadcaster), once per distinct
 * (tenant, credential) per round, so it may query the store.  A store error
 * must answer WS_KEEP: a database hiccup is no reason to drop every
 * dashboard (the next round decides). */
typedef enum ws_verdict (*ws_auth_cb)(const char *tenant_id, const void *cred, size_t len,
                                      void *ud);
/* Sets the callback (NULL: no checks). */
void ws_set_auth_cb(struct ws_hub *h, ws_auth_cb cb, void *ud);
/* Checks every client now instead of at the next round: call after a
 * local change that may end credentials (revoke, logout, user deleted or
 * its roles changed).  Thread-safe, never blocks. */
void ws_hub_recheck(struct ws_hub *h);
/* Clients closed because their credential no longer held, for /metrics. */
uint64_t ws_auth_closed_count(const struct ws_hub *h);

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
