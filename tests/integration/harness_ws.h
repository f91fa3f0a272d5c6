/* harness_ws: a small raw WebSocket client for integration tests (RFC 6455
 * by hand: client frames masked, server frames not), answering pings.
 * test_ws.c keeps its own lower-level client for protocol edge cases. */
#ifndef SW_TEST_HARNESS_WS_H
#define SW_TEST_HARNESS_WS_H

#include <jansson.h>
#include <stdint.h>

#include "harness.h"

struct ws_client;

/* Opens /api/v1/sla/ws?tenant_id=tenant with a bearer token; NULL unless
 * the server answered 101. */
struct ws_client *ws_client_open(struct sw_server *s, const char *tenant, const char *token);
/* The next text message as JSON within timeout_ms (NULL: timeout, EOF or
 * not JSON); *recv_ms (optional) = the wall clock (ms) when it was read. */
json_t *ws_client_next(struct ws_client *c, int timeout_ms, int64_t *recv_ms);
/* The next message whose "type" is type, skipping others (metrics, ...);
 * NULL on timeout. */
json_t *ws_client_wait(struct ws_client *c, const char *type, int timeout_ms, int64_t *recv_ms);
void ws_client_close(struct ws_client *c);

/* Wall clock, ms since the epoch. */
int64_t ws_wall_ms(void);

#endif
