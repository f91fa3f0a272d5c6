/* alert_counts.c: the SOC seed's volume and auto-resolve metrics (schema
 * 0042): per tenant × local day × severity × project, the alerts created
 * that day and the alerts resolved that day without ever having been
 * acknowledged.  Kept by store_rollup_change_in (analytics.c) in the
 * alert's own transaction, rebuilt with the rollups.
 *
 * The rows are plain counters, so a change is an atomic upsert
 * (count = count + 1) rather than the rollups' read-modify-write: two nodes
 * counting on one row at once both land.  Taking a count back is an UPDATE
 * of an existing row, then the row goes when both counts reach 0, so the
 * rows always equal a rebuild's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rollups_int.h"
#include "store/store_alerts.h"
#include "store/store_analytics.h"
#include "util/log.h"
#include "util/xalloc.h"

#define KEY "tenant_id = ?1 AND day = ?2 AND severity = ?3 AND project_id = ?4"

static const char SQL_ADD[] =
    "INSERT INTO alert_counts (tenant_id, day, severity, project_id, created, auto_resolved) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id, day, severity, project_id) "
    "DO UPDATE SET created = alert_counts.created + excluded.created, "
    "auto_resolved = alert_counts.auto_resolved + excluded.auto_resolved";
/* The volume of a batch of creates: one row per key, in pieces (db_rows);
 * the keys of one statement are distinct (PostgreSQL refuses an upsert
 * that touches a row twice) and come in one order in every batch, so two
 * writers wait for one another instead of deadlocking. */
static struct db_rows add_rows =
    DB_ROWS("INSERT INTO alert_counts (tenant_id, day, severity, project_id, created, "
            "auto_resolved) VALUES ", "(?1, ?2, ?3, ?4, ?5, 0)",
            " ON CONFLICT (tenant_id, day, severity, project_id) "
            "DO UPDATE SET created = alert_counts.created + excluded.created", 5);
static const char SQL_TAKE[] =
    "UPDATE alert_counts SET created = created - ?5, auto_resolved = auto_resolved - ?6 "
    "WHERE " KEY " AND created >= ?5 AND auto_resolved >= ?6";
static const char SQL_DROP_ZERO[] =
    "DELETE FROM alert_counts WHERE " KEY " AND created = 0 AND auto_resolved = 0";

struct ckey {
    char day[SLA_DATE_BUFSZ];
    enum sla_sev sev;
    char project_id[SW_ID_MAX + 1];
};

static void key_of(struct tz *z, const struct sw_alert *x, int64_t at, struct ckey *k)
{
    tz_local_day(z, at, k->day, sizeof(k->day));
    k->sev = x->a.sev;
    snprintf(k->project_id, sizeof(k->project_id), "%s", x->project_id);
}

static bool key_eq(const struct ckey *a, const struct ckey *b)
{
    return a->sev == b->sev && !strcmp(a->day, b->day) && !strcmp(a->project_id, b->project_id);
}

/* sign > 0 adds (created, auto) on the row, < 0 takes them back. */
static int bump(struct db_conn *c, const char *tenant_id, const struct ckey *k, int sign,
                int created, int autor)
{
    struct db_stmt *st;
    int rc = db_prep(c, sign > 0 ? SQL_ADD : SQL_TAKE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, k->day);
    db_bind_text(st, 3, sla_sev_name(k->sev));
    db_bind_text(st, 4, k->project_id);
    db_bind_int64(st, 5, created);
    db_bind_int64(st, 6, autor);
    if ((rc = db_exec(st)) < 0 || sign > 0)
        return rc;
    if (db_changes(st) == 0) {
        log_warn("alert_counts: %s/%s %s %s has nothing to take back; run `slawatch rollups "
                 "rebuild`", tenant_id, k->day, sla_sev_name(k->sev), k->project_id);
        return 0;
    }
    if ((rc = db_prep(c, SQL_DROP_ZERO, &st)) < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, k->day);
    db_bind_text(st, 3, sla_sev_name(k->sev));
    db_bind_text(st, 4, k->project_id);
    return db_exec(st);
}

static bool auto_resolved(const struct sw_alert *x)
{
    return x && sla_clock_is_stopped(&x->a.resolve) && x->a.acknowledged_at == 0;
}

