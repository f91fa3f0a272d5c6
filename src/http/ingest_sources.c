/* ingest_sources.c: the two tools slawatch reads natively (ingest.h).
 *
 * Alertmanager (webhook payload version 4).  Each alert is one slawatch
 * alert, id "am-<fingerprint>" (the fingerprint is Alertmanager's hash of
 * the label set, so the same alert keeps its id across notifications).
 * Alertmanager re-sends a group's alerts every repeat_interval and on any
 * change, so an alert is synced, never just created: a resolved one is
 * resolved at endsAt, a firing one whose startsAt is after our resolution
 * is a new episode (reopened), a repeat changes nothing.
 *
 * DefectDojo (API v2 findings).  id "dd-<id>"; its flags say the state
 * (active first: an active finding is open whatever else is set), its
 * dates the instants.  A finding inactive for no reason slawatch knows
 * (a duplicate, a finding merely set inactive) creates nothing and leaves
 * a tracked one as it is, but a tracked one still follows its severity. */
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "http/ingest.h"

/* ---- Alertmanager -------------------------------------------------------------- */

static bool alert_sev_ok(const char *v)
{
    enum sla_sev s;
    return sla_sev_parse(SLA_ALERT, v, &s) == 0;
}

int ingest_am_parse(json_t *cfg, struct ingest_am *out, struct ingest_err *e)
{
    memset(out, 0, sizeof(*out));
    json_t *sev = cfg ? json_object_get(cfg, "severity") : NULL;
    const char *key;
    json_t *v;
    if (cfg && !json_is_object(cfg))
        return ingest_fail(e, "mapping", "mapping must be an object");
    json_object_foreach(cfg, key, v) {
        if (strcmp(key, "severity"))
            return ingest_fail(e, "mapping", "an alertmanager mapping has one key, severity "
                               "(not %.64s)", key);
    }
    json_t *dflt = NULL;
    if (!sev) {
        /* the contract's map; anything else is low */
        sev = dflt = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:s}", "pointer",
                               "/labels/severity", "map", "critical", "critical", "high", "high",
                               "error", "high", "warning", "medium", "default", "low");
    }
    int rc = ingest_field_parse(sev, "mapping.severity", alert_sev_ok, &out->severity, e);
    json_decref(dflt);
    return rc;
}

void ingest_am_free(struct ingest_am *am)
{
    if (am)
        ingest_field_free(&am->severity);
}

int ingest_am_body(json_t *body, json_t **alerts, const char **status, struct ingest_err *e)
{
    if (!json_is_object(body))
        return ingest_fail(e, "", "an Alertmanager webhook body is a JSON object");
    json_t *ver = json_object_get(body, "version");
    if (ver && (!json_is_string(ver) || strcmp(json_string_value(ver), "4")))
        return ingest_fail(e, "/version", "version must be \"4\" (Alertmanager's webhook "
                           "payload)");
    *alerts = json_object_get(body, "alerts");
    if (!json_is_array(*alerts))
        return ingest_fail(e, "/alerts", "alerts must be an array");
    *status = json_string_value(json_object_get(body, "status"));
    return 0;
}

/* The item's common part: ids and strings into its own buffers. */
static void item_init(struct ingest_item *it, enum ingest_kind kind)
{
    memset(it, 0, sizeof(*it));
    it->kind = kind;
}

int ingest_am_alert(const struct ingest_am *am, json_t *alert, const char *group_status,
                    const char *tenant_id, int64_t now, struct ingest_item *it,
                    struct ingest_err *e)
{
    item_init(it, INGEST_ALERT);
    if (!json_is_object(alert))
        return ingest_fail(e, "", "an alert is a JSON object");
    const char *fp = json_string_value(json_object_get(alert, "fingerprint"));
    if (!fp || !*fp)
        return ingest_fail(e, "/fingerprint", "fingerprint is required");
    snprintf(it->id, sizeof(it->id), "am-%s", fp);
    if (strlen(fp) + 3 > SW_ID_MAX || !http_id_valid(it->id))
        return ingest_fail(e, "/fingerprint", "fingerprint must be at most %d printable ASCII "
                           "characters without '/'", SW_ID_MAX - 3);

