/* Findings in numbers and the alerts' volume (src/store/finding_rollups.c,
 * alert_counts.c) on SQLite and PostgreSQL: a finding's close adds its
 * sample to the day's finding rollup, a reopen takes it back, the live
 * counters follow every state and severity change, overdue and due-soon
 * counts and upcoming deadlines come from the running deadlines; alerts
 * count on their creation day and, resolved without an acknowledgement,
 * as auto-resolved on their resolution day (also through the alert
 * writer's batched creates).  Everything kept live equals a rebuild byte
 * for byte; a close failing at each driver call in turn leaves nothing
 * behind; two nodes closing findings of one group and day lose no count. */
#include <pthread.h>

/* the two subjects' headers each name their own title limit */
#include "store/store_calendars.h"
#include "store/store_findings.h"
#undef SW_TITLE_MAX
#include "analytics_fixture.h"

/* ---- findings through the store's own ops ----------------------------------------- */

static void finding_mk(struct store *s, const char *tenant, const char *id, const char *project,
                       enum sla_sev sev, int64_t discovered)
{
    struct sw_finding_new in = {.tenant_id = tenant, .id = id, .project_id = project,
                                .sev = sev, .discovered_at = discovered};
    struct sw_finding *f = xmalloc(sizeof(*f));
    bool created = false;
    assert_int_equal(store_finding_create(s, &in, discovered, "test", f, &created), 0);
    assert_true(created);
    free(f);
}

enum fop { F_PAUSE, F_RESUME, F_CLOSE, F_REOPEN, F_SEV };

struct fchange {
    enum fop op;
    int64_t at;
    enum sla_finding_state status;
    enum sla_sev sev;
};

static int fchange_fn(struct sw_finding *r, const struct sla_finding_scopes *sc, void *ud,
                      struct sw_finding_event *ev)
{
    struct fchange *ch = ud;
    snprintf(ev->type, sizeof(ev->type), "test");
    ev->at = ch->at;
    switch (ch->op) {
    case F_PAUSE: return sla_finding_pause(&r->f, ch->at);
    case F_RESUME: return sla_finding_resume(&r->f, ch->at);
    case F_CLOSE: return sla_finding_close(&r->f, ch->status, ch->at);
    case F_REOPEN: return sla_finding_reopen(&r->f, ch->at);
    case F_SEV: return sla_finding_set_severity(&r->f, ch->sev, sc, ch->at);
    }
    return SW_E_INVAL;
}

static int fdo(struct store *s, const char *tenant, const char *id, enum fop op, int64_t at)
{
    struct fchange ch = {.op = op, .at = at, .status = SLA_FINDING_CLOSED};
    struct sw_finding *f = xmalloc(sizeof(*f));
    int rc = store_finding_update(s, tenant, id, at, "test", fchange_fn, &ch, f);
    free(f);
    return rc;
}

static int fclose_as(struct store *s, const char *tenant, const char *id,
                     enum sla_finding_state st, int64_t at)
{
    struct fchange ch = {.op = F_CLOSE, .at = at, .status = st};
    struct sw_finding *f = xmalloc(sizeof(*f));
    int rc = store_finding_update(s, tenant, id, at, "test", fchange_fn, &ch, f);
    free(f);
    return rc;
}

static int fsev(struct store *s, const char *tenant, const char *id, enum sla_sev sev,
                int64_t at)
{
    struct fchange ch = {.op = F_SEV, .at = at, .sev = sev};
    struct sw_finding *f = xmalloc(sizeof(*f));
    int rc = store_finding_update(s, tenant, id, at, "test", fchange_fn, &ch, f);
    free(f);
    return rc;
}

/* ---- reading the numbers ------------------------------------------------------------ */

struct frows {
    int n;
    struct sw_finding_rollup_row r[32];
};

static int frows_cb(const struct sw_finding_rollup_row *r, void *ud)
{
    struct frows *u = ud;
    if (u->n < 32) {
        u->r[u->n] = *r;
        u->r[u->n].hist = NULL;
    }
    u->n++;
    return 0;
}

