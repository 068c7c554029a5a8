// Streamer withdrawals through the HTTP API (API.md Part 2), on real
// PostgreSQL with every worker running: the payout account, holds from the
// earnings, the sandbox provider's answers, the review queue, the mails, the
// outbox events and `ledger verify`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailboxOf, mailHeader, plainText, rawMails, verifyEmail } from '../../test/support/mail.ts';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { verifyWithdrawals } from './index.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let seq = 0;

beforeAll(async () => {
  t = await createTestApp({ ADMIN_EMAILS: 'payout-admin@example.kr', WITHDRAWAL_FEE_KRW: '500', WITHDRAWAL_REVIEW_ABOVE_KRW: '200000', MIN_WINDOW_SECONDS: '1' });
  api = client(t.ml.http);
});
afterAll(async () => t?.close());

const books = () => verifyLedger(t.db.pools.funding, [verifyPledges, verifyWithdrawals]);
const earnings = async (who: Caller) => (await api.call('GET', '/api/v1/streamer/earnings', who)).body;
const withdraw = (who: Caller, amount: unknown, headers: Record<string, string> = {}) => api.call('POST', '/api/v1/streamer/withdrawals', who, { amount }, headers);
const setAccount = (who: Caller, accountNumber: string, extra: Record<string, unknown> = {}) =>
  api.call('PUT', '/api/v1/streamer/payout-account', who, { bankCode: '004', accountNumber, holderName: '김민지', ...extra });
const mine = async (who: Caller, id: string) => ((await api.call('GET', '/api/v1/streamer/withdrawals', who)).body.items as { id: string; status: string }[]).find((w) => w.id === id);

/** A streamer with a channel whose settled earnings are `pledged` less the 5 % platform fee, earned through a real mission. */
async function streamerEarning(pledged: number): Promise<{ streamer: Caller; handle: string }> {
  const streamer = await api.signUp('Streamer');
  const handle = `wd_${process.pid % 1000}_${++seq}`;
  await api.channel(streamer, handle, { missionMaxAmount: 1_000_000 });
  const backer = await api.signUp('Backer');
  await api.charge(backer, pledged);
  const proposed = await api.propose(backer, handle, pledged);
  expect(proposed.status).toBe(201);
  const id = proposed.body.mission.id;
  expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
  expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
  await eventually(async () => (await earnings(streamer)).settled > 0);
  return { streamer, handle };
}

async function admin(): Promise<Caller> {
  const reg = await api.call('POST', '/api/v1/auth/register', null, { email: 'payout-admin@example.kr', password: 'a long password', displayName: 'Ops' });
  const login = await api.call('POST', '/api/v1/auth/login', null, { email: 'payout-admin@example.kr', password: 'a long password' });
  const ops = { token: login.body.accessToken, id: reg.body.user.id, email: 'payout-admin@example.kr' };
  await verifyEmail(t.ml.http, mailboxOf(t), ops);
  return ops;
}
let adminCaller: Promise<Caller> | undefined;
const ops = () => (adminCaller ??= admin());

