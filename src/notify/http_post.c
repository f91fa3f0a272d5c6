/* http_post.c: one HTTP POST with libcurl, for webhooks and Slack.
 *
 * A fresh easy handle per delivery: deliveries are rare next to their
 * timeouts, and a handle never outlives the attempt, so nothing (a half-read
 * connection, a cookie) leaks from one tenant's receiver to another's. */
#include <curl/curl.h>
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

void deliver_http(const char *url, const char *body, size_t len, const char *const *headers,
                  atomic_bool *stop, struct delivery *out)
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
    } else {
        snprintf(out->error, sizeof(out->error), "%s%s%s", curl_easy_strerror(rc),
                 errbuf[0] ? ": " : "", errbuf);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}