static void fscan(struct store *s, const char *tenant, const char *from, const char *to,
                  const char *project, struct frows *u)
{
    memset(u, 0, sizeof(*u));
    assert_int_equal(store_finding_rollup_scan(s, tenant, from, to, project, frows_cb, u), 0);
}

struct groups {
    int n;
    struct sw_finding_group_numbers g[32];
};

static int groups_cb(const struct sw_finding_group_numbers *g, void *ud)
{
    struct groups *u = ud;
    if (u->n < 32)
        u->g[u->n] = *g;
    u->n++;
    return 0;
}

static void live(struct store *s, const char *tenant, const char *project, int64_t now,
                 struct groups *u)
{
    memset(u, 0, sizeof(*u));
    assert_int_equal(store_finding_live_numbers(s, tenant, project, now, 7 * D, groups_cb, u), 0);
}

static const struct sw_finding_group_numbers *group(const struct groups *u, const char *project,
                                                    enum sla_sev sev)
{
    for (int i = 0; i < u->n && i < 32; i++)
        if (!strcmp(u->g[i].project_id, project) && u->g[i].sev == sev)
            return &u->g[i];
    return NULL;
}

struct dues {
    int n;
    struct sw_finding_due d[32];
};

static int dues_cb(const struct sw_finding_due *d, void *ud)
{
    struct dues *u = ud;
    if (u->n < 32)
        u->d[u->n] = *d;
    u->n++;
    return 0;
}

