/* The SOC seed's SLADefinition: a tenant's alert targets in the mixed
 * minutes/hours units of its form, with the seed's ranges. Internally every
 * alert target is minutes in an alert policy layer; this file converts. */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

#define FIELD(n, lo, hi) { #n, (lo), (hi), offsetof(struct sla_definition, n) }

const struct sla_field_range sla_definition_fields[SLA_DEFINITION_NFIELDS] = {
    FIELD(critical_mtta_minutes, 1, 120),
    FIELD(critical_mttr_hours, 1, 48),
    FIELD(high_mtta_minutes, 1, 240),
    FIELD(high_mttr_hours, 1, 72),
    FIELD(medium_mtta_hours, 1, 24),
    FIELD(medium_mttr_hours, 1, 168),
    FIELD(low_mtta_hours, 1, 72),
    FIELD(low_mttr_hours, 1, 720),
    FIELD(notification_threshold_pct, 50, 99),
};

int32_t sla_definition_get(const struct sla_definition *d, const struct sla_field_range *f)
{
    int32_t v;

    memcpy(&v, (const char *)d + f->offset, sizeof(v));
    return v;
}

void sla_definition_set(struct sla_definition *d, const struct sla_field_range *f, int32_t v)
{
    memcpy((char *)d + f->offset, &v, sizeof(v));
}

void sla_definition_default(struct sla_definition *d)
{
    *d = (struct sla_definition){
        .critical_mtta_minutes = 15, .critical_mttr_hours = 4,
        .high_mtta_minutes = 30, .high_mttr_hours = 8,
        .medium_mtta_hours = 4, .medium_mttr_hours = 24,
        .low_mtta_hours = 8, .low_mttr_hours = 72,
        .notification_threshold_pct = SLA_WARN_PCT_DEFAULT,
    };
}

int sla_definition_validate(const struct sla_definition *d, const char **bad_field)
{
    if (!d)
        return SW_E_INVAL;
    for (size_t i = 0; i < SLA_DEFINITION_NFIELDS; i++) {
        const struct sla_field_range *f = &sla_definition_fields[i];
        int32_t v = sla_definition_get(d, f);
        if (v < f->min || v > f->max) {
            if (bad_field)
                *bad_field = f->name;
            return SW_E_INVAL;
        }
    }
    return 0;
}

void sla_definition_to_layer(const struct sla_definition *d, struct sla_alert_layer *out)
{
    struct sla_alert_layer l;

    sla_alert_layer_clear(&l);
    l.ack_min[SLA_SEV_CRITICAL] = d->critical_mtta_minutes;
    l.resolve_min[SLA_SEV_CRITICAL] = d->critical_mttr_hours * 60;
    l.ack_min[SLA_SEV_HIGH] = d->high_mtta_minutes;
    l.resolve_min[SLA_SEV_HIGH] = d->high_mttr_hours * 60;
    l.ack_min[SLA_SEV_MEDIUM] = d->medium_mtta_hours * 60;
    l.resolve_min[SLA_SEV_MEDIUM] = d->medium_mttr_hours * 60;
    l.ack_min[SLA_SEV_LOW] = d->low_mtta_hours * 60;
    l.resolve_min[SLA_SEV_LOW] = d->low_mttr_hours * 60;
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
        l.warn_pct[s] = d->notification_threshold_pct;
    *out = l;
}

/* Minutes to the nearest whole hour, half up, never 0: a 20-minute target
 * shown as "0 hours" would read as unset. Unset (<= 0) stays 0 → invalid. */
static int32_t to_hours(int32_t minutes)
{
    if (minutes <= 0)
        return 0;
    return minutes < 30 ? 1 : (minutes + 30) / 60;
}

int sla_definition_from_layer(const struct sla_alert_layer *l, struct sla_definition *out)
{
    struct sla_definition d;
    int rc;

    if (!l || !out)
        return SW_E_INVAL;
    d = (struct sla_definition){
        .critical_mtta_minutes = l->ack_min[SLA_SEV_CRITICAL],
        .critical_mttr_hours = to_hours(l->resolve_min[SLA_SEV_CRITICAL]),
        .high_mtta_minutes = l->ack_min[SLA_SEV_HIGH],
        .high_mttr_hours = to_hours(l->resolve_min[SLA_SEV_HIGH]),
        .medium_mtta_hours = to_hours(l->ack_min[SLA_SEV_MEDIUM]),
        .medium_mttr_hours = to_hours(l->resolve_min[SLA_SEV_MEDIUM]),
        .low_mtta_hours = to_hours(l->ack_min[SLA_SEV_LOW]),
        .low_mttr_hours = to_hours(l->resolve_min[SLA_SEV_LOW]),
        .notification_threshold_pct = l->warn_pct[SLA_SEV_CRITICAL],
    };
    rc = sla_definition_validate(&d, NULL);
    if (rc < 0)
        return rc;
    *out = d;
    return 0;
}
