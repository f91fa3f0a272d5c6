/* sqlite_alerts_due.c: the alerts' due instants and escalation chains on
 * SQLite (store_escalation.h).
 *
 * The scheduler's alert source.  next_due reads the smallest of two partial
 * indexes (alerts_next_check, alerts_esc_due): two index seeks, nothing
 * else, so an idle scheduler costs nothing.  process_due claims up to
 * `limit` alerts due at now in one write transaction (BEGIN IMMEDIATE: on
 * one node the write lock is the claim; PostgreSQL will use FOR UPDATE SKIP
 * LOCKED), and for each asks the core:
 *
 *   - sla_warnings_crossed / sla_breach_due for the ack and resolve clocks
 *     (threshold: the alert's resolved warn_pct, as sqlite_alerts.c's next
 *     check).  A warning crossed in the same look as its clock's breach is
 *     marked fired without a notice: the breach supersedes it;
 *   - the escalation chain (sla_esc_auto_step): the first step fires with
 *     the ack breach, each next one when the previous step's timeout passed
 *     unacknowledged, anchored on the instant the previous step was due;
 *
 * then writes each event (events), its outbox rows (sq_outbox_enqueue), a
 * breach row, an escalation_events row, the fired flags, the level and both
 * next instants, and commits once.  After the commit the notices of
 * tenants without a websocket channel go to store->live (the dashboards'
 * direct path, see store_escalation.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/sqlite_alerts_int.h"
#include "store/store_escalation.h"
#include "util/log.h"
#include "util/xalloc.h"

#define NEVER_SQL "9223372036854775807"

/* ---- statements ---------------------------------------------------------- */

static const char SQL_NEXT_CHECK_MIN[] =
    "SELECT next_check_at FROM alerts WHERE next_check_at IS NOT NULL "
    "ORDER BY next_check_at LIMIT 1";
static const char SQL_ESC_DUE_MIN[] =
    "SELECT esc_due_at FROM alerts WHERE esc_due_at IS NOT NULL ORDER BY esc_due_at LIMIT 1";
static const char SQL_CLAIM_CHECK[] =
    "SELECT tenant_id, id FROM alerts WHERE next_check_at IS NOT NULL AND next_check_at <= ?1 "
    "ORDER BY next_check_at LIMIT ?2";
static const char SQL_CLAIM_ESC[] =
    "SELECT tenant_id, id FROM alerts WHERE esc_due_at IS NOT NULL AND esc_due_at <= ?1 "
    "ORDER BY esc_due_at LIMIT ?2";
static const char SQL_ESC_COLS[] =
    "SELECT escalated_at, esc_severity, COALESCE(esc_due_at, " NEVER_SQL ") FROM alerts "
    "WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ESC_SET[] =
    "UPDATE alerts SET escalated_at = ?3, esc_severity = ?4, esc_due_at = NULLIF(?5, "
    NEVER_SQL ") WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ESC_DUE_SET[] =
    "UPDATE alerts SET esc_due_at = NULLIF(?3, " NEVER_SQL ") "
    "WHERE tenant_id = ?1 AND id = ?2 AND esc_due_at IS NOT NULLIF(?3, " NEVER_SQL ")";
static const char SQL_BREACH_ADD[] =
    "INSERT INTO breaches (tenant_id, item_kind, item_id, clock, due_at, breached_at, severity) "
    "VALUES (?1, 'alert', ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (tenant_id, item_kind, item_id, clock, due_at) DO NOTHING";
static const char SQL_ESC_EVENT_ADD[] =
    "INSERT INTO escalation_events (tenant_id, alert_id, severity, level_index, level, role, "
    "method, at, due_at, trigger, actor, event_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char SQL_WS_CONFIGURED[] =
    "SELECT 1 FROM notification_config AS nc, json_each(nc.channels) AS j "
    "WHERE nc.tenant_id = ?1 AND j.value = 'websocket'";
static const char SQL_TENANT_EXISTS[] = "SELECT 1 FROM tenants WHERE id = ?1";
static const char SQL_CHAIN_HEAD[] =
    "SELECT updated_at, updated_by FROM escalation_chains WHERE tenant_id = ?1 AND severity = ?2";
static const char SQL_CHAIN_STEPS[] =
    "SELECT level, role, timeout_min, method FROM escalation_steps "
    "WHERE tenant_id = ?1 AND severity = ?2 ORDER BY idx";
static const char SQL_CHAIN_LIST[] =
    "SELECT severity FROM escalation_chains WHERE tenant_id = ?1 "
    "ORDER BY CASE severity WHEN 'critical' THEN 1 WHEN 'high' THEN 2 WHEN 'medium' THEN 3 "
    "ELSE 4 END";
