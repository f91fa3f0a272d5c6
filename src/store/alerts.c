/* alerts.c: the alerts row (store_alerts.h): how an alert is bound, read
 * and rewritten, its lifecycle changes, the list with its filters, its
 * events, and the subject's ops table.
 *
 * The row mirrors the core's struct sla_alert column by column, so every
 * write runs the core on what it just read and writes back what the core
 * said, in one transaction with its event, its rollups and its next
 * escalation instant.  A change reads the row {FOR_UPDATE}: two nodes
 * acknowledging the same alert queue on the row instead of both writing.
 * Before it, the tenant row {FOR_SHARE}: every alert write locks the tenant
 * first, then alerts, so a change never deadlocks with a policy change
 * (tenant {FOR_UPDATE}, then the tenant's open alerts).
 *
 * Default instants.  A change without an instant (at = 0) happens "now,
 * inside the transaction": the later of now and the alert's last state
 * change, read under the row lock.  The HTTP layer's `now` is taken before
 * the transaction, so a concurrent change may commit a later instant
 * first; an explicit instant is still refused when it goes back in time.
 * Alerts never pause (paused_since stays 0): reopening adds the resolved
 * interval to paused_ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts_int.h"
#include "util/xalloc.h"
#include "util/str.h"

/* ---- names ------------------------------------------------------------- */

static const char *src_name(enum sla_src src)
{
    const char *n = sla_src_name(SLA_ALERT, src);
    return n ? n : "builtin";
}

static enum sla_src src_parse(const char *s)
{
    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        const char *n = sla_src_name(SLA_ALERT, (enum sla_src)i);
        if (n && strcmp(n, s) == 0)
            return (enum sla_src)i;
    }
    return SLA_SRC_BUILTIN;
}

enum sla_sev alert_sev_of(const char *name, enum sla_sev dflt)
{
    enum sla_sev v;
    return name && *name && sla_sev_parse(SLA_ALERT, name, &v) == 0 ? v : dflt;
}

/* ---- statements -------------------------------------------------------- */

#define ALERT_COLS                                                              \
    "tenant_id, id, project_id, severity, state, title, source, created_at, "   \
    "acknowledged_at, resolved_at, "                                            \
    "ack_started_at, ack_target_ms, ack_paused_ms, ack_paused_since, "          \
    "ack_stopped_at, ack_last_event_at, "                                       \
    "res_started_at, res_target_ms, res_paused_ms, res_paused_since, "          \
    "res_stopped_at, res_last_event_at, "                                       \
    "ack_fired, ack_breach_fired, res_fired, res_breach_fired, "                \
    "ack_min, resolve_min, warn_pct, penalty_cph, "                             \
    "ack_src, resolve_src, warn_src, penalty_src, "                             \
    "ack_due_at, resolve_due_at, next_check_at, escalation_level, updated_at, "   \
    "ack_penalty_cph, ack_penalty_src, "                                        \
    "ack_calendar, res_calendar, ack_elapsed_ms, res_elapsed_ms"

#define ALERT_NCOLS 45          /* the columns of ALERT_COLS, the ?s of ALERT_PARAMS */

#define ALERT_PARAMS                                                            \
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "   \
    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, "    \
    "?31, ?32, ?33, ?34, ?35, ?36, NULLIF(?37, 9223372036854775807), ?38, ?39, " \
    "?40, ?41, ?42, ?43, ?44, ?45"

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (" ALERT_COLS ") VALUES (" ALERT_PARAMS ") "
    "ON CONFLICT (tenant_id, id) DO NOTHING";

