/* The policy waterfall: which target applies to an item, and why.
 *
 * Every field of every severity resolves on its own, so a scope can speak
 * for only the severities (or only the fields) it cares about: partial
 * overrides stay minimal and the inheritance stays visible in `explain`. */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

#define H(n) ((n) * 60)   /* hours → minutes, to read the table below */

/* The SOC seed's SLADefinition defaults. */
static const struct sla_alert_layer alert_builtin = {
    .ack_min = { [SLA_SEV_CRITICAL] = 15, [SLA_SEV_HIGH] = 30,
                 [SLA_SEV_MEDIUM] = H(4), [SLA_SEV_LOW] = H(8) },
    .resolve_min = { [SLA_SEV_CRITICAL] = H(4), [SLA_SEV_HIGH] = H(8),
                     [SLA_SEV_MEDIUM] = H(24), [SLA_SEV_LOW] = H(72) },
    .warn_pct = { [SLA_SEV_CRITICAL] = SLA_WARN_PCT_DEFAULT,
                  [SLA_SEV_HIGH] = SLA_WARN_PCT_DEFAULT,
                  [SLA_SEV_MEDIUM] = SLA_WARN_PCT_DEFAULT,
                  [SLA_SEV_LOW] = SLA_WARN_PCT_DEFAULT },
    .penalty_cph = { 0 },
};

/* The vulnerability seed's built-in fallback. */
static const struct sla_finding_layer finding_builtin = {
    .hours = { [SLA_SEV_URGENT] = 24, [SLA_SEV_CRITICAL] = 72, [SLA_SEV_HIGH] = 168,
               [SLA_SEV_MEDIUM] = 720, [SLA_SEV_LOW] = 2160 },
};

static const char *const alert_field_names[SLA_AF_COUNT] = {
    "ack_min", "resolve_min", "warn_pct", "penalty_cph", "ack_penalty_cph",
};

void sla_waterfall(enum sla_kind k, const int64_t level[SLA_SRC_COUNT],
                   struct sla_explain *out)
{
    struct sla_explain e = { .source = SLA_SRC_BUILTIN };

    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        if (k == SLA_FINDING && i == SLA_SRC_TEMPLATE)
            continue;               /* findings have no template level */
        /* Negative is as meaningless as zero: both mean "inherit". */
        e.level[i] = level[i] > 0 ? level[i] : 0;
    }
    for (int i = 0; i < SLA_SRC_COUNT; i++) {
        if (e.level[i] > 0) {
            e.source = (enum sla_src)i;
            e.value = e.level[i];
            *out = e;
            return;
        }
    }
    /* Nothing answered. A finding must still get a deadline. */
    if (k == SLA_FINDING) {
        e.safety_net = true;
        e.value = SLA_FINDING_SAFETY_NET_HOURS;
    }
    *out = e;
}

const struct sla_alert_layer *sla_alert_builtin(void)
{
    return &alert_builtin;
}

const struct sla_finding_layer *sla_finding_builtin(void)
{
    return &finding_builtin;
}

void sla_alert_layer_clear(struct sla_alert_layer *l)
{
    memset(l, 0, sizeof(*l));
}

const char *sla_alert_field_name(enum sla_alert_field f)
{
    return (unsigned)f < SLA_AF_COUNT ? alert_field_names[f] : NULL;
}

static int64_t alert_field(const struct sla_alert_layer *l, enum sla_sev sev,
                           enum sla_alert_field f)
{
    if (!l)
        return 0;
    switch (f) {
    case SLA_AF_ACK_MIN: return l->ack_min[sev];
    case SLA_AF_RESOLVE_MIN: return l->resolve_min[sev];
    case SLA_AF_WARN_PCT: return l->warn_pct[sev];
    case SLA_AF_PENALTY_CPH: return l->penalty_cph[sev];
    case SLA_AF_ACK_PENALTY_CPH: return l->ack_penalty_cph[sev];
    default: return 0;
    }
}

static int64_t alert_field_max(enum sla_alert_field f)
{
    switch (f) {
    case SLA_AF_ACK_MIN:
    case SLA_AF_RESOLVE_MIN: return (int64_t)SLA_TARGET_MAX_HOURS * 60;
    case SLA_AF_WARN_PCT: return 100;
    default: return INT64_MAX / 2;  /* any sane rate; keeps products far from overflow */
    }
}

int sla_alert_layer_validate(const struct sla_alert_layer *l, const char **bad_field)
{
    if (!l)
        return SW_E_INVAL;
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++) {
        for (int f = 0; f < SLA_AF_COUNT; f++) {
            int64_t v = alert_field(l, (enum sla_sev)s, (enum sla_alert_field)f);
            if (v < 0 || v > alert_field_max((enum sla_alert_field)f)) {
                if (bad_field)
                    *bad_field = alert_field_names[f];
                return SW_E_INVAL;
            }
        }
    }
    return 0;
}

int sla_alert_policy_explain(const struct sla_alert_scopes *s, enum sla_sev sev,
                             enum sla_alert_field f, struct sla_explain *out)
{
    static const struct sla_alert_scopes none;
    int64_t level[SLA_SRC_COUNT];

