-- Double-entry ledger after TigerBeetle's data model. Amounts are integer
-- minor units (KRW has none: 1 = 1 won; POINTS are whole points).
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  ledger text NOT NULL CHECK (ledger IN ('KRW', 'POINTS')),
  -- What the account is: user_wallet, mission_escrow, streamer_earnings,
  -- platform_fees, payment_provider, points_issuer, prediction_pool.
  code text NOT NULL,
  -- Whose it is: a user id, a mission id (+ slot), or 'platform'.
  owner text NOT NULL,
  debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  -- bit 1: debits must not exceed credits (a wallet never goes below zero).
  flags int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The last line of defence; the guarded UPDATEs in src/ledger come first.
  CONSTRAINT accounts_debits_within_credits
    CHECK (flags & 1 = 0 OR debits_pending + debits_posted <= credits_posted),
  CONSTRAINT accounts_identity UNIQUE (ledger, code, owner)
);

-- Append-only: a transfer is never updated or deleted. Two-phase transfers:
-- flags 1 = pending (hold), 2 = post of a pending, 4 = void of a pending;
-- 0 = a single-phase posted transfer.
CREATE TABLE transfers (
  id uuid PRIMARY KEY,
  debit_account_id uuid NOT NULL REFERENCES accounts (id),
  credit_account_id uuid NOT NULL REFERENCES accounts (id),
  amount bigint NOT NULL CHECK (amount >= 0),
  ledger text NOT NULL CHECK (ledger IN ('KRW', 'POINTS')),
  code text NOT NULL,
  flags int NOT NULL CHECK (flags IN (0, 1, 2, 4)),
  -- UNIQUE: a pending transfer is posted or voided at most once, ever.
  pending_id uuid UNIQUE REFERENCES transfers (id),
  mission_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((flags IN (2, 4)) = (pending_id IS NOT NULL))
);
CREATE INDEX transfers_debit_idx ON transfers (debit_account_id, created_at);
CREATE INDEX transfers_credit_idx ON transfers (credit_account_id, created_at);
CREATE INDEX transfers_mission_idx ON transfers (mission_id) WHERE mission_id IS NOT NULL;

CREATE FUNCTION transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'transfers are append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER transfers_no_update BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION transfers_append_only();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
  FOR EACH STATEMENT EXECUTE FUNCTION transfers_append_only();
