/* http_post.c: one HTTP POST as a libcurl transfer, for webhooks and Slack,
 * and what a finished transfer (of any channel) means.
 *
 * A fresh easy handle per delivery, run by the channel's multi handle
 * (notifier.c): a handle never outlives the attempt and never reuses a
 * connection, so nothing (a half-read answer, a cookie) leaks from one
 * tenant's receiver to another's. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify/notify_int.h"
#include "util/err.h"

#ifndef SLAWATCH_VERSION
#define SLAWATCH_VERSION "dev"
#endif

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    return size * n;
}

/* a: an IPv4 address in host order */
static bool v4_internal(uint32_t a)
{
    return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
           (a >> 20) == (172u << 4 | 1) ||             /* 172.16/12 */
           (a >> 16) == (192u << 8 | 168) ||           /* 192.168/16 */
           (a >> 16) == (169u << 8 | 254) ||           /* link-local, cloud metadata */
           (a >> 22) == (100u << 2 | 1) ||             /* 100.64/10 */
           (a >> 28) >= 14;                            /* multicast, reserved */
}

bool notify_addr_internal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        return v4_internal(ntohl(in.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        const struct in6_addr *a = &in6.sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
            uint32_t v4;
            memcpy(&v4, &a->s6_addr[12], 4);
            return v4_internal(ntohl(v4));
        }
        return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) ||
               IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_SITELOCAL(a) ||
               IN6_IS_ADDR_MULTICAST(a) || (a->s6_addr[0] & 0xfe) == 0xfc;   /* fc00::/7 */
    }
    return true;    /* anything else: no */
}

/* Checked on the address curl is about to connect to, after resolution, so
 * a name that resolves (or re-resolves) to an internal address is refused. */
static curl_socket_t open_checked(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    if (notify_addr_internal(&a->addr)) {
        *(bool *)ud = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

int notify_xfer_http(struct xfer *x, const struct notify_opts *o, const char *url, char *body,
                     const char *const *headers)
{
    memset(x, 0, sizeof(*x));
    x->data = body;
    x->len = strlen(body);
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(body);
        x->data = NULL;
        return SW_E_NOMEM;
    }
    CURL *c = x->easy;
    x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
    x->headers = curl_slist_append(x->headers, "User-Agent: slawatch/" SLAWATCH_VERSION);
    x->headers = curl_slist_append(x->headers, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++)
        x->headers = curl_slist_append(x->headers, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    /* one connection per delivery, as before the multi handle: nothing (a
     * half-read answer) carries over from one tenant's receiver to another's */
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    if (!o->allow_private) {
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x->refused);
    }
    return 0;
}

/* Trouble at the destination (not with this one request): no connection,
 * no answer in time, TLS failing, the peer hanging up. */
static bool transport_down(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

void notify_xfer_result(struct xfer *x, CURLcode rc, struct delivery *out)
{
    memset(out, 0, sizeof(*out));
    long code = 0;
    char *scheme = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(x->easy, CURLINFO_SCHEME, &scheme);
    bool smtp = scheme && (!strcasecmp(scheme, "smtp") || !strcasecmp(scheme, "smtps"));
    out->status = (int)code;
    if (rc == CURLE_OK && smtp) {
        out->ok = true;
    } else if (rc == CURLE_OK) {
        out->ok = code >= 200 && code < 300;
        /* not 429: Slack limits each webhook URL, and every tenant's
         * Slack is one host:port: one busy tenant must not open it */
        out->dest_down = code >= 500;
        if (!out->ok)
            snprintf(out->error, sizeof(out->error), "HTTP %ld", code);
    } else if (x->refused) {
        snprintf(out->error, sizeof(out->error),
                 "refused: the URL resolves to an internal address (notify_allow_private)");
    } else {
        out->dest_down = transport_down(rc) || (smtp && code == 421);
        snprintf(out->error, sizeof(out->error), "%s%s%.200s", curl_easy_strerror(rc),
                 x->errbuf[0] ? ": " : "", x->errbuf);
    }
}

void notify_xfer_release(struct xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->rcpts);
    free(x->data);
    memset(x, 0, sizeof(*x));
}
