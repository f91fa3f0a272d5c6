/* store.c: opening the store (the driver, the schema, the caches), the
 * signals between nodes, and health.
 *
 * Schema: numbered migrations embedded from schema/<dialect>/NNNN_name.sql,
 * each one not in schema_version applied in order inside one DB_TX_LOCKING
 * transaction (on PostgreSQL
 * under the database-wide advisory lock, so nodes starting together
 * migrate once), recorded in schema_version.
 *
 * Signals (store_int.h): this node's arrive from db_commit in the
 * committing thread; other nodes' from the driver's listener thread.  The
 * handler only clears caches and calls the server's hooks, which are
 * cheap and thread-safe (a scheduler hint, a WebSocket publish). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sla.h"
#include "store/store_int.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/xalloc.h"

/* "sqlite:PATH" or "postgres://...": one store over either driver. */
int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    return store_sql_open(url, out, err, errlen);
}

/* ---- migrations ---------------------------------------------------------------- */

static const char SQL_VERSION_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
static const char SQL_VERSION_HAS[] = "SELECT 1 FROM schema_version WHERE version = ?1";
static const char SQL_VERSION_ADD[] =
    "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)";

/* Migrations that need C as well as SQL: run right after their file, in
 * the same transaction. */
static const struct {
    int64_t version;
    int (*fn)(struct db_conn *c);
} migrate_steps[] = {
    {50, store_chain_adopt_in},     /* 0050_chains: chain the existing rows */
    {51, store_history_adopt_in},   /* 0051_policy_history: baseline versions */
};

struct migrate_ctx {
    const struct embed_file *files;
    int applied;
    char *err;
    size_t errlen;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int migrate_tx(struct db_conn *c, void *ud)
{
    struct migrate_ctx *m = ud;
    m->applied = 0;
    int rc = db_exec_script(c, SQL_VERSION_TABLE);
    if (rc < 0)
        goto fail;
    struct db_stmt *st;
    /* each migration not applied yet, in number order: by set, not "above
     * the highest applied", because the numbers are ranges reserved to
     * work merged in any order (a database that ran 0040 still gets a
     * 0020 merged after it) */
    for (const struct embed_file *f = m->files; f->name; f++) {
        int64_t v = strtoll(f->name, NULL, 10);
        if ((rc = db_prep(c, SQL_VERSION_HAS, &st)) < 0)
            goto fail;
        db_bind_int64(st, 1, v);
        if ((rc = db_step_one(st)) < 0)
            goto fail;
        if (rc == 1) {
            db_reset(st);
            continue;
        }
        if ((rc = db_exec_script(c, (const char *)f->data)) < 0)
            goto fail;
        for (size_t i = 0; i < sizeof(migrate_steps) / sizeof(migrate_steps[0]); i++)
            if (migrate_steps[i].version == v && (rc = migrate_steps[i].fn(c)) < 0)
                goto fail;
        if ((rc = db_prep(c, SQL_VERSION_ADD, &st)) < 0)
            goto fail;
        db_bind_int64(st, 1, v);
        db_bind_text(st, 2, f->name);
        db_bind_int64(st, 3, wall_ms());
        if ((rc = db_exec(st)) < 0)
            goto fail;
        log_info("schema: applied %s", f->name);
        m->applied++;
    }
    return 0;
fail:
    snprintf(m->err, m->errlen, "migration failed: %s", db_last_error(c));
    return rc;
}

/* ---- signals ---------------------------------------------------------------- */

void store_tenant_cache_clear(struct sql_store *s);     /* tenants.c */
void store_token_cache_clear(struct sql_store *s);      /* tenants.c */

static void on_signal(void *ud, const char *channel, const char *payload)
{
    struct sql_store *s = ud;
    struct store *base = &s->base;
    if (!strcmp(channel, "inv")) {
        if (!strcmp(payload, "tenants"))
            store_tenant_cache_clear(s);
        else if (!strcmp(payload, "tokens"))
            store_token_cache_clear(s);
    } else if (!strcmp(channel, "due")) {
        if (base->due_hint)
            base->due_hint(base->due_hint_ud, strtoll(payload, NULL, 10));
    } else if (!strcmp(channel, "live")) {
        const char *sp = strchr(payload, ' ');
        if (sp && base->live && (size_t)(sp - payload) <= SW_ID_MAX) {
            char tenant[SW_ID_MAX + 1];
            memcpy(tenant, payload, (size_t)(sp - payload));
            tenant[sp - payload] = '\0';
            base->live(base->live_ud, tenant, sp + 1, strlen(sp + 1));
        }
    } else if (!strcmp(channel, "reset")) {
        /* other nodes' invalidations may have been lost: forget everything */
        store_tenant_cache_clear(s);
        store_token_cache_clear(s);
    }
}

/* Invalidations hold on every node from the next request: the commit
 * waits until the other nodes have applied them (db_signal_wait). */
int store_tenants_changed_in(struct db_conn *c)
{
    return db_signal_wait(c, "inv", "tenants");
}

int store_tokens_changed_in(struct db_conn *c)
{
    return db_signal_wait(c, "inv", "tokens");
}

/* Other nodes look at least this often by themselves. */
#define HINT_REMOTE_MS 60000

int store_hint_in(struct db_conn *c, int64_t at, int64_t now)
{
    if (at <= 0 || at >= SLA_NEVER)
        return 0;
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)at);
    if (db_dialect(db_of(c)) == DB_PG && at > now + HINT_REMOTE_MS)
        return db_signal_local(c, "due", ms);
    return db_signal(c, "due", ms);
}

