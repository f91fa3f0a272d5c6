/* outbox.c: the outbox (store_notify.h): notices written in the transaction
 * of the event that causes them, claimed by the delivery workers of every
 * node, folded into digests by flood control, every attempt recorded.
 *
 * Keys.  A receiver drops a body whose key it has seen, so a key must never
 * repeat for a different delivery, on any install or after a restore: each
 * row of a notice caused by an event gets a new random key when it is
 * written (notify_key_new: a UUIDv7), stored with the row so every retry carries the
 * same one.  "The same (event, channel, recipient) is written once" is kept
 * by the unique index outbox_event (migration 0012), not by the key.
 * Notices without an event (the /test endpoint) keep their old rule: a key
 * hashed from the notice (notify_key), unique in the table.
 *
 * Several nodes.  A claim takes due rows with {SKIP_LOCKED} and leases them
 * (next_attempt_at = now + lease) in one statement, so two nodes never take
 * the same row and a node that dies mid-delivery leaves its rows to any
 * node once the lease ends.  Flood control counts a recipient's first sends
 * per window with one upsert of its notify_flood row, which also locks that
 * row until the commit: two nodes never both see room under the limit, and
 * a digest is created, filled and rendered under the same lock.  Window
 * rows are locked in (tenant, recipient) order, so claims cannot deadlock.
 *
 * Live dashboards.  A tenant whose config has the websocket channel gets
 * its notices through websocket rows (durable, in the history); any other
 * tenant gets the same body through store_live_in, on every node after the
 * commit.  One path per tenant, never both. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sla.h"
#include "notify/notify.h"
#include "store/store_int.h"
#include "store/store_notify.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/str.h"

int notify_config_get(struct store *base, const char *tenant_id,
                      struct sw_notify_config *out);              /* notify_config.c */
int notify_config_put(struct store *base, const struct sw_notify_config *cfg);

/* ---- statements ------------------------------------------------------------- */

static const char SQL_ADD_EVENT[] =
    "INSERT INTO outbox (tenant_id, channel, recipient, type, item_kind, item_id, event_id, "
    "  notice, idempotency_key, next_attempt_at, created_at, person) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) "
    "ON CONFLICT (event_id, channel, recipient) WHERE event_id IS NOT NULL DO NOTHING";

static const char SQL_ADD_NOTICE[] =
    "INSERT INTO outbox (tenant_id, channel, recipient, type, item_kind, item_id, event_id, "
    "  notice, idempotency_key, next_attempt_at, created_at, person) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, 0), ?8, ?9, ?10, ?10, ?11) "
    "ON CONFLICT (idempotency_key) DO NOTHING";

static const char SQL_TENANT_NAME[] = "SELECT name FROM tenants WHERE id = ?1";

#define ROW_COLS                                                                    \
    "id, tenant_id, channel, recipient, type, item_kind, item_id, "                 \
    "COALESCE(event_id, 0), idempotency_key, state, attempts, next_attempt_at, "     \
    "created_at, COALESCE(delivered_at, 0), COALESCE(digest_id, 0), "                \
    "COALESCE(last_error, ''), notice, person"

/* Lock and lease in one statement; the rows come back in no order. */
static const char SQL_CLAIM[] =
    "WITH due(due_id) AS MATERIALIZED ("
    "  SELECT id FROM outbox "
    "  WHERE channel = ?1 AND state = 'pending' AND next_attempt_at <= ?2 "
    "  ORDER BY next_attempt_at, id LIMIT ?3 {SKIP_LOCKED}) "
    "UPDATE outbox SET next_attempt_at = ?4 FROM due WHERE outbox.id = due.due_id "
    "RETURNING " ROW_COLS ", COALESCE((SELECT nc.webhook_secret FROM notification_config nc "
    "  WHERE nc.tenant_id = outbox.tenant_id), '')";

/* One first send counted in its recipient's window (a new window when the
 * last one closed); the row stays locked until the commit.  A person has
 * windows of their own (?6), even on the tenant's Slack. */
