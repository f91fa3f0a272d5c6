/* The alerts' due instants and escalation chains of the SQL store
 * (src/store/alerts_due.c, escalation.c) on SQLite and PostgreSQL: chains
 * saved, replaced and listed; the scheduler's source (next_due,
 * process_due): warnings, breaches and automatic steps fire once, a breach
 * supersedes the warning of the same look, late looks catch up; manual
 * steps to exhaustion; status and history; acknowledging stops the walk;
 * every write under fault injection; and on PostgreSQL, two schedulers over
 * the same due alerts, two nodes escalating one alert and saving one chain
 * at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify/notify.h"
#include "store/alerts_int.h"
#include "store/store_notify.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)       /* 2026-01-01T00:00:00Z */
#define MIN SLA_MS_PER_MIN

/* ---- helpers ------------------------------------------------------------ */

static void mk_tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

/* Without a template: critical is 15 min to acknowledge (warning at 12),
 * 4 h to resolve (warning at 192 min). */
static void mk_alert(struct store *s, const char *tenant, const char *id, enum sla_sev sev,
                     int64_t created)
{
    struct sw_alert_new in = {.tenant_id = tenant, .id = id, .sev = sev, .created_at = created};
    struct sw_alert x;
    enum sw_alert_result res = SW_ALERT_NO_TENANT;
    assert_int_equal(store_alert_create(s, &in, created, "ingest", &x, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
}

static struct sw_esc_chain chain(const char *tenant, enum sla_sev sev, int n, int timeout,
                                 const char *role_prefix)
{
    struct sw_esc_chain c;
    memset(&c, 0, sizeof(c));
    snprintf(c.tenant_id, sizeof(c.tenant_id), "%s", tenant);
    c.sev = sev;
    c.n = (size_t)n;
    for (int i = 0; i < n; i++) {
        c.step[i].level = (enum sla_esc_level)i;
        snprintf(c.step[i].role, sizeof(c.step[i].role), "%s%d", role_prefix, i + 1);
        c.step[i].timeout_min = timeout;
        c.step[i].method = (enum sla_esc_method)(i % SLA_ESC_METHOD_COUNT);
    }
    return c;
}

struct ev_count {
    int warning, breach, escalation, other;
};

static int ev_cb(const struct sw_event *e, void *ud)
{
    struct ev_count *c = ud;
    if (!strcmp(e->type, "sla.warning"))
        c->warning++;
    else if (!strcmp(e->type, "sla.breach"))
        c->breach++;
    else if (!strcmp(e->type, "sla.escalation"))
        c->escalation++;
    else
        c->other++;
    return 0;
}

static struct ev_count events_of(struct store *s, const char *tenant, const char *id)
{
    struct ev_count c = {0};
    assert_int_equal(store_event_list(s, tenant, "alert", id, 0, 1000, ev_cb, &c), 0);
    return c;
}

/* count(*) of sql, with ?1 bound to a when a is not NULL */
static int64_t count_sql1(struct store *s, const char *sql, const char *a)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    assert_non_null(c);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    if (a)
        db_bind_text(st, 1, a);
    assert_int_equal(db_step_one(st), 1);
    int64_t n = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return n;
}

static int64_t count_sql(struct store *s, const char *sql) { return count_sql1(s, sql, NULL); }

static const char SQL_BREACHES[] = "SELECT count(*) FROM breaches";
static const char SQL_ESC_EVENTS[] = "SELECT count(*) FROM escalation_events";

static int process_all(struct store *s, int64_t now)
{
    int total = 0, n;
    do {
        n = 0;
        assert_int_equal(store_alerts_process_due(s, now, 7, &n), 0);
        total += n;
    } while (n == 7);
    return total;
}

struct chains_seen {
    struct sw_esc_chain c[SLA_SEV_COUNT];
    int n;
};

static int chain_cb(const struct sw_esc_chain *c, void *ud)
{
    struct chains_seen *s = ud;
    s->c[s->n++] = *c;
    return 0;
}

/* ---- chains --------------------------------------------------------------------- */

static void test_chains(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "E");
    struct sw_esc_chain c = chain("E", SLA_SEV_HIGH, 3, 10, "h");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    c = chain("E", SLA_SEV_CRITICAL, 2, 5, "c");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0 + 1, "boss"), 0);
    struct chains_seen seen = {.n = 0};
    assert_int_equal(store_esc_chain_list(t->s, "E", chain_cb, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.c[0].sev, SLA_SEV_CRITICAL);      /* by severity */
    assert_int_equal(seen.c[0].n, 2);
    assert_string_equal(seen.c[0].step[1].role, "c2");
    assert_int_equal(seen.c[0].step[1].level, SLA_ESC_L2);
    assert_int_equal(seen.c[0].step[1].method, SLA_ESC_SLACK);
    assert_int_equal(seen.c[0].step[1].timeout_min, 5);
    assert_string_equal(seen.c[0].updated_by, "boss");
    assert_true(seen.c[0].updated_at == T0 + 1);
    assert_int_equal(seen.c[1].sev, SLA_SEV_HIGH);
    assert_int_equal(seen.c[1].n, 3);
    /* replaced whole */
    c = chain("E", SLA_SEV_HIGH, 1, 30, "solo");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0 + 2, "admin"), 0);
    storetest_reopen(t);
    seen.n = 0;
    assert_int_equal(store_esc_chain_list(t->s, "E", chain_cb, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.c[1].n, 1);
    assert_string_equal(seen.c[1].step[0].role, "solo1");
    /* errors */
    c = chain("E", SLA_SEV_LOW, 0, 5, "x");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), SW_E_INVAL);
    c = chain("E", SLA_SEV_LOW, 2, 0, "x");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), SW_E_INVAL);
    c = chain("E", SLA_SEV_LOW, 2, 5, "x");
    c.step[1].role[0] = '\0';
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), SW_E_INVAL);
    c = chain("ghost", SLA_SEV_LOW, 2, 5, "x");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), SW_E_NOTFOUND);
    assert_int_equal(store_esc_chain_list(t->s, "ghost", chain_cb, &seen), SW_E_NOTFOUND);
    seen.n = 0;
    mk_tenant(t->s, "F");
    assert_int_equal(store_esc_chain_list(t->s, "F", chain_cb, &seen), 0);
    assert_int_equal(seen.n, 0);
}

