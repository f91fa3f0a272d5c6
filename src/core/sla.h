/* slawatch core: the pure SLA logic.
 *
 * Everything here is arithmetic on caller-provided structs: no I/O, no
 * allocation, no clock reads (every "now" is a parameter), no dependency
 * but libc/libm. The store fills these structs from its rows, the HTTP layer
 * and the scheduler ask them questions, and the answers are deterministic, so
 * the whole module is tested with fixed instants and no database.
 *
 * Conventions: functions return 0 or a negative SW_E_* (util/err.h);
 * outputs go through pointers and are written only on success. Instants are
 * sla_ms (int64 milliseconds since the Unix epoch, UTC); 0 in a timestamp
 * field means "not yet / none", so event instants must be > 0. */
#ifndef SW_CORE_SLA_H
#define SW_CORE_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * Time: instants, ISO 8601 / RFC 3339 text, civil dates (time.c)
 * ------------------------------------------------------------------------ */

typedef int64_t sla_ms;

#define SLA_MS_PER_SEC  INT64_C(1000)
#define SLA_MS_PER_MIN  INT64_C(60000)
#define SLA_MS_PER_HOUR INT64_C(3600000)
#define SLA_MS_PER_DAY  INT64_C(86400000)

/* "Never": no next check, no deadline. Sorts after every real instant, so
 * a scheduler taking the minimum next_check_at ignores it naturally. */
#define SLA_NEVER INT64_MAX

/* "2026-11-22T10:00:00.123Z" is 24 chars; room for any int64 year too. */
#define SLA_TIME_BUFSZ 40
#define SLA_DATE_BUFSZ 24

/* Strict RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), upper
 * case T and Z only, year 1970..9999, no leap second, no trailing bytes.
 * Fraction: 1..9 digits, truncated to milliseconds. The offset is applied,
 * so the result is UTC; an instant before the epoch is rejected. */
int sla_time_parse(const char *s, sla_ms *out);
/* YYYY-MM-DD, a real calendar date, year 1970..9999. */
int sla_date_parse(const char *s, int *y, int *m, int *d);
/* YYYY-MM, month 01..12, year 1970..9999. */
int sla_month_parse(const char *s, int *y, int *m);

/* "2026-11-22T10:00:00.000Z": always milliseconds, UTC (the API contract). */
void sla_time_format(sla_ms t, char buf[SLA_TIME_BUFSZ]);
/* "2026-11-22": the UTC day of an instant (rollup and report keys). */
void sla_date_format(sla_ms t, char buf[SLA_DATE_BUFSZ]);

bool sla_is_leap(int y);
int sla_days_in_month(int y, int m);           /* 0 when m is not 1..12 */
bool sla_date_valid(int y, int m, int d);
/* Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian,
 * exact for every int year, negative days before 1970. */
int64_t sla_days_from_civil(int y, int m, int d);
void sla_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Midnight UTC of a civil date, and the midnight starting t's UTC day. */
sla_ms sla_ms_from_civil(int y, int m, int d);
sla_ms sla_day_start(sla_ms t);

/* ------------------------------------------------------------------------
 * Kinds, severities, policy sources (names.c)
 * ------------------------------------------------------------------------ */

enum sla_kind { SLA_ALERT, SLA_FINDING, SLA_KIND_COUNT };

/* One scale for both kinds; urgent exists for findings only. */
enum sla_sev {
    SLA_SEV_URGENT,
    SLA_SEV_CRITICAL,
    SLA_SEV_HIGH,
    SLA_SEV_MEDIUM,
    SLA_SEV_LOW,
    SLA_SEV_COUNT
};

/* Waterfall levels, most specific first. A finding's "company" is the
 * alert's "tenant" (same entity); TEMPLATE is consulted for alerts only. */
enum sla_src {
    SLA_SRC_PROJECT,
    SLA_SRC_TENANT,
    SLA_SRC_TEMPLATE,
    SLA_SRC_GLOBAL,
    SLA_SRC_BUILTIN,
    SLA_SRC_COUNT
};

const char *sla_kind_name(enum sla_kind k);    /* "alert" | "finding"; NULL if invalid */
int sla_kind_parse(const char *s, enum sla_kind *out);
const char *sla_sev_name(enum sla_sev s);      /* "urgent".."low"; NULL if invalid */
/* Exact lower-case names as the API spells them; SW_E_INVAL for "urgent"
 * with SLA_ALERT, unknown names and other spellings. */
int sla_sev_parse(enum sla_kind k, const char *s, enum sla_sev *out);
bool sla_sev_valid(enum sla_kind k, enum sla_sev s);
/* API name of a level for a kind: project|tenant|template|global|builtin
 * for alerts, project|company|global|builtin for findings; NULL when the
 * level does not exist for that kind (template for findings). */
