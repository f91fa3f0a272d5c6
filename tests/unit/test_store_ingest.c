/* History import and sync from other tools in the SQL store, on SQLite and
 * PostgreSQL (src/store/alert_writer.c, findings.c, findings_sync.c):
 *
 *   - an alert created with its history: events at their instants, its
 *     stopped clocks in the rollups, a breach row for the breach that
 *     happened before ingestion, and no notice from the scheduler, ever;
 *   - an open alert past due at ingestion: shown breached, never told, its
 *     chain does not start; instants after ingestion still notify;
 *   - sync: an Alertmanager-like sequence (firing, repeat, resolved, repeat,
 *     a new episode) changes the alert only when the source moved forward;
 *   - findings: a page created with history, the same page again changes
 *     nothing, closes, reopens, severities; contacts due before ingestion
 *     are marked, later ones fire;
 *   - every write under fault injection; on PostgreSQL two nodes importing
 *     the same page at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/alerts_int.h"
#include "store/findings_int.h"
#include "store/store_escalation.h"
#include "store/store_integrations.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)       /* 2026-01-01T00:00:00Z */
#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR
#define DAY SLA_MS_PER_DAY

static void mk_tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static int64_t count_sql(struct store *s, const char *sql)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    assert_non_null(c);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    assert_int_equal(db_step_one(st), 1);
    int64_t n = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return n;
}

struct ev_log {
    char types[1024];
    int64_t at[16];
    int n, sla;
};

static int ev_cb(const struct sw_event *e, void *ud)
{
    struct ev_log *l = ud;
    size_t k = strlen(l->types);
    snprintf(l->types + k, sizeof(l->types) - k, "%s%s", k ? "," : "", e->type);
    if (l->n < 16)
        l->at[l->n] = e->at;
    l->n++;
    l->sla += !strncmp(e->type, "sla.", 4);
    return 0;
}

static struct ev_log events_of(struct store *s, const char *kind, const char *tenant,
                               const char *id)
{
    struct ev_log l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(store_event_list(s, tenant, kind, id, 0, 1000, ev_cb, &l), 0);
    return l;
}

static int process_alerts(struct store *s, int64_t now)
{
    int total = 0, n;
    do {
        n = 0;
        assert_int_equal(store_alerts_process_due(s, now, 50, &n), 0);
        total += n;
    } while (n == 50);
    return total;
}

static int process_findings(struct store *s, int64_t now)
{
    int total = 0, n;
    do {
        n = 0;
        assert_int_equal(store_finding_process_due(s, now, 50, &n), 0);
        total += n;
    } while (n == 50);
    return total;
}

/* ---- alerts: history ----------------------------------------------------------- */

