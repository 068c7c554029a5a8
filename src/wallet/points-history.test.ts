// The points history (GET /api/v1/wallet/points/transactions, an extension):
// every grant, claim, bet and payout of the caller, newest first, with the
// balance after each; nobody else's; paginated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let bettor: Caller;
let other: Caller;
let missionId = '';

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [streamer, bettor, other] = (await Promise.all(['Streamer', 'Bettor', 'Other'].map((n) => api.signUp(n)))) as [Caller, Caller, Caller];
  await api.channel(streamer, 'points_ch');
  await api.charge(bettor, 10_000);
  missionId = (await api.propose(bettor, 'points_ch', 5_000)).body.mission.id;
  await api.call('POST', `/api/v1/missions/${missionId}/accept`, streamer);
  expect((await api.call('POST', '/api/v1/points/claim', bettor)).status).toBe(200);
  expect((await api.call('POST', `/api/v1/missions/${missionId}/prediction/bets`, bettor, { side: 'SUCCEEDED', points: 300 })).status).toBe(201);
  expect((await api.call('POST', `/api/v1/missions/${missionId}/prediction/bets`, other, { side: 'FAILED', points: 200 })).status).toBe(201);
  await api.call('POST', `/api/v1/missions/${missionId}/decision`, streamer, { outcome: 'SUCCEEDED' });
  await eventually(async () => (await api.call('GET', `/api/v1/missions/${missionId}/prediction`)).body?.state === 'RESOLVED', 20_000);
}, 60_000);
afterAll(async () => t?.close());

describe('GET /api/v1/wallet/points/transactions', () => {
  it('lists the sign-up grant, the daily claim, the bet and the payout, with the balance after each', async () => {
    const r = await api.call('GET', '/api/v1/wallet/points/transactions', bettor);
    expect(r.status).toBe(200);
    const rows = r.body.items.map((e: { kind: string; amount: number; balanceAfter: number; missionId?: string }) => [e.kind, e.amount, e.balanceAfter, e.missionId ?? null]);
    expect(rows).toEqual([
      ['payout', 500, 1_300, missionId],
      ['bet', -300, 800, missionId],
      ['daily', 100, 1_100, null],
      ['signup', 1_000, 1_000, null],
    ]);
    expect(r.body.nextCursor).toBeNull();
    expect((await api.wallet(bettor)).points).toBe(1_300);
  });

  it('shows only the caller’s own movements, by page', async () => {
    const mine = await api.call('GET', '/api/v1/wallet/points/transactions', other);
    expect(mine.body.items.map((e: { kind: string; amount: number }) => [e.kind, e.amount])).toEqual([
      ['bet', -200],
      ['signup', 1_000],
    ]);
    const first = await api.call('GET', '/api/v1/wallet/points/transactions?limit=3', bettor);
    expect(first.body.items).toHaveLength(3);
    const rest = await api.call('GET', `/api/v1/wallet/points/transactions?limit=3&cursor=${first.body.nextCursor}`, bettor);
    expect(rest.body.items.map((e: { kind: string }) => e.kind)).toEqual(['signup']);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('needs a token, and refuses bad pages', async () => {
    expect((await api.call('GET', '/api/v1/wallet/points/transactions')).status).toBe(401);
    for (const qs of ['limit=0', 'limit=101', 'cursor=nope']) {
      const r = await api.call('GET', `/api/v1/wallet/points/transactions?${qs}`, bettor);
      expect(r.status, qs).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    // A brand-new user reads an empty (or grant-only) history, never an error.
    const fresh = await api.signUp('Fresh');
    const r = await api.call('GET', '/api/v1/wallet/points/transactions', fresh);
    expect(r.status).toBe(200);
    expect(r.body.items.every((e: { kind: string }) => e.kind === 'signup')).toBe(true);
  });
});
