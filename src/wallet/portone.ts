// PortOne V2 as the payment provider (PAYMENT_PROVIDER=portone), through the
// official server SDK. The browser opens PortOne's checkout with what
// createCharge answers; nothing the browser or a webhook says is believed on
// its own: every confirmation fetches the payment from PortOne's API and
// checks its store, status, currency and amount (see WalletService.syncPayment).
// Refunds are partial cancellations through PortOne's cancel API, guarded by
// `currentCancellableAmount` and found again by the part id in their reason,
// so a part sent twice is cancelled once.
import type { PaymentClient } from '@portone/server-sdk/payment';
import { verify as verifyPortOneWebhook } from '@portone/server-sdk/webhook';
import type { CancelRequest, CancelResult, PaymentProvider, PaymentReports, ReportedPayment } from './provider.ts';

export interface PortOneSettings {
  apiSecret: string;
  storeId: string;
  channelKey: string;
  /** Standard Webhooks secret (`whsec_…`). */
  webhookSecret: string;
  /** PortOne's API origin (PORTONE_API_URL; a local fake in tests). */
  apiUrl: string;
}

/** What the browser needs to open PortOne's checkout for a charge. */
export interface Checkout {
  storeId: string;
  channelKey: string;
  paymentId: string;
  orderName: string;
  totalAmount: number;
  currency: 'KRW';
}

/** A payment as PortOne reports it, reduced to what we check. */
export interface ProviderPayment {
  id: string;
  storeId: string | undefined;
  status: string;
  currency: string | undefined;
  /** The amount paid for (amount.total). */
  total: number;
  /** What has been cancelled of it so far (amount.cancelled). */
  cancelled: number;
  cancellations: { id: string; status: string; totalAmount: number; reason: string }[];
  /** Disputes (chargebacks): PortOne lists them only on a payment it shows PAID; none otherwise. */
  disputes: PortOneDispute[];
}

/** A dispute as PortOne reports it: no amount (a chargeback disputes the payment), an optional PG id. */
export interface PortOneDispute {
  /** Stable per dispute: the PG's dispute id, else its creation time. */
  key: string;
  status: string;
  reason: string;
  createdAt: string;
}

