/* Findings on business-hours calendars in the SQL store
 * (findings_calendar.c with findings*.c, calendars.c), on SQLite and
 * PostgreSQL: policies naming calendars (unknown: INVAL; none at the
 * global level; 409 on delete while named), deadlines and the scheduler's
 * warning and breach instants in business time, the re-arm rule when a
 * calendar is saved, off the calendar again, and fault injection. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_calendars.h"
#include "store/store_findings.h"
#include "store/store_int.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)       /* 2026-01-01T00:00:00Z, a Thursday */
#define MIN SLA_MS_PER_MIN
#define HOUR SLA_MS_PER_HOUR
#define DAY (24 * HOUR)

/* ---- helpers ------------------------------------------------------------ */

static void mk_tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

/* UTC, Monday to Friday from..to (hours), the holidays given. */
static void mk_cal(struct sw_calendar *c, const char *tenant, const char *id, int from, int to,
                   const char *const *holidays, size_t nh)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", tenant);
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->name, sizeof(c->name), "Cal %s", id);
    snprintf(c->timezone, sizeof(c->timezone), "UTC");
    for (int d = 0; d < 5; d++) {
        c->iv[d][0] = (struct sla_cal_interval){from * 3600, to * 3600};
        c->niv[d] = 1;
    }
    for (size_t i = 0; i < nh; i++)
        assert_int_equal(sla_cal_holiday_parse(holidays[i], &c->holidays[c->nholidays++]), 0);
}

static int put(struct store *s, struct sw_calendar *c, int64_t now, bool *created,
               int64_t *n)
{
    struct sla_cal_error err = {0};
    bool cr;
    int64_t k;
    return store_calendar_put(s, c, now, "admin", created ? created : &cr, n ? n : &k, &err);
}

#define FAULT_LOOP(db, k, rc, op)                                               \
    for (k = 1;; k++) {                                                         \
        db_fail_after(db, k, SW_E_STORE);                                       \
        rc = (op);                                                              \
        db_fail_after(db, 0, 0);                                                \
        if (rc == 0)                                                            \
            break;                                                              \
        assert_true(rc < 0);                                                    \
        assert_true(k < 500);

/* ---- findings on a calendar ------------------------------------------------------------ */

static int put_company(struct store *s, const char *tenant, int critical_hours,
                       const char *critical_cal, int64_t now, int64_t *n)
{
    struct sw_finding_policy p = {0};
    int64_t k;
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant);
    p.hours_set[SLA_SEV_CRITICAL] = true;
    p.hours[SLA_SEV_CRITICAL] = critical_hours;
    snprintf(p.calendars[SLA_SEV_CRITICAL], sizeof(p.calendars[0]), "%s",
             critical_cal ? critical_cal : "");
    return store_finding_policy_put(s, &p, now, "admin", n ? n : &k);
}

