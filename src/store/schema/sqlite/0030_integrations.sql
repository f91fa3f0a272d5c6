-- Integrations (issue 15): how another tool's documents become a tenant's
-- alerts or findings.  config is the integration's JSON as validated by
-- the HTTP layer (kind "generic": a mapping of JSON pointers; kind
-- "alertmanager": its severity map); the store keeps it as text.
CREATE TABLE integrations (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    config      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
