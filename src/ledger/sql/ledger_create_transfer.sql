-- ledger_create_transfer: one transfer, posted (flags 0) or pending
-- (flags 1), and both of its balance changes, in one statement, all or
-- nothing. The ledger's most frequent write; src/ledger/transfers.ts calls it
-- (createTransfer, and transferCall for statements that do more in the same
-- round trip).
--
--   * The transfer id is the idempotency key: the same fields again answer
--     'exists' and change nothing; other fields raise ML002.
--   * The balance guard sits in the debit UPDATE itself, under its row lock
--     (never check-then-act): an account whose debits may not exceed its
--     credits (flags & 1) refuses a debit it cannot pay with ML001.
--   * Each balance UPDATE must find its account on the transfer's ledger,
--     else ML003. Transfers have no foreign keys: these UPDATEs are the check.
--   * The two accounts are updated in the order the caller gives
--     (p_debit_first: the global lock order, rank then id), so concurrent
--     writers never wait on each other in a cycle.
-- A refusal fails the statement, so nothing of the transfer remains.
-- SECURITY INVOKER (the default): it runs with the caller's row privileges.
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
