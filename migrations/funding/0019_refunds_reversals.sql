-- Money back out through the payment provider (src/wallet): refunds of
-- unused cash, reversals the provider reports (card cancellations,
-- chargebacks), and what a user owes after one.
--
-- Per charge, what is no longer the user's to refund: `cancelled_amount` is
-- taken by refunds (in flight or done; a failed part gives its share back),
-- `reversed_amount` by the provider's reversals. Neither exceeds the charge.
ALTER TABLE charges
  ADD COLUMN cancelled_amount bigint NOT NULL DEFAULT 0 CHECK (cancelled_amount >= 0),
  ADD COLUMN reversed_amount bigint NOT NULL DEFAULT 0 CHECK (reversed_amount >= 0),
  ADD CONSTRAINT charges_refundable CHECK (cancelled_amount + reversed_amount <= amount);
-- Refunds take the newest charges with something left first.
CREATE INDEX charges_refundable_idx ON charges (user_id, created_at DESC, id DESC)
  WHERE status = 'succeeded' AND cancelled_amount + reversed_amount < amount;

-- A refund: held from the wallet at once (a pending transfer whose id is the
-- refund's), then posted (what the provider refunded) or voided by the
-- provider's answers to its parts. The table is also its work queue: a
-- pending refund is taken under a lease (claimed_until), so one whose
-- process died is finished by another (or the next) process, once.
CREATE TABLE refunds (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'partially_succeeded', 'failed')),
  -- What the provider gave back, once it answered every part.
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  last_error text,
  CHECK ((status = 'pending') = (completed_at IS NULL))
);
CREATE INDEX refunds_user_idx ON refunds (user_id, created_at DESC, id DESC);
-- The refund worker's queue: only pending refunds are indexed.
CREATE INDEX refunds_due_idx ON refunds (next_attempt_at) WHERE status = 'pending';

-- A refund's share of one charge: one partial cancellation at the provider.
-- `cancelled_before` is what of the charge the provider had cancelled before
-- this part (refunds and reversals we know of): the provider checks it, so a
-- part sent twice is cancelled once, and after a crash the payment's
-- cancelled total tells whether the part went through.
CREATE TABLE refund_parts (
  id uuid PRIMARY KEY,
  refund_id uuid NOT NULL REFERENCES refunds (id),
  charge_id uuid NOT NULL REFERENCES charges (id),
  amount bigint NOT NULL CHECK (amount > 0),
  cancelled_before bigint NOT NULL CHECK (cancelled_before >= 0),
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider_ref text,
  failure_reason text,
  completed_at timestamptz,
  UNIQUE (refund_id, charge_id)
);
CREATE INDEX refund_parts_charge_idx ON refund_parts (charge_id);

-- Reversals the provider reported, once each (by its event id): how much
-- came from available cash, from voided pledges, and became owed.
CREATE TABLE payment_reversals (
  id uuid PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  charge_id uuid NOT NULL REFERENCES charges (id),
  user_id uuid NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  -- Taken from the wallet: its available cash, then what the voided pledges freed.
  from_wallet bigint NOT NULL CHECK (from_wallet >= 0),
  from_pledges bigint NOT NULL CHECK (from_pledges >= 0),
  voided_pledges int NOT NULL CHECK (voided_pledges >= 0),
  owed bigint NOT NULL CHECK (owed >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (from_wallet + owed = amount)
);
CREATE INDEX payment_reversals_user_idx ON payment_reversals (user_id, created_at DESC);

-- The built-in sandbox provider's own books of cancellations (a real
-- provider keeps these on its side): one row per refund part, so a part sent
-- twice is cancelled once.
CREATE TABLE sandbox_cancellations (
  part_id uuid PRIMARY KEY,
  charge_id uuid NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
