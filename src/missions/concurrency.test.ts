// Races on the money paths, in-process against the file's own PostgreSQL
// databases: parallel pledges against a limited wallet, a decision racing a
// stream of pledges, two decisions at once, and concurrent duplicates of one
// Idempotency-Key. Workers are driven by hand so every assertion sees a
// settled, quiet system.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBooks as verifyLedger } from './index.ts';
import { keyLock } from '../platform/idempotency.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { superUrlFor } from '../../test/support/databases.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { one, pool, settleEverything, tally } from '../../test/support/money-workers.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let proposer: Caller;
const HANDLE = 'race_ch';

beforeAll(async () => {
  t = await createTestApp({ MIN_WINDOW_SECONDS: '1' }, { startWorkers: false });
  api = client(t.ml.http);
  [streamer, proposer] = await Promise.all([api.signUp('Race Streamer'), api.signUp('Race Proposer')]);
  await api.channel(streamer, HANDLE, { missionMinAmount: 1_000, missionMaxAmount: 100_000 });
  await api.charge(proposer, 1_000_000);
});
afterAll(async () => t?.close());

const pledge = (who: Caller, missionId: string, amount: number, headers: Record<string, string> = {}) =>
  api.call('POST', `/api/v1/missions/${missionId}/pledges`, who, { amount }, headers);

async function propose(amount = 1_000): Promise<string> {
  const r = await api.propose(proposer, HANDLE, amount);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.mission.id as string;
}

async function activeMission(amount = 1_000): Promise<string> {
  const id = await propose(amount);
  const acc = await api.call('POST', `/api/v1/missions/${id}/accept`, streamer);
  expect(acc.status, JSON.stringify(acc.body)).toBe(200);
  return id;
}