static const char SQL_FLOOD[] =
    "INSERT INTO notify_flood (tenant_id, channel, recipient, person, window_start, sent, "
    "  digest_id) "
    "VALUES (?1, ?2, ?3, ?6, ?4, 1, NULL) "
    "ON CONFLICT (tenant_id, channel, recipient, person) DO UPDATE SET "
    "  window_start = CASE WHEN notify_flood.window_start + ?5 <= ?4 THEN ?4 "
    "                      ELSE notify_flood.window_start END, "
    "  sent = CASE WHEN notify_flood.window_start + ?5 <= ?4 THEN 1 "
    "              ELSE notify_flood.sent + 1 END, "
    "  digest_id = CASE WHEN notify_flood.window_start + ?5 <= ?4 THEN NULL "
    "                   ELSE notify_flood.digest_id END "
    "RETURNING window_start, sent, COALESCE(digest_id, 0)";

static const char SQL_FLOOD_DIGEST[] =
    "UPDATE notify_flood SET digest_id = ?4 "
    "WHERE tenant_id = ?1 AND channel = ?2 AND recipient = ?3 AND person = ?5";

static const char SQL_DIGEST_ADD[] =
    "INSERT INTO outbox (tenant_id, channel, recipient, type, notice, idempotency_key, "
    "  next_attempt_at, created_at, person) "
    "VALUES (?1, ?2, ?3, '" NOTIFY_TYPE_DIGEST "', NULL, ?4, ?5, ?6, ?7) {RETURNING_ID}";

static const char SQL_FOLD[] =
    "UPDATE outbox SET state = 'digested', digest_id = ?2 WHERE id = ?1";

/* A digest being rendered takes no more rows: later ones start another. */
static const char SQL_DIGEST_DETACH[] =
    "UPDATE notify_flood SET digest_id = NULL "
    "WHERE tenant_id = ?1 AND channel = ?2 AND recipient = ?3 AND digest_id = ?4 "
    "AND person = ?5";
static const char SQL_DIGEST_COUNT[] = "SELECT count(*) FROM outbox WHERE digest_id = ?1";
static const char SQL_DIGEST_ITEMS[] =
    "SELECT notice FROM outbox WHERE digest_id = ?1 ORDER BY id LIMIT ?2";
static const char SQL_DIGEST_SET[] = "UPDATE outbox SET notice = ?2 WHERE id = ?1";

static const char SQL_STATE_LOCK[] =
    "SELECT state, type FROM outbox WHERE id = ?1 {FOR_UPDATE}";

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
    "SELECT " ROW_COLS " FROM outbox "
    "WHERE tenant_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3";

#define HISTORY_ATTEMPTS_MAX 200

static const char SQL_ATTEMPTS[] =
    "SELECT at, ok, status, COALESCE(error, ''), duration_ms FROM notification_attempts "
    "WHERE outbox_id = ?1 ORDER BY id LIMIT 200";

/* ---- small helpers ------------------------------------------------------------ */

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

void sw_outbox_row_release(struct sw_outbox_row *r)
{
    if (!r)
        return;
    free(r->notice);
    r->notice = NULL;
}

static enum sw_outbox_state state_parse(const char *s)
{
    static const enum sw_outbox_state all[] = {SW_OUTBOX_PENDING, SW_OUTBOX_DELIVERED,
                                               SW_OUTBOX_DEAD, SW_OUTBOX_DIGESTED};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (!strcmp(s, sw_outbox_state_name(all[i])))
            return all[i];
    return SW_OUTBOX_PENDING;
}

/* Fills r from a ROW_COLS row; the notice is copied (the caller frees it)
 * when copy_notice, else lent from the statement. */
static void row_read(struct db_stmt *st, struct sw_outbox_row *r, bool copy_notice)
{
    memset(r, 0, sizeof(*r));
    r->id = db_col_int64(st, 0);
    db_col_copy(st, 1, r->tenant_id, sizeof(r->tenant_id));
    enum notify_channel ch = NOTIFY_WEBSOCKET;
    notify_channel_parse(db_col_text(st, 2), &ch);
    r->channel = ch;
    db_col_copy(st, 3, r->recipient, sizeof(r->recipient));
    db_col_copy(st, 4, r->type, sizeof(r->type));
    db_col_copy(st, 5, r->item_kind, sizeof(r->item_kind));
    db_col_copy(st, 6, r->item_id, sizeof(r->item_id));
    r->event_id = db_col_int64(st, 7);
    db_col_copy(st, 8, r->key, sizeof(r->key));
    r->state = state_parse(db_col_text(st, 9));
    r->attempts = db_col_int(st, 10);
    r->next_attempt_at = db_col_int64(st, 11);
    r->created_at = db_col_int64(st, 12);
    r->delivered_at = db_col_int64(st, 13);
    r->digest_id = db_col_int64(st, 14);
    db_col_copy(st, 15, r->last_error, sizeof(r->last_error));
    if (db_col_null(st, 16))
        r->notice = NULL;
    else if (copy_notice)
        r->notice = xstrdup(db_col_text(st, 16));
    else
        r->notice = (char *)db_col_text(st, 16);
    db_col_copy(st, 17, r->person, sizeof(r->person));
}

