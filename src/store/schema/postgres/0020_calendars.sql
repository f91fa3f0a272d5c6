-- Business-hours calendars (API.md "Business-hours calendars").

-- A tenant's calendar: weekly hours in its IANA zone, holidays.  hours and
-- holidays are the canonical JSON the API answers; the store compiles them
-- (core/calendar.h) and caches the result by (tenant, id, version): every
-- save bumps version, so a node never uses a calendar another node replaced.
CREATE TABLE calendars (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    timezone    TEXT NOT NULL,
    hours       TEXT NOT NULL,
    holidays    TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);

-- Which calendar a policy scope names per severity: alerts (the SLA
-- definition of a tenant or project) and findings (a policy scope: global
-- (tenant ''), company (project ''), project).  calendar is a calendar id
-- of the tenant or '24x7' (around the clock, said explicitly); no row =
-- null: inherit (findings: the next level; alerts: a project its tenant,
-- a tenant around the clock).
CREATE TABLE policy_calendars (
    tenant_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('alert', 'finding')),
    severity    TEXT NOT NULL
                CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    calendar    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, project_id, kind, severity)
);
-- "is this calendar in use?" (DELETE answers 409 while a policy names it)
CREATE INDEX policy_calendars_by_calendar ON policy_calendars (tenant_id, calendar);

-- Alerts: each clock's calendar (NULL = around the clock; a stopped clock
-- keeps the one it was judged on) and, once stopped on a calendar, its
-- business active time (its due is ack_due_at / resolve_due_at, frozen).
ALTER TABLE alerts ADD COLUMN ack_calendar TEXT;
ALTER TABLE alerts ADD COLUMN res_calendar TEXT;
ALTER TABLE alerts ADD COLUMN ack_elapsed_ms BIGINT;
ALTER TABLE alerts ADD COLUMN res_elapsed_ms BIGINT;

-- Findings: a group's resolved calendar per severity and the level that
-- chose it (NULL = around the clock).  A live finding on a calendar keeps
-- its clock base as the instant from which its business time counts: the
-- discovery when it never paused (so moving it onto or off a calendar
-- rewrites nothing), else the instant whose business time to now equals
-- its active time.  A terminal finding freezes the calendar that judged it
-- with its due and active time.
ALTER TABLE finding_targets ADD COLUMN calendar TEXT;
ALTER TABLE finding_targets ADD COLUMN calendar_source TEXT NOT NULL DEFAULT 'builtin';
ALTER TABLE findings ADD COLUMN frozen_calendar TEXT;
ALTER TABLE findings ADD COLUMN frozen_due_at BIGINT;
ALTER TABLE findings ADD COLUMN frozen_elapsed_ms BIGINT;
-- Live findings whose clock base depends on the calendar (they paused, or
-- were closed and reopened): the only rows a calendar change rewrites.
CREATE INDEX findings_paused_history ON findings (tenant_id, project_id, severity)
    WHERE state IN ('open', 'paused') AND (clock_base <> created_at OR paused_since IS NOT NULL);

-- Closed pauses of every clock (a finding's pause, the time an item spent
-- resolved before a reopen), so a clock moved onto another calendar, or
-- whose calendar changed, re-measures them in business time.
CREATE TABLE clock_pauses (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    item_kind   TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    clock       TEXT NOT NULL,
    from_at     BIGINT NOT NULL,
    to_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, item_kind, item_id, clock, from_at)
);