describe('payout account', () => {
  it('is for streamers only, verified by the provider, and shown masked', async () => {
    const viewer = await api.signUp('Viewer');
    expect((await setAccount(viewer, '1234567890')).status).toBe(403);
    expect((await api.call('GET', '/api/v1/streamer/payout-account', viewer)).status).toBe(403);
    expect((await api.call('GET', '/api/v1/streamer/payout-account')).status).toBe(401);

    const { streamer } = await streamerEarning(10_000);
    expect((await api.call('GET', '/api/v1/streamer/payout-account', streamer)).status).toBe(404);
    const refused = await setAccount(streamer, '1234560000');
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('PAYOUT_ACCOUNT_INVALID');
    expect((await api.call('GET', '/api/v1/streamer/payout-account', streamer)).status).toBe(404);

    const ok = await setAccount(streamer, '110123456789');
    expect(ok.status).toBe(200);
    expect(ok.body.payoutAccount).toEqual({ bankCode: '004', accountNumberMasked: expect.stringMatching(/^\*+6789$/), holderName: '김민지', verifiedAt: expect.any(String) });
    expect((await api.call('GET', '/api/v1/streamer/payout-account', streamer)).body).toEqual(ok.body);
    // The full number is nowhere in our tables (the provider keeps it).
    const { rows } = await t.db.pools.funding.query(`SELECT row_to_json(a)::text AS r FROM payout_accounts a`);
    expect(rows.map((r) => r.r).join()).not.toContain('110123456789');
  });

  it('refuses malformed input with 400 and changes nothing', async () => {
    const { streamer } = await streamerEarning(10_000);
    const bad: Record<string, unknown>[] = [
      { bankCode: '04', accountNumber: '1234567', holderName: 'A' },
      { bankCode: '0044', accountNumber: '1234567', holderName: 'A' },
      { bankCode: '004', accountNumber: '12345', holderName: 'A' },
      { bankCode: '004', accountNumber: '123456789012345678901', holderName: 'A' },
      { bankCode: '004', accountNumber: '12345-678', holderName: 'A' },
      { bankCode: '004', accountNumber: '1234567', holderName: '' },
      { bankCode: '004', accountNumber: '1234567', holderName: 'x'.repeat(41) },
      { bankCode: '004', accountNumber: '1234567', holderName: 'A\u202Eb' },
      { bankCode: '004', accountNumber: 1234567, holderName: 'A' },
      { bankCode: '004', accountNumber: '1234567', holderName: 'A', extra: 1 },
      { bankCode: '004', accountNumber: '1234567' },
    ];
    for (const body of bad) {
      const r = await api.call('PUT', '/api/v1/streamer/payout-account', streamer, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await api.call('GET', '/api/v1/streamer/payout-account', streamer)).status).toBe(404);
  });
});