/* Binds (tenant, channel, recipient) as ?1..?3. */
static void bind_dest(struct db_stmt *st, const struct sw_outbox_row *r)
{
    db_bind_text(st, 1, r->tenant_id);
    db_bind_text(st, 2, notify_channel_name(r->channel));
    db_bind_text(st, 3, r->recipient);
}

/* ---- notices --------------------------------------------------------------------- */

static bool threshold_notified(const struct sw_notify_config *cfg, int pct)
{
    for (size_t i = 0; i < cfg->nthresholds; i++)
        if (cfg->thresholds[i] == pct)
            return true;
    return false;
}

/* One row for person ("" = the tenant's channels); 1 when written, 0 when
 * it was there already, or SW_E_*.  A row without an event gets a key
 * hashed from the notice (written once however often it is enqueued),
 * unless fresh (its caller keeps "once" itself). */
static int outbox_add(struct db_conn *c, const struct sw_notice *n, int64_t event_id,
                      enum notify_channel ch, const char *rcpt, const char *person, bool fresh,
                      int64_t now)
{
    char key[NOTIFY_KEY_LEN + 1];
    if (event_id > 0 || fresh)
        notify_key_new(wall_ms(), key);
    else
        notify_key(n, 0, ch, rcpt, key);
    struct db_stmt *st;
    int rc = db_prep(c, event_id > 0 ? SQL_ADD_EVENT : SQL_ADD_NOTICE, &st);
    if (rc < 0)
        return rc;
    char *body = notify_body_row(n, key, ch);
    db_bind_text(st, 1, n->tenant_id);
    db_bind_text(st, 2, notify_channel_name(ch));
    db_bind_text(st, 3, rcpt);
    db_bind_text(st, 4, n->type);
    db_bind_text(st, 5, n->item_kind);
    db_bind_text(st, 6, n->item_id);
    db_bind_int64(st, 7, event_id > 0 ? event_id : 0);
    db_bind_text(st, 8, body);
    db_bind_text(st, 9, key);
    db_bind_int64(st, 10, now);
    db_bind_text(st, 11, person ? person : "");
    rc = db_exec(st);
    free(body);
    if (rc < 0)
        return rc;
    return db_changes(st) > 0 ? 1 : 0;
}

/* The dashboards' direct path: the body a websocket row would carry. */
static int live_add(struct db_conn *c, const struct sw_notice *n)
{
    char key[NOTIFY_KEY_LEN + 1];
    notify_key_new(wall_ms(), key);
    char *body = notify_body(n, key);
    int rc = store_live_in(c, n->tenant_id, body);  /* the url: added by the server's hook */
    if (rc == SW_E_TOOBIG) {        /* a dashboard line is not worth the event */
        log_warn("outbox: %s notice of %s/%s too large for live dashboards", n->type,
                 n->tenant_id, n->item_id);
        rc = 0;
    }
    free(body);
    return rc;
}

static int tenant_name_read(struct db_conn *c, const char *tenant_id, char *out, size_t cap)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TENANT_NAME, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    if ((rc = db_step_one(st)) == 1) {
        db_col_copy(st, 0, out, cap);
        db_reset(st);
    }
    return rc < 0 ? rc : 0;
}

/* The tenant's name into n (the store knows it; the callers need not). */
static int tenant_name_in(struct db_conn *c, struct sw_notice *n)
{
    if (n->tenant_name[0])
        return 0;
    return tenant_name_read(c, n->tenant_id, n->tenant_name, sizeof(n->tenant_name));
}

void notice_memo_clear(struct notice_memo *m)
{
    if (m->loaded)
        sodium_memzero(m->cfg.webhook_secret, sizeof(m->cfg.webhook_secret));
    m->loaded = false;
}

