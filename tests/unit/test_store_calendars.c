/* The calendar subject of the SQL store (src/store/calendars.c,
 * alerts_calendar.c), on SQLite and PostgreSQL: put (created, replaced,
 * refused when it does not compile, no tenant), get, list, delete (409
 * while the definition names it), compiled calendars per version, a save
 * on one node seen by another from its next request, alerts created on and
 * recalculated with a calendar, and fault injection on every write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/alerts_int.h"
/* the two subjects' headers each name their own title limit */
#undef SW_TITLE_MAX
#include "store/store_findings.h"
#include "util/xalloc.h"
#include "store/store_analytics.h"
#include "store/store_calendars.h"
#include "store/store_proof.h"
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

struct ack_sum {
    int64_t count, sum_ms, met;
};

static int ack_cb(const struct sw_rollup_row *r, void *ud)
{
    struct ack_sum *a = ud;
    if (r->clock == SW_CLOCK_ACK) {
        a->count += (int64_t)r->count;
        a->sum_ms += r->sum_ms;
        a->met += (int64_t)r->met;
    }
    return 0;
}

/* MTTA as the rollups say it: acknowledged count, summed time, met. */
static struct ack_sum ack_rollup(struct store *s, const char *tenant)
{
    struct ack_sum a = {0};
    assert_int_equal(store_rollup_scan(s, tenant, "2025-01-01", "2027-01-01", NULL, -1, ack_cb,
                                       &a), 0);
    return a;
}

static int count_cb(const struct sw_calendar *c, void *ud)
{
    (void)c;
    (*(int *)ud)++;
    return 0;
}

static int count(struct store *s, const char *tenant)
{
    int n = 0;
    assert_int_equal(store_calendar_list(s, tenant, count_cb, &n), 0);
    return n;
}

static void set_def_cal(struct store *s, const char *tenant, enum sla_sev sev, const char *id,
                        int64_t now, int64_t *n)
{
    struct sla_definition d = {0};
    struct sw_alert_calendars cals = {0};
    cals.set[sev] = true;
    snprintf(cals.id[sev], sizeof(cals.id[sev]), "%s", id ? id : "");
    int64_t k;
    struct sw_definition_change ch = {.tenant_id = tenant, .d = &d, .cals = &cals};
    assert_int_equal(store_alert_definition_apply(s, &ch, now, "admin", n ? n : &k), 0);
}

/* ---- CRUD ----------------------------------------------------------------------- */