static void test_alert_history(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "H");
    int64_t now = T0 + 30 * DAY;
    /* critical: ack 15 min (acknowledged after 20: breached), resolve 4 h
     * (resolved after 2 h: met); high: acknowledged and resolved in time;
     * medium: resolved without acknowledgement, late on both */
    struct sw_alert_new in[3] = {
        {.tenant_id = "H", .id = "h-1", .sev = SLA_SEV_CRITICAL, .created_at = T0,
         .acknowledged_at = T0 + 20 * MIN, .resolved_at = T0 + 2 * HOUR},
        {.tenant_id = "H", .id = "h-2", .sev = SLA_SEV_HIGH, .created_at = T0,
         .acknowledged_at = T0 + 5 * MIN, .resolved_at = T0 + HOUR},
        {.tenant_id = "H", .id = "h-3", .sev = SLA_SEV_MEDIUM, .created_at = T0,
         .resolved_at = T0 + 2 * DAY},
    };
    enum sw_alert_result res[3];
    assert_int_equal(store_alert_create_many(t->s, in, 3, now, "import", res), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(res[i], SW_ALERT_CREATED);

    struct sw_alert x;
    assert_int_equal(store_alert_get(t->s, "H", "h-1", &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_RESOLVED);
    assert_true(x.a.acknowledged_at == T0 + 20 * MIN && x.a.resolved_at == T0 + 2 * HOUR);
    assert_true(x.next_check_at == SLA_NEVER);
    struct ev_log e = events_of(t->s, "alert", "H", "h-1");
    assert_string_equal(e.types, "created,acknowledged,resolved");
    assert_true(e.at[0] == T0 && e.at[1] == T0 + 20 * MIN && e.at[2] == T0 + 2 * HOUR);

    /* judged and counted: the rollups hold every stopped clock, the
     * breaches table the three breaches that happened before ingestion */
    assert_int_equal(count_sql(t->s, "SELECT sum(count) FROM rollups WHERE tenant_id = 'H'"),
                     6);
    assert_int_equal(count_sql(t->s, "SELECT sum(breached) FROM rollups WHERE tenant_id = 'H'"),
                     3);
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM breaches WHERE tenant_id = 'H'"), 3);
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM breaches WHERE tenant_id = 'H' "
                                     "AND item_id = 'h-1' AND clock = 'ack' "
                                     "AND breached_at = due_at + 1"), 1);

    /* nothing to say about them, ever */
    int64_t at = 0;
    assert_int_equal(store_alerts_next_due(t->s, now, &at), 0);
    assert_true(at == SLA_NEVER);
    assert_int_equal(process_alerts(t->s, now + 365 * DAY), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(events_of(t->s, "alert", "H", in[i].id).sla, 0);

    /* a reopen continues the clocks: the old breaches are not told again,
     * the new instants are */
    struct sw_alert_change ch = {.action = SW_ALERT_REOPEN, .actor = "ana"};
    assert_int_equal(store_alert_change(t->s, "H", "h-3", &ch, now, &x), 0);
    assert_int_equal(process_alerts(t->s, now + MIN), 0);
    assert_int_equal(events_of(t->s, "alert", "H", "h-3").sla, 0);

    /* a duplicate with another history changes nothing (POST /alerts) */
    struct sw_alert_new again = in[1];
    again.resolved_at = 0;
    assert_int_equal(store_alert_create(t->s, &again, now, "import", &x, &res[0]), 0);
    assert_int_equal(res[0], SW_ALERT_DUPLICATE);
    assert_int_equal(x.a.state, SLA_ALERT_RESOLVED);

    /* out of order: refused, nothing written */
    struct sw_alert_new bad = {.tenant_id = "H", .id = "h-bad", .sev = SLA_SEV_LOW,
                               .created_at = T0, .acknowledged_at = T0 + HOUR,
                               .resolved_at = T0 + MIN};
    assert_int_equal(store_alert_create(t->s, &bad, now, "import", &x, &res[0]), 0);
    assert_int_equal(res[0], SW_ALERT_INVALID);
    assert_int_equal(store_alert_get(t->s, "H", "h-bad", &x), SW_E_NOTFOUND);
}