static void test_findings(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_finding f;
    bool created;
    int64_t n = -1;
    int processed;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    /* unknown calendar; a calendar at the global level */
    assert_int_equal(put_company(t->s, "acme", 8, "nope", T0, NULL), SW_E_INVAL);
    struct sw_finding_policy g = {0};
    snprintf(g.calendars[SLA_SEV_LOW], sizeof(g.calendars[0]), "office");
    assert_int_equal(store_finding_policy_put(t->s, &g, T0, "admin", &n), SW_E_INVAL);
    snprintf(g.calendars[SLA_SEV_LOW], sizeof(g.calendars[0]), "24x7");
    assert_int_equal(store_finding_policy_put(t->s, &g, T0, "admin", &n), 0);
    assert_int_equal(put_company(t->s, "acme", 8, "office", T0, NULL), 0);
    struct sw_policy_chain ch;
    assert_int_equal(store_finding_policy_chain(t->s, "acme", "", &ch), 0);
    assert_string_equal(ch.level[SW_POL_COMPANY].calendars[SLA_SEV_CRITICAL], "office");
    assert_string_equal(ch.level[SW_POL_GLOBAL].calendars[SLA_SEV_LOW], "24x7");
    assert_int_equal(store_calendar_delete(t->s, "acme", "office", 0, "admin"), SW_E_CONFLICT);

    /* Thursday 09:00, 8 business hours, used up at the closing: due at
     * Friday's opening; 80 % at 15:24 */
    struct sw_finding_new in = {.tenant_id = "acme", .id = "f1", .sev = SLA_SEV_CRITICAL,
                                .discovered_at = T0 + 9 * HOUR};
    assert_int_equal(store_finding_create(t->s, &in, T0 + 9 * HOUR, "i", &f, &created), 0);
    assert_string_equal(f.cal, "office");
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 9 * HOUR), T0 + DAY + 9 * HOUR);
    assert_int_equal(f.next_check_at, T0 + 15 * HOUR + 24 * MIN);
    int64_t at = 0;
    assert_int_equal(store_finding_next_due(t->s, T0, &at), 0);
    assert_int_equal(at, T0 + 15 * HOUR + 24 * MIN);
    assert_int_equal(store_finding_process_due(t->s, T0 + 15 * HOUR, 10, &processed), 0);
    assert_int_equal(processed, 0);
    assert_int_equal(store_finding_process_due(t->s, T0 + 16 * HOUR, 10, &processed), 0);
    assert_int_equal(processed, 1);
    assert_int_equal(store_finding_get(t->s, "acme", "f1", &f), 0);
    assert_int_equal(f.f.alarm.fired, 1);
    /* the breach: Friday 09:00:00.001 */
    assert_int_equal(store_finding_next_due(t->s, T0, &at), 0);
    assert_int_equal(at, T0 + DAY + 9 * HOUR + 1);
    assert_int_equal(store_finding_process_due(t->s, T0 + DAY + 9 * HOUR, 10, &processed), 0);
    assert_int_equal(processed, 0);
    /* opening at 10:00 from now on: due Friday 11:00, moved and in the
     * future: re-armed (80 % now at 16:24) */
    mk_cal(&c, "acme", "office", 10, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0 + 16 * HOUR, NULL, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_finding_get(t->s, "acme", "f1", &f), 0);
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 16 * HOUR), T0 + DAY + 11 * HOUR);
    assert_int_equal(f.f.alarm.fired, 0);
    assert_int_equal(store_finding_next_due(t->s, T0, &at), 0);
    assert_int_equal(at, T0 + 16 * HOUR + 24 * MIN);
    /* the same calendar again: nothing moves, nothing re-armed */
    assert_int_equal(store_finding_process_due(t->s, T0 + 16 * HOUR + 30 * MIN, 10, &processed),
                     0);
    assert_int_equal(processed, 1);
    assert_int_equal(put(t->s, &c, T0 + 16 * HOUR + 31 * MIN, NULL, &n), 0);
    assert_int_equal(store_finding_get(t->s, "acme", "f1", &f), 0);
    assert_int_equal(f.f.alarm.fired, 1);
    /* off the calendar (after a restart): 8 wall hours */
    storetest_reopen(t);
    assert_int_equal(put_company(t->s, "acme", 8, "24x7", T0 + 17 * HOUR, &n), 0);
    assert_int_equal(store_finding_get(t->s, "acme", "f1", &f), 0);
    assert_string_equal(f.cal, "");
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 17 * HOUR), T0 + 17 * HOUR);
    assert_int_equal(store_calendar_delete(t->s, "acme", "office", 0, "admin"), 0);
}