static const char SQL_CHAIN_UPSERT[] =
    "INSERT INTO escalation_chains (tenant_id, severity, updated_at, updated_by) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant_id, severity) DO UPDATE SET "
    "updated_at = excluded.updated_at, updated_by = excluded.updated_by";
static const char SQL_STEPS_DELETE[] =
    "DELETE FROM escalation_steps WHERE tenant_id = ?1 AND severity = ?2";
static const char SQL_STEP_ADD[] =
    "INSERT INTO escalation_steps (tenant_id, severity, idx, level, role, timeout_min, method) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* Alerts walking the chain just saved, unacknowledged and not resolved:
 * the next step is step `level`, due at escalated_at + step level-1's
 * timeout (NULL when the new chain has no step `level`). */
static const char SQL_CHAIN_RESCHEDULE[] =
    "UPDATE alerts SET esc_due_at = CASE WHEN escalation_level < ?3 THEN escalated_at + "
    "  (SELECT s.timeout_min * 60000 FROM escalation_steps s WHERE s.tenant_id = ?1 "
    "   AND s.severity = ?2 AND s.idx = alerts.escalation_level - 1) ELSE NULL END "
    "WHERE tenant_id = ?1 AND esc_severity = ?2 AND escalation_level > 0 "
    "AND state <> 'resolved' AND ack_stopped_at = 0";
static const char SQL_ESC_EVENTS[] =
    "SELECT id, alert_id, severity, level_index, level, role, method, at, due_at, trigger, "
    "actor FROM escalation_events WHERE tenant_id = ?1 AND (?2 IS NULL OR alert_id = ?2) "
    "AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4";
static const char SQL_ESC_FIRED[] =
    "SELECT level_index, max(at), trigger FROM escalation_events "
    "WHERE tenant_id = ?1 AND alert_id = ?2 GROUP BY level_index";

/* ---- small helpers ---------------------------------------------------------- */

static int64_t col_i64(struct sqlite_store *s, struct conn *c, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, sql);
    if (!st)
        return SW_E_STORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        *out = SLA_NEVER;
        rc = 0;
    } else {
        rc = sq_fail(s, c, "alerts_next_due");
    }
    sq_done(st);
    return rc;
}

static int step_exec(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st)
{
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* The escalation columns of one alert. */
struct esc_cols {
    int64_t escalated_at;
    char sev[16];               /* "" = not walking a chain */
    int64_t due_at;             /* SLA_NEVER = none */
};

static int esc_cols_get(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                        const char *id, struct esc_cols *out)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ESC_COLS);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, id);
    int rc = sqlite3_step(st);
    memset(out, 0, sizeof(*out));
    if (rc == SQLITE_ROW) {
        out->escalated_at = sqlite3_column_int64(st, 0);
        sq_copy_text(out->sev, sizeof(out->sev), st, 1);
        out->due_at = sqlite3_column_int64(st, 2);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "esc_cols");
    }
    sq_done(st);
    return rc;
}

static int esc_cols_set(struct sqlite_store *s, struct conn *c, const struct sw_alert *x,
                        const struct esc_cols *e)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ESC_SET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, x->tenant_id);
    SQ_TEXT(st, 2, x->id);
    sqlite3_bind_int64(st, 3, e->escalated_at);
    SQ_TEXT(st, 4, e->sev);
    sqlite3_bind_int64(st, 5, e->due_at);
    return step_exec(s, c, st);
}

/* 1 when the chain exists (out filled), 0 when not, < 0 on error. */
static int chain_load(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                      enum sla_sev sev, struct sw_esc_chain *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", tenant_id);
    out->sev = sev;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_CHAIN_HEAD);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, sla_sev_name(sev));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->updated_at = sqlite3_column_int64(st, 0);
        sq_copy_text(out->updated_by, sizeof(out->updated_by), st, 1);
    }
    sq_done(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return sq_fail(s, c, "chain_head");
    if (!(st = sq_stmt(s, c, SQL_CHAIN_STEPS)))
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, sla_sev_name(sev));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < SLA_ESC_STEPS_MAX) {
        struct sw_esc_step *p = &out->step[out->n++];
        sla_esc_level_parse((const char *)sqlite3_column_text(st, 0), &p->level);
        sq_copy_text(p->role, sizeof(p->role), st, 1);
        p->timeout_min = sqlite3_column_int(st, 2);
        sla_esc_method_parse((const char *)sqlite3_column_text(st, 3), &p->method);
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "chain_steps");
    sq_done(st);
    return rc < 0 ? rc : out->n > 0;
}

static enum sla_sev sev_of(const char *name, enum sla_sev dflt)
{
    enum sla_sev v;
    return name && *name && sla_sev_parse(SLA_ALERT, name, &v) == 0 ? v : dflt;
}

