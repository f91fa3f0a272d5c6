/* history_alerts.c: the policy history's snapshots of the alert scopes
 * (history.c has the rest): a tenant's or project's definition (its alert
 * layer, and the tenant's template) and an escalation chain, as JSON. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts_int.h"
#include "store/proof_int.h"
#include "util/xalloc.h"

static json_t *layer_json(const struct sla_alert_layer *l)
{
    json_t *o = json_object();
    for (int s = SLA_SEV_CRITICAL; s < SLA_SEV_COUNT; s++)
        json_object_set_new(o, sla_sev_name((enum sla_sev)s),
                            json_pack("{s:i, s:i, s:i, s:I, s:I}", "ack_min", l->ack_min[s],
                                      "resolve_min", l->resolve_min[s], "warn_pct",
                                      l->warn_pct[s], "penalty_cph",
                                      (json_int_t)l->penalty_cph[s], "ack_penalty_cph",
                                      (json_int_t)l->ack_penalty_cph[s]));
    return o;
}

int history_snap_definition_in(struct db_conn *c, const char *tenant, const char *project,
                           char **out)
{
    struct sw_alert_policy *p = xmalloc(sizeof(*p));
    int rc = alert_policy_load_in(c, tenant, project, ALERT_LOCK_NONE, p);
    if (rc > 0)
        rc = SW_E_NOTFOUND;
    bool has = *project ? p->has_project : p->has_tenant;
    /* the calendars the scope names (only when it names one) */
    char (*cal)[SW_ID_MAX + 1] = *project ? p->cal_project : p->cal_tenant;
    json_t *cals = NULL;
    for (int s = 0; rc == 0 && s < SLA_SEV_COUNT; s++)
        if (cal[s][0]) {
            if (!cals)
                cals = json_object();
            json_object_set_new(cals, sla_sev_name((enum sla_sev)s), json_string(cal[s]));
        }
    if (rc == 0 && (has || (!*project && p->template_name[0]) || cals)) {
        json_t *o = json_object();
        if (!*project)
            json_object_set_new(o, "template", p->template_name[0]
                                ? json_string(p->template_name) : json_null());
        json_object_set_new(o, "layer", has ? layer_json(*project ? &p->project : &p->tenant)
                                            : json_null());
        if (cals)
            json_object_set_new(o, "calendars", cals);
        *out = history_dump(o);
    }
    free(p);
    return rc;
}

int history_snap_escalation_in(struct db_conn *c, const char *tenant, const char *sev_name,
                           char **out)
{
    enum sla_sev sev;
    if (sla_sev_parse(SLA_ALERT, sev_name, &sev) < 0)
        return SW_E_INVAL;
    struct sw_esc_chain *ch = xmalloc(sizeof(*ch));
    int rc = esc_chain_load_in(c, tenant, sev, ch);
    if (rc == 1) {
        json_t *steps = json_array();
        for (size_t i = 0; i < ch->n; i++)
            json_array_append_new(steps, json_pack(
                "{s:s, s:s, s:i, s:s}", "level", sla_esc_level_name(ch->step[i].level),
                "role", ch->step[i].role, "timeout_minutes", ch->step[i].timeout_min,
                "notification_method", sla_esc_method_name(ch->step[i].method)));
        *out = history_dump(json_pack("{s:o}", "steps", steps));
    }
    free(ch);
    return rc < 0 ? rc : 0;
}

