// Predictions under pressure: bets at the lock instant, redelivered and
// concurrent resolution, one-sided pools, the streamer, bad input, and a
// property test of random bets and outcomes. Points are conserved throughout:
// Σ wallets + Σ pools = Σ issued, and the ledger verifies.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from '../missions/index.ts'; // the ledger's checks and the pledge book's
import type { BusEvent } from '../platform/bus.ts';
import type { Pool } from '../platform/db.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';

const HANDLE = 'race_ch';
const BETTORS = 16;

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let proposer: Caller;
let bettors: Caller[];

beforeAll(async () => {
  // MIN_WINDOW_SECONDS=1 allows 2-second missions: locksAt = acceptedAt + 1 s.
  t = await createTestApp({ MIN_WINDOW_SECONDS: '1' });
  api = client(t.ml.http);
  [streamer, proposer, ...bettors] = await Promise.all([
    api.signUp('Streamer'),
    api.signUp('Proposer'),
    ...Array.from({ length: BETTORS }, (_, i) => api.signUp(`Bettor${i}`)),
  ]);
  await api.channel(streamer, HANDLE, { missionMinAmount: 1 });
  await api.charge(proposer, 1_000_000);
  // Touch every wallet once so its signup points exist before anything is counted.
  await Promise.all([streamer, proposer, ...bettors].map((u) => api.wallet(u)));
});
afterAll(async () => t?.close());

// ---- helpers ----------------------------------------------------------------

async function activeMission(durationSeconds = 3_600, app = api) {
  const p = await app.propose(proposer, HANDLE, 1_000, durationSeconds);
  expect(p.status).toBe(201);
  const id = p.body.mission.id as string;
  const acc = await app.call('POST', `/api/v1/missions/${id}/accept`, streamer);
  expect(acc.status).toBe(200);
  return { id, acceptedAt: new Date(acc.body.mission.acceptedAt as string) };
}

const bet = (who: Caller, id: string, side: string, points: unknown, headers: Record<string, string> = {}, app = api) =>
  app.call('POST', `/api/v1/missions/${id}/prediction/bets`, who, { side, points }, headers);

async function settledMission(id: string, app = api) {
  return eventually(async () => {
    const m = await app.mission(id);
    return m.settledAt ? m : undefined;
  });
}

/** Points of every user wallet, every prediction pool, and all ever issued. */
async function pointsBooks(pool: Pool) {
  const { rows } = await pool.query<{ code: string; balance: number; issued: number }>(
    `SELECT code, sum(credits_posted - debits_posted - debits_pending)::bigint AS balance, sum(debits_posted)::bigint AS issued
       FROM accounts WHERE ledger = 'POINTS' GROUP BY code`,
  );
  const of = (code: string) => rows.find((r) => r.code === code);
  return {
    wallets: Number(of('user_wallet')?.balance ?? 0),
    pools: Number(of('prediction_pool')?.balance ?? 0),
    issued: Number(of('points_issuer')?.issued ?? 0),
  };
}

async function expectConserved(pool: Pool) {
  const books = await pointsBooks(pool);
  expect(books.wallets + books.pools).toBe(books.issued);
  const report = await verifyLedger(pool);
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  return books;
}

async function points(users: Caller[], app = api) {
  return Promise.all(users.map(async (u) => (await app.wallet(u)).points));
}

async function stakes(pool: Pool, missionId: string) {
  const { rows } = await pool.query<{ user_id: string; side: string; points: number; payout: number | null }>(
    'SELECT user_id, side, points, payout FROM prediction_stakes WHERE mission_id = $1',
    [missionId],
  );
  return new Map(rows.map((r) => [r.user_id, r]));
}

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

// ---- the lock instant -------------------------------------------------------