/* The name and config of n's tenant into m, unless there already. */
static int memo_load(struct db_conn *c, struct notice_memo *m, const struct sw_notice *n)
{
    if (m->loaded && !strcmp(m->tenant_id, n->tenant_id))
        return 0;
    notice_memo_clear(m);
    sw_scopy(m->tenant_name, sizeof(m->tenant_name), n->tenant_name);
    int rc = m->tenant_name[0]
                 ? 0
                 : tenant_name_read(c, n->tenant_id, m->tenant_name, sizeof(m->tenant_name));
    if (rc == 0)
        rc = store_notify_config_in(c, n->tenant_id, &m->cfg);
    if (rc < 0 && rc != SW_E_NOTFOUND) {
        sodium_memzero(m->cfg.webhook_secret, sizeof(m->cfg.webhook_secret));
        return rc;
    }
    m->cfg_rc = rc;
    sw_scopy(m->tenant_id, sizeof(m->tenant_id), n->tenant_id);
    m->loaded = true;
    return 0;
}

/* The rows that reach the engaged person: one per channel of its route
 * (people.c resolved it: addresses and receivers included); a pager row
 * also records its incident, so the item's acknowledgement or resolution
 * reaches PagerDuty with the same dedup_key. */
static int person_rows(struct db_conn *c, struct sw_notice *n, int64_t event_id, int64_t now)
{
    const struct sw_engaged *e = &n->engaged;
    int rows = 0, rc = 0;
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_NCHANNELS && rc >= 0; ch++) {
        if (!(e->via & (1u << ch)) || ch == NOTIFY_WEBHOOK)
            continue;
        const char *rcpt = ch == NOTIFY_EMAIL   ? e->email
                           : ch == NOTIFY_SLACK ? e->slack_url
                           : ch == NOTIFY_PAGER ? e->routing_key
                                                : e->voice_url;
        if (!*rcpt)
            continue;
        if (ch == NOTIFY_PAGER) {
            if (!n->dedup_key[0])
                notify_dedup_key(n->tenant_id, n->item_kind, n->item_id, e->level, n->dedup_key);
            snprintf(n->pager_action, sizeof(n->pager_action), "trigger");
            if ((rc = store_pager_trigger_in(c, n->tenant_id, n->item_kind, n->item_id,
                                             n->dedup_key, rcpt, e->user, now)) < 0)
                break;
        }
        rc = outbox_add(c, n, event_id, (enum notify_channel)ch, rcpt, e->user, false, now);
        rows += rc > 0 ? rc : 0;
    }
    return rc < 0 ? rc : rows;
}

/* The rows of one notice (and its live path when `live`): rows written.
 * A notice that engages a person reaches that person (person_rows) and
 * the tenant's machine channels (websocket, webhook), not its mailing
 * lists and Slack channel: the point of naming someone is that they, not
 * everyone, are told.  Any other notice goes to the tenant's channels. */
static int notice_write(struct db_conn *c, const struct sw_notice *n0, int64_t event_id,
                        bool live, struct notice_memo *memo)
{
    /* ~125 kB: not zeroed, only marked empty (the config is read into it) */
    struct notice_memo *own = memo ? NULL : xmalloc(sizeof(*own));
    if (own)
        own->loaded = false;
    struct notice_memo *m = memo ? memo : own;
    int rc = memo_load(c, m, n0);
    if (rc < 0) {
        free(own);
        return rc;
    }
    struct sw_notice *n = xmalloc(sizeof(*n));
    *n = *n0;
    if (!n->tenant_name[0])
        memcpy(n->tenant_name, m->tenant_name, sizeof(n->tenant_name));
    const struct sw_notify_config *cfg = &m->cfg;
    int rows = 0;
    bool have = m->cfg_rc == 0;
    bool person = n->engaged.user[0] != '\0';
    bool notified = have && !(strcmp(n->type, "sla.warning") == 0 &&
                              !threshold_notified(cfg, n->threshold_pct));
    int64_t now = wall_ms();
    if (person) {
        rc = person_rows(c, n, event_id, now);
        rows += rc > 0 ? rc : 0;
    }
    for (int ch = 0; notified && ch < NOTIFY_TENANT_CHANNELS && rc >= 0; ch++) {
        if (!(cfg->channels & (1u << ch)))
            continue;
        if (person && ch != NOTIFY_WEBSOCKET && ch != NOTIFY_WEBHOOK)
            continue;
        if (ch == NOTIFY_WEBSOCKET) {
            rc = outbox_add(c, n, event_id, NOTIFY_WEBSOCKET, n->tenant_id, "", false, now);
            rows += rc > 0 ? rc : 0;
            continue;
        }
        for (size_t i = 0; i < cfg->nrcpt[ch] && rc >= 0; i++) {
            rc = outbox_add(c, n, event_id, (enum notify_channel)ch, cfg->rcpt[ch][i], "", false,
                            now);
            rows += rc > 0 ? rc : 0;
        }
    }
    if (rc >= 0 && live && !(have && (cfg->channels & (1u << NOTIFY_WEBSOCKET))))
        rc = live_add(c, n);
    if (own) {
        notice_memo_clear(own);
        free(own);
    }
    free(n);
    return rc < 0 ? rc : rows;
}

