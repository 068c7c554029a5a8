-- Reconciliation with the payment provider (charges and cancellations) next
-- to the withdrawals, run daily by the sweeper; and mails to backers about
-- their refunds and the provider's reversals.

-- The sandbox payment provider's own books of payments (a real provider keeps
-- these on its side; PortOne answers them through its API): one row per
-- charge it was asked for, written before its callback is delivered, so
-- `missionlink reconcile` compares our charges with what "the provider" says.
CREATE TABLE sandbox_payments (
  charge_id uuid PRIMARY KEY,
  amount bigint NOT NULL CHECK (amount > 0),
  status text NOT NULL CHECK (status IN ('paid', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_payments_created_idx ON sandbox_payments (created_at);
-- Charges the sandbox made before it kept books: what it answered then.
INSERT INTO sandbox_payments (charge_id, amount, status, created_at)
SELECT id, amount, 'paid', created_at FROM charges WHERE provider = 'sandbox' AND status = 'succeeded'
ON CONFLICT DO NOTHING;
-- Its cancellations are listed by time too.
CREATE INDEX sandbox_cancellations_created_idx ON sandbox_cancellations (created_at);

-- What reconciliation picks by time on our side.
CREATE INDEX charges_created_idx ON charges (created_at);
CREATE INDEX charges_completed_idx ON charges (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX refunds_created_idx ON refunds (created_at);
CREATE INDEX refund_parts_completed_idx ON refund_parts (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX payment_reversals_created_idx ON payment_reversals (created_at);
CREATE INDEX payment_reversals_charge_idx ON payment_reversals (charge_id);

-- The sweeper's daily reconciliation: one row per KST day reconciled, taken
-- under a lease (claimed_until) so that across processes and restarts each
-- day is reconciled once: a process that dies mid-run leaves the lease to run
-- out, then another (or the restarted one) takes the day again. A run that
-- could not ask the provider waits until claimed_until and is tried again.
CREATE TABLE reconcile_runs (
  day date PRIMARY KEY,
  range_from timestamptz NOT NULL,
  range_to timestamptz NOT NULL,
  attempts int NOT NULL DEFAULT 1,
  claimed_until timestamptz,
  last_error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  ok boolean,
  -- Differences by kind: {"charges": n, "refunds": n, "withdrawals": n}.
  counts jsonb,
  report jsonb,
  CHECK ((finished_at IS NULL) = (ok IS NULL))
);
-- The metrics read the last finished run.
CREATE INDEX reconcile_runs_finished_idx ON reconcile_runs (finished_at DESC) WHERE finished_at IS NOT NULL;

-- A backer is mailed when a refund of unused cash completes (or fails), and
-- when a provider reversal took money or left something owed: two more kinds
-- of account mail, whose reference is the refund's or the reversal's id.
ALTER TABLE account_mails DROP CONSTRAINT account_mails_kind_check;
ALTER TABLE account_mails ADD CONSTRAINT account_mails_kind_check
  CHECK (kind IN ('email_verification', 'webhook_disabled', 'refund_completed', 'reversal'));
