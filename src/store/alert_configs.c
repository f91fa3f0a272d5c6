/* alert_configs.c: named SLA configs (store_alerts.h): a template plus
 * overrides in the SLA definition's own fields and units, at most one
 * active per tenant.  Activating one makes it the tenant's live policy
 * (template, tenant layer) and recalculates its open alerts, in the same
 * transaction.
 *
 * Writers lock the tenant row first (alert_tenant_lock_in), so two nodes
 * activating configs of one tenant take turns: the one-active index never
 * refuses the second, and the policy left is the last one applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts_int.h"
#include "store/store_proof.h"
#include "util/xalloc.h"

#define CONFIG_COLS                                                             \
    "id, tenant_id, name, template, critical_mtta_minutes, critical_mttr_hours, " \
    "high_mtta_minutes, high_mttr_hours, medium_mtta_hours, medium_mttr_hours, " \
    "low_mtta_hours, low_mttr_hours, notification_threshold_pct, active, "      \
    "created_at, updated_at"

/* Override columns are named as sla_definition_fields, in its order, from
 * column 4 (select) / parameter ?5 (insert, update). */
static const char SQL_CONFIG_INSERT[] =
    "INSERT INTO sla_configs (tenant_id, name, template, active, critical_mtta_minutes, "
    "critical_mttr_hours, high_mtta_minutes, high_mttr_hours, medium_mtta_hours, "
    "medium_mttr_hours, low_mtta_hours, low_mttr_hours, notification_threshold_pct, "
    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, NULLIF(?5, 0), NULLIF(?6, 0), "
    "NULLIF(?7, 0), NULLIF(?8, 0), NULLIF(?9, 0), NULLIF(?10, 0), NULLIF(?11, 0), "
    "NULLIF(?12, 0), NULLIF(?13, 0), ?14, ?14) {RETURNING_ID}";
static const char SQL_CONFIG_UPDATE[] =
    "UPDATE sla_configs SET name = ?2, template = ?3, active = ?4, "
    "critical_mtta_minutes = NULLIF(?5, 0), critical_mttr_hours = NULLIF(?6, 0), "
    "high_mtta_minutes = NULLIF(?7, 0), high_mttr_hours = NULLIF(?8, 0), "
    "medium_mtta_hours = NULLIF(?9, 0), medium_mttr_hours = NULLIF(?10, 0), "
    "low_mtta_hours = NULLIF(?11, 0), low_mttr_hours = NULLIF(?12, 0), "
    "notification_threshold_pct = NULLIF(?13, 0), updated_at = ?14 "
    "WHERE id = ?15 AND tenant_id = ?1";
static const char SQL_CONFIG_GET[] =
    "SELECT " CONFIG_COLS " FROM sla_configs WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CONFIG_GET_LOCK[] =
    "SELECT " CONFIG_COLS " FROM sla_configs WHERE tenant_id = ?1 AND id = ?2 {FOR_UPDATE}";
static const char SQL_CONFIG_LIST[] =
    "SELECT " CONFIG_COLS " FROM sla_configs WHERE tenant_id = ?1 ORDER BY id";
static const char SQL_CONFIG_DELETE[] =
    "DELETE FROM sla_configs WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CONFIG_DEACTIVATE[] =
    "UPDATE sla_configs SET active = 0, updated_at = ?2 "
    "WHERE tenant_id = ?1 AND active = 1 AND id <> ?3";
static const char SQL_TENANT_SET_TEMPLATE[] =
    "UPDATE tenants SET template = NULLIF(?2, '') WHERE id = ?1";

static void read_config(struct db_stmt *st, struct sw_sla_config *c)
{
    memset(c, 0, sizeof(*c));
    c->id = db_col_int64(st, 0);
    db_col_copy(st, 1, c->tenant_id, sizeof(c->tenant_id));
    db_col_copy(st, 2, c->name, sizeof(c->name));
    db_col_copy(st, 3, c->template_name, sizeof(c->template_name));
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++)
        sla_definition_set(&c->overrides, &sla_definition_fields[i],
                           db_col_int(st, 4 + (int)i));
    c->active = db_col_int64(st, 13) != 0;
    c->created_at = db_col_int64(st, 14);
    c->updated_at = db_col_int64(st, 15);
}

