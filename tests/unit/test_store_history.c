/* Policy history (src/store/history.c) on SQLite and PostgreSQL: each
 * writer of a scope (finding policies at three levels, the alert
 * definition and its configs, escalation chains) appends a version with
 * the change, before = the previous version's after; a save that changes
 * nothing appends none; the finding levels as they stood at an instant;
 * scopes set before migration 0051 get a baseline; two nodes saving one
 * scope at once leave a gapless, consistent history. */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_alerts.h"
#include "store/store_int.h"
#include "store/store_proof.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)
#define H INT64_C(3600000)

#include "store/store_escalation.h"
/* store_findings.h names SW_TITLE_MAX too (with its own value) */
#undef SW_TITLE_MAX
#include "store/store_findings.h"

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static void project(struct store *s, const char *tenant_id, const char *id)
{
    struct sw_project p = {.created_at = T0};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant_id);
    snprintf(p.id, sizeof(p.id), "%s", id);
    snprintf(p.name, sizeof(p.name), "P %s", id);
    assert_int_equal(store_project_create(s, &p, NULL), 0);
}

struct vlist {
    int n;
    struct {
        int64_t version, at;
        char action[16], by[320], scope[160];
        char *before, *after;
    } v[32];
};

static int v_cb(const struct sw_policy_version *v, void *ud)
{
    struct vlist *l = ud;
    if (l->n < 32) {
        l->v[l->n].version = v->version;
        l->v[l->n].at = v->changed_at;
        snprintf(l->v[l->n].action, sizeof(l->v[0].action), "%s", v->action);
        snprintf(l->v[l->n].by, sizeof(l->v[0].by), "%s", v->changed_by);
        snprintf(l->v[l->n].scope, sizeof(l->v[0].scope), "%s", v->scope);
        l->v[l->n].before = v->before ? strdup(v->before) : NULL;
        l->v[l->n].after = v->after ? strdup(v->after) : NULL;
        l->n++;
    }
    return 0;
}

static void vfree(struct vlist *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].before);
        free(l->v[i].after);
    }
    l->n = 0;
}

static void history(struct store *s, const char *kind, const char *tenant, const char *scope,
                    struct vlist *l)
{
    vfree(l);
    assert_int_equal(store_history_list(s, kind, tenant, scope, 0, 32, v_cb, l), 0);
}

/* ---- finding policies ------------------------------------------------------------ */

static int put_hours(struct store *s, const char *tenant, const char *proj, int sev, int hours,
                     int64_t at)
{
    struct sw_finding_policy p;
    memset(&p, 0, sizeof(p));
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant);
    snprintf(p.project_id, sizeof(p.project_id), "%s", proj);
    p.hours_set[sev] = true;
    p.hours[sev] = hours;
    int64_t n;
    return store_finding_policy_put(s, &p, at, "user:alice", &n);
}

static int64_t hours_in(const char *json, const char *key)
{
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    int64_t v = json_integer_value(json_object_get(o, key));
    json_decref(o);
    return v;
}

static void test_finding_policy_versions(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    project(t->s, "acme", "web");
    struct vlist l = {0};
    assert_int_equal(put_hours(t->s, "acme", "", SLA_SEV_HIGH, 100, T0), 0);
    assert_int_equal(put_hours(t->s, "acme", "", SLA_SEV_HIGH, 80, T0 + H), 0);
    assert_int_equal(put_hours(t->s, "acme", "", SLA_SEV_HIGH, 80, T0 + 2 * H), 0);  /* same */
    history(t->s, SW_HISTORY_FINDING_POLICY, "acme", "", &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].version, 2);            /* newest first */
    assert_int_equal(l.v[0].at, T0 + H);
    assert_string_equal(l.v[0].by, "user:alice");
    assert_string_equal(l.v[0].action, "update");
    assert_int_equal(hours_in(l.v[0].before, "high_hours"), 100);
    assert_int_equal(hours_in(l.v[0].after, "high_hours"), 80);
    assert_null(l.v[1].before);                     /* nothing set before v1 */
    /* delete: after null */
    int64_t n;
    assert_int_equal(store_finding_policy_delete(t->s, "acme", "", T0 + 3 * H, "user:bob", &n), 0);
    history(t->s, SW_HISTORY_FINDING_POLICY, "acme", "", &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].action, "delete");
    assert_null(l.v[0].after);
    assert_int_equal(hours_in(l.v[0].before, "high_hours"), 80);
    /* global and project levels are scopes of their own */
    assert_int_equal(put_hours(t->s, "", "", SLA_SEV_LOW, 999, T0), 0);
    assert_int_equal(put_hours(t->s, "acme", "web", SLA_SEV_URGENT, 5, T0), 0);
    history(t->s, SW_HISTORY_FINDING_POLICY, "", "", &l);
    assert_int_equal(l.n, 1);
    history(t->s, SW_HISTORY_FINDING_POLICY, "acme", "web", &l);
    assert_int_equal(l.n, 1);
    /* paging */
    vfree(&l);
    assert_int_equal(store_history_list(t->s, SW_HISTORY_FINDING_POLICY, "acme", "", 3, 1, v_cb,
                                        &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].version, 2);
    vfree(&l);
    /* a failed write (unknown project) records nothing */
    assert_int_equal(put_hours(t->s, "acme", "ghost", SLA_SEV_HIGH, 1, T0), SW_E_NOTFOUND);
    history(t->s, SW_HISTORY_FINDING_POLICY, "acme", "ghost", &l);
    assert_int_equal(l.n, 0);
}

