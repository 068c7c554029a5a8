import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from './index.ts'; // the ledger's checks and the pledge book's
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let viewer: Caller;
let backer: Caller;

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [streamer, viewer, backer] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer'), api.signUp('Backer')]);
  await api.channel(streamer, 'flow_ch', { failureKeepBps: 1000 });
  await api.charge(viewer, 100_000);
  await api.charge(backer, 100_000);
});
afterAll(async () => t?.close());

async function settled(id: string) {
  return eventually(async () => {
    const m = await api.mission(id);
    return m.settledAt ? m : undefined;
  });
}

describe('money flow', () => {
  it('holds, captures on success, pays the streamer minus the fee, mails every backer', async () => {
    const before = await api.wallet(viewer);
    expect(before).toMatchObject({ available: 100_000, held: 0, points: 1000 });
    const p = await api.propose(viewer, 'flow_ch', 10_000);
    expect(p.status).toBe(201);
    const mission = p.body.mission;
    expect(mission).toMatchObject({ state: 'PROPOSED', pledgedAmount: 10_000, backerCount: 1, channel: 'flow_ch' });
    expect(await api.wallet(viewer)).toMatchObject({ available: 90_000, held: 10_000 });

    const pledge = await api.call('POST', `/api/v1/missions/${mission.id}/pledges`, backer, { amount: 5_000 });
    expect(pledge.status).toBe(201);
    expect(pledge.body.pledge).toMatchObject({ amount: 5_000, status: 'HELD' });

    const acc = await api.call('POST', `/api/v1/missions/${mission.id}/accept`, streamer);
    expect(acc.status).toBe(200);
    expect(acc.body.mission.state).toBe('ACTIVE');
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toEqual({ settled: 0, pending: 15_000, withdrawable: 0, withdrawn: 0, inFlight: 0, currency: 'KRW' });

    const dec = await api.call('POST', `/api/v1/missions/${mission.id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    expect(dec.status).toBe(200);
    const again = await api.call('POST', `/api/v1/missions/${mission.id}/decision`, streamer, { outcome: 'FAILED' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('MISSION_ALREADY_DECIDED');

    const done = await settled(mission.id);
    expect(done).toMatchObject({ state: 'SUCCEEDED', pledgedAmount: 15_000, backerCount: 2 });
    expect(await api.wallet(viewer)).toMatchObject({ available: 90_000, held: 0 });
    expect(await api.wallet(backer)).toMatchObject({ available: 95_000, held: 0 });
    // fee = floor(15000 × 500 / 10000) = 750
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toEqual({ settled: 14_250, pending: 0, withdrawable: 14_250, withdrawn: 0, inFlight: 0, currency: 'KRW' });

    const mailbox = path.join(t.dataDir, 'mailbox');
    const files = await eventually(async () => {
      const f = await readdir(mailbox).catch(() => []);
      return f.length >= 2 ? f : undefined;
    });
    expect(files).toHaveLength(2);
    const text = await readFile(path.join(mailbox, files[0]!), 'utf8');
    expect(text).toContain('SUCCEEDED');
    const report = await verifyLedger(t.db.pools.funding);
    expect(report.problems).toEqual([]);
  });

  it('refunds on failure minus the channel keep share', async () => {
    const p = await api.propose(viewer, 'flow_ch', 10_000);
    const id = p.body.mission.id;
    await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 3_333 });
    await api.call('POST', `/api/v1/missions/${id}/accept`, streamer);
    const w0 = await api.wallet(backer);
    await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'FAILED' });
    await settled(id);
    // keep = floor(3333 × 1000 / 10000) = 333
    expect(await api.wallet(backer)).toMatchObject({ available: w0.available + 3_333 - 333, held: 0 });
    const tx = await api.call('GET', '/api/v1/wallet/transactions', backer);
    expect(tx.status).toBe(200);
    expect(tx.body.items[0]).toMatchObject({ kind: 'partial_capture', amount: 3_000 });
    expect((await verifyLedger(t.db.pools.funding)).ok).toBe(true);
  });

  it('refuses what the state machine does not allow', async () => {
    const p = await api.propose(viewer, 'flow_ch', 5_000);
    const id = p.body.mission.id;
    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).body.code).toBe('MISSION_NOT_ACTIVE');
    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, viewer)).status).toBe(403);
    expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).body.code).toBe('MISSION_NOT_ACTIVE');
    expect((await api.call('POST', `/api/v1/missions/${id}/reject`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 5_000 })).body.code).toBe('MISSION_NOT_OPEN');
    await settled(id);
    expect((await api.call('POST', `/api/v1/missions/${id}/pledges`, streamer, { amount: 5_000 })).status).toBe(403);
    expect((await api.propose(viewer, 'flow_ch', 10_000_000)).status).toBe(400);
    const poor = await api.signUp('Poor');
    const r = await api.propose(poor, 'flow_ch', 5_000);
    expect(r.status).toBe(402);
    expect(r.body.code).toBe('INSUFFICIENT_FUNDS');
  });

  it('replays an idempotent pledge and refuses a reused key', async () => {
    const p = await api.propose(viewer, 'flow_ch', 5_000);
    const id = p.body.mission.id;
    const h = { 'idempotency-key': 'pledge-1' };
    const a = await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 2_000 }, h);
    const b = await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 2_000 }, h);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers['idempotent-replayed']).toBe('true');
    const c = await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 2_001 }, h);
    expect(c.status).toBe(422);
    expect(c.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await api.mission(id)).pledgedAmount).toBe(7_000);
  });
});
