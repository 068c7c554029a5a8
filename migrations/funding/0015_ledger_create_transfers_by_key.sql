-- ledger_create_transfers (0013) again, with the same arguments, answers and
-- errors, in three statements instead of seven, each of which finds its
-- accounts by primary key.
--
-- PL/pgSQL keeps a generic plan for each statement after five calls, and a
-- generic plan guesses ten elements for every array. For 0013's joins of
-- unnest() with accounts that plan read the whole table: a sequential scan
-- to lock, then a scan of every account of the ledger for each UPDATE. A
-- batch of four pledges read about 3,000 account rows. With `a.id = ANY(...)`
-- in each statement the generic plan is an index lookup per account, however
-- many accounts the ledger has.
--
-- The two UPDATEs are one now. Every account is still locked first, in
-- (rank, id) order; an account on both sides is locked at its first place.
-- The limit is checked on the sum of the account's debits against its
-- credits_posted as they were before the batch, as before.
CREATE OR REPLACE FUNCTION ledger_create_transfers(
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
  touched uuid[] := p_debits || p_credits;
  expected int;
  locked int;
  written int;
BEGIN
  IF p_flags NOT IN (0, 1) THEN
    RAISE EXCEPTION 'ledger_create_transfers makes posted (0) or pending (1) transfers, not flags %', p_flags;
  END IF;
  IF cardinality(p_debits) <> n OR cardinality(p_credits) <> n OR cardinality(p_amounts) <> n OR cardinality(p_missions) <> n THEN
    RAISE EXCEPTION 'ledger_create_transfers needs arrays of one length';
  END IF;
  IF array_position(p_amounts, NULL) IS NOT NULL OR 0 > ANY (p_amounts) THEN
    RAISE EXCEPTION 'ledger_create_transfers needs amounts of 0 or more';
  END IF;
  IF n = 0 THEN
    RETURN 0;
  END IF;

  -- The locks, in order; the UPDATE below only takes locks already held.
  WITH s AS (
    SELECT id, min(side) AS side
      FROM (SELECT d AS id, (p_debits_first IS FALSE)::int AS side FROM unnest(p_debits) d
            UNION ALL
            SELECT c, (p_debits_first IS TRUE)::int FROM unnest(p_credits) c) u
     GROUP BY id),
  l AS MATERIALIZED (
    SELECT a.ledger FROM accounts a JOIN s ON s.id = a.id
     WHERE a.id = ANY (touched)
     ORDER BY s.side, a.id
       FOR NO KEY UPDATE OF a)
  SELECT (SELECT count(*) FROM s), (SELECT count(*) FILTER (WHERE l.ledger = p_ledger) FROM l) INTO expected, locked;
  IF locked <> expected THEN
    RAISE EXCEPTION USING ERRCODE = 'ML003', MESSAGE = format('an account of the batch is not a %s account', p_ledger);
  END IF;

  UPDATE accounts a
     SET debits_pending = a.debits_pending + CASE WHEN pending THEN s.debit ELSE 0 END,
         debits_posted = a.debits_posted + CASE WHEN pending THEN 0 ELSE s.debit END,
         credits_pending = a.credits_pending + CASE WHEN pending THEN s.credit ELSE 0 END,
         credits_posted = a.credits_posted + CASE WHEN pending THEN 0 ELSE s.credit END
    FROM (SELECT id, sum(debit)::bigint AS debit, sum(credit)::bigint AS credit
            FROM (SELECT d AS id, x AS debit, 0::bigint AS credit FROM unnest(p_debits, p_amounts) AS u(d, x)
                  UNION ALL
                  SELECT c, 0, x FROM unnest(p_credits, p_amounts) AS u(c, x)) u
           GROUP BY id) s
   WHERE a.id = ANY (touched) AND a.id = s.id
     AND (a.flags & 1 = 0 OR s.debit = 0 OR a.debits_pending + a.debits_posted + s.debit <= a.credits_posted);
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written <> expected THEN
    RAISE EXCEPTION USING ERRCODE = 'ML001', MESSAGE = 'an account of the batch has not enough balance';
  END IF;

  -- A CHECK on transfers refuses a transfer from an account to itself; the
  -- primary key refuses a taken id.
  INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, mission_id)
  SELECT u.id, u.d, u.c, u.x, p_ledger, p_code, p_flags, u.m
    FROM unnest(p_ids, p_debits, p_credits, p_amounts, p_missions) AS u(id, d, c, x, m);
  RETURN n;
END;
$$;
