// Spending guardrails (API.md Part 2): limits per KST day and month checked
// in the pledge writer's statement, raises that wait 24 hours, and
// self-exclusion from charges, proposals, pledges and bets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { verifyBooks } from '../missions/index.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let missionId: string;

const HANDLE = 'guard_ch';

beforeAll(async () => {
  t = await createTestApp();
  api = client(t.ml.http);
  streamer = await api.signUp('Streamer');
  await api.channel(streamer, HANDLE);
  const owner = await api.signUp('Owner');
  await api.charge(owner, 10_000);
  const p = await api.propose(owner, HANDLE, 1_000, 3600);
  missionId = p.body.mission.id;
  expect((await api.call('POST', `/api/v1/missions/${missionId}/accept`, streamer)).status).toBe(200);
});
afterAll(async () => t?.close());

async function viewer(cash = 500_000) {
  const v = await api.signUp('Viewer');
  await api.charge(v, Math.min(cash, 1_000_000));
  return v;
}
const pledge = (who: Caller, amount: number) => api.call('POST', `/api/v1/missions/${missionId}/pledges`, who, { amount });
const limits = (who: Caller) => api.call('GET', '/api/v1/me/limits', who);
const setLimits = (who: Caller, body: unknown) => api.call('PUT', '/api/v1/me/limits', who, body);

/** Moves a waiting raise's time into the past (what 24 hours would do). */
async function fastForward(who: Caller) {
  await t.db.pools.funding.query(`UPDATE spending_guards SET pending_effective_at = now() - interval '1 second' WHERE user_id = $1`, [who.id]);
}

describe('spending limits', () => {
  it('starts without limits, applies a lower limit at once and refuses what would pass it with 409', async () => {
    const v = await viewer();
    expect((await limits(v)).body).toEqual({ dailyPledgeLimit: null, monthlyPledgeLimit: null, pending: null, selfExcludedUntil: null });
    const set = await setLimits(v, { dailyPledgeLimit: 30_000, monthlyPledgeLimit: 100_000 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ dailyPledgeLimit: 30_000, monthlyPledgeLimit: 100_000, pending: null, selfExcludedUntil: null });
    expect((await pledge(v, 20_000)).status).toBe(201);
    const before = await api.wallet(v);
    const over = await pledge(v, 10_001);
    expect(over.status).toBe(409);
    expect(over.body.code).toBe('SPENDING_LIMIT_REACHED');
    expect(await api.wallet(v)).toEqual(before);
    expect((await pledge(v, 10_000)).status).toBe(201);
    expect((await pledge(v, 1_000)).body.code).toBe('SPENDING_LIMIT_REACHED');
    expect((await verifyBooks(t.db.pools.funding)).ok).toBe(true);
  });

  it('counts a proposal’s first pledge, and the month across days', async () => {
    const v = await viewer();
    await setLimits(v, { monthlyPledgeLimit: 50_000 });
    // 40,000 pledged earlier this month (moved to the month's first KST day).
    expect((await pledge(v, 40_000)).status).toBe(201);
    await t.db.pools.funding.query(`UPDATE spending_days SET day = date_trunc('month', now() AT TIME ZONE 'Asia/Seoul')::date WHERE user_id = $1`, [v.id]);
    const proposal = await api.propose(v, HANDLE, 20_000);
    expect(proposal.status).toBe(409);
    expect(proposal.body.code).toBe('SPENDING_LIMIT_REACHED');
    expect((await api.propose(v, HANDLE, 10_000)).status).toBe(201);
  });

  it('makes a raise or a removal wait 24 hours, and lets a lower value cancel it', async () => {
    const v = await viewer();
    await setLimits(v, { dailyPledgeLimit: 10_000 });
    const raised = await setLimits(v, { dailyPledgeLimit: 50_000 });
    expect(raised.body.dailyPledgeLimit).toBe(10_000);
    expect(raised.body.pending.dailyPledgeLimit).toBe(50_000);
    const wait = Date.parse(raised.body.pending.effectiveAt) - Date.now();
    expect(wait).toBeGreaterThan(23.9 * 3600_000);
    expect(wait).toBeLessThanOrEqual(24 * 3600_000);
    expect((await pledge(v, 20_000)).body.code).toBe('SPENDING_LIMIT_REACHED');

    await fastForward(v);
    expect((await limits(v)).body).toMatchObject({ dailyPledgeLimit: 50_000, pending: null });
    expect((await pledge(v, 20_000)).status).toBe(201);

    const removed = await setLimits(v, { dailyPledgeLimit: null });
    expect(removed.body).toMatchObject({ dailyPledgeLimit: 50_000, pending: { dailyPledgeLimit: null } });
    const kept = await setLimits(v, { dailyPledgeLimit: 50_000 });
    expect(kept.body).toMatchObject({ dailyPledgeLimit: 50_000, pending: null });
    await setLimits(v, { dailyPledgeLimit: null });
    await fastForward(v);
    expect((await limits(v)).body).toMatchObject({ dailyPledgeLimit: null, pending: null });
    expect((await pledge(v, 60_000)).status).toBe(201);
  });

  it('refuses bad limits with 400 and changes nothing', async () => {
    const v = await viewer();
    await setLimits(v, { dailyPledgeLimit: 10_000 });
    for (const body of [{ dailyPledgeLimit: 0 }, { dailyPledgeLimit: -5 }, { dailyPledgeLimit: 1.5 }, { dailyPledgeLimit: '10' }, { weeklyPledgeLimit: 5 }, []]) {
      const r = await setLimits(v, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await limits(v)).body).toMatchObject({ dailyPledgeLimit: 10_000, pending: null });
    expect((await api.call('GET', '/api/v1/me/limits', null)).status).toBe(401);
  });

  it('counts the month’s pledges made before the first limit was set', async () => {
    const v = await viewer();
    expect((await pledge(v, 30_000)).status).toBe(201);
    expect((await api.propose(v, HANDLE, 5_000)).status).toBe(201);
    await setLimits(v, { dailyPledgeLimit: 40_000 });
    expect((await pledge(v, 5_001)).body.code).toBe('SPENDING_LIMIT_REACHED');
    expect((await pledge(v, 5_000)).status).toBe(201);
    const { rows } = await t.db.pools.funding.query<{ amount: string }>('SELECT sum(amount) AS amount FROM spending_days WHERE user_id = $1', [v.id]);
    expect(Number(rows[0]!.amount)).toBe(40_000);
  });

  it('never lets concurrent pledges pass a limit together', async () => {
    const v = await viewer();
    await setLimits(v, { dailyPledgeLimit: 25_000 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => pledge(v, 5_000)));
    const ok = answers.filter((r) => r.status === 201).length;
    expect(ok).toBe(5);
    expect(answers.filter((r) => r.status === 409 && r.body.code === 'SPENDING_LIMIT_REACHED')).toHaveLength(15);
    expect((await api.wallet(v)).held).toBe(25_000);
    expect((await verifyBooks(t.db.pools.funding)).ok).toBe(true);
  });
});

