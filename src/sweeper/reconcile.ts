// Reconciliation with the providers, on demand (`missionlink reconcile`) and
// once a day by the sweeper: what the payment provider reports of charges and
// cancellations (wallet), and what the payout provider reports of payouts
// (payouts), against our books.
import client from 'prom-client';
import { reconcileWithdrawals, type PayoutProvider, type WithdrawalDifference } from '../payouts/index.ts';
import { reconcilePayments, type PaymentDifference, type PaymentReports } from '../wallet/index.ts';
import type { Pool } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';

/** What a difference is about: the `kind` label of missionlink_reconcile_differences. */
export const RECONCILE_AREAS = ['charges', 'refunds', 'withdrawals'] as const;
export type ReconcileArea = (typeof RECONCILE_AREAS)[number];

export type ReconcileDifference = PaymentDifference | ({ area: 'withdrawals' } & WithdrawalDifference);

export interface ReconcileReport {
  from: string;
  to: string;
  ok: boolean;
  /** Differences by area. */
  counts: Record<ReconcileArea, number>;
  differences: ReconcileDifference[];
}

/**
 * Compares both providers' reports for [from, to) with our books and answers
 * every difference; `ok` when there is none.
 * @example const report = await reconcile(pool, { payments: new SandboxBooks(pool), payouts: new SandboxPayoutProvider(pool) }, { from, to });
 */
export async function reconcile(pool: Pool, providers: { payments?: PaymentReports; payouts?: PayoutProvider }, range: { from: Date; to: Date }): Promise<ReconcileReport> {
  const payments = providers.payments ? await reconcilePayments(pool, providers.payments, range) : [];
  const withdrawals = providers.payouts ? await reconcileWithdrawals(pool, providers.payouts, range) : [];
  const differences: ReconcileDifference[] = [...payments, ...withdrawals.map((d) => ({ area: 'withdrawals' as const, ...d }))];
  const counts = Object.fromEntries(RECONCILE_AREAS.map((a) => [a, differences.filter((d) => d.area === a).length])) as Record<ReconcileArea, number>;
  return { from: range.from.toISOString(), to: range.to.toISOString(), ok: differences.length === 0, counts, differences };
}

/** Korea Standard Time is UTC+9 all year. */
const KST_OFFSET_MS = 9 * 3600_000;
const DAY_MS = 86_400_000;

/**
 * The KST day the daily run reconciles at `now`: the last one that ended at
 * least `delayMs` ago, and its [from, to).
 * @example dayToReconcile(new Date('2026-12-07T15:20:00Z'), 15 * 60_000) // { day: '2026-12-07', from: 2026-12-06T15:00Z, to: 2026-12-07T15:00Z }
 */
export function dayToReconcile(now: Date, delayMs: number): { day: string; from: Date; to: Date } {
  const to = new Date(Math.floor((now.getTime() - delayMs + KST_OFFSET_MS) / DAY_MS) * DAY_MS - KST_OFFSET_MS);
  const from = new Date(to.getTime() - DAY_MS);
  return { day: new Date(from.getTime() + KST_OFFSET_MS).toISOString().slice(0, 10), from, to };
}

export interface DailyReconcileDeps {
  pool: Pool;
  log: Logger;
  /** Reconciles one range (both providers). */
  run: (range: { from: Date; to: Date }) => Promise<ReconcileReport>;
  registry?: client.Registry;
  /** How long after a KST midnight the day before is reconciled (late webhooks and payouts settle first). */
  delayMs?: number;
  leaseSeconds?: number;
}

/** Default wait after midnight (KST) before the day that ended is reconciled. */
export const RECONCILE_DELAY_MS = 15 * 60_000;
/** How long a run is its claimer's (renewed while it runs). */
const LEASE_SECONDS = 600;
/** A run that could not ask a provider is tried again after 5 min, doubling, at most an hour apart. */
const retrySeconds = (attempts: number) => Math.min(3600, 300 * 2 ** Math.max(0, attempts - 1));

/**
 * The sweeper's daily reconciliation: once per KST day, across processes and
 * restarts (a reconcile_runs row per day, taken under a lease), the day that
 * ended is reconciled and its report recorded; differences are logged as
 * errors. The gauges read the last finished run from the database, so every
 * sweeper process shows the same figures, also after a restart:
 * `missionlink_reconcile_differences{kind}` and
 * `missionlink_reconcile_last_run_timestamp_seconds`.
 * @example const daily = new DailyReconcile({ pool, log, run: (r) => reconcile(pool, providers, r) }); await daily.runDue();
 */
