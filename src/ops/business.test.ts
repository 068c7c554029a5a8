// The ops page's business figures (held cash, today's captures and fees in
// KST, missions by state, withdrawals waiting for review) and the history
// that survives a reload, against the real embedded PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takingsByKstDay } from '../settlement/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailboxOf, verifyEmail } from '../../test/support/mail.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let ops: Caller;

const ADMIN = 'ops-business@example.kr';

beforeAll(async () => {
  t = await createTestApp({ ADMIN_EMAILS: ADMIN, WITHDRAWAL_REVIEW_ABOVE_KRW: '20000', PLATFORM_FEE_BPS: '500' });
  api = client(t.ml.http);
  const reg = await api.call('POST', '/api/v1/auth/register', null, { email: ADMIN, password: 'a long password', displayName: 'Ops' });
  const login = await api.call('POST', '/api/v1/auth/login', null, { email: ADMIN, password: 'a long password' });
  ops = { token: login.body.accessToken, id: reg.body.user.id, email: ADMIN };
  await verifyEmail(t.ml.http, mailboxOf(t), ops);
});
afterAll(async () => t?.close());

const summary = async () => {
  const r = await api.call('GET', '/api/v1/ops/summary', ops);
  expect(r.status).toBe(200);
  return r.body;
};

/** Today in Korea, as the server should count it. */
const kstToday = () => new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);

