import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from '../missions/index.ts'; // the ledger's checks and the pledge book's
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let a: Caller;
let b: Caller;
let c: Caller;

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [streamer, a, b, c] = await Promise.all([api.signUp('Streamer'), api.signUp('A'), api.signUp('B'), api.signUp('C')]);
  await api.channel(streamer, 'pred_ch');
  await api.charge(a, 50_000);
});
afterAll(async () => t?.close());

async function activeMission() {
  const p = await api.propose(a, 'pred_ch', 5_000);
  const id = p.body.mission.id as string;
  expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
  return id;
}
const bet = (who: Caller, id: string, side: string, points: number) => api.call('POST', `/api/v1/missions/${id}/prediction/bets`, who, { side, points });

describe('predictions', () => {
  it('pays the winners the whole pool and never touches cash', async () => {
    const id = await activeMission();
    const cashBefore = await api.wallet(b);
    expect((await bet(a, id, 'SUCCEEDED', 100)).status).toBe(201);
    expect((await bet(b, id, 'FAILED', 300)).status).toBe(201);
    expect((await bet(c, id, 'SUCCEEDED', 200)).status).toBe(201);
    const more = await bet(a, id, 'SUCCEEDED', 50);
    expect(more.body.bet.totalPoints).toBe(150);
    expect((await bet(a, id, 'FAILED', 10)).body.code).toBe('SIDE_ALREADY_CHOSEN');
    expect((await bet(streamer, id, 'FAILED', 10)).status).toBe(403);
    expect((await bet(b, id, 'FAILED', 1_000_000)).body.code).toBe('INSUFFICIENT_POINTS');
    const view = await api.call('GET', `/api/v1/missions/${id}/prediction`, a);
    expect(view.body).toMatchObject({ state: 'OPEN', pools: { SUCCEEDED: 350, FAILED: 300 }, myBet: { side: 'SUCCEEDED', points: 150 } });
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`)).body.myBet).toBeNull();

    await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await eventually(async () => (await api.mission(id)).settledAt);
    // pool 650 over winners 150 and 200 (of 350): 278.57 → 278, 371.43 → 371; leftover 1 → larger stake (c).
    expect((await api.wallet(a)).points).toBe(1000 - 150 + 278);
    expect((await api.wallet(c)).points).toBe(1000 - 200 + 372);
    expect((await api.wallet(b)).points).toBe(1000 - 300);
    expect(await api.wallet(b)).toMatchObject({ available: cashBefore.available, held: cashBefore.held });
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`, c)).body).toMatchObject({ state: 'RESOLVED', myBet: { payout: 372 } });
    expect((await bet(b, id, 'FAILED', 1)).body.code).toBe('PREDICTION_LOCKED');
    expect((await verifyLedger(t.db.pools.funding)).ok).toBe(true);
  });

  it('refunds every bet when the mission ends without an outcome', async () => {
    const id = await activeMission();
    const before = (await api.wallet(b)).points;
    await bet(b, id, 'FAILED', 40);
    await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer);
    await eventually(async () => (await api.mission(id)).settledAt);
    expect((await api.wallet(b)).points).toBe(before);
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`)).body.state).toBe('REFUNDED');
  });

  it('has no prediction before acceptance and rejects bad bets', async () => {
    const p = await api.propose(a, 'pred_ch', 5_000);
    const id = p.body.mission.id;
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`)).status).toBe(404);
    expect((await bet(b, id, 'FAILED', 10)).status).toBe(404);
    for (const points of [0, -5, 1.5, '10', null]) expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, b, { side: 'FAILED', points })).status).toBe(400);
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, b, { side: 'MAYBE', points: 1 })).status).toBe(400);
  });
});
