-- Many transfers of one kind in one call, all or nothing: TigerBeetle's
-- create_transfers for a batch whose items succeed together. A writer that
-- gathers concurrent requests (pledges: holdMany in src/missions/service.ts)
-- makes them in one statement and one commit; when any of them is refused the
-- whole call fails and the writer makes each one alone with
-- ledger_create_transfer, which gives every request its own answer.
--
-- Every account is locked up front in (rank, id) order, as every writer
-- does (src/ledger/accounts.ts): p_debits_first says which side ranks first,
-- NULL when both sides are of one kind and only the ids order them. Amounts
-- are summed per account, so one account may appear several times, and the
-- limit (flags & 1) is checked against the sum, under the lock, in the
-- UPDATE that writes it. Transfer ids must be new: a taken id fails the
-- call (unique_violation), and the single path reports exists or conflict.
CREATE FUNCTION ledger_create_transfers(
  p_ids uuid[],
  p_debits uuid[],
  p_credits uuid[],
  p_amounts bigint[],
  p_missions uuid[],
  p_ledger text,
  p_code text,
  p_flags int,
  p_debits_first boolean
) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int := cardinality(p_ids);
  pending boolean := p_flags = 1;
  expected int;
  written int;
BEGIN
  IF p_flags NOT IN (0, 1) THEN
    RAISE EXCEPTION 'ledger_create_transfers makes posted (0) or pending (1) transfers, not flags %', p_flags;
  END IF;
  IF cardinality(p_debits) <> n OR cardinality(p_credits) <> n OR cardinality(p_amounts) <> n OR cardinality(p_missions) <> n THEN
    RAISE EXCEPTION 'ledger_create_transfers needs arrays of one length';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_amounts) x WHERE x IS NULL OR x < 0) THEN
    RAISE EXCEPTION 'ledger_create_transfers needs amounts of 0 or more';
  END IF;
  IF n = 0 THEN
    RETURN 0;
  END IF;

  -- The locks, in order; the UPDATEs below only take locks already held.
  PERFORM 1 FROM accounts a
    JOIN (SELECT d AS id, (p_debits_first IS FALSE)::int AS side FROM unnest(p_debits) d
          UNION
          SELECT c, (p_debits_first IS TRUE)::int FROM unnest(p_credits) c) s ON s.id = a.id
   ORDER BY s.side, a.id
     FOR NO KEY UPDATE OF a;

  SELECT count(DISTINCT d) INTO expected FROM unnest(p_debits) d;
  UPDATE accounts a
     SET debits_pending = a.debits_pending + CASE WHEN pending THEN s.amount ELSE 0 END,
         debits_posted = a.debits_posted + CASE WHEN pending THEN 0 ELSE s.amount END
    FROM (SELECT d AS id, sum(x)::bigint AS amount FROM unnest(p_debits, p_amounts) AS u(d, x) GROUP BY d) s
   WHERE a.id = s.id AND a.ledger = p_ledger
     AND (a.flags & 1 = 0 OR a.debits_pending + a.debits_posted + s.amount <= a.credits_posted);
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written <> expected THEN
    IF (SELECT count(*) FROM accounts WHERE id = ANY(p_debits) AND ledger = p_ledger) <> expected THEN
      RAISE EXCEPTION USING ERRCODE = 'ML003', MESSAGE = format('a debit account of the batch is not a %s account', p_ledger);
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'ML001', MESSAGE = 'an account of the batch has not enough balance';
  END IF;

  SELECT count(DISTINCT c) INTO expected FROM unnest(p_credits) c;
  UPDATE accounts a
     SET credits_pending = a.credits_pending + CASE WHEN pending THEN s.amount ELSE 0 END,
         credits_posted = a.credits_posted + CASE WHEN pending THEN 0 ELSE s.amount END
    FROM (SELECT c AS id, sum(x)::bigint AS amount FROM unnest(p_credits, p_amounts) AS u(c, x) GROUP BY c) s
   WHERE a.id = s.id AND a.ledger = p_ledger;
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written <> expected THEN
    RAISE EXCEPTION USING ERRCODE = 'ML003', MESSAGE = format('a credit account of the batch is not a %s account', p_ledger);
  END IF;

  -- A CHECK on transfers refuses a transfer from an account to itself; the
  -- primary key refuses a taken id.
  INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, mission_id)
  SELECT u.id, u.d, u.c, u.x, p_ledger, p_code, p_flags, u.m
    FROM unnest(p_ids, p_debits, p_credits, p_amounts, p_missions) AS u(id, d, c, x, m);
  RETURN n;
END;
$$;
