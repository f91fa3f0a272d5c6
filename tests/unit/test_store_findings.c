/* The findings store on a real SQLite file: derived deadlines and the
 * scheduler's ops (next_due, process_due) with explicit instants: warnings
 * and breaches fire once per deadline, re-arm after a recalculation that
 * moves the deadline into the future, stay fired when it is still past;
 * escalation contacts at breach + N days; paused and closed findings never
 * fire; tenant thresholds from the notification config; notices reach the
 * outbox.  And migration 0007 over rows written in the 0003 layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "core/sla.h"
#include "notify/notify.h"
#include "store/store.h"
#include "store/store_findings.h"
#include "store/store_notify.h"
#include "util/embed.h"

#define H SLA_MS_PER_HOUR
#define D SLA_MS_PER_DAY
/* 2026-01-01T00:00:00Z */
#define T0 INT64_C(1767225600000)

struct fx {
    char dir[64];
    char path[128];
    struct store *s;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char url[160], err[256];
    snprintf(x->dir, sizeof(x->dir), "/tmp/sw-store-findings.XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->path, sizeof(x->path), "%s/db", x->dir);
    snprintf(url, sizeof(url), "sqlite:%s", x->path);
    if (store_open(url, &x->s, err, sizeof(err)) < 0)
        fail_msg("store_open: %s", err);
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "acme");
    snprintf(t.name, sizeof(t.name), "Acme");
    assert_int_equal(store_tenant_create(x->s, &t, NULL), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    char p[160];
    store_close(x->s);
    static const char *const files[] = {"db", "db-wal", "db-shm", "old.db"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", x->dir, files[i]);
        unlink(p);
    }
    rmdir(x->dir);
    free(x);
    return 0;
}

/* ---- helpers --------------------------------------------------------- */

static void add(struct store *s, const char *id, const char *project, enum sla_sev sev,
                int64_t at)
{
    struct sw_finding_new in = {.tenant_id = "acme", .id = id, .project_id = project,
                                .sev = sev, .discovered_at = at};
    struct sw_finding *f = malloc(sizeof(*f));
    bool created = false;
    assert_int_equal(store_finding_create(s, &in, at, "test", f, &created), 0);
    assert_true(created);
    free(f);
}

static int64_t next_due(struct store *s, int64_t now)
{
    int64_t at = 0;
    assert_int_equal(store_finding_next_due(s, now, &at), 0);
    return at;
}

static int process(struct store *s, int64_t now)
{
    int n = -1, total = 0;
    do {
        assert_int_equal(store_finding_process_due(s, now, 2, &n), 0);
        total += n;
    } while (n == 2);
    return total;
}

struct evs {
    char types[32][48];
    json_t *data[32];
    size_t n;
};

static int ev_cb(const struct sw_event *e, void *ud)
{
    struct evs *v = ud;
    if (v->n < 32) {
        snprintf(v->types[v->n], sizeof(v->types[0]), "%s", e->type);
        v->data[v->n] = e->data ? json_loads(e->data, 0, NULL) : NULL;
        v->n++;
    }
    return 0;
}

static void events(struct store *s, const char *id, struct evs *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(store_event_list(s, "acme", "finding", id, 0, 100, ev_cb, v), 0);
}

static void evs_free(struct evs *v)
{
    for (size_t i = 0; i < v->n; i++)
        json_decref(v->data[i]);
}

/* How many events of a type the finding has. */
static size_t count(struct store *s, const char *id, const char *type)
{
    struct evs v;
    size_t k = 0;
    events(s, id, &v);
    for (size_t i = 0; i < v.n; i++)
        k += !strcmp(v.types[i], type);
    evs_free(&v);
    return k;
}

static void get(struct store *s, const char *id, struct sw_finding *f)
{
    assert_int_equal(store_finding_get(s, "acme", id, f), 0);
}

static void put_policy(struct store *s, const char *tenant, const char *sev_hours_json,
                       int64_t now, int64_t want_count)
{
    struct sw_finding_policy p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant);
    json_t *j = json_loads(sev_hours_json, 0, NULL);
    assert_non_null(j);
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        json_t *v = json_object_get(j, sla_sev_name((enum sla_sev)i));
        if (v) {
            p.hours_set[i] = true;
            p.hours[i] = (int32_t)json_integer_value(v);
        }
    }
    json_t *cs = json_object_get(j, "contacts");
    size_t k;
    json_t *c;
    json_array_foreach(cs, k, c) {
        struct sw_contact *ct = &p.contacts[p.ncontacts++];
        ct->level = (int)json_integer_value(json_array_get(c, 0));
        snprintf(ct->user, sizeof(ct->user), "%s", json_string_value(json_array_get(c, 1)));
        ct->days_after_breach = (int)json_integer_value(json_array_get(c, 2));
    }
    json_decref(j);
    int64_t n = -1;
    assert_int_equal(store_finding_policy_put(s, &p, now, "test", &n), 0);
    assert_int_equal(n, want_count);
}