/* Nothing due: nothing claimed, nothing written. */
static void test_idle(void **state)
{
    struct storetest *t = *state;
    int64_t at = 0;
    assert_int_equal(store_alerts_next_due(t->s, T0, &at), 0);
    assert_true(at == SLA_NEVER);
    mk_tenant(t->s, "E");
    mk_alert(t->s, "E", "a", SLA_SEV_CRITICAL, T0);
    assert_int_equal(store_alerts_next_due(t->s, T0, &at), 0);
    assert_true(at == T0 + 12 * MIN);
    int n = -1;
    assert_int_equal(store_alerts_process_due(t->s, T0 + 12 * MIN - 1, 10, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_alerts_process_due(t->s, T0 + 12 * MIN, 0, &n), 0);
    assert_int_equal(n, 0);
    struct ev_count c = events_of(t->s, "E", "a");
    assert_int_equal(c.warning + c.breach + c.escalation, 0);
}

/* ---- the scheduler's source ----------------------------------------------------------- */

struct live_count {
    pthread_mutex_t mu;
    int warning, breach, escalation;
};

static void on_live(void *ud, const char *tenant, const char *text, size_t len)
{
    struct live_count *l = ud;
    (void)tenant;
    (void)len;
    pthread_mutex_lock(&l->mu);
    if (strstr(text, "\"sla.warning\""))
        l->warning++;
    else if (strstr(text, "\"sla.breach\""))
        l->breach++;
    else if (strstr(text, "\"sla.escalation\""))
        l->escalation++;
    pthread_mutex_unlock(&l->mu);
}

static void test_process_due(void **state)
{
    struct storetest *t = *state;
    struct live_count live = {.warning = 0};
    pthread_mutex_init(&live.mu, NULL);
    t->s->live = on_live;
    t->s->live_ud = &live;
    mk_tenant(t->s, "E");
    struct sw_esc_chain c = chain("E", SLA_SEV_CRITICAL, 3, 5, "r");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    mk_alert(t->s, "E", "a", SLA_SEV_CRITICAL, T0);
    mk_alert(t->s, "E", "q", SLA_SEV_LOW, T0);      /* 8 h: nothing due today */

    /* the ack warning, once */
    assert_int_equal(process_all(t->s, T0 + 12 * MIN), 1);
    assert_int_equal(process_all(t->s, T0 + 12 * MIN), 0);
    struct ev_count e = events_of(t->s, "E", "a");
    assert_int_equal(e.warning, 1);
    int64_t at;
    assert_int_equal(store_alerts_next_due(t->s, T0 + 12 * MIN, &at), 0);
    assert_true(at == T0 + 15 * MIN + 1);           /* the ack breach */

    /* the breach and the first step, once */
    assert_int_equal(process_all(t->s, T0 + 15 * MIN + 1), 1);
    assert_int_equal(process_all(t->s, T0 + 15 * MIN + 1), 0);
    e = events_of(t->s, "E", "a");
    assert_int_equal(e.breach, 1);
    assert_int_equal(e.escalation, 1);
    struct sw_esc_status st;
    assert_int_equal(store_esc_status(t->s, "E", "a", T0 + 16 * MIN, &st), 0);
    assert_int_equal(st.level, 1);
    assert_true(st.has_chain);
    assert_true(st.escalated_at == T0 + 15 * MIN + 1);
    assert_true(st.next_at == T0 + 20 * MIN + 1);
    assert_true(st.fired_at[0] == T0 + 15 * MIN + 1);
    assert_false(st.fired_manual[0]);
    assert_int_equal(store_alerts_next_due(t->s, T0 + 16 * MIN, &at), 0);
    assert_true(at == T0 + 20 * MIN + 1);           /* the second step */

    /* a late look catches up: steps 2 and 3 anchored on their due
     * instants; the resolve clock's warning and breach in one look: the
     * breach only; and q's ack warning */
    assert_int_equal(process_all(t->s, T0 + 7 * 60 * MIN), 2);
    assert_int_equal(process_all(t->s, T0 + 7 * 60 * MIN), 0);
    e = events_of(t->s, "E", "a");
    assert_int_equal(e.warning, 1);
    assert_int_equal(e.breach, 2);
    assert_int_equal(e.escalation, 3);
    e = events_of(t->s, "E", "q");
    assert_int_equal(e.warning, 1);                 /* 80 % of 8 h: 6.4 h */
    assert_int_equal(e.breach, 0);
    assert_int_equal(count_sql(t->s, SQL_BREACHES), 2);
    assert_int_equal(count_sql(t->s, SQL_ESC_EVENTS), 3);
    assert_int_equal(store_esc_status(t->s, "E", "a", T0 + 7 * 60 * MIN, &st), 0);
    assert_int_equal(st.level, 3);
    assert_true(st.next_at == SLA_NEVER);           /* exhausted */
    assert_true(st.escalated_at == T0 + 25 * MIN + 1);  /* when it was due */
    assert_true(st.fired_at[2] == T0 + 7 * 60 * MIN);   /* when it fired */
    struct sw_alert x;
    assert_int_equal(store_alert_get(t->s, "E", "a", &x), 0);
    assert_true(x.a.ack_alarm.breach_fired && x.a.resolve_alarm.breach_fired);
    assert_true(x.next_check_at == SLA_NEVER);
    assert_int_equal(x.escalation_level, 3);

    /* each notice reached the dashboards once (no websocket channel) */
    pthread_mutex_lock(&live.mu);
    assert_int_equal(live.warning, 2);
    assert_int_equal(live.breach, 2);
    assert_int_equal(live.escalation, 3);
    pthread_mutex_unlock(&live.mu);
    t->s->live = NULL;
    pthread_mutex_destroy(&live.mu);
}

/* Acknowledging stops the walk; a saved chain reschedules the next step. */
static void test_ack_and_reschedule(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "E");
    struct sw_esc_chain c = chain("E", SLA_SEV_CRITICAL, 3, 5, "r");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    mk_alert(t->s, "E", "a", SLA_SEV_CRITICAL, T0);
    mk_alert(t->s, "E", "b", SLA_SEV_CRITICAL, T0);
    assert_int_equal(process_all(t->s, T0 + 16 * MIN), 2);
    /* the chain's first timeout becomes 20 min: b's second step moves */
    c = chain("E", SLA_SEV_CRITICAL, 3, 20, "r");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0 + 17 * MIN, "admin"), 0);
    struct sw_esc_status st;
    assert_int_equal(store_esc_status(t->s, "E", "b", T0 + 17 * MIN, &st), 0);
    assert_true(st.next_at == T0 + 35 * MIN + 1);
    /* a is acknowledged: no more automatic steps */
    struct sw_alert_change ch = {.action = SW_ALERT_ACKNOWLEDGE, .actor = "ana"};
    struct sw_alert x;
    assert_int_equal(store_alert_change(t->s, "E", "a", &ch, T0 + 18 * MIN, &x), 0);
    assert_int_equal(store_esc_status(t->s, "E", "a", T0 + 18 * MIN, &st), 0);
    assert_true(st.acknowledged);
    assert_true(st.next_at == SLA_NEVER);
    assert_int_equal(process_all(t->s, T0 + 40 * MIN), 1);         /* b only */
    assert_int_equal(events_of(t->s, "E", "a").escalation, 1);
    assert_int_equal(events_of(t->s, "E", "b").escalation, 2);
    /* reopening an unacknowledged resolved alert walks on */
    ch = (struct sw_alert_change){.action = SW_ALERT_RESOLVE, .actor = "ana"};
    assert_int_equal(store_alert_change(t->s, "E", "b", &ch, T0 + 41 * MIN, &x), 0);
    assert_int_equal(process_all(t->s, T0 + 90 * MIN), 0);
    ch.action = SW_ALERT_REOPEN;
    assert_int_equal(store_alert_change(t->s, "E", "b", &ch, T0 + 91 * MIN, &x), 0);
    assert_int_equal(store_esc_status(t->s, "E", "b", T0 + 91 * MIN, &st), 0);
    assert_true(st.next_at == T0 + 55 * MIN + 1);                   /* overdue: now */
    assert_int_equal(process_all(t->s, T0 + 92 * MIN), 1);
    assert_int_equal(events_of(t->s, "E", "b").escalation, 3);
}

