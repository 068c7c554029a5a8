-- Transfers reference their accounts (and a post or void its pending
-- transfer) without foreign keys. Every transfer is written by one of two
-- statements that already touch what it references, under a lock, in the
-- same transaction:
--   * ledger_create_transfer updates both accounts' balances: an account
--     that is missing (or on another ledger) fails the statement (ML003);
--   * resolvePending (src/ledger/transfers.ts) reads each pending transfer
--     it resolves and updates every account involved, checking the count.
-- The foreign keys checked the same facts again, one lookup and one row lock
-- per reference: three per post or void, which was a sixth of a large
-- settlement's database time. Accounts are never deleted (the app roles may
-- not: src/platform/migrate.ts), and `missionlink ledger verify` reports any
-- transfer whose account or pending transfer is missing.
ALTER TABLE transfers
  DROP CONSTRAINT transfers_debit_account_id_fkey,
  DROP CONSTRAINT transfers_credit_account_id_fkey,
  DROP CONSTRAINT transfers_pending_id_fkey;

-- As in 0008, plus: each balance UPDATE must find its account on the
-- transfer's ledger, else ML003 and nothing of the transfer remains.
CREATE OR REPLACE FUNCTION ledger_create_transfer(
  p_id uuid,
  p_debit uuid,
  p_credit uuid,
  p_amount bigint,
  p_ledger text,
  p_code text,
  p_flags int,
  p_mission uuid,
  p_debit_first boolean
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  existing transfers%ROWTYPE;
  pending_part bigint := CASE WHEN p_flags = 1 THEN p_amount ELSE 0 END;
  posted_part bigint := CASE WHEN p_flags = 1 THEN 0 ELSE p_amount END;
BEGIN
  IF p_flags NOT IN (0, 1) THEN
    RAISE EXCEPTION 'ledger_create_transfer makes posted (0) or pending (1) transfers, not flags %', p_flags;
  END IF;
  INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, mission_id)
  VALUES (p_id, p_debit, p_credit, p_amount, p_ledger, p_code, p_flags, p_mission)
  ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO existing FROM transfers WHERE id = p_id;
    IF existing.debit_account_id = p_debit AND existing.credit_account_id = p_credit
       AND existing.amount = p_amount AND existing.code = p_code AND existing.flags = p_flags THEN
      RETURN 'exists';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'ML002', MESSAGE = format('transfer %s exists with different fields', p_id);
  END IF;

  IF NOT p_debit_first THEN
    UPDATE accounts SET credits_pending = credits_pending + pending_part, credits_posted = credits_posted + posted_part
     WHERE id = p_credit AND ledger = p_ledger;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'ML003', MESSAGE = format('no %s account %s', p_ledger, p_credit);
    END IF;
  END IF;
  UPDATE accounts SET debits_pending = debits_pending + pending_part, debits_posted = debits_posted + posted_part
   WHERE id = p_debit AND ledger = p_ledger
     AND (flags & 1 = 0 OR debits_pending + debits_posted + p_amount <= credits_posted);
  IF NOT FOUND THEN
    IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_debit AND ledger = p_ledger) THEN
      RAISE EXCEPTION USING ERRCODE = 'ML003', MESSAGE = format('no %s account %s', p_ledger, p_debit);
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'ML001', MESSAGE = format('account %s has not enough balance', p_debit);
  END IF;
  IF p_debit_first THEN
    UPDATE accounts SET credits_pending = credits_pending + pending_part, credits_posted = credits_posted + posted_part
     WHERE id = p_credit AND ledger = p_ledger;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'ML003', MESSAGE = format('no %s account %s', p_ledger, p_credit);
    END IF;
  END IF;
  RETURN 'created';
END;
$$;
