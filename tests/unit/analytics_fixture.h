/* analytics_fixture.h: what the analytics store tests share (included by
 * test_store_analytics.c and test_store_analytics_reads.c): tenants,
 * alerts made by core and saved as the alert subject saves them, a change
 * applied as the alert subject applies it (the alert row, then
 * store_rollup_change_in, one transaction), and every rollup byte as text. */
#ifndef SW_TESTS_ANALYTICS_FIXTURE_H
#define SW_TESTS_ANALYTICS_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rollup.h"
#include "core/sla.h"
#include "store/store_alerts.h"
#include "store/store_analytics.h"
#include "store/store_int.h"
#include "storetest.h"
#include "util/xalloc.h"

#define MIN SLA_MS_PER_MIN
#define H SLA_MS_PER_HOUR
#define D SLA_MS_PER_DAY
/* 2026-01-01T00:00:00Z */
#define T0 INT64_C(1767225600000)
#define RATE 5000       /* cents per started hour over a high alert's resolve target */

#define FIXTURE_FN static __attribute__((unused))

/* ---- fixtures ---------------------------------------------------------------------- */

static struct sla_alert_layer layer;
static struct sla_alert_scopes scopes = {.global = &layer};

FIXTURE_FN void tenant_mk(struct store *s, const char *id, const char *tz)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    snprintf(t.timezone, sizeof(t.timezone), "%s", tz ? tz : "UTC");
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

/* A new alert as core makes it: both clocks running from created. */
FIXTURE_FN void alert_new(struct sw_alert *x, const char *tenant, const char *id,
                          const char *project, enum sla_sev sev, int64_t created)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->tenant_id, sizeof(x->tenant_id), "%s", tenant);
    snprintf(x->id, sizeof(x->id), "%s", id);
    snprintf(x->project_id, sizeof(x->project_id), "%s", project ? project : "");
    layer.penalty_cph[SLA_SEV_HIGH] = RATE;
    layer.penalty_cph[SLA_SEV_CRITICAL] = 2 * RATE;
    assert_int_equal(sla_alert_init(&x->a, sev, created, &scopes), 0);
    x->next_check_at = SLA_NEVER;
    x->updated_at = created;
}

/* The alert subject's columns, enough for the store's reads of alerts. */
static const char SQL_ALERT_SAVE[] =
    "INSERT INTO alerts (tenant_id, id, project_id, severity, state, created_at, "
    "acknowledged_at, resolved_at, ack_started_at, ack_target_ms, ack_paused_ms, "
    "ack_paused_since, ack_stopped_at, ack_last_event_at, res_started_at, res_target_ms, "
    "res_paused_ms, res_paused_since, res_stopped_at, res_last_event_at, ack_min, "
    "resolve_min, warn_pct, penalty_cph, ack_src, resolve_src, warn_src, penalty_src, "
    "ack_due_at, resolve_due_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, 'global', "
    "'global', 'global', 'global', ?25, ?26, ?27) ON CONFLICT (tenant_id, id) DO UPDATE SET "
    "project_id = excluded.project_id, severity = excluded.severity, state = excluded.state, "
    "acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at, "
    "ack_started_at = excluded.ack_started_at, ack_target_ms = excluded.ack_target_ms, "
    "ack_paused_ms = excluded.ack_paused_ms, ack_paused_since = excluded.ack_paused_since, "
    "ack_stopped_at = excluded.ack_stopped_at, ack_last_event_at = excluded.ack_last_event_at, "
    "res_started_at = excluded.res_started_at, res_target_ms = excluded.res_target_ms, "
    "res_paused_ms = excluded.res_paused_ms, res_paused_since = excluded.res_paused_since, "
    "res_stopped_at = excluded.res_stopped_at, res_last_event_at = excluded.res_last_event_at, "
    "ack_min = excluded.ack_min, resolve_min = excluded.resolve_min, "
    "warn_pct = excluded.warn_pct, penalty_cph = excluded.penalty_cph, "
    "ack_due_at = excluded.ack_due_at, resolve_due_at = excluded.resolve_due_at, "
    "updated_at = excluded.updated_at";

FIXTURE_FN int alert_save_in(struct db_conn *c, const struct sw_alert *x)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_ALERT_SAVE, &st);
    if (rc < 0)
        return rc;
    const struct sla_alert *a = &x->a;
    const struct sla_clock *k[2] = {&a->ack, &a->resolve};
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_text(st, 3, x->project_id);
    db_bind_text(st, 4, sla_sev_name(a->sev));
    db_bind_text(st, 5, sla_alert_state_name(a->state));
    db_bind_int64(st, 6, a->created_at);
    db_bind_int64(st, 7, a->acknowledged_at);
    db_bind_int64(st, 8, a->resolved_at);
    for (int i = 0; i < 2; i++) {
        db_bind_int64(st, 9 + 6 * i, k[i]->started_at);
        db_bind_int64(st, 10 + 6 * i, k[i]->target_ms);
        db_bind_int64(st, 11 + 6 * i, k[i]->paused_ms);
        db_bind_int64(st, 12 + 6 * i, k[i]->paused_since);
        db_bind_int64(st, 13 + 6 * i, k[i]->stopped_at);
        db_bind_int64(st, 14 + 6 * i, k[i]->last_event_at);
    }
    db_bind_int64(st, 21, a->targets.ack_min);
    db_bind_int64(st, 22, a->targets.resolve_min);
    db_bind_int64(st, 23, a->targets.warn_pct);
    db_bind_int64(st, 24, a->targets.penalty_cph);
    db_bind_int64(st, 25, a->ack.started_at + a->ack.target_ms + a->ack.paused_ms);
    db_bind_int64(st, 26, a->resolve.started_at + a->resolve.target_ms + a->resolve.paused_ms);
    db_bind_int64(st, 27, x->updated_at);
    return db_exec(st);
}