/* ---- by hand ----------------------------------------------------------------------- */

struct esc_seen {
    int64_t id[16];
    int level[16];
    bool manual[16];
    int n;
};

static int esc_cb(const struct sw_esc_event *e, void *ud)
{
    struct esc_seen *s = ud;
    s->id[s->n] = e->id;
    s->level[s->n] = e->level_index;
    s->manual[s->n++] = e->manual;
    return 0;
}

static void test_escalate(void **state)
{
    struct storetest *t = *state;
    mk_tenant(t->s, "E");
    mk_alert(t->s, "E", "m", SLA_SEV_HIGH, T0);
    struct sw_esc_result r;
    assert_int_equal(store_escalate(t->s, "E", "m", -1, T0 + MIN, "ana", &r), 0);
    assert_int_equal(r.outcome, SW_ESC_NO_CHAIN);
    assert_int_equal(r.sev, SLA_SEV_HIGH);
    struct sw_esc_chain c = chain("E", SLA_SEV_CRITICAL, 2, 10, "c");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    /* the critical chain by choice: walked from then on */
    assert_int_equal(store_escalate(t->s, "E", "m", SLA_SEV_CRITICAL, T0 + 2 * MIN, "ana", &r),
                     0);
    assert_int_equal(r.outcome, SW_ESC_DONE);
    assert_int_equal(r.sev, SLA_SEV_CRITICAL);
    assert_int_equal(r.level, 1);
    assert_string_equal(r.step.role, "c1");
    assert_true(r.next_at == T0 + 12 * MIN);
    assert_true(r.event_id > 0);
    assert_int_equal(store_escalate(t->s, "E", "m", -1, T0 + 3 * MIN, "ana", &r), 0);
    assert_int_equal(r.outcome, SW_ESC_DONE);
    assert_int_equal(r.level, 2);
    assert_true(r.next_at == SLA_NEVER);
    assert_int_equal(store_escalate(t->s, "E", "m", -1, T0 + 4 * MIN, "ana", &r), 0);
    assert_int_equal(r.outcome, SW_ESC_EXHAUSTED);
    assert_int_equal(r.level, 2);
    struct sw_esc_status st;
    assert_int_equal(store_esc_status(t->s, "E", "m", T0 + 5 * MIN, &st), 0);
    assert_int_equal(st.sev, SLA_SEV_CRITICAL);
    assert_int_equal(st.level, 2);
    assert_true(st.fired_manual[0] && st.fired_manual[1]);
    assert_true(st.fired_at[1] == T0 + 3 * MIN);
    /* history, newest first, in pages */
    mk_alert(t->s, "E", "n", SLA_SEV_CRITICAL, T0);
    assert_int_equal(store_escalate(t->s, "E", "n", -1, T0 + 6 * MIN, "bob", &r), 0);
    struct esc_seen seen = {.n = 0};
    assert_int_equal(store_esc_events(t->s, "E", NULL, 0, 10, esc_cb, &seen), 0);
    assert_int_equal(seen.n, 3);
    assert_true(seen.id[0] > seen.id[1] && seen.id[1] > seen.id[2]);
    struct esc_seen page = {.n = 0};
    assert_int_equal(store_esc_events(t->s, "E", "m", 0, 1, esc_cb, &page), 0);
    assert_int_equal(page.n, 1);
    assert_int_equal(page.level[0], 2);
    assert_int_equal(store_esc_events(t->s, "E", "m", page.id[0], 10, esc_cb, &page), 0);
    assert_int_equal(page.n, 2);
    assert_int_equal(page.level[1], 1);
    assert_true(page.manual[1]);
    assert_int_equal(store_esc_events(t->s, "ghost", NULL, 0, 10, esc_cb, &page),
                     SW_E_NOTFOUND);
    /* errors */
    assert_int_equal(store_escalate(t->s, "E", "zz", -1, T0, "ana", &r), SW_E_NOTFOUND);
    assert_int_equal(store_esc_status(t->s, "E", "zz", T0, &st), SW_E_NOTFOUND);
    struct sw_alert x;
    struct sw_alert_change ch = {.action = SW_ALERT_RESOLVE, .actor = "ana"};
    assert_int_equal(store_alert_change(t->s, "E", "n", &ch, T0 + 7 * MIN, &x), 0);
    assert_int_equal(store_escalate(t->s, "E", "n", -1, T0 + 8 * MIN, "ana", &r),
                     SW_E_CONFLICT);
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
        assert_true(k < 1000);

static void test_faults(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    mk_tenant(t->s, "E");
    struct sw_esc_chain c = chain("E", SLA_SEV_CRITICAL, 3, 5, "r");
    int k, rc;
    struct chains_seen seen;
    FAULT_LOOP(db, k, rc, store_esc_chain_put(t->s, &c, T0, "admin"))
        seen.n = 0;
        assert_int_equal(store_esc_chain_list(t->s, "E", chain_cb, &seen), 0);
        assert_int_equal(seen.n, 0);
    }
    struct sw_esc_chain c2 = chain("E", SLA_SEV_CRITICAL, 2, 7, "s");
    FAULT_LOOP(db, k, rc, store_esc_chain_put(t->s, &c2, T0, "admin"))
        seen.n = 0;
        assert_int_equal(store_esc_chain_list(t->s, "E", chain_cb, &seen), 0);
        assert_int_equal(seen.c[0].n, 3);
        assert_string_equal(seen.c[0].step[0].role, "r1");
    }
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);

    /* a round with warnings, breaches and steps on several alerts */
    mk_alert(t->s, "E", "a", SLA_SEV_CRITICAL, T0);
    mk_alert(t->s, "E", "b", SLA_SEV_CRITICAL, T0 + 10 * MIN);
    mk_alert(t->s, "E", "c", SLA_SEV_LOW, T0);
    struct sw_alert before[2], x;
    assert_int_equal(store_alert_get(t->s, "E", "a", &before[0]), 0);
    assert_int_equal(store_alert_get(t->s, "E", "b", &before[1]), 0);
    int n = 0;
    FAULT_LOOP(db, k, rc, store_alerts_process_due(t->s, T0 + 24 * MIN, 10, &n))
        assert_int_equal(store_alert_get(t->s, "E", "a", &x), 0);
        assert_int_equal(x.escalation_level, 0);
        assert_false(x.a.ack_alarm.breach_fired);
        assert_true(x.next_check_at == before[0].next_check_at);
        assert_int_equal(store_alert_get(t->s, "E", "b", &x), 0);
        assert_int_equal(x.a.ack_alarm.fired, 0);
        struct ev_count e = events_of(t->s, "E", "a");
        assert_int_equal(e.breach + e.escalation + e.warning, 0);
        assert_int_equal(count_sql(t->s, SQL_BREACHES), 0);
        assert_int_equal(count_sql(t->s, SQL_ESC_EVENTS), 0);
    }
    assert_int_equal(n, 2);
    assert_int_equal(events_of(t->s, "E", "a").escalation, 2);
    assert_int_equal(events_of(t->s, "E", "b").warning, 1);

    struct sw_esc_result r;
    FAULT_LOOP(db, k, rc, store_escalate(t->s, "E", "c", -1, T0 + 30 * MIN, "ana", &r))
        assert_int_equal(store_alert_get(t->s, "E", "c", &x), 0);
        assert_int_equal(x.escalation_level, 0);
        assert_int_equal(count_sql(t->s, SQL_ESC_EVENTS), 2);
        assert_int_equal(events_of(t->s, "E", "c").escalation, 0);
    }
    assert_int_equal(r.outcome, SW_ESC_NO_CHAIN);   /* low has none: nothing written */
    FAULT_LOOP(db, k, rc, store_escalate(t->s, "E", "c", SLA_SEV_CRITICAL, T0 + 30 * MIN,
                                         "ana", &r))
        assert_int_equal(store_alert_get(t->s, "E", "c", &x), 0);
        assert_int_equal(x.escalation_level, 0);
        assert_int_equal(count_sql(t->s, SQL_ESC_EVENTS), 2);
        assert_int_equal(events_of(t->s, "E", "c").escalation, 0);
    }
    assert_int_equal(r.outcome, SW_ESC_DONE);
    assert_int_equal(count_sql(t->s, SQL_ESC_EVENTS), 3);
}

