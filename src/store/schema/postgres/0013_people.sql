-- People and escalation routing (issue 13; SQLite migration 0013).
--
-- A user's contact points: where an escalation that names them reaches
-- them.  NULL = not given (email: the account's address is used).
CREATE TABLE user_contacts (
    user_id                 TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email                   TEXT,
    slack_user_id           TEXT,
    phone                   TEXT,
    pagerduty_routing_key   TEXT,
    updated_at              BIGINT NOT NULL,
    updated_by              TEXT NOT NULL DEFAULT ''
);

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
-- phone (the tenant's voice webhook).
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check
    CHECK (channel IN ('websocket', 'email', 'slack', 'webhook', 'pager', 'phone'));
ALTER TABLE outbox ADD COLUMN person TEXT NOT NULL DEFAULT '';

-- Flood control per (tenant, channel, recipient, person): a person's own
-- window, even on a channel they share with the tenant (its Slack).  The
-- windows are transient: dropped and started afresh.
DROP TABLE notify_flood;
CREATE TABLE notify_flood (
    tenant_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    person       TEXT NOT NULL DEFAULT '',
    window_start BIGINT NOT NULL,
    sent         INTEGER NOT NULL,
    digest_id    BIGINT,
    PRIMARY KEY (tenant_id, channel, recipient, person)
);

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
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, dedup_key)
);
CREATE INDEX pager_incidents_item ON pager_incidents (tenant_id, item_kind, item_id);

-- Findings: each escalation contact engaged (level 1..3), and who took it
-- (POST /findings/{id}/escalation/acknowledge), which stops later levels.
CREATE TABLE finding_escalations (
    tenant_id   TEXT NOT NULL,
    finding_id  TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
    user_id     TEXT NOT NULL,
    via         TEXT NOT NULL DEFAULT '',
    engaged_at  BIGINT NOT NULL,
    acked_at    BIGINT,
    acked_by    TEXT,
    PRIMARY KEY (tenant_id, finding_id, level)
);
