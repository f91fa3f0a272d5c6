/* api_notifications.c: a tenant's notification settings, its delivery
 * history, and a test notice (POST …/test) that goes the real way: outbox,
 * workers, receivers. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"
#include "notify/notify.h"
#include "store/store_notify.h"
#include "util/xalloc.h"

#define SECRET_MIN 16
#define HISTORY_LIMIT_MAX 500

/* ---- validation ------------------------------------------------------------ */

/* local@domain.tld: a sane subset of RFC 5321 (no quoted local parts, no
 * address literals), so nothing odd reaches an SMTP command or a header. */
static bool email_valid(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n > SW_EMAIL_ADDR_MAX || !at || strchr(at + 1, '@'))
        return false;
    size_t local = (size_t)(at - s);
    if (local < 1 || local > 64 || s[0] == '.' || at[-1] == '.')
        return false;
    for (const char *p = s; p < at; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".!#$%&'*+/=?^_`{|}~-", *p))
            return false;
    const char *d = at + 1;
    size_t label = 0;
    bool dot = false;
    if (!*d || *d == '.' || *d == '-')
        return false;
    for (const char *p = d; *p; p++) {
        if (*p == '.') {
            if (label == 0 || p[-1] == '-')
                return false;
            label = 0;
            dot = true;
        } else if (isalnum((unsigned char)*p) || *p == '-') {
            if (++label > 63 || (label == 1 && *p == '-'))
                return false;
        } else {
            return false;
        }
    }
    return dot && label > 0;
}

/* http:// or https://, a host, no spaces or control characters. */
static bool url_valid(const char *s)
{
    size_t n = strlen(s);
    const char *rest;
    if (n > SW_URL_MAX)
        return false;
    if (!strncasecmp(s, "https://", 8))
        rest = s + 8;
    else if (!strncasecmp(s, "http://", 7))
        rest = s + 7;
    else
        return false;
    if (!*rest || *rest == '/' || *rest == ':' || *rest == '@')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* The stored recipient whose public form (a Slack URL is shown masked,
 * it is a secret) is s: the GET answer sent back unchanged keeps the
 * stored URL instead of being refused as "not a URL".  NULL when none. */
static const char *stored_for_public(const struct sw_notify_config *old, enum notify_channel ch,
                                     const char *s)
{
    char pub[SW_URL_MAX + 1];
    for (size_t k = 0; old && k < old->nrcpt[ch]; k++) {
        notify_recipient_public(ch, old->rcpt[ch][k], pub, sizeof(pub));
        if (strcmp(pub, old->rcpt[ch][k]) != 0 && !strcmp(pub, s))
            return old->rcpt[ch][k];
    }
    return NULL;
}

static int v_recipients(struct req *r, json_t *rc, struct sw_notify_config *cfg,
                        const struct sw_notify_config *old)
{
    if (!rc || json_is_null(rc))
        return 0;
    if (!json_is_object(rc)) {
        http_error(r, 422, "invalid", "recipients",
                   "recipients must be an object {email:[…], slack:[url], webhook:[url]}");
        return SW_E_INVAL;
    }
    const char *key;
    json_t *list;
    json_object_foreach(rc, key, list) {
        char field[64];
        snprintf(field, sizeof(field), "recipients.%.40s", key);
        enum notify_channel ch;
        if (notify_channel_parse(key, &ch) < 0 || ch == NOTIFY_WEBSOCKET ||
            ch >= NOTIFY_TENANT_CHANNELS) {
            http_error(r, 422, "invalid", field,
                       "recipients may list email, slack and webhook only");
            return SW_E_INVAL;
        }
        if (!json_is_array(list)) {
            http_error(r, 422, "invalid", field, "%s must be an array", field);
            return SW_E_INVAL;
        }
        if (json_array_size(list) > SW_NOTIFY_RCPT_MAX) {
            http_error(r, 422, "invalid", field, "at most %d recipients per channel",
                       SW_NOTIFY_RCPT_MAX);
            return SW_E_INVAL;
        }
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) {
            const char *s = json_string_value(v);
            bool clean = s && strlen(s) == json_string_length(v);
            const char *kept = clean ? stored_for_public(old, ch, s) : NULL;
            if (kept)
                s = kept;
            bool ok = clean && (ch == NOTIFY_EMAIL ? email_valid(s) : url_valid(s));
            if (!ok) {
                http_error(r, 422, "invalid", field,
                           ch == NOTIFY_EMAIL
                               ? "%s[%zu] must be an email address (local@domain.tld)"
                               : "%s[%zu] must be an http:// or https:// URL of at most 1024 "
                                 "bytes",
                           field, i);
                return SW_E_INVAL;
            }
            bool dup = false;
            for (size_t k = 0; k < cfg->nrcpt[ch]; k++)
                dup |= !strcmp(cfg->rcpt[ch][k], s);
            if (!dup)
                snprintf(cfg->rcpt[ch][cfg->nrcpt[ch]++], SW_URL_MAX + 1, "%s", s);
        }
    }
    return 0;
}

