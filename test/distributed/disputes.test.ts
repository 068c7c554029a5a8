// Dispute windows in distributed mode (API.md Part 2): the windows of
// decided missions are ended by two separate sweeper processes (ROLES=sweeper,
// NATS JetStream as the bus), one of which is killed with -9 while windows are
// open and started again after they ended. Each mission enters its proposed
// outcome exactly once, within 5 s after its disputeEndsAt (the live sweeper's
// doing) or at the restart, and settles once; a dispute racing the end gets
// one answer or the other, never both.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { superUrlFor } from '../support/databases.ts';
import { TestNats, skipWithoutNats } from '../support/nats.ts';
import { cleanUpAll, tempDataDir } from '../support/process.ts';
import { roleProcesses, type RoleProcess } from '../support/roles.ts';
import { verifyBooks } from '../../src/missions/index.ts';

const skip = skipWithoutNats('distributed dispute windows');

describe.skipIf(skip)('dispute windows with two sweeper processes over NATS', () => {
  let nats: TestNats;
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let sweepers: RoleProcess[] = [];
  let streamer: Caller;
  let viewer: Caller;
  let backer: Caller;

  beforeAll(async () => {
    nats = await TestNats.start();
    // This process: the API, settlement and mails — no sweeper.
    t = await createTestApp({ NATS_URL: nats.url, ROLES: 'api,settlement,notifier', MIN_WINDOW_SECONDS: '1' });
    api = client(t.ml.http);
    sweepers = await roleProcesses(
      [
        { name: 'sweeper-1', roles: 'sweeper' },
        { name: 'sweeper-2', roles: 'sweeper' },
      ],
      await tempDataDir(),
      // The owner's address: a process checks the migrations at start (all applied here).
      { DATABASE_URL_FUNDING: superUrlFor(inject('pgSuperUrl'), t.db.names.funding), NATS_URL: nats.url, MIN_WINDOW_SECONDS: '1' },
    );
    await Promise.all(sweepers.map((s) => s.start()));
    [streamer, viewer, backer] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer'), api.signUp('Backer')]);
    await api.channel(streamer, 'dist_disputes', { disputeWindowSeconds: 3, disputeThresholdBps: 10_000 });
    await api.charge(viewer, 200_000);
    await api.charge(backer, 200_000);
  }, 180_000);

  afterAll(async () => {
    await cleanUpAll();
    await t?.close();
    await nats?.stop();
  }, 60_000);

  it('ends every window once, on time, with a sweeper killed and restarted', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const m = (await api.propose(viewer, 'dist_disputes', 10_000)).body.mission;
      expect((await api.call('POST', `/api/v1/missions/${m.id}/pledges`, backer, { amount: 5_000 })).status).toBe(201);
      expect((await api.call('POST', `/api/v1/missions/${m.id}/accept`, streamer)).status).toBe(200);
      ids.push(m.id);
    }
    const decided = await Promise.all(
      ids.map((id, i) => api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: i % 2 ? 'FAILED' : 'SUCCEEDED', note: `case ${i}` })),
    );
    for (const d of decided) expect(d.body.mission.state).toBe('CONFIRMING');
    const endsAt = new Map(decided.map((d) => [d.body.mission.id as string, Date.parse(d.body.mission.disputeEndsAt)]));
    // One sweeper dies while the windows are open: the other one ends them.
    await sweepers[0]!.kill9();
    // Disputes racing the end of the window: 201 before it, 409 after, never both effects.
    const latest = Math.max(...endsAt.values());
    await new Promise((r) => setTimeout(r, Math.max(0, latest - Date.now() - 30)));
    const races = await Promise.all(ids.map((id) => api.call('POST', `/api/v1/missions/${id}/disputes`, backer, { reason: 'race' })));
    for (const r of races) {
      expect([201, 409]).toContain(r.status);
      if (r.status === 409) expect(r.body.code).toBe('MISSION_NOT_CONFIRMING');
    }
    const settled = await Promise.all(
      ids.map((id) =>
        eventually(async () => {
          const m = await api.mission(id);
          return m.settledAt ? m : undefined;
        }, 30_000),
      ),
    );
    settled.forEach((m, i) => {
      expect(m.state).toBe(i % 2 ? 'FAILED' : 'SUCCEEDED');
      expect(m.decidedAt).toBe(decided[i]!.body.mission.decidedAt);
    });
    // The killed sweeper comes back after the windows ended: nothing is ended twice.
    await sweepers[0]!.start();
    await new Promise((r) => setTimeout(r, 2_500));
    for (const id of ids) {
      const { rows } = await t.db.pools.funding.query<{ at: Date }>(`SELECT created_at AS at FROM outbox WHERE key = $1 AND topic = 'mission.decided'`, [id]);
      expect(rows, `mission ${id}`).toHaveLength(1);
      const late = rows[0]!.at.getTime() - endsAt.get(id)!;
      expect(late, `mission ${id} ended ${late} ms after its window`).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(5_000);
      const settlements = await t.db.pools.funding.query(`SELECT 1 FROM outbox WHERE key = $1 AND topic = 'mission.settled'`, [id]);
      expect(settlements.rowCount).toBe(1);
    }
    const mails = await eventually(async () => {
      const { rows } = await t.db.pools.funding.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE mission_id = ANY($1::uuid[])', [ids]);
      return rows[0]!.n >= ids.length * 2 ? rows[0]!.n : undefined;
    });
    expect(mails).toBe(ids.length * 2);
    expect((await verifyBooks(t.db.pools.funding)).problems).toEqual([]);
  }, 120_000);
});
