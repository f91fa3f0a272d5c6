-- Findings in numbers (API.md): closed findings as rollups, live findings as
-- counters per group, and an index over running deadlines.
--
-- finding_rollups: one row per tenant x local day x severity x project x
-- terminal status, written in the transaction that closes a finding (and
-- taken back out by the one that reopens it), as the alert rollups of
-- 0009: `day` is the tenant's local date of the close; the sample is the
-- finding's active remediation time (discovery to close, pauses
-- excluded), met when it closed at or before its deadline.  min_ms and
-- max_ms clamp the histogram's percentiles.  `slawatch rollups rebuild`
-- recomputes the rows from the findings table byte for byte.
-- penalty_cents is kept at 0: the row shape is the alert rollups' own, so
-- one piece of code keeps both.
CREATE TABLE finding_rollups (
    tenant_id     TEXT NOT NULL,
    day           TEXT NOT NULL,
    severity      TEXT NOT NULL
                  CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    project_id    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL
                  CHECK (status IN ('closed', 'false_positive', 'accepted_risk',
                                    'not_accessible')),
    count         INTEGER NOT NULL,
    met           INTEGER NOT NULL,
    breached      INTEGER NOT NULL,
    sum_ms        INTEGER NOT NULL,
    min_ms        INTEGER NOT NULL,
    max_ms        INTEGER NOT NULL,
    hist          BLOB NOT NULL,
    penalty_cents INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, severity, project_id, status)
) STRICT, WITHOUT ROWID;

-- Live findings per group (tenant, project, severity): open and paused,
-- kept in every finding write's transaction (create, pause, resume, close,
-- reopen, severity), so /findings/summary counts without walking the
-- findings.  Rows at 0/0 are deleted; a rebuild writes the same rows.
CREATE TABLE finding_counts (
    tenant_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    severity    TEXT NOT NULL
                CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    open        INTEGER NOT NULL,
    paused      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, project_id, severity)
) STRICT, WITHOUT ROWID;

-- Running findings by deadline within a group (deadline = clock_base +
-- the group's hours): overdue counts and upcoming deadlines are one range
-- of it per group.  `state` is in it (and the key's id is in every index
-- of a WITHOUT ROWID table) so those ranges never visit the table: SQLite
-- reads the partial index's own condition from the row otherwise, one
-- random read per running finding (bench/findings: 100x at 1 M findings).
CREATE INDEX findings_open_base ON findings (tenant_id, project_id, severity, clock_base, state)
    WHERE state = 'open';

-- Rollups that a migration made stale: the server rebuilds every tenant's
-- rollups once at start while a row is here (all nodes: one rebuild, under
-- the database lock), then deletes it.
CREATE TABLE rollups_pending (
    reason  TEXT PRIMARY KEY
) STRICT;
INSERT INTO rollups_pending (reason) VALUES ('0040 findings numbers');