struct change {
    int op;     /* 0 pause, 1 resume, 2 close, 3 reopen */
    int64_t at;
};

static int apply(struct sw_finding *r, const struct sla_finding_scopes *sc, void *ud,
                 struct sw_finding_event *ev)
{
    struct change *ch = ud;
    (void)sc;
    snprintf(ev->type, sizeof(ev->type), "%s",
             (const char *[]){"paused", "resumed", "closed", "reopened"}[ch->op]);
    ev->at = ch->at;
    switch (ch->op) {
    case 0: return sla_finding_pause(&r->f, ch->at);
    case 1: return sla_finding_resume(&r->f, ch->at);
    case 2: return sla_finding_close(&r->f, SLA_FINDING_CLOSED, ch->at);
    default: return sla_finding_reopen(&r->f, ch->at);
    }
}

static void change(struct store *s, const char *id, int op, int64_t at)
{
    struct change ch = {op, at};
    struct sw_finding *f = malloc(sizeof(*f));
    assert_int_equal(store_finding_update(s, "acme", id, at, "test", apply, &ch, f), 0);
    free(f);
}

/* ---- tests ----------------------------------------------------------- */

/* critical: 72 h from T0; 80 % at 57.6 h; breach at 72 h + 1 ms */
static void test_warning_then_breach_once(void **state)
{
    struct fx *x = *state;
    struct sw_finding f;
    const int64_t warn = T0 + 72 * H * 80 / 100, due = T0 + 72 * H;
    assert_int_equal(next_due(x->s, T0), SLA_NEVER);
    add(x->s, "f", NULL, SLA_SEV_CRITICAL, T0);
    assert_int_equal(next_due(x->s, T0), warn);
    assert_int_equal(process(x->s, warn - 1), 0);
    get(x->s, "f", &f);
    assert_false(sla_alarm_notified(&f.f.alarm));
    assert_int_equal(f.next_check_at, warn);

    assert_int_equal(process(x->s, warn), 1);
    assert_int_equal(process(x->s, warn), 0);           /* once */
    assert_int_equal(process(x->s, warn + H), 0);
    struct evs v;
    events(x->s, "f", &v);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.types[1], "sla.warning");
    assert_int_equal(json_integer_value(json_object_get(v.data[1], "threshold_pct")), 80);
    assert_string_equal(json_string_value(json_object_get(v.data[1], "due_at")),
                        "2026-01-04T00:00:00.000Z");
    evs_free(&v);
    get(x->s, "f", &f);
    assert_true(sla_alarm_notified(&f.f.alarm));
    assert_false(f.f.alarm.breach_fired);
    assert_int_equal(f.next_check_at, due + 1);

    assert_int_equal(next_due(x->s, warn), due + 1);
    assert_int_equal(process(x->s, due), 0);            /* exactly at due: met */
    assert_int_equal(process(x->s, due + 1), 1);
    assert_int_equal(process(x->s, due + 10 * D), 0);   /* once */
    events(x->s, "f", &v);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.types[2], "sla.breach");
    assert_int_equal(json_integer_value(json_object_get(v.data[2], "overage_ms")), 1);
    evs_free(&v);
    get(x->s, "f", &f);
    assert_true(f.f.alarm.breach_fired);
    assert_true(sla_clock_breached(&f.f.clock, due + 1));
    /* nothing left: no contacts anywhere */
    assert_int_equal(next_due(x->s, due + 1), SLA_NEVER);
}

