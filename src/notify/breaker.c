/* breaker.c: destinations and their circuit breakers, pure (no I/O, no
 * clock: times are parameters).  The state machine is in notify_int.h. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "notify/notify_int.h"

void notify_destination(enum notify_channel ch, const char *recipient, const char *smtp_url,
                        char out[NOTIFY_DEST_MAX])
{
    const char *url = ch == NOTIFY_EMAIL ? smtp_url : recipient;
    snprintf(out, NOTIFY_DEST_MAX, "invalid");
    if (ch == NOTIFY_WEBSOCKET) {
        snprintf(out, NOTIFY_DEST_MAX, "local");
        return;
    }
    if (!url || !*url)
        return;
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(out, NOTIFY_DEST_MAX, "%s:%s", host, port);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static int64_t cooldown(const struct notify_breaker_cfg *c, int opens)
{
    int64_t d = c->cooldown_ms > 0 ? c->cooldown_ms : 1;
    int64_t cap = c->cooldown_max_ms > d ? c->cooldown_max_ms : d;
    for (int i = 1; i < opens && d < cap; i++)
        d *= 2;
    return d < cap ? d : cap;
}

static void open_now(struct notify_breaker *b, const struct notify_breaker_cfg *c, int64_t now)
{
    b->opens++;
    b->state = NOTIFY_BREAKER_OPEN;
    b->open_until = now + cooldown(c, b->opens);
    b->probing = false;
    b->failures = 0;
}

enum notify_gate notify_breaker_gate(struct notify_breaker *b, int64_t now)
{
    switch (b->state) {
    case NOTIFY_BREAKER_CLOSED:
        return NOTIFY_GATE_GO;
    case NOTIFY_BREAKER_OPEN:
        if (now < b->open_until)
            return NOTIFY_GATE_OPEN;
        b->state = NOTIFY_BREAKER_HALF_OPEN;
        b->probing = false;
        /* fall through */
    case NOTIFY_BREAKER_HALF_OPEN:
        if (b->probing)
            return NOTIFY_GATE_WAIT;
        b->probing = true;
        return NOTIFY_GATE_PROBE;
    }
    return NOTIFY_GATE_GO;
}

void notify_breaker_result(struct notify_breaker *b, const struct notify_breaker_cfg *c,
                           bool probe, bool dest_down, int64_t now)
{
    if (probe && b->state == NOTIFY_BREAKER_HALF_OPEN) {
        if (dest_down) {
            open_now(b, c, now);
        } else {
            b->state = NOTIFY_BREAKER_CLOSED;
            b->failures = 0;
            b->opens = 0;
            b->probing = false;
        }
        return;
    }
    if (b->state != NOTIFY_BREAKER_CLOSED)
        return;     /* started before it opened: the probe decides */
    if (!dest_down) {
        b->failures = 0;
        b->opens = 0;
        return;
    }
    if (++b->failures >= (c->failures > 0 ? c->failures : 1))
        open_now(b, c, now);
}

void notify_breaker_probe_abandoned(struct notify_breaker *b)
{
    b->probing = false;
}
