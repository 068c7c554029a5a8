// ledger_resolve_pending (src/ledger/sql/) through resolvePending: random
// pending transfers, random batches of partial posts and voids with
// duplicates, unknown ids and over-posts, against a small model of the
// balances; then concurrent batches over the same accounts.
import { AssertionError } from 'node:assert';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../../test/support/databases.ts';
import { tx, type Pool } from '../platform/db.ts';
import { balancesOf, createTransfer, ensureAccount, LedgerError, lockAccounts, resolvePending, verifyLedger, type AccountRef, type Balances, type Resolution } from './index.ts';

let db: TestDatabases;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabases(8);
  pool = db.pools.funding;
});
afterAll(async () => db?.drop());

const FUNDS = 300_000;

/** Accounts of one run: wallets on both ledgers, escrows, a prediction pool, and their model balances. */
async function books() {
  const run = randomUUID();
  const krw = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}`);
  const points = await ensureAccount(pool, 'POINTS', 'points_issuer', `issuer:${run}`);
  const wallets = [
    await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w0`),
    await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w1`),
    await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w2`),
    await ensureAccount(pool, 'POINTS', 'user_wallet', `${run}:p0`),
  ];
  const escrows = [await ensureAccount(pool, 'KRW', 'mission_escrow', `${run}:e0`), await ensureAccount(pool, 'KRW', 'mission_escrow', `${run}:e1`)];
  const predictionPool = await ensureAccount(pool, 'POINTS', 'prediction_pool', `${run}:pool`);
  const model = new Map<string, Balances>();
  const at = (a: AccountRef) => {
    let b = model.get(a.id);
    if (!b) model.set(a.id, (b = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 }));
    return b;
  };
  const fundings: string[] = [];
  for (const w of wallets) {
    const id = randomUUID();
    const source = w.ledger === 'KRW' ? krw : points;
    await tx(pool, (c) => createTransfer(c, { id, debit: source, credit: w, amount: FUNDS, code: 'charge' }));
    at(source).debitsPosted += FUNDS;
    at(w).creditsPosted += FUNDS;
    fundings.push(id);
  }
  const accounts = [krw, points, ...wallets, ...escrows, predictionPool];
  for (const a of accounts) at(a);
  /** The credit side of a hold from wallet w: an escrow for cash, the pool for points. */
  const creditFor = (w: AccountRef, e: number) => (w.ledger === 'KRW' ? escrows[e % escrows.length]! : predictionPool);
  return { wallets, accounts, at, creditFor, fundings };
}

async function expectBalances(accounts: AccountRef[], at: (a: AccountRef) => Balances) {
  const actual = await Promise.all(accounts.map((a) => balancesOf(pool, a.id)));
  expect(actual).toEqual(accounts.map((a) => at(a)));
}

type Item =
  | { kind: 'pending'; pick: number; percent: number }
  | { kind: 'over'; pick: number; extra: number }
  | { kind: 'unknown' }
  | { kind: 'posted' };