describe('ops summary: business figures', () => {
  it('starts at zero, every mission state present', async () => {
    const { business } = await summary();
    expect(business).toEqual({
      day: kstToday(),
      held: { count: 0, amount: 0 },
      capturedToday: 0,
      feesToday: 0,
      missions: { PROPOSED: 0, ACTIVE: 0, CONFIRMING: 0, IN_REVIEW: 0, SUCCEEDED: 0, FAILED: 0, REJECTED: 0, EXPIRED: 0, CANCELLED: 0 },
      withdrawalsInReview: { count: 0, amount: 0 },
    });
  });

  it('counts held pledges, today’s captures and fees, missions by state and withdrawals in review', async () => {
    const streamer = await api.signUp('Streamer');
    await api.channel(streamer, 'biz_kim', { missionMaxAmount: 1_000_000 });
    const viewer = await api.signUp('Viewer');
    const other = await api.signUp('Other');
    await api.charge(viewer, 200_000);
    await api.charge(other, 50_000);

    // Settled with success: 100,000 + 40,000 captured, a 5 % fee.
    const won = (await api.propose(viewer, 'biz_kim', 100_000)).body.mission;
    expect((await api.call('POST', `/api/v1/missions/${won.id}/pledges`, other, { amount: 40_000 })).status).toBe(201);
    await api.call('POST', `/api/v1/missions/${won.id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${won.id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await eventually(async () => (await api.mission(won.id)).settledAt);
    // Still held: one proposed, one active with two pledges.
    await api.propose(viewer, 'biz_kim', 7_000);
    const active = (await api.propose(viewer, 'biz_kim', 5_000)).body.mission;
    await api.call('POST', `/api/v1/missions/${active.id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${active.id}/pledges`, other, { amount: 3_000 });
    // Rejected: its hold is released, nothing captured.
    const rejected = (await api.propose(viewer, 'biz_kim', 2_000)).body.mission;
    await api.call('POST', `/api/v1/missions/${rejected.id}/reject`, streamer);
    // Released by settlement, after the rejection's event: wait for it.
    await eventually(async () => (await api.mission(rejected.id)).settledAt);

    // Two withdrawals from the 133,000 earned: one above the review threshold waits, one below goes out.
    expect((await api.call('PUT', '/api/v1/streamer/payout-account', streamer, { bankCode: '004', accountNumber: '110123456789', holderName: '김민지' })).status).toBe(200);
    const big = await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 30_000 });
    expect(big.body.withdrawal.status).toBe('REQUESTED');
    const small = await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 10_000 });
    expect(small.body.withdrawal.status).toBe('PROCESSING');

    const { business } = await summary();
    expect(business).toMatchObject({
      day: kstToday(),
      held: { count: 3, amount: 15_000 },
      capturedToday: 140_000,
      feesToday: 7_000,
      withdrawalsInReview: { count: 1, amount: 30_000 },
    });
    expect(business.missions).toMatchObject({ PROPOSED: 1, ACTIVE: 1, SUCCEEDED: 1, REJECTED: 1, FAILED: 0 });
    // The ledger agrees: held = what wallets show as held.
    const held = (await api.wallet(viewer)).held + (await api.wallet(other)).held;
    expect(held).toBe(business.held.amount);
  });

  it('is for admins only, like the rest of the ops API', async () => {
    const viewer = await api.signUp('Nosy');
    for (const url of ['/api/v1/ops/summary', '/api/v1/ops/history']) {
      expect((await api.call('GET', url)).status).toBe(401);
      expect((await api.call('GET', url, viewer)).status).toBe(403);
    }
  });
});

describe('takings per KST day', () => {
  it('counts a transfer on the day it was in Korea, and reads them through the partial index', async () => {
    const c = await t.db.pools.funding.connect();
    try {
      await c.query('BEGIN');
      // Rolled back: made-up transfers that only this reader sees.
      const put = (code: string, amount: number, at: string) =>
        c.query(`INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, created_at) VALUES ($1, $2, $3, $4, 'KRW', $5, 0, $6)`, [
          randomUUID(), randomUUID(), randomUUID(), amount, code, at,
        ]);
      await put('streamer_payout', 9_500, '2026-03-01T14:59:00Z'); // 23:59 on 1 March in Korea
      await put('platform_fee', 500, '2026-03-01T14:59:00Z');
      await put('streamer_payout', 19_000, '2026-03-01T15:00:00Z'); // 00:00 on 2 March in Korea
      await put('platform_fee', 1_000, '2026-03-01T15:00:00Z');
      await put('pledge_capture', 77_777, '2026-03-01T15:00:00Z'); // not an escrow's payout
      await put('platform_fee', 1, '2026-02-27T14:59:59Z'); // 27 February in Korea: before the span
      await put('platform_fee', 2, '2026-03-02T15:00:00Z'); // 3 March in Korea: after it
      const days = await takingsByKstDay(c, 3, new Date('2026-03-02T03:00:00Z'));
      expect(days).toEqual([
        { day: '2026-02-28', captured: 0, fees: 0 },
        { day: '2026-03-01', captured: 10_000, fees: 500 },
        { day: '2026-03-02', captured: 20_000, fees: 1_000 },
      ]);
      await c.query('SET LOCAL enable_seqscan = off');
      const plan = await c.query(`EXPLAIN SELECT sum(amount) FROM transfers WHERE code IN ('streamer_payout', 'platform_fee') AND created_at >= now() - interval '1 day'`);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('transfers_takings_at_idx');
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});

describe('ops history', () => {
  it('keeps the samples of the process for a reload, and the last 14 days', async () => {
    await summary();
    const h = await api.call('GET', '/api/v1/ops/history', ops);
    expect(h.status).toBe(200);
    expect(h.body.intervalSeconds).toBe(10);
    expect(h.body.samples.length).toBeGreaterThanOrEqual(1);
    expect(h.body.samples[0]).toMatchObject({ at: expect.any(String), http: { requests: expect.any(Number) }, outbox: { pending: expect.any(Number) } });
    expect(h.body.days).toHaveLength(14);
    expect(h.body.days.at(-1)).toEqual({ day: kstToday(), captured: 140_000, fees: 7_000 });
    expect(h.body.days[0].day < h.body.days.at(-1).day).toBe(true);
    // Polls closer than the interval add no sample.
    await summary();
    expect((await api.call('GET', '/api/v1/ops/history', ops)).body.samples.length).toBe(h.body.samples.length);
  });
});
