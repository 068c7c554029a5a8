-- ledger_create_transfers: many transfers of one kind in one call, all or
-- nothing — TigerBeetle's create_transfers for a batch whose items succeed
-- together. A writer that gathers concurrent requests makes them in one
-- statement and one commit (src/ledger/transfers.ts transfersCall builds the
-- call); when any of them is refused the whole call fails and the writer
-- makes each one alone with ledger_create_transfer, which gives every request
-- its own answer. Answers how many transfers it made.
--
--   * Every account is locked first, in the global lock order (rank, then
--     id): p_debits_first says which side ranks first, NULL when both sides
--     are of one kind and only the ids order them. An account on both sides
--     is locked at its first place. The UPDATE then only takes locks held.
--   * Amounts are summed per account, so one account may appear several
--     times; the limit (flags & 1) is checked on the sum of its debits
--     against its credits_posted as they were before the batch, under the
--     lock, in the UPDATE that writes it (ML001). Every account must be on
--     p_ledger (ML003).
--   * Transfer ids must be new: a taken id fails the call (unique_violation),
--     and the single path reports 'exists' or a conflict.
--   * Each statement finds its accounts with `a.id = ANY (...)`: PL/pgSQL
--     keeps generic plans, which guess ten elements for any array, and a join
--     of unnest() with accounts could then scan the whole ledger.
-- SECURITY INVOKER (the default): it runs with the caller's row privileges.
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
