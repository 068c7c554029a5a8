-- Outbound webhooks (Standard Webhooks): a channel owner's endpoints, one
-- delivery per (endpoint, event) made from the outbox, and the log of every
-- attempt. The webhooks role sends what is due (src/webhooks/worker.ts).
CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY,
  -- The channel's handle: events name their channel by it.
  channel text NOT NULL,
  owner_id uuid NOT NULL,
  url text NOT NULL,
  events text[] NOT NULL CHECK (cardinality(events) > 0),
  -- `whsec_<base64>`: it signs every delivery, so it is kept as it is; the API
  -- shows it once (when the endpoint is made) and the logs never.
  secret text NOT NULL,
  -- 'disabled': it failed without a success for the disabling period; its owner was mailed.
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- When the current run of failures began (NULL after a success).
  failing_since timestamptz,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- An event finds the endpoints of its channel.
CREATE INDEX webhook_endpoints_channel_idx ON webhook_endpoints (channel, created_at);

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  -- The outbox event's id: the `webhook-id` header, the same on every retry.
  event_id uuid NOT NULL,
  type text NOT NULL,
  -- The exact bytes sent and signed, the same on every retry.
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Lease of the worker sending it; a lapsed lease (a dead worker) is retried.
  claimed_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz,
  -- One delivery per endpoint per event, however often the event is redelivered.
  UNIQUE (endpoint_id, event_id)
);
-- The sender's work queue: only pending deliveries are indexed. Per endpoint
-- (its oldest due delivery), over all (is anything due at all?), and the ones
-- in flight (claimed; counted against the endpoint's concurrency limit).
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_next_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_in_flight_idx ON webhook_deliveries (endpoint_id) WHERE status = 'pending' AND claimed_until IS NOT NULL;
CREATE INDEX webhook_deliveries_done_idx ON webhook_deliveries (done_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
  id uuid PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  endpoint_id uuid NOT NULL,
  event_id uuid NOT NULL,
  type text NOT NULL,
  attempt int NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  response_status int,
  -- Why it failed (timeout, refused address, connection error); never the secret.
  error text,
  -- At most a short excerpt of what the endpoint answered.
  response_excerpt text,
  duration_ms int NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
-- The delivery log of an endpoint, newest first.
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, at DESC, id DESC);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
