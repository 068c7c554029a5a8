// What a pledge carries beyond its amount (API.md Part 2): each backer's
// choice on failure, per-unit missions with their progress, messages with the
// channel's blocked words masked, and the channel's block list.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOf } from '../settlement/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { verifyBooks } from './index.ts';
import { maskBlockedWords } from './messages.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let a: Caller;
let b: Caller;
let c: Caller;

const HANDLE = 'terms_ch';

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  [streamer, a, b, c] = await Promise.all([api.signUp('Streamer'), api.signUp('Ann'), api.signUp('Ben'), api.signUp('Cho')]);
  await api.channel(streamer, HANDLE, { failureKeepBps: 1000 });
  await Promise.all([a, b, c].map((who) => api.charge(who, 500_000)));
});
afterAll(async () => t?.close());

async function settled(id: string) {
  return eventually(async () => {
    const m = await api.mission(id);
    return m.settledAt ? m : undefined;
  });
}

async function proposeAccepted(body: Record<string, unknown>) {
  const p = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, a, { title: 'Win three rounds', durationSeconds: 600, ...body });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  const acc = await api.call('POST', `/api/v1/missions/${p.body.mission.id}/accept`, streamer);
  expect(acc.status).toBe(200);
  return p.body.mission as { id: string };
}

describe('each backer’s choice on failure', () => {
  it('captures DONATE pledges whole on failure and keeps the channel’s share of REFUND ones; the backer may change it while open', async () => {
    const m = await proposeAccepted({ amount: 10_000, onFailure: 'DONATE' });
    const pb = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, b, { amount: 20_000 });
    expect(pb.status).toBe(201);
    expect(pb.body.pledge).toMatchObject({ amount: 20_000, onFailure: 'REFUND', message: null });
    const pc = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, c, { amount: 30_000, onFailure: 'DONATE' });
    expect(pc.body.pledge.onFailure).toBe('DONATE');

    // Cho changes their mind; Ben may not change Cho's pledge; nonsense is a 400.
    expect((await api.call('PATCH', `/api/v1/pledges/${pc.body.pledge.id}`, b, { onFailure: 'REFUND' })).status).toBe(403);
    expect((await api.call('PATCH', `/api/v1/pledges/${pc.body.pledge.id}`, c, { onFailure: 'KEEP' })).status).toBe(400);
    expect((await api.call('PATCH', '/api/v1/pledges/not-a-pledge', c, { onFailure: 'REFUND' })).status).toBe(404);
    const changed = await api.call('PATCH', `/api/v1/pledges/${pc.body.pledge.id}`, c, { onFailure: 'REFUND' });
    expect(changed.status).toBe(200);
    expect(changed.body.pledge).toMatchObject({ id: pc.body.pledge.id, onFailure: 'REFUND', amount: 30_000, status: 'HELD' });
    // "My pledges" shows each choice (the web app's toggle starts from it).
    const mine = (await api.call('GET', '/api/v1/me/pledges', c)).body.items as { pledgeId: string; onFailure: string }[];
    expect(mine.find((p) => p.pledgeId === pc.body.pledge.id)?.onFailure).toBe('REFUND');

    const before = { a: await api.wallet(a), b: await api.wallet(b), c: await api.wallet(c) };
    expect((await api.call('POST', `/api/v1/missions/${m.id}/decision`, streamer, { outcome: 'FAILED' })).status).toBe(200);
    await settled(m.id);
    // Ann donates 10,000 whole; Ben and Cho get back all but 10 %.
    expect((await api.wallet(a)).available - before.a.available).toBe(0);
    expect((await api.wallet(b)).available - before.b.available).toBe(18_000);
    expect((await api.wallet(c)).available - before.c.available).toBe(27_000);
    const list = (await api.call('GET', `/api/v1/missions/${m.id}/pledges`)).body.items as { onFailure: string; status: string; amount: number }[];
    expect(list.map((p) => [p.amount, p.onFailure, p.status]).sort()).toEqual([
      [10_000, 'DONATE', 'CAPTURED'],
      [20_000, 'REFUND', 'PARTIALLY_REFUNDED'],
      [30_000, 'REFUND', 'PARTIALLY_REFUNDED'],
    ]);
    // Once decided the choice is final.
    const late = await api.call('PATCH', `/api/v1/pledges/${pb.body.pledge.id}`, b, { onFailure: 'DONATE' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('MISSION_NOT_OPEN');
    expect((await verifyBooks(t.db.pools.funding)).ok).toBe(true);
  });

  it('settles each pledge by the choice that won the race with the decision: one winner, nothing lost', async () => {
    for (let round = 0; round < 4; round++) {
      const m = await proposeAccepted({ amount: 10_000 });
      const pledges = await Promise.all([b, c].map(async (who) => (await api.call('POST', `/api/v1/missions/${m.id}/pledges`, who, { amount: 10_000 })).body.pledge.id as string));
      const [changeB, decision, changeC] = await Promise.all([
        api.call('PATCH', `/api/v1/pledges/${pledges[0]}`, b, { onFailure: 'DONATE' }),
        api.call('POST', `/api/v1/missions/${m.id}/decision`, streamer, { outcome: 'FAILED' }),
        api.call('PATCH', `/api/v1/pledges/${pledges[1]}`, c, { onFailure: 'DONATE' }),
      ]);
      expect(decision.status).toBe(200);
      await settled(m.id);
      const list = (await api.call('GET', `/api/v1/missions/${m.id}/pledges`)).body.items as { id: string; onFailure: string; status: string }[];
      for (const [n, change] of [changeB, changeC].entries()) {
        const p = list.find((x) => x.id === pledges[n])!;
        // Either the change came first (200, DONATE, captured whole) or after the decision (409, REFUND, 10 % kept).
        if (change.status === 200) expect([p.onFailure, p.status]).toEqual(['DONATE', 'CAPTURED']);
        else {
          expect(change.body.code).toBe('MISSION_NOT_OPEN');
          expect([p.onFailure, p.status]).toEqual(['REFUND', 'PARTIALLY_REFUNDED']);
        }
      }
    }
    expect((await verifyBooks(t.db.pools.funding)).ok).toBe(true);
  });

  it('follows one rule for every outcome, choice and amount (captureOf)', () => {
    fc.assert(
      fc.property(fc.constantFrom('SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'), fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 5000 }), fc.constantFrom('REFUND', 'DONATE'), (state, earned, bps, choice) => {
        const got = captureOf(state as never, earned, bps, choice as never);
        expect(Number.isSafeInteger(got)).toBe(true);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBeLessThanOrEqual(earned);
        if (state === 'SUCCEEDED' || (state === 'FAILED' && choice === 'DONATE')) expect(got).toBe(earned);
        else if (state === 'FAILED') expect(got).toBe(Math.floor((earned * bps) / 10_000));
        else expect(got).toBe(0);
      }),
    );
  });
});

