import client from 'prom-client';
import { uuidv7 } from 'uuidv7';
import { createTransfer, ensureAccount, type AccountRef } from '../ledger/index.ts';
import { missionTitles } from '../missions/index.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { attachResource, claimKey, completeKey, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import { decodeCursor, deterministicId, encodeCursor } from '../platform/ids.ts';
import type { Logger } from '../platform/log.ts';
import type { Metrics } from '../platform/metrics.ts';
import { PortOneProvider, type Checkout } from './portone.ts';
import { verifyWebhook, type PaymentEvent, type PaymentProvider } from './provider.ts';
import { owedOf, Refunds, type Refund, type RefundHooks } from './refunds.ts';
import { disputeEventId } from './reconcile.ts';
import { applyReversal, repayOwed } from './reversals.ts';

export const SIGNUP_POINTS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DAILY_POINTS = 100;
/** How long a claimed charge key counts as in flight (a provider call takes far less). */
const CHARGE_IN_FLIGHT_SECONDS = 30;

export interface Wallet {
  available: number;
  held: number;
  currency: 'KRW';
  points: number;
  /** KRW the user owes after a provider reversal (0 normally); new charges pay it back first. */
  owed: number;
}

export interface Charge {
  id: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'failed';
  /** With PortOne: what the browser opens PortOne's checkout with (the charge stays pending until PortOne confirms it). */
  checkout?: Checkout;
}

export interface WalletEntry {
  id: string;
  kind:
    | 'charge'
    | 'pledge'
    | 'refund'
    | 'capture'
    | 'partial_capture'
    | 'payout'
    | 'adjustment'
    // A refund of unused cash: held, then done (0) or given back when the provider refused it.
    | 'cash_refund'
    | 'cash_refund_done'
    | 'cash_refund_failed'
    // A held pledge voided by a reversal (or released by an operator).
    | 'pledge_void'
    // A provider reversal, and what a new charge paid back of what was owed.
    | 'reversal'
    | 'owed_repayment';
  amount: number;
  balanceAfter: number;
  missionId?: string;
  /** The mission's title, with `missionId` (an extension). */
  missionTitle?: string;
  /**
   * On a hold made final (`capture`, `partial_capture`, `cash_refund_done`):
   * the part of the hold that left for good — captured for the mission (the
   * streamer's share of a failed one) or paid back to the payment method
   * (an extension). `amount` is what came back to `available`.
   */
  capturedAmount?: number;
  createdAt: string;
}

/** A movement of channel points (GET /api/v1/wallet/points/transactions, an extension). */
export interface PointsEntry {
  id: string;
  kind: 'signup' | 'daily' | 'bet' | 'payout' | 'refund' | 'adjustment';
  amount: number;
  balanceAfter: number;
  missionId?: string;
  /** The mission's title, with `missionId` (an extension). */
  missionTitle?: string;
  createdAt: string;
}

/** Ledger transfer codes on a points wallet, as entry kinds. */
const POINTS_KINDS: Record<string, PointsEntry['kind']> = {
  signup_points: 'signup',
  daily_points: 'daily',
  prediction_bet: 'bet',
  prediction_payout: 'payout',
  prediction_refund: 'refund',
};

/** The user's KRW wallet (created on first use). */
export function cashWallet(c: Queryable, userId: string): Promise<AccountRef> {
  return ensureAccount(c, 'KRW', 'user_wallet', userId);
}

/**
 * The user's points wallet; its first use grants the signup points, exactly
 * once (the grant's transfer id is derived from the user id).
 */
export async function pointsWallet(c: Queryable, userId: string): Promise<AccountRef> {
  const wallet = await ensureAccount(c, 'POINTS', 'user_wallet', userId);
  const issuer = await ensureAccount(c, 'POINTS', 'points_issuer', 'platform');
  await createTransfer(c, { id: deterministicId('signup-points', userId), debit: issuer, credit: wallet, amount: SIGNUP_POINTS, code: 'signup_points' });
  return wallet;
}