/* A late look: the breach alone is told; the crossed warning is marked. */
static void test_late_breach_supersedes_warning(void **state)
{
    struct fx *x = *state;
    add(x->s, "old", NULL, SLA_SEV_URGENT, T0);
    assert_int_equal(next_due(x->s, T0 + 100 * D), T0 + 24 * H * 80 / 100);
    assert_int_equal(process(x->s, T0 + 100 * D), 1);
    assert_int_equal(count(x->s, "old", "sla.breach"), 1);
    assert_int_equal(count(x->s, "old", "sla.warning"), 0);
    assert_int_equal(process(x->s, T0 + 200 * D), 0);
}

static void test_rearm_after_recalculation(void **state)
{
    struct fx *x = *state;
    struct sw_finding f;
    add(x->s, "f", NULL, SLA_SEV_CRITICAL, T0);
    add(x->s, "g", NULL, SLA_SEV_HIGH, T0);
    assert_int_equal(process(x->s, T0 + 80 * H), 1);   /* f breached (72 h); g at 47 % */
    assert_int_equal(count(x->s, "f", "sla.breach"), 1);
    /* loosen critical to 100 h at 80 h: the new deadline is ahead, so f is
     * re-armed, and 80 % of 100 h is now */
    put_policy(x->s, "acme", "{\"critical\":100}", T0 + 80 * H, 2);
    get(x->s, "f", &f);
    assert_false(sla_alarm_notified(&f.f.alarm));
    assert_int_equal(f.f.target.hours, 100);
    assert_int_equal(next_due(x->s, T0 + 80 * H), T0 + 80 * H);
    assert_int_equal(process(x->s, T0 + 80 * H), 1);
    assert_int_equal(count(x->s, "f", "sla.warning"), 1);
    assert_int_equal(process(x->s, T0 + 100 * H + 1), 1);
    assert_int_equal(count(x->s, "f", "sla.breach"), 2);
    /* tighten to 90 h at 120 h: moved, but still past: no second breach */
    put_policy(x->s, "acme", "{\"critical\":90}", T0 + 120 * H, 2);
    get(x->s, "f", &f);
    assert_true(f.f.alarm.breach_fired);
    assert_int_equal(process(x->s, T0 + 120 * H), 0);  /* g is at 71 % of 168 h */
    assert_int_equal(count(x->s, "f", "sla.breach"), 2);
    assert_int_equal(count(x->s, "g", "sla.warning"), 0);
    assert_int_equal(count(x->s, "g", "sla.breach"), 0);
}

static void test_contacts_after_breach(void **state)
{
    struct fx *x = *state;
    /* the global ladder, inherited: level 1 at once, level 3 after 2 days */
    put_policy(x->s, "", "{\"contacts\":[[1,\"alice \\\"a\\\"\",0],[3,\"carol\",2]]}", T0, 0);
    add(x->s, "u", NULL, SLA_SEV_URGENT, T0);
    const int64_t breach = T0 + 24 * H + 1;
    assert_int_equal(process(x->s, breach - 1), 1);     /* the 80 % warning */
    assert_int_equal(next_due(x->s, breach - 1), breach);
    assert_int_equal(process(x->s, breach), 1);
    assert_int_equal(count(x->s, "u", "sla.breach"), 1);
    assert_int_equal(count(x->s, "u", "sla.escalation"), 1);
    assert_int_equal(next_due(x->s, breach), breach + 2 * D);
    assert_int_equal(process(x->s, breach + 2 * D - 1), 0);
    assert_int_equal(process(x->s, breach + 2 * D), 1);
    assert_int_equal(process(x->s, breach + 30 * D), 0);
    struct evs v;
    events(x->s, "u", &v);
    assert_int_equal(v.n, 5);
    assert_string_equal(v.types[3], "sla.escalation");
    assert_int_equal(json_integer_value(json_object_get(v.data[3], "level")), 1);
    assert_string_equal(json_string_value(json_object_get(v.data[3], "user")), "alice \"a\"");
    assert_int_equal(json_integer_value(json_object_get(v.data[4], "level")), 3);
    assert_int_equal(json_integer_value(json_object_get(v.data[4], "days_after_breach")), 2);
    evs_free(&v);
    struct sw_finding f;
    get(x->s, "u", &f);
    assert_int_equal(f.contacts_fired, 1u | 4u);
    assert_int_equal(next_due(x->s, breach + 30 * D), SLA_NEVER);
}