static void test_alert_open_past_due(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "P");
    struct sw_esc_chain c;
    memset(&c, 0, sizeof(c));
    snprintf(c.tenant_id, sizeof(c.tenant_id), "P");
    c.sev = SLA_SEV_CRITICAL;
    c.n = 2;
    for (int i = 0; i < 2; i++) {
        c.step[i].level = (enum sla_esc_level)i;
        snprintf(c.step[i].role, sizeof(c.step[i].role), "r%d", i + 1);
        c.step[i].timeout_min = 5;
    }
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    /* created 20 min before it reached us: its ack breach is the past */
    int64_t now = T0 + 20 * MIN;
    struct sw_alert_new in = {.tenant_id = "P", .id = "p-1", .sev = SLA_SEV_CRITICAL,
                              .created_at = T0};
    struct sw_alert x;
    enum sw_alert_result res;
    assert_int_equal(store_alert_create(t->s, &in, now, "ingest", &x, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
    assert_true(x.a.ack_alarm.breach_fired && x.a.ack_alarm.fired == 1);
    assert_true(sla_clock_breached(&x.a.ack, now));
    assert_true(x.next_check_at == T0 + 192 * MIN);     /* the resolve warning */
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM breaches WHERE item_id = 'p-1'"), 1);
    /* the chain does not start by itself; the resolve clock's instants are
     * after ingestion: told */
    assert_int_equal(process_alerts(t->s, now + 10 * MIN), 0);
    assert_int_equal(process_alerts(t->s, T0 + 192 * MIN), 1);
    assert_int_equal(process_alerts(t->s, T0 + 4 * HOUR + 1), 1);
    struct ev_log e = events_of(t->s, "alert", "P", "p-1");
    assert_string_equal(e.types, "created,sla.warning,sla.breach");
    assert_int_equal(store_alert_get(t->s, "P", "p-1", &x), 0);
    assert_int_equal(x.escalation_level, 0);
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM escalation_events"), 0);
}

/* ---- alerts: sync ---------------------------------------------------------------- */

static enum sw_alert_result sync_alert(struct store *s, enum sla_alert_state st, int64_t created,
                                       int64_t state_at, int64_t resolved_at, int64_t now)
{
    struct sw_alert_new in = {.tenant_id = "S", .id = "am-f00d", .sev = SLA_SEV_HIGH,
                              .title = "disk full", .created_at = created,
                              .resolved_at = resolved_at, .sync = true, .state = st,
                              .state_at = state_at};
    enum sw_alert_result res = SW_ALERT_NO_TENANT;
    assert_int_equal(store_alert_create_many(s, &in, 1, now, "alertmanager", &res), 0);
    return res;
}

static void test_alert_sync(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "S");
    int64_t start = T0, end = T0 + 10 * MIN;
    assert_int_equal(sync_alert(t->s, SLA_ALERT_OPEN, start, start, 0, T0 + MIN),
                     SW_ALERT_CREATED);
    assert_int_equal(sync_alert(t->s, SLA_ALERT_OPEN, start, start, 0, T0 + 5 * MIN),
                     SW_ALERT_DUPLICATE);
    assert_int_equal(sync_alert(t->s, SLA_ALERT_RESOLVED, start, end, end, T0 + 11 * MIN),
                     SW_ALERT_RESOLVED);
    assert_int_equal(sync_alert(t->s, SLA_ALERT_RESOLVED, start, end, end, T0 + 12 * MIN),
                     SW_ALERT_DUPLICATE);
    /* the old episode firing again (a late repeat): nothing */
    assert_int_equal(sync_alert(t->s, SLA_ALERT_OPEN, start, start, 0, T0 + 13 * MIN),
                     SW_ALERT_DUPLICATE);
    struct sw_alert x;
    assert_int_equal(store_alert_get(t->s, "S", "am-f00d", &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_RESOLVED);
    assert_true(x.a.resolved_at == end);
    /* a new episode: reopened at its start */
    assert_int_equal(sync_alert(t->s, SLA_ALERT_OPEN, T0 + 20 * MIN, T0 + 20 * MIN, 0,
                                T0 + 21 * MIN), SW_ALERT_REOPENED);
    assert_int_equal(store_alert_get(t->s, "S", "am-f00d", &x), 0);
    assert_int_equal(x.a.state, SLA_ALERT_OPEN);
    assert_true(sla_clock_paused_total(&x.a.resolve, T0 + 21 * MIN) == 10 * MIN);
    struct ev_log e = events_of(t->s, "alert", "S", "am-f00d");
    assert_string_equal(e.types, "created,resolved,reopened");
    assert_true(e.at[1] == end && e.at[2] == T0 + 20 * MIN);
    /* the rollups follow (resolved: counted; reopened: taken back) */
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM rollups WHERE tenant_id = 'S'"), 0);
    /* a source that never fired here: created resolved (history) */
    struct sw_alert_new in = {.tenant_id = "S", .id = "am-beef", .sev = SLA_SEV_LOW,
                              .created_at = T0, .resolved_at = T0 + HOUR, .sync = true,
                              .state = SLA_ALERT_RESOLVED, .state_at = T0 + HOUR};
    enum sw_alert_result res;
    assert_int_equal(store_alert_create_many(t->s, &in, 1, T0 + 2 * HOUR, "am", &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
    assert_int_equal(count_sql(t->s, "SELECT sum(count) FROM rollups WHERE tenant_id = 'S'"), 2);
    assert_int_equal(process_alerts(t->s, T0 + 3 * HOUR), 1);   /* am-f00d's own instants */
    assert_int_equal(events_of(t->s, "alert", "S", "am-beef").sla, 0);
}

/* ---- findings ----------------------------------------------------------------------- */

static void put_contacts(struct store *s, const char *tenant)
{
    struct sw_finding_policy p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant);
    p.ncontacts = 2;
    p.contacts[0] = (struct sw_contact){.level = 1, .user = "alice", .days_after_breach = 0};
    p.contacts[1] = (struct sw_contact){.level = 2, .user = "bob", .days_after_breach = 30};
    int64_t n;
    assert_int_equal(store_finding_policy_put(s, &p, T0, "admin", &n), 0);
}

static struct sw_finding_sync fsync_of(const char *tenant, const char *id, enum sla_sev sev,
                                       int64_t discovered, enum sla_finding_state st,
                                       int64_t state_at)
{
    struct sw_finding_sync x = {
        .in = {.tenant_id = tenant, .id = id, .sev = sev, .title = "CVE", .discovered_at =
               discovered, .state = st},
        .state_at = state_at,
    };
    return x;
}

#define NF 6

static void page(struct sw_finding_sync *p, int64_t shift)
{
    /* high is 168 h */
    p[0] = fsync_of("D", "dd-1", SLA_SEV_HIGH, T0, SLA_FINDING_OPEN, T0);
    p[1] = fsync_of("D", "dd-2", SLA_SEV_HIGH, T0, SLA_FINDING_CLOSED, T0 + 200 * HOUR);
    p[2] = fsync_of("D", "dd-3", SLA_SEV_CRITICAL, T0, SLA_FINDING_FALSE_POSITIVE,
                    T0 + 10 * HOUR);
    p[3] = fsync_of("D", "dd-4", SLA_SEV_LOW, T0 + shift, SLA_FINDING_OPEN, T0);
    p[4] = fsync_of("D", "dd-5", SLA_SEV_LOW, T0, SLA_FINDING_OPEN, T0);
    p[4].only_if_tracked = true;            /* no verdict, never tracked: skipped */
    p[5] = fsync_of("D", "dd-6", SLA_SEV_LOW, T0, SLA_FINDING_OPEN, T0);
    p[5].in.project_id = "nope";
}

static void test_finding_sync(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "D");
    put_contacts(t->s, "D");
    int64_t now = T0 + 10 * DAY;        /* dd-1 breached at 7 days: alice's contact passed */
    struct sw_finding_sync p[NF];
    enum sw_finding_result res[NF];
    page(p, 0);
    assert_int_equal(store_finding_sync_many(t->s, p, NF, now, "defectdojo", res), 0);
    enum sw_finding_result want[NF] = {SW_FINDING_CREATED, SW_FINDING_CREATED,
                                       SW_FINDING_CREATED, SW_FINDING_CREATED,
                                       SW_FINDING_UNCHANGED, SW_FINDING_NO_PROJECT};
    for (int i = 0; i < NF; i++)
        assert_int_equal(res[i], want[i]);
    struct sw_finding f;
    assert_int_equal(store_finding_get(t->s, "D", "dd-2", &f), 0);
    assert_int_equal(f.f.state, SLA_FINDING_CLOSED);
    assert_true(f.f.closed_at == T0 + 200 * HOUR);
    assert_true(sla_clock_breached(&f.f.clock, now));
    assert_string_equal(events_of(t->s, "finding", "D", "dd-2").types, "created,closed");
    assert_int_equal(store_finding_get(t->s, "D", "dd-1", &f), 0);
    assert_true(f.f.alarm.breach_fired);
    assert_int_equal(f.contacts_fired, 1);      /* alice, silently */
    int64_t at = 0;
    assert_int_equal(store_finding_next_due(t->s, now, &at), 0);
    assert_true(at == T0 + 7 * DAY + 1 + 30 * DAY);                 /* bob's, the next */
    assert_int_equal(store_finding_get(t->s, "D", "dd-5", &f), SW_E_NOTFOUND);

    /* the same page again: nothing; nothing was told */
    assert_int_equal(store_finding_sync_many(t->s, p, NF, now + HOUR, "defectdojo", res), 0);
    for (int i = 0; i < NF - 1; i++)
        assert_int_equal(res[i], SW_FINDING_UNCHANGED);
    assert_int_equal(process_findings(t->s, now + HOUR), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(events_of(t->s, "finding", "D", p[i].in.id).sla, 0);

    /* the source moves: dd-1 mitigated, dd-3 active again, dd-4 rated
     * high, dd-5 (no verdict) rated critical: only a tracked one follows */
    p[0].in.state = SLA_FINDING_CLOSED;
    p[0].in.closed_at = now + 2 * HOUR;
    p[2].in.state = SLA_FINDING_OPEN;
    p[2].state_at = now + 2 * HOUR;
    p[3].in.sev = SLA_SEV_HIGH;
    p[4].in.sev = SLA_SEV_CRITICAL;
    assert_int_equal(store_finding_sync_many(t->s, p, NF, now + 3 * HOUR, "defectdojo", res), 0);
    assert_int_equal(res[0], SW_FINDING_CLOSED);
    assert_int_equal(res[1], SW_FINDING_UNCHANGED);
    assert_int_equal(res[2], SW_FINDING_REOPENED);
    assert_int_equal(res[3], SW_FINDING_UPDATED);
    assert_int_equal(res[4], SW_FINDING_UNCHANGED);
    assert_int_equal(store_finding_get(t->s, "D", "dd-3", &f), 0);
    assert_int_equal(f.f.state, SLA_FINDING_OPEN);
    assert_string_equal(events_of(t->s, "finding", "D", "dd-3").types,
                        "created,closed,reopened");
    assert_int_equal(store_finding_get(t->s, "D", "dd-4", &f), 0);
    assert_int_equal(f.f.target.hours, 168);
    /* instants after ingestion are told: dd-4, overdue as high since the
     * source re-rated it (breach and alice's contact), and dd-3, reopened
     * after 10 h of its 72 h, at its new deadline (closed time is paused) */
    assert_int_equal(process_findings(t->s, now + 4 * HOUR), 1);
    assert_int_equal(events_of(t->s, "finding", "D", "dd-4").sla, 2);
    assert_int_equal(events_of(t->s, "finding", "D", "dd-3").sla, 0);
    assert_int_equal(process_findings(t->s, now + 2 * HOUR + 62 * HOUR + 1), 1);
    assert_int_equal(events_of(t->s, "finding", "D", "dd-3").sla, 2);

    /* a closed before discovery: refused, the batch goes on */
    struct sw_finding_sync bad[2] = {
        fsync_of("D", "dd-7", SLA_SEV_LOW, T0, SLA_FINDING_CLOSED, T0 - HOUR),
        fsync_of("D", "dd-8", SLA_SEV_LOW, T0, SLA_FINDING_OPEN, T0),
    };
    bad[0].in.closed_at = T0 - HOUR;
    assert_int_equal(store_finding_sync_many(t->s, bad, 2, now, "defectdojo", res), 0);
    assert_int_equal(res[0], SW_FINDING_INVALID);
    assert_int_equal(res[1], SW_FINDING_CREATED);
}

/* ---- integrations ------------------------------------------------------------------ */

static int int_cb(const struct sw_integration *x, void *ud)
{
    char *ids = ud;
    size_t k = strlen(ids);
    snprintf(ids + k, 256 - k, "%s%s:%s", k ? "," : "", x->id, x->kind);
    return 0;
}

static void test_integrations(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "I");
    mk_tenant(t->s, "J");
    bool created = false;
    assert_int_equal(store_integration_put(t->s, "nope", "x", "generic", "{}", T0, "a", &created),
                     SW_E_NOTFOUND);
    assert_int_equal(store_integration_put(t->s, "I", "elastic", "generic", "{\"a\":1}", T0,
                                           "admin", &created), 0);
    assert_true(created);
    assert_int_equal(store_integration_put(t->s, "I", "elastic", "generic", "{\"a\":2}",
                                           T0 + 5, "bob", &created), 0);
    assert_false(created);
    assert_int_equal(store_integration_put(t->s, "I", "alertmanager", "alertmanager", "{}", T0,
                                           "admin", &created), 0);
    assert_int_equal(store_integration_put(t->s, "J", "elastic", "generic", "{\"j\":1}", T0,
                                           "admin", &created), 0);
    struct sw_integration x;
    assert_int_equal(store_integration_get(t->s, "I", "elastic", &x), 0);
    assert_string_equal(x.config, "{\"a\":2}");
    assert_string_equal(x.kind, "generic");
    assert_string_equal(x.updated_by, "bob");
    assert_true(x.created_at == T0 && x.updated_at == T0 + 5);
    sw_integration_clear(&x);
    char ids[256] = "";
    assert_int_equal(store_integration_list(t->s, "I", int_cb, ids), 0);
    assert_string_equal(ids, "alertmanager:alertmanager,elastic:generic");
    assert_int_equal(store_integration_delete(t->s, "I", "elastic"), 0);
    assert_int_equal(store_integration_delete(t->s, "I", "elastic"), SW_E_NOTFOUND);
    assert_int_equal(store_integration_get(t->s, "I", "elastic", &x), SW_E_NOTFOUND);
    assert_int_equal(store_integration_get(t->s, "J", "elastic", &x), 0);  /* the other's */
    sw_integration_clear(&x);
    storetest_reopen(t);
    assert_int_equal(store_integration_get(t->s, "I", "alertmanager", &x), 0);
    sw_integration_clear(&x);
}

/* ---- faults -------------------------------------------------------------------------- */

#define FAULT_LOOP(db, k, rc, op)                                               \
    for (k = 1;; k++) {                                                         \
        db_fail_after(db, k, SW_E_STORE);                                       \
        rc = (op);                                                              \
        db_fail_after(db, 0, 0);                                                \
        if (rc == 0)                                                            \
            break;                                                              \
        assert_true(rc < 0);                                                    \
        assert_true(k < 2000);

static void test_faults(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    mk_tenant(t->s, "D");
    mk_tenant(t->s, "H");
    put_contacts(t->s, "D");
    struct sw_alert_new in = {.tenant_id = "H", .id = "h-1", .sev = SLA_SEV_CRITICAL,
                              .created_at = T0, .acknowledged_at = T0 + 20 * MIN,
                              .resolved_at = T0 + 2 * HOUR};
    enum sw_alert_result ares;
    struct sw_alert x;
    int k, rc;
    FAULT_LOOP(db, k, rc, store_alert_create_many(t->s, &in, 1, T0 + DAY, "import", &ares))
        assert_int_equal(store_alert_get(t->s, "H", "h-1", &x), SW_E_NOTFOUND);
        assert_int_equal(count_sql(t->s, "SELECT count(*) FROM rollups"), 0);
        assert_int_equal(count_sql(t->s, "SELECT count(*) FROM breaches"), 0);
        assert_int_equal(count_sql(t->s, "SELECT count(*) FROM events"), 0);
    }
    assert_int_equal(ares, SW_ALERT_CREATED);
    /* a sync that resolves */
    struct sw_alert_new s1 = {.tenant_id = "H", .id = "s-1", .sev = SLA_SEV_HIGH,
                              .created_at = T0, .sync = true, .state = SLA_ALERT_OPEN,
                              .state_at = T0};
    assert_int_equal(store_alert_create_many(t->s, &s1, 1, T0 + MIN, "am", &ares), 0);
    s1.state = SLA_ALERT_RESOLVED;
    s1.state_at = T0 + 10 * MIN;
    s1.resolved_at = T0 + 10 * MIN;
    FAULT_LOOP(db, k, rc, store_alert_create_many(t->s, &s1, 1, T0 + 11 * MIN, "am", &ares))
        assert_int_equal(store_alert_get(t->s, "H", "s-1", &x), 0);
        assert_int_equal(x.a.state, SLA_ALERT_OPEN);
        assert_int_equal(count_sql(t->s, "SELECT count(*) FROM rollups WHERE tenant_id = 'H' "
                                         "AND severity = 'high'"), 0);
    }
    assert_int_equal(ares, SW_ALERT_RESOLVED);

    struct sw_finding_sync p[NF];
    enum sw_finding_result res[NF];
    page(p, 0);
    int64_t now = T0 + 10 * DAY;
    struct sw_finding f;
    FAULT_LOOP(db, k, rc, store_finding_sync_many(t->s, p, NF, now, "defectdojo", res))
        for (int i = 0; i < NF; i++)
            assert_int_equal(store_finding_get(t->s, "D", p[i].in.id, &f), SW_E_NOTFOUND);
        assert_int_equal(count_sql(t->s, "SELECT count(*) FROM events WHERE item_kind = "
                                         "'finding'"), 0);
    }
    p[0].in.state = SLA_FINDING_CLOSED;
    p[0].in.closed_at = now + HOUR;
    FAULT_LOOP(db, k, rc, store_finding_sync_many(t->s, p, NF, now + HOUR, "defectdojo", res))
        assert_int_equal(store_finding_get(t->s, "D", "dd-1", &f), 0);
        assert_int_equal(f.f.state, SLA_FINDING_OPEN);
    }
    assert_int_equal(res[0], SW_FINDING_CLOSED);

    bool created;
    struct sw_integration ig;
    FAULT_LOOP(db, k, rc, store_integration_put(t->s, "D", "g", "generic", "{}", T0, "a",
                                                &created))
        assert_int_equal(store_integration_get(t->s, "D", "g", &ig), SW_E_NOTFOUND);
    }
    FAULT_LOOP(db, k, rc, store_integration_delete(t->s, "D", "g"))
        assert_int_equal(store_integration_get(t->s, "D", "g", &ig), 0);
        sw_integration_clear(&ig);
    }
}

