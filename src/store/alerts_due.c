/* alerts_due.c: the scheduler's alert source (store_escalation.h
 * alerts_next_due, alerts_process_due).
 *
 * next_due reads the smallest of two partial indexes (alerts_next_check,
 * alerts_esc_due): two index seeks, so an idle scheduler costs nothing.
 * process_due claims up to `limit` alerts due at now in one write
 * transaction, {SKIP_LOCKED}: on PostgreSQL two nodes' schedulers never
 * take the same alert (a row another node holds is skipped, and once that
 * node commits the row is no longer due), on SQLite BEGIN IMMEDIATE is the
 * claim.  For each alert it asks the core:
 *
 *   - sla_warnings_crossed / sla_breach_due for the ack and resolve clocks
 *     (thresholds: the tenant's notification thresholds list when it set
 *     one, else the alert's resolved warn_pct; struct alert_th).
 *     A warning crossed in the same look as its clock's breach is marked
 *     fired without a notice: the breach supersedes it;
 *   - the escalation chain (sla_esc_auto_step): the first step fires with
 *     the ack breach, each next one when the previous step's timeout passed
 *     unacknowledged, anchored on the instant the previous step was due;
 *
 * then writes each event and its notice (store_notice_in: outbox rows, or
 * the tenant's live dashboards), an escalation_events row, the fired
 * flags, the level and both next instants, then the round's breach rows
 * (multi-row INSERTs), and commits once: a crash re-does nothing that
 * committed and loses nothing that did not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/alerts_int.h"
#include "util/log.h"
#include "util/xalloc.h"

/* ---- statements ---------------------------------------------------------- */

static const char SQL_NEXT_CHECK_MIN[] =
    "SELECT next_check_at FROM alerts WHERE next_check_at IS NOT NULL "
    "ORDER BY next_check_at LIMIT 1";
static const char SQL_ESC_DUE_MIN[] =
    "SELECT esc_due_at FROM alerts WHERE esc_due_at IS NOT NULL ORDER BY esc_due_at LIMIT 1";
static const char SQL_CLAIM_CHECK[] =
    "SELECT tenant_id, id FROM alerts WHERE next_check_at IS NOT NULL AND next_check_at <= ?1 "
    "ORDER BY next_check_at LIMIT ?2 {SKIP_LOCKED}";
static const char SQL_CLAIM_ESC[] =
    "SELECT tenant_id, id FROM alerts WHERE esc_due_at IS NOT NULL AND esc_due_at <= ?1 "
    "ORDER BY esc_due_at LIMIT ?2 {SKIP_LOCKED}";
static struct db_rows breach_rows =
    DB_ROWS("INSERT INTO breaches (tenant_id, item_kind, item_id, clock, due_at, breached_at, "
            "severity) VALUES ", "(?1, 'alert', ?2, ?3, ?4, ?5, ?6)",
            " ON CONFLICT (tenant_id, item_kind, item_id, clock, due_at) DO NOTHING", 6);

/* ---- next_due ------------------------------------------------------------- */

static int min_of(struct db_conn *c, const char *sql, int64_t *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    *out = SLA_NEVER;
    if ((rc = db_step_one(st)) == 1) {
        *out = db_col_int64_or(st, 0, SLA_NEVER);
        db_reset(st);
    }
    return rc < 0 ? rc : 0;
}

int alerts_next_due(struct store *base, int64_t now, int64_t *at)
{
    (void)now;
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int64_t a = SLA_NEVER, b = SLA_NEVER;
    int rc = min_of(c, SQL_NEXT_CHECK_MIN, &a);
    if (rc == 0)
        rc = min_of(c, SQL_ESC_DUE_MIN, &b);
    db_release(c);
    if (rc == 0)
        *at = a < b ? a : b;
    return rc;
}

/* ---- one round ------------------------------------------------------------- */

#define CHAIN_CACHE 8

struct key {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
};

struct round {
    int64_t now;
    int limit;
    struct key *keys;
    size_t n;
    const struct key *cur;      /* the alert being looked at */
    struct sw_alert x;          /* ... as read */
    struct alert_breach *br;    /* breach rows, written at the round's end */
    size_t nbr;
    struct alert_th th;         /* the last tenant's thresholds */
    struct notice_memo memo;    /* and its name and notification config */
    /* chains read in this transaction */
    struct {
        int found;
        struct sw_esc_chain chain;
    } cc[CHAIN_CACHE];
    size_t ncc, next_cc;
};