const char *sla_src_name(enum sla_kind k, enum sla_src src);

/* ------------------------------------------------------------------------
 * Policy waterfall (policy.c). Per field and severity the first positive
 * value wins, walking project → tenant/company → (alerts: template) →
 * global → built-in. 0 (or negative) means "unset, inherit": a zero-hour
 * SLA is not a target, it is an absent one.
 * ------------------------------------------------------------------------ */

/* Findings whose severity resolves to nothing anywhere get this. */
#define SLA_FINDING_SAFETY_NET_HOURS 168
/* Upper bound of any target, so ms arithmetic never overflows: 10 years. */
#define SLA_TARGET_MAX_HOURS 87600
#define SLA_WARN_PCT_DEFAULT 80

/* What every level offered for one field, and who answered. */
struct sla_explain {
    int64_t level[SLA_SRC_COUNT]; /* 0 = unset (always 0 for a level the kind lacks) */
    enum sla_src source;          /* the level that answered */
    bool safety_net;              /* findings: nothing answered, the safety net did */
    int64_t value;                /* the resolved value */
};

/* The inheritance rule itself, on raw per-level values. For findings the
 * template level is skipped and an all-unset chain falls to the safety net
 * (reported as source builtin + safety_net); for alerts it resolves to 0
 * from builtin (a built-in penalty rate of 0 means "no penalty"). */
void sla_waterfall(enum sla_kind k, const int64_t level[SLA_SRC_COUNT],
                   struct sla_explain *out);

/* Alert policy layer: one scope's overrides, as nullable store columns
 * (NULL → 0). Index by enum sla_sev; [SLA_SEV_URGENT] is ignored. */
struct sla_alert_layer {
    int32_t ack_min[SLA_SEV_COUNT];     /* minutes to acknowledge (MTTA target) */
    int32_t resolve_min[SLA_SEV_COUNT]; /* minutes to resolve (MTTR target) */
    int32_t warn_pct[SLA_SEV_COUNT];    /* warning threshold, 1..100 */
    int64_t penalty_cph[SLA_SEV_COUNT]; /* cents per started hour over target */
    /* optional MTTA penalty: cents per started hour over the acknowledge
     * target (0: acknowledging late costs nothing, the seeds' rule) */
    int64_t ack_penalty_cph[SLA_SEV_COUNT];
};

enum sla_alert_field {
    SLA_AF_ACK_MIN,
    SLA_AF_RESOLVE_MIN,
    SLA_AF_WARN_PCT,
    SLA_AF_PENALTY_CPH,
    SLA_AF_ACK_PENALTY_CPH,
    SLA_AF_COUNT
};

/* The levels above built-in for one alert; NULL = that scope has no row
 * (a tenant without a template has template == NULL). */
struct sla_alert_scopes {
    const struct sla_alert_layer *project;
    const struct sla_alert_layer *tenant;
    const struct sla_alert_layer *tmpl;
    const struct sla_alert_layer *global;
};

/* Resolved targets for one alert severity, each with its source. */
struct sla_alert_targets {
    int32_t ack_min, resolve_min, warn_pct;
    int64_t penalty_cph;
    int64_t ack_penalty_cph;            /* MTTA penalty rate, 0 = none */
    enum sla_src ack_src, resolve_src, warn_src, penalty_src, ack_penalty_src;
};

/* Built-in alert values: the SOC seed's SLADefinition defaults (critical
 * 15 min / 4 h, high 30 min / 8 h, medium 4 h / 24 h, low 8 h / 72 h,
 * warning 80 %), penalty 0: no contract, no money owed. */
const struct sla_alert_layer *sla_alert_builtin(void);
void sla_alert_layer_clear(struct sla_alert_layer *l);
/* Values out of range (negative, target above SLA_TARGET_MAX_HOURS,
 * warn_pct above 100) → SW_E_INVAL and *bad_field = "ack_min" |
 * "resolve_min" | "warn_pct" | "penalty_cph" | "ack_penalty_cph" (bad_field
 * may be NULL). */
int sla_alert_layer_validate(const struct sla_alert_layer *l, const char **bad_field);
const char *sla_alert_field_name(enum sla_alert_field f);

/* Scopes may be NULL (no rows at all). Urgent → SW_E_INVAL. */
int sla_alert_policy_resolve(const struct sla_alert_scopes *s, enum sla_sev sev,
                             struct sla_alert_targets *out);
int sla_alert_policy_explain(const struct sla_alert_scopes *s, enum sla_sev sev,
                             enum sla_alert_field f, struct sla_explain *out);
