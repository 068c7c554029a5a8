// Races at the edges of Part 2's trust rules (API.md: "Outcomes backers can
// trust", "Per-backer choice on failure", "Per-unit missions"), with real
// concurrency against the file's own PostgreSQL: a dispute arriving as the
// dispute window ends, progress reported as the deadline passes, a decision
// racing the expiry, and choices on failure changed while the owner decides.
// Each race runs many times, at instants spread around the edge (requests go
// through HTTP, which reads its clock on arrival; the sweepers run as they
// would just after the edge). Each has one winner: the loser gets its
// catalogue 4xx; and after settlement every wallet, each streamer's earnings,
// every pledge's capture and the books are exactly what the winners imply —
// nothing lost, nothing counted twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks } from './index.ts';
import { MissionExpirer } from './expiry.ts';
import { openPool, type Pool } from '../platform/db.ts';
import { captureOf, feeSplit } from '../settlement/worker.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { settleEverything } from '../../test/support/money-workers.ts';

const FEE_BPS = 500;
const KEEP_BPS = 2_000;
const CHARGED = 1_000_000;
/** Missions per race (they race side by side, each at its own instant). */
const ROUNDS = 10;

let t: TestApp;
let api: ReturnType<typeof client>;
/** Another process's sweeper on its own connections. */
let otherPool: Pool;
let other: MissionExpirer;
let plainOwner: Caller;
let windowOwner: Caller;
let backers: Caller[];

/** Channels: no dispute window; a one-second window where a single dispute sends the mission to review. */
const PLAIN = 'trust_plain';
const WINDOW = 'trust_window';

beforeAll(async () => {
  t = await createTestApp({ MIN_WINDOW_SECONDS: '1', PLATFORM_FEE_BPS: String(FEE_BPS) }, { startWorkers: false });
  api = client(t.ml.http);
  otherPool = openPool({ url: t.db.urls.funding, name: 'funding-2', max: 5 });
  other = new MissionExpirer({ pool: otherPool, eventsCommitted: () => undefined });
  const users = await Promise.all(['Plain Owner', 'Window Owner', 'Ann', 'Ben', 'Cho'].map((n) => api.signUp(n)));
  [plainOwner, windowOwner] = [users[0]!, users[1]!];
  backers = users.slice(2);
  await api.channel(plainOwner, PLAIN, { failureKeepBps: KEEP_BPS });
  await api.channel(windowOwner, WINDOW, { failureKeepBps: KEEP_BPS, disputeWindowSeconds: 1, disputeThresholdBps: 1 });
  await Promise.all(backers.map((b) => api.charge(b, CHARGED)));
});
afterAll(async () => {
  await otherPool?.end();
  await t?.close();
});

