/* sqlite_notify.c: notification config, the outbox and its history (the
 * notifications subject of store.h, store_notify.h).
 *
 * The config's lists are JSON columns (channels, recipients, thresholds),
 * read and written here with jansson; everything the workers filter on is a
 * plain column.  Each outbox row carries its notice already rendered (the
 * exact webhook body), so a retry sends the same bytes and signature. */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sla.h"
#include "store/sqlite_int.h"
#include "store/store_notify.h"
#include "util/log.h"
#include "util/xalloc.h"

static const char SQL_CFG_GET[] =
    "SELECT channels, recipients, thresholds, COALESCE(webhook_secret, ''), updated_at "
    "FROM notification_config WHERE tenant_id = ?1";

static const char SQL_CFG_PUT[] =
    "INSERT INTO notification_config "
    "  (tenant_id, channels, recipients, thresholds, webhook_secret, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''), ?6) "
    "ON CONFLICT (tenant_id) DO UPDATE SET channels = excluded.channels, "
    "  recipients = excluded.recipients, thresholds = excluded.thresholds, "
    "  webhook_secret = COALESCE(excluded.webhook_secret, notification_config.webhook_secret), "
    "  updated_at = excluded.updated_at";

static const char SQL_OUTBOX_ADD[] =
    "INSERT INTO outbox (tenant_id, channel, recipient, type, item_kind, item_id, event_id, "
    "  notice, idempotency_key, next_attempt_at, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, 0), ?8, ?9, ?10, ?10) "
    "ON CONFLICT (idempotency_key) DO NOTHING";

#define ROW_COLS                                                                    \
    "o.id, o.tenant_id, o.channel, o.recipient, o.type, o.item_kind, o.item_id, "   \
    "COALESCE(o.event_id, 0), o.idempotency_key, o.state, o.attempts, "              \
    "o.next_attempt_at, o.created_at, COALESCE(o.delivered_at, 0), "                 \
    "COALESCE(o.digest_id, 0), COALESCE(o.last_error, ''), o.notice"

static const char SQL_CLAIM_SELECT[] =
    "SELECT " ROW_COLS ", COALESCE(nc.webhook_secret, '') "
    "FROM outbox o LEFT JOIN notification_config nc ON nc.tenant_id = o.tenant_id "
    "WHERE o.channel = ?1 AND o.state = 'pending' AND o.next_attempt_at <= ?2 "
    "ORDER BY o.next_attempt_at, o.id LIMIT ?3";

static const char SQL_LEASE[] =
    "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND state = 'pending'";

static const char SQL_FLOOD_GET[] =
    "SELECT window_start, sent, COALESCE(digest_id, 0) FROM notify_flood "
    "WHERE tenant_id = ?1 AND channel = ?2 AND recipient = ?3";

static const char SQL_FLOOD_NEW[] =
    "INSERT INTO notify_flood (tenant_id, channel, recipient, window_start, sent, digest_id) "
    "VALUES (?1, ?2, ?3, ?4, 1, NULL) "
    "ON CONFLICT (tenant_id, channel, recipient) DO UPDATE SET "
    "  window_start = excluded.window_start, sent = 1, digest_id = NULL";

static const char SQL_FLOOD_COUNT[] =
    "UPDATE notify_flood SET sent = sent + 1 "
    "WHERE tenant_id = ?1 AND channel = ?2 AND recipient = ?3";

static const char SQL_FLOOD_DIGEST[] =
    "UPDATE notify_flood SET digest_id = ?4 "
    "WHERE tenant_id = ?1 AND channel = ?2 AND recipient = ?3";

static const char SQL_DIGEST_ADD[] =
    "INSERT INTO outbox (tenant_id, channel, recipient, type, notice, idempotency_key, "
    "  next_attempt_at, created_at) "
    "VALUES (?1, ?2, ?3, '" NOTIFY_TYPE_DIGEST "', NULL, ?4, ?5, ?6)";

static const char SQL_FOLD[] =
    "UPDATE outbox SET state = 'digested', digest_id = ?2 WHERE id = ?1";

