-- Optional MTTA penalties (issue 17; SQLite migration 0052).
ALTER TABLE alert_policy_layers ADD COLUMN ack_penalty_cph BIGINT;
ALTER TABLE alerts ADD COLUMN ack_penalty_cph BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN ack_penalty_src TEXT NOT NULL DEFAULT 'builtin';
