import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { tx, type Pool, type Queryable } from './db.ts';
import { AppError } from './errors.ts';

export interface IdempotencyKey {
  userId: string;
  key: string;
  /** Fingerprint of the request (method, path, body). */
  hash: string;
}

export type Claim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: unknown }
  /** Claimed by a request that has not completed: still in flight, or interrupted `ageSeconds` ago. */
  | { kind: 'unfinished'; resourceId: string | null; ageSeconds: number };

/** Reads and validates the Idempotency-Key header (1–255 printable ASCII). */
export function idempotencyKeyOf(req: FastifyRequest, userId: string): IdempotencyKey | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0]! : raw;
  if (!/^[\x20-\x7e]{1,255}$/.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1–255 printable ASCII characters', {
      errors: [{ path: 'Idempotency-Key', message: 'must be 1–255 printable ASCII characters' }],
    });
  }
  const canonical = JSON.stringify([req.method, req.url.split('?')[0], req.body ?? null]);
  return { userId, key, hash: createHash('sha256').update(canonical).digest('hex') };
}

/** Advisory-lock class of idempotency keys (the two-key space). */
export const KEY_LOCK_CLASS = 72_203;

/**
 * The arguments of a key's advisory lock, as SQL, for the user id (a uuid)
 * and key expressions given. Whoever writes a key row takes this lock first,
 * before any other: a transaction that claims a key waits for it here,
 * holding nothing yet, and a batch of pledges only tries it and gives up
 * (holdMany), so two writers of one key never wait for each other in a cycle.
 * @example `SELECT pg_advisory_xact_lock(${keyLock('$1::uuid', '$2::text')})`
 */
export function keyLock(userId: string, key: string): string {
  return `${KEY_LOCK_CLASS}, hashtext(${userId}::text || ':' || ${key})`;
}

/**
 * Claims an idempotency key inside the caller's transaction. A concurrent
 * request with the same key waits for the key's lock until the first
 * commits, then sees its stored response: never two effects.
 */
export async function claimKey(c: Queryable, k: IdempotencyKey): Promise<Claim> {
  const ins = await c.query(
    `INSERT INTO idempotency_keys (user_id, key, request_hash)
     SELECT $1::uuid, $2::text, $3::text FROM (SELECT pg_advisory_xact_lock(${keyLock('$1::uuid', '$2::text')})) AS lock
     ON CONFLICT DO NOTHING`,
    [k.userId, k.key, k.hash],
  );
  if (ins.rowCount === 1) return { kind: 'new' };
  const { rows } = await c.query<{ request_hash: string; status_code: number | null; response: unknown; resource_id: string | null; age: number }>(
    `SELECT request_hash, status_code, response, resource_id, extract(epoch FROM now() - created_at)::float8 AS age
       FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
    [k.userId, k.key],
  );
  const row = rows[0]!;
  if (row.request_hash !== k.hash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
  }
  if (row.status_code !== null) return { kind: 'replay', status: row.status_code, body: row.response };
  return { kind: 'unfinished', resourceId: row.resource_id, ageSeconds: row.age };
}

/** Stores the response to replay for a claimed key. */
export async function completeKey(c: Queryable, k: IdempotencyKey, status: number, body: unknown, resourceId?: string): Promise<void> {
  await c.query(
    'UPDATE idempotency_keys SET status_code = $3, response = $4, resource_id = coalesce($5, resource_id) WHERE user_id = $1 AND key = $2',
    [k.userId, k.key, status, JSON.stringify(body), resourceId ?? null],
  );
}

/** Remembers which resource an unfinished multi-step request created. */
export async function attachResource(c: Queryable, k: IdempotencyKey, resourceId: string): Promise<void> {
  await c.query('UPDATE idempotency_keys SET resource_id = $3 WHERE user_id = $1 AND key = $2', [k.userId, k.key, resourceId]);
}

export interface Outcome<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/**
 * Claims `key` (if any) inside the caller's transaction: the stored answer
 * when the request is a replay, undefined when it is new, 409 while the first
 * request with that key has not finished.
 */
export async function replayOf<B>(c: Queryable, key: IdempotencyKey | undefined): Promise<Outcome<B> | undefined> {
  if (!key) return undefined;
  const claim = await claimKey(c, key);
  if (claim.kind === 'replay') return { status: claim.status, body: claim.body as B, replayed: true };
  if (claim.kind === 'unfinished') throw new AppError('REQUEST_IN_PROGRESS', 'The same request is still being processed; retry shortly');
  return undefined;
}

/**
 * Runs a money-moving action whose effect is one statement, once per
 * Idempotency-Key, answering 201. With a key: a transaction that claims it,
 * acts and stores the answer (a replay gets the stored answer). Without one:
 * `act` runs on the pool, its statement its own transaction.
 * @example await createdOnce(pool, key, async (q) => { const bet = await place(q); return { body: { bet }, resourceId: bet.id }; });
 */
export async function createdOnce<B>(
  pool: Pool,
  key: IdempotencyKey | undefined,
  act: (q: Queryable) => Promise<{ body: B; resourceId: string }>,
): Promise<Outcome<B>> {
  if (!key) return { status: 201, body: (await act(pool)).body, replayed: false };
  return tx(pool, async (c) => {
    const replay = await replayOf<B>(c, key);
    if (replay) return replay;
    const { body, resourceId } = await act(c);
    await completeKey(c, key, 201, body, resourceId);
    return { status: 201, body, replayed: false };
  });
}
