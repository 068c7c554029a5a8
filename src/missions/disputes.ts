// Disputes and reviews (API.md Part 2, "Outcomes backers can trust"): while a
// decided mission waits in its dispute window (CONFIRMING, see
// transitions.ts), each backer may dispute it once; when the disputed pledges
// reach the channel's threshold the mission goes to IN_REVIEW at once, where
// an admin resolves it (SUCCEEDED, FAILED or CANCELLED). The window's end
// without enough disputes is the sweeper's (expiry.ts, endWindowsDueIn).
import { uuidv7 } from 'uuidv7';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../platform/ids.ts';
import type { Metrics } from '../platform/metrics.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import { endMission } from './expiry.ts';
import type { MissionLifecycle } from './lifecycle.ts';
import { toMission, type Mission, type MissionRow, type MissionState } from './model.ts';
import { loadMission, MISSION_WITH_TOTALS } from './queries.ts';
import { lockMission } from './transitions.ts';

export interface Dispute {
  id: string;
  reason: string;
  amount: number;
  createdAt: string;
}

/** A dispute as the mission's owner and admins see it: with the backer's display name. */
export interface DisputeView extends Dispute {
  backerName: string;
}

/** What an admin may resolve a disputed mission to. */
export type Resolution = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** True when disputed pledges reach `thresholdBps` of the pledged total (integers only). */
export function reachesThreshold(disputed: number, pledged: number, thresholdBps: number): boolean {
  return pledged > 0 && disputed * 10_000 >= thresholdBps * pledged;
}

/**
 * Disputes of decided missions and their review.
 * @example const { dispute } = await desk.dispute(backerId, missionId, '방송에서 실패했습니다', new Date());
 */
export class DisputeDesk {
  constructor(
    private readonly deps: {
      pool: Pool;
      displayNameOf: (userId: string) => Promise<string>;
      eventsCommitted: () => void;
      lifecycle?: MissionLifecycle;
      /** missionlink_disputes_total: disputes filed or escalated, reviews resolved. */
      metrics?: Metrics;
    },
  ) {}

  /**
   * A backer disputes the decision: 403 NOT_A_BACKER for anyone who did not
   * back it (whatever the state), 409 MISSION_NOT_CONFIRMING outside the
   * window (at or after `disputeEndsAt` too, whether or not the sweeper ran),
   * 409 ALREADY_DISPUTED the second time. The dispute weighs the backer's
   * pledged total; reaching the threshold moves the mission to IN_REVIEW in
   * the same transaction.
   */
  async dispute(userId: string, missionId: string, reason: string, now: Date): Promise<{ dispute: Dispute }> {
    const backerName = await this.deps.displayNameOf(userId);
    const out = await tx(this.deps.pool, async (c) => {
      const m = await lockedMission(c, missionId);
      const { rows } = await c.query<{ pledges: number; held: string }>(
        `SELECT count(*)::int AS pledges, coalesce(sum(amount) FILTER (WHERE status = 'HELD'), 0)::bigint AS held
           FROM pledges WHERE mission_id = $1 AND backer_id = $2`,
        [missionId, userId],
      );
      const mine = rows[0]!;
      if (mine.pledges === 0) throw new AppError('NOT_A_BACKER', 'Only backers of this mission can dispute its outcome');
      if (m.state !== 'CONFIRMING' || !m.dispute_ends_at || now >= m.dispute_ends_at) {
        throw new AppError('MISSION_NOT_CONFIRMING', `The mission is ${m.state}${m.state === 'CONFIRMING' ? ' but its dispute window has ended' : ''}; it takes no disputes`);
      }
      const amount = Number(mine.held);
      // Every pledge of this backer was taken back (e.g. a card reversal): nothing left to weigh.
      if (amount === 0) throw new AppError('NOT_A_BACKER', 'You have no pledge held on this mission');
      const id = uuidv7();
      const inserted = await c.query<{ created_at: Date }>(
        `INSERT INTO mission_disputes (id, mission_id, backer_id, backer_name, reason, amount, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (mission_id, backer_id) DO NOTHING RETURNING created_at`,
        [id, missionId, userId, backerName, reason, amount, now],
      );
      if (!inserted.rowCount) throw new AppError('ALREADY_DISPUTED', 'You already disputed this mission');
      const totals = (
        await c.query<{ disputed: string; pledged: string }>(
          `SELECT (SELECT coalesce(sum(amount), 0) FROM mission_disputes WHERE mission_id = $1)::bigint AS disputed,
                  (SELECT coalesce(sum(amount), 0) FROM mission_totals WHERE mission_id = $1)::bigint AS pledged`,
          [missionId],
        )
      ).rows[0]!;
      const disputed = Number(totals.disputed);
      const review = reachesThreshold(disputed, Number(totals.pledged), m.dispute_threshold_bps!);
      const payload = { missionId, channel: m.channel, disputedAmount: disputed, disputeEndsAt: m.dispute_ends_at.toISOString() };
      if (review) {
        await c.query(`UPDATE missions SET state = 'IN_REVIEW' WHERE id = $1`, [missionId]);
        await enqueueEvent(c, 'mission.in_review', missionId, { ...payload, state: 'IN_REVIEW' });
      } else {
        await enqueueEvent(c, 'mission.disputed', missionId, { ...payload, state: 'CONFIRMING' });
      }
      return { review, dispute: { id, reason, amount, createdAt: inserted.rows[0]!.created_at.toISOString() } };
    });
    this.deps.eventsCommitted();
    this.deps.metrics?.disputes.inc({ result: out.review ? 'escalated' : 'filed' });
    return { dispute: out.dispute };
  }

