-- Channels: stores user ids and display names only (no emails: PII stays in identity).
CREATE TABLE channels (
  handle text PRIMARY KEY CHECK (handle ~ '^[a-z0-9_]{3,24}$'),
  owner_id uuid NOT NULL,
  display_name text NOT NULL,
  mission_min_amount bigint NOT NULL CHECK (mission_min_amount >= 1),
  mission_max_amount bigint NOT NULL,
  accept_window_seconds int NOT NULL CHECK (accept_window_seconds >= 1),
  failure_keep_bps int NOT NULL CHECK (failure_keep_bps BETWEEN 0 AND 5000),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (mission_max_amount >= mission_min_amount)
);
-- One channel per streamer.
CREATE UNIQUE INDEX channels_owner_key ON channels (owner_id);

CREATE TABLE missions (
  id uuid PRIMARY KEY,
  channel text NOT NULL REFERENCES channels (handle),
  channel_owner_id uuid NOT NULL,
  title text NOT NULL,
  description text,
  state text NOT NULL CHECK (state IN ('PROPOSED', 'ACTIVE', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED')),
  duration_seconds int NOT NULL CHECK (duration_seconds > 0),
  -- Copied from the channel at proposal time: the terms backers saw.
  failure_keep_bps int NOT NULL,
  min_amount bigint NOT NULL,
  max_amount bigint NOT NULL,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  accept_deadline timestamptz NOT NULL,
  accepted_at timestamptz,
  deadline timestamptz,
  decided_at timestamptz,
  settled_at timestamptz,
  -- Active missions have a deadline; ended ones say when they ended.
  CHECK (state <> 'ACTIVE' OR (accepted_at IS NOT NULL AND deadline IS NOT NULL)),
  CHECK (state IN ('PROPOSED', 'ACTIVE') OR decided_at IS NOT NULL),
  CHECK (settled_at IS NULL OR state NOT IN ('PROPOSED', 'ACTIVE'))
);
CREATE INDEX missions_channel_idx ON missions (channel, created_at DESC, id DESC);
CREATE INDEX missions_channel_state_idx ON missions (channel, state, created_at DESC, id DESC);
-- The sweeper's queues.
CREATE INDEX missions_proposed_idx ON missions (accept_deadline) WHERE state = 'PROPOSED';
CREATE INDEX missions_active_idx ON missions (deadline) WHERE state = 'ACTIVE';
CREATE INDEX missions_unsettled_idx ON missions (decided_at)
  WHERE settled_at IS NULL AND state NOT IN ('PROPOSED', 'ACTIVE');

-- Pledge totals in slots: concurrent pledges to one mission update different
-- rows (see ESCROW_SLOTS in src/missions), so a hot mission is not one hot row.
CREATE TABLE mission_totals (
  mission_id uuid NOT NULL REFERENCES missions (id),
  slot int NOT NULL,
  amount bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
  pledges int NOT NULL DEFAULT 0,
  backers int NOT NULL DEFAULT 0,
  PRIMARY KEY (mission_id, slot)
);

CREATE TABLE pledges (
  id uuid PRIMARY KEY,
  mission_id uuid NOT NULL REFERENCES missions (id),
  backer_id uuid NOT NULL,
  backer_name text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  -- The pending ledger transfer that holds the money.
  hold_transfer_id uuid NOT NULL UNIQUE REFERENCES transfers (id),
  wallet_account_id uuid NOT NULL REFERENCES accounts (id),
  escrow_account_id uuid NOT NULL REFERENCES accounts (id),
  status text NOT NULL CHECK (status IN ('HELD', 'CAPTURED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
  captured_amount bigint NOT NULL DEFAULT 0,
  refunded_amount bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (captured_amount + refunded_amount IN (0, amount))
);
CREATE INDEX pledges_mission_idx ON pledges (mission_id, created_at DESC, id DESC);
-- Settlement takes the held pledges of a mission in batches.
CREATE INDEX pledges_held_idx ON pledges (mission_id, id) WHERE status = 'HELD';
CREATE INDEX pledges_backer_idx ON pledges (backer_id, created_at DESC);

CREATE TABLE mission_backers (
  mission_id uuid NOT NULL REFERENCES missions (id),
  backer_id uuid NOT NULL,
  PRIMARY KEY (mission_id, backer_id)
);

-- Settlement jobs: one per terminal mission, taken by one worker at a time.
CREATE TABLE settlement_jobs (
  mission_id uuid PRIMARY KEY REFERENCES missions (id),
  outcome text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  attempts int NOT NULL DEFAULT 0,
  done_at timestamptz,
  last_error text
);
CREATE INDEX settlement_jobs_open_idx ON settlement_jobs (created_at) WHERE done_at IS NULL;

-- Result mails: one row per recipient per mission outcome; the unique key is
-- what makes a redelivered event harmless.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  mission_id uuid NOT NULL REFERENCES missions (id),
  user_id uuid NOT NULL,
  outcome text NOT NULL,
  pledged bigint NOT NULL,
  captured bigint NOT NULL,
  refunded bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  UNIQUE (mission_id, user_id, outcome)
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
