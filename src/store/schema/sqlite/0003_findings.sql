-- Vulnerability findings and their SLA policy (the waterfall's stored levels).

-- One row per scope that overrides something. The global level is
-- (tenant_id '', project_id ''), a company (tenant_id, ''), a project
-- (tenant_id, project_id). Hours: NULL or 0 = inherit (kept as written, so a
-- GET shows what was saved). Escalation contacts: one pair of columns per
-- level 1..3 (each level at most once, any subset); all NULL = none, inherit.
-- No foreign key to tenants: the global row has no tenant; the store checks
-- the tenant and project exist in the transaction that writes the row.
CREATE TABLE finding_policies (
    tenant_id       TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    urgent_hours    INTEGER,
    critical_hours  INTEGER,
    high_hours      INTEGER,
    medium_hours    INTEGER,
    low_hours       INTEGER,
    contact1_user   TEXT,
    contact1_days   INTEGER,
    contact2_user   TEXT,
    contact2_days   INTEGER,
    contact3_user   TEXT,
    contact3_days   INTEGER,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, project_id)
) STRICT, WITHOUT ROWID;

-- A finding is the core's struct sla_finding flattened into a row.
-- due_at = created_at + sla_hours h + paused_ms: for a paused finding that is
-- the due as of its pause start (the ongoing pause, now - paused_since, is
-- added when read). next_check_at: the scheduler's next look (earliest
-- unfired warning or the breach), NULL = never (paused, terminal, all fired).
CREATE TABLE findings (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    project_id      TEXT NOT NULL DEFAULT '',
    severity        TEXT NOT NULL
                    CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    title           TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL
                    CHECK (state IN ('open', 'paused', 'closed', 'false_positive',
                                     'accepted_risk', 'not_accessible')),
    created_at      INTEGER NOT NULL,
    closed_at       INTEGER,
    sla_hours       INTEGER NOT NULL CHECK (sla_hours > 0),
    sla_source      TEXT NOT NULL
                    CHECK (sla_source IN ('project', 'company', 'global', 'builtin')),
    safety_net      INTEGER NOT NULL DEFAULT 0,
    paused_ms       INTEGER NOT NULL DEFAULT 0,
    paused_since    INTEGER,
    stopped_at      INTEGER,
    last_event_at   INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    warn_fired      INTEGER NOT NULL DEFAULT 0,
    breach_fired    INTEGER NOT NULL DEFAULT 0,
    next_check_at   INTEGER,
    ingested_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- Recalculation and the state filter of lists: the live findings of a
-- tenant (or of one of its projects). Terminal rows are left out.
CREATE INDEX findings_live ON findings (tenant_id, project_id)
    WHERE state IN ('open', 'paused');
-- The scheduler's queue: only rows with something left to check.
CREATE INDEX findings_next_check ON findings (next_check_at)
    WHERE next_check_at IS NOT NULL;
