/* escalation.c: escalation chains and where each alert stands on its chain
 * (store_escalation.h): saving and listing chains, a step by hand, the
 * status and the history, and keeping an alert's next automatic step
 * (esc_due_at) right after its lifecycle changes.  The automatic steps
 * themselves fire in alerts_due.c, through the same esc_step_fired_in.
 *
 * An alert walking a chain keeps three columns beside its row:
 * escalated_at (the instant its current step was due, or taken by hand),
 * esc_severity (the chain walked, fixed at the first step) and esc_due_at
 * (its next automatic step while unacknowledged; the scheduler's second
 * queue beside next_check_at).
 *
 * Several nodes: a manual step reads the alert {FOR_UPDATE}, so it and the
 * scheduler never fire the same level twice; saving a chain starts with an
 * upsert of the chain's head row, which two concurrent saves take in turn,
 * so the steps left are one save's, never a mix. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/alerts_int.h"
#include "store/store_proof.h"
#include "util/xalloc.h"
#include "util/str.h"

#define NEVER_SQL "9223372036854775807"

/* ---- statements ----------------------------------------------------------- */

static const char SQL_ESC_COLS[] =
    "SELECT escalated_at, esc_severity, esc_due_at FROM alerts WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ESC_DUE_SET[] =
    "UPDATE alerts SET esc_due_at = NULLIF(?3, " NEVER_SQL ") "
    "WHERE tenant_id = ?1 AND id = ?2 AND esc_due_at IS DISTINCT FROM NULLIF(?3, " NEVER_SQL ")";
static const char SQL_ESC_EVENT_ADD[] =
    "INSERT INTO escalation_events (tenant_id, alert_id, severity, level_index, level, role, "
    "method, at, due_at, trigger, actor, event_id, user_id, via) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULLIF(?13, ''), "
    "NULLIF(?14, ''))";
static const char SQL_CHAIN_HEAD[] =
    "SELECT updated_at, updated_by FROM escalation_chains WHERE tenant_id = ?1 AND severity = ?2";
static const char SQL_CHAIN_STEPS[] =
    "SELECT level, role, timeout_min, method, COALESCE(user_id, '') FROM escalation_steps "
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
    "INSERT INTO escalation_steps (tenant_id, severity, idx, level, role, timeout_min, method, "
    "user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULLIF(?8, ''))";
/* Alerts walking the chain just saved, unacknowledged and not resolved:
 * the next step is step `level`, due at escalated_at + step level-1's
 * timeout (NULL when the new chain has no step `level`). */
static const char SQL_CHAIN_RESCHEDULE[] =
    "UPDATE alerts SET esc_due_at = CASE WHEN escalation_level < ?3 THEN escalated_at + "
    "  (SELECT s.timeout_min * 60000 FROM escalation_steps AS s WHERE s.tenant_id = ?1 "
    "   AND s.severity = ?2 AND s.idx = alerts.escalation_level - 1) ELSE NULL END "
    "WHERE tenant_id = ?1 AND esc_severity = ?2 AND escalation_level > 0 "
    "AND state <> 'resolved' AND ack_stopped_at = 0";
static const char SQL_ESC_EVENTS[] =
    "SELECT id, alert_id, severity, level_index, level, role, method, at, due_at, trigger, "
    "actor, COALESCE(user_id, ''), COALESCE(via, '') FROM escalation_events WHERE tenant_id = ?1 "
    "AND (CAST(?2 AS TEXT) IS NULL OR alert_id = ?2) "
    "AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4";
/* Every firing of the alert's steps; the latest of each level wins. */
static const char SQL_ESC_FIRED[] =
    "SELECT level_index, at, trigger FROM escalation_events "
    "WHERE tenant_id = ?1 AND alert_id = ?2 ORDER BY id";

/* ---- the escalation columns ------------------------------------------------- */

int esc_cols_get_in(struct db_conn *c, const char *tenant_id, const char *id,
                    struct esc_cols *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ESC_COLS, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    memset(out, 0, sizeof(*out));
    rc = db_step_one(st);
    if (rc != 1)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    esc_cols_read(st, 0, out);
    db_reset(st);
    return 0;
}