/* Every alert severity resolved into one full layer (for GET /definition
 * and for showing a tenant its effective policy). */
void sla_alert_policy_effective(const struct sla_alert_scopes *s,
                                struct sla_alert_layer *out);

/* Finding policy layer: hours per severity, 0 = unset. */
struct sla_finding_layer {
    int32_t hours[SLA_SEV_COUNT];
};

struct sla_finding_scopes {
    const struct sla_finding_layer *project;
    const struct sla_finding_layer *company;
    const struct sla_finding_layer *global;
};

struct sla_finding_target {
    int32_t hours;
    enum sla_src src;   /* PROJECT, TENANT (= company), GLOBAL or BUILTIN */
    bool safety_net;
};

/* Built-in finding hours: urgent 24, critical 72, high 168, medium 720,
 * low 2160 (the vulnerability seed's fallback). */
const struct sla_finding_layer *sla_finding_builtin(void);
/* Negative or above SLA_TARGET_MAX_HOURS → SW_E_INVAL, *bad_sev set. */
int sla_finding_layer_validate(const struct sla_finding_layer *l, enum sla_sev *bad_sev);
int sla_finding_policy_resolve(const struct sla_finding_scopes *s, enum sla_sev sev,
                               struct sla_finding_target *out);
int sla_finding_policy_explain(const struct sla_finding_scopes *s, enum sla_sev sev,
                               struct sla_explain *out);

/* ------------------------------------------------------------------------
 * Templates: the four alert tiers (templates.c)
 * ------------------------------------------------------------------------ */

enum sla_template_flag {
    SLA_TPL_FEDRAMP = 1u << 0,
    SLA_TPL_DATA_SOVEREIGNTY = 1u << 1,
    SLA_TPL_AUDIT_LOGGING = 1u << 2,
};

struct sla_template {
    const char *name;                   /* standard|premium|enterprise|government */
    const char *notes;                  /* the seed's "Notes" column */
    int32_t ack_min[SLA_SEV_COUNT];     /* [URGENT] = 0 */
    int32_t resolve_min[SLA_SEV_COUNT];
    int64_t penalty_cph[SLA_SEV_COUNT];
    int64_t ack_penalty_cph[SLA_SEV_COUNT]; /* MTTA penalty (none of the four has one) */
    unsigned flags;                     /* enum sla_template_flag bits */
};

size_t sla_template_count(void);
/* NULL when i >= sla_template_count(): `for (i = 0; (t = sla_template_at(i)); i++)`. */
const struct sla_template *sla_template_at(size_t i);
int sla_template_find(const char *name, const struct sla_template **out); /* SW_E_NOTFOUND */
/* As an alert policy layer (warn_pct unset: thresholds inherit). */
void sla_template_layer(const struct sla_template *t, struct sla_alert_layer *out);

/* ------------------------------------------------------------------------
 * SLA definition: the SOC seed's SLADefinitionRequest (definition.c)
 * ------------------------------------------------------------------------ */

struct sla_definition {
    int32_t critical_mtta_minutes;      /* 1-120 */
    int32_t critical_mttr_hours;        /* 1-48 */
    int32_t high_mtta_minutes;          /* 1-240 */
    int32_t high_mttr_hours;            /* 1-72 */
    int32_t medium_mtta_hours;          /* 1-24 */
    int32_t medium_mttr_hours;          /* 1-168 */
    int32_t low_mtta_hours;             /* 1-72 */
    int32_t low_mttr_hours;             /* 1-720 */
    int32_t notification_threshold_pct; /* 50-99 */
};

/* One row per field, in declaration order, for validation messages
 * ("critical_mttr_hours must be between 1 and 48"). */
struct sla_field_range {
    const char *name;
    int32_t min, max;
    size_t offset;                      /* offsetof(struct sla_definition, …) */
};
#define SLA_DEFINITION_NFIELDS 9
extern const struct sla_field_range sla_definition_fields[SLA_DEFINITION_NFIELDS];

int32_t sla_definition_get(const struct sla_definition *d, const struct sla_field_range *f);
void sla_definition_set(struct sla_definition *d, const struct sla_field_range *f, int32_t v);
/* The seed's defaults (15 min / 4 h, 30 min / 8 h, 4 h / 24 h, 8 h / 72 h, 80 %). */
void sla_definition_default(struct sla_definition *d);
/* First field out of range → SW_E_INVAL and *bad_field = its name. */
int sla_definition_validate(const struct sla_definition *d, const char **bad_field);
/* Into minutes; the threshold goes to every alert severity. */
void sla_definition_to_layer(const struct sla_definition *d, struct sla_alert_layer *out);
/* From a full layer (e.g. sla_alert_policy_effective): minutes that are
 * not whole hours round to the nearest hour (half up, at least 1); the
 * threshold is critical's. SW_E_INVAL when a needed value is unset or the
 * result is out of the definition's ranges. */
