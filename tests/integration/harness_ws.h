/* harness_ws: a small raw WebSocket client for integration tests (RFC 6455
 * by hand: client frames masked, server frames not), answering pings.
 * test_ws.c keeps its own lower-level client for protocol edge cases. */
#ifndef SW_TEST_HARNESS_WS_H
#define SW_TEST_HARNESS_WS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

struct ws_client;

/* Opens /api/v1/sla/ws?tenant_id=tenant with a bearer token; NULL unless
 * the server answered 101. */
struct ws_client *ws_client_open(struct sw_server *s, const char *tenant, const char *token);
/* The same with extra request header lines ("Name: value\r\n"..., may be
 * NULL) and token NULL for none: a session cookie. */
struct ws_client *ws_client_open_h(struct sw_server *s, const char *tenant, const char *token,
                                   const char *headers);
/* The next text message as JSON within timeout_ms (NULL: timeout, EOF or
 * not JSON); *recv_ms (optional) = the wall clock (ms) when it was read. */
json_t *ws_client_next(struct ws_client *c, int timeout_ms, int64_t *recv_ms);
/* The next message whose "type" is type, skipping others (metrics, ...);
 * NULL on timeout. */
json_t *ws_client_wait(struct ws_client *c, const char *type, int timeout_ms, int64_t *recv_ms);
void ws_client_close(struct ws_client *c);
/* Reads (answering pings, counting text messages in *texts when given)
 * until the server's close frame: 1 with its status code in *code, 0 on
 * timeout, -1 on EOF without one. */
int ws_client_wait_close(struct ws_client *c, int timeout_ms, int *code, int *texts);
/* True when the server closes the TCP connection within timeout_ms (the
 * bytes before are read and dropped). */
bool ws_client_eof(struct ws_client *c, int timeout_ms);

/* Wall clock, ms since the epoch. */
int64_t ws_wall_ms(void);

#endif
