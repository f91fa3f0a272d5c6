/* calendars.c: business-hours calendars (store_calendars.h): the rows, the
 * node's cache of compiled calendars, what policies say about calendars,
 * and the closed pauses clocks re-measure on a calendar.
 *
 * The cache.  Compiling a calendar asks ICU for four centuries of zone
 * transitions (a few ms), so compiled calendars are kept per node, keyed by
 * (tenant, id, version).  Every lookup reads the row's version in the
 * caller's transaction first, so what it answers is what that transaction
 * sees, on any node, without an invalidation signal that could be lost.
 * Replaced or least-recently-used entries are retired, not freed: callers
 * hold plain pointers into them (a clock's cal) for the rest of their
 * request, so a retired entry lives STORE_CAL_GRACE_MS more.
 *
 * Writes.  Saving or deleting a calendar locks its tenant row first
 * ({FOR_UPDATE}), the order of every policy write; item writers take the
 * tenant row {FOR_SHARE} (alerts) or the group's target rows (findings),
 * so a save and the item writes it recalculates never interleave. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_calendars.h"
#include "store/store_int.h"
#include "store/store_proof.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/tzcal.h"
#include "util/xalloc.h"

#define CACHE_LIVE_MAX 64

/* ---- statements --------------------------------------------------------------- */

#define CAL_COLS "tenant_id, id, name, timezone, hours, holidays, version, created_at, " \
                 "updated_at, updated_by"

static const char SQL_GET[] = "SELECT " CAL_COLS " FROM calendars WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_LIST[] =
    "SELECT " CAL_COLS " FROM calendars WHERE tenant_id = ?1 ORDER BY id";
static const char SQL_VERSION[] =
    "SELECT version FROM calendars WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_UPSERT[] =
    "INSERT INTO calendars (tenant_id, id, name, timezone, hours, holidays, version, "
    "created_at, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7, ?8) "
    "ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, "
    "timezone = excluded.timezone, hours = excluded.hours, holidays = excluded.holidays, "
    "version = calendars.version + 1, updated_at = excluded.updated_at, "
    "updated_by = excluded.updated_by RETURNING version, created_at";
static const char SQL_DELETE[] = "DELETE FROM calendars WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_IN_USE[] =
    "SELECT 1 FROM policy_calendars WHERE tenant_id = ?1 AND calendar = ?2 LIMIT 1";
static const char SQL_TENANT_LOCK[] = "SELECT id FROM tenants WHERE id = ?1 {FOR_UPDATE}";

static const char SQL_POLICY_GET[] =
    "SELECT severity, calendar FROM policy_calendars "
    "WHERE tenant_id = ?1 AND project_id = ?2 AND kind = ?3";
static const char SQL_POLICY_PUT[] =
    "INSERT INTO policy_calendars (tenant_id, project_id, kind, severity, calendar, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id, project_id, kind, severity) "
    "DO UPDATE SET calendar = excluded.calendar, updated_at = excluded.updated_at";
static const char SQL_POLICY_DEL[] =
    "DELETE FROM policy_calendars WHERE tenant_id = ?1 AND project_id = ?2 AND kind = ?3 "
    "AND severity = ?4";

static const char SQL_PAUSE_ADD[] =
    "INSERT INTO clock_pauses (tenant_id, item_kind, item_id, clock, from_at, to_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id, item_kind, item_id, clock, "
    "from_at) DO UPDATE SET to_at = excluded.to_at";
static const char SQL_PAUSES[] =
    "SELECT from_at, to_at FROM clock_pauses WHERE tenant_id = ?1 AND item_kind = ?2 "
    "AND item_id = ?3 AND clock = ?4 ORDER BY from_at";

/* ---- JSON of hours and holidays -------------------------------------------------- */

