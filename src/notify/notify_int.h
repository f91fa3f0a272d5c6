/* notify_int.h: what the notifier's files share (not for other modules). */
#ifndef SW_NOTIFY_INT_H
#define SW_NOTIFY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "notify/notify.h"

#define NOTIFY_CONNECT_TIMEOUT_MS 5000
#define NOTIFY_TOTAL_TIMEOUT_MS   15000
#define NOTIFY_ERR_MAX            256

/* The result of one delivery attempt. */
struct delivery {
    bool ok;                    /* the receiver accepted it (2xx, SMTP 250) */
    bool aborted;               /* we stopped it (shutdown): not an attempt */
    int status;                 /* HTTP or last SMTP code, 0 = none */
    char error[NOTIFY_ERR_MAX]; /* "" when ok */
};

/* POSTs body as application/json to an http(s) URL, with extra header
 * lines (NULL-terminated list, may be NULL).  No redirects; connect 5 s,
 * total 15 s; *stop aborts a transfer in flight.  Unless allow_private,
 * the connection is refused when the name resolves to a loopback, private,
 * link-local or otherwise internal address (the URL is a tenant's, the
 * network is ours).  (http_post.c) */
void deliver_http(const char *url, const char *body, size_t len, const char *const *headers,
                  bool allow_private, atomic_bool *stop, struct delivery *out);

/* Whether an address is one a tenant's URL must not reach. */
struct sockaddr;
bool notify_addr_internal(const struct sockaddr *sa);

/* Sends one message over SMTP (libcurl): MAIL FROM, RCPT TO, DATA.
 * (email.c) */
void deliver_email(const struct notify_opts *o, const char *to, const char *message,
                   atomic_bool *stop, struct delivery *out);

#endif