/* ---- one round's context --------------------------------------------------- */

struct live_msg {
    char tenant_id[SW_ID_MAX + 1];
    char *text;
};

#define WS_CACHE 32
#define CHAIN_CACHE 8

struct round {
    struct store *base;
    struct sqlite_store *s;
    struct conn *c;
    int64_t now;
    /* tenants whose config has the websocket channel (the outbox delivers) */
    struct {
        char tenant_id[SW_ID_MAX + 1];
        bool ws;
    } wsc[WS_CACHE];
    size_t nwsc;
    /* chains read in this transaction */
    struct {
        int found;
        struct sw_esc_chain chain;
    } cc[CHAIN_CACHE];
    size_t ncc, next_cc;
    /* notices for store->live after the commit */
    struct live_msg *live;
    size_t nlive, caplive;
};

static int tenant_has_ws(struct round *r, const char *tenant_id, bool *out)
{
    for (size_t i = 0; i < r->nwsc; i++)
        if (!strcmp(r->wsc[i].tenant_id, tenant_id)) {
            *out = r->wsc[i].ws;
            return 0;
        }
    sqlite3_stmt *st = sq_stmt(r->s, r->c, SQL_WS_CONFIGURED);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    sq_done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sq_fail(r->s, r->c, "ws_configured");
    *out = rc == SQLITE_ROW;
    if (r->nwsc < WS_CACHE) {
        snprintf(r->wsc[r->nwsc].tenant_id, sizeof(r->wsc[0].tenant_id), "%s", tenant_id);
        r->wsc[r->nwsc++].ws = *out;
    }
    return 0;
}

static int chain_get(struct round *r, const char *tenant_id, enum sla_sev sev,
                     const struct sw_esc_chain **out)
{
    for (size_t i = 0; i < r->ncc; i++)
        if (r->cc[i].chain.sev == sev && !strcmp(r->cc[i].chain.tenant_id, tenant_id)) {
            *out = &r->cc[i].chain;
            return r->cc[i].found;
        }
    size_t k = r->ncc < CHAIN_CACHE ? r->ncc++ : (r->next_cc++ % CHAIN_CACHE);
    int rc = chain_load(r->s, r->c, tenant_id, sev, &r->cc[k].chain);
    if (rc < 0) {
        if (k == r->ncc - 1)
            r->ncc--;
        return rc;
    }
    r->cc[k].found = rc;
    *out = &r->cc[k].chain;
    return rc;
}

static void round_free(struct round *r)
{
    for (size_t i = 0; i < r->nlive; i++)
        free(r->live[i].text);
    free(r->live);
    r->live = NULL;
    r->nlive = r->caplive = 0;
}

/* After the commit: the dashboards' direct path. */
static void round_publish(struct round *r)
{
    struct store *base = r->base;
    for (size_t i = 0; i < r->nlive; i++)
        if (base->live)
            base->live(base->live_ud, r->live[i].tenant_id, r->live[i].text,
                       strlen(r->live[i].text));
}

/* An SLA notice: its event, its outbox rows, and (tenant without a
 * websocket channel) its body for the dashboards after the commit. */
static int notice_write(struct round *r, const struct sw_alert *x, const struct sw_notice *n,
                        const char *actor, const char *data, int64_t *event_id)
{
    int64_t eid = 0;
    int rc = sq_alert_event_add(r->s, r->c, x, n->type, actor, r->now, data, &eid);
    if (rc < 0)
        return rc;
    if (event_id)
        *event_id = eid;
    rc = sq_outbox_enqueue(r->s, r->c, n, eid);
    if (rc < 0)
        return rc;
    bool ws = false;
    if ((rc = tenant_has_ws(r, x->tenant_id, &ws)) < 0)
        return rc;
    if (ws)
        return 0;
    char key[NOTIFY_KEY_LEN + 1];
    notify_key(n, eid, NOTIFY_WEBSOCKET, n->tenant_id, key);
    if (r->nlive == r->caplive) {
        r->caplive = r->caplive ? r->caplive * 2 : 16;
        r->live = xrealloc(r->live, r->caplive * sizeof(*r->live));
    }
    struct live_msg *m = &r->live[r->nlive++];
    snprintf(m->tenant_id, sizeof(m->tenant_id), "%s", x->tenant_id);
    m->text = notify_body(n, key);
    return 0;
}

static void notice_init(struct sw_notice *n, const struct sw_alert *x, const char *type,
                        const char *clock, int64_t due_at, int64_t now)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->tenant_id, sizeof(n->tenant_id), "%s", x->tenant_id);
    snprintf(n->type, sizeof(n->type), "%s", type);
    snprintf(n->item_kind, sizeof(n->item_kind), "alert");
    snprintf(n->item_id, sizeof(n->item_id), "%s", x->id);
    snprintf(n->severity, sizeof(n->severity), "%s", sla_sev_name(x->a.sev));
    snprintf(n->clock, sizeof(n->clock), "%s", clock);
    n->due_at = due_at;
    n->occurred_at = now;
}

