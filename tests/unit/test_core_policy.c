/* core policy: names, the waterfall for alerts and findings, templates and
 * the SOC seed's SLA definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/sla.h"
#include "util/err.h"

/* ---- names ---- */

static void test_severity_names(void **state)
{
    enum sla_sev s = SLA_SEV_LOW;

    (void)state;
    assert_int_equal(sla_sev_parse(SLA_FINDING, "urgent", &s), 0);
    assert_int_equal(s, SLA_SEV_URGENT);
    s = SLA_SEV_LOW;
    /* urgent is for findings only */
    assert_int_equal(sla_sev_parse(SLA_ALERT, "urgent", &s), SW_E_INVAL);
    assert_int_equal(s, SLA_SEV_LOW);
    assert_int_equal(sla_sev_parse(SLA_ALERT, "critical", &s), 0);
    assert_int_equal(s, SLA_SEV_CRITICAL);
    assert_int_equal(sla_sev_parse(SLA_ALERT, "medium", &s), 0);
    assert_int_equal(s, SLA_SEV_MEDIUM);
    assert_int_equal(sla_sev_parse(SLA_ALERT, "Critical", &s), SW_E_INVAL);
    assert_int_equal(sla_sev_parse(SLA_ALERT, "info", &s), SW_E_INVAL);
    assert_int_equal(sla_sev_parse(SLA_ALERT, NULL, &s), SW_E_INVAL);
    for (int i = 0; i < SLA_SEV_COUNT; i++) {
        assert_int_equal(sla_sev_parse(SLA_FINDING, sla_sev_name((enum sla_sev)i), &s), 0);
        assert_int_equal(s, i);
    }
    assert_null(sla_sev_name(SLA_SEV_COUNT));
    assert_false(sla_sev_valid(SLA_ALERT, SLA_SEV_URGENT));
    assert_true(sla_sev_valid(SLA_ALERT, SLA_SEV_LOW));
    assert_true(sla_sev_valid(SLA_FINDING, SLA_SEV_URGENT));
}

static void test_kind_and_source_names(void **state)
{
    enum sla_kind k;

    (void)state;
    assert_int_equal(sla_kind_parse("finding", &k), 0);
    assert_int_equal(k, SLA_FINDING);
    assert_string_equal(sla_kind_name(SLA_ALERT), "alert");
    assert_string_equal(sla_src_name(SLA_ALERT, SLA_SRC_TENANT), "tenant");
    assert_string_equal(sla_src_name(SLA_ALERT, SLA_SRC_TEMPLATE), "template");
    assert_string_equal(sla_src_name(SLA_FINDING, SLA_SRC_TENANT), "company");
    assert_null(sla_src_name(SLA_FINDING, SLA_SRC_TEMPLATE));
    assert_string_equal(sla_src_name(SLA_FINDING, SLA_SRC_PROJECT), "project");
    assert_string_equal(sla_src_name(SLA_FINDING, SLA_SRC_GLOBAL), "global");
    assert_string_equal(sla_src_name(SLA_FINDING, SLA_SRC_BUILTIN), "builtin");
}

/* ---- the waterfall rule ---- */

static void test_waterfall_first_positive_wins(void **state)
{
    struct sla_explain e;
    int64_t lv[SLA_SRC_COUNT] = { 0, -5, 30, 60, 90 };

    (void)state;
    sla_waterfall(SLA_ALERT, lv, &e);
    assert_int_equal(e.source, SLA_SRC_TEMPLATE);   /* 0 and negative inherit */
    assert_int_equal(e.value, 30);
    assert_int_equal(e.level[SLA_SRC_TENANT], 0);   /* negative shown as unset */
    assert_int_equal(e.level[SLA_SRC_GLOBAL], 60);
    assert_false(e.safety_net);

    /* findings never consult a template */
    sla_waterfall(SLA_FINDING, lv, &e);
    assert_int_equal(e.source, SLA_SRC_GLOBAL);
    assert_int_equal(e.value, 60);
    assert_int_equal(e.level[SLA_SRC_TEMPLATE], 0);
}