void esc_cols_read(struct db_stmt *st, int first, struct esc_cols *out)
{
    out->escalated_at = db_col_int64(st, first);
    db_col_copy(st, first + 1, out->sev, sizeof(out->sev));
    out->due_at = db_col_int64_or(st, first + 2, SLA_NEVER);
}

/* ---- chains ----------------------------------------------------------------- */

int esc_chain_load_in(struct db_conn *c, const char *tenant_id, enum sla_sev sev,
                      struct sw_esc_chain *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", tenant_id);
    out->sev = sev;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CHAIN_HEAD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, sla_sev_name(sev));
    if ((rc = db_step_one(st)) != 1)
        return rc;                      /* 0: no chain */
    out->updated_at = db_col_int64(st, 0);
    db_col_copy(st, 1, out->updated_by, sizeof(out->updated_by));
    db_reset(st);
    if ((rc = db_prep(c, SQL_CHAIN_STEPS, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, sla_sev_name(sev));
    while ((rc = db_step(st)) == DB_ROW && out->n < SLA_ESC_STEPS_MAX) {
        struct sw_esc_step *p = &out->step[out->n++];
        sla_esc_level_parse(db_col_text(st, 0), &p->level);
        db_col_copy(st, 1, p->role, sizeof(p->role));
        p->timeout_min = db_col_int(st, 2);
        sla_esc_method_parse(db_col_text(st, 3), &p->method);
        db_col_copy(st, 4, p->user, sizeof(p->user));
    }
    db_reset(st);
    return rc < 0 ? rc : out->n > 0;
}

/* ---- notices and fired steps ---------------------------------------------------- */

void esc_notice_init(struct sw_notice *n, const struct sw_alert *x, const char *type,
                     const char *clock, int64_t due_at, int64_t now)
{
    memset(n, 0, sizeof(*n));
    sw_scopy(n->tenant_id, sizeof(n->tenant_id), x->tenant_id);
    sw_scopy(n->type, sizeof(n->type), type);
    sw_scopy(n->item_kind, sizeof(n->item_kind), "alert");
    sw_scopy(n->item_id, sizeof(n->item_id), x->id);
    sw_scopy(n->severity, sizeof(n->severity), sla_sev_name(x->a.sev));
    sw_scopy(n->clock, sizeof(n->clock), clock);
    sw_scopy(n->title, sizeof(n->title), x->title);
    n->due_at = due_at;
    n->occurred_at = now;
    const struct sla_clock *k = strcmp(clock, "ack") ? &x->a.resolve : &x->a.ack;
    n->overage_ms = sla_clock_overage(k, now);
}

/* The channels a step's method asks for. */
static unsigned method_channels(enum sla_esc_method m)
{
    switch (m) {
    case SLA_ESC_SLACK: return 1u << NOTIFY_SLACK;
    case SLA_ESC_PAGER: return 1u << NOTIFY_PAGER;
    case SLA_ESC_PHONE: return 1u << NOTIFY_PHONE;
    default: return 1u << NOTIFY_EMAIL;
    }
}

static void esc_via_text(unsigned via, char *out, size_t len)
{
    out[0] = '\0';
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (via & (1u << ch)) {
            size_t k = strlen(out);
            snprintf(out + k, len - k, "%s%s", k ? "," : "", notify_channel_name((enum notify_channel)ch));
        }
}

int esc_notice_write_in(struct db_conn *c, const struct sw_alert *x, const struct sw_notice *n,
                        const char *actor, const char *data, int64_t now,
                        struct notice_memo *memo, int64_t *event_id)
{
    int64_t eid = 0;
    int rc = store_alert_event_add_in(c, x, n->type, actor, now, data, &eid);
    if (rc < 0)
        return rc;
    if (event_id)
        *event_id = eid;
    rc = store_notice_memo_in(c, n, eid, memo);
    return rc < 0 ? rc : 0;
}

int esc_step_fired_in(struct db_conn *c, const struct sw_alert *x, enum sla_sev chain_sev,
                      const struct sw_esc_step *step, int level_index, int64_t due_at,
                      bool manual, const char *actor, int64_t now, int64_t *event_id)
{
    struct sw_notice *n = xmalloc(sizeof(*n));
    esc_notice_init(n, x, "sla.escalation", "ack", sla_clock_due(&x->a.ack, now), now);
    n->escalation_level = level_index;
    snprintf(n->escalation_target, sizeof(n->escalation_target), "%s",
             step->user[0] ? step->user : step->role);
    int rc = 0;
    if (step->user[0])      /* who, and how it reaches them, as of now */
        rc = store_person_route_in(c, x->tenant_id, step->user,
                                   sla_esc_method_name(step->method),
                                   method_channels(step->method), level_index, &n->engaged);
    if (rc < 0) {
        free(n);
        return rc;
    }
    char when[SLA_TIME_BUFSZ], via[64];
    sla_time_format(due_at, when);
    esc_via_text(n->engaged.via, via, sizeof(via));
    json_t *d = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "level",
                          sla_esc_level_name(step->level), "level_index", level_index, "role",
                          step->role, "method", sla_esc_method_name(step->method), "trigger",
                          manual ? "manual" : "auto", "severity", sla_sev_name(chain_sev),
                          "due_at", when);
    if (step->user[0]) {
        json_object_set_new(d, "user", json_string(step->user));
        json_object_set_new(d, "engaged", n->engaged.user[0] ? json_string(n->engaged.user)
                                                             : json_null());
        json_object_set_new(d, "via", json_string(via));
        if (n->engaged.note[0])
            json_object_set_new(d, "note", json_string(n->engaged.note));
    }
    char *data = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int64_t eid = 0;
    rc = esc_notice_write_in(c, x, n, actor, data, now, NULL, &eid);
    free(data);
    char user[SW_ID_MAX + 1];
    snprintf(user, sizeof(user), "%s", n->engaged.user);
    free(n);
    if (rc < 0)
        return rc;
    if (event_id)
        *event_id = eid;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_ESC_EVENT_ADD, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_text(st, 3, sla_sev_name(chain_sev));
    db_bind_int64(st, 4, level_index);
    db_bind_text(st, 5, sla_esc_level_name(step->level));
    db_bind_text(st, 6, step->role);
    db_bind_text(st, 7, sla_esc_method_name(step->method));
    db_bind_int64(st, 8, now);
    db_bind_int64(st, 9, due_at);
    db_bind_text(st, 10, manual ? "manual" : "auto");
    db_bind_text(st, 11, actor ? actor : "");
    db_bind_int64(st, 12, eid);
    db_bind_text(st, 13, user);
    db_bind_text(st, 14, user[0] ? via : "");
    return db_exec(st);
}