int store_pager_row_in(struct db_conn *c, const struct sw_notice *n, const char *routing_key);

/* pager.c: an acknowledge or resolve event of an incident (its caller
 * writes each once, under the incident's row lock). */
int store_pager_row_in(struct db_conn *c, const struct sw_notice *n, const char *routing_key)
{
    struct sw_notice *k = xmalloc(sizeof(*k));
    *k = *n;
    int rc = tenant_name_in(c, k);
    if (rc == 0)
        rc = outbox_add(c, k, 0, NOTIFY_PAGER, routing_key, k->engaged.user, true, wall_ms());
    free(k);
    return rc;
}

int store_notice_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id)
{
    return notice_write(c, n, event_id, true, NULL);
}

int store_notice_memo_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id,
                         struct notice_memo *m)
{
    return notice_write(c, n, event_id, true, m);
}

struct enqueue_ctx {
    const struct sw_notice *n;
    int64_t event_id;
    int rows;
};

static int enqueue_tx(struct db_conn *c, void *ud)
{
    struct enqueue_ctx *x = ud;
    int rc = notice_write(c, x->n, x->event_id, false, NULL);
    x->rows = rc > 0 ? rc : 0;
    return rc < 0 ? rc : 0;
}

/* The rows only: a test notice never reaches the dashboards' direct path
 * (as before); the scheduler's notices go through store_notice_in. */
static int enqueue(struct store *base, const struct sw_notice *n, int64_t event_id, int *rows)
{
    struct enqueue_ctx x = {.n = n, .event_id = event_id};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, enqueue_tx, &x);
    if (rc == 0 && rows)
        *rows = x.rows;
    return rc;
}

int store_live_publish(struct store *s, const char *tenant_id, const char *body)
{
    if (s->notify != &sql_notify_ops) {     /* the legacy SQLite store: one node */
        if (s->live)
            s->live(s->live_ud, tenant_id, body, strlen(body));
        return 0;
    }
    struct db_conn *c = db_acquire(sql_of(s)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = store_live_in(c, tenant_id, body);
    db_release(c);
    return rc;
}

/* ---- claim, with flood control --------------------------------------------------- */

/* 1: r may go out now (counted in its window); 0: folded into the
 * window's digest (created with the first surplus row); or SW_E_*. */
static int flood_gate(struct db_conn *c, const struct sw_outbox_row *r,
                      const struct sw_flood *f, int64_t now)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_FLOOD, &st);
    if (rc < 0)
        return rc;
    bind_dest(st, r);
    db_bind_int64(st, 4, now);
    db_bind_int64(st, 5, f->window_ms);
    db_bind_text(st, 6, r->person);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_STORE;
    int64_t window_start = db_col_int64(st, 0);
    int64_t sent = db_col_int64(st, 1);
    int64_t digest_id = db_col_int64(st, 2);
    db_reset(st);
    if (sent <= f->max)
        return 1;
    if (!digest_id) {
        char key[NOTIFY_KEY_LEN + 1];
        notify_key_new(wall_ms(), key);
        if ((rc = db_prep(c, SQL_DIGEST_ADD, &st)) < 0)
            return rc;
        bind_dest(st, r);
        db_bind_text(st, 4, key);
        db_bind_int64(st, 5, window_start + f->window_ms);
        db_bind_int64(st, 6, now);
        db_bind_text(st, 7, r->person);
        if ((rc = db_insert_id(st, &digest_id)) < 0)
            return rc;
        if ((rc = db_prep(c, SQL_FLOOD_DIGEST, &st)) < 0)
            return rc;
        bind_dest(st, r);
        db_bind_int64(st, 4, digest_id);
        db_bind_text(st, 5, r->person);
        if ((rc = db_exec(st)) < 0)
            return rc;
    }
    if ((rc = db_prep(c, SQL_FOLD, &st)) < 0)
        return rc;
    db_bind_int64(st, 1, r->id);
    db_bind_int64(st, 2, digest_id);
    rc = db_exec(st);
    return rc < 0 ? rc : 0;
}