describe('a bet at the lock instant', () => {
  it.each([
    ['decided at the lock instant', 'decide'],
    ['expired by the sweeper', 'expire'],
  ] as const)('is in the pool or refunded, never lost (%s)', async (_name, end) => {
    const before = await points(bettors);
    const { id, acceptedAt } = await activeMission(2);
    const view = await api.call('GET', `/api/v1/missions/${id}/prediction`);
    const locksAt = new Date(view.body.locksAt as string).getTime();
    expect(locksAt).toBe(acceptedAt.getTime() + 1_000);

    // Bets from -300 ms to +300 ms around locksAt, each with an Idempotency-Key.
    const fired = bettors.map(async (u, i) => {
      const at = locksAt - 300 + Math.round((600 * i) / (BETTORS - 1));
      await sleepUntil(at);
      const side = i % 2 ? 'SUCCEEDED' : 'FAILED';
      const key = `lock-${id}-${i}`;
      const res = await bet(u, id, side, 10 + i, { 'idempotency-key': key });
      return { u, i, side, points: 10 + i, key, res };
    });
    // The decision races the bets at the very instant betting locks.
    const decision =
      end === 'decide'
        ? sleepUntil(locksAt).then(() => api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' }))
        : undefined;
    const results = await Promise.all(fired);
    if (decision) expect((await decision).status).toBe(200);

    for (const r of results) {
      expect([201, 409]).toContain(r.res.status);
      if (r.res.status === 409) expect(r.res.body.code).toBe('PREDICTION_LOCKED');
      else expect(new Date(r.res.body.bet.createdAt).getTime()).toBeLessThan(locksAt);
    }
    const accepted = results.filter((r) => r.res.status === 201);
    // The bets well before the lock got in; those well after it did not.
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(results.length);

    // A client that lost the answer retries with its key after the lock: it gets
    // the original answer back, never a second bet nor a "locked" for a bet that is in.
    for (const r of results) {
      const again = await bet(r.u, id, r.side, r.points, { 'idempotency-key': r.key });
      expect(again.status).toBe(r.res.status);
      if (r.res.status === 201) {
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.body).toEqual(r.res.body);
      }
    }

    const mission = await settledMission(id);
    expect(mission.state).toBe(end === 'decide' ? 'SUCCEEDED' : 'EXPIRED');
    const final = await api.call('GET', `/api/v1/missions/${id}/prediction`);
    const pool = accepted.reduce((s, r) => s + r.points, 0);
    expect(final.body.pools.SUCCEEDED + final.body.pools.FAILED).toBe(pool);

    const rows = await stakes(t.db.pools.funding, id);
    expect([...rows.values()].reduce((s, r) => s + r.points, 0)).toBe(pool);
    const winners = accepted.filter((r) => r.side === 'SUCCEEDED');
    const refund = end === 'expire' || winners.length === 0;
    expect(final.body.state).toBe(refund ? 'REFUNDED' : 'RESOLVED');
    expect([...rows.values()].reduce((s, r) => s + Number(r.payout), 0)).toBe(pool);

    const after = await points(bettors);
    for (const r of results) {
      const row = rows.get(r.u.id);
      if (r.res.status !== 201) {
        expect(row).toBeUndefined();
        expect(after[r.i]).toBe(before[r.i]);
        continue;
      }
      expect(row!.points).toBe(r.points);
      const payout = Number(row!.payout);
      if (refund) expect(payout).toBe(r.points);
      else if (r.side === 'FAILED') expect(payout).toBe(0);
      else {
        const total = winners.reduce((s, w) => s + w.points, 0);
        expect(payout).toBeGreaterThanOrEqual(Math.floor((pool * r.points) / total));
      }
      expect(after[r.i]).toBe(before[r.i]! - r.points + payout);
    }
    await expectConserved(t.db.pools.funding);
  });
});

// ---- resolution runs once ---------------------------------------------------