int sla_definition_from_layer(const struct sla_alert_layer *l, struct sla_definition *out);

/* ------------------------------------------------------------------------
 * Clocks (clock.c). A clock measures active time from started_at against
 * target_ms; pauses do not count. due = started_at + target + paused total.
 * While paused, the ongoing pause is part of the paused total, so the
 * effective due moves forward with now: sla_clock_due(c, now) tells.
 *
 * On a business-hours calendar (cal != NULL, core/calendar.h) "time" is
 * business time: active time is the business time from start to now minus
 * the business time paused, and due is the last instant at which that
 * still equals the target (sla_cal_due: a target used up at a closing time
 * is due at the next opening).  paused_ms then holds business ms.  A clock
 * that stops on a calendar keeps its verdict: the active time and due at
 * the stop are frozen in stop_elapsed and stop_due, so a later edit of the
 * calendar (a holiday added in the past) never re-judges it.
 * ------------------------------------------------------------------------ */

struct sla_cal;

struct sla_clock {
    sla_ms started_at;
    sla_ms target_ms;
    sla_ms paused_ms;       /* closed pauses (and time spent stopped before a continue) */
    sla_ms paused_since;    /* 0 = not paused */
    sla_ms stopped_at;      /* 0 = running */
    sla_ms last_event_at;   /* latest start/pause/resume/stop/continue: events
                               may not go back in time, or pauses would be
                               counted twice or negative */
    const struct sla_cal *cal;  /* NULL = around the clock (borrowed) */
    /* Stopped on a calendar: the active time and the due at the stop.
     * stop_due != 0 marks a frozen verdict (kept even when cal is gone). */
    sla_ms stop_elapsed;
    sla_ms stop_due;
};

/* How a clock stands for compliance: met and breached are final once
 * stopped; a breached running clock already counts as breached. */
enum sla_outcome { SLA_PENDING, SLA_MET, SLA_BREACHED };

/* at > 0, 0 < target_ms <= SLA_TARGET_MAX_HOURS hours, else SW_E_INVAL.
 * A started clock runs around the clock: set cal afterwards (or with
 * sla_clock_set_calendar) to put it on a calendar. */
int sla_clock_start(struct sla_clock *c, sla_ms at, sla_ms target_ms);
/* Puts a running clock on calendar cal (NULL: around the clock): its paused
 * total is re-measured on cal from the closed pauses it had, pauses[i] =
 * {from, to} (an ongoing pause is paused_since, measured as it goes).  A
 * stopped clock keeps its calendar and verdict (SW_E_CONFLICT). */
int sla_clock_set_calendar(struct sla_clock *c, const struct sla_cal *cal,
                           const sla_ms (*pauses)[2], size_t npauses);
/* Time between two instants as c counts it: business time on a calendar,
 * wall time otherwise (0 when to <= from). */
sla_ms sla_clock_span(const struct sla_clock *c, sla_ms from, sla_ms to);
/* Changes the target, keeping start and pauses (severity change, recalc). */
int sla_clock_set_target(struct sla_clock *c, sla_ms target_ms);

/* State changes. SW_E_CONFLICT for a wrong state (pause while paused or
 * stopped, resume while not paused, stop while stopped, continue while
 * running), else SW_E_INVAL when at < last_event_at (which is never before
 * started_at). Stopping a paused clock closes the pause first; continuing
 * counts the stopped interval as paused. */
int sla_clock_pause(struct sla_clock *c, sla_ms at);
int sla_clock_resume(struct sla_clock *c, sla_ms at);
int sla_clock_stop(struct sla_clock *c, sla_ms at);
int sla_clock_continue(struct sla_clock *c, sla_ms at);

bool sla_clock_is_paused(const struct sla_clock *c);
bool sla_clock_is_stopped(const struct sla_clock *c);
/* Paused total, including a pause still going on at now. */
sla_ms sla_clock_paused_total(const struct sla_clock *c, sla_ms now);
sla_ms sla_clock_due(const struct sla_clock *c, sla_ms now);
/* Active time from start to now (or to the stop, or to the pause start). */
sla_ms sla_clock_elapsed(const struct sla_clock *c, sla_ms now);
double sla_clock_fraction(const struct sla_clock *c, sla_ms now); /* elapsed / target */
int64_t sla_clock_percent(const struct sla_clock *c, sla_ms now); /* floor(100 × fraction) */
/* Strictly over target: finishing exactly at due is met, 1 ms later is a
 * breach. A running clock breaches at due + 1 ms. */
