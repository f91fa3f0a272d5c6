/* findings.c: vulnerability findings as rows (store_findings.h): create,
 * get, update and list, and what the other finding files read the same way
 * (the row join, the tenant's warning thresholds).
 *
 * Derived deadlines (schema 0007).  A live finding row keeps its clock base
 * (discovery + closed pauses), paused_since, state and fired progress
 * (stage, contacts_fired); its target is its group's row of
 * finding_targets, so reads join the two: deadline = clock_base + hours
 * (+ the ongoing pause).  A terminal finding freezes its target in its own
 * row: a verdict is evidence, later policy changes do not move it.
 *
 * A single-finding write loads the row (locked), its group's targets and
 * the tenant's thresholds, lets the core decide (through the caller's
 * store_finding_fn, or sla_finding_init on create), and writes the row back
 * with its event, in one transaction.  Creates are idempotent under
 * concurrency: the INSERT does nothing on a key another node inserted a
 * moment ago, and the row that is there is answered ("existing").
 *
 * Instants.  A caller that has no instant of its own passes now = 0: the
 * store reads the clock inside the transaction, after the row is locked,
 * so two concurrent changes without an explicit instant are ordered as
 * they commit instead of one being refused as "before the last change". */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/findings_int.h"
#include "store/rollups_int.h"
#include "util/xalloc.h"

#define TARGET_JOIN                                                           \
    " f LEFT JOIN finding_targets t ON t.tenant_id = f.tenant_id "           \
    "AND t.project_id = f.project_id AND t.severity = f.severity "

/* 0 tenant_id .. 18 updated_at, 19..21 the calendar, see row_finding (a
 * terminal finding's calendar is the frozen one, NULL included) */
#define COLS                                                                  \
    "f.tenant_id, f.id, f.project_id, f.severity, f.title, f.state, f.created_at, " \
    "COALESCE(f.closed_at, 0), f.clock_base, COALESCE(f.paused_since, 0), "   \
    "COALESCE(f.stopped_at, 0), f.last_event_at, f.stage, f.contacts_fired, "  \
    "COALESCE(f.frozen_hours, t.hours), COALESCE(f.frozen_source, t.source), " \
    "COALESCE(f.frozen_safety_net, t.safety_net), f.ingested_at, f.updated_at, " \
    "CASE WHEN f.frozen_hours IS NULL THEN t.calendar ELSE f.frozen_calendar END, " \
    "f.frozen_due_at, f.frozen_elapsed_ms"

static const char SQL_GET[] =
    "SELECT " COLS " FROM findings" TARGET_JOIN "WHERE f.tenant_id = ?1 AND f.id = ?2";

/* The finding row locked (a lock cannot reach the nullable side of the
 * outer join on PostgreSQL, so it is taken in the subquery). */
static const char SQL_GET_LOCK[] =
    "SELECT " COLS " FROM (SELECT * FROM findings WHERE tenant_id = ?1 AND id = ?2 "
    "{FOR_UPDATE})" TARGET_JOIN;

/* ?1..?18 are the columns a write changes (SQL_UPDATE), ?19..?22 those
 * only an insert sets. */
static const char SQL_INSERT[] =
    "INSERT INTO findings (tenant_id, id, severity, state, closed_at, clock_base, "
    "paused_since, stopped_at, last_event_at, stage, contacts_fired, frozen_hours, "
    "frozen_source, frozen_safety_net, updated_at, frozen_calendar, frozen_due_at, "
    "frozen_elapsed_ms, project_id, title, created_at, ingested_at) "
    "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, 0), ?6, NULLIF(?7, 0), NULLIF(?8, 0), ?9, ?10, ?11, "
    "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22) "
    "ON CONFLICT (tenant_id, id) DO NOTHING";

