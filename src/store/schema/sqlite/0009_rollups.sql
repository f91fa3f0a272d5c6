-- Analytics: per-day rollups of stopped clocks, live gauges, tenant settings.
--
-- rollups: one row per tenant x local day x severity x project x clock
-- ('ack' | 'resolve').  `day` is the tenant's local date (tenants.timezone,
-- IANA, through ICU) of the instant the clock STOPPED: an alert acknowledged
-- at 2026-10-31T23:30-04:00 counts on 2026-10-31 for a New York tenant.  A
-- row holds every stopped clock of its key as it stands now: written in the
-- same transaction that stops (or un-stops) a clock, a reopened alert's
-- earlier contribution taken back out, so a rollup always equals the
-- recomputation from the alerts table (`slawatch rollups rebuild`), byte for
-- byte.  hist is core/rollup.h's compact encoding of the log-bucketed
-- duration histogram (<= 1 % relative error on percentiles).  Rows with
-- count 0 are deleted, never kept.
CREATE TABLE rollups (
    tenant_id     TEXT NOT NULL,
    day           TEXT NOT NULL,             -- YYYY-MM-DD, tenant's time zone
    severity      TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    project_id    TEXT NOT NULL DEFAULT '',
    clock         TEXT NOT NULL CHECK (clock IN ('ack', 'resolve')),
    count         INTEGER NOT NULL,          -- stopped clocks
    met           INTEGER NOT NULL,          -- stopped at or before due
    breached      INTEGER NOT NULL,          -- stopped after due
    sum_ms        INTEGER NOT NULL,          -- active durations, total
    max_ms        INTEGER NOT NULL,
    hist          BLOB NOT NULL,
    penalty_cents INTEGER NOT NULL DEFAULT 0, -- resolve clocks: rate x started hours over
    PRIMARY KEY (tenant_id, day, severity, project_id, clock)
) STRICT, WITHOUT ROWID;

-- Live gauges every 5 minutes per tenant, for intraday charts (/trends/live).
CREATE TABLE live_snapshots (
    tenant_id   TEXT NOT NULL,
    at          INTEGER NOT NULL,            -- ms since the epoch
    open        INTEGER NOT NULL,            -- alerts not resolved
    breaches    INTEGER NOT NULL,            -- breached clocks of open alerts
    warnings    INTEGER NOT NULL,            -- running clocks past their warning threshold
    PRIMARY KEY (tenant_id, at)
) STRICT, WITHOUT ROWID;

-- A monthly cap on service credits (penalties), in cents; NULL = no cap.
ALTER TABLE tenants ADD COLUMN monthly_penalty_cap INTEGER;

-- Open alerts of a tenant (/current, /breaches, live gauges) without
-- walking its resolved history; resolved alerts leave the index.
CREATE INDEX alerts_open ON alerts (tenant_id, severity) WHERE state <> 'resolved';
-- Breached resolutions by stop instant (/penalties/{tenant}: each breach).
CREATE INDEX alerts_res_breached ON alerts (tenant_id, res_stopped_at)
    WHERE res_stopped_at > resolve_due_at;
