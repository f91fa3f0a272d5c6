-- Idempotency keys are random per outbox row (issue 12, item 1; SQLite
-- migration 0012): "one row per (event, channel, recipient)" is kept by
-- this index instead of by the key.  Rows written with the old hashed key
-- already held to it; any pair that does not is unlinked from its event
-- (kept with its key, state and attempts), as on SQLite.
UPDATE outbox SET event_id = NULL
WHERE event_id IS NOT NULL
  AND id NOT IN (SELECT min(id) FROM outbox WHERE event_id IS NOT NULL
                 GROUP BY event_id, channel, recipient);
CREATE UNIQUE INDEX outbox_event ON outbox (event_id, channel, recipient)
    WHERE event_id IS NOT NULL;