static void test_waterfall_safety_net(void **state)
{
    struct sla_explain e;
    int64_t none[SLA_SRC_COUNT] = { 0, 0, 0, 0, 0 };

    (void)state;
    sla_waterfall(SLA_FINDING, none, &e);
    assert_true(e.safety_net);
    assert_int_equal(e.value, SLA_FINDING_SAFETY_NET_HOURS);
    assert_int_equal(e.value, 168);
    assert_int_equal(e.source, SLA_SRC_BUILTIN);
    /* an alert field nobody sets (a penalty) is 0, not a safety net */
    sla_waterfall(SLA_ALERT, none, &e);
    assert_false(e.safety_net);
    assert_int_equal(e.value, 0);
    assert_int_equal(e.source, SLA_SRC_BUILTIN);
}

/* ---- findings ---- */

static void test_finding_builtin(void **state)
{
    static const int32_t expect[SLA_SEV_COUNT] = { 24, 72, 168, 720, 2160 };
    struct sla_finding_target t;

    (void)state;
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        assert_int_equal(sla_finding_policy_resolve(NULL, (enum sla_sev)s, &t), 0);
        assert_int_equal(t.hours, expect[s]);
        assert_int_equal(t.src, SLA_SRC_BUILTIN);
        assert_false(t.safety_net);
    }
    assert_int_equal(sla_finding_policy_resolve(NULL, SLA_SEV_COUNT, &t), SW_E_INVAL);
}

static void test_finding_zero_means_inherit(void **state)
{
    struct sla_finding_layer project = { .hours = { 0 } };
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 0, [SLA_SEV_HIGH] = 100 } };
    struct sla_finding_layer global = { .hours = { [SLA_SEV_CRITICAL] = 48 } };
    struct sla_finding_scopes s = { &project, &company, &global };
    struct sla_finding_target t;

    (void)state;
    /* zero at project and company: global answers */
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_CRITICAL, &t), 0);
    assert_int_equal(t.hours, 48);
    assert_int_equal(t.src, SLA_SRC_GLOBAL);
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_HIGH, &t), 0);
    assert_int_equal(t.hours, 100);
    assert_int_equal(t.src, SLA_SRC_TENANT);
    assert_string_equal(sla_src_name(SLA_FINDING, t.src), "company");
}

static void test_finding_partial_overrides(void **state)
{
    /* the seed's example: a project tightens only critical */
    struct sla_finding_layer project = { .hours = { [SLA_SEV_CRITICAL] = 24 } };
    struct sla_finding_layer company = { .hours = { [SLA_SEV_CRITICAL] = 48, [SLA_SEV_HIGH] = 96 } };
    struct sla_finding_layer global = { .hours = { [SLA_SEV_MEDIUM] = 500 } };
    struct sla_finding_scopes s = { &project, &company, &global };
    struct sla_finding_target t;
    struct sla_explain e;

    (void)state;
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_CRITICAL, &t), 0);
    assert_int_equal(t.hours, 24);
    assert_int_equal(t.src, SLA_SRC_PROJECT);
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_HIGH, &t), 0);
    assert_int_equal(t.hours, 96);
    assert_int_equal(t.src, SLA_SRC_TENANT);
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_MEDIUM, &t), 0);
    assert_int_equal(t.hours, 500);
    assert_int_equal(t.src, SLA_SRC_GLOBAL);
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_LOW, &t), 0);
    assert_int_equal(t.hours, 2160);
    assert_int_equal(t.src, SLA_SRC_BUILTIN);

    /* deleting the project override hands critical back to the company */
    s.project = NULL;
    assert_int_equal(sla_finding_policy_resolve(&s, SLA_SEV_CRITICAL, &t), 0);
    assert_int_equal(t.hours, 48);

    /* explain shows every level */
    s.project = &project;
    assert_int_equal(sla_finding_policy_explain(&s, SLA_SEV_CRITICAL, &e), 0);
    assert_int_equal(e.level[SLA_SRC_PROJECT], 24);
    assert_int_equal(e.level[SLA_SRC_TENANT], 48);
    assert_int_equal(e.level[SLA_SRC_GLOBAL], 0);
    assert_int_equal(e.level[SLA_SRC_BUILTIN], 72);
    assert_int_equal(e.source, SLA_SRC_PROJECT);
    assert_int_equal(e.value, 24);
}

