import assert from 'node:assert/strict';
import type { Queryable } from '../platform/db.ts';
import { ACCOUNT_CODES, rankOf, RANK_SQL, type AccountCode, type AccountRef, type LedgerName } from './accounts.ts';

export const PENDING = 1;
export const POST_PENDING = 2;
export const VOID_PENDING = 4;

export class LedgerError extends Error {
  constructor(
    readonly reason:
      | 'exceeds_credits'
      | 'exists_with_different_fields'
      | 'account_not_found'
      | 'pending_not_found'
      | 'pending_already_resolved'
      | 'ledger_mismatch',
    message: string,
  ) {
    super(message);
  }
}

export interface TransferInput {
  /** Chosen by the caller; doubles as the idempotency key of the transfer. */
  id: string;
  debit: AccountRef;
  credit: AccountRef;
  amount: number;
  code: string;
  pending?: boolean;
  missionId?: string | null;
}

function assertAmount(amount: number) {
  assert(Number.isSafeInteger(amount) && amount >= 0, `transfer amount must be a non-negative safe integer, got ${amount}`);
}

/**
 * Locks accounts in (rank, id) order, for a transaction that goes on to
 * write several transfers over them: taken up front, its locks can't form a
 * cycle with another writer's. NO KEY UPDATE, the lock a balance UPDATE
 * takes, so transfers that merely reference these accounts aren't blocked.
 */
export async function lockAccounts(c: Queryable, ids: readonly string[]): Promise<void> {
  await c.query(`SELECT a.id FROM accounts a WHERE a.id = ANY($1::uuid[]) ORDER BY ${RANK_SQL('a')}, a.id FOR NO KEY UPDATE`, [uuidArray(ids)]);
}

/** Error codes the ledger's SQL functions (src/ledger/sql/) raise for a refused transfer. */
const REFUSED = {
  ML001: 'exceeds_credits',
  ML002: 'exists_with_different_fields',
  ML003: 'account_not_found',
  ML004: 'pending_not_found',
  ML005: 'pending_already_resolved',
} as const;

/** The LedgerError a failed statement that made a transfer stands for, if any. */
export function ledgerErrorOf(err: unknown): LedgerError | null {
  if (err instanceof LedgerError) return err;
  const reason = REFUSED[(err as { code?: string } | null)?.code as keyof typeof REFUSED];
  return reason ? new LedgerError(reason, (err as Error).message) : null;
}

/**
 * The SQL call that makes one transfer (ledger_create_transfer,
 * src/ledger/sql/), for a
 * statement that does other writes in the same round trip. The arguments are
 * SQL expressions (parameters, columns); code and ledger are literals.
 * Evaluates to 'created' or 'exists'; a refused transfer fails the statement
 * (see ledgerErrorOf).
 * @example `SELECT ${transferCall({ id: '$1', debit: 'w.id', credit: 'e.id', amount: '$2', ledger: 'KRW', code: 'pledge_hold', pending: true, missionId: '$3', debitCode: 'user_wallet', creditCode: 'mission_escrow' })}`
 */
export function transferCall(a: {
  id: string;
  debit: string;
  credit: string;
  amount: string;
  ledger: LedgerName;
  code: string;
  pending: boolean;
  missionId: string;
  /** The kinds of the two accounts, for the lock order (rank, then id). */
  debitCode: AccountCode;
  creditCode: AccountCode;
}): string {
  assert(/^[a-z_]+$/.test(a.code) && /^[A-Z]+$/.test(a.ledger), 'code and ledger are literals');
  const rank = rankOf(a.debitCode) - rankOf(a.creditCode);
  const debitFirst = rank === 0 ? `(${a.debit} < ${a.credit})` : String(rank < 0);
  return `ledger_create_transfer(${a.id}::uuid, ${a.debit}, ${a.credit}, ${a.amount}::bigint, '${a.ledger}', '${a.code}', ${a.pending ? PENDING : 0}, ${a.missionId}::uuid, ${debitFirst})`;
}

/**
 * The SQL call that makes many transfers of one kind at once, all or nothing
 * (ledger_create_transfers, src/ledger/sql/): one lock pass in (rank, id)
 * order, the amounts summed per account and checked against its limit under
 * the lock, one insert. The arguments are SQL expressions of equal-length arrays. Evaluates
 * to how many transfers it made; when any of them is refused the statement
 * fails (see ledgerErrorOf) and nothing of the batch remains, so the caller
 * can make each one alone with transferCall to learn which.
 * @example `SELECT ${transfersCall({ ids: 'array_agg(t.hold_id)', debits: 'array_agg(t.wallet_id)', credits: 'array_agg(t.escrow_id)', amounts: 'array_agg(t.amount)', missionIds: 'array_agg(t.mission_id)', ledger: 'KRW', code: 'pledge_hold', pending: true, debitCode: 'user_wallet', creditCode: 'mission_escrow' })} FROM t`
 */
export function transfersCall(a: {
  ids: string;
  debits: string;
  credits: string;
  amounts: string;
  missionIds: string;
  ledger: LedgerName;
  code: string;
  pending: boolean;
  debitCode: AccountCode;
  creditCode: AccountCode;
}): string {
  assert(/^[a-z_]+$/.test(a.code) && /^[A-Z]+$/.test(a.ledger), 'code and ledger are literals');
  const rank = rankOf(a.debitCode) - rankOf(a.creditCode);
  const debitsFirst = rank === 0 ? 'NULL' : String(rank < 0);
  return `ledger_create_transfers(${a.ids}, ${a.debits}, ${a.credits}, ${a.amounts}, ${a.missionIds}, '${a.ledger}', '${a.code}', ${a.pending ? PENDING : 0}, ${debitsFirst})`;
}

