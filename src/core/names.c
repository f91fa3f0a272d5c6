/* Names of kinds, severities and waterfall levels as the API spells them.
 * Parsing is exact (lower case, no trimming): the HTTP layer owns leniency. */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

static const char *const kind_names[SLA_KIND_COUNT] = { "alert", "finding" };

static const char *const sev_names[SLA_SEV_COUNT] = {
    "urgent", "critical", "high", "medium", "low",
};

/* Alerts say tenant and have templates; findings say company and do not. */
static const char *const src_names[SLA_KIND_COUNT][SLA_SRC_COUNT] = {
    { "project", "tenant", "template", "global", "builtin" },
    { "project", "company", NULL, "global", "builtin" },
};

static int lookup(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *sla_kind_name(enum sla_kind k)
{
    return (unsigned)k < SLA_KIND_COUNT ? kind_names[k] : NULL;
}

int sla_kind_parse(const char *s, enum sla_kind *out)
{
    int i = lookup(kind_names, SLA_KIND_COUNT, s);

    if (i < 0 || !out)
        return SW_E_INVAL;
    *out = (enum sla_kind)i;
    return 0;
}

const char *sla_sev_name(enum sla_sev s)
{
    return (unsigned)s < SLA_SEV_COUNT ? sev_names[s] : NULL;
}

bool sla_sev_valid(enum sla_kind k, enum sla_sev s)
{
    if ((unsigned)s >= SLA_SEV_COUNT)
        return false;
    if (k == SLA_ALERT)
        return s != SLA_SEV_URGENT;
    return k == SLA_FINDING;
}

int sla_sev_parse(enum sla_kind k, const char *s, enum sla_sev *out)
{
    int i = lookup(sev_names, SLA_SEV_COUNT, s);

    if (i < 0 || !out || !sla_sev_valid(k, (enum sla_sev)i))
        return SW_E_INVAL;
    *out = (enum sla_sev)i;
    return 0;
}

const char *sla_src_name(enum sla_kind k, enum sla_src src)
{
    if ((unsigned)k >= SLA_KIND_COUNT || (unsigned)src >= SLA_SRC_COUNT)
        return NULL;
    return src_names[k][src];
}
