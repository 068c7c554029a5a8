-- prediction_bet_batch: the predictions' one writer of bets. It checks and
-- places a batch of points bets and answers per item, as TigerBeetle's
-- create_transfers does. A refused bet never fails the batch: the others are
-- placed in the same statement and commit, and the refusal names its reason.
-- A lone bet is a batch of one. src/predictions/bets.ts placeBets calls it.
--
-- Per item, the first reason that applies, in this order:
--   invalid_side          the side is neither SUCCEEDED nor FAILED
--   invalid_points        fewer than 1 point
--   self_excluded         the bettor excluded themselves from spending
--                         (spending_guards.self_excluded_until after the bet)
--   blocked_by_channel    the mission's channel blocked the bettor
--                         (channel_blocks)
--   prediction_not_found  the mission has no prediction (none before acceptance)
--   own_mission           the bettor owns the mission's channel
--   prediction_locked     the prediction is resolved or refunded, the bet
--                         arrived at or after locks_at, or the mission is in
--                         a terminal state (p_terminal)
--   no_wallet             the bettor has no POINTS wallet yet (the caller
--                         creates it with its signup grant and tries again)
--   side_already_chosen   the bettor's stake on this prediction is on the other
--                         side, counting the batch's earlier placed bets of the
--                         same bettor (in batch order)
--   exceeds_available     more points than the wallet has, after the batch's
--                         earlier placed bets of the same bettor (in batch order)
--   ok                    placed: transfer, stake, bet row, pool totals and
--                         outbox event written
-- Refused bets change nothing, so a later bet of the same bettor is judged as
-- if they had never been made (TigerBeetle's sequential semantics).
--
-- Answers `results` (one reason per item, in order) and `totals` (per item:
-- the bettor's whole stake on that prediction after that bet when it is ok,
-- NULL otherwise).
--
-- Locks, in the order every writer takes them: the predictions' rows (FOR
-- SHARE: bets don't block each other; resolution, FOR UPDATE, waits for them)
-- by mission id, then every account of the batch, wallets before pools, each
-- by id — the order ledger_create_transfers takes them in, which then finds
-- them held. Every bet of a bettor locks the bettor's wallet, so the stakes
-- and balances read after that lock (the next statement: a fresh snapshot)
-- are the bettor's latest, and no other bet of theirs is in flight. A slot's
-- totals rows (mission, side, slot) are written only under the lock of its
-- pool account (mission:slot), so they need no order of their own.
CREATE OR REPLACE FUNCTION prediction_bet_batch(
  p_missions uuid[],
  p_users uuid[],
  p_sides text[],
  p_points bigint[],
  p_at timestamptz[],
  p_slots int[],
  p_bets uuid[],
  p_transfers uuid[],
  p_events uuid[],
  p_terminal text[],
  OUT results text[],
  OUT totals bigint[]
) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  n int := coalesce(cardinality(p_missions), 0);
  wallets uuid[];
  pools uuid[];
  r record;
  bettor uuid;
  available bigint;
  stakes jsonb;
  stake jsonb;
  v_ok int;
  v_groups int;
  v_slots int;
  v_moved int;
  v_staked int;
  v_totalled int;
BEGIN
  results := '{}';
  totals := '{}';
  IF n = 0 THEN
    RETURN;
  END IF;
  IF coalesce(cardinality(p_users), 0) <> n OR coalesce(cardinality(p_sides), 0) <> n OR coalesce(cardinality(p_points), 0) <> n
     OR coalesce(cardinality(p_at), 0) <> n OR coalesce(cardinality(p_slots), 0) <> n OR coalesce(cardinality(p_bets), 0) <> n
     OR coalesce(cardinality(p_transfers), 0) <> n OR coalesce(cardinality(p_events), 0) <> n THEN
    RAISE EXCEPTION 'prediction_bet_batch needs arrays of one length';
  END IF;
  totals := array_fill(NULL::bigint, ARRAY[n]);

  -- The checks, on the predictions' rows locked shared in mission id order
  -- (p), and each remaining bet's wallet and pool slot (one index lookup each).
  WITH p AS MATERIALIZED (
    SELECT p.mission_id, p.state, p.locks_at FROM predictions p
     WHERE p.mission_id = ANY (p_missions)
     ORDER BY p.mission_id
       FOR SHARE OF p)
  SELECT array_agg(CASE WHEN k.r IS NULL AND w.id IS NULL THEN 'no_wallet' ELSE k.r END ORDER BY k.n),
         array_agg(w.id ORDER BY k.n), array_agg(s.id ORDER BY k.n) INTO results, wallets, pools
    FROM (SELECT i.n, i.u, i.mid, i.slot,
                 CASE
                   WHEN i.side IS NULL OR i.side NOT IN ('SUCCEEDED', 'FAILED') THEN 'invalid_side'
                   WHEN i.x IS NULL OR i.x < 1 THEN 'invalid_points'
                   -- Scalar subqueries (one lookup each), never a hash of the table.
                   WHEN (SELECT true FROM spending_guards g WHERE g.user_id = i.u AND g.self_excluded_until > i.at) THEN 'self_excluded'
                   WHEN (SELECT true FROM channel_blocks cb WHERE cb.channel = m.channel AND cb.user_id = i.u) THEN 'blocked_by_channel'
                   WHEN p.mission_id IS NULL THEN 'prediction_not_found'
                   WHEN m.channel_owner_id = i.u THEN 'own_mission'
                   WHEN p.state <> 'OPEN' OR NOT coalesce(i.at < p.locks_at, false) OR m.state = ANY (p_terminal) THEN 'prediction_locked'
                 END AS r
            FROM unnest(p_missions, p_users, p_sides, p_points, p_at, p_slots) WITH ORDINALITY AS i(mid, u, side, x, at, slot, n)
            LEFT JOIN p ON p.mission_id = i.mid
            LEFT JOIN missions m ON m.id = i.mid AND m.id = ANY (p_missions)) k
    LEFT JOIN LATERAL (SELECT a.id FROM accounts a
                        WHERE k.r IS NULL AND a.ledger = 'POINTS' AND a.code = 'user_wallet' AND a.owner = k.u::text LIMIT 1) w ON true
    LEFT JOIN LATERAL (SELECT a.id FROM accounts a
                        WHERE k.r IS NULL AND a.ledger = 'POINTS' AND a.code = 'prediction_pool' AND a.owner = k.mid::text || ':' || k.slot LIMIT 1) s ON true;
  PERFORM 1
     FROM accounts a
     JOIN (SELECT u.id, min(u.side) AS side
             FROM (SELECT i.w AS id, 0 AS side FROM unnest(results, wallets) AS i(r, w) WHERE i.r IS NULL
                   UNION ALL
                   SELECT i.s, 1 FROM unnest(results, pools) AS i(r, s) WHERE i.r IS NULL) u
            GROUP BY u.id) s ON s.id = a.id
    WHERE a.id = ANY (wallets || pools)
    ORDER BY s.side, a.id
      FOR NO KEY UPDATE OF a;

  -- Stakes and balances, under those locks: each bettor's bets in batch
  -- order, each placed while its side is the bettor's on that prediction (or
  -- none yet) and what is left covers it. v_ok counts the placed ones.
  v_ok := 0;
  FOR r IN
    SELECT i.n, i.u, i.mid, i.side, i.x, i.pool,
           a.credits_posted - a.debits_posted - a.debits_pending AS avail, (a.flags & 1) <> 0 AS limited,
           s.side AS stake_side, coalesce(s.points, 0) AS stake_points
      FROM unnest(results, p_users, p_missions, p_sides, p_points, wallets, pools) WITH ORDINALITY AS i(r, u, mid, side, x, w, pool, n)
      JOIN accounts a ON a.id = i.w AND a.id = ANY (wallets)
      LEFT JOIN prediction_stakes s ON s.mission_id = i.mid AND s.user_id = i.u AND s.mission_id = ANY (p_missions) AND s.user_id = ANY (p_users)
     WHERE i.r IS NULL
     ORDER BY i.u, i.n
  LOOP
    IF r.pool IS NULL THEN
      RAISE EXCEPTION 'prediction_bet_batch: a prediction passed every check but has no pool account for its slot';
    END IF;
    IF r.u IS DISTINCT FROM bettor THEN
      bettor := r.u;
      available := r.avail;
      stakes := '{}';
    END IF;
    stake := coalesce(stakes -> r.mid::text, jsonb_build_object('side', r.stake_side, 'points', r.stake_points));
    IF stake ->> 'side' IS NOT NULL AND stake ->> 'side' <> r.side THEN
      results[r.n] := 'side_already_chosen';
    ELSIF r.limited AND r.x > available THEN
      results[r.n] := 'exceeds_available';
    ELSE
      available := available - r.x;
      totals[r.n] := (stake ->> 'points')::bigint + r.x;
      stakes := stakes || jsonb_build_object(r.mid::text, jsonb_build_object('side', r.side, 'points', totals[r.n]));
      results[r.n] := 'ok';
      v_ok := v_ok + 1;
    END IF;
  END LOOP;

  IF v_ok = 0 THEN
    RETURN;
  END IF;

  -- The placed ones: their transfers (all of which pass now), stakes (one
  -- upsert per bettor and prediction), bet rows, slot totals and outbox events.
  WITH t AS (
    SELECT i.*, m.channel
      FROM unnest(results, p_missions, p_users, p_sides, p_points, p_at, p_slots, p_bets, p_transfers, p_events, wallets, pools)
           WITH ORDINALITY AS i(r, mid, u, side, x, at, slot, bet, tr, event, w, pool, n)
      JOIN missions m ON m.id = i.mid AND m.id = ANY (p_missions)
     WHERE i.r = 'ok'),
  -- A lone placed bet goes through ledger_create_transfer (cheaper than the
  -- batch call by a statement or two); the lock order is the same.
  moved AS (
    SELECT CASE WHEN count(*) = 1
                THEN (ledger_create_transfer((array_agg(t.tr))[1], (array_agg(t.w))[1], (array_agg(t.pool))[1], (array_agg(t.x))[1],
                                             'POINTS', 'prediction_bet', 0, (array_agg(t.mid))[1], true) = 'created')::int
                ELSE ledger_create_transfers(array_agg(t.tr ORDER BY t.n), array_agg(t.w ORDER BY t.n), array_agg(t.pool ORDER BY t.n),
                                             array_agg(t.x ORDER BY t.n), array_agg(t.mid ORDER BY t.n), 'POINTS', 'prediction_bet', 0, true)
           END AS n
      FROM t),
  s AS (
    INSERT INTO prediction_stakes AS s (mission_id, user_id, side, points, first_bet_at, first_bet_id)
    SELECT g.mid, g.u, g.side, g.x, g.at, g.bet
      FROM (SELECT t.mid, t.u, (array_agg(t.side ORDER BY t.n))[1] AS side, sum(t.x)::bigint AS x,
                   (array_agg(t.at ORDER BY t.n))[1] AS at, (array_agg(t.bet ORDER BY t.n))[1] AS bet
              FROM t, moved GROUP BY t.mid, t.u) g
    ON CONFLICT (mission_id, user_id) DO UPDATE SET points = s.points + EXCLUDED.points WHERE s.side = EXCLUDED.side
    RETURNING 1),
  b AS (
    INSERT INTO prediction_bets (id, mission_id, user_id, side, points, transfer_id, created_at)
    SELECT t.bet, t.mid, t.u, t.side, t.x, t.tr, t.at FROM t, moved),
  pt AS (
    UPDATE prediction_totals pt SET points = pt.points + g.x
      FROM (SELECT t.mid, t.side, t.slot, sum(t.x)::bigint AS x FROM t, moved GROUP BY t.mid, t.side, t.slot) g
     WHERE pt.mission_id = g.mid AND pt.side = g.side AND pt.slot = g.slot AND pt.mission_id = ANY (p_missions)
    RETURNING 1),
  o AS (
    INSERT INTO outbox (id, topic, key, payload)
    SELECT t.event, 'prediction.bet', t.mid::text,
           jsonb_build_object('missionId', t.mid, 'channel', t.channel, 'side', t.side, 'points', t.x)
      FROM t, moved)
  SELECT moved.n, (SELECT count(*) FROM s), (SELECT count(DISTINCT (t.mid, t.u)) FROM t), (SELECT count(*) FROM pt),
         (SELECT count(DISTINCT (t.mid, t.side, t.slot)) FROM t)
    INTO v_moved, v_staked, v_groups, v_totalled, v_slots FROM moved;
  IF v_moved IS DISTINCT FROM v_ok OR v_staked <> v_groups OR v_totalled <> v_slots THEN
    RAISE EXCEPTION 'prediction_bet_batch: % bets ok but % transfers, % of % stakes, % of % pool totals written',
      v_ok, v_moved, v_staked, v_groups, v_totalled, v_slots;
  END IF;
END;
$$;