static int chain_get(struct db_conn *c, struct round *r, const char *tenant_id,
                     enum sla_sev sev, const struct sw_esc_chain **out)
{
    for (size_t i = 0; i < r->ncc; i++)
        if (r->cc[i].chain.sev == sev && !strcmp(r->cc[i].chain.tenant_id, tenant_id)) {
            *out = &r->cc[i].chain;
            return r->cc[i].found;
        }
    size_t k = r->ncc < CHAIN_CACHE ? r->ncc++ : (r->next_cc++ % CHAIN_CACHE);
    int rc = esc_chain_load_in(c, tenant_id, sev, &r->cc[k].chain);
    if (rc < 0) {
        if (k == r->ncc - 1)
            r->ncc--;
        return rc;
    }
    r->cc[k].found = rc;
    *out = &r->cc[k].chain;
    return rc;
}

static void breach_bind(struct db_stmt *st, int o, size_t i, const void *ud)
{
    const struct alert_breach *b = (const struct alert_breach *)ud + i;
    db_bind_text(st, o + 1, b->tenant_id);
    db_bind_text(st, o + 2, b->id);
    db_bind_text(st, o + 3, b->clock);
    db_bind_int64(st, o + 4, b->due_at);
    db_bind_int64(st, o + 5, b->breached_at);
    db_bind_text(st, o + 6, sla_sev_name(b->sev));
}

int alert_breach_rows_in(struct db_conn *c, const struct alert_breach *v, size_t n)
{
    return db_rows_exec(c, &breach_rows, n, breach_bind, v);
}

/* ---- thresholds ------------------------------------------------------------ */

static const char SQL_THRESHOLDS_CHANGED[] =
    "UPDATE alerts SET next_check_at = ?2 WHERE tenant_id = ?1 AND state <> 'resolved'";

int alert_th_load_in(struct db_conn *c, struct alert_th *m, const char *tenant_id)
{
    if (m->loaded && !strcmp(m->tenant_id, tenant_id))
        return 0;
    m->loaded = false;
    int rc = store_thresholds_in(c, tenant_id, &m->t, &m->list);
    if (rc < 0)
        return rc;
    snprintf(m->tenant_id, sizeof(m->tenant_id), "%s", tenant_id);
    m->loaded = true;
    return 0;
}

size_t alert_th_of(const struct alert_th *m, const struct sla_alert *a,
                   uint8_t th[SLA_THRESHOLDS_MAX])
{
    if (m && m->loaded && m->list) {
        memcpy(th, m->t.v, m->t.n);
        return m->t.n;
    }
    return sla_alert_warn_threshold(a, th);
}

int alert_thresholds_changed_in(struct db_conn *c, const char *tenant_id, int64_t now)
{
    int rc = alert_tenant_lock_in(c, tenant_id, ALERT_LOCK_SHARE);
    if (rc < 0)
        return rc == SW_E_NOTFOUND ? 0 : rc;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_THRESHOLDS_CHANGED, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_int64(st, 2, now);
    if ((rc = db_exec(st)) < 0)
        return rc;
    return db_changes(st) > 0 ? store_hint_in(c, now, now) : 0;
}

/* Warnings and breach of one clock.  *breached_now: its breach fired here. */
static int clock_look(struct db_conn *c, struct round *r, struct sw_alert *x, const char *name,
                      const struct sla_clock *k, struct sla_alarm *al, bool *breached_now)
{
    uint8_t th[SLA_THRESHOLDS_MAX];
    int rc = alert_th_load_in(c, &r->th, x->tenant_id);
    if (rc < 0)
        return rc;
    size_t nth = alert_th_of(&r->th, &x->a, th);
    uint32_t crossed = sla_warnings_crossed(k, th, nth, al->fired, r->now);
    bool breach = sla_breach_due(k, al->breach_fired, r->now);
    int64_t due = sla_clock_due(k, r->now);
    char when[SLA_TIME_BUFSZ], data[256];
    sla_time_format(due, when);
    struct sw_notice n;
    *breached_now = false;
    if (crossed) {
        al->fired |= crossed;
        for (size_t i = 0; i < nth && rc == 0 && !breach; i++) {
            /* a breach in the same look supersedes its warning */
            if (!(crossed & (1u << i)))
                continue;
            esc_notice_init(&n, x, "sla.warning", name, due, r->now);
            n.threshold_pct = th[i];
            snprintf(data, sizeof(data),
                     "{\"clock\":\"%s\",\"threshold_pct\":%d,\"due_at\":\"%s\"}", name, th[i],
                     when);
            rc = esc_notice_write_in(c, x, &n, "scheduler", data, r->now, &r->memo, NULL);
        }
    }
    if (rc == 0 && breach) {
        al->breach_fired = true;
        int64_t over = sla_clock_overage(k, r->now);
        esc_notice_init(&n, x, "sla.breach", name, due, r->now);
        snprintf(data, sizeof(data), "{\"clock\":\"%s\",\"due_at\":\"%s\",\"overage_ms\":%lld}",
                 name, when, (long long)over);
        rc = esc_notice_write_in(c, x, &n, "scheduler", data, r->now, &r->memo, NULL);
        if (rc == 0)
            r->br[r->nbr++] = (struct alert_breach){r->cur->tenant_id, r->cur->id, x->a.sev,
                                                    name, due, r->now};
        *breached_now = rc == 0;
    }
    return rc;
}

