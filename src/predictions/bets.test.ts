// The predictions' batch statement against a model: random predictions (open,
// locked by time, resolved, refunded, of a terminal mission, missing), points
// wallets (or none), stakes already placed, bettors who excluded themselves
// or whom the channel blocked, and random batches; every item's
// result and stake total, every balance (points wallets, pool accounts and
// totals) and every row it writes must be what placing the batch one bet at a
// time, in order, would give (TigerBeetle's semantics for create_transfers).
import fc from 'fast-check';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../../test/support/databases.ts';
import { fundWallets, insertChannel } from '../../test/support/funding-world.ts';
import { balancesOf, ensureAccounts } from '../ledger/index.ts';
import type { Queryable } from '../platform/db.ts';
import { placeBets, POOL_SLOTS, type BetRequest, type BetResult } from './bets.ts';
import type { Side } from './payout.ts';

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => db?.drop());

const USERS = 4;
const SIDES = ['SUCCEEDED', 'FAILED'] as const;
type AnySide = Side | 'MAYBE';

interface PredictionSpec {
  state: 'OPEN' | 'RESOLVED' | 'REFUNDED';
  missionState: 'ACTIVE' | 'SUCCEEDED' | 'CANCELLED';
  /** Seconds from now to locks_at. */
  locksIn: number;
}
interface World {
  balances: (number | null)[]; // null: no points wallet at all
  /** Per user: self-excluded from spending; blocked by the channel. */
  guards: { excluded: boolean; blocked: boolean }[];
  predictions: PredictionSpec[];
  stakes: { user: number; prediction: number; side: Side; points: number }[];
  batch: { user: number; prediction: number; side: AnySide; points: number }[];
}

// Weighted towards bets that pass, so every run places some and refuses some.
const prediction: fc.Arbitrary<PredictionSpec> = fc.record({
  state: fc.constantFrom('OPEN', 'OPEN', 'OPEN', 'OPEN', 'RESOLVED', 'REFUNDED'),
  missionState: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'SUCCEEDED', 'CANCELLED'),
  locksIn: fc.constantFrom(-5, 3_600, 3_600, 3_600),
});
const world: fc.Arbitrary<World> = fc.record({
  balances: fc.array(fc.option(fc.constantFrom(0, 50, 100, 300, 1_000), { nil: null, freq: 6 }), { minLength: USERS, maxLength: USERS }),
  guards: fc.array(
    fc.record({ excluded: fc.constantFrom(false, false, false, false, false, true), blocked: fc.constantFrom(false, false, false, false, false, true) }),
    { minLength: USERS, maxLength: USERS },
  ),
  // Prediction 0 is open; 1 and 2 may be closed in any way.
  predictions: fc.tuple(
    fc.constant<PredictionSpec>({ state: 'OPEN', missionState: 'ACTIVE', locksIn: 3_600 }),
    prediction,
    prediction,
  ).map((ps) => [...ps]),
  stakes: fc.uniqueArray(
    fc.record({ user: fc.nat(USERS - 1), prediction: fc.nat(2), side: fc.constantFrom(...SIDES), points: fc.constantFrom(5, 40) }),
    { selector: (s) => `${s.user}:${s.prediction}`, maxLength: 3 },
  ),
  // Mission 3 exists but has no prediction (not accepted yet); mission 4 does not exist.
  batch: fc.array(
    fc.record({
      user: fc.constantFrom(0, 1, 1, 1, 2, 2, 2, 3, 3, 3),
      prediction: fc.constantFrom(0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 4),
      side: fc.constantFrom<AnySide>(...Array<AnySide>(6).fill('SUCCEEDED'), ...Array<AnySide>(6).fill('FAILED'), 'MAYBE'),
      points: fc.constantFrom(0, 1, 20, 20, 20, 50, 50, 50, 100, 100, 250, 250, 700),
    }),
    { minLength: 1, maxLength: 20 },
  ),
});

const TERMINAL_STATES = new Set(['SUCCEEDED', 'CANCELLED']);

interface Expected {
  results: BetResult[];
  /** The bettor's stake on the prediction after each placed bet (null for refused ones). */
  totals: (number | null)[];
  spent: number[];
  /** Final stake per `${user}:${prediction}`. */
  stakes: Map<string, { side: Side; points: number }>;
  /** Pool per prediction and side. */
  pools: Record<Side, number>[];
}

