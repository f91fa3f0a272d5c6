-- The SOC seed's other metric types, per tenant x local day x severity x
-- project: alert volume (alerts created that local day) and auto-resolved
-- alerts (resolved that day without ever being acknowledged; the day's
-- resolutions are the resolve rollups' count).  Kept in the alert's own
-- transaction next to its rollups (a reopen takes an auto-resolution back,
-- a severity change moves the volume), rebuilt from the alerts table with
-- them byte for byte.  Rows at 0/0 are deleted.
CREATE TABLE alert_counts (
    tenant_id     TEXT NOT NULL,
    day           TEXT NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    project_id    TEXT NOT NULL DEFAULT '',
    created       INTEGER NOT NULL,
    auto_resolved INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, severity, project_id)
) STRICT, WITHOUT ROWID;
INSERT INTO rollups_pending (reason) VALUES ('0042 alert counts')
    ON CONFLICT (reason) DO NOTHING;
