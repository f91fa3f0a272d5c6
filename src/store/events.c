/* events.c: the append-only event log of items (store.h): every state
 * change of an alert or a finding, written by its subject in the same
 * transaction as the change (store_event_add_in). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "util/xalloc.h"

/* RETURNING only when the caller wants the id: SQLite runs a RETURNING
 * statement through an ephemeral table (opened, filled and dropped per
 * row), which made creating an alert ~10 % dearer than the plain INSERT of
 * the old SQLite store (bench/ingest, callgrind). */
static const char SQL_EVENT_ADD[] =
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_EVENT_ADD_ID[] =
    "INSERT INTO events (tenant_id, item_kind, item_id, type, actor, at, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";

static const char SQL_EVENT_LIST[] =
    "SELECT id, type, actor, at, data FROM events "
    "WHERE tenant_id = ?1 AND item_kind = ?2 AND item_id = ?3 AND id > ?4 "
    "ORDER BY id LIMIT ?5";

int store_event_add_in(struct db_conn *c, const struct sw_event *e, int64_t *id_out)
{
    struct db_stmt *st;
    int rc = db_prep(c, id_out ? SQL_EVENT_ADD_ID : SQL_EVENT_ADD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, e->tenant_id);
    db_bind_text(st, 2, e->item_kind);
    db_bind_text(st, 3, e->item_id);
    db_bind_text(st, 4, e->type);
    db_bind_text(st, 5, e->actor);
    db_bind_int64(st, 6, e->at);
    db_bind_text(st, 7, e->data);       /* NULL binds NULL */
    if (!id_out)
        return db_exec(st);
    rc = db_step_one(st);
    if (rc == 1) {
        *id_out = db_col_int64(st, 0);
        db_reset(st);
        return 0;
    }
    return rc < 0 ? rc : SW_E_STORE;
}

/* Several events in one statement each of 1, 2, 4 ... EVENT_ADD_MAX rows
 * (built once, kept for the process: the driver caches statements by the
 * address of their text): a batch of created alerts writes its `created`
 * events in a few round trips instead of one per alert. */
#define EVENT_LOG2_MAX 7
#define EVENT_NPARAMS 7
static char *event_many_sql[EVENT_LOG2_MAX + 1];
static pthread_once_t event_many_once = PTHREAD_ONCE_INIT;

static void event_many_build(void)
{
    for (int k = 0; k <= EVENT_LOG2_MAX; k++) {
        int rows = 1 << k;
        size_t cap = 256 + (size_t)rows * 64, len;
        char *s = xmalloc(cap);
        len = (size_t)snprintf(s, cap, "INSERT INTO events (tenant_id, item_kind, item_id, type, "
                                       "actor, at, data) VALUES ");
        for (int r = 0; r < rows; r++) {
            int o = r * EVENT_NPARAMS;
            len += (size_t)snprintf(s + len, cap - len, "%s(?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d)",
                                    r ? ", " : "", o + 1, o + 2, o + 3, o + 4, o + 5, o + 6,
                                    o + 7);
        }
        event_many_sql[k] = s;
    }
}

int store_event_add_many_in(struct db_conn *c, const struct sw_event *const *e, size_t n)
{
    pthread_once(&event_many_once, event_many_build);
    size_t off = 0;
    while (off < n) {
        int k = EVENT_LOG2_MAX;
        while ((size_t)1 << k > n - off)
            k--;
        struct db_stmt *st;
        int rc = db_prep(c, event_many_sql[k], &st);
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
        if ((rc = db_exec(st)) < 0)
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
