// The wallet's checks of `ledger verify` (a LedgerCheck, run in the
// verification's read-only snapshot): charges, refunds, reversals and what
// is owed must agree with the transfers that moved their money.
import type { LedgerProblem } from '../ledger/index.ts';
import type { Queryable } from '../platform/db.ts';

// Result rows: bigint sums arrive as strings.
type Row = Record<string, string>;

/**
 * - every succeeded charge was credited once, by the `charge` transfer whose
 *   id is its own, of its amount; no other charge was;
 * - what each charge has given back (cancelled_amount: refund parts in
 *   flight or done; reversed_amount: reversals) is what its parts and
 *   reversals add up to;
 * - every refund part is a pending `cash_refund` of its amount from the
 *   user's wallet, open while the part is pending, posted whole when it
 *   succeeded, voided when it failed; a refund's amount is its parts', and a
 *   completed refund records what they refunded;
 * - every reversal moved `from_wallet` from the user's wallet and `owed`
 *   onto the user's debt;
 * - nobody paid back more than they owed.
 * @example const report = await verifyLedger(pool, [verifyPledges, verifyWallet]);
 */
export async function verifyWallet(c: Queryable): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const add = (check: string, rows: Row[], detail: (r: Row) => string) => {
    for (const r of rows) problems.push({ check, detail: detail(r) });
  };

  const credits = await c.query<Row>(
    `SELECT ch.id, ch.status, ch.amount, t.id AS transfer, t.amount AS credited, t.code
       FROM charges ch LEFT JOIN transfers t ON t.id = ch.id
      WHERE (ch.status = 'succeeded') <> (t.id IS NOT NULL AND t.code = 'charge' AND t.flags = 0 AND t.amount = ch.amount)
      LIMIT 50`,
  );
  add('charge_credited_once', credits.rows, (r) => `charge ${r.id} (${r.status}, ${r.amount}) has ${r.transfer ? `a ${r.code} transfer of ${r.credited}` : 'no credit'}`);

  const given = await c.query<Row>(
    `SELECT ch.id, ch.cancelled_amount, ch.reversed_amount, coalesce(p.sum, 0) AS parts, coalesce(v.sum, 0) AS reversals
       FROM charges ch
       LEFT JOIN (SELECT charge_id, sum(amount) AS sum FROM refund_parts WHERE status <> 'failed' GROUP BY charge_id) p ON p.charge_id = ch.id
       LEFT JOIN (SELECT charge_id, sum(amount) AS sum FROM payment_reversals GROUP BY charge_id) v ON v.charge_id = ch.id
      WHERE ch.cancelled_amount <> coalesce(p.sum, 0) OR ch.reversed_amount <> coalesce(v.sum, 0)
      LIMIT 50`,
  );
  add('charge_given_back', given.rows, (r) => `charge ${r.id}: cancelled ${r.cancelled_amount} / reversed ${r.reversed_amount}, its refund parts give ${r.parts} and reversals ${r.reversals}`);

  const parts = await c.query<Row>(
    `SELECT p.id, p.status, p.amount, h.id AS hold, h.code, h.flags, h.amount AS hold_amount, res.flags AS res_flags, res.amount AS res_amount
       FROM refund_parts p
       JOIN refunds r ON r.id = p.refund_id
       LEFT JOIN transfers h ON h.id = p.id
       LEFT JOIN accounts w ON w.id = h.debit_account_id
       LEFT JOIN transfers res ON res.pending_id = p.id
      WHERE h.id IS NULL OR h.code <> 'cash_refund' OR h.flags <> 1 OR h.amount <> p.amount
         OR w.code <> 'user_wallet' OR w.owner <> r.user_id::text
         OR NOT CASE p.status
                  WHEN 'pending' THEN res.id IS NULL
                  WHEN 'succeeded' THEN res.flags = 2 AND res.amount = p.amount
                  ELSE res.flags = 4
                END
      LIMIT 50`,
  );
  add('refund_part_matches_hold', parts.rows, (r) =>
    !r.hold
      ? `refund part ${r.id}: its hold does not exist`
      : `refund part ${r.id} (${r.status}, ${r.amount}): hold ${r.hold} is a ${r.code} (flags ${r.flags}) of ${r.hold_amount} from another wallet or resolved by flags ${r.res_flags ?? '–'} of ${r.res_amount ?? '–'}`,
  );

  const refunds = await c.query<Row>(
    `SELECT r.id, r.amount, r.status, r.refunded_amount, coalesce(s.total, 0) AS total, coalesce(s.ok, 0) AS ok, coalesce(s.pending, 0) AS pending
       FROM refunds r
       LEFT JOIN (SELECT refund_id, sum(amount) AS total, sum(amount) FILTER (WHERE status = 'succeeded') AS ok,
                         count(*) FILTER (WHERE status = 'pending') AS pending
                    FROM refund_parts GROUP BY refund_id) s ON s.refund_id = r.id
      WHERE r.amount <> coalesce(s.total, 0)
         OR (r.status <> 'pending' AND (coalesce(s.pending, 0) > 0 OR r.refunded_amount <> coalesce(s.ok, 0)))
      LIMIT 50`,
  );
  add('refund_matches_parts', refunds.rows, (r) => `refund ${r.id} (${r.status}, ${r.amount}, refunded ${r.refunded_amount}): its parts add up to ${r.total}, ${r.ok} refunded, ${r.pending} pending`);

  const reversals = await c.query<Row>(
    `SELECT v.id, v.from_wallet, t.amount AS taken
       FROM payment_reversals v
       LEFT JOIN transfers t ON t.id = v.id AND t.code = 'reversal' AND t.flags = 0
       LEFT JOIN accounts w ON w.id = t.debit_account_id AND w.code = 'user_wallet' AND w.owner = v.user_id::text
      WHERE (v.from_wallet > 0) <> (w.id IS NOT NULL AND t.amount = v.from_wallet)
      LIMIT 50`,
  );
  add('reversal_matches_transfers', reversals.rows, (r) => `reversal ${r.id}: took ${r.from_wallet} from the wallet, its transfer moved ${r.taken ?? 'nothing'}`);

  // What reversals left owed is what the user_owed accounts were debited.
  const owed = await c.query<Row>(
    `SELECT v.user_id, v.owed, coalesce(a.debits_posted, 0) AS debited
       FROM (SELECT user_id, sum(owed) AS owed FROM payment_reversals GROUP BY user_id) v
       LEFT JOIN accounts a ON a.ledger = 'KRW' AND a.code = 'user_owed' AND a.owner = v.user_id::text
      WHERE v.owed <> coalesce(a.debits_posted, 0)
      LIMIT 50`,
  );
  add('owed_matches_reversals', owed.rows, (r) => `user ${r.user_id}: reversals left ${r.owed} owed, their debt account was debited ${r.debited}`);

  const overpaid = await c.query<Row>(
    `SELECT owner, debits_posted, credits_posted FROM accounts WHERE code = 'user_owed' AND credits_posted > debits_posted LIMIT 50`,
  );
  add('owed_not_overpaid', overpaid.rows, (r) => `user ${r.owner} paid back ${r.credits_posted} of ${r.debits_posted} owed`);
  return problems;
}
