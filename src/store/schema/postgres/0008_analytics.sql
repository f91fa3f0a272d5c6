-- Analytics: per-day rollups of stopped clocks and live gauges (SQLite
-- migration 0009; the tenant's monthly_penalty_cap is in 0001 here).
CREATE TABLE rollups (
    tenant_id     TEXT NOT NULL,
    day           TEXT NOT NULL,             -- YYYY-MM-DD, tenant's time zone
    severity      TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    project_id    TEXT NOT NULL DEFAULT '',
    clock         TEXT NOT NULL CHECK (clock IN ('ack', 'resolve')),
    count         BIGINT NOT NULL,
    met           BIGINT NOT NULL,
    breached      BIGINT NOT NULL,
    sum_ms        BIGINT NOT NULL,
    max_ms        BIGINT NOT NULL,
    hist          BYTEA NOT NULL,
    penalty_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, severity, project_id, clock)
);

CREATE TABLE live_snapshots (
    tenant_id   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    open        BIGINT NOT NULL,
    breaches    BIGINT NOT NULL,
    warnings    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, at)
);
