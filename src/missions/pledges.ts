// Holding pledges: PledgeWriter takes the API's pledges and holds them in
// batches, each batch one statement (holdPledges, which calls
// pledge_hold_batch in src/missions/sql); holdPledge holds one in the
// caller's transaction (a proposal's first pledge); refusal turns a refused
// pledge into the API's answer.
import { randomInt } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { Batcher } from '../platform/batcher.ts';
import { isDeadlock, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { createdOnce, KEY_LOCK_CLASS, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import type { Metrics } from '../platform/metrics.ts';
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
 * Holds one pledge in the caller's transaction (a batch of one), or throws its refusal.
 * @example const pledge = await holdPledge(c, { missionId, userId, backerName, amount, at: now });
 */
export async function holdPledge(c: Queryable, r: HoldRequest): Promise<Pledge> {
  const [{ result, pledge }] = (await holdPledges(c, [r])) as [Held];
  if (result === 'ok') return pledge;
  throw await refusal(c, result, r);
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

type PledgeOutcome = Outcome<{ pledge: Pledge }>;

/** Pledges per batch, at most, and batches in flight at once (see Batcher). */
const PLEDGE_BATCH = 64;
const PLEDGE_BATCH_SLOTS = 2;

/**
 * The API's pledges to open missions: each joins the next batch, held in one
 * statement (holdAll), its Idempotency-Key, if any, stored in the same one.
 * @example const { status, body } = await writer.pledge(userId, missionId, 5_000, key, new Date());
 */
export class PledgeWriter {
  /** Pledges, with or without an Idempotency-Key, held in batches (holdAll). */
  private readonly holds = new Batcher<HoldRequest, PledgeOutcome>({ maxBatch: PLEDGE_BATCH, slots: PLEDGE_BATCH_SLOTS, run: (items) => this.holdAll(items) });

  constructor(
    private readonly deps: {
      pool: Pool;
      displayNameOf: (userId: string) => Promise<string>;
      /** Called after a commit that enqueued events. */
      eventsCommitted: () => void;
      metrics?: Metrics;
    },
  ) {}

  private get pool() {
    return this.deps.pool;
  }

  /** Backs an open mission. Refused at or after the deadline, whatever the sweeper did. */
  async pledge(userId: string, missionId: string, amount: number, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<PledgeOutcome> {
    const backerName = await this.deps.displayNameOf(userId);
    // Every pledge joins the next batch (holdAll); its key, if any, is
    // stored in the same statement.
    const outcome = await this.holds.submit({ missionId, userId, backerName, amount, at: arrivedAt, key });
    if (outcome.replayed) return outcome;
    this.deps.eventsCommitted();
    this.deps.metrics?.pledges.inc({ kind: 'pledge' });
    this.deps.metrics?.pledgedKrw.inc({ kind: 'pledge' }, amount);
    return outcome;
  }

  /**
   * Holds a batch of pledges in one statement, which answers for each
   * (holdPledges): held, refused (the refusal is the answer), or sent down
   * its Idempotency-Key's path (holdOne), which waits for the key's lock and
   * replays what is stored. A batch runs after the previous one committed,
   * so a key repeated within a batch finds its first use stored.
   */
  private async holdAll(items: HoldRequest[]): Promise<PromiseSettledResult<PledgeOutcome>[]> {
    let held;
    try {
      held = await holdPledges(this.pool, items);
    } catch (err) {
      // No writer should deadlock with a batch (one lock order), but if one
      // does, each pledge alone is safe to try again.
      if (!isDeadlock(err)) throw err;
      this.deps.metrics?.pledgeBatches.observe({ written: 'one_by_one' }, items.length);
      return Promise.allSettled(items.map((r) => this.holdOne(r)));
    }
    this.deps.metrics?.pledgeBatches.observe({ written: 'together' }, items.length);
    return Promise.allSettled(
      held.map(async ({ result, pledge }, n): Promise<PledgeOutcome> => {
        const r = items[n]!;
        if (result === 'ok') return { status: 201, body: { pledge }, replayed: false };
        if (KEY_RESULTS.has(result)) return this.holdOne(r);
        throw await refusal(this.pool, result, r);
      }),
    );
  }

  /** One pledge in its own transaction with its key (claimed first: a replay gets the stored answer). */
  private holdOne(r: HoldRequest): Promise<PledgeOutcome> {
    return createdOnce(this.pool, r.key, async (q) => {
      const pledge = await holdPledge(q, { ...r, key: undefined });
      return { body: { pledge }, resourceId: pledge.id };
    });
  }
}