/**
 * Creates a single-phase (posted) or pending transfer inside the caller's
 * transaction, in one round trip (the SQL function ledger_create_transfer,
 * src/ledger/sql/, holds the steps). The same id with the same fields is
 * "exists" (no effect); with other fields it is an error. A refused transfer
 * fails the statement, so the caller's transaction can only roll back.
 * @example await createTransfer(c, { id, debit: wallet, credit: escrow, amount: 5000, code: 'pledge_hold', pending: true });
 */
export async function createTransfer(c: Queryable, t: TransferInput): Promise<'created' | 'exists'> {
  assertAmount(t.amount);
  if (t.debit.ledger !== t.credit.ledger) throw new LedgerError('ledger_mismatch', 'accounts are on different ledgers');
  const debitFirst = (rankOf(t.debit.code) - rankOf(t.credit.code) || (t.debit.id < t.credit.id ? -1 : 1)) < 0;
  try {
    const { rows } = await c.query<{ result: 'created' | 'exists' }>({
      name: 'ledger-create-transfer',
      text: 'SELECT ledger_create_transfer($1, $2, $3, $4, $5, $6, $7, $8, $9) AS result',
      values: [t.id, t.debit.id, t.credit.id, t.amount, t.debit.ledger, t.code, t.pending ? PENDING : 0, t.missionId ?? null, debitFirst],
    });
    return rows[0]!.result;
  } catch (err) {
    throw ledgerErrorOf(err) ?? err;
  }
}

export interface Resolution {
  /** Id of the post/void transfer. */
  id: string;
  pendingId: string;
  /** Amount to post (≤ the pending amount; the rest is released). 0 voids. */
  postAmount: number;
  code: string;
}

/**
 * Posts or voids many pending transfers at once, all or nothing, in one
 * round trip (the SQL function ledger_resolve_pending, src/ledger/sql/, holds
 * the steps: lookups, inserts, locks in the global order, balances, counts).
 * Each pending transfer is resolved at most once: a second resolution — an
 * earlier one, a concurrent one, or two items of the batch — is refused
 * (pending_already_resolved), as is an id that is no pending transfer
 * (pending_not_found); a post above the pending amount is a bug
 * (AssertionError). Returns, per pending id, the pending amount.
 * @example await resolvePending(c, [{ id: settleId, pendingId: hold, postAmount: 0, code: 'pledge_refund' }]);
 */
export async function resolvePending(c: Queryable, items: Resolution[]): Promise<Map<string, number>> {
  if (items.length === 0) return new Map();
  // No per-item objects or strings beyond the columns: a settlement batch
  // has thousands of items, and this runs once per batch.
  const n = items.length;
  const ids = new Array<string>(n);
  const pendingIds = new Array<string>(n);
  const amounts = new Array<number>(n);
  const codes = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const i = items[k]!;
    assertAmount(i.postAmount);
    ids[k] = i.id;
    pendingIds[k] = i.pendingId;
    amounts[k] = i.postAmount;
    codes[k] = i.code;
  }
  let held: string[];
  try {
    const { rows } = await c.query<{ held: string[] }>({
      name: 'ledger-resolve-pending',
      text: 'SELECT ledger_resolve_pending($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[]) AS held',
      values: [uuidArray(ids), uuidArray(pendingIds), intArray(amounts), textArray(codes), LOCK_ORDER],
    });
    held = rows[0]!.held;
  } catch (err) {
    if ((err as { code?: string } | null)?.code === BROKEN) assert.fail((err as Error).message);
    throw ledgerErrorOf(err) ?? err;
  }
  assert.equal(held.length, n, 'ledger_resolve_pending answers one pending amount per item');
  const result = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const amount = Number(held[k]);
    assert(Number.isSafeInteger(amount), `pending amount ${held[k]} is not a safe integer`);
    result.set(pendingIds[k]!, amount);
  }
  return result;
}

/** The account codes in lock order, as ledger_resolve_pending ranks accounts. */
const LOCK_ORDER = textArray(ACCOUNT_CODES);

/** The code ledger functions raise for a broken rule that no caller should meet (an assertion). */
const BROKEN = 'ML009';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A uuid[] parameter as PostgreSQL's array literal text, built with one join:
 * node-postgres quotes and escapes every element of a JS array, which was a
 * good part of a big batch's CPU. Only well-formed uuids (or null) get in.
 */
function uuidArray(values: readonly (string | null)[]): string {
  for (const v of values) if (v !== null && !UUID.test(v)) throw new TypeError(`not a uuid: ${JSON.stringify(v)}`);
  return `{${values.map((v) => v ?? 'NULL').join(',')}}`;
}

/** A bigint[]/int[] parameter as array literal text; the values are safe integers. */
function intArray(values: readonly number[]): string {
  for (const v of values) if (!Number.isSafeInteger(v)) throw new TypeError(`not a safe integer: ${v}`);
  return `{${values.join(',')}}`;
}

/** A text[] parameter as array literal text, every element quoted. */
function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}
