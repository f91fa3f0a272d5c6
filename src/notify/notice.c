/* notice.c: a notice's wire form (the webhook body, its idempotency key and
 * signature), the texts humans read (Slack, email), and the backoff.  Pure:
 * no I/O, no clock (notify_key_new takes libsodium's randomness, nothing
 * else); the store renders bodies with these when it enqueues. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "notify/notify.h"
#include "util/err.h"
#include "util/jtext.h"
#include "util/xalloc.h"

static const char *const channel_names[NOTIFY_NCHANNELS] = {
    [NOTIFY_WEBSOCKET] = "websocket",
    [NOTIFY_EMAIL] = "email",
    [NOTIFY_SLACK] = "slack",
    [NOTIFY_WEBHOOK] = "webhook",
    [NOTIFY_PAGER] = "pager",
    [NOTIFY_PHONE] = "phone",
};

const char *notify_channel_name(enum notify_channel ch)
{
    return (unsigned)ch < NOTIFY_NCHANNELS ? channel_names[ch] : "?";
}

int notify_channel_parse(const char *s, enum notify_channel *out)
{
    for (int i = 0; i < NOTIFY_NCHANNELS; i++)
        if (s && !strcmp(s, channel_names[i])) {
            *out = (enum notify_channel)i;
            return 0;
        }
    return SW_E_INVAL;
}

void notify_recipient_public(enum notify_channel ch, const char *rcpt, char *out, size_t len)
{
    if (ch == NOTIFY_PAGER) {       /* a routing key is a credential */
        size_t rl = strlen(rcpt);
        snprintf(out, len, "routing key ...%s", rl > 8 ? rcpt + rl - 4 : "");
        return;
    }
    if (ch != NOTIFY_SLACK) {
        snprintf(out, len, "%s", rcpt);
        return;
    }
    const char *host = strstr(rcpt, "://");
    host = host ? host + 3 : rcpt;
    size_t hl = strcspn(host, "/");
    size_t rl = strlen(rcpt);
    snprintf(out, len, "%.*s/...%s", (int)hl, host, rl > 8 ? rcpt + rl - 4 : "");
}

/* ---- idempotency key --------------------------------------------------- */

static void hash_str(crypto_generichash_state *h, const char *s)
{
    crypto_generichash_update(h, (const uint8_t *)s, strlen(s) + 1);   /* NUL separates */
}

static void hash_int(crypto_generichash_state *h, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    hash_str(h, buf);
}

void notify_key(const struct sw_notice *n, int64_t event_id, enum notify_channel ch,
                const char *recipient, char out[NOTIFY_KEY_LEN + 1])
{
    crypto_generichash_state h;
    uint8_t d[16];
    crypto_generichash_init(&h, NULL, 0, sizeof(d));
    hash_str(&h, n->tenant_id);
    if (event_id > 0) {
        hash_str(&h, "event");
        hash_int(&h, event_id);
    } else {
        hash_str(&h, "notice");
        hash_str(&h, n->type);
        hash_str(&h, n->item_kind);
        hash_str(&h, n->item_id);
        hash_str(&h, n->clock);
        hash_int(&h, n->threshold_pct);
        hash_int(&h, n->escalation_level);
        hash_int(&h, n->due_at);
        if (n->test)    /* each test notice is its own event */
            hash_int(&h, n->occurred_at);
    }
    hash_str(&h, notify_channel_name(ch));
    hash_str(&h, recipient);
    crypto_generichash_final(&h, d, sizeof(d));
    memcpy(out, "ntf_", 4);
    sodium_bin2hex(out + 4, NOTIFY_KEY_LEN - 4 + 1, d, sizeof(d));
}

void notify_key_uuid7(int64_t now_ms, const uint8_t rnd[10], char out[NOTIFY_KEY_LEN + 1])
{
    uint8_t u[16];
    uint64_t ms = now_ms > 0 ? (uint64_t)now_ms & 0xffffffffffffull : 0;
    for (int i = 0; i < 6; i++)                 /* unix_ts_ms, big-endian */
        u[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(u + 6, rnd, 10);
    u[6] = (uint8_t)(0x70 | (u[6] & 0x0f));     /* version 7, then 12 bits rand_a */
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));     /* variant 10, then 62 bits rand_b */
    memcpy(out, "ntf_", 4);
    sodium_bin2hex(out + 4, NOTIFY_KEY_LEN - 4 + 1, u, sizeof(u));
}

