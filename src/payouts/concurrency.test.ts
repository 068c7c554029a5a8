// Withdrawals under races, crashes and random sequences, on real PostgreSQL:
// concurrent withdrawals never take more than is withdrawable; a crash
// between the provider's answer and our commit never pays twice; a provider
// that is down is retried; and a fast-check model of the state machine and
// the balances agrees with the real service after every step.
import fc from 'fast-check';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { createTransfer, ensureAccount, verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { createLogger } from '../platform/log.ts';
import { AppError } from '../platform/errors.ts';
import { initialStatus, PayoutWorker, reconcileWithdrawals, SandboxPayoutProvider, split, verifyWithdrawals, type PayoutProvider, type PayoutService, type WithdrawalStatus } from './index.ts';

const FEE = 300;
const MIN = 1_000;
const REVIEW_ABOVE = 50_000;

let t: TestApp;
let api: ReturnType<typeof client>;
let payouts: PayoutService;
let seq = 0;
/** Crash seam of the app's own payout worker: throws while set. */
let crashAfterProviderCall = false;

beforeAll(async () => {
  t = await createTestApp(
    { WITHDRAWAL_MIN_KRW: String(MIN), WITHDRAWAL_FEE_KRW: String(FEE), WITHDRAWAL_REVIEW_ABOVE_KRW: String(REVIEW_ABOVE) },
    {
      startWorkers: false,
      hooks: {
        payouts: {
          afterProviderCall: () => {
            if (crashAfterProviderCall) throw new Error('crash: killed after the provider answered, before the commit');
          },
        },
      },
    },
  );
  api = client(t.ml.http);
  payouts = t.ml.payouts!;
});
afterAll(async () => t?.close());

const books = () => verifyLedger(t.db.pools.funding, [verifyPledges, verifyWithdrawals]);
const earnings = async (who: Caller) => (await api.call('GET', '/api/v1/streamer/earnings', who)).body;

/** Credits a streamer's earnings directly in the ledger (what settlement does after a mission). */
async function credit(userId: string, amount: number) {
  const source = await ensureAccount(t.db.pools.funding, 'KRW', 'payment_provider', 'model-test');
  const earningsAccount = await ensureAccount(t.db.pools.funding, 'KRW', 'streamer_earnings', userId);
  await createTransfer(t.db.pools.funding, { id: uuidv7(), debit: source, credit: earningsAccount, amount, code: 'streamer_payout' });
}

/** A streamer with a verified payout account ending in `last4` and `amount` of settled earnings. */
async function streamer(amount: number, last4 = '1234'): Promise<Caller> {
  const who = await api.signUp('Streamer');
  await api.channel(who, `wdc_${process.pid % 1000}_${++seq}`);
  const r = await api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '088', accountNumber: `55500${last4}`, holderName: 'Mina' });
  expect(r.status).toBe(200);
  if (amount > 0) await credit(who.id, amount);
  return who;
}

async function statusOf(id: string): Promise<WithdrawalStatus> {
  return (await t.db.pools.funding.query<{ status: WithdrawalStatus }>('SELECT status FROM withdrawals WHERE id = $1', [id])).rows[0]!.status;
}

/** A worker over the app's service with its own provider (a restarted process, or another one). */
const workerWith = (provider: PayoutProvider) => new PayoutWorker({ pool: t.db.pools.funding, provider, payouts, log: createLogger('silent') });

describe('concurrent withdrawals', () => {
  it('never take more than is withdrawable, and the books stay clean', async () => {
    const who = await streamer(73_000);
    const amount = 10_000;
    const results = await Promise.all(
      Array.from({ length: 16 }, () => api.call('POST', '/api/v1/streamer/withdrawals', who, { amount })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(7);
    expect(statuses.filter((s) => s === 402)).toHaveLength(9);
    expect(await earnings(who)).toMatchObject({ settled: 73_000, withdrawable: 3_000, inFlight: 70_000, withdrawn: 0 });
    expect((await books()).problems).toEqual([]);
  });

  it('with one Idempotency-Key from many requests at once make one withdrawal', async () => {
    const who = await streamer(40_000);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: 5_000 }, { 'idempotency-key': 'same-key' })),
    );
    for (const r of results) expect([201, 409]).toContain(r.status);
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.withdrawal.id));
    expect(ids.size).toBe(1);
    expect(await earnings(who)).toMatchObject({ inFlight: 5_000, withdrawable: 35_000 });
  });

  it('approve and reject of one withdrawal at once: exactly one wins', async () => {
    const who = await streamer(100_000);
    const w = (await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: 60_000 })).body.withdrawal;
    expect(w.status).toBe('REQUESTED');
    const outcomes = await Promise.allSettled([payouts.approve(w.id, who.id), payouts.reject(w.id, who.id, 'no')]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect((lost[0]!.reason as AppError).code).toBe('WITHDRAWAL_NOT_REQUESTED');
    expect((await books()).problems).toEqual([]);
  });
});