static int v_channels(struct req *r, json_t *v, struct sw_notify_config *cfg)
{
    if (!json_is_array(v)) {
        http_error(r, 422, "invalid", "channels",
                   v ? "channels must be an array of websocket, email, slack, webhook"
                     : "channels is required");
        return SW_E_INVAL;
    }
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c) {
        enum notify_channel ch;
        if (!json_is_string(c) || notify_channel_parse(json_string_value(c), &ch) < 0 ||
            ch >= NOTIFY_TENANT_CHANNELS) {
            http_error(r, 422, "invalid", "channels",
                       "channels[%zu]: unknown channel (websocket, email, slack, webhook)", i);
            return SW_E_INVAL;
        }
        cfg->channels |= 1u << ch;
    }
    return 0;
}

static int v_thresholds(struct req *r, json_t *v, struct sw_notify_config *cfg)
{
    int in[SLA_THRESHOLDS_MAX];
    size_t n = 0;
    if (!v || json_is_null(v)) {
        cfg->thresholds[0] = sla_thresholds_default[0];
        cfg->nthresholds = 1;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) < 1 ||
        json_array_size(v) > SLA_THRESHOLDS_MAX) {
        http_error(r, 422, "invalid", "thresholds",
                   "thresholds must be an array of 1 to %d percents (1-100)", SLA_THRESHOLDS_MAX);
        return SW_E_INVAL;
    }
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        if (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > 100) {
            http_error(r, 422, "invalid", "thresholds",
                       "thresholds[%zu] must be an integer percent 1-100", i);
            return SW_E_INVAL;
        }
        in[n++] = (int)json_integer_value(t);
    }
    uint8_t out[SLA_THRESHOLDS_MAX];
    size_t nout = 0;
    int bad = 0;
    if (sla_thresholds_normalize(in, n, out, &nout, &bad) < 0) {
        http_error(r, 422, "invalid", "thresholds", "threshold %d is not a percent 1-100", bad);
        return SW_E_INVAL;
    }
    for (size_t k = 0; k < nout && k < SW_NOTIFY_THR_MAX; k++)
        cfg->thresholds[k] = out[k];
    cfg->nthresholds = nout;
    return 0;
}

/* ---- output ------------------------------------------------------------------ */

static json_t *config_json(const char *tenant_id, const struct sw_notify_config *c)
{
    json_t *chans = json_array(), *rc = json_object(), *thr = json_array();
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (c && (c->channels & (1u << ch)))
            json_array_append_new(chans, json_string(notify_channel_name((enum notify_channel)ch)));
    char pub[SW_URL_MAX + 1];
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_TENANT_CHANNELS; ch++) {
        json_t *a = json_array();
        for (size_t i = 0; c && i < c->nrcpt[ch]; i++) {
            notify_recipient_public((enum notify_channel)ch, c->rcpt[ch][i], pub, sizeof(pub));
            json_array_append_new(a, json_string(pub));
        }
        json_object_set_new(rc, notify_channel_name((enum notify_channel)ch), a);
    }
    if (c)
        for (size_t i = 0; i < c->nthresholds; i++)
            json_array_append_new(thr, json_integer(c->thresholds[i]));
    else
        json_array_append_new(thr, json_integer(sla_thresholds_default[0]));
    json_t *o = json_pack("{s:s, s:b, s:o, s:o, s:o, s:b, s:o}", "tenant_id", tenant_id,
                          "configured", c != NULL, "channels", chans, "recipients", rc,
                          "thresholds", thr, "webhook_secret_set", c && c->webhook_secret_set,
                          "updated_at", json_time(c ? c->updated_at : 0));
    /* for people: the tenant's PagerDuty key (a credential: its end only)
     * and voice webhook */
    size_t kl = c ? strlen(c->pagerduty_routing_key) : 0;
    char masked[16];
    snprintf(masked, sizeof(masked), "...%s", kl > 8 ? c->pagerduty_routing_key + kl - 4 : "");
    json_object_set_new(o, "pagerduty_routing_key", kl ? json_string(masked) : json_null());
    json_object_set_new(o, "pagerduty_routing_key_set", json_boolean(kl > 0));
    json_object_set_new(o, "voice_webhook",
                        c && c->voice_webhook[0] ? json_string(c->voice_webhook) : json_null());
    return o;
}

