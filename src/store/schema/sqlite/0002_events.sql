-- Every state change of an alert or finding: who, when, what. Append-only.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    item_kind   TEXT NOT NULL CHECK (item_kind IN ('alert', 'finding')),
    item_id     TEXT NOT NULL,
    type        TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL,
    data        TEXT
) STRICT;
CREATE INDEX events_item ON events (tenant_id, item_kind, item_id, id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
