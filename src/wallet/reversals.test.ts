// Provider reversals through the sandbox's signed webhook (`status:
// "reversed"`) on real PostgreSQL: available cash first, then the user's
// held pledges on undecided missions, newest first, each voided whole
// (mission totals drop, a live event says so), then the rest owed; GET
// /wallet shows `owed`; new charges pay it back first; a replayed event id
// changes nothing; ledger verify covers all of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { expectNoMoneyMoved, expectProblem, type RawAnswer } from '../../test/support/bad-input.ts';
import { signWebhook, SIGNATURE_HEADER } from './provider.ts';
import { verifyWallet } from './verify.ts';

const SECRET = 'test-webhook-secret-0123456789'; // what createTestApp configures

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let handle: string;

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  streamer = await api.signUp('Streamer');
  handle = `rev_${Date.now() % 1_000_000}`;
  await api.channel(streamer, handle);
});
afterAll(async () => t?.close());

const books = async () => {
  const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
  expect(report.problems).toEqual([]);
};

let n = 0;
async function reverse(chargeId: string, amount: number, eventId = `evt_rev_${chargeId}_${++n}`): Promise<RawAnswer> {
  const body = JSON.stringify({ eventId, chargeId, status: 'reversed', amount });
  const res = await t.ml.http.inject({
    method: 'POST',
    url: '/api/v1/payments/webhook',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(SECRET, body) },
    payload: body,
  });
  let json: unknown;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json, text: res.payload, headers: res.headers };
}

async function propose(who: Caller, amount: number): Promise<string> {
  const res = await api.propose(who, handle, amount);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.mission.id as string;
}
async function pledge(who: Caller, missionId: string, amount: number): Promise<string> {
  const res = await api.call('POST', `/api/v1/missions/${missionId}/pledges`, who, { amount });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.pledge.id as string;
}
const pledgeStatus = async (id: string) =>
  (await t.db.pools.funding.query<{ status: string }>('SELECT status FROM pledges WHERE id = $1', [id])).rows[0]!.status;