describe('resolution', () => {
  it('runs once when events are redelivered and settlement is called again', async () => {
    const { id } = await activeMission();
    const users = bettors.slice(0, 4);
    expect((await bet(users[0]!, id, 'SUCCEEDED', 100)).status).toBe(201);
    expect((await bet(users[1]!, id, 'FAILED', 300)).status).toBe(201);
    expect((await bet(users[2]!, id, 'SUCCEEDED', 50)).status).toBe(201);
    expect((await bet(users[3]!, id, 'FAILED', 7)).status).toBe(201);
    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'FAILED' })).status).toBe(200);
    await settledMission(id);
    const books = await expectConserved(t.db.pools.funding);
    const balances = await points(users);
    const payouts = await stakes(t.db.pools.funding, id);

    const { rows } = await t.db.pools.funding.query<{ id: string; topic: string; key: string; payload: Record<string, unknown>; created_at: Date }>(
      `SELECT id, topic, key, payload, created_at FROM outbox WHERE key = $1 AND topic IN ('mission.decided', 'mission.settled', 'prediction.resolved')`,
      [id],
    );
    expect(rows.map((r) => r.topic).sort()).toEqual(['mission.decided', 'mission.settled', 'prediction.resolved']);
    const events: BusEvent[] = rows.map((r) => ({ id: r.id, topic: r.topic, key: r.key, payload: r.payload, createdAt: r.created_at.toISOString() }));
    // Every event twice, concurrently, plus settle() called again, concurrently.
    await Promise.all([...events, ...events].map((e) => t.ml.bus.publish(e)));
    const again = await Promise.all([t.ml.settlement!.settle(id), t.ml.settlement!.settle(id)]);
    expect(again).toEqual(['already', 'already']);
    await new Promise((r) => setTimeout(r, 300));

    expect(await points(users)).toEqual(balances);
    expect(await stakes(t.db.pools.funding, id)).toEqual(payouts);
    expect(await expectConserved(t.db.pools.funding)).toEqual(books);
    const { rows: transfers } = await t.db.pools.funding.query<{ code: string; n: number }>(
      `SELECT code, count(*)::int AS n FROM transfers WHERE mission_id = $1 AND code LIKE 'prediction_%' GROUP BY code ORDER BY code`,
      [id],
    );
    // 4 bets, 2 winners paid; the gathers move the slots into slot 0 once.
    expect(Object.fromEntries(transfers.map((r) => [r.code, r.n]))).toMatchObject({ prediction_bet: 4, prediction_payout: 2 });
  });

  it('runs once when settlement runs concurrently from the start', async () => {
    // Workers stopped: this test alone drives settlement, several at once.
    const u = await createTestApp({}, { startWorkers: false });
    try {
      await u.ml.relay!.stop();
      const uapi = client(u.ml.http);
      const [s, p, ...us] = await Promise.all([uapi.signUp('S'), uapi.signUp('P'), ...Array.from({ length: 6 }, (_, i) => uapi.signUp(`U${i}`))]);
      await uapi.channel(s, 'solo_ch');
      await uapi.charge(p, 100_000);
      const m = await uapi.propose(p, 'solo_ch', 5_000);
      const id = m.body.mission.id as string;
      expect((await uapi.call('POST', `/api/v1/missions/${id}/accept`, s)).status).toBe(200);
      const before = await points(us, uapi);
      const sides = ['SUCCEEDED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'SUCCEEDED'];
      for (const [i, who] of us.entries()) expect((await bet(who, id, sides[i]!, 10 * (i + 1), {}, uapi)).status).toBe(201);
      expect((await uapi.call('POST', `/api/v1/missions/${id}/decision`, s, { outcome: 'SUCCEEDED' })).status).toBe(200);

      const results = await Promise.all(Array.from({ length: 5 }, () => u.ml.settlement!.settle(id)));
      expect(results.filter((r) => r === 'settled')).toHaveLength(1);
      // Redelivery of the decision after the fact: a job that finds the mission settled.
      const { rows } = await u.db.pools.funding.query<{ id: string; topic: string; key: string; payload: Record<string, unknown>; created_at: Date }>(
        `SELECT id, topic, key, payload, created_at FROM outbox WHERE key = $1 AND topic = 'mission.decided'`,
        [id],
      );
      const decided: BusEvent = { id: rows[0]!.id, topic: 'mission.decided', key: id, payload: rows[0]!.payload, createdAt: rows[0]!.created_at.toISOString() };
      await Promise.all([u.ml.bus.publish(decided), u.ml.bus.publish(decided)]);
      while (await u.ml.settlement!.runOnce());
      expect(await u.ml.settlement!.settle(id)).toBe('already');

      const pool = 10 + 20 + 30 + 40 + 50 + 60;
      const winners = [10, 30, 40, 60];
      const winTotal = winners.reduce((a, b) => a + b, 0);
      const after = await points(us, uapi);
      const paid = us.map((_, i) => after[i]! - before[i]! + 10 * (i + 1));
      expect(paid.reduce((a, b) => a + b, 0)).toBe(pool);
      for (const [i, side] of sides.entries()) {
        if (side === 'FAILED') expect(paid[i]).toBe(0);
        else expect(paid[i]).toBeGreaterThanOrEqual(Math.floor((pool * 10 * (i + 1)) / winTotal));
      }
      await expectConserved(u.db.pools.funding);
    } finally {
      await u.close();
    }
  });

  it('resolves predictions of two missions at once when they share bettors', async () => {
    // Two settlements paying the same wallets in opposite orders must not
    // deadlock (FAILED with nothing kept: no streamer or fee account to queue on).
    const u = await createTestApp({}, { startWorkers: false });
    try {
      await u.ml.relay!.stop();
      const uapi = client(u.ml.http);
      const [s, p, ...us] = await Promise.all([uapi.signUp('S'), uapi.signUp('P'), ...Array.from({ length: 12 }, (_, i) => uapi.signUp(`U${i}`))]);
      await uapi.channel(s, 'pair_ch');
      await uapi.charge(p, 100_000);
      const before = await points(us, uapi);
      for (let round = 0; round < 3; round++) {
        const ids: string[] = [];
        for (let k = 0; k < 2; k++) {
          const m = await uapi.propose(p, 'pair_ch', 1_000);
          ids.push(m.body.mission.id as string);
          expect((await uapi.call('POST', `/api/v1/missions/${ids[k]}/accept`, s)).status).toBe(200);
        }
        // Mission 0 sees the users in one order, mission 1 in the other; all win.
        for (const [i, who] of us.entries()) expect((await bet(who, ids[0]!, 'FAILED', 1 + i, {}, uapi)).status).toBe(201);
        for (const [i, who] of [...us.entries()].reverse()) expect((await bet(who, ids[1]!, 'FAILED', 1 + i, {}, uapi)).status).toBe(201);
        for (const id of ids) expect((await uapi.call('POST', `/api/v1/missions/${id}/decision`, s, { outcome: 'FAILED' })).status).toBe(200);
        expect(await Promise.all(ids.map((id) => u.ml.settlement!.settle(id)))).toEqual(['settled', 'settled']);
      }
      // Everyone bet alone on the winning side with everyone else: stakes come back.
      expect(await points(us, uapi)).toEqual(before);
      await expectConserved(u.db.pools.funding);
    } finally {
      await u.close();
    }
  });

  it('refunds every bet when nobody backed the winning side', async () => {
    const { id } = await activeMission();
    const users = bettors.slice(4, 8);
    const before = await points(users);
    for (const [i, who] of users.entries()) expect((await bet(who, id, 'FAILED', 25 * (i + 1))).status).toBe(201);
    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    await settledMission(id);
    expect(await points(users)).toEqual(before);
    const view = await api.call('GET', `/api/v1/missions/${id}/prediction`, users[2]);
    expect(view.body).toMatchObject({ state: 'REFUNDED', pools: { SUCCEEDED: 0, FAILED: 250 }, myBet: { side: 'FAILED', points: 75, payout: 75 } });
    await expectConserved(t.db.pools.funding);
  });
});

