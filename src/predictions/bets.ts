import { randomInt } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { CLOSED_TO_BETS } from '../missions/index.ts';
import type { Side } from './payout.ts';

/** The pool of one prediction is split over this many accounts and total rows. */
export const POOL_SLOTS = 8;

/**
 * What prediction_bet_batch (src/predictions/sql) answers for one bet of a
 * batch: `ok` (placed) or why it was refused.
 */
export const BET_RESULTS = [
  'ok',
  'invalid_side',
  'invalid_points',
  'self_excluded',
  'blocked_by_channel',
  'prediction_not_found',
  'own_mission',
  'prediction_locked',
  'no_wallet',
  'side_already_chosen',
  'exceeds_available',
] as const;
export type BetResult = (typeof BET_RESULTS)[number];

/** A bet to place. */
export interface BetRequest {
  missionId: string;
  userId: string;
  side: Side;
  points: number;
  /** When the bet arrived: it must be before the prediction's locks_at. */
  at: Date;
}

export interface Bet {
  id: string;
  missionId: string;
  side: Side;
  points: number;
  /** The caller's whole stake on this prediction after this bet. */
  totalPoints: number;
  createdAt: string;
}

export interface Placed {
  result: BetResult;
  /** The bet as placed (meaningful when `result` is `ok`; `totalPoints` is 0 otherwise). */
  bet: Bet;
}

/**
 * Checks and places a batch of bets in one statement (prediction_bet_batch):
 * each gets its own result, in order; refusals change nothing and never fail
 * the others. Runs in the caller's transaction when `q` is a client, as its
 * own otherwise. A lone bet is a batch of one.
 * @example const [{ result, bet }] = await placeBets(pool, [{ missionId, userId, side: 'FAILED', points: 100, at: new Date() }]);
 */
export async function placeBets(q: Queryable, items: BetRequest[]): Promise<Placed[]> {
  const rows = items.map((r) => ({ ...r, slot: randomInt(POOL_SLOTS), betId: uuidv7(), transferId: uuidv7(), eventId: uuidv7() }));
  const { rows: out } = await q.query<{ results: BetResult[]; totals: (string | null)[] }>({
    name: 'prediction-bet-batch',
    text: `SELECT results, totals
             FROM prediction_bet_batch($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[], $6::int[], $7::uuid[], $8::uuid[], $9::uuid[], $10::text[])`,
    values: [
      rows.map((r) => r.missionId),
      rows.map((r) => r.userId),
      rows.map((r) => r.side),
      rows.map((r) => r.points),
      rows.map((r) => r.at.toISOString()),
      rows.map((r) => r.slot),
      rows.map((r) => r.betId),
      rows.map((r) => r.transferId),
      rows.map((r) => r.eventId),
      [...CLOSED_TO_BETS],
    ],
  });
  const { results, totals } = out[0]!;
  if (results.length !== items.length) throw new Error(`prediction_bet_batch answered ${results.length} results for ${items.length} bets`);
  return results.map((result, n) => {
    const r = rows[n]!;
    return {
      result,
      bet: { id: r.betId, missionId: r.missionId, side: r.side, points: r.points, totalPoints: Number(totals[n] ?? 0), createdAt: r.at.toISOString() },
    };
  });
}

/** The API's answer to a refused bet. */
export function refusal(result: Exclude<BetResult, 'ok'>, r: BetRequest): AppError {
  switch (result) {
    case 'invalid_side':
      return new AppError('VALIDATION_FAILED', 'The side must be SUCCEEDED or FAILED', { errors: [{ path: 'side', message: 'must be SUCCEEDED or FAILED' }] });
    case 'invalid_points':
      return new AppError('VALIDATION_FAILED', 'A bet takes at least 1 point', { errors: [{ path: 'points', message: 'must be at least 1' }] });
    case 'self_excluded':
      return new AppError('SELF_EXCLUDED', 'You excluded yourself from spending; bets are refused until that ends');
    case 'blocked_by_channel':
      return new AppError('BLOCKED_BY_CHANNEL', 'This channel does not take bets from you');
    case 'prediction_not_found':
      return new AppError('NOT_FOUND', 'This mission has no prediction (it opens when the mission is accepted)');
    case 'own_mission':
      return new AppError('FORBIDDEN', 'The streamer cannot bet on their own mission');
    case 'prediction_locked':
      return new AppError('PREDICTION_LOCKED', 'Betting on this prediction has closed');
    case 'side_already_chosen':
      return new AppError('SIDE_ALREADY_CHOSEN', 'You already bet on the other side of this prediction');
    case 'no_wallet': // no points wallet yet: no points (PredictionService creates it and tries again)
    case 'exceeds_available':
      return new AppError('INSUFFICIENT_POINTS', `Not enough channel points for ${r.points}`);
  }
}