static const char SQL_UPDATE[] =
    "UPDATE findings SET severity = ?3, state = ?4, closed_at = NULLIF(?5, 0), "
    "clock_base = ?6, paused_since = NULLIF(?7, 0), stopped_at = NULLIF(?8, 0), "
    "last_event_at = ?9, stage = ?10, contacts_fired = ?11, frozen_hours = ?12, "
    "frozen_source = ?13, frozen_safety_net = ?14, updated_at = ?15, "
    "frozen_calendar = ?16, frozen_due_at = ?17, frozen_elapsed_ms = ?18 "
    "WHERE tenant_id = ?1 AND id = ?2";

/* breached at ?8: the clock's end (stop, pause start or now) minus its
 * base is over the target (hours widened before the product: an INTEGER
 * times 3600000 overflows on PostgreSQL) */
static const char SQL_LIST[] =
    "SELECT " COLS " FROM findings" TARGET_JOIN "WHERE f.tenant_id = ?1 "
    "AND (CAST(?2 AS TEXT) IS NULL OR f.state = ?2) "
    "AND (CAST(?3 AS TEXT) IS NULL OR f.severity = ?3) "
    "AND (CAST(?4 AS TEXT) IS NULL OR f.project_id = ?4) "
    "AND (CAST(?5 AS {BIGINT}) IS NULL "
    "  OR (f.frozen_hours IS NULL AND t.calendar IS NOT NULL) "
    "  OR (CASE WHEN f.frozen_elapsed_ms IS NOT NULL THEN "
    "        (CASE WHEN f.stopped_at > f.frozen_due_at THEN 1 ELSE 0 END) "
    "      WHEN COALESCE(f.stopped_at, f.paused_since, ?8) - f.clock_base > "
    "        CAST(COALESCE(f.frozen_hours, t.hours) AS {BIGINT}) * 3600000 THEN 1 ELSE 0 END) = ?5) "
    "AND f.id > ?6 ORDER BY f.id LIMIT ?7";

/* No row: the tenant has no configuration. */
static const char SQL_THRESHOLDS[] =
    "SELECT thresholds FROM notification_config WHERE tenant_id = ?1";

/* ---- small helpers ---------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int findings_read(struct sql_store *s, db_tx_fn fn, void *ud)
{
    struct db_conn *c = db_acquire(s->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = db_begin(c, DB_TX_READ);
    if (rc == 0) {
        rc = fn(c, ud);
        db_rollback(c);         /* nothing was written */
    }
    db_release(c);
    return rc;
}

int findings_src_parse(const char *name, enum sla_src *out)
{
    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        const char *n = sla_src_name(SLA_FINDING, (enum sla_src)i);
        if (n && name && !strcmp(n, name)) {
            *out = (enum sla_src)i;
            return 0;
        }
    }
    return SW_E_INVAL;
}

void findings_event_init(struct sw_event *e, const char *tenant_id, const char *item_id,
                         const char *type, const char *actor, int64_t at, const char *data)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", tenant_id);
    snprintf(e->item_kind, sizeof(e->item_kind), "finding");
    snprintf(e->item_id, sizeof(e->item_id), "%s", item_id);
    snprintf(e->type, sizeof(e->type), "%s", type);
    snprintf(e->actor, sizeof(e->actor), "%s", actor ? actor : "");
    e->at = at;
    e->data = data;
}

/* The stored progress as the core's alarm over thresholds th. */
static struct sla_alarm alarm_of(int stage, const struct thresholds *th)
{
    struct sla_alarm a = {.fired = 0, .breach_fired = stage >= 100};
    for (size_t i = 0; i < th->n; i++)
        if (th->v[i] <= stage)
            a.fired |= UINT32_C(1) << i;
    return a;
}

/* And back: the highest percent fired (100 = the breach). */
static int stage_of(const struct sla_alarm *a, const struct thresholds *th)
{
    int stage = 0;
    if (a->breach_fired)
        return 100;
    for (size_t i = 0; i < th->n; i++)
        if (a->fired & (UINT32_C(1) << i))
            stage = th->v[i];
    return stage;
}

static void row_thresholds(struct sw_finding *r, const struct thresholds *th)
{
    memcpy(r->warn, th->v, sizeof(r->warn));
    r->nwarn = th->n;
}