describe('withdrawals', () => {
  it('publishes its rules (minimum, fee, review threshold) to signed-in users', async () => {
    const who = await api.signUp('Reader');
    expect((await api.call('GET', '/api/v1/streamer/withdrawal-policy', who)).body).toEqual({ minAmount: 10_000, fee: 500, reviewAbove: 200_000, currency: 'KRW' });
    expect((await api.call('GET', '/api/v1/streamer/withdrawal-policy')).status).toBe(401);
  });

  it('pays a small withdrawal within 2 s: held at once, then PAID, fee kept, earnings updated, books clean', async () => {
    const { streamer } = await streamerEarning(100_000); // 95,000 after the 5 % platform fee
    expect(await earnings(streamer)).toMatchObject({ settled: 95_000, withdrawable: 95_000, withdrawn: 0, inFlight: 0 });
    const missing = await withdraw(streamer, 20_000);
    expect(missing.status).toBe(409);
    expect(missing.body.code).toBe('PAYOUT_ACCOUNT_MISSING');
    expect((await setAccount(streamer, '110123456789')).status).toBe(200);

    const started = Date.now();
    const res = await withdraw(streamer, 20_000);
    expect(res.status).toBe(201);
    const w = res.body.withdrawal;
    expect(w).toEqual({
      id: expect.any(String), amount: 20_000, fee: 500, netAmount: 19_500, status: 'PROCESSING',
      requestedAt: expect.any(String), decidedAt: expect.any(String), paidAt: null, failureReason: null,
    });
    const during = await earnings(streamer);
    if (during.inFlight) expect(during).toMatchObject({ withdrawable: 75_000, inFlight: 20_000, withdrawn: 0 });
    const paid = await eventually(async () => {
      const x = await mine(streamer, w.id);
      return x?.status === 'PAID' ? x : undefined;
    }, 5_000, 50);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(paid).toMatchObject({ amount: 20_000, fee: 500, netAmount: 19_500, paidAt: expect.any(String), failureReason: null });
    expect(await earnings(streamer)).toMatchObject({ settled: 95_000, withdrawable: 75_000, withdrawn: 20_000, inFlight: 0 });
    // Exactly one payout at the provider, of the net amount.
    const { rows } = await t.db.pools.funding.query('SELECT amount FROM sandbox_payouts WHERE idempotency_key = $1', [w.id]);
    expect(rows).toEqual([{ amount: 19_500 }]);
    const report = await books();
    expect(report.problems).toEqual([]);
  });

  it('fails at the provider for accounts ending in 9999: the hold is voided and the reason shown', async () => {
    const { streamer } = await streamerEarning(50_000); // 47,500
    await setAccount(streamer, '3333339999');
    const w = (await withdraw(streamer, 30_000)).body.withdrawal;
    expect(w.status).toBe('PROCESSING');
    const failed = await eventually(async () => {
      const x = (await api.call('GET', '/api/v1/streamer/withdrawals', streamer)).body.items[0];
      return x.status === 'FAILED' ? x : undefined;
    }, 5_000);
    expect(failed.failureReason).toMatch(/9999|refused|closed/);
    expect(failed.paidAt).toBeNull();
    expect(await earnings(streamer)).toMatchObject({ withdrawable: 47_500, withdrawn: 0, inFlight: 0 });
    expect((await books()).problems).toEqual([]);
  });

  it('refuses more than withdrawable (402), less than the minimum (400), and bad amounts; nothing changes', async () => {
    const { streamer } = await streamerEarning(20_000); // 19,000
    await setAccount(streamer, '5555555555');
    const over = await withdraw(streamer, 19_001);
    expect(over.status).toBe(402);
    expect(over.body.code).toBe('INSUFFICIENT_FUNDS');
    for (const amount of [9_999, 0, -10_000, 10_000.5, '10000', null, 2 ** 60]) {
      const r = await withdraw(streamer, amount);
      expect(r.status, String(amount)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 10_000, note: 'x' })).status).toBe(400);
    expect(await earnings(streamer)).toMatchObject({ withdrawable: 19_000, inFlight: 0, withdrawn: 0 });
    expect((await api.call('GET', '/api/v1/streamer/withdrawals', streamer)).body.items).toEqual([]);
    // A viewer has no earnings to withdraw; no token is a 401.
    const viewer = await api.signUp('Viewer');
    expect((await withdraw(viewer, 10_000)).status).toBe(403);
    expect((await withdraw(null as unknown as Caller, 10_000)).status).toBe(401);
    expect((await api.call('GET', '/api/v1/streamer/withdrawals', viewer)).status).toBe(403);
  });

  it('honours Idempotency-Key: a replay answers the same withdrawal, a different body is 422', async () => {
    const { streamer } = await streamerEarning(60_000); // 57,000
    await setAccount(streamer, '6666666666');
    const first = await withdraw(streamer, 15_000, { 'idempotency-key': 'wd-1' });
    expect(first.status).toBe(201);
    const again = await withdraw(streamer, 15_000, { 'idempotency-key': 'wd-1' });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const reused = await withdraw(streamer, 16_000, { 'idempotency-key': 'wd-1' });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const list = (await api.call('GET', '/api/v1/streamer/withdrawals', streamer)).body.items;
    expect(list).toHaveLength(1);
    await eventually(async () => (await earnings(streamer)).withdrawn === 15_000);
    expect(await earnings(streamer)).toMatchObject({ withdrawable: 42_000, inFlight: 0 });
  });

  it('pages the list newest first', async () => {
    const { streamer } = await streamerEarning(100_000);
    await setAccount(streamer, '7777777777');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await withdraw(streamer, 10_000 + i)).body.withdrawal.id);
    const p1 = await api.call('GET', '/api/v1/streamer/withdrawals?limit=2', streamer);
    expect(p1.body.items.map((w: { id: string }) => w.id)).toEqual([ids[2], ids[1]]);
    const p2 = await api.call('GET', `/api/v1/streamer/withdrawals?limit=2&cursor=${p1.body.nextCursor}`, streamer);
    expect(p2.body.items.map((w: { id: string }) => w.id)).toEqual([ids[0]]);
    expect(p2.body.nextCursor).toBeNull();
    expect((await api.call('GET', '/api/v1/streamer/withdrawals?cursor=nonsense', streamer)).status).toBe(400);
  });
});

