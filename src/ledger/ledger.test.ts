// The ledger library on its own, against a real funding database: the
// invariants under random operations (fast-check), idempotent transfer ids,
// and writers that create and use shared accounts at the same time.
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, superUrlFor, type TestDatabases } from '../../test/support/databases.ts';
import { tx, type Pool } from '../platform/db.ts';
import { balancesOf, createTransfer, ensureAccount, ensureAccounts, LedgerError, ledgerErrorOf, resolvePending, transfersCall, verifyLedger, type AccountRef } from './index.ts';

let db: TestDatabases;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabases(16);
  pool = db.pools.funding;
});
afterAll(async () => db?.drop());

const available = async (a: AccountRef) => {
  const b = await balancesOf(pool, a.id);
  return b.creditsPosted - b.debitsPosted - b.debitsPending;
};

describe('ledger invariants under random operations', () => {
  type Op =
    | { kind: 'fund'; to: number; amount: number }
    | { kind: 'move'; from: number; to: number; amount: number; pending: boolean }
    | { kind: 'resolve'; nth: number; postPercent: number }
    | { kind: 'replay'; nth: number };
  const USERS = 3;
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('fund' as const), to: fc.nat(USERS - 1), amount: fc.integer({ min: 1, max: 50_000 }) }),
    fc.record({
      kind: fc.constant('move' as const),
      from: fc.nat(USERS - 1),
      to: fc.nat(USERS - 1),
      amount: fc.integer({ min: 1, max: 80_000 }),
      pending: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('resolve' as const), nth: fc.nat(), postPercent: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ kind: fc.constant('replay' as const), nth: fc.nat() }),
  );

  it('keeps the books balanced, never overdraws a wallet, and treats every transfer id as an idempotency key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const run = randomUUID();
        const source = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}`);
        const users: AccountRef[] = [];
        for (let i = 0; i < USERS; i++) users.push(await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:${i}`));
        // What each wallet should have available, computed independently.
        const expected = users.map(() => 0);
        const done: { id: string; input: Parameters<typeof createTransfer>[1] }[] = [];
        const open: { id: string; from: number; to: number; amount: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'fund') {
            const input = { id: randomUUID(), debit: source, credit: users[o.to]!, amount: o.amount, code: 'charge' };
            expect(await tx(pool, (c) => createTransfer(c, input))).toBe('created');
            done.push({ id: input.id, input });
            expected[o.to]! += o.amount;
          } else if (o.kind === 'move') {
            if (o.from === o.to) continue;
            const input = { id: randomUUID(), debit: users[o.from]!, credit: users[o.to]!, amount: o.amount, code: 'test_move', pending: o.pending };
            const result = await tx(pool, (c) => createTransfer(c, input)).catch((e: unknown) => e);
            if (o.amount > expected[o.from]!) {
              // Refused inside the writing transaction, and nothing changed.
              expect(result).toBeInstanceOf(LedgerError);
              expect((result as LedgerError).reason).toBe('exceeds_credits');
              continue;
            }
            expect(result).toBe('created');
            done.push({ id: input.id, input });
            expected[o.from]! -= o.amount;
            if (o.pending) open.push({ id: input.id, from: o.from, to: o.to, amount: o.amount });
            else expected[o.to]! += o.amount;
          } else if (o.kind === 'resolve') {
            if (open.length === 0) continue;
            const [p] = open.splice(o.nth % open.length, 1);
            const post = Math.floor((p!.amount * o.postPercent) / 100);
            await tx(pool, (c) => resolvePending(c, [{ id: randomUUID(), pendingId: p!.id, postAmount: post, code: 'test_resolve' }]));
            expected[p!.from]! += p!.amount - post; // the rest is released
            expected[p!.to]! += post;
            // A second resolution of the same pending transfer is refused.
            await expect(
              tx(pool, (c) => resolvePending(c, [{ id: randomUUID(), pendingId: p!.id, postAmount: 0, code: 'test_resolve' }])),
            ).rejects.toMatchObject({ reason: 'pending_already_resolved' });
          } else {
            if (done.length === 0) continue;
            const d = done[o.nth % done.length]!;
            // Same id, same fields: "exists", no effect. Same id, other fields: an error.
            expect(await tx(pool, (c) => createTransfer(c, d.input))).toBe('exists');
            await expect(tx(pool, (c) => createTransfer(c, { ...d.input, amount: d.input.amount + 1 }))).rejects.toMatchObject({
              reason: 'exists_with_different_fields',
            });
          }
        }
        for (let i = 0; i < USERS; i++) {
          const a = await available(users[i]!);
          expect(a).toBe(expected[i]);
          expect(a).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 25 },
    );
    const report = await verifyLedger(pool);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  }, 120_000);
});

