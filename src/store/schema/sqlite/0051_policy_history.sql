-- Policy history (issue 17): every version of every policy scope, with who,
-- when, and the scope as it was before and after the change, written in
-- the same transaction as the change (history.c).  kind names the scope's
-- subject: finding_policy (scope: project id, '' = the company or, with
-- tenant '', the global level), definition (the alert layer and template of
-- a tenant or project: scope = project id or ''), escalation (scope: the
-- severity); calendars join as kind calendar (scope: the calendar id).
-- before/after: JSON text as history.c writes it, NULL = nothing set.
-- Scopes set before this migration get a 'baseline' version (what was in
-- force then, dated by the row's own updated_at): history before it is
-- unknown.
CREATE TABLE policy_versions (
    kind        TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    changed_at  INTEGER NOT NULL,
    changed_by  TEXT NOT NULL,
    action      TEXT NOT NULL,          -- baseline | update | delete | config
    before      TEXT,
    after       TEXT,
    PRIMARY KEY (kind, tenant_id, scope, version)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER policy_versions_append_only_update BEFORE UPDATE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy history is append-only'); END;
CREATE TRIGGER policy_versions_append_only_delete BEFORE DELETE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy history is append-only'); END;