describe('review queue', () => {
  it('holds amounts above WITHDRAWAL_REVIEW_ABOVE_KRW until an admin approves; then it is paid', async () => {
    const { streamer, handle } = await streamerEarning(300_000); // 285,000
    await setAccount(streamer, '8888888888');
    const w = (await withdraw(streamer, 250_000)).body.withdrawal;
    expect(w).toMatchObject({ status: 'REQUESTED', decidedAt: null });
    expect(await earnings(streamer)).toMatchObject({ withdrawable: 35_000, inFlight: 250_000 });
    // It waits: no worker pays a REQUESTED withdrawal.
    await new Promise((r) => setTimeout(r, 800));
    expect((await mine(streamer, w.id))?.status).toBe('REQUESTED');

    // Only admins see and decide it.
    expect((await api.call('GET', '/api/v1/ops/withdrawals', streamer)).status).toBe(403);
    expect((await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/approve`, streamer)).status).toBe(403);
    expect((await api.call('GET', '/api/v1/ops/withdrawals')).status).toBe(401);
    const admin = await ops();
    const queue = await api.call('GET', '/api/v1/ops/withdrawals?status=REQUESTED', admin);
    expect(queue.status).toBe(200);
    expect(queue.body.items.find((x: { id: string }) => x.id === w.id)).toMatchObject({ channel: handle, amount: 250_000, status: 'REQUESTED' });
    expect((await api.call('GET', '/api/v1/ops/withdrawals?status=NOPE', admin)).status).toBe(400);

    const approved = await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/approve`, admin);
    expect(approved.status).toBe(200);
    expect(approved.body.withdrawal).toMatchObject({ id: w.id, status: 'PROCESSING', decidedAt: expect.any(String) });
    const again = await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/approve`, admin);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('WITHDRAWAL_NOT_REQUESTED');
    await eventually(async () => (await mine(streamer, w.id))?.status === 'PAID', 5_000);
    expect(await earnings(streamer)).toMatchObject({ withdrawable: 35_000, inFlight: 0, withdrawn: 250_000 });
    const late = await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/reject`, admin, { reason: 'too late' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('WITHDRAWAL_NOT_REQUESTED');
    expect((await books()).problems).toEqual([]);
  });

  it('rejects with a reason: the amount is withdrawable again', async () => {
    const { streamer } = await streamerEarning(300_000);
    await setAccount(streamer, '8888888881');
    const w = (await withdraw(streamer, 210_000)).body.withdrawal;
    const admin = await ops();
    expect((await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/reject`, admin, {})).status).toBe(400);
    expect((await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/reject`, admin, { reason: '' })).status).toBe(400);
    expect((await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/reject`, admin, { reason: 'x'.repeat(501) })).status).toBe(400);
    const r = await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/reject`, admin, { reason: '예금주 불일치' });
    expect(r.status).toBe(200);
    expect(r.body.withdrawal).toMatchObject({ status: 'REJECTED', failureReason: '예금주 불일치', decidedAt: expect.any(String), paidAt: null });
    expect(await earnings(streamer)).toMatchObject({ withdrawable: 285_000, inFlight: 0, withdrawn: 0 });
    expect((await api.call('POST', `/api/v1/ops/withdrawals/${w.id}/approve`, admin)).body.code).toBe('WITHDRAWAL_NOT_REQUESTED');
    // Unknown or malformed ids are 404.
    expect((await api.call('POST', '/api/v1/ops/withdrawals/0190f1c2-0000-7000-8000-000000000000/approve', admin)).status).toBe(404);
    expect((await api.call('POST', '/api/v1/ops/withdrawals/nope/approve', admin)).status).toBe(404);
    expect((await books()).problems).toEqual([]);
  });
});

describe('announcements', () => {
  it('every state change is an outbox event and a mail to the streamer', async () => {
    const { streamer } = await streamerEarning(30_000);
    await setAccount(streamer, '9191919191');
    const w = (await withdraw(streamer, 12_000)).body.withdrawal;
    await eventually(async () => (await mine(streamer, w.id))?.status === 'PAID', 5_000);
    const events = await t.db.pools.funding.query(`SELECT payload FROM outbox WHERE topic = 'withdrawal.updated' AND key = $1 ORDER BY created_at, id`, [w.id]);
    expect(events.rows.map((r) => r.payload.withdrawal.status)).toEqual(['PROCESSING', 'PAID']);
    expect(events.rows[1].payload).toMatchObject({ userId: streamer.id, channel: expect.any(String), withdrawal: { id: w.id, amount: 12_000, netAmount: 11_500 } });
    const mails = await eventually(async () => {
      const all = (await rawMails(mailboxOf(t))).filter((m) => mailHeader(m, 'to').includes(streamer.email) && /Withdrawal/.test(mailHeader(m, 'subject')));
      return all.length >= 2 ? all : undefined;
    }, 10_000, 100);
    const texts = mails.map(plainText).join('\n');
    expect(texts).toContain('12,000');
    expect(texts).toContain('11,500');
    expect(texts).toMatch(/Withdrawal was paid|was paid/);
    const metrics = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/missionlink_withdrawals_total\{result="paid"\} \d+/);
    expect(metrics).toContain('missionlink_withdrawals_open{status="PROCESSING"}');
    expect(metrics).toContain('missionlink_withdrawals_processing_oldest_seconds');
  });
});
