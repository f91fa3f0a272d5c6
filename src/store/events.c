/* events.c: the append-only event log of items (store.h): every state
 * change of an alert or a finding, written by its subject in the same
 * transaction as the change (store_event_add_in), and put on its tenant's
 * hash chain at COMMIT (chain.c). */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static const char SQL_EVENT_ADD[] =
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";

static const char SQL_EVENT_LIST[] =
    "SELECT id, type, actor, at, data FROM events "
    "WHERE tenant_id = ?1 AND item_kind = ?2 AND item_id = ?3 AND id > ?4 "
    "ORDER BY id LIMIT ?5";

int store_event_add_in(struct db_conn *c, const struct sw_event *e, int64_t *id_out)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_EVENT_ADD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, e->tenant_id);
    db_bind_text(st, 2, e->item_kind);
    db_bind_text(st, 3, e->item_id);
    db_bind_text(st, 4, e->type);
    db_bind_text(st, 5, e->actor);
    db_bind_int64(st, 6, e->at);
    db_bind_text(st, 7, e->data);       /* NULL binds NULL */
    rc = db_step_one(st);
    if (rc == 1) {
        int64_t id = db_col_int64(st, 0);
        db_reset(st);
        if (id_out)
            *id_out = id;
        return store_chain_event_in(c, id, e);
    }
    return rc < 0 ? rc : SW_E_STORE;
}

static int event_list(struct store *base, const char *tenant_id, const char *kind,
                      const char *item_id, int64_t after_id, int limit, store_event_cb cb,
                      void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_EVENT_LIST, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, kind);
        db_bind_text(st, 3, item_id);
        db_bind_int64(st, 4, after_id);
        db_bind_int64(st, 5, limit);
        struct sw_event e;
        while ((rc = db_step(st)) == DB_ROW) {
            memset(&e, 0, sizeof(e));
            e.id = db_col_int64(st, 0);
            snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", tenant_id);
            snprintf(e.item_kind, sizeof(e.item_kind), "%s", kind);
            snprintf(e.item_id, sizeof(e.item_id), "%s", item_id);
            db_col_copy(st, 1, e.type, sizeof(e.type));
            db_col_copy(st, 2, e.actor, sizeof(e.actor));
            e.at = db_col_int64(st, 3);
            e.data = db_col_null(st, 4) ? NULL : db_col_text(st, 4);
            if (cb(&e, ud))
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

const struct store_event_ops sql_event_ops = {
    .list = event_list,
};
