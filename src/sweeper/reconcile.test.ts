// Reconciliation with the sandbox providers (their own books) on real
// PostgreSQL, and the sweeper's daily run of it: each KST day once across
// processes and restarts (a reconcile_runs row under a lease), a run that died
// or failed taken again, and the gauges missionlink_reconcile_differences{kind}
// and missionlink_reconcile_last_run_timestamp_seconds read from the last
// finished run by every process.
import client from 'prom-client';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { SandboxPayoutProvider, verifyWithdrawals } from '../payouts/index.ts';
import { createLogger } from '../platform/log.ts';
import { SandboxBooks, verifyWallet } from '../wallet/index.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client as apiClient, eventually, type Caller } from '../../test/support/api.ts';
import { DailyReconcile, dayToReconcile, reconcile, RECONCILE_DELAY_MS, type ReconcileReport } from './index.ts';

let t: TestApp;
let api: ReturnType<typeof apiClient>;
const log = createLogger('silent');
const DAY = 86_400_000;

beforeAll(async () => {
  t = await createTestApp({}, { startWorkers: false });
  api = apiClient(t.ml.http);
});
afterAll(async () => t?.close());

const pool = () => t.db.pools.funding;
const providers = () => ({ payments: new SandboxBooks(pool()), payouts: new SandboxPayoutProvider(pool()) });
const run = (range: { from: Date; to: Date }) => reconcile(pool(), providers(), range);
const range = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });
const q = async (sql: string, params: unknown[] = []) => (await pool().query(sql, params)).rows;
const books = async () => expect((await verifyLedger(pool(), [verifyPledges, verifyWithdrawals, verifyWallet])).problems).toEqual([]);
/** A gauge's value in a registry's text output. */
async function gauge(registry: client.Registry, series: string): Promise<number> {
  const text = await registry.metrics();
  const m = new RegExp(`^${series.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${series} in\n${text}`);
  return Number(m[1]);
}
/** A `now` at which the daily run reconciles today (KST): an hour into tomorrow. */
const tomorrow = (days = 1) => {
  const { to } = dayToReconcile(new Date(Date.now() + days * DAY), 0);
  return new Date(to.getTime() + 3_600_000);
};

describe('reconciling with the sandbox', () => {
  let alice: Caller;
  it('agrees with the sandbox’s books for charges and refunds, and reports where they differ', async () => {
    alice = await api.signUp('Alice');
    const older = (await api.charge(alice, 10_000)).id as string;
    const newer = (await api.charge(alice, 5_000)).id as string;
    const res = await api.call('POST', '/api/v1/wallet/refunds', alice, { amount: 7_000 });
    expect(res.body.refund.status).toBe('succeeded');
    expect((await run(range())).differences).toEqual([]);
    expect(await run(range())).toMatchObject({ ok: true, counts: { charges: 0, refunds: 0, withdrawals: 0 } });

    // The sandbox lost a payment and a cancellation, was paid another amount, and knows a payment we do not.
    const bob = await api.signUp('Bob');
    const lost = (await api.charge(bob, 4_000)).id as string;
    await q('DELETE FROM sandbox_payments WHERE charge_id = $1', [lost]);
    await q('UPDATE sandbox_payments SET amount = amount + 1 WHERE charge_id = $1', [newer]);
    const [part] = await q(`SELECT id FROM refund_parts WHERE charge_id = $1`, [older]);
    await q('DELETE FROM sandbox_cancellations WHERE part_id = $1', [part.id]);
    const stray = uuidv7();
    await q(`INSERT INTO sandbox_payments (charge_id, amount, status) VALUES ($1, 3000, 'paid')`, [stray]);
    const report = await run(range());
    expect(report.differences.map((d) => [d.area, d.kind, 'chargeId' in d ? d.chargeId : d.withdrawalId]).sort()).toEqual(
      [
        ['charges', 'missing_at_provider', lost],
        ['charges', 'amount_mismatch', newer],
        ['charges', 'unknown_payment', stray],
        ['refunds', 'missing_at_provider', older],
      ].sort(),
    );
    expect(report).toMatchObject({ ok: false, counts: { charges: 3, refunds: 1, withdrawals: 0 } });
    // The books themselves are fine: the provider's side is what differs.
    await books();
  });
});

