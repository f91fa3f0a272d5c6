#include "http/json_out.h"

#include "core/sla.h"

json_t *json_time(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[SLA_TIME_BUFSZ];
    sla_time_format(ms, buf);
    return json_string(buf);
}

json_t *json_tenant(const struct sw_tenant *t)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:o}", "id", t->id, "name", t->name, "template",
                     t->template_name[0] ? json_string(t->template_name) : json_null(),
                     "timezone", t->timezone, "created_at", json_time(t->created_at));
}

json_t *json_project(const struct sw_project *p)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "id", p->id, "tenant_id", p->tenant_id, "name",
                     p->name, "created_at", json_time(p->created_at));
}