static void test_findings_faults(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    struct sw_calendar c;
    struct sw_finding f;
    bool created;
    int k, rc;
    mk_tenant(t->s, "F");
    mk_cal(&c, "F", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    struct sw_finding_new in = {.tenant_id = "F", .id = "f1", .sev = SLA_SEV_CRITICAL,
                                .discovered_at = T0 + 9 * HOUR};
    assert_int_equal(store_finding_create(t->s, &in, T0 + 9 * HOUR, "i", &f, &created), 0);
    FAULT_LOOP(db, k, rc, put_company(t->s, "F", 8, "office", T0 + 10 * HOUR, NULL))
        struct sw_policy_chain ch;
        assert_int_equal(store_finding_policy_chain(t->s, "F", "", &ch), 0);
        assert_string_equal(ch.level[SW_POL_COMPANY].calendars[SLA_SEV_CRITICAL], "");
        assert_int_equal(store_finding_get(t->s, "F", "f1", &f), 0);
        assert_string_equal(f.cal, "");
    }
    assert_int_equal(store_finding_get(t->s, "F", "f1", &f), 0);
    assert_string_equal(f.cal, "office");
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 10 * HOUR), T0 + DAY + 9 * HOUR);
    /* a pause on the calendar, all or nothing */
    FAULT_LOOP(db, k, rc, store_finding_create(t->s, &(struct sw_finding_new){
                   .tenant_id = "F", .id = "f2", .sev = SLA_SEV_CRITICAL,
                   .discovered_at = T0 + 16 * HOUR}, T0 + 16 * HOUR, "i", &f, &created))
        assert_int_equal(store_finding_get(t->s, "F", "f2", &f), SW_E_NOTFOUND);
    }
    assert_string_equal(f.cal, "office");
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 16 * HOUR), T0 + DAY + 16 * HOUR);
}

/* ---- pauses re-measured ---------------------------------------------------------------- */

struct act {
    bool resume;
    int64_t at;
};

static int act_fn(struct sw_finding *f, const struct sla_finding_scopes *sc, void *ud,
                  struct sw_finding_event *ev)
{
    (void)sc;
    (void)ev;
    const struct act *a = ud;
    return a->resume ? sla_finding_resume(&f->f, a->at) : sla_finding_pause(&f->f, a->at);
}

static void act(struct store *s, const char *id, bool resume, int64_t at)
{
    struct act a = {resume, at};
    struct sw_finding f;
    assert_int_equal(store_finding_update(s, "acme", id, at, "a", act_fn, &a, &f), 0);
}

/* A pause keeps its instants: moved onto another calendar (or off one),
 * its length is what that calendar counts. */
static void test_pauses(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_finding f;
    bool created;
    int64_t n;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    assert_int_equal(put_company(t->s, "acme", 8, "office", T0, NULL), 0);
    /* Thursday 09:00, paused 10:00 to Friday 10:00: 8 business hours */
    struct sw_finding_new in = {.tenant_id = "acme", .id = "p1", .sev = SLA_SEV_CRITICAL,
                                .discovered_at = T0 + 9 * HOUR};
    assert_int_equal(store_finding_create(t->s, &in, T0 + 9 * HOUR, "i", &f, &created), 0);
    act(t->s, "p1", false, T0 + 10 * HOUR);
    act(t->s, "p1", true, T0 + DAY + 10 * HOUR);
    assert_int_equal(store_finding_get(t->s, "acme", "p1", &f), 0);
    assert_int_equal(sla_clock_paused_total(&f.f.clock, T0 + 2 * DAY), 8 * HOUR);
    /* 1 h Thursday, 7 h from Friday 10:00: Friday 17:00, the closing: Monday 09:00 */
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 2 * DAY), T0 + 4 * DAY + 9 * HOUR);
    /* around the clock: the pause lasted 24 hours */
    assert_int_equal(put_company(t->s, "acme", 8, "24x7", T0 + 2 * DAY, &n), 0);
    assert_int_equal(store_finding_get(t->s, "acme", "p1", &f), 0);
    assert_int_equal(sla_clock_paused_total(&f.f.clock, T0 + 2 * DAY), 24 * HOUR);
    assert_int_equal(sla_clock_due(&f.f.clock, T0 + 2 * DAY), T0 + DAY + 17 * HOUR);
    /* and back */
    assert_int_equal(put_company(t->s, "acme", 8, "office", T0 + 2 * DAY, &n), 0);
    assert_int_equal(store_finding_get(t->s, "acme", "p1", &f), 0);
    assert_int_equal(sla_clock_paused_total(&f.f.clock, T0 + 2 * DAY), 8 * HOUR);
    /* Friday a holiday, saved later: the pause is 7 hours now */
    const char *hol[] = {"2026-01-02"};
    mk_cal(&c, "acme", "office", 9, 17, hol, 1);
    assert_int_equal(put(t->s, &c, T0 + 2 * DAY, NULL, &n), 0);
    assert_int_equal(store_finding_get(t->s, "acme", "p1", &f), 0);
    assert_int_equal(sla_clock_paused_total(&f.f.clock, T0 + 2 * DAY), 7 * HOUR);
    /* a finding paused around the clock, moved onto the calendar */
    assert_int_equal(put_company(t->s, "acme", 8, NULL, T0 + 2 * DAY, &n), 0);
    in = (struct sw_finding_new){.tenant_id = "acme", .id = "p2", .sev = SLA_SEV_CRITICAL,
                                 .discovered_at = T0 + 4 * DAY + 9 * HOUR};
    assert_int_equal(store_finding_create(t->s, &in, T0 + 4 * DAY + 9 * HOUR, "i", &f, &created),
                     0);
    act(t->s, "p2", false, T0 + 4 * DAY + 10 * HOUR);
    act(t->s, "p2", true, T0 + 4 * DAY + 20 * HOUR);
    assert_int_equal(put_company(t->s, "acme", 8, "office", T0 + 5 * DAY, &n), 0);
    assert_int_equal(store_finding_get(t->s, "acme", "p2", &f), 0);
    assert_string_equal(f.cal, "office");
    assert_int_equal(sla_clock_paused_total(&f.f.clock, T0 + 5 * DAY), 7 * HOUR);   /* 10-17 */
}