static int row_finding(struct db_stmt *st, const struct thresholds *th, struct sw_finding *r,
                       int *stage)
{
    struct sla_finding *f = &r->f;
    memset(r, 0, sizeof(*r));
    db_col_copy(st, 0, r->tenant_id, sizeof(r->tenant_id));
    db_col_copy(st, 1, r->id, sizeof(r->id));
    db_col_copy(st, 2, r->project_id, sizeof(r->project_id));
    db_col_copy(st, 4, r->title, sizeof(r->title));
    if (sla_sev_parse(SLA_FINDING, db_col_text(st, 3), &f->sev) < 0 ||
        sla_finding_state_parse(db_col_text(st, 5), &f->state) < 0)
        return SW_E_STORE;
    if (db_col_null(st, 14)) {
        /* a group without target rows (rows loaded by hand): the built-in
         * value until a recalculation or a write resolves the group */
        f->target.hours = sla_finding_builtin()->hours[f->sev];
        f->target.src = SLA_SRC_BUILTIN;
    } else {
        f->target.hours = db_col_int(st, 14);
        if (findings_src_parse(db_col_text(st, 15), &f->target.src) < 0)
            return SW_E_STORE;
        f->target.safety_net = db_col_int64(st, 16) != 0;
    }
    f->created_at = db_col_int64(st, 6);
    f->closed_at = db_col_int64(st, 7);
    f->clock.started_at = f->created_at;
    f->clock.target_ms = (sla_ms)f->target.hours * SLA_MS_PER_HOUR;
    f->clock.paused_ms = db_col_int64(st, 8) - f->created_at;
    f->clock.paused_since = db_col_int64(st, 9);
    f->clock.stopped_at = db_col_int64(st, 10);
    f->clock.last_event_at = db_col_int64(st, 11);
    f->alarm = alarm_of(db_col_int(st, 12), th);
    if (stage)
        *stage = db_col_int(st, 12);
    r->contacts_fired = (uint32_t)db_col_int64(st, 13);
    row_thresholds(r, th);
    r->next_check_at = sla_next_check(&f->clock, th->v, th->n, f->alarm.fired,
                                      f->alarm.breach_fired, 0);
    r->ingested_at = db_col_int64(st, 17);
    r->updated_at = db_col_int64(st, 18);
    db_col_copy(st, 19, r->cal, sizeof(r->cal));
    if (f->clock.stopped_at && !db_col_null(st, 21)) {     /* the frozen verdict */
        f->clock.stop_due = db_col_int64(st, 20);
        f->clock.stop_elapsed = db_col_int64(st, 21);
    }
    return 0;
}

/* row_finding, then the clock on its calendar and its next check. */
static int row_attached(struct db_conn *c, struct cal_memo *memo, struct db_stmt *st,
                        const struct thresholds *th, struct sw_finding *r, int *stage)
{
    int rc = row_finding(st, th, r, stage);
    if (rc < 0 || !r->cal[0])
        return rc;
    if ((rc = findings_attach_in(c, memo, r)) < 0)
        return rc;
    const struct sla_finding *f = &r->f;
    r->next_check_at = sla_next_check(&f->clock, th->v, th->n, f->alarm.fired,
                                      f->alarm.breach_fired, 0);
    return 0;
}

