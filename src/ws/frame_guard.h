/* frame_guard: a look at each frame header a WebSocket client sends, before
 * wslay parses it, for the protocol errors wslay 1.1 answers by dropping
 * the connection without a close frame: a control frame that is
 * fragmented or longer than 125 bytes (RFC 6455 5.5), a close frame with a
 * 1-byte body (5.5.1), a payload length not in its shortest form (5.2).
 * RFC 6455 7.4.1 wants those closed with status 1002; the hub does that
 * when the guard has failed.  Pure: no I/O. */
#ifndef SW_WS_FRAME_GUARD_H
#define SW_WS_FRAME_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ws_guard {
    uint8_t hdr[14];            /* the frame header being read */
    size_t have;
    uint64_t payload_left;      /* bytes of the current frame's payload to skip */
    bool failed;
    const char *why;            /* when failed: for the close frame's reason */
};

/* Follows buf (the next len bytes from the client).  Returns how many of
 * them the parser may see: len, or, once the guard fails, the offset at
 * which the offending frame starts in buf (0 if it began earlier); after a
 * failure every call returns 0. */
size_t ws_guard_scan(struct ws_guard *g, const uint8_t *buf, size_t len);

#endif
