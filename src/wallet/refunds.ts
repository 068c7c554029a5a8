// Refunds of unused cash: back to the payment method it came from, newest
// charges first, each charge's share one partial cancellation at the
// provider. Two-phase in the ledger: each share is held from the wallet at
// once (a pending transfer whose id is the share's), then posted when the
// provider refunded it or voided when it refused. The provider is called
// outside any ledger transaction, and its answer recorded by a second one;
// the `refunds` table is the work queue that finishes, exactly once, a refund
// whose process died in between (lease + SKIP LOCKED, retries with backoff).
import { uuidv7 } from 'uuidv7';
import { createTransfer, ensureAccount, lockAccounts, resolvePending } from '../ledger/index.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { attachResource, claimKey, completeKey, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import { REFUND_COMPLETED } from './topics.ts';
import type { CancelResult, PaymentProvider } from './provider.ts';

export const REFUND_MIN = 1_000;

export interface Refund {
  id: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'partially_succeeded' | 'failed';
  createdAt: string;
}

/** Fault-injection seams of the refund path (crash tests stop the process here). */
export interface RefundHooks {
  /** Before the provider is asked to cancel a part. */
  beforeCancel?: (partId: string) => Promise<void> | void;
  /** After the provider answered, before the answer is recorded. */
  afterCancel?: (partId: string, result: CancelResult) => Promise<void> | void;
}

/**
 * How long a claimed refund is its claimer's: far longer than a provider
 * call. A process that dies holding it delays the refund this long; if a
 * slow call outlives it, a second claimer's call is harmless (every part is
 * cancelled once, and recorded once).
 */
const LEASE_SECONDS = 20;
/** How long a claimed refund key counts as in flight (see WalletService.charge). */
const IN_FLIGHT_SECONDS = 30;
/** Retries after a provider error: 5 s, doubling, at most 5 minutes apart. */
const backoffSeconds = (attempts: number) => Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));

/** The available cash of a wallet row. */
const availableOf = (r: { credits_posted: string | number; debits_posted: string | number; debits_pending: string | number }) =>
  Number(r.credits_posted) - Number(r.debits_posted) - Number(r.debits_pending);

/** What a user owes after a reversal (their user_owed account: debits owed, credits paid back). */
export async function owedOf(c: Queryable, userId: string): Promise<number> {
  const { rows } = await c.query<{ owed: string }>(
    `SELECT debits_posted - credits_posted AS owed FROM accounts WHERE ledger = 'KRW' AND code = 'user_owed' AND owner = $1`,
    [userId],
  );
  return Number(rows[0]?.owed ?? 0);
}

interface ChargeLeft {
  id: string;
  amount: string;
  cancelled_amount: string;
  reversed_amount: string;
  provider: string;
}

/**
 * Refunds, from the request to the provider's answers.
 * @example const { status, body } = await refunds.request(userId, 5_000, key);
 */
export class Refunds {
  private readonly loop: PollingLoop;

  constructor(
    private readonly deps: {
      pool: Pool;
      log: Logger;
      provider: () => PaymentProvider;
      /** Called after a commit that enqueued events. */
      eventsCommitted?: () => void;
      hooks?: RefundHooks;
      /** Called once per refund when the provider answered all of it. */
      completed?: (status: Refund['status'], refunded: number) => void;
      pollMs?: number;
      leaseSeconds?: number;
    },
  ) {
    this.loop = new PollingLoop('refunds', () => this.runOnce(), deps.log, deps.pollMs ?? 1_000);
  }

  private get pool() {
    return this.deps.pool;
  }