static void rebuild_same(struct store *s, const char *tenant)
{
    char *before = snapshot(s);
    int64_t rows = -1;
    assert_int_equal(store_rollup_rebuild(s, tenant, &rows), 0);
    char *after = snapshot(s);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* ---- findings ------------------------------------------------------------------------- */

static void test_findings_numbers(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", "America/New_York");
    struct sw_project p = {.created_at = T0};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "a");
    snprintf(p.id, sizeof(p.id), "web");
    snprintf(p.name, sizeof(p.name), "Web");
    assert_int_equal(store_project_create(s, &p, NULL), 0);

    /* critical: 72 h, high: 168 h (built-in) */
    finding_mk(s, "a", "c1", NULL, SLA_SEV_CRITICAL, T0);
    finding_mk(s, "a", "c2", NULL, SLA_SEV_CRITICAL, T0 + H);
    finding_mk(s, "a", "c3", NULL, SLA_SEV_CRITICAL, T0 + 2 * H);
    finding_mk(s, "a", "h1", "web", SLA_SEV_HIGH, T0);
    assert_int_equal(sql_count(s, "SELECT open FROM finding_counts WHERE severity = 'critical'"),
                     3);
    assert_int_equal(fdo(s, "a", "c2", F_PAUSE, T0 + 10 * H), 0);
    struct groups g;
    live(s, "a", NULL, T0 + 71 * H, &g);
    assert_int_equal(g.n, 2);
    const struct sw_finding_group_numbers *gc = group(&g, "", SLA_SEV_CRITICAL);
    assert_non_null(gc);
    assert_int_equal(gc->open, 2);
    assert_int_equal(gc->paused, 1);
    assert_int_equal(gc->hours, 72);
    assert_int_equal(gc->overdue, 0);
    assert_int_equal(gc->due_soon, 2);               /* c1 at 72 h, c3 at 74 h */
    live(s, "a", NULL, T0 + 73 * H, &g);
    gc = group(&g, "", SLA_SEV_CRITICAL);
    assert_int_equal(gc->overdue, 1);                /* c1: due at 72 h, 1 h over */
    assert_int_equal(gc->due_soon, 1);
    /* exactly at the deadline is not over (a close at it would be met) */
    live(s, "a", NULL, T0 + 72 * H, &g);
    assert_int_equal(group(&g, "", SLA_SEV_CRITICAL)->overdue, 0);
    live(s, "a", "web", T0 - H, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.g[0].sev, SLA_SEV_HIGH);
    assert_int_equal(g.g[0].due_soon, 0);            /* 169 h away */
    live(s, "a", "web", T0, &g);
    assert_int_equal(g.g[0].due_soon, 1);            /* 7 days to the millisecond */

    /* upcoming: soonest first, running only, limited */
    struct dues d = {0};
    assert_int_equal(store_finding_upcoming(s, "a", NULL, T0 + H, T0 + 200 * H, 10, dues_cb, &d),
                     0);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.d[0].id, "c1");
    assert_true(d.d[0].deadline == T0 + 72 * H);
    assert_string_equal(d.d[1].id, "c3");
    assert_string_equal(d.d[2].id, "h1");
    assert_string_equal(d.d[2].project_id, "web");
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_finding_upcoming(s, "a", NULL, T0 + 73 * H, T0 + 200 * H, 1, dues_cb,
                                            &d), 0);
    assert_int_equal(d.n, 1);                        /* c1 is past: not upcoming */
    assert_string_equal(d.d[0].id, "c3");

    /* closes: c1 late (breached), c3 in time as a false positive, the
     * paused c2 closed (its pause ends), on New York days */
    assert_int_equal(fdo(s, "a", "c1", F_CLOSE, T0 + 80 * H), 0);
    assert_int_equal(fclose_as(s, "a", "c3", SLA_FINDING_FALSE_POSITIVE, T0 + 30 * H + 5), 0);
    assert_int_equal(fdo(s, "a", "c2", F_CLOSE, T0 + 20 * H), 0);
    struct frows u;
    fscan(s, "a", "2025-12-31", "2026-01-10", NULL, &u);
    assert_int_equal(u.n, 3);
    /* 2026-01-01T20:00Z is 15:00 in New York: c2 on 2026-01-01 */
    assert_string_equal(u.r[0].day, "2026-01-01");
    assert_int_equal(u.r[0].status, SLA_FINDING_CLOSED);
    assert_int_equal(u.r[0].met, 1);
    assert_true(u.r[0].sum_ms == 20 * H - H - 10 * H); /* paused from 10 h to 20 h */
    assert_true(u.r[0].min_ms == u.r[0].sum_ms && u.r[0].max_ms == u.r[0].sum_ms);
    assert_string_equal(u.r[1].day, "2026-01-02");
    assert_int_equal(u.r[1].status, SLA_FINDING_FALSE_POSITIVE);
    assert_string_equal(u.r[2].day, "2026-01-04");
    assert_int_equal(u.r[2].breached, 1);
    assert_true(u.r[2].sum_ms == 80 * H);
    assert_int_equal(sql_count(s, "SELECT count(*) FROM finding_counts WHERE severity = "
                                  "'critical'"), 0);     /* none live: the row is gone */
    rebuild_same(s, "a");

    /* a reopen takes the sample back; the final close is what counts */
    assert_int_equal(fdo(s, "a", "c1", F_REOPEN, T0 + 90 * H), 0);
    fscan(s, "a", "2026-01-04", "2026-01-04", NULL, &u);
    assert_int_equal(u.n, 0);
    assert_int_equal(sql_count(s, "SELECT open FROM finding_counts WHERE severity = 'critical'"),
                     1);
    rebuild_same(s, "a");
    assert_int_equal(fdo(s, "a", "c1", F_CLOSE, T0 + 110 * H), 0);
    fscan(s, "a", "2026-01-05", "2026-01-05", NULL, &u);
    assert_int_equal(u.n, 1);
    assert_true(u.r[0].sum_ms == 100 * H);           /* 10 h closed count as paused */

    /* a second sample on a row, then the extreme taken back: recomputed */
    finding_mk(s, "a", "c4", NULL, SLA_SEV_CRITICAL, T0 + 109 * H);
    assert_int_equal(fdo(s, "a", "c4", F_CLOSE, T0 + 110 * H + 1000), 0);
    fscan(s, "a", "2026-01-05", "2026-01-05", NULL, &u);
    assert_int_equal(u.r[0].count, 2);
    assert_true(u.r[0].min_ms == H + 1000 && u.r[0].max_ms == 100 * H);
    assert_int_equal(fdo(s, "a", "c4", F_REOPEN, T0 + 111 * H), 0);
    fscan(s, "a", "2026-01-05", "2026-01-05", NULL, &u);
    assert_true(u.r[0].min_ms == 100 * H && u.r[0].max_ms == 100 * H);
    rebuild_same(s, "a");

    /* a severity change moves the live count between groups */
    assert_int_equal(fsev(s, "a", "h1", SLA_SEV_URGENT, T0 + 2 * H), 0);
    live(s, "a", "web", T0 + 2 * H, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.g[0].sev, SLA_SEV_URGENT);
    assert_int_equal(g.g[0].hours, 24);
    assert_int_equal(g.g[0].overdue, 0);
    live(s, "a", "web", T0 + 25 * H, &g);
    assert_int_equal(g.g[0].overdue, 1);
    rebuild_same(s, NULL);

    /* counters kept across a restart */
    storetest_reopen(t);
    live(t->s, "a", NULL, T0, &g);
    assert_int_equal(g.n, 2);
}