#define ALERT_UPDATE_SET                                                        \
    "UPDATE alerts SET project_id = ?3, severity = ?4, state = ?5, title = ?6, source = ?7, " \
    "created_at = ?8, acknowledged_at = ?9, resolved_at = ?10, " \
    "ack_started_at = ?11, ack_target_ms = ?12, ack_paused_ms = ?13, ack_paused_since = ?14, " \
    "ack_stopped_at = ?15, ack_last_event_at = ?16, " \
    "res_started_at = ?17, res_target_ms = ?18, res_paused_ms = ?19, res_paused_since = ?20, " \
    "res_stopped_at = ?21, res_last_event_at = ?22, " \
    "ack_fired = ?23, ack_breach_fired = ?24, res_fired = ?25, res_breach_fired = ?26, " \
    "ack_min = ?27, resolve_min = ?28, warn_pct = ?29, penalty_cph = ?30, " \
    "ack_src = ?31, resolve_src = ?32, warn_src = ?33, penalty_src = ?34, " \
    "ack_due_at = ?35, resolve_due_at = ?36, " \
    "next_check_at = NULLIF(?37, 9223372036854775807), escalation_level = ?38, " \
    "updated_at = ?39, ack_penalty_cph = ?40, ack_penalty_src = ?41, " \
    "ack_calendar = ?42, res_calendar = ?43, ack_elapsed_ms = ?44, res_elapsed_ms = ?45 "

static const char SQL_ALERT_UPDATE[] = ALERT_UPDATE_SET " WHERE tenant_id = ?1 AND id = ?2";
/* What the scheduler and an escalation change (alert_save_esc_in): the
 * alarms, the level, the instants, the escalation columns.  Not every
 * column: an UPDATE rewrites each index whose columns it assigns, and the
 * whole-row form kept four indexes busy for two that change. */
static const char SQL_ALERT_UPDATE_ESC[] =
    "UPDATE alerts SET ack_fired = ?3, ack_breach_fired = ?4, res_fired = ?5, "
    "res_breach_fired = ?6, ack_due_at = ?7, resolve_due_at = ?8, "
    "next_check_at = NULLIF(?9, 9223372036854775807), escalation_level = ?10, "
    "updated_at = ?11, escalated_at = ?12, esc_severity = ?13, "
    "esc_due_at = NULLIF(?14, 9223372036854775807) WHERE tenant_id = ?1 AND id = ?2";

static const char SQL_ALERT_GET[] =
    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ALERT_GET_LOCK[] =
    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ?1 AND id = ?2 {FOR_UPDATE}";
static const char SQL_ALERT_GET_ESC[] =
    "SELECT " ALERT_COLS ", escalated_at, esc_severity, esc_due_at FROM alerts "
    "WHERE tenant_id = ?1 AND id = ?2 {FOR_UPDATE}";

/* Breached at ?7: a stopped clock after its due, a running one past it. */
#define BREACHED_SQL                                                            \
    "(CASE WHEN (CASE WHEN ack_stopped_at > 0 THEN ack_stopped_at ELSE ?7 END) > ack_due_at " \
    "OR (CASE WHEN res_stopped_at > 0 THEN res_stopped_at ELSE ?7 END) > resolve_due_at "     \
    "THEN 1 ELSE 0 END)"

/* Filters: NULL text = any; ?6 -1 = any; ?9 a LIKE pattern over the id
 * and the title, lower case, '\' escaping. */
static const char SQL_ALERT_LIST[] =
    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ?1 AND id > ?2 "
    "AND (CAST(?3 AS TEXT) IS NULL OR project_id = ?3) "
    "AND (CAST(?4 AS TEXT) IS NULL OR state = ?4 OR (?4 = 'unresolved' AND state <> 'resolved')) "
    "AND (CAST(?5 AS TEXT) IS NULL OR severity = ?5) "
    "AND (?6 < 0 OR ?6 = " BREACHED_SQL ") "
    "AND (CAST(?9 AS TEXT) IS NULL OR lower(id) LIKE ?9 ESCAPE '\\' "
    "OR lower(title) LIKE ?9 ESCAPE '\\') "
    "ORDER BY id LIMIT ?8";

/* ---- rows -------------------------------------------------------------- */

