/* frame_guard.c: see frame_guard.h. */
#include "ws/frame_guard.h"

#include <string.h>

static size_t header_len(const uint8_t *h)
{
    size_t n = 2;
    if ((h[1] & 0x7f) == 126)
        n += 2;
    else if ((h[1] & 0x7f) == 127)
        n += 8;
    return n + ((h[1] & 0x80) ? 4 : 0);
}

/* A whole header in g->hdr: NULL when acceptable, else why not. */
static const char *judge(struct ws_guard *g)
{
    const uint8_t *h = g->hdr;
    unsigned op = h[0] & 0x0f, len7 = h[1] & 0x7f;
    bool fin = h[0] & 0x80;
    uint64_t len = len7;
    if (len7 == 126)
        len = (uint64_t)h[2] << 8 | h[3];
    else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
    }
    if (op >= 8 && !fin)
        return "fragmented control frame";
    if (op >= 8 && len7 > 125)
        return "control frame over 125 bytes";
    if (op == 8 && len == 1)
        return "close frame with a 1-byte body";
    if ((len7 == 126 && len < 126) || (len7 == 127 && (len <= 0xffff || len >> 63)))
        return "payload length not in its shortest form";
    g->payload_left = len;
    return NULL;
}

size_t ws_guard_scan(struct ws_guard *g, const uint8_t *buf, size_t len)
{
    if (g->failed)
        return 0;
    size_t i = 0;
    long start = -1;    /* where the current header began in buf; -1: before it */
    while (i < len) {
        if (g->payload_left) {
            uint64_t k = g->payload_left < len - i ? g->payload_left : len - i;
            g->payload_left -= k;
            i += (size_t)k;
            continue;
        }
        if (g->have == 0)
            start = (long)i;
        g->hdr[g->have++] = buf[i++];
        if (g->have < 2 || g->have < header_len(g->hdr))
            continue;
        g->have = 0;
        g->why = judge(g);
        if (g->why) {
            g->failed = true;
            /* begun in an earlier call: the parser holds part of a header it
             * cannot act on; give it nothing more */
            return start < 0 ? 0 : (size_t)start;
        }
    }
    return len;
}