/* A digest's body, built on its first claim: {id, type, tenant_id,
 * channel, count, items (the first SW_DIGEST_ITEMS notices), occurred_at},
 * and for a person's digest whom it is for (engaged, and "to" on the
 * phone: the delivery mentions or calls them as their notices would). */
static int digest_render(struct db_conn *c, struct sw_outbox_row *r, int64_t now)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_DIGEST_DETACH, &st);
    if (rc < 0)
        return rc;
    bind_dest(st, r);
    db_bind_int64(st, 4, r->id);
    db_bind_text(st, 5, r->person);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_DIGEST_COUNT, &st)) < 0)
        return rc;
    db_bind_int64(st, 1, r->id);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_STORE;
    int64_t count = db_col_int64(st, 0);
    db_reset(st);
    if ((rc = db_prep(c, SQL_DIGEST_ITEMS, &st)) < 0)
        return rc;
    db_bind_int64(st, 1, r->id);
    db_bind_int64(st, 2, SW_DIGEST_ITEMS);
    json_t *items = json_array();
    while ((rc = db_step(st)) == DB_ROW) {
        json_t *v = db_col_null(st, 0) ? NULL : json_loads(db_col_text(st, 0), 0, NULL);
        json_array_append_new(items, v ? v : json_null());
    }
    db_reset(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    char at[SLA_TIME_BUFSZ];
    sla_time_format(now, at);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->key));
    json_object_set_new(o, "type", json_string(NOTIFY_TYPE_DIGEST));
    json_object_set_new(o, "tenant_id", json_string(r->tenant_id));
    json_object_set_new(o, "channel", json_string(notify_channel_name(r->channel)));
    json_object_set_new(o, "count", json_integer(count));
    json_t *first = json_array_get(items, 0);
    if (r->person[0] && json_is_object(first)) {
        json_object_set(o, "engaged", json_object_get(first, "engaged"));
        if (json_object_get(first, "to"))
            json_object_set(o, "to", json_object_get(first, "to"));
    }
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "occurred_at", json_string(at));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!body)
        abort();        /* jansson fails only when out of memory */
    if ((rc = db_prep(c, SQL_DIGEST_SET, &st)) < 0) {
        free(body);
        return rc;
    }
    db_bind_int64(st, 1, r->id);
    db_bind_text(st, 2, body);
    if ((rc = db_exec(st)) < 0) {
        free(body);
        return rc;
    }
    free(r->notice);
    r->notice = body;
    return 0;
}

struct claim_ctx {
    enum notify_channel ch;
    int64_t now, lease_ms;
    const struct sw_flood *flood;
    struct sw_outbox_row *out;
    size_t max, got;
};

static void claim_drop(struct claim_ctx *x)
{
    for (size_t i = 0; i < x->got; i++) {
        sodium_memzero(x->out[i].secret, sizeof(x->out[i].secret));
        sw_outbox_row_release(&x->out[i]);
    }
    x->got = 0;
}