/** One bet at a time, in batch order. User 0 owns the channel. */
function model(w: World): Expected {
  const available = w.balances.map((b) => b ?? 0);
  const spent = w.balances.map(() => 0);
  const stakes = new Map(w.stakes.map((s) => [`${s.user}:${s.prediction}`, { side: s.side, points: s.points }]));
  const pools = w.predictions.map(() => ({ SUCCEEDED: 0, FAILED: 0 }));
  const totals: (number | null)[] = [];
  const results = w.batch.map((b): BetResult => {
    totals.push(null);
    if (b.side !== 'SUCCEEDED' && b.side !== 'FAILED') return 'invalid_side';
    if (b.points < 1) return 'invalid_points';
    if (w.guards[b.user]!.excluded) return 'self_excluded';
    // Mission 3 exists (no prediction yet), mission 4 does not: a block needs the mission's channel.
    if (w.guards[b.user]!.blocked && b.prediction <= 3) return 'blocked_by_channel';
    const p = w.predictions[b.prediction];
    if (!p) return 'prediction_not_found';
    if (b.user === 0) return 'own_mission';
    if (p.state !== 'OPEN' || p.locksIn <= 0 || TERMINAL_STATES.has(p.missionState)) return 'prediction_locked';
    if (w.balances[b.user] === null) return 'no_wallet';
    const key = `${b.user}:${b.prediction}`;
    const stake = stakes.get(key);
    if (stake && stake.side !== b.side) return 'side_already_chosen';
    if (b.points > available[b.user]!) return 'exceeds_available';
    available[b.user]! -= b.points;
    spent[b.user]! += b.points;
    const points = (stake?.points ?? 0) + b.points;
    stakes.set(key, { side: b.side, points });
    pools[b.prediction]![b.side] += b.points;
    totals[totals.length - 1] = points;
    return 'ok';
  });
  return { results, totals, spent, stakes, pools };
}

/** Builds the world in the caller's transaction; returns the ids it made. */
async function build(c: Queryable, w: World) {
  const users = w.balances.map(() => uuidv7());
  const handle = await insertChannel(c, users[0]!);
  await fundWallets(c, 'POINTS', users, w.balances);
  const missions: string[] = [];
  const insertMission = async (id: string, state: string) =>
    c.query(
      `INSERT INTO missions (id, channel, channel_owner_id, title, state, duration_seconds, failure_keep_bps, min_amount, max_amount, created_by,
                             accept_deadline, accepted_at, deadline, decided_at)
       VALUES ($1, $2, $3, 'M', $4, 600, 0, 1000, 10000, $3, now() + interval '1 hour',
               CASE WHEN $4 = 'PROPOSED' THEN NULL ELSE now() - interval '1 minute' END,
               CASE WHEN $4 = 'PROPOSED' THEN NULL ELSE now() + interval '1 hour' END,
               CASE WHEN $4 IN ('PROPOSED', 'ACTIVE') THEN NULL ELSE now() END)`,
      [id, handle, users[0], state],
    );
  for (const p of w.predictions) {
    const id = uuidv7();
    missions.push(id);
    await insertMission(id, p.missionState);
    await c.query(`INSERT INTO predictions (mission_id, state, opened_at, locks_at) VALUES ($1, $2, now() - interval '1 minute', now() + make_interval(secs => $3))`, [
      id,
      p.state,
      p.locksIn,
    ]);
    const slots = [...Array(POOL_SLOTS).keys()];
    await c.query('INSERT INTO prediction_totals (mission_id, side, slot) SELECT $1, s.side, n FROM unnest($2::text[]) AS s(side), unnest($3::int[]) AS n', [id, SIDES, slots]);
    await ensureAccounts(c, 'POINTS', 'prediction_pool', slots.map((s) => `${id}:${s}`));
  }
  const proposed = uuidv7();
  await insertMission(proposed, 'PROPOSED');
  for (const [i, g] of w.guards.entries()) {
    if (g.excluded) await c.query(`INSERT INTO spending_guards (user_id, self_excluded_until) VALUES ($1, now() + interval '1 day')`, [users[i]]);
    if (g.blocked) await c.query('INSERT INTO channel_blocks (channel, user_id) VALUES ($1, $2)', [handle, users[i]]);
  }
  for (const s of w.stakes) {
    await c.query(`INSERT INTO prediction_stakes (mission_id, user_id, side, points, first_bet_at, first_bet_id) VALUES ($1, $2, $3, $4, now(), $5)`, [
      missions[s.prediction],
      users[s.user],
      s.side,
      s.points,
      uuidv7(),
    ]);
  }
  return { users, missions: [...missions, proposed, uuidv7()] };
}

const count = async (c: Queryable, sql: string, values: unknown[]) => Number((await c.query<{ n: string }>(sql, values)).rows[0]!.n);