    if (!sla_sev_valid(SLA_ALERT, sev) || (unsigned)f >= SLA_AF_COUNT || !out)
        return SW_E_INVAL;
    if (!s)
        s = &none;
    level[SLA_SRC_PROJECT] = alert_field(s->project, sev, f);
    level[SLA_SRC_TENANT] = alert_field(s->tenant, sev, f);
    level[SLA_SRC_TEMPLATE] = alert_field(s->tmpl, sev, f);
    level[SLA_SRC_GLOBAL] = alert_field(s->global, sev, f);
    level[SLA_SRC_BUILTIN] = alert_field(&alert_builtin, sev, f);
    sla_waterfall(SLA_ALERT, level, out);
    return 0;
}

int sla_alert_policy_resolve(const struct sla_alert_scopes *s, enum sla_sev sev,
                             struct sla_alert_targets *out)
{
    struct sla_explain e[SLA_AF_COUNT];

    if (!out)
        return SW_E_INVAL;
    for (int f = 0; f < SLA_AF_COUNT; f++) {
        int rc = sla_alert_policy_explain(s, sev, (enum sla_alert_field)f, &e[f]);
        if (rc < 0)
            return rc;
    }
    /* Validated layers keep minutes and percents far below INT32_MAX. */
    *out = (struct sla_alert_targets){
        .ack_min = (int32_t)e[SLA_AF_ACK_MIN].value,
        .resolve_min = (int32_t)e[SLA_AF_RESOLVE_MIN].value,
        .warn_pct = (int32_t)e[SLA_AF_WARN_PCT].value,
        .penalty_cph = e[SLA_AF_PENALTY_CPH].value,
        .ack_penalty_cph = e[SLA_AF_ACK_PENALTY_CPH].value,
        .ack_src = e[SLA_AF_ACK_MIN].source,
        .resolve_src = e[SLA_AF_RESOLVE_MIN].source,
        .warn_src = e[SLA_AF_WARN_PCT].source,
        .penalty_src = e[SLA_AF_PENALTY_CPH].source,
        .ack_penalty_src = e[SLA_AF_ACK_PENALTY_CPH].source,
    };
    return 0;
}

void sla_alert_policy_effective(const struct sla_alert_scopes *s, struct sla_alert_layer *out)
{
    struct sla_alert_layer l;

    sla_alert_layer_clear(&l);
    for (int sev = SLA_SEV_CRITICAL; sev < SLA_SEV_COUNT; sev++) {
        struct sla_alert_targets t;
        if (sla_alert_policy_resolve(s, (enum sla_sev)sev, &t) < 0)
            continue;       /* cannot happen for alert severities */
        l.ack_min[sev] = t.ack_min;
        l.resolve_min[sev] = t.resolve_min;
        l.warn_pct[sev] = t.warn_pct;
        l.penalty_cph[sev] = t.penalty_cph;
        l.ack_penalty_cph[sev] = t.ack_penalty_cph;
    }
    *out = l;
}

int sla_finding_layer_validate(const struct sla_finding_layer *l, enum sla_sev *bad_sev)
{
    if (!l)
        return SW_E_INVAL;
    for (int s = 0; s < SLA_SEV_COUNT; s++) {
        if (l->hours[s] < 0 || l->hours[s] > SLA_TARGET_MAX_HOURS) {
            if (bad_sev)
                *bad_sev = (enum sla_sev)s;
            return SW_E_INVAL;
        }
    }
    return 0;
}

static int64_t finding_hours(const struct sla_finding_layer *l, enum sla_sev sev)
{
    return l ? l->hours[sev] : 0;
}

int sla_finding_policy_explain(const struct sla_finding_scopes *s, enum sla_sev sev,
                               struct sla_explain *out)
{
    static const struct sla_finding_scopes none;
    int64_t level[SLA_SRC_COUNT] = { 0 };

    if (!sla_sev_valid(SLA_FINDING, sev) || !out)
        return SW_E_INVAL;
    if (!s)
        s = &none;
    level[SLA_SRC_PROJECT] = finding_hours(s->project, sev);
    level[SLA_SRC_TENANT] = finding_hours(s->company, sev);
    level[SLA_SRC_GLOBAL] = finding_hours(s->global, sev);
    level[SLA_SRC_BUILTIN] = finding_hours(&finding_builtin, sev);
    sla_waterfall(SLA_FINDING, level, out);
    return 0;
}

int sla_finding_policy_resolve(const struct sla_finding_scopes *s, enum sla_sev sev,
                               struct sla_finding_target *out)
{
    struct sla_explain e;
    int rc;

    if (!out)
        return SW_E_INVAL;
    rc = sla_finding_policy_explain(s, sev, &e);
    if (rc < 0)
        return rc;
    *out = (struct sla_finding_target){
        .hours = (int32_t)e.value,
        .src = e.source,
        .safety_net = e.safety_net,
    };
    return 0;
}
