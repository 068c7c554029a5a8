// Refunds of unused cash (POST /api/v1/wallet/refunds) on real PostgreSQL:
// newest charges first with partial cancellations, two-phase in the ledger,
// Idempotency-Key, 402 above available, a provider that refuses or is down,
// and crash safety — a refund whose provider call was in flight when its
// process died is finished exactly once by the next process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMissionLink, type MissionLink } from '../app.ts';
import { KeyRing, newPrivateJwk } from '../identity/keys.ts';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/log.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { BAD_AMOUNTS_JSON, expectNoMoneyMoved, expectProblem, raw } from '../../test/support/bad-input.ts';
import type { CancelRequest, CancelResult, PaymentProvider } from './provider.ts';
import { verifyWallet } from './verify.ts';

let t: TestApp;
let api: ReturnType<typeof client>;

/** Armed crash points: the next call for a part throws there, as if the process died. */
const crashAt: { before?: boolean; after?: boolean } = {};
class Crash extends Error {}

beforeAll(async () => {
  t = await createTestApp(
    {},
    {
      hooks: {
        refunds: {
          beforeCancel: () => {
            if (crashAt.before) throw new Crash('crash before the provider call');
          },
          afterCancel: () => {
            if (crashAt.after) throw new Crash('crash after the provider call');
          },
        },
      },
    },
  );
  api = client(t.ml.http);
});
afterAll(async () => t?.close());

const books = async () => {
  const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
  expect(report.problems).toEqual([]);
};
const refund = (who: Caller | null, body: unknown, headers: Record<string, string> = {}) => raw(t, 'POST', '/api/v1/wallet/refunds', who, body, headers);
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await t.db.pools.funding.query(sql, params)).rows as T[];
const chargesOf = (who: Caller) =>
  q<{ id: string; amount: string; cancelled_amount: string; reversed_amount: string }>(
    'SELECT id, amount, cancelled_amount, reversed_amount FROM charges WHERE user_id = $1 ORDER BY created_at, id',
    [who.id],
  ).then((rows) => rows.map((r) => ({ id: r.id, amount: Number(r.amount), cancelled: Number(r.cancelled_amount), reversed: Number(r.reversed_amount) })));

/** The real provider, with a switch that makes it refuse or fail. */
function switchable(inner: PaymentProvider) {
  const state: { mode: 'ok' | 'refuse' | 'down'; calls: CancelRequest[] } = { mode: 'ok', calls: [] };
  const provider: PaymentProvider = {
    name: inner.name,
    createCharge: (c) => inner.createCharge(c),
    async cancel(part): Promise<CancelResult> {
      state.calls.push(part);
      if (state.mode === 'down') throw new Error('connect ECONNREFUSED (provider down)');
      if (state.mode === 'refuse') return { status: 'failed', reason: 'the card issuer refused the cancellation' };
      return inner.cancel(part);
    },
  };
  return { provider, state };
}