/* ---- after a lifecycle change (alerts.c) ------------------------------------------ */

int store_alert_escalation_sync_in(struct db_conn *c, const struct sw_alert *x, int64_t now,
                                   int64_t *esc_at)
{
    *esc_at = SLA_NEVER;
    if (x->escalation_level <= 0)
        return 0;       /* the first step rides on the ack breach (next_check_at) */
    /* pages its steps opened: acknowledged with it, resolved with it */
    if (sla_clock_is_stopped(&x->a.ack)) {
        bool resolved = x->a.state == SLA_ALERT_RESOLVED;
        int k = store_pager_item_in(c, x->tenant_id, "alert", x->id, resolved, now);
        if (k < 0)
            return k;
    }
    struct esc_cols e;
    int rc = esc_cols_get_in(c, x->tenant_id, x->id, &e);
    if (rc < 0)
        return rc;
    struct sw_esc_chain *ch = xmalloc(sizeof(*ch));
    rc = esc_chain_load_in(c, x->tenant_id, alert_sev_of(e.sev, x->a.sev), ch);
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
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_ESC_DUE_SET, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_int64(st, 3, next);
    if ((rc = db_exec(st)) == 0)
        *esc_at = next;
    return rc;
}

/* ---- chains: list and save --------------------------------------------------------- */

