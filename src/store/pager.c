/* pager.c: the PagerDuty incidents escalations trigger (pager_incidents).
 *
 * A step whose method is pager reaches its person through the PagerDuty
 * Events API v2: a trigger with a dedup_key per item and step (outbox.c
 * writes its row and records the incident here).  When the item is
 * acknowledged or resolved, each incident it triggered gets the matching
 * event with the same dedup_key and routing key, so the page stops
 * ringing where it rang.  The incident row, read {FOR_UPDATE} in the
 * item's own write transaction, is what makes each acknowledge and each
 * resolve go out once, on every node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/store_int.h"
#include "util/xalloc.h"

static const char SQL_TRIGGER[] =
    "INSERT INTO pager_incidents (tenant_id, dedup_key, item_kind, item_id, routing_key, person, "
    "  state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'triggered', ?7, ?7) "
    "ON CONFLICT (tenant_id, dedup_key) DO UPDATE SET routing_key = excluded.routing_key, "
    "  person = excluded.person, state = 'triggered', updated_at = excluded.updated_at";

/* the incidents still to move, locked: ?4 = 1 for a resolve */
static const char SQL_OPEN[] =
    "SELECT dedup_key, routing_key, person, state FROM pager_incidents "
    "WHERE tenant_id = ?1 AND item_kind = ?2 AND item_id = ?3 "
    "AND (state = 'triggered' OR (?4 = 1 AND state = 'acknowledged')) "
    "ORDER BY dedup_key {FOR_UPDATE}";

static const char SQL_MOVE[] =
    "UPDATE pager_incidents SET state = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND dedup_key = ?2";

int store_pager_row_in(struct db_conn *c, const struct sw_notice *n,
                       const char *routing_key);   /* outbox.c */

int store_pager_trigger_in(struct db_conn *c, const char *tenant_id, const char *kind,
                           const char *item_id, const char *dedup_key,
                           const char *routing_key, const char *person, int64_t now)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TRIGGER, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, dedup_key);
    db_bind_text(st, 3, kind);
    db_bind_text(st, 4, item_id);
    db_bind_text(st, 5, routing_key);
    db_bind_text(st, 6, person ? person : "");
    db_bind_int64(st, 7, now);
    return db_exec(st);
}

struct incident {
    char dedup_key[256];
    char routing_key[NOTIFY_KEY_MAX + 1];
    char person[SW_ID_MAX + 1];
};

int store_pager_item_in(struct db_conn *c, const char *tenant_id, const char *kind,
                        const char *item_id, bool resolved, int64_t now)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_OPEN, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, item_id);
    db_bind_int64(st, 4, resolved ? 1 : 0);
    struct incident *v = NULL;
    size_t n = 0, cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            v = xrealloc(v, cap * sizeof(*v));
        }
        db_col_copy(st, 0, v[n].dedup_key, sizeof(v[n].dedup_key));
        db_col_copy(st, 1, v[n].routing_key, sizeof(v[n].routing_key));
        db_col_copy(st, 2, v[n].person, sizeof(v[n].person));
        n++;
    }
    db_reset(st);
    struct sw_notice *k = xcalloc(1, sizeof(*k));
    int rows = 0;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        memset(k, 0, sizeof(*k));
        snprintf(k->tenant_id, sizeof(k->tenant_id), "%s", tenant_id);
        snprintf(k->type, sizeof(k->type), "%s", NOTIFY_TYPE_PAGER);
        snprintf(k->item_kind, sizeof(k->item_kind), "%s", kind);
        snprintf(k->item_id, sizeof(k->item_id), "%s", item_id);
        snprintf(k->pager_action, sizeof(k->pager_action), "%s",
                 resolved ? "resolve" : "acknowledge");
        snprintf(k->dedup_key, sizeof(k->dedup_key), "%s", v[i].dedup_key);
        snprintf(k->engaged.user, sizeof(k->engaged.user), "%s", v[i].person);
        k->engaged.via = 1u << NOTIFY_PAGER;
        k->occurred_at = now;
        if ((rc = store_pager_row_in(c, k, v[i].routing_key)) < 0)
            break;
        rows++;
        if ((rc = db_prep(c, SQL_MOVE, &st)) < 0)
            break;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, v[i].dedup_key);
        db_bind_text(st, 3, resolved ? "resolved" : "acknowledged");
        db_bind_int64(st, 4, now);
        rc = db_exec(st);
    }
    free(k);
    free(v);
    return rc < 0 ? rc : rows;
}
