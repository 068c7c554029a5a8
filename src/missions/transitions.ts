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
import { ESCROW_SLOTS, MISSION_LOCK_CLASS, TERMINAL, UNCONFIRMED, type Mission, type MissionRow, type OnFailure, type Pledge } from './model.ts';
import { amountOutOfRange, holdPledge } from './pledges.ts';
import { loadMission, loadPledge } from './queries.ts';

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

/** A decision with what the owner shows backers (API.md Part 2: proof and note). */
export interface DecisionInput {
  outcome: Decision;
  proofUrl?: string;
  note?: string;
}

/** What a viewer proposes: the mission, and the amount of its first pledge. */
export interface Proposal {
  title: string;
  description?: string;
  /** The first pledge: KRW, per unit on a per-unit mission. */
  amount: number;
  durationSeconds: number;
  onFailure?: OnFailure;
  message?: string;
  /** Makes it a per-unit mission: "1,000원 per kill, up to 30". */
  unit?: { label: string; maxUnits: number };
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
    // The channel's bounds apply to the hold: amount × maxUnits on a per-unit mission.
    checkAmount(input.amount * (input.unit?.maxUnits ?? 1), channel.mission_min_amount, channel.mission_max_amount, input.unit?.maxUnits ?? 1);
    const backerName = await this.deps.displayNameOf(userId);
    const out = await tx(this.pool, async (c) => {
      const replay = await replayOf<{ mission: Mission }>(c, key);
      if (replay) return replay;
      const id = uuidv7();
      const acceptDeadline = new Date(now.getTime() + channel.accept_window_seconds * 1000);
      await c.query(
        `INSERT INTO missions (id, channel, channel_owner_id, title, description, state, duration_seconds, failure_keep_bps,
                               min_amount, max_amount, created_by, created_at, accept_deadline, unit_label, unit_max)
         VALUES ($1, $2, $3, $4, $5, 'PROPOSED', $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [id, handle, channel.owner_id, input.title, input.description ?? null, input.durationSeconds, channel.failure_keep_bps,
          channel.mission_min_amount, channel.mission_max_amount, userId, now, acceptDeadline, input.unit?.label ?? null, input.unit?.maxUnits ?? null],
      );
      const slots = [...Array(ESCROW_SLOTS).keys()];
      await ensureAccounts(c, 'KRW', 'mission_escrow', slots.map((s) => `${id}:${s}`));
      await c.query('INSERT INTO mission_totals (mission_id, slot) SELECT $1, s FROM unnest($2::int[]) AS s', [id, slots]);
      await enqueueEvent(c, 'mission.proposed', id, { missionId: id, channel: handle, state: 'PROPOSED' });
      await holdPledge(c, { missionId: id, userId, backerName, amount: input.amount, onFailure: input.onFailure, message: input.message, at: now });
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
      if (m.state === 'ACTIVE' || UNCONFIRMED.has(m.state)) throw new AppError('MISSION_NOT_PROPOSED', 'The mission was already accepted');
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
      if (m.state === 'ACTIVE' || UNCONFIRMED.has(m.state)) throw new AppError('MISSION_NOT_PROPOSED', 'An accepted mission is cancelled, not rejected');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      // Like a cancel after the deadline: past its window a proposal expires, whether or not the sweeper ran.
      if (now >= m.accept_deadline) throw new AppError('ACCEPT_WINDOW_CLOSED', 'The accept window of this proposal has closed; it expires');
    }, (c, m) => endMission(c, m, 'REJECTED', now, this.deps.lifecycle));
  }

  async cancel(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'A proposal is rejected, not cancelled');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      // Decided: its outcome waits for the dispute window (or an admin), not for the owner.
      if (UNCONFIRMED.has(m.state)) throw new AppError('MISSION_NOT_ACTIVE', `The mission was decided and is ${m.state}; it can no longer be cancelled`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires');
    }, (c, m) => endMission(c, m, 'CANCELLED', now, this.deps.lifecycle));
  }

  /**
   * The owner's decision, with optional proof and note. With the channel's
   * dispute window 0 the mission ends at once (Part 1); otherwise it waits
   * in CONFIRMING until `disputeEndsAt` (expiry.ts ends the window, disputes.ts
   * takes disputes), with nothing captured or refunded yet.
   */
  async decide(userId: string, id: string, decision: Decision | DecisionInput, now: Date): Promise<{ mission: Mission }> {
    const { outcome, proofUrl, note } = typeof decision === 'string' ? { outcome: decision, proofUrl: undefined, note: undefined } : decision;
    return this.transition(userId, id, (m) => {
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'Accept the mission before deciding it');
      if (TERMINAL.has(m.state) || UNCONFIRMED.has(m.state)) throw new AppError('MISSION_ALREADY_DECIDED', `The mission was already decided (${m.state})`);
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed; it expires without a decision');
    }, async (c, m) => {
      if (proofUrl !== undefined || note !== undefined) {
        await c.query('UPDATE missions SET proof_url = $2, note = $3 WHERE id = $1', [m.id, proofUrl ?? null, note ?? null]);
      }
      // The channel's terms now (read under the mission's lock, in this transaction).
      const { rows } = await c.query<{ dispute_window_seconds: number; dispute_threshold_bps: number }>(
        'SELECT dispute_window_seconds, dispute_threshold_bps FROM channels WHERE handle = $1',
        [m.channel],
      );
      const terms = rows[0]!;
      if (terms.dispute_window_seconds === 0) return endMission(c, m, outcome, now, this.deps.lifecycle);
      await openDisputeWindow(c, m, outcome, now, terms.dispute_window_seconds, terms.dispute_threshold_bps);
    });
  }

  /**
   * The owner reports a per-unit mission's progress: an absolute count,
   * never lower than before (the same count again changes nothing), at most
   * its maxUnits, while it is ACTIVE and before its deadline.
   */
  async progress(userId: string, id: string, units: number, now: Date): Promise<{ mission: Mission }> {
    return this.transition(userId, id, (m) => {
      if (m.unit_max === null) throw new AppError('VALIDATION_FAILED', 'This mission has no unit to count', { errors: [{ path: 'units', message: 'the mission is not a per-unit mission' }] });
      if (units > m.unit_max) throw new AppError('VALIDATION_FAILED', `At most ${m.unit_max} units`, { errors: [{ path: 'units', message: `must be at most ${m.unit_max}` }] });
      if (m.state === 'PROPOSED') throw new AppError('MISSION_NOT_ACTIVE', 'Accept the mission before reporting progress');
      if (TERMINAL.has(m.state)) throw new AppError('MISSION_ALREADY_ENDED', `The mission already ended (${m.state})`);
      if (m.state !== 'ACTIVE') throw new AppError('MISSION_NOT_ACTIVE', 'The mission is not active');
      if (m.deadline && now >= m.deadline) throw new AppError('DEADLINE_PASSED', 'The mission deadline has passed');
      if (units < m.units) throw new AppError('PROGRESS_NOT_MONOTONIC', `Progress is ${m.units} already; it never goes back`);
    }, async (c, m) => {
      if (units === m.units) return;
      await c.query('UPDATE missions SET units = $2 WHERE id = $1', [m.id, units]);
      await enqueueEvent(c, 'mission.progress', m.id, { missionId: m.id, channel: m.channel, units, maxUnits: m.unit_max, label: m.unit_label });
    });
  }

  /**
   * A backer changes what happens to their pledge if the mission fails,
   * while the mission is open (PROPOSED or ACTIVE before its deadline). It
   * queues on the mission like a pledge, so a decision waits for it and
   * settlement reads the choice made before the decision.
   */
  async changeOnFailure(userId: string, pledgeId: string, onFailure: OnFailure, now: Date): Promise<{ pledge: Pledge }> {
    return tx(this.pool, async (c) => {
      const found = await c.query<{ mission_id: string; backer_id: string }>('SELECT mission_id, backer_id FROM pledges WHERE id = $1', [pledgeId]);
      const p = found.rows[0];
      if (!p) throw new AppError('NOT_FOUND', 'No such pledge');
      if (p.backer_id !== userId) throw new AppError('FORBIDDEN', 'Only its backer can change a pledge');
      await lockMission(c, p.mission_id, 'shared');
      const m = (await c.query<MissionRow>('SELECT * FROM missions WHERE id = $1 FOR SHARE', [p.mission_id])).rows[0]!;
      const open = (m.state === 'PROPOSED' && now < m.accept_deadline) || (m.state === 'ACTIVE' && m.deadline !== null && now < m.deadline);
      if (!open) throw new AppError('MISSION_NOT_OPEN', `The mission is ${m.state}; its pledges are final`);
      await c.query('UPDATE pledges SET on_failure = $2 WHERE id = $1', [pledgeId, onFailure]);
      return { pledge: await loadPledge(c, pledgeId) };
    });
  }

  /**
   * The channel owner hides a backer's message after the fact: lists stop
   * showing it and a live `moderation` event tells overlays to drop it.
   * Hiding twice changes nothing more.
   */
  async hideMessage(userId: string, pledgeId: string): Promise<void> {
    const hidden = await tx(this.pool, async (c) => {
      const { rows } = await c.query<{ mission_id: string; channel: string; channel_owner_id: string; message_hidden: boolean; message: string | null }>(
        `SELECT p.mission_id, m.channel, m.channel_owner_id, p.message_hidden, p.message
           FROM pledges p JOIN missions m ON m.id = p.mission_id WHERE p.id = $1 FOR UPDATE OF p`,
        [pledgeId],
      );
      const p = rows[0];
      if (!p) throw new AppError('NOT_FOUND', 'No such pledge');
      if (p.channel_owner_id !== userId) throw new AppError('FORBIDDEN', 'Only the channel owner can hide a message');
      if (p.message_hidden || p.message === null) return false;
      await c.query('UPDATE pledges SET message_hidden = true WHERE id = $1', [pledgeId]);
      await enqueueEvent(c, 'pledge.message_hidden', p.mission_id, { missionId: p.mission_id, channel: p.channel, pledgeId });
      return true;
    });
    if (hidden) this.deps.eventsCommitted();
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

/**
 * Moves a locked ACTIVE mission into its dispute window: CONFIRMING with the
 * owner's outcome, `disputeEndsAt = decidedAt + window` and the channel's
 * threshold of now. No money moves and no settlement starts (no
 * `mission.decided` yet); pledges and bets are refused from here on
 * (neither is taken unless the mission is PROPOSED or ACTIVE).
 */
async function openDisputeWindow(c: Queryable, m: MissionRow, outcome: Decision, now: Date, windowSeconds: number, thresholdBps: number): Promise<void> {
  const endsAt = new Date(now.getTime() + windowSeconds * 1000);
  await c.query(
    `UPDATE missions SET state = 'CONFIRMING', proposed_outcome = $2, decided_at = $3, dispute_ends_at = $4, dispute_threshold_bps = $5 WHERE id = $1`,
    [m.id, outcome, now, endsAt, thresholdBps],
  );
  await enqueueEvent(c, 'mission.confirming', m.id, {
    missionId: m.id, channel: m.channel, state: 'CONFIRMING', proposedOutcome: outcome, disputeEndsAt: endsAt.toISOString(),
  });
}

/** The hold within the channel's bounds; the refusal names them per unit on a per-unit mission. */
function checkAmount(hold: number, min: number, max: number, perUnit: number) {
  if (hold < min || hold > max) throw amountOutOfRange(Math.ceil(min / perUnit), Math.floor(max / perUnit));
}
