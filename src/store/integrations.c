/* integrations.c: the integrations subject (store_integrations.h).
 *
 * A put is one upsert (ON CONFLICT ... DO UPDATE), so two nodes saving the
 * same integration at once both succeed and the later commit's text
 * stands; RETURNING tells whether the row was new (created_at is only
 * set by the insert). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_integrations.h"
#include "util/xalloc.h"

static const char SQL_PUT[] =
    "INSERT INTO integrations (tenant_id, id, kind, config, created_at, updated_at, updated_by) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT (tenant_id, id) DO UPDATE SET "
    "kind = excluded.kind, config = excluded.config, updated_at = excluded.updated_at, "
    "updated_by = excluded.updated_by RETURNING created_at";
#define COLS "tenant_id, id, kind, config, created_at, updated_at, updated_by"
static const char SQL_GET[] =
    "SELECT " COLS " FROM integrations WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_LIST[] =
    "SELECT " COLS " FROM integrations WHERE tenant_id = ?1 ORDER BY id";
static const char SQL_DELETE[] = "DELETE FROM integrations WHERE tenant_id = ?1 AND id = ?2";

void sw_integration_clear(struct sw_integration *x)
{
    if (!x)
        return;
    free(x->config);
    x->config = NULL;
}

/* The row into x (config a new copy: the caller clears it). */
static void row_read(struct db_stmt *st, struct sw_integration *x)
{
    memset(x, 0, sizeof(*x));
    db_col_copy(st, 0, x->tenant_id, sizeof(x->tenant_id));
    db_col_copy(st, 1, x->id, sizeof(x->id));
    db_col_copy(st, 2, x->kind, sizeof(x->kind));
    x->config = xstrdup(db_col_text(st, 3));
    x->created_at = db_col_int64(st, 4);
    x->updated_at = db_col_int64(st, 5);
    db_col_copy(st, 6, x->updated_by, sizeof(x->updated_by));
}

struct put_ctx {
    const char *tenant_id, *id, *kind, *config, *actor;
    int64_t now;
    bool created;
};

static int put_tx(struct db_conn *c, void *ud)
{
    struct put_ctx *x = ud;
    x->created = false;
    int rc = store_tenant_exists_in(c, x->tenant_id);
    if (rc <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_PUT, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_text(st, 3, x->kind);
    db_bind_text(st, 4, x->config);
    db_bind_int64(st, 5, x->now);
    db_bind_text(st, 6, x->actor ? x->actor : "");
    if ((rc = db_step_one(st)) < 0)
        return rc;
    if (rc == 1) {
        x->created = db_col_int64(st, 0) == x->now;
        db_reset(st);
    }
    return 0;
}

static int integration_put(struct store *base, const char *tenant_id, const char *id,
                           const char *kind, const char *config, int64_t now, const char *actor,
                           bool *created)
{
    struct put_ctx x = {.tenant_id = tenant_id, .id = id, .kind = kind, .config = config,
                        .actor = actor, .now = now};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, put_tx, &x);
    if (rc == 0)
        *created = x.created;
    return rc;
}

static int integration_get(struct store *base, const char *tenant_id, const char *id,
                           struct sw_integration *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_GET, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, id);
        rc = db_step_one(st);
        if (rc == 1) {
            row_read(st, out);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_NOTFOUND;
        }
    }
    db_release(c);
    return rc;
}

static int integration_list(struct store *base, const char *tenant_id, store_integration_cb cb,
                            void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LIST, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        struct sw_integration x;
        while ((rc = db_step(st)) == DB_ROW) {
            row_read(st, &x);
            int stop = cb(&x, ud);
            sw_integration_clear(&x);
            if (stop)
                break;
        }
        db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    db_release(c);
    return rc;
}

struct del_ctx {
    const char *tenant_id, *id;
};

static int del_tx(struct db_conn *c, void *ud)
{
    struct del_ctx *x = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_DELETE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    rc = db_step(st);
    int64_t n = rc >= 0 ? db_changes(st) : 0;
    db_reset(st);
    return rc < 0 ? rc : n > 0 ? 0 : SW_E_NOTFOUND;
}

static int integration_del(struct store *base, const char *tenant_id, const char *id)
{
    struct del_ctx x = {.tenant_id = tenant_id, .id = id};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, del_tx, &x);
}

const struct store_integration_ops sql_integration_ops = {
    .put = integration_put,
    .get = integration_get,
    .list = integration_list,
    .del = integration_del,
};