    const char *status = json_string_value(json_object_get(alert, "status"));
    if (!status)
        status = group_status;
    bool resolved;
    if (status && !strcmp(status, "firing"))
        resolved = false;
    else if (status && !strcmp(status, "resolved"))
        resolved = true;
    else
        return ingest_fail(e, "/status", "status must be firing or resolved");

    char buf[64];
    const char *sev;
    size_t n;
    int rc = ingest_field_text(&am->severity, alert, buf, sizeof(buf), &sev, &n);
    enum sla_sev sv = SLA_SEV_LOW;
    if (rc == SW_E_INVAL || (rc == 1 && sla_sev_parse(SLA_ALERT, sev, &sv) < 0))
        return ingest_fail(e, am->severity.pointer, "%s: \"%.40s\" does not map to a "
                           "severity", am->severity.pointer, rc == 1 || rc < 0 ? sev : "");
    if (rc == 0)
        return ingest_fail(e, am->severity.pointer, "%s is missing and the map has no "
                           "default", am->severity.pointer);

    int64_t starts = 0, ends = 0;
    json_t *v = json_object_get(alert, "startsAt");
    if (!v || ingest_time(v, INGEST_TIME_RFC3339, &starts) < 0)
        return ingest_fail(e, "/startsAt", "startsAt must be an RFC 3339 instant");
    if (starts > now + INGEST_FUTURE_SKEW_MS)
        return ingest_fail(e, "/startsAt", "startsAt is in the future");
    if (resolved) {
        /* a firing alert's endsAt is 0001-01-01 (or Alertmanager's own
         * resolve timeout); only a resolved one's says when it ended */
        v = json_object_get(alert, "endsAt");
        if (v && ingest_time(v, INGEST_TIME_RFC3339, &ends) < 0)
            ends = 0;
        if (ends > now + INGEST_FUTURE_SKEW_MS)
            return ingest_fail(e, "/endsAt", "endsAt is in the future");
        if (!ends)
            ends = now;
        if (ends < starts)
            ends = starts;
    }

    json_t *ann = json_object_get(alert, "annotations");
    json_t *title = json_object_get(ann, "summary");
    if (!json_is_string(title) || !json_string_length(title))
        title = json_object_get(json_object_get(alert, "labels"), "alertname");
    if (json_is_string(title))
        ingest_text(json_string_value(title), json_string_length(title), it->title,
                    SW_ALERT_TITLE_MAX + 1);
    snprintf(it->source, sizeof(it->source), "alertmanager");

    struct sw_alert_new *a = &it->alert;
    a->tenant_id = tenant_id;
    a->id = it->id;
    a->title = it->title;
    a->source = it->source;
    a->sev = sv;
    a->created_at = starts;
    a->resolved_at = resolved ? ends : 0;
    a->sync = true;
    a->state = resolved ? SLA_ALERT_RESOLVED : SLA_ALERT_OPEN;
    a->state_at = resolved ? ends : starts;
    return 0;
}

/* ---- DefectDojo ------------------------------------------------------------------- */

int ingest_dd_body(json_t *body, json_t **results, json_t **one, struct ingest_err *e)
{
    *results = *one = NULL;
    if (!json_is_object(body))
        return ingest_fail(e, "", "a DefectDojo body is a finding or a page "
                           "{\"results\": [...]}, a JSON object");
    json_t *r = json_object_get(body, "results");
    if (r) {
        if (!json_is_array(r))
            return ingest_fail(e, "/results", "results must be an array of findings");
        *results = r;
    } else {
        *one = body;
    }
    return 0;
}

static bool flag(json_t *f, const char *name)
{
    return json_is_true(json_object_get(f, name));
}

/* An optional instant of the finding: 0 when absent or null. */
static int dd_time(json_t *f, const char *name, int64_t now, int64_t *out, struct ingest_err *e)
{
    char ptr[40];
    *out = 0;
    json_t *v = json_object_get(f, name);
    if (!v || json_is_null(v))
        return 0;
    snprintf(ptr, sizeof(ptr), "/%s", name);
    if (ingest_time(v, INGEST_TIME_RFC3339, out) < 0)
        return ingest_fail(e, ptr, "%s must be a date or an RFC 3339 instant", name);
    /* a date alone is a day in DefectDojo's zone: today may still be
     * tomorrow in UTC */
    bool date_only = json_string_length(v) == 10;
    if (date_only && *out > now && *out <= now + SLA_MS_PER_DAY)
        *out = now;
    if (*out > now + INGEST_FUTURE_SKEW_MS)
        return ingest_fail(e, ptr, "%s is in the future", name);
    return 0;
}