static int breach_row(struct round *r, const struct sw_alert *x, const char *clock,
                      int64_t due_at)
{
    sqlite3_stmt *st = sq_stmt(r->s, r->c, SQL_BREACH_ADD);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, x->tenant_id);
    SQ_TEXT(st, 2, x->id);
    SQ_TEXT(st, 3, clock);
    sqlite3_bind_int64(st, 4, due_at);
    sqlite3_bind_int64(st, 5, r->now);
    SQ_TEXT(st, 6, sla_sev_name(x->a.sev));
    return step_exec(r->s, r->c, st);
}

/* Warnings and breach of one clock.  *breached_now: its breach fired here. */
static int clock_look(struct round *r, struct sw_alert *x, const char *name,
                      const struct sla_clock *k, struct sla_alarm *al, bool *breached_now)
{
    uint8_t th[1];
    size_t nth = 0;
    if (x->a.targets.warn_pct > 0 && x->a.targets.warn_pct <= 100)
        th[nth++] = (uint8_t)x->a.targets.warn_pct;
    uint32_t crossed = sla_warnings_crossed(k, th, nth, al->fired, r->now);
    bool breach = sla_breach_due(k, al->breach_fired, r->now);
    int64_t due = sla_clock_due(k, r->now);
    char when[SLA_TIME_BUFSZ], data[256];
    sla_time_format(due, when);
    struct sw_notice n;
    int rc = 0;
    *breached_now = false;
    if (crossed) {
        al->fired |= crossed;
        if (!breach) {      /* a breach in the same look supersedes its warning */
            for (size_t i = 0; i < nth && rc == 0; i++) {
                if (!(crossed & (1u << i)))
                    continue;
                notice_init(&n, x, "sla.warning", name, due, r->now);
                n.threshold_pct = th[i];
                snprintf(data, sizeof(data),
                         "{\"clock\":\"%s\",\"threshold_pct\":%d,\"due_at\":\"%s\"}", name,
                         th[i], when);
                rc = notice_write(r, x, &n, "scheduler", data, NULL);
            }
        }
    }
    if (rc == 0 && breach) {
        al->breach_fired = true;
        int64_t over = sla_clock_overage(k, r->now);
        notice_init(&n, x, "sla.breach", name, due, r->now);
        snprintf(data, sizeof(data), "{\"clock\":\"%s\",\"due_at\":\"%s\",\"overage_ms\":%lld}",
                 name, when, (long long)over);
        rc = notice_write(r, x, &n, "scheduler", data, NULL);
        if (rc == 0)
            rc = breach_row(r, x, name, due);
        *breached_now = rc == 0;
    }
    return rc;
}

/* One fired step: the event (+ outbox, + live) and the audit row. */
static int step_fired(struct round *r, const struct sw_alert *x, enum sla_sev chain_sev,
                      const struct sw_esc_step *step, int level_index, int64_t due_at,
                      bool manual, const char *actor, int64_t *event_id)
{
    struct sw_notice n;
    notice_init(&n, x, "sla.escalation", "ack", sla_clock_due(&x->a.ack, r->now), r->now);
    n.escalation_level = level_index;
    snprintf(n.escalation_target, sizeof(n.escalation_target), "%s", step->role);
    char when[SLA_TIME_BUFSZ];
    sla_time_format(due_at, when);
    json_t *d = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "level",
                          sla_esc_level_name(step->level), "level_index", level_index, "role",
                          step->role, "method", sla_esc_method_name(step->method), "trigger",
                          manual ? "manual" : "auto", "severity", sla_sev_name(chain_sev),
                          "due_at", when);
    char *data = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int64_t eid = 0;
    int rc = notice_write(r, x, &n, actor, data, &eid);
    free(data);
    if (rc < 0)
        return rc;
    if (event_id)
        *event_id = eid;
    sqlite3_stmt *st = sq_stmt(r->s, r->c, SQL_ESC_EVENT_ADD);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, x->tenant_id);
    SQ_TEXT(st, 2, x->id);
    SQ_TEXT(st, 3, sla_sev_name(chain_sev));
    sqlite3_bind_int(st, 4, level_index);
    SQ_TEXT(st, 5, sla_esc_level_name(step->level));
    SQ_TEXT(st, 6, step->role);
    SQ_TEXT(st, 7, sla_esc_method_name(step->method));
    sqlite3_bind_int64(st, 8, r->now);
    sqlite3_bind_int64(st, 9, due_at);
    SQ_TEXT(st, 10, manual ? "manual" : "auto");
    SQ_TEXT(st, 11, actor ? actor : "");
    sqlite3_bind_int64(st, 12, eid);
    return step_exec(r->s, r->c, st);
}

