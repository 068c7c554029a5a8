import client from 'prom-client';
import type { Pool } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import type { PayoutProvider, PayoutStatus } from './provider.ts';
import type { PayoutService } from './service.ts';

export interface PayoutWorkerHooks {
  /** After a withdrawal is claimed, before the provider is asked (crash tests). */
  beforeProviderCall?: (withdrawalId: string) => Promise<void> | void;
  /** After the provider answered, before the answer is recorded (crash tests). */
  afterProviderCall?: (withdrawalId: string, result: PayoutStatus) => Promise<void> | void;
}

export interface PayoutWorkerDeps {
  pool: Pool;
  provider: PayoutProvider;
  payouts: PayoutService;
  log: Logger;
  registry?: client.Registry;
  hooks?: PayoutWorkerHooks;
  pollMs?: number;
}

/**
 * How long a claimed withdrawal stays with its worker. A worker that died
 * (kill -9) leaves it claimed this long; then another one (or the restarted
 * one) asks the provider again, with the same idempotency key, and learns
 * the same payout — it never makes a second one. A provider adapter's calls
 * must time out well within it.
 */
const CLAIM_SECONDS = 15;
/** While the provider is still paying, ask again this soon (unless the provider says otherwise). */
const PROCESSING_RECHECK_MS = 250;
const MAX_BACKOFF_SECONDS = 300;

type Claimed = { id: string; amount: number; fee: number; provider_ref: string; attempts: number };

/**
 * Sends `PROCESSING` withdrawals to the payout provider, outside any ledger
 * transaction, and records its final answer in a second one
 * (PayoutService.finish, exactly once). The withdrawal id is the provider
 * call's idempotency key, so a crash between the call and the commit, in
 * either order, never pays twice. Provider errors are retried with backoff
 * (capped at 5 minutes); nothing is lost across restarts: the queue is the
 * withdrawals table.
 * @example const worker = new PayoutWorker({ pool, provider, payouts, log }); worker.start();
 */
export class PayoutWorker {
  private readonly loop: PollingLoop;
  private readonly outcomes?: client.Counter<'result'>;

  constructor(private readonly deps: PayoutWorkerDeps) {
    this.loop = new PollingLoop('payouts', () => this.runOnce(), deps.log, deps.pollMs ?? 250);
    if (deps.registry) {
      const pool = deps.pool;
      // What operators alert on: withdrawals waiting for review, and how long the oldest one has been with the provider.
      new client.Gauge({
        name: 'missionlink_withdrawals_open',
        help: 'Withdrawals not finished yet, by status (REQUESTED waits for an admin, PROCESSING is with the provider)',
        labelNames: ['status'],
        registers: [deps.registry],
        async collect() {
          const { rows } = await pool.query<{ status: string; n: number }>(
            `SELECT s.status, (SELECT count(*) FROM withdrawals w WHERE w.status = s.status)::int AS n FROM unnest(ARRAY['REQUESTED', 'PROCESSING']) AS s(status)`,
          );
          for (const r of rows) this.set({ status: r.status }, r.n);
        },
      });
      new client.Gauge({
        name: 'missionlink_withdrawals_processing_oldest_seconds',
        help: 'Age of the oldest withdrawal with the payout provider (0 when none): a stuck provider shows here',
        registers: [deps.registry],
        async collect() {
          const { rows } = await pool.query<{ age: number | null }>(
            `SELECT extract(epoch FROM now() - min(coalesce(decided_at, requested_at)))::float8 AS age FROM withdrawals WHERE status = 'PROCESSING'`,
          );
          this.set(rows[0]?.age ?? 0);
        },
      });
      this.outcomes = new client.Counter({
        name: 'missionlink_withdrawals_total',
        help: 'Withdrawals finished by the payout worker, by result (paid, failed), and provider errors (error)',
        labelNames: ['result'],
        registers: [deps.registry],
      });
      // Every result from 0, so rates and alerts see the series before the first withdrawal.
      for (const result of ['paid', 'failed', 'error']) this.outcomes.inc({ result }, 0);
    }
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Works on the withdrawals that are due; returns true when a full batch was taken (there may be more). */
  async runOnce(batch = 20): Promise<boolean> {
    const { rows } = await this.deps.pool.query<Claimed>(
      `UPDATE withdrawals SET claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
        WHERE id = ANY (ARRAY(
          -- SKIP LOCKED: several workers may run; each withdrawal is taken by one.
          SELECT id FROM withdrawals
           WHERE status = 'PROCESSING' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED))
        RETURNING id, amount, fee, provider_ref, attempts`,
      [batch, CLAIM_SECONDS],
    );
    await Promise.all(rows.map((w) => this.work(w)));
    return rows.length === batch;
  }

  private async work(w: Claimed): Promise<void> {
    let result: PayoutStatus;
    await this.deps.hooks?.beforeProviderCall?.(w.id);
    try {
      result = await this.deps.provider.payout({ idempotencyKey: w.id, recipientRef: w.provider_ref, amount: Number(w.amount) - Number(w.fee) });
    } catch (err) {
      // The provider is down or slow: ask again later, with the same key.
      const backoff = Math.min(2 ** Math.min(w.attempts, 20), MAX_BACKOFF_SECONDS);
      await this.deps.pool.query(
        `UPDATE withdrawals SET claimed_until = NULL, last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
          WHERE id = $1 AND status = 'PROCESSING'`,
        [w.id, String((err as Error).message).slice(0, 500), backoff],
      );
      this.outcomes?.inc({ result: 'error' });
      this.deps.log.warn({ withdrawal: w.id, attempts: w.attempts, err: (err as Error).message }, 'payout provider call failed; retrying');
      return;
    }
    await this.deps.hooks?.afterProviderCall?.(w.id, result);
    if (result.status === 'processing') {
      await this.deps.pool.query(
        `UPDATE withdrawals SET claimed_until = NULL, next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1 AND status = 'PROCESSING'`,
        [w.id, (this.deps.provider.recheckMs ?? PROCESSING_RECHECK_MS) / 1000],
      );
      return;
    }
    if ((await this.deps.payouts.finish(w.id, result)) === 'finished') this.outcomes?.inc({ result: result.status });
  }
}