static int chain_list(struct store *base, const char *tenant_id, store_esc_chain_cb cb,
                      void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    enum sla_sev sevs[SLA_SEV_COUNT];
    size_t nsev = 0;
    struct sw_esc_chain *ch = xmalloc(sizeof(*ch));
    int rc = db_begin(c, DB_TX_READ);       /* the chains as one snapshot */
    if (rc < 0)
        goto done;
    if ((rc = store_tenant_exists_in(c, tenant_id)) <= 0) {
        rc = rc < 0 ? rc : SW_E_NOTFOUND;
        goto done;
    }
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_CHAIN_LIST, &st)) < 0)
        goto done;
    db_bind_text(st, 1, tenant_id);
    while ((rc = db_step(st)) == DB_ROW && nsev < SLA_SEV_COUNT)
        sevs[nsev++] = alert_sev_of(db_col_text(st, 0), SLA_SEV_LOW);
    db_reset(st);
    for (size_t i = 0; i < nsev && rc >= 0; i++) {
        rc = esc_chain_load_in(c, tenant_id, sevs[i], ch);
        if (rc > 0 && cb(ch, ud))
            break;
    }
done:
    db_rollback(c);
    free(ch);
    db_release(c);
    return rc < 0 ? rc : 0;
}

struct chain_put_ctx {
    const struct sw_esc_chain *ch;
    int64_t now;
    const char *actor;
};

static int chain_put_tx(struct db_conn *c, void *ud)
{
    struct chain_put_ctx *p = ud;
    const struct sw_esc_chain *ch = p->ch;
    const char *sev = sla_sev_name(ch->sev);
    int rc = store_tenant_exists_in(c, ch->tenant_id);
    if (rc <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    /* first: the head row, which concurrent saves of this chain take in turn */
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_CHAIN_UPSERT, &st)) < 0)
        return rc;
    db_bind_text(st, 1, ch->tenant_id);
    db_bind_text(st, 2, sev);
    db_bind_int64(st, 3, p->now);
    db_bind_text(st, 4, p->actor ? p->actor : "");
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_STEPS_DELETE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, ch->tenant_id);
    db_bind_text(st, 2, sev);
    if ((rc = db_exec(st)) < 0)
        return rc;
    for (size_t i = 0; i < ch->n; i++) {
        if ((rc = db_prep(c, SQL_STEP_ADD, &st)) < 0)
            return rc;
        db_bind_text(st, 1, ch->tenant_id);
        db_bind_text(st, 2, sev);
        db_bind_int64(st, 3, (int64_t)i);
        db_bind_text(st, 4, sla_esc_level_name(ch->step[i].level));
        db_bind_text(st, 5, ch->step[i].role);
        db_bind_int64(st, 6, ch->step[i].timeout_min);
        db_bind_text(st, 7, sla_esc_method_name(ch->step[i].method));
        db_bind_text(st, 8, ch->step[i].user);
        if ((rc = db_exec(st)) < 0)
            return rc;
    }
    if ((rc = store_history_record_in(c, SW_HISTORY_ESCALATION, ch->tenant_id, sev, p->now,
                                      p->actor, "update")) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_CHAIN_RESCHEDULE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, ch->tenant_id);
    db_bind_text(st, 2, sev);
    db_bind_int64(st, 3, (int64_t)ch->n);
    if ((rc = db_exec(st)) < 0)
        return rc;
    return store_hint_in(c, p->now, p->now);    /* rescheduled steps: look again */
}

static int chain_put(struct store *base, const struct sw_esc_chain *ch, int64_t now,
                     const char *actor)
{
    struct sla_esc_step core[SLA_ESC_STEPS_MAX];
    if (ch->n < 1 || ch->n > SLA_ESC_STEPS_MAX)
        return SW_E_INVAL;
    sw_esc_chain_core(ch, core);
    if (sla_esc_chain_validate(core, ch->n, NULL, NULL) < 0)
        return SW_E_INVAL;
    struct chain_put_ctx p = {.ch = ch, .now = now, .actor = actor};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, chain_put_tx, &p);
}

