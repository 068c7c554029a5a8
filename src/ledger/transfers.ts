import assert from 'node:assert/strict';
import type { Queryable } from '../platform/db.ts';
import { rankOf, RANK_SQL, type AccountCode, type AccountRef, type LedgerName } from './accounts.ts';

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

/** Error codes ledger_create_transfer (migrations/funding) raises. */
const REFUSED = { ML001: 'exceeds_credits', ML002: 'exists_with_different_fields', ML003: 'account_not_found' } as const;

/** The LedgerError a failed statement that made a transfer stands for, if any. */
export function ledgerErrorOf(err: unknown): LedgerError | null {
  if (err instanceof LedgerError) return err;
  const reason = REFUSED[(err as { code?: string } | null)?.code as keyof typeof REFUSED];
  return reason ? new LedgerError(reason, (err as Error).message) : null;
}

/**
 * The SQL call that makes one transfer (ledger_create_transfer), for a
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
 * (ledger_create_transfers): one lock pass in (rank, id) order, the amounts
 * summed per account and checked against its limit under the lock, one
 * insert. The arguments are SQL expressions of equal-length arrays. Evaluates
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
 * transaction, in one round trip (the SQL function ledger_create_transfer
 * holds the steps). The same id with the same fields is "exists" (no
 * effect); with other fields it is an error. A refused transfer fails the
 * statement, so the caller's transaction can only roll back.
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
 * Posts or voids many pending transfers at once, set-based (settlement of
 * large missions). The caller guarantees each pending transfer is resolved by
 * exactly one call (UNIQUE(pending_id) fails the transaction otherwise).
 * Returns, per pending id, the pending amount.
 */
export async function resolvePending(c: Queryable, items: Resolution[]): Promise<Map<string, number>> {
  if (items.length === 0) return new Map();
  // One pass per step and no per-item strings or objects: a settlement batch
  // has thousands of items, and this runs once per batch.
  for (const i of items) if (!Number.isSafeInteger(i.postAmount) || i.postAmount < 0) assertAmount(i.postAmount);
  const { rows: pend } = await c.query<{ id: string; d: string; cr: string; amount: number; ledger: LedgerName; mission_id: string | null; resolved: boolean }>(
    `SELECT t.id, t.debit_account_id AS d, t.credit_account_id AS cr, t.amount, t.ledger, t.mission_id,
            EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = t.id) AS resolved
       FROM transfers t WHERE t.id = ANY($1::uuid[]) AND t.flags = 1`,
    [uuidArray(items.map((i) => i.pendingId))],
  );
  const byId = new Map<string, (typeof pend)[number]>();
  for (const p of pend) byId.set(p.id, p);
  const n = items.length;
  const cols = {
    id: new Array<string>(n),
    debit: new Array<string>(n),
    credit: new Array<string>(n),
    amount: new Array<number>(n),
    ledger: new Array<string>(n),
    code: new Array<string>(n),
    flags: new Array<number>(n),
    pendingId: new Array<string>(n),
    missionId: new Array<string | null>(n),
  };
  // Per account: release the pending amounts, add the posted ones ([dp, dpo, cp, cpo]).
  const deltas = new Map<string, [number, number, number, number]>();
  for (let k = 0; k < n; k++) {
    const i = items[k]!;
    const p = byId.get(i.pendingId);
    if (!p) throw new LedgerError('pending_not_found', `pending transfer ${i.pendingId} not found`);
    if (p.resolved) throw new LedgerError('pending_already_resolved', `pending transfer ${i.pendingId} was already posted or voided`);
    if (i.postAmount > p.amount) assert.fail(`post amount ${i.postAmount} exceeds pending amount ${p.amount}`);
    const isVoid = i.postAmount === 0;
    cols.id[k] = i.id;
    cols.debit[k] = p.d;
    cols.credit[k] = p.cr;
    cols.amount[k] = isVoid ? p.amount : i.postAmount;
    cols.ledger[k] = p.ledger;
    cols.code[k] = i.code;
    cols.flags[k] = isVoid ? VOID_PENDING : POST_PENDING;
    cols.pendingId[k] = i.pendingId;
    cols.missionId[k] = p.mission_id;
    let d = deltas.get(p.d);
    if (!d) deltas.set(p.d, (d = [0, 0, 0, 0]));
    d[0] -= p.amount;
    d[1] += i.postAmount;
    let cr = deltas.get(p.cr);
    if (!cr) deltas.set(p.cr, (cr = [0, 0, 0, 0]));
    cr[2] -= p.amount;
    cr[3] += i.postAmount;
  }
  const ids = [...deltas.keys()];
  const accountIds = uuidArray(ids);
  await c.query(
    `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, pending_id, mission_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::int[], $8::uuid[], $9::uuid[])`,
    [
      uuidArray(cols.id),
      uuidArray(cols.debit),
      uuidArray(cols.credit),
      intArray(cols.amount),
      cols.ledger,
      cols.code,
      intArray(cols.flags),
      uuidArray(cols.pendingId),
      uuidArray(cols.missionId),
    ],
  );
  // The accounts are locked after the transfers are written, so concurrent
  // resolutions (settlement streams) wait for each other only here.
  await lockAccounts(c, ids);
  const delta = (k: number) => intArray(ids.map((id) => deltas.get(id)![k]!));
  const { rowCount } = await c.query(
    `UPDATE accounts a SET
        debits_pending = a.debits_pending + d.dp, debits_posted = a.debits_posted + d.dpo,
        credits_pending = a.credits_pending + d.cp, credits_posted = a.credits_posted + d.cpo
       FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS d(id, dp, dpo, cp, cpo)
      WHERE a.id = d.id`,
    [accountIds, delta(0), delta(1), delta(2), delta(3)],
  );
  assert.equal(rowCount, ids.length, 'every account of a resolved transfer must exist');
  return new Map(pend.map((p) => [p.id, p.amount]));
}

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