bool sla_clock_breached(const struct sla_clock *c, sla_ms now);
sla_ms sla_clock_overage(const struct sla_clock *c, sla_ms now); /* 0 when not breached */
enum sla_outcome sla_clock_outcome(const struct sla_clock *c, sla_ms now);

/* ------------------------------------------------------------------------
 * Warnings, breach notification and re-arming (alarm.c)
 * ------------------------------------------------------------------------ */

/* Thresholds: ascending, unique percents 1..100 of a clock's window. */
#define SLA_THRESHOLDS_MAX 8
extern const uint8_t sla_thresholds_default[1]; /* {80} */

/* What has fired for one deadline. Bit i of `fired` = thresholds[i]
 * (positional: re-key the mask if a tenant changes its list). */
struct sla_alarm {
    uint32_t fired;
    bool breach_fired;
};

/* The vulnerability seed's sla_notified: anything fired for this deadline. */
bool sla_alarm_notified(const struct sla_alarm *a);

/* Validates (1..100, 1..SLA_THRESHOLDS_MAX values), sorts and dedupes
 * `in` into out; SW_E_INVAL and *bad = offending value on error. */
int sla_thresholds_normalize(const int *in, size_t n, uint8_t out[SLA_THRESHOLDS_MAX],
                             size_t *nout, int *bad);
/* Instant when the clock's active time reaches pct % of its target, with the
 * pauses known at now; SLA_NEVER when stopped or paused. */
sla_ms sla_threshold_at(const struct sla_clock *c, unsigned pct, sla_ms now);
/* Thresholds crossed at now and not in fired_mask, as a mask. A stopped
 * clock fires nothing (the item is done); a paused one only what it had
 * crossed before pausing. The caller ORs the result into its mask. */
uint32_t sla_warnings_crossed(const struct sla_clock *c, const uint8_t *thresholds, size_t n,
                              uint32_t fired_mask, sla_ms now);
/* A breach notification is due: breached, still running, not yet fired. */
bool sla_breach_due(const struct sla_clock *c, bool breach_fired, sla_ms now);
/* The next instant the scheduler must look at this clock: the earliest
 * unfired threshold or, unless fired, the breach (due + 1 ms). May be <= now
 * (overdue: look now). SLA_NEVER when stopped, paused or all fired. */
sla_ms sla_next_check(const struct sla_clock *c, const uint8_t *thresholds, size_t n,
                      uint32_t fired_mask, bool breach_fired, sla_ms now);
/* Re-arm rule after a recalculation: when the deadline moved and the new one
 * is in the future (> now), everything fired is cleared so the new deadline
 * warns again; a deadline still past keeps its flags (no duplicate breach).
 * Returns true when it cleared something. */
bool sla_alarm_rearm(struct sla_alarm *a, sla_ms old_due, sla_ms new_due, sla_ms now);

/* ------------------------------------------------------------------------
 * Alert lifecycle: open → acknowledged → resolved, reopen (alert.c)
 * ------------------------------------------------------------------------ */

enum sla_alert_state { SLA_ALERT_OPEN, SLA_ALERT_ACKNOWLEDGED, SLA_ALERT_RESOLVED };

struct sla_alert {
    enum sla_sev sev;
    enum sla_alert_state state;
    sla_ms created_at;
    sla_ms acknowledged_at;             /* 0 = never acknowledged */
    sla_ms resolved_at;                 /* 0 = not resolved */
    struct sla_clock ack, resolve;
    struct sla_alarm ack_alarm, resolve_alarm;
    /* Policy for the current severity, as last resolved. A clock stopped
     * before a change keeps the target it was judged against (target_ms). */
    struct sla_alert_targets targets;
};

const char *sla_alert_state_name(enum sla_alert_state s); /* open|acknowledged|resolved */
int sla_alert_state_parse(const char *s, enum sla_alert_state *out);

/* Both clocks start at created_at with targets from the waterfall. */
int sla_alert_init(struct sla_alert *a, enum sla_sev sev, sla_ms created_at,
                   const struct sla_alert_scopes *s);
/* Stops the ack clock. Resolved → SW_E_CONFLICT. Acknowledging an
 * acknowledged alert is idempotent: 0, nothing changes, the first
 * acknowledgement stands (client retries are normal, the record is not). */
int sla_alert_acknowledge(struct sla_alert *a, sla_ms at);
/* Stops the resolve clock, and the ack clock too if unacknowledged
 * (acknowledged_at stays 0: nobody acknowledged it). Resolved → CONFLICT. */