/* Binds the row for SQL_UPDATE (?1..?18) and, with insert, SQL_INSERT. */
static void bind_finding(struct db_stmt *st, const struct sw_finding *r, int stage, bool insert)
{
    const struct sla_finding *f = &r->f;
    db_bind_text(st, 1, r->tenant_id);
    db_bind_text(st, 2, r->id);
    db_bind_text(st, 3, sla_sev_name(f->sev));
    db_bind_text(st, 4, sla_finding_state_name(f->state));
    db_bind_int64(st, 5, f->closed_at);
    db_bind_int64(st, 6, findings_clock_base(r));
    db_bind_int64(st, 7, f->clock.paused_since);
    db_bind_int64(st, 8, f->clock.stopped_at);
    db_bind_int64(st, 9, f->clock.last_event_at);
    db_bind_int64(st, 10, stage);
    db_bind_int64(st, 11, f->alarm.breach_fired ? r->contacts_fired : 0);
    if (sla_finding_state_terminal(f->state)) {   /* the verdict's target, kept */
        db_bind_int64(st, 12, f->target.hours);
        db_bind_text(st, 13, sla_src_name(SLA_FINDING, f->target.src));
        db_bind_int64(st, 14, f->target.safety_net);
    } else {
        db_bind_null(st, 12);
        db_bind_null(st, 13);
        db_bind_null(st, 14);
    }
    db_bind_int64(st, 15, r->updated_at);
    /* a verdict on a calendar: the calendar, due and active time it was
     * judged with (they stand whatever the calendar becomes) */
    if (sla_finding_state_terminal(f->state) && r->cal[0] && f->clock.stop_due) {
        db_bind_text(st, 16, r->cal);
        db_bind_int64(st, 17, f->clock.stop_due);
        db_bind_int64(st, 18, f->clock.stop_elapsed);
    } else {
        db_bind_null(st, 16);
        db_bind_null(st, 17);
        db_bind_null(st, 18);
    }
    if (insert) {
        db_bind_text(st, 19, r->project_id);
        db_bind_text(st, 20, r->title);
        db_bind_int64(st, 21, f->created_at);
        db_bind_int64(st, 22, r->ingested_at);
    }
}

/* ---- for the other finding files ------------------------------------------ */

int findings_scope_exists_in(struct db_conn *c, const char *tenant_id, const char *project_id)
{
    int rc = 1;
    if (*tenant_id)
        rc = store_tenant_exists_in(c, tenant_id);
    if (rc == 1 && *project_id)
        rc = *tenant_id ? store_project_exists_in(c, tenant_id, project_id) : 0;
    return rc < 0 ? rc : rc == 1 ? 0 : SW_E_NOTFOUND;
}

/* The values of a thresholds column: an array of integers (anything else
 * in it is skipped); 0 or SW_E_STORE when the text is not JSON. */
static int thresholds_parse(const char *text, struct thresholds *out)
{
    int vals[32], n = 0;
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        return SW_E_STORE;
    json_t *one = json_is_array(j) ? NULL : j;
    size_t count = one ? 1 : json_array_size(j);
    for (size_t i = 0; i < count; i++) {
        json_t *v = one ? one : json_array_get(j, i);
        if (!json_is_integer(v))
            continue;
        json_int_t x = json_integer_value(v);
        if (x >= 1 && x < 100 && n < (int)(sizeof(vals) / sizeof(vals[0])))
            vals[n++] = (int)x;
    }
    json_decref(j);
    out->n = 0;
    if (n > 0 && sla_thresholds_normalize(vals, (size_t)n, out->v, &out->n, NULL) < 0) {
        /* more distinct values than the core tracks: keep the lowest ones */
        size_t k = 0;
        for (int want = 1; want < 100 && k < SLA_THRESHOLDS_MAX; want++)
            for (int i = 0; i < n; i++)
                if (vals[i] == want) {
                    out->v[k++] = (uint8_t)want;
                    break;
                }
        out->n = k;
    }
    return 0;
}

int findings_thresholds_in(struct db_conn *c, const char *tenant_id, struct thresholds *out)
{
    bool configured;
    return store_thresholds_in(c, tenant_id, out, &configured);
}