describe('crashes and provider faults', () => {
  it('a crash after the provider paid and before the commit: the restarted worker finishes it once, never paying twice', async () => {
    const who = await streamer(30_000);
    const w = (await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: 20_000 })).body.withdrawal;
    expect(w.status).toBe('PROCESSING');
    crashAfterProviderCall = true;
    try {
      await expect(t.ml.payoutWorker!.runOnce()).rejects.toThrow(/crash/);
    } finally {
      crashAfterProviderCall = false;
    }
    expect(await statusOf(w.id)).toBe('PROCESSING');
    // The provider made the payout; our books don't know yet (still in flight).
    expect((await t.db.pools.funding.query('SELECT count(*)::int AS n FROM sandbox_payouts WHERE idempotency_key = $1', [w.id])).rows[0].n).toBe(1);
    expect(await earnings(who)).toMatchObject({ inFlight: 20_000, withdrawn: 0 });
    // While the dead worker's lease lasts, nobody takes it…
    const restarted = workerWith(new SandboxPayoutProvider(t.db.pools.funding));
    await restarted.runOnce();
    expect(await statusOf(w.id)).toBe('PROCESSING');
    // …then the restarted process does, with the same idempotency key (once the sandbox has paid).
    await new Promise((r) => setTimeout(r, 600));
    await t.db.pools.funding.query(`UPDATE withdrawals SET claimed_until = now() - interval '1 second' WHERE id = $1`, [w.id]);
    await restarted.runOnce();
    expect(await statusOf(w.id)).toBe('PAID');
    expect((await t.db.pools.funding.query('SELECT count(*)::int AS n FROM sandbox_payouts WHERE idempotency_key = $1', [w.id])).rows[0].n).toBe(1);
    expect(await earnings(who)).toMatchObject({ inFlight: 0, withdrawn: 20_000, withdrawable: 10_000 });
    // A late second answer (another worker that also asked) changes nothing.
    expect(await payouts.finish(w.id, { status: 'paid', providerRef: 'again' })).toBe('already');
    expect(await payouts.finish(w.id, { status: 'failed', reason: 'late' })).toBe('already');
    const posts = await t.db.pools.funding.query('SELECT count(*)::int AS n FROM transfers WHERE pending_id = $1', [w.id]);
    expect(posts.rows[0].n).toBe(1);
    expect((await books()).problems).toEqual([]);
  });

  it('two answers recorded at once (two workers after a lapsed lease): exactly one takes effect', async () => {
    const who = await streamer(30_000);
    const w = (await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: 10_000 })).body.withdrawal;
    const results = await Promise.all([
      payouts.finish(w.id, { status: 'paid', providerRef: 'a' }),
      payouts.finish(w.id, { status: 'paid', providerRef: 'b' }),
      payouts.finish(w.id, { status: 'failed', reason: 'c' }),
    ]);
    expect(results.filter((r) => r === 'finished')).toHaveLength(1);
    expect((await books()).problems).toEqual([]);
  });

  it('a provider that is down is retried with backoff, and nothing is lost', async () => {
    const who = await streamer(30_000);
    const w = (await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: 10_000 })).body.withdrawal;
    let calls = 0;
    const down: PayoutProvider = {
      name: 'sandbox',
      verifyAccount: () => Promise.reject(new Error('unused')),
      listPayouts: () => Promise.reject(new Error('unused')),
      payout: () => {
        calls++;
        return Promise.reject(new Error('connect ECONNREFUSED'));
      },
    };
    await workerWith(down).runOnce();
    expect(calls).toBeGreaterThan(0);
    const row = (await t.db.pools.funding.query('SELECT status, last_error, next_attempt_at > now() AS later, claimed_until FROM withdrawals WHERE id = $1', [w.id])).rows[0];
    expect(row).toMatchObject({ status: 'PROCESSING', last_error: 'connect ECONNREFUSED', later: true, claimed_until: null });
    // Back up (and the backoff over): the same withdrawal is paid, once.
    await t.db.pools.funding.query('UPDATE withdrawals SET next_attempt_at = now() WHERE id = $1', [w.id]);
    const up = workerWith(new SandboxPayoutProvider(t.db.pools.funding, 0));
    await up.runOnce();
    expect(await statusOf(w.id)).toBe('PAID');
    expect((await books()).problems).toEqual([]);
  });
});

