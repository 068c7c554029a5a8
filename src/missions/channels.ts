import { isUniqueViolation, type Pool } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { pageOf, parseCursor } from '../platform/ids.ts';

export interface ChannelSettings {
  missionMinAmount: number;
  missionMaxAmount: number;
  acceptWindowSeconds: number;
  failureKeepBps: number;
  /** Words masked with `*` in backers' messages (case-insensitive). */
  blockedWords: string[];
  /** How long backers may dispute a decision (0: no window, decisions are final at once). */
  disputeWindowSeconds: number;
  /** Disputed pledges reaching this share of the pledged total (basis points) send the mission to review. */
  disputeThresholdBps: number;
}

export interface Channel {
  handle: string;
  displayName: string;
  settings: ChannelSettings;
  createdAt: string;
}

/** How long "owns no channel" is believed without asking the database again. */
export const NEGATIVE_TTL_MS = 1000;

export const DEFAULT_SETTINGS: ChannelSettings = {
  missionMinAmount: 1000,
  missionMaxAmount: 1_000_000,
  acceptWindowSeconds: 3600,
  failureKeepBps: 0,
  blockedWords: [],
  disputeWindowSeconds: 0,
  disputeThresholdBps: 3000,
};

export interface ChannelRow {
  handle: string;
  owner_id: string;
  display_name: string;
  mission_min_amount: number;
  mission_max_amount: number;
  accept_window_seconds: number;
  failure_keep_bps: number;
  blocked_words: string[];
  dispute_window_seconds: number;
  dispute_threshold_bps: number;
  created_at: Date;
}

const COLUMNS =
  'handle, owner_id, display_name, mission_min_amount, mission_max_amount, accept_window_seconds, failure_keep_bps, blocked_words, dispute_window_seconds, dispute_threshold_bps, created_at';

/** A channel row as the API shows it. */
export const toChannel = (r: ChannelRow): Channel => ({
  handle: r.handle,
  displayName: r.display_name,
  settings: {
    missionMinAmount: r.mission_min_amount,
    missionMaxAmount: r.mission_max_amount,
    acceptWindowSeconds: r.accept_window_seconds,
    failureKeepBps: r.failure_keep_bps,
    blockedWords: r.blocked_words,
    disputeWindowSeconds: r.dispute_window_seconds,
    disputeThresholdBps: r.dispute_threshold_bps,
  },
  createdAt: r.created_at.toISOString(),
});

function checkSettings(s: ChannelSettings) {
  if (s.missionMinAmount > s.missionMaxAmount) {
    throw new AppError('VALIDATION_FAILED', 'missionMinAmount must not exceed missionMaxAmount', {
      errors: [{ path: 'settings.missionMinAmount', message: 'must not exceed missionMaxAmount' }],
    });
  }
}

/** Streamers' channels. A user owns at most one; the owner is a stored fact. */
export class ChannelService {
  private readonly owners = new Map<string, string>();
  // "Owns no channel" answers, kept briefly: /me is asked often and most users
  // are viewers. A channel created in this process clears its entry at once;
  // one created through another api process shows within NEGATIVE_TTL_MS.
  private readonly nonOwners = new Map<string, number>();

  constructor(private readonly pool: Pool) {}

