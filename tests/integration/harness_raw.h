/* harness_raw: raw TCP clients for tests that need what curl will not do:
 * a request byte by byte, a malformed request line, a body sent while the
 * answer is read, a connection from another loopback address (127.0.0.2
 * is a different client address to the server's per-address limit). */
#ifndef SW_TEST_HARNESS_RAW_H
#define SW_TEST_HARNESS_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* A blocking TCP connection to the server from local address from (NULL:
 * 127.0.0.1), or -1. */
int raw_connect(struct sw_server *s, const char *from);
/* Like raw_connect, non-blocking and without waiting for the handshake to
 * finish (thousands at once); -1 if the socket could not be made. */
int raw_connect_nb(struct sw_server *s, const char *from);
/* Sends all of buf (MSG_NOSIGNAL): 0, or -errno (EPIPE, ECONNRESET ...). */
int raw_send(int fd, const void *buf, size_t len);
/* Reads into buf (NUL-terminated, at most cap - 1 bytes) until the peer
 * closes, the buffer is full, timeout_ms passes, or, when one_answer, one
 * whole HTTP answer (head and Content-Length body) has arrived.  Returns
 * the bytes read; *closed (optional) tells whether the peer closed. */
size_t raw_read(int fd, char *buf, size_t cap, int timeout_ms, bool one_answer, bool *closed);
/* The status code of the HTTP answer at the start of buf, or -1. */
int raw_status(const char *buf);
/* A header's value in the answer's head at buf (case-insensitive name),
 * copied into out; NULL if absent. */
const char *raw_header(const char *buf, const char *name, char *out, size_t len);
/* Monotonic milliseconds. */
int64_t raw_now_ms(void);
void raw_sleep_ms(int ms);

#endif