describe('the daily reconciliation', () => {
  it('names the KST day that ended, once its delay has passed', () => {
    expect(dayToReconcile(new Date('2026-12-07T15:20:00Z'), RECONCILE_DELAY_MS)).toEqual({
      day: '2026-12-07',
      from: new Date('2026-12-06T15:00:00Z'),
      to: new Date('2026-12-07T15:00:00Z'),
    });
    // Ten minutes after midnight KST the day before is not due yet: the one before it is.
    expect(dayToReconcile(new Date('2026-12-07T15:10:00Z'), RECONCILE_DELAY_MS).day).toBe('2026-12-06');
  });

  it('runs once per day across processes, and every process (a restarted one too) shows its result', async () => {
    const registries = [new client.Registry(), new client.Registry()];
    const [a, b] = registries.map((registry) => new DailyReconcile({ pool: pool(), log, run, registry }));
    for (const r of registries) expect(await gauge(r, 'missionlink_reconcile_last_run_timestamp_seconds')).toBe(0);
    const now = tomorrow();
    const results = await Promise.all([a!.runDue(now), b!.runDue(now)]);
    expect(results.map((r) => r.result).sort()).toEqual(['ran', 'skipped']);
    const ran = results.find((r) => r.result === 'ran') as { day: string; report: ReconcileReport };
    // Today's differences (the test above): 3 charges, 1 refund.
    expect(ran.report.counts).toEqual({ charges: 3, refunds: 1, withdrawals: 0 });
    expect(await a!.runDue(now)).toMatchObject({ result: 'skipped', day: ran.day });
    const [row] = await q('SELECT attempts, ok, counts, finished_at FROM reconcile_runs WHERE day = $1', [ran.day]);
    expect(row).toMatchObject({ attempts: 1, ok: false, counts: { charges: 3, refunds: 1, withdrawals: 0 } });

    const restarted = new client.Registry();
    new DailyReconcile({ pool: pool(), log, run, registry: restarted });
    for (const r of [...registries, restarted]) {
      expect(await gauge(r, 'missionlink_reconcile_differences{kind="charges"}')).toBe(3);
      expect(await gauge(r, 'missionlink_reconcile_differences{kind="refunds"}')).toBe(1);
      expect(await gauge(r, 'missionlink_reconcile_differences{kind="withdrawals"}')).toBe(0);
      expect(Math.abs((await gauge(r, 'missionlink_reconcile_last_run_timestamp_seconds')) - Date.now() / 1000)).toBeLessThan(60);
    }
    const text = await restarted.metrics();
    expect(text).toContain('# TYPE missionlink_reconcile_differences gauge');
    expect(text).toContain('# TYPE missionlink_reconcile_last_run_timestamp_seconds gauge');
  });

  it('takes a day again whose process died mid-run, or whose provider could not be asked', async () => {
    const daily = new DailyReconcile({ pool: pool(), log, run });
    // A process died holding the day (its lease ran out, nothing finished).
    const died = tomorrow(2);
    const { day, from, to } = dayToReconcile(died, RECONCILE_DELAY_MS);
    await q(`INSERT INTO reconcile_runs (day, range_from, range_to, claimed_until) VALUES ($1, $2, $3, now() - interval '1 second')`, [day, from, to]);
    expect(await daily.runDue(died)).toMatchObject({ result: 'ran', day });
    expect(await q('SELECT attempts, ok FROM reconcile_runs WHERE day = $1', [day])).toEqual([{ attempts: 2, ok: true }]);

    // The provider does not answer: the day waits (5 minutes), then runs again.
    const failing = new DailyReconcile({ pool: pool(), log, run: async () => Promise.reject(new Error('connect ECONNREFUSED (provider down)')) });
    const later = tomorrow(3);
    await expect(failing.runDue(later)).rejects.toThrow(/ECONNREFUSED/);
    const [waiting] = await q(`SELECT day::text, finished_at, last_error, claimed_until > now() + interval '4 minutes' AS backing_off FROM reconcile_runs WHERE finished_at IS NULL`);
    expect(waiting).toMatchObject({ finished_at: null, backing_off: true });
    expect(waiting.last_error).toMatch(/ECONNREFUSED/);
    expect(await daily.runDue(later)).toMatchObject({ result: 'skipped' });
    await q(`UPDATE reconcile_runs SET claimed_until = now() - interval '1 second' WHERE day = $1`, [waiting.day]);
    expect(await daily.runDue(later)).toMatchObject({ result: 'ran' });
    expect(await q('SELECT attempts, last_error FROM reconcile_runs WHERE day = $1', [waiting.day])).toEqual([{ attempts: 2, last_error: null }]);
  });

  it('is started by the sweeper itself, and shows on /metrics', async () => {
    await t.ml.sweeper!.runOnce();
    const { day } = dayToReconcile(new Date(), RECONCILE_DELAY_MS);
    await eventually(async () => (await q('SELECT 1 FROM reconcile_runs WHERE day = $1 AND finished_at IS NOT NULL', [day])).length === 1, 15_000, 100);
    const text = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).payload;
    // The last run to finish is this one: no charges, refunds or withdrawals on that day.
    expect(text).toMatch(/^missionlink_reconcile_differences\{kind="charges"\} 0$/m);
    expect(text).toMatch(/^missionlink_reconcile_differences\{kind="withdrawals"\} 0$/m);
    expect(Number(/^missionlink_reconcile_last_run_timestamp_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(Date.now() / 1000 - 60);
    await t.ml.sweeper!.stop();
  });
});
