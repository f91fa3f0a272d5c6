-- Policy history (issue 17; SQLite migration 0051 explains it): every
-- version of every policy scope, written with the change.
CREATE TABLE policy_versions (
    kind        TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL,
    changed_by  TEXT NOT NULL,
    action      TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    PRIMARY KEY (kind, tenant_id, scope, version)
);

CREATE TRIGGER policy_versions_append_only BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION slawatch_append_only();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION slawatch_append_only();
