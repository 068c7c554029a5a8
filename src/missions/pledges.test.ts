// The pledge book's batch statement against a model: random missions (open,
// closed, past their deadline, with bounds), wallets, stored keys and random
// batches; every item's result, every balance and every row it writes must be
// what processing the batch one pledge at a time, in order, would give
// (TigerBeetle's semantics for create_transfers).
import fc from 'fast-check';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../../test/support/databases.ts';
import { fundWallets, insertChannel } from '../../test/support/funding-world.ts';
import { balancesOf, ensureAccount, ensureAccounts } from '../ledger/index.ts';
import type { Queryable } from '../platform/db.ts';
import { ESCROW_SLOTS } from './model.ts';
import { holdPledges, type HoldRequest, type HoldResult } from './pledges.ts';

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => db?.drop());

const USERS = 4;
const KEYS = [null, 'k1', 'k2'] as const;
// Weighted towards pledges that pass, so every run holds some and refuses some.

interface MissionSpec {
  state: 'PROPOSED' | 'ACTIVE' | 'SUCCEEDED' | 'REJECTED';
  min: number;
  max: number;
  /** Seconds from now to its accept deadline (PROPOSED) or deadline (ACTIVE). */
  closesIn: number;
}
interface World {
  balances: (number | null)[]; // null: no wallet at all
  missions: MissionSpec[];
  storedKeys: { user: number; key: 'k1' | 'k2' }[];
  batch: { user: number; mission: number; amount: number; key: (typeof KEYS)[number] }[];
}

const world: fc.Arbitrary<World> = fc.record({
  balances: fc.array(fc.option(fc.constantFrom(0, 1_000, 4_000, 9_000, 20_000), { nil: null, freq: 6 }), { minLength: USERS, maxLength: USERS }),
  missions: fc.array(
    fc.record({
      state: fc.constantFrom('ACTIVE', 'ACTIVE', 'PROPOSED', 'PROPOSED', 'SUCCEEDED', 'REJECTED'),
      min: fc.constantFrom(1_000, 2_000),
      max: fc.constantFrom(5_000, 10_000),
      closesIn: fc.constantFrom(-5, 3_600, 3_600, 3_600),
    }),
    { minLength: 3, maxLength: 3 },
  ),
  storedKeys: fc.uniqueArray(fc.record({ user: fc.nat(USERS - 1), key: fc.constantFrom('k1' as const, 'k2' as const) }), {
    selector: (k) => `${k.user}:${k.key}`,
    maxLength: 3,
  }),
  // Mission 3 does not exist.
  batch: fc.array(
    fc.record({
      user: fc.nat(USERS - 1),
      mission: fc.constantFrom(0, 0, 1, 1, 2, 3),
      amount: fc.constantFrom(500, 1_000, 2_000, 2_500, 4_000, 5_000, 12_000),
      key: fc.constantFrom(null, null, null, ...KEYS),
    }),
    { minLength: 1, maxLength: 12 },
  ),
});

/** One pledge at a time, in batch order. User 0 owns the channel. */
function model(w: World): { results: HoldResult[]; spent: number[] } {
  const available = w.balances.map((b) => b ?? 0);
  const spent = w.balances.map(() => 0);
  const seen = new Set<string>();
  const results = w.batch.map((p): HoldResult => {
    if (p.key) {
      const k = `${p.user}:${p.key}`;
      if (seen.has(k)) return 'key_repeated';
      seen.add(k);
      if (w.storedKeys.some((s) => `${s.user}:${s.key}` === k)) return 'key_exists';
    }
    const m = w.missions[p.mission];
    if (!m) return 'mission_not_found';
    if (p.user === 0) return 'own_mission';
    if (p.amount < m.min || p.amount > m.max) return 'amount_out_of_range';
    if (!((m.state === 'PROPOSED' || m.state === 'ACTIVE') && m.closesIn > 0)) return 'mission_not_open';
    if (w.balances[p.user] === null || p.amount > available[p.user]!) return 'exceeds_available';
    available[p.user]! -= p.amount;
    spent[p.user]! += p.amount;
    return 'ok';
  });
  return { results, spent };
}