async function expectBooksBalance() {
  const report = await verifyLedger(t.db.pools.funding);
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

const count = async (sql: string, params: unknown[]) => (await one<{ n: number }>(t.db.pools.funding, sql, params)).n;

describe('parallel pledges against a limited balance', () => {
  it('accepts exactly the affordable number, refuses the rest with 402, never overdraws', async () => {
    const backer = await api.signUp('Seven Pledges');
    await api.charge(backer, 7_000);
    const id = await propose();

    // Read the wallet over and over while the pledges race.
    let racing = true;
    const samples: { available: number; held: number }[] = [];
    const sampler = (async () => {
      while (racing) samples.push(await api.wallet(backer));
    })();
    const answers = await Promise.all(Array.from({ length: 40 }, () => pledge(backer, id, 1_000)));
    racing = false;
    await sampler;

    expect(tally(answers.map((a) => a.status))).toEqual({ 201: 7, 402: 33 });
    for (const a of answers.filter((x) => x.status === 402)) expect(a.body.code).toBe('INSUFFICIENT_FUNDS');
    expect(new Set(answers.filter((a) => a.status === 201).map((a) => a.body.pledge.id)).size).toBe(7);
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) {
      expect(s.available).toBeGreaterThanOrEqual(0);
      expect(s.available + s.held).toBe(7_000);
    }
    expect(await api.wallet(backer)).toMatchObject({ available: 0, held: 7_000 });
    expect(await count('SELECT count(*)::int AS n FROM pledges WHERE backer_id = $1', [backer.id])).toBe(7);
    expect(await api.mission(id)).toMatchObject({ pledgedAmount: 8_000, backerCount: 2 });
    await expectBooksBalance();
  });

  it('keeps one wallet whole across two missions and uneven amounts', async () => {
    const backer = await api.signUp('Uneven Pledges');
    await api.charge(backer, 20_000);
    const [a, b] = [await propose(), await propose()];
    const amounts = Array.from({ length: 40 }, (_, i) => 1_000 + ((i * 733) % 2_500));
    const answers = await Promise.all(amounts.map((amount, i) => pledge(backer, i % 2 ? a : b, amount)));

    const accepted = amounts.filter((_, i) => answers[i]!.status === 201).reduce((s, x) => s + x, 0);
    expect(answers.every((x) => x.status === 201 || (x.status === 402 && x.body.code === 'INSUFFICIENT_FUNDS'))).toBe(true);
    const wallet = await api.wallet(backer);
    expect(wallet).toMatchObject({ available: 20_000 - accepted, held: accepted });
    // The balance only ever shrank, so every refused pledge was more than what is left now.
    for (const [i, x] of answers.entries()) if (x.status === 402) expect(amounts[i]!).toBeGreaterThan(wallet.available);
    const held = await one<{ n: number; total: number }>(
      t.db.pools.funding,
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::bigint AS total FROM pledges WHERE backer_id = $1 AND status = 'HELD'`,
      [backer.id],
    );
    expect(held).toEqual({ n: answers.filter((x) => x.status === 201).length, total: accepted });
    await expectBooksBalance();
  });
});

describe('a decision racing many pledges', () => {
  it('settles every pledge that got 201 and holds nothing for those refused after the decision', async () => {
    const backers = await Promise.all(Array.from({ length: 6 }, (_, i) => api.signUp(`Racer ${i}`)));
    await Promise.all(backers.map((b) => api.charge(b, 300_000)));
    const id = await activeMission(1_000);

    type Sent = { backer: Caller; amount: number; status: number; body: { code?: string; pledge?: { id: string } }; afterDecision: boolean };
    const sent: Sent[] = [];
    let decided = false;
    let decision: Promise<{ status: number; body: { code?: string } }> | undefined;
    let answered = 0;
    await pool(90, 12, async (i) => {
      const backer = backers[i % backers.length]!;
      const amount = 1_000 + (i % 9) * 111;
      const afterDecision = decided;
      const r = await pledge(backer, id, amount);
      sent.push({ backer, amount, status: r.status, body: r.body, afterDecision });
      // Fire the decision while pledges are still streaming in.
      if (++answered === 20) {
        decision = api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' }).then((d) => {
          decided = true;
          return d;
        });
      }
    });
    const dec = await decision!;
    expect(dec.status, JSON.stringify(dec.body)).toBe(200);
    // The decision waited for the pledges in flight, not for the whole stream:
    // later pledges of the stream queued behind it and were refused.
    expect(sent.filter((s) => s.status === 409).length, JSON.stringify(tally(sent.map((s) => s.status)))).toBeGreaterThan(0);
    expect(sent.length).toBe(90);
    // And some more once the decision is known to have committed.
    for (const backer of backers) {
      const r = await pledge(backer, id, 1_000);
      sent.push({ backer, amount: 1_000, status: r.status, body: r.body, afterDecision: true });
    }

    for (const s of sent) {
      expect([201, 409]).toContain(s.status);
      if (s.status === 409) expect(s.body.code).toBe('MISSION_NOT_OPEN');
      if (s.afterDecision) expect(s.status).toBe(409);
    }
    const ok = sent.filter((s) => s.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(20);

    await settleEverything(t);

    const { rows } = await t.db.pools.funding.query<{ id: string; status: string; amount: number; captured_amount: number }>(
      'SELECT id, status, amount, captured_amount FROM pledges WHERE mission_id = $1',
      [id],
    );
    // The proposer's first pledge plus every 201, each captured once; nothing else.
    expect(rows).toHaveLength(ok.length + 1);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const s of ok) expect(byId.get(s.body.pledge!.id)).toMatchObject({ status: 'CAPTURED', captured_amount: s.amount });
    expect(rows.filter((r) => r.status !== 'CAPTURED')).toEqual([]);

    const total = 1_000 + ok.reduce((sum, s) => sum + s.amount, 0);
    const mission = await api.mission(id);
    expect(mission).toMatchObject({ state: 'SUCCEEDED', pledgedAmount: total });
    expect(mission.settledAt).not.toBeNull();
    for (const backer of backers) {
      const mine = ok.filter((s) => s.backer === backer).reduce((sum, s) => sum + s.amount, 0);
      expect(await api.wallet(backer)).toMatchObject({ available: 300_000 - mine, held: 0 });
    }
    const captured = await count(
      `SELECT coalesce(sum(amount), 0)::bigint AS n FROM transfers WHERE mission_id = $1 AND code IN ('streamer_payout', 'platform_fee')`,
      [id],
    );
    expect(captured).toBe(total);
    await expectBooksBalance();
  });
});

describe('two owner actions at once', () => {
  it('lets exactly one of two decisions win', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await activeMission();
      const [a, b] = await Promise.all([
        api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' }),
        api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'FAILED' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const [won, lost] = a.status === 200 ? [a, b] : [b, a];
      expect(lost.body.code).toBe('MISSION_ALREADY_DECIDED');
      expect((await api.mission(id)).state).toBe(won.body.mission.state);
      expect(await count(`SELECT count(*)::int AS n FROM outbox WHERE key = $1 AND topic = 'mission.decided'`, [id])).toBe(1);
    }
    // A decision racing a cancel: one ends the mission, the other is refused.
    const id = await activeMission();
    const [d, c] = await Promise.all([
      api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' }),
      api.call('POST', `/api/v1/missions/${id}/cancel`, streamer),
    ]);
    expect([d.status, c.status].sort()).toEqual([200, 409]);
    await settleEverything(t);
    expect(await count(`SELECT count(*)::int AS n FROM missions WHERE channel = $1 AND state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND settled_at IS NULL`, [HANDLE])).toBe(0);
    await expectBooksBalance();
  });
});

describe('one Idempotency-Key sent ten times at once', () => {
  /** Exactly one first answer; every other one is its replay or a 409 REQUEST_IN_PROGRESS. */
  function expectOneEffect(answers: { status: number; body: { code?: string }; headers: Record<string, unknown> }[], status: number) {
    const first = answers.filter((a) => a.status === status && a.headers['idempotent-replayed'] === undefined);
    expect(first, JSON.stringify(answers.map((a) => [a.status, a.headers['idempotent-replayed'], a.body.code]))).toHaveLength(1);
    for (const a of answers) {
      if (a === first[0]) continue;
      if (a.status === 409) expect(a.body.code).toBe('REQUEST_IN_PROGRESS');
      else {
        expect(a.status).toBe(status);
        expect(a.headers['idempotent-replayed']).toBe('true');
        expect(a.body).toEqual(first[0]!.body);
      }
    }
    return first[0]!;
  }

  it('pledges once', async () => {
    const backer = await api.signUp('Same Key Pledger');
    await api.charge(backer, 50_000);
    const id = await propose();
    const h = { 'idempotency-key': `pledge-${id}` };
    const answers = await Promise.all(Array.from({ length: 10 }, () => pledge(backer, id, 2_500, h)));
    const first = expectOneEffect(answers, 201);
    expect(await count('SELECT count(*)::int AS n FROM pledges WHERE backer_id = $1', [backer.id])).toBe(1);
    expect(await api.wallet(backer)).toMatchObject({ available: 47_500, held: 2_500 });
    // Later retries replay the same answer.
    const again = await pledge(backer, id, 2_500, h);
    expect(again).toMatchObject({ status: 201, body: first.body });
    await expectBooksBalance();
  });

  it('charges once', async () => {
    const payer = await api.signUp('Same Key Payer');
    const h = { 'idempotency-key': 'charge-once' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.call('POST', '/api/v1/wallet/charges', payer, { amount: 30_000 }, h)));
    const first = expectOneEffect(answers, 201);
    expect(first.body).toMatchObject({ charge: { amount: 30_000, status: 'succeeded' } });
    expect(await count('SELECT count(*)::int AS n FROM charges WHERE user_id = $1', [payer.id])).toBe(1);
    expect(await api.wallet(payer)).toMatchObject({ available: 30_000, held: 0 });
    const again = await api.call('POST', '/api/v1/wallet/charges', payer, { amount: 30_000 }, h);
    expect(again).toMatchObject({ status: 201, body: first.body });
    expect(again.headers['idempotent-replayed']).toBe('true');
    await expectBooksBalance();
  });

  it('resumes a charge whose first request was interrupted, and still charges once', async () => {
    // What a crash between claiming the key and completing the charge leaves behind.
    const payer = await api.signUp('Interrupted Payer');
    const db = t.db.pools.funding;
    const chargeId = uuidv7();
    await db.query(`INSERT INTO charges (id, user_id, amount, status, provider) VALUES ($1, $2, 20000, 'pending', 'sandbox')`, [chargeId, payer.id]);
    const hash = createHash('sha256').update(JSON.stringify(['POST', '/api/v1/wallet/charges', { amount: 20_000 }])).digest('hex');
    await db.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, resource_id, created_at) VALUES ($1, 'interrupted', $2, $3, now() - interval '2 minutes')`,
      [payer.id, hash, chargeId],
    );
    const h = { 'idempotency-key': 'interrupted' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => api.call('POST', '/api/v1/wallet/charges', payer, { amount: 20_000 }, h)));
    for (const a of answers) {
      expect(a.status).toBe(201);
      expect(a.body).toEqual({ charge: { id: chargeId, amount: 20_000, status: 'succeeded' } });
    }
    expect(await api.wallet(payer)).toMatchObject({ available: 20_000 });
    expect(await count('SELECT count(*)::int AS n FROM charges WHERE user_id = $1', [payer.id])).toBe(1);
    await expectBooksBalance();
  });

  it('proposes once', async () => {
    const viewer = await api.signUp('Same Key Proposer');
    await api.charge(viewer, 10_000);
    const h = { 'idempotency-key': 'propose-once' };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, { title: 'Once', amount: 4_000, durationSeconds: 600 }, h)),
    );
    expectOneEffect(answers, 201);
    expect(await count('SELECT count(*)::int AS n FROM missions WHERE created_by = $1', [viewer.id])).toBe(1);
    expect(await api.wallet(viewer)).toMatchObject({ available: 6_000, held: 4_000 });
  });

  it('never applies two different bodies under one key', async () => {
    const backer = await api.signUp('Key Reuser');
    await api.charge(backer, 50_000);
    const id = await propose();
    const h = { 'idempotency-key': 'mixed-bodies' };
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => pledge(backer, id, i % 2 ? 1_000 : 2_000, h)));
    const fresh = answers.filter((a) => a.status === 201 && a.headers['idempotent-replayed'] === undefined);
    expect(fresh).toHaveLength(1);
    for (const a of answers) {
      if (a === fresh[0]) continue;
      expect([201, 409, 422]).toContain(a.status);
      if (a.status === 422) expect(a.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      if (a.status === 409) expect(a.body.code).toBe('REQUEST_IN_PROGRESS');
      if (a.status === 201) expect(a.body).toEqual(fresh[0]!.body);
    }
    const amount = fresh[0]!.body.pledge.amount as number;
    expect(await api.wallet(backer)).toMatchObject({ available: 50_000 - amount, held: amount });
  });
});

