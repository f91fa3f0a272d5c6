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

/* Bytes of the UTF-8 character starting at p (1 for a stray byte). */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
               : (*p & 0xf8) == 0xf0 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 1;
    return n;
}

#define EW_OPEN "=?UTF-8?B?"
#define EW_MAX 75               /* RFC 2047 section 2: an encoded-word */
#define EW_LINE 76              /* RFC 2047 section 2: a line holding one */

/* The subject, as it is when plain ASCII and short, else RFC 2047
 * encoded-words: each at most 75 characters, each a whole number of
 * characters (section 5), one per line, folded with CRLF SP (RFC 5322
 * 2.2.3), no line over 76. */
static void put_subject(struct buf *b, const char *subject)
{
    size_t n = strlen(subject);
    char *clean = xstrdup(subject);     /* controls out first */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
            clean[i] = ' ';
    if (ascii_printable(clean)) {       /* folded at spaces into lines of 78 at most */
        puts_(b, "Subject:");
        size_t col = 8;
        for (const char *w = clean; *w;) {
            const char *sp = w;
            while (*sp == ' ')
                sp++;
            const char *e = sp;
            while (*e && *e != ' ')
                e++;
            if (col > 1 && col + (size_t)(e - w) > 78) {
                puts_(b, "\r\n");
                col = 0;
            }
            put(b, w == clean ? " " : "", w == clean ? 1 : 0);
            put(b, w, (size_t)(e - w));
            col += (size_t)(e - w) + (w == clean);
            w = e;
        }
        puts_(b, "\r\n");
        free(clean);
        return;
    }
    puts_(b, "Subject: ");
    size_t col = 9;                     /* "Subject: " */
    const unsigned char *p = (const unsigned char *)clean, *end = p + n;
    bool first = true;
    while (p < end || first) {
        /* the most whole characters whose base64 fits this line's word */
        size_t room = (EW_LINE - col < EW_MAX ? EW_LINE - col : EW_MAX) - strlen(EW_OPEN) - 2;
        size_t max_bytes = room / 4 * 3, take = 0;
        while (p + take < end) {
            size_t k = utf8_len(p + take);
            if (p + take + k > end || take + k > max_bytes)
                break;
            take += k;
        }
        if (take == 0 && p < end)
            take = utf8_len(p);         /* never: 4 bytes always fit */
        char b64[128];
        sodium_bin2base64(b64, sizeof(b64), p, take, sodium_base64_VARIANT_ORIGINAL);
        if (!first)
            puts_(b, "\r\n ");
        puts_(b, EW_OPEN);
        puts_(b, b64);
        puts_(b, "?=");
        p += take;
        col = 1;
        first = false;
    }
    puts_(b, "\r\n");
    free(clean);
}

/* The text as quoted-printable (RFC 2045 6.7): CRLF line ends kept as
 * hard breaks, '=', 8-bit bytes and trailing blanks as =XX, soft breaks
 * ("=" CRLF) keeping encoded lines at most 76 characters. */
static void put_qp(struct buf *b, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' || *p == '\r') {
            puts_(b, "\r\n");
            col = 0;
            continue;
        }
        bool eol = p[1] == '\0' || p[1] == '\n' || p[1] == '\r';
        bool plain = (*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !eol);
        char enc[4] = {(char)*p, 0, 0, 0};
        size_t k = 1;
        if (!plain) {
            enc[0] = '=';
            enc[1] = hex[*p >> 4];
            enc[2] = hex[*p & 15];
            k = 3;
        }
        if (col + k > 75) {             /* leave room for the soft break's '=' */
            puts_(b, "=\r\n");
            col = 0;
        }
        put(b, enc, k);
        col += k;
    }
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
    /* 7bit when it is, else quoted-printable: never 8-bit data to a relay
     * we cannot tell (BODY=8BITMIME) that it is coming */
    bool ascii = true;
    for (const char *p = text; *p && ascii; p++)
        ascii = (unsigned char)*p < 0x80;
    bool long_line = false;
    for (const char *p = text, *l = text;; p++) {
        if (*p == '\n' || !*p) {
            long_line |= p - l > 900;
            if (!*p)
                break;
            l = p + 1;
        }
    }
    bool qp = !ascii || long_line;
    put_header(&b, "Content-Transfer-Encoding", qp ? "quoted-printable" : "7bit");
    put_header(&b, "Auto-Submitted", "auto-generated");
    puts_(&b, "\r\n");
    if (qp) {
        put_qp(&b, text);
    } else {
        /* the text with CRLF line ends (bare CR or LF are not allowed in SMTP) */
        for (const char *p = text; *p; p++) {
            if (*p == '\r' && p[1] == '\n')
                continue;
            if (*p == '\n' || *p == '\r')
                puts_(&b, "\r\n");
            else
                put(&b, p, 1);
        }
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
    if (o->smtp_ca_file && *o->smtp_ca_file)     /* a relay with a private CA */
        curl_easy_setopt(c, CURLOPT_CAINFO, o->smtp_ca_file);
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