int sla_alert_resolve(struct sla_alert *a, sla_ms at);
/* Resolved → acknowledged (if it had been) or open; continues the clocks
 * the resolution stopped, the resolved interval counting as paused. An
 * acknowledgement made before the resolution stands. Not resolved → CONFLICT. */
int sla_alert_reopen(struct sla_alert *a, sla_ms at);
/* New severity, targets re-resolved; starts and pauses kept. Only clocks
 * still running take the new target: a stopped clock's verdict is evidence.
 * Alarms re-arm by the rule above. Resolved → CONFLICT, urgent → INVAL. */
int sla_alert_set_severity(struct sla_alert *a, enum sla_sev sev,
                           const struct sla_alert_scopes *s, sla_ms now);
/* Policy changed: re-resolve and move the running clocks. A resolved alert
 * is never recalculated. *changed tells whether anything stored changed. */
int sla_alert_recalculate(struct sla_alert *a, const struct sla_alert_scopes *s,
                          sla_ms now, bool *changed);

/* ------------------------------------------------------------------------
 * Finding lifecycle: open ⇄ paused, terminal states, reopen (finding.c)
 * ------------------------------------------------------------------------ */

enum sla_finding_state {
    SLA_FINDING_OPEN,
    SLA_FINDING_PAUSED,
    SLA_FINDING_CLOSED,
    SLA_FINDING_FALSE_POSITIVE,
    SLA_FINDING_ACCEPTED_RISK,
    SLA_FINDING_NOT_ACCESSIBLE,
    SLA_FINDING_STATE_COUNT
};

struct sla_finding {
    enum sla_sev sev;
    enum sla_finding_state state;
    sla_ms created_at;                  /* discovery: the clock's start */
    sla_ms closed_at;                   /* 0 unless terminal */
    struct sla_finding_target target;   /* hours and where they came from */
    struct sla_clock clock;             /* the resolve clock */
    struct sla_alarm alarm;             /* sla_notified = sla_alarm_notified(&alarm) */
};

const char *sla_finding_state_name(enum sla_finding_state s);
int sla_finding_state_parse(const char *s, enum sla_finding_state *out);
bool sla_finding_state_terminal(enum sla_finding_state s);

int sla_finding_init(struct sla_finding *f, enum sla_sev sev, sla_ms created_at,
                     const struct sla_finding_scopes *s);
int sla_finding_pause(struct sla_finding *f, sla_ms at);   /* not open → CONFLICT */
int sla_finding_resume(struct sla_finding *f, sla_ms at);  /* not paused → CONFLICT */
/* status must be terminal (else INVAL); already terminal → CONFLICT. A
 * paused finding's pause ends at the close. */
int sla_finding_close(struct sla_finding *f, enum sla_finding_state status, sla_ms at);
/* Terminal → open; the closed interval counts as paused. Else CONFLICT. */
int sla_finding_reopen(struct sla_finding *f, sla_ms at);
/* Re-resolves hours; start and pauses kept; alarms re-armed by the rule.
 * Terminal → CONFLICT. */
int sla_finding_set_severity(struct sla_finding *f, enum sla_sev sev,
                             const struct sla_finding_scopes *s, sla_ms now);
/* The seed's formula: due = created_at + resolved hours + paused total.
 * Terminal findings are never recalculated (*changed = false). *changed is
 * true when the hours or their source changed (the row needs a write). */
int sla_finding_recalculate(struct sla_finding *f, const struct sla_finding_scopes *s,
                            sla_ms now, bool *changed);

/* ------------------------------------------------------------------------
 * Items that reach slawatch with a past, and what other tools say of items
 * already tracked (ingest.c)
 *
 * The history rule: an item is judged on its own instants (a clock that
 * stopped late is breached, whenever slawatch heard of it), but told only
 * about instants after it reached slawatch (`now` of its creation, its
 * ingestion).  So a new item is created with every warning threshold and
 * breach whose instant is at or before its ingestion (up to its clock's
 * stop) marked as fired, without a notice: the scheduler, which fires what
 * is due and not fired, has nothing to say about them.  Later instants
 * notify as usual.  An alert's escalation chain starts with its ack
 * breach's notice, so an alert whose ack clock breached before ingestion
 * does not start its chain by itself (a person can, by hand).
 * ------------------------------------------------------------------------ */

/* What a clock's alarm holds at now had it been watched all along: each of
 * thresholds reached by now (or by the clock's stop), and the breach if the
 * clock was past due by then. */
struct sla_alarm sla_alarm_past(const struct sla_clock *c, const uint8_t *thresholds, size_t n,
                                sla_ms now);