/* The digest's body, rendered once, when it is first claimed (its window
 * has closed, so nothing more folds into it). */
static const char SQL_DIGEST_RENDER[] =
    "UPDATE outbox SET notice = json_object("
    "  'id', idempotency_key, 'type', '" NOTIFY_TYPE_DIGEST "', 'tenant_id', tenant_id, "
    "  'channel', channel, "
    "  'count', (SELECT count(*) FROM outbox f WHERE f.digest_id = ?1), "
    "  'items', (SELECT json_group_array(json(g.notice)) FROM "
    "            (SELECT notice FROM outbox f WHERE f.digest_id = ?1 ORDER BY f.id LIMIT ?2) g), "
    "  'occurred_at', ?3) "
    "WHERE id = ?1 RETURNING notice";

static const char SQL_STATE_GET[] = "SELECT state, type FROM outbox WHERE id = ?1";

static const char SQL_ATTEMPT_ADD[] =
    "INSERT INTO notification_attempts (outbox_id, at, ok, status, error, duration_ms) "
    "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''), ?6)";

static const char SQL_OUTCOME[] =
    "UPDATE outbox SET attempts = attempts + 1, state = ?2, next_attempt_at = ?3, "
    "  delivered_at = NULLIF(?4, 0), last_error = NULLIF(?5, '') WHERE id = ?1";

static const char SQL_DIGEST_DONE[] =
    "UPDATE outbox SET delivered_at = ?2 WHERE digest_id = ?1";

static const char SQL_RELEASE[] =
    "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND state = 'pending'";

static const char SQL_NEXT_DUE[] =
    "SELECT next_attempt_at FROM outbox WHERE channel = ?1 AND state = 'pending' "
    "ORDER BY next_attempt_at LIMIT 1";

static const char SQL_HISTORY[] =
    "SELECT " ROW_COLS " FROM outbox o "
    "WHERE o.tenant_id = ?1 AND (?2 = 0 OR o.id < ?2) ORDER BY o.id DESC LIMIT ?3";

static const char SQL_ATTEMPTS[] =
    "SELECT at, ok, status, COALESCE(error, ''), duration_ms FROM notification_attempts "
    "WHERE outbox_id = ?1 ORDER BY id LIMIT 200";

#define HISTORY_ATTEMPTS_MAX 200

/* ---- small helpers ------------------------------------------------------ */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const state_names[] = {
    [SW_OUTBOX_PENDING] = "pending",
    [SW_OUTBOX_DELIVERED] = "delivered",
    [SW_OUTBOX_DEAD] = "dead",
    [SW_OUTBOX_DIGESTED] = "digested",
};

const char *sw_outbox_state_name(enum sw_outbox_state st)
{
    return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "?";
}

static enum sw_outbox_state state_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (!strcmp(s, state_names[i]))
            return (enum sw_outbox_state)i;
    return SW_OUTBOX_PENDING;
}

void sw_outbox_row_release(struct sw_outbox_row *r)
{
    if (!r)
        return;
    free(r->notice);
    r->notice = NULL;
}

/* Fills r from a ROW_COLS row; notice is copied (caller frees) when
 * copy_notice, else lent from the statement. */
