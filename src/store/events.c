/* events.c: the append-only event log of items (store.h): every state
 * change of an alert or a finding, written by its subject in the same
 * transaction as the change (store_event_add_in), and put on its tenant's
 * hash chain at COMMIT (chain.c). */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "util/xalloc.h"

/* Always the id (db_insert_id): every event goes on its tenant's hash
 * chain, whose link names the record by id (chain.c), even when the caller
 * wants no id. */
static const char SQL_EVENT_ADD_ID[] =
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) {RETURNING_ID}";

static const char SQL_EVENT_LIST[] =
    "SELECT id, type, actor, at, data FROM events "
    "WHERE tenant_id = ?1 AND item_kind = ?2 AND item_id = ?3 AND id > ?4 "
    "ORDER BY id LIMIT ?5";

int store_event_add_in(struct db_conn *c, const struct sw_event *e, int64_t *id_out)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_EVENT_ADD_ID, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, e->tenant_id);
    db_bind_text(st, 2, e->item_kind);
    db_bind_text(st, 3, e->item_id);
    db_bind_text(st, 4, e->type);
    db_bind_text(st, 5, e->actor);
    db_bind_int64(st, 6, e->at);
    db_bind_text(st, 7, e->data);       /* NULL binds NULL */
    int64_t id;
    if ((rc = db_insert_id(st, &id)) < 0)
        return rc;
    if (id_out)
        *id_out = id;
    return store_chain_event_in(c, id, e);
}

/* Several events in one statement each of 1, 2, 4 ... rows (db_rows): a
 * batch of created alerts writes its `created` events in a few round trips
 * instead of one per alert.  RETURNING the ids, for the chain: matched to
 * the events by their keys. */
#define EVENT_NPARAMS 7
static struct db_rows event_many =
    DB_ROWS("INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) VALUES ",
            "(?1, ?2, ?3, ?4, ?5, ?6, ?7)", " RETURNING id, tenant_id, item_id, type",
            EVENT_NPARAMS);

int store_event_add_many_in(struct db_conn *c, const struct sw_event *const *e, size_t n)
{
    size_t off = 0;
    while (off < n) {
        int k = db_rows_piece(n - off);
        struct db_stmt *st;
        int rc = db_prep(c, db_rows_sql(&event_many, k), &st);
        if (rc < 0)
            return rc;
        for (int r = 0; r < 1 << k; r++) {
            const struct sw_event *x = e[off + (size_t)r];
            int o = r * EVENT_NPARAMS;
            db_bind_text(st, o + 1, x->tenant_id);
            db_bind_text(st, o + 2, x->item_kind);
            db_bind_text(st, o + 3, x->item_id);
            db_bind_text(st, o + 4, x->type);
            db_bind_text(st, o + 5, x->actor);
            db_bind_int64(st, o + 6, x->at);
            db_bind_text(st, o + 7, x->data);
        }
        /* RETURNING comes in VALUES order on both databases in practice,
         * but nothing promises it: each row is matched to its event (one
         * event per item and type in a batch), searching from the next */
        int rows = 1 << k, next = 0, got = 0;
        bool used[DB_ROWS_MAX] = {false};
        int64_t ids[DB_ROWS_MAX];
        while ((rc = db_step(st)) == DB_ROW) {
            const char *t = db_col_text(st, 1), *item = db_col_text(st, 2),
                       *type = db_col_text(st, 3);
            for (int j = 0; j < rows; j++) {
                int r = (next + j) % rows;
                const struct sw_event *x = e[off + (size_t)r];
                if (!used[r] && !strcmp(x->tenant_id, t) && !strcmp(x->item_id, item) &&
                    !strcmp(x->type, type)) {
                    used[r] = true;
                    ids[r] = db_col_int64(st, 0);
                    next = r + 1;
                    got++;
                    break;
                }
            }
        }
        db_reset(st);
        if (rc < 0)
            return rc;
        if (got != rows)
            return SW_E_STORE;
        for (int r = 0; r < rows && rc == 0; r++)
            rc = store_chain_event_in(c, ids[r], e[off + (size_t)r]);
        if (rc < 0)
            return rc;
        off += (size_t)1 << k;
    }
    return 0;
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