/* ---- a step by hand ------------------------------------------------------------------ */

struct escalate_ctx {
    const char *tenant_id, *alert_id;
    int sev;
    int64_t now;
    const char *actor;
    struct sw_esc_result out;
    struct sw_alert x;
    struct sw_esc_chain ch;
};

static int escalate_tx(struct db_conn *c, void *ud)
{
    struct escalate_ctx *k = ud;
    struct sw_esc_result *out = &k->out;
    struct sw_alert *x = &k->x;
    memset(out, 0, sizeof(*out));
    out->next_at = SLA_NEVER;
    struct esc_cols e;
    int rc = alert_get_esc_in(c, k->tenant_id, k->alert_id, x, &e);
    if (rc < 0)
        return rc;
    if (x->a.state == SLA_ALERT_RESOLVED)
        return SW_E_CONFLICT;
    /* the chain walked is fixed at the first step */
    enum sla_sev csev = x->escalation_level > 0 && e.sev[0] ? alert_sev_of(e.sev, x->a.sev)
                        : k->sev >= 0                      ? (enum sla_sev)k->sev
                                                           : x->a.sev;
    out->sev = csev;
    out->level = x->escalation_level;
    if ((rc = esc_chain_load_in(c, k->tenant_id, csev, &k->ch)) <= 0) {
        out->outcome = SW_ESC_NO_CHAIN;
        return rc;                      /* 0: nothing written */
    }
    struct sla_esc_step core[SLA_ESC_STEPS_MAX];
    sw_esc_chain_core(&k->ch, core);
    struct sla_esc_state es = {x->escalation_level, e.escalated_at};
    size_t fired;
    if (sla_esc_manual_step(core, k->ch.n, &es, k->now, &fired) < 0) {
        out->outcome = SW_ESC_EXHAUSTED;
        return 0;
    }
    rc = esc_step_fired_in(c, x, csev, &k->ch.step[fired], es.level, k->now, true, k->actor,
                           k->now, &out->event_id);
    if (rc < 0)
        return rc;
    x->escalation_level = es.level;
    x->updated_at = k->now;
    e.escalated_at = es.escalated_at;
    snprintf(e.sev, sizeof(e.sev), "%s", sla_sev_name(csev));
    e.due_at = sla_esc_next_at(core, k->ch.n, &es, &x->a.ack, k->now);
    if ((rc = alert_save_esc_in(c, x, &e)) < 0)
        return rc;
    out->outcome = SW_ESC_DONE;
    out->level = es.level;
    out->step = k->ch.step[fired];
    out->next_at = e.due_at;
    return store_hint_in(c, e.due_at, k->now);
}

static int escalate(struct store *base, const char *tenant_id, const char *alert_id, int sev,
                    int64_t now, const char *actor, struct sw_esc_result *out)
{
    struct escalate_ctx *k = xcalloc(1, sizeof(*k));
    *k = (struct escalate_ctx){.tenant_id = tenant_id, .alert_id = alert_id, .sev = sev,
                               .now = now, .actor = actor};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, escalate_tx, k);
    if (rc == 0)
        *out = k->out;
    free(k);
    return rc;
}

/* ---- status and history ------------------------------------------------------------ */