/* The random part of keys from a per-thread pool filled 4 KiB at a time:
 * a key is an identifier, not a secret, and the scheduler makes one per
 * notice (a getrandom system call each before). */
#define KEY_POOL 4000
static _Thread_local struct {
    uint8_t b[KEY_POOL];
    size_t used;
} key_pool = {.used = KEY_POOL};

void notify_key_new(int64_t now_ms, char out[NOTIFY_KEY_LEN + 1])
{
    uint8_t rnd[10];
    if (key_pool.used + sizeof(rnd) > KEY_POOL) {
        randombytes_buf(key_pool.b, KEY_POOL);
        key_pool.used = 0;
    }
    memcpy(rnd, key_pool.b + key_pool.used, sizeof(rnd));
    key_pool.used += sizeof(rnd);
    notify_key_uuid7(now_ms, rnd, out);
}

static const char *str(json_t *o, const char *k);

/* ---- body ---------------------------------------------------------------- */

/* Written by hand (util/jtext.h): the scheduler renders one per notice
 * inside its transaction, and a jansson tree dumped cost ten times the
 * text.  Same bytes as json_dumps(JSON_COMPACT) of the same fields in the
 * same order (tests/unit/test_notify_pure.c), so the same notice always
 * renders to the same bytes. */

/* "key": and its value, after a comma unless first. */
static void put_str(struct jtext *t, const char *key, const char *s)
{
    jt_key(t, key);
    jt_str(t, s);
}

static void put_opt(struct jtext *t, const char *key, const char *s)   /* "" is null */
{
    put_str(t, key, s && *s ? s : NULL);
}

static void put_int(struct jtext *t, const char *key, int64_t v)
{
    jt_key(t, key);
    jt_int(t, v);
}

static void put_time(struct jtext *t, const char *key, int64_t ms)     /* 0 is null */
{
    char buf[SLA_TIME_BUFSZ];
    if (ms)
        sla_time_format(ms, buf);
    put_str(t, key, ms ? buf : NULL);
}

static void engaged_text(struct jtext *t, const struct sw_engaged *e)
{
    if (!e->user[0]) {
        jt_lit(t, "null");
        return;
    }
    jt_lit(t, "{");
    put_str(t, "user", e->user);
    put_opt(t, "method", e->method);
    if (e->level > 0)
        put_int(t, "level", e->level);
    jt_key(t, "via");
    jt_lit(t, "[");
    for (int ch = 0, k = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (e->via & (1u << ch)) {
            if (k++)
                jt_lit(t, ",");
            jt_str(t, notify_channel_name((enum notify_channel)ch));
        }
    jt_lit(t, "]");
    if (e->slack_user_id[0])
        put_str(t, "slack_user_id", e->slack_user_id);
    if (e->note[0])
        put_str(t, "note", e->note);
    jt_lit(t, "}");
}

/* The body's fields, its closing brace left to the caller. */
static void body_open(struct jtext *t, const struct sw_notice *n, const char *id)
{
    jt_lit(t, "{");
    put_str(t, "id", id);
    put_str(t, "type", n->type);
    put_str(t, "tenant_id", n->tenant_id);
    put_opt(t, "tenant_name", n->tenant_name);
    put_opt(t, "item_kind", n->item_kind);
    put_opt(t, "item_id", n->item_id);
    put_opt(t, "title", n->title);
    put_opt(t, "severity", n->severity);
    put_opt(t, "clock", n->clock);
    if (n->threshold_pct > 0)
        put_int(t, "threshold_pct", n->threshold_pct);
    if (n->escalation_level > 0) {
        put_int(t, "escalation_level", n->escalation_level);
        put_str(t, "escalation_target", n->escalation_target);
    }
    put_time(t, "due_at", n->due_at);
    put_int(t, "overage_ms", n->overage_ms > 0 ? n->overage_ms : 0);
    jt_key(t, "engaged");
    engaged_text(t, &n->engaged);
    put_time(t, "occurred_at", n->occurred_at);
    if (n->test) {
        jt_key(t, "test");
        jt_lit(t, "true");
    }
}

static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        abort();    /* only on out of memory */
    return s;
}

