import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { MissionLifecycle } from './lifecycle.ts';
import type { MissionRow, MissionState } from './model.ts';

/**
 * What the sweeper needs of missions: expire proposals past their accept
 * window and active missions past their deadline, a batch at a time;
 * returns how many it expired (0 once nothing is due).
 */
export interface MissionExpiry {
  expireDue(now: Date, batch?: number): Promise<number>;
}

/**
 * Moves a locked mission into a terminal state and announces it for
 * settlement; the lifecycle's `decided` subscribers run in the same transaction.
 */
export async function endMission(c: Queryable, m: MissionRow, state: MissionState, now: Date, lifecycle?: MissionLifecycle): Promise<void> {
  await c.query('UPDATE missions SET state = $2, decided_at = $3 WHERE id = $1', [m.id, state, now]);
  await lifecycle?.run('decided', c, { ...m, state, decided_at: now });
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