static int by_id(const void *a, const void *b)
{
    const struct sw_outbox_row *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Window rows are locked in this order by every claim: no deadlock. */
struct dest_ref {
    const struct sw_outbox_row *r;
    size_t i;
};

static int by_dest(const void *a, const void *b)
{
    const struct sw_outbox_row *x = ((const struct dest_ref *)a)->r;
    const struct sw_outbox_row *y = ((const struct dest_ref *)b)->r;
    int d = strcmp(x->tenant_id, y->tenant_id);
    if (!d)
        d = strcmp(x->recipient, y->recipient);
    if (!d)
        d = strcmp(x->person, y->person);
    return d ? d : (x->id > y->id) - (x->id < y->id);
}

static int claim_tx(struct db_conn *c, void *ud)
{
    struct claim_ctx *x = ud;
    claim_drop(x);          /* a retried transaction starts afresh */
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CLAIM, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, notify_channel_name(x->ch));
    db_bind_int64(st, 2, x->now);
    db_bind_int64(st, 3, (int64_t)x->max);
    db_bind_int64(st, 4, x->now + x->lease_ms);
    while ((rc = db_step(st)) == DB_ROW) {
        if (x->got == x->max)       /* LIMIT ?3: never */
            continue;
        row_read(st, &x->out[x->got], true);
        db_col_copy(st, 18, x->out[x->got].secret, sizeof(x->out[0].secret));
        x->got++;
    }
    db_reset(st);
    if (rc < 0)
        return rc;
    qsort(x->out, x->got, sizeof(*x->out), by_id);

    const struct sw_flood *f = x->flood;
    /* not pager: PagerDuty groups by dedup_key itself, and an acknowledge
     * or resolve folded into a digest would never reach its incident */
    bool gate = f && f->max > 0 && f->window_ms > 0 && x->ch != NOTIFY_WEBSOCKET &&
                x->ch != NOTIFY_PAGER;
    struct dest_ref *order = xmalloc((x->got ? x->got : 1) * sizeof(*order));
    bool *folded = xcalloc(x->got ? x->got : 1, sizeof(*folded));
    for (size_t i = 0; i < x->got; i++)
        order[i] = (struct dest_ref){&x->out[i], i};
    if (gate)
        qsort(order, x->got, sizeof(*order), by_dest);
    rc = 0;
    for (size_t k = 0; k < x->got && rc >= 0; k++) {
        struct sw_outbox_row *r = &x->out[order[k].i];
        bool digest = !strcmp(r->type, NOTIFY_TYPE_DIGEST);
        if (digest && !r->notice)
            rc = digest_render(c, r, x->now);
        else if (gate && !digest && r->attempts == 0 && (rc = flood_gate(c, r, f, x->now)) == 0)
            folded[order[k].i] = true;
    }
    if (rc >= 0) {          /* folded rows are not the caller's to send */
        size_t kept = 0;
        for (size_t i = 0; i < x->got; i++) {
            if (folded[i]) {
                sodium_memzero(x->out[i].secret, sizeof(x->out[i].secret));
                sw_outbox_row_release(&x->out[i]);
                continue;
            }
            if (kept != i) {
                x->out[kept] = x->out[i];
                x->out[i].notice = NULL;    /* moved: one owner per notice */
                sodium_memzero(x->out[i].secret, sizeof(x->out[i].secret));
            }
            kept++;
        }
        x->got = kept;
        rc = 0;
    }
    free(order);
    free(folded);
    return rc;
}

static int claim(struct store *base, enum notify_channel ch, int64_t now, int64_t lease_ms,
                 const struct sw_flood *flood, struct sw_outbox_row *out, size_t max,
                 size_t *n)
{
    struct claim_ctx x = {
        .ch = ch, .now = now, .lease_ms = lease_ms, .flood = flood, .out = out, .max = max,
    };
    *n = 0;
    if (max == 0)
        return 0;
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, claim_tx, &x);
    if (rc < 0) {
        claim_drop(&x);
        return rc;
    }
    *n = x.got;
    return 0;
}

/* ---- record, release, next_due ------------------------------------------------------ */

struct record_ctx {
    int64_t id;
    const struct sw_notify_attempt *a;
    enum sw_outbox_outcome outcome;
    int64_t next_attempt_at;
};

static int record_tx(struct db_conn *c, void *ud)
{
    struct record_ctx *x = ud;
    const struct sw_notify_attempt *a = x->a;
    struct db_stmt *st;
    /* locked: of two nodes finishing the same row (a lease ran out), the
     * second sees it delivered and writes nothing */
    int rc = db_prep(c, SQL_STATE_LOCK, &st);
    if (rc < 0)
        return rc;
    db_bind_int64(st, 1, x->id);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    bool pending = !strcmp(db_col_text(st, 0), "pending");
    bool digest = !strcmp(db_col_text(st, 1), NOTIFY_TYPE_DIGEST);
    db_reset(st);
    if (!pending)
        return SW_E_CONFLICT;

    if ((rc = db_prep(c, SQL_ATTEMPT_ADD, &st)) < 0)
        return rc;
    db_bind_int64(st, 1, x->id);
    db_bind_int64(st, 2, a->at);
    db_bind_int64(st, 3, a->ok ? 1 : 0);
    db_bind_int64(st, 4, a->status);
    db_bind_text(st, 5, a->error);
    db_bind_int64(st, 6, a->duration_ms);
    if ((rc = db_exec(st)) < 0)
        return rc;

    const char *state = x->outcome == SW_OUTCOME_DELIVERED ? "delivered"
                        : x->outcome == SW_OUTCOME_DEAD    ? "dead"
                                                           : "pending";
    int64_t done_at = a->at + a->duration_ms;
    if ((rc = db_prep(c, SQL_OUTCOME, &st)) < 0)
        return rc;
    db_bind_int64(st, 1, x->id);
    db_bind_text(st, 2, state);
    db_bind_int64(st, 3, x->outcome == SW_OUTCOME_RETRY ? x->next_attempt_at : done_at);
    db_bind_int64(st, 4, x->outcome == SW_OUTCOME_DELIVERED ? done_at : 0);
    db_bind_text(st, 5, a->ok ? "" : a->error);
    if ((rc = db_exec(st)) < 0)
        return rc;

    if (x->outcome == SW_OUTCOME_DELIVERED && digest) {     /* the rows it carried */
        if ((rc = db_prep(c, SQL_DIGEST_DONE, &st)) < 0)
            return rc;
        db_bind_int64(st, 1, x->id);
        db_bind_int64(st, 2, done_at);
        if ((rc = db_exec(st)) < 0)
            return rc;
    }
    return 0;
}