static void test_finding_layer_validate(void **state)
{
    struct sla_finding_layer l = { .hours = { [SLA_SEV_HIGH] = SLA_TARGET_MAX_HOURS } };
    enum sla_sev bad = SLA_SEV_URGENT;

    (void)state;
    assert_int_equal(sla_finding_layer_validate(&l, &bad), 0);
    l.hours[SLA_SEV_LOW] = -1;
    assert_int_equal(sla_finding_layer_validate(&l, &bad), SW_E_INVAL);
    assert_int_equal(bad, SLA_SEV_LOW);
    l.hours[SLA_SEV_LOW] = 0;
    l.hours[SLA_SEV_HIGH] = SLA_TARGET_MAX_HOURS + 1;
    assert_int_equal(sla_finding_layer_validate(&l, &bad), SW_E_INVAL);
    assert_int_equal(bad, SLA_SEV_HIGH);
}

/* ---- alerts ---- */

static void test_alert_builtin_is_soc_default(void **state)
{
    struct sla_alert_targets t;

    (void)state;
    assert_int_equal(sla_alert_policy_resolve(NULL, SLA_SEV_CRITICAL, &t), 0);
    assert_int_equal(t.ack_min, 15);
    assert_int_equal(t.resolve_min, 4 * 60);
    assert_int_equal(t.warn_pct, 80);
    assert_int_equal(t.penalty_cph, 0);
    assert_int_equal(t.ack_src, SLA_SRC_BUILTIN);
    assert_int_equal(sla_alert_policy_resolve(NULL, SLA_SEV_HIGH, &t), 0);
    assert_int_equal(t.ack_min, 30);
    assert_int_equal(t.resolve_min, 8 * 60);
    assert_int_equal(sla_alert_policy_resolve(NULL, SLA_SEV_MEDIUM, &t), 0);
    assert_int_equal(t.ack_min, 4 * 60);
    assert_int_equal(t.resolve_min, 24 * 60);
    assert_int_equal(sla_alert_policy_resolve(NULL, SLA_SEV_LOW, &t), 0);
    assert_int_equal(t.ack_min, 8 * 60);
    assert_int_equal(t.resolve_min, 72 * 60);
    assert_int_equal(sla_alert_policy_resolve(NULL, SLA_SEV_URGENT, &t), SW_E_INVAL);
}