static void row_read(sqlite3_stmt *st, struct sw_outbox_row *r, bool copy_notice)
{
    char ch[16];
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    sq_copy_text(r->tenant_id, sizeof(r->tenant_id), st, 1);
    sq_copy_text(ch, sizeof(ch), st, 2);
    enum notify_channel c = NOTIFY_WEBSOCKET;
    notify_channel_parse(ch, &c);
    r->channel = c;
    sq_copy_text(r->recipient, sizeof(r->recipient), st, 3);
    sq_copy_text(r->type, sizeof(r->type), st, 4);
    sq_copy_text(r->item_kind, sizeof(r->item_kind), st, 5);
    sq_copy_text(r->item_id, sizeof(r->item_id), st, 6);
    r->event_id = sqlite3_column_int64(st, 7);
    sq_copy_text(r->key, sizeof(r->key), st, 8);
    char state[16];
    sq_copy_text(state, sizeof(state), st, 9);
    r->state = state_parse(state);
    r->attempts = sqlite3_column_int(st, 10);
    r->next_attempt_at = sqlite3_column_int64(st, 11);
    r->created_at = sqlite3_column_int64(st, 12);
    r->delivered_at = sqlite3_column_int64(st, 13);
    r->digest_id = sqlite3_column_int64(st, 14);
    sq_copy_text(r->last_error, sizeof(r->last_error), st, 15);
    const char *notice = (const char *)sqlite3_column_text(st, 16);
    if (copy_notice)
        r->notice = notice ? xstrdup(notice) : NULL;
    else
        r->notice = (char *)notice;
}

/* ---- config as JSON columns -------------------------------------------- */

static char *enc_channels(unsigned channels)
{
    json_t *a = json_array();
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (channels & (1u << ch))
            json_array_append_new(a, json_string(notify_channel_name((enum notify_channel)ch)));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static char *enc_recipients(const struct sw_notify_config *c)
{
    json_t *o = json_object();
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_NCHANNELS; ch++) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nrcpt[ch]; i++)
            json_array_append_new(a, json_string(c->rcpt[ch][i]));
        json_object_set_new(o, notify_channel_name((enum notify_channel)ch), a);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *enc_thresholds(const struct sw_notify_config *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nthresholds; i++)
        json_array_append_new(a, json_integer(c->thresholds[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* Reads one config row (SQL_CFG_GET's columns); the secret itself too. */
static void cfg_decode(sqlite3_stmt *st, const char *tenant_id, struct sw_notify_config *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", tenant_id);
    json_t *chans = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    json_t *rcpts = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
    json_t *thr = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(chans, i, v) {
        enum notify_channel ch;
        if (json_is_string(v) && notify_channel_parse(json_string_value(v), &ch) == 0)
            out->channels |= 1u << ch;
    }
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_NCHANNELS; ch++) {
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
    sq_copy_text(out->webhook_secret, sizeof(out->webhook_secret), st, 3);
    out->webhook_secret_set = out->webhook_secret[0] != '\0';
    out->updated_at = sqlite3_column_int64(st, 4);
    json_decref(chans);
    json_decref(rcpts);
    json_decref(thr);
}

/* The config on connection c (inside the caller's transaction or not). */
static int cfg_read(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                    struct sw_notify_config *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CFG_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cfg_decode(st, tenant_id, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "notify config_get");
    }
    sq_done(st);
    return rc;
}

static int sq_config_get(struct store *base, const char *tenant_id,
                         struct sw_notify_config *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = cfg_read(s, c, tenant_id, out);
    sq_release(s, c);
    if (rc == 0)
        sodium_memzero(out->webhook_secret, sizeof(out->webhook_secret));  /* never leaves */
    return rc;
}

static int sq_config_put(struct store *base, const struct sw_notify_config *cfg)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = SW_E_STORE;
    char *chans = enc_channels(cfg->channels);
    char *rcpts = enc_recipients(cfg);
    char *thr = enc_thresholds(cfg);
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CFG_PUT);
    if (st) {
        SQ_TEXT(st, 1, cfg->tenant_id);
        SQ_TEXT(st, 2, chans);
        SQ_TEXT(st, 3, rcpts);
        SQ_TEXT(st, 4, thr);
        SQ_TEXT(st, 5, cfg->webhook_secret);
        sqlite3_bind_int64(st, 6, cfg->updated_at);
        rc = sq_exec(s, c, st);
        sq_done(st);
    }
    sq_release(s, c);
    free(chans);
    free(rcpts);
    free(thr);
    return rc;
}

/* ---- enqueue ------------------------------------------------------------ */

static bool threshold_notified(const struct sw_notify_config *cfg, int pct)
{
    for (size_t i = 0; i < cfg->nthresholds; i++)
        if (cfg->thresholds[i] == pct)
            return true;
    return false;
}

static int outbox_add(struct sqlite_store *s, struct conn *c, const struct sw_notice *n,
                      int64_t event_id, enum notify_channel ch, const char *rcpt, int64_t now)
{
    char key[NOTIFY_KEY_LEN + 1];
    notify_key(n, event_id, ch, rcpt, key);
    char *body = notify_body(n, key);
    sqlite3_stmt *st = sq_stmt(s, c, SQL_OUTBOX_ADD);
    if (!st) {
        free(body);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, n->tenant_id);
    SQ_TEXT(st, 2, notify_channel_name(ch));
    SQ_TEXT(st, 3, rcpt);
    SQ_TEXT(st, 4, n->type);
    SQ_TEXT(st, 5, n->item_kind);
    SQ_TEXT(st, 6, n->item_id);
    sqlite3_bind_int64(st, 7, event_id);
    SQ_TEXT(st, 8, body);
    SQ_TEXT(st, 9, key);
    sqlite3_bind_int64(st, 10, now);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    free(body);
    if (rc < 0)
        return rc;
    return sqlite3_changes(c->db);
}

int sq_outbox_enqueue(struct sqlite_store *s, struct conn *c, const struct sw_notice *n,
                      int64_t event_id)
{
    struct sw_notify_config *cfg = xmalloc(sizeof(*cfg));
    int rows = 0;
    int rc = cfg_read(s, c, n->tenant_id, cfg);
    if (rc == SW_E_NOTFOUND) {
        rc = 0;
        goto done;
    }
    if (rc < 0)
        goto done;
    if (!strcmp(n->type, "sla.warning") && !threshold_notified(cfg, n->threshold_pct))
        goto done;
    int64_t now = wall_ms();
    for (int ch = 0; ch < NOTIFY_NCHANNELS && rc >= 0; ch++) {
        if (!(cfg->channels & (1u << ch)))
            continue;
        if (ch == NOTIFY_WEBSOCKET) {
            rc = outbox_add(s, c, n, event_id, NOTIFY_WEBSOCKET, n->tenant_id, now);
            rows += rc > 0 ? rc : 0;
            continue;
        }
        for (size_t i = 0; i < cfg->nrcpt[ch] && rc >= 0; i++) {
            rc = outbox_add(s, c, n, event_id, (enum notify_channel)ch, cfg->rcpt[ch][i], now);
            rows += rc > 0 ? rc : 0;
        }
    }
done:
    sodium_memzero(cfg->webhook_secret, sizeof(cfg->webhook_secret));
    free(cfg);
    return rc < 0 ? rc : rows;
}

static int sq_enqueue(struct store *base, const struct sw_notice *n, int64_t event_id,
                      int *rows)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc == 0) {
        rc = sq_outbox_enqueue(s, c, n, event_id);
        if (rc >= 0) {
            int k = rc;
            rc = sq_commit(s, c);
            if (rc == 0 && rows)
                *rows = k;
        } else {
            sq_rollback(s, c);
        }
    }
    sq_release(s, c);
    return rc;
}

