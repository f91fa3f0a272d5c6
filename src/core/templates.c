/* The four alert tiers a tenant can be put on.
 *
 * Critical values are the SOC seed's table, verbatim. The seed gives nothing
 * else, so the other severities keep the ratios of the seed's own built-in
 * SLADefinition (critical 15 min / 4 h, high 30 min / 8 h, medium 4 h / 24 h,
 * low 8 h / 72 h), scaled from each tier's critical targets:
 *   high   ack = 2 × critical ack,                   resolve = 2 × critical
 *   medium ack = 16 × critical ack, in whole hours,  resolve = 6 × critical
 *   low    ack = 2 × medium ack,                     resolve = 18 × critical
 * Acks of medium and low are whole hours because the SLADefinition states
 * them in hours: applying a template then shows as a valid definition.
 * Premium comes out equal to the built-in defaults, as its critical row is.
 * Penalty per started hour: critical the seed's rate, then high 1/2,
 * medium 1/4, low 1/10: a slow low alert costs less than a slow critical.
 * Government alone carries the compliance flags the seed mentions. */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

#define H(n) ((n) * 60)
#define USD(d) ((int64_t)(d) * 100)

#define SEVS(c, h, m, l) \
    { [SLA_SEV_CRITICAL] = (c), [SLA_SEV_HIGH] = (h), [SLA_SEV_MEDIUM] = (m), [SLA_SEV_LOW] = (l) }

/* Rates in cents; 1250 = $12.50 keeps the 1/4 exact without floats. */
static const struct sla_template templates[] = {
    {
        .name = "standard",
        .notes = "Default for most tenants",
        .ack_min = SEVS(30, 60, H(8), H(16)),
        .resolve_min = SEVS(H(8), H(16), H(48), H(144)),
        .penalty_cph = SEVS(USD(50), USD(25), 1250, USD(5)),
    },
    {
        .name = "premium",
        .notes = "Faster response commitments",
        .ack_min = SEVS(15, 30, H(4), H(8)),
        .resolve_min = SEVS(H(4), H(8), H(24), H(72)),
        .penalty_cph = SEVS(USD(100), USD(50), USD(25), USD(10)),
    },
    {
        .name = "enterprise",
        .notes = "Aggressive targets, highest penalties",
        /* 16 × 5 min = 80 min → 1 h */
        .ack_min = SEVS(5, 10, H(1), H(2)),
        .resolve_min = SEVS(H(1), H(2), H(6), H(18)),
        .penalty_cph = SEVS(USD(250), USD(125), 6250, USD(25)),
    },
    {
        .name = "government",
        .notes = "FedRAMP compliance flags, data sovereignty, audit logging",
        /* 16 × 10 min = 160 min → 3 h */
        .ack_min = SEVS(10, 20, H(3), H(6)),
        .resolve_min = SEVS(H(2), H(4), H(12), H(36)),
        .penalty_cph = SEVS(USD(200), USD(100), USD(50), USD(20)),
        .flags = SLA_TPL_FEDRAMP | SLA_TPL_DATA_SOVEREIGNTY | SLA_TPL_AUDIT_LOGGING,
    },
};

#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

size_t sla_template_count(void)
{
    return NTEMPLATES;
}

const struct sla_template *sla_template_at(size_t i)
{
    return i < NTEMPLATES ? &templates[i] : NULL;
}

int sla_template_find(const char *name, const struct sla_template **out)
{
    if (!name || !out)
        return SW_E_INVAL;
    for (size_t i = 0; i < NTEMPLATES; i++) {
        if (strcmp(templates[i].name, name) == 0) {
            *out = &templates[i];
            return 0;
        }
    }
    return SW_E_NOTFOUND;
}

void sla_template_layer(const struct sla_template *t, struct sla_alert_layer *out)
{
    struct sla_alert_layer l;

    sla_alert_layer_clear(&l);
    memcpy(l.ack_min, t->ack_min, sizeof(l.ack_min));
    memcpy(l.resolve_min, t->resolve_min, sizeof(l.resolve_min));
    memcpy(l.penalty_cph, t->penalty_cph, sizeof(l.penalty_cph));
    memcpy(l.ack_penalty_cph, t->ack_penalty_cph, sizeof(l.ack_penalty_cph));
    *out = l;
}
