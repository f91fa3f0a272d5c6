-- Escalation chains, their audit trail, breach records, and the alert
-- columns the scheduler needs to walk a chain.

-- A chain per tenant and severity (the SOC seed's EscalationEngine): the
-- chain row says who saved it last; its ordered steps are escalation_steps.
CREATE TABLE escalation_chains (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    severity    TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, severity)
) STRICT, WITHOUT ROWID;

-- Step idx (0-based) of a chain: idx 0 fires when the alert's ack clock
-- breaches (or by hand), idx k when step k-1 has been unacknowledged for its
-- timeout_min (or by hand).
CREATE TABLE escalation_steps (
    tenant_id   TEXT NOT NULL,
    severity    TEXT NOT NULL,
    idx         INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 4),
    level       TEXT NOT NULL CHECK (level IN ('L1', 'L2', 'L3', 'Manager', 'CISO')),
    role        TEXT NOT NULL,
    timeout_min INTEGER NOT NULL CHECK (timeout_min BETWEEN 1 AND 1440),
    method      TEXT NOT NULL CHECK (method IN ('email', 'slack', 'pager', 'phone')),
    PRIMARY KEY (tenant_id, severity, idx),
    FOREIGN KEY (tenant_id, severity) REFERENCES escalation_chains (tenant_id, severity)
        ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- The audit history: one row per step fired, automatically or by hand.
-- level_index is 1-based (the alert's escalation_level after the step).
CREATE TABLE escalation_events (
    id          INTEGER PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    alert_id    TEXT NOT NULL,
    severity    TEXT NOT NULL,
    level_index INTEGER NOT NULL,
    level       TEXT NOT NULL,
    role        TEXT NOT NULL,
    method      TEXT NOT NULL,
    at          INTEGER NOT NULL,       -- when it fired (ms)
    due_at      INTEGER NOT NULL,       -- when it was due (auto) / = at (manual)
    trigger     TEXT NOT NULL CHECK (trigger IN ('auto', 'manual')),
    actor       TEXT NOT NULL DEFAULT '',
    event_id    INTEGER                 -- the events row (sla.escalation)
) STRICT;
CREATE INDEX escalation_events_tenant ON escalation_events (tenant_id, id);
CREATE INDEX escalation_events_alert ON escalation_events (tenant_id, alert_id, id);

-- Breach records (alerts: ack and resolve clocks; findings: resolve), one
-- per clock and deadline.
CREATE TABLE breaches (
    id          INTEGER PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    item_kind   TEXT NOT NULL CHECK (item_kind IN ('alert', 'finding')),
    item_id     TEXT NOT NULL,
    clock       TEXT NOT NULL CHECK (clock IN ('ack', 'resolve')),
    due_at      INTEGER NOT NULL,
    breached_at INTEGER NOT NULL,       -- when it was detected and recorded
    severity    TEXT NOT NULL,
    UNIQUE (tenant_id, item_kind, item_id, clock, due_at)
) STRICT;
CREATE INDEX breaches_tenant ON breaches (tenant_id, breached_at);

-- Alerts walking a chain: escalated_at is the instant the current step
-- (escalation_level) was due (automatic, anchored on the breach) or taken
-- (manual); esc_severity the chain walked (fixed at the first step);
-- esc_due_at the next automatic step's instant while unacknowledged (NULL:
-- none), the scheduler's second queue beside next_check_at.
ALTER TABLE alerts ADD COLUMN escalated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN esc_severity TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN esc_due_at INTEGER;
CREATE INDEX alerts_esc_due ON alerts (esc_due_at) WHERE esc_due_at IS NOT NULL;