static void test_alert_waterfall_levels(void **state)
{
    struct sla_alert_layer project, tenant, tmpl, global;
    const struct sla_template *premium;
    struct sla_alert_scopes s = { &project, &tenant, &tmpl, &global };
    struct sla_alert_targets t;
    struct sla_explain e;

    (void)state;
    sla_alert_layer_clear(&project);
    sla_alert_layer_clear(&tenant);
    sla_alert_layer_clear(&global);
    assert_int_equal(sla_template_find("premium", &premium), 0);
    sla_template_layer(premium, &tmpl);

    project.ack_min[SLA_SEV_CRITICAL] = 5;          /* project: critical ack only */
    tenant.resolve_min[SLA_SEV_CRITICAL] = 120;     /* tenant: critical resolve */
    tenant.ack_min[SLA_SEV_CRITICAL] = 0;           /* explicit zero: inherit */
    global.warn_pct[SLA_SEV_CRITICAL] = 90;
    global.ack_min[SLA_SEV_LOW] = 1;                /* hidden by the template */

    assert_int_equal(sla_alert_policy_resolve(&s, SLA_SEV_CRITICAL, &t), 0);
    assert_int_equal(t.ack_min, 5);
    assert_int_equal(t.ack_src, SLA_SRC_PROJECT);
    assert_int_equal(t.resolve_min, 120);
    assert_int_equal(t.resolve_src, SLA_SRC_TENANT);
    assert_int_equal(t.warn_pct, 90);               /* template leaves it unset */
    assert_int_equal(t.warn_src, SLA_SRC_GLOBAL);
    assert_int_equal(t.penalty_cph, 10000);         /* premium: $100/h */
    assert_int_equal(t.penalty_src, SLA_SRC_TEMPLATE);

    assert_int_equal(sla_alert_policy_resolve(&s, SLA_SEV_LOW, &t), 0);
    assert_int_equal(t.ack_min, 8 * 60);
    assert_int_equal(t.ack_src, SLA_SRC_TEMPLATE);

    /* a tenant with no template falls through to global, then built-in */
    s.tmpl = NULL;
    assert_int_equal(sla_alert_policy_resolve(&s, SLA_SEV_LOW, &t), 0);
    assert_int_equal(t.ack_min, 1);
    assert_int_equal(t.ack_src, SLA_SRC_GLOBAL);
    assert_int_equal(t.penalty_cph, 0);
    assert_int_equal(t.penalty_src, SLA_SRC_BUILTIN);

    assert_int_equal(sla_alert_policy_explain(&s, SLA_SEV_CRITICAL, SLA_AF_RESOLVE_MIN, &e), 0);
    assert_int_equal(e.level[SLA_SRC_PROJECT], 0);
    assert_int_equal(e.level[SLA_SRC_TENANT], 120);
    assert_int_equal(e.level[SLA_SRC_TEMPLATE], 0);
    assert_int_equal(e.level[SLA_SRC_BUILTIN], 240);
    assert_int_equal(e.source, SLA_SRC_TENANT);
    assert_int_equal(sla_alert_policy_explain(&s, SLA_SEV_CRITICAL, SLA_AF_COUNT, &e), SW_E_INVAL);
}

static void test_alert_layer_validate(void **state)
{
    struct sla_alert_layer l;
    const char *bad = NULL;

    (void)state;
    sla_alert_layer_clear(&l);
    l.warn_pct[SLA_SEV_HIGH] = 100;
    assert_int_equal(sla_alert_layer_validate(&l, &bad), 0);
    l.warn_pct[SLA_SEV_HIGH] = 101;
    assert_int_equal(sla_alert_layer_validate(&l, &bad), SW_E_INVAL);
    assert_string_equal(bad, "warn_pct");
    l.warn_pct[SLA_SEV_HIGH] = 0;
    l.penalty_cph[SLA_SEV_LOW] = -1;
    assert_int_equal(sla_alert_layer_validate(&l, &bad), SW_E_INVAL);
    assert_string_equal(bad, "penalty_cph");
}

/* ---- templates ---- */

static void test_templates_critical_from_seed(void **state)
{
    static const struct { const char *name; int ack, res_h; int64_t cents; } seed[] = {
        { "standard", 30, 8, 5000 },
        { "premium", 15, 4, 10000 },
        { "enterprise", 5, 1, 25000 },
        { "government", 10, 2, 20000 },
    };
    const struct sla_template *t;

    (void)state;
    assert_int_equal(sla_template_count(), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sla_template_find(seed[i].name, &t), 0);
        assert_string_equal(t->name, seed[i].name);
        assert_int_equal(t->ack_min[SLA_SEV_CRITICAL], seed[i].ack);
        assert_int_equal(t->resolve_min[SLA_SEV_CRITICAL], seed[i].res_h * 60);
        assert_int_equal(t->penalty_cph[SLA_SEV_CRITICAL], seed[i].cents);
        assert_ptr_equal(sla_template_at(i), t);
    }
    assert_null(sla_template_at(4));
    assert_int_equal(sla_template_find("platinum", &t), SW_E_NOTFOUND);
}

