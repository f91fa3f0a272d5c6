/* api_ws.c: GET /api/v1/sla/ws, the dashboards' live feed.
 *
 * The route table has already authenticated the caller and checked the
 * tenant (?tenant_id=, PERM_READ).  This handler checks the WebSocket
 * handshake (RFC 6455 4.2.1), answers 101 with Sec-WebSocket-Accept, and
 * hands the upgraded socket to the hub (src/ws), subscribed to the tenant,
 * with the hash of the credential it came with.  The hub asks
 * api_ws_recheck about that credential twice a second (and at once after a
 * local revoke, logout or user deletion): a token revoked or a session
 * ended, here or on another node, closes the socket. */
#include <string.h>
#include <strings.h>

#include "http/api.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/server.h"
#include "ws/ws.h"

/* What the hub keeps of a socket's credential: never the secret itself. */
struct ws_cred {
    uint8_t kind;                           /* CRED_TOKEN | CRED_SESSION */
    uint8_t hash[SW_TOKEN_HASH_LEN];
};
enum { CRED_TOKEN = 1, CRED_SESSION = 2 };

/* On an HTTP thread, once the 101 is out. */
static void on_upgraded(struct req *r, void *ud, int fd, const char *extra, size_t extra_len,
                        void (*done)(void *), void *done_arg)
{
    struct ws_cred c;
    memset(&c, 0, sizeof(c));
    c.kind = r->who.via_session ? CRED_SESSION : CRED_TOKEN;
    memcpy(c.hash, r->who.via_session ? r->who.session_hash : r->who.token_hash, sizeof(c.hash));
    ws_hub_add(ud, fd, r->tenant_id, &c, sizeof(c), extra, extra_len, done, done_arg);
}

enum ws_verdict api_ws_recheck(const char *tenant_id, const void *cred, size_t len, void *ud)
{
    struct server *srv = ud;
    struct ws_cred c;
    if (len != sizeof(c))
        return WS_CLOSE_UNAUTHORIZED;
    memcpy(&c, cred, sizeof(c));
    struct auth_principal p;
    int64_t now = sw_now_ms();
    int rc = c.kind == CRED_SESSION
                 ? auth_session_hash_check(srv->store, c.hash, now,
                                           (int64_t)srv->cfg->session_idle_s * 1000, &p)
                 : auth_token_hash_authenticate(srv->store, c.hash, now, &p);
    if (rc == SW_E_AUTH)
        return WS_CLOSE_UNAUTHORIZED;
    if (rc < 0)
        return WS_KEEP;     /* the store cannot tell now: the next round will */
    /* the route's own check (GET /api/v1/sla/ws: PERM_READ in the tenant) */
    return auth_check(&p, PERM_READ, tenant_id) == 0 ? WS_KEEP : WS_CLOSE_FORBIDDEN;
}

/* Browsers attach cookies to a cross-site WebSocket handshake and apply no
 * CORS to it, so a page elsewhere could open a feed with the dashboard's
 * session: when the caller came by cookie (no Authorization header), an
 * Origin must name this host.  Bearer callers are not browsers riding a
 * cookie and may come from anywhere. */
static bool origin_ok(struct req *r)
{
    if (http_header_in(r, "Authorization"))
        return true;
    const char *origin = http_header_in(r, "Origin"), *host = http_header_in(r, "Host");
    if (!origin)
        return true;    /* not a browser */
    if (!strncasecmp(origin, "https://", 8))
        origin += 8;
    else if (!strncasecmp(origin, "http://", 7))
        origin += 7;
    else
        return false;
    return host && !strcasecmp(origin, host);
}

void api_ws(struct req *r)
{
    if (strcmp(r->method, "GET") != 0) {    /* HEAD: nothing to upgrade */
        http_error(r, 400, "bad_request", NULL, "a WebSocket handshake is a GET");
        return;
    }
    if (!origin_ok(r)) {
        http_error(r, 403, "forbidden", NULL,
                   "a WebSocket with the session cookie must come from this origin");
        return;
    }
    const char *key = http_header_in(r, "Sec-WebSocket-Key");
    switch (ws_handshake_check(http_header_in(r, "Upgrade"), http_header_in(r, "Connection"),
                               http_header_in(r, "Sec-WebSocket-Version"), key)) {
    case WS_HS_OK:
        break;
    case WS_HS_NOT_UPGRADE:
        http_error(r, 426, "upgrade_required", NULL,
                   "this is a WebSocket endpoint: send Upgrade: websocket and "
                   "Connection: Upgrade");
        http_add_header(r, "Upgrade", "websocket");
        return;
    case WS_HS_VERSION:
        http_error(r, 426, "upgrade_required", "Sec-WebSocket-Version",
                   "only WebSocket version 13 is supported");
        http_add_header(r, "Sec-WebSocket-Version", "13");
        return;
    case WS_HS_KEY:
        http_error(r, 400, "bad_request", "Sec-WebSocket-Key",
                   "Sec-WebSocket-Key must be 16 bytes in base64");
        return;
    }
    char accept[WS_ACCEPT_LEN + 1];
    ws_accept_key(key, accept);
    http_upgrade(r, on_upgraded, r->srv->ws);
    http_add_header(r, "Upgrade", "websocket");
    http_add_header(r, "Sec-WebSocket-Accept", accept);
}