static void test_paused_and_closed_never_fire(void **state)
{
    struct fx *x = *state;
    add(x->s, "p", NULL, SLA_SEV_URGENT, T0);
    add(x->s, "c", NULL, SLA_SEV_URGENT, T0);
    change(x->s, "p", 0, T0 + H);
    change(x->s, "c", 2, T0 + H);
    assert_int_equal(next_due(x->s, T0 + H), SLA_NEVER);
    assert_int_equal(process(x->s, T0 + 1000 * D), 0);
    assert_int_equal(count(x->s, "p", "sla.breach") + count(x->s, "c", "sla.breach"), 0);
    /* resumed after 9 h of pause: 80 % of 24 h, 9 h later */
    change(x->s, "p", 1, T0 + 10 * H);
    assert_int_equal(next_due(x->s, T0 + 10 * H), T0 + 9 * H + 24 * H * 80 / 100);
    /* a policy change does not move the closed one's verdict */
    put_policy(x->s, "acme", "{\"urgent\":1}", T0 + 10 * H, 1);
    struct sw_finding f;
    get(x->s, "c", &f);
    assert_int_equal(f.f.target.hours, 24);
    assert_false(sla_clock_breached(&f.f.clock, T0 + 10 * H));
    get(x->s, "p", &f);
    assert_int_equal(f.f.target.hours, 1);
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 10 * H), T0 + 9 * H + 1 * H);
    /* reopened: live again, follows the group (1 h), fires */
    change(x->s, "c", 3, T0 + 11 * H);
    get(x->s, "c", &f);
    assert_int_equal(f.f.target.hours, 1);
    assert_int_equal(process(x->s, T0 + 12 * H), 2);
    assert_int_equal(count(x->s, "c", "sla.breach"), 1);
}

static void test_tenant_thresholds_and_outbox(void **state)
{
    struct fx *x = *state;
    struct sw_notify_config *cfg = calloc(1, sizeof(*cfg));
    snprintf(cfg->tenant_id, sizeof(cfg->tenant_id), "acme");
    cfg->channels = 1u << NOTIFY_WEBSOCKET;
    cfg->thresholds[0] = 50;
    cfg->thresholds[1] = 90;
    cfg->thresholds[2] = 100;
    cfg->nthresholds = 3;
    cfg->updated_at = T0;
    assert_int_equal(store_notify_config_put(x->s, cfg), 0);
    free(cfg);
    add(x->s, "t", NULL, SLA_SEV_URGENT, T0);          /* 24 h: 12 h, 21.6 h, 24 h */
    assert_int_equal(next_due(x->s, T0), T0 + 12 * H);
    assert_int_equal(process(x->s, T0 + 12 * H), 1);
    assert_int_equal(next_due(x->s, T0 + 12 * H), T0 + 24 * H * 90 / 100);
    assert_int_equal(process(x->s, T0 + 22 * H), 1);
    struct sw_finding f;
    get(x->s, "t", &f);
    assert_int_equal(f.nwarn, 2);                       /* 100 is the breach itself */
    assert_int_equal(f.f.alarm.fired, 3u);
    assert_int_equal(next_due(x->s, T0 + 22 * H), T0 + 24 * H + 1);
    assert_int_equal(process(x->s, T0 + 25 * H), 1);
    assert_int_equal(count(x->s, "t", "sla.warning"), 2);
    assert_int_equal(count(x->s, "t", "sla.breach"), 1);
    /* every notice reached the outbox, with its event */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(x->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
        "SELECT count(*), count(DISTINCT event_id), sum(type = 'sla.breach') FROM outbox "
        "WHERE item_kind = 'finding' AND item_id = 't'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    assert_int_equal(sqlite3_column_int(st, 1), 3);
    assert_int_equal(sqlite3_column_int(st, 2), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Many findings, a small batch: process_due is called until it returns less
 * than its limit, and each finding fires exactly once. */
static void test_batches(void **state)
{
    struct fx *x = *state;
    char id[16];
    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof(id), "b%02d", i);
        add(x->s, id, NULL, (enum sla_sev)(i % SLA_SEV_COUNT), T0 + i * 1000);
    }
    assert_int_equal(process(x->s, T0 + 1000 * D), 25);
    assert_int_equal(process(x->s, T0 + 1000 * D), 0);
    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof(id), "b%02d", i);
        assert_int_equal(count(x->s, id, "sla.breach"), 1);
    }
}