int store_thresholds_in(struct db_conn *c, const char *tenant_id, struct thresholds *out,
                        bool *configured)
{
    memset(out, 0, sizeof(*out));
    out->v[0] = sla_thresholds_default[0];
    out->n = 1;
    *configured = false;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_THRESHOLDS, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    rc = db_step_one(st);
    if (rc <= 0)
        return rc;              /* no configuration: the default */
    *configured = true;
    if (!db_col_null(st, 0))
        rc = thresholds_parse(db_col_text(st, 0), out);
    else
        out->n = 0;
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int findings_row_in(struct db_conn *c, const char *tenant_id, const char *id, bool lock,
                    const struct thresholds *th, struct sw_finding *out, int *stage)
{
    struct db_stmt *st;
    int rc = db_prep(c, lock ? SQL_GET_LOCK : SQL_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    rc = db_step_one(st);
    if (rc == 0)
        return SW_E_NOTFOUND;
    if (rc < 0)
        return rc;
    rc = row_finding(st, th, out, stage);
    db_reset(st);
    if (rc == 0 && out->cal[0]) {
        const struct sla_finding *f = &out->f;
        if ((rc = findings_attach_in(c, NULL, out)) == 0)
            out->next_check_at = sla_next_check(&f->clock, th->v, th->n, f->alarm.fired,
                                                f->alarm.breach_fired, 0);
    }
    return rc;
}

/* ---- create ------------------------------------------------------------------ */

/* The history rule's escalation contacts: those of a finding breached
 * before it reached us whose instant (breach + days) has passed too, as
 * the stored mask (bit level - 1). */
static int past_contacts_in(struct db_conn *c, const struct sw_finding *r, int64_t now,
                            uint32_t *levels)
{
    *levels = 0;
    if (r->f.state != SLA_FINDING_OPEN || !r->f.alarm.breach_fired)
        return 0;
    struct sw_policy_chain *ch = xmalloc(sizeof(*ch));
    struct sla_contacts lv[3];
    int rc = findings_chain_in(c, r->tenant_id, r->project_id, false, ch);
    const struct sla_contacts *cs = rc == 0 ? findings_chain_contacts(ch, lv) : NULL;
    if (cs) {
        uint32_t due = sla_contacts_due(sla_clock_due(&r->f.clock, now) + 1, cs->item, cs->n, 0,
                                        now);
        for (size_t i = 0; i < cs->n; i++)
            if (due & (UINT32_C(1) << i))
                *levels |= UINT32_C(1) << (cs->item[i].level - 1);
    }
    free(ch);
    return rc;
}

int findings_create_in(struct db_conn *c, const struct sw_finding_new *in, int64_t now,
                       const char *actor, const struct thresholds *th, struct sw_finding *r,
                       bool *created)
{
    const char *project = in->project_id ? in->project_id : "";
    struct group_targets g;
    struct sla_finding_layer layers[3];
    struct sla_finding_scopes scopes;

    *created = false;
    int rc = findings_row_in(c, in->tenant_id, in->id, false, th, r, NULL);
    if (rc != SW_E_NOTFOUND)
        return rc;              /* 0: already tracked, idempotent */
    if ((rc = findings_scope_exists_in(c, in->tenant_id, project)) < 0)
        return rc;

    memset(r, 0, sizeof(*r));
    snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", in->tenant_id);
    snprintf(r->id, sizeof(r->id), "%s", in->id);
    snprintf(r->project_id, sizeof(r->project_id), "%s", project);
    snprintf(r->title, sizeof(r->title), "%s", in->title ? in->title : "");
    /* closed before discovery: refused before anything is written */
    int64_t closed_at = in->state == SLA_FINDING_OPEN ? 0 : in->closed_at ? in->closed_at : now;
    if (in->state != SLA_FINDING_OPEN &&
        (!sla_finding_state_terminal(in->state) || closed_at < in->discovered_at))
        return SW_E_INVAL;
    if ((rc = findings_group_in(c, in->tenant_id, project, now, &g)) < 0)
        return rc;
    findings_group_scopes(&g, layers, &scopes);
    if ((rc = sla_finding_init(&r->f, in->sev, in->discovered_at, &scopes)) < 0)
        return rc;
    findings_follow_group(r, &g, now);
    if ((rc = findings_follow_calendar_in(c, NULL, r, &g, now)) < 0)
        return rc;
    /* the history rule: what was due by now happened before we knew */
    if ((rc = sla_finding_ingest(&r->f, in->state, closed_at, th->v, th->n, now)) < 0)
        return rc;
    if ((rc = past_contacts_in(c, r, now, &r->contacts_fired)) < 0)
        return rc;
    row_thresholds(r, th);
    r->ingested_at = now;
    r->updated_at = now;
    r->next_check_at = sla_next_check(&r->f.clock, th->v, th->n, r->f.alarm.fired,
                                      r->f.alarm.breach_fired, now);

    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_INSERT, &st)) < 0)
        return rc;
    bind_finding(st, r, stage_of(&r->f.alarm, th), true);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (db_changes(st) == 0)    /* another node created it a moment ago */
        return findings_row_in(c, in->tenant_id, in->id, false, th, r, NULL);
    if ((rc = store_finding_numbers_change_in(c, NULL, r)) < 0)
        return rc;

    char data[96];
    snprintf(data, sizeof(data), "{\"severity\":\"%s\",\"sla_hours\":%d}",
             sla_sev_name(r->f.sev), (int)r->f.target.hours);
    struct sw_event e;
    findings_event_init(&e, r->tenant_id, r->id, "created", actor, in->discovered_at, data);
    if ((rc = store_event_add_in(c, &e, NULL)) < 0)
        return rc;
    if (sla_finding_state_terminal(r->f.state)) {
        snprintf(data, sizeof(data),
                 "{\"from\":\"open\",\"to\":\"%s\",\"breached\":%s,\"history\":true}",
                 sla_finding_state_name(r->f.state),
                 sla_clock_breached(&r->f.clock, now) ? "true" : "false");
        findings_event_init(&e, r->tenant_id, r->id, "closed", actor, r->f.closed_at, data);
        if ((rc = store_event_add_in(c, &e, NULL)) < 0)
            return rc;
    }
    if ((rc = store_hint_in(c, r->next_check_at, now)) < 0)
        return rc;
    *created = true;
    return 0;
}