static int tenant_exists(struct req *r)
{
    struct sw_tenant t;
    int rc = store_tenant_get(r->srv->store, r->tenant_id, &t);
    if (rc < 0)
        http_fail(r, rc, "tenant");
    return rc;
}

/* ---- handlers ------------------------------------------------------------------ */

void api_notify_configure(struct req *r)
{
    struct sw_notify_config *cfg = xcalloc(1, sizeof(*cfg));
    struct sw_notify_config *old = xcalloc(1, sizeof(*old));
    const char *secret = NULL;
    if (v_channels(r, json_object_get(r->json, "channels"), cfg) < 0)
        goto out;
    if (tenant_exists(r) < 0)
        goto out;
    /* the stored config first: secrets shown masked may come back as such */
    int rc = store_notify_config_get(r->srv->store, r->tenant_id, old);
    if (rc < 0 && rc != SW_E_NOTFOUND) {
        http_fail(r, rc, "notification config");
        goto out;
    }
    bool had = rc == 0;
    if (v_recipients(r, json_object_get(r->json, "recipients"), cfg, had ? old : NULL) < 0 ||
        v_thresholds(r, json_object_get(r->json, "thresholds"), cfg) < 0 ||
        v_secret(r, r->json, "webhook_secret", false, SW_SECRET_MAX, &secret) < 0)
        goto out;
    if (secret) {
        bool printable = true;
        for (const char *p = secret; *p; p++)
            printable &= (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f;
        if (strlen(secret) < SECRET_MIN || !printable) {
            http_error(r, 422, "invalid", "webhook_secret",
                       "webhook_secret must be %d to %d printable ASCII characters", SECRET_MIN,
                       SW_SECRET_MAX);
            goto out;
        }
    }
    /* for people: absent keeps what is stored, null or "" clears */
    json_t *pk = json_object_get(r->json, "pagerduty_routing_key");
    json_t *vw = json_object_get(r->json, "voice_webhook");
    const char *pks = json_string_value(pk), *vws = json_string_value(vw);
    if (pk && !json_is_null(pk) &&
        (!pks || strlen(pks) != json_string_length(pk) ||
         (*pks && (strlen(pks) < 20 || strlen(pks) > NOTIFY_KEY_MAX ||
                   strspn(pks, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
                       strlen(pks))))) {
        http_error(r, 422, "invalid", "pagerduty_routing_key",
                   "pagerduty_routing_key must be a PagerDuty routing key (20 to 64 letters "
                   "and digits) or null");
        goto out;
    }
    if (vw && !json_is_null(vw) &&
        (!vws || strlen(vws) != json_string_length(vw) || (*vws && !url_valid(vws)))) {
        http_error(r, 422, "invalid", "voice_webhook",
                   "voice_webhook must be an http:// or https:// URL of at most 1024 bytes, "
                   "or null");
        goto out;
    }
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_TENANT_CHANNELS; ch++) {
        if ((cfg->channels & (1u << ch)) && cfg->nrcpt[ch] == 0) {
            char field[40];
            snprintf(field, sizeof(field), "recipients.%s", notify_channel_name((enum notify_channel)ch));
            http_error(r, 422, "invalid", field, "the %s channel needs at least one recipient",
                       notify_channel_name((enum notify_channel)ch));
            goto out;
        }
    }
    bool have_secret = secret || (had && old->webhook_secret_set);
    if ((cfg->channels & (1u << NOTIFY_WEBHOOK)) && !have_secret) {
        http_error(r, 422, "invalid", "webhook_secret",
                   "the webhook channel needs a webhook_secret: deliveries are signed");
        goto out;
    }
    snprintf(cfg->tenant_id, sizeof(cfg->tenant_id), "%s", r->tenant_id);
    snprintf(cfg->webhook_secret, sizeof(cfg->webhook_secret), "%s", secret ? secret : "");
    if (!pk && rc == 0)
        snprintf(cfg->pagerduty_routing_key, sizeof(cfg->pagerduty_routing_key), "%s",
                 old->pagerduty_routing_key);
    else if (pks)
        snprintf(cfg->pagerduty_routing_key, sizeof(cfg->pagerduty_routing_key), "%s", pks);
    if (!vw && rc == 0)
        snprintf(cfg->voice_webhook, sizeof(cfg->voice_webhook), "%s", old->voice_webhook);
    else if (vws)
        snprintf(cfg->voice_webhook, sizeof(cfg->voice_webhook), "%s", vws);
    cfg->updated_at = r->now;
    rc = store_notify_config_put(r->srv->store, cfg);
    if (rc < 0) {
        http_fail(r, rc, "tenant");
        goto out;
    }
    cfg->webhook_secret_set = have_secret;
    http_json(r, 200, config_json(r->tenant_id, cfg));
out:
    sodium_memzero(cfg->webhook_secret, sizeof(cfg->webhook_secret));
    sodium_memzero(old->webhook_secret, sizeof(old->webhook_secret));
    free(cfg);
    free(old);
}

void api_notify_config_get(struct req *r)
{
    if (tenant_exists(r) < 0)
        return;
    struct sw_notify_config *cfg = xcalloc(1, sizeof(*cfg));
    int rc = store_notify_config_get(r->srv->store, r->tenant_id, cfg);
    if (rc == 0)
        http_json(r, 200, config_json(r->tenant_id, cfg));
    else if (rc == SW_E_NOTFOUND)
        http_json(r, 200, config_json(r->tenant_id, NULL));
    else
        http_fail(r, rc, "notification config");
    free(cfg);
}

struct history {
    json_t *items;
    int64_t last_id;
    int n;
};

static int add_row(const struct sw_outbox_row *o, const struct sw_notify_attempt *a, size_t na,
                   void *ud)
{
    struct history *h = ud;
    char pub[SW_URL_MAX + 1];
    notify_recipient_public(o->channel, o->recipient, pub, sizeof(pub));
    json_t *attempts = json_array();
    for (size_t i = 0; i < na; i++) {
        json_t *e = json_pack("{s:o, s:b, s:i, s:I}", "at", json_time(a[i].at), "ok", a[i].ok,
                              "status", a[i].status, "duration_ms", (json_int_t)a[i].duration_ms);
        json_object_set_new(e, "error", a[i].error[0] ? json_string(a[i].error) : json_null());
        json_array_append_new(attempts, e);
    }
    json_t *notice = o->notice ? json_loads(o->notice, 0, NULL) : NULL;
    json_t *it = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o}",
                           "id", (json_int_t)o->id, "idempotency_key", o->key, "channel",
                           notify_channel_name(o->channel), "recipient", pub, "type", o->type,
                           "state", sw_outbox_state_name(o->state), "attempt_count", o->attempts,
                           "created_at", json_time(o->created_at), "delivered_at",
                           json_time(o->delivered_at), "attempts", attempts);
    json_object_set_new(it, "item_kind", o->item_kind[0] ? json_string(o->item_kind) : json_null());
    json_object_set_new(it, "item_id", o->item_id[0] ? json_string(o->item_id) : json_null());
    json_object_set_new(it, "event_id", o->event_id ? json_integer(o->event_id) : json_null());
    json_object_set_new(it, "next_attempt_at",
                        json_time(o->state == SW_OUTBOX_PENDING ? o->next_attempt_at : 0));
    json_object_set_new(it, "digest_id", o->digest_id ? json_integer(o->digest_id) : json_null());
    json_object_set_new(it, "last_error", o->last_error[0] ? json_string(o->last_error) : json_null());
    json_object_set_new(it, "notice", notice ? notice : json_null());
    json_array_append_new(h->items, it);
    h->last_id = o->id;
    h->n++;
    return 0;
}

