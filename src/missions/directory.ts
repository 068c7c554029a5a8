// The channel's public face: the directory of channels (search by handle or
// name, most active first), a channel's record (missions by state, success
// rate, money captured, backers) and its top backers. Public reads: nothing
// here names a user id or an email, only the display names that pledge lists
// already show.
import type { Pool } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { toChannel, type Channel, type ChannelService } from './channels.ts';
import { MISSION_STATES, type MissionState } from './model.ts';

export interface ChannelStats {
  missions: Record<MissionState, number>;
  /** SUCCEEDED ÷ (SUCCEEDED + FAILED), from 0 to 1; null before the first outcome. */
  successRate: number | null;
  /** KRW captured from backers, before fees. */
  capturedTotal: number;
  /** Distinct users who ever pledged to the channel's missions. */
  backers: number;
}

export interface TopBacker {
  displayName: string;
  /** What the backer has given or still has held: pledged minus refunded, in KRW. */
  amount: number;
  pledges: number;
}

/** Where the next directory page starts: [open missions, last activity in µs, handle]. */
type DirectoryCursor = [number, number, string];

const HANDLE = /^[a-z0-9_]{3,24}$/;

function encodeDirectoryCursor(c: DirectoryCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeDirectoryCursor(cursor: string): DirectoryCursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only what encodeDirectoryCursor writes, so nothing odd reaches PostgreSQL.
    if (
      Array.isArray(c) &&
      c.length === 3 &&
      Number.isSafeInteger(c[0]) &&
      c[0] >= 0 &&
      Number.isSafeInteger(c[1]) &&
      typeof c[2] === 'string' &&
      HANDLE.test(c[2])
    ) {
      return c as DirectoryCursor;
    }
  } catch {
    // falls through
  }
  throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
}

/** A LIKE pattern matching what starts with `prefix`, taken literally (`_` and `%` are handle characters, not wildcards). */
export function prefixPattern(prefix: string): string {
  return `${prefix.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** Reads the directory and channels' records (the funding database; missions and pledges are this module's tables). */
export class ChannelDirectory {
  constructor(private readonly deps: { pool: Pool; channels: ChannelService }) {}

  /**
   * Channels whose handle or display name starts with `q` (case-insensitive;
   * all channels without `q`), most active first: the most open missions
   * (proposed or active), then the latest mission (or the channel's creation),
   * then by handle.
   * @example const page = await directory.search('cook', 20);
   */
  async search(q: string | undefined, limit: number, cursor?: string): Promise<{ items: Channel[]; nextCursor: string | null }> {
    const after = cursor ? decodeDirectoryCursor(cursor) : null;
    const { rows } = await this.deps.pool.query(
      `WITH ranked AS (
         SELECT c.*, coalesce(a.open, 0)::int AS open,
                (extract(epoch FROM greatest(c.created_at, a.last_at)) * 1000000)::bigint AS last_us
           FROM channels c
           -- Per channel, through missions_channel_idx.
           LEFT JOIN LATERAL (
             SELECT count(*) FILTER (WHERE m.state IN ('PROPOSED', 'ACTIVE')) AS open, max(m.created_at) AS last_at
               FROM missions m WHERE m.channel = c.handle) a ON true
          WHERE $1::text IS NULL OR c.handle LIKE $1 ESCAPE '\\' OR lower(c.display_name) LIKE $1 ESCAPE '\\')
       SELECT * FROM ranked
        WHERE $2::int IS NULL
           OR (open, last_us) < ($2::int, $3::bigint)
           OR ((open, last_us) = ($2::int, $3::bigint) AND handle > $4::text)
        ORDER BY open DESC, last_us DESC, handle ASC
        LIMIT $5`,
      [q ? prefixPattern(q) : null, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toChannel),
      nextCursor: rows.length > limit && last ? encodeDirectoryCursor([Number(last.open), Number(last.last_us), last.handle as string]) : null,
    };
  }

  /**
   * A channel's record. 404 for an unknown channel.
   * @example const { successRate } = await directory.stats('cooking_kim');
   */
  async stats(handle: string): Promise<ChannelStats> {
    await this.deps.channels.row(handle);
    const [byState, money] = await Promise.all([
      this.deps.pool.query<{ state: MissionState; n: number }>(
        'SELECT state, count(*)::int AS n FROM missions WHERE channel = $1 GROUP BY state',
        [handle],
      ),
      this.deps.pool.query<{ captured: string; backers: number }>(
        `SELECT coalesce(sum(p.captured_amount), 0)::bigint AS captured, count(DISTINCT p.backer_id)::int AS backers
           FROM missions m JOIN pledges p ON p.mission_id = m.id
          WHERE m.channel = $1`,
        [handle],
      ),
    ]);
    const missions = Object.fromEntries(MISSION_STATES.map((s) => [s, 0])) as Record<MissionState, number>;
    for (const r of byState.rows) missions[r.state] = r.n;
    const decided = missions.SUCCEEDED + missions.FAILED;
    const capturedTotal = Number(money.rows[0]!.captured);
    if (!Number.isSafeInteger(capturedTotal)) throw new Error(`captured total of ${handle} is not a safe integer`);
    return {
      missions,
      successRate: decided === 0 ? null : missions.SUCCEEDED / decided,
      capturedTotal,
      backers: money.rows[0]!.backers,
    };
  }

  /**
   * The channel's biggest backers by what they gave or still have held
   * (pledged minus refunded), largest first; ties go to the earliest backer.
   * @example const top = await directory.topBackers('cooking_kim', 5);
   */
  async topBackers(handle: string, limit: number): Promise<TopBacker[]> {
    await this.deps.channels.row(handle);
    const { rows } = await this.deps.pool.query<{ name: string; amount: string; pledges: number }>(
      `SELECT (array_agg(p.backer_name ORDER BY p.created_at DESC))[1] AS name,
              sum(p.amount - p.refunded_amount)::bigint AS amount, count(*)::int AS pledges
         FROM missions m JOIN pledges p ON p.mission_id = m.id
        WHERE m.channel = $1
        GROUP BY p.backer_id
       HAVING sum(p.amount - p.refunded_amount) > 0
        ORDER BY amount DESC, min(p.created_at) ASC
        LIMIT $2`,
      [handle, limit],
    );
    return rows.map((r) => ({ displayName: r.name, amount: Number(r.amount), pledges: r.pledges }));
  }
}