/** Builds the world in the caller's transaction; returns the ids it made. */
async function build(c: Queryable, w: World) {
  const users = w.balances.map(() => uuidv7());
  const handle = await insertChannel(c, users[0]!);
  await fundWallets(c, 'KRW', users, w.balances);
  const missions: string[] = [];
  for (const m of w.missions) {
    const id = uuidv7();
    missions.push(id);
    const closes = `now() + make_interval(secs => ${m.closesIn})`;
    await c.query(
      `INSERT INTO missions (id, channel, channel_owner_id, title, state, duration_seconds, failure_keep_bps, min_amount, max_amount, created_by,
                             accept_deadline, accepted_at, deadline, decided_at)
       VALUES ($1, $2, $3, 'M', $4, 600, 0, $5, $6, $3,
               CASE WHEN $4 = 'PROPOSED' THEN ${closes} ELSE now() END,
               CASE WHEN $4 = 'PROPOSED' THEN NULL ELSE now() - interval '1 minute' END,
               CASE WHEN $4 = 'PROPOSED' THEN NULL ELSE ${closes} END,
               CASE WHEN $4 IN ('PROPOSED', 'ACTIVE') THEN NULL ELSE now() END)`,
      [id, handle, users[0], m.state, m.min, m.max],
    );
    const slots = [...Array(ESCROW_SLOTS).keys()];
    await ensureAccounts(c, 'KRW', 'mission_escrow', slots.map((s) => `${id}:${s}`));
    await c.query('INSERT INTO mission_totals (mission_id, slot) SELECT $1, s FROM unnest($2::int[]) AS s', [id, slots]);
  }
  for (const k of w.storedKeys) {
    await c.query(`INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response) VALUES ($1, $2, 'h', 201, '{}')`, [users[k.user], k.key]);
  }
  return { users, missions: [...missions, uuidv7()] };
}

describe('pledge_hold_batch', () => {
  it('answers every pledge of a batch as holding them one at a time in order would, and writes exactly the held ones', async () => {
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        const c = await db.pools.funding.connect();
        try {
          await c.query('BEGIN');
          const ids = await build(c, w);
          const requests: HoldRequest[] = w.batch.map((p) => ({
            missionId: ids.missions[p.mission]!,
            userId: ids.users[p.user]!,
            backerName: `U${p.user}`,
            amount: p.amount,
            at: new Date(),
            key: p.key ? { userId: ids.users[p.user]!, key: p.key, hash: `hash-${p.user}-${p.key}` } : undefined,
          }));
          const held = await holdPledges(c, requests);
          const want = model(w);
          expect(held.map((h) => h.result)).toEqual(want.results);

          // Balances: each wallet's pending debits are what its held pledges took.
          for (const [i, balance] of w.balances.entries()) {
            if (balance === null) continue;
            const wallet = await ensureAccount(c, 'KRW', 'user_wallet', ids.users[i]!);
            const b = await balancesOf(c, wallet.id);
            expect(b.debitsPending).toBe(want.spent[i]);
            expect(b.creditsPosted - b.debitsPosted - b.debitsPending).toBeGreaterThanOrEqual(0);
          }
          // Rows: one pledge, transfer, event and (with a key) stored answer per held pledge, nothing for the rest.
          const ok = held.filter((h) => h.result === 'ok');
          const pledgeIds = ok.map((h) => h.pledge.id);
          const count = async (sql: string, values: unknown[]) => Number((await c.query<{ n: string }>(sql, values)).rows[0]!.n);
          expect(await count('SELECT count(*) AS n FROM pledges WHERE id = ANY($1::uuid[])', [held.map((h) => h.pledge.id)])).toBe(ok.length);
          expect(await count(`SELECT count(*) AS n FROM outbox WHERE topic = 'pledge.held' AND payload->>'pledgeId' = ANY($1::text[])`, [pledgeIds])).toBe(ok.length);
          const keyed = w.batch.filter((p, n) => p.key && held[n]!.result === 'ok').length;
          expect(await count('SELECT count(*) AS n FROM idempotency_keys WHERE resource_id = ANY($1::uuid[]) AND status_code = 201', [pledgeIds])).toBe(keyed);
          for (const [m, id] of ids.missions.slice(0, -1).entries()) {
            const total = w.batch.filter((p, n) => p.mission === m && held[n]!.result === 'ok').reduce((s, p) => s + p.amount, 0);
            expect(await count('SELECT coalesce(sum(amount), 0) AS n FROM mission_totals WHERE mission_id = $1', [id])).toBe(total);
            const backers = new Set(w.batch.filter((p, n) => p.mission === m && held[n]!.result === 'ok').map((p) => p.user)).size;
            expect(await count('SELECT coalesce(sum(backers), 0) AS n FROM mission_totals WHERE mission_id = $1', [id])).toBe(backers);
          }
        } finally {
          await c.query('ROLLBACK');
          c.release();
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('answers an empty batch with no results', async () => {
    expect(await holdPledges(db.pools.funding, [])).toEqual([]);
  });
});
