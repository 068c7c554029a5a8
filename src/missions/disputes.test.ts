// Proof, dispute window and review (API.md Part 2, "Outcomes backers can
// trust"), end to end over HTTP on real PostgreSQL with every worker running:
// decisions with proof and note, CONFIRMING with nothing captured, disputes
// (who, when, once), the threshold → IN_REVIEW, the admin's resolve, windows
// ended by the sweeper on time and exactly once (also by a second sweeper or
// one started after the window ended), predictions and result mails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { mailboxOf, plainText, rawMails, verifyEmail } from '../../test/support/mail.ts';
import { MissionExpirer, verifyBooks } from './index.ts';
import { reachesThreshold } from './disputes.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let viewer: Caller;
let backer: Caller;
let stranger: Caller;
let ops: Caller;
const HANDLE = 'dispute_ch';

beforeAll(async () => {
  t = await createTestApp({ MIN_WINDOW_SECONDS: '1', ADMIN_EMAILS: 'disputes-admin@example.kr' });
  api = client(t.ml.http);
  [streamer, viewer, backer, stranger] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer'), api.signUp('Backer'), api.signUp('Stranger')]);
  await api.channel(streamer, HANDLE, { failureKeepBps: 1000 });
  await Promise.all([api.charge(viewer, 500_000), api.charge(backer, 500_000), api.charge(stranger, 100_000)]);
  const reg = await api.call('POST', '/api/v1/auth/register', null, { email: 'disputes-admin@example.kr', password: 'a long password', displayName: 'Ops' });
  const login = await api.call('POST', '/api/v1/auth/login', null, { email: 'disputes-admin@example.kr', password: 'a long password' });
  ops = { token: login.body.accessToken, id: reg.body.user.id, email: 'disputes-admin@example.kr' };
  await verifyEmail(t.ml.http, mailboxOf(t), ops);
});
afterAll(async () => t?.close());

async function window(seconds: number, thresholdBps = 3000) {
  const r = await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, { settings: { disputeWindowSeconds: seconds, disputeThresholdBps: thresholdBps } });
  expect(r.status).toBe(200);
  expect(r.body.channel.settings).toMatchObject({ disputeWindowSeconds: seconds, disputeThresholdBps: thresholdBps });
}

/** An ACTIVE mission: the viewer's proposal of `first`, the backer's pledges of `more`. */
async function activeMission(first = 10_000, ...more: number[]): Promise<string> {
  const p = await api.propose(viewer, HANDLE, first);
  expect(p.status).toBe(201);
  const id = p.body.mission.id as string;
  for (const amount of more) expect((await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount })).status).toBe(201);
  expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
  return id;
}

const settled = (id: string, ms = 10_000) =>
  eventually(async () => {
    const m = await api.mission(id);
    return m.settledAt ? m : undefined;
  }, ms);

const topicsOf = async (id: string) =>
  (await t.db.pools.funding.query<{ topic: string }>('SELECT topic FROM outbox WHERE key = $1 ORDER BY created_at, id', [id])).rows.map((r) => r.topic);