/* ---- two nodes: a delete and a policy naming the calendar at once ------------------------- */

struct race {
    struct store *s;
    pthread_barrier_t *bar;
    bool del;
    int rc;
};

static void *race_main(void *arg)
{
    struct race *r = arg;
    pthread_barrier_wait(r->bar);
    r->rc = r->del ? store_calendar_delete(r->s, "acme", "office", 0, "admin")
                   : put_company(r->s, "acme", 8, "office", T0, NULL);
    return NULL;
}

/* Either the policy names a calendar that exists, or the calendar is gone
 * and the policy was refused: never a policy naming a deleted calendar. */
static void test_delete_race(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b = NULL;
    char err[256];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    mk_tenant(t->s, "acme");
    struct sw_calendar c, got;
    for (int round = 0; round < 20; round++) {
        mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
        assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        struct race d = {.s = t->s, .bar = &bar, .del = true};
        struct race p = {.s = b, .bar = &bar, .del = false};
        pthread_t td, tp;
        pthread_create(&td, NULL, race_main, &d);
        pthread_create(&tp, NULL, race_main, &p);
        pthread_join(td, NULL);
        pthread_join(tp, NULL);
        pthread_barrier_destroy(&bar);
        struct sw_policy_chain ch;
        assert_int_equal(store_finding_policy_chain(t->s, "acme", "", &ch), 0);
        bool named = !strcmp(ch.level[SW_POL_COMPANY].calendars[SLA_SEV_CRITICAL], "office");
        bool exists = store_calendar_get(t->s, "acme", "office", &got) == 0;
        if (named) {
            assert_true(exists);
            assert_int_equal(p.rc, 0);
            assert_int_equal(d.rc, SW_E_CONFLICT);
        } else {
            assert_false(exists);
            assert_int_equal(d.rc, 0);
            assert_int_equal(p.rc, SW_E_INVAL);
        }
        /* reset: nothing named, no calendar */
        assert_int_equal(put_company(t->s, "acme", 8, NULL, T0, NULL), 0);
        store_calendar_delete(t->s, "acme", "office", 0, "admin");
    }
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_findings_faults),
        cmocka_unit_test(test_pauses),
        cmocka_unit_test(test_delete_race),
    };
    return storetest_run("store_findings_calendar", tests, sizeof(tests) / sizeof(tests[0]));
}
