/* analytics_reads.c: what the reports need beside the rollups
 * (store_analytics.h): the few raw reads of the alerts table (open alerts,
 * breached resolutions), the tenant's analytics settings (time zone,
 * monthly penalty cap), and the live gauges' snapshots.
 *
 * Settings live on the tenants row, which every node caches: an update
 * tells every node's cache (store_tenants_changed_in) in its transaction,
 * and a new time zone rebuilds the tenant's rollups in that same
 * transaction (analytics.c), so no report ever mixes two zones' days.
 *
 * Live gauges: every node takes a snapshot per tenant per interval, at the
 * same wall-clock boundary (src/http/live_gauges.c), so a snapshot is an
 * idempotent insert on (tenant, at): the first node's stands and the
 * others write nothing. */
#include <stdio.h>
#include <string.h>

#include "store/store_analytics.h"
#include "store/store_int.h"

/* analytics.c */
int sql_analytics_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, int64_t *rows);

/* ---- raw reads of alerts ------------------------------------------------------------ */

#define CLOCKS_COLS                                                                    \
    "id, project_id, severity, state, created_at, resolved_at, "                       \
    "ack_started_at, ack_target_ms, ack_paused_ms, ack_paused_since, ack_stopped_at, " \
    "ack_last_event_at, res_started_at, res_target_ms, res_paused_ms, res_paused_since, " \
    "res_stopped_at, res_last_event_at, warn_pct, penalty_cph, ack_penalty_cph, "      \
    "ack_calendar, res_calendar, ack_elapsed_ms, res_elapsed_ms, ack_due_at, resolve_due_at"

/* `state <> 'resolved'` literally: the partial index alerts_open answers it */
static const char SQL_OPEN[] =
    "SELECT " CLOCKS_COLS " FROM alerts WHERE tenant_id = ?1 AND state <> 'resolved' "
    "AND (CAST(?2 AS TEXT) IS NULL OR project_id = ?2)";
/* `res_stopped_at > resolve_due_at` literally: alerts_res_breached */
static const char SQL_BREACHED_RES[] =
    "SELECT " CLOCKS_COLS " FROM alerts WHERE tenant_id = ?1 "
    "AND res_stopped_at > resolve_due_at AND res_stopped_at >= ?2 AND res_stopped_at < ?3 "
    "ORDER BY res_stopped_at, id LIMIT ?4";
/* over the tenant's rows (no index for it: a monthly read, billed acks are rare) */
static const char SQL_BILLED_ACKS[] =
    "SELECT " CLOCKS_COLS " FROM alerts WHERE tenant_id = ?1 AND ack_penalty_cph > 0 "
    "AND ack_stopped_at > ack_due_at AND ack_stopped_at >= ?2 AND ack_stopped_at < ?3 "
    "ORDER BY ack_stopped_at, id LIMIT ?4";

static void read_clocks(struct db_stmt *st, struct sw_alert_clocks *a)
{
    memset(a, 0, sizeof(*a));
    db_col_copy(st, 0, a->id, sizeof(a->id));
    db_col_copy(st, 1, a->project_id, sizeof(a->project_id));
    enum sla_sev sev = SLA_SEV_LOW;
    sla_sev_parse(SLA_ALERT, db_col_text(st, 2), &sev);
    a->sev = sev;
    enum sla_alert_state state = SLA_ALERT_OPEN;
    sla_alert_state_parse(db_col_text(st, 3), &state);
    a->state = state;
    a->created_at = db_col_int64(st, 4);
    a->resolved_at = db_col_int64(st, 5);
    struct sla_clock *k[2] = {&a->ack, &a->resolve};
    for (int i = 0; i < 2; i++) {
        int b = 6 + 6 * i;
        k[i]->started_at = db_col_int64(st, b);
        k[i]->target_ms = db_col_int64(st, b + 1);
        k[i]->paused_ms = db_col_int64(st, b + 2);
        k[i]->paused_since = db_col_int64(st, b + 3);
        k[i]->stopped_at = db_col_int64(st, b + 4);
        k[i]->last_event_at = db_col_int64(st, b + 5);
    }
    a->warn_pct = db_col_int(st, 18);
    a->penalty_cph = db_col_int64(st, 19);
    a->ack_penalty_cph = db_col_int64(st, 20);
}

/* Runs a prepared and bound statement of CLOCKS_COLS rows into cb. */
/* Clocks on a business-hours calendar count business time: each is put on
 * its calendar, and a stopped one keeps the verdict it was judged with. */