// ---- who may bet, and what --------------------------------------------------

describe('refused bets', () => {
  it('the streamer cannot bet on their own mission, whatever its state', async () => {
    const { id } = await activeMission(2);
    const [before] = await points([streamer]);
    const open = await bet(streamer, id, 'SUCCEEDED', 10);
    expect(open.status).toBe(403);
    expect(open.body.code).toBe('FORBIDDEN');
    await sleepUntil(Date.now() + 1_100); // now locked: still 403, not 409
    expect((await bet(streamer, id, 'SUCCEEDED', 10)).body.code).toBe('FORBIDDEN');
    expect(await points([streamer])).toEqual([before]);
  });

  it('keeps one side per user and never overdraws, under concurrent bets', async () => {
    const { id } = await activeMission();
    const [racer, spender] = [bettors[10]!, bettors[11]!];
    const [racerBefore, spenderBefore] = await points([racer, spender]);
    // Ten bets at once on alternating sides: one side wins, the rest of the other side is refused.
    const sides = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'SUCCEEDED' : 'FAILED'));
    const answers = await Promise.all(sides.map((side) => bet(racer, id, side, 7)));
    const ok = answers.filter((r) => r.status === 201);
    const side = ok[0]!.body.bet.side as string;
    for (const [i, r] of answers.entries()) {
      if (sides[i] === side) expect(r.status).toBe(201);
      else expect([r.status, r.body.code]).toEqual([409, 'SIDE_ALREADY_CHOSEN']);
    }
    expect(Math.max(...ok.map((r) => r.body.bet.totalPoints))).toBe(7 * ok.length);
    // Five bets of 300 at once with 1,000 points: three get in, two are refused.
    const spends = await Promise.all(Array.from({ length: 5 }, () => bet(spender, id, 'FAILED', 300)));
    expect(spends.map((r) => r.status).sort()).toEqual([201, 201, 201, 402, 402]);
    expect(await points([racer, spender])).toEqual([racerBefore! - 7 * ok.length, spenderBefore! - 900]);
    const view = await api.call('GET', `/api/v1/missions/${id}/prediction`, racer);
    expect(view.body.myBet).toMatchObject({ side, points: 7 * ok.length });
    expect(view.body.pools[side === 'FAILED' ? 'FAILED' : 'SUCCEEDED']).toBe(side === 'FAILED' ? 7 * ok.length + 900 : 7 * ok.length);
    expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).status).toBe(200);
    await settledMission(id);
    expect(await points([racer, spender])).toEqual([racerBefore, spenderBefore]);
    await expectConserved(t.db.pools.funding);
  });

  it('answers each kind of bad bet with its own problem and moves no points', async () => {
    const [user, other] = [bettors[8]!, bettors[9]!];
    const { id } = await activeMission();
    const { id: lockedId } = await activeMission(2);
    const proposed = (await api.propose(proposer, HANDLE, 1_000)).body.mission.id as string;
    const { id: resolvedId } = await activeMission();
    expect((await api.call('POST', `/api/v1/missions/${resolvedId}/decision`, streamer, { outcome: 'FAILED' })).status).toBe(200);
    const { id: refundedId } = await activeMission();
    expect((await api.call('POST', `/api/v1/missions/${refundedId}/cancel`, streamer)).status).toBe(200);
    await settledMission(resolvedId);
    await settledMission(refundedId);
    expect((await bet(user, id, 'FAILED', 5)).status).toBe(201); // the one legitimate bet: user is on FAILED
    await sleepUntil(Date.now() + 1_100);

    const booksBefore = await pointsBooks(t.db.pools.funding);
    const before = await points([user, other]);
    const poolsBefore = (await api.call('GET', `/api/v1/missions/${id}/prediction`)).body.pools;
    const url = (m: string) => `/api/v1/missions/${m}/prediction/bets`;
    const json = { 'content-type': 'application/json' };
    const raw = (m: string, payload: string, headers: Record<string, string> = json, who: Caller | null = user) =>
      t.ml.http.inject({ method: 'POST', url: url(m), payload, headers: { ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...headers } });

    type Case = [name: string, send: () => Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>, status: number, code: string, path?: string];
    const injectOf = (r: Awaited<ReturnType<typeof api.call>>) => ({ statusCode: r.status, headers: r.headers as Record<string, unknown>, body: JSON.stringify(r.body) });
    const via = (p: Promise<Awaited<ReturnType<typeof api.call>>>) => p.then(injectOf);
    const cases: Case[] = [
      ['unknown mission', () => via(bet(user, '0190a0a0-0000-7000-8000-000000000000', 'FAILED', 1)), 404, 'NOT_FOUND'],
      ['malformed mission id', () => via(bet(user, 'not-an-id', 'FAILED', 1)), 404, 'NOT_FOUND'],
      ['mission without a prediction (proposed)', () => via(bet(user, proposed, 'FAILED', 1)), 404, 'NOT_FOUND'],
      ['locked prediction', () => via(bet(user, lockedId, 'FAILED', 1)), 409, 'PREDICTION_LOCKED'],
      ['resolved prediction', () => via(bet(user, resolvedId, 'FAILED', 1)), 409, 'PREDICTION_LOCKED'],
      ['refunded prediction', () => via(bet(user, refundedId, 'FAILED', 1)), 409, 'PREDICTION_LOCKED'],
      ['negative points', () => via(bet(user, id, 'FAILED', -5)), 400, 'VALIDATION_FAILED', 'points'],
      ['zero points', () => via(bet(user, id, 'FAILED', 0)), 400, 'VALIDATION_FAILED', 'points'],
      ['fractional points', () => via(bet(user, id, 'FAILED', 1.5)), 400, 'VALIDATION_FAILED', 'points'],
      ['points as a string', () => via(bet(user, id, 'FAILED', '10')), 400, 'VALIDATION_FAILED', 'points'],
      ['points null', () => via(bet(user, id, 'FAILED', null)), 400, 'VALIDATION_FAILED', 'points'],
      ['points true', () => via(bet(user, id, 'FAILED', true)), 400, 'VALIDATION_FAILED', 'points'],
      ['points above the limit', () => via(bet(user, id, 'FAILED', 10_000_001)), 400, 'VALIDATION_FAILED', 'points'],
      ['points 1e21', () => via(bet(user, id, 'FAILED', 1e21)), 400, 'VALIDATION_FAILED', 'points'],
      ['points beyond 2^53', () => raw(id, '{"side":"FAILED","points":9007199254740993}'), 400, 'VALIDATION_FAILED', 'points'],
      ['points 1e400 (infinite)', () => raw(id, '{"side":"FAILED","points":1e400}'), 400, 'VALIDATION_FAILED', 'points'],
      ['points missing', () => raw(id, '{"side":"FAILED"}'), 400, 'VALIDATION_FAILED', 'points'],
      ['side missing', () => raw(id, '{"points":1}'), 400, 'VALIDATION_FAILED', 'side'],
      ['unknown side', () => via(bet(user, id, 'MAYBE', 1)), 400, 'VALIDATION_FAILED', 'side'],
      ['side in lower case', () => via(bet(user, id, 'failed', 1)), 400, 'VALIDATION_FAILED', 'side'],
      ['unknown field', () => raw(id, '{"side":"FAILED","points":1,"odds":2}'), 400, 'VALIDATION_FAILED'],
      ['body an array', () => raw(id, '[]'), 400, 'VALIDATION_FAILED'],
      ['no body', () => raw(id, ''), 400, 'VALIDATION_FAILED'],
      ['malformed JSON', () => raw(id, '{"side":"FAILED","points":'), 400, 'MALFORMED_JSON'],
      ['wrong content type', () => raw(id, 'side=FAILED&points=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['no token', () => raw(id, '{"side":"FAILED","points":1}', json, null), 401, 'UNAUTHENTICATED'],
      ['bad token', () => raw(id, '{"side":"FAILED","points":1}', { ...json, authorization: 'Bearer nope' }, null), 401, 'UNAUTHENTICATED'],
      ['bad idempotency key', () => via(bet(user, id, 'FAILED', 1, { 'idempotency-key': 'k'.repeat(256) })), 400, 'VALIDATION_FAILED', 'Idempotency-Key'],
      ['more points than held', () => via(bet(other, id, 'FAILED', 1_001)), 402, 'INSUFFICIENT_POINTS'],
      ['far more points than held', () => via(bet(other, id, 'SUCCEEDED', 10_000_000)), 402, 'INSUFFICIENT_POINTS'],
      ['the other side after choosing', () => via(bet(user, id, 'SUCCEEDED', 1)), 409, 'SIDE_ALREADY_CHOSEN'],
      ['the streamer', () => via(bet(streamer, id, 'FAILED', 1)), 403, 'FORBIDDEN'],
    ];
    const seen: string[] = [];
    for (const [name, send, status, code, path] of cases) {
      const res = await send();
      const body = JSON.parse(res.body);
      seen.push(`${name}: ${res.statusCode} ${body.code}`);
      expect(`${name}: ${res.statusCode} ${body.code}`).toBe(`${name}: ${status} ${code}`);
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
      expect(JSON.stringify(body)).not.toMatch(/stack|SELECT|INSERT|at .*\.ts/);
      if (path) expect(body.errors?.map((e: { path: string }) => e.path)).toContain(path);
    }

    // An idempotency key reused with another body.
    expect((await bet(other, id, 'SUCCEEDED', 3, { 'idempotency-key': 'reuse-1' })).status).toBe(201);
    const reused = await bet(other, id, 'SUCCEEDED', 4, { 'idempotency-key': 'reuse-1' });
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);

    // Nothing moved but that one bet of 3.
    expect(await points([user, other])).toEqual([before[0], before[1]! - 3]);
    expect((await api.call('GET', `/api/v1/missions/${id}/prediction`)).body.pools).toEqual({ ...poolsBefore, SUCCEEDED: poolsBefore.SUCCEEDED + 3 });
    const booksAfter = await pointsBooks(t.db.pools.funding);
    expect(booksAfter).toEqual({ ...booksBefore, wallets: booksBefore.wallets - 3, pools: booksBefore.pools + 3 });
    await expectConserved(t.db.pools.funding);
  });
});