describe('POST /wallet/refunds', () => {
  it('refunds the newest charges first, in partial cancellations, and the sandbox succeeds at once', async () => {
    const alice = await api.signUp('Alice');
    await api.charge(alice, 10_000);
    await api.charge(alice, 20_000);
    await api.charge(alice, 3_000);
    const res = await refund(alice, { amount: 15_000 });
    expect(res.status, res.text).toBe(201);
    expect(res.body.refund).toMatchObject({ amount: 15_000, status: 'succeeded' });
    expect(Object.keys(res.body.refund).sort()).toEqual(['amount', 'createdAt', 'id', 'status']);
    expect(await api.wallet(alice)).toMatchObject({ available: 18_000, held: 0, owed: 0 });
    // 3,000 from the newest, 12,000 from the one before; the oldest untouched.
    expect((await chargesOf(alice)).map((c) => c.cancelled)).toEqual([0, 12_000, 3_000]);
    const parts = await q<{ amount: string }>('SELECT s.amount FROM sandbox_cancellations s JOIN refund_parts p ON p.id = s.part_id WHERE p.refund_id = $1 ORDER BY s.amount', [res.body.refund.id]);
    expect(parts.map((p) => Number(p.amount))).toEqual([3_000, 12_000]);
    // A second refund takes what the middle charge has left, then the oldest.
    const again = await refund(alice, { amount: 18_000 });
    expect(again.body.refund.status).toBe('succeeded');
    expect((await chargesOf(alice)).map((c) => c.cancelled)).toEqual([10_000, 20_000, 3_000]);
    expect(await api.wallet(alice)).toMatchObject({ available: 0, held: 0 });
    const history = (await api.call('GET', '/api/v1/wallet/transactions?limit=100', alice)).body.items as { kind: string; amount: number }[];
    expect(history.filter((e) => e.kind === 'cash_refund').map((e) => e.amount).sort()).toEqual([-10_000, -12_000, -3_000, -8_000].sort());
    expect(history.filter((e) => e.kind === 'cash_refund_done')).toHaveLength(4);
    const list = await api.call('GET', '/api/v1/wallet/refunds', alice);
    expect(list.body.items.map((r: { amount: number }) => r.amount)).toEqual([18_000, 15_000]);
    const metrics = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).payload;
    expect(metrics).toMatch(/^missionlink_refunds_total\{status="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^missionlink_refunded_krw_total [1-9]/m);
    expect(metrics).toMatch(/^missionlink_refunds_pending 0$/m);
    expect(metrics).toMatch(/^missionlink_refunds_processing_oldest_seconds 0$/m);
    // Every status and reversal source is exported from 0 (rates and alerts see them before the first one).
    expect(metrics).toMatch(/^missionlink_refunds_total\{status="partially_succeeded"\} \d/m);
    expect(metrics).toMatch(/^missionlink_reversed_krw_total\{from="owed"\} \d/m);
    await books();
  });

  it('answers 402 INSUFFICIENT_FUNDS above available (held pledges are not available) and moves nothing', async () => {
    const streamer = await api.signUp('Streamer');
    const handle = `refund_ch_${Date.now() % 100000}`;
    await api.channel(streamer, handle);
    const bob = await api.signUp('Bob');
    await api.charge(bob, 10_000);
    expect((await api.propose(bob, handle, 7_000)).status).toBe(201);
    await expectNoMoneyMoved(t, [bob], async () => {
      expectProblem(await refund(bob, { amount: 3_001 }), 402, 'INSUFFICIENT_FUNDS');
      expectProblem(await refund(bob, { amount: 10_000 }), 402, 'INSUFFICIENT_FUNDS');
    });
    const ok = await refund(bob, { amount: 3_000 });
    expect(ok.status).toBe(201);
    expect(await api.wallet(bob)).toMatchObject({ available: 0, held: 7_000 });
    await books();
  });

  it('refuses bad input with 400/401 and changes nothing', async () => {
    const carol = await api.signUp('Carol');
    await api.charge(carol, 5_000);
    await expectNoMoneyMoved(t, [carol], async () => {
      for (const amount of [...BAD_AMOUNTS_JSON, '999', '0', '1']) expectProblem(await refund(carol, `{"amount": ${amount}}`), 400, 'VALIDATION_FAILED', 'amount');
      expectProblem(await refund(carol, { amount: 1_000, to: 'elsewhere' }), 400, 'VALIDATION_FAILED', 'to');
      expectProblem(await refund(carol, {}), 400, 'VALIDATION_FAILED', 'amount');
      expectProblem(await refund(null, { amount: 1_000 }), 401, 'UNAUTHENTICATED');
      expectProblem(await refund(carol, { amount: 1_000 }, { 'idempotency-key': 'x'.repeat(256) }), 400, 'VALIDATION_FAILED', 'Idempotency-Key');
    });
    expect((await q('SELECT 1 FROM refunds WHERE user_id = $1', [carol.id])).length).toBe(0);
  });

  it('replays the same Idempotency-Key and body, refuses it with another body, never refunds twice', async () => {
    const dave = await api.signUp('Dave');
    await api.charge(dave, 10_000);
    const h = { 'idempotency-key': 'refund-once' };
    const first = await refund(dave, { amount: 4_000 }, h);
    expect(first.status).toBe(201);
    const again = await refund(dave, { amount: 4_000 }, h);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectProblem(await refund(dave, { amount: 5_000 }, h), 422, 'IDEMPOTENCY_KEY_REUSED');
    // Concurrent duplicates: one refund, the others replay or are told it is in flight.
    const h2 = { 'idempotency-key': 'refund-burst' };
    const burst = await Promise.all(Array.from({ length: 6 }, () => refund(dave, { amount: 1_000 }, h2)));
    for (const b of burst) expect([201, 409]).toContain(b.status);
    expect(await api.wallet(dave)).toMatchObject({ available: 5_000 });
    expect((await q('SELECT 1 FROM refunds WHERE user_id = $1', [dave.id])).length).toBe(2);
    await books();
  });

  it('never lets concurrent refunds and pledges take more than available', async () => {
    const streamer = await api.signUp('Streamer2');
    const handle = `race_${Date.now() % 100000}`;
    await api.channel(streamer, handle);
    const erin = await api.signUp('Erin');
    await api.charge(erin, 10_000);
    await api.charge(erin, 10_000);
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => refund(erin, { amount: 3_000 })),
      ...Array.from({ length: 5 }, () => api.propose(erin, handle, 3_000)),
    ]);
    const ok = answers.filter((a) => a.status === 201).length;
    for (const a of answers) if (a.status !== 201) expect(a.status).toBe(402);
    expect(ok).toBe(6);
    const w = await api.wallet(erin);
    expect(w.available).toBe(2_000);
    const given = (await chargesOf(erin)).reduce((s, c) => s + c.cancelled, 0);
    expect(given + w.held + w.available).toBe(20_000);
    await books();
  });

  it('voids the hold when the provider refuses, and keeps it pending (retried) while the provider is down', async () => {
    const sandbox = t.ml.wallet!.provider;
    const { provider, state } = switchable(sandbox);
    t.ml.wallet!.provider = provider;
    try {
      const frank = await api.signUp('Frank');
      await api.charge(frank, 8_000);
      state.mode = 'refuse';
      const refused = await refund(frank, { amount: 5_000 });
      expect(refused.status).toBe(201);
      expect(refused.body.refund.status).toBe('failed');
      expect(await api.wallet(frank)).toMatchObject({ available: 8_000, held: 0 });
      expect((await chargesOf(frank))[0]!.cancelled).toBe(0);
      await books();

      state.mode = 'down';
      const pending = await refund(frank, { amount: 6_000 });
      expect(pending.status).toBe(201);
      expect(pending.body.refund.status).toBe('pending');
      // Held from available at once, not shown as pledged.
      expect(await api.wallet(frank)).toMatchObject({ available: 2_000, held: 0 });
      const [row] = await q<{ last_error: string; next_attempt_at: Date }>('SELECT last_error, next_attempt_at FROM refunds WHERE id = $1', [pending.body.refund.id]);
      expect(row!.last_error).toMatch(/ECONNREFUSED/);
      expect(row!.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
      // What an operator sees: one refund waiting, and for how long.
      const waiting = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).payload;
      expect(waiting).toMatch(/^missionlink_refunds_pending 1$/m);
      const waited = Number(/^missionlink_refunds_processing_oldest_seconds (\S+)$/m.exec(waiting)?.[1]);
      expect(waited).toBeGreaterThan(0);
      expect(waited).toBeLessThan(60);
      await books();
      // The stuck-refund alert's metric: the age of the oldest refund waiting for the provider (two hours older, made so here and undone).
      const age = (shift: string) => t.db.pools.funding.query(`UPDATE refunds SET created_at = created_at + $2::interval WHERE id = $1`, [pending.body.refund.id, shift]);
      await age('-2 hours');
      const scrape = async () => (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).payload;
      const stuck = await scrape();
      expect(stuck).toMatch(/^missionlink_refunds_pending 1$/m);
      expect(stuck).toMatch(/^missionlink_refunds_total\{status="failed"\} [1-9]/m);
      const oldest = Number(/^missionlink_refunds_processing_oldest_seconds (\S+)$/m.exec(stuck)?.[1]);
      expect(oldest).toBeGreaterThanOrEqual(7200);
      expect(oldest).toBeLessThan(7260);
      await age('2 hours');

      state.mode = 'ok';
      await t.db.pools.funding.query('UPDATE refunds SET next_attempt_at = now() WHERE id = $1', [pending.body.refund.id]);
      await t.ml.wallet!.refunds.runOnce();
      expect((await api.call('GET', '/api/v1/wallet/refunds', frank)).body.items[0]).toMatchObject({ id: pending.body.refund.id, status: 'succeeded' });
      expect(await api.wallet(frank)).toMatchObject({ available: 2_000, held: 0 });
      expect((await chargesOf(frank))[0]!.cancelled).toBe(6_000);
      expect(await scrape()).toMatch(/^missionlink_refunds_processing_oldest_seconds 0$/m);
      await books();
    } finally {
      t.ml.wallet!.provider = sandbox;
    }
  });
});

