import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../platform/db.ts';

/**
 * What a payment provider tells us about a charge, through its webhook: the
 * outcome of a new charge (`succeeded`, `failed`), or a reversal of `amount`
 * KRW of a charge that succeeded (a card cancellation or chargeback made at
 * the provider).
 */
export interface PaymentEvent {
  eventId: string;
  chargeId: string;
  status: 'succeeded' | 'failed' | 'reversed';
  amount: number;
}

/** One partial cancellation of a charge at the provider: a refund's share of that charge. */
export interface CancelRequest {
  /** Our id of the part; a provider that takes an idempotency key gets this. */
  partId: string;
  chargeId: string;
  /** The provider's reference of the payment (charges.provider_ref). */
  providerRef: string | null;
  /** KRW to cancel. */
  amount: number;
  /** What of the charge the provider had cancelled before this part, as far as we know. */
  cancelledBefore: number;
  /** The charge's whole amount. */
  chargeAmount: number;
  reason: string;
}

/**
 * The provider's final answer to a cancellation: done, or refused for good
 * (the money stays in the wallet). A provider that could not be reached, or
 * answered something else, throws: the part is tried again later.
 */
export type CancelResult = { status: 'succeeded'; providerRef: string } | { status: 'failed'; reason: string };

/** A cash payment provider. Charges complete asynchronously through the webhook. */
export interface PaymentProvider {
  readonly name: string;
  createCharge(charge: { id: string; amount: number; userId: string }): Promise<{ providerRef: string }>;
  /**
   * Cancels part of a payment. Must be safe to call again for the same part
   * (after a crash between the call and our record of its answer): a part
   * is cancelled at most once.
   */
  cancel(part: CancelRequest): Promise<CancelResult>;
}

/**
 * One payment as the provider reports it, for reconciliation: its outcome,
 * amount, and every cancellation of it (our refund parts carry their part
 * id; the others were made outside our refunds: a console cancellation, a
 * chargeback).
 */
export interface ReportedPayment {
  /** The payment's id at the provider, which is our charge id. */
  chargeId: string;
  /** `paid` also when it was cancelled since (its cancellations say how much). */
  status: 'paid' | 'failed' | 'pending';
  amount: number;
  currency: string;
  cancellations: { id: string; partId: string | null; amount: number; status: 'succeeded' | 'requested' | 'failed' }[];
  /**
   * Disputes (chargebacks) opened on the payment, by a key stable per dispute;
   * null when the provider's answer does not list them (PortOne lists
   * disputes only on payments it shows `PAID`).
   */
  disputes: { key: string; status: string }[] | null;
}

/**
 * What a payment provider reports of its payments, for `missionlink
 * reconcile` and the sweeper's daily run (the sandbox: its own books;
 * PortOne: its payments API).
 */
export interface PaymentReports {
  readonly name: string;
  /** Whether the provider reports cancellations made outside our refunds (reversals). */
  readonly reportsReversals: boolean;
  /** The payments made, or changed (cancelled), in [from, to). */
  listPayments(range: { from: Date; to: Date }): Promise<ReportedPayment[]>;
  /** One payment by our charge id; null when the provider does not know it. */
  getPayment(chargeId: string): Promise<ReportedPayment | null>;
}

