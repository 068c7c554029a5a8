-- ledger_resolve_pending: posts or voids a set of pending transfers in one
-- call, all or nothing — the second phase of TigerBeetle's two-phase
-- transfers, for a batch (settlement resolves thousands of pledge holds at
-- once). src/ledger/transfers.ts resolvePending calls it.
--
-- Item i: p_ids[i] is the id of the new transfer (chosen by the caller),
-- p_pending_ids[i] the pending transfer (flags 1) it resolves, p_amounts[i]
-- how much of it to post — 0 voids it (flags 4, the pending amount); less than
-- the pending amount posts that much (flags 2) and releases the rest — and
-- p_codes[i] its code. The new transfer takes its accounts, ledger and
-- mission from the pending one. p_lock_order lists the account codes in the
-- global lock order (ACCOUNT_CODES in src/ledger/accounts.ts). Answers the
-- pending amounts, in the order of p_pending_ids.
--
-- A refusal fails the call, and nothing of the batch remains:
--   ML004  an id that is not a pending transfer;
--   ML005  a pending transfer posted or voided already: before, by a
--          concurrent transaction (the insert waits for it to end), or by
--          another item of the batch;
--   ML009  a broken rule the caller or the books should never break: a post
--          above the pending amount, an account that does not exist.
--
--   * Each pending transfer is resolved at most once: UNIQUE(pending_id)
--     (the partial index transfers_pending_once) decides, and its violation
--     is ML005. (A plain insert whose rare failure is caught costs less than
--     INSERT … ON CONFLICT, which probes and confirms every row.)
--   * Balances change by one sum per account (pending amounts released,
--     posted amounts added), under the account locks, taken in the global
--     order (rank, then id) like every writer's. They are taken after the
--     insert: concurrent batches (settlement streams) queue only for the
--     balance update that ends each call. Posting adds no debit, so no limit
--     can be passed; the table's CHECKs remain the last line.
--   * Counts are checked: every pending transfer found, every account
--     locked and updated.
--   * Rows are found by key, `id = ANY (array)` next to each join: an index
--     lookup per element, however many transfers and accounts the books
--     hold. Plans are custom (plan_cache_mode), made for the arrays at hand:
--     a batch has from one to thousands of items, and a generic plan would
--     guess ten elements for every array.
-- SECURITY INVOKER (the default): it runs with the caller's row privileges.
CREATE OR REPLACE FUNCTION ledger_resolve_pending(
  p_ids uuid[],
  p_pending_ids uuid[],
  p_amounts bigint[],
  p_codes text[],
  p_lock_order text[]
) RETURNS bigint[] LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  n int := cardinality(p_ids);
  found_n int;
  debits uuid[];
  credits uuid[];
  held bigint[];
  ledgers text[];
  missions uuid[];
  touched uuid[];
  culprit uuid;
  over record;
  violated text;
  done int;