describe('model', () => {
  it('fee and netAmount: netAmount = amount − fee, positive for every allowed amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 999_999 }), (amount, fee) => {
        fc.pre(fee < amount);
        const s = split(amount, fee);
        expect(s.fee + s.netAmount).toBe(amount);
        expect(s.netAmount).toBeGreaterThan(0);
      }),
    );
  });

  type Op =
    | { kind: 'credit'; amount: number }
    | { kind: 'request'; amount: number }
    | { kind: 'burst'; amounts: number[] }
    | { kind: 'approve' | 'reject' | 'paid' | 'failed'; pick: number };

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('credit' as const), amount: fc.integer({ min: 1, max: 80_000 }) }),
    fc.record({ kind: fc.constant('request' as const), amount: fc.integer({ min: MIN, max: 90_000 }) }),
    // Several withdrawals at once: which of them win is the database's choice, not ours.
    fc.record({ kind: fc.constant('burst' as const), amounts: fc.array(fc.integer({ min: MIN, max: 40_000 }), { minLength: 2, maxLength: 6 }) }),
    fc.record({ kind: fc.constantFrom('approve' as const, 'reject' as const, 'paid' as const, 'failed' as const), pick: fc.nat(20) }),
  );

  it('random sequences of credits, requests, decisions and provider answers agree with a model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const who = await streamer(0);
        const model = { settled: 0, withdrawn: 0, inFlight: 0, items: [] as { id: string; amount: number; status: WithdrawalStatus }[] };
        for (const o of ops) {
          if (o.kind === 'credit') {
            await credit(who.id, o.amount);
            model.settled += o.amount;
          } else if (o.kind === 'request') {
            const withdrawable = model.settled - model.withdrawn - model.inFlight;
            const r = await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: o.amount });
            if (o.amount > withdrawable) {
              expect(r.status).toBe(402);
            } else {
              expect(r.status).toBe(201);
              const status = initialStatus(o.amount, REVIEW_ABOVE);
              expect(r.body.withdrawal).toMatchObject({ amount: o.amount, fee: FEE, netAmount: o.amount - FEE, status });
              model.items.push({ id: r.body.withdrawal.id, amount: o.amount, status });
              model.inFlight += o.amount;
            }
          } else if (o.kind === 'burst') {
            const before = model.settled - model.withdrawn - model.inFlight;
            const answers = await Promise.all(o.amounts.map((amount) => api.call('POST', '/api/v1/streamer/withdrawals', who, { amount })));
            let taken = 0;
            for (const [i, r] of answers.entries()) {
              expect([201, 402]).toContain(r.status);
              if (r.status !== 201) continue;
              const status = initialStatus(o.amounts[i]!, REVIEW_ABOVE);
              expect(r.body.withdrawal).toMatchObject({ amount: o.amounts[i], status });
              model.items.push({ id: r.body.withdrawal.id, amount: o.amounts[i]!, status });
              taken += o.amounts[i]!;
            }
            // Together never more than was withdrawable; each refusal was right when it was made.
            expect(taken).toBeLessThanOrEqual(before);
            for (const [i, r] of answers.entries()) if (r.status === 402) expect(o.amounts[i]!).toBeGreaterThan(before - taken);
            model.inFlight += taken;
          } else if (model.items.length > 0) {
            const w = model.items[o.pick % model.items.length]!;
            if (o.kind === 'approve' || o.kind === 'reject') {
              const act = o.kind === 'approve' ? payouts.approve(w.id, who.id) : payouts.reject(w.id, who.id, 'model');
              if (w.status !== 'REQUESTED') {
                await expect(act).rejects.toMatchObject({ code: 'WITHDRAWAL_NOT_REQUESTED' });
              } else {
                await act;
                if (o.kind === 'approve') w.status = 'PROCESSING';
                else {
                  w.status = 'REJECTED';
                  model.inFlight -= w.amount;
                }
              }
            } else {
              const result = await payouts.finish(w.id, o.kind === 'paid' ? { status: 'paid', providerRef: 'm' } : { status: 'failed', reason: 'model' });
              if (w.status !== 'PROCESSING') expect(result).toBe('already');
              else {
                expect(result).toBe('finished');
                model.inFlight -= w.amount;
                if (o.kind === 'paid') {
                  w.status = 'PAID';
                  model.withdrawn += w.amount;
                } else w.status = 'FAILED';
              }
            }
          }
          const e = await earnings(who);
          expect(e).toMatchObject({ settled: model.settled, withdrawn: model.withdrawn, inFlight: model.inFlight, withdrawable: model.settled - model.withdrawn - model.inFlight });
          expect(e.withdrawable).toBeGreaterThanOrEqual(0);
        }
        const listed = (await api.call('GET', '/api/v1/streamer/withdrawals?limit=100', who)).body.items as { id: string; status: string }[];
        expect(new Map(listed.map((x) => [x.id, x.status]))).toEqual(new Map(model.items.map((x) => [x.id, x.status])));
      }),
      { numRuns: 25 },
    );
    expect((await books()).problems).toEqual([]);
  }, 120_000);
});