int ingest_dd_finding(json_t *f, const char *tenant_id, const char *project_id, int64_t now,
                      struct ingest_item *it, struct ingest_err *e)
{
    item_init(it, INGEST_FINDING);
    if (!json_is_object(f))
        return ingest_fail(e, "", "a finding is a JSON object");
    json_t *id = json_object_get(f, "id");
    if (json_is_integer(id) && json_integer_value(id) >= 0)
        snprintf(it->id, sizeof(it->id), "dd-%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else
        return ingest_fail(e, "/id", "id must be DefectDojo's finding id (an integer)");

    static const struct { const char *name; enum sla_sev sev; } sevs[] = {
        {"Critical", SLA_SEV_CRITICAL}, {"High", SLA_SEV_HIGH}, {"Medium", SLA_SEV_MEDIUM},
        {"Low", SLA_SEV_LOW},
    };
    const char *sv = json_string_value(json_object_get(f, "severity"));
    enum sla_sev sev = SLA_SEV_COUNT;
    for (size_t i = 0; sv && i < sizeof(sevs) / sizeof(sevs[0]); i++)
        if (!strcmp(sv, sevs[i].name))
            sev = sevs[i].sev;
    if (sv && !strcmp(sv, "Info")) {
        it->skip = true;            /* informational: not a finding with a deadline */
        return 0;
    }
    if (sev == SLA_SEV_COUNT)
        return ingest_fail(e, "/severity", "severity must be Critical, High, Medium, Low or "
                           "Info");

    int64_t discovered = 0, mitigated = 0, updated = 0;
    if (dd_time(f, "sla_start_date", now, &discovered, e) < 0 ||
        (!discovered && dd_time(f, "date", now, &discovered, e) < 0) ||
        dd_time(f, "mitigated", now, &mitigated, e) < 0 ||
        dd_time(f, "last_status_update", now, &updated, e) < 0)
        return SW_E_INVAL;
    if (!discovered)
        return ingest_fail(e, "/date", "date (or sla_start_date) is required");

    enum sla_finding_state st = SLA_FINDING_OPEN;
    bool verdict = true;
    if (flag(f, "active"))
        st = SLA_FINDING_OPEN;
    else if (flag(f, "false_p"))
        st = SLA_FINDING_FALSE_POSITIVE;
    else if (flag(f, "risk_accepted"))
        st = SLA_FINDING_ACCEPTED_RISK;
    else if (flag(f, "out_of_scope"))
        st = SLA_FINDING_NOT_ACCESSIBLE;
    else if (flag(f, "is_mitigated"))
        st = SLA_FINDING_CLOSED;
    else
        verdict = false;            /* inactive for a reason slawatch has no state for */
    int64_t closed = 0;
    if (sla_finding_state_terminal(st)) {
        closed = st == SLA_FINDING_CLOSED && mitigated ? mitigated : updated ? updated : now;
        if (closed < discovered)
            closed = discovered;
    }

    json_t *title = json_object_get(f, "title");
    if (json_is_string(title))
        ingest_text(json_string_value(title), json_string_length(title), it->title,
                    sizeof(it->title));
    if (project_id)
        snprintf(it->project_id, sizeof(it->project_id), "%s", project_id);

    struct sw_finding_sync *s = &it->finding;
    s->in.tenant_id = tenant_id;
    s->in.id = it->id;
    s->in.project_id = project_id ? it->project_id : NULL;
    s->in.title = it->title;
    s->in.sev = sev;
    s->in.discovered_at = discovered;
    s->in.state = st;
    s->in.closed_at = closed;
    s->state_at = st == SLA_FINDING_OPEN ? updated : closed;
    s->only_if_tracked = !verdict;
    return 0;
}