/* ---- PostgreSQL: several nodes -------------------------------------------------------- */

static struct store *second_node(struct storetest *t)
{
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    return b;
}

struct sched_job {
    struct store *s;
    int64_t now;
    int rc, processed;
    pthread_barrier_t *bar;
};

static void *sched_job_main(void *arg)
{
    struct sched_job *j = arg;
    pthread_barrier_wait(j->bar);
    int n;
    do {
        n = 0;
        j->rc = store_alerts_process_due(j->s, j->now, 20, &n);
        j->processed += n;
    } while (j->rc == 0 && n > 0);
    return NULL;
}

static void two_schedulers(struct store *a, struct store *b, int64_t now)
{
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 4);
    struct sched_job j[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        j[i] = (struct sched_job){.s = i % 2 ? b : a, .now = now, .bar = &bar};
        assert_int_equal(pthread_create(&th[i], NULL, sched_job_main, &j[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(j[i].rc, 0);
    pthread_barrier_destroy(&bar);
}

/* Two nodes' schedulers (two threads each) over the same few hundred due
 * alerts: every warning, breach and step exactly once. */
static void test_pg_two_schedulers(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    enum { N = 240 };
    mk_tenant(t->s, "S");
    struct sw_esc_chain c = chain("S", SLA_SEV_CRITICAL, 3, 5, "r");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    struct sw_alert_new *in = calloc(N, sizeof(*in));
    enum sw_alert_result *res = calloc(N, sizeof(*res));
    char (*ids)[16] = calloc(N, sizeof(*ids));
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "s-%03d", i);
        /* class 0: breach and three steps at +40 min; class 1: its
         * warning at +40 min, the rest at +60 */
        in[i] = (struct sw_alert_new){.tenant_id = "S", .id = ids[i], .sev = SLA_SEV_CRITICAL,
                                      .created_at = T0 + (i % 2 ? 27 * MIN : 0)};
    }
    /* each class reaches us when it is created (the history rule: a breach
     * before ingestion is never told) */
    struct sw_alert_new *in1 = calloc(N, sizeof(*in1));
    size_t n0 = 0, n1 = 0;
    for (int i = 0; i < N; i++) {
        if (i % 2)
            in1[n1++] = in[i];
        else
            in[n0++] = in[i];
    }
    assert_int_equal(store_alert_create_many(t->s, in, n0, T0, "bulk", res), 0);
    assert_int_equal(store_alert_create_many(t->s, in1, n1, T0 + 27 * MIN, "bulk", res), 0);
    free(in1);
    struct store *b = second_node(t);
    two_schedulers(t->s, b, T0 + 40 * MIN);
    two_schedulers(t->s, b, T0 + 60 * MIN);
    for (int i = 0; i < N; i++) {
        struct ev_count e = events_of(t->s, "S", ids[i]);
        assert_int_equal(e.warning, i % 2);
        assert_int_equal(e.breach, 1);
        assert_int_equal(e.escalation, 3);
    }
    assert_int_equal(count_sql(t->s, SQL_BREACHES), N);
    assert_int_equal(count_sql(t->s, SQL_ESC_EVENTS), 3 * N);
    store_close(b);
    free(ids);
    free(res);
    free(in);
}

struct esc_job {
    struct store *s;
    int done, exhausted, rc;
    pthread_barrier_t *bar;
};

static void *esc_job_main(void *arg)
{
    struct esc_job *j = arg;
    pthread_barrier_wait(j->bar);
    for (int i = 0; i < 4 && j->rc == 0; i++) {
        struct sw_esc_result r;
        j->rc = store_escalate(j->s, "X", "x", -1, T0 + MIN + i, "ana", &r);
        j->done += j->rc == 0 && r.outcome == SW_ESC_DONE;
        j->exhausted += j->rc == 0 && r.outcome == SW_ESC_EXHAUSTED;
    }
    return NULL;
}

struct put_job {
    struct store *s;
    struct sw_esc_chain c;
    int rc;
    pthread_barrier_t *bar;
};

static void *put_job_main(void *arg)
{
    struct put_job *j = arg;
    pthread_barrier_wait(j->bar);
    j->rc = store_esc_chain_put(j->s, &j->c, T0, "admin");
    return NULL;
}

/* Two nodes escalating one alert by hand: each level once.  Two nodes
 * saving one chain: the chain left is one of the two, whole. */
static void test_pg_two_nodes_escalate(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    mk_tenant(t->s, "X");
    struct sw_esc_chain c = chain("X", SLA_SEV_CRITICAL, 3, 5, "r");
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "admin"), 0);
    mk_alert(t->s, "X", "x", SLA_SEV_CRITICAL, T0);
    struct store *b = second_node(t);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct esc_job j[2] = {{.s = t->s, .bar = &bar}, {.s = b, .bar = &bar}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, esc_job_main, &j[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[1].rc, 0);
    assert_int_equal(j[0].done + j[1].done, 3);
    assert_int_equal(j[0].exhausted + j[1].exhausted, 5);
    struct esc_seen seen = {.n = 0};
    assert_int_equal(store_esc_events(t->s, "X", "x", 0, 10, esc_cb, &seen), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.level[0] + seen.level[1] + seen.level[2], 6);

    for (int round = 0; round < 20; round++) {
        struct put_job p[2] = {
            {.s = t->s, .c = chain("X", SLA_SEV_HIGH, 2, 5, "a"), .bar = &bar},
            {.s = b, .c = chain("X", SLA_SEV_HIGH, 4, 9, "b"), .bar = &bar},
        };
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, put_job_main, &p[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        assert_int_equal(p[0].rc, 0);
        assert_int_equal(p[1].rc, 0);
        struct chains_seen cs = {.n = 0};
        assert_int_equal(store_esc_chain_list(t->s, "X", chain_cb, &cs), 0);
        assert_int_equal(cs.n, 2);
        const struct sw_esc_chain *h = &cs.c[1];
        assert_true(h->n == 2 || h->n == 4);
        for (size_t i = 0; i < h->n; i++) {
            assert_int_equal(h->step[i].role[0], h->n == 2 ? 'a' : 'b');
            assert_int_equal(h->step[i].timeout_min, h->n == 2 ? 5 : 9);
        }
    }
    pthread_barrier_destroy(&bar);
    store_close(b);
}

/* Alert warnings at the tenant's notification thresholds list (as its
 * findings), the definition's percentage without one: critical, 15 min to
 * acknowledge.  Each threshold fires once; the list set later re-plans the
 * open alerts; a recalculation (the set-based path) plans the next unfired
 * one of the list. */
static void test_thresholds_list(void **state)
{
    struct storetest *t = *state;
    struct sw_alert x;
    int64_t at;
    mk_tenant(t->s, "L");
    mk_tenant(t->s, "D");
    struct sw_notify_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.tenant_id, sizeof(cfg.tenant_id), "L");
    cfg.channels = 1u << NOTIFY_WEBSOCKET;
    cfg.nthresholds = 3;
    cfg.thresholds[0] = 40;
    cfg.thresholds[1] = 60;
    cfg.thresholds[2] = 100;       /* the breach itself */
    cfg.updated_at = T0;
    assert_int_equal(store_notify_config_put(t->s, &cfg), 0);
    mk_alert(t->s, "L", "a", SLA_SEV_CRITICAL, T0);
    mk_alert(t->s, "D", "d", SLA_SEV_CRITICAL, T0);
    assert_int_equal(store_alert_get(t->s, "L", "a", &x), 0);
    assert_true(x.next_check_at == T0 + 6 * MIN);       /* 40 % of 15 min */
    assert_int_equal(store_alert_get(t->s, "D", "d", &x), 0);
    assert_true(x.next_check_at == T0 + 12 * MIN);      /* the definition's 80 % */
    assert_int_equal(process_all(t->s, T0 + 6 * MIN), 1);
    assert_int_equal(events_of(t->s, "L", "a").warning, 1);
    assert_int_equal(store_alert_get(t->s, "L", "a", &x), 0);
    assert_true(x.next_check_at == T0 + 9 * MIN);       /* 60 % */
    assert_int_equal(process_all(t->s, T0 + 9 * MIN), 1);
    assert_int_equal(events_of(t->s, "L", "a").warning, 2);
    assert_int_equal(store_alerts_next_due(t->s, T0 + 9 * MIN, &at), 0);
    assert_true(at == T0 + 12 * MIN);                   /* d's 80 % */
    assert_int_equal(process_all(t->s, T0 + 12 * MIN), 1);
    assert_int_equal(events_of(t->s, "L", "a").warning, 2);
    assert_int_equal(events_of(t->s, "D", "d").warning, 1);
    assert_int_equal(store_alert_get(t->s, "L", "a", &x), 0);
    assert_true(x.next_check_at == T0 + 15 * MIN + 1);  /* the breach, no 100 % warning */

    /* D sets a list of its own: its open alert is looked at again at once
     * and plans the list's next unfired threshold */
    mk_alert(t->s, "D", "e", SLA_SEV_CRITICAL, T0 + 12 * MIN);
    snprintf(cfg.tenant_id, sizeof(cfg.tenant_id), "D");
    cfg.nthresholds = 2;
    cfg.thresholds[0] = 20;
    cfg.thresholds[1] = 50;
    cfg.updated_at = T0 + 13 * MIN;
    assert_int_equal(store_notify_config_put(t->s, &cfg), 0);
    assert_int_equal(store_alert_get(t->s, "D", "e", &x), 0);
    assert_true(x.next_check_at == T0 + 13 * MIN);
    /* e at 1 min of 15: 20 % crossed at 3 min, not yet */
    assert_int_equal(process_all(t->s, T0 + 13 * MIN), 2);
    assert_int_equal(events_of(t->s, "D", "e").warning, 0);
    assert_int_equal(store_alert_get(t->s, "D", "e", &x), 0);
    assert_true(x.next_check_at == T0 + 15 * MIN);      /* 20 % of 15 min after 12 min */
    /* the definition moves critical's target to 30 min: the set-based
     * recalculation plans e's first unfired threshold of the list (20 %:
     * 6 min after 12 min) */
    struct sla_definition d;
    memset(&d, 0, sizeof(d));
    d.critical_mtta_minutes = 30;
    int64_t n = 0;
    assert_int_equal(store_alert_definition_merge(t->s, "D", NULL, &d, T0 + 14 * MIN, "admin",
                                                  &n), 0);
    assert_int_equal(store_alert_get(t->s, "D", "e", &x), 0);
    assert_true(x.next_check_at == T0 + 18 * MIN);
    /* (a's breach and d, re-armed by the new target, are due too) */
    assert_int_equal(process_all(t->s, T0 + 18 * MIN), 3);
    assert_int_equal(events_of(t->s, "D", "e").warning, 1);
    assert_int_equal(store_alert_get(t->s, "D", "e", &x), 0);
    assert_true(x.next_check_at == T0 + 27 * MIN);      /* 50 % */
}