char *notify_body(const struct sw_notice *n, const char *id)
{
    struct jtext t = {0};
    body_open(&t, n, id);
    jt_lit(&t, "}");
    return jt_take(&t);
}

char *notify_body_row(const struct sw_notice *n, const char *id, enum notify_channel ch)
{
    struct jtext t = {0};
    body_open(&t, n, id);
    if (ch == NOTIFY_PHONE)
        put_str(&t, "to", n->engaged.phone);
    if (ch == NOTIFY_PAGER) {
        put_str(&t, "event_action", n->pager_action[0] ? n->pager_action : "trigger");
        put_str(&t, "dedup_key", n->dedup_key);
    }
    jt_lit(&t, "}");
    return jt_take(&t);
}

/* RFC 3986 unreserved characters as they are, everything else %XX. */
static void url_part(char *out, size_t len, const char *s)
{
    size_t k = strlen(out);
    for (; *s && k + 4 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            out[k++] = (char)ch;
        } else {
            snprintf(out + k, 4, "%%%02X", ch);
            k += 3;
        }
    }
    out[k] = '\0';
}

void notify_item_url(const char *public_url, const char *tenant_id, const char *kind,
                     const char *id, char *out, size_t len)
{
    out[0] = '\0';
    if (!public_url || !*public_url || !id || !*id || len < 64)
        return;
    size_t pl = strlen(public_url);
    while (pl > 0 && public_url[pl - 1] == '/')
        pl--;
    bool finding = kind && !strcmp(kind, "finding");
    snprintf(out, len, "%.*s/sla-dashboard#/%s?tenant=", (int)pl, public_url,
             finding ? "findings" : "dashboard");
    url_part(out, len, tenant_id);
    size_t k = strlen(out);
    snprintf(out + k, len - k, finding ? "&finding=" : "&alert=");
    url_part(out, len, id);
}

char *notify_body_with_url(const char *body, const char *public_url)
{
    json_t *o = json_loads(body ? body : "", 0, NULL);
    if (!json_is_object(o) || !public_url || !*public_url) {
        json_decref(o);
        return xstrdup(body ? body : "");
    }
    const char *id = json_string_value(json_object_get(o, "item_id"));
    if (id && *id) {
        char url[2048];
        notify_item_url(public_url, json_string_value(json_object_get(o, "tenant_id")),
                        json_string_value(json_object_get(o, "item_kind")), id, url,
                        sizeof(url));
        if (url[0])
            json_object_set_new(o, "url", json_string(url));
    }
    return dump(o);
}

void notify_dedup_key(const char *tenant_id, const char *kind, const char *id, int step,
                      char out[256])
{
    int k = snprintf(out, 256, "slawatch/%s/%s/%s/%d", tenant_id, kind, id, step);
    if (k > 0 && k < 256)
        return;
    /* too long for PagerDuty (255): a digest of the same parts */
    crypto_generichash_state h;
    uint8_t d[16];
    crypto_generichash_init(&h, NULL, 0, sizeof(d));
    crypto_generichash_update(&h, (const uint8_t *)out, strlen(out));
    char n[16];
    snprintf(n, sizeof(n), "/%d", step);
    crypto_generichash_update(&h, (const uint8_t *)tenant_id, strlen(tenant_id) + 1);
    crypto_generichash_update(&h, (const uint8_t *)id, strlen(id) + 1);
    crypto_generichash_update(&h, (const uint8_t *)n, strlen(n));
    crypto_generichash_final(&h, d, sizeof(d));
    char hex[33];
    sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
    snprintf(out, 256, "slawatch/%s/%s", kind, hex);
}

/* PagerDuty's four severities from ours. */
static const char *pd_severity(const char *sev)
{
    if (!strcmp(sev, "urgent") || !strcmp(sev, "critical"))
        return "critical";
    if (!strcmp(sev, "high"))
        return "error";
    if (!strcmp(sev, "medium"))
        return "warning";
    return "info";
}