describe('ledger_resolve_pending under random batches', () => {
  const item: fc.Arbitrary<Item> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ kind: fc.constant('pending' as const), pick: fc.nat(), percent: fc.oneof(fc.constant(0), fc.constant(100), fc.integer({ min: 0, max: 100 })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('over' as const), pick: fc.nat(), extra: fc.integer({ min: 1, max: 1_000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknown' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('posted' as const) }) },
  );
  const holds = fc.array(fc.record({ wallet: fc.nat(3), escrow: fc.nat(1), amount: fc.integer({ min: 0, max: 20_000 }) }), { minLength: 1, maxLength: 12 });
  const batches = fc.array(fc.array(item, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });

  it('moves exactly what the model moves, resolves nothing twice, and refuses a bad batch whole', async () => {
    await fc.assert(
      fc.asyncProperty(holds, batches, async (holdSpecs, batchSpecs) => {
        const { wallets, accounts, at, creditFor, fundings } = await books();
        const pendings: { id: string; debit: AccountRef; credit: AccountRef; amount: number }[] = [];
        for (const h of holdSpecs) {
          const p = { id: randomUUID(), debit: wallets[h.wallet]!, credit: creditFor(wallets[h.wallet]!, h.escrow), amount: h.amount };
          await tx(pool, (c) => createTransfer(c, { ...p, code: 'test_hold', pending: true }));
          at(p.debit).debitsPending += p.amount;
          at(p.credit).creditsPending += p.amount;
          pendings.push(p);
        }
        const resolved = new Map<string, { id: string; flags: number; amount: number }>();
        for (const spec of batchSpecs) {
          const items: Resolution[] = [];
          const posts: { p: (typeof pendings)[number]; post: number; id: string }[] = [];
          let expected: 'pending_not_found' | 'over' | 'pending_already_resolved' | 'ok' = 'ok';
          const rank = { ok: 0, pending_already_resolved: 1, over: 2, pending_not_found: 3 } as const;
          const worst = (e: typeof expected) => {
            if (rank[e] > rank[expected]) expected = e;
          };
          const inBatch = new Set<string>();
          for (const s of spec) {
            if (s.kind === 'unknown' || s.kind === 'posted') {
              // No such transfer, or one that is not pending (a funding transfer).
              items.push({ id: randomUUID(), pendingId: s.kind === 'unknown' ? randomUUID() : fundings[0]!, postAmount: 0, code: 'test_resolve' });
              worst('pending_not_found');
              continue;
            }
            const p = pendings[s.pick % pendings.length]!;
            const post = s.kind === 'over' ? p.amount + s.extra : Math.floor((p.amount * s.percent) / 100);
            const id = randomUUID();
            items.push({ id, pendingId: p.id, postAmount: post, code: post === 0 ? 'test_void' : 'test_post' });
            if (s.kind === 'over') worst('over');
            if (resolved.has(p.id) || inBatch.has(p.id)) worst('pending_already_resolved');
            inBatch.add(p.id);
            posts.push({ p, post, id });
          }
          const result = await tx(pool, (c) => resolvePending(c, items)).catch((e: unknown) => e);
          if (expected === 'ok') {
            expect(result).toEqual(new Map(posts.map(({ p }) => [p.id, p.amount])));
            for (const { p, post, id } of posts) {
              at(p.debit).debitsPending -= p.amount;
              at(p.debit).debitsPosted += post;
              at(p.credit).creditsPending -= p.amount;
              at(p.credit).creditsPosted += post;
              resolved.set(p.id, { id, flags: post === 0 ? 4 : 2, amount: post === 0 ? p.amount : post });
            }
          } else if (expected === 'over') {
            expect(result).toBeInstanceOf(AssertionError);
            expect((result as Error).message).toMatch(/exceeds pending amount/);
          } else {
            expect(result).toBeInstanceOf(LedgerError);
            expect((result as LedgerError).reason).toBe(expected);
          }
          // A refused batch left nothing behind: balances as the model says.
          await expectBalances(accounts, at);
        }
        // Each pending transfer resolved at most once, by the transfer the model says.
        const { rows } = await pool.query<{ pending_id: string; id: string; flags: number; amount: number; code: string; ledger: string }>(
          'SELECT pending_id, id, flags, amount, code, ledger FROM transfers WHERE pending_id = ANY($1::uuid[])',
          [pendings.map((p) => p.id)],
        );
        expect(rows).toHaveLength(resolved.size);
        for (const r of rows) {
          expect(resolved.get(r.pending_id)).toEqual({ id: r.id, flags: r.flags, amount: r.amount });
          expect(r.code).toBe(r.flags === 4 ? 'test_void' : 'test_post');
          expect(r.ledger).toBe(pendings.find((p) => p.id === r.pending_id)!.debit.ledger);
        }
      }),
      { numRuns: 60 },
    );
    expect((await verifyLedger(pool)).problems).toEqual([]);
  }, 180_000);
});

describe('ledger_resolve_pending with concurrent writers', () => {
  async function holds(n: number) {
    const b = await books();
    const made = [];
    for (let i = 0; i < n; i++) {
      const debit = b.wallets[i % 3]!;
      const p = { id: randomUUID(), debit, credit: b.creditFor(debit, i), amount: 1_000 + i };
      await tx(pool, (c) => createTransfer(c, { ...p, code: 'test_hold', pending: true }));
      made.push(p);
    }
    return { ...b, made };
  }
  const voids = (ps: { id: string }[]): Resolution[] => ps.map((p) => ({ id: randomUUID(), pendingId: p.id, postAmount: 0, code: 'test_void' }));

  it('lets one of two transactions resolve a pending transfer: the second waits, then is refused whole', async () => {
    for (const first of ['commits', 'rolls back'] as const) {
      const { made } = await holds(3);
      const [a, b, c] = made;
      const t1 = await pool.connect();
      try {
        await t1.query('BEGIN');
        await resolvePending(t1, voids([a!, b!]));
        // b's resolution is not committed: the second transaction waits for it.
        const second = tx(pool, (t2) => resolvePending(t2, voids([b!, c!]))).catch((e: unknown) => e);
        const waited = await Promise.race([second.then(() => false), new Promise((r) => setTimeout(() => r(true), 300))]);
        expect(waited).toBe(true);
        await t1.query(first === 'commits' ? 'COMMIT' : 'ROLLBACK');
        const result = await second;
        if (first === 'commits') {
          expect(result).toBeInstanceOf(LedgerError);
          expect((result as LedgerError).reason).toBe('pending_already_resolved');
          expect((result as LedgerError).message).toContain(b!.id);
        } else {
          expect(result).toEqual(new Map([[b!.id, b!.amount], [c!.id, c!.amount]]));
        }
      } finally {
        t1.release();
      }
      const { rows } = await pool.query<{ pending_id: string }>('SELECT pending_id FROM transfers WHERE pending_id = ANY($1::uuid[]) ORDER BY pending_id', [made.map((p) => p.id)]);
      const expected = first === 'commits' ? [a!, b!] : [b!, c!];
      expect(rows.map((r) => r.pending_id)).toEqual(expected.map((p) => p.id).sort());
    }
    expect((await verifyLedger(pool)).problems).toEqual([]);
  });

  it('takes its account locks in the global order (rank, then id), so it never deadlocks with another writer', async () => {
    // Another writer holds a wallet (rank 0) and goes on to an escrow (rank
    // 1), as lockAccounts orders them. The resolution waits for the wallet
    // before it takes the escrow, so the writer gets the escrow at once.
    const { made } = await holds(1);
    const p = made[0]!;
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await lockAccounts(other, [p.debit.id]);
      const resolving = tx(pool, (c) => resolvePending(c, voids([p]))).catch((e: unknown) => e);
      const waiting = async () =>
        (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0]!.n;
      for (let t = 0; (await waiting()) === 0; t++) {
        expect(t, 'the resolution waits for the wallet').toBeLessThan(100);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Past deadlock_timeout (1s): a resolution holding the escrow would be found in a cycle.
      await other.query(`SET LOCAL lock_timeout = '3s'`);
      await lockAccounts(other, [p.credit.id]);
      await other.query('COMMIT');
      expect(await resolving).toEqual(new Map([[p.id, p.amount]]));
    } finally {
      other.release();
    }
  });

  it('never deadlocks batches that share accounts in opposite orders', async () => {
    for (let round = 0; round < 15; round++) {
      const { made, accounts, at } = await holds(16);
      const left = made.filter((_, i) => i % 2 === 0);
      const right = made.filter((_, i) => i % 2 === 1).reverse();
      const results = await Promise.allSettled([
        tx(pool, (c) => resolvePending(c, voids(left))),
        tx(pool, (c) => resolvePending(c, right.map((p) => ({ id: randomUUID(), pendingId: p.id, postAmount: p.amount, code: 'test_post' })))),
      ]);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      // Holds made and resolved: nothing pending; the posts moved their amounts.
      for (const p of made) {
        const post = right.includes(p) ? p.amount : 0;
        at(p.debit).debitsPosted += post;
        at(p.credit).creditsPosted += post;
      }
      await expectBalances(accounts, at);
    }
  }, 60_000);
});
