import { isUniqueViolation, type Pool } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';

export interface ChannelSettings {
  missionMinAmount: number;
  missionMaxAmount: number;
  acceptWindowSeconds: number;
  failureKeepBps: number;
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
};

interface ChannelRow {
  handle: string;
  owner_id: string;
  display_name: string;
  mission_min_amount: number;
  mission_max_amount: number;
  accept_window_seconds: number;
  failure_keep_bps: number;
  created_at: Date;
}

const COLUMNS = 'handle, owner_id, display_name, mission_min_amount, mission_max_amount, accept_window_seconds, failure_keep_bps, created_at';

const toChannel = (r: ChannelRow): Channel => ({
  handle: r.handle,
  displayName: r.display_name,
  settings: {
    missionMinAmount: r.mission_min_amount,
    missionMaxAmount: r.mission_max_amount,
    acceptWindowSeconds: r.accept_window_seconds,
    failureKeepBps: r.failure_keep_bps,
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
        `INSERT INTO channels (handle, owner_id, display_name, mission_min_amount, mission_max_amount, accept_window_seconds, failure_keep_bps)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [input.handle, ownerId, input.displayName, settings.missionMinAmount, settings.missionMaxAmount, settings.acceptWindowSeconds, settings.failureKeepBps],
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
      `UPDATE channels SET display_name = $2, mission_min_amount = $3, mission_max_amount = $4, accept_window_seconds = $5, failure_keep_bps = $6
        WHERE handle = $1 RETURNING ${COLUMNS}`,
      [handle, patch.displayName ?? current.display_name, settings.missionMinAmount, settings.missionMaxAmount, settings.acceptWindowSeconds, settings.failureKeepBps],
    );
    return toChannel(rows[0]!);
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