describe('prediction_bet_batch', () => {
  it('answers every bet of a batch as placing them one at a time in order would, and writes exactly the placed ones', async () => {
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        const c = await db.pools.funding.connect();
        try {
          await c.query('BEGIN');
          const ids = await build(c, w);
          const requests: BetRequest[] = w.batch.map((b) => ({
            missionId: ids.missions[b.prediction]!,
            userId: ids.users[b.user]!,
            side: b.side as Side,
            points: b.points,
            at: new Date(),
          }));
          const placed = await placeBets(c, requests);
          const want = model(w);
          expect(placed.map((p) => p.result)).toEqual(want.results);
          expect(placed.map((p) => (p.result === 'ok' ? p.bet.totalPoints : null))).toEqual(want.totals);

          // Points wallets: each paid what its placed bets took, posted, and never went below zero.
          for (const [i, balance] of w.balances.entries()) {
            const wallet = await c.query<{ id: string }>(`SELECT id FROM accounts WHERE ledger = 'POINTS' AND code = 'user_wallet' AND owner = $1`, [ids.users[i]]);
            if (balance === null) {
              expect(wallet.rows).toEqual([]); // a refusal creates no wallet
              continue;
            }
            const b = await balancesOf(c, wallet.rows[0]!.id);
            expect(b.debitsPosted).toBe(want.spent[i]);
            expect(b.debitsPending).toBe(0);
            expect(b.creditsPosted - b.debitsPosted).toBe(balance - want.spent[i]!);
          }

          // Pools: the slot accounts and the totals hold what was placed on each prediction and side.
          for (const [m, id] of ids.missions.slice(0, w.predictions.length).entries()) {
            const pool = want.pools[m]!;
            expect(await count(c, `SELECT coalesce(sum(credits_posted - debits_posted), 0) AS n FROM accounts WHERE ledger = 'POINTS' AND code = 'prediction_pool' AND owner LIKE $1`, [`${id}:%`])).toBe(
              pool.SUCCEEDED + pool.FAILED,
            );
            for (const side of SIDES) {
              expect(await count(c, 'SELECT coalesce(sum(points), 0) AS n FROM prediction_totals WHERE mission_id = $1 AND side = $2', [id, side])).toBe(pool[side]);
            }
          }

          // Stakes: one per bettor and prediction, on its side, with its points; a new one remembers its first bet.
          const { rows: stakes } = await c.query<{ mission_id: string; user_id: string; side: Side; points: string; first_bet_id: string }>(
            'SELECT mission_id, user_id, side, points, first_bet_id FROM prediction_stakes WHERE mission_id = ANY ($1::uuid[])',
            [ids.missions],
          );
          const got = new Map(stakes.map((s) => [`${ids.users.indexOf(s.user_id)}:${ids.missions.indexOf(s.mission_id)}`, { side: s.side, points: Number(s.points) }]));
          expect(got).toEqual(want.stakes);
          for (const s of stakes) {
            const key = `${ids.users.indexOf(s.user_id)}:${ids.missions.indexOf(s.mission_id)}`;
            if (w.stakes.some((x) => `${x.user}:${x.prediction}` === key)) continue;
            const first = placed.findIndex((p, n) => p.result === 'ok' && `${w.batch[n]!.user}:${w.batch[n]!.prediction}` === key);
            expect(s.first_bet_id).toBe(placed[first]!.bet.id);
          }

          // Rows: one bet row, posted transfer and event per placed bet, nothing for the rest.
          const ok = placed.filter((p) => p.result === 'ok');
          const { rows: bets } = await c.query<{ id: string; user_id: string; side: Side; points: string; amount: string; code: string; flags: number; debit_ok: boolean }>(
            `SELECT b.id, b.user_id, b.side, b.points, t.amount, t.code, t.flags,
                    t.debit_account_id = (SELECT id FROM accounts WHERE ledger = 'POINTS' AND code = 'user_wallet' AND owner = b.user_id::text) AS debit_ok
               FROM prediction_bets b JOIN transfers t ON t.id = b.transfer_id
              WHERE b.id = ANY ($1::uuid[])`,
            [placed.map((p) => p.bet.id)],
          );
          const byId = new Map(bets.map((b) => [b.id, b]));
          expect(bets.length).toBe(ok.length);
          for (const [n, p] of placed.entries()) {
            if (p.result !== 'ok') continue;
            const b = byId.get(p.bet.id)!;
            expect([b.user_id, b.side, Number(b.points), Number(b.amount), b.code, b.flags, b.debit_ok]).toEqual([
              ids.users[w.batch[n]!.user],
              w.batch[n]!.side,
              w.batch[n]!.points,
              w.batch[n]!.points,
              'prediction_bet',
              0,
              true,
            ]);
          }
          expect(await count(c, `SELECT count(*) AS n FROM outbox WHERE topic = 'prediction.bet' AND key = ANY ($1::text[])`, [ids.missions])).toBe(ok.length);
          expect(await count(c, `SELECT count(*) AS n FROM transfers WHERE code = 'prediction_bet' AND mission_id = ANY ($1::uuid[])`, [ids.missions])).toBe(ok.length);
        } finally {
          await c.query('ROLLBACK');
          c.release();
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('keeps one side per bettor and never overdraws when batches sharing bettors and pool slots run at once', async () => {
    // Committed (this file's own database): the batches run in their own transactions.
    const open: PredictionSpec = { state: 'OPEN', missionState: 'ACTIVE', locksIn: 3_600 };
    const balances = [null, 300, 300, 300, 300, 300, 300];
    const spec: World = { balances, guards: balances.map(() => ({ excluded: false, blocked: false })), predictions: [open, open], stakes: [], batch: [] };
    const c = await db.pools.funding.connect();
    let ids: Awaited<ReturnType<typeof build>>;
    try {
      await c.query('BEGIN');
      ids = await build(c, spec);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const bets = fc.sample(
      fc.array(
        fc.record({ user: fc.integer({ min: 1, max: 6 }), prediction: fc.nat(1), side: fc.constantFrom(...SIDES), points: fc.constantFrom(40, 90, 150) }),
        { minLength: 6, maxLength: 6 },
      ),
      { numRuns: 16, seed: 42 },
    );
    const batches = bets.map((batch) =>
      batch.map((b): BetRequest => ({ missionId: ids.missions[b.prediction]!, userId: ids.users[b.user]!, side: b.side, points: b.points, at: new Date() })),
    );
    const answers = await Promise.all(batches.map((batch) => placeBets(db.pools.funding, batch)));

    const placed = batches.flatMap((batch, i) => batch.map((request, n) => ({ request, ...answers[i]![n]! })));
    expect(new Set(placed.map((p) => p.result))).toEqual(new Set(['ok', 'side_already_chosen', 'exceeds_available']));
    const q = db.pools.funding;
    for (const [u, userId] of ids.users.entries()) {
      if (u === 0) continue;
      const mine = placed.filter((p) => p.request.userId === userId);
      const spent = mine.filter((p) => p.result === 'ok').reduce((s, p) => s + p.request.points, 0);
      const wallet = await q.query<{ id: string }>(`SELECT id FROM accounts WHERE ledger = 'POINTS' AND code = 'user_wallet' AND owner = $1`, [userId]);
      const b = await balancesOf(q, wallet.rows[0]!.id);
      expect(b.debitsPosted).toBe(spent);
      const left = b.creditsPosted - b.debitsPosted;
      expect(left).toBe(300 - spent);
      // A refusal for points came when fewer were left than it asked, and fewer are left now.
      for (const p of mine) if (p.result === 'exceeds_available') expect(p.request.points).toBeGreaterThan(left);
      for (const missionId of ids.missions.slice(0, 2)) {
        const here = mine.filter((p) => p.request.missionId === missionId);
        const ok = here.filter((p) => p.result === 'ok').sort((x, y) => x.bet.totalPoints - y.bet.totalPoints);
        const stake = (await q.query<{ side: Side; points: string }>('SELECT side, points FROM prediction_stakes WHERE mission_id = $1 AND user_id = $2', [missionId, userId])).rows[0];
        if (!ok.length) {
          expect(stake).toBeUndefined();
          continue;
        }
        expect(Number(stake!.points)).toBe(ok.reduce((s, p) => s + p.request.points, 0));
        for (const p of ok) expect(p.request.side).toBe(stake!.side);
        for (const p of here) if (p.result === 'side_already_chosen') expect(p.request.side).not.toBe(stake!.side);
        // The stake totals the bets answered are running sums: the bets were placed one after another.
        ok.forEach((p, n) => expect(p.bet.totalPoints - (n ? ok[n - 1]!.bet.totalPoints : 0)).toBe(p.request.points));
      }
    }
    for (const missionId of ids.missions.slice(0, 2)) {
      for (const side of SIDES) {
        const sum = placed.filter((p) => p.result === 'ok' && p.request.missionId === missionId && p.request.side === side).reduce((s, p) => s + p.request.points, 0);
        expect(await count(q, 'SELECT coalesce(sum(points), 0) AS n FROM prediction_totals WHERE mission_id = $1 AND side = $2', [missionId, side])).toBe(sum);
      }
      const sum = placed.filter((p) => p.result === 'ok' && p.request.missionId === missionId).reduce((s, p) => s + p.request.points, 0);
      expect(await count(q, `SELECT coalesce(sum(credits_posted - debits_posted), 0) AS n FROM accounts WHERE ledger = 'POINTS' AND code = 'prediction_pool' AND owner LIKE $1`, [`${missionId}:%`])).toBe(sum);
    }
  });

  it('answers an empty batch with no results', async () => {
    expect(await placeBets(db.pools.funding, [])).toEqual([]);
  });
});
