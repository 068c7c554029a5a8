// Several workers on the same databases at once, in-process: two settlement
// workers (each also settling the same missions directly, past the job lease)
// and two sweepers. Every pledge must be settled exactly once, every mission
// expired and settled once, and the books must balance. Also the expiry path
// end to end with one-second windows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMissionLink, type MissionLink } from '../app.ts';
import { verifyBooks as verifyLedger } from '../missions/index.ts'; // the ledger's checks and the pledge book's
import { loadConfig } from '../platform/config.ts';
import { openPool, type Pool } from '../platform/db.ts';
import { createLogger } from '../platform/log.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { one, settleEverything } from '../../test/support/money-workers.ts';
import { captureOf, feeSplit } from './worker.ts';

const BATCH = 7;
const FEE_BPS = 500;
const KEEP_BPS = 1_500;

let t: TestApp;
/** A second process's worth of workers (settlement + sweeper) on the same databases. */
let other: MissionLink;
let otherPool: Pool;
let api: ReturnType<typeof client>;
let streamer: Caller;
let quickStreamer: Caller;
let backers: Caller[];
const CHARGED = 500_000;

beforeAll(async () => {
  const env = { MIN_WINDOW_SECONDS: '1', SETTLEMENT_BATCH_SIZE: String(BATCH), PLATFORM_FEE_BPS: String(FEE_BPS) };
  t = await createTestApp(env, { startWorkers: false });
  otherPool = openPool({ url: t.db.urls.funding, name: 'funding-2', max: 10 });
  const config = loadConfig({ ...env, DATA_DIR: t.dataDir, DATABASE_URL_FUNDING: t.db.urls.funding, ROLES: 'settlement,sweeper', LOG_LEVEL: 'silent' });
  other = await createMissionLink({ config, logger: createLogger('silent'), pools: { funding: otherPool }, startWorkers: false });

  api = client(t.ml.http);
  const users = await Promise.all(['Settle Streamer', 'Quick Streamer', 'B0', 'B1', 'B2', 'B3'].map((n) => api.signUp(n)));
  [streamer, quickStreamer] = [users[0]!, users[1]!];
  backers = users.slice(2);
  await api.channel(streamer, 'settle_ch', { missionMinAmount: 1_000, failureKeepBps: KEEP_BPS });
  // Proposals here expire after one second.
  await api.channel(quickStreamer, 'quick_ch', { missionMinAmount: 1_000, acceptWindowSeconds: 1 });
  await Promise.all(backers.map((b) => api.charge(b, CHARGED)));
});
afterAll(async () => {
  await other?.http.close();
  await other?.stopWorkers();
  await otherPool?.end();
  await t?.close();
});

const pledge = (who: Caller, id: string, amount: number) => api.call('POST', `/api/v1/missions/${id}/pledges`, who, { amount });
const action = (id: string, what: string, body?: unknown) => api.call('POST', `/api/v1/missions/${id}/${what}`, streamer, body);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Proposes on `handle` and adds `n` pledges from the backers; returns the id.
 * On a channel with a one-second accept window a slow machine may see the
 * window close under the last pledges: those are refused, which is right.
 */
async function missionWithPledges(handle: string, n: number, durationSeconds = 600): Promise<string> {
  const r = await api.propose(backers[0]!, handle, 1_000, durationSeconds);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const id = r.body.mission.id as string;
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => pledge(backers[i % backers.length]!, id, 1_000 + ((i * 37) % 900))));
  const windowClosed = Date.now() >= Date.parse(r.body.mission.acceptDeadline);
  for (const a of answers) {
    if (windowClosed && a.status === 409) expect(a.body.code).toBe('MISSION_NOT_OPEN');
    else expect(a.status, JSON.stringify(a.body)).toBe(201);
  }
  return id;
}