static void test_crud(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c, got;
    bool created = false;
    int64_t n = -1;
    mk_tenant(t->s, "acme");
    const char *hol[] = {"12-25", "2026-01-02"};
    mk_cal(&c, "acme", "office", 9, 17, hol, 2);
    assert_int_equal(put(t->s, &c, T0, &created, &n), 0);
    assert_true(created);
    assert_int_equal(n, 0);
    assert_int_equal(c.version, 1);
    assert_int_equal(store_calendar_get(t->s, "acme", "office", &got), 0);
    assert_string_equal(got.name, "Cal office");
    assert_string_equal(got.timezone, "UTC");
    assert_int_equal(got.niv[0], 1);
    assert_int_equal(got.iv[0][0].start_s, 9 * 3600);
    assert_int_equal(got.niv[5], 0);
    assert_int_equal(got.nholidays, 2);
    assert_int_equal(got.created_at, T0);
    /* replaced: a new version, created_at kept */
    mk_cal(&c, "acme", "office", 8, 16, NULL, 0);
    assert_int_equal(put(t->s, &c, T0 + MIN, &created, NULL), 0);
    assert_false(created);
    assert_int_equal(store_calendar_get(t->s, "acme", "office", &got), 0);
    assert_int_equal(got.version, 2);
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.updated_at, T0 + MIN);
    assert_int_equal(got.nholidays, 0);
    assert_int_equal(got.iv[2][0].end_s, 16 * 3600);
    /* the compiled calendar follows the version */
    const struct sla_cal *cal;
    assert_int_equal(store_calendar_compiled(t->s, "acme", "office", &cal), 0);
    assert_int_equal(sla_cal_week_ms(cal), 5 * 8 * HOUR);
    assert_int_equal(store_calendar_compiled(t->s, "acme", "24x7", &cal), SW_E_NOTFOUND);
    assert_int_equal(store_calendar_compiled(t->s, "acme", "nope", &cal), SW_E_NOTFOUND);

    mk_cal(&c, "acme", "late", 18, 22, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    assert_int_equal(count(t->s, "acme"), 2);
    assert_int_equal(count(t->s, "ghost"), 0);
    /* errors */
    mk_cal(&c, "ghost", "x", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), SW_E_NOTFOUND);
    mk_cal(&c, "acme", "bad", 9, 17, NULL, 0);
    snprintf(c.timezone, sizeof(c.timezone), "Mars/Olympus");
    struct sla_cal_error err = {0};
    bool cr;
    int64_t k;
    assert_int_equal(store_calendar_put(t->s, &c, T0, "a", &cr, &k, &err), SW_E_INVAL);
    assert_string_equal(err.field, "timezone");
    mk_cal(&c, "acme", "bad", 9, 17, NULL, 0);
    c.iv[1][0] = (struct sla_cal_interval){17 * 3600, 9 * 3600};
    assert_int_equal(store_calendar_put(t->s, &c, T0, "a", &cr, &k, &err), SW_E_INVAL);
    assert_string_equal(err.field, "hours");
    assert_int_equal(store_calendar_get(t->s, "acme", "bad", &got), SW_E_NOTFOUND);
    assert_int_equal(store_calendar_get(t->s, "other", "office", &got), SW_E_NOTFOUND);
    /* delete */
    assert_int_equal(store_calendar_delete(t->s, "acme", "late", T0, "admin"), 0);
    assert_int_equal(store_calendar_delete(t->s, "acme", "late", T0, "admin"), SW_E_NOTFOUND);
    assert_int_equal(store_calendar_delete(t->s, "ghost", "late", T0, "admin"), SW_E_NOTFOUND);
    /* restart: all still there */
    storetest_reopen(t);
    assert_int_equal(store_calendar_get(t->s, "acme", "office", &got), 0);
    assert_int_equal(got.version, 2);
    assert_int_equal(count(t->s, "acme"), 1);
}

/* ---- alerts on a calendar ---------------------------------------------------------- */