/* One round over three tenants' alerts, interleaved: each notice goes by
 * its own tenant's config and carries its own tenant's name (the round
 * reads them once per tenant: notice_memo). */
struct live_names {
    pthread_mutex_t mu;
    int n, wrong;
};

static void on_live_name(void *ud, const char *tenant, const char *text, size_t len)
{
    struct live_names *l = ud;
    (void)len;
    char want[64];
    snprintf(want, sizeof(want), "\"tenant_name\":\"Tenant %s\"", tenant);
    pthread_mutex_lock(&l->mu);
    l->n++;
    l->wrong += strstr(text, want) == NULL;
    pthread_mutex_unlock(&l->mu);
}

static void test_round_tenants(void **state)
{
    static const char by_channel[] = "SELECT count(*) FROM outbox WHERE channel = ?1";
    static const char named[] =
        "SELECT count(*) FROM outbox WHERE tenant_id = ?1 AND type = 'sla.breach' "
        "AND notice LIKE '%\"tenant_name\":\"Tenant ' || ?1 || '\"%'";
    struct storetest *t = *state;
    struct live_names live = {.n = 0};
    pthread_mutex_init(&live.mu, NULL);
    t->s->live = on_live_name;
    t->s->live_ud = &live;
    const char *ten[3] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++)
        mk_tenant(t->s, ten[i]);
    struct sw_notify_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.tenant_id, sizeof(cfg.tenant_id), "A");
    cfg.channels = 1u << NOTIFY_WEBHOOK;
    cfg.nrcpt[NOTIFY_WEBHOOK] = 1;
    snprintf(cfg.rcpt[NOTIFY_WEBHOOK][0], sizeof(cfg.rcpt[0][0]), "https://a.example/hook");
    cfg.updated_at = T0;
    assert_int_equal(store_notify_config_put(t->s, &cfg), 0);
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.tenant_id, sizeof(cfg.tenant_id), "C");
    cfg.channels = 1u << NOTIFY_WEBSOCKET;
    cfg.updated_at = T0;
    assert_int_equal(store_notify_config_put(t->s, &cfg), 0);
    /* due in the order A B C A B C */
    char id[8];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof(id), "x%d", i);
        mk_alert(t->s, ten[i % 3], id, SLA_SEV_CRITICAL, T0 + i);
    }
    int n = 0;
    assert_int_equal(store_alerts_process_due(t->s, T0 + 16 * MIN, 100, &n), 0);
    assert_int_equal(n, 6);
    /* A: webhook rows and the dashboards; B: the dashboards; C: websocket rows */
    assert_int_equal(count_sql1(t->s, by_channel, "webhook"), 2);
    assert_int_equal(count_sql1(t->s, by_channel, "websocket"), 2);
    assert_int_equal(count_sql1(t->s, named, "A"), 2);
    assert_int_equal(count_sql1(t->s, named, "C"), 2);
    assert_int_equal(count_sql1(t->s, "SELECT count(*) FROM outbox WHERE tenant_id = ?1", "B"), 0);
    pthread_mutex_lock(&live.mu);
    assert_int_equal(live.n, 4);
    assert_int_equal(live.wrong, 0);
    pthread_mutex_unlock(&live.mu);
    t->s->live = NULL;
    pthread_mutex_destroy(&live.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_process_due),
        cmocka_unit_test(test_round_tenants),
        cmocka_unit_test(test_ack_and_reschedule),
        cmocka_unit_test(test_escalate),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_thresholds_list),
        cmocka_unit_test(test_pg_two_schedulers),
        cmocka_unit_test(test_pg_two_nodes_escalate),
    };
    return storetest_run("store_escalation", tests, sizeof(tests) / sizeof(tests[0]));
}
