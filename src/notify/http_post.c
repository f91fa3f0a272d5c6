/* http_post.c: one HTTP POST with libcurl, for webhooks and Slack.
 *
 * A fresh easy handle per delivery: deliveries are rare next to their
 * timeouts, and a handle never outlives the attempt, so nothing (a half-read
 * connection, a cookie) leaks from one tenant's receiver to another's. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "notify/notify_int.h"

#ifndef SLAWATCH_VERSION
#define SLAWATCH_VERSION "dev"
#endif

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    return size * n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    atomic_bool *stop = ud;
    return stop && atomic_load(stop) ? 1 : 0;
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

void deliver_http(const char *url, const char *body, size_t len, const char *const *headers,
                  bool allow_private, atomic_bool *stop, struct delivery *out)
{
    memset(out, 0, sizeof(*out));
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(out->error, sizeof(out->error), "cannot create an HTTP client");
        return;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: slawatch/" SLAWATCH_VERSION);
    h = curl_slist_append(h, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, stop);
    bool refused = false;
    if (!allow_private) {
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &refused);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        out->status = (int)code;
        out->ok = code >= 200 && code < 300;
        if (!out->ok)
            snprintf(out->error, sizeof(out->error), "HTTP %ld", code);
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        out->aborted = true;
        snprintf(out->error, sizeof(out->error), "aborted: shutting down");
    } else if (refused) {
        snprintf(out->error, sizeof(out->error),
                 "refused: the URL resolves to an internal address (notify_allow_private)");
    } else {
        snprintf(out->error, sizeof(out->error), "%s%s%s", curl_easy_strerror(rc),
                 errbuf[0] ? ": " : "", errbuf);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}