describe('writers sharing accounts', () => {
  it('creates a shared account once when many transactions need it first, and they never deadlock', async () => {
    // The shape of many settlements finishing at once for one streamer: each
    // creates (on first use) the streamer's earnings and the fee account, then
    // pays a fee and a payout into them.
    for (let round = 0; round < 10; round++) {
      const run = randomUUID();
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, async (_, i) => {
          const source = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}:${i}`);
          return tx(pool, async (c) => {
            const earnings = await ensureAccount(c, 'KRW', 'streamer_earnings', `streamer:${run}`);
            const fees = await ensureAccount(c, 'KRW', 'platform_fees', `fees:${run}`);
            await createTransfer(c, { id: randomUUID(), debit: source, credit: fees, amount: 50, code: 'platform_fee' });
            await createTransfer(c, { id: randomUUID(), debit: source, credit: earnings, amount: 950, code: 'streamer_payout' });
            return [earnings.id, fees.id];
          });
        }),
      );
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures).toEqual([]);
      const ids = results.map((r) => (r as PromiseFulfilledResult<string[]>).value);
      expect(new Set(ids.map((x) => x.join()))).toHaveLength(1);
      const [earnings, fees] = ids[0]!;
      expect((await balancesOf(pool, earnings!)).creditsPosted).toBe(12 * 950);
      expect((await balancesOf(pool, fees!)).creditsPosted).toBe(12 * 50);
    }
    expect((await verifyLedger(pool)).ok).toBe(true);
  }, 60_000);
});

describe('the last line: the table itself', () => {
  it('refuses a second resolution of one pending transfer even past resolvePending', async () => {
    const run = randomUUID();
    const wallet = await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w`);
    const escrow = await ensureAccount(pool, 'KRW', 'mission_escrow', `${run}:e`);
    const insert = (id: string, flags: number, pendingId: string | null) =>
      pool.query(
        `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, pending_id) VALUES ($1, $2, $3, 0, 'KRW', 'test', $4, $5)`,
        [id, wallet.id, escrow.id, flags, pendingId],
      );
    // Transfers without a pending_id never conflict with each other.
    const pending = randomUUID();
    await insert(pending, 1, null);
    await insert(randomUUID(), 1, null);
    await insert(randomUUID(), 2, pending);
    await expect(insert(randomUUID(), 4, pending)).rejects.toMatchObject({ code: '23505', constraint: 'transfers_pending_once' });
  });
});

describe('references, checked by the writers (transfers have no foreign keys)', () => {
  const call = (id: string, debit: string, credit: string, debitFirst: boolean) =>
    pool.query('SELECT ledger_create_transfer($1, $2, $3, 100, $4, $5, 0, NULL, $6) AS result', [id, debit, credit, 'KRW', 'charge', debitFirst]);
  const transferExists = async (id: string) => (await pool.query('SELECT 1 FROM transfers WHERE id = $1', [id])).rowCount === 1;

  it('refuses a transfer whose account is missing or on another ledger, and keeps nothing of it', async () => {
    const run = randomUUID();
    const source = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}`);
    const wallet = await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w`);
    const points = await ensureAccount(pool, 'POINTS', 'user_wallet', `${run}:p`);
    const before = [await balancesOf(pool, source.id), await balancesOf(pool, wallet.id)];
    for (const [debit, credit] of [
      [source.id, randomUUID()],
      [randomUUID(), wallet.id],
      [source.id, points.id],
      [points.id, wallet.id],
    ] as const) {
      for (const debitFirst of [true, false]) {
        const id = randomUUID();
        const err = await call(id, debit, credit, debitFirst).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ML003' });
        expect(await transferExists(id)).toBe(false);
      }
    }
    const id = randomUUID();
    const refused = await tx(pool, (c) => createTransfer(c, { id, debit: source, credit: { ...wallet, id: randomUUID() }, amount: 100, code: 'charge' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LedgerError);
    expect((refused as LedgerError).reason).toBe('account_not_found');
    expect([await balancesOf(pool, source.id), await balancesOf(pool, wallet.id)]).toEqual(before);
    expect((await call(randomUUID(), source.id, wallet.id, true)).rows[0].result).toBe('created');
  });

  it('ledger verify names a transfer whose account does not exist', async () => {
    // Its own databases: this one is left with broken books on purpose.
    const broken = await createTestDatabases(2);
    try {
      const source = await ensureAccount(broken.pools.funding, 'KRW', 'payment_provider', 'provider');
      const ghost = randomUUID();
      const id = randomUUID();
      await broken.pools.funding.query(
        `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags) VALUES ($1, $2, $3, 0, 'KRW', 'charge', 0)`,
        [id, source.id, ghost],
      );
      const report = await verifyLedger(broken.pools.funding);
      expect(report.ok).toBe(false);
      expect(report.problems).toContainEqual({ check: 'single_ledger', detail: `transfer ${id} (KRW): its credit account ${ghost} does not exist` });
    } finally {
      await broken.drop();
    }
  });
});

