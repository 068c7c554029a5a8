import { createHash } from 'node:crypto';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { anchorProblem, newestAnchor, type AuditProblem } from './audit-anchor.ts';
import { appendKey, type AuditKey } from './audit-key.ts';

export type AuditAction =
  | 'register'
  | 'login'
  | 'login_failed'
  | 'login_throttled'
  | 'refresh'
  | 'refresh_reuse'
  | 'logout'
  | 'email_verification_requested'
  | 'email_verified'
  // An operator's act on a user's money (details: the operator, the reason, what it moved).
  | 'holds_released';

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

type HashInput = { seq: number; at: Date; action: string; userId: string | null; ip: string | null; details: unknown; prevHash: string };

const entryText = (r: HashInput) => canonical([r.seq, r.at.toISOString(), r.action, r.userId, r.ip, r.details, r.prevHash]);

/**
 * The hash of one entry, over its content and the previous entry's hash:
 * an HMAC-SHA-256 under the audit key, which the identity database's owner
 * does not hold, so an edited entry cannot be given a hash that verifies.
 */
export function auditRowHash(r: HashInput, key: AuditKey) {
  return key.entryMac(entryText(r));
}

/**
 * The hash rule of entries written before the chain was keyed (plain
 * SHA-256, anyone can recompute it): entries below the switch-over point
 * (audit_chain.keyed_from, migrations/identity/0006) keep it. The first keyed
 * entry's MAC covers their head, and the anchors pin the switch-over point.
 */
export function legacyAuditRowHash(r: HashInput) {
  return createHash('sha256').update(entryText(r)).digest('hex');
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
  // Computed here, in the app: keying the chain adds no round trip to a login.
  const hash = auditRowHash(row, appendKey());
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
  /** The first entry hashed with the key; those before keep plain SHA-256 (written before the switch). */
  keyedFrom: number;
  /** The newest anchor in the funding database: every entry up to it is proven present and unchanged. */
  anchor: { entries: number; at: string } | null;
  /** Entries after the newest anchor: checked as strictly, but their removal would go unseen. */
  unanchored: number;
  /** First sequence number whose row, link or anchor does not verify. */
  brokenAt?: number;
  reason?: AuditProblem;
  detail?: string;
}

type LogRow = { seq: number; at: Date; action: string; user_id: string | null; ip: string | null; details: unknown; prev_hash: string; hash: string };

/** Rows are read a page at a time: the log can be long. */
const VERIFY_PAGE = 5_000;

/**
 * Recomputes the whole chain with the audit key and holds it against the
 * newest anchor (funding database). Reports any edited, removed, reordered
 * or re-hashed entry (plain SHA-256 or another key), a chain shorter than
 * its anchor (tail removed), a moved switch-over point, and anchors not made
 * with this key.
 * @example const report = await verifyAuditChain(identityPool, { funding: fundingPool, key: await loadAuditKey(config, { create: false }) });
 */
export async function verifyAuditChain(identity: Pool, opts: { funding: Pool; key: AuditKey }): Promise<AuditCheck> {
  const { key } = opts;
  const anchor = await newestAnchor(opts.funding);
  const declared = (await identity.query<{ keyed_from: number }>('SELECT keyed_from FROM audit_chain')).rows[0]?.keyed_from;
  // The anchors pin the switch-over point; without any, the database's own word (or, lacking that, the strictest: 1).
  const keyedFrom = anchor?.keyedFrom ?? declared ?? 1;
  let problem: { brokenAt?: number; reason: AuditProblem; detail?: string } | undefined;
  if (anchor) problem = anchorProblem(anchor, key);
  if (!problem && anchor && declared !== anchor.keyedFrom) {
    problem = { reason: 'switch-over point moved', detail: `the anchors say keyed hashes start at entry ${anchor.keyedFrom}, the identity database says ${declared ?? 'nothing'}` };
  }

  let entries = 0;
  let prevHash = GENESIS;
  let expectedSeq = 1;
  for (let after = 0; ; ) {
    const { rows } = await identity.query<LogRow>(
      'SELECT seq, at, action, user_id, ip, details, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, VERIFY_PAGE],
    );
    for (const r of rows) {
      entries++;
      if (!problem) problem = checkEntry(r, { expectedSeq, prevHash, keyedFrom, key, anchor });
      prevHash = r.hash;
      expectedSeq = r.seq + 1;
    }
    if (rows.length < VERIFY_PAGE) break;
    after = rows.at(-1)!.seq;
  }
  if (!problem && anchor && expectedSeq - 1 < anchor.entries) {
    problem = { brokenAt: expectedSeq, reason: 'tail removed', detail: `the newest anchor (${anchor.at.toISOString()}) counts ${anchor.entries} entries, the log ends at ${expectedSeq - 1}` };
  }
  return {
    ok: !problem,
    entries,
    keyedFrom,
    anchor: anchor && { entries: anchor.entries, at: anchor.at.toISOString() },
    unanchored: Math.max(0, entries - (anchor?.entries ?? 0)),
    ...problem,
  };
}

/** The problem with one entry, given what precedes it, if any. */
function checkEntry(
  r: LogRow,
  ctx: { expectedSeq: number; prevHash: string; keyedFrom: number; key: AuditKey; anchor: { entries: number; head: string } | null },
): { brokenAt: number; reason: AuditProblem } | undefined {
  if (r.seq !== ctx.expectedSeq) return { brokenAt: ctx.expectedSeq, reason: 'missing entry' };
  if (r.prev_hash !== ctx.prevHash) return { brokenAt: r.seq, reason: 'broken link' };
  const input = { seq: r.seq, at: r.at, action: r.action, userId: r.user_id, ip: r.ip, details: r.details, prevHash: r.prev_hash };
  if (r.seq < ctx.keyedFrom) {
    if (legacyAuditRowHash(input) !== r.hash) return { brokenAt: r.seq, reason: 'content changed' };
  } else if (auditRowHash(input, ctx.key) !== r.hash) {
    return { brokenAt: r.seq, reason: legacyAuditRowHash(input) === r.hash ? 'hashed without the key' : 'content changed' };
  }
  if (ctx.anchor && r.seq === ctx.anchor.entries && r.hash !== ctx.anchor.head) return { brokenAt: r.seq, reason: 'anchor mismatch' };
  return undefined;
}