static void bind_clock(struct db_stmt *st, int i, const struct sla_clock *k)
{
    db_bind_int64(st, i, k->started_at);
    db_bind_int64(st, i + 1, k->target_ms);
    db_bind_int64(st, i + 2, k->paused_ms);
    db_bind_int64(st, i + 3, k->paused_since);
    db_bind_int64(st, i + 4, k->stopped_at);
    db_bind_int64(st, i + 5, k->last_event_at);
}

static void read_clock(struct db_stmt *st, int i, struct sla_clock *k)
{
    k->started_at = db_col_int64(st, i);
    k->target_ms = db_col_int64(st, i + 1);
    k->paused_ms = db_col_int64(st, i + 2);
    k->paused_since = db_col_int64(st, i + 3);
    k->stopped_at = db_col_int64(st, i + 4);
    k->last_event_at = db_col_int64(st, i + 5);
}

/* ?1..?45 of SQL_ALERT_INSERT / SQL_ALERT_UPDATE (x outlives the step). */
/* Binds x as ?(o+1) .. ?(o+45) (o = 0 for a one-row statement). */
static void bind_alert_at(struct db_stmt *st, int o, const struct sw_alert *x)
{
    const struct sla_alert *a = &x->a;
    db_bind_text(st, o + 1, x->tenant_id);
    db_bind_text(st, o + 2, x->id);
    db_bind_text(st, o + 3, x->project_id);
    db_bind_text(st, o + 4, sla_sev_name(a->sev));
    db_bind_text(st, o + 5, sla_alert_state_name(a->state));
    db_bind_text(st, o + 6, x->title);
    db_bind_text(st, o + 7, x->source);
    db_bind_int64(st, o + 8, a->created_at);
    db_bind_int64(st, o + 9, a->acknowledged_at);
    db_bind_int64(st, o + 10, a->resolved_at);
    bind_clock(st, o + 11, &a->ack);
    bind_clock(st, o + 17, &a->resolve);
    db_bind_int64(st, o + 23, a->ack_alarm.fired);
    db_bind_int64(st, o + 24, a->ack_alarm.breach_fired);
    db_bind_int64(st, o + 25, a->resolve_alarm.fired);
    db_bind_int64(st, o + 26, a->resolve_alarm.breach_fired);
    db_bind_int64(st, o + 27, a->targets.ack_min);
    db_bind_int64(st, o + 28, a->targets.resolve_min);
    db_bind_int64(st, o + 29, a->targets.warn_pct);
    db_bind_int64(st, o + 30, a->targets.penalty_cph);
    db_bind_text(st, o + 31, src_name(a->targets.ack_src));
    db_bind_text(st, o + 32, src_name(a->targets.resolve_src));
    db_bind_text(st, o + 33, src_name(a->targets.warn_src));
    db_bind_text(st, o + 34, src_name(a->targets.penalty_src));
    db_bind_int64(st, o + 35, sla_clock_due(&a->ack, x->updated_at));
    db_bind_int64(st, o + 36, sla_clock_due(&a->resolve, x->updated_at));
    db_bind_int64(st, o + 37, x->next_check_at);
    db_bind_int64(st, o + 38, x->escalation_level);
    db_bind_int64(st, o + 39, x->updated_at);
    db_bind_int64(st, o + 40, a->targets.ack_penalty_cph);
    db_bind_text(st, o + 41, src_name(a->targets.ack_penalty_src));
    db_bind_text(st, o + 42, x->ack_cal[0] ? x->ack_cal : NULL);
    db_bind_text(st, o + 43, x->res_cal[0] ? x->res_cal : NULL);
    /* a clock stopped on a calendar: its frozen active time (its due is
     * the due column, which sla_clock_due then answers) */
    if (sla_clock_is_stopped(&a->ack) && a->ack.stop_due)
        db_bind_int64(st, o + 44, a->ack.stop_elapsed);
    else
        db_bind_null(st, o + 44);
    if (sla_clock_is_stopped(&a->resolve) && a->resolve.stop_due)
        db_bind_int64(st, o + 45, a->resolve.stop_elapsed);
    else
        db_bind_null(st, o + 45);
}