static int clocks_calendars(struct db_conn *c, struct cal_memo *memo, const char *tenant_id,
                            struct db_stmt *st, struct sw_alert_clocks *a)
{
    struct sla_clock *k[2] = {&a->ack, &a->resolve};
    for (int i = 0; i < 2; i++) {
        if (db_col_null(st, 21 + i))
            continue;
        if (sla_clock_is_stopped(k[i]) && !db_col_null(st, 23 + i)) {
            k[i]->stop_elapsed = db_col_int64(st, 23 + i);
            k[i]->stop_due = db_col_int64(st, 25 + i);
        }
        int rc = store_calendar_in(c, memo, tenant_id, db_col_text(st, 21 + i), &k[i]->cal);
        if (rc < 0 && rc != SW_E_NOTFOUND)
            return rc;
    }
    return 0;
}

static int clocks_run(struct db_conn *c, const char *tenant_id, struct db_stmt *st,
                      store_alert_clocks_cb cb, void *ud)
{
    struct sw_alert_clocks a;
    struct cal_memo memo = {0};
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        read_clocks(st, &a);
        if ((rc = clocks_calendars(c, &memo, tenant_id, st, &a)) < 0 || cb(&a, ud))
            break;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

/* In a read transaction (one snapshot, the cursor's life): a tenant can
 * have a million open alerts, read in pages (db_stream), never all at
 * once.  Not db_tx: a retry would hand cb the same alerts twice. */
int sql_analytics_open_alerts(struct store *base, const char *tenant_id,
                              const char *project_id, store_alert_clocks_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_begin(c, DB_TX_READ);
    if (rc == 0)
        rc = db_prep(c, SQL_OPEN, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);        /* NULL: every project */
        rc = db_stream(st);
        if (rc == 0)
            rc = clocks_run(c, tenant_id, st, cb, ud);
        else
            db_reset(st);
    }
    if (rc == 0)
        rc = db_commit(c);
    db_release(c);          /* rolls back what did not commit */
    return rc;
}

static int breached_run(const char *sql, struct store *base, const char *tenant_id,
                                       int64_t from_ms, int64_t to_ms, int limit,
                                       store_alert_clocks_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_int64(st, 2, from_ms);
        db_bind_int64(st, 3, to_ms);
        db_bind_int64(st, 4, limit);
        rc = clocks_run(c, tenant_id, st, cb, ud);
    }
    db_release(c);
    return rc;
}

int sql_analytics_breached_resolutions(struct store *base, const char *tenant_id,
                                       int64_t from_ms, int64_t to_ms, int limit,
                                       store_alert_clocks_cb cb, void *ud)
{
    return breached_run(SQL_BREACHED_RES, base, tenant_id, from_ms, to_ms, limit, cb, ud);
}

int sql_analytics_billed_acks(struct store *base, const char *tenant_id, int64_t from_ms,
                              int64_t to_ms, int limit, store_alert_clocks_cb cb, void *ud)
{
    return breached_run(SQL_BILLED_ACKS, base, tenant_id, from_ms, to_ms, limit, cb, ud);
}

/* ---- tenant settings ------------------------------------------------------------------ */

static const char SQL_SETTINGS[] =
    "SELECT timezone, monthly_penalty_cap FROM tenants WHERE id = ?1";
static const char SQL_SETTINGS_LOCK[] =
    "SELECT timezone, monthly_penalty_cap FROM tenants WHERE id = ?1 {FOR_UPDATE}";
static const char SQL_TENANT_ROW[] =
    "SELECT id, name, COALESCE(template, ''), timezone, created_at FROM tenants WHERE id = ?1";
/* cap_action ?4: 0 clears, 1 sets ?5, anything else keeps */
static const char SQL_TENANT_PATCH[] =
    "UPDATE tenants SET name = COALESCE(?2, name), timezone = COALESCE(?3, timezone), "
    "monthly_penalty_cap = CASE ?4 WHEN 0 THEN NULL WHEN 1 THEN ?5 "
    "ELSE monthly_penalty_cap END WHERE id = ?1";

