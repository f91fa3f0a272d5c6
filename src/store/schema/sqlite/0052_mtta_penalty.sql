-- Optional MTTA penalties (issue 17): a rate per started hour over the
-- acknowledge target, resolved through the alert waterfall like the
-- resolve penalty (layer column, the alert's resolved rate and its source).
-- 0 everywhere: acknowledging late costs nothing until a scope sets one.
ALTER TABLE alert_policy_layers ADD COLUMN ack_penalty_cph INTEGER;
ALTER TABLE alerts ADD COLUMN ack_penalty_cph INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN ack_penalty_src TEXT NOT NULL DEFAULT 'builtin';
