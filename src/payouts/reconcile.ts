import type { Queryable } from '../platform/db.ts';
import type { PayoutProvider, ProviderPayout } from './provider.ts';
import type { WithdrawalStatus } from './service.ts';

/** One disagreement between the payout provider's report and our withdrawals. */
export interface WithdrawalDifference {
  kind: 'unknown_payout' | 'missing_at_provider' | 'status_mismatch' | 'amount_mismatch';
  withdrawalId: string;
  detail: string;
}

/** The provider status each of our states may stand beside. */
const AGREES: Record<WithdrawalStatus, ProviderPayout['status'][]> = {
  REQUESTED: [],
  REJECTED: [],
  // Sent, answer not recorded yet: the provider may be anywhere.
  PROCESSING: ['processing', 'paid', 'failed'],
  PAID: ['paid'],
  FAILED: ['failed'],
};

/**
 * Compares what the payout provider reports for [from, to) with our
 * withdrawals (which `ledger verify` ties to the ledger): every payout at the
 * provider is a withdrawal of ours that was sent, for its net amount, in an
 * agreeing state; every withdrawal we recorded as PAID or FAILED in the window
 * is known to the provider (FAILED ones only if the provider keeps failed payouts). Returns every difference (none: reconciled).
 * For `missionlink reconcile` and the sweeper's daily run.
 * @example const diffs = await reconcileWithdrawals(pool, provider, { from, to }); if (diffs.length) process.exitCode = 1;
 */
export async function reconcileWithdrawals(c: Queryable, provider: PayoutProvider, range: { from: Date; to: Date }): Promise<WithdrawalDifference[]> {
  const reported = await provider.listPayouts(range);
  const byKey = new Map(reported.map((p) => [p.idempotencyKey, p]));
  const { rows } = await c.query<{ id: string; status: WithdrawalStatus; net: number; provider: string }>(
    `SELECT id::text, status, (amount - fee)::bigint AS net, provider FROM withdrawals
      WHERE provider = $1 AND (id::text = ANY ($2::text[])
         OR (status IN ('PAID', 'FAILED') AND completed_at >= $3 AND completed_at < $4))`,
    [provider.name, [...byKey.keys()], range.from, range.to],
  );
  const ours = new Map(rows.map((r) => [r.id, r]));
  const out: WithdrawalDifference[] = [];
  for (const p of reported) {
    const w = ours.get(p.idempotencyKey);
    if (!w) {
      out.push({ kind: 'unknown_payout', withdrawalId: p.idempotencyKey, detail: `the provider reports a ${p.status} payout of ${p.amount} that is no withdrawal of ours` });
      continue;
    }
    if (Number(w.net) !== p.amount) out.push({ kind: 'amount_mismatch', withdrawalId: w.id, detail: `the provider paid ${p.amount}, the withdrawal's net amount is ${w.net}` });
    if (!AGREES[w.status].includes(p.status)) out.push({ kind: 'status_mismatch', withdrawalId: w.id, detail: `the withdrawal is ${w.status}, the provider says ${p.status}` });
  }
  let earlier: Set<string> | undefined;
  for (const w of rows) {
    if ((w.status === 'PAID' || (w.status === 'FAILED' && provider.reportsFailedPayouts !== false)) && !byKey.has(w.id)) {
      // Asked before the window and answered in it: the provider lists it under the day it was asked.
      earlier ??= new Set((await provider.listPayouts({ from: new Date(range.from.getTime() - 7 * 86_400_000), to: range.from })).map((p) => p.idempotencyKey));
      if (!earlier.has(w.id)) out.push({ kind: 'missing_at_provider', withdrawalId: w.id, detail: `the withdrawal is ${w.status}, the provider knows no such payout` });
    }
  }
  return out;
}