struct create_ctx {
    const struct sw_finding_new *in;
    int64_t now;
    const char *actor;
    struct sw_finding *r;       /* the result, the caller's */
    bool created;
};

static int create_tx(struct db_conn *c, void *ud)
{
    struct create_ctx *x = ud;
    struct thresholds th;
    x->created = false;
    int rc = findings_thresholds_in(c, x->in->tenant_id, &th);
    if (rc < 0)
        return rc;
    return findings_create_in(c, x->in, x->now ? x->now : wall_ms(), x->actor, &th, x->r,
                              &x->created);
}

static int finding_create(struct store *base, const struct sw_finding_new *in, int64_t now,
                          const char *actor, struct sw_finding *out, bool *created)
{
    struct create_ctx x = {.in = in, .now = now, .actor = actor, .r = xmalloc(sizeof(*x.r))};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, create_tx, &x);
    if (rc == 0) {
        *out = *x.r;
        *created = x.created;
    }
    free(x.r);
    return rc;
}

/* ---- get ------------------------------------------------------------------------ */

struct get_ctx {
    const char *tenant_id, *id;
    struct sw_finding *out;
};

static int get_tx(struct db_conn *c, void *ud)
{
    struct get_ctx *x = ud;
    struct thresholds th;
    int rc = findings_thresholds_in(c, x->tenant_id, &th);
    return rc < 0 ? rc : findings_row_in(c, x->tenant_id, x->id, false, &th, x->out, NULL);
}

static int finding_get(struct store *base, const char *tenant_id, const char *id,
                       struct sw_finding *out)
{
    /* one snapshot: the thresholds and the row as of one instant */
    struct get_ctx x = {.tenant_id = tenant_id, .id = id, .out = out};
    return findings_read(sql_of(base), get_tx, &x);
}

/* ---- update ------------------------------------------------------------------------ */

struct update_ctx {
    const char *tenant_id, *id;
    int64_t now;
    const char *actor;
    store_finding_fn fn;
    void *ud;
    struct sw_finding *r;       /* the result, the caller's */
    struct sw_finding *before;  /* scratch: the row as read */
};