/* ?1..?14 of SQL_CONFIG_INSERT / SQL_CONFIG_UPDATE. */
static void bind_config(struct db_stmt *st, const struct sw_sla_config *c, int64_t now)
{
    db_bind_text(st, 1, c->tenant_id);
    db_bind_text(st, 2, c->name);
    db_bind_text(st, 3, c->template_name);
    db_bind_int64(st, 4, c->active ? 1 : 0);
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++)
        db_bind_int64(st, 5 + (int)i,
                      sla_definition_get(&c->overrides, &sla_definition_fields[i]));
    db_bind_int64(st, 14, now);
}

static int config_write(struct db_conn *c, const struct sw_sla_config *cfg, int64_t now)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CONFIG_UPDATE, &st);
    if (rc < 0)
        return rc;
    bind_config(st, cfg, now);
    db_bind_int64(st, 15, cfg->id);
    return db_exec(st);
}

/* Makes cfg the tenant's live policy: template, tenant layer := overrides
 * (replacing), other configs inactive, open alerts recalculated. */
static int config_apply(struct db_conn *c, const struct sw_sla_config *cfg, int64_t now,
                        const char *actor, int64_t *count)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CONFIG_DEACTIVATE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, cfg->tenant_id);
    db_bind_int64(st, 2, now);
    db_bind_int64(st, 3, cfg->id);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_TENANT_SET_TEMPLATE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, cfg->tenant_id);
    db_bind_text(st, 2, cfg->template_name);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = store_tenants_changed_in(c)) < 0)
        return rc;
    struct sla_alert_layer l;
    sla_definition_to_layer(&cfg->overrides, &l);
    if ((rc = alert_layer_write_in(c, cfg->tenant_id, "", &l, now)) < 0)
        return rc;
    if ((rc = store_history_record_in(c, SW_HISTORY_DEFINITION, cfg->tenant_id, "", now, actor,
                                      "config")) < 0)
        return rc;
    if ((rc = alert_recalc_tenant_in(c, cfg->tenant_id, now, actor, count)) < 0)
        return rc;
    /* deadlines moved: the scheduler looks again */
    return *count > 0 ? store_hint_in(c, now, now) : 0;
}

static int config_check(const struct sw_sla_config *cfg)
{
    const struct sla_template *t;
    if (sla_template_find(cfg->template_name, &t) < 0 ||
        alert_definition_valid(&cfg->overrides) < 0)
        return SW_E_INVAL;
    return 0;
}

static int config_get_in(struct db_conn *c, const char *tenant_id, int64_t id, bool lock,
                         struct sw_sla_config *out)
{
    struct db_stmt *st;
    int rc = db_prep(c, lock ? SQL_CONFIG_GET_LOCK : SQL_CONFIG_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_int64(st, 2, id);
    rc = db_step_one(st);
    if (rc == 1) {
        read_config(st, out);
        db_reset(st);
        return 0;
    }
    return rc < 0 ? rc : SW_E_NOTFOUND;
}

/* ---- create ------------------------------------------------------------------- */

struct config_write_ctx {
    struct sw_sla_config cfg;           /* create: the input; update: the result */
    const struct sw_sla_config_patch *patch;
    const char *tenant_id;
    int64_t id;
    int64_t now;
    const char *actor;
    int64_t count;
};

static int config_create_tx(struct db_conn *c, void *ud)
{
    struct config_write_ctx *w = ud;
    w->count = 0;
    int rc = alert_tenant_lock_in(c, w->cfg.tenant_id, ALERT_LOCK_UPDATE);
    if (rc < 0)
        return rc;
    /* inserted inactive first: the one-active index holds until apply has
     * switched the others off */
    struct sw_sla_config tmp = w->cfg;
    tmp.active = false;
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_CONFIG_INSERT, &st)) < 0)
        return rc;
    bind_config(st, &tmp, w->now);
    if ((rc = db_insert_id(st, &w->cfg.id)) < 0)
        return rc;
    w->cfg.created_at = w->cfg.updated_at = w->now;
    if (!w->cfg.active)
        return 0;
    if ((rc = config_apply(c, &w->cfg, w->now, w->actor, &w->count)) < 0)
        return rc;
    return config_write(c, &w->cfg, w->now);
}