json_t *store_calendar_hours_json(const struct sw_calendar *c)
{
    json_t *o = json_object();
    for (int d = 0; d < 7; d++) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->niv[d]; i++) {
            char s[12], e[12];
            sla_cal_time_format(c->iv[d][i].start_s, s);
            sla_cal_time_format(c->iv[d][i].end_s, e);
            json_array_append_new(a, json_pack("[s, s]", s, e));
        }
        json_object_set_new(o, sw_cal_day_names[d], a);
    }
    return o;
}

json_t *store_calendar_holidays_json(const struct sw_calendar *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nholidays; i++) {
        char b[12];
        sla_cal_holiday_format(&c->holidays[i], b);
        json_array_append_new(a, json_string(b));
    }
    return a;
}

/* The stored text back into c: SW_E_STORE when it is not what this file
 * wrote. */
static int parse_stored(const char *hours, const char *holidays, struct sw_calendar *c)
{
    json_error_t jerr;
    json_t *h = json_loads(hours, 0, &jerr), *l = json_loads(holidays, 0, &jerr);
    int rc = h && l && json_is_object(h) && json_is_array(l) ? 0 : SW_E_STORE;
    for (int d = 0; d < 7 && rc == 0; d++) {
        json_t *a = json_object_get(h, sw_cal_day_names[d]), *v;
        size_t i;
        c->niv[d] = 0;
        json_array_foreach(a, i, v) {
            if (i >= SLA_CAL_INTERVALS_MAX ||
                sla_cal_time_parse(json_string_value(json_array_get(v, 0)), false,
                                   &c->iv[d][i].start_s) < 0 ||
                sla_cal_time_parse(json_string_value(json_array_get(v, 1)), true,
                                   &c->iv[d][i].end_s) < 0) {
                rc = SW_E_STORE;
                break;
            }
            c->niv[d]++;
        }
    }
    c->nholidays = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(l); i++) {
        if (i >= SLA_CAL_HOLIDAYS_MAX ||
            sla_cal_holiday_parse(json_string_value(json_array_get(l, i)),
                                  &c->holidays[c->nholidays]) < 0)
            rc = SW_E_STORE;
        else
            c->nholidays++;
    }
    json_decref(h);
    json_decref(l);
    return rc;
}

static int read_row(struct db_stmt *st, struct sw_calendar *c)
{
    memset(c, 0, sizeof(*c));
    db_col_copy(st, 0, c->tenant_id, sizeof(c->tenant_id));
    db_col_copy(st, 1, c->id, sizeof(c->id));
    db_col_copy(st, 2, c->name, sizeof(c->name));
    db_col_copy(st, 3, c->timezone, sizeof(c->timezone));
    int rc = parse_stored(db_col_text(st, 4), db_col_text(st, 5), c);
    c->version = db_col_int64(st, 6);
    c->created_at = db_col_int64(st, 7);
    c->updated_at = db_col_int64(st, 8);
    db_col_copy(st, 9, c->updated_by, sizeof(c->updated_by));
    return rc;
}

/* ---- the cache ---------------------------------------------------------------------- */

struct cal_entry {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
    int64_t version;
    struct tzcal t;
    uint64_t used;              /* LRU tick */
    int64_t retired_at;         /* monotonic ms */
    struct cal_entry *next;
};

struct cal_cache {
    pthread_mutex_t mu;
    struct cal_entry *live, *retired;
    size_t nlive;
    uint64_t tick;
};

struct cal_cache *store_cal_cache_new(void)
{
    struct cal_cache *cc = xcalloc(1, sizeof(*cc));
    pthread_mutex_init(&cc->mu, NULL);
    return cc;
}

static void entries_free(struct cal_entry *e)
{
    while (e) {
        struct cal_entry *next = e->next;
        tzcal_free(&e->t);
        free(e);
        e = next;
    }
}

void store_cal_cache_free(struct cal_cache *cc)
{
    if (!cc)
        return;
    entries_free(cc->live);
    entries_free(cc->retired);
    pthread_mutex_destroy(&cc->mu);
    free(cc);
}

/* Under mu: frees what retired long enough ago, then moves e (a live
 * entry, unlinked by the caller) to the retired list. */
