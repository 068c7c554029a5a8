import type { LedgerProblem } from '../ledger/index.ts';
import type { Queryable } from '../platform/db.ts';

type Row = Record<string, string>;

/**
 * The withdrawals' part of `ledger verify`, in the verification's snapshot:
 *  - every withdrawal has its hold (a pending transfer with its id, of its
 *    amount, from its streamer's earnings to the payout provider), resolved
 *    as its state says: open while REQUESTED or PROCESSING, posted in full
 *    when PAID, voided when FAILED or REJECTED; the fee moved to the platform
 *    exactly when PAID with a fee;
 *  - no withdrawal hold without its withdrawal;
 *  - per streamer, the PAID amounts equal the withdrawals posted from the
 *    earnings account, and the in-flight amounts its pending withdrawals.
 * @example const report = await verifyLedger(pool, [verifyPledges, verifyWithdrawals]);
 */
export async function verifyWithdrawals(c: Queryable): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const bad = await c.query<Row>(
    `SELECT w.id, w.status, w.amount, h.id AS hold, r.flags AS res_flags
       FROM withdrawals w
       LEFT JOIN transfers h ON h.id = w.id
       LEFT JOIN accounts e ON e.id = h.debit_account_id
       LEFT JOIN accounts p ON p.id = h.credit_account_id
       LEFT JOIN transfers r ON r.pending_id = w.id
      WHERE h.id IS NULL OR h.flags <> 1 OR h.code <> 'withdrawal_hold' OR h.amount <> w.amount
         OR NOT coalesce(e.code = 'streamer_earnings' AND e.owner = w.user_id::text, false)
         OR NOT coalesce(p.code = 'payout_provider' AND p.owner = w.provider, false)
         OR (w.status IN ('REQUESTED', 'PROCESSING') AND r.id IS NOT NULL)
         OR (w.status = 'PAID' AND (r.id IS NULL OR r.flags <> 2 OR r.amount <> w.amount))
         OR (w.status IN ('FAILED', 'REJECTED') AND (r.id IS NULL OR r.flags <> 4))
      LIMIT 50`,
  );
  for (const b of bad.rows) {
    problems.push({ check: 'withdrawal_matches_hold', detail: `withdrawal ${b.id} (${b.status}, ${b.amount}) does not match its hold ${b.hold ?? 'missing'}${b.res_flags ? ` (resolved with flags ${b.res_flags})` : ''}` });
  }
  // The fees kept by the platform are the fees of the PAID withdrawals, no more, no less.
  const fees = await c.query<Row>(
    `SELECT (SELECT coalesce(sum(fee), 0) FROM withdrawals WHERE status = 'PAID')::bigint AS owed,
            (SELECT coalesce(sum(amount), 0) FROM transfers WHERE code = 'withdrawal_fee')::bigint AS moved`,
  );
  const f = fees.rows[0]!;
  if (Number(f.owed) !== Number(f.moved)) problems.push({ check: 'withdrawal_fees', detail: `fees of paid withdrawals ${f.owed} ≠ withdrawal fees moved ${f.moved}` });
  const orphans = await c.query<Row>(
    `SELECT t.id FROM transfers t WHERE t.code = 'withdrawal_hold' AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.id = t.id) LIMIT 50`,
  );
  for (const o of orphans.rows) problems.push({ check: 'withdrawal_matches_hold', detail: `withdrawal hold ${o.id} has no withdrawal` });
  const totals = await c.query<Row>(
    `WITH w AS (
       SELECT user_id::text AS owner,
              sum(amount) FILTER (WHERE status = 'PAID')::bigint AS paid,
              sum(amount) FILTER (WHERE status IN ('REQUESTED', 'PROCESSING'))::bigint AS in_flight
         FROM withdrawals GROUP BY user_id
     ), l AS (
       SELECT e.owner,
              sum(r.amount) FILTER (WHERE r.flags = 2)::bigint AS paid,
              sum(h.amount) FILTER (WHERE r.id IS NULL)::bigint AS in_flight
         FROM transfers h JOIN accounts e ON e.id = h.debit_account_id
         LEFT JOIN transfers r ON r.pending_id = h.id
        WHERE h.code = 'withdrawal_hold' AND h.flags = 1 AND e.code = 'streamer_earnings'
        GROUP BY e.owner
     )
     SELECT coalesce(w.owner, l.owner) AS owner, coalesce(w.paid, 0) AS w_paid, coalesce(l.paid, 0) AS l_paid,
            coalesce(w.in_flight, 0) AS w_in_flight, coalesce(l.in_flight, 0) AS l_in_flight
       FROM w FULL JOIN l ON l.owner = w.owner
      WHERE coalesce(w.paid, 0) <> coalesce(l.paid, 0) OR coalesce(w.in_flight, 0) <> coalesce(l.in_flight, 0)
      LIMIT 50`,
  );
  for (const t of totals.rows) {
    problems.push({
      check: 'withdrawals_match_earnings',
      detail: `streamer ${t.owner}: withdrawals paid/in flight ${t.w_paid}/${t.w_in_flight}, ledger ${t.l_paid}/${t.l_in_flight}`,
    });
  }
  return problems;
}
