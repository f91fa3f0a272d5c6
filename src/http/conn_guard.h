/* conn_guard: deadlines for receiving a request, against slow clients.
 *
 * libmicrohttpd's connection_timeout is an idle timeout: a client that sends
 * one header byte every few seconds is never idle and holds its connection
 * (and, a few thousand times over, every connection slot) forever.  The
 * guard gives each request two deadlines, counted from the moment its
 * connection was ready for it (accepted, or the previous answer sent):
 *   - header_timeout: the request line and headers are in;
 *   - request_timeout: the whole request, body included, is in.
 * A reaper thread checks them a few times a second.  A request past its
 * deadline gets `408 Request Timeout` (written straight to the socket: the
 * server is not writing to it while the request is being received; not
 * under TLS, where the socket carries records) when a request line had
 * arrived, and the connection is shut down; libmicrohttpd sees the socket
 * end and closes it on its own thread.  A connection silent since its last
 * answer is an idle keep-alive connection: closed at header_timeout without
 * a 408.  Upgraded (WebSocket) connections and requests whose body is in
 * (being handled, or suspended for a deferred answer) are left alone.
 *
 * The guard learns a connection's phases from libmicrohttpd's callbacks
 * (MHD_OPTION_NOTIFY_CONNECTION, MHD_OPTION_URI_LOG_CALLBACK) and from the
 * server's pipeline (conn_guard_head ... conn_guard_idle).  libmicrohttpd
 * calls the "closed" notification before it closes the socket, and the
 * reaper holds the guard's lock while it writes, so it never writes to a
 * socket number that was closed and reused. */
#ifndef SW_HTTP_CONN_GUARD_H
#define SW_HTTP_CONN_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

struct conn_guard;

/* Starts the reaper.  tls: never write a raw answer. */
int conn_guard_start(unsigned header_timeout_s, unsigned request_timeout_s, bool tls,
                     struct conn_guard **out);
/* Stops the reaper and frees g (after the daemon stopped: no callback may
 * run any more).  NULL is fine. */
void conn_guard_stop(struct conn_guard *g);

/* libmicrohttpd's callbacks: cls = the guard. */
void conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);
void *conn_guard_uri_log(void *cls, const char *uri, struct MHD_Connection *c);

/* The pipeline's steps, on the connection's thread.  Each returns false
 * when the reaper has already closed the connection: return MHD_NO. */
bool conn_guard_head(struct MHD_Connection *c);      /* headers in, body may follow */
bool conn_guard_received(struct MHD_Connection *c);  /* the whole request is in */
void conn_guard_idle(struct MHD_Connection *c);      /* answered: ready for the next */
void conn_guard_upgraded(struct MHD_Connection *c);  /* a WebSocket now: no deadline */

/* Connections closed past a deadline so far (slawatch_http_request_timeouts_total). */
unsigned long conn_guard_timeouts(struct conn_guard *g);

/* Writes a complete `HTTP/1.1 <status>` answer with a JSON body and
 * `Connection: close` straight to the socket, for when libmicrohttpd
 * cannot queue one (in the middle of a request body).  Only on the
 * connection's thread, while it is receiving; not under TLS (-1). */
int conn_guard_send_raw(struct MHD_Connection *c, bool tls, unsigned status,
                        const char *json);

#endif