static void retire(struct cal_cache *cc, struct cal_entry *e, int64_t now)
{
    struct cal_entry **p = &cc->retired;
    while (*p) {
        if (now - (*p)->retired_at > STORE_CAL_GRACE_MS) {
            struct cal_entry *old = *p;
            *p = old->next;
            tzcal_free(&old->t);
            free(old);
        } else {
            p = &(*p)->next;
        }
    }
    if (e) {
        e->retired_at = now;
        e->next = cc->retired;
        cc->retired = e;
    }
}

static const struct sla_cal *cache_find(struct cal_cache *cc, const char *tenant_id,
                                        const char *id, int64_t version)
{
    const struct sla_cal *out = NULL;
    pthread_mutex_lock(&cc->mu);
    for (struct cal_entry *e = cc->live; e; e = e->next)
        if (e->version == version && !strcmp(e->id, id) && !strcmp(e->tenant_id, tenant_id)) {
            e->used = ++cc->tick;
            out = e->t.cal;
            break;
        }
    pthread_mutex_unlock(&cc->mu);
    return out;
}

/* Adds a freshly compiled entry (stolen), retiring older versions of the
 * same calendar and, beyond CACHE_LIVE_MAX, the least recently used.  A
 * concurrent compile of the same version that won: ours is dropped and
 * theirs answered. */
static const struct sla_cal *cache_add(struct cal_cache *cc, struct cal_entry *n)
{
    int64_t now = sw_mono_ms();
    const struct sla_cal *out = n->t.cal;
    pthread_mutex_lock(&cc->mu);
    struct cal_entry **p = &cc->live;
    while (*p) {
        struct cal_entry *e = *p;
        if (strcmp(e->id, n->id) || strcmp(e->tenant_id, n->tenant_id)) {
            p = &e->next;
            continue;
        }
        if (e->version == n->version) {
            out = e->t.cal;
            tzcal_free(&n->t);
            free(n);
            n = NULL;
            break;
        }
        *p = e->next;
        cc->nlive--;
        retire(cc, e, now);
    }
    if (n) {
        n->used = ++cc->tick;
        n->next = cc->live;
        cc->live = n;
        cc->nlive++;
        while (cc->nlive > CACHE_LIVE_MAX) {
            struct cal_entry **lru = NULL;
            for (p = &cc->live; *p; p = &(*p)->next)
                if (!lru || (*p)->used < (*lru)->used)
                    lru = p;
            struct cal_entry *e = *lru;
            *lru = e->next;
            cc->nlive--;
            retire(cc, e, now);
        }
    }
    retire(cc, NULL, now);
    pthread_mutex_unlock(&cc->mu);
    return out;
}

/* ---- lookups inside a transaction ----------------------------------------------------- */

static int compile_row(struct db_conn *c, const char *tenant_id, const char *id,
                       const struct sla_cal **out)
{
    struct sql_store *s = db_owner(db_of(c));
    struct sw_calendar *cal = xmalloc(sizeof(*cal));
    struct db_stmt *st;
    int rc = db_prep(c, SQL_GET, &st);
    if (rc < 0)
        goto done;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    if ((rc = db_step_one(st)) <= 0) {
        rc = rc < 0 ? rc : SW_E_NOTFOUND;
        goto done;
    }
    rc = read_row(st, cal);
    db_reset(st);
    if (rc < 0)
        goto done;
    struct cal_entry *e = xcalloc(1, sizeof(*e));
    struct sla_cal_spec spec;
    struct sla_cal_error err;
    sw_calendar_spec(cal, &spec);
    if (tzcal_compile(cal->timezone, &spec, &e->t, &err) < 0) {
        /* saved only after it compiled: the zone data changed under it */
        log_error("calendar %s/%s no longer compiles (%s: %s)", tenant_id, id, err.field,
                  err.reason);
        free(e);
        rc = SW_E_STORE;
        goto done;
    }
    snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", tenant_id);
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->version = cal->version;
    *out = cache_add(s->cals, e);
done:
    free(cal);
    return rc;
}