/* ---- PostgreSQL: two nodes import the same page at once ----------------------------- */

struct page_job {
    struct store *s;
    struct sw_finding_sync *p;
    size_t n;
    enum sw_finding_result *res;
    int rc;
    pthread_barrier_t *bar;
};

static void *page_main(void *arg)
{
    struct page_job *j = arg;
    pthread_barrier_wait(j->bar);
    j->rc = store_finding_sync_many(j->s, j->p, j->n, T0 + DAY, "dd", j->res);
    return NULL;
}

static void test_pg_two_nodes_same_page(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    enum { N = 400 };
    mk_tenant(t->s, "D");
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    struct sw_finding_sync *p = calloc(N, sizeof(*p));
    char (*ids)[16] = calloc(N, sizeof(*ids));
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "dd-%03d", i);
        p[i] = fsync_of("D", ids[i], SLA_SEV_MEDIUM, T0, i % 3 ? SLA_FINDING_OPEN
                                                                : SLA_FINDING_CLOSED, T0 + HOUR);
    }
    enum sw_finding_result *r1 = calloc(N, sizeof(*r1)), *r2 = calloc(N, sizeof(*r2));
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct page_job j[2] = {{t->s, p, N, r1, -1, &bar}, {b, p, N, r2, -1, &bar}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, page_main, &j[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[1].rc, 0);
    for (int i = 0; i < N; i++) {
        /* one node created each, the other saw it there */
        assert_true((r1[i] == SW_FINDING_CREATED) != (r2[i] == SW_FINDING_CREATED));
        assert_true(r1[i] == SW_FINDING_CREATED || r1[i] == SW_FINDING_UNCHANGED);
        assert_true(r2[i] == SW_FINDING_CREATED || r2[i] == SW_FINDING_UNCHANGED);
    }
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM findings"), N);
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM events WHERE type = 'created'"), N);
    assert_int_equal(count_sql(t->s, "SELECT count(*) FROM events WHERE type = 'closed'"),
                     (N + 2) / 3);
    store_close(b);
    free(r1);
    free(r2);
    free(ids);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_history),
        cmocka_unit_test(test_alert_open_past_due),
        cmocka_unit_test(test_alert_sync),
        cmocka_unit_test(test_finding_sync),
        cmocka_unit_test(test_integrations),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_pg_two_nodes_same_page),
    };
    return storetest_run("store_ingest", tests, sizeof(tests) / sizeof(tests[0]));
}
