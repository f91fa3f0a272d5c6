/* notify_int.h: what the notifier's files share (not for other modules).
 *
 *   - a transfer: one delivery as a libcurl easy handle, prepared here and
 *     run by a worker's multi handle (http_post.c, email.c);
 *   - destinations and their circuit breaker, pure (breaker.c). */
#ifndef SW_NOTIFY_INT_H
#define SW_NOTIFY_INT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/notify.h"

#define NOTIFY_ERR_MAX            256

/* The result of one delivery attempt. */
struct delivery {
    bool ok;                    /* the receiver accepted it (2xx, SMTP 250) */
    bool dest_down;             /* a sign the destination itself is in trouble:
                                 * no connection, timeout, TLS, HTTP 5xx,
                                 * SMTP 421 (a 4xx, 429 too, says it is up) */
    int status;                 /* HTTP or last SMTP code, 0 = none */
    char error[NOTIFY_ERR_MAX]; /* "" when ok */
};

/* ---- transfers (http_post.c, email.c) ------------------------------------- */

/* One prepared delivery.  It must not move in memory once prepared (libcurl
 * keeps pointers into it): allocate it. */
struct xfer {
    CURL *easy;
    struct curl_slist *headers;         /* HTTP */
    struct curl_slist *rcpts;           /* SMTP */
    char *data;                         /* the body or the message, owned */
    size_t len, off;                    /* off: SMTP upload position */
    bool refused;                       /* an internal address was refused */
    char errbuf[CURL_ERROR_SIZE];
};

/* A POST of body (stolen) as application/json to an http(s) URL, with extra
 * header lines (NULL-terminated list, may be NULL).  No redirects, no
 * connection reuse; connect and total timeouts from o.  Unless
 * o->allow_private, the connection is refused when the name resolves to a
 * loopback, private, link-local or otherwise internal address (the URL is a
 * tenant's, the network is ours).  SW_E_* on failure (then nothing to
 * release but what it stole, freed). */
int notify_xfer_http(struct xfer *x, const struct notify_opts *o, const char *url, char *body,
                     const char *const *headers);
/* One SMTP message (stolen) to `to` through o->smtp_url: MAIL FROM, RCPT
 * TO, DATA; STARTTLS per o->smtp_starttls. */
int notify_xfer_email(struct xfer *x, const struct notify_opts *o, const char *to,
                      char *message);
/* What the finished transfer (its CURLcode from the multi) means. */
void notify_xfer_result(struct xfer *x, CURLcode rc, struct delivery *out);
/* Frees the handle and what it owns (not x itself).  Remove it from its
 * multi first. */
void notify_xfer_release(struct xfer *x);

/* Whether an address is one a tenant's URL must not reach. */
struct sockaddr;
bool notify_addr_internal(const struct sockaddr *sa);

/* ---- destinations and the breaker (breaker.c, pure) ------------------------ */

#define NOTIFY_DEST_MAX 300

/* Where a row's transfer goes: "host:port" (lower case, default port by
 * scheme) of an http(s) recipient URL, or of the SMTP relay for email;
 * never a path or credentials, so it may be logged and labelled in
 * /metrics.  "invalid" when the URL does not parse. */
void notify_destination(enum notify_channel ch, const char *recipient, const char *smtp_url,
                        char out[NOTIFY_DEST_MAX]);

/* A destination's circuit breaker.
 *
 *   closed     deliveries go (at most per_destination at once); a run of
 *              `failures` results in a row that say the destination is in
 *              trouble (delivery.dest_down) opens it;
 *   open       until open_until nothing is sent: the worker skips the rows
 *              (each skip a failed attempt, see notifier.c);
 *   half-open  after the cool-down one delivery goes as a probe; success
 *              closes the breaker, failure opens it again for twice the
 *              last cool-down (at most cooldown_max). */
struct notify_breaker_cfg {
    int failures;
    int64_t cooldown_ms, cooldown_max_ms;
};

struct notify_breaker {
    enum notify_breaker_state state;
    int failures;               /* dest_down results in a row (closed) */
    int opens;                  /* times opened in a row (the cool-down doubles) */
    int64_t open_until;         /* open: ms (the caller's clock) */
    bool probing;               /* half-open: the probe is out */
};

enum notify_gate {
    NOTIFY_GATE_GO,             /* send it */
    NOTIFY_GATE_PROBE,          /* send it: it is the half-open probe */
    NOTIFY_GATE_WAIT,           /* not now: the probe is out (not a failure) */
    NOTIFY_GATE_OPEN,           /* skip it: the breaker is open */
};

/* May a delivery start at now?  An open breaker past its cool-down turns
 * half-open and lets exactly one probe through. */
enum notify_gate notify_breaker_gate(struct notify_breaker *b, int64_t now);
/* A delivery that went through the gate ended.  probe: it was the probe.
 * dest_down: delivery.dest_down.  Results of deliveries started before the
 * breaker opened change nothing while it is open or half-open. */
void notify_breaker_result(struct notify_breaker *b, const struct notify_breaker_cfg *c,
                           bool probe, bool dest_down, int64_t now);
/* The probe was abandoned (shutdown): another may go. */
void notify_breaker_probe_abandoned(struct notify_breaker *b);

/* When a row given back because its destination is full (dispatch.c) is
 * due again, in ms from now: once the destination has likely worked
 * through the rows it holds (in flight and queued) at its recent transfer
 * time avg_ms, per at a time; one with no finished transfer yet (avg_ms 0:
 * it may hang) NOTIFY_GIVE_BACK_UNKNOWN_MS.  Never sooner than
 * NOTIFY_GIVE_BACK_MIN_MS (a fast receiver's burst would otherwise be
 * claimed and given back over and over) nor later than timeout_ms.  With a
 * flat second, 1 000 breaches to one fast webhook arrived in pulses a
 * second apart, p99 7.2 s; now p99 2.3 s. */
#define NOTIFY_GIVE_BACK_MIN_MS 100
#define NOTIFY_GIVE_BACK_UNKNOWN_MS 1000

static inline int64_t notify_give_back_ms(int64_t avg_ms, int held, int per, int64_t timeout_ms)
{
    int64_t t = avg_ms > 0 ? avg_ms * (held > 0 ? held : 1) / (per > 0 ? per : 1)
                           : NOTIFY_GIVE_BACK_UNKNOWN_MS;
    if (t > timeout_ms)
        t = timeout_ms;
    return t < NOTIFY_GIVE_BACK_MIN_MS ? NOTIFY_GIVE_BACK_MIN_MS : t;
}

#endif
