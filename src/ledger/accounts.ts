import { uuidv7 } from 'uuidv7';
import type { Queryable } from '../platform/db.ts';

export type LedgerName = 'KRW' | 'POINTS';

/**
 * Account kinds, in the order their rows are locked when one transaction
 * touches several: every writer takes locks in (rank, id) order, so two
 * transactions can never wait on each other in a cycle.
 */
export const ACCOUNT_CODES = [
  'user_wallet',
  'mission_escrow',
  'prediction_pool',
  'streamer_earnings',
  'platform_fees',
  'payment_provider',
  'points_issuer',
  // Where withdrawals leave the books: the payout provider that sends them to banks.
  'payout_provider',
  // What a user owes the platform after a provider reversal that their cash
  // could not cover (debits: owed; credits: paid back).
  'user_owed',
] as const;
export type AccountCode = (typeof ACCOUNT_CODES)[number];

/** Debits (pending + posted) may never exceed posted credits: the account can't go negative. */
export const DEBITS_MUST_NOT_EXCEED_CREDITS = 1;

export interface AccountRef {
  id: string;
  code: AccountCode;
  ledger: LedgerName;
}

export interface Balances {
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
}

/** Rank used for lock ordering, see ACCOUNT_CODES. */
export const rankOf = (code: AccountCode) => ACCOUNT_CODES.indexOf(code);

/** SQL expression giving the same rank for an `accounts` row alias. */
export const RANK_SQL = (alias: string) =>
  `array_position(ARRAY[${ACCOUNT_CODES.map((c) => `'${c}'`).join(',')}]::text[], ${alias}.code)`;

const DEFAULT_FLAGS: Record<AccountCode, number> = {
  user_wallet: DEBITS_MUST_NOT_EXCEED_CREDITS,
  mission_escrow: DEBITS_MUST_NOT_EXCEED_CREDITS,
  prediction_pool: DEBITS_MUST_NOT_EXCEED_CREDITS,
  streamer_earnings: DEBITS_MUST_NOT_EXCEED_CREDITS,
  platform_fees: 0,
  // External sources: money enters the books through them.
  payment_provider: 0,
  points_issuer: 0,
  // External: money leaves the books through it.
  payout_provider: 0,
  // A receivable: its debits (what is owed) exceed its credits (what was paid back).
  user_owed: 0,
};

/**
 * Returns the account of (ledger, code, owner), creating it on first use.
 * @example const wallet = await ensureAccount(c, 'KRW', 'user_wallet', userId);
 */
export async function ensureAccount(
  c: Queryable,
  ledger: LedgerName,
  code: AccountCode,
  owner: string,
): Promise<AccountRef> {
  const found = await c.query<{ id: string }>(
    'SELECT id FROM accounts WHERE ledger = $1 AND code = $2 AND owner = $3',
    [ledger, code, owner],
  );
  if (found.rows[0]) return { id: found.rows[0].id, code, ledger };
  // DO NOTHING, not DO UPDATE: an upsert that "updates" the row takes a
  // FOR UPDATE lock on it, which conflicts with the key-share locks that
  // transfers referencing the account take, and two settlements creating the
  // same fee account could deadlock. A conflicting insert waits for the other
  // transaction to finish, so the row is committed when we read it back.
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO accounts (id, ledger, code, owner, flags) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (ledger, code, owner) DO NOTHING RETURNING id`,
    [uuidv7(), ledger, code, owner, DEFAULT_FLAGS[code]],
  );
  const id = rows[0]?.id ?? (await c.query<{ id: string }>('SELECT id FROM accounts WHERE ledger = $1 AND code = $2 AND owner = $3', [ledger, code, owner])).rows[0]!.id;
  return { id, code, ledger };
}

/** Creates many accounts of one kind at once (e.g. a mission's escrow slots). */
export async function ensureAccounts(
  c: Queryable,
  ledger: LedgerName,
  code: AccountCode,
  owners: string[],
): Promise<AccountRef[]> {
  const { rows } = await c.query<{ id: string; owner: string }>(
    `INSERT INTO accounts (id, ledger, code, owner, flags)
     SELECT gen_random_uuid(), $1, $2, o, $4 FROM unnest($3::text[]) AS o
     ON CONFLICT (ledger, code, owner) DO NOTHING
     RETURNING id, owner`,
    [ledger, code, owners, DEFAULT_FLAGS[code]],
  );
  const byOwner = new Map(rows.map((r) => [r.owner, r.id]));
  const missing = owners.filter((o) => !byOwner.has(o));
  if (missing.length > 0) {
    const found = await c.query<{ id: string; owner: string }>(
      'SELECT id, owner FROM accounts WHERE ledger = $1 AND code = $2 AND owner = ANY($3::text[])',
      [ledger, code, missing],
    );
    for (const r of found.rows) byOwner.set(r.owner, r.id);
  }
  return owners.map((o) => ({ id: byOwner.get(o)!, code, ledger }));
}

export async function balancesOf(c: Queryable, accountId: string): Promise<Balances> {
  const { rows } = await c.query<{ dp: number; dpo: number; cp: number; cpo: number }>(
    `SELECT debits_pending AS dp, debits_posted AS dpo, credits_pending AS cp, credits_posted AS cpo
       FROM accounts WHERE id = $1`,
    [accountId],
  );
  const r = rows[0];
  return r
    ? { debitsPending: r.dp, debitsPosted: r.dpo, creditsPending: r.cp, creditsPosted: r.cpo }
    : { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 };
}