char *notify_pagerduty_body(const char *body_json, const char *routing_key,
                            const char *public_url)
{
    json_t *b = json_loads(body_json ? body_json : "", 0, NULL);
    if (!json_is_object(b)) {
        json_decref(b);
        b = json_object();
    }
    const char *action = json_string_value(json_object_get(b, "event_action"));
    if (!action)
        action = "trigger";
    json_t *o = json_object();
    json_object_set_new(o, "routing_key", json_string(routing_key));
    json_object_set_new(o, "event_action", json_string(action));
    json_object_set_new(o, "dedup_key", json_string(str(b, "dedup_key")));
    if (!strcmp(action, "trigger")) {
        char *summary = notify_summary(body_json);
        if (strlen(summary) > 1024)     /* PagerDuty's limit */
            summary[1024] = '\0';
        json_t *details = json_deep_copy(b);
        json_object_del(details, "event_action");
        json_object_del(details, "dedup_key");
        const char *occurred = str(b, "occurred_at");
        json_t *p = json_pack("{s:s, s:s, s:s}", "summary", summary, "source", "slawatch",
                              "severity", pd_severity(str(b, "severity")));
        if (*occurred)
            json_object_set_new(p, "timestamp", json_string(occurred));
        if (*str(b, "tenant_id"))
            json_object_set_new(p, "group", json_string(str(b, "tenant_id")));
        if (*str(b, "type"))
            json_object_set_new(p, "class", json_string(str(b, "type")));
        json_object_set_new(p, "custom_details", details);
        json_object_set_new(o, "payload", p);
        char url[2048];
        notify_item_url(public_url, str(b, "tenant_id"), str(b, "item_kind"), str(b, "item_id"),
                        url, sizeof(url));
        if (url[0])
            json_object_set_new(o, "links",
                                json_pack("[{s:s, s:s}]", "href", url, "text", "slawatch"));
        free(summary);
    }
    json_decref(b);
    return dump(o);
}

void notify_sign_hex(const void *body, size_t len, const char *secret,
                     char out[NOTIFY_SIG_HEX + 1])
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, NOTIFY_SIG_HEX + 1, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

/* ---- texts --------------------------------------------------------------- */

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* "SLA breach: alert A-1 "Disk full" (critical, resolve clock) in tenant
 * Acme Bank": the title when there is one, the tenant's name when known
 * (else its id). */
static char *summary_of(json_t *o)
{
    const char *type = str(o, "type");
    const char *what = !strcmp(type, "sla.breach")       ? "SLA breach"
                       : !strcmp(type, "sla.warning")    ? "SLA warning"
                       : !strcmp(type, "sla.escalation") ? "SLA escalation"
                       : !strcmp(type, NOTIFY_TYPE_TEST) ? "Test notification"
                       : !strcmp(type, NOTIFY_TYPE_DEAD) ? "Notification failed"
                                                         : type;
    if (!strcmp(type, NOTIFY_TYPE_DIGEST))
        return xasprintf("%lld SLA notices for tenant %s (digest)",
                         (long long)json_integer_value(json_object_get(o, "count")),
                         str(o, "tenant_id"));
    char extra[96] = "";
    json_t *thr = json_object_get(o, "threshold_pct");
    json_t *lvl = json_object_get(o, "escalation_level");
    if (json_is_integer(thr))
        snprintf(extra, sizeof(extra), " at %lld%%", (long long)json_integer_value(thr));
    else if (json_is_integer(lvl))
        snprintf(extra, sizeof(extra), " to level %lld (%s)", (long long)json_integer_value(lvl),
                 str(o, "escalation_target"));
    const char *kind = str(o, "item_kind"), *id = str(o, "item_id");
    const char *sev = str(o, "severity"), *clock = str(o, "clock");
    const char *title = str(o, "title");
    char item[1600] = "";
    if (*id) {
        char what_id[1400];
        snprintf(what_id, sizeof(what_id), "%s%s%s%s%.1000s%s", kind, *kind ? " " : "", id,
                 *title ? " \"" : "", title, *title ? "\"" : "");
        if (*sev && *clock)
            snprintf(item, sizeof(item), " %s (%s, %s clock)", what_id, sev, clock);
        else if (*sev)
            snprintf(item, sizeof(item), " %s (%s)", what_id, sev);
        else
            snprintf(item, sizeof(item), " %s", what_id);
    }
    const char *tenant = *str(o, "tenant_name") ? str(o, "tenant_name") : str(o, "tenant_id");
    return xasprintf("%s%s%s%s in tenant %s%s", what, extra, *item ? ":" : "", item, tenant,
                     json_is_true(json_object_get(o, "test")) ? " [test]" : "");
}