  private get lease() {
    return this.deps.leaseSeconds ?? LEASE_SECONDS;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * Takes `amount` out of the user's available cash for a refund (402 above
   * what is available, less what the user owes), splits it over the newest
   * charges that still have something to give back, holds each share, and
   * asks the provider at once; the sandbox answers at once. With an
   * Idempotency-Key the same request refunds once; one interrupted after its
   * first step is resumed on retry.
   */
  async request(userId: string, amount: number, key?: IdempotencyKey): Promise<Outcome<{ refund: Refund }>> {
    const started = await tx(this.pool, async (c) => {
      if (key) {
        const claim = await claimKey(c, key);
        if (claim.kind === 'replay') return { replay: claim as { status: number; body: { refund: Refund } } };
        if (claim.kind === 'unfinished') {
          if (!claim.resourceId || claim.ageSeconds < IN_FLIGHT_SECONDS) {
            throw new AppError('REQUEST_IN_PROGRESS', 'The same request is still being processed; retry shortly');
          }
          return { refundId: claim.resourceId, resumed: true };
        }
      }
      const id = await this.hold(c, userId, amount);
      if (key) await attachResource(c, key, id);
      return { refundId: id, resumed: false };
    });
    if ('replay' in started && started.replay) return { status: started.replay.status, body: started.replay.body, replayed: true };
    const refundId = started.refundId!;
    if (!started.resumed) this.deps.eventsCommitted?.();
    // The first step took the refund's lease for this request; a resumed
    // request takes it if nobody holds it (else the worker finishes it, and
    // the answer is the state now). A provider that does not answer leaves
    // the refund pending: the worker tries again.
    if (!started.resumed || (await this.claim(refundId))) {
      await this.process(refundId).catch((err: Error) => this.deps.log.warn({ refundId, err: err.message }, 'refund: left pending for the worker'));
    }
    const refund = await this.get(refundId);
    const body = { refund };
    if (key) await completeKey(this.pool, key, 201, body, refundId);
    return { status: 201, body, replayed: false };
  }

  /** The first step, in the caller's transaction: check, split, hold; answers the refund's id. */
  private async hold(c: Queryable, userId: string, amount: number): Promise<string> {
    // The charges first (as a reversal locks its charge), newest first, then the wallet.
    const { rows: charges } = await c.query<ChargeLeft>(
      `SELECT id, amount, cancelled_amount, reversed_amount, provider FROM charges
        WHERE user_id = $1 AND status = 'succeeded' AND cancelled_amount + reversed_amount < amount
        ORDER BY created_at DESC, id DESC
          FOR UPDATE`,
      [userId],
    );
    const wallet = await ensureAccount(c, 'KRW', 'user_wallet', userId);
    await lockAccounts(c, [wallet.id]);
    const { rows } = await c.query<{ credits_posted: string; debits_posted: string; debits_pending: string }>(
      'SELECT credits_posted, debits_posted, debits_pending FROM accounts WHERE id = $1',
      [wallet.id],
    );
    const available = availableOf(rows[0]!);
    const owed = await owedOf(c, userId);
    if (amount > available - owed) {
      throw new AppError(
        'INSUFFICIENT_FUNDS',
        owed > 0
          ? `Only ${Math.max(0, available - owed)} KRW can be refunded: ${owed} KRW is owed after a reversal`
          : `Only ${available} KRW is available to refund`,
      );
    }
    // Newest charges first, each giving what it still has.
    const parts: { id: string; charge: ChargeLeft; amount: number; before: number }[] = [];
    let left = amount;
    for (const ch of charges) {
      if (left === 0) break;
      const before = Number(ch.cancelled_amount) + Number(ch.reversed_amount);
      const take = Math.min(left, Number(ch.amount) - before);
      if (take <= 0) continue;
      parts.push({ id: uuidv7(), charge: ch, amount: take, before });
      left -= take;
    }
    if (left > 0) {
      // Available cash always came from charges that still have it (a reversal
      // never takes more than its charge has left), so this is a broken book.
      this.deps.log.error({ userId, amount, left }, 'refund: available cash exceeds what the charges can give back');
      throw new AppError('INSUFFICIENT_FUNDS', 'This cash cannot be refunded to a payment method');
    }
    const id = uuidv7();
    await c.query(`INSERT INTO refunds (id, user_id, amount, status, claimed_until) VALUES ($1, $2, $3, 'pending', now() + make_interval(secs => $4))`, [
      id,
      userId,
      amount,
      this.lease,
    ]);
    for (const p of parts) {
      await c.query(`INSERT INTO refund_parts (id, refund_id, charge_id, amount, cancelled_before, status) VALUES ($1, $2, $3, $4, $5, 'pending')`, [
        p.id,
        id,
        p.charge.id,
        p.amount,
        p.before,
      ]);
      await c.query('UPDATE charges SET cancelled_amount = cancelled_amount + $2 WHERE id = $1', [p.charge.id, p.amount]);
      const provider = await ensureAccount(c, 'KRW', 'payment_provider', p.charge.provider);
      await createTransfer(c, { id: p.id, debit: wallet, credit: provider, amount: p.amount, code: 'cash_refund', pending: true });
    }
    await enqueueEvent(c, 'wallet.refund_requested', userId, { refundId: id, userId, amount });
    return id;
  }