/* ---- alerts' volume and auto-resolutions ------------------------------------------------- */

static void test_alert_counts(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", "Asia/Tokyo");
    struct sw_alert x, y, z;
    /* 2026-01-01T16:00Z is Jan 2 in Tokyo */
    alert_new(&x, "a", "x", NULL, SLA_SEV_HIGH, T0 + 16 * H);
    assert_int_equal(apply(s, NULL, &x), 0);
    alert_new(&y, "a", "y", NULL, SLA_SEV_HIGH, T0 + 17 * H);
    assert_int_equal(apply(s, NULL, &y), 0);
    alert_new(&z, "a", "z", "p", SLA_SEV_LOW, T0 + H);
    assert_int_equal(apply(s, NULL, &z), 0);
    assert_int_equal(sql_count(s, "SELECT created FROM alert_counts WHERE day = '2026-01-02' "
                                  "AND severity = 'high'"), 2);
    assert_int_equal(sql_count(s, "SELECT created FROM alert_counts WHERE day = '2026-01-01' "
                                  "AND severity = 'low' AND project_id = 'p'"), 1);
    /* resolved without an acknowledgement: auto-resolved, on its day */
    act(s, &x, RESOLVE, T0 + 40 * H);
    assert_int_equal(sql_count(s, "SELECT auto_resolved FROM alert_counts WHERE "
                                  "day = '2026-01-03' AND severity = 'high'"), 1);
    /* acknowledged first: not */
    act(s, &y, ACK, T0 + 18 * H);
    act(s, &y, RESOLVE, T0 + 40 * H);
    assert_int_equal(sql_count(s, "SELECT auto_resolved FROM alert_counts WHERE "
                                  "day = '2026-01-03' AND severity = 'high'"), 1);
    rebuild_same(s, "a");
    /* reopened: taken back (the row, now 0/0, goes); resolved again: back */
    act(s, &x, REOPEN, T0 + 41 * H);
    assert_int_equal(sql_count(s, "SELECT count(*) FROM alert_counts WHERE day = '2026-01-03'"),
                     0);
    rebuild_same(s, "a");
    act(s, &x, RESOLVE, T0 + 42 * H);
    assert_int_equal(sql_count(s, "SELECT auto_resolved FROM alert_counts WHERE "
                                  "day = '2026-01-03'"), 1);
    /* a severity change moves the volume */
    struct sw_alert before = z;
    assert_int_equal(sla_alert_set_severity(&z.a, SLA_SEV_CRITICAL, &scopes, T0 + 2 * H), 0);
    assert_int_equal(apply(s, &before, &z), 0);
    assert_int_equal(sql_count(s, "SELECT count(*) FROM alert_counts WHERE severity = 'low'"), 0);
    assert_int_equal(sql_count(s, "SELECT created FROM alert_counts WHERE severity = "
                                  "'critical'"), 1);
    rebuild_same(s, NULL);
}