// ---- what the races should have done, to compare with what they did ------------------
type Choice = 'REFUND' | 'DONATE';
interface Expected {
  id: string;
  owner: Caller;
  state: string;
  units: number;
  pledges: { id: string; backer: Caller; amount: number; unit: number | null; onFailure: Choice }[];
}
const expected: Expected[] = [];

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
/** Spreads the racers over −40 … +14 ms around the edge (a request needs a few ms to reach its transaction). */
const jitter = (i: number) => ((i * 7) % 55) - 40;
/** Between two missions' edges. */
const SPACING_MS = 120;
/** Sweeper passes just after `edge` (one of this process, one of another), by the real clock. */
const sweepAfter = async (edge: number) => {
  await sleepUntil(edge + 1);
  return Promise.all([t.ml.missions!.expireDue(new Date()), other.expireDue(new Date())]);
};
/** Runs `race` while the relay and the settlement worker run too (what is decided settles at once). */
async function withWorkers<T>(race: () => Promise<T>): Promise<T> {
  let done = false;
  const work = (async () => {
    while (!done) {
      const published = await t.ml.relay!.runOnce();
      const settled = await t.ml.settlement!.runOnce();
      if (!published && !settled) await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    return await race();
  } finally {
    done = true;
    await work;
  }
}
const refused = (r: { status: number; body: { code?: string } }) => `${r.status} ${r.body?.code ?? ''}`;
/** Who won how often, by race (RACE_STATS=1 prints them: each race should see both sides win). */
const wins = new Map<string, number>();
const won = (race: string, ...answers: { status: number; body: { code?: string } }[]) => {
  const key = `${race}: ${answers.map((a) => refused(a).trim()).join(', ')}`;
  wins.set(key, (wins.get(key) ?? 0) + 1);
};
afterAll(() => {
  if (process.env.RACE_STATS) console.log([...wins].sort().map(([k, v]) => `${v}\t${k}`).join('\n'));
});

/**
 * Missions of `owner`'s channel, each with a pledge of every backer (`donate`:
 * which of them give everything on failure), accepted together at the end,
 * so that their deadlines (`durationSeconds` later) fall close together.
 */
async function activeMissions(
  n: number,
  channel: (i: number) => { handle: string; owner: Caller },
  durationSeconds: number,
  opts: { unit?: number; donate?: (i: number) => boolean[] } = {},
): Promise<(Expected & { deadline: number })[]> {
  const drafts = await Promise.all(
    Array.from({ length: n }, async (_, i): Promise<Expected> => {
      const { handle, owner } = channel(i);
      const { unit } = opts;
      const donate = opts.donate?.(i) ?? [];
      const choice = (k: number): Choice => (donate[k] ? 'DONATE' : 'REFUND');
      const perUnit = (k: number) => 1_000 * (k + 1);
      const hold = (k: number) => perUnit(k) * (unit ?? 1);
      const [first, ...rest] = backers;
      const body = { title: `Race ${i} on ${handle}`, amount: perUnit(0), durationSeconds, onFailure: choice(0), ...(unit ? { unit: { label: 'rounds', maxUnits: unit } } : {}) };
      const p = await api.call('POST', `/api/v1/channels/${handle}/missions`, first, body);
      expect(p.status, JSON.stringify(p.body)).toBe(201);
      const id = p.body.mission.id as string;
      const firstId = (await api.call('GET', `/api/v1/missions/${id}/pledges`)).body.items[0].id as string;
      const pledges: Expected['pledges'] = [{ id: firstId, backer: first!, amount: hold(0), unit: unit ? perUnit(0) : null, onFailure: choice(0) }];
      for (const [k, b] of rest.entries()) {
        const r = await api.call('POST', `/api/v1/missions/${id}/pledges`, b, { amount: perUnit(k + 1), onFailure: choice(k + 1) });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        pledges.push({ id: r.body.pledge.id, backer: b, amount: hold(k + 1), unit: unit ? perUnit(k + 1) : null, onFailure: choice(k + 1) });
      }
      return { id, owner, state: 'ACTIVE', units: 0, pledges };
    }),
  );
  expected.push(...drafts);
  // A tenth of a second apart: each race is run by its own racers and sweepers.
  const accepted: (Expected & { deadline: number })[] = [];
  for (const m of drafts) {
    const started = Date.now();
    const acc = await api.call('POST', `/api/v1/missions/${m.id}/accept`, m.owner);
    expect(acc.status).toBe(200);
    accepted.push({ ...m, deadline: Date.parse(acc.body.mission.deadline) });
    await sleepUntil(started + SPACING_MS);
  }
  return accepted;
}

const plain = () => ({ handle: PLAIN, owner: plainOwner });
const windowed = () => ({ handle: WINDOW, owner: windowOwner });
const either = (i: number) => (i % 2 ? windowed() : plain());

/**
 * Settles everything, then compares every mission, pledge, wallet and
 * streamer with what the winners of the races imply, and verifies the books.
 */
async function expectExactly() {
  // Windows and deadlines that ended while a racer held the row end now (and windows opened by the races, when they end).
  await eventually(async () => {
    while ((await t.ml.missions!.expireDue(new Date())) > 0);
    const { rows } = await t.db.pools.funding.query<{ n: number }>(`SELECT count(*)::int AS n FROM missions WHERE state = 'CONFIRMING'`);
    return rows[0]!.n === 0;
  }, 10_000, 100);
  await settleEverything(t);
  const spent = new Map<string, number>();
  const earned = new Map<string, number>();
  for (const m of expected) {
    const got = (await api.call('GET', `/api/v1/missions/${m.id}`)).body.mission;
    expect({ state: got.state, settled: got.settledAt !== null, units: got.unit?.units ?? 0 }, `mission ${m.id}`).toEqual({ state: m.state, settled: true, units: m.units });
    const rows = (
      await t.db.pools.funding.query<{ id: string; on_failure: string; captured_amount: number; resolutions: number }>(
        `SELECT p.id, p.on_failure, p.captured_amount::int,
                (SELECT count(*)::int FROM transfers r WHERE r.pending_id = p.hold_transfer_id) AS resolutions
           FROM pledges p WHERE p.mission_id = $1`,
        [m.id],
      )
    ).rows;
    expect(rows).toHaveLength(m.pledges.length);
    let captured = 0;
    for (const p of m.pledges) {
      const c = captureOf(m.state as never, p.unit === null ? p.amount : p.unit * m.units, KEEP_BPS, p.onFailure);
      expect(rows.find((r) => r.id === p.id), `pledge ${p.id} of mission ${m.id} (${m.state})`).toEqual({ id: p.id, on_failure: p.onFailure, captured_amount: c, resolutions: 1 });
      spent.set(p.backer.id, (spent.get(p.backer.id) ?? 0) + c);
      captured += c;
    }
    earned.set(m.owner.id, (earned.get(m.owner.id) ?? 0) + feeSplit(captured, FEE_BPS).streamer);
    // One ending, one settlement.
    const { rows: events } = await t.db.pools.funding.query<{ topic: string; n: number }>(
      `SELECT topic, count(*)::int AS n FROM outbox WHERE key = $1 AND topic IN ('mission.decided', 'mission.expired', 'mission.settled') GROUP BY topic`,
      [m.id],
    );
    expect(events.reduce((s, e) => s + e.n, 0), `endings and settlements of ${m.id}`).toBe(2);
  }
  for (const b of backers) expect(await api.wallet(b), b.email).toMatchObject({ available: CHARGED - (spent.get(b.id) ?? 0), held: 0 });
  for (const owner of [plainOwner, windowOwner])
    expect((await api.call('GET', '/api/v1/streamer/earnings', owner)).body).toMatchObject({ settled: earned.get(owner.id) ?? 0, pending: 0 });
  const report = await verifyBooks(t.db.pools.funding);
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

describe('one winner at each edge', () => {
  it('a dispute arriving as the dispute window ends: in review (201) or the decision stands (409 MISSION_NOT_CONFIRMING)', async () => {
    const missions = await activeMissions(ROUNDS, windowed, 600);
    // Decided a little apart, so that each window ends on its own.
    const decided: { proposed: string; endsAt: number }[] = [];
    for (const [i, m] of missions.entries()) {
      const started = Date.now();
      const dec = await api.call('POST', `/api/v1/missions/${m.id}/decision`, windowOwner, { outcome: i % 2 ? 'FAILED' : 'SUCCEEDED' });
      expect(dec.body.mission).toMatchObject({ state: 'CONFIRMING' });
      decided.push({ proposed: dec.body.mission.proposedOutcome, endsAt: Date.parse(dec.body.mission.disputeEndsAt) });
      await sleepUntil(started + SPACING_MS);
    }
    const tally: Record<string, number> = {};
    await Promise.all(
      missions.map(async (m, i) => {
        const { proposed, endsAt } = decided[i]!;
        await sleepUntil(endsAt + jitter(i));
        const disputer = m.pledges[1]!.backer;
        const [dispute] = await Promise.all([api.call('POST', `/api/v1/missions/${m.id}/disputes`, disputer, { reason: 'the clip was cut' }), sweepAfter(endsAt)]);
        const e = expected.find((x) => x.id === m.id)!;
        if (dispute.status === 201) {
          // A single dispute reaches the 1 bps threshold: the review waits for an admin.
          expect(dispute.body.dispute.amount).toBe(m.pledges[1]!.amount);
          expect((await api.mission(m.id)).state).toBe('IN_REVIEW');
          const resolution = i % 3 === 0 ? 'CANCELLED' : i % 3 === 1 ? 'FAILED' : 'SUCCEEDED';
          expect((await t.ml.missions!.resolveReview(disputer.id, m.id, resolution, new Date())).mission.state).toBe(resolution);
          e.state = resolution;
        } else {
          expect(refused(dispute)).toBe('409 MISSION_NOT_CONFIRMING');
          e.state = proposed;
        }
        tally[`${dispute.status}`] = (tally[`${dispute.status}`] ?? 0) + 1;
        won('dispute', dispute);
        const { rows } = await t.db.pools.funding.query<{ n: number }>('SELECT count(*)::int AS n FROM mission_disputes WHERE mission_id = $1', [m.id]);
        expect(rows[0]!.n).toBe(dispute.status === 201 ? 1 : 0);
      }),
    );
    expect(Object.values(tally).reduce((s, n) => s + n, 0)).toBe(ROUNDS);
    await expectExactly();
  });

  it('progress reported as the deadline passes: counted before the owner’s decision (200), or refused once the deadline passed (409)', async () => {
    const missions = await activeMissions(ROUNDS, plain, 1, { unit: 5 });
    await Promise.all(
      missions.map(async (m, i) => {
        await sleepUntil(m.deadline + jitter(i));
        const [progress] = await Promise.all([api.call('POST', `/api/v1/missions/${m.id}/progress`, plainOwner, { units: 3 }), sweepAfter(m.deadline)]);
        // The owner decides at once after the report (the Studio's "done" button).
        const decision = await api.call('POST', `/api/v1/missions/${m.id}/decision`, plainOwner, { outcome: 'SUCCEEDED' });
        won('progress, decision', progress, decision);
        const e = expected.find((x) => x.id === m.id)!;
        if (progress.status === 200) {
          expect(progress.body.mission.unit.units).toBe(3);
          e.units = 3;
        } else expect(['409 DEADLINE_PASSED', '409 MISSION_ALREADY_ENDED']).toContain(refused(progress));
        if (decision.status === 200) {
          // The decision saw the deadline ahead of it, so the report did too.
          expect(progress.status).toBe(200);
          e.state = 'SUCCEEDED';
        } else {
          expect(['409 DEADLINE_PASSED', '409 MISSION_ALREADY_DECIDED']).toContain(refused(decision));
          e.state = 'EXPIRED';
        }
      }),
    );
    await expectExactly();
  });

  it('a decision racing the expiry: decided (200, CONFIRMING behind a window) or expired (409), never both', async () => {
    // One backer of each mission gives everything if it fails.
    const missions = await activeMissions(ROUNDS, either, 1, { donate: () => [false, false, true] });
    await withWorkers(() =>
      Promise.all(
        missions.map(async (m, i) => {
          await sleepUntil(m.deadline + jitter(i));
          const [decision] = await Promise.all([api.call('POST', `/api/v1/missions/${m.id}/decision`, m.owner, { outcome: 'FAILED' }), sweepAfter(m.deadline)]);
          won(`decision (${m.owner === windowOwner ? 'window' : 'no window'})`, decision);
          const e = expected.find((x) => x.id === m.id)!;
          const now = (await api.mission(m.id)).state as string;
          if (decision.status === 200) {
            // Behind a window the decision waits in CONFIRMING (unless a sweeper already ended its one-second window).
            expect(m.owner === windowOwner ? ['CONFIRMING', 'FAILED'] : ['FAILED']).toContain(now);
            e.state = 'FAILED';
          } else {
            expect(['409 DEADLINE_PASSED', '409 MISSION_ALREADY_DECIDED']).toContain(refused(decision));
            // Refused, so it expires: at once when a sweeper pass came first; otherwise at the
            // next pass (the passes above can run a moment early: a timer may fire up to a
            // millisecond before its time, and the deadline has microseconds).
            if (now !== 'EXPIRED') {
              expect(now).toBe('ACTIVE');
              await eventually(async () => {
                await t.ml.missions!.expireDue(new Date());
                return (await api.mission(m.id)).state === 'EXPIRED';
              });
            }
            e.state = 'EXPIRED';
          }
        }),
      ),
    );
    await expectExactly();
  });

  it('choices on failure changed while the owner decides: each change is in (200) or refused (409 MISSION_NOT_OPEN), and settles so', async () => {
    // Half start as DONATE and change back to REFUND.
    const missions = await activeMissions(ROUNDS, either, 600, { donate: (i) => [i % 4 >= 2, i % 4 >= 2, i % 4 >= 2] });
    await withWorkers(() =>
      Promise.all(
        missions.map(async (m, i) => {
          const e = expected.find((x) => x.id === m.id)!;
          const to: Choice = i % 4 >= 2 ? 'REFUND' : 'DONATE';
          const decideAt = Date.now() + 50;
          const changes = m.pledges.map((p, k) => ({ p, k, at: decideAt + jitter(i + k) }));
          const [decision, ...answers] = await Promise.all([
            sleepUntil(decideAt).then(() => api.call('POST', `/api/v1/missions/${m.id}/decision`, m.owner, { outcome: 'FAILED' })),
            ...changes.map(({ p, at }) => sleepUntil(at).then(() => api.call('PATCH', `/api/v1/pledges/${p.id}`, p.backer, { onFailure: to }))),
          ]);
          expect(decision.status).toBe(200);
          won('choice changes', ...answers);
          e.state = 'FAILED';
          for (const [k, a] of answers.entries()) {
            if (a.status === 200) {
              expect(a.body.pledge.onFailure).toBe(to);
              e.pledges[k]!.onFailure = to;
            } else expect(refused(a)).toBe('409 MISSION_NOT_OPEN');
          }
          // Once decided (CONFIRMING too) the choices are final.
          const late = await api.call('PATCH', `/api/v1/pledges/${m.pledges[0]!.id}`, m.pledges[0]!.backer, { onFailure: to === 'DONATE' ? 'REFUND' : 'DONATE' });
          expect(refused(late)).toBe('409 MISSION_NOT_OPEN');
        }),
      ),
    );
    await expectExactly();
  });
});