static void test_alerts(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_alert a;
    int64_t n = -1;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    /* a definition naming an unknown calendar: INVAL with its severity */
    struct sla_definition d = {0};
    struct sw_alert_calendars cals = {.set = {[SLA_SEV_HIGH] = true}, .id = {[SLA_SEV_HIGH] = "x"}};
    int bad = -1;
    struct sw_definition_change dc = {.tenant_id = "acme", .d = &d, .cals = &cals, .bad_sev = &bad};
    assert_int_equal(store_alert_definition_apply(t->s, &dc, T0, "a", &n), SW_E_INVAL);
    assert_int_equal(bad, SLA_SEV_HIGH);
    set_def_cal(t->s, "acme", SLA_SEV_HIGH, "office", T0, NULL);
    /* 2026-01-01 is a Thursday; created at 16:50: 10 min today, 20 min on Friday */
    struct sw_alert_new in = {.tenant_id = "acme", .id = "h1", .sev = SLA_SEV_HIGH,
                              .created_at = T0 + 16 * HOUR + 50 * MIN};
    enum sw_alert_result res;
    assert_int_equal(store_alert_create(t->s, &in, T0 + 17 * HOUR, "i", &a, &res), 0);
    assert_int_equal(res, SW_ALERT_CREATED);
    assert_string_equal(a.ack_cal, "office");
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 17 * HOUR), T0 + DAY + 9 * HOUR + 20 * MIN);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 17 * HOUR), T0 + DAY + 9 * HOUR + 20 * MIN);
    assert_int_equal(a.next_check_at, T0 + DAY + 9 * HOUR + 14 * MIN);     /* 80 % of 30 */
    /* a medium one is around the clock */
    in = (struct sw_alert_new){.tenant_id = "acme", .id = "m1", .sev = SLA_SEV_MEDIUM,
                               .created_at = T0 + 16 * HOUR};
    assert_int_equal(store_alert_create(t->s, &in, T0 + 17 * HOUR, "i", &a, &res), 0);
    assert_string_equal(a.ack_cal, "");
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 17 * HOUR), T0 + 20 * HOUR);
    /* named: no delete */
    assert_int_equal(store_calendar_delete(t->s, "acme", "office", T0, "admin"), SW_E_CONFLICT);
    /* Friday a holiday: due Monday 09:20 (2026-01-05) */
    const char *hol[] = {"2026-01-02"};
    mk_cal(&c, "acme", "office", 9, 17, hol, 1);
    assert_int_equal(put(t->s, &c, T0 + 18 * HOUR, NULL, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 18 * HOUR), T0 + 4 * DAY + 9 * HOUR + 20 * MIN);
    assert_int_equal(a.next_check_at, T0 + 4 * DAY + 9 * HOUR + 14 * MIN);
    /* the same calendar again: nothing moves */
    assert_int_equal(put(t->s, &c, T0 + 18 * HOUR, NULL, &n), 0);
    assert_int_equal(n, 0);
    /* acknowledged on Monday 09:05: 15 business minutes, frozen */
    struct sw_alert_change ch = {.action = SW_ALERT_ACKNOWLEDGE, .at = T0 + 4 * DAY + 9 * HOUR + 5 * MIN};
    assert_int_equal(store_alert_change(t->s, "acme", "h1", &ch, T0 + 4 * DAY + 10 * HOUR, &a), 0);
    assert_int_equal(sla_clock_elapsed(&a.a.ack, T0 + 5 * DAY), 15 * MIN);
    /* MTTA in business time, also after a rebuild */
    struct ack_sum sum = ack_rollup(t->s, "acme");
    assert_int_equal(sum.count, 1);
    assert_int_equal(sum.sum_ms, 15 * MIN);
    assert_int_equal(sum.met, 1);
    int64_t rows = 0;
    assert_int_equal(store_rollup_rebuild(t->s, "acme", &rows), 0);
    sum = ack_rollup(t->s, "acme");
    assert_int_equal(sum.count, 1);
    assert_int_equal(sum.sum_ms, 15 * MIN);
    assert_int_equal(sum.met, 1);
    /* off the calendar: the resolve clock follows, the ack verdict stays */
    set_def_cal(t->s, "acme", SLA_SEV_HIGH, NULL, T0 + 5 * DAY, &n);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_string_equal(a.res_cal, "");
    assert_string_equal(a.ack_cal, "office");
    assert_int_equal(sla_clock_elapsed(&a.a.ack, T0 + 5 * DAY), 15 * MIN);
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 5 * DAY), T0 + 4 * DAY + 9 * HOUR + 20 * MIN);
    assert_int_equal(sla_clock_due(&a.a.resolve, T0 + 5 * DAY), in.created_at + 50 * MIN + 8 * HOUR);
    /* now unused: deleted; the frozen verdict survives its calendar */
    assert_int_equal(store_calendar_delete(t->s, "acme", "office", T0, "admin"), 0);
    storetest_reopen(t);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_int_equal(sla_clock_elapsed(&a.a.ack, T0 + 5 * DAY), 15 * MIN);
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 5 * DAY), T0 + 4 * DAY + 9 * HOUR + 20 * MIN);
}

/* A reopen continues the clocks: the time the alert spent resolved is a
 * pause, measured on the calendar, and again on the next one it moves to. */