/** PortOne's payments as one page of its list answers them. */
const LIST_PAGE_SIZE = 1000;
/** How a part id closes a cancellation reason (reasonOf). */
const PART_IN_REASON = /\[([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]$/i;

type RawPayment = {
  id?: string;
  storeId?: string;
  status: string;
  currency?: string;
  amount?: { total?: number; cancelled?: number };
  cancellations?: { id?: string; status?: string; totalAmount?: number; reason?: string }[];
  disputes?: { status?: string; pgDisputeId?: string; reason?: string; createdAt?: string }[];
};

function toPayment(any: RawPayment, fallbackId: string): ProviderPayment {
  return {
    id: String(any.id ?? fallbackId),
    storeId: any.storeId,
    status: String(any.status),
    currency: any.currency,
    total: Number(any.amount?.total ?? 0),
    cancelled: Number(any.amount?.cancelled ?? 0),
    cancellations: (any.cancellations ?? []).map((c) => ({ id: String(c.id), status: String(c.status), totalAmount: Number(c.totalAmount ?? 0), reason: String(c.reason ?? '') })),
    disputes: (any.disputes ?? []).map((d) => ({
      key: d.pgDisputeId ? `pg-${d.pgDisputeId}` : `at-${String(d.createdAt ?? '')}`,
      status: String(d.status ?? ''),
      reason: String(d.reason ?? ''),
      createdAt: String(d.createdAt ?? ''),
    })),
  };
}

/** The cancellation reason names the part: how a retried part finds its earlier attempt. */
const reasonOf = (part: CancelRequest) => `${part.reason} [${part.partId}]`;

/** Error types PortOne answers a cancellation with that mean it will never go through. */
const FINAL_REFUSALS = new Set([
  'CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT',
  'PAYMENT_ALREADY_CANCELLED',
  'PAYMENT_NOT_PAID',
  'PAYMENT_NOT_FOUND',
  'CANCEL_TAX_AMOUNT_EXCEEDS_CANCELLABLE_TAX_AMOUNT',
  'CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT',
  'NEGATIVE_PROMOTION_ADJUSTED_CANCEL_AMOUNT',
  'SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT',
]);

const errorType = (err: unknown): string | undefined => (err as { data?: { type?: string } } | null)?.data?.type;

export class PortOneProvider implements PaymentProvider, PaymentReports {
  /** PortOne shows every cancellation of a payment, ours and those made elsewhere. */
  readonly reportsReversals = true;
  readonly name = 'portone';
  private client: Promise<PaymentClient> | undefined;

  constructor(private readonly settings: PortOneSettings) {}

  /** The SDK's payments client, loaded on first use: importing the SDK takes over 100 ms of every start, which a process that never calls PortOne should not pay. */
  private get payments(): Promise<PaymentClient> {
    const { apiSecret, apiUrl, storeId } = this.settings;
    return (this.client ??= import('@portone/server-sdk/payment').then((sdk) => sdk.PaymentClient({ secret: apiSecret, baseUrl: apiUrl, storeId })));
  }

  /** The charge waits for PortOne: the browser pays through the checkout, and our id is the payment's. */
  async createCharge(charge: { id: string; amount: number }): Promise<{ providerRef: string; checkout: Checkout }> {
    return {
      providerRef: charge.id,
      checkout: {
        storeId: this.settings.storeId,
        channelKey: this.settings.channelKey,
        paymentId: charge.id,
        orderName: `MissionLink ${charge.amount.toLocaleString('en-US')} KRW`,
        totalAmount: charge.amount,
        currency: 'KRW',
      },
    };
  }

  /** The payment as PortOne has it, or null when PortOne does not know it. Throws when PortOne cannot be asked. */
  async fetchPayment(paymentId: string): Promise<ProviderPayment | null> {
    let p;
    try {
      p = await (await this.payments).getPayment({ paymentId });
    } catch (err) {
      if (errorType(err) === 'PAYMENT_NOT_FOUND') return null;
      throw err;
    }
    return toPayment(p as unknown as RawPayment, paymentId);
  }

  /**
   * PortOne's payments of our store made, or whose status changed (paid,
   * cancelled), in [from, to): its payments list (`GET /payments`, filtered
   * by store and time, page by page), asked once by creation time and once
   * by status-change time.
   */
  async listPayments(range: { from: Date; to: Date }): Promise<ReportedPayment[]> {
    const seen = new Map<string, ReportedPayment>();
    for (const timestampType of ['CREATED_AT', 'STATUS_CHANGED_AT'] as const) {
      for (let number = 0; ; number++) {
        const res = await (await this.payments).getPayments({
          page: { number, size: LIST_PAGE_SIZE },
          filter: { storeId: this.settings.storeId, timestampType, from: range.from.toISOString(), until: range.to.toISOString() },
        });
        for (const raw of res.items) {
          const p = toPayment(raw as unknown as RawPayment, '');
          if (p.storeId === this.settings.storeId) seen.set(p.id, this.report(p));
        }
        if (res.items.length < LIST_PAGE_SIZE) break;
      }
    }
    return [...seen.values()];
  }

  /** One payment of our store, as a report; null when PortOne does not know it (in our store). */
  async getPayment(chargeId: string): Promise<ReportedPayment | null> {
    const p = await this.fetchPayment(chargeId);
    return p && p.storeId === this.settings.storeId ? this.report(p) : null;
  }

  /** A PortOne payment as reconciliation reads it. */
  private report(p: ProviderPayment): ReportedPayment {
    const status = ['PAID', 'PARTIAL_CANCELLED', 'CANCELLED'].includes(p.status) ? 'paid' : p.status === 'FAILED' ? 'failed' : 'pending';
    return {
      chargeId: p.id,
      status,
      amount: p.total,
      currency: p.currency ?? '',
      cancellations: p.cancellations.map((c) => ({
        id: c.id,
        partId: PART_IN_REASON.exec(c.reason)?.[1]?.toLowerCase() ?? null,
        amount: c.totalAmount,
        status: c.status === 'SUCCEEDED' ? 'succeeded' : c.status === 'FAILED' ? 'failed' : 'requested',
      })),
      // Only a payment shown PAID lists its disputes.
      disputes: p.status === 'PAID' ? p.disputes.map((d) => ({ key: d.key, status: d.status })) : null,
    };
  }

  /** True when the payment is ours to look at: our store, in KRW. */
  isOurs(payment: ProviderPayment): boolean {
    return payment.storeId === this.settings.storeId && payment.currency === 'KRW';
  }

  /**
   * One partial cancellation. First looks for an earlier attempt of this part
   * (a crash between PortOne's answer and our record of it); else asks
   * PortOne to cancel `amount`, stating the cancellable amount it should
   * have now, so a second, concurrent send of the part is refused.
   */
  async cancel(part: CancelRequest): Promise<CancelResult> {
    if (!part.providerRef) return { status: 'failed', reason: 'the charge has no PortOne payment' };
    const payment = await this.fetchPayment(part.providerRef);
    if (!payment) return { status: 'failed', reason: 'PortOne does not know the payment' };
    const earlier = payment.cancellations.find((c) => c.reason.includes(`[${part.partId}]`) && c.status !== 'FAILED');
    if (earlier) return this.answer(earlier);
    let res;
    try {
      res = await (await this.payments).cancelPayment({
        paymentId: part.providerRef,
        amount: part.amount,
        reason: reasonOf(part),
        requester: 'CUSTOMER',
        currentCancellableAmount: payment.total - payment.cancelled,
      });
    } catch (err) {
      const type = errorType(err);
      if (type && FINAL_REFUSALS.has(type)) return { status: 'failed', reason: `PortOne refused: ${type}` };
      throw err; // not reached, or a changed cancellable amount: try again later
    }
    const c = res.cancellation as { id?: string; status?: string; totalAmount?: number; reason?: string };
    return this.answer({ id: String(c.id), status: String(c.status) });
  }

  private answer(c: { id: string; status: string }): CancelResult {
    if (c.status === 'SUCCEEDED') return { status: 'succeeded', providerRef: c.id };
    if (c.status === 'FAILED') return { status: 'failed', reason: 'PortOne could not cancel the payment' };
    // REQUESTED: the PG has not answered yet; the next attempt finds it by its reason.
    throw new Error(`PortOne cancellation ${c.id} is ${c.status}`);
  }

  /**
   * Verifies a PortOne webhook (Standard Webhooks: webhook-id,
   * webhook-timestamp, webhook-signature) and answers its type and payment
   * id; throws when the signature does not verify.
   */
  async verifyWebhook(rawBody: string, headers: Record<string, string | string[] | undefined>): Promise<{ type: string; paymentId: string | undefined }> {
    const hook = (await verifyPortOneWebhook(this.settings.webhookSecret, rawBody, headers)) as { type: string; data?: { paymentId?: unknown } };
    const paymentId = typeof hook.data?.paymentId === 'string' ? hook.data.paymentId : undefined;
    return { type: String(hook.type), paymentId };
  }
}