int alert_config_create(struct store *base, struct sw_sla_config *cfg, int64_t now,
                        const char *actor, int64_t *recalculated)
{
    if (config_check(cfg) < 0)
        return SW_E_INVAL;
    struct config_write_ctx *w = xcalloc(1, sizeof(*w));
    w->cfg = *cfg;
    w->now = now;
    w->actor = actor;
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, config_create_tx, w);
    if (rc == 0) {
        cfg->id = w->cfg.id;
        cfg->created_at = w->cfg.created_at;
        cfg->updated_at = w->cfg.updated_at;
        if (recalculated)
            *recalculated = w->count;
    }
    free(w);
    return rc;
}

/* ---- read ----------------------------------------------------------------------- */

int alert_config_get(struct store *base, const char *tenant_id, int64_t id,
                     struct sw_sla_config *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = config_get_in(c, tenant_id, id, false, out);
    db_release(c);
    return rc;
}

int alert_config_list(struct store *base, const char *tenant_id, store_config_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = store_tenant_exists_in(c, tenant_id);
    if (rc <= 0) {
        db_release(c);
        return rc < 0 ? rc : SW_E_NOTFOUND;
    }
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_CONFIG_LIST, &st)) == 0) {
        db_bind_text(st, 1, tenant_id);
        struct sw_sla_config cfg;
        while ((rc = db_step(st)) == DB_ROW) {
            read_config(st, &cfg);
            if (cb(&cfg, ud))
                break;
        }
        db_reset(st);
    }
    db_release(c);
    return rc < 0 ? rc : 0;
}

/* ---- update and delete ------------------------------------------------------------ */

static int config_update_tx(struct db_conn *c, void *ud)
{
    struct config_write_ctx *w = ud;
    const struct sw_sla_config_patch *p = w->patch;
    struct sw_sla_config *cfg = &w->cfg;
    w->count = 0;
    int rc = alert_tenant_lock_in(c, w->tenant_id, ALERT_LOCK_UPDATE);
    if (rc == 0)
        rc = config_get_in(c, w->tenant_id, w->id, true, cfg);
    if (rc < 0)
        return rc;
    bool was_active = cfg->active;
    bool policy_changed = false;
    if (p->name)
        snprintf(cfg->name, sizeof(cfg->name), "%s", p->name);
    if (p->template_name) {
        policy_changed |= strcmp(cfg->template_name, p->template_name) != 0;
        snprintf(cfg->template_name, sizeof(cfg->template_name), "%s", p->template_name);
    }
    if (p->has_overrides) {
        policy_changed = true;
        cfg->overrides = p->overrides;
    }
    if (p->active >= 0)
        cfg->active = p->active != 0;
    cfg->updated_at = w->now;
    if ((rc = config_check(cfg)) < 0)
        return rc;
    /* applied when switched on, or when the live config's policy changed */
    if (cfg->active && (!was_active || policy_changed) &&
        (rc = config_apply(c, cfg, w->now, w->actor, &w->count)) < 0)
        return rc;
    return config_write(c, cfg, w->now);
}

int alert_config_update(struct store *base, const char *tenant_id, int64_t id,
                        const struct sw_sla_config_patch *p, int64_t now, const char *actor,
                        struct sw_sla_config *out, int64_t *recalculated)
{
    struct config_write_ctx *w = xcalloc(1, sizeof(*w));
    w->patch = p;
    w->tenant_id = tenant_id;
    w->id = id;
    w->now = now;
    w->actor = actor;
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, config_update_tx, w);
    if (rc == 0) {
        *out = w->cfg;
        if (recalculated)
            *recalculated = w->count;
    }
    free(w);
    return rc;
}

struct config_delete_ctx {
    const char *tenant_id;
    int64_t id;
};

static int config_delete_tx(struct db_conn *c, void *ud)
{
    struct config_delete_ctx *d = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CONFIG_DELETE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, d->tenant_id);
    db_bind_int64(st, 2, d->id);
    rc = db_step(st);
    int64_t n = rc >= 0 ? db_changes(st) : 0;
    db_reset(st);
    return rc < 0 ? rc : n == 0 ? SW_E_NOTFOUND : 0;
}

int alert_config_delete(struct store *base, const char *tenant_id, int64_t id)
{
    struct config_delete_ctx d = {.tenant_id = tenant_id, .id = id};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, config_delete_tx, &d);
}