struct chg {
    const struct sw_alert *before, *after;
};

/* As the alert subject does it: the alert first, then its rollups. */
FIXTURE_FN int chg_tx(struct db_conn *c, void *ud)
{
    struct chg *g = ud;
    int rc = alert_save_in(c, g->after);
    return rc < 0 ? rc : store_rollup_change_in(c, g->before, g->after);
}

FIXTURE_FN int no_after_tx(struct db_conn *c, void *ud)
{
    struct chg *g = ud;
    return store_rollup_change_in(c, g->before, g->after);
}

FIXTURE_FN int apply(struct store *s, const struct sw_alert *before, const struct sw_alert *after)
{
    struct chg g = {before, after};
    return db_tx(sql_of(s)->db, DB_TX_WRITE, chg_tx, &g);
}

/* One lifecycle step on *x, applied with the state before it. */
enum step { ACK, RESOLVE, REOPEN };

FIXTURE_FN void act(struct store *s, struct sw_alert *x, enum step what, int64_t at)
{
    struct sw_alert before = *x;
    int rc = what == ACK       ? sla_alert_acknowledge(&x->a, at)
             : what == RESOLVE ? sla_alert_resolve(&x->a, at)
                               : sla_alert_reopen(&x->a, at);
    assert_int_equal(rc, 0);
    x->updated_at = at;
    assert_int_equal(apply(s, &before, x), 0);
}

FIXTURE_FN int64_t sql_count(struct store *s, const char *sql)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    assert_int_equal(db_step_one(st), 1);
    int64_t n = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return n;
}

FIXTURE_FN void sql_run(struct store *s, const char *sql)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    assert_int_equal(db_exec(st), 0);
    db_release(c);
}

/* Every rollup-like row: the alerts' rollups, their counts, the findings'
 * rollups and live counters (one rebuild writes them all), in key order;
 * hist (or nothing) last. */
static const char *const SQL_ALL_ROLLUPS[] = {
    "SELECT 'r', tenant_id, day, severity, project_id, clock, count, met, breached, sum_ms, "
    "min_ms, max_ms, penalty_cents, hist FROM rollups "
    "ORDER BY tenant_id, day, severity, project_id, clock",
    "SELECT 'c', tenant_id, day, severity, project_id, '', created, auto_resolved, 0, 0, 0, 0, "
    "0, NULL FROM alert_counts ORDER BY tenant_id, day, severity, project_id",
    "SELECT 'f', tenant_id, day, severity, project_id, status, count, met, breached, sum_ms, "
    "min_ms, max_ms, penalty_cents, hist FROM finding_rollups "
    "ORDER BY tenant_id, day, severity, project_id, status",
    "SELECT 'n', tenant_id, '', severity, project_id, '', open, paused, 0, 0, 0, 0, 0, NULL "
    "FROM finding_counts ORDER BY tenant_id, project_id, severity",
};

/* Every rollup row, every byte, as text (the caller frees). */
FIXTURE_FN char *snapshot(struct store *s)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    size_t cap = 4096, len = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (size_t q = 0; q < sizeof(SQL_ALL_ROLLUPS) / sizeof(SQL_ALL_ROLLUPS[0]); q++) {
        struct db_stmt *st;
        assert_int_equal(db_prep(c, SQL_ALL_ROLLUPS[q], &st), 0);
        int rc;
        while ((rc = db_step(st)) == DB_ROW) {
            char line[640];
            int n = snprintf(line, sizeof(line), "%s|%s|%s|%s|%s|%s|",
                             db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2),
                             db_col_text(st, 3), db_col_text(st, 4), db_col_text(st, 5));
            for (int i = 6; i <= 12; i++)
                n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%lld|",
                              db_col_null(st, i) ? "null:" : "", (long long)db_col_int64(st, i));
            size_t hl = 0;
            const uint8_t *h = db_col_null(st, 13) ? NULL : db_col_blob(st, 13, &hl);
            while (len + (size_t)n + 2 * hl + 2 > cap)
                out = xrealloc(out, cap *= 2);
            memcpy(out + len, line, (size_t)n);
            len += (size_t)n;
            for (size_t i = 0; i < hl; i++)
                len += (size_t)snprintf(out + len, 3, "%02x", h[i]);
            out[len++] = '\n';
            out[len] = '\0';
        }
        assert_int_equal(rc, DB_DONE);
        db_reset(st);
    }
    db_release(c);
    return out;
}

/* Rows of every table a rebuild writes. */
FIXTURE_FN int64_t row_count(struct store *s)
{
    return sql_count(s, "SELECT (SELECT count(*) FROM rollups) + "
                        "(SELECT count(*) FROM alert_counts) + "
                        "(SELECT count(*) FROM finding_rollups) + "
                        "(SELECT count(*) FROM finding_counts)");
}

/* ---- scan helpers ------------------------------------------------------------------ */

struct rows {
    int n;
    struct sw_rollup_row r[64];
    int stop_after;             /* 0 = never */
};

FIXTURE_FN int rows_cb(const struct sw_rollup_row *r, void *ud)
{
    struct rows *u = ud;
    if (u->n < 64) {
        u->r[u->n] = *r;
        u->r[u->n].hist = NULL;
        u->r[u->n].hist_len = r->hist_len;
    }
    u->n++;
    return u->stop_after && u->n >= u->stop_after;
}

FIXTURE_FN void scan(struct store *s, const char *tenant, const char *from, const char *to,
                     const char *project, int clock, struct rows *u)
{
    memset(u, 0, sizeof(*u));
    assert_int_equal(store_rollup_scan(s, tenant, from, to, project, clock, rows_cb, u), 0);
}

#endif