int store_calendar_in(struct db_conn *c, struct cal_memo *memo, const char *tenant_id,
                      const char *id, const struct sla_cal **out)
{
    *out = NULL;
    if (!id || !*id || !strcmp(id, SW_CAL_24X7))
        return 0;
    for (size_t i = 0; memo && i < memo->n; i++)
        if (!strcmp(memo->e[i].id, id) && !strcmp(memo->e[i].tenant_id, tenant_id)) {
            *out = memo->e[i].cal;
            return 0;
        }
    struct sql_store *s = db_owner(db_of(c));
    struct db_stmt *st;
    int rc = db_prep(c, SQL_VERSION, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    int64_t version = db_col_int64(st, 0);
    db_reset(st);
    const struct sla_cal *cal = cache_find(s->cals, tenant_id, id, version);
    if (!cal && (rc = compile_row(c, tenant_id, id, &cal)) < 0)
        return rc;
    if (memo) {
        size_t k = memo->n < CAL_MEMO_SLOTS ? memo->n++ : memo->next++ % CAL_MEMO_SLOTS;
        snprintf(memo->e[k].tenant_id, sizeof(memo->e[k].tenant_id), "%s", tenant_id);
        snprintf(memo->e[k].id, sizeof(memo->e[k].id), "%s", id);
        memo->e[k].cal = cal;
    }
    *out = cal;
    return 0;
}

/* ---- policy calendars ------------------------------------------------------------------ */

int store_policy_calendars_in(struct db_conn *c, const char *tenant_id, const char *project_id,
                              const char *kind, char out[][SW_ID_MAX + 1])
{
    for (int i = 0; i < SLA_SEV_COUNT; i++)
        out[i][0] = '\0';
    struct db_stmt *st;
    int rc = db_prep(c, SQL_POLICY_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, project_id);
    db_bind_text(st, 3, kind);
    while ((rc = db_step(st)) == DB_ROW) {
        enum sla_sev sev;
        if (sla_sev_parse(SLA_FINDING, db_col_text(st, 0), &sev) == 0)
            db_col_copy(st, 1, out[sev], SW_ID_MAX + 1);
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int store_policy_calendars_put_in(struct db_conn *c, const char *tenant_id,
                                  const char *project_id, const char *kind,
                                  const bool *set, char val[][SW_ID_MAX + 1], int64_t now)
{
    int rc = 0;
    for (int i = 0; i < SLA_SEV_COUNT && rc == 0; i++) {
        if (!set[i])
            continue;
        struct db_stmt *st;
        if ((rc = db_prep(c, val[i][0] ? SQL_POLICY_PUT : SQL_POLICY_DEL, &st)) < 0)
            return rc;
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, project_id);
        db_bind_text(st, 3, kind);
        db_bind_text(st, 4, sla_sev_name((enum sla_sev)i));
        if (val[i][0]) {
            db_bind_text(st, 5, val[i]);
            db_bind_int64(st, 6, now);
        }
        rc = db_exec(st);
    }
    return rc;
}

/* ---- pauses ------------------------------------------------------------------------------ */

int store_clock_pause_add_in(struct db_conn *c, const char *tenant_id, const char *kind,
                             const char *item_id, const char *clock, int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_PAUSE_ADD, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, item_id);
    db_bind_text(st, 4, clock);
    db_bind_int64(st, 5, from);
    db_bind_int64(st, 6, to);
    return db_exec(st);
}

int store_clock_pauses_in(struct db_conn *c, const char *tenant_id, const char *kind,
                          const char *item_id, const char *clock, int64_t (*out)[2], size_t cap,
                          size_t *n)
{
    struct db_stmt *st;
    *n = 0;
    int rc = db_prep(c, SQL_PAUSES, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, item_id);
    db_bind_text(st, 4, clock);
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            rc = SW_E_TOOBIG;
            break;
        }
        out[*n][0] = db_col_int64(st, 0);
        out[*n][1] = db_col_int64(st, 1);
        (*n)++;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

/* ---- the ops ------------------------------------------------------------------------------- */

struct put_ctx {
    struct sw_calendar *cal;
    int64_t now;
    const char *actor;
    int64_t version, created_at, count;
    struct sw_dry_run *dry;             /* non-NULL: counted, rolled back */
};

/* A dry run's transaction ends here: everything it wrote is rolled back. */
#define DRY_RUN_DONE SW_E_EXHAUSTED

static int put_tx(struct db_conn *c, void *ud)
{
    struct put_ctx *x = ud;
    struct sw_calendar *cal = x->cal;
    x->count = 0;
    if (x->dry)
        memset(x->dry, 0, sizeof(*x->dry));     /* a retried run counts afresh */
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TENANT_LOCK, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, cal->tenant_id);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    db_reset(st);
    /* the version being replaced: findings' re-arm rule compares deadlines */
    const struct sla_cal *old = NULL;
    if ((rc = store_calendar_in(c, NULL, cal->tenant_id, cal->id, &old)) < 0 &&
        rc != SW_E_NOTFOUND)
        return rc;
    json_t *h = store_calendar_hours_json(cal), *l = store_calendar_holidays_json(cal);
    char *hs = json_dumps(h, JSON_COMPACT), *ls = json_dumps(l, JSON_COMPACT);
    json_decref(h);
    json_decref(l);
    if ((rc = db_prep(c, SQL_UPSERT, &st)) == 0) {
        db_bind_text(st, 1, cal->tenant_id);
        db_bind_text(st, 2, cal->id);
        db_bind_text(st, 3, cal->name);
        db_bind_text(st, 4, cal->timezone);
        db_bind_text(st, 5, hs);
        db_bind_text(st, 6, ls);
        db_bind_int64(st, 7, x->now);
        db_bind_text(st, 8, x->actor ? x->actor : "");
        if ((rc = db_step_one(st)) == 1) {
            x->version = db_col_int64(st, 0);
            x->created_at = db_col_int64(st, 1);
            db_reset(st);
            rc = 0;
        } else if (rc == 0) {
            rc = SW_E_STORE;
        }
    }
    free(hs);
    free(ls);
    /* the new version of the calendar, with the change (history.c) */
    if (rc == 0)
        rc = store_history_record_in(c, SW_HISTORY_CALENDAR, cal->tenant_id, cal->id, x->now,
                                     x->actor, x->version == 1 ? "create" : "update");
    if (rc < 0 || x->version == 1)
        return rc < 0 ? rc : x->dry ? DRY_RUN_DONE : 0;     /* new: nothing is on it yet */
    int64_t na = 0, nf = 0;
    if ((rc = alert_recalc_calendar_in(c, cal->tenant_id, cal->id, x->now, x->actor, &na,
                                       x->dry)) < 0 ||
        (rc = findings_recalc_calendar_in(c, cal->tenant_id, cal->id, old, x->now, &nf,
                                          x->dry)) < 0)
        return rc;
    x->count = na + nf;
    if (x->dry) {
        x->dry->would_recalculate = x->count;
        return DRY_RUN_DONE;
    }
    return x->count > 0 ? store_hint_in(c, x->now, x->now) : 0;
}