static int record(struct store *base, int64_t outbox_id, const struct sw_notify_attempt *a,
                  enum sw_outbox_outcome outcome, int64_t next_attempt_at)
{
    struct record_ctx x = {
        .id = outbox_id, .a = a, .outcome = outcome, .next_attempt_at = next_attempt_at,
    };
    return db_tx(sql_of(base)->db, DB_TX_WRITE, record_tx, &x);
}

struct release_ctx {
    const int64_t *ids, *ats;
    size_t n;
};

static int release_tx(struct db_conn *c, void *ud)
{
    struct release_ctx *x = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_RELEASE, &st);
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        db_bind_int64(st, 1, x->ids[i]);
        db_bind_int64(st, 2, x->ats[i]);
        rc = db_exec(st);
    }
    return rc;
}

static int release(struct store *base, const int64_t *ids, const int64_t *ats, size_t n)
{
    struct release_ctx x = {.ids = ids, .ats = ats, .n = n};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, release_tx, &x);
}

static int next_due(struct store *base, enum notify_channel ch, int64_t *at)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_NEXT_DUE, &st);
    if (rc == 0) {
        db_bind_text(st, 1, notify_channel_name(ch));
        rc = db_step_one(st);
        if (rc == 1) {
            *at = db_col_int64(st, 0);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_NOTFOUND;
        }
    }
    db_release(c);
    return rc;
}

/* ---- history ---------------------------------------------------------------------- */

/* A row's attempts, oldest first, into att (at most HISTORY_ATTEMPTS_MAX). */
static int attempts_read(struct db_conn *c, int64_t outbox_id, struct sw_notify_attempt *att,
                         size_t *n)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ATTEMPTS, &st);
    if (rc < 0)
        return rc;
    db_bind_int64(st, 1, outbox_id);
    *n = 0;
    while ((rc = db_step(st)) == DB_ROW && *n < HISTORY_ATTEMPTS_MAX) {
        struct sw_notify_attempt *a = &att[(*n)++];
        a->at = db_col_int64(st, 0);
        a->ok = db_col_int64(st, 1) != 0;
        a->status = db_col_int(st, 2);
        db_col_copy(st, 3, a->error, sizeof(a->error));
        a->duration_ms = db_col_int64(st, 4);
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

/* One read transaction (a row and its attempts as of the same commit),
 * not db_tx: a retried read would call cb twice for the same rows. */
static int history(struct store *base, const char *tenant_id, int64_t before_id, int limit,
                   store_outbox_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = db_begin(c, DB_TX_READ);
    if (rc < 0) {
        db_release(c);
        return rc;
    }
    struct sw_notify_attempt *att = xcalloc(HISTORY_ATTEMPTS_MAX, sizeof(*att));
    struct sw_outbox_row *r = xmalloc(sizeof(*r));
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_HISTORY, &st)) == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_int64(st, 2, before_id);
        db_bind_int64(st, 3, limit);
        while ((rc = db_step(st)) == DB_ROW) {
            row_read(st, r, false);
            size_t na = 0;
            if ((rc = attempts_read(c, r->id, att, &na)) < 0)
                break;
            if (cb(r, att, na, ud))
                break;
        }
        db_reset(st);
    }
    if (rc < 0)
        db_rollback(c);
    else
        rc = db_commit(c);
    db_release(c);
    free(att);
    free(r);
    return rc < 0 ? rc : 0;
}

const struct store_notify_ops sql_notify_ops = {
    .config_get = notify_config_get,
    .config_put = notify_config_put,
    .enqueue = enqueue,
    .claim = claim,
    .record = record,
    .release = release,
    .next_due = next_due,
    .history = history,
};
