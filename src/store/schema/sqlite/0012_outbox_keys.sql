-- Idempotency keys are random per outbox row (issue 12, item 1: a key
-- hashed from the per-database event id repeats after a restore or on
-- another install, and receivers that de-duplicate by it drop real
-- events).  "One row per (event, channel, recipient)" is kept by this index
-- instead of by the key.
--
-- Rows written before could not break it: their key was a hash of
-- (tenant, event id, channel, recipient) and keys are UNIQUE, so the same
-- (event, channel, recipient) was written once (an event has one tenant).
-- Should a database hold such a pair anyway (an event id enqueued by hand
-- for two tenants), the later rows are unlinked from the event rather than
-- deleted: they keep their key, state and attempts.
UPDATE outbox SET event_id = NULL
WHERE event_id IS NOT NULL
  AND id NOT IN (SELECT min(id) FROM outbox WHERE event_id IS NOT NULL
                 GROUP BY event_id, channel, recipient);
CREATE UNIQUE INDEX outbox_event ON outbox (event_id, channel, recipient)
    WHERE event_id IS NOT NULL;