describe('crash safety', () => {
  /** A second process on the same databases (workers driven by hand). */
  async function restart(): Promise<MissionLink> {
    const config = loadConfig({ DATA_DIR: t.dataDir, DATABASE_URL_IDENTITY: t.db.urls.identity, DATABASE_URL_FUNDING: t.db.urls.funding, LOG_LEVEL: 'silent' });
    return createMissionLink({
      config,
      logger: createLogger('silent'),
      pools: t.db.pools,
      paymentWebhookSecret: 'test-webhook-secret-0123456789',
      keys: await KeyRing.fromJwks([await newPrivateJwk()]),
      startWorkers: false,
    });
  }

  for (const point of ['before', 'after'] as const) {
    it(`finishes a refund exactly once after a crash ${point} the provider call`, async () => {
      const gina = await api.signUp(`Gina ${point}`);
      await api.charge(gina, 9_000);
      await api.charge(gina, 4_000);
      crashAt[point] = true;
      let res;
      try {
        res = await refund(gina, { amount: 6_000 });
      } finally {
        crashAt[point] = false;
      }
      // The request answered with what it knew: the refund held, not finished.
      expect(res.status).toBe(201);
      expect(res.body.refund.status).toBe('pending');
      expect(await api.wallet(gina)).toMatchObject({ available: 7_000, held: 0 });
      const id = res.body.refund.id as string;
      const cancelled = () => q<{ n: string }>('SELECT count(*) AS n FROM sandbox_cancellations s JOIN refund_parts p ON p.id = s.part_id WHERE p.refund_id = $1', [id]).then((r) => Number(r[0]!.n));
      // Before the call, the provider heard nothing; after it, it cancelled the first part.
      expect(await cancelled()).toBe(point === 'before' ? 0 : 1);
      await books();

      // The process "died" holding the refund's lease (its refund worker stops
      // too, or it would take the refund first on a slow machine); when the
      // lease runs out, the next process finishes it.
      await t.ml.wallet!.refunds.stop();
      await t.db.pools.funding.query(`UPDATE refunds SET claimed_until = now() - interval '1 second' WHERE id = $1`, [id]);
      const next = await restart();
      try {
        expect(await next.wallet!.refunds.runOnce()).toBe(true);
        expect(await next.wallet!.refunds.runOnce()).toBe(false);
      } finally {
        await next.stopWorkers();
        await next.http.close();
        t.ml.wallet!.refunds.start();
      }
      const [row] = await q<{ status: string; refunded_amount: string }>('SELECT status, refunded_amount FROM refunds WHERE id = $1', [id]);
      expect(row).toMatchObject({ status: 'succeeded' });
      expect(Number(row!.refunded_amount)).toBe(6_000);
      // Each part cancelled once at the provider, each hold posted once.
      expect(await cancelled()).toBe(2);
      const posts = await q<{ n: string }>(`SELECT count(*) AS n FROM transfers t JOIN refund_parts p ON p.id = t.pending_id WHERE p.refund_id = $1`, [id]);
      expect(Number(posts[0]!.n)).toBe(2);
      expect(await api.wallet(gina)).toMatchObject({ available: 7_000, held: 0 });
      expect((await chargesOf(gina)).map((c) => c.cancelled)).toEqual([2_000, 4_000]);
      await books();
    });
  }
});
