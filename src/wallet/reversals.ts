// Provider reversals (a card cancellation or chargeback reported after the
// charge succeeded) and what a user owes after one. A reversal of R KRW takes,
// in this order: (1) the wallet's available cash; (2) the user's held pledges
// on missions not decided yet, newest first, each voided whole (the missions
// module's voidHeldPledges: mission totals drop, live events say so); (3) the
// rest becomes owed (a user_owed account: debits owed, credits paid back).
// Streamers' captured money is never taken back. Every new charge pays what
// is owed back first (repayOwed).
import { uuidv7 } from 'uuidv7';
import { createTransfer, ensureAccount, lockAccounts } from '../ledger/index.ts';
import { voidHeldPledges } from '../missions/index.ts';
import type { Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { deterministicId } from '../platform/ids.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import { REVERSED } from './topics.ts';

/** What one reversal did. */
export interface ReversalOutcome {
  id: string;
  amount: number;
  /** Taken from the wallet: available cash, then what the voided pledges freed. */
  fromWallet: number;
  /** Total of the pledges voided (each whole, so it may exceed what was needed). */
  fromPledges: number;
  voidedPledges: number;
  /** What the user owes now because of it. */
  owed: number;
}

const availableOf = (r: { credits_posted: string | number; debits_posted: string | number; debits_pending: string | number }) =>
  Number(r.credits_posted) - Number(r.debits_posted) - Number(r.debits_pending);

/**
 * Applies a reversal of `amount` KRW of a succeeded charge, in the caller's
 * transaction, which has the charge's row locked and the event recorded
 * (a replayed event id never reaches here). 400 when the charge did not
 * succeed or has less left than `amount` (refunded or reversed already).
 * @example const out = await applyReversal(c, { eventId, charge, amount: 10_000 });
 */
export async function applyReversal(
  c: Queryable,
  r: { eventId: string; charge: { id: string; user_id: string; amount: number | string; status: string; provider: string; cancelled_amount: number | string; reversed_amount: number | string }; amount: number },
): Promise<ReversalOutcome> {
  const { charge, amount } = r;
  if (charge.status !== 'succeeded') throw new AppError('VALIDATION_FAILED', 'Only a charge that succeeded can be reversed');
  const left = Number(charge.amount) - Number(charge.cancelled_amount) - Number(charge.reversed_amount);
  if (amount > left) {
    throw new AppError('VALIDATION_FAILED', `The reversal of ${amount} KRW exceeds what the charge has left (${left} KRW)`, {
      errors: [{ path: 'amount', message: `must be at most ${left}` }],
    });
  }
  const userId = charge.user_id;
  await c.query('UPDATE charges SET reversed_amount = reversed_amount + $2 WHERE id = $1', [charge.id, amount]);
  const wallet = await ensureAccount(c, 'KRW', 'user_wallet', userId);
  const readAvailable = async () => {
    const { rows } = await c.query<{ credits_posted: string; debits_posted: string; debits_pending: string }>(
      'SELECT credits_posted, debits_posted, debits_pending FROM accounts WHERE id = $1',
      [wallet.id],
    );
    return availableOf(rows[0]!);
  };
  // The missions are locked first, then the wallet (inside the callback):
  // the order every pledge takes its locks in.
  const voided = await voidHeldPledges(
    c,
    userId,
    async () => {
      await lockAccounts(c, [wallet.id]);
      return amount - (await readAvailable());
    },
    'payment reversal',
  );
  const fromWallet = Math.min(amount, await readAvailable());
  const owed = amount - fromWallet;
  const id = uuidv7();
  const provider = await ensureAccount(c, 'KRW', 'payment_provider', charge.provider);
  if (fromWallet > 0) await createTransfer(c, { id, debit: wallet, credit: provider, amount: fromWallet, code: 'reversal' });
  if (owed > 0) {
    const debt = await ensureAccount(c, 'KRW', 'user_owed', userId);
    await createTransfer(c, { id: deterministicId('reversal-owed', id), debit: debt, credit: provider, amount: owed, code: 'reversal_owed' });
  }
  await c.query(
    `INSERT INTO payment_reversals (id, event_id, charge_id, user_id, amount, from_wallet, from_pledges, voided_pledges, owed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [id, r.eventId, charge.id, userId, amount, fromWallet, voided.amount, voided.released, owed],
  );
  await enqueueEvent(c, REVERSED, userId, {
    reversalId: id,
    userId,
    chargeId: charge.id,
    amount,
    fromWallet,
    fromPledges: voided.amount,
    voidedPledges: voided.released,
    owed,
  });
  return { id, amount, fromWallet, fromPledges: voided.amount, voidedPledges: voided.released, owed };
}

/**
 * Pays back what the user owes from their wallet, up to `upTo` KRW (a new
 * charge's amount), in the caller's transaction; answers what it paid. The
 * transfer id derives from `ref` (the charge), so it happens once per charge.
 */
export async function repayOwed(c: Queryable, userId: string, upTo: number, ref: string): Promise<number> {
  const { rows } = await c.query<{ id: string; owed: string }>(
    `SELECT id, debits_posted - credits_posted AS owed FROM accounts WHERE ledger = 'KRW' AND code = 'user_owed' AND owner = $1`,
    [userId],
  );
  const debt = rows[0];
  if (!debt || Number(debt.owed) <= 0) return 0;
  const wallet = await ensureAccount(c, 'KRW', 'user_wallet', userId);
  // The wallet, then the debt (their rank order); owed read again under the lock.
  await lockAccounts(c, [wallet.id, debt.id]);
  const { rows: again } = await c.query<{ owed: string }>('SELECT debits_posted - credits_posted AS owed FROM accounts WHERE id = $1', [debt.id]);
  const pay = Math.min(upTo, Number(again[0]!.owed));
  if (pay <= 0) return 0;
  await createTransfer(c, { id: deterministicId('owed-repayment', ref), debit: wallet, credit: { id: debt.id, code: 'user_owed', ledger: 'KRW' }, amount: pay, code: 'owed_repayment' });
  await enqueueEvent(c, 'wallet.owed_repaid', userId, { userId, chargeId: ref, amount: pay, owed: Number(again[0]!.owed) - pay });
  return pay;
}