static void test_chain_at(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    project(t->s, "acme", "web");
    assert_int_equal(put_hours(t->s, "", "", SLA_SEV_HIGH, 500, T0), 0);
    assert_int_equal(put_hours(t->s, "acme", "", SLA_SEV_HIGH, 100, T0 + 10 * H), 0);
    assert_int_equal(put_hours(t->s, "acme", "web", SLA_SEV_HIGH, 50, T0 + 20 * H), 0);
    int64_t n;
    assert_int_equal(store_finding_policy_delete(t->s, "acme", "", T0 + 30 * H, "x", &n), 0);
    struct sw_policy_chain ch;
    int64_t ver[3];
    /* before anything: no level */
    assert_int_equal(store_finding_chain_at(t->s, "acme", "web", T0 - 1, &ch, ver), 0);
    assert_false(ch.has[SW_POL_PROJECT] || ch.has[SW_POL_COMPANY] || ch.has[SW_POL_GLOBAL]);
    assert_int_equal(ver[SW_POL_GLOBAL], 0);
    assert_int_equal(store_finding_chain_at(t->s, "acme", "web", T0 + 15 * H, &ch, ver), 0);
    assert_true(ch.has[SW_POL_GLOBAL] && ch.has[SW_POL_COMPANY]);
    assert_false(ch.has[SW_POL_PROJECT]);
    assert_int_equal(ch.level[SW_POL_COMPANY].hours[SLA_SEV_HIGH], 100);
    assert_int_equal(ch.level[SW_POL_GLOBAL].hours[SLA_SEV_HIGH], 500);
    assert_int_equal(ver[SW_POL_COMPANY], 1);
    assert_int_equal(store_finding_chain_at(t->s, "acme", "web", T0 + 25 * H, &ch, ver), 0);
    assert_int_equal(ch.level[SW_POL_PROJECT].hours[SLA_SEV_HIGH], 50);
    assert_true(ch.has[SW_POL_COMPANY]);
    assert_int_equal(store_finding_chain_at(t->s, "acme", "web", T0 + 31 * H, &ch, ver), 0);
    assert_false(ch.has[SW_POL_COMPANY]);            /* deleted by then */
    assert_int_equal(ver[SW_POL_COMPANY], 2);
    assert_int_equal(store_finding_chain_at(t->s, "ghost", "", T0, &ch, ver), SW_E_NOTFOUND);
}

/* ---- alert definition, configs, escalation chains ------------------------------- */

static void test_definition_and_chains(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    project(t->s, "acme", "web");
    struct vlist l = {0};
    struct sla_definition d;
    memset(&d, 0, sizeof(d));
    d.high_mtta_minutes = 45;
    int64_t n;
    assert_int_equal(store_alert_definition_merge(t->s, "acme", NULL, &d, T0, "user:m", &n), 0);
    d.high_mtta_minutes = 0;
    d.low_mttr_hours = 100;
    assert_int_equal(store_alert_definition_merge(t->s, "acme", "web", &d, T0 + H, "user:m", &n),
                     0);
    history(t->s, SW_HISTORY_DEFINITION, "acme", "", &l);
    assert_int_equal(l.n, 1);
    assert_non_null(strstr(l.v[0].after, "\"ack_min\":45"));
    assert_non_null(strstr(l.v[0].after, "\"template\":null"));
    history(t->s, SW_HISTORY_DEFINITION, "acme", "web", &l);
    assert_int_equal(l.n, 1);
    assert_non_null(strstr(l.v[0].after, "\"resolve_min\":6000"));
    /* an active config replaces template and layer: a version "config" */
    struct sw_sla_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.tenant_id, sizeof(cfg.tenant_id), "acme");
    snprintf(cfg.name, sizeof(cfg.name), "gold");
    snprintf(cfg.template_name, sizeof(cfg.template_name), "premium");
    cfg.active = true;
    assert_int_equal(store_config_create(t->s, &cfg, T0 + 2 * H, "user:m", &n), 0);
    history(t->s, SW_HISTORY_DEFINITION, "acme", "", &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].action, "config");
    assert_non_null(strstr(l.v[0].after, "\"template\":\"premium\""));
    assert_string_equal(l.v[0].before, l.v[1].after);
    /* escalation chains, per severity */
    struct sw_esc_chain c;
    memset(&c, 0, sizeof(c));
    snprintf(c.tenant_id, sizeof(c.tenant_id), "acme");
    c.sev = SLA_SEV_HIGH;
    c.n = 1;
    snprintf(c.step[0].role, sizeof(c.step[0].role), "soc");
    c.step[0].timeout_min = 10;
    assert_int_equal(store_esc_chain_put(t->s, &c, T0, "user:m"), 0);
    c.step[0].timeout_min = 20;
    assert_int_equal(store_esc_chain_put(t->s, &c, T0 + H, "user:m"), 0);
    c.sev = SLA_SEV_LOW;
    assert_int_equal(store_esc_chain_put(t->s, &c, T0 + 2 * H, "user:m"), 0);
    history(t->s, SW_HISTORY_ESCALATION, "acme", "high", &l);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.v[0].before, "\"timeout_minutes\":10"));
    assert_non_null(strstr(l.v[0].after, "\"timeout_minutes\":20"));
    history(t->s, SW_HISTORY_ESCALATION, "acme", NULL, &l);     /* every severity */
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].scope, "low");
    vfree(&l);
}