int alert_counts_change_in(struct db_conn *c, struct tz *z, const struct sw_alert *before,
                           const struct sw_alert *after)
{
    struct ckey kb, ka;
    int rc = 0;
    /* volume: the creation day, by the alert's current severity and project */
    key_of(z, after, after->a.created_at, &ka);
    if (before)
        key_of(z, before, before->a.created_at, &kb);
    if (!before || !key_eq(&kb, &ka)) {
        if (before)
            rc = bump(c, after->tenant_id, &kb, -1, 1, 0);
        if (rc == 0)
            rc = bump(c, after->tenant_id, &ka, +1, 1, 0);
    }
    /* auto-resolution: the resolution day */
    bool hb = auto_resolved(before), ha = auto_resolved(after);
    if (hb)
        key_of(z, before, before->a.resolve.stopped_at, &kb);
    if (ha)
        key_of(z, after, after->a.resolve.stopped_at, &ka);
    if (rc < 0 || (hb && ha && key_eq(&kb, &ka)))
        return rc;
    if (hb)
        rc = bump(c, after->tenant_id, &kb, -1, 0, 1);
    if (rc == 0 && ha)
        rc = bump(c, after->tenant_id, &ka, +1, 0, 1);
    return rc;
}

/* ---- creates, a batch at a time -------------------------------------------------- */

/* The alert writer creates thousands of alerts per transaction: their
 * volume is summed per key and written once per key at the end, the zone
 * opened once per tenant (the batch comes in tenant order). */
struct vitem {
    char tenant_id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    int64_t created_at;
};

struct alert_volume {
    struct vitem *v;
    size_t n, cap;
};

struct alert_volume *alert_volume_new(void)
{
    return xcalloc(1, sizeof(struct alert_volume));
}

void alert_volume_free(struct alert_volume *av)
{
    if (av) {
        free(av->v);
        free(av);
    }
}

void alert_volume_reset(struct alert_volume *av)
{
    av->n = 0;
}

void alert_volume_add(struct alert_volume *av, const struct sw_alert *x)
{
    if (av->n == av->cap)
        av->v = xrealloc(av->v, (av->cap = av->cap ? av->cap * 2 : 64) * sizeof(*av->v));
    struct vitem *it = &av->v[av->n++];
    snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", x->tenant_id);
    snprintf(it->project_id, sizeof(it->project_id), "%s", x->project_id);
    it->sev = x->a.sev;
    it->created_at = x->a.created_at;
}

static int vitem_cmp(const void *pa, const void *pb)
{
    const struct vitem *a = pa, *b = pb;
    int c = strcmp(a->tenant_id, b->tenant_id);
    if (c)
        return c;
    if ((c = strcmp(a->project_id, b->project_id)))
        return c;
    if (a->sev != b->sev)
        return a->sev < b->sev ? -1 : 1;
    return a->created_at < b->created_at ? -1 : a->created_at > b->created_at;
}

/* One counted key of a batch. */
struct vrow {
    const char *tenant_id;
    struct ckey k;
    int n;
};

static void vrow_bind(struct db_stmt *st, int o, size_t i, const void *ud)
{
    const struct vrow *v = (const struct vrow *)ud + i;
    db_bind_text(st, o + 1, v->tenant_id);
    db_bind_text(st, o + 2, v->k.day);
    db_bind_text(st, o + 3, sla_sev_name(v->k.sev));
    db_bind_text(st, o + 4, v->k.project_id);
    db_bind_int64(st, o + 5, v->n);
}

int alert_volume_flush_in(struct db_conn *c, struct alert_volume *av)
{
    int rc = 0;
    if (av->n > 1)
        qsort(av->v, av->n, sizeof(*av->v), vitem_cmp);
    struct vrow *rows = xmalloc((av->n ? av->n : 1) * sizeof(*rows));
    size_t nrows = 0;
    struct tz z;
    bool open = false;
    const char *zone_of = NULL;
    for (size_t i = 0; i < av->n && rc == 0;) {
        const struct vitem *it = &av->v[i];
        if (!zone_of || strcmp(zone_of, it->tenant_id)) {
            if (open)
                tz_close(&z);
            open = false;
            if ((rc = rollup_tenant_tz_in(c, it->tenant_id, false, &z)) < 0)
                break;
            open = true;
            zone_of = it->tenant_id;
        }
        struct vrow *row = &rows[nrows++];
        row->tenant_id = it->tenant_id;
        tz_local_day(&z, it->created_at, row->k.day, sizeof(row->k.day));
        row->k.sev = it->sev;
        snprintf(row->k.project_id, sizeof(row->k.project_id), "%s", it->project_id);
        row->n = 0;
        for (; i < av->n; i++, row->n++) {
            const struct vitem *o = &av->v[i];
            char day[SLA_DATE_BUFSZ];
            if (strcmp(o->tenant_id, it->tenant_id) || strcmp(o->project_id, row->k.project_id) ||
                o->sev != row->k.sev)
                break;
            tz_local_day(&z, o->created_at, day, sizeof(day));
            if (strcmp(day, row->k.day))
                break;
        }
    }
    if (open)
        tz_close(&z);
    if (rc == 0)
        rc = db_rows_exec(c, &add_rows, nrows, vrow_bind, rows);
    free(rows);
    av->n = 0;
    return rc;
}

/* ---- rebuild ------------------------------------------------------------------ */