static void test_templates_scale_and_flags(void **state)
{
    const struct sla_template *t;
    struct sla_alert_layer l;
    struct sla_definition d;

    (void)state;
    for (size_t i = 0; (t = sla_template_at(i)); i++) {
        /* slower severities never get tighter targets or higher rates */
        for (int s = SLA_SEV_HIGH; s < SLA_SEV_COUNT; s++) {
            assert_true(t->ack_min[s] > t->ack_min[s - 1]);
            assert_true(t->resolve_min[s] > t->resolve_min[s - 1]);
            assert_true(t->penalty_cph[s] < t->penalty_cph[s - 1]);
            assert_true(t->ack_min[s] < t->resolve_min[s]);
        }
        assert_int_equal(t->ack_min[SLA_SEV_URGENT], 0);
        /* every template shows as a valid SLA definition */
        sla_template_layer(t, &l);
        assert_int_equal(l.warn_pct[SLA_SEV_CRITICAL], 0);
        l.warn_pct[SLA_SEV_CRITICAL] = 80;
        assert_int_equal(sla_definition_from_layer(&l, &d), 0);
        assert_int_equal(d.critical_mtta_minutes, t->ack_min[SLA_SEV_CRITICAL]);
        assert_int_equal(d.low_mttr_hours * 60, t->resolve_min[SLA_SEV_LOW]);
    }
    /* premium equals the built-in defaults */
    assert_int_equal(sla_template_find("premium", &t), 0);
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++) {
        assert_int_equal(t->ack_min[s], sla_alert_builtin()->ack_min[s]);
        assert_int_equal(t->resolve_min[s], sla_alert_builtin()->resolve_min[s]);
    }
    assert_int_equal(sla_template_find("government", &t), 0);
    assert_int_equal(t->flags, SLA_TPL_FEDRAMP | SLA_TPL_DATA_SOVEREIGNTY | SLA_TPL_AUDIT_LOGGING);
    assert_int_equal(sla_template_find("enterprise", &t), 0);
    assert_int_equal(t->flags, 0);
}

/* ---- SLA definition ---- */

static void test_definition_default_matches_builtin(void **state)
{
    struct sla_definition d;
    struct sla_alert_layer l;

    (void)state;
    sla_definition_default(&d);
    assert_int_equal(sla_definition_validate(&d, NULL), 0);
    sla_definition_to_layer(&d, &l);
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++) {
        assert_int_equal(l.ack_min[s], sla_alert_builtin()->ack_min[s]);
        assert_int_equal(l.resolve_min[s], sla_alert_builtin()->resolve_min[s]);
        assert_int_equal(l.warn_pct[s], 80);
    }
}

static void test_definition_ranges(void **state)
{
    static const struct { const char *name; int32_t min, max; } seed[] = {
        { "critical_mtta_minutes", 1, 120 }, { "critical_mttr_hours", 1, 48 },
        { "high_mtta_minutes", 1, 240 },     { "high_mttr_hours", 1, 72 },
        { "medium_mtta_hours", 1, 24 },      { "medium_mttr_hours", 1, 168 },
        { "low_mtta_hours", 1, 72 },         { "low_mttr_hours", 1, 720 },
        { "notification_threshold_pct", 50, 99 },
    };

    (void)state;
    assert_int_equal(SLA_DEFINITION_NFIELDS, 9);
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        const struct sla_field_range *f = &sla_definition_fields[i];
        struct sla_definition d;
        const char *bad = NULL;

        assert_string_equal(f->name, seed[i].name);
        assert_int_equal(f->min, seed[i].min);
        assert_int_equal(f->max, seed[i].max);
        sla_definition_default(&d);
        sla_definition_set(&d, f, f->min);
        assert_int_equal(sla_definition_validate(&d, &bad), 0);
        sla_definition_set(&d, f, f->max);
        assert_int_equal(sla_definition_validate(&d, &bad), 0);
        assert_int_equal(sla_definition_get(&d, f), f->max);
        sla_definition_set(&d, f, f->max + 1);
        assert_int_equal(sla_definition_validate(&d, &bad), SW_E_INVAL);
        assert_string_equal(bad, f->name);
        sla_definition_set(&d, f, f->min - 1);
        bad = NULL;
        assert_int_equal(sla_definition_validate(&d, &bad), SW_E_INVAL);
        assert_string_equal(bad, f->name);
    }
}