export class DailyReconcile {
  constructor(private readonly deps: DailyReconcileDeps) {
    const { registry, pool } = deps;
    if (!registry) return;
    // The last finished run (any process's).
    const lastRun = () =>
      pool
        .query<{ counts: Partial<Record<ReconcileArea, number>>; at: number }>(
          `SELECT counts, extract(epoch FROM finished_at)::float8 AS at FROM reconcile_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`,
        )
        .then((r) => r.rows[0] ?? null);
    new client.Gauge({
      name: 'missionlink_reconcile_differences',
      help: 'Differences between the providers and our books found by the last daily reconciliation, by kind (charges, refunds, withdrawals)',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        // Unknown is not zero: a database that does not answer keeps the last values.
        const run = await lastRun().catch(() => undefined);
        if (run === undefined) return;
        for (const kind of RECONCILE_AREAS) this.set({ kind }, Number(run?.counts?.[kind] ?? 0));
      },
    });
    new client.Gauge({
      name: 'missionlink_reconcile_last_run_timestamp_seconds',
      help: 'When the last daily reconciliation finished (Unix seconds; 0 before the first)',
      registers: [registry],
      async collect() {
        const run = await lastRun().catch(() => undefined);
        if (run !== undefined) this.set(run?.at ?? 0);
      },
    });
  }

  /**
   * Reconciles the day that is due at `now` unless it was done (or is being
   * done) already: `ran` (with its report), `skipped` when it is finished,
   * another process holds it, or its last try failed and waits to be tried
   * again. Throws when a provider could not be asked; the day is then tried
   * again later (5 minutes, doubling, at most an hour apart).
   */
  async runDue(now = new Date()): Promise<{ result: 'ran'; day: string; report: ReconcileReport } | { result: 'skipped'; day: string }> {
    const { day, from, to } = dayToReconcile(now, this.deps.delayMs ?? RECONCILE_DELAY_MS);
    const lease = this.deps.leaseSeconds ?? LEASE_SECONDS;
    const { pool, log } = this.deps;
    // One row per day: the first to insert it, or to find its lease run out
    // unfinished (its process died, or its try failed), reconciles the day.
    const { rows } = await pool.query<{ attempts: number }>(
      `INSERT INTO reconcile_runs (day, range_from, range_to, claimed_until) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       ON CONFLICT (day) DO UPDATE SET claimed_until = now() + make_interval(secs => $4), attempts = reconcile_runs.attempts + 1, started_at = now()
        WHERE reconcile_runs.finished_at IS NULL AND reconcile_runs.claimed_until < now()
       RETURNING attempts`,
      [day, from, to, lease],
    );
    if (!rows[0]) return { result: 'skipped', day };
    const attempts = rows[0].attempts;
    const renew = setInterval(() => {
      void pool
        .query(`UPDATE reconcile_runs SET claimed_until = now() + make_interval(secs => $2) WHERE day = $1 AND finished_at IS NULL`, [day, lease])
        .catch(() => undefined);
    }, (lease * 1000) / 3);
    renew.unref();
    try {
      let report: ReconcileReport;
      try {
        report = await this.deps.run({ from, to });
      } catch (err) {
        await pool
          .query(`UPDATE reconcile_runs SET claimed_until = now() + make_interval(secs => $2), last_error = $3 WHERE day = $1 AND finished_at IS NULL`, [
            day,
            retrySeconds(attempts),
            String((err as Error).message).slice(0, 500),
          ])
          .catch(() => undefined);
        throw err;
      }
      await pool.query(
        `UPDATE reconcile_runs SET finished_at = now(), ok = $2, counts = $3, report = $4, claimed_until = NULL, last_error = NULL WHERE day = $1 AND finished_at IS NULL`,
        [day, report.ok, JSON.stringify(report.counts), JSON.stringify(report)],
      );
      if (report.ok) log.info({ day }, 'reconciliation: the providers agree with the books');
      else log.error({ day, counts: report.counts, differences: report.differences.slice(0, 100) }, 'RECONCILIATION FOUND DIFFERENCES between the providers and the books');
      return { result: 'ran', day, report };
    } finally {
      clearInterval(renew);
    }
  }
}
