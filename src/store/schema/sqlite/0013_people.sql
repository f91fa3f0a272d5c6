-- People and escalation routing (issue 13; PostgreSQL migration 0013 is
-- the same in its dialect).
--
-- A user's contact points: where an escalation that names them reaches
-- them.  NULL = not given (email: the account's address is used).
CREATE TABLE user_contacts (
    user_id                 TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email                   TEXT,
    slack_user_id           TEXT,
    phone                   TEXT,
    pagerduty_routing_key   TEXT,
    updated_at              INTEGER NOT NULL,
    updated_by              TEXT NOT NULL DEFAULT ''
) STRICT;

-- A step may name a person (NULL: the tenant's channels, as before); a
-- fired step records whom it engaged and by which channels.
ALTER TABLE escalation_steps ADD COLUMN user_id TEXT;
ALTER TABLE escalation_events ADD COLUMN user_id TEXT;
ALTER TABLE escalation_events ADD COLUMN via TEXT;

-- The tenant's PagerDuty routing key (used when the engaged person has
-- none) and its voice webhook (the phone method).
ALTER TABLE notification_config ADD COLUMN pagerduty_routing_key TEXT;
ALTER TABLE notification_config ADD COLUMN voice_webhook TEXT;

-- Outbox rows for a person (person = their user id, '' for the tenant's
-- channels), and two more channels: pager (PagerDuty Events API v2) and
-- phone (the tenant's voice webhook).  SQLite cannot change a CHECK in
-- place: the table is rebuilt.  Its attempts reference it (ON DELETE
-- CASCADE), so they are set aside first and put back after; so are the
-- digest links (a self-reference), which would otherwise point at the old
-- table's rows while it is dropped.
CREATE TABLE outbox_attempts_keep AS SELECT * FROM notification_attempts;
CREATE TABLE outbox_digest_keep AS
    SELECT id, digest_id FROM outbox WHERE digest_id IS NOT NULL;
DROP TABLE notification_attempts;
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    channel         TEXT NOT NULL
                    CHECK (channel IN ('websocket', 'email', 'slack', 'webhook', 'pager', 'phone')),
    recipient       TEXT NOT NULL,
    type            TEXT NOT NULL,
    item_kind       TEXT NOT NULL DEFAULT '',
    item_id         TEXT NOT NULL DEFAULT '',
    event_id        INTEGER,
    notice          TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead', 'digested')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    digest_id       INTEGER REFERENCES outbox(id),
    last_error      TEXT,
    person          TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO outbox_new (id, tenant_id, channel, recipient, type, item_kind, item_id, event_id,
    notice, idempotency_key, state, attempts, next_attempt_at, created_at, delivered_at,
    digest_id, last_error)
SELECT id, tenant_id, channel, recipient, type, item_kind, item_id, event_id, notice,
    idempotency_key, state, attempts, next_attempt_at, created_at, delivered_at, NULL,
    last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
UPDATE outbox SET digest_id = (SELECT k.digest_id FROM outbox_digest_keep k WHERE k.id = outbox.id)
WHERE id IN (SELECT id FROM outbox_digest_keep);
DROP TABLE outbox_digest_keep;
CREATE INDEX outbox_due ON outbox (channel, next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);
CREATE INDEX outbox_digest ON outbox (digest_id) WHERE digest_id IS NOT NULL;
CREATE UNIQUE INDEX outbox_event ON outbox (event_id, channel, recipient)
    WHERE event_id IS NOT NULL;
CREATE TABLE notification_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    duration_ms INTEGER NOT NULL
) STRICT;
INSERT INTO notification_attempts SELECT * FROM outbox_attempts_keep;
DROP TABLE outbox_attempts_keep;
CREATE INDEX notification_attempts_outbox ON notification_attempts (outbox_id, id);

-- Flood control per (tenant, channel, recipient, person): a person's own
-- window, even on a channel they share with the tenant (its Slack).  The
-- windows are transient: dropped and started afresh.
DROP TABLE notify_flood;
CREATE TABLE notify_flood (
    tenant_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    person       TEXT NOT NULL DEFAULT '',
    window_start INTEGER NOT NULL,
    sent         INTEGER NOT NULL,
    digest_id    INTEGER,
    PRIMARY KEY (tenant_id, channel, recipient, person)
) STRICT, WITHOUT ROWID;

-- PagerDuty incidents slawatch triggered, per item and step (dedup_key),
-- so acknowledging or resolving the item acknowledges or resolves each of
-- them once, with the same dedup_key and routing key.
CREATE TABLE pager_incidents (
    tenant_id   TEXT NOT NULL,
    dedup_key   TEXT NOT NULL,
    item_kind   TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    person      TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, dedup_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX pager_incidents_item ON pager_incidents (tenant_id, item_kind, item_id);

-- Findings: each escalation contact engaged (level 1..3), and who took it
-- (POST /findings/{id}/escalation/acknowledge), which stops later levels.
CREATE TABLE finding_escalations (
    tenant_id   TEXT NOT NULL,
    finding_id  TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
    user_id     TEXT NOT NULL,
    via         TEXT NOT NULL DEFAULT '',
    engaged_at  INTEGER NOT NULL,
    acked_at    INTEGER,
    acked_by    TEXT,
    PRIMARY KEY (tenant_id, finding_id, level)
) STRICT, WITHOUT ROWID;
