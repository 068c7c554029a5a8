import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from '../../src/missions/index.ts'; // the ledger's checks and the pledge book's
import { createTestApp, type TestApp } from '../support/app.ts';
import { client, eventually, type Caller } from '../support/api.ts';
import { skipWithoutNats, TestNats } from '../support/nats.ts';

describe.skipIf(skipWithoutNats('NATS JetStream bus'))('NATS JetStream bus', () => {
  let nats: TestNats;
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let streamer: Caller;
  let viewer: Caller;

  beforeAll(async () => {
    nats = await TestNats.start();
    t = await createTestApp({ NATS_URL: nats.url });
    api = client(t.ml.http);
    [streamer, viewer] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer')]);
    await api.channel(streamer, 'nats_ch');
    await api.charge(viewer, 200_000);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await nats?.stop();
  });

  const settledMission = (id: string, ms = 20_000) =>
    eventually(async () => {
      const m = await api.mission(id);
      return m.settledAt ? m : undefined;
    }, ms);

  it('carries events from the outbox through JetStream to settlement and mail', async () => {
    expect(t.ml.bus.kind).toBe('nats');
    expect((await t.ml.http.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const id = (await api.propose(viewer, 'nats_ch', 10_000)).body.mission.id;
    await api.call('POST', `/api/v1/missions/${id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await settledMission(id);
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body.settled).toBe(9_500);
  });

  it('a duplicate publish of the same event has one effect', async () => {
    const id = (await api.propose(viewer, 'nats_ch', 10_000)).body.mission.id;
    await api.call('POST', `/api/v1/missions/${id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'FAILED' });
    await settledMission(id);
    const { rows } = await t.db.pools.funding.query(`SELECT id, topic, key, payload, created_at FROM outbox WHERE key = $1 AND topic = 'mission.settled'`, [id]);
    const e = rows[0];
    const event = { id: e.id, topic: e.topic, key: e.key, payload: e.payload, createdAt: e.created_at.toISOString() };
    await t.ml.bus.publish(event);
    await t.ml.bus.publish(event);
    await new Promise((r) => setTimeout(r, 500));
    const mails = await t.db.pools.funding.query('SELECT count(*)::int AS n FROM notifications WHERE mission_id = $1', [id]);
    expect(mails.rows[0].n).toBe(1);
  });

  it('keeps taking pledges and decisions while NATS is down, and catches up after', async () => {
    const id = (await api.propose(viewer, 'nats_ch', 10_000)).body.mission.id;
    await api.call('POST', `/api/v1/missions/${id}/accept`, streamer);
    await nats.down();
    await eventually(async () => (await t.ml.http.inject({ method: 'GET', url: '/readyz' })).statusCode === 503, 10_000);
    const backer = await api.signUp('Backer');
    await api.charge(backer, 10_000);
    expect((await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 4_000 })).status).toBe(201);
    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    const pending = await t.db.pools.funding.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    expect(pending.rows[0].n).toBeGreaterThan(0);
    await nats.up();
    const m = await settledMission(id, 45_000);
    expect(m.pledgedAmount).toBe(14_000);
    expect(await api.wallet(backer)).toMatchObject({ available: 6_000, held: 0 });
    expect((await verifyLedger(t.db.pools.funding)).ok).toBe(true);
  }, 90_000);
});