/* ---- claim, with flood control ----------------------------------------- */

/* The digest row's key: one per (tenant, channel, recipient, window). */
static void digest_key(const char *tenant_id, const char *ch, const char *rcpt,
                       int64_t window_start, char out[NOTIFY_KEY_LEN + 1])
{
    crypto_generichash_state h;
    uint8_t d[16];
    char ws[32];
    snprintf(ws, sizeof(ws), "%lld", (long long)window_start);
    crypto_generichash_init(&h, NULL, 0, sizeof(d));
    const char *parts[] = {"digest", tenant_id, ch, rcpt, ws};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        crypto_generichash_update(&h, (const uint8_t *)parts[i], strlen(parts[i]) + 1);
    crypto_generichash_final(&h, d, sizeof(d));
    memcpy(out, "ntf_", 4);
    sodium_bin2hex(out + 4, 33, d, sizeof(d));
}

static int step_done(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st,
                     const char *what)
{
    int rc = sqlite3_step(st);
    sq_done(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_fail(s, c, what);
}

/* Decides whether a first send of r may go out now.  1 = send (counted in
 * the window), 0 = folded into the window's digest, < 0 = error. */
static int flood_gate(struct sqlite_store *s, struct conn *c, const struct sw_outbox_row *r,
                      const struct sw_flood *f, int64_t now)
{
    const char *ch = notify_channel_name(r->channel);
    sqlite3_stmt *st = sq_stmt(s, c, SQL_FLOOD_GET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, r->tenant_id);
    SQ_TEXT(st, 2, ch);
    SQ_TEXT(st, 3, r->recipient);
    int rc = sqlite3_step(st);
    int64_t window_start = 0, digest_id = 0;
    int sent = 0;
    bool have = rc == SQLITE_ROW;
    if (have) {
        window_start = sqlite3_column_int64(st, 0);
        sent = sqlite3_column_int(st, 1);
        digest_id = sqlite3_column_int64(st, 2);
    } else if (rc != SQLITE_DONE) {
        sq_done(st);
        return sq_fail(s, c, "flood get");
    }
    sq_done(st);

    if (!have || window_start + f->window_ms <= now) {    /* a new window */
        st = sq_stmt(s, c, SQL_FLOOD_NEW);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, r->tenant_id);
        SQ_TEXT(st, 2, ch);
        SQ_TEXT(st, 3, r->recipient);
        sqlite3_bind_int64(st, 4, now);
        rc = step_done(s, c, st, "flood new");
        return rc < 0 ? rc : 1;
    }
    if (sent < f->max) {
        st = sq_stmt(s, c, SQL_FLOOD_COUNT);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, r->tenant_id);
        SQ_TEXT(st, 2, ch);
        SQ_TEXT(st, 3, r->recipient);
        rc = step_done(s, c, st, "flood count");
        return rc < 0 ? rc : 1;
    }
    if (!digest_id) {       /* the first surplus notice of this window */
        char key[NOTIFY_KEY_LEN + 1];
        digest_key(r->tenant_id, ch, r->recipient, window_start, key);
        st = sq_stmt(s, c, SQL_DIGEST_ADD);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, r->tenant_id);
        SQ_TEXT(st, 2, ch);
        SQ_TEXT(st, 3, r->recipient);
        SQ_TEXT(st, 4, key);
        sqlite3_bind_int64(st, 5, window_start + f->window_ms);
        sqlite3_bind_int64(st, 6, now);
        if ((rc = sq_exec(s, c, st)) < 0) {
            sq_done(st);
            return rc;
        }
        sq_done(st);
        digest_id = sqlite3_last_insert_rowid(c->db);
        st = sq_stmt(s, c, SQL_FLOOD_DIGEST);
        if (!st)
            return SW_E_STORE;
        SQ_TEXT(st, 1, r->tenant_id);
        SQ_TEXT(st, 2, ch);
        SQ_TEXT(st, 3, r->recipient);
        sqlite3_bind_int64(st, 4, digest_id);
        if ((rc = step_done(s, c, st, "flood digest")) < 0)
            return rc;
    }
    st = sq_stmt(s, c, SQL_FOLD);
    if (!st)
        return SW_E_STORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, digest_id);
    rc = step_done(s, c, st, "fold");
    return rc < 0 ? rc : 0;
}