static void bind_alert(struct db_stmt *st, const struct sw_alert *x)
{
    bind_alert_at(st, 0, x);
}

static void read_alert(struct db_stmt *st, struct sw_alert *x)
{
    struct sla_alert *a = &x->a;
    memset(x, 0, sizeof(*x));
    db_col_copy(st, 0, x->tenant_id, sizeof(x->tenant_id));
    db_col_copy(st, 1, x->id, sizeof(x->id));
    db_col_copy(st, 2, x->project_id, sizeof(x->project_id));
    a->sev = alert_sev_of(db_col_text(st, 3), SLA_SEV_LOW);
    enum sla_alert_state state = SLA_ALERT_OPEN;
    sla_alert_state_parse(db_col_text(st, 4), &state);
    a->state = state;
    db_col_copy(st, 5, x->title, sizeof(x->title));
    db_col_copy(st, 6, x->source, sizeof(x->source));
    a->created_at = db_col_int64(st, 7);
    a->acknowledged_at = db_col_int64(st, 8);
    a->resolved_at = db_col_int64(st, 9);
    read_clock(st, 10, &a->ack);
    read_clock(st, 16, &a->resolve);
    a->ack_alarm.fired = (uint32_t)db_col_int64(st, 22);
    a->ack_alarm.breach_fired = db_col_int64(st, 23) != 0;
    a->resolve_alarm.fired = (uint32_t)db_col_int64(st, 24);
    a->resolve_alarm.breach_fired = db_col_int64(st, 25) != 0;
    a->targets.ack_min = db_col_int(st, 26);
    a->targets.resolve_min = db_col_int(st, 27);
    a->targets.warn_pct = db_col_int(st, 28);
    a->targets.penalty_cph = db_col_int64(st, 29);
    a->targets.ack_src = src_parse(db_col_text(st, 30));
    a->targets.resolve_src = src_parse(db_col_text(st, 31));
    a->targets.warn_src = src_parse(db_col_text(st, 32));
    a->targets.penalty_src = src_parse(db_col_text(st, 33));
    /* 34, 35: derived due instants, recomputed by the core on read, but
     * for a clock stopped on a calendar: its frozen verdict */
    x->next_check_at = db_col_int64_or(st, 36, SLA_NEVER);
    x->escalation_level = db_col_int(st, 37);
    x->updated_at = db_col_int64(st, 38);
    a->targets.ack_penalty_cph = db_col_int64(st, 39);
    a->targets.ack_penalty_src = src_parse(db_col_text(st, 40));
    db_col_copy(st, 41, x->ack_cal, sizeof(x->ack_cal));
    db_col_copy(st, 42, x->res_cal, sizeof(x->res_cal));
    struct sla_clock *k[2] = {&a->ack, &a->resolve};
    for (int i = 0; i < 2; i++) {
        if (!sla_clock_is_stopped(k[i]) || db_col_null(st, 43 + i))
            continue;
        k[i]->stop_elapsed = db_col_int64(st, 43 + i);
        k[i]->stop_due = db_col_int64(st, 34 + i);
    }
}

/* ---- for the other alert files (store_int.h, alerts_int.h) ---------------- */

/* The scheduler's next instant for this alert: its thresholds (store_int.h
 * struct alert_th) and breach, over both clocks. */
int64_t store_alert_next_check(const struct sla_alert *a, const struct alert_th *m, int64_t now)
{
    uint8_t th[SLA_THRESHOLDS_MAX];
    size_t n = alert_th_of(m, a, th);
    sla_ms x = sla_next_check(&a->ack, th, n, a->ack_alarm.fired, a->ack_alarm.breach_fired, now);
    sla_ms y = sla_next_check(&a->resolve, th, n, a->resolve_alarm.fired,
                              a->resolve_alarm.breach_fired, now);
    return x < y ? x : y;
}

