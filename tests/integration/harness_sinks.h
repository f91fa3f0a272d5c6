/* harness_sinks: real receivers on loopback for notification tests: an
 * HTTP/1.1 server (Slack and webhooks) and an SMTP server, each on a port
 * the kernel picks, each recording what it received.  Real sockets and
 * protocols, so the notifier's libcurl code runs exactly as in production. */
#ifndef SW_TEST_HARNESS_SINKS_H
#define SW_TEST_HARNESS_SINKS_H

#include <stdbool.h>
#include <stddef.h>

/* ---- HTTP ---------------------------------------------------------------- */

struct http_sink;

struct sink_request {
    char method[16];
    char path[512];
    char *headers;          /* raw header block, "Name: value\r\n" lines */
    char *body;             /* NUL-terminated */
    size_t body_len;
    int answered;           /* the status the sink answered with */
};

/* Starts a sink on 127.0.0.1:0 (or on port, when > 0: a restart on the
 * same address). */
struct http_sink *http_sink_start(int port);
int http_sink_port(struct http_sink *s);
/* The next n requests answer 500 (then 200 again). */
void http_sink_fail_next(struct http_sink *s, int n);
/* Every request answers status (200 = back to normal). */
void http_sink_set_status(struct http_sink *s, int status);
/* Hangs: reads each request (recorded, answered = 0) and never answers,
 * until the client gives up; one connection at a time, so the next ones
 * wait in the listen backlog, as at a receiver that stopped working. */
void http_sink_set_hang(struct http_sink *s, bool on);
/* Holds each answer this long after reading the request. */
void http_sink_set_delay(struct http_sink *s, int ms);
size_t http_sink_count(struct http_sink *s);
/* Waits until at least n requests arrived; false on timeout. */
bool http_sink_wait(struct http_sink *s, size_t n, int timeout_ms);
/* A copy of request i (free with sink_request_free); false if none. */
bool http_sink_get(struct http_sink *s, size_t i, struct sink_request *out);
void sink_request_free(struct sink_request *r);
/* Header value (case-insensitive) into buf, or NULL. */
const char *sink_header(const struct sink_request *r, const char *name, char *buf, size_t len);
/* Requests whose path is path, and how many distinct Idempotency-Key values
 * they carried. */
size_t http_sink_count_path(struct http_sink *s, const char *path, size_t *distinct_keys);
void http_sink_stop(struct http_sink *s);

/* ---- SMTP ---------------------------------------------------------------- */

struct smtp_sink;

struct sink_mail {
    char from[256];
    char rcpt[8][256];
    size_t nrcpt;
    char *data;             /* the message as received, dot-stuffing undone */
};

struct smtp_sink *smtp_sink_start(void);
int smtp_sink_port(struct smtp_sink *s);
size_t smtp_sink_count(struct smtp_sink *s);
bool smtp_sink_wait(struct smtp_sink *s, size_t n, int timeout_ms);
bool smtp_sink_get(struct smtp_sink *s, size_t i, struct sink_mail *out);
void sink_mail_free(struct sink_mail *m);
/* A header of the message (case-insensitive, unfolded) into buf, or NULL. */
const char *sink_mail_header(const struct sink_mail *m, const char *name, char *buf, size_t len);
void smtp_sink_stop(struct smtp_sink *s);

#endif