  /**
   * An admin resolves a disputed mission: it enters `outcome` and settles as
   * Part 1 says (its `decidedAt` stays the owner's decision). 409
   * MISSION_NOT_IN_REVIEW unless it is IN_REVIEW.
   */
  async resolve(adminId: string, missionId: string, outcome: Resolution, now: Date): Promise<{ mission: Mission }> {
    const out = await tx(this.deps.pool, async (c) => {
      const m = await lockedMission(c, missionId);
      if (m.state !== 'IN_REVIEW') throw new AppError('MISSION_NOT_IN_REVIEW', `The mission is ${m.state}, not waiting for a review`);
      await c.query('UPDATE missions SET reviewed_at = $2, reviewed_by = $3 WHERE id = $1', [missionId, now, adminId]);
      await endMission(c, { ...m, reviewed_at: now, reviewed_by: adminId }, outcome, now, this.deps.lifecycle);
      return { mission: await loadMission(c, missionId) };
    });
    this.deps.eventsCommitted();
    this.deps.metrics?.disputes.inc({ result: outcome.toLowerCase() });
    return out;
  }

  /**
   * The disputes of a mission, newest first. The channel's owner sees them
   * (`ownerId` given: anyone else is 403); admins pass no owner.
   */
  async list(missionId: string, ownerId: string | null, limit: number, cursor?: string): Promise<{ items: DisputeView[]; nextCursor: string | null }> {
    const m = (await this.deps.pool.query<{ channel_owner_id: string }>('SELECT channel_owner_id FROM missions WHERE id = $1', [missionId])).rows[0];
    if (!m) throw new AppError('NOT_FOUND', 'No such mission');
    if (ownerId !== null && m.channel_owner_id !== ownerId) throw new AppError('FORBIDDEN', 'Only the channel owner sees the disputes of a mission');
    const after = parseCursor(cursor);
    const { rows } = await this.deps.pool.query<{ id: string; reason: string; amount: string; backer_name: string; created_at: Date; at_text: string }>(
      `SELECT id, reason, amount, backer_name, created_at, created_at::text AS at_text FROM mission_disputes
        WHERE mission_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [missionId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, (r) => ({ id: r.id, reason: r.reason, amount: Number(r.amount), backerName: r.backer_name, createdAt: r.created_at.toISOString() }));
  }

  /** Missions of every channel in one state (or all), newest first: the ops page's review queue. */
  async byState(state: MissionState | undefined, limit: number, cursor?: string): Promise<{ items: Mission[]; nextCursor: string | null }> {
    const after = parseCursor(cursor);
    const { rows } = await this.deps.pool.query(
      `${MISSION_WITH_TOTALS}
        WHERE ($1::text IS NULL OR m.state = $1)
          AND ($2::timestamptz IS NULL OR (m.created_at, m.id) < ($2::timestamptz, $3::uuid))
        ORDER BY m.created_at DESC, m.id DESC LIMIT $4`,
      [state ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, toMission);
  }
}

/** The mission's fair queue and row, held alone for the caller's transaction; 404 when there is none. */
async function lockedMission(c: Queryable, missionId: string): Promise<MissionRow> {
  await lockMission(c, missionId, 'exclusive');
  const m = (await c.query<MissionRow>('SELECT * FROM missions WHERE id = $1 FOR UPDATE', [missionId])).rows[0];
  if (!m) throw new AppError('NOT_FOUND', 'No such mission');
  return m;
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