describe('per-unit missions', () => {
  it('holds amount × maxUnits, counts progress monotonically and captures amount × units', async () => {
    const body = { amount: 1_000, unit: { label: '킬', maxUnits: 30 } };
    const m = await proposeAccepted(body);
    expect(await api.mission(m.id)).toMatchObject({ unit: { label: '킬', maxUnits: 30, units: 0 }, pledgedAmount: 30_000 });
    const pb = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, b, { amount: 500, onFailure: 'DONATE' });
    expect(pb.status).toBe(201);
    expect(pb.body.pledge.amount).toBe(500);
    const bw = await api.wallet(b);
    expect(bw.held).toBeGreaterThanOrEqual(15_000);
    // The channel's bounds hold for the hold: 40,000 × 30 is over the 1,000,000 maximum, said per unit.
    const big = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, c, { amount: 40_000 });
    expect(big.status).toBe(400);
    expect(big.body.errors[0]).toMatchObject({ path: 'amount', message: 'must be between 34 and 33333' });

    const report = (units: unknown, who = streamer) => api.call('POST', `/api/v1/missions/${m.id}/progress`, who, { units });
    // Reports racing each other: the counter only goes up, and ends at the highest.
    const raced = await Promise.all([3, 1, 2].map((u) => report(u)));
    expect(raced.every((r) => r.status === 200 || r.body.code === 'PROGRESS_NOT_MONOTONIC')).toBe(true);
    expect((await api.mission(m.id)).unit.units).toBe(3);
    expect((await report(5, b)).status).toBe(403);
    expect((await report(31)).status).toBe(400);
    expect((await report(-1)).status).toBe(400);
    expect((await report(1.5)).status).toBe(400);
    const r12 = await report(12);
    expect(r12.status).toBe(200);
    expect(r12.body.mission.unit).toEqual({ label: '킬', maxUnits: 30, units: 12 });
    expect((await report(12)).status).toBe(200);
    const back = await report(11);
    expect(back.status).toBe(409);
    expect(back.body.code).toBe('PROGRESS_NOT_MONOTONIC');

    const before = { a: await api.wallet(a), b: await api.wallet(b) };
    const earnings0 = (await api.call('GET', '/api/v1/streamer/earnings', streamer)).body.settled as number;
    expect((await api.call('POST', `/api/v1/missions/${m.id}/decision`, streamer, { outcome: 'FAILED' })).status).toBe(200);
    await settled(m.id);
    // Ann (REFUND): earned 12,000, the channel keeps 10 % of it = 1,200; 28,800 back.
    // Ben (DONATE): earned 6,000, captured whole; 9,000 back.
    expect((await api.wallet(a)).available - before.a.available).toBe(28_800);
    expect((await api.wallet(b)).available - before.b.available).toBe(9_000);
    const earned = (await api.call('GET', '/api/v1/streamer/earnings', streamer)).body.settled - earnings0;
    // 7,200 captured, minus the platform fee (5 %) = 6,840.
    expect(earned).toBe(7_200 - Math.floor(7_200 * 0.05));
    expect((await verifyBooks(t.db.pools.funding)).ok).toBe(true);
  });

  it('refuses progress on a plain mission and before acceptance, and validates the unit', async () => {
    const plain = await proposeAccepted({ amount: 5_000 });
    expect((await api.call('POST', `/api/v1/missions/${plain.id}/progress`, streamer, { units: 1 })).status).toBe(400);
    for (const unit of [{ label: '', maxUnits: 3 }, { label: 'x'.repeat(21), maxUnits: 3 }, { label: 'kills', maxUnits: 0 }, { label: 'kills', maxUnits: 1001 }, { label: 'kills' }]) {
      const r = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, a, { title: 'T', durationSeconds: 600, amount: 1_000, unit });
      expect(r.status, JSON.stringify(unit)).toBe(400);
    }
    const proposed = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, a, { title: 'T', durationSeconds: 600, amount: 1_000, unit: { label: 'kills', maxUnits: 3 } });
    const early = await api.call('POST', `/api/v1/missions/${proposed.body.mission.id}/progress`, streamer, { units: 1 });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('MISSION_NOT_ACTIVE');
  });
});