describe('self-exclusion', () => {
  it('refuses charges, proposals, pledges and bets with 403 SELF_EXCLUDED, and cannot be shortened', async () => {
    const v = await viewer();
    const ex = await api.call('POST', '/api/v1/me/self-exclusion', v, { days: 7 });
    expect(ex.status).toBe(200);
    const until = Date.parse(ex.body.selfExcludedUntil);
    expect(until - Date.now()).toBeGreaterThan(6.99 * 24 * 3600_000);
    const before = await api.wallet(v);
    for (const r of [
      await api.call('POST', '/api/v1/wallet/charges', v, { amount: 10_000 }),
      await api.propose(v, HANDLE, 5_000),
      await pledge(v, 5_000),
      await api.call('POST', `/api/v1/missions/${missionId}/prediction/bets`, v, { side: 'SUCCEEDED', points: 10 }),
    ]) {
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('SELF_EXCLUDED');
    }
    expect(await api.wallet(v)).toEqual(before);
    const shorter = await api.call('POST', '/api/v1/me/self-exclusion', v, { days: 1 });
    expect(Date.parse(shorter.body.selfExcludedUntil)).toBe(until);
    const longer = await api.call('POST', '/api/v1/me/self-exclusion', v, { days: 30 });
    expect(Date.parse(longer.body.selfExcludedUntil)).toBeGreaterThan(until);
    for (const days of [0, 366, 1.5, '7']) expect((await api.call('POST', '/api/v1/me/self-exclusion', v, { days })).status).toBe(400);
    // Once it ends, everything works again.
    await t.db.pools.funding.query(`UPDATE spending_guards SET self_excluded_until = now() - interval '1 second' WHERE user_id = $1`, [v.id]);
    expect((await limits(v)).body.selfExcludedUntil).toBeNull();
    expect((await pledge(v, 5_000)).status).toBe(201);
  });
});
