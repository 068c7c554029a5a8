// A model test of the wallet's money rules (fast-check, TigerBeetle style):
// random sequences of charges, pledges, refunds and provider reversals run
// against the real server and a tiny in-memory model. After every step the
// wallet (available, held, owed) and every charge's refunded/reversed amounts
// match the model; available never goes negative; no refund or reversal ever
// takes more from a charge than it still has; the books verify at the end.
// A second property runs the same operations in concurrent rounds and checks
// that every won charged is still accounted for (available, held, refunded,
// taken by reversals, paid back) and no charge gives back more than it had.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { signWebhook, SIGNATURE_HEADER } from './provider.ts';
import { verifyWallet } from './verify.ts';

const SECRET = 'test-webhook-secret-0123456789';

let t: TestApp;
let api: ReturnType<typeof client>;
let handle: string;

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  const streamer = await api.signUp('Streamer');
  handle = `model_${Date.now() % 1_000_000}`;
  await api.channel(streamer, handle);
});
afterAll(async () => t?.close());

type Op =
  | { kind: 'charge'; amount: number }
  | { kind: 'pledge'; amount: number }
  | { kind: 'refund'; amount: number }
  | { kind: 'reverse'; charge: number; amount: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('charge' as const), amount: fc.integer({ min: 1_000, max: 30_000 }) }),
  fc.record({ kind: fc.constant('pledge' as const), amount: fc.integer({ min: 1_000, max: 20_000 }) }),
  fc.record({ kind: fc.constant('refund' as const), amount: fc.integer({ min: 1_000, max: 25_000 }) }),
  fc.record({ kind: fc.constant('reverse' as const), charge: fc.nat(), amount: fc.integer({ min: 1, max: 30_000 }) }),
);

/** The rules, in a few lines: what the server must agree with. */
class Model {
  available = 0;
  owed = 0;
  /** Held pledges, oldest first. */
  pledges: number[] = [];
  charges: { amount: number; refunded: number; reversed: number }[] = [];

  get held() {
    return this.pledges.reduce((s, x) => s + x, 0);
  }

  charge(amount: number) {
    this.charges.push({ amount, refunded: 0, reversed: 0 });
    const repay = Math.min(this.owed, amount);
    this.owed -= repay;
    this.available += amount - repay;
  }

  pledge(amount: number): boolean {
    if (amount > this.available) return false;
    this.available -= amount;
    this.pledges.push(amount);
    return true;
  }

  refund(amount: number): boolean {
    if (amount > this.available - this.owed) return false;
    this.available -= amount;
    let left = amount;
    for (let i = this.charges.length - 1; i >= 0 && left > 0; i--) {
      const c = this.charges[i]!;
      const take = Math.min(left, c.amount - c.refunded - c.reversed);
      c.refunded += take;
      left -= take;
    }
    return true;
  }

  reverse(index: number, amount: number): boolean {
    const c = this.charges[index]!;
    if (amount > c.amount - c.refunded - c.reversed) return false;
    c.reversed += amount;
    let need = amount - this.available;
    while (need > 0 && this.pledges.length > 0) {
      const p = this.pledges.pop()!;
      this.available += p;
      need -= p;
    }
    const take = Math.min(amount, this.available);
    this.available -= take;
    this.owed += amount - take;
    return true;
  }
}

async function reverse(chargeId: string, amount: number, eventId: string) {
  const body = JSON.stringify({ eventId, chargeId, status: 'reversed', amount });
  const res = await t.ml.http.inject({
    method: 'POST',
    url: '/api/v1/payments/webhook',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(SECRET, body) },
    payload: body,
  });
  return res.statusCode;
}