describe('messages and the block list', () => {
  it('masks the channel’s blocked words in messages and shows them in the pledge list', async () => {
    const patch = await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, { settings: { blockedWords: ['바보', 'BadWord'] } });
    expect(patch.status).toBe(200);
    expect(patch.body.channel.settings.blockedWords).toEqual(['바보', 'BadWord']);
    const m = await proposeAccepted({ amount: 5_000, message: '화이팅!' });
    const p = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, b, { amount: 5_000, message: 'you 바보, such a badword' });
    expect(p.status).toBe(201);
    expect(p.body.pledge.message).toBe('you **, such a *******');
    const list = (await api.call('GET', `/api/v1/missions/${m.id}/pledges`)).body.items as { message: string }[];
    expect(list.map((x) => x.message).sort()).toEqual(['you **, such a *******', '화이팅!']);
    for (const message of ['x'.repeat(201), 'bidi \u202E override', 'nul \u0000']) {
      expect((await api.call('POST', `/api/v1/missions/${m.id}/pledges`, b, { amount: 5_000, message })).status).toBe(400);
    }
    const words = await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, { settings: { blockedWords: ['x'.repeat(41)] } });
    expect(words.status).toBe(400);
  });

  it('lets the channel owner hide a message, and tells live streams about messages, hiding and progress', async () => {
    const m = await proposeAccepted({ amount: 3_000, unit: { label: 'kills', maxUnits: 3 } });
    const p = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, b, { amount: 2_000, message: 'go go go' });
    expect(p.status).toBe(201);
    const id = p.body.pledge.id as string;
    expect((await api.call('POST', `/api/v1/pledges/${id}/hide-message`, b)).status).toBe(403);
    expect((await api.call('POST', '/api/v1/pledges/nope/hide-message', streamer)).status).toBe(404);
    expect((await api.call('POST', `/api/v1/pledges/${id}/hide-message`, streamer)).status).toBe(204);
    expect((await api.call('POST', `/api/v1/pledges/${id}/hide-message`, streamer)).status).toBe(204);
    const list = (await api.call('GET', `/api/v1/missions/${m.id}/pledges`)).body.items as { id: string; message: string | null }[];
    expect(list.find((x) => x.id === id)!.message).toBeNull();
    expect((await api.call('POST', `/api/v1/missions/${m.id}/progress`, streamer, { units: 2 })).status).toBe(200);

    const live = await eventually(async () => {
      const { rows } = await t.db.pools.funding.query<{ type: string; data: Record<string, unknown> }>('SELECT type, data FROM live_events WHERE mission_id = $1 ORDER BY seq', [m.id]);
      return rows.some((r) => r.type === 'progress') && rows.some((r) => r.type === 'moderation') ? rows : undefined;
    });
    expect(live.find((r) => r.type === 'pledge' && r.data.pledgeId === id)!.data).toMatchObject({ amount: 2_000, message: 'go go go' });
    expect(live.find((r) => r.type === 'moderation')!.data).toEqual({ missionId: m.id, pledgeId: id, messageHidden: true });
    expect(live.find((r) => r.type === 'progress')!.data).toEqual({ missionId: m.id, units: 2, maxUnits: 3, label: 'kills' });
    // One moderation event, however often it is hidden.
    expect(live.filter((r) => r.type === 'moderation')).toHaveLength(1);
  });

  it('refuses a blocked user’s proposals, pledges and bets with 403 BLOCKED_BY_CHANNEL, and only the owner manages the list', async () => {
    const m = await proposeAccepted({ amount: 5_000 });
    expect((await api.call('POST', `/api/v1/channels/${HANDLE}/blocks`, b, { userId: c.id })).status).toBe(403);
    expect((await api.call('POST', `/api/v1/channels/${HANDLE}/blocks`, streamer, { userId: 'nope' })).status).toBe(400);
    expect((await api.call('POST', `/api/v1/channels/${HANDLE}/blocks`, streamer, { userId: c.id })).status).toBe(204);
    expect((await api.call('POST', `/api/v1/channels/${HANDLE}/blocks`, streamer, { userId: c.id })).status).toBe(204);
    const listed = await api.call('GET', `/api/v1/channels/${HANDLE}/blocks`, streamer);
    expect(listed.body.items.map((x: { userId: string }) => x.userId)).toEqual([c.id]);
    // Named, so the owner sees whom they blocked.
    expect(listed.body.items[0].displayName).toBe('Cho');
    expect((await api.call('GET', `/api/v1/channels/${HANDLE}/blocks`, c)).status).toBe(403);

    const before = await api.wallet(c);
    const pledge = await api.call('POST', `/api/v1/missions/${m.id}/pledges`, c, { amount: 5_000 });
    expect(pledge.status).toBe(403);
    expect(pledge.body.code).toBe('BLOCKED_BY_CHANNEL');
    const proposal = await api.propose(c, HANDLE, 5_000);
    expect(proposal.status).toBe(403);
    expect(proposal.body.code).toBe('BLOCKED_BY_CHANNEL');
    const bet = await api.call('POST', `/api/v1/missions/${m.id}/prediction/bets`, c, { side: 'SUCCEEDED', points: 10 });
    expect(bet.status).toBe(403);
    expect(bet.body.code).toBe('BLOCKED_BY_CHANNEL');
    expect(await api.wallet(c)).toEqual(before);

    expect((await api.call('DELETE', `/api/v1/channels/${HANDLE}/blocks/${c.id}`, streamer)).status).toBe(204);
    expect((await api.call('POST', `/api/v1/missions/${m.id}/pledges`, c, { amount: 5_000 })).status).toBe(201);
  });

  it('masks every occurrence of every word, whatever the case, and nothing else (maskBlockedWords)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 4 }), (message, words) => {
        const out = maskBlockedWords(message, words);
        const chars = [...message];
        const outChars = [...out];
        expect(outChars).toHaveLength(chars.length);
        // Every character is kept or masked, and no blocked word is left (compared without case).
        outChars.forEach((ch, i) => expect(ch === chars[i] || ch === '*').toBe(true));
        for (const w of words) if (!w.includes('*')) expect(out.toLowerCase().includes(w.toLowerCase())).toBe(false);
      }),
    );
  });
});