/* Renders a digest's body on its first claim. */
static int digest_render(struct sqlite_store *s, struct conn *c, struct sw_outbox_row *r,
                         int64_t now)
{
    char at[SLA_TIME_BUFSZ];
    sla_time_format(now, at);
    sqlite3_stmt *st = sq_stmt(s, c, SQL_DIGEST_RENDER);
    if (!st)
        return SW_E_STORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, SW_DIGEST_ITEMS);
    SQ_TEXT(st, 3, at);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        free(r->notice);
        r->notice = t ? xstrdup(t) : NULL;
        rc = 0;
    } else {
        rc = sq_fail(s, c, "digest render");
    }
    sq_done(st);
    return rc;
}

static int sq_claim(struct store *base, enum notify_channel ch, int64_t now, int64_t lease_ms,
                    const struct sw_flood *flood, struct sw_outbox_row *out, size_t max,
                    size_t *n)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    size_t got = 0, kept = 0;
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CLAIM_SELECT);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    SQ_TEXT(st, 1, notify_channel_name(ch));
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_read(st, &out[got], true);
        sq_copy_text(out[got].secret, sizeof(out[got].secret), st, 17);
        got++;
    }
    sq_done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = sq_fail(s, c, "claim");
        goto fail;
    }
    rc = 0;

    bool gate = flood && flood->max > 0 && flood->window_ms > 0 && ch != NOTIFY_WEBSOCKET;
    for (size_t i = 0; i < got; i++) {
        struct sw_outbox_row *r = &out[i];
        bool digest = !strcmp(r->type, NOTIFY_TYPE_DIGEST);
        if (digest && !r->notice) {
            if ((rc = digest_render(s, c, r, now)) < 0)
                goto fail;
        } else if (gate && !digest && r->attempts == 0) {
            rc = flood_gate(s, c, r, flood, now);
            if (rc < 0)
                goto fail;
            if (rc == 0) {              /* folded: not the caller's to send */
                sw_outbox_row_release(r);
                continue;
            }
        }
        st = sq_stmt(s, c, SQL_LEASE);
        if (!st) {
            rc = SW_E_STORE;
            goto fail;
        }
        sqlite3_bind_int64(st, 1, r->id);
        sqlite3_bind_int64(st, 2, now + lease_ms);
        if ((rc = step_done(s, c, st, "lease")) < 0)
            goto fail;
        if (kept != i) {
            out[kept] = *r;
            r->notice = NULL;           /* moved: one owner per notice */
        }
        kept++;
    }
    rc = sq_commit(s, c);
    if (rc < 0)
        goto fail_committed;
    *n = kept;
    goto out;