int findings_save_in(struct db_conn *c, struct sw_finding *r, const struct sla_alarm *was,
                     int *stage, const struct thresholds *th, const struct group_targets *g,
                     int64_t now)
{
    findings_follow_group(r, g, now);
    int rc = findings_follow_calendar_in(c, NULL, r, g, now);
    if (rc < 0)
        return rc;
    /* the stored stage stands unless the alarm changed (it may sit between
     * two thresholds after the tenant edited its list) */
    if (r->f.alarm.fired != was->fired || r->f.alarm.breach_fired != was->breach_fired)
        *stage = stage_of(&r->f.alarm, th);
    if (!r->f.alarm.breach_fired)
        r->contacts_fired = 0;
    r->updated_at = now;
    r->next_check_at = sla_next_check(&r->f.clock, th->v, th->n, r->f.alarm.fired,
                                      r->f.alarm.breach_fired, now);
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_UPDATE, &st)) < 0)
        return rc;
    bind_finding(st, r, *stage, false);
    if ((rc = db_exec(st)) < 0)
        return rc;
    return store_hint_in(c, r->next_check_at, now);
}

static int update_tx(struct db_conn *c, void *ud)
{
    struct update_ctx *x = ud;
    struct sw_finding *r = x->r;
    struct group_targets g;
    struct sla_finding_layer layers[3];
    struct sla_finding_scopes scopes;
    struct thresholds th;
    struct sw_finding_event ev;
    int stage = 0;

    int rc = findings_thresholds_in(c, x->tenant_id, &th);
    if (rc < 0 || (rc = findings_row_in(c, x->tenant_id, x->id, true, &th, r, &stage)) < 0)
        return rc;
    /* the row is ours now: an instant read here is after every change
     * committed before, and never before the last one */
    int64_t now = x->now ? x->now : wall_ms();
    int64_t at = now > r->f.clock.last_event_at ? now : r->f.clock.last_event_at;
    if ((rc = findings_group_in(c, x->tenant_id, r->project_id, now, &g)) < 0)
        return rc;
    findings_group_scopes(&g, layers, &scopes);
    struct sla_alarm was = r->f.alarm;
    /* what the findings' numbers knew of it (sev, state, clock, target) */
    struct sw_finding *before = x->before;
    memcpy(before, r, sizeof(*before));
    sla_ms was_paused = r->f.clock.paused_since, was_stopped = r->f.clock.stopped_at;
    memset(&ev, 0, sizeof(ev));
    ev.at = at;
    if ((rc = x->fn(r, &scopes, x->ud, &ev)) < 0)
        return rc;
    /* a pause closed (resumed, or closed while paused), or a reopen that
     * continues the clock: kept, so a move to another calendar re-measures it */
    const struct sla_clock *k = &r->f.clock;
    if (was_paused && !k->paused_since &&
        (rc = findings_pause_add_in(c, r, was_paused, k->stopped_at ? k->stopped_at
                                                                    : k->last_event_at)) < 0)
        return rc;
    if (was_stopped && !k->stopped_at &&
        (rc = findings_pause_add_in(c, r, was_stopped, k->last_event_at)) < 0)
        return rc;
    if ((rc = findings_save_in(c, r, &was, &stage, &th, &g, now)) < 0)
        return rc;
    if ((before->f.state != r->f.state || before->f.sev != r->f.sev) &&
        (rc = store_finding_numbers_change_in(c, before, r)) < 0)
        return rc;
    if (ev.type[0]) {
        struct sw_event e;
        findings_event_init(&e, x->tenant_id, x->id, ev.type, x->actor, ev.at ? ev.at : at,
                            ev.data);
        if ((rc = store_event_add_in(c, &e, NULL)) < 0)
            return rc;
    }
    return 0;
}

