-- pledge_hold_batch: the pledge book's one writer. It checks and holds a batch
-- of pledges and answers per item, as TigerBeetle's create_transfers does.
-- A refused pledge never fails the batch: the others are held in the same
-- statement and commit, and the refusal names its reason. A lone pledge is a
-- batch of one. src/missions/pledges.ts holdPledges calls it.
--
-- Per item, the first reason that applies, in this order:
--   key_repeated        its Idempotency-Key came earlier in the batch
--   key_busy            another writer holds the key's lock (never waited for)
--   key_exists          the key is stored already
--   mission_not_found
--   own_mission         the backer owns the mission's channel
--   blocked_by_channel  the channel blocked the backer
--   self_excluded       the backer excluded themselves until a later time
--   amount_out_of_range the hold outside the mission's min/max
--   mission_not_open    not PROPOSED before its accept deadline, nor ACTIVE before its deadline
--   spending_limit_reached  the backer's pledges of the KST day (or month),
--                       with the batch's earlier ones, would pass their limit
--   exceeds_available   more than the wallet has available, after the batch's
--                       earlier pledges from the same wallet (in batch order)
--   ok                  held: transfer, pledge, backer, totals, outbox event and key written
--
-- The hold of a pledge is its amount, or on a per-unit mission its amount
-- per unit times the mission's unit_max (the bounds apply to the hold).
-- The key reasons send the caller down the path that waits for the key's
-- lock and replays its stored answer; the others are the answer.
--
-- Locks, in the order every writer takes them: keys (only tried), the
-- missions' shared advisory locks and rows (FOR SHARE) by id, then every
-- account of the batch, wallets before escrows, each by id — the order
-- ledger_create_transfers takes them in, which then finds them held.
--
-- Every join with a table also names its key with `= ANY (<array argument>)`:
-- PL/pgSQL keeps a generic plan per statement after five calls, which
-- guesses ten elements for each array, and only a key predicate keeps that
-- plan an index lookup instead of a scan of the table (see funding 0015).
-- And the plans are generic from the first call (plan_cache_mode): a batch
-- is small (one pledge, often), a custom plan for it always looks cheaper
-- than the cached one, so PostgreSQL would plan every statement again on
-- every call — most of a small batch's time. The setting holds for the
-- ledger functions this one calls, too.
CREATE OR REPLACE FUNCTION pledge_hold_batch(
  p_missions uuid[],
  p_backers uuid[],
  p_names text[],
  p_amounts bigint[],
  p_on_failure text[],
  p_messages text[],
  p_at timestamptz[],
  p_slots int[],
  p_pledges uuid[],
  p_holds uuid[],
  p_events uuid[],
  p_keys text[],
  p_hashes text[],
  p_responses jsonb[],
  p_key_lock_class int,
  p_mission_lock_class int
) RETURNS text[] LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  res text[];
  wallets uuid[];
  escrows uuid[];
  holds bigint[];
  r record;
  wallet uuid;
  available bigint;
  day_left bigint;
  month_left bigint;
  v_ok int;
  v_held int;
