-- Streamer withdrawals (API.md Part 2, "Streamer withdrawals"): money leaves
-- a streamer's earnings for a bank account, through a payout provider.

-- The bank account a streamer is paid to, as the payout provider verified it.
-- The full account number is never stored here: the provider keeps it and
-- answers a reference (provider_ref) that pays to it; we keep the last four
-- digits to show it masked.
CREATE TABLE payout_accounts (
  user_id uuid PRIMARY KEY,
  bank_code text NOT NULL CHECK (bank_code ~ '^[0-9]{3}$'),
  account_last4 text NOT NULL CHECK (account_last4 ~ '^[0-9]{4}$'),
  holder_name text NOT NULL,
  provider text NOT NULL,
  provider_ref text NOT NULL,
  verified_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One withdrawal: held two-phase from the streamer's earnings (the pending
-- transfer's id is the withdrawal's id), posted when PAID, voided when
-- FAILED or REJECTED.
--   REQUESTED (waits for an admin) -> PROCESSING | REJECTED
--   PROCESSING (with the provider) -> PAID | FAILED
CREATE TABLE withdrawals (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  -- The streamer's channel handle, for the ops queue.
  channel text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  fee bigint NOT NULL CHECK (fee >= 0 AND fee < amount),
  status text NOT NULL CHECK (status IN ('REQUESTED', 'PROCESSING', 'PAID', 'FAILED', 'REJECTED')),
  -- The payout account as it was when the withdrawal was asked for.
  provider text NOT NULL,
  provider_ref text NOT NULL,
  bank_code text NOT NULL,
  account_last4 text NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  decided_by uuid,
  paid_at timestamptz,
  completed_at timestamptz,
  failure_reason text,
  -- The payout worker's queue (PROCESSING rows): lease, retries with backoff.
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  last_error text,
  provider_payout_ref text,
  CHECK ((status = 'PAID') = (paid_at IS NOT NULL))
);
CREATE INDEX withdrawals_user_idx ON withdrawals (user_id, requested_at DESC, id DESC);
CREATE INDEX withdrawals_status_idx ON withdrawals (status, requested_at DESC, id DESC);
CREATE INDEX withdrawals_all_idx ON withdrawals (requested_at DESC, id DESC);
-- The payout worker's work queue: only withdrawals with the provider are indexed.
CREATE INDEX withdrawals_processing_idx ON withdrawals (next_attempt_at) WHERE status = 'PROCESSING';

-- A mail to the streamer for every state change of a withdrawal, written in
-- the transaction of the change (UNIQUE: one per state), then sent with
-- retries by the notifier role. User ids only: the address is asked of the
-- identity service when the mail is sent.
CREATE TABLE withdrawal_mails (
  id uuid PRIMARY KEY,
  withdrawal_id uuid NOT NULL REFERENCES withdrawals (id),
  user_id uuid NOT NULL,
  withdrawal_status text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  UNIQUE (withdrawal_id, withdrawal_status)
);
CREATE INDEX withdrawal_mails_due_idx ON withdrawal_mails (next_attempt_at) WHERE status = 'pending';

-- The sandbox payout provider's own books (PAYMENT_PROVIDER=sandbox): what a
-- real provider keeps on its side. Recipients hold the full account number
-- (as a real provider does); payouts are keyed by the idempotency key we send
-- (the withdrawal id), so a payout asked for twice is made once.
CREATE TABLE sandbox_payout_recipients (
  ref text PRIMARY KEY,
  bank_code text NOT NULL,
  account_number text NOT NULL,
  holder_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sandbox_payouts (
  idempotency_key text PRIMARY KEY,
  ref text NOT NULL,
  recipient_ref text NOT NULL REFERENCES sandbox_payout_recipients (ref),
  amount bigint NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