void api_notify_history(struct req *r)
{
    int64_t limit = 50, before = 0;
    if (q_int(r, "limit", 1, HISTORY_LIMIT_MAX, &limit) < 0 ||
        q_int(r, "cursor", 1, INT64_MAX, &before) < 0)
        return;
    if (tenant_exists(r) < 0)
        return;
    struct history h = {json_array(), 0, 0};
    int rc = store_notify_history(r->srv->store, r->tenant_id, before, (int)limit, add_row, &h);
    if (rc < 0) {
        json_decref(h.items);
        http_fail(r, rc, "notification history");
        return;
    }
    json_t *cursor = json_null();
    if (h.n == limit && h.last_id > 1) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)h.last_id);
        cursor = json_string(buf);
    }
    http_json(r, 200, json_pack("{s:o, s:o}", "items", h.items, "next_cursor", cursor));
}

void api_notify_test(struct req *r)
{
    static const char *const types[] = {NOTIFY_TYPE_TEST, "sla.warning", "sla.breach",
                                        "sla.escalation"};
    const char *type = NULL, *kind = NULL, *item = NULL, *sev = NULL, *clock = NULL;
    int64_t thr = 0, level = 0;
    bool thr_set = false;
    if (v_string(r, r->json, "type", false, 31, &type) < 0 ||
        v_string(r, r->json, "item_kind", false, 15, &kind) < 0 ||
        v_id(r, r->json, "item_id", false, &item) < 0 ||
        v_string(r, r->json, "severity", false, 15, &sev) < 0 ||
        v_string(r, r->json, "clock", false, 15, &clock) < 0 ||
        v_int(r, r->json, "threshold_pct", false, 1, 100, &thr, &thr_set) < 0 ||
        v_int(r, r->json, "escalation_level", false, 1, 10, &level, NULL) < 0)
        return;
    bool known = !type;
    for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
        known |= !strcmp(type, types[i]);
    if (!known) {
        http_error(r, 422, "invalid", "type",
                   "type must be notify.test, sla.warning, sla.breach or sla.escalation");
        return;
    }
    if (kind && strcmp(kind, "alert") && strcmp(kind, "finding")) {
        http_error(r, 422, "invalid", "item_kind", "item_kind must be alert or finding");
        return;
    }
    if (clock && strcmp(clock, "ack") && strcmp(clock, "resolve")) {
        http_error(r, 422, "invalid", "clock", "clock must be ack or resolve");
        return;
    }
    if (type && !strcmp(type, "sla.warning") && !thr_set) {
        http_error(r, 422, "invalid", "threshold_pct", "an sla.warning needs threshold_pct");
        return;
    }
    if (tenant_exists(r) < 0)
        return;
    struct sw_notify_config *cfg = xcalloc(1, sizeof(*cfg));
    int rc = store_notify_config_get(r->srv->store, r->tenant_id, cfg);
    free(cfg);
    if (rc == SW_E_NOTFOUND) {
        http_error(r, 409, "conflict", NULL,
                   "no notification channels configured: POST …/configure first");
        return;
    }
    if (rc < 0) {
        http_fail(r, rc, "notification config");
        return;
    }

    struct sw_notice n;
    memset(&n, 0, sizeof(n));
    bool sla = type && strncmp(type, "sla.", 4) == 0;
    snprintf(n.tenant_id, sizeof(n.tenant_id), "%s", r->tenant_id);
    snprintf(n.type, sizeof(n.type), "%s", type ? type : NOTIFY_TYPE_TEST);
    snprintf(n.item_kind, sizeof(n.item_kind), "%s", kind ? kind : sla ? "alert" : "");
    /* a fresh item id unless given: each test is its own event (two in
     * the same millisecond must not share an idempotency key) */
    char rnd[16];
    snprintf(rnd, sizeof(rnd), "test-%08x", randombytes_random());
    snprintf(n.item_id, sizeof(n.item_id), "%s", item ? item : rnd);
    snprintf(n.severity, sizeof(n.severity), "%s", sev ? sev : sla ? "critical" : "");
    snprintf(n.clock, sizeof(n.clock), "%s", clock ? clock : sla ? "resolve" : "");
    n.threshold_pct = (int)thr;
    if (level || (type && !strcmp(type, "sla.escalation"))) {
        n.escalation_level = level ? (int)level : 1;
        snprintf(n.escalation_target, sizeof(n.escalation_target), "%.*s",
                 (int)sizeof(n.escalation_target) - 1, r->who.actor);
    }
    n.due_at = sla ? r->now : 0;
    n.occurred_at = r->now;
    n.test = true;
    int rows = 0;
    rc = store_notify_enqueue(r->srv->store, &n, 0, &rows);
    if (rc < 0) {
        http_fail(r, rc, "notification");
        return;
    }
    notify_wake(r->srv->notifier);
    http_json(r, 202, json_pack("{s:s, s:i}", "type", n.type, "enqueued", rows));
}