/* ---- migration 0007 over 0003 rows ------------------------------------ */

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static void test_migration_from_0003(void **state)
{
    struct fx *x = *state;
    char path[160], url[176], err[256];
    sqlite3 *db;
    snprintf(path, sizeof(path), "%s/old.db", x->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
             " applied_at INTEGER NOT NULL DEFAULT 0)");
    for (const struct embed_file *f = schema_sqlite; f->name; f++) {
        int v = atoi(f->name);
        if (v >= 7)
            continue;
        exec(db, (const char *)f->data);
        char ins[160];
        snprintf(ins, sizeof(ins), "INSERT INTO schema_version (version, name) VALUES (%d, '%s')",
                 v, f->name);
        exec(db, ins);
    }
    exec(db, "INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 0)");
    /* T0 = 1767225600000.  o1/o2: open critical, the majority 72 h; o3 at
     * 48 h (created after a global change, say), its warning fired long ago,
     * so its move to 72 h (deadline still past) keeps the flag; p1 paused
     * since T0+1h with 2 h of closed pauses; c1 closed at 24 h, judged against
     * 10 h: keeps it. */
    exec(db,
         "INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at,"
         " closed_at, sla_hours, sla_source, safety_net, paused_ms, paused_since, stopped_at,"
         " last_event_at, due_at, warn_fired, breach_fired, next_check_at, ingested_at,"
         " updated_at) VALUES"
         " ('acme','o1','','critical','','open',1767225600000,NULL,72,'builtin',0,0,NULL,NULL,"
         "  1767225600000,1767484800000,1,0,1767484800001,1767225600000,1767225600000),"
         " ('acme','o2','','critical','','open',1767225600000,NULL,72,'builtin',0,0,NULL,NULL,"
         "  1767225600000,1767484800000,0,0,1767484800001,1767225600000,1767225600000),"
         " ('acme','o3','','critical','','open',1767225600000,NULL,48,'global',0,0,NULL,NULL,"
         "  1767225600000,1767398400000,1,1,NULL,1767225600000,1767225600001),"
         " ('acme','p1','','high','','paused',1767225600000,NULL,168,'builtin',0,7200000,"
         "  1767229200000,NULL,1767229200000,1767837600000,0,0,NULL,1767225600000,1767225600000),"
         " ('acme','c1','','critical','','closed',1767225600000,1767312000000,10,'company',0,0,"
         "  NULL,1767312000000,1767312000000,1767261600000,0,1,NULL,1767225600000,1767225600000)");
    sqlite3_close(db);

    struct store *s;
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (store_open(url, &s, err, sizeof(err)) < 0)
        fail_msg("store_open: %s", err);
    struct sw_finding f;
    assert_int_equal(store_finding_get(s, "acme", "o1", &f), 0);
    assert_int_equal(f.f.target.hours, 72);
    assert_int_equal(f.f.target.src, SLA_SRC_BUILTIN);
    assert_int_equal(f.f.alarm.fired, 1u);
    assert_int_equal(sla_clock_due(&f.f.clock, T0), T0 + 72 * H);
    assert_int_equal(store_finding_get(s, "acme", "o3", &f), 0);
    assert_int_equal(f.f.target.hours, 72);               /* the group's */
    assert_true(f.f.alarm.breach_fired);                  /* still past: kept */
    assert_int_equal(store_finding_get(s, "acme", "p1", &f), 0);
    assert_int_equal(f.f.state, SLA_FINDING_PAUSED);
    assert_int_equal(f.f.clock.paused_ms, 2 * H);
    assert_int_equal(f.f.clock.paused_since, T0 + H);
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 5 * H), T0 + 168 * H + 2 * H + 4 * H);
    assert_int_equal(store_finding_get(s, "acme", "c1", &f), 0);
    assert_int_equal(f.f.target.hours, 10);
    assert_int_equal(f.f.target.src, SLA_SRC_TENANT);
    assert_true(sla_clock_breached(&f.f.clock, T0 + 100 * D));
    /* the scheduler picks up where 0003 left: o2's warning (and breach) */
    int n = 0;
    assert_int_equal(store_finding_process_due(s, T0 + 100 * D, 100, &n), 0);
    assert_int_equal(n, 2);                               /* o1, o2: breach; o3 done */
    store_close(s);
    unlink(path);
    snprintf(path, sizeof(path), "%s/old.db-wal", x->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/old.db-shm", x->dir);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_warning_then_breach_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_breach_supersedes_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rearm_after_recalculation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacts_after_breach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_and_closed_never_fire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_thresholds_and_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_0003, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