fail:
    sq_rollback(s, c);
fail_committed:
    for (size_t i = 0; i < got; i++)
        sw_outbox_row_release(&out[i]);
    *n = 0;
out:
    sq_release(s, c);
    return rc;
}

/* ---- record, release, next_due ----------------------------------------- */

static int sq_record(struct store *base, int64_t outbox_id, const struct sw_notify_attempt *a,
                     enum sw_outbox_outcome outcome, int64_t next_attempt_at)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = sq_begin(s, c);
    if (rc < 0)
        goto out;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_STATE_GET);
    if (!st) {
        rc = SW_E_STORE;
        goto fail;
    }
    sqlite3_bind_int64(st, 1, outbox_id);
    rc = sqlite3_step(st);
    char state[16] = "", type[32] = "";
    if (rc == SQLITE_ROW) {
        sq_copy_text(state, sizeof(state), st, 0);
        sq_copy_text(type, sizeof(type), st, 1);
    }
    sq_done(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "record");
        goto fail;
    }
    if (strcmp(state, "pending") != 0) {
        rc = SW_E_CONFLICT;
        goto fail;
    }

    if (!(st = sq_stmt(s, c, SQL_ATTEMPT_ADD))) {
        rc = SW_E_STORE;
        goto fail;
    }
    sqlite3_bind_int64(st, 1, outbox_id);
    sqlite3_bind_int64(st, 2, a->at);
    sqlite3_bind_int(st, 3, a->ok);
    sqlite3_bind_int(st, 4, a->status);
    SQ_TEXT(st, 5, a->error);
    sqlite3_bind_int64(st, 6, a->duration_ms);
    rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        goto fail;

    const char *new_state = outcome == SW_OUTCOME_DELIVERED ? "delivered"
                            : outcome == SW_OUTCOME_DEAD    ? "dead"
                                                            : "pending";
    int64_t done_at = a->at + a->duration_ms;
    if (!(st = sq_stmt(s, c, SQL_OUTCOME))) {
        rc = SW_E_STORE;
        goto fail;
    }
    sqlite3_bind_int64(st, 1, outbox_id);
    SQ_TEXT(st, 2, new_state);
    sqlite3_bind_int64(st, 3, outcome == SW_OUTCOME_RETRY ? next_attempt_at : done_at);
    sqlite3_bind_int64(st, 4, outcome == SW_OUTCOME_DELIVERED ? done_at : 0);
    SQ_TEXT(st, 5, a->ok ? "" : a->error);
    if ((rc = step_done(s, c, st, "record outcome")) < 0)
        goto fail;

    if (outcome == SW_OUTCOME_DELIVERED && !strcmp(type, NOTIFY_TYPE_DIGEST)) {
        if (!(st = sq_stmt(s, c, SQL_DIGEST_DONE))) {
            rc = SW_E_STORE;
            goto fail;
        }
        sqlite3_bind_int64(st, 1, outbox_id);
        sqlite3_bind_int64(st, 2, done_at);
        if ((rc = step_done(s, c, st, "digest done")) < 0)
            goto fail;
    }
    rc = sq_commit(s, c);
    goto out;
