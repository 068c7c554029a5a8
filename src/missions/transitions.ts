// The missions' state machine (API.md): a viewer proposes a mission
// (PROPOSED, their first pledge held with it); its channel's owner accepts it
// (ACTIVE), rejects it, cancels it or decides it (SUCCEEDED or FAILED); the
// sweeper expires it past its accept window or deadline (expiry.ts). Every
// transition locks the mission row; pledges take a share lock on it, so a
// decision waits for pledges in flight (they are settled with it) and later
// pledges see the new state (and are refused without holding anything).
import { uuidv7 } from 'uuidv7';
import { ensureAccounts } from '../ledger/index.ts';
import { tx, type Client, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { completeKey, replayOf, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import type { Metrics } from '../platform/metrics.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { ChannelService } from './channels.ts';
import { endMission } from './expiry.ts';
import type { MissionLifecycle } from './lifecycle.ts';
import { ESCROW_SLOTS, MISSION_LOCK_CLASS, TERMINAL, type Mission, type MissionRow } from './model.ts';
import { amountOutOfRange, holdPledge } from './pledges.ts';
import { loadMission } from './queries.ts';

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

export type Decision = 'SUCCEEDED' | 'FAILED';

/** What a viewer proposes: the mission, and the amount of its first pledge. */
export interface Proposal {
  title: string;
  description?: string;
  amount: number;
  durationSeconds: number;
}

/** What missions need from the process: their database, the channels, names of users, and who to tell. */
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

/**
 * Proposals and the owner's transitions (accept, reject, cancel, decide),
 * each in one transaction with its event and the lifecycle's subscribers;
 * an ending is endMission's (expiry.ts), shared with the sweeper's expiry.
 * @example const { mission } = await transitions.accept(ownerId, missionId, new Date());
 */
export class MissionTransitions {
  constructor(private readonly deps: MissionDeps) {}

  private get pool() {
    return this.deps.pool;
  }

  /**
   * A viewer proposes a mission to a channel; `amount` is held from their
   * wallet at once as the first pledge.
   */
  async propose(userId: string, handle: string, input: Proposal, key: IdempotencyKey | undefined, now: Date): Promise<Outcome<{ mission: Mission }>> {
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
      await holdPledge(c, { missionId: id, userId, backerName, amount: input.amount, at: now });
      const mission = await loadMission(c, id);
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
    }, (c, m) => endMission(c, m, 'REJECTED', now, this.deps.lifecycle));
  }

  async cancel(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'A proposal is rejected, not cancelled');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires');
    }, (c, m) => endMission(c, m, 'CANCELLED', now, this.deps.lifecycle));
  }

  async decide(userId: string, id: string, outcome: Decision, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'Accept the mission before deciding it');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_DECIDED', `The mission was already decided (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires without a decision');
    }, (c, m) => endMission(c, m, outcome, now, this.deps.lifecycle));
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
      return { mission: await loadMission(c, id) };
    });
    this.deps.eventsCommitted();
    return result;
  }
}

function checkAmount(amount: number, min: number, max: number) {
  if (amount < min || amount > max) throw amountOutOfRange(min, max);
}
