// An ended mission whose event has not reached the settlement worker (the
// bus is slow or away) is settled anyway once its grace period is over, and
// the event arriving afterwards changes nothing.
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from '../missions/index.ts'; // the ledger's checks and the pledge book's
import { InProcessBus } from '../platform/bus.ts';
import { createLogger } from '../platform/log.ts';
import { OutboxRelay } from '../platform/outbox.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client as apiClient } from '../../test/support/api.ts';
import { one } from '../../test/support/money-workers.ts';
import { SettlementWorker } from './worker.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { startWorkers: false });
});
afterAll(async () => t?.close());

describe('settling without the event', () => {
  it('settles an ended mission after the grace period, once, and the late event finds it done', async () => {
    const api = apiClient(t.ml.http);
    const [streamer, backer] = await Promise.all([api.signUp('Adopt Streamer'), api.signUp('Adopt Backer')]);
    await api.channel(streamer, 'adopt_ch', { missionMinAmount: 1_000 });
    await api.charge(backer, 10_000);
    const proposed = await api.propose(backer, 'adopt_ch', 4_000);
    const id = proposed.body.mission.id as string;
    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);

    // Nothing relays the outbox here: the decision's event stays unpublished.
    const bus = new InProcessBus();
    const log = createLogger('silent');
    const worker = new SettlementWorker({
      pool: t.db.pools.funding, bus, log, feeBps: 500, registry: new client.Registry(), eventsCommitted: () => undefined, eventGraceSeconds: 1,
    });
    expect(await worker.runOnce()).toBe(false); // decided under a second ago: still waiting for its event
    await new Promise((r) => setTimeout(r, 1_100));
    while (await worker.runOnce());
    expect((await api.call('GET', `/api/v1/missions/${id}`)).body.mission.settledAt).not.toBeNull();
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toMatchObject({ settled: 3_800 });

    // The event comes after all: consumed once, nothing moves again.
    worker.subscribe();
    const relay = new OutboxRelay(t.db.pools.funding, bus, log);
    while ((await relay.runOnce()) > 0);
    while (await worker.runOnce());
    const events = await one<{ settled: number; jobs: number }>(
      t.db.pools.funding,
      `SELECT (SELECT count(*)::int FROM outbox WHERE key = $1::text AND topic = 'mission.settled') AS settled,
              (SELECT count(*)::int FROM settlement_jobs WHERE mission_id = $1::uuid) AS jobs`,
      [id],
    );
    expect(events).toEqual({ settled: 1, jobs: 1 });
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toMatchObject({ settled: 3_800 });
    expect((await verifyLedger(t.db.pools.funding)).problems).toEqual([]);
  });
});
