import assert from 'node:assert/strict';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { MissionLifecycle } from './lifecycle.ts';
import type { MissionRow, MissionState } from './model.ts';

/**
 * What the sweeper needs of missions: expire proposals past their accept
 * window and active missions past their deadline, and end dispute windows
 * (the decided outcome becomes final), a batch at a time; returns how many
 * missions it moved (0 once nothing is due).
 */
export interface MissionExpiry {
  expireDue(now: Date, batch?: number): Promise<number>;
}

/**
 * Moves a locked mission into a terminal state and announces it for
 * settlement; the lifecycle's `decided` subscribers run in the same transaction.
 */
export async function endMission(c: Queryable, m: MissionRow, state: MissionState, now: Date, lifecycle?: MissionLifecycle): Promise<void> {
  // A mission that waited for its dispute window (or a review) keeps the time of its decision.
  const decidedAt = m.decided_at ?? now;
  await c.query('UPDATE missions SET state = $2, decided_at = $3 WHERE id = $1', [m.id, state, decidedAt]);
  await lifecycle?.run('decided', c, { ...m, state, decided_at: decidedAt });
  const topic = state === 'EXPIRED' ? 'mission.expired' : 'mission.decided';
  await enqueueEvent(c, topic, m.id, { missionId: m.id, channel: m.channel, state });
}

/**
 * Expires up to `batch` missions that are due at `now`, in the caller's
 * transaction; returns how many. Safe with several sweepers: each row is
 * taken by one of them.
 */
export async function expireDueIn(c: Queryable, now: Date, batch: number, lifecycle?: MissionLifecycle): Promise<number> {
  const { rows } = await c.query<MissionRow>(
    `SELECT * FROM missions
      WHERE (state = 'PROPOSED' AND accept_deadline <= $1) OR (state = 'ACTIVE' AND deadline <= $1)
      ORDER BY coalesce(deadline, accept_deadline) LIMIT $2
      -- SKIP LOCKED: many sweepers may run; each row is expired once.
      FOR UPDATE SKIP LOCKED`,
    [now, batch],
  );
  for (const m of rows) await endMission(c, m, 'EXPIRED', m.state === 'ACTIVE' ? m.deadline! : m.accept_deadline, lifecycle);
  return rows.length + (await endWindowsDueIn(c, now, batch, lifecycle));
}

/**
 * Ends up to `batch` dispute windows that closed at `now` without enough
 * disputes: each mission enters its proposed outcome and settles (its
 * `decidedAt` stays the decision's time). Exactly once, whatever runs at the
 * same time: several sweepers skip each other's rows (SKIP LOCKED); a dispute
 * holds the mission's lock and row while it decides, so a window ends either
 * before it (the dispute then finds the mission no longer CONFIRMING) or
 * after it (the state check below then finds it IN_REVIEW, or still
 * CONFIRMING when the threshold was not reached). A restarted sweeper finds
 * the same rows: nothing is remembered outside the row.
 */
export async function endWindowsDueIn(c: Queryable, now: Date, batch: number, lifecycle?: MissionLifecycle): Promise<number> {
  const { rows } = await c.query<MissionRow>(
    `SELECT * FROM missions
      WHERE state = 'CONFIRMING' AND dispute_ends_at <= $1
      ORDER BY dispute_ends_at LIMIT $2
      -- SKIP LOCKED: many sweepers may run, and a dispute may hold the row; each window ends once.
      FOR UPDATE SKIP LOCKED`,
    [now, batch],
  );
  for (const m of rows) {
    assert(m.proposed_outcome, `mission ${m.id} is CONFIRMING without a proposed outcome`);
    await endMission(c, m, m.proposed_outcome, now, lifecycle);
  }
  return rows.length;
}

/**
 * The sweeper's way into missions, for a process that serves no API (and so
 * has no MissionService): expiry and nothing else.
 * @example const sweeper = new Sweeper({ pool, missions: new MissionExpirer({ pool, eventsCommitted }), log });
 */
export class MissionExpirer implements MissionExpiry {
  constructor(private readonly deps: { pool: Pool; eventsCommitted: () => void; lifecycle?: MissionLifecycle }) {}

  async expireDue(now: Date, batch = 100): Promise<number> {
    const n = await tx(this.deps.pool, (c) => expireDueIn(c, now, batch, this.deps.lifecycle));
    if (n) this.deps.eventsCommitted();
    return n;
  }
}