describe('wallet money model', () => {
  it('agrees with the model on every step; available never negative, no charge over-given', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        run++;
        const who: Caller = await api.signUp(`Model ${run}`);
        const model = new Model();
        const chargeIds: string[] = [];
        for (const [i, o] of ops.entries()) {
          if (o.kind === 'charge') {
            chargeIds.push((await api.charge(who, o.amount)).id);
            model.charge(o.amount);
          } else if (o.kind === 'pledge') {
            const res = await api.propose(who, handle, o.amount);
            expect(res.status === 201, `pledge ${o.amount}: ${res.status}`).toBe(model.pledge(o.amount));
          } else if (o.kind === 'refund') {
            const res = await api.call('POST', '/api/v1/wallet/refunds', who, { amount: o.amount });
            const ok = model.refund(o.amount);
            expect(res.status, `refund ${o.amount}`).toBe(ok ? 201 : 402);
            if (ok) expect(res.body.refund.status).toBe('succeeded');
          } else {
            if (chargeIds.length === 0) continue;
            const index = o.charge % chargeIds.length;
            const status = await reverse(chargeIds[index]!, o.amount, `evt_model_${run}_${i}`);
            expect(status, `reverse ${o.amount} of charge ${index}`).toBe(model.reverse(index, o.amount) ? 200 : 400);
          }
          const w = await api.wallet(who);
          expect(w.available).toBeGreaterThanOrEqual(0);
          expect({ available: w.available, held: w.held, owed: w.owed }).toEqual({ available: model.available, held: model.held, owed: model.owed });
        }
        const { rows } = await t.db.pools.funding.query<{ amount: number; cancelled_amount: number; reversed_amount: number }>(
          'SELECT amount, cancelled_amount, reversed_amount FROM charges WHERE user_id = $1 ORDER BY created_at, id',
          [who.id],
        );
        expect(rows.map((r) => ({ amount: Number(r.amount), refunded: Number(r.cancelled_amount), reversed: Number(r.reversed_amount) }))).toEqual(model.charges);
        for (const c of model.charges) expect(c.refunded + c.reversed).toBeLessThanOrEqual(c.amount);
      }),
      { numRuns: 25 },
    );
    const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
    expect(report.problems).toEqual([]);
  });

  it('keeps every won accounted for when charges, pledges, refunds and reversals race each other', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1_000, max: 20_000 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.array(op, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        async (initial, rounds) => {
          run++;
          const who: Caller = await api.signUp(`Race ${run}`);
          const chargeIds: string[] = [];
          for (const amount of initial) chargeIds.push((await api.charge(who, amount)).id);
          for (const [r, round] of rounds.entries()) {
            // Each round's operations at once, in whatever order the server takes them.
            const answers = await Promise.all(
              round.map(async (o, i) => {
                if (o.kind === 'charge') {
                  const res = await api.call('POST', '/api/v1/wallet/charges', who, { amount: o.amount });
                  if (res.status === 201) chargeIds.push(res.body.charge.id);
                  return res.status;
                }
                if (o.kind === 'pledge') return (await api.propose(who, handle, o.amount)).status;
                if (o.kind === 'refund') return (await api.call('POST', '/api/v1/wallet/refunds', who, { amount: o.amount })).status;
                return reverse(chargeIds[o.charge % chargeIds.length]!, o.amount, `evt_race_${run}_${r}_${i}`);
              }),
            );
            for (const status of answers) expect([200, 201, 400, 402]).toContain(status);
          }
          // Conservation: everything charged is available, held, refunded, taken by reversals or paid back.
          const w = await api.wallet(who);
          expect(w.available).toBeGreaterThanOrEqual(0);
          expect(w.owed).toBeGreaterThanOrEqual(0);
          const [sums] = (
            await t.db.pools.funding.query<Record<string, string>>(
              `SELECT (SELECT coalesce(sum(amount), 0) FROM charges WHERE user_id = $1 AND status = 'succeeded') AS charged,
                      (SELECT coalesce(sum(amount), 0) FROM refunds WHERE user_id = $1) AS refunded,
                      (SELECT coalesce(sum(from_wallet), 0) FROM payment_reversals WHERE user_id = $1) AS taken,
                      (SELECT coalesce(sum(owed), 0) FROM payment_reversals WHERE user_id = $1) AS owed,
                      (SELECT coalesce(sum(amount), 0) FROM pledges WHERE backer_id = $1 AND status = 'HELD') AS held,
                      (SELECT count(*) FROM charges WHERE user_id = $1 AND cancelled_amount + reversed_amount > amount) AS overgiven`,
              [who.id],
            )
          ).rows;
          const n = (k: string) => Number(sums![k]);
          expect(n('overgiven')).toBe(0);
          expect(w.held).toBe(n('held'));
          const repaid = n('owed') - w.owed;
          expect(n('charged')).toBe(w.available + w.held + n('refunded') + n('taken') + repaid);
        },
      ),
      { numRuns: 15 },
    );
    const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
    expect(report.problems).toEqual([]);
  });
});
