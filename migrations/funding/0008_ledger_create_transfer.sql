-- The ledger's most frequent write in one round trip: a transfer and both of
-- its balance changes, all or nothing. src/ledger/transfers.ts createTransfer
-- is its only caller and keeps the same rules:
--   * the transfer id is the idempotency key: the same fields again answer
--     'exists' and change nothing; other fields raise ML002;
--   * the balance guard sits in the debit UPDATE itself, under its row lock
--     (never check-then-act); a refused debit raises ML001 and, the statement
--     failing, nothing of the transfer remains;
--   * the two accounts are updated in the lock order the caller gives
--     (rank, id), so concurrent writers never wait on each other in a cycle.
-- SECURITY INVOKER (the default): it runs with the caller's row privileges.
CREATE FUNCTION ledger_create_transfer(
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
     WHERE id = p_credit;
  END IF;
  UPDATE accounts SET debits_pending = debits_pending + pending_part, debits_posted = debits_posted + posted_part
   WHERE id = p_debit
     AND (flags & 1 = 0 OR debits_pending + debits_posted + p_amount <= credits_posted);
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'ML001', MESSAGE = format('account %s has not enough balance', p_debit);
  END IF;
  IF p_debit_first THEN
    UPDATE accounts SET credits_pending = credits_pending + pending_part, credits_posted = credits_posted + posted_part
     WHERE id = p_credit;
  END IF;
  RETURN 'created';
END;
$$;