  /** A refund as the API shows it. */
  async get(id: string, userId?: string): Promise<Refund> {
    const { rows } = await this.pool.query<{ id: string; amount: string; status: Refund['status']; created_at: Date }>(
      'SELECT id, amount, status, created_at FROM refunds WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)',
      [id, userId ?? null],
    );
    const r = rows[0];
    if (!r) throw new AppError('NOT_FOUND', 'No such refund');
    return { id: r.id, amount: Number(r.amount), status: r.status, createdAt: r.created_at.toISOString() };
  }

  /** A user's refunds, newest first. */
  async list(userId: string, limit: number): Promise<Refund[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM refunds WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [userId, limit]);
    return Promise.all(rows.map((r) => this.get(r.id)));
  }

  /** Takes the lease of a pending refund if nobody holds it; true if taken. */
  private async claim(refundId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE refunds SET claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
        WHERE id = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())`,
      [refundId, this.lease],
    );
    return rowCount === 1;
  }

  /** One pass of the worker: takes one due refund (its lease) and works on it; true if it took one. */
  async runOnce(): Promise<boolean> {
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE refunds SET claimed_until = now() + make_interval(secs => $1), attempts = attempts + 1
        WHERE id = (SELECT id FROM refunds
                     WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
                     ORDER BY next_attempt_at LIMIT 1
                     -- SKIP LOCKED: every api process runs this worker; each refund is taken by one.
                     FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [this.lease],
    );
    if (!rows[0]) return false;
    const id = rows[0].id;
    // A provider that did not answer has had the refund put back for later (retryLater).
    await this.process(id).catch((err: Error) => this.deps.log.warn({ refundId: id, err: err.message }, 'refund: still pending'));
    return true;
  }

  /**
   * Asks the provider about every part still pending, records each answer
   * (post or void, in its own transaction), and completes the refund once
   * all are answered. The caller holds the refund's lease.
   */
  private async process(refundId: string): Promise<void> {
    const { rows: parts } = await this.pool.query<{ id: string; charge_id: string; amount: string; cancelled_before: string; provider_ref: string | null; charge_amount: string; provider: string }>(
      `SELECT p.id, p.charge_id, p.amount, p.cancelled_before, c.provider_ref, c.amount AS charge_amount, c.provider
         FROM refund_parts p JOIN charges c ON c.id = p.charge_id
        WHERE p.refund_id = $1 AND p.status = 'pending' ORDER BY p.id`,
      [refundId],
    );
    const provider = this.deps.provider();
    for (const p of parts) {
      await this.deps.hooks?.beforeCancel?.(p.id);
      if (p.provider !== provider.name) {
        // A charge made through another provider than this deployment's now: it cannot cancel it.
        await this.record(p.id, { status: 'failed', reason: `the charge was made through ${p.provider}, not ${provider.name}` });
        continue;
      }
      let result: CancelResult;
      try {
        result = await provider.cancel({
          partId: p.id,
          chargeId: p.charge_id,
          providerRef: p.provider_ref,
          amount: Number(p.amount),
          cancelledBefore: Number(p.cancelled_before),
          chargeAmount: Number(p.charge_amount),
          reason: 'Refund of unused cash',
        });
      } catch (err) {
        await this.retryLater(refundId, err as Error);
        throw err;
      }
      await this.deps.hooks?.afterCancel?.(p.id, result);
      await this.record(p.id, result);
    }
    await this.complete(refundId);
  }

  /** Records the provider's answer to a part: posts its hold (refunded) or voids it (refused). Once. */
  private async record(partId: string, result: CancelResult): Promise<void> {
    await tx(this.pool, async (c) => {
      const { rows } = await c.query<{ charge_id: string; amount: string }>(
        `SELECT charge_id, amount FROM refund_parts WHERE id = $1 AND status = 'pending' FOR UPDATE`,
        [partId],
      );
      const part = rows[0];
      if (!part) return; // answered already (another process finished it)
      const ok = result.status === 'succeeded';
      await resolvePending(c, [{ id: uuidv7(), pendingId: partId, postAmount: ok ? Number(part.amount) : 0, code: ok ? 'cash_refund_done' : 'cash_refund_failed' }]);
      await c.query(`UPDATE refund_parts SET status = $2, provider_ref = $3, failure_reason = $4, completed_at = now() WHERE id = $1`, [
        partId,
        result.status,
        ok ? result.providerRef : null,
        ok ? null : result.reason.slice(0, 500),
      ]);
      // A refused part gives its share of the charge back.
      if (!ok) await c.query('UPDATE charges SET cancelled_amount = cancelled_amount - $2 WHERE id = $1', [part.charge_id, part.amount]);
    });
  }

  /** Completes the refund once every part is answered. */
  private async complete(refundId: string): Promise<void> {
    const done = await tx(this.pool, async (c) => {
      const { rows } = await c.query<{ user_id: string; amount: string; status: string }>(
        'SELECT user_id, amount, status FROM refunds WHERE id = $1 FOR UPDATE',
        [refundId],
      );
      const r = rows[0];
      if (!r || r.status !== 'pending') return false;
      const { rows: sums } = await c.query<{ pending: string; ok: string }>(
        `SELECT count(*) FILTER (WHERE status = 'pending') AS pending, coalesce(sum(amount) FILTER (WHERE status = 'succeeded'), 0) AS ok
           FROM refund_parts WHERE refund_id = $1`,
        [refundId],
      );
      if (Number(sums[0]!.pending) > 0) return false;
      const refunded = Number(sums[0]!.ok);
      const status = refunded === Number(r.amount) ? 'succeeded' : refunded === 0 ? 'failed' : 'partially_succeeded';
      await c.query('UPDATE refunds SET status = $2, refunded_amount = $3, completed_at = now(), claimed_until = NULL WHERE id = $1', [refundId, status, refunded]);
      await enqueueEvent(c, REFUND_COMPLETED, r.user_id, { refundId, userId: r.user_id, amount: Number(r.amount), refunded, status });
      return { status: status as Refund['status'], refunded };
    });
    if (done) {
      this.deps.eventsCommitted?.();
      this.deps.completed?.(done.status, done.refunded);
    }
  }

  private async retryLater(refundId: string, err: Error): Promise<void> {
    this.deps.log.warn({ refundId, err: err.message }, 'refund: the provider did not answer; retrying later');
    await this.pool
      .query(
        `UPDATE refunds SET claimed_until = NULL, last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
          WHERE id = $1 AND status = 'pending'`,
        [refundId, err.message.slice(0, 500), backoffSeconds(await this.attempts(refundId))],
      )
      .catch(() => undefined);
  }

  private async attempts(refundId: string): Promise<number> {
    const { rows } = await this.pool.query<{ attempts: number }>('SELECT attempts FROM refunds WHERE id = $1', [refundId]);
    return rows[0]?.attempts ?? 1;
  }
}