static int claim(struct db_conn *c, struct round *r, const char *sql)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_int64(st, 1, r->now);
    db_bind_int64(st, 2, r->limit);
    size_t first = r->n;
    while ((rc = db_step(st)) == DB_ROW && r->n < (size_t)r->limit) {
        struct key k;
        db_col_copy(st, 0, k.tenant_id, sizeof(k.tenant_id));
        db_col_copy(st, 1, k.id, sizeof(k.id));
        bool dup = false;
        for (size_t i = 0; i < first && !dup; i++)
            dup = !strcmp(r->keys[i].id, k.id) && !strcmp(r->keys[i].tenant_id, k.tenant_id);
        if (!dup)
            r->keys[r->n++] = k;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

/* Everything due on one alert. */
static int process_one(struct db_conn *c, struct round *r, const struct key *k)
{
    struct sw_alert *x = &r->x;
    struct esc_cols e;
    r->cur = k;
    int rc = alert_get_esc_in(c, k->tenant_id, k->id, x, &e);
    if (rc < 0)
        return rc == SW_E_NOTFOUND ? 0 : rc;
    bool ack_breached = false, res_breached = false;
    rc = clock_look(c, r, x, "ack", &x->a.ack, &x->a.ack_alarm, &ack_breached);
    if (rc == 0)
        rc = clock_look(c, r, x, "resolve", &x->a.resolve, &x->a.resolve_alarm, &res_breached);
    if (rc < 0)
        return rc;

    /* escalation: the first step only with the ack breach, the next ones
     * on their own instants; the chain walked is fixed at the first step */
    enum sla_sev csev = x->escalation_level > 0 ? alert_sev_of(e.sev, x->a.sev) : x->a.sev;
    const struct sw_esc_chain *ch = NULL;
    struct sla_esc_step core[SLA_ESC_STEPS_MAX];
    size_t n = 0;
    if (x->escalation_level > 0 || ack_breached) {
        if ((rc = chain_get(c, r, x->tenant_id, csev, &ch)) < 0)
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
        rc = esc_step_fired_in(c, x, csev, &ch->step[fired], es.level, due, false, "scheduler",
                               r->now, NULL);
        if (rc < 0)
            return rc;
        snprintf(e.sev, sizeof(e.sev), "%s", sla_sev_name(csev));
    }
    x->escalation_level = es.level;
    e.escalated_at = es.escalated_at;
    e.due_at = es.level > 0 && n ? sla_esc_next_at(core, n, &es, &x->a.ack, r->now) : SLA_NEVER;
    if (e.due_at <= r->now)     /* cannot happen; never spin on it */
        e.due_at = r->now + 1000;

    x->updated_at = r->now;
    x->next_check_at = store_alert_next_check(&x->a, &r->th, r->now);
    if (x->next_check_at <= r->now) {
        log_warn("scheduler: alert %s/%s: next check %lld not after now: looking again in 1 s",
                 x->tenant_id, x->id, (long long)x->next_check_at);
        x->next_check_at = r->now + 1000;
    }
    return alert_save_esc_in(c, x, &e);
}

static int process_tx(struct db_conn *c, void *ud)
{
    struct round *r = ud;
    r->n = r->nbr = 0;
    r->ncc = r->next_cc = 0;        /* chains of a rolled-back attempt */
    r->th.loaded = false;           /* and its thresholds */
    notice_memo_clear(&r->memo);
    int rc = claim(c, r, SQL_CLAIM_CHECK);
    if (rc == 0 && r->n < (size_t)r->limit)
        rc = claim(c, r, SQL_CLAIM_ESC);
    for (size_t i = 0; i < r->n && rc == 0; i++)
        rc = process_one(c, r, &r->keys[i]);
    if (rc == 0)
        rc = alert_breach_rows_in(c, r->br, r->nbr);
    return rc;
}

int alerts_process_due(struct store *base, int64_t now, int limit, int *processed)
{
    *processed = 0;
    if (limit <= 0)
        return 0;
    struct round *r = xcalloc(1, sizeof(*r));
    r->now = now;
    r->limit = limit;
    r->keys = xmalloc((size_t)limit * sizeof(*r->keys));
    r->br = xmalloc(2 * (size_t)limit * sizeof(*r->br));     /* two clocks each */
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, process_tx, r);
    if (rc == 0)
        *processed = (int)r->n;
    notice_memo_clear(&r->memo);
    free(r->br);
    free(r->keys);
    free(r);
    return rc;
}