/* A new alert's history and arrival: acknowledged at ack_at and/or
 * resolved at resolved_at (0 = not), each at or after the previous event
 * (else SW_E_INVAL), then both alarms marked by the history rule at now
 * (its threshold: the resolved warn_pct).  a comes from sla_alert_init. */
int sla_alert_ingest(struct sla_alert *a, sla_ms ack_at, sla_ms resolved_at, sla_ms now);
/* The alert's own warning threshold (its resolved warn_pct, when 1..100)
 * into th[0]; 1, or 0 when it has none. */
size_t sla_alert_warn_threshold(const struct sla_alert *a, uint8_t th[1]);

/* What was done to a tracked item to follow its source (bits). */
enum sla_sync_done {
    SLA_SYNC_ACKNOWLEDGED = 1u << 0,
    SLA_SYNC_RESOLVED     = 1u << 1,   /* an alert resolved, a finding closed */
    SLA_SYNC_REOPENED     = 1u << 2,
    SLA_SYNC_SEVERITY     = 1u << 3,
};

/* Another tool says a tracked alert is `want` since at (0 = it does not
 * say when: now, and never a reopen).  Only steps forward are taken: open →
 * acknowledged, open or acknowledged → resolved, and resolved → open (or
 * acknowledged) by a reopen, only when at is after the stored resolution (a new episode;
 * the same report repeated, or a source still firing an episode a person
 * resolved here, changes nothing).  acknowledged → open changes nothing
 * (an acknowledgement is a fact).  An instant before the alert's last
 * change is taken as that change's.  *done: what was done (0 = nothing). */
int sla_alert_sync(struct sla_alert *a, enum sla_alert_state want, sla_ms at, sla_ms now,
                   unsigned *done);

/* A new finding's state: open, or terminal since closed_at (at or after
 * discovery, else SW_E_INVAL), then its alarm marked by the history rule at
 * now over thresholds.  f comes from sla_finding_init. */
int sla_finding_ingest(struct sla_finding *f, enum sla_finding_state state, sla_ms closed_at,
                       const uint8_t *thresholds, size_t n, sla_ms now);

/* Another tool says a tracked finding is `want` (open or terminal) since at
 * (0 = now), with severity sev.  Open or paused → terminal: closed at at;
 * terminal → open: reopened at at, only when at is after the stored close
 * (as for alerts); a live finding takes sev (re-resolved through s, alarms
 * re-armed by the rule).  Terminal → another terminal state, paused → open
 * and open → paused change nothing.  Instants as sla_alert_sync. */
int sla_finding_sync(struct sla_finding *f, enum sla_finding_state want, sla_ms at,
                     enum sla_sev sev, const struct sla_finding_scopes *s, sla_ms now,
                     unsigned *done);

/* ------------------------------------------------------------------------
 * Penalties, compliance, grades (grade.c)
 * ------------------------------------------------------------------------ */

/* rate × started hours over target: 1 ms over bills 1 hour, exactly at
 * target bills nothing. Saturates at INT64_MAX instead of overflowing. */
int64_t sla_penalty_cents(int64_t rate_cph, sla_ms overage_ms);
int64_t sla_clock_penalty_cents(const struct sla_clock *c, int64_t rate_cph, sla_ms now);
/* met / decided × 100, decided = clocks stopped or breached. With nothing
 * decided the answer is 100: no promise was broken (the scorecard carries
 * the count, so a UI can still say "no data"). met > decided → 100 clamp. */
double sla_compliance_pct(uint64_t met, uint64_t decided);
/* A ≥ 95, B ≥ 90, C ≥ 85, D ≥ 75, else F. */
char sla_grade(double pct);
/* The same bands on counts, in exact integer arithmetic. */
char sla_grade_counts(uint64_t met, uint64_t decided);

/* ------------------------------------------------------------------------
 * Escalation contacts: up to three, independent and optional (contacts.c)
 * ------------------------------------------------------------------------ */

#define SLA_CONTACTS_MAX 3
#define SLA_CONTACT_DAYS_MAX 3650

struct sla_contact {
    int level;                  /* 1..3, each at most once, any subset */
    const char *user;           /* borrowed, non-empty */
    int days_after_breach;      /* 0..SLA_CONTACT_DAYS_MAX */
};

struct sla_contacts {
    struct sla_contact item[SLA_CONTACTS_MAX];
    size_t n;                   /* 0 = this scope has none: inherit */
};

/* SW_E_INVAL (and *bad_index) for n > 3, level outside 1..3 or repeated,
 * empty user, days outside 0..SLA_CONTACT_DAYS_MAX. */
int sla_contacts_validate(const struct sla_contact *c, size_t n, size_t *bad_index);
/* First scope with at least one contact: project, company, then global.
 * NULL when none has any; *src (optional) says which answered. */
