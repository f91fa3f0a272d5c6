-- Findings in numbers: closed findings as rollups, live findings as counters
-- per group, an index over running deadlines (SQLite migration 0040 has
-- the comments in full).
CREATE TABLE finding_rollups (
    tenant_id     TEXT NOT NULL,
    day           TEXT NOT NULL,
    severity      TEXT NOT NULL
                  CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    project_id    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL
                  CHECK (status IN ('closed', 'false_positive', 'accepted_risk',
                                    'not_accessible')),
    count         BIGINT NOT NULL,
    met           BIGINT NOT NULL,
    breached      BIGINT NOT NULL,
    sum_ms        BIGINT NOT NULL,
    min_ms        BIGINT NOT NULL,
    max_ms        BIGINT NOT NULL,
    hist          BYTEA NOT NULL,
    penalty_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, severity, project_id, status)
);

CREATE TABLE finding_counts (
    tenant_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    severity    TEXT NOT NULL
                CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    open        BIGINT NOT NULL,
    paused      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, project_id, severity)
);

-- (id included: the upcoming list is an index-only scan)
CREATE INDEX findings_open_base ON findings (tenant_id, project_id, severity, clock_base)
    INCLUDE (id) WHERE state = 'open';

CREATE TABLE rollups_pending (
    reason  TEXT PRIMARY KEY
);
INSERT INTO rollups_pending (reason) VALUES ('0040 findings numbers');
