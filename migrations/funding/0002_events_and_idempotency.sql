-- Transactional outbox: written in the same transaction as the state change
-- it announces; a relay publishes it to the bus.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  topic text NOT NULL,
  -- Partition key (a mission id): events of one key are published in order.
  key text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  attempts int NOT NULL DEFAULT 0,
  -- Lease of the relay that is publishing it; an expired lease is retried.
  claimed_until timestamptz,
  last_error text
);
-- The relay's work queue: only unpublished rows are indexed.
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;

-- Inbox: a consumer records each event id in the same transaction as its
-- effect, so a redelivered event is recognised and skipped.
CREATE TABLE inbox (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Idempotency keys of money-moving requests, per user, kept >= 24 hours.
CREATE TABLE idempotency_keys (
  user_id uuid NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  resource_id uuid,
  status_code int,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
