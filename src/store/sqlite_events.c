/* sqlite_events.c: the append-only event log of items. */
#include <string.h>

#include "store/sqlite_int.h"

static const char SQL_EVENT_ADD[] =
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static const char SQL_EVENT_LIST[] =
    "SELECT id, type, actor, at, data FROM events "
    "WHERE tenant_id = ?1 AND item_kind = ?2 AND item_id = ?3 AND id > ?4 "
    "ORDER BY id LIMIT ?5";

int sq_event_add(struct sqlite_store *s, struct conn *c, const struct sw_event *e)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQL_EVENT_ADD);
    if (!st)
        return SW_E_STORE;
    SQ_TEXT(st, 1, e->tenant_id);
    SQ_TEXT(st, 2, e->item_kind);
    SQ_TEXT(st, 3, e->item_id);
    SQ_TEXT(st, 4, e->type);
    SQ_TEXT(st, 5, e->actor);
    sqlite3_bind_int64(st, 6, e->at);
    if (e->data)
        SQ_TEXT(st, 7, e->data);
    else
        sqlite3_bind_null(st, 7);
    int rc = sq_exec(s, c, st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sq_event_list(struct store *base, const char *tenant_id, const char *kind,
                         const char *item_id, int64_t after_id, int limit,
                         store_event_cb cb, void *ud)
{
    struct sqlite_store *s = sq_of(base);
    struct conn *c = sq_acquire(s);
    if (!c)
        return SW_E_STORE;
    sqlite3_stmt *st = sq_stmt(s, c, SQL_EVENT_LIST);
    if (!st) {
        sq_release(s, c);
        return SW_E_STORE;
    }
    SQ_TEXT(st, 1, tenant_id);
    SQ_TEXT(st, 2, kind);
    SQ_TEXT(st, 3, item_id);
    sqlite3_bind_int64(st, 4, after_id);
    sqlite3_bind_int(st, 5, limit);
    struct sw_event e;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&e, 0, sizeof(e));
        e.id = sqlite3_column_int64(st, 0);
        snprintf(e.tenant_id, sizeof(e.tenant_id), "%s", tenant_id);
        snprintf(e.item_kind, sizeof(e.item_kind), "%s", kind);
        snprintf(e.item_id, sizeof(e.item_id), "%s", item_id);
        sq_copy_text(e.type, sizeof(e.type), st, 1);
        sq_copy_text(e.actor, sizeof(e.actor), st, 2);
        e.at = sqlite3_column_int64(st, 3);
        e.data = (const char *)sqlite3_column_text(st, 4);
        if (cb(&e, ud))
            break;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_fail(s, c, "event_list");
    sq_done(st);
    sq_release(s, c);
    return rc;
}

const struct store_event_ops sqlite_event_ops = {
    .list = sq_event_list,
};
