// Spending guardrails: a viewer caps their own pledges per KST day and month,
// or excludes themselves for 1–365 days. Lowering a limit applies at once;
// raising or removing one waits 24 hours (an impulse passes, the limit
// stays). The row lives in the funding database, next to the money: the
// pledge writer (missions' pledge_hold_batch) checks it inside the
// transaction that holds the pledge, so concurrent pledges never pass a
// limit together.
import { ensureAccount, lockAccounts } from '../ledger/index.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';

/** A raise (or removal) of a limit waits this long. */
export const RAISE_DELAY_MS = 24 * 3600 * 1000;

/** What GET /me/limits answers. A limit is KRW, or null for none. */
export interface Limits {
  dailyPledgeLimit: number | null;
  monthlyPledgeLimit: number | null;
  /** A raised (or removed) limit and when it applies; null when none waits. */
  pending: { dailyPledgeLimit?: number | null; monthlyPledgeLimit?: number | null; effectiveAt: string } | null;
  selfExcludedUntil: string | null;
}

interface GuardRow {
  daily_limit: number | null;
  monthly_limit: number | null;
  pending_daily_set: boolean;
  pending_daily: number | null;
  pending_monthly_set: boolean;
  pending_monthly: number | null;
  pending_effective_at: Date | null;
  self_excluded_until: Date | null;
}

type Field = 'daily' | 'monthly';

/** The row with every pending change whose time came folded in (what applies at `now`). */
function settle(r: GuardRow, now: Date): GuardRow {
  if (!r.pending_effective_at || r.pending_effective_at > now) return r;
  return {
    ...r,
    daily_limit: r.pending_daily_set ? r.pending_daily : r.daily_limit,
    monthly_limit: r.pending_monthly_set ? r.pending_monthly : r.monthly_limit,
    pending_daily_set: false,
    pending_daily: null,
    pending_monthly_set: false,
    pending_monthly: null,
    pending_effective_at: null,
  };
}

function toLimits(raw: GuardRow | undefined, now: Date): Limits {
  if (!raw) return { dailyPledgeLimit: null, monthlyPledgeLimit: null, pending: null, selfExcludedUntil: null };
  const r = settle(raw, now);
  const waiting = r.pending_effective_at && (r.pending_daily_set || r.pending_monthly_set);
  return {
    dailyPledgeLimit: r.daily_limit === null ? null : Number(r.daily_limit),
    monthlyPledgeLimit: r.monthly_limit === null ? null : Number(r.monthly_limit),
    pending: waiting
      ? {
          ...(r.pending_daily_set ? { dailyPledgeLimit: r.pending_daily === null ? null : Number(r.pending_daily) } : {}),
          ...(r.pending_monthly_set ? { monthlyPledgeLimit: r.pending_monthly === null ? null : Number(r.pending_monthly) } : {}),
          effectiveAt: r.pending_effective_at!.toISOString(),
        }
      : null,
    selfExcludedUntil: r.self_excluded_until && r.self_excluded_until > now ? r.self_excluded_until.toISOString() : null,
  };
}

/**
 * Reads and changes viewers' guardrails.
 * @example await guards.setLimits(userId, { dailyPledgeLimit: 50_000 }, new Date());
 */
export class SpendingGuards {
  constructor(private readonly pool: Pool) {}

  async limits(userId: string, now: Date): Promise<Limits> {
    const { rows } = await this.pool.query<GuardRow>('SELECT * FROM spending_guards WHERE user_id = $1', [userId]);
    return toLimits(rows[0], now);
  }

