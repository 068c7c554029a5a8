// What the notifier tells a backer about their money going back out: a
// refund of unused cash that completed (or was refused), and a reversal the
// payment provider made. Read through this surface, never the wallet's
// tables, when the mail is composed (the events carry ids only).
import type { Queryable } from '../platform/db.ts';
import { isDisputeEventId } from './reconcile.ts';
import { owedOf, type Refund } from './refunds.ts';

/** A completed refund, as its mail tells it. */
export interface RefundNotice {
  refundId: string;
  userId: string;
  /** What the user asked to refund. */
  amount: number;
  /** What the provider gave back to the payment method; the rest is in the wallet again. */
  refunded: number;
  status: Exclude<Refund['status'], 'pending'>;
  createdAt: string;
}

/** A provider reversal, as its mail tells it. */
export interface ReversalNotice {
  reversalId: string;
  userId: string;
  chargeId: string;
  chargeAmount: number;
  amount: number;
  /** Taken from the wallet: available cash, then what the voided pledges freed. */
  fromWallet: number;
  fromPledges: number;
  voidedPledges: number;
  /** What this reversal left owed. */
  owed: number;
  /** What the user owes now, all reversals and repayments counted. */
  owedNow: number;
  /** True when the provider reported a dispute (chargeback), not a cancellation. */
  dispute: boolean;
  createdAt: string;
}

/** A refund that is no longer pending, or null (unknown, or still with the provider). */
export async function refundNotice(c: Queryable, refundId: string): Promise<RefundNotice | null> {
  const { rows } = await c.query<{ id: string; user_id: string; amount: string; refunded_amount: string; status: Refund['status']; created_at: Date }>(
    'SELECT id, user_id, amount, refunded_amount, status, created_at FROM refunds WHERE id = $1',
    [refundId],
  );
  const r = rows[0];
  if (!r || r.status === 'pending') return null;
  return {
    refundId: r.id,
    userId: r.user_id,
    amount: Number(r.amount),
    refunded: Number(r.refunded_amount),
    status: r.status,
    createdAt: r.created_at.toISOString(),
  };
}

/** A reversal the provider made, or null when there is no such reversal. */
export async function reversalNotice(c: Queryable, reversalId: string): Promise<ReversalNotice | null> {
  const { rows } = await c.query<{
    id: string; user_id: string; charge_id: string; charge_amount: string; amount: string; from_wallet: string; from_pledges: string;
    voided_pledges: number; owed: string; event_id: string; created_at: Date;
  }>(
    `SELECT v.id, v.user_id, v.charge_id, ch.amount AS charge_amount, v.amount, v.from_wallet, v.from_pledges, v.voided_pledges, v.owed, v.event_id, v.created_at
       FROM payment_reversals v JOIN charges ch ON ch.id = v.charge_id WHERE v.id = $1`,
    [reversalId],
  );
  const v = rows[0];
  if (!v) return null;
  return {
    reversalId: v.id,
    userId: v.user_id,
    chargeId: v.charge_id,
    chargeAmount: Number(v.charge_amount),
    amount: Number(v.amount),
    fromWallet: Number(v.from_wallet),
    fromPledges: Number(v.from_pledges),
    voidedPledges: Number(v.voided_pledges),
    owed: Number(v.owed),
    owedNow: await owedOf(c, v.user_id),
    dispute: isDisputeEventId(v.event_id),
    createdAt: v.created_at.toISOString(),
  };
}
