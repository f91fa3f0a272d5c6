/* Escalation contacts of a finding policy: up to three people, each engaged
 * a number of days after the breach. Levels are labels, not a sequence: any
 * subset may be configured, and each contact fires on its own schedule. */
#include "core/sla.h"

#include "util/err.h"

int sla_contacts_validate(const struct sla_contact *c, size_t n, size_t *bad_index)
{
    unsigned seen = 0;

    if (n > SLA_CONTACTS_MAX || (n > 0 && !c)) {
        if (bad_index)
            *bad_index = SLA_CONTACTS_MAX;
        return SW_E_INVAL;
    }
    for (size_t i = 0; i < n; i++) {
        bool ok = c[i].level >= 1 && c[i].level <= SLA_CONTACTS_MAX &&
                  !(seen & (1u << c[i].level)) && c[i].user && c[i].user[0] &&
                  c[i].days_after_breach >= 0 &&
                  c[i].days_after_breach <= SLA_CONTACT_DAYS_MAX;
        if (!ok) {
            if (bad_index)
                *bad_index = i;
            return SW_E_INVAL;
        }
        seen |= 1u << c[i].level;
    }
    return 0;
}

const struct sla_contacts *sla_contacts_inherit(const struct sla_contacts *project,
                                                const struct sla_contacts *company,
                                                const struct sla_contacts *global,
                                                enum sla_src *src)
{
    /* The whole list inherits, not contact by contact: a scope that names
     * its own people replaces the ladder above it. */
    const struct sla_contacts *lv[] = { project, company, global };
    const enum sla_src ls[] = { SLA_SRC_PROJECT, SLA_SRC_TENANT, SLA_SRC_GLOBAL };

    for (size_t i = 0; i < 3; i++) {
        if (lv[i] && lv[i]->n > 0) {
            if (src)
                *src = ls[i];
            return lv[i];
        }
    }
    return NULL;
}

static sla_ms contact_at(sla_ms breach_at, const struct sla_contact *c)
{
    return breach_at + (sla_ms)c->days_after_breach * SLA_MS_PER_DAY;
}

uint32_t sla_contacts_due(sla_ms breach_at, const struct sla_contact *c, size_t n,
                          uint32_t fired_mask, sla_ms now)
{
    uint32_t due = 0;

    if (breach_at <= 0 || !c)
        return 0;
    for (size_t i = 0; i < n && i < SLA_CONTACTS_MAX; i++) {
        uint32_t bit = UINT32_C(1) << i;
        if (!(fired_mask & bit) && now >= contact_at(breach_at, &c[i]))
            due |= bit;
    }
    return due;
}

sla_ms sla_contacts_next(sla_ms breach_at, const struct sla_contact *c, size_t n,
                         uint32_t fired_mask)
{
    sla_ms next = SLA_NEVER;

    if (breach_at <= 0 || !c)
        return SLA_NEVER;
    for (size_t i = 0; i < n && i < SLA_CONTACTS_MAX; i++) {
        sla_ms at = contact_at(breach_at, &c[i]);
        if (!(fired_mask & (UINT32_C(1) << i)) && at < next)
            next = at;
    }
    return next;
}