export const SIGNATURE_HEADER = 'x-missionlink-signature';
const TOLERANCE_SECONDS = 300;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, like the big providers do. */
export function signWebhook(secret: string, rawBody: string, at = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${at}.${rawBody}`).digest('hex');
  return `t=${at},v1=${mac}`;
}

/** Constant-time check of a webhook signature, with a replay window on its timestamp. */
export function verifyWebhook(secret: string, rawBody: string, header: string | undefined, now = Date.now()): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const at = Number(parts.t);
  if (!Number.isInteger(at) || !parts.v1 || Math.abs(now / 1000 - at) > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${at}.${rawBody}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The built-in sandbox: every charge succeeds at once, but still through the
 * real path — a signed callback delivered to the webhook endpoint.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  constructor(
    private readonly secret: string,
    private readonly deliver: (rawBody: string, signature: string) => Promise<void>,
    /** Where the sandbox keeps its own books of cancellations (the funding database). */
    private readonly books?: Queryable,
  ) {}

  /**
   * Every cancellation succeeds at once, recorded once per part in the
   * sandbox's own books (sandbox_cancellations): a part sent again after a
   * crash is answered as before, never cancelled twice.
   */
  async cancel(part: CancelRequest): Promise<CancelResult> {
    if (!this.books) throw new Error('the sandbox provider needs its books to cancel');
    await this.books.query('INSERT INTO sandbox_cancellations (part_id, charge_id, amount) VALUES ($1, $2, $3) ON CONFLICT (part_id) DO NOTHING', [
      part.partId,
      part.chargeId,
      part.amount,
    ]);
    return { status: 'succeeded', providerRef: `sandbox_cancel_${part.partId}` };
  }

  async createCharge(charge: { id: string; amount: number }): Promise<{ providerRef: string }> {
    // The sandbox's books first, as a provider records a payment before it calls back.
    await this.books?.query(`INSERT INTO sandbox_payments (charge_id, amount, status) VALUES ($1, $2, 'paid') ON CONFLICT (charge_id) DO NOTHING`, [charge.id, charge.amount]);
    const event: PaymentEvent = { eventId: `evt_${charge.id}`, chargeId: charge.id, status: 'succeeded', amount: charge.amount };
    const raw = JSON.stringify(event);
    await this.deliver(raw, signWebhook(this.secret, raw));
    return { providerRef: `sandbox_${charge.id}` };
  }
}

/**
 * The sandbox's own books, read as a provider's report (sandbox_payments,
 * sandbox_cancellations): what `missionlink reconcile` compares our charges
 * and refunds with when PAYMENT_PROVIDER=sandbox. Reversals come to the
 * sandbox as signed callbacks from outside and are not in its books, so they
 * are not compared.
 * @example const diffs = await reconcilePayments(pool, new SandboxBooks(pool), { from, to });
 */
export class SandboxBooks implements PaymentReports {
  readonly name = 'sandbox';
  readonly reportsReversals = false;

  constructor(private readonly books: Queryable) {}

  async listPayments(range: { from: Date; to: Date }): Promise<ReportedPayment[]> {
    const { rows } = await this.books.query<{ charge_id: string }>(
      `SELECT charge_id FROM sandbox_payments WHERE created_at >= $1 AND created_at < $2
       UNION SELECT charge_id FROM sandbox_cancellations WHERE created_at >= $1 AND created_at < $2`,
      [range.from, range.to],
    );
    return this.read(rows.map((r) => r.charge_id));
  }

  async getPayment(chargeId: string): Promise<ReportedPayment | null> {
    return (await this.read([chargeId]))[0] ?? null;
  }

  private async read(ids: string[]): Promise<ReportedPayment[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.books.query<{ charge_id: string; amount: string; status: 'paid' | 'failed' }>(
      'SELECT charge_id, amount, status FROM sandbox_payments WHERE charge_id = ANY ($1::uuid[])',
      [ids],
    );
    const { rows: cancels } = await this.books.query<{ part_id: string; charge_id: string; amount: string }>(
      'SELECT part_id, charge_id, amount FROM sandbox_cancellations WHERE charge_id = ANY ($1::uuid[]) ORDER BY created_at',
      [ids],
    );
    return rows.map((p) => ({
      chargeId: p.charge_id,
      status: p.status,
      amount: Number(p.amount),
      currency: 'KRW',
      cancellations: cancels
        .filter((c) => c.charge_id === p.charge_id)
        .map((c) => ({ id: `sandbox_cancel_${c.part_id}`, partId: c.part_id, amount: Number(c.amount), status: 'succeeded' as const })),
      disputes: [],
    }));
  }
}