/* One alert by a SELECT of ALERT_COLS (then the escalation columns when e). */
static int get_in(struct db_conn *c, const char *sql, const char *tenant_id, const char *id,
                  struct sw_alert *x, struct esc_cols *e)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    if ((rc = db_step_one(st)) != 1)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    read_alert(st, x);
    if (e)
        esc_cols_read(st, ALERT_NCOLS, e);
    db_reset(st);
    return alert_attach_in(c, NULL, x);
}

int store_alert_get_in(struct db_conn *c, const char *tenant_id, const char *id, bool lock,
                       struct sw_alert *out)
{
    return get_in(c, lock ? SQL_ALERT_GET_LOCK : SQL_ALERT_GET, tenant_id, id, out, NULL);
}

int alert_get_esc_in(struct db_conn *c, const char *tenant_id, const char *id,
                     struct sw_alert *x, struct esc_cols *e)
{
    return get_in(c, SQL_ALERT_GET_ESC, tenant_id, id, x, e);
}

int store_alert_save_in(struct db_conn *c, const struct sw_alert *x)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ALERT_UPDATE, &st);
    if (rc < 0)
        return rc;
    bind_alert(st, x);
    return db_exec(st);
}

int alert_save_esc_in(struct db_conn *c, const struct sw_alert *x, const struct esc_cols *e)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ALERT_UPDATE_ESC, &st);
    if (rc < 0)
        return rc;
    const struct sla_alert *a = &x->a;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_int64(st, 3, a->ack_alarm.fired);
    db_bind_int64(st, 4, a->ack_alarm.breach_fired);
    db_bind_int64(st, 5, a->resolve_alarm.fired);
    db_bind_int64(st, 6, a->resolve_alarm.breach_fired);
    db_bind_int64(st, 7, sla_clock_due(&a->ack, x->updated_at));
    db_bind_int64(st, 8, sla_clock_due(&a->resolve, x->updated_at));
    db_bind_int64(st, 9, x->next_check_at);
    db_bind_int64(st, 10, x->escalation_level);
    db_bind_int64(st, 11, x->updated_at);
    db_bind_int64(st, 12, e->escalated_at);
    db_bind_text(st, 13, e->sev);
    db_bind_int64(st, 14, e->due_at);
    return db_exec(st);
}

int alert_insert_in(struct db_conn *c, const struct sw_alert *x)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ALERT_INSERT, &st);
    if (rc < 0)
        return rc;
    bind_alert(st, x);
    rc = db_step(st);
    int64_t n = rc >= 0 ? db_changes(st) : 0;
    db_reset(st);
    return rc < 0 ? rc : n > 0;
}

/* ---- several new rows in one statement ---------------------------------------- */

/* The INSERTs of 1, 2, 4 ... ALERT_INSERT_MAX rows (db_rows): a statement
 * per row made creating alerts on PostgreSQL cost two round trips per alert
 * (the alert, its event), and the writer runs its batch's statements one
 * after the other. */
#define ALERT_NPARAMS ALERT_NCOLS
_Static_assert(DB_ROWS_MAX == ALERT_INSERT_MAX, "a batch of alerts is one piece at most");

static struct db_rows insert_many =
    DB_ROWS("INSERT INTO alerts (" ALERT_COLS ") VALUES ", "(" ALERT_PARAMS ")",
            " ON CONFLICT (tenant_id, id) DO NOTHING RETURNING tenant_id, id", ALERT_NPARAMS);