static void test_alert_reopen(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_alert a;
    enum sw_alert_result res;
    int64_t n;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    set_def_cal(t->s, "acme", SLA_SEV_LOW, "office", T0, NULL);
    /* Thursday 09:00; resolved 10:00, reopened Friday 10:00: 8 business hours */
    struct sw_alert_new in = {.tenant_id = "acme", .id = "l1", .sev = SLA_SEV_LOW,
                              .created_at = T0 + 9 * HOUR};
    assert_int_equal(store_alert_create(t->s, &in, T0 + 9 * HOUR, "i", &a, &res), 0);
    struct sw_alert_change ch = {.action = SW_ALERT_RESOLVE, .at = T0 + 10 * HOUR};
    assert_int_equal(store_alert_change(t->s, "acme", "l1", &ch, T0 + 10 * HOUR, &a), 0);
    ch = (struct sw_alert_change){.action = SW_ALERT_REOPEN, .at = T0 + DAY + 10 * HOUR};
    assert_int_equal(store_alert_change(t->s, "acme", "l1", &ch, T0 + DAY + 10 * HOUR, &a), 0);
    assert_int_equal(store_alert_get(t->s, "acme", "l1", &a), 0);
    assert_string_equal(a.res_cal, "office");
    assert_int_equal(sla_clock_paused_total(&a.a.resolve, T0 + DAY + 11 * HOUR), 8 * HOUR);
    assert_int_equal(sla_clock_elapsed(&a.a.resolve, T0 + DAY + 11 * HOUR), 2 * HOUR);
    /* around the clock: the resolved interval was 24 hours */
    set_def_cal(t->s, "acme", SLA_SEV_LOW, NULL, T0 + DAY + 11 * HOUR, &n);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "acme", "l1", &a), 0);
    assert_string_equal(a.res_cal, "");
    assert_int_equal(sla_clock_paused_total(&a.a.resolve, T0 + DAY + 11 * HOUR), 24 * HOUR);
    assert_int_equal(sla_clock_elapsed(&a.a.resolve, T0 + DAY + 11 * HOUR), 2 * HOUR);
}

/* ---- a project's definition ------------------------------------------------------------- */

static void set_project_cal(struct store *s, const char *project, enum sla_sev sev,
                            const char *id, int64_t now, int64_t *n)
{
    struct sla_definition d = {0};
    struct sw_alert_calendars cals = {0};
    cals.set[sev] = true;
    snprintf(cals.id[sev], sizeof(cals.id[sev]), "%s", id ? id : "");
    int64_t k;
    struct sw_definition_change ch = {.tenant_id = "acme", .project_id = project, .d = &d,
                                      .cals = &cals};
    assert_int_equal(store_alert_definition_apply(s, &ch, now, "admin", n ? n : &k), 0);
}

static void test_project_calendars(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_alert a;
    struct sw_alert_policy p;
    enum sw_alert_result res;
    int64_t n;
    mk_tenant(t->s, "acme");
    struct sw_project pr = {.created_at = T0};
    snprintf(pr.tenant_id, sizeof(pr.tenant_id), "acme");
    snprintf(pr.id, sizeof(pr.id), "web");
    snprintf(pr.name, sizeof(pr.name), "Web");
    assert_int_equal(store_project_create(t->s, &pr, NULL), 0);
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    /* the tenant puts medium on the calendar; the project keeps it around the clock */
    set_def_cal(t->s, "acme", SLA_SEV_MEDIUM, "office", T0, NULL);
    set_project_cal(t->s, "web", SLA_SEV_MEDIUM, NULL, T0, NULL);
    assert_int_equal(store_alert_policy_get(t->s, "acme", "web", &p), 0);
    assert_string_equal(p.cal[SLA_SEV_MEDIUM], "");
    assert_string_equal(p.cal_project[SLA_SEV_MEDIUM], "24x7");
    struct sw_alert_new in = {.tenant_id = "acme", .id = "w1", .project_id = "web",
                              .sev = SLA_SEV_MEDIUM, .created_at = T0 + 16 * HOUR};
    assert_int_equal(store_alert_create(t->s, &in, T0 + 16 * HOUR, "i", &a, &res), 0);
    assert_string_equal(a.ack_cal, "");
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 16 * HOUR), T0 + 20 * HOUR);
    in = (struct sw_alert_new){.tenant_id = "acme", .id = "t1", .sev = SLA_SEV_MEDIUM,
                               .created_at = T0 + 16 * HOUR};
    assert_int_equal(store_alert_create(t->s, &in, T0 + 16 * HOUR, "i", &a, &res), 0);
    assert_string_equal(a.ack_cal, "office");
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 16 * HOUR), T0 + DAY + 12 * HOUR);
    /* the project names the calendar itself: w1 moves onto it */
    set_project_cal(t->s, "web", SLA_SEV_MEDIUM, "office", T0 + 17 * HOUR, &n);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "acme", "w1", &a), 0);
    assert_string_equal(a.ack_cal, "office");
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 17 * HOUR), T0 + DAY + 12 * HOUR);
    /* the tenant leaves the calendar: t1 follows, w1 (its project's) stays */
    set_def_cal(t->s, "acme", SLA_SEV_MEDIUM, NULL, T0 + 18 * HOUR, &n);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "acme", "t1", &a), 0);
    assert_string_equal(a.ack_cal, "");
    assert_int_equal(store_alert_get(t->s, "acme", "w1", &a), 0);
    assert_string_equal(a.ack_cal, "office");
    assert_int_equal(store_calendar_delete(t->s, "acme", "office", T0, "admin"), SW_E_CONFLICT);
}