BEGIN
  IF cardinality(p_pending_ids) <> n OR cardinality(p_amounts) <> n OR cardinality(p_codes) <> n THEN
    RAISE EXCEPTION 'ledger_resolve_pending needs arrays of one length';
  END IF;
  IF array_position(p_amounts, NULL) IS NOT NULL OR 0 > ANY (p_amounts) THEN
    RAISE EXCEPTION 'ledger_resolve_pending needs amounts of 0 or more';
  END IF;
  IF n = 0 THEN
    RETURN '{}';
  END IF;

  -- The pending transfers, in the order of the items.
  SELECT count(*),
         array_agg(p.debit_account_id ORDER BY u.k), array_agg(p.credit_account_id ORDER BY u.k),
         array_agg(p.amount ORDER BY u.k), array_agg(p.ledger ORDER BY u.k), array_agg(p.mission_id ORDER BY u.k)
    INTO found_n, debits, credits, held, ledgers, missions
    FROM unnest(p_pending_ids) WITH ORDINALITY AS u(id, k)
    JOIN transfers p ON p.id = u.id
   WHERE p.id = ANY (p_pending_ids) AND p.flags = 1;
  IF found_n <> n THEN
    SELECT u.id INTO culprit FROM unnest(p_pending_ids) WITH ORDINALITY AS u(id, k)
     WHERE NOT EXISTS (SELECT 1 FROM transfers p WHERE p.id = u.id AND p.flags = 1)
     ORDER BY u.k LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = 'ML004', MESSAGE = format('pending transfer %s not found', culprit);
  END IF;
  SELECT u.id, u.x, u.h INTO over FROM unnest(p_pending_ids, p_amounts, held) AS u(id, x, h) WHERE u.x > u.h LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'ML009', MESSAGE = format('post amount %s exceeds pending amount %s of %s', over.x, over.h, over.id);
  END IF;

  -- UNIQUE(pending_id) refuses a second resolution of a pending transfer:
  -- one committed before, one in the batch, or a concurrent one (the insert
  -- waits for that transaction, and fails if it commits).
  BEGIN
    INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, pending_id, mission_id)
    SELECT u.id, u.d, u.c, CASE WHEN u.x = 0 THEN u.h ELSE u.x END, u.l, u.code, CASE WHEN u.x = 0 THEN 4 ELSE 2 END, u.pid, u.m
      FROM unnest(p_ids, debits, credits, p_amounts, held, ledgers, p_codes, p_pending_ids, missions) AS u(id, d, c, x, h, l, code, pid, m);
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
    IF violated IS DISTINCT FROM 'transfers_pending_once' THEN
      RAISE; -- a taken transfer id
    END IF;
    -- The first item whose pending transfer was resolved before it.
    SELECT u.id INTO culprit
      FROM (SELECT v.id, v.k, row_number() OVER (PARTITION BY v.id ORDER BY v.k) AS nth
              FROM unnest(p_pending_ids) WITH ORDINALITY AS v(id, k)) u
     WHERE u.nth > 1 OR EXISTS (SELECT 1 FROM transfers t WHERE t.pending_id = u.id)
     ORDER BY u.k LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = 'ML005', MESSAGE = format('pending transfer %s was already posted or voided', coalesce(culprit::text, '(of the batch)'));
  END;

  -- The locks, in order; the UPDATE below only takes locks already held.
  touched := ARRAY(SELECT DISTINCT x FROM unnest(debits || credits) AS x);
  PERFORM 1 FROM accounts a
   WHERE a.id = ANY (touched)
   ORDER BY array_position(p_lock_order, a.code), a.id
     FOR NO KEY UPDATE OF a;
  GET DIAGNOSTICS done = ROW_COUNT;
  IF done <> cardinality(touched) THEN
    RAISE EXCEPTION USING ERRCODE = 'ML009', MESSAGE = 'an account of a resolved transfer does not exist';
  END IF;

  UPDATE accounts a
     SET debits_pending = a.debits_pending - s.dp, debits_posted = a.debits_posted + s.dpo,
         credits_pending = a.credits_pending - s.cp, credits_posted = a.credits_posted + s.cpo
    FROM (SELECT id, sum(dp)::bigint AS dp, sum(dpo)::bigint AS dpo, sum(cp)::bigint AS cp, sum(cpo)::bigint AS cpo
            FROM (SELECT d AS id, h AS dp, x AS dpo, 0::bigint AS cp, 0::bigint AS cpo FROM unnest(debits, held, p_amounts) AS u(d, h, x)
                  UNION ALL
                  SELECT c, 0, 0, h, x FROM unnest(credits, held, p_amounts) AS u(c, h, x)) u
           GROUP BY id) s
   WHERE a.id = ANY (touched) AND a.id = s.id;
  GET DIAGNOSTICS done = ROW_COUNT;
  IF done <> cardinality(touched) THEN
    RAISE EXCEPTION USING ERRCODE = 'ML009', MESSAGE = 'an account of a resolved transfer was not updated';
  END IF;
  RETURN held;
END;
$$;
