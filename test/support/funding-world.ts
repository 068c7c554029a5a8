// Worlds built by hand in the funding database, inside a test's own
// transaction, for the model tests of the pledge book's and the bets'
// batch statements (src/missions/pledges.test.ts, src/predictions/bets.test.ts).
import { uuidv7 } from 'uuidv7';
import { createTransfer, ensureAccount } from '../../src/ledger/index.ts';
import type { Queryable } from '../../src/platform/db.ts';

/** A channel owned by `ownerId`, with Part 1's default settings; returns its handle. */
export async function insertChannel(c: Queryable, ownerId: string): Promise<string> {
  const handle = `c${uuidv7().replace(/-/g, '').slice(-20)}`;
  await c.query(
    `INSERT INTO channels (handle, owner_id, display_name, mission_min_amount, mission_max_amount, accept_window_seconds, failure_keep_bps)
     VALUES ($1, $2, 'C', 1000, 1000000, 3600, 0)`,
    [handle, ownerId],
  );
  return handle;
}

/**
 * A wallet per user on `ledger` credited with its balance (from the payment
 * provider for cash, the points issuer for points); null: no wallet at all.
 */
export async function fundWallets(c: Queryable, ledger: 'KRW' | 'POINTS', users: string[], balances: (number | null)[]): Promise<void> {
  const source =
    ledger === 'KRW' ? await ensureAccount(c, 'KRW', 'payment_provider', 'model-test') : await ensureAccount(c, 'POINTS', 'points_issuer', 'platform');
  for (const [i, balance] of balances.entries()) {
    if (balance === null) continue;
    const wallet = await ensureAccount(c, ledger, 'user_wallet', users[i]!);
    if (balance > 0) await createTransfer(c, { id: uuidv7(), debit: source, credit: wallet, amount: balance, code: ledger === 'KRW' ? 'charge' : 'daily_points' });
  }
}
