-- Notifications: per-tenant configuration, the outbox written in the same
-- transaction as the event that causes a notice, and every delivery attempt.

-- One row per tenant. channels: JSON array of websocket|email|slack|webhook;
-- recipients: {"email":[...], "slack":[url], "webhook":[url]}; thresholds:
-- JSON array of warning percents that are notified. webhook_secret signs
-- webhook bodies (HMAC-SHA256) and is never shown by the API.
CREATE TABLE notification_config (
    tenant_id       TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    channels        TEXT NOT NULL DEFAULT '[]',
    recipients      TEXT NOT NULL DEFAULT '{}',
    thresholds      TEXT NOT NULL DEFAULT '[80]',
    webhook_secret  TEXT,
    updated_at      INTEGER NOT NULL
) STRICT;

-- One row per (notice, channel, recipient). notice is the exact body a
-- webhook receives (its "id" is idempotency_key). A folded row (flood
-- control) is 'digested' and names the digest row that carried it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    channel         TEXT NOT NULL
                    CHECK (channel IN ('websocket', 'email', 'slack', 'webhook')),
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
    last_error      TEXT
) STRICT;
-- "the next pending row due", per channel worker
CREATE INDEX outbox_due ON outbox (channel, next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);
CREATE INDEX outbox_digest ON outbox (digest_id) WHERE digest_id IS NOT NULL;

-- The history: every attempt, successful or not. status: HTTP or SMTP code
-- (0 when none came back).
CREATE TABLE notification_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    duration_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX notification_attempts_outbox ON notification_attempts (outbox_id, id);

-- Flood control: the current window of each (tenant, channel, recipient):
-- when it opened, how many notices went out in it, and the digest row that
-- collects the surplus (sent when the window closes).
CREATE TABLE notify_flood (
    tenant_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    sent         INTEGER NOT NULL,
    digest_id    INTEGER,
    PRIMARY KEY (tenant_id, channel, recipient)
) STRICT, WITHOUT ROWID;