/* The alert writer's batched creates count the volume too. */
static void test_alert_volume_writer(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "a", NULL);
    tenant_mk(s, "b", "Pacific/Auckland");
    struct sw_alert_new in[300];
    char ids[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(ids[i], sizeof(ids[i]), "w%d", i);
        in[i] = (struct sw_alert_new){.tenant_id = i % 3 ? "a" : "b", .id = ids[i],
                                      .sev = (enum sla_sev)(SLA_SEV_CRITICAL + i % 4),
                                      .created_at = T0 + (int64_t)i * 7 * MIN};
    }
    enum sw_alert_result res[300];
    assert_int_equal(store_alert_create_many(s, in, 300, T0 + 2 * D, "test", res), 0);
    assert_int_equal(sql_count(s, "SELECT sum(created) FROM alert_counts"), 300);
    assert_int_equal(sql_count(s, "SELECT sum(created) FROM alert_counts WHERE tenant_id = 'b'"),
                     100);
    /* the same again: duplicates count nothing */
    assert_int_equal(store_alert_create_many(s, in, 300, T0 + 2 * D, "test", res), 0);
    assert_int_equal(sql_count(s, "SELECT sum(created) FROM alert_counts"), 300);
    struct sw_alert one;
    struct sw_alert_new n1 = {.tenant_id = "a", .id = "single", .sev = SLA_SEV_LOW,
                              .created_at = T0};
    enum sw_alert_result r1;
    assert_int_equal(store_alert_create(s, &n1, T0 + H, "test", &one, &r1), 0);
    assert_int_equal(sql_count(s, "SELECT sum(created) FROM alert_counts"), 301);
    rebuild_same(s, NULL);
}

/* ---- faults ------------------------------------------------------------------------------- */

static void test_faults_close(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    struct db *db = sql_of(s)->db;
    tenant_mk(s, "a", "Europe/Paris");
    finding_mk(s, "a", "f1", NULL, SLA_SEV_MEDIUM, T0);
    finding_mk(s, "a", "f2", NULL, SLA_SEV_MEDIUM, T0 + H);
    assert_int_equal(fdo(s, "a", "f2", F_CLOSE, T0 + 5 * H), 0);
    for (int step = 0; step < 2; step++) {
        /* step 0: a close that adds to f2's row; 1: the reopen taking the
         * minimum back out */
        char *rows0 = snapshot(s);
        int rc = -1;
        for (int64_t k = 1; rc != 0; k++) {
            assert_true(k < 200);
            db_fail_after(db, k, SW_E_STORE);
            rc = step ? fdo(s, "a", "f1", F_REOPEN, T0 + 7 * H)
                      : fdo(s, "a", "f1", F_CLOSE, T0 + 3 * H);
            db_fail_after(db, 0, 0);
            if (rc == 0)
                break;
            char *now = snapshot(s);
            assert_string_equal(rows0, now);
            free(now);
        }
        free(rows0);
        rebuild_same(s, "a");
    }
}

/* ---- two nodes ------------------------------------------------------------------------------ */

#define RACE_N 40

struct racer {
    struct store *s;
    int first;
    int failures;
};

static void *race_main(void *p)
{
    struct racer *r = p;
    for (int i = r->first; i < r->first + RACE_N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "r%d", i);
        if (fdo(r->s, "c", id, i % 5 ? F_CLOSE : F_PAUSE, T0 + H + i * 1000) != 0)
            r->failures++;
    }
    return NULL;
}

static void test_two_nodes_same_group(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    tenant_mk(t->s, "c", NULL);
    for (int i = 0; i < 2 * RACE_N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "r%d", i);
        finding_mk(t->s, "c", id, NULL, SLA_SEV_HIGH, T0);
    }
    struct racer r[2] = {{.s = t->s, .first = 0}, {.s = b, .first = RACE_N}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r[0].failures + r[1].failures, 0);
    struct frows u;
    fscan(t->s, "c", "2026-01-01", "2026-01-01", NULL, &u);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.r[0].count, 2 * RACE_N - 2 * RACE_N / 5);
    struct groups g;
    live(t->s, "c", NULL, T0 + 2 * H, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.g[0].open, 0);
    assert_int_equal(g.g[0].paused, 2 * RACE_N / 5);
    rebuild_same(t->s, NULL);
    store_close(b);
}

