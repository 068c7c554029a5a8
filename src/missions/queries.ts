// Reading missions and pledges: a mission with its totals, a channel's
// missions, a mission's pledges, a backer's pledges, a streamer's payouts and
// earnings. Lists are pages, newest first, behind a keyset cursor
// (parseCursor/paginate).
import { balancesOf, ensureAccount } from '../ledger/index.ts';
import type { Pool, Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { pageOf, parseCursor } from '../platform/ids.ts';
import type { ChannelService } from './channels.ts';
import { iso, toMission, type Mission, type MissionState, type Pledge } from './model.ts';

/**
 * A mission with its totals, and its proposal's face: the proposer's display
 * name and message (the creator's first pledge; a hidden message reads null).
 * That pledge is the mission's oldest, the first row of pledges_mission_idx
 * read backwards: one index probe per mission.
 */
export const MISSION_WITH_TOTALS = `
  SELECT m.*, m.created_at::text AS at_text, t.pledged_amount, t.backer_count, d.disputed_amount,
         f.backer_name AS proposer_name, f.message AS proposal_message
    FROM missions m
    LEFT JOIN LATERAL (
      SELECT backer_name, CASE WHEN message_hidden THEN NULL ELSE message END AS message
        FROM pledges WHERE mission_id = m.id AND backer_id = m.created_by
       ORDER BY created_at, id LIMIT 1) f ON true
    LEFT JOIN LATERAL (
      SELECT sum(amount)::bigint AS pledged_amount, sum(backers)::bigint AS backer_count
        FROM mission_totals WHERE mission_id = m.id) t ON true
    LEFT JOIN LATERAL (
      SELECT sum(amount)::bigint AS disputed_amount FROM mission_disputes WHERE mission_id = m.id AND m.dispute_ends_at IS NOT NULL) d ON true`;

/** A pledge as the API shows it: its amount per unit on a per-unit mission, its message unless hidden. */
const PLEDGE_COLUMNS = `id, mission_id, coalesce(unit_amount, amount) AS amount, status, on_failure,
  CASE WHEN message_hidden THEN NULL ELSE message END AS message, backer_name, created_at`;

interface PledgeRow {
  id: string;
  mission_id: string;
  amount: number;
  status: Pledge['status'];
  on_failure: Pledge['onFailure'];
  message: string | null;
  backer_name: string;
  created_at: Date;
}

const toPledge = (r: PledgeRow): Pledge => ({
  id: r.id,
  missionId: r.mission_id,
  amount: Number(r.amount),
  status: r.status,
  onFailure: r.on_failure,
  message: r.message,
  backerName: r.backer_name,
  createdAt: r.created_at.toISOString(),
});

/** One pledge as the API shows it. */
export async function loadPledge(c: Queryable, id: string): Promise<Pledge> {
  const { rows } = await c.query<PledgeRow>(`SELECT ${PLEDGE_COLUMNS} FROM pledges WHERE id = $1`, [id]);
  if (!rows[0]) throw new AppError('NOT_FOUND', 'No such pledge');
  return toPledge(rows[0]);
}

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

/**
 * A mission with its totals, read on `c` (a transition's client reads its own
 * write), or 404.
 * @example const mission = await loadMission(pool, id);
 */
export async function loadMission(c: Queryable, id: string): Promise<Mission> {
  const { rows } = await c.query(`${MISSION_WITH_TOTALS} WHERE m.id = $1`, [id]);
  if (!rows[0]) throw new AppError('NOT_FOUND', 'No such mission');
  return toMission(rows[0]);
}

/** What the API reads about missions and pledges (public pages, a backer's pledges, a streamer's money). */
export class MissionQueries {
  constructor(private readonly deps: { pool: Pool; channels: ChannelService }) {}

  private get pool() {
    return this.deps.pool;
  }

  /** @example const mission = await queries.get(id); */
  async get(id: string): Promise<Mission> {
    return loadMission(this.pool, id);
  }

  /** A channel's missions, newest first; `ended` keeps only those that ended (any terminal state). */
  async list(handle: string, state: MissionState | undefined, limit: number, cursor?: string, ended = false): Promise<{ items: Mission[]; nextCursor: string | null }> {
    await this.deps.channels.row(handle);
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `${MISSION_WITH_TOTALS}
        WHERE m.channel = $1 AND ($2::text IS NULL OR m.state = $2)
          AND ($3::timestamptz IS NULL OR (m.created_at, m.id) < ($3::timestamptz, $4::uuid))
          AND (NOT $6::boolean OR m.state NOT IN ('PROPOSED', 'ACTIVE'))
        ORDER BY m.created_at DESC, m.id DESC LIMIT $5`,
      [handle, state ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1, ended],
    );
    return pageOf(rows, limit, toMission);
  }

  async pledges(missionId: string, limit: number, cursor?: string): Promise<{ items: Pledge[]; nextCursor: string | null }> {
    const exists = await this.pool.query('SELECT 1 FROM missions WHERE id = $1', [missionId]);
    if (!exists.rowCount) throw new AppError('NOT_FOUND', 'No such mission');
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT ${PLEDGE_COLUMNS}, created_at::text AS at_text FROM pledges
        WHERE mission_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [missionId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return pageOf(rows, limit, toPledge);
  }

  /** The caller's pledges with their missions' outcomes, newest first. */
  async myPledges(userId: string, limit: number, cursor?: string) {
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query(
      `SELECT p.id, p.amount, p.status, p.on_failure, p.captured_amount, p.refunded_amount, p.created_at, p.created_at::text AS at_text,
              m.id AS mission_id, m.title, m.channel, m.state, m.settled_at, m.created_by
         FROM pledges p JOIN missions m ON m.id = p.mission_id
        WHERE p.backer_id = $1 AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2::timestamptz, $3::uuid))
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return pageOf(rows, limit, (r) => ({
      pledgeId: r.id as string,
      amount: Number(r.amount),
      status: r.status as Pledge['status'],
      onFailure: r.on_failure as Pledge['onFailure'],
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
    return pageOf(rows, limit, (r) => ({
      missionId: r.id as string,
      title: r.title as string,
      amount: Number(r.amount),
      fee: Number(r.fee),
      createdAt: (r.created_at as Date).toISOString(),
    }));
  }

  /**
   * What a streamer has earned, what is held for their active missions, and
   * (contract 1.1) what of the earnings was withdrawn, is being withdrawn
   * (held two-phase: the earnings account's pending debits) and can be:
   * withdrawable = settled − withdrawn − inFlight.
   */
  async earnings(userId: string): Promise<{ settled: number; pending: number; withdrawable: number; withdrawn: number; inFlight: number; currency: 'KRW' }> {
    const handle = await this.deps.channels.ownedChannel(userId);
    if (!handle) throw new AppError('FORBIDDEN', 'Only streamers have earnings; create a channel first');
    const account = await ensureAccount(this.pool, 'KRW', 'streamer_earnings', userId);
    const b = await balancesOf(this.pool, account.id);
    const { rows } = await this.pool.query<{ pending: number }>(
      `SELECT coalesce(sum(p.amount), 0)::bigint AS pending FROM pledges p JOIN missions m ON m.id = p.mission_id
        WHERE m.channel = $1 AND m.state IN ('ACTIVE', 'CONFIRMING', 'IN_REVIEW') AND p.status = 'HELD'`,
      [handle],
    );
    const withdrawable = b.creditsPosted - b.debitsPosted - b.debitsPending;
    return { settled: b.creditsPosted, pending: Number(rows[0]!.pending), withdrawable, withdrawn: b.debitsPosted, inFlight: b.debitsPending, currency: 'KRW' };
  }
}
