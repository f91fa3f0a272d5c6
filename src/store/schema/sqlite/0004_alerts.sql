-- SOC alerts: policy layers of the alert waterfall, named SLA configs, and
-- the alerts themselves with both clocks as the core's struct sla_alert.

-- One scope's alert overrides, per severity.  tenant_id '' = global,
-- project_id '' = the tenant itself (('', '') is the global layer).  A scope
-- "has a layer" when it has at least one row; NULL (or 0) inherits.
CREATE TABLE alert_policy_layers (
    tenant_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    ack_min     INTEGER,            -- MTTA target, minutes
    resolve_min INTEGER,            -- MTTR target, minutes
    warn_pct    INTEGER,            -- warning threshold, % of the window
    penalty_cph INTEGER,            -- cents per started hour over target
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, project_id, severity),
    CHECK (project_id = '' OR tenant_id <> '')
) STRICT, WITHOUT ROWID;

-- Named SLA configurations (the SOC seed's SLAConfig): a template plus
-- overrides in the SLA definition's own field names and units (NULL = not
-- overridden).  At most one active per tenant: the one last applied.
CREATE TABLE sla_configs (
    id          INTEGER PRIMARY KEY,   -- shown as "cfg_<id>"
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    template    TEXT NOT NULL,
    critical_mtta_minutes      INTEGER,
    critical_mttr_hours        INTEGER,
    high_mtta_minutes          INTEGER,
    high_mttr_hours            INTEGER,
    medium_mtta_hours          INTEGER,
    medium_mttr_hours          INTEGER,
    low_mtta_hours             INTEGER,
    low_mttr_hours             INTEGER,
    notification_threshold_pct INTEGER,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sla_configs_tenant ON sla_configs (tenant_id, id);
CREATE UNIQUE INDEX sla_configs_one_active ON sla_configs (tenant_id) WHERE active = 1;

-- Alerts.  Instants are ms since the epoch, 0 = not yet (as in the core).
-- Clock columns mirror struct sla_clock (ack_*, res_*), alarms struct
-- sla_alarm, targets struct sla_alert_targets (sources by API name).
-- ack_due_at / resolve_due_at are derived (started + target + paused) and
-- kept for filters; next_check_at is the earliest warning/breach instant of
-- a running clock (NULL = nothing to check), for the scheduler.  No foreign
-- key on tenant_id: the store checks the tenant once per batch, not per row.
CREATE TABLE alerts (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    project_id        TEXT NOT NULL DEFAULT '',
    severity          TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    state             TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    title             TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    acknowledged_at   INTEGER NOT NULL DEFAULT 0,
    resolved_at       INTEGER NOT NULL DEFAULT 0,
    ack_started_at    INTEGER NOT NULL,
    ack_target_ms     INTEGER NOT NULL,
    ack_paused_ms     INTEGER NOT NULL DEFAULT 0,
    ack_paused_since  INTEGER NOT NULL DEFAULT 0,
    ack_stopped_at    INTEGER NOT NULL DEFAULT 0,
    ack_last_event_at INTEGER NOT NULL,
    res_started_at    INTEGER NOT NULL,
    res_target_ms     INTEGER NOT NULL,
    res_paused_ms     INTEGER NOT NULL DEFAULT 0,
    res_paused_since  INTEGER NOT NULL DEFAULT 0,
    res_stopped_at    INTEGER NOT NULL DEFAULT 0,
    res_last_event_at INTEGER NOT NULL,
    ack_fired         INTEGER NOT NULL DEFAULT 0,
    ack_breach_fired  INTEGER NOT NULL DEFAULT 0,
    res_fired         INTEGER NOT NULL DEFAULT 0,
    res_breach_fired  INTEGER NOT NULL DEFAULT 0,
    ack_min           INTEGER NOT NULL,
    resolve_min       INTEGER NOT NULL,
    warn_pct          INTEGER NOT NULL,
    penalty_cph       INTEGER NOT NULL,
    ack_src           TEXT NOT NULL,
    resolve_src       TEXT NOT NULL,
    warn_src          TEXT NOT NULL,
    penalty_src       TEXT NOT NULL,
    ack_due_at        INTEGER NOT NULL,
    resolve_due_at    INTEGER NOT NULL,
    next_check_at     INTEGER,
    escalation_level  INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX alerts_next_check ON alerts (next_check_at) WHERE next_check_at IS NOT NULL;
