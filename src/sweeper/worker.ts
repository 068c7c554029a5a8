import type { Pool } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { pruneLiveEvents, type MissionExpiry } from '../missions/index.ts';
import { verifyAndRecord, type LedgerCheck } from '../ledger/index.ts';
import { DailyReconcile, type DailyReconcileDeps } from './reconcile.ts';

/** How often the sweeper proves the books (and records the result for the ops page and alerts). */
export const LEDGER_VERIFY_INTERVAL_MS = 5 * 60_000;

export interface SweeperDeps {
  pool: Pool;
  /** Missions' expiry (a MissionService, or a MissionExpirer where no API runs). */
  missions: MissionExpiry;
  log: Logger;
  /** What other modules add to the periodic ledger verification (the pledge book's checks). */
  ledgerChecks?: LedgerCheck[];
  intervalMs?: number;
  /** The daily reconciliation with the providers (DailyReconcile): how to run it, and its metrics' registry. */
  reconcile?: Pick<DailyReconcileDeps, 'run' | 'registry' | 'delayMs'>;
}

/** How often a sweeper asks whether the day's reconciliation is due (a cheap insert that usually finds it done). */
const RECONCILE_CHECK_MS = 60_000;

/**
 * Time-driven work: expires proposals past their accept window and missions
 * past their deadline, proves the books every few minutes, reconciles the
 * day that ended with the providers once a day (DailyReconcile), and prunes
 * old idempotency keys, inbox and outbox rows and (through missions) old
 * live events.
 * Stuck outbox rows are retried by the relay when their lease runs out.
 */
export class Sweeper {
  private lastPrune = 0;
  private lastVerify = 0;
  private lastReconcileCheck = 0;
  /** The day's reconciliation while it runs (in the background: it waits on the providers). */
  private reconciling: Promise<void> | undefined;
  private readonly loop: PollingLoop;
  /** The daily reconciliation, when this sweeper runs it. */
  readonly daily?: DailyReconcile;

  constructor(private readonly deps: SweeperDeps) {
    // runOnce loops over due work itself; one pass per interval is enough.
    this.loop = new PollingLoop('sweeper', async () => (await this.runOnce(), false), deps.log, deps.intervalMs ?? 1000);
    if (deps.reconcile) this.daily = new DailyReconcile({ pool: deps.pool, log: deps.log, ...deps.reconcile });
  }

  start(): void {
    this.loop.start();
  }

  async runOnce(): Promise<number> {
    let expired = 0;
    for (let n = -1; n !== 0; ) {
      n = await this.deps.missions.expireDue(new Date());
      expired += n;
    }
    if (Date.now() - this.lastVerify > LEDGER_VERIFY_INTERVAL_MS) {
      this.lastVerify = Date.now();
      const report = await verifyAndRecord(this.deps.pool, this.deps.ledgerChecks);
      if (!report.ok) this.deps.log.error({ problems: report.problems }, 'LEDGER VERIFICATION FAILED: the books do not balance');
    }
    if (this.daily && !this.reconciling && Date.now() - this.lastReconcileCheck > RECONCILE_CHECK_MS) {
      this.lastReconcileCheck = Date.now();
      const daily = this.daily;
      this.reconciling = daily
        .runDue()
        .then(() => undefined)
        .catch((err: Error) => this.deps.log.warn({ err: err.message }, 'reconciliation could not ask a provider; it is tried again later'))
        .finally(() => (this.reconciling = undefined));
    }
    if (Date.now() - this.lastPrune > 3600_000) {
      this.lastPrune = Date.now();
      const { pool } = this.deps;
      // Idempotency keys live at least 24 h (API.md); we keep them 48 h.
      await pool.query(`DELETE FROM idempotency_keys WHERE created_at < now() - interval '48 hours'`);
      await pool.query(`DELETE FROM inbox WHERE processed_at < now() - interval '14 days'`);
      await pool.query(`DELETE FROM outbox WHERE published_at < now() - interval '14 days'`);
      await pruneLiveEvents(pool);
    }
    return expired;
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    // A run left unfinished is read-only so far: its lease runs out and the day is reconciled again.
    if (this.reconciling) await Promise.race([this.reconciling, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  }
}
