/* forecast.c: the breach forecast (store_proof.h): which running clocks of
 * a tenant will breach in a window, alerts and findings alike.
 *
 * Nothing is evaluated in C: an alert row keeps each clock's due instant
 * (ack_due_at, resolve_due_at: started + target + closed pauses), and a
 * live finding's deadline is clock_base + its group's hours
 * (finding_targets), so both are range conditions SQL answers over the
 * tenant's open rows.  Paused clocks are left out: they do not run, so
 * they cannot breach until resumed.  Already breached clocks (due <= now)
 * are the breaches endpoints' business, not a forecast.  The counts and
 * the items are read in one snapshot (DB_TX_READ) so they agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/proof_int.h"
#include "util/xalloc.h"

/* ?1 tenant, ?2 now (exclusive), ?3 until (inclusive) */
#define FC_ALERTS(P, DUE, CLOCK)                                                \
    "SELECT 'alert' AS kind, id, severity, '" CLOCK "' AS clock, " DUE " AS due_at " \
    "FROM alerts WHERE tenant_id = ?1 AND state <> 'resolved' "                  \
    "AND " P "_stopped_at = 0 AND " P "_paused_since = 0 "                        \
    "AND " DUE " > ?2 AND " DUE " <= ?3"
/* hours widened before the product (INTEGER x 3600000 overflows on PostgreSQL) */
#define FC_DEADLINE "f.clock_base + CAST(t.hours AS {BIGINT}) * 3600000"
#define FC_FINDINGS                                                             \
    "SELECT 'finding' AS kind, f.id AS id, f.severity AS severity, 'resolve' AS clock, " \
    FC_DEADLINE " AS due_at FROM findings f JOIN finding_targets t "              \
    "ON t.tenant_id = f.tenant_id AND t.project_id = f.project_id "              \
    "AND t.severity = f.severity "                                               \
    "WHERE f.tenant_id = ?1 AND f.state = 'open' AND f.paused_since IS NULL "     \
    "AND f.stopped_at IS NULL AND " FC_DEADLINE " > ?2 AND " FC_DEADLINE " <= ?3"
#define FC_UNION                                                                \
    FC_ALERTS("ack", "ack_due_at", "ack") " UNION ALL "                          \
    FC_ALERTS("res", "resolve_due_at", "resolve") " UNION ALL " FC_FINDINGS

/* per kind and severity: distinct items (an alert with both clocks due
 * counts once) */
static const char SQL_COUNTS[] =
    "SELECT kind, severity, count(DISTINCT id) FROM (" FC_UNION ") AS x "
    "GROUP BY kind, severity";
static const char SQL_ITEMS[] =
    "SELECT kind, id, severity, clock, due_at FROM (" FC_UNION ") AS x "
    "ORDER BY due_at, kind, id, clock LIMIT ?4";

struct fc_ctx {
    const char *tenant_id;
    int64_t now, until;
    int limit;
    struct sw_forecast *out;
};

static void fc_reset(struct sw_forecast *f)
{
    free(f->items);
    memset(f, 0, sizeof(*f));
}

static int fc_tx(struct db_conn *c, void *ud)
{
    struct fc_ctx *x = ud;
    struct sw_forecast *f = x->out;
    fc_reset(f);                        /* a retried snapshot starts over */
    int rc = store_tenant_exists_in(c, x->tenant_id);
    if (rc <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_COUNTS, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_int64(st, 2, x->now);
    db_bind_int64(st, 3, x->until);
    while ((rc = db_step(st)) == DB_ROW) {
        enum sla_sev sev;
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 1), &sev) < 0)
            continue;                   /* the CHECKs make this unreachable */
        int64_t *to = !strcmp(db_col_text(st, 0), "alert") ? f->alerts : f->findings;
        to[sev] += db_col_int64(st, 2);
    }
    db_reset(st);
    if (rc < 0)
        return rc;
    if ((rc = db_prep(c, SQL_ITEMS, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_int64(st, 2, x->now);
    db_bind_int64(st, 3, x->until);
    db_bind_int64(st, 4, (int64_t)x->limit + 1);    /* one more: truncated */
    size_t cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (f->n == (size_t)x->limit) {
            f->truncated = true;
            continue;
        }
        if (f->n == cap) {
            cap = cap ? cap * 2 : 64;
            f->items = xrealloc(f->items, cap * sizeof(*f->items));
        }
        struct sw_forecast_item *it = &f->items[f->n++];
        memset(it, 0, sizeof(*it));
        it->alert = !strcmp(db_col_text(st, 0), "alert");
        snprintf(it->id, sizeof(it->id), "%s", db_col_text(st, 1));
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 2), &it->sev) < 0)
            it->sev = SLA_SEV_LOW;
        it->ack = !strcmp(db_col_text(st, 3), "ack");
        it->due_at = db_col_int64(st, 4);
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int proof_forecast(struct store *base, const char *tenant_id, int64_t now, int64_t until,
                   int limit, struct sw_forecast *out)
{
    memset(out, 0, sizeof(*out));
    if (limit < 1 || until < now)
        return SW_E_INVAL;
    struct fc_ctx x = {tenant_id, now, until, limit, out};
    int rc = db_tx(sql_of(base)->db, DB_TX_READ, fc_tx, &x);
    if (rc < 0)
        fc_reset(out);
    return rc;
}

void store_forecast_free(struct sw_forecast *f)
{
    if (f)
        fc_reset(f);
}
