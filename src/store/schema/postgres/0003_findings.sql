-- Vulnerability findings, their policy waterfall's stored levels and their
-- groups' resolved targets (the final shape of SQLite migrations 0003 and
-- 0007; the comments there explain derived deadlines in full).

-- One row per scope that overrides something: the global level is
-- ('', ''), a company (tenant_id, ''), a project (tenant_id, project_id).
-- Hours NULL or 0 = inherit; escalation contacts one pair per level 1..3.
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
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, project_id)
);

-- Resolved targets per group (tenant, project, severity): snapshots of the
-- waterfall taken when the group's scope was last recalculated.
CREATE TABLE finding_targets (
    tenant_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    severity    TEXT NOT NULL
                CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    hours       INTEGER NOT NULL CHECK (hours > 0),
    source      TEXT NOT NULL CHECK (source IN ('project', 'company', 'global', 'builtin')),
    safety_net  INTEGER NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, project_id, severity)
);

-- A live finding stores its clock base; its deadline is clock_base + the
-- group's hours (+ the ongoing pause).  stage: the highest percent whose
-- notice fired (100 = the breach); contacts_fired: bit (level - 1).
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
    created_at      BIGINT NOT NULL,
    closed_at       BIGINT,
    clock_base      BIGINT NOT NULL,
    paused_since    BIGINT,
    stopped_at      BIGINT,
    last_event_at   BIGINT NOT NULL,
    stage           INTEGER NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 100),
    contacts_fired  INTEGER NOT NULL DEFAULT 0,
    breach_fired    INTEGER GENERATED ALWAYS AS (CASE WHEN stage = 100 THEN 1 ELSE 0 END) STORED,
    sla_notified    INTEGER GENERATED ALWAYS AS
                    (CASE WHEN stage <> 0 OR contacts_fired <> 0 THEN 1 ELSE 0 END) STORED,
    frozen_hours    INTEGER,
    frozen_source   TEXT,
    frozen_safety_net INTEGER,
    ingested_at     BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX findings_live ON findings (tenant_id, project_id, state)
    WHERE state IN ('open', 'paused');
CREATE INDEX findings_due
    ON findings (tenant_id, project_id, severity, stage, contacts_fired, clock_base)
    WHERE state = 'open';
CREATE INDEX findings_fired
    ON findings (tenant_id, project_id, severity, clock_base, paused_since, stage,
                 contacts_fired, state)
    WHERE state IN ('open', 'paused') AND (stage <> 0 OR contacts_fired <> 0);