/* A group on a business-hours calendar: overdue, due soon and upcoming
 * deadlines in business time (Monday to Friday 09:00-17:00 UTC, critical
 * 16 business hours), not wall time. */
static void test_calendar_numbers(void **state)
{
    struct storetest *t = *state;
    struct store *s = t->s;
    tenant_mk(s, "b", "UTC");
    struct sw_calendar c;
    memset(&c, 0, sizeof(c));
    snprintf(c.tenant_id, sizeof(c.tenant_id), "b");
    snprintf(c.id, sizeof(c.id), "office");
    snprintf(c.name, sizeof(c.name), "Office");
    snprintf(c.timezone, sizeof(c.timezone), "UTC");
    for (int d = 0; d < 5; d++) {
        c.iv[d][0] = (struct sla_cal_interval){9 * 3600, 17 * 3600};
        c.niv[d] = 1;
    }
    struct sla_cal_error err = {0};
    bool created;
    int64_t n;
    assert_int_equal(store_calendar_put(s, &c, T0, "admin", &created, &n, &err), 0);
    struct sw_finding_policy p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "b");
    p.hours_set[SLA_SEV_CRITICAL] = true;
    p.hours[SLA_SEV_CRITICAL] = 16;
    snprintf(p.calendars[SLA_SEV_CRITICAL], sizeof(p.calendars[0]), "office");
    assert_int_equal(store_finding_policy_put(s, &p, T0, "admin", &n), 0);
    /* T0 is Thursday 2026-01-01.  k1 from Thursday 09:00 uses its 16 hours
     * up at Friday's close: due at Monday's opening; k2 from Thursday
     * 13:00: Monday 13:00.  Around the clock they were due on Friday. */
    finding_mk(s, "b", "k1", NULL, SLA_SEV_CRITICAL, T0 + 9 * H);
    finding_mk(s, "b", "k2", NULL, SLA_SEV_CRITICAL, T0 + 13 * H);
    const int64_t mon = T0 + 4 * D;
    struct groups g;
    live(s, "b", NULL, T0 + 60 * H, &g);                /* Saturday noon */
    assert_int_equal(g.n, 1);
    assert_string_equal(g.g[0].calendar, "office");
    assert_int_equal(g.g[0].overdue, 0);
    assert_int_equal(g.g[0].due_soon, 2);
    live(s, "b", NULL, mon + 9 * H, &g);                /* k1's deadline itself */
    assert_int_equal(g.g[0].overdue, 0);
    assert_int_equal(g.g[0].due_soon, 2);
    live(s, "b", NULL, mon + 9 * H + 1, &g);
    assert_int_equal(g.g[0].overdue, 1);
    assert_int_equal(g.g[0].due_soon, 1);
    live(s, "b", NULL, mon + 14 * H, &g);
    assert_int_equal(g.g[0].overdue, 2);
    assert_int_equal(g.g[0].due_soon, 0);
    struct dues d = {0};
    assert_int_equal(store_finding_upcoming(s, "b", NULL, T0 + 60 * H, mon + 12 * H, 10,
                                            dues_cb, &d), 0);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.d[0].id, "k1");
    assert_int_equal(d.d[0].deadline, mon + 9 * H);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_finding_upcoming(s, "b", NULL, mon + 9 * H, mon + 13 * H, 10,
                                            dues_cb, &d), 0);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.d[1].id, "k2");
    assert_int_equal(d.d[1].deadline, mon + 13 * H);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_finding_upcoming(s, "b", NULL, mon + 9 * H + 1, mon + 13 * H - 1, 10,
                                            dues_cb, &d), 0);
    assert_int_equal(d.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findings_numbers),
        cmocka_unit_test(test_alert_counts),
        cmocka_unit_test(test_alert_volume_writer),
        cmocka_unit_test(test_faults_close),
        cmocka_unit_test(test_two_nodes_same_group),
        cmocka_unit_test(test_calendar_numbers),
    };
    return storetest_run("store_findings_numbers", tests, sizeof(tests) / sizeof(tests[0]));
}
