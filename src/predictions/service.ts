import { createTransfer, ensureAccounts, type AccountRef } from '../ledger/index.ts';
import { Batcher } from '../platform/batcher.ts';
import { isDeadlock, tx, type Client, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { createdOnce, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import { deterministicId } from '../platform/ids.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { Metrics } from '../platform/metrics.ts';
import { pointsWallet } from '../wallet/index.ts';
import { CLOSED_TO_BETS, missionRow, type MissionLifecycle, type MissionRow, type MissionState } from '../missions/index.ts';
import { parimutuel, type Side, type Stake } from './payout.ts';
import { placeBets, POOL_SLOTS, refusal, type Bet, type BetRequest } from './bets.ts';

export { POOL_SLOTS, type Bet };

export const MAX_LOCK_SECONDS = 1800;
export const SIDES: readonly Side[] = ['SUCCEEDED', 'FAILED'];

/** Betting closes halfway through the mission, and at most 30 minutes after acceptance. */
export function locksAtFor(acceptedAt: Date, durationSeconds: number): Date {
  return new Date(acceptedAt.getTime() + Math.min((durationSeconds * 1000) / 2, MAX_LOCK_SECONDS * 1000));
}

export interface PredictionView {
  state: 'OPEN' | 'LOCKED' | 'RESOLVED' | 'REFUNDED';
  pools: Record<Side, number>;
  locksAt: string;
  myBet: { side: Side; points: number; payout: number | null } | null;
}

const poolSlot = (missionId: string, slot: number) => `${missionId}:${slot}`;

/**
 * Predictions with channel points only (the POINTS ledger; cash can never
 * reach them). Opened in the transaction that accepts a mission, resolved in
 * the transaction that settles it.
 */
export class PredictionService {
  /**
   * Bets without an Idempotency-Key, placed in batches: whatever arrives
   * while one batch is in its statement leaves together in the next
   * (Batcher), each answered by its own result (placeBets).
   */
  private readonly bets = new Batcher<BetRequest, Bet>({ maxBatch: 64, slots: 2, run: (items) => this.placeAll(items) });

  constructor(private readonly deps: { pool: Pool; eventsCommitted: () => void; metrics?: Metrics }) {}

  /** A mission's prediction opens in the transaction that accepts it and resolves in the one that settles it. */
  subscribeTo(lifecycle: MissionLifecycle): void {
    lifecycle.accepted.push((c, m) => this.open(c, m));
    lifecycle.settled.push((c, m) => this.resolve(c, m));
  }

  /** Hook for MissionService: opens the prediction of a mission being accepted. */
  async open(c: Queryable, m: { id: string; accepted_at: Date; duration_seconds: number }): Promise<void> {
    const locksAt = locksAtFor(m.accepted_at, m.duration_seconds);
    await c.query(`INSERT INTO predictions (mission_id, state, opened_at, locks_at) VALUES ($1, 'OPEN', $2, $3)`, [m.id, m.accepted_at, locksAt]);
    const slots = [...Array(POOL_SLOTS).keys()];
    await c.query(
      `INSERT INTO prediction_totals (mission_id, side, slot) SELECT $1, s.side, n FROM unnest($2::text[]) AS s(side), unnest($3::int[]) AS n`,
      [m.id, SIDES, slots],
    );
    await ensureAccounts(c, 'POINTS', 'prediction_pool', slots.map((s) => poolSlot(m.id, s)));
  }

  async view(missionId: string, userId?: string, now = new Date()): Promise<PredictionView> {
    const { rows } = await this.deps.pool.query<{ state: string; locks_at: Date; mission_state: MissionState }>(
      'SELECT p.state, p.locks_at, m.state AS mission_state FROM predictions p JOIN missions m ON m.id = p.mission_id WHERE p.mission_id = $1',
      [missionId],
    );
    const p = rows[0];
    if (!p) throw new AppError('NOT_FOUND', 'This mission has no prediction (it opens when the mission is accepted)');
    const pools = await poolsOf(this.deps.pool, missionId);
    let myBet: PredictionView['myBet'] = null;
    if (userId) {
      const stake = await this.deps.pool.query<{ side: Side; points: number; payout: number | null }>(
        'SELECT side, points, payout FROM prediction_stakes WHERE mission_id = $1 AND user_id = $2',
        [missionId, userId],
      );
      if (stake.rows[0]) myBet = { side: stake.rows[0].side, points: stake.rows[0].points, payout: stake.rows[0].payout };
    }
    const state = p.state !== 'OPEN' ? (p.state as 'RESOLVED' | 'REFUNDED') : now >= p.locks_at || CLOSED_TO_BETS.has(p.mission_state) ? 'LOCKED' : 'OPEN';
    return { state, pools, locksAt: p.locks_at.toISOString(), myBet };
  }

  /**
   * The channel's owner closes betting now (API.md Part 2, prediction/lock):
   * `locksAt` becomes the time of the lock, so bets that arrive from then on
   * are refused as at `locksAt`; locking again changes nothing. 403 for
   * anyone else, 404 without a prediction, 409 PREDICTION_LOCKED once it is
   * resolved or refunded.
   */
  async lock(userId: string, missionId: string, now: Date): Promise<PredictionView> {
    const locked = await tx(this.deps.pool, async (c) => {
      const m = await missionRow(c, missionId);
      if (!m) throw new AppError('NOT_FOUND', 'No such mission');
      if (m.channel_owner_id !== userId) throw new AppError('FORBIDDEN', 'Only the channel owner can lock its prediction');
      // Waits for bets in flight (they hold the row FOR SHARE); later ones see the new locks_at.
      const { rows } = await c.query<{ state: string; locks_at: Date }>('SELECT state, locks_at FROM predictions WHERE mission_id = $1 FOR UPDATE', [missionId]);
      const p = rows[0];
      if (!p) throw new AppError('NOT_FOUND', 'This mission has no prediction (it opens when the mission is accepted)');
      if (p.state !== 'OPEN') throw new AppError('PREDICTION_LOCKED', `The prediction is already ${p.state}`);
      if (p.locks_at <= now) return false;
      await c.query('UPDATE predictions SET locks_at = $2 WHERE mission_id = $1', [missionId, now]);
      await enqueueEvent(c, 'prediction.locked', missionId, { missionId, channel: m.channel, state: 'LOCKED' });
      return true;
    });
    if (locked) this.deps.eventsCommitted();
    return this.view(missionId, userId, now);
  }

  /** Places points on one side. Locked from locksAt on, whatever the sweeper did. */
  async bet(userId: string, missionId: string, side: Side, points: number, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<Outcome<{ bet: Bet }>> {
    if (!key) {
      // Without a key a bet joins the next batch: one statement, one commit for all of it.
      const bet = await this.bets.submit({ missionId, userId, side, points, at: arrivedAt });
      this.deps.eventsCommitted();
      this.deps.metrics?.bets.inc({ side });
      return { status: 201, body: { bet }, replayed: false };
    }
    // With a key: its own transaction, the key claimed first (a replay gets the stored answer).
    const out = await createdOnce(this.deps.pool, key, async (q) => {
      const bet = await this.place(q, userId, missionId, side, points, arrivedAt);
      return { body: { bet }, resourceId: bet.id };
    });
    if (!out.replayed) {
      this.deps.eventsCommitted();
      this.deps.metrics?.bets.inc({ side });
    }
    return out;
  }

  /**
   * Places a batch of bets in one statement; each is answered by its result.
   * A user's first bet, which finds no points wallet, and every bet of a
   * batch PostgreSQL broke a deadlock on, is placed again alone (place).
   */
  private async placeAll(items: BetRequest[]): Promise<PromiseSettledResult<Bet>[]> {
    let placed;
    try {
      placed = await placeBets(this.deps.pool, items);
    } catch (err) {
      if (!isDeadlock(err)) throw err;
      return Promise.allSettled(items.map((r) => this.place(this.deps.pool, r.userId, r.missionId, r.side, r.points, r.at)));
    }
    return Promise.allSettled(
      placed.map(async ({ result, bet }, n) => {
        const r = items[n]!;
        if (result === 'ok') return bet;
        if (result === 'no_wallet') return this.place(this.deps.pool, r.userId, r.missionId, r.side, r.points, r.at);
        throw refusal(result, r);
      }),
    );
  }

  /**
   * Places a bet: a batch of one through placeBets (prediction_bet_batch,
   * one statement), whose result names a refusal. A user's first bet may
   * find no points wallet: it is created (with its signup grant) and the bet
   * placed again.
   */
  private async place(c: Queryable, userId: string, missionId: string, side: Side, points: number, arrivedAt: Date, again = false): Promise<Bet> {
    const request: BetRequest = { missionId, userId, side, points, at: arrivedAt };
    const [placed] = await placeBets(c, [request]);
    const { result, bet } = placed!;
    if (result === 'ok') return bet;
    if (result === 'no_wallet' && !again) {
      // A points wallet is created together with its signup grant, once.
      await tx(this.deps.pool, (w) => pointsWallet(w, userId));
      return this.place(c, userId, missionId, side, points, arrivedAt, true);
    }
    throw refusal(result, request);
  }

  /**
   * Settlement hook, inside the mission's final settlement transaction: pays
   * the winners (parimutuel) or refunds every stake. Runs once: the
   * prediction row is locked and must still be OPEN.
   */
  async resolve(c: Queryable, m: MissionRow): Promise<void> {
    const { rows } = await c.query<{ state: string }>('SELECT state FROM predictions WHERE mission_id = $1 FOR UPDATE', [m.id]);
    if (!rows[0] || rows[0].state !== 'OPEN') return;
    const stakes = (
      await c.query<{ user_id: string; side: Side; points: number; first_bet_at: Date; first_bet_id: string }>(
        'SELECT user_id, side, points, first_bet_at, first_bet_id FROM prediction_stakes WHERE mission_id = $1 ORDER BY first_bet_at, first_bet_id',
        [m.id],
      )
    ).rows.map((s, i): Stake => ({ userId: s.user_id, side: s.side, points: s.points, order: i }));
    const winning = m.state === 'SUCCEEDED' || m.state === 'FAILED' ? (m.state as Side) : null;
    const payouts = winning ? parimutuel(stakes, winning) : null;
    const amounts = payouts ?? new Map(stakes.map((s) => [s.userId, s.points]));
    const state = payouts ? 'RESOLVED' : 'REFUNDED';

    // Gather the pool slots into slot 0, then pay out from there.
    const slots = (
      await c.query<{ id: string; owner: string; balance: number }>(
        `SELECT id, owner, credits_posted - debits_posted AS balance FROM accounts
          WHERE ledger = 'POINTS' AND code = 'prediction_pool' AND owner LIKE $1 ORDER BY owner`,
        [`${m.id}:%`],
      )
    ).rows;
    const acct = (id: string): AccountRef => ({ id, code: 'prediction_pool', ledger: 'POINTS' });
    const main = slots.find((s) => s.owner === poolSlot(m.id, 0))!;
    for (const s of slots) {
      if (s.id !== main.id && Number(s.balance) > 0) {
        await createTransfer(c, { id: deterministicId('pool-gather', s.id), debit: acct(s.id), credit: acct(main.id), amount: Number(s.balance), code: 'prediction_gather', missionId: m.id });
      }
    }
    // Pay in wallet-id order: settlements of other missions pay some of the
    // same wallets, and locking them in one global order cannot deadlock.
    const paid: { userId: string; amount: number; wallet: AccountRef }[] = [];
    for (const [userId, amount] of amounts) if (amount > 0) paid.push({ userId, amount, wallet: await pointsWallet(c, userId) });
    paid.sort((a, b) => (a.wallet.id < b.wallet.id ? -1 : a.wallet.id > b.wallet.id ? 1 : 0));
    for (const { userId, amount, wallet } of paid) {
      await createTransfer(c, { id: deterministicId('prediction', state, m.id, userId), debit: acct(main.id), credit: wallet, amount, code: payouts ? 'prediction_payout' : 'prediction_refund', missionId: m.id });
    }
    if (amounts.size) {
      const ids = [...amounts.keys()];
      await c.query(
        'UPDATE prediction_stakes s SET payout = u.payout FROM unnest($2::uuid[], $3::bigint[]) AS u(user_id, payout) WHERE s.mission_id = $1 AND s.user_id = u.user_id',
        [m.id, ids, ids.map((id) => amounts.get(id)!)],
      );
      await c.query(`UPDATE prediction_stakes SET payout = 0 WHERE mission_id = $1 AND payout IS NULL`, [m.id]);
    }
    await c.query('UPDATE predictions SET state = $2, resolved_at = now(), winning_side = $3 WHERE mission_id = $1', [m.id, state, payouts ? winning : null]);
    await enqueueEvent(c, 'prediction.resolved', m.id, { missionId: m.id, channel: m.channel, state });
  }
}

/** Current pool totals of a prediction. */
export async function poolsOf(c: Queryable, missionId: string): Promise<Record<Side, number>> {
  return (await poolsOfMany(c, [missionId])).get(missionId) ?? { SUCCEEDED: 0, FAILED: 0 };
}

/** Pools of several missions in one query (the live writer's batches). */
export async function poolsOfMany(c: Queryable, missionIds: string[]): Promise<Map<string, Record<Side, number>>> {
  const pools = new Map<string, Record<Side, number>>();
  if (missionIds.length === 0) return pools;
  const { rows } = await c.query<{ mission_id: string; side: Side; points: number }>(
    'SELECT mission_id, side, sum(points)::bigint AS points FROM prediction_totals WHERE mission_id = ANY($1::uuid[]) GROUP BY mission_id, side',
    [missionIds],
  );
  for (const r of rows) {
    let p = pools.get(r.mission_id);
    if (!p) pools.set(r.mission_id, (p = { SUCCEEDED: 0, FAILED: 0 }));
    p[r.side] = Number(r.points);
  }
  return pools;
}

export type { Client };