static int status_in(struct db_conn *c, const char *tenant_id, const char *alert_id,
                     int64_t now, struct sw_alert *x, struct sw_esc_status *out)
{
    struct esc_cols e;
    int rc = store_alert_get_in(c, tenant_id, alert_id, false, x);
    if (rc == 0)
        rc = esc_cols_get_in(c, tenant_id, alert_id, &e);
    if (rc < 0)
        return rc;
    out->sev = x->escalation_level > 0 && e.sev[0] ? alert_sev_of(e.sev, x->a.sev) : x->a.sev;
    out->level = x->escalation_level;
    out->escalated_at = e.escalated_at;
    out->acknowledged = x->a.acknowledged_at > 0;
    out->resolved = x->a.state == SLA_ALERT_RESOLVED;
    if ((rc = esc_chain_load_in(c, tenant_id, out->sev, &out->chain)) < 0)
        return rc;
    if (rc > 0) {
        out->has_chain = true;
        struct sla_esc_step core[SLA_ESC_STEPS_MAX];
        sw_esc_chain_core(&out->chain, core);
        struct sla_esc_state es = {x->escalation_level, e.escalated_at};
        /* level 0: the first step is due at the ack breach, unless it has
         * already passed (then by hand only) */
        int64_t next = sla_esc_next_at(core, out->chain.n, &es, &x->a.ack, now);
        if (x->escalation_level == 0 && x->a.ack_alarm.breach_fired)
            next = SLA_NEVER;
        out->next_at = next;
    }
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_ESC_FIRED, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, alert_id);
    while ((rc = db_step(st)) == DB_ROW) {
        int li = db_col_int(st, 0);
        int64_t at = db_col_int64(st, 1);
        if (li >= 1 && li <= SLA_ESC_STEPS_MAX && at >= out->fired_at[li - 1]) {
            out->fired_at[li - 1] = at;
            out->fired_manual[li - 1] = !strcmp(db_col_text(st, 2), "manual");
        }
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

static int status(struct store *base, const char *tenant_id, const char *alert_id, int64_t now,
                  struct sw_esc_status *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct sw_alert *x = xmalloc(sizeof(*x));
    memset(out, 0, sizeof(*out));
    out->next_at = SLA_NEVER;
    int rc = db_begin(c, DB_TX_READ);           /* the reads agree */
    if (rc == 0)
        rc = status_in(c, tenant_id, alert_id, now, x, out);
    db_rollback(c);
    free(x);
    db_release(c);
    return rc;
}

static int events(struct store *base, const char *tenant_id, const char *alert_id,
                  int64_t before_id, int limit, store_esc_event_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = store_tenant_exists_in(c, tenant_id);
    if (rc == 0)
        rc = SW_E_NOTFOUND;
    if (rc > 0 && (rc = db_prep(c, SQL_ESC_EVENTS, &st)) == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, alert_id);
        db_bind_int64(st, 3, before_id);
        db_bind_int64(st, 4, limit);
        struct sw_esc_event ev;
        while ((rc = db_step(st)) == DB_ROW) {
            memset(&ev, 0, sizeof(ev));
            ev.id = db_col_int64(st, 0);
            snprintf(ev.tenant_id, sizeof(ev.tenant_id), "%s", tenant_id);
            db_col_copy(st, 1, ev.alert_id, sizeof(ev.alert_id));
            ev.sev = alert_sev_of(db_col_text(st, 2), SLA_SEV_LOW);
            ev.level_index = db_col_int(st, 3);
            sla_esc_level_parse(db_col_text(st, 4), &ev.level);
            db_col_copy(st, 5, ev.role, sizeof(ev.role));
            sla_esc_method_parse(db_col_text(st, 6), &ev.method);
            ev.at = db_col_int64(st, 7);
            ev.due_at = db_col_int64(st, 8);
            ev.manual = !strcmp(db_col_text(st, 9), "manual");
            db_col_copy(st, 10, ev.actor, sizeof(ev.actor));
            db_col_copy(st, 11, ev.user, sizeof(ev.user));
            db_col_copy(st, 12, ev.via, sizeof(ev.via));
            if (cb(&ev, ud))
                break;
        }
        db_reset(st);
    }
    db_release(c);
    return rc < 0 ? rc : 0;
}

const struct store_escalation_ops sql_escalation_ops = {
    .alerts_next_due = alerts_next_due,
    .alerts_process_due = alerts_process_due,
    .chain_list = chain_list,
    .chain_put = chain_put,
    .escalate = escalate,
    .status = status,
    .events = events,
};
