// Reconciliation of money in and back out through the payment provider: what
// the provider reports of its payments (charges) and their cancellations
// (our refunds, and those made outside them: reversals) against the charges,
// refund parts and reversals we recorded and the ledger's credit of each
// charge. `ledger verify` ties those tables to the ledger; this ties them to
// the provider. For `missionlink reconcile` and the sweeper's daily run.
import type { Queryable } from '../platform/db.ts';
import type { PaymentReports, ReportedPayment } from './provider.ts';

/** One disagreement between the payment provider's report and our books. */
export interface PaymentDifference {
  /** `charges`: payments and credits; `refunds`: cancellations (our refunds, reversals, disputes). */
  area: 'charges' | 'refunds';
  kind:
    | 'unknown_payment'
    | 'unknown_cancellation'
    | 'missing_at_provider'
    | 'status_mismatch'
    | 'amount_mismatch'
    | 'reversal_missing'
    | 'unknown_reversal'
    | 'dispute_not_reversed';
  chargeId: string;
  /** The refund part, for a difference about one. */
  partId?: string;
  detail: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A reversal applied for a dispute (WalletService.syncPayment): its event id names the dispute. */
export const disputeEventId = (chargeId: string, key: string) => `portone:${chargeId}:dispute:${key}`;
const DISPUTE_EVENT = /^portone:[^:]+:dispute:(.+)$/;
/** True for the event id of a reversal applied for a dispute. */
export const isDisputeEventId = (eventId: string) => DISPUTE_EVENT.test(eventId);
/** How many single payments are asked for at once. */
const PARALLEL_GETS = 8;

interface ChargeRow {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount: string;
  cancelled_amount: string;
  reversed_amount: string;
  credited: string | null;
}
interface PartRow {
  id: string;
  charge_id: string;
  amount: string;
  status: 'pending' | 'succeeded' | 'failed';
  provider_ref: string | null;
}
interface ReversalRow {
  charge_id: string;
  event_id: string;
  amount: string;
}

const krw = (n: number) => `${n} KRW`;

/**
 * Compares what the payment provider reports for [from, to) with our books:
 * every payment it reports (made or cancelled in the window) and every charge
 * of ours made, completed, refunded or reversed in it (asked of the provider
 * one by one when its list does not hold it). Per charge: a payment the
 * provider calls paid was credited once, for its amount, in the ledger, and
 * the other way round; each refund part we recorded refunded is a
 * cancellation of its amount at the provider (and one recorded refused is
 * not); what the provider cancelled outside our refunds is what our
 * reversals took (disputes included); each open dispute was reversed.
 * Refund parts still waiting for the provider are not judged. Returns every
 * difference (none: reconciled).
 * @example const diffs = await reconcilePayments(pool, new SandboxBooks(pool), { from, to }); if (diffs.length) process.exitCode = 1;
 */
export async function reconcilePayments(c: Queryable, provider: PaymentReports, range: { from: Date; to: Date }): Promise<PaymentDifference[]> {
  const reported = new Map((await provider.listPayments(range)).map((p) => [p.chargeId, p]));
  const { rows: charges } = await c.query<ChargeRow>(
    `WITH ids AS (
       SELECT id FROM charges WHERE created_at >= $2 AND created_at < $3
       UNION SELECT id FROM charges WHERE completed_at >= $2 AND completed_at < $3
       UNION SELECT id FROM charges WHERE id = ANY ($4::uuid[])
       UNION SELECT p.charge_id FROM refunds r JOIN refund_parts p ON p.refund_id = r.id WHERE r.created_at >= $2 AND r.created_at < $3
       UNION SELECT charge_id FROM refund_parts WHERE completed_at >= $2 AND completed_at < $3
       UNION SELECT charge_id FROM payment_reversals WHERE created_at >= $2 AND created_at < $3)
     SELECT ch.id, ch.status, ch.amount, ch.cancelled_amount, ch.reversed_amount, t.amount AS credited
       FROM charges ch JOIN ids ON ids.id = ch.id
       -- What the ledger credited for the charge (its transfer id is the charge's).
       LEFT JOIN transfers t ON t.id = ch.id AND t.code = 'charge' AND t.flags = 0
      WHERE ch.provider = $1
      ORDER BY ch.id`,
    [provider.name, range.from, range.to, [...reported.keys()].filter((id) => UUID.test(id))],
  );
  const ids = charges.map((ch) => ch.id);
  const [{ rows: parts }, { rows: reversals }] = await Promise.all([
    c.query<PartRow>('SELECT id, charge_id, amount, status, provider_ref FROM refund_parts WHERE charge_id = ANY ($1::uuid[]) ORDER BY id', [ids]),
    c.query<ReversalRow>('SELECT charge_id, event_id, amount FROM payment_reversals WHERE charge_id = ANY ($1::uuid[])', [ids]),
  ]);

  // What the list did not hold, asked one by one (a charge made before the
  // window and refunded in it, a payment made just after its charge).
  const missing = charges.filter((ch) => !reported.has(ch.id)).map((ch) => ch.id);
  for (let i = 0; i < missing.length; i += PARALLEL_GETS) {
    const got = await Promise.all(missing.slice(i, i + PARALLEL_GETS).map((id) => provider.getPayment(id)));
    for (const p of got) if (p) reported.set(p.chargeId, p);
  }

  const out: PaymentDifference[] = [];
  const ours = new Set(ids);
  for (const p of reported.values()) {
    // A payment that never took money (left in the checkout, failed) is nobody's concern.
    if (!ours.has(p.chargeId) && p.status === 'paid') {
      out.push({ area: 'charges', kind: 'unknown_payment', chargeId: p.chargeId, detail: `${provider.name} reports a paid payment of ${krw(p.amount)} that is no charge of ours` });
    }
  }
  for (const ch of charges) {
    const p = reported.get(ch.id) ?? null;
    out.push(
      ...compareCharge(provider, ch, p),
      ...(p && ch.status === 'succeeded' && p.status === 'paid'
        ? compareCancellations(
            provider,
            ch,
            p,
            parts.filter((x) => x.charge_id === ch.id),
            reversals.filter((v) => v.charge_id === ch.id),
          )
        : []),
    );
  }
  return out;
}

/** The payment against the charge and the ledger's credit of it. */
function compareCharge(provider: PaymentReports, ch: ChargeRow, p: ReportedPayment | null): PaymentDifference[] {
  const diff = (kind: PaymentDifference['kind'], detail: string): PaymentDifference => ({ area: 'charges', kind, chargeId: ch.id, detail });
  const amount = Number(ch.amount);
  if (ch.status === 'succeeded') {
    if (!p) return [diff('missing_at_provider', `the charge of ${krw(amount)} succeeded, ${provider.name} knows no such payment`)];
    if (p.status !== 'paid') return [diff('status_mismatch', `the charge succeeded (the wallet was credited), ${provider.name} says the payment is ${p.status}`)];
    const credited = Number(ch.credited ?? 0);
    if (p.amount !== amount || p.currency !== 'KRW') return [diff('amount_mismatch', `${provider.name} was paid ${p.amount} ${p.currency}, the charge is ${krw(amount)}`)];
    if (credited !== amount) return [diff('amount_mismatch', `${provider.name} was paid ${krw(p.amount)}, the ledger credited ${krw(credited)}`)];
    return [];
  }
  if (p?.status === 'paid') {
    return [diff('status_mismatch', `${provider.name} reports the payment of ${krw(p.amount)} paid, the charge is ${ch.status}: the wallet was never credited (syncing the charge credits it)`)];
  }
  return [];
}

/** The provider's cancellations of a paid payment against our refund parts, reversals and disputes. */
function compareCancellations(provider: PaymentReports, ch: ChargeRow, p: ReportedPayment, parts: PartRow[], reversals: ReversalRow[]): PaymentDifference[] {
  const out: PaymentDifference[] = [];
  const diff = (kind: PaymentDifference['kind'], detail: string, partId?: string) =>
    out.push({ area: 'refunds', kind, chargeId: ch.id, ...(partId ? { partId } : {}), detail });
  const partIds = new Set(parts.map((x) => x.id));
  for (const part of parts) {
    const amount = Number(part.amount);
    const tagged = p.cancellations.filter((c) => c.partId === part.id || (part.provider_ref !== null && c.id === part.provider_ref));
    const live = tagged.find((c) => c.status !== 'failed');
    if (part.status === 'succeeded') {
      if (!live) diff('missing_at_provider', `the refund part of ${krw(amount)} was recorded refunded, ${provider.name} shows no such cancellation`, part.id);
      else if (live.status !== 'succeeded') diff('status_mismatch', `the refund part was recorded refunded, ${provider.name}'s cancellation is still ${live.status}`, part.id);
      else if (live.amount !== amount) diff('amount_mismatch', `${provider.name} cancelled ${krw(live.amount)}, the refund part is ${krw(amount)}`, part.id);
    } else if (part.status === 'failed' && live) {
      diff('status_mismatch', `the refund part was recorded refused (its ${krw(amount)} went back to the wallet), ${provider.name} shows it ${live.status}`, part.id);
    }
    // Pending: the provider is being asked; whatever it shows now is in flight.
  }
  for (const c of p.cancellations) {
    if (c.partId && !partIds.has(c.partId) && c.status !== 'failed') {
      diff('unknown_cancellation', `${provider.name} shows a ${c.status} cancellation ${c.id} of ${krw(c.amount)} naming refund part ${c.partId}, which is no part of this charge`);
    }
  }
  if (!provider.reportsReversals) return out;

  // Outside our refunds: what the provider cancelled there, and what our reversals took.
  const outside = p.cancellations.filter((c) => c.partId === null && c.status !== 'failed').reduce((n, c) => n + c.amount, 0);
  const disputeReversals = reversals.filter((v) => DISPUTE_EVENT.test(v.event_id));
  const byCancellation = reversals.filter((v) => !DISPUTE_EVENT.test(v.event_id)).reduce((n, v) => n + Number(v.amount), 0);
  const byDispute = disputeReversals.reduce((n, v) => n + Number(v.amount), 0);
  // A dispute reversed first covers the cancellation the provider makes when the dispute is lost.
  if (outside > byCancellation + byDispute) {
    diff('reversal_missing', `${provider.name} cancelled ${krw(outside)} outside our refunds, our reversals took ${krw(byCancellation + byDispute)}`);
  }
  if (byCancellation > outside) {
    diff('unknown_reversal', `our reversals took ${krw(byCancellation)} for cancellations made at ${provider.name}, which shows ${krw(outside)}`);
  }
  if (p.disputes) {
    const reversed = new Set(disputeReversals.map((v) => DISPUTE_EVENT.exec(v.event_id)?.[1] ?? v.event_id));
    const left = Number(ch.amount) - Number(ch.cancelled_amount) - Number(ch.reversed_amount);
    for (const d of p.disputes) {
      if (d.status !== 'RESOLVED' && !reversed.has(d.key) && left > 0) {
        diff('dispute_not_reversed', `${provider.name} shows an open dispute (${d.key}) of the payment; no reversal took the ${krw(left)} the charge has left`);
      }
    }
    const known = new Set(p.disputes.map((d) => d.key));
    for (const key of reversed) {
      if (!known.has(key)) diff('unknown_reversal', `a reversal was applied for dispute ${key}, ${provider.name} shows no such dispute`);
    }
  }
  return out;
}