static int finding_update(struct store *base, const char *tenant_id, const char *id,
                          int64_t now, const char *actor, store_finding_fn fn, void *ud,
                          struct sw_finding *out)
{
    struct update_ctx x = {.tenant_id = tenant_id, .id = id, .now = now, .actor = actor,
                           .fn = fn, .ud = ud, .r = xmalloc(sizeof(*x.r)),
                           .before = xmalloc(sizeof(*x.before))};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, update_tx, &x);
    if (rc == 0)
        *out = *x.r;
    free(x.r);
    free(x.before);
    return rc;
}

/* ---- list ---------------------------------------------------------------------- */

struct list_ctx {
    const struct sw_finding_filter *fl;
    store_finding_cb cb;
    void *ud;
};

static int list_tx(struct db_conn *c, void *ud)
{
    struct list_ctx *x = ud;
    const struct sw_finding_filter *fl = x->fl;
    struct thresholds th;
    struct db_stmt *st;
    int rc = findings_thresholds_in(c, fl->tenant_id, &th);
    if (rc < 0)
        return rc;
    /* a struct sw_finding is ~1.5 KiB: keep it off the stack of callers' callers */
    struct sw_finding *r = xmalloc(sizeof(*r));
    struct cal_memo memo = {0};
    char after[SW_ID_MAX + 1];
    snprintf(after, sizeof(after), "%s", fl->after_id ? fl->after_id : "");
    int64_t given = 0;
    bool stop = false;
    /* Rows on a calendar pass the SQL's breached filter and are decided
     * here; when some were dropped, the page is filled from the next rows. */
    while (!stop) {
        if ((rc = db_prep(c, SQL_LIST, &st)) < 0)
            break;
        db_bind_text(st, 1, fl->tenant_id);
        db_bind_text(st, 2, fl->state);             /* NULL binds NULL: any */
        db_bind_text(st, 3, fl->severity);
        db_bind_text(st, 4, fl->project_id);
        if (fl->breached >= 0)
            db_bind_int64(st, 5, fl->breached ? 1 : 0);
        else
            db_bind_null(st, 5);
        int64_t want = fl->limit - given;
        db_bind_text(st, 6, after);
        db_bind_int64(st, 7, want);
        db_bind_int64(st, 8, fl->now);
        int64_t got = 0, dropped = 0;
        while ((rc = db_step(st)) == DB_ROW) {
            got++;
            if ((rc = row_attached(c, &memo, st, &th, r, NULL)) < 0)
                break;
            snprintf(after, sizeof(after), "%s", r->id);
            if (fl->breached >= 0 && r->f.clock.cal &&
                sla_clock_breached(&r->f.clock, fl->now) != (fl->breached != 0)) {
                dropped++;
                continue;
            }
            given++;
            if (x->cb(r, x->ud)) {
                rc = DB_DONE;
                stop = true;
                break;
            }
        }
        db_reset(st);
        if (rc < 0 || dropped == 0 || got < want || given >= fl->limit)
            break;
    }
    free(r);
    return rc < 0 ? rc : 0;
}

static int finding_list(struct store *base, const struct sw_finding_filter *fl,
                        store_finding_cb cb, void *ud)
{
    struct list_ctx x = {.fl = fl, .cb = cb, .ud = ud};
    return findings_read(sql_of(base), list_tx, &x);
}

/* ---- the ops table (policy ops: findings_policy.c; scheduler: findings_due.c) ---- */

const struct store_finding_ops sql_finding_ops = {
    .create = finding_create,
    .get = finding_get,
    .update = finding_update,
    .list = finding_list,
    .policy_chain = findings_policy_chain,
    .policy_put = findings_policy_put,
    .policy_dry_run = findings_policy_dry_run,
    .policy_delete = findings_policy_delete,
    .recalculate = findings_recalculate,
    .next_due = findings_next_due,
    .process_due = findings_process_due,
    .sync_many = findings_sync_many,
    .live_numbers = findings_live_numbers,
    .upcoming = findings_upcoming,
    .escalation_get = findings_escalation_get,
    .escalation_ack = findings_escalation_ack,
};