  async create(ownerId: string, input: { handle: string; displayName: string; settings?: Partial<ChannelSettings> }): Promise<Channel> {
    const settings = { ...DEFAULT_SETTINGS, ...input.settings };
    checkSettings(settings);
    try {
      const { rows } = await this.pool.query<ChannelRow>(
        `INSERT INTO channels (handle, owner_id, display_name, mission_min_amount, mission_max_amount, accept_window_seconds, failure_keep_bps,
                               blocked_words, dispute_window_seconds, dispute_threshold_bps)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
        [input.handle, ownerId, input.displayName, settings.missionMinAmount, settings.missionMaxAmount, settings.acceptWindowSeconds, settings.failureKeepBps,
          settings.blockedWords, settings.disputeWindowSeconds, settings.disputeThresholdBps],
      );
      this.owners.set(ownerId, input.handle);
      this.nonOwners.delete(ownerId);
      return toChannel(rows[0]!);
    } catch (err) {
      if (isUniqueViolation(err, 'channels_owner_key')) throw new AppError('ALREADY_STREAMER', 'You already own a channel');
      if (isUniqueViolation(err, 'channels_pkey')) throw new AppError('HANDLE_TAKEN', `The handle "${input.handle}" is taken`);
      throw err;
    }
  }

  async get(handle: string): Promise<Channel> {
    const row = await this.row(handle);
    return toChannel(row);
  }

  async row(handle: string): Promise<ChannelRow> {
    // Not a possible handle (e.g. with NUL, which PostgreSQL text cannot hold): no such channel.
    if (!/^[a-z0-9_]{3,24}$/.test(handle)) throw new AppError('NOT_FOUND', 'No such channel');
    const { rows } = await this.pool.query<ChannelRow>(`SELECT ${COLUMNS} FROM channels WHERE handle = $1`, [handle]);
    if (!rows[0]) throw new AppError('NOT_FOUND', `No channel "${handle}"`);
    return rows[0];
  }

  async update(userId: string, handle: string, patch: { displayName?: string; settings?: Partial<ChannelSettings> }): Promise<Channel> {
    const current = await this.row(handle);
    if (current.owner_id !== userId) throw new AppError('FORBIDDEN', 'Only the channel owner can change it');
    const settings = { ...toChannel(current).settings, ...patch.settings };
    checkSettings(settings);
    const { rows } = await this.pool.query<ChannelRow>(
      `UPDATE channels SET display_name = $2, mission_min_amount = $3, mission_max_amount = $4, accept_window_seconds = $5, failure_keep_bps = $6,
                          blocked_words = $7, dispute_window_seconds = $8, dispute_threshold_bps = $9
        WHERE handle = $1 RETURNING ${COLUMNS}`,
      [handle, patch.displayName ?? current.display_name, settings.missionMinAmount, settings.missionMaxAmount, settings.acceptWindowSeconds, settings.failureKeepBps,
        settings.blockedWords, settings.disputeWindowSeconds, settings.disputeThresholdBps],
    );
    return toChannel(rows[0]!);
  }

  /** The owner blocks a user: their proposals, pledges and bets on this channel are refused (403 BLOCKED_BY_CHANNEL). */
  async block(ownerId: string, handle: string, userId: string): Promise<void> {
    await this.owned(ownerId, handle);
    if (userId === ownerId) throw new AppError('VALIDATION_FAILED', 'You cannot block yourself', { errors: [{ path: 'userId', message: 'is you' }] });
    await this.pool.query('INSERT INTO channel_blocks (channel, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [handle, userId]);
  }

  async unblock(ownerId: string, handle: string, userId: string | null): Promise<void> {
    await this.owned(ownerId, handle);
    if (userId) await this.pool.query('DELETE FROM channel_blocks WHERE channel = $1 AND user_id = $2', [handle, userId]);
  }

  /** The channel's blocked users, newest first. */
  async blocks(ownerId: string, handle: string, limit: number, cursor?: string): Promise<{ items: { userId: string; createdAt: string }[]; nextCursor: string | null }> {
    await this.owned(ownerId, handle);
    const after = parseCursor(cursor);
    const { rows } = await this.pool.query<{ user_id: string; created_at: Date; at_text: string }>(
      `SELECT user_id, created_at, created_at::text AS at_text FROM channel_blocks
        WHERE channel = $1 AND ($2::timestamptz IS NULL OR (created_at, user_id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, user_id DESC LIMIT $4`,
      [handle, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return pageOf(rows.map((r) => ({ ...r, id: r.user_id })), limit, (r) => ({ userId: r.user_id, createdAt: r.created_at.toISOString() }));
  }

  /** True when the channel blocked the user (proposals and bets ask; pledges check in their statement). */
  async isBlocked(handle: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM channel_blocks WHERE channel = $1 AND user_id = $2', [handle, userId]);
    return Boolean(rowCount);
  }

  private async owned(userId: string, handle: string): Promise<ChannelRow> {
    const row = await this.row(handle);
    if (row.owner_id !== userId) throw new AppError('FORBIDDEN', 'Only the channel owner can do this');
    return row;
  }

  /**
   * The handle a user owns, or null. Ownership never ends, so a positive
   * answer is cached; a negative one is always asked afresh.
   */
  async ownedChannel(userId: string): Promise<string | null> {
    const cached = this.owners.get(userId);
    if (cached) return cached;
    const until = this.nonOwners.get(userId);
    if (until !== undefined && until > Date.now()) return null;
    const { rows } = await this.pool.query<{ handle: string }>('SELECT handle FROM channels WHERE owner_id = $1', [userId]);
    if (rows[0]) this.owners.set(userId, rows[0].handle);
    else {
      if (this.nonOwners.size > 100_000) this.nonOwners.clear();
      this.nonOwners.set(userId, Date.now() + NEGATIVE_TTL_MS);
    }
    return rows[0]?.handle ?? null;
  }
}
