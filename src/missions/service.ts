import { uuidv7 } from 'uuidv7';
import { balancesOf, ensureAccount, ensureAccounts } from '../ledger/index.ts';
import { Batcher } from '../platform/batcher.ts';
import { isDeadlock, tx, type Client, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { completeKey, createdOnce, replayOf, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import { decodeCursor, encodeCursor } from '../platform/ids.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { ChannelService } from './channels.ts';
import { endMission, expireDueIn } from './expiry.ts';
import type { MissionLifecycle } from './lifecycle.ts';

import { ESCROW_SLOTS, iso, MISSION_LOCK_CLASS, TERMINAL, toMission, type Mission, type MissionRow, type MissionState, type Pledge } from './model.ts';
import { amountOutOfRange, holdPledges, KEY_RESULTS, refusal, type HoldRequest } from './pledges.ts';

export { ESCROW_SLOTS, MISSION_LOCK_CLASS, MISSION_STATES, TERMINAL, toMission, type Mission, type MissionRow, type MissionState, type Pledge } from './model.ts';

const MISSION_WITH_TOTALS = `
  SELECT m.*, m.created_at::text AS at_text, t.pledged_amount, t.backer_count
    FROM missions m
    LEFT JOIN LATERAL (
      SELECT sum(amount)::bigint AS pledged_amount, sum(backers)::bigint AS backer_count
        FROM mission_totals WHERE mission_id = m.id) t ON true`;

/** Pledged total and backer count of a mission, summed over its slots (see missionTotalsOf). */
export interface MissionTotals {
  pledgedAmount: number;
  backerCount: number;
}

/** Totals of several missions in one query (the live writer's batches). */
export async function missionTotalsOf(c: Queryable, missionIds: string[]): Promise<Map<string, MissionTotals>> {
  const totals = new Map<string, MissionTotals>();
  if (missionIds.length === 0) return totals;
  const { rows } = await c.query<{ mission_id: string; amount: number; backers: number }>({
    name: 'mission-totals-of',
    text: `SELECT mission_id, sum(amount)::bigint AS amount, sum(backers)::bigint AS backers
             FROM mission_totals WHERE mission_id = ANY($1::uuid[]) GROUP BY mission_id`,
    values: [missionIds],
  });
  for (const r of rows) totals.set(r.mission_id, { pledgedAmount: Number(r.amount), backerCount: Number(r.backers) });
  return totals;
}

export interface MissionDeps {
  pool: Pool;
  channels: ChannelService;
  displayNameOf: (userId: string) => Promise<string>;
  /** Called after a commit that enqueued events. */
  eventsCommitted: () => void;
  /** Where other modules react to transitions, inside their transactions (accepted, decided). */
  lifecycle?: MissionLifecycle;
  metrics?: Metrics;
}

export type Decision = 'SUCCEEDED' | 'FAILED';

type PledgeOutcome = Outcome<{ pledge: Pledge }>;

/** Pledges per batch, at most, and batches in flight at once (see Batcher). */
const PLEDGE_BATCH = 64;
const PLEDGE_BATCH_SLOTS = 2;


/**
 * Queues on a mission in arrival order: pledges share it, transitions hold it
 * alone. Row locks alone are not fair: new FOR SHARE lockers overtake a
 * waiting FOR UPDATE, so a stream of pledges could hold a decision back for as
 * long as it lasts; PostgreSQL's lock manager makes a new shared request wait
 * behind a waiting exclusive one.
 */
export async function lockMission(c: Queryable, missionId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await c.query(`SELECT ${fn}($1, hashtext($2))`, [MISSION_LOCK_CLASS, missionId]);
}

/**
 * Missions and pledges: the state machine of API.md. Every transition locks
 * the mission row; pledges take a share lock on it, so a decision waits for
 * pledges in flight (they are settled with it) and later pledges see the new
 * state (and are refused without holding anything).
 */
export class MissionService {
  /** Pledges, with or without an Idempotency-Key, held in batches (holdAll). */
  private readonly holds = new Batcher<HoldRequest, PledgeOutcome>({ maxBatch: PLEDGE_BATCH, slots: PLEDGE_BATCH_SLOTS, run: (items) => this.holdAll(items) });

  constructor(private readonly deps: MissionDeps) {}

  private get pool() {
    return this.deps.pool;
  }

  /**
   * A viewer proposes a mission to a channel; `amount` is held from their
   * wallet at once as the first pledge.
   */
  async propose(
    userId: string,
    handle: string,
    input: { title: string; description?: string; amount: number; durationSeconds: number },
    key: IdempotencyKey | undefined,
    now: Date,
  ): Promise<Outcome<{ mission: Mission }>> {
    const channel = await this.deps.channels.row(handle);
    if (channel.owner_id === userId) throw new AppError('FORBIDDEN', 'Streamers cannot propose missions to their own channel');
    checkAmount(input.amount, channel.mission_min_amount, channel.mission_max_amount);
    const backerName = await this.deps.displayNameOf(userId);
    const out = await tx(this.pool, async (c) => {
      const replay = await replayOf<{ mission: Mission }>(c, key);
      if (replay) return replay;
      const id = uuidv7();
      const acceptDeadline = new Date(now.getTime() + channel.accept_window_seconds * 1000);
      await c.query(
        `INSERT INTO missions (id, channel, channel_owner_id, title, description, state, duration_seconds, failure_keep_bps,
                               min_amount, max_amount, created_by, created_at, accept_deadline)
         VALUES ($1, $2, $3, $4, $5, 'PROPOSED', $6, $7, $8, $9, $10, $11, $12)`,
        [id, handle, channel.owner_id, input.title, input.description ?? null, input.durationSeconds, channel.failure_keep_bps,
          channel.mission_min_amount, channel.mission_max_amount, userId, now, acceptDeadline],
      );
      const slots = [...Array(ESCROW_SLOTS).keys()];
      await ensureAccounts(c, 'KRW', 'mission_escrow', slots.map((s) => `${id}:${s}`));
      await c.query('INSERT INTO mission_totals (mission_id, slot) SELECT $1, s FROM unnest($2::int[]) AS s', [id, slots]);
      await enqueueEvent(c, 'mission.proposed', id, { missionId: id, channel: handle, state: 'PROPOSED' });
      await this.hold(c, { missionId: id, userId, backerName, amount: input.amount, at: now });
      const mission = await this.load(c, id);
      const body = { mission };
      if (key) await completeKey(c, key, 201, body, id);
      return { outcome: { status: 201, body, replayed: false } };
    });
    if ('outcome' in out) {
      this.deps.eventsCommitted();
      this.deps.metrics?.pledges.inc({ kind: 'proposal' });
      this.deps.metrics?.pledgedKrw.inc({ kind: 'proposal' }, input.amount);
      return out.outcome;
    }
    return out as Outcome<{ mission: Mission }>;
  }

  /** Backs an open mission. Refused at or after the deadline, whatever the sweeper did. */
  async pledge(userId: string, missionId: string, amount: number, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<Outcome<{ pledge: Pledge }>> {
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
      const pledge = await this.hold(q, { ...r, key: undefined });
      return { body: { pledge }, resourceId: pledge.id };
    });
  }

  /** Holds one pledge in the caller's transaction (a batch of one), or throws its refusal. */
  private async hold(c: Queryable, r: HoldRequest): Promise<Pledge> {
    const [{ result, pledge }] = (await holdPledges(c, [r])) as [{ result: Parameters<typeof refusal>[1] | 'ok'; pledge: Pledge }];
    if (result === 'ok') return pledge;
    throw await refusal(c, result, r);
  }

  async get(id: string, c: Queryable = this.pool): Promise<Mission> {
    return this.load(c, id);
  }

  private async load(c: Queryable, id: string): Promise<Mission> {
    const { rows } = await c.query(`${MISSION_WITH_TOTALS} WHERE m.id = $1`, [id]);
    if (!rows[0]) throw new AppError('NOT_FOUND', 'No such mission');
    return toMission(rows[0]);
  }

  async list(handle: string, state: MissionState | undefined, limit: number, cursor?: string): Promise<{ items: Mission[]; nextCursor: string | null }> {
    await this.deps.channels.row(handle);
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `${MISSION_WITH_TOTALS}
        WHERE m.channel = $1 AND ($2::text IS NULL OR m.state = $2)
          AND ($3::timestamptz IS NULL OR (m.created_at, m.id) < ($3::timestamptz, $4::uuid))
        ORDER BY m.created_at DESC, m.id DESC LIMIT $5`,
      [handle, state ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, toMission);
  }

  async pledges(missionId: string, limit: number, cursor?: string): Promise<{ items: Pledge[]; nextCursor: string | null }> {
    const exists = await this.pool.query('SELECT 1 FROM missions WHERE id = $1', [missionId]);
    if (!exists.rowCount) throw new AppError('NOT_FOUND', 'No such mission');
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT id, mission_id, amount, status, backer_name, created_at, created_at::text AS at_text FROM pledges
        WHERE mission_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [missionId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({
      id: r.id,
      missionId: r.mission_id,
      amount: Number(r.amount),
      status: r.status,
      backerName: r.backer_name,
      createdAt: r.created_at.toISOString(),
    }));
  }

  /**
   * Runs one owner action on the locked mission row: authorisation first
   * (403 whatever the state), then the state rules (409 with a catalogue code).
   */
  private async transition(
    userId: string,
    id: string,
    check: (m: MissionRow) => void,
    apply: (c: Client, m: MissionRow) => Promise<void>,
  ): Promise<{ mission: Mission }> {
    const result = await tx(this.pool, async (c) => {
      await lockMission(c, id, 'exclusive');
      const { rows } = await c.query<MissionRow>('SELECT * FROM missions WHERE id = $1 FOR UPDATE', [id]);
      const m = rows[0];
      if (!m) throw new AppError('NOT_FOUND', 'No such mission');
      if (m.channel_owner_id !== userId) throw new AppError('FORBIDDEN', 'Only the channel owner can do this');
      check(m);
      await apply(c, m);
      return { mission: await this.load(c, id) };
    });
    this.deps.eventsCommitted();
    return result;
  }

  async accept(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'ACTIVE') throw new AppError('MISSION_NOT_PROPOSED', 'The mission was already accepted');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      if (now >= m.accept_deadline) throw new AppError('ACCEPT_WINDOW_CLOSED', 'The accept window of this proposal has closed');
    }, async (c, m) => {
      const deadline = new Date(now.getTime() + m.duration_seconds * 1000);
      await c.query(`UPDATE missions SET state = 'ACTIVE', accepted_at = $2, deadline = $3 WHERE id = $1`, [m.id, now, deadline]);
      await this.deps.lifecycle?.run('accepted', c, { ...m, state: 'ACTIVE', accepted_at: now, deadline });
      await enqueueEvent(c, 'mission.accepted', m.id, { missionId: m.id, channel: m.channel, state: 'ACTIVE', deadline: deadline.toISOString() });
    });
  }

  async reject(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'ACTIVE') throw new AppError('MISSION_NOT_PROPOSED', 'An accepted mission is cancelled, not rejected');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      // Like a cancel after the deadline: past its window a proposal expires, whether or not the sweeper ran.
      if (now >= m.accept_deadline) throw new AppError('ACCEPT_WINDOW_CLOSED', 'The accept window of this proposal has closed; it expires');
    }, (c, m) => this.end(c, m, 'REJECTED', now));
  }

  async cancel(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'A proposal is rejected, not cancelled');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires');
    }, (c, m) => this.end(c, m, 'CANCELLED', now));
  }

  async decide(userId: string, id: string, outcome: Decision, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'Accept the mission before deciding it');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_DECIDED', `The mission was already decided (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires without a decision');
    }, (c, m) => this.end(c, m, outcome, now));
  }

  /** Moves a locked mission into a terminal state and announces it for settlement. */
  private async end(c: Queryable, m: MissionRow, state: MissionState, now: Date): Promise<void> {
    await endMission(c, m, state, now, this.deps.lifecycle);
  }

  /**
   * Expires proposals past their accept window and active missions past their
   * deadline. Safe with several sweepers: each row is taken by one of them.
   */
  async expireDue(now: Date, batch = 100): Promise<number> {
    const n = await tx(this.pool, (c) => expireDueIn(c, now, batch, this.deps.lifecycle));
    if (n) this.deps.eventsCommitted();
    return n;
  }

  /** The caller's pledges with their missions' outcomes, newest first. */
  async myPledges(userId: string, limit: number, cursor?: string) {
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT p.id, p.amount, p.status, p.captured_amount, p.refunded_amount, p.created_at, p.created_at::text AS at_text,
              m.id AS mission_id, m.title, m.channel, m.state, m.settled_at, m.created_by
         FROM pledges p JOIN missions m ON m.id = p.mission_id
        WHERE p.backer_id = $1 AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2::timestamptz, $3::uuid))
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({
      pledgeId: r.id as string,
      amount: Number(r.amount),
      status: r.status as Pledge['status'],
      capturedAmount: Number(r.captured_amount),
      refundedAmount: Number(r.refunded_amount),
      createdAt: (r.created_at as Date).toISOString(),
      mission: { id: r.mission_id as string, title: r.title as string, channel: r.channel as string, state: r.state as MissionState, settledAt: iso(r.settled_at), createdBy: r.created_by as string },
    }));
  }

  /** What each settled mission paid the streamer (net of the fee), newest first. */
  async payouts(userId: string, limit: number, cursor?: string) {
    const handle = await this.deps.channels.ownedChannel(userId);
    if (!handle) throw new AppError('FORBIDDEN', 'Only streamers have payouts; create a channel first');
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT m.id, m.title, m.settled_at AS created_at, m.settled_at::text AS at_text,
              coalesce(sum(t.amount) FILTER (WHERE t.code = 'streamer_payout'), 0)::bigint AS amount,
              coalesce(sum(t.amount) FILTER (WHERE t.code = 'platform_fee'), 0)::bigint AS fee
         FROM missions m JOIN transfers t ON t.mission_id = m.id AND t.code IN ('streamer_payout', 'platform_fee')
        WHERE m.channel = $1 AND m.settled_at IS NOT NULL
          AND ($2::timestamptz IS NULL OR (m.settled_at, m.id) < ($2::timestamptz, $3::uuid))
        GROUP BY m.id ORDER BY m.settled_at DESC, m.id DESC LIMIT $4`,
      [handle, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({
      missionId: r.id as string,
      title: r.title as string,
      amount: Number(r.amount),
      fee: Number(r.fee),
      createdAt: (r.created_at as Date).toISOString(),
    }));
  }

  /** What a streamer has earned, and what is held for their active missions. */
  async earnings(userId: string): Promise<{ settled: number; pending: number; currency: 'KRW' }> {
    const handle = await this.deps.channels.ownedChannel(userId);
    if (!handle) throw new AppError('FORBIDDEN', 'Only streamers have earnings; create a channel first');
    const account = await ensureAccount(this.pool, 'KRW', 'streamer_earnings', userId);
    const b = await balancesOf(this.pool, account.id);
    const { rows } = await this.pool.query<{ pending: number }>(
      `SELECT coalesce(sum(p.amount), 0)::bigint AS pending FROM pledges p JOIN missions m ON m.id = p.mission_id
        WHERE m.channel = $1 AND m.state = 'ACTIVE' AND p.status = 'HELD'`,
      [handle],
    );
    return { settled: b.creditsPosted, pending: Number(rows[0]!.pending), currency: 'KRW' };
  }
}

function checkAmount(amount: number, min: number, max: number) {
  if (amount < min || amount > max) throw amountOutOfRange(min, max);
}

function parseCursor(cursor: string | undefined) {
  if (!cursor) return null;
  const c = decodeCursor(cursor);
  if (!c) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
  return c;
}

function paginate<R extends { id: string; at_text: string }, T>(rows: R[], limit: number, map: (r: R) => T) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
}