/** missionlink_disputes_total by result, from this process's /metrics. */
async function disputeCounts(): Promise<Record<string, number>> {
  const text = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).body;
  return Object.fromEntries([...text.matchAll(/^missionlink_disputes_total\{result="(\w+)"\} (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

const mailsAbout = async (title: string, n: number) =>
  eventually(async () => {
    const mails = (await rawMails(mailboxOf(t))).map(plainText).filter((m) => m.includes(title));
    return mails.length >= n ? mails : undefined;
  });

describe('channel settings', () => {
  it('default to no window and a 30 % threshold, and refuse values out of range with 400', async () => {
    const ch = (await api.call('GET', `/api/v1/channels/${HANDLE}`)).body.channel;
    expect(ch.settings).toMatchObject({ disputeWindowSeconds: 0, disputeThresholdBps: 3000 });
    for (const settings of [
      { disputeWindowSeconds: -1 }, { disputeWindowSeconds: 86_401 }, { disputeWindowSeconds: 1.5 }, { disputeWindowSeconds: '60' },
      { disputeThresholdBps: 0 }, { disputeThresholdBps: 10_001 }, { disputeThresholdBps: null },
    ]) {
      const r = await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, { settings });
      expect(r.status, JSON.stringify(settings)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    await window(86_400, 10_000);
    await window(0, 1);
    await window(0, 3000);
  });

  it('refuse a window below MIN_WINDOW_SECONDS (other than 0)', async () => {
    const strict = await createTestApp({ MIN_WINDOW_SECONDS: '60' });
    try {
      const a = client(strict.ml.http);
      const s = await a.signUp('Strict');
      expect((await a.call('POST', '/api/v1/channels', s, { handle: 'strict_ch', displayName: 'x', settings: { disputeWindowSeconds: 59 } })).status).toBe(400);
      const ok = await a.call('POST', '/api/v1/channels', s, { handle: 'strict_ch', displayName: 'x', settings: { disputeWindowSeconds: 60 } });
      expect(ok.status).toBe(201);
      expect(ok.body.channel.settings.disputeWindowSeconds).toBe(60);
    } finally {
      await strict.close();
    }
  });
});

describe('decisions with proof', () => {
  it('refuse a bad proofUrl or note with 400 and change nothing', async () => {
    const id = await activeMission();
    for (const body of [
      { outcome: 'SUCCEEDED', proofUrl: 'http://example.com/clip' },
      { outcome: 'SUCCEEDED', proofUrl: 'javascript:alert(1)' },
      { outcome: 'SUCCEEDED', proofUrl: 'not a url' },
      { outcome: 'SUCCEEDED', proofUrl: `https://example.com/${'a'.repeat(490)}` },
      { outcome: 'SUCCEEDED', proofUrl: 'https://example.com/a b' },
      { outcome: 'SUCCEEDED', note: 'x'.repeat(501) },
      { outcome: 'SUCCEEDED', note: 'evil \u202Egnp.exe' },
      { outcome: 'SUCCEEDED', note: 'bell \u0007' },
      { outcome: 'SUCCEEDED', proof: 'https://example.com' },
    ]) {
      const r = await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await api.mission(id)).state).toBe('ACTIVE');
  });

  it('without a window behave as in Part 1, with the proof shown', async () => {
    const id = await activeMission(10_000);
    const dec = await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED', proofUrl: 'https://clips.example.com/1', note: '보스 클리어!' });
    expect(dec.status).toBe(200);
    expect(dec.body.mission).toMatchObject({
      state: 'SUCCEEDED', proposedOutcome: null, disputeEndsAt: null, disputedAmount: null, proofUrl: 'https://clips.example.com/1', note: '보스 클리어!',
    });
    await settled(id);
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, viewer, { reason: 'late' })).body.code).toBe('MISSION_NOT_CONFIRMING');
    // Without proof and note both are null.
    const plain = await activeMission(10_000);
    const d2 = await api.call('POST', `/api/v1/missions/${plain}/decision`, streamer, { outcome: 'FAILED' });
    expect(d2.body.mission).toMatchObject({ state: 'FAILED', proofUrl: null, note: null, disputedAmount: null });
  });
});

describe('the dispute window', () => {
  it('holds the money while CONFIRMING, takes disputes once from backers only, then settles the proposed outcome within 5 s', async () => {
    await window(3);
    const id = await activeMission(10_000, 20_000, 5_000); // viewer 10,000; backer 25,000; pledged 35,000
    // A bettor on each side (points only).
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, stranger, { side: 'SUCCEEDED', points: 100 })).status).toBe(201);
    const before = { viewer: await api.wallet(viewer), backer: await api.wallet(backer) };
    const dec = await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED', proofUrl: 'https://clips.example.com/boss', note: 'VOD 12:34' });
    expect(dec.status).toBe(200);
    const m = dec.body.mission;
    expect(m).toMatchObject({ state: 'CONFIRMING', proposedOutcome: 'SUCCEEDED', disputedAmount: 0, proofUrl: 'https://clips.example.com/boss', note: 'VOD 12:34', settledAt: null });
    expect(Date.parse(m.disputeEndsAt) - Date.parse(m.decidedAt)).toBe(3000);

    // Nothing captured yet; pledges, bets, decisions and cancellation closed.
    expect(await api.wallet(backer)).toEqual(before.backer);
    expect((await api.call('GET', '/api/v1/streamer/earnings', streamer)).body).toMatchObject({ settled: expect.any(Number), pending: expect.any(Number) });
    expect((await api.call('POST', `/api/v1/missions/${id}/pledges`, backer, { amount: 1_000 })).body.code).toBe('MISSION_NOT_OPEN');
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, backer, { side: 'FAILED', points: 10 })).body.code).toBe('PREDICTION_LOCKED');
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`)).body.state).toBe('LOCKED');
    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'FAILED' })).body.code).toBe('MISSION_ALREADY_DECIDED');
    expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).body.code).toBe('MISSION_NOT_ACTIVE');
    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).body.code).toBe('MISSION_NOT_PROPOSED');

    // Who may dispute: backers only (403 whatever the state), once each; bad reasons are 400.
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, null, { reason: 'x' })).status).toBe(401);
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, stranger, { reason: 'I only bet' })).body.code).toBe('NOT_A_BACKER');
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, streamer, { reason: 'mine' })).body.code).toBe('NOT_A_BACKER');
    for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 'a\u2066b' }, { reason: 'ok', extra: 1 }]) {
      expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, viewer, body)).status, JSON.stringify(body)).toBe(400);
    }
    // 10,000 of 35,000 = 28.6 %: below the 30 % threshold.
    const counted = await disputeCounts();
    expect(Object.keys(counted).sort()).toEqual(['cancelled', 'escalated', 'failed', 'filed', 'succeeded']);
    const d = await api.call('POST', `/api/v1/missions/${id}/disputes`, viewer, { reason: '클립이 편집됐어요' });
    expect(d.status).toBe(201);
    expect(d.body.dispute).toMatchObject({ reason: '클립이 편집됐어요', amount: 10_000, id: expect.any(String), createdAt: expect.any(String) });
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, viewer, { reason: 'again' })).body.code).toBe('ALREADY_DISPUTED');
    expect(await api.mission(id)).toMatchObject({ state: 'CONFIRMING', disputedAmount: 10_000 });
    // Counted once, as filed (the refused second dispute is not).
    expect(await disputeCounts()).toEqual({ ...counted, filed: counted.filed! + 1 });
    // Live: the window and the dispute are public state events (overlays, channel pages).
    const live = await eventually(async () => {
      const { rows } = await t.db.pools.funding.query<{ data: Record<string, unknown> }>(
        `SELECT data FROM live_events WHERE mission_id = $1 AND type = 'state' ORDER BY seq`, [id]);
      return rows.some((r) => r.data.disputedAmount === 10_000) ? rows.map((r) => r.data) : undefined;
    });
    expect(live).toEqual(expect.arrayContaining([
      expect.objectContaining({ state: 'CONFIRMING', proposedOutcome: 'SUCCEEDED', disputeEndsAt: m.disputeEndsAt }),
      expect.objectContaining({ state: 'CONFIRMING', disputedAmount: 10_000 }),
    ]));
    // The owner sees the disputes; nobody else does.
    const list = await api.call('GET', `/api/v1/missions/${id}/disputes`, streamer);
    expect(list.body).toMatchObject({ items: [{ reason: '클립이 편집됐어요', amount: 10_000, backerName: 'Viewer' }], nextCursor: null });
    expect((await api.call('GET', `/api/v1/missions/${id}/disputes`, viewer)).status).toBe(403);

    // The window ends: SUCCEEDED within 5 s after disputeEndsAt, decidedAt unchanged.
    const done = await settled(id, 12_000);
    expect(done).toMatchObject({ state: 'SUCCEEDED', decidedAt: m.decidedAt, proposedOutcome: 'SUCCEEDED', disputedAmount: 10_000 });
    const ended = await t.db.pools.funding.query<{ at: Date }>(
      `SELECT created_at AS at FROM outbox WHERE key = $1 AND topic = 'mission.decided'`, [id]);
    expect(ended.rows).toHaveLength(1);
    expect(ended.rows[0]!.at.getTime() - Date.parse(m.disputeEndsAt)).toBeLessThan(5000);
    expect(ended.rows[0]!.at.getTime()).toBeGreaterThanOrEqual(Date.parse(m.disputeEndsAt));
    expect(await topicsOf(id)).toEqual(expect.arrayContaining(['mission.confirming', 'mission.disputed', 'mission.decided', 'mission.settled', 'prediction.resolved']));
    expect(await api.wallet(backer)).toMatchObject({ available: before.backer.available, held: before.backer.held - 25_000 });
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`, stranger)).body).toMatchObject({ state: 'RESOLVED', myBet: { side: 'SUCCEEDED', payout: 100 } });
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, backer, { reason: 'late' })).body.code).toBe('MISSION_NOT_CONFIRMING');
    // Settlement's lag counts from the window's end, not from the decision 3 s earlier (alerts fire above 30 s).
    const metrics = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).body;
    const lag = (series: string) => Number(new RegExp(`^missionlink_settlement_lag_seconds_${series}\\} (\\S+)`, 'm').exec(metrics)?.[1]);
    const all = lag('count{outcome="SUCCEEDED"');
    expect(all).toBeGreaterThanOrEqual(1);
    expect(lag('bucket{le="2.5",outcome="SUCCEEDED"'), 'every SUCCEEDED settlement within 2.5 s of its final outcome').toBe(all);

    // Each backer's result mail names the proof, the note and the disputes.
    const mails = await mailsAbout('VOD 12:34', 2);
    expect(mails).toHaveLength(2);
    for (const text of mails) {
      expect(text).toContain('https://clips.example.com/boss');
      expect(text).toContain('10,000');
      expect(text).toContain('below the review threshold');
    }
    expect((await verifyBooks(t.db.pools.funding)).problems).toEqual([]);
  });

  it('goes to IN_REVIEW when disputes reach the threshold, and settles as the admin resolves it', async () => {
    await window(600);
    const id = await activeMission(10_000, 20_000);
    await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, stranger, { side: 'FAILED', points: 50 });
    const dec = await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED', note: 'trust me (review case)' });
    expect(dec.body.mission.state).toBe('CONFIRMING');
    // 20,000 of 30,000 ≥ 30 %: in review at once.
    const counted = await disputeCounts();
    const d = await api.call('POST', `/api/v1/missions/${id}/disputes`, backer, { reason: 'did not happen' });
    expect(d.status).toBe(201);
    expect(d.body.dispute.amount).toBe(20_000);
    expect(await api.mission(id)).toMatchObject({ state: 'IN_REVIEW', disputedAmount: 20_000, settledAt: null });
    expect((await api.call('POST', `/api/v1/missions/${id}/disputes`, viewer, { reason: 'too' })).body.code).toBe('MISSION_NOT_CONFIRMING');
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`)).body.state).toBe('LOCKED');
    expect(await disputeCounts()).toEqual({ ...counted, escalated: counted.escalated! + 1 });

    // The review queue and the resolve are for admins only.
    expect((await api.call('GET', '/api/v1/ops/missions?state=IN_REVIEW', streamer)).status).toBe(403);
    expect((await api.call('GET', '/api/v1/ops/missions?state=IN_REVIEW')).status).toBe(401);
    expect((await api.call('POST', `/api/v1/ops/missions/${id}/resolve`, streamer, { outcome: 'FAILED' })).status).toBe(403);
    const queue = await api.call('GET', '/api/v1/ops/missions?state=IN_REVIEW', ops);
    expect(queue.status).toBe(200);
    expect(queue.body.items.map((m: { id: string }) => m.id)).toContain(id);
    expect(queue.body.items.every((m: { state: string }) => m.state === 'IN_REVIEW')).toBe(true);
    expect((await api.call('GET', '/api/v1/ops/missions?state=BOGUS', ops)).status).toBe(400);
    expect((await api.call('GET', `/api/v1/ops/missions/${id}/disputes`, ops)).body.items).toMatchObject([{ reason: 'did not happen', backerName: 'Backer' }]);
    expect((await api.call('POST', `/api/v1/ops/missions/${id}/resolve`, ops, { outcome: 'EXPIRED' })).status).toBe(400);
    expect((await api.call('POST', '/api/v1/ops/missions/00000000-0000-7000-8000-000000000000/resolve', ops, { outcome: 'FAILED' })).status).toBe(404);
    // Nothing moves while it waits, even long after the deadline.
    await t.ml.sweeper!.runOnce();
    expect((await api.mission(id)).state).toBe('IN_REVIEW');

    const w0 = await api.wallet(backer);
    const r = await api.call('POST', `/api/v1/ops/missions/${id}/resolve`, ops, { outcome: 'FAILED' });
    expect(r.status).toBe(200);
    expect(r.body.mission).toMatchObject({ state: 'FAILED', decidedAt: dec.body.mission.decidedAt, proposedOutcome: 'SUCCEEDED' });
    expect((await api.call('POST', `/api/v1/ops/missions/${id}/resolve`, ops, { outcome: 'SUCCEEDED' })).body.code).toBe('MISSION_NOT_IN_REVIEW');
    // The resolution is counted by its outcome; the refused second one is not.
    expect(await disputeCounts()).toEqual({ ...counted, escalated: counted.escalated! + 1, failed: counted.failed! + 1 });
    await settled(id);
    // FAILED with failureKeepBps 1000: the backer gets 20,000 − 2,000 back.
    expect(await api.wallet(backer)).toMatchObject({ available: w0.available + 18_000, held: w0.held - 20_000 });
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`, stranger)).body).toMatchObject({ state: 'RESOLVED', myBet: { side: 'FAILED', payout: 50 } });
    expect(await topicsOf(id)).toEqual(expect.arrayContaining(['mission.confirming', 'mission.in_review', 'mission.decided', 'mission.settled']));
    const mails = await mailsAbout('trust me (review case)', 2);
    for (const text of mails) expect(text).toContain('an operator reviewed it');
    expect((await verifyBooks(t.db.pools.funding)).problems).toEqual([]);
  });

  it('lets an admin cancel a disputed mission: everything is refunded', async () => {
    await window(600, 1);
    const id = await activeMission(10_000, 5_000);
    await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'FAILED' });
    await api.call('POST', `/api/v1/missions/${id}/disputes`, viewer, { reason: 'I made it!' });
    expect((await api.mission(id)).state).toBe('IN_REVIEW');
    const w0 = await api.wallet(viewer);
    expect((await api.call('POST', `/api/v1/ops/missions/${id}/resolve`, ops, { outcome: 'CANCELLED' })).body.mission.state).toBe('CANCELLED');
    await settled(id);
    expect(await api.wallet(viewer)).toMatchObject({ available: w0.available + 10_000, held: w0.held - 10_000 });
  });

  it('ends a window exactly once with several sweepers, a late starter and a dispute racing the end', async () => {
    await window(1, 10_000);
    const ids = [await activeMission(10_000, 5_000), await activeMission(10_000, 5_000), await activeMission(10_000, 5_000)];
    for (const id of ids) expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).body.mission.state).toBe('CONFIRMING');
    const endsAt = Date.parse((await api.mission(ids[0]!)).disputeEndsAt);
    await new Promise((r) => setTimeout(r, Math.max(0, endsAt - Date.now() - 20)));
    // Sweepers of other processes (distributed mode: no MissionService, only the expirer), started now.
    const sweepers = [0, 1, 2].map(() => new MissionExpirer({ pool: t.db.pools.funding, eventsCommitted: () => undefined }));
    const results = await Promise.allSettled([
      ...ids.map((id) => api.call('POST', `/api/v1/missions/${id}/disputes`, backer, { reason: 'race' })),
      ...sweepers.map((s) => s.expireDue(new Date(endsAt + 1))),
      t.ml.sweeper!.runOnce(),
    ]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    for (const id of ids) {
      const m = await settled(id);
      const decided = (await topicsOf(id)).filter((x) => x === 'mission.decided');
      expect(decided, `mission ${id}`).toHaveLength(1);
      // One winner: the dispute came first (below threshold 100 %: still SUCCEEDED) or the end did (409).
      expect(m.state).toBe('SUCCEEDED');
    }
    for (const r of results.slice(0, ids.length)) {
      const d = (r as PromiseFulfilledResult<{ status: number; body: { code?: string } }>).value;
      expect([201, 409]).toContain(d.status);
      if (d.status === 409) expect(d.body.code).toBe('MISSION_NOT_CONFIRMING');
    }
    const mails = await eventually(async () => {
      const { rows } = await t.db.pools.funding.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE mission_id = ANY($1::uuid[])`, [ids]);
      return rows[0]!.n >= 6 ? rows[0]!.n : undefined;
    });
    expect(mails).toBe(6);
    expect((await verifyBooks(t.db.pools.funding)).problems).toEqual([]);
  });
});

describe('the prediction lock', () => {
  it('lets the owner close betting early; others get 403, unknown 404', async () => {
    await window(0);
    const id = await activeMission(10_000);
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, backer, { side: 'SUCCEEDED', points: 10 })).status).toBe(201);
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/lock`, viewer)).status).toBe(403);
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/lock`)).status).toBe(401);
    expect((await api.call('POST', '/api/v1/missions/00000000-0000-7000-8000-000000000000/prediction/lock', streamer)).status).toBe(404);
    const before = Date.now();
    const r = await api.call('POST', `/api/v1/missions/${id}/prediction/lock`, streamer);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'LOCKED', pools: { SUCCEEDED: 10, FAILED: 0 } });
    expect(Date.parse(r.body.locksAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(r.body.locksAt)).toBeLessThanOrEqual(Date.now());
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, backer, { side: 'SUCCEEDED', points: 10 })).body.code).toBe('PREDICTION_LOCKED');
    const again = await api.call('POST', `/api/v1/missions/${id}/prediction/lock`, streamer, {});
    expect(again.status).toBe(200);
    expect(again.body.locksAt).toBe(r.body.locksAt);
    expect(await topicsOf(id)).toContain('prediction.locked');
    // A proposal has no prediction yet.
    const proposal = (await api.propose(viewer, HANDLE, 5_000)).body.mission.id;
    expect((await api.call('POST', `/api/v1/missions/${proposal}/prediction/lock`, streamer)).status).toBe(404);
    // Resolved: 409.
    await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await settled(id);
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/lock`, streamer)).body.code).toBe('PREDICTION_LOCKED');
  });
});

describe('the threshold', () => {
  it('is reached when disputed × 10000 ≥ threshold × pledged, in integers', () => {
    expect(reachesThreshold(3_000, 10_000, 3000)).toBe(true);
    expect(reachesThreshold(2_999, 10_000, 3000)).toBe(false);
    expect(reachesThreshold(1, 10_000, 1)).toBe(true);
    expect(reachesThreshold(9_999, 10_000, 10_000)).toBe(false);
    expect(reachesThreshold(0, 0, 1)).toBe(false);
  });
});