char *notify_summary(const char *body_json)
{
    json_t *o = json_loads(body_json ? body_json : "", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return xstrdup("SLA notice");
    }
    char *s = summary_of(o);
    json_decref(o);
    return s;
}

static void append(char **buf, size_t *len, const char *fmt, const char *a, const char *b)
{
    char *line = xasprintf(fmt, a, b);
    size_t k = strlen(line);
    *buf = xrealloc(*buf, *len + k + 1);
    memcpy(*buf + *len, line, k + 1);
    *len += k;
    free(line);
}

/* "2 h 5 min" */
static void overage_text(int64_t ms, char *out, size_t len)
{
    int64_t min = (ms + 59999) / 60000;
    if (min >= 60 * 24)
        snprintf(out, len, "%lld d %lld h", (long long)(min / 1440), (long long)(min % 1440 / 60));
    else if (min >= 60)
        snprintf(out, len, "%lld h %lld min", (long long)(min / 60), (long long)(min % 60));
    else
        snprintf(out, len, "%lld min", (long long)min);
}

static void append_fields(char **buf, size_t *len, json_t *o)
{
    static const char *const fields[] = {"type", "title", "tenant_name", "tenant_id",
                                         "item_kind", "item_id", "severity", "clock",
                                         "due_at", "occurred_at", "escalation_target", "url",
                                         "id"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = str(o, fields[i]);
        if (*v)
            append(buf, len, "  %s: %s\n", fields[i], v);
    }
    json_t *thr = json_object_get(o, "threshold_pct");
    if (json_is_integer(thr)) {
        char n[24];
        snprintf(n, sizeof(n), "%lld%%", (long long)json_integer_value(thr));
        append(buf, len, "  %s: %s\n", "threshold", n);
    }
    json_int_t over = json_integer_value(json_object_get(o, "overage_ms"));
    if (over > 0) {
        char t[48];
        overage_text((int64_t)over, t, sizeof(t));
        append(buf, len, "  %s: %s\n", "overage", t);
    }
    json_t *e = json_object_get(o, "engaged");
    if (json_is_object(e)) {
        char who[400] = "";
        size_t i;
        json_t *v;
        snprintf(who, sizeof(who), "%.128s (%s", str(e, "user"), *str(e, "method") ? str(e, "method") : "");
        json_array_foreach(json_object_get(e, "via"), i, v) {
            size_t k = strlen(who);
            snprintf(who + k, sizeof(who) - k, "%s%s", i ? ", " : " via ",
                     json_string_value(v) ? json_string_value(v) : "");
        }
        size_t k = strlen(who);
        snprintf(who + k, sizeof(who) - k, ")");
        append(buf, len, "  %s: %s\n", "engaged", who);
        if (*str(e, "note"))
            append(buf, len, "  %s: %s\n", "note", str(e, "note"));
    }
}

char *notify_details(const char *body_json)
{
    char *buf = notify_summary(body_json);
    size_t len = strlen(buf);
    append(&buf, &len, "%s%s", "\n\n", "");
    json_t *o = json_loads(body_json ? body_json : "", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return buf;
    }
    if (!strcmp(str(o, "type"), NOTIFY_TYPE_DIGEST)) {
        json_t *items = json_object_get(o, "items");
        long long count = (long long)json_integer_value(json_object_get(o, "count"));
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            char *s = summary_of(it);
            append(&buf, &len, "- %s%s\n", s, "");
            free(s);
        }
        if (count > (long long)json_array_size(items)) {
            char more[64];
            snprintf(more, sizeof(more), "%lld", count - (long long)json_array_size(items));
            append(&buf, &len, "... and %s more%s\n", more, "");
        }
    } else {
        append_fields(&buf, &len, o);
    }
    json_decref(o);
    return buf;
}

/* ---- backoff ------------------------------------------------------------- */

int64_t notify_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
    if (attempts < 1)
        attempts = 1;
    if (base_ms < 1)
        base_ms = 1;
    int64_t d = base_ms;
    for (int i = 1; i < attempts && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    /* jitter in [0.8, 1.2]: retries of many rows do not arrive in step */
    double f = 0.8 + 0.4 * ((double)rnd / (double)UINT32_MAX);
    int64_t j = (int64_t)((double)d * f);
    if (j > cap_ms)
        j = cap_ms;
    return j < 1 ? 1 : j;
}