describe('provider reversals', () => {
  it('takes available cash first and touches no pledge while it covers the reversal', async () => {
    const alice = await api.signUp('Alice');
    const charge = await api.charge(alice, 10_000);
    const m = await propose(alice, 5_000);
    const res = await reverse(charge.id, 4_000);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ result: 'applied' });
    expect(await api.wallet(alice)).toMatchObject({ available: 1_000, held: 5_000, owed: 0 });
    expect((await api.mission(m)).pledgedAmount).toBe(5_000);
    const history = (await api.call('GET', '/api/v1/wallet/transactions', alice)).body.items as { kind: string; amount: number }[];
    expect(history[0]).toMatchObject({ kind: 'reversal', amount: -4_000 });
    expect((await t.ml.http.inject({ method: 'GET', url: '/metrics' })).payload).toMatch(/^missionlink_reversed_krw_total\{from="wallet"\} [1-9]/m);
    await books();
  });

  it('then voids held pledges on undecided missions, newest first, each whole; totals drop and a live event says so', async () => {
    const bob = await api.signUp('Bob');
    const other = await api.signUp('Other');
    await api.charge(other, 50_000);
    const charge = await api.charge(bob, 30_000);
    const a = await propose(bob, 10_000); // oldest
    const b = await propose(other, 5_000);
    const pb = await pledge(bob, b, 8_000);
    const c = await propose(other, 4_000);
    const pc1 = await pledge(bob, c, 2_000);
    const pc2 = await pledge(bob, c, 3_000); // newest
    // An ACTIVE mission counts as undecided too: accept C.
    expect((await api.call('POST', `/api/v1/missions/${c}/accept`, streamer)).status).toBe(200);
    expect(await api.wallet(bob)).toMatchObject({ available: 7_000, held: 23_000 });
    expect(await api.mission(c)).toMatchObject({ pledgedAmount: 9_000, backerCount: 2 });

    // 20,000: 7,000 available, 13,000 more needed: C's 3,000 and 2,000, then B's 8,000 (13,000). A stays.
    const res = await reverse(charge.id, 20_000);
    expect(res.status, res.text).toBe(200);
    expect(await api.wallet(bob)).toMatchObject({ available: 0, held: 10_000, owed: 0 });
    expect(await pledgeStatus(pc2)).toBe('REFUNDED');
    expect(await pledgeStatus(pc1)).toBe('REFUNDED');
    expect(await pledgeStatus(pb)).toBe('REFUNDED');
    expect(await api.mission(a)).toMatchObject({ pledgedAmount: 10_000, backerCount: 1 });
    expect(await api.mission(b)).toMatchObject({ pledgedAmount: 5_000, backerCount: 1 });
    expect(await api.mission(c)).toMatchObject({ pledgedAmount: 4_000, backerCount: 1, state: 'ACTIVE' });
    const [rev] = (await t.db.pools.funding.query('SELECT from_wallet, from_pledges, voided_pledges, owed FROM payment_reversals WHERE charge_id = $1', [charge.id])).rows;
    expect(rev).toMatchObject({ from_wallet: 20_000, from_pledges: 13_000, voided_pledges: 3, owed: 0 });
    // The live stream of C says its total dropped (twice: one event per voided pledge).
    const voided = await eventually(async () => {
      const { rows } = await t.db.pools.funding.query<{ data: Record<string, unknown> }>(
        `SELECT data FROM live_events WHERE mission_id = $1 AND type = 'pledge' AND data ? 'voided' ORDER BY seq`,
        [c],
      );
      return rows.length === 2 ? rows.map((r) => r.data) : undefined;
    });
    expect(voided.map((d) => d.pledgeId).sort()).toEqual([pc1, pc2].sort());
    expect(voided.at(-1)).toMatchObject({ missionId: c, voided: true, pledgedAmount: 4_000, backerCount: 1 });
    // Bob can back C again, and counts as its backer again.
    await api.charge(bob, 2_000);
    await pledge(bob, c, 2_000);
    expect(await api.mission(c)).toMatchObject({ pledgedAmount: 6_000, backerCount: 2 });
    await books();
  });

  it('never takes captured money back: the rest becomes owed, shown in GET /wallet and paid back by new charges first', async () => {
    const carol = await api.signUp('Carol');
    const charge = await api.charge(carol, 10_000);
    const m = await propose(carol, 10_000);
    expect((await api.call('POST', `/api/v1/missions/${m}/accept`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${m}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    await eventually(async () => (await api.mission(m)).settledAt);
    const earnings = (await api.call('GET', '/api/v1/streamer/earnings', streamer)).body;

    const res = await reverse(charge.id, 10_000);
    expect(res.status, res.text).toBe(200);
    expect(await api.wallet(carol)).toMatchObject({ available: 0, held: 0, owed: 10_000 });
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toEqual(earnings);
    // Nothing can be refunded while owed.
    expectProblem(
      await (async () => {
        const r = await api.call('POST', '/api/v1/wallet/refunds', carol, { amount: 1_000 });
        return { status: r.status, body: r.body, text: JSON.stringify(r.body), headers: r.headers };
      })(),
      402,
      'INSUFFICIENT_FUNDS',
    );
    // New charges pay back first.
    await api.charge(carol, 4_000);
    expect(await api.wallet(carol)).toMatchObject({ available: 0, owed: 6_000 });
    await api.charge(carol, 10_000);
    expect(await api.wallet(carol)).toMatchObject({ available: 4_000, owed: 0 });
    const kinds = ((await api.call('GET', '/api/v1/wallet/transactions', carol)).body.items as { kind: string; amount: number }[]).map((e) => `${e.kind} ${e.amount}`);
    expect(kinds.slice(0, 4)).toEqual(['owed_repayment -6000', 'charge 10000', 'owed_repayment -4000', 'charge 4000']);
    await books();
  });

  it('changes nothing for a replayed event id, and refuses a reversal the charge cannot carry', async () => {
    const dave = await api.signUp('Dave');
    const charge = await api.charge(dave, 10_000);
    const first = await reverse(charge.id, 3_000, 'evt_dave_once');
    expect(first.body).toEqual({ result: 'applied' });
    await expectNoMoneyMoved(t, [dave], async () => {
      const again = await reverse(charge.id, 3_000, 'evt_dave_once');
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ result: 'duplicate' });
      // More than the charge has left (7,000 after the first reversal).
      expectProblem(await reverse(charge.id, 7_001), 400, 'VALIDATION_FAILED', 'amount');
      expectProblem(await reverse(crypto.randomUUID(), 1_000), 404, 'NOT_FOUND');
    });
    // A refunded share cannot be reversed as well.
    expect((await api.call('POST', '/api/v1/wallet/refunds', dave, { amount: 5_000 })).status).toBe(201);
    await expectNoMoneyMoved(t, [dave], async () => {
      expectProblem(await reverse(charge.id, 2_001), 400, 'VALIDATION_FAILED', 'amount');
    });
    expect((await reverse(charge.id, 2_000)).body).toEqual({ result: 'applied' });
    expect(await api.wallet(dave)).toMatchObject({ available: 0, owed: 0 });
    // A charge that never succeeded cannot be reversed.
    const pendingId = crypto.randomUUID();
    await t.db.pools.funding.query(`INSERT INTO charges (id, user_id, amount, status, provider) VALUES ($1, $2, 5000, 'pending', 'sandbox')`, [pendingId, dave.id]);
    expectProblem(await reverse(pendingId, 1_000), 400, 'VALIDATION_FAILED');
    await books();
  });

  it('handles concurrent reversals, pledges and refunds of one user without deadlock or overdraft', async () => {
    const erin = await api.signUp('Erin');
    const charges = [await api.charge(erin, 20_000), await api.charge(erin, 20_000), await api.charge(erin, 20_000)];
    await propose(erin, 10_000);
    const ops = await Promise.all([
      reverse(charges[0]!.id, 15_000),
      reverse(charges[1]!.id, 20_000),
      api.propose(erin, handle, 8_000),
      api.call('POST', '/api/v1/wallet/refunds', erin, { amount: 9_000 }),
      reverse(charges[2]!.id, 5_000),
      api.propose(erin, handle, 3_000),
    ]);
    for (const o of ops) expect(o.status).toBeLessThan(500);
    const w = await api.wallet(erin);
    expect(w.available).toBeGreaterThanOrEqual(0);
    expect(w.owed).toBeGreaterThanOrEqual(0);
    // Whatever the interleaving: the three reversals (40,000) were carried by the wallet and what is owed.
    const { rows } = await t.db.pools.funding.query<{ from_wallet: number; owed: number }>('SELECT from_wallet, owed FROM payment_reversals WHERE user_id = $1', [erin.id]);
    expect(rows.reduce((s, r) => s + Number(r.from_wallet) + Number(r.owed), 0)).toBe(40_000);
    expect(rows.reduce((s, r) => s + Number(r.owed), 0)).toBe(w.owed);
    await books();
  });
});