const struct sla_contacts *sla_contacts_inherit(const struct sla_contacts *project,
                                                const struct sla_contacts *company,
                                                const struct sla_contacts *global,
                                                enum sla_src *src);
/* Contacts due at now and not fired: bit i = c[i], due at breach_at +
 * days_after_breach days. breach_at 0 (no breach) → 0. Call while open. */
uint32_t sla_contacts_due(sla_ms breach_at, const struct sla_contact *c, size_t n,
                          uint32_t fired_mask, sla_ms now);
/* Earliest unfired contact instant, SLA_NEVER if none (or no breach). */
sla_ms sla_contacts_next(sla_ms breach_at, const struct sla_contact *c, size_t n,
                         uint32_t fired_mask);

/* ------------------------------------------------------------------------
 * Escalation chains: L1 → … → CISO per tenant and severity (escalation.c)
 *
 * An alert starts at level 0 (not escalated).  Step 0 fires when its ack
 * clock breaches, step k when step k-1 has been unacknowledged for its
 * timeout; either may be taken by hand earlier.  Automatic steps are
 * anchored: escalated_at is the instant a step was due, not when someone
 * looked, so a late look (downtime, a slow scheduler) catches up instead of
 * shifting the whole schedule.  A manual step anchors at its own instant.
 * Acknowledging (or resolving) stops the automatic walk.
 * ------------------------------------------------------------------------ */

#define SLA_ESC_STEPS_MAX 5
#define SLA_ESC_TIMEOUT_MIN_MIN 1
#define SLA_ESC_TIMEOUT_MIN_MAX 1440

enum sla_esc_level { SLA_ESC_L1, SLA_ESC_L2, SLA_ESC_L3, SLA_ESC_MANAGER, SLA_ESC_CISO,
                     SLA_ESC_LEVEL_COUNT };
enum sla_esc_method { SLA_ESC_EMAIL, SLA_ESC_SLACK, SLA_ESC_PAGER, SLA_ESC_PHONE,
                      SLA_ESC_METHOD_COUNT };

struct sla_esc_step {
    enum sla_esc_level level;
    const char *role;           /* who is told (role, team or user); borrowed, non-empty */
    int32_t timeout_min;        /* 1..1440: unacknowledged this long → next step */
    enum sla_esc_method method;
};

const char *sla_esc_level_name(enum sla_esc_level l);     /* "L1".."Manager","CISO"; NULL if invalid */
int sla_esc_level_parse(const char *s, enum sla_esc_level *out);
const char *sla_esc_method_name(enum sla_esc_method m);   /* email|slack|pager|phone */
int sla_esc_method_parse(const char *s, enum sla_esc_method *out);

/* 1..SLA_ESC_STEPS_MAX steps, each with a valid level and method, a
 * non-empty role and a timeout in range.  SW_E_INVAL with *bad_index (the
 * step, or n for the count) and *bad_field ("chain", "level", "role",
 * "timeout_minutes", "notification_method"); both outputs optional. */
int sla_esc_chain_validate(const struct sla_esc_step *s, size_t n, size_t *bad_index,
                           const char **bad_field);

/* Where an alert stands on its chain. */
struct sla_esc_state {
    int level;                  /* steps fired: 0 = not escalated */
    sla_ms escalated_at;        /* step `level` was due (auto) or taken (manual) */
};

/* The instant the next step fires by itself; SLA_NEVER when the ack clock
 * is stopped (acknowledged or resolved), the chain is exhausted (or empty),
 * or the state is inconsistent.  Level 0: the ack clock's breach instant
 * (due + 1 ms); level k: escalated_at + step k-1's timeout.  May be <= now. */
sla_ms sla_esc_next_at(const struct sla_esc_step *chain, size_t n,
                       const struct sla_esc_state *st, const struct sla_clock *ack, sla_ms now);
/* One automatic step, if due at now: returns 1, advances st (escalated_at
 * = the instant it was due), *fired = its index, *due_at = that instant;
 * 0 when nothing is due.  Call again until 0 to catch up. */
int sla_esc_auto_step(const struct sla_esc_step *chain, size_t n, struct sla_esc_state *st,
                      const struct sla_clock *ack, sla_ms now, size_t *fired, sla_ms *due_at);
/* One step by hand at now: 0 and *fired, or SW_E_EXHAUSTED when every step
 * has fired (or the chain is empty: undefined).  escalated_at = now. */
int sla_esc_manual_step(const struct sla_esc_step *chain, size_t n, struct sla_esc_state *st,
                        sla_ms now, size_t *fired);

#endif
