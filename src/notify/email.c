/* email.c: notices as email: the RFC 5322 message (pure) and its delivery
 * over SMTP with libcurl (MAIL FROM, RCPT TO, DATA; STARTTLS per the
 * configuration: off, try, required).  libcurl escapes leading dots. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/notify_int.h"
#include "util/err.h"
#include "util/xalloc.h"

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* A header value on one line: CR, LF and other controls become spaces. */
static void put_header(struct buf *b, const char *name, const char *value)
{
    puts_(b, name);
    puts_(b, ": ");
    for (const char *p = value; *p; p++) {
        char ch = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
        put(b, &ch, 1);
    }
    puts_(b, "\r\n");
}

static bool ascii_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* The subject, as is when plain ASCII, else RFC 2047 UTF-8 base64. */
static void put_subject(struct buf *b, const char *subject)
{
    if (ascii_printable(subject)) {
        put_header(b, "Subject", subject);
        return;
    }
    /* controls out first, then encode */
    size_t n = strlen(subject);
    char *clean = xstrdup(subject);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
            clean[i] = ' ';
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = xmalloc(cap);
    sodium_bin2base64(b64, cap, (const unsigned char *)clean, n, sodium_base64_VARIANT_ORIGINAL);
    puts_(b, "Subject: =?UTF-8?B?");
    puts_(b, b64);
    puts_(b, "?=\r\n");
    free(b64);
    free(clean);
}

char *notify_email_message(const char *from, const char *to, const char *subject,
                           const char *text, const char *key, int64_t date_ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct buf b = {0};
    time_t t = (time_t)(date_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    char msgid[NOTIFY_KEY_LEN + 32];
    snprintf(msgid, sizeof(msgid), "<%s@slawatch>", key);
    put_header(&b, "Date", date);
    put_header(&b, "From", from);
    put_header(&b, "To", to);
    put_subject(&b, subject);
    put_header(&b, "Message-ID", msgid);
    put_header(&b, "MIME-Version", "1.0");
    put_header(&b, "Content-Type", "text/plain; charset=utf-8");
    put_header(&b, "Content-Transfer-Encoding", "8bit");
    put_header(&b, "Auto-Submitted", "auto-generated");
    puts_(&b, "\r\n");
    /* the text with CRLF line ends (bare CR or LF are not allowed in SMTP) */
    for (const char *p = text; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' || *p == '\r')
            puts_(&b, "\r\n");
        else
            put(&b, p, 1);
    }
    if (b.len < 2 || memcmp(b.p + b.len - 2, "\r\n", 2) != 0)
        puts_(&b, "\r\n");
    return b.p;
}

/* ---- delivery ------------------------------------------------------------ */

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t left = x->len - x->off;
    size_t k = size * n < left ? size * n : left;
    memcpy(dst, x->data + x->off, k);
    x->off += k;
    return k;
}

int notify_xfer_email(struct xfer *x, const struct notify_opts *o, const char *to,
                      char *message)
{
    memset(x, 0, sizeof(*x));
    x->data = message;
    x->len = strlen(message);
    if (!o->smtp_url || !*o->smtp_url)
        return SW_E_INVAL;      /* the caller says "no SMTP server configured" */
    x->easy = curl_easy_init();
    if (!x->easy)
        return SW_E_NOMEM;
    CURL *c = x->easy;
    char from[300], rcpt[300];
    snprintf(from, sizeof(from), "<%s>", o->smtp_from);
    snprintf(rcpt, sizeof(rcpt), "<%s>", to);
    x->rcpts = curl_slist_append(NULL, rcpt);
    curl_easy_setopt(c, CURLOPT_URL, o->smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, o->smtp_starttls == 2   ? (long)CURLUSESSL_ALL
                                         : o->smtp_starttls == 1 ? (long)CURLUSESSL_TRY
                                                                 : (long)CURLUSESSL_NONE);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);       /* copied by libcurl */
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, x->rcpts);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, x);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    return 0;
}
