/* api_ws.c: GET /api/v1/sla/ws, the dashboards' live feed.
 *
 * The route table has already authenticated the caller and checked the
 * tenant (?tenant_id=, PERM_READ).  This handler checks the WebSocket
 * handshake (RFC 6455 4.2.1), answers 101 with Sec-WebSocket-Accept, and
 * hands the upgraded socket to the hub (src/ws), subscribed to the tenant. */
#include <string.h>
#include <strings.h>

#include "http/api.h"
#include "http/http.h"
#include "http/server.h"
#include "ws/ws.h"

/* On an HTTP thread, once the 101 is out. */
static void on_upgraded(struct req *r, void *ud, int fd, const char *extra, size_t extra_len,
                        void (*done)(void *), void *done_arg)
{
    ws_hub_add(ud, fd, r->tenant_id, extra, extra_len, done, done_arg);
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
