import { randomInt } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { KEY_LOCK_CLASS, type IdempotencyKey } from '../platform/idempotency.ts';
import { ESCROW_SLOTS, MISSION_LOCK_CLASS, type Pledge } from './model.ts';

/**
 * What pledge_hold_batch (src/missions/sql) answers for one pledge of
 * a batch: `ok` (held), a refusal, or a key reason that sends the pledge down
 * the path that waits for its Idempotency-Key and replays the stored answer.
 */
export const HOLD_RESULTS = [
  'ok',
  'key_repeated',
  'key_busy',
  'key_exists',
  'mission_not_found',
  'own_mission',
  'amount_out_of_range',
  'mission_not_open',
  'exceeds_available',
] as const;
export type HoldResult = (typeof HOLD_RESULTS)[number];

/** The key reasons: the answer is the key's, not the batch's. */
export const KEY_RESULTS: ReadonlySet<HoldResult> = new Set(['key_repeated', 'key_busy', 'key_exists']);

/** A pledge to hold. */
export interface HoldRequest {
  missionId: string;
  userId: string;
  backerName: string;
  amount: number;
  at: Date;
  /** Stored with the pledge and its answer, in the same statement, when given. */
  key?: IdempotencyKey;
}

export interface Held {
  result: HoldResult;
  /** The pledge as held (meaningful when `result` is `ok`). */
  pledge: Pledge;
}

/**
 * Checks and holds a batch of pledges in one statement (pledge_hold_batch):
 * each gets its own result, in order; refusals change nothing and never fail
 * the others. Runs in the caller's transaction when `q` is a client, as its
 * own otherwise. A lone pledge is a batch of one.
 * @example const [{ result, pledge }] = await holdPledges(pool, [{ missionId, userId, backerName, amount, at: new Date() }]);
 */
export async function holdPledges(q: Queryable, items: HoldRequest[]): Promise<Held[]> {
  const rows = items.map((r) => ({ ...r, slot: randomInt(ESCROW_SLOTS), pledgeId: uuidv7(), holdId: uuidv7(), eventId: uuidv7() }));
  const pledges: Pledge[] = rows.map((r) => ({ id: r.pledgeId, missionId: r.missionId, amount: r.amount, status: 'HELD', backerName: r.backerName, createdAt: r.at.toISOString() }));
  const { rows: out } = await q.query<{ results: HoldResult[] }>({
    name: 'pledge-hold-batch',
    text: `SELECT pledge_hold_batch($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[], $6::int[], $7::uuid[], $8::uuid[], $9::uuid[],
                                    $10::text[], $11::text[], $12::jsonb[], $13::int, $14::int) AS results`,
    values: [
      rows.map((r) => r.missionId),
      rows.map((r) => r.userId),
      rows.map((r) => r.backerName),
      rows.map((r) => r.amount),
      rows.map((r) => r.at.toISOString()),
      rows.map((r) => r.slot),
      rows.map((r) => r.pledgeId),
      rows.map((r) => r.holdId),
      rows.map((r) => r.eventId),
      rows.map((r) => r.key?.key ?? null),
      rows.map((r) => r.key?.hash ?? null),
      rows.map((r, n) => (r.key ? JSON.stringify({ pledge: pledges[n] }) : null)),
      KEY_LOCK_CLASS,
      MISSION_LOCK_CLASS,
    ],
  });
  const results = out[0]!.results;
  if (results.length !== items.length) throw new Error(`pledge_hold_batch answered ${results.length} results for ${items.length} pledges`);
  return results.map((result, n) => ({ result, pledge: pledges[n]! }));
}

/**
 * The API's answer to a refused pledge. The statement says why; the bounds
 * and state it names in words are read again here (refusals are rare).
 */
export async function refusal(q: Queryable, result: Exclude<HoldResult, 'ok'>, r: HoldRequest): Promise<AppError> {
  switch (result) {
    case 'own_mission':
      return new AppError('FORBIDDEN', 'Streamers cannot back missions of their own channel');
    case 'exceeds_available':
      return new AppError('INSUFFICIENT_FUNDS', `Not enough available cash for ${r.amount} KRW; charge your wallet first`);
    case 'mission_not_found':
      return new AppError('NOT_FOUND', 'No such mission');
    case 'amount_out_of_range':
    case 'mission_not_open': {
      const { rows } = await q.query<{ state: string; min_amount: string; max_amount: string }>('SELECT state, min_amount, max_amount FROM missions WHERE id = $1', [r.missionId]);
      const m = rows[0];
      if (!m) return new AppError('NOT_FOUND', 'No such mission');
      if (result === 'amount_out_of_range') return amountOutOfRange(Number(m.min_amount), Number(m.max_amount));
      const open = m.state === 'ACTIVE' || m.state === 'PROPOSED';
      return new AppError('MISSION_NOT_OPEN', `The mission is ${open ? 'past its deadline' : m.state}; it takes no pledges`);
    }
    default:
      // The key reasons are answered by the key's path, never here.
      throw new Error(`no refusal for ${result}`);
  }
}

/** 400 for an amount outside a mission's (or channel's) bounds. */
export function amountOutOfRange(min: number, max: number): AppError {
  return new AppError('VALIDATION_FAILED', `The amount must be between ${min} and ${max} KRW on this channel`, {
    errors: [{ path: 'amount', message: `must be between ${min} and ${max}` }],
  });
}