static int cal_dry_run(struct store *base, struct sw_calendar *cal, int64_t now,
                       struct sw_dry_run *out, struct sla_cal_error *err)
{
    struct sla_cal_spec spec;
    struct tzcal t;
    sw_calendar_spec(cal, &spec);
    int rc = tzcal_compile(cal->timezone, &spec, &t, err);
    if (rc < 0)
        return rc;
    tzcal_free(&t);
    memset(out, 0, sizeof(*out));
    struct put_ctx x = {.cal = cal, .now = now, .actor = "", .dry = out};
    rc = db_tx(sql_of(base)->db, DB_TX_WRITE, put_tx, &x);
    return rc == DRY_RUN_DONE ? 0 : rc;
}

static int cal_put(struct store *base, struct sw_calendar *cal, int64_t now, const char *actor,
                   bool *created, int64_t *recalculated, struct sla_cal_error *err)
{
    /* compile first: a calendar that does not compile is never stored */
    struct sla_cal_spec spec;
    struct tzcal t;
    sw_calendar_spec(cal, &spec);
    int rc = tzcal_compile(cal->timezone, &spec, &t, err);
    if (rc < 0)
        return rc;
    tzcal_free(&t);
    struct put_ctx x = {.cal = cal, .now = now, .actor = actor};
    rc = db_tx(sql_of(base)->db, DB_TX_WRITE, put_tx, &x);
    if (rc < 0)
        return rc;
    cal->version = x.version;
    cal->created_at = x.created_at;
    cal->updated_at = now;
    snprintf(cal->updated_by, sizeof(cal->updated_by), "%s", actor ? actor : "");
    *created = x.version == 1;
    *recalculated = x.count;
    return 0;
}