/* ---- the scheduler's alert source ------------------------------------------ */

static int sq_alerts_next_due(struct store *base, int64_t now, int64_t *at)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int64_t a = SLA_NEVER, b = SLA_NEVER;
    int rc = col_i64(s, c, SQL_NEXT_CHECK_MIN, &a);
    if (rc == 0)
        rc = col_i64(s, c, SQL_ESC_DUE_MIN, &b);
    sq_release(s, c);
    if (rc == 0)
        *at = a < b ? a : b;
    return rc;
}

struct key {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
};

static int claim(struct round *r, const char *sql, int limit, struct key *keys, size_t *n)
{
    sqlite3_stmt *st = sq_stmt(r->s, r->c, sql);
    if (!st)
        return SW_E_STORE;
    sqlite3_bind_int64(st, 1, r->now);
    sqlite3_bind_int(st, 2, limit);
    size_t first = *n;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < (size_t)limit) {
        struct key k;
        sq_copy_text(k.tenant_id, sizeof(k.tenant_id), st, 0);
        sq_copy_text(k.id, sizeof(k.id), st, 1);
        bool dup = false;
        for (size_t i = 0; i < first && !dup; i++)
            dup = !strcmp(keys[i].id, k.id) && !strcmp(keys[i].tenant_id, k.tenant_id);
        if (!dup)
            keys[(*n)++] = k;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(r->s, r->c, "claim");
    sq_done(st);
    return rc;
}

/* Everything due on one alert. */
static int process_one(struct round *r, const struct key *k, struct sw_alert *x)
{
    int rc = sq_alert_get_in(r->s, r->c, k->tenant_id, k->id, x);
    if (rc < 0)
        return rc == SW_E_NOTFOUND ? 0 : rc;
    struct esc_cols e;
    if ((rc = esc_cols_get(r->s, r->c, k->tenant_id, k->id, &e)) < 0)
        return rc;
    bool ack_breached = false, res_breached = false;
    rc = clock_look(r, x, "ack", &x->a.ack, &x->a.ack_alarm, &ack_breached);
    if (rc == 0)
        rc = clock_look(r, x, "resolve", &x->a.resolve, &x->a.resolve_alarm, &res_breached);
    if (rc < 0)
        return rc;

    /* escalation: the first step only with the ack breach, the next ones
     * on their own instants; the chain walked is fixed at the first step */
    enum sla_sev csev = x->escalation_level > 0 ? sev_of(e.sev, x->a.sev) : x->a.sev;
    const struct sw_esc_chain *ch = NULL;
    struct sla_esc_step core[SLA_ESC_STEPS_MAX];
    size_t n = 0;
    if (x->escalation_level > 0 || ack_breached) {
        if ((rc = chain_get(r, x->tenant_id, csev, &ch)) < 0)
            return rc;
        if (rc > 0) {
            sw_esc_chain_core(ch, core);
            n = ch->n;
        }
    }
    struct sla_esc_state es = {x->escalation_level, e.escalated_at};
    size_t fired;
    sla_ms due;
    while (n && sla_esc_auto_step(core, n, &es, &x->a.ack, r->now, &fired, &due) == 1) {
        if ((rc = step_fired(r, x, csev, &ch->step[fired], es.level, due, false, "scheduler",
                             NULL)) < 0)
            return rc;
        snprintf(e.sev, sizeof(e.sev), "%s", sla_sev_name(csev));
    }
    x->escalation_level = es.level;
    e.escalated_at = es.escalated_at;
    e.due_at = es.level > 0 && n ? sla_esc_next_at(core, n, &es, &x->a.ack, r->now) : SLA_NEVER;
    if (e.due_at <= r->now)     /* cannot happen; never spin on it */
        e.due_at = r->now + 1000;

    x->updated_at = r->now;
    x->next_check_at = sq_alert_next_check(&x->a, r->now);
    if (x->next_check_at <= r->now) {
        log_warn("scheduler: alert %s/%s: next check %lld not after now: looking again in 1 s",
                 x->tenant_id, x->id, (long long)x->next_check_at);
        x->next_check_at = r->now + 1000;
    }
    if ((rc = sq_alert_save(r->s, r->c, x)) < 0)
        return rc;
    return esc_cols_set(r->s, r->c, x, &e);
}

