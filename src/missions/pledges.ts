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
import { maskedMessages } from './messages.ts';
import { ESCROW_SLOTS, MISSION_LOCK_CLASS, type OnFailure, type Pledge } from './model.ts';

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
  'blocked_by_channel',
  'self_excluded',
  'amount_out_of_range',
  'mission_not_open',
  'spending_limit_reached',
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
  /** KRW; per unit on a per-unit mission (the hold is this × its maxUnits). */
  amount: number;
  /** What happens to the pledge if the mission fails (REFUND when not given). */
  onFailure?: OnFailure;
  /** The backer's message, as they typed it (the channel's blocked words are masked here). */
  message?: string;
  at: Date;
  /** Stored with the pledge and its answer, in the same statement, when given. */
  key?: IdempotencyKey;
}

/** What a backer says with a pledge (API.md: amount, onFailure, message). */
export type PledgeTerms = Pick<HoldRequest, 'amount' | 'onFailure' | 'message'>;

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
  const messages = await maskedMessages(q, items);
  const rows = items.map((r) => ({ ...r, slot: randomInt(ESCROW_SLOTS), pledgeId: uuidv7(), holdId: uuidv7(), eventId: uuidv7() }));
  const pledges: Pledge[] = rows.map((r, n) => ({
    id: r.pledgeId,
    missionId: r.missionId,
    amount: r.amount,
    status: 'HELD',
    onFailure: r.onFailure ?? 'REFUND',
    message: messages[n] ?? null,
    backerName: r.backerName,
    createdAt: r.at.toISOString(),
  }));
  const { rows: out } = await q.query<{ results: HoldResult[] }>({
    name: 'pledge-hold-batch',
    text: `SELECT pledge_hold_batch($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[], $8::int[], $9::uuid[],
                                    $10::uuid[], $11::uuid[], $12::text[], $13::text[], $14::jsonb[], $15::int, $16::int) AS results`,
    values: [
      rows.map((r) => r.missionId),
      rows.map((r) => r.userId),
      rows.map((r) => r.backerName),
      rows.map((r) => r.amount),
      rows.map((r) => r.onFailure ?? 'REFUND'),
      messages,
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
    case 'blocked_by_channel':
      return new AppError('BLOCKED_BY_CHANNEL', 'This channel does not take pledges from you');
    case 'self_excluded':
      return new AppError('SELF_EXCLUDED', 'You excluded yourself from pledges for now');
    case 'spending_limit_reached':
      return new AppError('SPENDING_LIMIT_REACHED', 'This pledge would take you over your daily or monthly spending limit');
    case 'exceeds_available':
      return new AppError('INSUFFICIENT_FUNDS', `Not enough available cash for ${r.amount} KRW; charge your wallet first`);
    case 'mission_not_found':
      return new AppError('NOT_FOUND', 'No such mission');
    case 'amount_out_of_range':
    case 'mission_not_open': {
      const { rows } = await q.query<{ state: string; min_amount: string; max_amount: string; unit_max: number | null }>(
        'SELECT state, min_amount, max_amount, unit_max FROM missions WHERE id = $1',
        [r.missionId],
      );
      const m = rows[0];
      if (!m) return new AppError('NOT_FOUND', 'No such mission');
      if (result === 'amount_out_of_range') {
        // On a per-unit mission the bounds hold for amount × maxUnits: say them per unit.
        const per = m.unit_max ?? 1;
        return amountOutOfRange(Math.ceil(Number(m.min_amount) / per), Math.floor(Number(m.max_amount) / per));
      }
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

/**
 * Pledges per batch, at most; batches in flight at once; and the pledges
 * waiting that start a second batch beside the first (see Batcher). A batch
 * waits about a millisecond for its commit (the WAL flush), and at 32 in
 * flight a core is idle meanwhile: a second batch uses it. Below 16 the
 * batches got smaller and dearer. Measured with `npm run bench -- pledges`
 * at 32 in flight, three runs each way: 0.71× pgbench against 0.65× with
 * full batches only (the spread between runs was ±0.06); 8 in flight never
 * has 16 waiting.
 */
const PLEDGE_BATCH = 64;
const PLEDGE_BATCH_SLOTS = 2;
const PLEDGE_OVERLAP_AT = 16;

/**
 * The API's pledges to open missions: each joins the next batch, held in one
 * statement (holdAll), its Idempotency-Key, if any, stored in the same one.
 * @example const { status, body } = await writer.pledge(userId, missionId, { amount: 5_000 }, key, new Date());
 */
export class PledgeWriter {
  /** Pledges, with or without an Idempotency-Key, held in batches (holdAll). */
  private readonly holds = new Batcher<HoldRequest, PledgeOutcome>({ maxBatch: PLEDGE_BATCH, slots: PLEDGE_BATCH_SLOTS, overlapAt: PLEDGE_OVERLAP_AT, run: (items) => this.holdAll(items) });

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
  async pledge(userId: string, missionId: string, terms: PledgeTerms, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<PledgeOutcome> {
    const backerName = await this.deps.displayNameOf(userId);
    // Every pledge joins the next batch (holdAll); its key, if any, is
    // stored in the same statement.
    const outcome = await this.holds.submit({ missionId, userId, backerName, ...terms, at: arrivedAt, key });
    if (outcome.replayed) return outcome;
    this.deps.eventsCommitted();
    this.deps.metrics?.pledges.inc({ kind: 'pledge' });
    this.deps.metrics?.pledgedKrw.inc({ kind: 'pledge' }, terms.amount);
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