static int cal_get(struct store *base, const char *tenant_id, const char *id,
                   struct sw_calendar *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_GET, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        db_bind_text(st, 2, id);
        if ((rc = db_step_one(st)) == 1) {
            rc = read_row(st, out);
            db_reset(st);
        } else if (rc == 0) {
            rc = SW_E_NOTFOUND;
        }
    }
    db_release(c);
    return rc;
}

static int cal_list(struct store *base, const char *tenant_id, store_calendar_cb cb, void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct sw_calendar *cal = xmalloc(sizeof(*cal));
    struct db_stmt *st;
    int rc = db_prep(c, SQL_LIST, &st);
    if (rc == 0) {
        db_bind_text(st, 1, tenant_id);
        while ((rc = db_step(st)) == DB_ROW) {
            if ((rc = read_row(st, cal)) < 0 || cb(cal, ud))
                break;
        }
        db_reset(st);
    }
    free(cal);
    db_release(c);
    return rc < 0 ? rc : 0;
}

struct del_ctx {
    const char *tenant_id, *id;
    int64_t now;
    const char *actor;
};

static int del_tx(struct db_conn *c, void *ud)
{
    struct del_ctx *x = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_TENANT_LOCK, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    db_reset(st);
    if ((rc = db_prep(c, SQL_IN_USE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    if ((rc = db_step_one(st)) != 0) {
        if (rc == 1)
            db_reset(st);
        return rc < 0 ? rc : SW_E_CONFLICT;
    }
    if ((rc = db_prep(c, SQL_DELETE, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if (db_changes(st) == 0)
        return SW_E_NOTFOUND;
    return store_history_record_in(c, SW_HISTORY_CALENDAR, x->tenant_id, x->id, x->now,
                                   x->actor, "delete");
}

static int cal_del(struct store *base, const char *tenant_id, const char *id, int64_t now,
                   const char *actor)
{
    struct del_ctx x = {tenant_id, id, now, actor};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, del_tx, &x);
}

struct compiled_ctx {
    const char *tenant_id, *id;
    const struct sla_cal *out;
};

static int compiled_tx(struct db_conn *c, void *ud)
{
    struct compiled_ctx *x = ud;
    return store_calendar_in(c, NULL, x->tenant_id, x->id, &x->out);
}

static int cal_compiled(struct store *base, const char *tenant_id, const char *id,
                        const struct sla_cal **out)
{
    struct compiled_ctx x = {tenant_id, id, NULL};
    if (!*id || !strcmp(id, SW_CAL_24X7))
        return SW_E_NOTFOUND;
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = compiled_tx(c, &x);
    db_release(c);
    if (rc == 0)
        *out = x.out;
    return rc;
}

const struct store_calendar_ops sql_calendar_ops = {
    .put = cal_put,
    .get = cal_get,
    .list = cal_list,
    .del = cal_del,
    .put_dry_run = cal_dry_run,
    .compiled = cal_compiled,
};