const available = (r: { credits_posted: number; debits_posted: number; debits_pending: number }) =>
  r.credits_posted - r.debits_posted - r.debits_pending;

/**
 * Cash and points of a user: charges through the payment provider, balances,
 * the history of every movement, and daily points.
 */
export class WalletService {
  provider!: PaymentProvider;
  /** Refunds of unused cash (their worker runs in every api process). */
  readonly refunds: Refunds;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    opts: {
      /** Called after a commit that enqueued events (reversals void pledges: live events). */
      eventsCommitted?: () => void;
      refundHooks?: RefundHooks;
    } = {},
  ) {
    this.eventsCommitted = opts.eventsCommitted ?? (() => {});
    const registry = metrics?.registry;
    const refunds = registry && new client.Counter({ name: 'missionlink_refunds_total', help: 'Refunds of unused cash completed, by outcome', labelNames: ['status'], registers: [registry] });
    const refundedKrw = registry && new client.Counter({ name: 'missionlink_refunded_krw_total', help: 'KRW refunded to payment methods', registers: [registry] });
    this.reversals = registry && new client.Counter({ name: 'missionlink_reversals_total', help: 'Provider reversals applied', registers: [registry] });
    this.reversedKrw = registry && new client.Counter({ name: 'missionlink_reversed_krw_total', help: 'KRW reversed by the payment provider, by where it came from: wallet or owed', labelNames: ['from'], registers: [registry] });
    if (registry) {
      // Every label value from 0, so rates, dashboards and alerts see the series before the first refund or reversal.
      for (const status of ['succeeded', 'partially_succeeded', 'failed']) refunds!.inc({ status }, 0);
      for (const from of ['wallet', 'owed']) this.reversedKrw!.inc({ from }, 0);
      // Refunds waiting for the provider; a growing number means the provider is not answering.
      new client.Gauge({
        name: 'missionlink_refunds_pending',
        help: 'Refunds of unused cash waiting for the payment provider',
        registers: [registry],
        collect: async function (this: client.Gauge) {
          const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM refunds WHERE status = 'pending'`).catch(() => ({ rows: [{ n: 0 }] }));
          this.set(Number(rows[0]!.n));
        },
      });
      // What the refunds-stuck alert reads: how long the oldest refund has waited for the provider's answer.
      new client.Gauge({
        name: 'missionlink_refunds_processing_oldest_seconds',
        help: 'Age of the oldest refund still waiting for the payment provider (0 when none): a stuck provider shows here',
        registers: [registry],
        collect: async function (this: client.Gauge) {
          const { rows } = await pool
            .query<{ age: number | null }>(`SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM refunds WHERE status = 'pending'`)
            .catch(() => ({ rows: [{ age: 0 }] }));
          this.set(Math.max(0, rows[0]?.age ?? 0));
        },
      });
    }
    this.refunds = new Refunds({
      pool,
      log,
      provider: () => this.provider,
      eventsCommitted: this.eventsCommitted,
      hooks: opts.refundHooks,
      completed: (status, refunded) => {
        refunds?.inc({ status });
        refundedKrw?.inc(refunded);
      },
    });
  }

  private readonly reversals: client.Counter | undefined;
  private readonly reversedKrw: client.Counter<'from'> | undefined;

  /** Counts an applied reversal. */
  private reversed(r: { fromWallet: number; owed: number }) {
    this.reversals?.inc();
    if (r.fromWallet) this.reversedKrw?.inc({ from: 'wallet' }, r.fromWallet);
    if (r.owed) this.reversedKrw?.inc({ from: 'owed' }, r.owed);
  }

  private readonly eventsCommitted: () => void;

  /**
   * Balance: `available` can be pledged; `held` is pledged to unsettled
   * missions (refunds on their way to the provider are neither); `owed` is
   * what a reversal left unpaid.
   */
  async wallet(userId: string): Promise<Wallet> {
    const { rows } = await this.pool.query<{ ledger: string; credits_posted: number; debits_posted: number; debits_pending: number }>(
      `SELECT ledger, credits_posted, debits_posted, debits_pending FROM accounts WHERE code = 'user_wallet' AND owner = $1`,
      [userId],
    );
    const [owed, refunding] = await Promise.all([
      owedOf(this.pool, userId),
      this.pool
        .query<{ n: string }>(
          `SELECT coalesce(sum(p.amount), 0) AS n FROM refunds r JOIN refund_parts p ON p.refund_id = r.id
            WHERE r.user_id = $1 AND r.status = 'pending' AND p.status = 'pending'`,
          [userId],
        )
        .then((r) => Number(r.rows[0]!.n)),
    ]);
    let points = rows.find((r) => r.ledger === 'POINTS');
    if (!points) {
      await tx(this.pool, (c) => pointsWallet(c, userId));
      points = { ledger: 'POINTS', credits_posted: SIGNUP_POINTS, debits_posted: 0, debits_pending: 0 };
    }
    const cash = rows.find((r) => r.ledger === 'KRW');
    return {
      available: cash ? available(cash) : 0,
      held: Math.max(0, (cash?.debits_pending ?? 0) - refunding),
      currency: 'KRW',
      points: available(points),
      owed,
    };
  }

  /**
   * Charges cash through the provider. With an idempotency key the same
   * request never charges twice; an interrupted one is resumed on retry.
   */
  async charge(userId: string, amount: number, key?: IdempotencyKey): Promise<Outcome<{ charge: Charge }>> {
    const started = await tx(this.pool, async (c) => {
      if (key) {
        const claim = await claimKey(c, key);
        if (claim.kind === 'replay') return { replay: claim as { status: number; body: { charge: Charge } } };
        if (claim.kind === 'unfinished') {
          // A recent claim belongs to a request still in flight: answering it
          // again would look like a second charge. Only a claim left behind
          // by an interrupted request (older than any provider call) resumes.
          if (!claim.resourceId || claim.ageSeconds < CHARGE_IN_FLIGHT_SECONDS) {
            throw new AppError('REQUEST_IN_PROGRESS', 'The same request is still being processed; retry shortly');
          }
          return { chargeId: claim.resourceId, resumed: true };
        }
      }
      const id = uuidv7();
      await c.query(`INSERT INTO charges (id, user_id, amount, status, provider) VALUES ($1, $2, $3, 'pending', $4)`, [id, userId, amount, this.provider.name]);
      if (key) await attachResource(c, key, id);
      return { chargeId: id, resumed: false };
    });
    if ('replay' in started && started.replay) return { status: started.replay.status, body: started.replay.body, replayed: true };
    const chargeId = started.chargeId!;
    let charge = await this.getCharge(chargeId);
    let checkout: Checkout | undefined;
    if (charge.status === 'pending') {
      const created = await this.provider.createCharge({ id: chargeId, amount: charge.amount, userId });
      checkout = (created as { checkout?: Checkout }).checkout;
      await this.pool.query('UPDATE charges SET provider_ref = $2 WHERE id = $1 AND provider_ref IS NULL', [chargeId, created.providerRef]);
      charge = await this.getCharge(chargeId);
      if (checkout && charge.status === 'pending') charge = { ...charge, checkout };
    }
    const body = { charge };
    if (key) await completeKey(this.pool, key, 201, body, chargeId);
    return { status: 201, body, replayed: false };
  }

  private async getCharge(id: string): Promise<Charge> {
    const { rows } = await this.pool.query<Charge>('SELECT id, amount, status FROM charges WHERE id = $1', [id]);
    return rows[0]!;
  }

  /**
   * A signed provider callback as it arrived (the raw body and its
   * signature header): verified with `secret`, then applied
   * (applyPaymentEvent). Throws INVALID_SIGNATURE when the signature is
   * missing, wrong or too old. The webhook route and the sandbox, which
   * calls this directly and not through HTTP (a charge still in flight when
   * the server stops must not find its own callback's door closed), share it.
   * @example const result = await wallet.applySignedPaymentEvent(secret, rawBody, req.headers[SIGNATURE_HEADER]);
   */
  async applySignedPaymentEvent(secret: string, raw: string, signature: string | undefined): Promise<'applied' | 'duplicate' | 'unknown_charge'> {
    if (!verifyWebhook(secret, raw, signature)) throw new AppError('INVALID_SIGNATURE', 'The webhook signature is missing, wrong or too old');
    return this.applyPaymentEvent(JSON.parse(raw) as PaymentEvent);
  }

  /**
   * Applies a verified provider callback. A replayed event id is a no-op; a
   * charge is credited at most once (its ledger transfer id is the charge id).
   */
  async applyPaymentEvent(event: PaymentEvent): Promise<'applied' | 'duplicate' | 'unknown_charge'> {
    // Our charge ids are UUIDs; anything else names no charge (and must not reach a uuid column).
    if (!UUID.test(event.chargeId)) return 'unknown_charge';
    const result = await tx(this.pool, async (c) => {
      const charge = await c.query<{ id: string; user_id: string; amount: number; status: string; provider: string; cancelled_amount: number; reversed_amount: number }>(
        'SELECT id, user_id, amount, status, provider, cancelled_amount, reversed_amount FROM charges WHERE id = $1 FOR UPDATE',
        [event.chargeId],
      );
      const row = charge.rows[0];
      if (!row) return 'unknown_charge';
      const seen = await c.query('INSERT INTO payment_webhook_events (event_id, charge_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [event.eventId, event.chargeId]);
      if (seen.rowCount === 0) return 'duplicate';
      if (event.status === 'reversed') {
        this.reversed(await applyReversal(c, { eventId: event.eventId, charge: row, amount: event.amount }));
        return 'applied' as const;
      }
      if (row.status !== 'pending') return 'duplicate';
      return (await this.completeCharge(c, event.chargeId, row, event.status, event.amount)) ? ('applied' as const) : ('duplicate' as const);
    });
    if (result === 'applied') this.eventsCommitted();
    if (result === 'applied' && event.status === 'succeeded') {
      this.metrics?.charges.inc();
      this.metrics?.chargedKrw.inc(event.amount);
    }
    return result;
  }

  /**
   * Completes a pending charge (its row locked by the caller) with the
   * provider's outcome: credits the wallet once (the transfer id is the
   * charge id), and pays back what the user owes first. False when the charge
   * was not pending.
   */
  private async completeCharge(c: Queryable, chargeId: string, row: { user_id: string; amount: number | string; status: string; provider: string }, status: 'succeeded' | 'failed', amount: number): Promise<boolean> {
    if (row.status !== 'pending') return false;
    if (status === 'succeeded') {
      if (amount !== Number(row.amount)) throw new AppError('VALIDATION_FAILED', 'The event amount does not match the charge');
      const wallet = await cashWallet(c, row.user_id);
      const provider = await ensureAccount(c, 'KRW', 'payment_provider', row.provider);
      await createTransfer(c, { id: chargeId, debit: provider, credit: wallet, amount, code: 'charge' });
      await repayOwed(c, row.user_id, amount, chargeId);
    }
    await c.query('UPDATE charges SET status = $2, completed_at = now() WHERE id = $1', [chargeId, status]);
    return true;
  }

  /**
   * Confirms a PortOne charge from PortOne itself, never from what the
   * browser or a webhook says: fetches the payment and, when it is our
   * store's, in KRW, for the charge's amount, credits a pending charge that
   * PortOne reports paid (or fails one it reports failed); a charge that
   * succeeded and that PortOne shows more cancelled than our refunds and
   * reversals account for was reversed at PortOne (applyReversal); an open
   * dispute (a chargeback: PortOne's Transaction.DisputeCreated) reverses
   * what the charge has left, once per dispute. A dispute resolved
   * (Transaction.DisputeResolved) restores nothing: PortOne does not say in
   * whose favour, and API.md names no restoration; if the merchant won, an
   * operator credits the user by hand. Null for
   * an unknown charge (or another user's, with `userId`). 503 when PortOne
   * cannot be asked. A sandbox charge is answered as it is.
   */
  async syncPayment(chargeId: string, userId?: string): Promise<Charge | null> {
    if (!UUID.test(chargeId)) return null;
    const { rows } = await this.pool.query<{ user_id: string; provider: string }>('SELECT user_id, provider FROM charges WHERE id = $1', [chargeId]);
    const known = rows[0];
    if (!known || (userId !== undefined && known.user_id !== userId)) return null;
    const portone = this.provider instanceof PortOneProvider ? this.provider : undefined;
    if (known.provider !== 'portone' || !portone) return this.getCharge(chargeId);
    let payment;
    try {
      payment = await portone.fetchPayment(chargeId);
    } catch (err) {
      this.log.warn({ chargeId, err: (err as Error).message }, 'portone: the payment could not be fetched');
      throw new AppError('UNAVAILABLE', 'The payment provider cannot be reached; try again shortly');
    }
    let credited = 0;
    const changed = await tx(this.pool, async (c) => {
      const { rows: locked } = await c.query<{ id: string; user_id: string; amount: number; status: string; provider: string; cancelled_amount: number; reversed_amount: number }>(
        'SELECT id, user_id, amount, status, provider, cancelled_amount, reversed_amount FROM charges WHERE id = $1 FOR UPDATE',
        [chargeId],
      );
      const charge = locked[0]!;
      if (!payment) return false;
      if (!portone.isOurs(payment) || payment.total !== Number(charge.amount)) {
        this.log.error({ chargeId, status: payment.status, total: payment.total, amount: charge.amount }, 'portone: the payment does not match its charge; nothing credited');
        return false;
      }
      let didSomething = false;
      if (charge.status === 'pending') {
        const paid = ['PAID', 'PARTIAL_CANCELLED', 'CANCELLED'].includes(payment.status);
        if (!paid && payment.status !== 'FAILED') return false;
        await this.completeCharge(c, chargeId, charge, paid ? 'succeeded' : 'failed', Number(charge.amount));
        charge.status = paid ? 'succeeded' : 'failed';
        if (paid) credited = Number(charge.amount);
        didSomething = true;
      }
      if (charge.status === 'succeeded') {
        // An open dispute (chargeback) takes what the charge has left, once per
        // dispute; first, so the cancellation PortOne makes when the dispute is
        // lost finds it reversed already.
        for (const d of payment.disputes) {
          if (d.status === 'RESOLVED') continue;
          const eventId = disputeEventId(chargeId, d.key);
          const seen = await c.query('SELECT 1 FROM payment_reversals WHERE event_id = $1', [eventId]);
          const left = Number(charge.amount) - Number(charge.cancelled_amount) - Number(charge.reversed_amount);
          if (seen.rowCount || left <= 0) continue;
          this.log.warn({ chargeId, dispute: d.key, reason: d.reason, amount: left }, 'portone: a dispute was opened; the payment is reversed');
          this.reversed(await applyReversal(c, { eventId, charge, amount: left }));
          charge.reversed_amount = Number(charge.reversed_amount) + left;
          didSomething = true;
        }
        // Cancelled at PortOne beyond our refunds (in flight or done) and the reversals we know: a reversal.
        const extra = payment.cancelled - Number(charge.cancelled_amount) - Number(charge.reversed_amount);
        if (extra > 0) {
          this.reversed(await applyReversal(c, { eventId: `portone:${chargeId}:cancelled:${payment.cancelled}`, charge, amount: extra }));
          didSomething = true;
        }
      }
      return didSomething;
    });
    if (changed) this.eventsCommitted();
    if (credited) {
      this.metrics?.charges.inc();
      this.metrics?.chargedKrw.inc(credited);
    }
    return this.getCharge(chargeId);
  }

  /**
   * Refunds unused cash to the payment methods it came from (see Refunds):
   * 201 with the refund; in the sandbox it has succeeded already.
   */
  refund(userId: string, amount: number, key?: IdempotencyKey): Promise<Outcome<{ refund: Refund }>> {
    return this.refunds.request(userId, amount, key);
  }

  /** Every movement of the user's cash, newest first, with the available balance after it. */
  async transactions(userId: string, limit: number, cursor?: string): Promise<{ items: WalletEntry[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor(cursor) : null;
    if (cursor && !after) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
    // Each transfer on the wallet is one entry; `delta` is its effect on `available`.
    const { rows } = await this.pool.query<{ id: string; code: string; flags: number; delta: number; captured: number; mission_id: string | null; created_at: Date; at_text: string; balance_after: number }>(
      `WITH w AS (SELECT id FROM accounts WHERE ledger = 'KRW' AND code = 'user_wallet' AND owner = $1),
       entries AS (
         SELECT t.id, t.code, t.flags, t.mission_id, t.created_at,
                CASE
                  WHEN t.flags = 0 AND t.credit_account_id = w.id THEN t.amount
                  WHEN t.flags = 0 AND t.debit_account_id = w.id THEN -t.amount
                  WHEN t.flags = 1 THEN -t.amount
                  WHEN t.flags = 4 THEN t.amount
                  WHEN t.flags = 2 THEN p.amount - t.amount
                END AS delta,
                CASE WHEN t.flags = 2 THEN t.amount ELSE 0 END AS captured
           FROM w JOIN transfers t ON t.debit_account_id = w.id OR t.credit_account_id = w.id
           LEFT JOIN transfers p ON p.id = t.pending_id
       ),
       running AS (
         SELECT *, created_at::text AS at_text, sum(delta) OVER (ORDER BY created_at, id) AS balance_after FROM entries
       )
       SELECT * FROM running
        WHERE $2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid)
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const items = page.map((r): WalletEntry => {
      let kind: WalletEntry['kind'];
      if (r.flags === 1) kind = r.code === 'cash_refund' ? 'cash_refund' : 'pledge';
      else if (r.flags === 4) kind = r.code === 'cash_refund_failed' ? 'cash_refund_failed' : r.code === 'pledge_void' ? 'pledge_void' : 'refund';
      else if (r.flags === 2) kind = r.code === 'cash_refund_done' ? 'cash_refund_done' : Number(r.delta) === 0 ? 'capture' : 'partial_capture';
      else kind = (['charge', 'payout', 'reversal', 'owed_repayment'] as const).find((k) => k === r.code) ?? 'adjustment';
      const entry: WalletEntry = { id: r.id, kind, amount: Number(r.delta), balanceAfter: Number(r.balance_after), createdAt: r.created_at.toISOString() };
      if (r.mission_id) entry.missionId = r.mission_id;
      if (r.flags === 2 && Number(r.captured) > 0) entry.capturedAmount = Number(r.captured);
      return entry;
    });
    await this.nameMissions(items);
    const last = page.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
  }

  /**
   * Every movement of the user's channel points, newest first, with the
   * balance after it: the sign-up grant, daily claims, bets, payouts and
   * refunds of predictions (all posted transfers on the POINTS ledger).
   * @example const page = await wallet.pointsTransactions(userId, 20);
   */
  async pointsTransactions(userId: string, limit: number, cursor?: string): Promise<{ items: PointsEntry[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor(cursor) : null;
    if (cursor && !after) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
    const { rows } = await this.pool.query<{ id: string; code: string; delta: string; mission_id: string | null; created_at: Date; at_text: string; balance_after: string }>(
      `WITH w AS (SELECT id FROM accounts WHERE ledger = 'POINTS' AND code = 'user_wallet' AND owner = $1),
       entries AS (
         SELECT t.id, t.code, t.mission_id, t.created_at,
                CASE WHEN t.credit_account_id = w.id THEN t.amount ELSE -t.amount END AS delta,
                -- The sign-up grant is written lazily, in the transaction of the
                -- first points movement (same created_at): it still comes first.
                CASE WHEN t.code = 'signup_points' THEN 0 ELSE 1 END AS rank
           FROM w JOIN transfers t ON t.debit_account_id = w.id OR t.credit_account_id = w.id
       ),
       running AS (
         SELECT *, created_at::text AS at_text, sum(delta) OVER (ORDER BY created_at, rank, id) AS balance_after FROM entries
       )
       SELECT * FROM running
        WHERE $2::timestamptz IS NULL
           OR (created_at, rank, id) < (SELECT c.created_at, c.rank, c.id FROM running c WHERE c.id = $3::uuid AND c.created_at = $2::timestamptz)
        ORDER BY created_at DESC, rank DESC, id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const items = page.map((r): PointsEntry => {
      const entry: PointsEntry = {
        id: r.id,
        kind: POINTS_KINDS[r.code] ?? 'adjustment',
        amount: Number(r.delta),
        balanceAfter: Number(r.balance_after),
        createdAt: r.created_at.toISOString(),
      };
      if (r.mission_id) entry.missionId = r.mission_id;
      return entry;
    });
    await this.nameMissions(items);
    const last = page.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
  }

  /** Gives each entry with a mission its title (one lookup per page, through the missions module). */
  private async nameMissions(items: { missionId?: string; missionTitle?: string }[]): Promise<void> {
    const ids = [...new Set(items.flatMap((e) => (e.missionId ? [e.missionId] : [])))];
    const titles = await missionTitles(this.pool, ids);
    for (const e of items) {
      const title = e.missionId ? titles.get(e.missionId) : undefined;
      if (title !== undefined) e.missionTitle = title;
    }
  }

  /**
   * 100 points once per calendar day in Korea (KST, UTC+9, no daylight
   * saving; contract 1.1 — it was the UTC day). `now` is the server's clock
   * unless a test sets it.
   * @example await wallet.claimDailyPoints(userId); // { granted: 100, points: 1100 }
   */
  async claimDailyPoints(userId: string, now: Date = new Date()): Promise<{ granted: number; points: number }> {
    return tx(this.pool, async (c) => {
      const wallet = await pointsWallet(c, userId);
      const transferId = uuidv7();
      // The primary key (user_id, day) makes a second claim on one KST day impossible.
      const claimed = await c.query(
        `INSERT INTO points_claims (user_id, day, transfer_id) VALUES ($1, $3::date, $2) ON CONFLICT DO NOTHING`,
        [userId, transferId, kstDay(now)],
      );
      if (claimed.rowCount === 0) throw new AppError('ALREADY_CLAIMED', `Today’s points were already claimed; the next claim opens at ${nextKstMidnight(now).toISOString()} (midnight KST)`);
      const issuer = await ensureAccount(c, 'POINTS', 'points_issuer', 'platform');
      await createTransfer(c, { id: transferId, debit: issuer, credit: wallet, amount: DAILY_POINTS, code: 'daily_points' });
      const { rows } = await c.query<{ credits_posted: number; debits_posted: number; debits_pending: number }>(
        'SELECT credits_posted, debits_posted, debits_pending FROM accounts WHERE id = $1',
        [wallet.id],
      );
      return { granted: DAILY_POINTS, points: available(rows[0]!) };
    });
  }
}

/** Korea Standard Time is UTC+9 all year (no daylight saving since 1988). */
const KST_OFFSET_MS = 9 * 3600_000;

/** The calendar day in Korea at `now`, as YYYY-MM-DD. @example kstDay(new Date('2026-12-06T15:00:00Z')) // '2026-12-07' */
export function kstDay(now: Date): string {
  return new Date(now.getTime() + KST_OFFSET_MS).toISOString().slice(0, 10);
}

/** The next midnight in Korea after `now` (when the next daily claim opens). */
export function nextKstMidnight(now: Date): Date {
  const day = 86_400_000;
  return new Date((Math.floor((now.getTime() + KST_OFFSET_MS) / day) + 1) * day - KST_OFFSET_MS);
}