static int sq_alerts_process_due(struct store *base, int64_t now, int limit, int *processed)
{
    struct sqlite_store *s = sq_of(base);
    *processed = 0;
    if (limit <= 0)
        return 0;
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct round *r = xcalloc(1, sizeof(*r));
    r->base = base;
    r->s = s;
    r->c = c;
    r->now = now;
    struct key *keys = xmalloc((size_t)limit * sizeof(*keys));
    struct sw_alert *x = xmalloc(sizeof(*x));
    size_t n = 0;
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = claim(r, SQL_CLAIM_CHECK, limit, keys, &n);
    if (rc == 0 && n < (size_t)limit)
        rc = claim(r, SQL_CLAIM_ESC, limit, keys, &n);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = process_one(r, &keys[i], x);
    if (rc == 0 && n == 0) {
        sq_rollback(s, c);          /* nothing due: nothing to commit */
    } else if (rc == 0) {
        rc = sq_commit(s, c);
    } else {
        sq_rollback(s, c);
    }
    if (rc == 0) {
        round_publish(r);
        *processed = (int)n;
    }
    round_free(r);
    free(x);
    free(keys);
    free(r);
    sq_release(s, c);
    return rc;
}

/* ---- after a lifecycle change (sqlite_alerts.c) ----------------------------- */

int sq_alert_escalation_sync(struct sqlite_store *s, struct conn *c, const struct sw_alert *x,
                             int64_t now, int64_t *esc_at)
{
    *esc_at = SLA_NEVER;
    if (x->escalation_level <= 0)
        return 0;       /* the first step rides on the ack breach (next_check_at) */
    struct esc_cols e;
    int rc = esc_cols_get(s, c, x->tenant_id, x->id, &e);
    if (rc < 0)
        return rc;
    struct sw_esc_chain *ch = xmalloc(sizeof(*ch));
    rc = chain_load(s, c, x->tenant_id, sev_of(e.sev, x->a.sev), ch);
    int64_t next = SLA_NEVER;
    if (rc > 0) {
        struct sla_esc_step core[SLA_ESC_STEPS_MAX];
        sw_esc_chain_core(ch, core);
        struct sla_esc_state es = {x->escalation_level, e.escalated_at};
        next = sla_esc_next_at(core, ch->n, &es, &x->a.ack, now);
    }
    free(ch);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_ESC_DUE_SET);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, x->tenant_id);
    SQ_TEXT(st, 2, x->id);
    sqlite3_bind_int64(st, 3, next);
    rc = step_exec(s, c, st);
    if (rc == 0)
        *esc_at = next;
    return rc;
}

/* ---- chains ------------------------------------------------------------------ */

static int tenant_exists(struct sqlite_store *s, struct conn *c, const char *tenant_id)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_TENANT_EXISTS);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    sq_done(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? SW_E_NOTFOUND : sq_fail(s, c, "tenant_exists");
}

static int sq_chain_list(struct store *base, const char *tenant_id, store_esc_chain_cb cb,
                         void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = tenant_exists(s, c, tenant_id);
    enum sla_sev sevs[SLA_SEV_COUNT];
    size_t nsev = 0;
    if (rc == 0) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_CHAIN_LIST);
        if (!st) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, tenant_id);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW && nsev < SLA_SEV_COUNT)
                sevs[nsev++] = sev_of((const char *)sqlite3_column_text(st, 0), SLA_SEV_LOW);
            rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "chain_list");
            sq_done(st);
        }
    }
    struct sw_esc_chain *ch = xmalloc(sizeof(*ch));
    for (size_t i = 0; i < nsev && rc == 0; i++) {
        rc = chain_load(s, c, tenant_id, sevs[i], ch);
        if (rc > 0)
            rc = cb(ch, ud) ? 1 : 0;
        if (rc == 1) {
            rc = 0;
            break;
        }
    }
    free(ch);
    sq_release(s, c);
    return rc;
}