BEGIN
  IF coalesce(cardinality(p_missions), 0) = 0 THEN
    RETURN '{}';
  END IF;

  -- Keys, tried in the two-key space of keyLock() (src/platform/idempotency.ts),
  -- whose lock arguments are built the same way here.
  SELECT array_agg(k.reason ORDER BY k.n) INTO res
    FROM (SELECT i.n, CASE
                 WHEN i.k IS NULL THEN NULL
                 WHEN row_number() OVER (PARTITION BY i.b, i.k ORDER BY i.n) > 1 THEN 'key_repeated'
                 WHEN NOT pg_try_advisory_xact_lock(p_key_lock_class, hashtext(i.b::text || ':' || i.k)) THEN 'key_busy'
                 -- A scalar subquery, not EXISTS: PostgreSQL may answer an EXISTS
                 -- with one hash of the whole table (its plan-time alternative),
                 -- and picks it whenever the statistics call the table small —
                 -- after a vacuum of an empty table, say — reading every stored
                 -- key on every call. A scalar subquery can only look one up.
                 WHEN (SELECT true FROM idempotency_keys x WHERE x.user_id = i.b AND x.key = i.k) THEN 'key_exists'
               END AS reason
            FROM unnest(p_backers, p_keys) WITH ORDINALITY AS i(b, k, n)) k;

  -- The missions: queued fairly behind transitions (lockMission), then their rows.
  PERFORM pg_advisory_xact_lock_shared(p_mission_lock_class, hashtext(s.id::text))
     FROM (SELECT DISTINCT i.m AS id FROM unnest(p_missions, res) AS i(m, r) WHERE i.r IS NULL ORDER BY 1) s;
  WITH m AS (
    SELECT m.* FROM missions m
     WHERE m.id = ANY (p_missions)
     ORDER BY m.id FOR SHARE OF m)
  SELECT array_agg(CASE
           WHEN i.r IS NOT NULL THEN i.r
           WHEN m.id IS NULL THEN 'mission_not_found'
           WHEN m.channel_owner_id = i.b THEN 'own_mission'
           -- A scalar subquery, as for the keys above: one lookup, never a hash of the table.
           WHEN (SELECT true FROM channel_blocks cb WHERE cb.channel = m.channel AND cb.user_id = i.b) THEN 'blocked_by_channel'
           WHEN g.self_excluded_until > i.at THEN 'self_excluded'
           WHEN i.x * coalesce(m.unit_max, 1) NOT BETWEEN m.min_amount AND m.max_amount THEN 'amount_out_of_range'
           WHEN NOT ((m.state = 'PROPOSED' AND i.at < m.accept_deadline) OR (m.state = 'ACTIVE' AND i.at < m.deadline)) THEN 'mission_not_open'
         END ORDER BY i.n),
         array_agg(i.x * coalesce(m.unit_max, 1) ORDER BY i.n)
    INTO res, holds
    FROM unnest(res, p_missions, p_backers, p_amounts, p_at) WITH ORDINALITY AS i(r, mid, b, x, at, n)
    LEFT JOIN m ON m.id = i.mid
    LEFT JOIN spending_guards g ON g.user_id = i.b AND g.user_id = ANY (p_backers);

  -- Each remaining pledge's wallet and escrow slot (one index lookup each).
  SELECT array_agg(w.id ORDER BY i.n), array_agg(e.id ORDER BY i.n) INTO wallets, escrows
    FROM unnest(res, p_backers, p_missions, p_slots) WITH ORDINALITY AS i(r, b, mid, slot, n)
    LEFT JOIN LATERAL (SELECT a.id FROM accounts a
                        WHERE i.r IS NULL AND a.ledger = 'KRW' AND a.code = 'user_wallet' AND a.owner = i.b::text LIMIT 1) w ON true
    LEFT JOIN LATERAL (SELECT a.id FROM accounts a
                        WHERE i.r IS NULL AND a.ledger = 'KRW' AND a.code = 'mission_escrow' AND a.owner = i.mid::text || ':' || i.slot LIMIT 1) e ON true;
  IF EXISTS (SELECT 1 FROM unnest(res, escrows) AS i(r, e) WHERE i.r IS NULL AND i.e IS NULL) THEN
    RAISE EXCEPTION 'pledge_hold_batch: a mission passed every check but has no escrow account for its slot';
  END IF;
  PERFORM 1
     FROM accounts a
     JOIN (SELECT u.id, min(u.side) AS side
             FROM (SELECT unnest(wallets) AS id, 0 AS side UNION ALL SELECT unnest(escrows), 1) u
            WHERE u.id IS NOT NULL GROUP BY u.id) s ON s.id = a.id
    WHERE a.id = ANY (wallets || escrows)
    ORDER BY s.side, a.id
      FOR NO KEY UPDATE OF a;

  -- Limits and balances, under those locks (this statement's snapshot sees
  -- the pledges of every writer that held a wallet before): each wallet's
  -- pledges in batch order, each held while what is left covers it
  -- (TigerBeetle's sequential semantics). A backer's limits come from their
  -- guard row (a raise counts from its effective time); their pledges of the
  -- KST day and month come from spending_days (at most 31 rows), read only
  -- when a limit is set.
  FOR r IN
    SELECT i.n, i.x, i.w, a.credits_posted - a.debits_posted - a.debits_pending AS avail, coalesce((a.flags & 1) <> 0, true) AS limited,
           lim.daily - spent.day AS day_left, lim.monthly - spent.month AS month_left
      FROM unnest(res, wallets, holds, p_backers, p_at) WITH ORDINALITY AS i(r, w, x, b, at, n)
      LEFT JOIN accounts a ON a.id = i.w AND a.id = ANY (wallets)
      LEFT JOIN spending_guards g ON g.user_id = i.b AND g.user_id = ANY (p_backers)
      LEFT JOIN LATERAL (
        SELECT CASE WHEN g.pending_daily_set AND g.pending_effective_at <= i.at THEN g.pending_daily ELSE g.daily_limit END AS daily,
               CASE WHEN g.pending_monthly_set AND g.pending_effective_at <= i.at THEN g.pending_monthly ELSE g.monthly_limit END AS monthly) lim ON true
      LEFT JOIN LATERAL (
        SELECT coalesce(sum(d.amount) FILTER (WHERE d.day = (i.at AT TIME ZONE 'Asia/Seoul')::date), 0) AS day,
               coalesce(sum(d.amount), 0) AS month
          FROM spending_days d
         WHERE (lim.daily IS NOT NULL OR lim.monthly IS NOT NULL)
           AND d.user_id = i.b AND d.user_id = ANY (p_backers)
           AND d.day >= date_trunc('month', i.at AT TIME ZONE 'Asia/Seoul')::date
           AND d.day <= (i.at AT TIME ZONE 'Asia/Seoul')::date) spent ON true
     WHERE i.r IS NULL
     ORDER BY i.w, i.n
  LOOP
    IF r.w IS NULL THEN
      -- No wallet: nothing is held, so only the reasons' order matters.
      res[r.n] := CASE WHEN r.x > r.day_left OR r.x > r.month_left THEN 'spending_limit_reached' ELSE 'exceeds_available' END;
      CONTINUE;
    END IF;
    IF r.w IS DISTINCT FROM wallet THEN
      wallet := r.w;
      available := r.avail;
      day_left := r.day_left;
      month_left := r.month_left;
    END IF;
    IF r.x > day_left OR r.x > month_left THEN
      res[r.n] := 'spending_limit_reached';
    ELSIF r.limited AND r.x > available THEN
      res[r.n] := 'exceeds_available';
    ELSE
      available := available - r.x;
      day_left := day_left - r.x;
      month_left := month_left - r.x;
      res[r.n] := 'ok';
    END IF;
  END LOOP;

  v_ok := (SELECT count(*) FROM unnest(res) AS x(reason) WHERE x.reason = 'ok');
  IF v_ok = 0 THEN
    RETURN res;
  END IF;

  -- The held ones: their transfers (all of which pass now), pledges, first
  -- backings, slot totals, outbox events and keys with their answers.
  WITH t AS (
    SELECT i.*, m.channel, CASE WHEN m.unit_max IS NOT NULL THEN i.ux END AS unit_amount,
           row_number() OVER (PARTITION BY i.mid, i.b ORDER BY i.n) = 1 AS first_of_backer
      FROM unnest(res, p_missions, p_backers, p_names, holds, p_amounts, p_on_failure, p_messages, p_at, p_slots, p_pledges, p_holds, p_events,
                  wallets, escrows, p_keys, p_hashes, p_responses)
           WITH ORDINALITY AS i(r, mid, b, name, x, ux, choice, msg, at, slot, pledge, hold, event, w, e, k, h, response, n)
      JOIN missions m ON m.id = i.mid AND m.id = ANY (p_missions)
     WHERE i.r = 'ok'),
  held AS (
    SELECT ledger_create_transfers(array_agg(t.hold ORDER BY t.n), array_agg(t.w ORDER BY t.n), array_agg(t.e ORDER BY t.n),
                                   array_agg(t.x ORDER BY t.n), array_agg(t.mid ORDER BY t.n), 'KRW', 'pledge_hold', 1, true) AS n
      FROM t),
  p AS (
    INSERT INTO pledges (id, mission_id, backer_id, backer_name, amount, unit_amount, on_failure, message, hold_transfer_id, wallet_account_id, escrow_account_id, status, created_at)
    SELECT t.pledge, t.mid, t.b, t.name, t.x, t.unit_amount, coalesce(t.choice, 'REFUND'), t.msg, t.hold, t.w, t.e, 'HELD', t.at FROM t, held),
  b AS (
    INSERT INTO mission_backers (mission_id, backer_id)
    SELECT t.mid, t.b FROM t, held WHERE t.first_of_backer
    ON CONFLICT DO NOTHING RETURNING mission_id, backer_id),
  totals AS (
    UPDATE mission_totals mt SET amount = mt.amount + s.amount, pledges = mt.pledges + s.pledges, backers = mt.backers + s.backers
      FROM (SELECT t.mid, t.slot, sum(t.x) AS amount, count(*) AS pledges,
                   count(*) FILTER (WHERE t.first_of_backer AND EXISTS (SELECT 1 FROM b WHERE b.mission_id = t.mid AND b.backer_id = t.b)) AS backers
              FROM t, held GROUP BY t.mid, t.slot) s
     WHERE mt.mission_id = ANY (p_missions) AND mt.mission_id = s.mid AND mt.slot = s.slot),
  o AS (
    INSERT INTO outbox (id, topic, key, payload)
    SELECT t.event, 'pledge.held', t.mid::text,
           jsonb_build_object('missionId', t.mid, 'channel', t.channel, 'pledgeId', t.pledge, 'amount', t.x, 'unitAmount', t.unit_amount,
                              'backerName', t.name, 'message', t.msg)
      FROM t, held),
  days AS (
    -- Guarded viewers' totals per KST day (spending_days), kept for the next checks.
    INSERT INTO spending_days (user_id, day, amount)
    SELECT t.b, (t.at AT TIME ZONE 'Asia/Seoul')::date, sum(t.x)
      FROM t JOIN spending_guards g ON g.user_id = t.b AND g.user_id = ANY (p_backers), held
     GROUP BY 1, 2
    ON CONFLICT (user_id, day) DO UPDATE SET amount = spending_days.amount + EXCLUDED.amount),
  k AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, resource_id, status_code, response)
    SELECT t.b, t.k, t.h, t.pledge, 201, t.response FROM t, held WHERE t.k IS NOT NULL)
  SELECT held.n INTO v_held FROM held;
  IF v_held IS DISTINCT FROM v_ok THEN
    RAISE EXCEPTION 'pledge_hold_batch: % pledges ok but % held', v_ok, v_held;
  END IF;
  RETURN res;
END;
$$;