fail:
    sq_rollback(s, c);
out:
    sq_release(s, c);
    return rc;
}

static int sq_release_row(struct store *base, int64_t outbox_id, int64_t at)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_RELEASE);
    if (st) {
        sqlite3_bind_int64(st, 1, outbox_id);
        sqlite3_bind_int64(st, 2, at);
        rc = step_done(s, c, st, "release");
    }
    sq_release(s, c);
    return rc;
}

static int sq_next_due(struct store *base, enum notify_channel ch, int64_t *at)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_NEXT_DUE);
    if (st) {
        SQ_TEXT(st, 1, notify_channel_name(ch));
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *at = sqlite3_column_int64(st, 0);
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "next_due");
        }
        sq_done(st);
    }
    sq_release(s, c);
    return rc;
}

/* ---- history ------------------------------------------------------------ */

static int sq_history(struct store *base, const char *tenant_id, int64_t before_id, int limit,
                      store_outbox_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sw_notify_attempt *att = xcalloc(HISTORY_ATTEMPTS_MAX, sizeof(*att));
    struct sw_outbox_row *r = xmalloc(sizeof(*r));
    int rc = SW_E_STORE;
    /* one snapshot: a row and its attempts as of the same commit */
    if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sq_fail(s, c, "history begin");
        goto out;
    }
    sqlite3_stmt *st = sq_stmt(s, c, SQL_HISTORY);
    sqlite3_stmt *sa = sq_stmt(s, c, SQL_ATTEMPTS);
    if (!st || !sa)
        goto end;
    SQ_TEXT(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int(st, 3, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_read(st, r, false);
        size_t na = 0;
        sqlite3_bind_int64(sa, 1, r->id);
        int ra;
        while ((ra = sqlite3_step(sa)) == SQLITE_ROW && na < HISTORY_ATTEMPTS_MAX) {
            struct sw_notify_attempt *a = &att[na++];
            a->at = sqlite3_column_int64(sa, 0);
            a->ok = sqlite3_column_int(sa, 1) != 0;
            a->status = sqlite3_column_int(sa, 2);
            sq_copy_text(a->error, sizeof(a->error), sa, 3);
            a->duration_ms = sqlite3_column_int64(sa, 4);
        }
        sq_done(sa);
        if (ra != SQLITE_ROW && ra != SQLITE_DONE) {
            rc = sq_fail(s, c, "history attempts");
            break;
        }
        if (cb(r, att, na, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : rc < 0 ? rc : sq_fail(s, c, "history");
    sq_done(st);
end:
    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
out:
    sq_release(s, c);
    free(att);
    free(r);
    return rc;
}

const struct store_notify_ops sqlite_notify_ops = {
    .config_get = sq_config_get,
    .config_put = sq_config_put,
    .enqueue = sq_enqueue,
    .claim = sq_claim,
    .record = sq_record,
    .release = sq_release_row,
    .next_due = sq_next_due,
    .history = sq_history,
};