/* ---- scopes set before the history --------------------------------------------- */

static void test_baseline(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    struct db_conn *c = db_acquire(sql_of(t->s)->db);
    /* a database as it was before 0051: policies, no history */
    static const char back[] =
        "DROP TABLE policy_versions; DELETE FROM schema_version WHERE version = 51;"
        "INSERT INTO finding_policies (tenant_id, project_id, high_hours, updated_at, updated_by) "
        "VALUES ('acme', '', 42, 1000, 'user:old');"
        "INSERT INTO escalation_chains (tenant_id, severity, updated_at, updated_by) "
        "VALUES ('acme', 'critical', 2000, 'user:old');"
        "INSERT INTO escalation_steps (tenant_id, severity, idx, level, role, timeout_min, method) "
        "VALUES ('acme', 'critical', 0, 'L1', 'soc', 15, 'email');"
        "UPDATE tenants SET template = 'standard' WHERE id = 'acme'";
    assert_int_equal(db_exec_script(c, back), 0);
    db_release(c);
    storetest_reopen(t);
    struct vlist l = {0};
    history(t->s, SW_HISTORY_FINDING_POLICY, "acme", "", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].action, "baseline");
    assert_int_equal(l.v[0].at, 1000);
    assert_string_equal(l.v[0].by, "user:old");
    assert_int_equal(hours_in(l.v[0].after, "high_hours"), 42);
    history(t->s, SW_HISTORY_ESCALATION, "acme", "critical", &l);
    assert_int_equal(l.n, 1);
    history(t->s, SW_HISTORY_DEFINITION, "acme", "", &l);
    assert_int_equal(l.n, 1);
    assert_non_null(strstr(l.v[0].after, "\"template\":\"standard\""));
    /* the next change follows the baseline */
    assert_int_equal(put_hours(t->s, "acme", "", SLA_SEV_HIGH, 43, T0), 0);
    history(t->s, SW_HISTORY_FINDING_POLICY, "acme", "", &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(hours_in(l.v[0].before, "high_hours"), 42);
    vfree(&l);
}

/* ---- two nodes ----------------------------------------------------------------------- */

struct node_arg {
    struct store *s;
    int base;
    int rc;
};

static void *node_run(void *p)
{
    struct node_arg *a = p;
    for (int i = 0; i < 25 && a->rc == 0; i++)
        a->rc = put_hours(a->s, i % 2 ? "acme" : "", "", SLA_SEV_HIGH, a->base + i,
                          T0 + i * H);
    return NULL;
}

static void test_two_nodes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    tenant(t->s, "acme");
    struct store *b = NULL;
    char err[256];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    struct node_arg args[2] = {{t->s, 100, 0}, {b, 200, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, node_run, &args[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].rc, 0);
    }
    /* each scope: versions 1..n without a gap, each before = the previous after */
    const char *tenants[] = {"acme", ""};
    for (int k = 0; k < 2; k++) {
        struct vlist l = {0};
        history(b, SW_HISTORY_FINDING_POLICY, tenants[k], "", &l);
        assert_true(l.n >= 20 && l.n <= 26);
        for (int i = 0; i < l.n; i++) {
            assert_int_equal(l.v[i].version, l.n - i);
            if (i + 1 < l.n)
                assert_string_equal(l.v[i].before, l.v[i + 1].after);
        }
        vfree(&l);
    }
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finding_policy_versions),
        cmocka_unit_test(test_chain_at),
        cmocka_unit_test(test_definition_and_chains),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_two_nodes),
    };
    return storetest_run("store_history", tests, sizeof(tests) / sizeof(tests[0]));
}
