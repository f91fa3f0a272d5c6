-- Hash chains over the audit log and the item events (issue 17; SQLite
-- migration 0050 explains them): one chain per (log, tenant), a link row
-- per record written just before COMMIT under the head's row lock.
CREATE TABLE chain_heads (
    log         TEXT NOT NULL CHECK (log IN ('audit', 'events')),
    tenant_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    adopted     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (log, tenant_id)
);

CREATE TABLE chain_links (
    log         TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    row_id      BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (log, tenant_id, seq)
);

CREATE TRIGGER chain_links_append_only BEFORE UPDATE OR DELETE ON chain_links
    FOR EACH ROW EXECUTE FUNCTION slawatch_append_only();
CREATE TRIGGER chain_links_no_truncate BEFORE TRUNCATE ON chain_links
    FOR EACH STATEMENT EXECUTE FUNCTION slawatch_append_only();