async function expectBooksBalance() {
  const report = await verifyLedger(t.db.pools.funding);
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

/** Asserts that each mission was settled exactly once, by the rules of its outcome. */
async function expectSettledOnce(ids: string[]) {
  const db = t.db.pools.funding;
  let streamerTotal = 0;
  for (const id of ids) {
    const m = await one<{ state: string; settled_at: Date | null; failure_keep_bps: number }>(db, 'SELECT state, settled_at, failure_keep_bps FROM missions WHERE id = $1', [id]);
    expect(m.settled_at, id).not.toBeNull();
    const events = await one<{ settled: number; ended: number }>(
      db,
      `SELECT count(*) FILTER (WHERE topic = 'mission.settled')::int AS settled,
              count(*) FILTER (WHERE topic IN ('mission.decided', 'mission.expired'))::int AS ended
         FROM outbox WHERE key = $1`,
      [id],
    );
    expect(events).toEqual({ settled: 1, ended: 1 });
    // Every hold resolved once (UNIQUE(pending_id) forbids twice), by the rule of the outcome.
    const { rows } = await db.query<{ amount: number; status: string; captured_amount: number; resolutions: number; posted: number | null }>(
      `SELECT p.amount, p.status, p.captured_amount,
              (SELECT count(*)::int FROM transfers r WHERE r.pending_id = p.hold_transfer_id) AS resolutions,
              (SELECT sum(CASE WHEN r.flags = 2 THEN r.amount ELSE 0 END)::bigint FROM transfers r WHERE r.pending_id = p.hold_transfer_id) AS posted
         FROM pledges p WHERE p.mission_id = $1`,
      [id],
    );
    let captured = 0;
    for (const p of rows) {
      const expected = captureOf(m.state as never, p.amount, m.failure_keep_bps);
      expect(p).toMatchObject({ resolutions: 1, captured_amount: expected, posted: expected });
      expect(p.status).toBe(expected === p.amount ? 'CAPTURED' : expected === 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED');
      captured += expected;
    }
    const paid = await one<{ payout: number; fee: number }>(
      db,
      `SELECT coalesce(sum(amount) FILTER (WHERE code = 'streamer_payout'), 0)::bigint AS payout,
              coalesce(sum(amount) FILTER (WHERE code = 'platform_fee'), 0)::bigint AS fee
         FROM transfers WHERE mission_id = $1`,
      [id],
    );
    const split = feeSplit(captured, FEE_BPS);
    expect(paid).toEqual({ payout: split.streamer, fee: split.fee });
    streamerTotal += split.streamer;
  }
  return streamerTotal;
}

/** What each backer has been charged for, from the pledges table. */
async function expectWalletsWhole() {
  for (const b of backers) {
    const spent = await one<{ n: number }>(t.db.pools.funding, 'SELECT coalesce(sum(captured_amount), 0)::bigint AS n FROM pledges WHERE backer_id = $1', [b.id]);
    expect(await api.wallet(b)).toMatchObject({ available: CHARGED - spent.n, held: 0 });
  }
}

describe('two settlement workers at once', () => {
  it('settles each pledge exactly once, whoever gets there first', async () => {
    const ended: string[] = [];
    const outcomes = ['SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED', 'cancel', 'reject'] as const;
    for (const outcome of outcomes) {
      const id = await missionWithPledges('settle_ch', 30);
      if (outcome === 'reject') expect((await action(id, 'reject')).status).toBe(200);
      else {
        expect((await action(id, 'accept')).status).toBe(200);
        const r = outcome === 'cancel' ? await action(id, 'cancel') : await action(id, 'decision', { outcome });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
      ended.push(id);
    }
    // Jobs exist once the events are through (the relay may be publishing on its own too).
    await eventually(async () => {
      while ((await t.ml.relay!.runOnce()) > 0);
      return (await one(t.db.pools.funding, 'SELECT count(*)::int AS n FROM settlement_jobs WHERE done_at IS NULL')).n === ended.length;
    });

    const drain = async (w: NonNullable<MissionLink['settlement']>) => {
      while (await w.runOnce());
    };
    const [a, b] = [t.ml.settlement!, other.settlement!];
    // Job loops of both workers, and both settling every mission directly
    // (as if their leases had run out), all at once.
    const results = await Promise.all([
      drain(a),
      drain(b),
      ...ended.flatMap((id) => [a.settle(id), b.settle(id), a.settle(id)]),
    ]);
    for (const r of results.slice(2)) expect(['settled', 'already', 'busy']).toContain(r);
    await settleEverything(t);

    const streamerTotal = await expectSettledOnce(ended);
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toMatchObject({ settled: streamerTotal });
    await expectWalletsWhole();
    await expectBooksBalance();
  });
});

describe('expiry with one-second windows', () => {
  it('refuses late pledges before the sweeper ran, then expires and refunds everything', async () => {
    // A proposal nobody accepts within its one-second window.
    const proposal = await missionWithPledges('quick_ch', 3);
    // An accepted mission with a two-second deadline that nobody decides.
    const active = await missionWithPledges('settle_ch', 3, 2);
    const acc = await action(active, 'accept');
    expect(acc.status).toBe(200);
    const deadline = Date.parse(acc.body.mission.deadline);
    const early = await pledge(backers[1]!, active, 1_500);
    expect(early.status).toBe(201);

    const acceptDeadline = Date.parse((await api.mission(proposal)).acceptDeadline);
    await sleep(Math.max(acceptDeadline, deadline) - Date.now() + 50);
    // The sweeper has not run: the rows still say PROPOSED / ACTIVE…
    expect((await api.mission(proposal)).state).toBe('PROPOSED');
    expect((await api.mission(active)).state).toBe('ACTIVE');
    // …but nothing is open any more.
    for (const id of [proposal, active]) {
      const late = await pledge(backers[2]!, id, 1_000);
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('MISSION_NOT_OPEN');
    }
    expect((await api.call('POST', `/api/v1/missions/${proposal}/accept`, quickStreamer)).body.code).toBe('ACCEPT_WINDOW_CLOSED');
    expect((await api.call('POST', `/api/v1/missions/${proposal}/reject`, quickStreamer)).body.code).toBe('ACCEPT_WINDOW_CLOSED');
    expect((await action(active, 'decision', { outcome: 'SUCCEEDED' })).body.code).toBe('DEADLINE_PASSED');
    expect((await action(active, 'cancel')).body.code).toBe('DEADLINE_PASSED');

    expect(await t.ml.sweeper!.runOnce()).toBeGreaterThanOrEqual(2);
    for (const id of [proposal, active]) expect((await api.mission(id)).state).toBe('EXPIRED');
    expect((await api.mission(active)).decidedAt).toBe(new Date(deadline).toISOString());
    await settleEverything(t);
    for (const id of [proposal, active]) {
      expect((await api.mission(id)).settledAt).not.toBeNull();
      const held = await one(t.db.pools.funding, `SELECT count(*) FILTER (WHERE status <> 'REFUNDED')::int AS n FROM pledges WHERE mission_id = $1`, [id]);
      expect(held.n).toBe(0);
    }
    await expectSettledOnce([proposal, active]);
    await expectWalletsWhole();
    await expectBooksBalance();
  });
});

describe('two sweepers at once', () => {
  it('expires each mission once and everything is refunded', async () => {
    const proposals = await Promise.all(Array.from({ length: 6 }, () => missionWithPledges('quick_ch', 4)));
    const actives: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await missionWithPledges('settle_ch', 4, 1 + (i % 2));
      expect((await action(id, 'accept')).status).toBe(200);
      actives.push(id);
    }
    const all = [...proposals, ...actives];
    const due = Math.max(...(await Promise.all(all.map(async (id) => {
      const m = await api.mission(id);
      return Date.parse(m.deadline ?? m.acceptDeadline);
    }))));
    await sleep(due - Date.now() + 50);

    const sweepers = [t.ml.sweeper!, other.sweeper!];
    const counts = await Promise.all([...sweepers, ...sweepers].map((s) => s.runOnce()));
    expect(counts.reduce((s, n) => s + n, 0)).toBe(all.length);
    for (const id of all) expect((await api.mission(id)).state).toBe('EXPIRED');

    // Both settlement workers too, each with its own relay and bus.
    await Promise.all([
      (async () => {
        while ((await other.relay!.runOnce()) > 0);
        while (await other.settlement!.runOnce());
      })(),
      settleEverything(t),
    ]);
    await settleEverything(t);
    expect(await expectSettledOnce(all)).toBe(0);
    await expectWalletsWhole();
    await expectBooksBalance();
  });
});
