/* notify_config.c: a tenant's notification configuration (store_notify.h):
 * its channels, recipients, notified warning thresholds and webhook secret.
 *
 * The lists are JSON text columns, encoded and decoded here with jansson
 * (never json_* in SQL: the two databases' JSON functions differ), so a
 * config is one row read or written in one statement.  The outbox reads it
 * inside the transaction of every notice (store_notify_config_in); the
 * secret is read there for the claim to sign with and never leaves the
 * store through config_get. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_notify.h"
#include "util/xalloc.h"

static const char SQL_CFG_GET[] =
    "SELECT channels, recipients, thresholds, COALESCE(webhook_secret, ''), updated_at, "
    "COALESCE(pagerduty_routing_key, ''), COALESCE(voice_webhook, '') "
    "FROM notification_config WHERE tenant_id = ?1";

/* "" keeps the stored secret (NULLIF makes it NULL, COALESCE keeps the old) */
static const char SQL_CFG_PUT[] =
    "INSERT INTO notification_config "
    "  (tenant_id, channels, recipients, thresholds, webhook_secret, updated_at, "
    "   pagerduty_routing_key, voice_webhook) "
    "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''), ?6, NULLIF(?7, ''), NULLIF(?8, '')) "
    "ON CONFLICT (tenant_id) DO UPDATE SET channels = excluded.channels, "
    "  recipients = excluded.recipients, thresholds = excluded.thresholds, "
    "  webhook_secret = COALESCE(excluded.webhook_secret, notification_config.webhook_secret), "
    "  updated_at = excluded.updated_at, pagerduty_routing_key = excluded.pagerduty_routing_key, "
    "  voice_webhook = excluded.voice_webhook";

/* ---- the JSON columns ------------------------------------------------------ */

static char *dump(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!s)
        abort();        /* jansson fails only when out of memory */
    return s;
}

static char *enc_channels(unsigned channels)
{
    json_t *a = json_array();
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (channels & (1u << ch))
            json_array_append_new(a, json_string(notify_channel_name((enum notify_channel)ch)));
    return dump(a);
}

static char *enc_recipients(const struct sw_notify_config *c)
{
    json_t *o = json_object();
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_TENANT_CHANNELS; ch++) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nrcpt[ch] && i < SW_NOTIFY_RCPT_MAX; i++)
            json_array_append_new(a, json_string(c->rcpt[ch][i]));
        json_object_set_new(o, notify_channel_name((enum notify_channel)ch), a);
    }
    return dump(o);
}

static char *enc_thresholds(const struct sw_notify_config *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nthresholds && i < SW_NOTIFY_THR_MAX; i++)
        json_array_append_new(a, json_integer(c->thresholds[i]));
    return dump(a);
}

/* One SQL_CFG_GET row into out (the secret too).  Unknown channel names
 * and surplus entries are skipped, as the old store did. */
static void cfg_decode(struct db_stmt *st, const char *tenant_id, struct sw_notify_config *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", tenant_id);
    json_t *chans = json_loads(db_col_text(st, 0), 0, NULL);
    json_t *rcpts = json_loads(db_col_text(st, 1), 0, NULL);
    json_t *thr = json_loads(db_col_text(st, 2), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(chans, i, v) {
        enum notify_channel ch;
        if (json_is_string(v) && notify_channel_parse(json_string_value(v), &ch) == 0 &&
            ch < NOTIFY_TENANT_CHANNELS)
            out->channels |= 1u << ch;
    }
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_TENANT_CHANNELS; ch++) {
        json_t *a = json_object_get(rcpts, notify_channel_name((enum notify_channel)ch));
        json_array_foreach(a, i, v) {
            if (!json_is_string(v) || out->nrcpt[ch] >= SW_NOTIFY_RCPT_MAX)
                continue;
            snprintf(out->rcpt[ch][out->nrcpt[ch]++], SW_URL_MAX + 1, "%s",
                     json_string_value(v));
        }
    }
    json_array_foreach(thr, i, v) {
        if (json_is_integer(v) && out->nthresholds < SW_NOTIFY_THR_MAX)
            out->thresholds[out->nthresholds++] = (int)json_integer_value(v);
    }
    db_col_copy(st, 3, out->webhook_secret, sizeof(out->webhook_secret));
    out->webhook_secret_set = out->webhook_secret[0] != '\0';
    out->updated_at = db_col_int64(st, 4);
    db_col_copy(st, 5, out->pagerduty_routing_key, sizeof(out->pagerduty_routing_key));
    db_col_copy(st, 6, out->voice_webhook, sizeof(out->voice_webhook));
    json_decref(chans);
    json_decref(rcpts);
    json_decref(thr);
}

int store_notify_config_in(struct db_conn *c, const char *tenant_id,
                           struct sw_notify_config *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CFG_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    rc = db_step_one(st);
    if (rc == 1) {
        cfg_decode(st, tenant_id, out);
        db_reset(st);
        return 0;
    }
    return rc == 0 ? SW_E_NOTFOUND : rc;
}

/* ---- the ops (outbox.c puts them in sql_notify_ops) -------------------------- */

int notify_config_get(struct store *base, const char *tenant_id, struct sw_notify_config *out);
int notify_config_put(struct store *base, const struct sw_notify_config *cfg);

int notify_config_get(struct store *base, const char *tenant_id, struct sw_notify_config *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = store_notify_config_in(c, tenant_id, out);
    db_release(c);
    if (rc == 0)
        sodium_memzero(out->webhook_secret, sizeof(out->webhook_secret));   /* never leaves */
    return rc;
}

struct cfg_put {
    const struct sw_notify_config *cfg;
    const char *chans, *rcpts, *thr;
};

static int config_put_tx(struct db_conn *c, void *ud)
{
    struct cfg_put *p = ud;
    struct db_stmt *st;
    struct thresholds before, after;
    bool had, has;
    int rc = store_thresholds_in(c, p->cfg->tenant_id, &before, &had);
    if (rc < 0 || (rc = db_prep(c, SQL_CFG_PUT, &st)) < 0)
        return rc;
    db_bind_text(st, 1, p->cfg->tenant_id);
    db_bind_text(st, 2, p->chans);
    db_bind_text(st, 3, p->rcpts);
    db_bind_text(st, 4, p->thr);
    db_bind_text(st, 5, p->cfg->webhook_secret);
    db_bind_int64(st, 6, p->cfg->updated_at);
    db_bind_text(st, 7, p->cfg->pagerduty_routing_key);
    db_bind_text(st, 8, p->cfg->voice_webhook);
    if ((rc = db_exec(st)) < 0)
        return rc;              /* an unknown tenant: the foreign key, NOTFOUND */
    /* the alerts' warnings follow a new list (store_int.h struct alert_th) */
    if ((rc = store_thresholds_in(c, p->cfg->tenant_id, &after, &has)) < 0)
        return rc;
    if (!had || before.n != after.n || memcmp(before.v, after.v, after.n))
        rc = alert_thresholds_changed_in(c, p->cfg->tenant_id, p->cfg->updated_at);
    return rc;
}

int notify_config_put(struct store *base, const struct sw_notify_config *cfg)
{
    struct cfg_put p = {
        .cfg = cfg,
        .chans = enc_channels(cfg->channels),
        .rcpts = enc_recipients(cfg),
        .thr = enc_thresholds(cfg),
    };
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, config_put_tx, &p);
    free((char *)p.chans);
    free((char *)p.rcpts);
    free((char *)p.thr);
    return rc;
}