describe('pledges written in batches', () => {
  /** How many batches of each kind were written so far, and how many pledges they held. */
  async function batches() {
    const { values } = await t.ml.metrics.pledgeBatches.get();
    const of = (suffix: string, written: string) => values.find((v) => v.metricName === `missionlink_pledge_batch_size_${suffix}` && v.labels.written === written)?.value ?? 0;
    return { together: of('count', 'together'), togetherPledges: of('sum', 'together'), oneByOnePledges: of('sum', 'one_by_one') };
  }

  it('holds concurrent pledges together, with the same totals, backers and books as one by one', async () => {
    const backers = await Promise.all(Array.from({ length: 12 }, (_, i) => api.signUp(`Batch Backer ${i}`)));
    await Promise.all(backers.map((b) => api.charge(b, 50_000)));
    const [a, b] = [await activeMission(), await activeMission()];
    const before = await batches();

    // Each backer three times, twice to one mission: some batches hold one wallet twice.
    const sends = backers.flatMap((who, i) => [a, b, a].map((id, k) => ({ who, id, amount: 1_000 + i * 10 + k })));
    const answers = await Promise.all(sends.map((s) => pledge(s.who, s.id, s.amount)));
    expect(answers.map((r) => r.status)).toEqual(sends.map(() => 201));
    expect(new Set(answers.map((r) => r.body.pledge.id)).size).toBe(sends.length);

    const after = await batches();
    expect(after.together).toBeGreaterThan(before.together);
    expect(after.togetherPledges - before.togetherPledges + after.oneByOnePledges - before.oneByOnePledges).toBe(sends.length);

    for (const id of [a, b]) {
      const mission = (await api.call('GET', `/api/v1/missions/${id}`)).body.mission;
      const stored = await one<{ amount: number; pledges: number; backers: number }>(
        t.db.pools.funding,
        'SELECT sum(amount)::int AS amount, count(*)::int AS pledges, count(DISTINCT backer_id)::int AS backers FROM pledges WHERE mission_id = $1',
        [id],
      );
      expect(mission.pledgedAmount).toBe(stored.amount);
      expect(mission.backerCount).toBe(stored.backers);
      expect(stored.backers).toBe(13); // the proposer and the twelve
      expect(await count('SELECT sum(pledges)::int AS n FROM mission_totals WHERE mission_id = $1', [id])).toBe(stored.pledges);
    }
    for (const [i, who] of backers.entries()) {
      const wallet = (await api.call('GET', '/api/v1/wallet', who)).body;
      expect(wallet.available).toBe(50_000 - (3_000 + i * 30 + 3));
    }
    await expectBooksBalance();
  });

  it('answers each pledge of a batch with its own result, refusals included, and writes nothing for the refused', async () => {
    const good = await Promise.all(Array.from({ length: 6 }, (_, i) => api.signUp(`Good Backer ${i}`)));
    const poor = await api.signUp('Poor Backer');
    await Promise.all(good.map((g) => api.charge(g, 20_000)));
    await api.charge(poor, 1_000);
    const open = await activeMission();
    const closed = await propose();
    expect((await api.call('POST', `/api/v1/missions/${closed}/reject`, streamer)).status).toBe(200);
    const before = await batches();

    const sends = [
      ...good.map((who) => ({ who, id: open, amount: 2_000, want: 201 })),
      { who: poor, id: open, amount: 5_000, want: 402 },
      { who: good[0]!, id: closed, amount: 2_000, want: 409 },
      { who: good[1]!, id: open, amount: 500, want: 400 },
      { who: streamer, id: open, amount: 2_000, want: 403 },
      ...good.map((who) => ({ who, id: open, amount: 3_000, want: 201 })),
    ];
    const answers = await Promise.all(sends.map((s) => pledge(s.who, s.id, s.amount)));
    expect(answers.map((r) => r.status)).toEqual(sends.map((s) => s.want));
    expect(answers.filter((r) => r.status !== 201).map((r) => r.body.code)).toEqual(['INSUFFICIENT_FUNDS', 'MISSION_NOT_OPEN', 'VALIDATION_FAILED', 'FORBIDDEN']);
    // Refusals are per-item results of the batch statement: nothing is tried again one by one.
    const after = await batches();
    expect(after.together).toBeGreaterThan(before.together);
    expect(after.oneByOnePledges).toBe(before.oneByOnePledges);

    expect(await count('SELECT count(*)::int AS n FROM pledges WHERE mission_id = $1', [closed])).toBe(1); // the proposer's, refunded
    expect(await count('SELECT count(*)::int AS n FROM pledges WHERE mission_id = $1', [open])).toBe(1 + 12);
    expect((await api.call('GET', '/api/v1/wallet', poor)).body.available).toBe(1_000);
    for (const who of good) expect((await api.call('GET', '/api/v1/wallet', who)).body.available).toBe(15_000);
    await expectBooksBalance();
  });

  it('holds pledges with an Idempotency-Key together too, and a used key in a batch still gets its own answer', async () => {
    const backers = await Promise.all(Array.from({ length: 8 }, (_, i) => api.signUp(`Keyed Backer ${i}`)));
    await Promise.all(backers.map((b) => api.charge(b, 30_000)));
    const id = await activeMission();
    const key = (i: number, n: number) => ({ 'idempotency-key': `keyed-${id}-${i}-${n}` });
    const before = await batches();

    const first = await Promise.all(backers.map((who, i) => pledge(who, id, 2_000, key(i, 1))));
    expect(first.map((r) => r.status)).toEqual(backers.map(() => 201));
    expect((await batches()).together).toBeGreaterThan(before.together);

    // In one burst: every first request again (replays), one of them with
    // another amount (422), a key sent twice at once, and new pledges.
    const sends = [
      ...backers.map((who, i) => ({ who, amount: 2_000, headers: key(i, 1) })),
      { who: backers[0]!, amount: 2_500, headers: key(0, 1) },
      { who: backers[1]!, amount: 3_000, headers: key(1, 2) },
      { who: backers[1]!, amount: 3_000, headers: key(1, 2) },
      ...backers.slice(2).map((who, i) => ({ who, amount: 1_000, headers: key(i + 2, 2) })),
      { who: backers[0]!, amount: 1_000, headers: {} },
    ];
    const answers = await Promise.all(sends.map((s) => pledge(s.who, id, s.amount, s.headers)));
    for (const [i, r] of answers.slice(0, backers.length).entries()) {
      expect(r.status).toBe(201);
      expect(r.headers['idempotent-replayed']).toBe('true');
      expect(r.body).toEqual(first[i]!.body);
    }
    const rest = answers.slice(backers.length);
    expect(rest[0]!.status).toBe(422);
    expect(rest[0]!.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The key sent twice: one pledge, and the other request gets it replayed (or is told it is in progress).
    const twice = [rest[1]!, rest[2]!];
    expect(twice.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'REQUEST_IN_PROGRESS'))).toBe(true);
    const madeTwice = twice.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] !== 'true');
    expect(madeTwice).toHaveLength(1);
    for (const r of twice.filter((x) => x.status === 201)) expect(r.body).toEqual(madeTwice[0]!.body);
    expect(rest.slice(3).map((r) => r.status)).toEqual(rest.slice(3).map(() => 201));

    expect(await count('SELECT count(*)::int AS n FROM pledges WHERE mission_id = $1', [id])).toBe(1 + 8 + 1 + 6 + 1);
    const wallets = await Promise.all(backers.map(async (who) => (await api.call('GET', '/api/v1/wallet', who)).body.available));
    expect(wallets).toEqual([30_000 - 2_000 - 1_000, 30_000 - 2_000 - 3_000, ...backers.slice(2).map(() => 30_000 - 2_000 - 1_000)]);
    // Each stored answer is the pledge that was made with its key.
    const stored = await one<{ n: number }>(
      t.db.pools.funding,
      `SELECT count(*)::int AS n FROM idempotency_keys k JOIN pledges p ON p.id = k.resource_id
        WHERE k.key LIKE $1 AND k.status_code = 201 AND k.response->'pledge'->>'id' = p.id::text AND p.backer_id = k.user_id`,
      [`keyed-${id}-%`],
    );
    expect(stored.n).toBe(8 + 1 + 6);
    await expectBooksBalance();
  });

  it('waits for a key another writer holds only before it locks anything else, and makes that pledge once', async () => {
    const backers = await Promise.all(Array.from({ length: 5 }, (_, i) => api.signUp(`Key Lock Backer ${i}`)));
    await Promise.all(backers.map((b) => api.charge(b, 20_000)));
    const id = await activeMission();
    const busy = { 'idempotency-key': `busy-${id}` };
    // Another writer of backers[0]'s key (a request to another process, say) holds its lock.
    const other = new pg.Client({ connectionString: superUrlFor(t.db.superUrl, t.db.names.funding) });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(${keyLock('$1::uuid', '$2::text')})`, [backers[0]!.id, busy['idempotency-key']]);
      // In one burst: the busy key among others, so it may land in a batch
      // (which only tries the key's lock and gives up) or go alone (and wait).
      const sends = [4, 0, 1, 2, 3].map((i) => pledge(backers[i]!, id, 2_000, i === 0 ? busy : { 'idempotency-key': `free-${id}-${i}` }));
      let waiter: number | undefined;
      for (let k = 0; k < 100 && waiter === undefined; k++) {
        const { rows } = await other.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`);
        waiter = rows[0]?.pid;
        if (waiter === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(waiter, 'a pledge waits for the key').toBeDefined();
      // It waits holding no lock on any account (nor on the mission's row).
      const { rows: held } = await other.query(
        `SELECT relation::regclass::text AS rel FROM pg_locks WHERE pid = $1 AND granted AND relation IN ('accounts'::regclass, 'missions'::regclass)`,
        [waiter],
      );
      expect(held).toEqual([]);
      await other.query('COMMIT');
      const answers = await Promise.all(sends);
      expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      const again = await pledge(backers[0]!, id, 2_000, busy);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(answers[1]!.body);
    } finally {
      await other.end();
    }
    for (const who of backers) expect((await api.call('GET', '/api/v1/wallet', who)).body.available).toBe(18_000);
    await expectBooksBalance();
  });

  it('ledger verify names a pledge that no longer matches its hold, and a hold without a pledge', async () => {
    const backer = await api.signUp('Tampered Backer');
    await api.charge(backer, 10_000);
    const id = await activeMission();
    const p = (await pledge(backer, id, 2_000)).body.pledge;
    const su = new pg.Client({ connectionString: superUrlFor(t.db.superUrl, t.db.names.funding) });
    await su.connect();
    try {
      await su.query('UPDATE pledges SET amount = amount + 1 WHERE id = $1', [p.id]);
      const hold = (await su.query('SELECT hold_transfer_id AS id FROM pledges WHERE id = $1', [p.id])).rows[0].id;
      let report = await verifyLedger(t.db.pools.funding);
      expect(report.problems).toEqual([
        { check: 'pledge_matches_hold', detail: `pledge ${p.id}: its hold ${hold} is a pledge_hold transfer (flags 1) of 2000, not a pending pledge_hold of 2001` },
      ]);
      await su.query('UPDATE pledges SET amount = amount - 1 WHERE id = $1', [p.id]);

      const orphan = uuidv7();
      await su.query(
        `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, mission_id)
         SELECT $1, debit_account_id, credit_account_id, 0, ledger, code, flags, mission_id FROM transfers WHERE id = $2`,
        [orphan, hold],
      );
      report = await verifyLedger(t.db.pools.funding);
      expect(report.problems).toEqual([{ check: 'hold_has_pledge', detail: `pledge_hold transfer ${orphan} belongs to no pledge` }]);
      // Past the append-only trigger, as only a superuser can.
      await su.query(`SET session_replication_role = replica`);
      await su.query('DELETE FROM transfers WHERE id = $1', [orphan]);
    } finally {
      await su.end();
    }
    await expectBooksBalance();
  });
});
