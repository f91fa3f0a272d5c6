-- Alert volume and auto-resolved alerts per local day (SQLite 0042).
CREATE TABLE alert_counts (
    tenant_id     TEXT NOT NULL,
    day           TEXT NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    project_id    TEXT NOT NULL DEFAULT '',
    created       BIGINT NOT NULL,
    auto_resolved BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, severity, project_id)
);
INSERT INTO rollups_pending (reason) VALUES ('0042 alert counts')
    ON CONFLICT (reason) DO NOTHING;
