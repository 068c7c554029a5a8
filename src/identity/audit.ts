import { createHash } from 'node:crypto';
import { tx, type Pool, type Queryable } from '../platform/db.ts';

export type AuditAction =
  | 'register'
  | 'login'
  | 'login_failed'
  | 'login_throttled'
  | 'refresh'
  | 'refresh_reuse'
  | 'logout';

export interface AuditEntry {
  action: AuditAction;
  userId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);
// Serialises appends: each row needs the previous row's hash.
const AUDIT_LOCK = 72_101;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The hash of one entry, over its content and the previous entry's hash. */
export function auditRowHash(r: { seq: number; at: Date; action: string; userId: string | null; ip: string | null; details: unknown; prevHash: string }) {
  return createHash('sha256')
    .update(canonical([r.seq, r.at.toISOString(), r.action, r.userId, r.ip, r.details, r.prevHash]))
    .digest('hex');
}

/**
 * The last entry this process appended. It lets the next append take the
 * lock and insert in one statement, without reading the chain's end: it only
 * inserts when that entry is still the end (it exists, and the next number is
 * free), else it falls back to reading the end. A stale value (another
 * process appended, or our transaction rolled back) costs one statement,
 * never a broken link.
 */
let lastAppended: { seq: number; hash: string } | null = null;

type AuditRow = { seq: number; at: Date; action: string; userId: string | null; ip: string | null; details: Record<string, unknown>; prevHash: string };

type AuditFields = Omit<AuditRow, 'seq' | 'prevHash'>;

const fieldsOf = (entry: AuditEntry): AuditFields => ({
  at: new Date(),
  action: entry.action,
  userId: entry.userId ?? null,
  ip: entry.ip ?? null,
  details: entry.details ?? {},
});

/** The first parameter number a rider's own parameters take. */
export const AUDIT_RIDER_FIRST_PARAM = 10;

/**
 * A row the caller writes in the same statement as an audit entry, and only
 * if the entry is written: `text` is an `INSERT … SELECT … FROM entry` (the
 * entry's CTE), with its own parameters from AUDIT_RIDER_FIRST_PARAM, cast to
 * their types.
 */
export interface AuditRider {
  name: string;
  text: string;
  values: unknown[];
}

const NO_RIDER: AuditRider = { name: 'none', text: 'SELECT seq FROM entry', values: [] };

/**
 * The statement that appends `row` (and the rider) under the chain's lock.
 * At the chain's remembered end it inserts only if that end still is one:
 * the previous entry exists, and ON CONFLICT (whose unique check sees entries
 * committed after the statement's snapshot, or being written) finds the
 * number free. After reading the end under the lock, the lock is held already.
 */
function appendStatement(row: AuditRow, rider: AuditRider, atRememberedEnd: boolean) {
  const hash = auditRowHash(row);
  const guard = atRememberedEnd
    ? `WHERE EXISTS (SELECT 1 FROM audit_log WHERE seq = $1::bigint - 1 AND hash = $7::text)
       ON CONFLICT (seq) DO NOTHING`
    : '';
  return {
    hash,
    query: {
      name: `audit-append${atRememberedEnd ? '-next' : ''}+${rider.name}`,
      text: `WITH lock AS (SELECT pg_advisory_xact_lock($9)),
             entry AS (
               INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash)
               SELECT $1::bigint, $2::timestamptz, $3::text, $4::uuid, $5::text, $6::jsonb, $7::text, $8::text FROM lock
               ${guard}
               RETURNING seq)
             ${rider.text}`,
      values: [row.seq, row.at, row.action, row.userId, row.ip, JSON.stringify(row.details), row.prevHash, hash, AUDIT_LOCK, ...rider.values],
    },
  };
}

/**
 * Appends after the entry this process appended last, if that is still the
 * chain's end: one statement. False when it is not (nothing written, the
 * rider neither).
 */
async function appendAtKnownEnd(q: Queryable, fields: AuditFields, rider: AuditRider): Promise<boolean> {
  if (!lastAppended) return false;
  const row = { ...fields, seq: lastAppended.seq + 1, prevHash: lastAppended.hash };
  const { hash, query } = appendStatement(row, rider, true);
  const { rowCount } = await q.query(query);
  if (rowCount !== 1) return false;
  lastAppended = { seq: row.seq, hash };
  return true;
}

/** Appends after the chain's end as read under its lock (inside a transaction). */
async function appendAtEnd(client: Queryable, fields: AuditFields, rider: AuditRider): Promise<void> {
  await client.query({ name: 'audit-lock', text: 'SELECT pg_advisory_xact_lock($1)', values: [AUDIT_LOCK] });
  const last = await client.query<{ seq: number; hash: string }>({
    name: 'audit-last',
    text: 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  });
  const prev = last.rows[0];
  const row = { ...fields, seq: (prev?.seq ?? 0) + 1, prevHash: prev?.hash ?? GENESIS };
  const { hash, query } = appendStatement(row, rider, false);
  await client.query(query);
  lastAppended = { seq: row.seq, hash };
}

/**
 * Appends one entry to the chain, inside the caller's transaction.
 * @example await appendAudit(client, { action: 'login', userId, ip });
 */
export async function appendAudit(client: Queryable, entry: AuditEntry): Promise<void> {
  const fields = fieldsOf(entry);
  if (!(await appendAtKnownEnd(client, fields, NO_RIDER))) await appendAtEnd(client, fields, NO_RIDER);
}

/**
 * Appends on its own (with the caller's rider row, all or nothing): one
 * statement when this process knows the chain's end, else a transaction.
 */
export async function appendAuditNow(pool: Pool, entry: AuditEntry, rider: AuditRider = NO_RIDER): Promise<void> {
  const fields = fieldsOf(entry);
  if (!(await appendAtKnownEnd(pool, fields, rider))) await tx(pool, (c) => appendAtEnd(c, fields, rider));
}

export interface AuditCheck {
  ok: boolean;
  entries: number;
  /** First sequence number whose row or link does not verify. */
  brokenAt?: number;
  reason?: string;
}

/** Recomputes the whole chain; any edited, removed or reordered row is reported. */
export async function verifyAuditChain(pool: Pool): Promise<AuditCheck> {
  const { rows } = await pool.query<{
    seq: number; at: Date; action: string; user_id: string | null; ip: string | null; details: unknown; prev_hash: string; hash: string;
  }>('SELECT seq, at, action, user_id, ip, details, prev_hash, hash FROM audit_log ORDER BY seq');
  let prevHash = GENESIS;
  let expectedSeq = 1;
  for (const r of rows) {
    if (r.seq !== expectedSeq) return { ok: false, entries: rows.length, brokenAt: expectedSeq, reason: 'missing entry' };
    if (r.prev_hash !== prevHash) return { ok: false, entries: rows.length, brokenAt: r.seq, reason: 'broken link' };
    const h = auditRowHash({ seq: r.seq, at: r.at, action: r.action, userId: r.user_id, ip: r.ip, details: r.details, prevHash: r.prev_hash });
    if (h !== r.hash) return { ok: false, entries: rows.length, brokenAt: r.seq, reason: 'content changed' };
    prevHash = r.hash;
    expectedSeq++;
  }
  return { ok: true, entries: rows.length };
}
