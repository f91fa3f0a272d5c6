-- Derived deadlines: a live finding no longer stores its own target and
-- deadline. It stores its clock base; the target comes from the small table
-- of resolved targets of its group (tenant, project, severity), so a policy
-- change rewrites a handful of finding_targets rows instead of every open
-- finding, and the scheduler's queue is an index on the clock base.
--
--   deadline = clock_base + hours h (+ the ongoing pause while paused)
--   clock_base = created_at + every closed pause (paused_ms in 0003)
--
-- finding_targets rows are snapshots of the policy waterfall (project →
-- company → global → built-in) taken when the group's scope was last
-- recalculated (a company or project policy PUT/DELETE, or its recalculate
-- endpoint), or when the group's first finding arrived. A global policy
-- change therefore reaches a company's findings only through that company's
-- recalculate endpoint, as the 0003 per-row targets did.
--
-- A terminal finding keeps the target it was judged against (frozen_*,
-- written when it closes, cleared when it reopens): a met or breached
-- verdict is evidence, and later policy changes do not move it.
CREATE TABLE finding_targets (
    tenant_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,          -- '' = the company's findings outside projects
    severity    TEXT NOT NULL
                CHECK (severity IN ('urgent', 'critical', 'high', 'medium', 'low')),
    hours       INTEGER NOT NULL CHECK (hours > 0),
    source      TEXT NOT NULL CHECK (source IN ('project', 'company', 'global', 'builtin')),
    safety_net  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, project_id, severity)
) STRICT, WITHOUT ROWID;

-- Fired progress for the current deadline, monotonic until re-armed:
--   stage: the highest percent of the window whose notice has fired:
--          0 = nothing, 1..99 = that warning threshold (and every lower
--          one), 100 = the breach. A percent rather than a position in the
--          tenant's threshold list, so editing the list neither re-fires
--          nor skips a warning.
--   contacts_fired: escalation contacts engaged, bit (level - 1); only
--          after the breach (stage = 100).
-- breach_fired and sla_notified (the vulnerability seed's flag: anything
-- fired for the current deadline) follow from them.
CREATE TABLE findings_v7 (
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
    clock_base      INTEGER NOT NULL,
    paused_since    INTEGER,
    stopped_at      INTEGER,
    last_event_at   INTEGER NOT NULL,
    stage           INTEGER NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 100),
    contacts_fired  INTEGER NOT NULL DEFAULT 0,
    breach_fired    INTEGER GENERATED ALWAYS AS (stage = 100) VIRTUAL,
    sla_notified    INTEGER GENERATED ALWAYS AS (stage <> 0 OR contacts_fired <> 0) VIRTUAL,
    frozen_hours    INTEGER,
    frozen_source   TEXT,
    frozen_safety_net INTEGER,
    ingested_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- Targets of the existing live findings, per group and severity: the value
-- most of them carry (ties: the most recently written), so as few
-- deadlines as possible move. Groups with only terminal findings get rows
-- when one reopens or a recalculation reaches them.
INSERT INTO finding_targets (tenant_id, project_id, severity, hours, source, safety_net,
                             updated_at)
SELECT tenant_id, project_id, severity, sla_hours, sla_source, safety_net, last_write
FROM (SELECT tenant_id, project_id, severity, sla_hours, sla_source, safety_net,
             max(updated_at) AS last_write,
             row_number() OVER (PARTITION BY tenant_id, project_id, severity
                                ORDER BY count(*) DESC, max(updated_at) DESC) AS rn
      FROM findings WHERE state IN ('open', 'paused')
      GROUP BY tenant_id, project_id, severity, sla_hours, sla_source, safety_net)
WHERE rn = 1;

-- 0003's warn_fired bit 0 was the default 80 % threshold.
INSERT INTO findings_v7 (tenant_id, id, project_id, severity, title, state, created_at,
    closed_at, clock_base, paused_since, stopped_at, last_event_at, stage, contacts_fired,
    frozen_hours, frozen_source, frozen_safety_net, ingested_at, updated_at)
SELECT f.tenant_id, f.id, f.project_id, f.severity, f.title, f.state, f.created_at,
       f.closed_at, f.created_at + f.paused_ms, f.paused_since, f.stopped_at, f.last_event_at,
       CASE WHEN f.breach_fired <> 0 THEN 100 WHEN (f.warn_fired & 1) <> 0 THEN 80 ELSE 0 END,
       0,
       CASE WHEN f.state IN ('open', 'paused') THEN NULL ELSE f.sla_hours END,
       CASE WHEN f.state IN ('open', 'paused') THEN NULL ELSE f.sla_source END,
       CASE WHEN f.state IN ('open', 'paused') THEN NULL ELSE f.safety_net END,
       f.ingested_at, f.updated_at
FROM findings f;

-- A live finding whose target was not its group's moves to it: the re-arm
-- rule applies (deadline moved and now in the future → fired flags cleared).
UPDATE findings_v7 SET stage = 0, contacts_fired = 0
WHERE state IN ('open', 'paused') AND stage <> 0
  AND EXISTS (
    SELECT 1 FROM finding_targets t
    WHERE t.tenant_id = findings_v7.tenant_id AND t.project_id = findings_v7.project_id
      AND t.severity = findings_v7.severity
      AND t.hours <> (SELECT o.sla_hours FROM findings o
                      WHERE o.tenant_id = findings_v7.tenant_id AND o.id = findings_v7.id)
      AND findings_v7.clock_base + t.hours * 3600000
          + CASE WHEN findings_v7.paused_since IS NULL THEN 0
                 ELSE max(unixepoch() * 1000 - findings_v7.paused_since, 0) END
          > unixepoch() * 1000);

DROP TABLE findings;
ALTER TABLE findings_v7 RENAME TO findings;

-- Live findings per tenant and project: the recalculation count, the
-- groups of a company, and the state filter of lists. state is a column
-- too so those read the index alone (a partial index's WHERE does not
-- spare SQLite the table lookup that checks it).
CREATE INDEX findings_live ON findings (tenant_id, project_id, state)
    WHERE state IN ('open', 'paused');
-- The scheduler's queue, per group and progress: running findings only
-- (a paused clock crosses nothing). For each (group, stage, contacts) the
-- smallest clock_base is the earliest instant, so the next due instant is
-- a few index seeks per group, and the due findings are a range scan.
CREATE INDEX findings_due
    ON findings (tenant_id, project_id, severity, stage, contacts_fired, clock_base)
    WHERE state = 'open';
-- Re-arming after a recalculation visits only findings with something
-- fired, and decides from the index alone (the columns its WHERE reads).
CREATE INDEX findings_fired
    ON findings (tenant_id, project_id, severity, clock_base, paused_since, stage,
                 contacts_fired, state)
    WHERE state IN ('open', 'paused') AND (stage <> 0 OR contacts_fired <> 0);