  /**
   * Changes the given limits (a field left out stays as it is): a lower
   * limit, or a first one, applies at once and drops a raise of that field
   * still waiting; a higher one, or none (null), waits RAISE_DELAY_MS, and
   * restarts the wait of any other raise, so no raise applies sooner than a
   * day after the last one asked; the same value again only drops a waiting
   * raise of that field.
   */
  async setLimits(userId: string, input: { dailyPledgeLimit?: number | null; monthlyPledgeLimit?: number | null }, now: Date): Promise<Limits> {
    return tx(this.pool, async (c) => {
      let r = settle(await lockedRow(c, userId), now);
      const wanted: [Field, number | null | undefined][] = [['daily', input.dailyPledgeLimit], ['monthly', input.monthlyPledgeLimit]];
      for (const [field, value] of wanted) {
        if (value === undefined) continue;
        const current = r[`${field}_limit`] === null ? null : Number(r[`${field}_limit`]);
        const lower = value !== null && (current === null || value < current);
        const raise = value === null ? current !== null : current !== null && value > current;
        if (lower) r = { ...r, [`${field}_limit`]: value, [`pending_${field}_set`]: false, [`pending_${field}`]: null };
        else if (raise) r = { ...r, [`pending_${field}_set`]: true, [`pending_${field}`]: value, pending_effective_at: new Date(now.getTime() + RAISE_DELAY_MS) };
        else r = { ...r, [`pending_${field}_set`]: false, [`pending_${field}`]: null };
      }
      if (!r.pending_daily_set && !r.pending_monthly_set) r = { ...r, pending_effective_at: null };
      await c.query(
        `UPDATE spending_guards SET daily_limit = $2, monthly_limit = $3, pending_daily_set = $4, pending_daily = $5,
                pending_monthly_set = $6, pending_monthly = $7, pending_effective_at = $8, updated_at = now()
          WHERE user_id = $1`,
        [userId, r.daily_limit, r.monthly_limit, r.pending_daily_set, r.pending_daily, r.pending_monthly_set, r.pending_monthly, r.pending_effective_at],
      );
      return toLimits(r, now);
    });
  }

  /** Excludes the user from charges, proposals, pledges and bets for `days` × 24 h; never shortens one running. */
  async selfExclude(userId: string, days: number, now: Date): Promise<Limits> {
    return tx(this.pool, async (c) => {
      const r = await lockedRow(c, userId);
      const until = new Date(now.getTime() + days * 24 * 3600 * 1000);
      const kept = r.self_excluded_until && r.self_excluded_until > until ? r.self_excluded_until : until;
      await c.query('UPDATE spending_guards SET self_excluded_until = $2, updated_at = now() WHERE user_id = $1', [userId, kept]);
      return toLimits({ ...r, self_excluded_until: kept }, now);
    });
  }

  /** Throws 403 SELF_EXCLUDED while the user is excluded (charges and bets ask; pledges check in their statement). */
  async assertNotExcluded(userId: string, now: Date, q: Queryable = this.pool): Promise<void> {
    const { rows } = await q.query<{ until: Date }>('SELECT self_excluded_until AS until FROM spending_guards WHERE user_id = $1 AND self_excluded_until > $2', [userId, now]);
    if (rows[0]) throw new AppError('SELF_EXCLUDED', `You excluded yourself from spending until ${rows[0].until.toISOString()}`);
  }
}

/**
 * The user's guard row, locked; made on first use. A new row first backfills
 * the user's pledges of this KST month into spending_days (which the pledge
 * writer keeps from then on for guarded users), under the lock of the user's
 * wallet that every pledge writer holds until it commits: no pledge is
 * counted twice or missed.
 */
async function lockedRow(c: Queryable, userId: string): Promise<GuardRow> {
  const existing = await c.query<GuardRow>('SELECT * FROM spending_guards WHERE user_id = $1 FOR UPDATE', [userId]);
  if (existing.rows[0]) return existing.rows[0];
  const wallet = await ensureAccount(c, 'KRW', 'user_wallet', userId);
  await lockAccounts(c, [wallet.id]);
  const made = await c.query('INSERT INTO spending_guards (user_id) VALUES ($1) ON CONFLICT DO NOTHING', [userId]);
  if (made.rowCount) {
    await c.query(
      `INSERT INTO spending_days (user_id, day, amount)
       SELECT $1, (created_at AT TIME ZONE 'Asia/Seoul')::date, sum(amount) FROM pledges
        WHERE backer_id = $1 AND created_at >= date_trunc('month', now() AT TIME ZONE 'Asia/Seoul') AT TIME ZONE 'Asia/Seoul'
        GROUP BY 2
       ON CONFLICT (user_id, day) DO UPDATE SET amount = EXCLUDED.amount`,
      [userId],
    );
  }
  const { rows } = await c.query<GuardRow>('SELECT * FROM spending_guards WHERE user_id = $1 FOR UPDATE', [userId]);
  return rows[0]!;
}
