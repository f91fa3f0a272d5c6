-- Hash chains over the audit log and the item events (issue 17): one chain
-- per (log, tenant), each record's hash covering the previous one's, so an
-- altered, deleted, inserted or reordered record is found by
-- `slawatch audit verify` (chain.c has the format).  The rows themselves
-- stay as they are (append-only): a record's place in its chain is a link
-- row, written in the same transaction, just before its COMMIT, under the
-- chain head's row lock, so appends from several nodes form one chain.
-- Rows that existed before this migration are chained by it in id order
-- (store.c runs chain.c's adoption right after this file); the head says
-- how many, and verify says that their evidence starts at the migration.
CREATE TABLE chain_heads (
    log         TEXT NOT NULL CHECK (log IN ('audit', 'events')),
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,           -- records in the chain
    hash        TEXT NOT NULL,              -- the last one's, hex
    started_at  INTEGER NOT NULL,
    adopted     INTEGER NOT NULL DEFAULT 0, -- records chained by the migration
    PRIMARY KEY (log, tenant_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE chain_links (
    log         TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,           -- 1, 2, ... in chain order
    row_id      INTEGER NOT NULL,           -- audit_log.id or events.id
    hash        TEXT NOT NULL,
    PRIMARY KEY (log, tenant_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER chain_links_append_only_update BEFORE UPDATE ON chain_links
BEGIN SELECT RAISE(ABORT, 'chain links are append-only'); END;
CREATE TRIGGER chain_links_append_only_delete BEFORE DELETE ON chain_links
BEGIN SELECT RAISE(ABORT, 'chain links are append-only'); END;