static void test_definition_first_bad_field(void **state)
{
    struct sla_definition d;
    const char *bad = NULL;

    (void)state;
    sla_definition_default(&d);
    d.low_mttr_hours = 0;
    d.high_mttr_hours = 73;
    assert_int_equal(sla_definition_validate(&d, &bad), SW_E_INVAL);
    assert_string_equal(bad, "high_mttr_hours");
}

static void test_definition_layer_round_trip(void **state)
{
    struct sla_definition d, back;
    struct sla_alert_layer l;

    (void)state;
    d = (struct sla_definition){ 7, 3, 45, 10, 2, 30, 12, 200, 90 };
    assert_int_equal(sla_definition_validate(&d, NULL), 0);
    sla_definition_to_layer(&d, &l);
    assert_int_equal(l.ack_min[SLA_SEV_CRITICAL], 7);
    assert_int_equal(l.resolve_min[SLA_SEV_CRITICAL], 180);
    assert_int_equal(l.ack_min[SLA_SEV_MEDIUM], 120);
    assert_int_equal(l.resolve_min[SLA_SEV_LOW], 200 * 60);
    assert_int_equal(l.warn_pct[SLA_SEV_LOW], 90);
    assert_int_equal(sla_definition_from_layer(&l, &back), 0);
    assert_memory_equal(&d, &back, sizeof(d));

    /* minutes that are not whole hours round to the nearest, never to 0 */
    l.resolve_min[SLA_SEV_CRITICAL] = 89;
    l.ack_min[SLA_SEV_MEDIUM] = 20;
    assert_int_equal(sla_definition_from_layer(&l, &back), 0);
    assert_int_equal(back.critical_mttr_hours, 1);
    assert_int_equal(back.medium_mtta_hours, 1);
    l.resolve_min[SLA_SEV_CRITICAL] = 90;
    assert_int_equal(sla_definition_from_layer(&l, &back), 0);
    assert_int_equal(back.critical_mttr_hours, 2);

    /* an unset value cannot make a definition */
    l.resolve_min[SLA_SEV_HIGH] = 0;
    back.high_mttr_hours = 42;
    assert_int_equal(sla_definition_from_layer(&l, &back), SW_E_INVAL);
    assert_int_equal(back.high_mttr_hours, 42);
}

static void test_effective_policy_as_definition(void **state)
{
    struct sla_alert_layer tenant, eff;
    struct sla_alert_scopes s = { .tenant = &tenant };
    struct sla_definition d;

    (void)state;
    sla_alert_layer_clear(&tenant);
    tenant.resolve_min[SLA_SEV_HIGH] = 12 * 60;
    sla_alert_policy_effective(&s, &eff);
    assert_int_equal(eff.resolve_min[SLA_SEV_HIGH], 720);
    assert_int_equal(eff.ack_min[SLA_SEV_HIGH], 30);
    assert_int_equal(sla_definition_from_layer(&eff, &d), 0);
    assert_int_equal(d.high_mttr_hours, 12);
    assert_int_equal(d.critical_mtta_minutes, 15);
    assert_int_equal(d.notification_threshold_pct, 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity_names),
        cmocka_unit_test(test_kind_and_source_names),
        cmocka_unit_test(test_waterfall_first_positive_wins),
        cmocka_unit_test(test_waterfall_safety_net),
        cmocka_unit_test(test_finding_builtin),
        cmocka_unit_test(test_finding_zero_means_inherit),
        cmocka_unit_test(test_finding_partial_overrides),
        cmocka_unit_test(test_finding_layer_validate),
        cmocka_unit_test(test_alert_builtin_is_soc_default),
        cmocka_unit_test(test_alert_waterfall_levels),
        cmocka_unit_test(test_alert_layer_validate),
        cmocka_unit_test(test_templates_critical_from_seed),
        cmocka_unit_test(test_templates_scale_and_flags),
        cmocka_unit_test(test_definition_default_matches_builtin),
        cmocka_unit_test(test_definition_ranges),
        cmocka_unit_test(test_definition_first_bad_field),
        cmocka_unit_test(test_definition_layer_round_trip),
        cmocka_unit_test(test_effective_policy_as_definition),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