/* ---- two nodes ------------------------------------------------------------------------ */

static void test_two_nodes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b = NULL;
    char err[256];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    struct sw_calendar c;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    const struct sla_cal *cal;
    assert_int_equal(store_calendar_compiled(b, "acme", "office", &cal), 0);
    assert_int_equal(sla_cal_week_ms(cal), 40 * HOUR);
    /* replaced on node A: node B compiles the new version at its next use */
    mk_cal(&c, "acme", "office", 9, 18, NULL, 0);
    assert_int_equal(put(t->s, &c, T0 + MIN, NULL, NULL), 0);
    assert_int_equal(store_calendar_compiled(b, "acme", "office", &cal), 0);
    assert_int_equal(sla_cal_week_ms(cal), 45 * HOUR);
    assert_int_equal(store_calendar_delete(t->s, "acme", "office", T0, "admin"), 0);
    assert_int_equal(store_calendar_compiled(b, "acme", "office", &cal), SW_E_NOTFOUND);
    store_close(b);
}

/* ---- faults ------------------------------------------------------------------------------ */

#define FAULT_LOOP(db, k, rc, op)                                               \
    for (k = 1;; k++) {                                                         \
        db_fail_after(db, k, SW_E_STORE);                                       \
        rc = (op);                                                              \
        db_fail_after(db, 0, 0);                                                \
        if (rc == 0)                                                            \
            break;                                                              \
        assert_true(rc < 0);                                                    \
        assert_true(k < 500);

static void test_faults(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    struct sw_calendar c, got;
    struct sw_alert a;
    int k, rc;
    mk_tenant(t->s, "F");
    mk_cal(&c, "F", "office", 9, 17, NULL, 0);
    FAULT_LOOP(db, k, rc, put(t->s, &c, T0, NULL, NULL))
        assert_int_equal(store_calendar_get(t->s, "F", "office", &got), SW_E_NOTFOUND);
    }
    set_def_cal(t->s, "F", SLA_SEV_LOW, "office", T0, NULL);
    struct sw_alert_new in = {.tenant_id = "F", .id = "l1", .sev = SLA_SEV_LOW,
                              .created_at = T0 + 16 * HOUR};
    enum sw_alert_result res;
    assert_int_equal(store_alert_create(t->s, &in, T0 + 16 * HOUR, "i", &a, &res), 0);
    int64_t due = sla_clock_due(&a.a.ack, T0 + 16 * HOUR);
    /* a replacement that recalculates: all or nothing */
    const char *hol[] = {"01-02"};
    mk_cal(&c, "F", "office", 9, 17, hol, 1);
    int64_t n = -1;
    FAULT_LOOP(db, k, rc, put(t->s, &c, T0 + 17 * HOUR, NULL, &n))
        assert_int_equal(store_calendar_get(t->s, "F", "office", &got), 0);
        assert_int_equal(got.version, 1);
        assert_int_equal(store_alert_get(t->s, "F", "l1", &a), 0);
        assert_int_equal(sla_clock_due(&a.a.ack, T0 + 17 * HOUR), due);
    }
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "F", "l1", &a), 0);
    assert_true(sla_clock_due(&a.a.ack, T0 + 17 * HOUR) > due);
    assert_int_equal(store_calendar_delete(t->s, "F", "office", T0, "admin"), SW_E_CONFLICT);
}