int store_live_in(struct db_conn *c, const char *tenant_id, const char *body)
{
    size_t tl = strlen(tenant_id), bl = strlen(body);
    char *payload = xmalloc(tl + 1 + bl + 1);       /* "tenant body" */
    memcpy(payload, tenant_id, tl);
    payload[tl] = ' ';
    memcpy(payload + tl + 1, body, bl + 1);
    int rc = db_signal(c, "live", payload);
    free(payload);
    return rc;
}

/* ---- health ------------------------------------------------------------------ */

static const char SQL_PROBE[] =
    "INSERT INTO health_probe (node, at) VALUES (?1, ?2) "
    "ON CONFLICT (node) DO UPDATE SET at = excluded.at";

static int probe_tx(struct db_conn *c, void *ud)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_PROBE, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, db_node_id(db_of(c)));
    db_bind_int64(st, 2, wall_ms());
    return db_exec(st);
}

/* /readyz: the database answers, and takes writes again after it refused
 * them (disk full, read-only). */
int store_sql_ping(struct store *base)
{
    struct sql_store *s = sql_of(base);
    int rc = db_ping(s->db);
    if (rc == 0 && db_degraded(s->db))
        rc = db_tx(s->db, DB_TX_WRITE, probe_tx, NULL);
    return rc;
}

const char *store_backend(struct store *base)
{
    return db_dialect(sql_of(base)->db) == DB_PG ? "postgres" : "sqlite";
}

void store_stats(struct store *base, struct store_stats *out)
{
    struct sql_store *s = sql_of(base);
    out->backend = store_backend(base);
    out->errors = db_error_count(s->db);
    out->retries = db_retry_count(s->db);
    out->degraded = db_degraded(s->db);
    out->lossy = db_signals_lossy(s->db);
    int n = db_node_count(s->db);
    out->nodes = n > 0 ? n : 0;
}

/* ---- open and close ------------------------------------------------------------ */

void store_sql_close(struct store *base)
{
    struct sql_store *s = sql_of(base);
    if (!s)
        return;
    store_alert_writer_free(s->alert_writer);   /* drains its queue first */
    db_close(s->db);                            /* stops the listener */
    store_cal_cache_free(s->cals);
    pthread_mutex_destroy(&s->tenants.mu);
    free(s->tenants.all);
    pthread_mutex_destroy(&s->tokens.mu);
    free(s);
}

int store_sql_open(const char *url, struct store **out, char *err, size_t errlen)
{
    struct sql_store *s = xcalloc(1, sizeof(*s));
    s->cals = store_cal_cache_new();
    pthread_mutex_init(&s->tenants.mu, NULL);
    pthread_mutex_init(&s->tokens.mu, NULL);
    int rc = db_open(url, &s->db, err, errlen);
    if (rc < 0)
        goto fail;
    struct migrate_ctx m = {
        .files = db_dialect(s->db) == DB_PG ? schema_postgres : schema_sqlite,
        .err = err,
        .errlen = errlen,
    };
    rc = db_tx(s->db, DB_TX_LOCKING, migrate_tx, &m);
    if (rc < 0) {
        if (!err[0])
            snprintf(err, errlen, "migration failed: %s", sw_strerror(rc));
        goto fail;
    }
    db_subscribe(s->db, on_signal, s);
    db_set_owner(s->db, s);
    /* before the first request: other nodes' invalidation barriers wait
     * for this one from now on */
    if ((rc = db_node_register(s->db)) < 0) {
        snprintf(err, errlen, "cannot register this node: %s", sw_strerror(rc));
        goto fail;
    }
    s->base.ops = &sql_store_ops;
    s->base.events = &sql_event_ops;
    s->base.users = &sql_user_ops;
    s->base.notify = &sql_notify_ops;
    s->base.findings = &sql_finding_ops;
    s->base.alerts = &sql_alert_ops;
    s->base.escalation = &sql_escalation_ops;
    s->base.analytics = &sql_analytics_ops;
    s->base.proof = &sql_proof_ops;
    s->base.calendars = &sql_calendar_ops;
    s->base.integrations = &sql_integration_ops;
    s->alert_writer = store_alert_writer_new(s);
    *out = &s->base;
    return 0;
fail:
    db_close(s->db);
    store_cal_cache_free(s->cals);
    pthread_mutex_destroy(&s->tenants.mu);
    pthread_mutex_destroy(&s->tokens.mu);
    free(s);
    return rc;
}