static const char SQL_DELETE_TENANT[] = "DELETE FROM alert_counts WHERE tenant_id = ?1";
static const char SQL_CREATED[] =
    "SELECT project_id, severity, created_at FROM alerts WHERE tenant_id = ?1 "
    "ORDER BY project_id, severity, created_at";
static const char SQL_AUTO[] =
    "SELECT project_id, severity, res_stopped_at FROM alerts WHERE tenant_id = ?1 "
    "AND res_stopped_at > 0 AND acknowledged_at = 0 ORDER BY project_id, severity, res_stopped_at";
static const char SQL_PUT[] =
    "INSERT INTO alert_counts (tenant_id, day, severity, project_id, created, auto_resolved) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

struct centry {
    struct ckey k;
    uint64_t created, autor;
};

struct cvec {
    struct centry *v;
    size_t n, cap;
};

static int centry_cmp(const void *pa, const void *pb)
{
    const struct centry *a = pa, *b = pb;
    int d = strcmp(a->k.day, b->k.day);
    if (d)
        return d;
    if (a->k.sev != b->k.sev)
        return a->k.sev < b->k.sev ? -1 : 1;
    return strcmp(a->k.project_id, b->k.project_id);
}

/* Runs of one key come together in the statement's order: one entry per
 * run (a key may recur in the other statement; merged after sorting). */
static int collect(struct db_conn *c, const char *sql, const char *tenant_id, struct tz *z,
                   bool is_auto, struct cvec *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, sql, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    struct centry *last = NULL;
    while ((rc = db_step(st)) == DB_ROW) {
        struct ckey k;
        db_col_copy(st, 0, k.project_id, sizeof(k.project_id));
        if (sla_sev_parse(SLA_ALERT, db_col_text(st, 1), &k.sev) < 0)
            k.sev = SLA_SEV_LOW;
        tz_local_day(z, db_col_int64(st, 2), k.day, sizeof(k.day));
        if (!last || !key_eq(&last->k, &k)) {
            if (out->n == out->cap)
                out->v = xrealloc(out->v, (out->cap = out->cap ? out->cap * 2 : 256) *
                                              sizeof(*out->v));
            last = &out->v[out->n++];
            memset(last, 0, sizeof(*last));
            last->k = k;
        }
        if (is_auto)
            last->autor++;
        else
            last->created++;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int alert_counts_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, struct tz *z,
                                   int64_t *rows)
{
    struct db_stmt *st;
    struct cvec v = {0};
    int rc = db_prep(c, SQL_DELETE_TENANT, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    if ((rc = db_exec(st)) < 0 || (rc = collect(c, SQL_CREATED, tenant_id, z, false, &v)) < 0 ||
        (rc = collect(c, SQL_AUTO, tenant_id, z, true, &v)) < 0)
        goto out;
    if (v.n)
        qsort(v.v, v.n, sizeof(*v.v), centry_cmp);
    for (size_t i = 0; i < v.n && rc == 0; i++) {
        struct centry e = v.v[i];
        while (i + 1 < v.n && key_eq(&v.v[i + 1].k, &e.k)) {
            e.created += v.v[i + 1].created;
            e.autor += v.v[i + 1].autor;
            i++;
        }
        if ((rc = db_prep(c, SQL_PUT, &st)) < 0)
            break;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, e.k.day);
        db_bind_text(st, 3, sla_sev_name(e.k.sev));
        db_bind_text(st, 4, e.k.project_id);
        db_bind_int64(st, 5, (int64_t)e.created);
        db_bind_int64(st, 6, (int64_t)e.autor);
        if ((rc = db_exec(st)) == 0 && rows)
            (*rows)++;
    }
out:
    free(v.v);
    return rc;
}

/* ---- reads ---------------------------------------------------------------------- */

static const char SQL_SCAN[] =
    "SELECT day, severity, project_id, created, auto_resolved FROM alert_counts "
    "WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 "
    "AND (CAST(?4 AS TEXT) IS NULL OR project_id = ?4) ORDER BY day, severity, project_id";

int sql_alert_count_scan(struct store *base, const char *tenant_id, const char *from_day,
                         const char *to_day, const char *project_id, store_alert_count_cb cb,
                         void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_SCAN, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, from_day);
        db_bind_text(st, 3, to_day);
        db_bind_text(st, 4, project_id);
        struct sw_alert_count_row r;
        while ((rc = db_step(st)) == DB_ROW) {
            db_col_copy(st, 0, r.day, sizeof(r.day));
            if (sla_sev_parse(SLA_ALERT, db_col_text(st, 1), &r.sev) < 0)
                r.sev = SLA_SEV_LOW;
            db_col_copy(st, 2, r.project_id, sizeof(r.project_id));
            r.created = (uint64_t)db_col_int64(st, 3);
            r.auto_resolved = (uint64_t)db_col_int64(st, 4);
            if (cb(&r, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}