static int sq_chain_put(struct store *base, const struct sw_esc_chain *ch, int64_t now,
                        const char *actor)
{
    struct sqlite_store *s = sq_of(base);
    struct sla_esc_step core[SLA_ESC_STEPS_MAX];
    if (ch->n < 1 || ch->n > SLA_ESC_STEPS_MAX)
        return SW_E_INVAL;
    sw_esc_chain_core(ch, core);
    if (sla_esc_chain_validate(core, ch->n, NULL, NULL) < 0)
        return SW_E_INVAL;
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    const char *sev = sla_sev_name(ch->sev);
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = tenant_exists(s, c, ch->tenant_id);
    sqlite3_stmt *st;
    if (rc == 0) {
        if (!(st = sq_stmt(s, c, SQL_CHAIN_UPSERT))) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, ch->tenant_id);
            SQ_TEXT(st, 2, sev);
            sqlite3_bind_int64(st, 3, now);
            SQ_TEXT(st, 4, actor ? actor : "");
            rc = step_exec(s, c, st);
        }
    }
    if (rc == 0) {
        if (!(st = sq_stmt(s, c, SQL_STEPS_DELETE))) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, ch->tenant_id);
            SQ_TEXT(st, 2, sev);
            rc = step_exec(s, c, st);
        }
    }
    for (size_t i = 0; i < ch->n && rc == 0; i++) {
        if (!(st = sq_stmt(s, c, SQL_STEP_ADD))) {
            rc = SW_E_STORE;
            break;
        }
        SQ_TEXT(st, 1, ch->tenant_id);
        SQ_TEXT(st, 2, sev);
        sqlite3_bind_int(st, 3, (int)i);
        SQ_TEXT(st, 4, sla_esc_level_name(ch->step[i].level));
        SQ_TEXT(st, 5, ch->step[i].role);
        sqlite3_bind_int(st, 6, ch->step[i].timeout_min);
        SQ_TEXT(st, 7, sla_esc_method_name(ch->step[i].method));
        rc = step_exec(s, c, st);
    }
    if (rc == 0) {
        if (!(st = sq_stmt(s, c, SQL_CHAIN_RESCHEDULE))) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, ch->tenant_id);
            SQ_TEXT(st, 2, sev);
            sqlite3_bind_int(st, 3, (int)ch->n);
            rc = step_exec(s, c, st);
        }
    }
    if (rc == 0)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    sq_release(s, c);
    if (rc == 0)
        store_hint_due(base, now);  /* rescheduled steps: let it look again */
    return rc;
}

/* ---- manual escalation --------------------------------------------------------- */

static int sq_escalate(struct store *base, const char *tenant_id, const char *alert_id,
                       int sev, int64_t now, const char *actor, struct sw_esc_result *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct round *r = xcalloc(1, sizeof(*r));
    r->base = base;
    r->s = s;
    r->c = c;
    r->now = now;
    struct sw_alert *x = xmalloc(sizeof(*x));
    memset(out, 0, sizeof(*out));
    out->next_at = SLA_NEVER;
    struct esc_cols e;
    int rc = sq_begin(s, c);
    if (rc == 0)
        rc = sq_alert_get_in(s, c, tenant_id, alert_id, x);
    if (rc == 0 && x->a.state == SLA_ALERT_RESOLVED)
        rc = SW_E_CONFLICT;
    if (rc == 0)
        rc = esc_cols_get(s, c, tenant_id, alert_id, &e);
    enum sla_sev csev = SLA_SEV_LOW;
    const struct sw_esc_chain *ch = NULL;
    bool wrote = false;
    if (rc == 0) {
        csev = x->escalation_level > 0 && e.sev[0] ? sev_of(e.sev, x->a.sev)
               : sev >= 0                         ? (enum sla_sev)sev
                                                  : x->a.sev;
        out->sev = csev;
        out->level = x->escalation_level;
        rc = chain_get(r, tenant_id, csev, &ch);
        if (rc == 0) {
            out->outcome = SW_ESC_NO_CHAIN;
        } else if (rc > 0) {
            rc = 0;
            struct sla_esc_step core[SLA_ESC_STEPS_MAX];
            sw_esc_chain_core(ch, core);
            struct sla_esc_state es = {x->escalation_level, e.escalated_at};
            size_t fired;
            if (sla_esc_manual_step(core, ch->n, &es, now, &fired) < 0) {
                out->outcome = SW_ESC_EXHAUSTED;
            } else {
                rc = step_fired(r, x, csev, &ch->step[fired], es.level, now, true, actor,
                                &out->event_id);
                if (rc == 0) {
                    x->escalation_level = es.level;
                    x->updated_at = now;
                    e.escalated_at = es.escalated_at;
                    snprintf(e.sev, sizeof(e.sev), "%s", sla_sev_name(csev));
                    e.due_at = sla_esc_next_at(core, ch->n, &es, &x->a.ack, now);
                    rc = sq_alert_save(s, c, x);
                }
                if (rc == 0)
                    rc = esc_cols_set(s, c, x, &e);
                if (rc == 0) {
                    wrote = true;
                    out->outcome = SW_ESC_DONE;
                    out->level = es.level;
                    out->step = ch->step[fired];
                    out->next_at = e.due_at;
                }
            }
        }
    }
    if (rc == 0 && wrote)
        rc = sq_commit(s, c);
    else
        sq_rollback(s, c);
    if (rc == 0 && wrote) {
        round_publish(r);
        store_hint_due(base, out->next_at);
    }
    round_free(r);
    free(r);
    free(x);
    sq_release(s, c);
    return rc;
}

/* ---- status and history ------------------------------------------------------- */