describe('ledger verify', () => {
  it('names a withdrawal whose state does not match its hold', async () => {
    const who = await streamer(30_000);
    const w = (await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount: 10_000 })).body.withdrawal;
    expect((await books()).problems).toEqual([]);
    // Marked paid without the ledger: verify must see it.
    await t.db.pools.funding.query(`UPDATE withdrawals SET status = 'PAID', paid_at = now() WHERE id = $1`, [w.id]);
    try {
      const checks = (await books()).problems.map((p) => p.check);
      expect(checks).toContain('withdrawal_matches_hold');
      expect(checks).toContain('withdrawals_match_earnings');
    } finally {
      await t.db.pools.funding.query(`UPDATE withdrawals SET status = 'PROCESSING', paid_at = NULL WHERE id = $1`, [w.id]);
    }
    expect((await books()).problems).toEqual([]);
  });
});

describe('reconciliation with the provider', () => {
  it('agrees after real payouts, and names every difference', async () => {
    const from = new Date(Date.now() - 60_000);
    const sandbox = new SandboxPayoutProvider(t.db.pools.funding, 0);
    const who = await streamer(50_000);
    const ids: string[] = [];
    for (const amount of [10_000, 11_000]) ids.push((await api.call('POST', '/api/v1/streamer/withdrawals', who, { amount })).body.withdrawal.id);
    // The app's own worker may have claimed one first (its sandbox answers `processing` for
    // 500 ms): ask again until both are paid.
    await eventually(async () => {
      await workerWith(sandbox).runOnce();
      return (await Promise.all(ids.map(statusOf))).every((s) => s === 'PAID');
    }, 10_000, 200);
    const to = () => new Date(Date.now() + 60_000);
    const mine = async () => (await reconcileWithdrawals(t.db.pools.funding, sandbox, { from, to: to() })).filter((d) => ids.includes(d.withdrawalId) || d.kind === 'unknown_payout');
    expect(await mine()).toEqual([]);

    // The provider paid something we never asked for, and paid one withdrawal a different amount.
    const stray = uuidv7();
    const recipient = (await t.db.pools.funding.query('SELECT recipient_ref FROM sandbox_payouts WHERE idempotency_key = $1', [ids[0]])).rows[0].recipient_ref;
    await t.db.pools.funding.query('INSERT INTO sandbox_payouts (idempotency_key, ref, recipient_ref, amount) VALUES ($1, $2, $3, 777)', [stray, 'sbx_po_stray', recipient]);
    await t.db.pools.funding.query('UPDATE sandbox_payouts SET amount = amount + 1 WHERE idempotency_key = $1', [ids[1]]);
    // And it lost one (as a provider whose report misses a payout would).
    await t.db.pools.funding.query('DELETE FROM sandbox_payouts WHERE idempotency_key = $1', [ids[0]]);
    const diffs = await mine();
    expect(diffs.map((d) => [d.kind, d.withdrawalId]).sort()).toEqual(
      [['amount_mismatch', ids[1]], ['missing_at_provider', ids[0]], ['unknown_payout', stray]].sort(),
    );
    await t.db.pools.funding.query('DELETE FROM sandbox_payouts WHERE idempotency_key = $1', [stray]);
  });
});
