/* fuzz_ws_frames: what a dashboard's WebSocket sends, as the hub reads it:
 * the frame guard (ws_guard_scan) ahead of wslay's server-side parser, fed
 * in pieces of varying size, and the text messages through the hub's JSON
 * reading ({"type":"ping"}).  Checks: the guard never lets more bytes
 * through than it got, gives nothing once failed, and a guard that
 * failed has a reason; wslay never crashes on what passed it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <wslay/wslay.h>

#include "ws/frame_guard.h"

struct feed {
    const uint8_t *data;
    size_t size, off;
    struct ws_guard guard;
};

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    struct feed *f = ud;
    if (f->off == f->size || f->guard.failed) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    /* pieces of 1..64 bytes, chosen by the data itself */
    size_t n = 1 + f->data[f->off] % 64;
    if (n > len)
        n = len;
    if (n > f->size - f->off)
        n = f->size - f->off;
    memcpy(buf, f->data + f->off, n);
    f->off += n;
    size_t ok = ws_guard_scan(&f->guard, buf, n);
    if (ok > n || (f->guard.failed && !f->guard.why))
        abort();
    if (ok == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)ok;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)ctx, (void)data, (void)flags, (void)ud;
    return (ssize_t)len;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud)
{
    (void)ud;
    if (a->opcode != WSLAY_TEXT_FRAME)
        return;
    json_t *j = json_loadb((const char *)a->msg, a->msg_length, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && !strcmp(type, "ping")) {
        static const char pong[] = "{\"type\":\"pong\"}";
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)pong, sizeof(pong) - 1};
        wslay_event_queue_msg(ctx, &m);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct wslay_event_callbacks cb = {
        .recv_callback = on_recv, .send_callback = on_send, .on_msg_recv_callback = on_msg};
    struct feed f = {.data = data, .size = size};
    wslay_event_context_ptr ctx;
    if (wslay_event_context_server_init(&ctx, &cb, &f) != 0)
        return 0;
    wslay_event_config_set_max_recv_msg_length(ctx, 4096);
    for (int rounds = 0; rounds < 4096 && f.off < f.size && !f.guard.failed; rounds++) {
        if (!wslay_event_want_read(ctx) || wslay_event_recv(ctx) < 0)
            break;
        if (wslay_event_want_write(ctx))
            wslay_event_send(ctx);
    }
    if (f.guard.failed) {
        /* what the hub does then: a 1002 close, read side shut */
        wslay_event_queue_close(ctx, WSLAY_CODE_PROTOCOL_ERROR, (const uint8_t *)f.guard.why,
                                strlen(f.guard.why));
        wslay_event_shutdown_read(ctx);
        wslay_event_send(ctx);
        if (ws_guard_scan(&f.guard, data, size) != 0)
            abort();
    }
    wslay_event_context_free(ctx);
    return 0;
}