static int sq_status(struct store *base, const char *tenant_id, const char *alert_id,
                     int64_t now, struct sw_esc_status *out)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    struct sw_alert *x = xmalloc(sizeof(*x));
    struct esc_cols e;
    memset(out, 0, sizeof(*out));
    out->next_at = SLA_NEVER;
    int rc = sq_alert_get_in(s, c, tenant_id, alert_id, x);
    if (rc == 0)
        rc = esc_cols_get(s, c, tenant_id, alert_id, &e);
    if (rc == 0) {
        out->sev = x->escalation_level > 0 && e.sev[0] ? sev_of(e.sev, x->a.sev) : x->a.sev;
        out->level = x->escalation_level;
        out->escalated_at = e.escalated_at;
        out->acknowledged = x->a.acknowledged_at > 0;
        out->resolved = x->a.state == SLA_ALERT_RESOLVED;
        rc = chain_load(s, c, tenant_id, out->sev, &out->chain);
        if (rc > 0) {
            out->has_chain = true;
            rc = 0;
            struct sla_esc_step core[SLA_ESC_STEPS_MAX];
            sw_esc_chain_core(&out->chain, core);
            struct sla_esc_state es = {x->escalation_level, e.escalated_at};
            /* level 0: the first step is due at the ack breach, unless it
             * has already passed (then by hand only) */
            int64_t next = sla_esc_next_at(core, out->chain.n, &es, &x->a.ack, now);
            if (x->escalation_level == 0 && x->a.ack_alarm.breach_fired)
                next = SLA_NEVER;
            out->next_at = next;
        }
    }
    if (rc == 0) {
        sqlite3_stmt *st = sq_stmt(s, c, SQL_ESC_FIRED);
        if (!st) {
            rc = SW_E_STORE;
        } else {
            SQ_TEXT(st, 1, tenant_id);
            SQ_TEXT(st, 2, alert_id);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int li = sqlite3_column_int(st, 0);
                if (li >= 1 && li <= SLA_ESC_STEPS_MAX) {
                    out->fired_at[li - 1] = sqlite3_column_int64(st, 1);
                    const unsigned char *t = sqlite3_column_text(st, 2);
                    out->fired_manual[li - 1] = t && !strcmp((const char *)t, "manual");
                }
            }
            rc = rc == SQLITE_DONE ? 0 : sq_fail(s, c, "esc_fired");
            sq_done(st);
        }
    }
    free(x);
    sq_release(s, c);
    return rc;
}

static int sq_events(struct store *base, const char *tenant_id, const char *alert_id,
                     int64_t before_id, int limit, store_esc_event_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    int rc = tenant_exists(s, c, tenant_id);
    sqlite3_stmt *st = rc == 0 ? sq_stmt(s, c, SQL_ESC_EVENTS) : NULL;
    if (rc == 0 && !st)
        rc = SW_E_STORE;
    if (rc == 0) {
        SQ_TEXT(st, 1, tenant_id);
        if (alert_id)
            SQ_TEXT(st, 2, alert_id);
        sqlite3_bind_int64(st, 3, before_id);
        sqlite3_bind_int(st, 4, limit);
        struct sw_esc_event ev;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            memset(&ev, 0, sizeof(ev));
            ev.id = sqlite3_column_int64(st, 0);
            snprintf(ev.tenant_id, sizeof(ev.tenant_id), "%s", tenant_id);
            sq_copy_text(ev.alert_id, sizeof(ev.alert_id), st, 1);
            ev.sev = sev_of((const char *)sqlite3_column_text(st, 2), SLA_SEV_LOW);
            ev.level_index = sqlite3_column_int(st, 3);
            sla_esc_level_parse((const char *)sqlite3_column_text(st, 4), &ev.level);
            sq_copy_text(ev.role, sizeof(ev.role), st, 5);
            sla_esc_method_parse((const char *)sqlite3_column_text(st, 6), &ev.method);
            ev.at = sqlite3_column_int64(st, 7);
            ev.due_at = sqlite3_column_int64(st, 8);
            const unsigned char *t = sqlite3_column_text(st, 9);
            ev.manual = t && !strcmp((const char *)t, "manual");
            sq_copy_text(ev.actor, sizeof(ev.actor), st, 10);
            if (cb(&ev, ud))
                break;
        }
        rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "esc_events");
        sq_done(st);
    }
    sq_release(s, c);
    return rc;
}

const struct store_escalation_ops sqlite_escalation_ops = {
    .alerts_next_due = sq_alerts_next_due,
    .alerts_process_due = sq_alerts_process_due,
    .chain_list = sq_chain_list,
    .chain_put = sq_chain_put,
    .escalate = sq_escalate,
    .status = sq_status,
    .events = sq_events,
};