// ---- random bets, random outcome --------------------------------------------

type Outcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

describe('random bets and outcomes (property)', () => {
  it('pays exactly the pool, at least the floor share, nothing to losers, or refunds every stake', async () => {
    const players = bettors.slice(10, 16);
    const betArb = fc.record({
      user: fc.integer({ min: 0, max: players.length - 1 }),
      side: fc.constantFrom('SUCCEEDED', 'FAILED'),
      points: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 80 }) }, { weight: 1, arbitrary: fc.integer({ min: 500, max: 1_500 }) }),
    });
    const outcomeArb = fc.constantFrom<Outcome>('SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED');
    await fc.assert(
      fc.asyncProperty(fc.array(betArb, { minLength: 0, maxLength: 12 }), outcomeArb, async (bets, outcome) => {
        const { id } = await activeMission();
        const start = await points(players);
        const balance = [...start];
        const chosen = new Map<number, { side: string; points: number }>();
        for (const b of bets) {
          const res = await bet(players[b.user]!, id, b.side, b.points);
          const mine = chosen.get(b.user);
          const expected = mine && mine.side !== b.side ? 409 : b.points > balance[b.user]! ? 402 : 201;
          expect(res.status).toBe(expected);
          if (res.status !== 201) {
            expect(res.body.code).toBe(expected === 409 ? 'SIDE_ALREADY_CHOSEN' : 'INSUFFICIENT_POINTS');
            continue;
          }
          balance[b.user]! -= b.points;
          chosen.set(b.user, { side: b.side, points: (mine?.points ?? 0) + b.points });
          expect(res.body.bet.totalPoints).toBe(chosen.get(b.user)!.points);
        }
        expect(await points(players)).toEqual(balance);

        if (outcome === 'CANCELLED') expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).status).toBe(200);
        else if (outcome === 'EXPIRED') expect(await t.ml.missions!.expireDue(new Date(Date.now() + 3_601_000))).toBeGreaterThanOrEqual(1);
        else expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome })).status).toBe(200);
        expect((await settledMission(id)).state).toBe(outcome);

        const pool = [...chosen.values()].reduce((s, c) => s + c.points, 0);
        const winners = [...chosen.entries()].filter(([, c]) => c.side === outcome);
        const winTotal = winners.reduce((s, [, c]) => s + c.points, 0);
        const refund = winTotal === 0;
        const after = await points(players);
        const paid = after.map((p, i) => p - balance[i]!);
        expect(paid.reduce((a, b) => a + b, 0)).toBe(pool);
        for (const [i] of players.entries()) {
          const c = chosen.get(i);
          if (!c) expect(paid[i]).toBe(0);
          else if (refund) expect(paid[i]).toBe(c.points);
          else if (c.side !== outcome) expect(paid[i]).toBe(0);
          else {
            const floor = Math.floor((pool * c.points) / winTotal);
            expect(paid[i]).toBeGreaterThanOrEqual(floor);
            expect(paid[i]).toBeLessThanOrEqual(floor + 1);
          }
        }
        const view = await api.call('GET', `/api/v1/missions/${id}/prediction`);
        expect(view.body.state).toBe(refund ? 'REFUNDED' : 'RESOLVED');
        const books = await pointsBooks(t.db.pools.funding);
        expect(books.wallets + books.pools).toBe(books.issued);
      }),
      { numRuns: 20, endOnFailure: true },
    );
    await expectConserved(t.db.pools.funding);
  }, 120_000);
});