describe('many transfers in one call (ledger_create_transfers)', () => {
  // Batches from three wallets into two escrows, each wallet possibly several
  // times: the call makes all of them or none, and it makes them exactly when
  // every wallet can pay its batch's sum.
  it('makes a whole batch or nothing, and refuses exactly the batches some wallet cannot pay', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.array(fc.record({ from: fc.nat(2), to: fc.nat(1), amount: fc.integer({ min: 1, max: 20_000 }) }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        async (funds, batches) => {
          const run = randomUUID();
          const source = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}`);
          const wallets = await Promise.all([0, 1, 2].map((i) => ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w${i}`)));
          const escrows = await Promise.all([0, 1].map((i) => ensureAccount(pool, 'KRW', 'mission_escrow', `${run}:${i}`)));
          const left = [...funds];
          for (let i = 0; i < 3; i++) {
            if (funds[i]! > 0) await tx(pool, (c) => createTransfer(c, { id: randomUUID(), debit: source, credit: wallets[i]!, amount: funds[i]!, code: 'charge' }));
          }
          const held = [0, 0];
          for (const batch of batches) {
            const sums = [0, 0, 0];
            for (const t of batch) sums[t.from]! += t.amount;
            const affordable = sums.every((s, i) => s <= left[i]!);
            const call = transfersCall({ ids: '$1::uuid[]', debits: '$2::uuid[]', credits: '$3::uuid[]', amounts: '$4::bigint[]', missionIds: '$5::uuid[]', ledger: 'KRW', code: 'test_hold', pending: true, debitCode: 'user_wallet', creditCode: 'mission_escrow' });
            const ids = batch.map(() => randomUUID());
            const attempt = pool.query(`SELECT ${call} AS n`, [ids, batch.map((t) => wallets[t.from]!.id), batch.map((t) => escrows[t.to]!.id), batch.map((t) => t.amount), batch.map(() => null)]);
            if (affordable) {
              expect((await attempt).rows[0].n).toBe(batch.length);
              for (let i = 0; i < 3; i++) left[i]! -= sums[i]!;
              for (const t of batch) held[t.to]! += t.amount;
            } else {
              const err = await attempt.then(() => null, (e: unknown) => e);
              expect(ledgerErrorOf(err)?.reason).toBe('exceeds_credits');
              const { rows } = await pool.query('SELECT count(*)::int AS n FROM transfers WHERE id = ANY($1::uuid[])', [ids]);
              expect(rows[0].n).toBe(0);
            }
          }
          for (let i = 0; i < 3; i++) expect(await available(wallets[i]!)).toBe(left[i]);
          for (let i = 0; i < 2; i++) expect((await balancesOf(pool, escrows[i]!.id)).creditsPending).toBe(held[i]);
        },
      ),
      { numRuns: 40 },
    );
    expect((await verifyLedger(pool)).problems).toEqual([]);
  });

  // PL/pgSQL keeps generic plans, which guess ten elements for any array: a
  // join of unnest() with accounts could then read the whole ledger for a
  // batch of four (migration 0015). Forced generic plans and the table's
  // read counters show each account found by key instead.
  it('reads the accounts of a batch by key, however many the ledger holds, also on generic plans', async () => {
    const run = randomUUID();
    await ensureAccounts(pool, 'KRW', 'mission_escrow', Array.from({ length: 3_000 }, (_, i) => `${run}:other${i}`));
    const source = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}`);
    const wallets = await ensureAccounts(pool, 'KRW', 'user_wallet', [0, 1, 2, 3].map((i) => `${run}:w${i}`));
    const escrows = await ensureAccounts(pool, 'KRW', 'mission_escrow', [0, 1].map((i) => `${run}:e${i}`));
    for (const w of wallets) await tx(pool, (c) => createTransfer(c, { id: randomUUID(), debit: source, credit: w, amount: 100_000, code: 'charge' }));
    const su = new pg.Client({ connectionString: superUrlFor(db.superUrl, db.names.funding) });
    await su.connect();
    try {
      await su.query('SET plan_cache_mode = force_generic_plan');
      // The counters of this backend reach the view once flushed, at the end of a transaction.
      const rowsRead = async () => {
        await su.query('SELECT pg_stat_force_next_flush()');
        const { rows } = await su.query(`
          SELECT (SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'accounts')
               + (SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'accounts') AS n`);
        return Number(rows[0].n);
      };
      const call = transfersCall({ ids: '$1::uuid[]', debits: '$2::uuid[]', credits: '$3::uuid[]', amounts: '$4::bigint[]', missionIds: '$5::uuid[]', ledger: 'KRW', code: 'test_hold', pending: true, debitCode: 'user_wallet', creditCode: 'mission_escrow' });
      const CALLS = 8;
      const before = await rowsRead();
      for (let k = 0; k < CALLS; k++) {
        const { rows } = await su.query({
          name: 'batch',
          text: `SELECT ${call} AS n`,
          values: [wallets.map(() => randomUUID()), wallets.map((w) => w.id), wallets.map((_, i) => escrows[i % 2]!.id), [100, 200, 300, 400], wallets.map(() => null)],
        });
        expect(rows[0].n).toBe(4);
      }
      const perCall = ((await rowsRead()) - before) / CALLS;
      // Six accounts, each found a few times (lock, update); a scan would read over 3,000.
      expect(perCall).toBeLessThan(60);
      expect(await available(wallets[3]!)).toBe(100_000 - CALLS * 400);
    } finally {
      await su.end();
    }
  });

  it('refuses arrays of different lengths, negative amounts, a taken id and an account on another ledger', async () => {
    const run = randomUUID();
    const source = await ensureAccount(pool, 'KRW', 'payment_provider', `provider:${run}`);
    const wallet = await ensureAccount(pool, 'KRW', 'user_wallet', `${run}:w`);
    const points = await ensureAccount(pool, 'POINTS', 'user_wallet', `${run}:p`);
    const escrow = await ensureAccount(pool, 'KRW', 'mission_escrow', `${run}:e`);
    await tx(pool, (c) => createTransfer(c, { id: randomUUID(), debit: source, credit: wallet, amount: 10_000, code: 'charge' }));
    const call = transfersCall({ ids: '$1::uuid[]', debits: '$2::uuid[]', credits: '$3::uuid[]', amounts: '$4::bigint[]', missionIds: '$5::uuid[]', ledger: 'KRW', code: 'test_hold', pending: true, debitCode: 'user_wallet', creditCode: 'mission_escrow' });
    const make = (ids: string[], debits: string[], amounts: number[]) =>
      pool.query(`SELECT ${call} AS n`, [ids, debits, debits.map(() => escrow.id), amounts, debits.map(() => null)]).then(() => 'made', (e: Error & { code?: string }) => ledgerErrorOf(e)?.reason ?? e.message);
    const taken = randomUUID();
    expect(await make([randomUUID()], [wallet.id, wallet.id], [1, 1])).toMatch(/arrays of one length/);
    expect(await make([randomUUID()], [wallet.id], [-1])).toMatch(/amounts of 0 or more/);
    expect(await make([taken], [wallet.id], [100])).toBe('made');
    expect(await make([randomUUID(), taken], [wallet.id, wallet.id], [100, 100])).toMatch(/duplicate key/);
    expect(await make([randomUUID()], [points.id], [100])).toBe('account_not_found');
    expect(await available(wallet)).toBe(9_900);
  });
});
