-- The relay takes the oldest unpublished rows in (created_at, id) order. With
-- an index on created_at alone, the planner sorted a bitmap scan of it, and a
-- bitmap scan never marks the entries of rows already published as dead: each
-- pass visited every row published since the last vacuum, milliseconds a pass
-- at a few hundred events a second. In the claim's own order, the scan stops
-- at its LIMIT and marks what it passed over, so the next pass skips it.
CREATE INDEX outbox_queue_idx ON outbox (created_at, id) WHERE published_at IS NULL;
DROP INDEX outbox_unpublished_idx;

-- Vacuum after a fixed number of dead rows, not a fifth of the table: the
-- outbox keeps 14 days of published events, and the queue's index keeps an
-- entry for each row published since the last vacuum.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 50000);