static void test_fault_delete(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    struct sw_calendar c, got;
    int k, rc;
    mk_tenant(t->s, "F");
    mk_cal(&c, "F", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    FAULT_LOOP(db, k, rc, store_calendar_delete(t->s, "F", "office", T0, "admin"))
        assert_int_equal(store_calendar_get(t->s, "F", "office", &got), 0);
    }
    assert_int_equal(store_calendar_get(t->s, "F", "office", &got), SW_E_NOTFOUND);
}

static int latest_after_cb(const struct sw_policy_version *v, void *ud)
{
    char *out = ud;
    if (!*out)
        snprintf(out, 512, "%s", v->after ? v->after : "null");
    return 0;
}

/* A dry run of putting a severity on a calendar: the C path's alerts are
 * counted (a deadline moved later past the office's close), nothing is
 * stored; the real change then does what the dry run said. */
static void test_definition_dry_run(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_alert a;
    enum sw_alert_result res;
    int64_t n = -1;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    /* Thursday 16:50, around the clock: acknowledge by 17:20 */
    struct sw_alert_new in = {.tenant_id = "acme", .id = "h1", .sev = SLA_SEV_HIGH,
                              .created_at = T0 + 16 * HOUR + 50 * MIN};
    assert_int_equal(store_alert_create(t->s, &in, T0 + 16 * HOUR + 50 * MIN, "i", &a, &res), 0);
    in.id = "m1";
    in.sev = SLA_SEV_MEDIUM;
    assert_int_equal(store_alert_create(t->s, &in, T0 + 16 * HOUR + 50 * MIN, "i", &a, &res), 0);
    const int64_t now = T0 + 17 * HOUR;
    struct sla_definition d = {0};
    struct sw_alert_calendars cals = {.set = {[SLA_SEV_HIGH] = true},
                                      .id = {[SLA_SEV_HIGH] = "office"}};
    struct sw_dry_run dry;
    struct sw_definition_change dc = {.tenant_id = "acme", .d = &d, .cals = &cals,
                                      .dry_run = &dry};
    assert_int_equal(store_alert_definition_apply(t->s, &dc, now, "a", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(dry.would_recalculate, 1);
    assert_int_equal(dry.later, 1);
    assert_int_equal(dry.earlier, 0);
    assert_int_equal(dry.new_breaches, 0);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_string_equal(a.ack_cal, "");
    assert_int_equal(sla_clock_due(&a.a.ack, now), T0 + 17 * HOUR + 20 * MIN);
    struct sw_alert_policy p;
    assert_int_equal(store_alert_policy_get(t->s, "acme", NULL, &p), 0);
    assert_string_equal(p.cal[SLA_SEV_HIGH], "");
    /* the change itself: Friday 09:20 */
    dc.dry_run = NULL;
    assert_int_equal(store_alert_definition_apply(t->s, &dc, now, "a", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_string_equal(a.ack_cal, "office");
    assert_int_equal(sla_clock_due(&a.a.ack, now), T0 + DAY + 9 * HOUR + 20 * MIN);
    /* the definition's history has the calendar (the dry run made no version) */
    char after[512] = "";
    assert_int_equal(store_history_list(t->s, SW_HISTORY_DEFINITION, "acme", "", 0, 10,
                                        latest_after_cb, after), 0);
    assert_non_null(strstr(after, "\"calendars\":{\"high\":\"office\"}"));
}

/* A calendar's save tried first: a Friday holiday moves an alert's and a
 * finding's deadline later; the dry run counts both and stores nothing
 * (the calendar keeps its version, the alert its deadline, no history). */
static void test_calendar_dry_run(void **state)
{
    struct storetest *t = *state;
    struct sw_calendar c;
    struct sw_alert a;
    enum sw_alert_result res;
    int64_t n = -1;
    mk_tenant(t->s, "acme");
    mk_cal(&c, "acme", "office", 9, 17, NULL, 0);
    assert_int_equal(put(t->s, &c, T0, NULL, NULL), 0);
    set_def_cal(t->s, "acme", SLA_SEV_HIGH, "office", T0, NULL);
    struct sw_finding_policy p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "acme");
    p.hours_set[SLA_SEV_CRITICAL] = true;
    p.hours[SLA_SEV_CRITICAL] = 16;
    snprintf(p.calendars[SLA_SEV_CRITICAL], sizeof(p.calendars[0]), "office");
    assert_int_equal(store_finding_policy_put(t->s, &p, T0, "admin", &n), 0);
    /* Thursday 16:50: acknowledge by Friday 09:20; the finding from
     * Thursday 13:00 is due Monday 13:00 */
    struct sw_alert_new in = {.tenant_id = "acme", .id = "h1", .sev = SLA_SEV_HIGH,
                              .created_at = T0 + 16 * HOUR + 50 * MIN};
    assert_int_equal(store_alert_create(t->s, &in, T0 + 17 * HOUR, "i", &a, &res), 0);
    struct sw_finding_new fin = {.tenant_id = "acme", .id = "f1", .sev = SLA_SEV_CRITICAL,
                                 .discovered_at = T0 + 13 * HOUR};
    struct sw_finding *f = xmalloc(sizeof(*f));
    bool created;
    assert_int_equal(store_finding_create(t->s, &fin, T0 + 17 * HOUR, "i", f, &created), 0);
    /* the same calendar with Friday 2026-01-02 a holiday, tried */
    const char *hol[] = {"2026-01-02"};
    mk_cal(&c, "acme", "office", 9, 17, hol, 1);
    struct sw_dry_run dry;
    struct sla_cal_error err = {0};
    assert_int_equal(store_calendar_put_dry_run(t->s, &c, T0 + 18 * HOUR, &dry, &err), 0);
    assert_int_equal(dry.would_recalculate, 2);
    assert_int_equal(dry.later, 2);
    assert_int_equal(dry.earlier, 0);
    assert_int_equal(dry.new_breaches, 0);
    struct sw_calendar got;
    assert_int_equal(store_calendar_get(t->s, "acme", "office", &got), 0);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.nholidays, 0);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 18 * HOUR), T0 + DAY + 9 * HOUR + 20 * MIN);
    char after[512] = "";
    assert_int_equal(store_history_list(t->s, SW_HISTORY_CALENDAR, "acme", "office", 0, 10,
                                        latest_after_cb, after), 0);
    assert_null(strstr(after, "2026-01-02"));
    /* a calendar that does not exist yet: nothing is on it */
    mk_cal(&c, "acme", "late", 12, 20, NULL, 0);
    assert_int_equal(store_calendar_put_dry_run(t->s, &c, T0 + 18 * HOUR, &dry, &err), 0);
    assert_int_equal(dry.would_recalculate, 0);
    assert_int_equal(store_calendar_get(t->s, "acme", "late", &got), SW_E_NOTFOUND);
    /* the save itself moves both */
    mk_cal(&c, "acme", "office", 9, 17, hol, 1);
    assert_int_equal(put(t->s, &c, T0 + 18 * HOUR, NULL, &n), 0);
    assert_int_equal(store_alert_get(t->s, "acme", "h1", &a), 0);
    assert_int_equal(sla_clock_due(&a.a.ack, T0 + 18 * HOUR), T0 + 4 * DAY + 9 * HOUR + 20 * MIN);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crud),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_alert_reopen),
        cmocka_unit_test(test_project_calendars),
        cmocka_unit_test(test_two_nodes),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_fault_delete),
        cmocka_unit_test(test_definition_dry_run),
        cmocka_unit_test(test_calendar_dry_run),
    };
    return storetest_run("store_calendars", tests, sizeof(tests) / sizeof(tests[0]));
}