/* One statement of rows = 2^k rows. */
static int insert_piece(struct db_conn *c, int k, struct sw_alert *const *x, bool *created)
{
    int rows = 1 << k;
    struct db_stmt *st;
    int rc = db_prep(c, db_rows_sql(&insert_many, k), &st);
    if (rc < 0)
        return rc;
    for (int r = 0; r < rows; r++)
        bind_alert_at(st, r * ALERT_NPARAMS, x[r]);
    int next = 0;       /* RETURNING comes in VALUES order; search from there */
    while ((rc = db_step(st)) == DB_ROW) {
        const char *t = db_col_text(st, 0), *id = db_col_text(st, 1);
        for (int n = 0; n < rows; n++) {
            int j = (next + n) % rows;
            if (!created[j] && strcmp(x[j]->tenant_id, t) == 0 && strcmp(x[j]->id, id) == 0) {
                created[j] = true;
                next = j + 1;
                break;
            }
        }
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int alert_insert_many_in(struct db_conn *c, struct sw_alert *const *x, size_t n, bool *created)
{
    for (size_t i = 0; i < n; i++)
        created[i] = false;
    size_t off = 0;
    while (off < n) {
        int k = db_rows_piece(n - off);
        int rc = insert_piece(c, k, x + off, created + off);
        if (rc < 0)
            return rc;
        off += (size_t)1 << k;
    }
    return 0;
}

void alert_event_fill(struct sw_event *e, const struct sw_alert *x, const char *type,
                      const char *actor, int64_t at, const char *data)
{
    memset(e, 0, sizeof(*e));
    sw_scopy(e->tenant_id, sizeof(e->tenant_id), x->tenant_id);
    sw_scopy(e->item_kind, sizeof(e->item_kind), "alert");
    sw_scopy(e->item_id, sizeof(e->item_id), x->id);
    sw_scopy(e->type, sizeof(e->type), type);
    sw_scopy(e->actor, sizeof(e->actor), actor ? actor : "");
    e->at = at;
    e->data = data;
}

int store_alert_event_add_in(struct db_conn *c, const struct sw_alert *x, const char *type,
                             const char *actor, int64_t at, const char *data,
                             int64_t *event_id)
{
    struct sw_event e;
    alert_event_fill(&e, x, type, actor, at, data);
    return store_event_add_in(c, &e, event_id);
}

/* Names and instants only: nothing that needs escaping. */
void alert_due_json(const struct sw_alert *x, const char *extra, char *buf, size_t len)
{
    char ack[SLA_TIME_BUFSZ], res[SLA_TIME_BUFSZ];
    sla_time_format(sla_clock_due(&x->a.ack, x->updated_at), ack);
    sla_time_format(sla_clock_due(&x->a.resolve, x->updated_at), res);
    snprintf(buf, len, "{\"severity\":\"%s\",\"ack_due_at\":\"%s\",\"resolve_due_at\":\"%s\"%s}",
             sla_sev_name(x->a.sev), ack, res, extra ? extra : "");
}

/* ---- get --------------------------------------------------------------------- */

static int alert_get(struct store *base, const char *tenant_id, const char *id,
                     struct sw_alert *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = store_alert_get_in(c, tenant_id, id, false, out);
    db_release(c);
    return rc;
}

/* ---- change ------------------------------------------------------------------- */

static const char *action_event(enum sw_alert_action a)
{
    switch (a) {
    case SW_ALERT_ACKNOWLEDGE: return "acknowledged";
    case SW_ALERT_RESOLVE: return "resolved";
    case SW_ALERT_REOPEN: return "reopened";
    case SW_ALERT_SET_SEVERITY: return "severity_changed";
    }
    return "changed";
}

/* "Now, inside the transaction": never before the alert's last state
 * change (each one is the last event of a clock), so the core cannot
 * refuse it as going back in time. */
static int64_t default_at(const struct sw_alert *x, int64_t now)
{
    int64_t at = now;
    if (x->a.ack.last_event_at > at)
        at = x->a.ack.last_event_at;
    if (x->a.resolve.last_event_at > at)
        at = x->a.resolve.last_event_at;
    return at;
}

/* Applies ch at `at` to x (p: the policy, loaded for a reopen or a
 * severity change).  1 = nothing to change, 0 = changed, < 0 = refused. */
static int apply_change(struct sw_alert *x, const struct sw_alert_change *ch, int64_t at,
                        int64_t now, const struct sw_alert_policy *p)
{
    switch (ch->action) {
    case SW_ALERT_ACKNOWLEDGE:
        if (x->a.state == SLA_ALERT_ACKNOWLEDGED)
            return 1;       /* the first acknowledgement stands */
        return sla_alert_acknowledge(&x->a, at);
    case SW_ALERT_RESOLVE:
        return sla_alert_resolve(&x->a, at);
    case SW_ALERT_REOPEN:
        return sla_alert_reopen(&x->a, at);
    case SW_ALERT_SET_SEVERITY: {
        if (x->a.state == SLA_ALERT_RESOLVED)
            return SW_E_CONFLICT;
        if (x->a.sev == ch->sev)
            return 1;
        struct sla_alert_scopes sc;
        sw_alert_policy_scopes(p, &sc);
        return sla_alert_set_severity(&x->a, ch->sev, &sc, now);
    }
    }
    return SW_E_INVAL;
}

static bool any_stopped(const struct sw_alert *x)
{
    return sla_clock_is_stopped(&x->a.ack) || sla_clock_is_stopped(&x->a.resolve);
}

struct change_ctx {
    const char *tenant_id, *id;
    const struct sw_alert_change *ch;
    int64_t now;
    struct sw_alert x, before;
    struct sw_alert_policy p;
};

int alert_save_change_in(struct db_conn *c, const struct sw_alert *before, struct sw_alert *x,
                         int64_t now, int64_t *hint_at)
{
    x->updated_at = now;
    struct alert_th th = {0};
    int rc = alert_th_load_in(c, &th, x->tenant_id);
    if (rc < 0)
        return rc;
    x->next_check_at = store_alert_next_check(&x->a, &th, now);
    rc = store_alert_save_in(c, x);
    if (rc < 0)
        return rc;
    /* a clock stopped or un-stopped (or a stopped one changed severity):
     * its day's rollup; a severity change moves the alert's volume too */
    if ((any_stopped(before) || any_stopped(x) || before->a.sev != x->a.sev) &&
        (rc = store_rollup_change_in(c, before, x)) < 0)
        return rc;
    int64_t esc_at = SLA_NEVER;
    if ((rc = store_alert_escalation_sync_in(c, x, now, &esc_at)) < 0)
        return rc;
    *hint_at = x->next_check_at < esc_at ? x->next_check_at : esc_at;
    return 0;
}

static int change_tx(struct db_conn *c, void *ud)
{
    struct change_ctx *k = ud;
    const struct sw_alert_change *ch = k->ch;
    struct sw_alert *x = &k->x;
    /* the tenant first (the rollups read it, a policy change locks it),
     * then the alert: the lock order of every alert write */
    int rc = alert_tenant_lock_in(c, k->tenant_id, ALERT_LOCK_SHARE);
    if (rc == 0)
        rc = store_alert_get_in(c, k->tenant_id, k->id, true, x);
    if (rc < 0)
        return rc;
    k->before = *x;
    bool at_now = ch->action == SW_ALERT_SET_SEVERITY;
    int64_t at = at_now ? k->now : ch->at ? ch->at : default_at(x, k->now);
    /* the policy, where running clocks may change target or calendar */
    bool follow = ch->action == SW_ALERT_SET_SEVERITY || ch->action == SW_ALERT_REOPEN;
    if (follow && (rc = alert_policy_load_in(c, k->tenant_id, x->project_id, ALERT_LOCK_NONE,
                                             &k->p)) != 0)
        return rc > 0 ? SW_E_NOTFOUND : rc;
    if ((rc = apply_change(x, ch, at, k->now, &k->p)) != 0)
        return rc;          /* 1: nothing changes, nothing is written */
    /* a reopen's resolved interval is a pause of the clocks it continues;
     * clocks running again (or of a new severity) follow the calendar the
     * definition names now */
    if (follow && ((rc = alert_pauses_record_in(c, &k->before, x)) < 0 ||
                   (rc = alert_follow_calendar_in(c, NULL, x, &k->p, k->now, NULL)) < 0))
        return rc;
    int64_t hint_at = SLA_NEVER;
    if ((rc = alert_save_change_in(c, &k->before, x, k->now, &hint_at)) < 0)
        return rc;
    char sevdata[96];
    const char *data = ch->data_json;
    if (ch->action == SW_ALERT_SET_SEVERITY) {
        snprintf(sevdata, sizeof(sevdata), "{\"from\":\"%s\",\"to\":\"%s\"}",
                 sla_sev_name(k->before.a.sev), sla_sev_name(x->a.sev));
        data = sevdata;
    }
    rc = store_alert_event_add_in(c, x, action_event(ch->action), ch->actor, at, data, NULL);
    if (rc < 0)
        return rc;
    /* wake the scheduler if this made an earlier instant */
    return store_hint_in(c, hint_at, k->now);
}

static int alert_change(struct store *base, const char *tenant_id, const char *id,
                        const struct sw_alert_change *ch, int64_t now, struct sw_alert *out)
{
    struct change_ctx *k = xcalloc(1, sizeof(*k));
    k->tenant_id = tenant_id;
    k->id = id;
    k->ch = ch;
    k->now = now;
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, change_tx, k);
    if (rc == 1)
        rc = 0;             /* unchanged: committed nothing */
    if (rc == 0)
        *out = k->x;
    free(k);
    return rc;
}

/* ---- list ---------------------------------------------------------------------- */

static int alert_list(struct store *base, const struct sw_alert_filter *f, store_alert_cb cb,
                      void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ALERT_LIST, &st);
    if (rc < 0) {
        db_release(c);
        return rc;
    }
    db_bind_text(st, 1, f->tenant_id);
    db_bind_text(st, 2, f->after_id ? f->after_id : "");
    db_bind_text(st, 3, f->project_id);
    db_bind_text(st, 4, f->state >= 0 ? sla_alert_state_name((enum sla_alert_state)f->state)
                        : f->state == SW_ALERT_UNRESOLVED ? "unresolved" : NULL);
    db_bind_text(st, 5, f->sev >= 0 ? sla_sev_name((enum sla_sev)f->sev) : NULL);
    db_bind_int64(st, 6, f->breached >= 0 ? (f->breached != 0) : -1);
    db_bind_int64(st, 7, f->now);
    db_bind_int64(st, 8, f->limit);
    char *pattern = NULL;
    if (f->text && *f->text) {
        /* %text%, lower case (ASCII), LIKE's own characters escaped */
        size_t n = strlen(f->text);
        pattern = xmalloc(2 * n + 3);
        size_t k = 0;
        pattern[k++] = '%';
        for (const char *p = f->text; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\')
                pattern[k++] = '\\';
            pattern[k++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        }
        pattern[k++] = '%';
        pattern[k] = '\0';
    }
    db_bind_text(st, 9, pattern);
    struct sw_alert *x = xmalloc(sizeof(*x));
    struct cal_memo memo = {0};
    while ((rc = db_step(st)) == DB_ROW) {
        read_alert(st, x);
        if ((rc = alert_attach_in(c, &memo, x)) < 0 || cb(x, ud))
            break;
    }
    db_reset(st);
    free(x);
    free(pattern);
    db_release(c);
    return rc < 0 ? rc : 0;
}

const struct store_alert_ops sql_alert_ops = {
    .create = alert_create,
    .create_async = alert_create_async,
    .create_many = alert_create_many,
    .get = alert_get,
    .change = alert_change,
    .list = alert_list,
    .policy_get = alert_policy_get,
    .definition_merge = alert_definition_merge,
    .definition_apply = alert_definition_apply,
    .recalculate = alert_recalculate,
    .config_create = alert_config_create,
    .config_get = alert_config_get,
    .config_list = alert_config_list,
    .config_update = alert_config_update,
    .config_delete = alert_config_delete,
};