/* 0, SW_E_NOTFOUND, or SW_E_*. */
static int settings_in(struct db_conn *c, const char *sql, const char *tenant_id,
                       struct sw_tenant_settings *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    rc = db_step_one(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return SW_E_NOTFOUND;
    memset(out, 0, sizeof(*out));
    db_col_copy(st, 0, out->timezone, sizeof(out->timezone));
    out->has_cap = !db_col_null(st, 1);
    out->monthly_penalty_cap = db_col_int64(st, 1);
    db_reset(st);
    return 0;
}

int sql_analytics_tenant_settings(struct store *base, const char *tenant_id,
                                  struct sw_tenant_settings *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct sw_tenant_settings set;
    int rc = settings_in(c, SQL_SETTINGS, tenant_id, &set);
    db_release(c);
    if (rc == 0)
        *out = set;
    return rc;
}

struct tenant_upd {
    const char *tenant_id;
    const struct sw_tenant_patch *p;
    struct sw_tenant out;
};

static int tenant_update_tx(struct db_conn *c, void *ud)
{
    struct tenant_upd *u = ud;
    const struct sw_tenant_patch *p = u->p;
    memset(&u->out, 0, sizeof(u->out));
    struct sw_tenant_settings old;
    int rc = settings_in(c, SQL_SETTINGS_LOCK, u->tenant_id, &old);
    if (rc < 0)
        return rc;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_TENANT_PATCH, &st)) < 0)
        return rc;
    db_bind_text(st, 1, u->tenant_id);
    db_bind_text(st, 2, p->name);               /* NULL keeps */
    db_bind_text(st, 3, p->timezone);
    db_bind_int64(st, 4, p->cap_action);
    db_bind_int64(st, 5, p->cap);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = store_tenants_changed_in(c)) < 0)
        return rc;
    if (p->timezone && strcmp(p->timezone, old.timezone) != 0) {
        int64_t rows = 0;
        if ((rc = sql_analytics_rebuild_tenant_in(c, u->tenant_id, &rows)) < 0)
            return rc;
    }
    if ((rc = db_prep(c, SQL_TENANT_ROW, &st)) < 0)
        return rc;
    db_bind_text(st, 1, u->tenant_id);
    rc = db_step_one(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return SW_E_STORE;                      /* locked above: cannot vanish */
    db_col_copy(st, 0, u->out.id, sizeof(u->out.id));
    db_col_copy(st, 1, u->out.name, sizeof(u->out.name));
    db_col_copy(st, 2, u->out.template_name, sizeof(u->out.template_name));
    db_col_copy(st, 3, u->out.timezone, sizeof(u->out.timezone));
    u->out.created_at = db_col_int64(st, 4);
    db_reset(st);
    return 0;
}

int sql_analytics_tenant_update(struct store *base, const char *tenant_id,
                                const struct sw_tenant_patch *p, struct sw_tenant *out)
{
    struct tenant_upd u = {.tenant_id = tenant_id, .p = p};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, tenant_update_tx, &u);
    if (rc == 0)
        *out = u.out;
    return rc;
}

/* ---- live gauges ------------------------------------------------------------------------- */

static const char SQL_LIVE_ADD[] =
    "INSERT INTO live_snapshots (tenant_id, at, open, breaches, warnings) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, at) DO NOTHING";
static const char SQL_LIVE_PRUNE[] =
    "DELETE FROM live_snapshots WHERE tenant_id = ?1 AND at < ?2";
static const char SQL_LIVE_LIST[] =
    "SELECT at, open, breaches, warnings FROM live_snapshots "
    "WHERE tenant_id = ?1 AND at >= ?2 ORDER BY at";

struct live_write {
    const char *tenant_id;
    const struct sw_live_snapshot *snap;
    int64_t keep_after;
};

static int live_add_tx(struct db_conn *c, void *ud)
{
    struct live_write *w = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LIVE_ADD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, w->tenant_id);
    db_bind_int64(st, 2, w->snap->at);
    db_bind_int64(st, 3, w->snap->open);
    db_bind_int64(st, 4, w->snap->breaches);
    db_bind_int64(st, 5, w->snap->warnings);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_LIVE_PRUNE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, w->tenant_id);
    db_bind_int64(st, 2, w->keep_after);
    return db_exec(st);
}

int sql_analytics_live_add(struct store *base, const char *tenant_id,
                           const struct sw_live_snapshot *snap, int64_t keep_after)
{
    struct live_write w = {tenant_id, snap, keep_after};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, live_add_tx, &w);
}

int sql_analytics_live_list(struct store *base, const char *tenant_id, int64_t from_ms,
                            store_live_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LIVE_LIST, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_int64(st, 2, from_ms);
        struct sw_live_snapshot snap;
        while ((rc = db_step(st)) == DB_ROW) {
            snap.at = db_col_int64(st, 0);
            snap.open = db_col_int64(st, 1);
            snap.breaches = db_col_int64(st, 2);
            snap.warnings = db_col_int64(st, 3);
            if (cb(&snap, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}
