-- Cash charges through a payment provider (the sandbox one is built in).
CREATE TABLE charges (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider text NOT NULL,
  provider_ref text,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX charges_user_idx ON charges (user_id, created_at DESC);
-- Stuck pending charges are found by the sweeper.
CREATE INDEX charges_pending_idx ON charges (created_at) WHERE status = 'pending';

-- Provider callbacks, recorded by their event id: a replayed callback is a no-op.
CREATE TABLE payment_webhook_events (
  event_id text PRIMARY KEY,
  charge_id uuid NOT NULL REFERENCES charges (id),
  received_at timestamptz NOT NULL DEFAULT now()
);

-- Daily points claims; the primary key makes a second claim per UTC day impossible.
CREATE TABLE points_claims (
  user_id uuid NOT NULL,
  day date NOT NULL,
  transfer_id uuid NOT NULL,
  PRIMARY KEY (user_id, day)
);
