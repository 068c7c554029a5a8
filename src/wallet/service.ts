import { uuidv7 } from 'uuidv7';
import { createTransfer, ensureAccount, type AccountRef } from '../ledger/index.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { attachResource, claimKey, completeKey, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import { decodeCursor, deterministicId, encodeCursor } from '../platform/ids.ts';
import type { Logger } from '../platform/log.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { PaymentEvent, PaymentProvider } from './provider.ts';

export const SIGNUP_POINTS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DAILY_POINTS = 100;
/** How long a claimed charge key counts as in flight (a provider call takes far less). */
const CHARGE_IN_FLIGHT_SECONDS = 30;

export interface Wallet {
  available: number;
  held: number;
  currency: 'KRW';
  points: number;
}

export interface Charge {
  id: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'failed';
}

export interface WalletEntry {
  id: string;
  kind: 'charge' | 'pledge' | 'refund' | 'capture' | 'partial_capture' | 'payout' | 'adjustment';
  amount: number;
  balanceAfter: number;
  missionId?: string;
  createdAt: string;
}

/** The user's KRW wallet (created on first use). */
export function cashWallet(c: Queryable, userId: string): Promise<AccountRef> {
  return ensureAccount(c, 'KRW', 'user_wallet', userId);
}

/**
 * The user's points wallet; its first use grants the signup points, exactly
 * once (the grant's transfer id is derived from the user id).
 */
export async function pointsWallet(c: Queryable, userId: string): Promise<AccountRef> {
  const wallet = await ensureAccount(c, 'POINTS', 'user_wallet', userId);
  const issuer = await ensureAccount(c, 'POINTS', 'points_issuer', 'platform');
  await createTransfer(c, { id: deterministicId('signup-points', userId), debit: issuer, credit: wallet, amount: SIGNUP_POINTS, code: 'signup_points' });
  return wallet;
}

const available = (r: { credits_posted: number; debits_posted: number; debits_pending: number }) =>
  r.credits_posted - r.debits_posted - r.debits_pending;

/**
 * Cash and points of a user: charges through the payment provider, balances,
 * the history of every movement, and daily points.
 */
export class WalletService {
  provider!: PaymentProvider;

  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly metrics?: Metrics) {}

  /** Balance: `available` can be pledged; `held` is pledged to unsettled missions. */
  async wallet(userId: string): Promise<Wallet> {
    const { rows } = await this.pool.query<{ ledger: string; credits_posted: number; debits_posted: number; debits_pending: number }>(
      `SELECT ledger, credits_posted, debits_posted, debits_pending FROM accounts WHERE code = 'user_wallet' AND owner = $1`,
      [userId],
    );
    let points = rows.find((r) => r.ledger === 'POINTS');
    if (!points) {
      await tx(this.pool, (c) => pointsWallet(c, userId));
      points = { ledger: 'POINTS', credits_posted: SIGNUP_POINTS, debits_posted: 0, debits_pending: 0 };
    }
    const cash = rows.find((r) => r.ledger === 'KRW');
    return {
      available: cash ? available(cash) : 0,
      held: cash?.debits_pending ?? 0,
      currency: 'KRW',
      points: available(points),
    };
  }

  /**
   * Charges cash through the provider. With an idempotency key the same
   * request never charges twice; an interrupted one is resumed on retry.
   */
  async charge(userId: string, amount: number, key?: IdempotencyKey): Promise<Outcome<{ charge: Charge }>> {
    const started = await tx(this.pool, async (c) => {
      if (key) {
        const claim = await claimKey(c, key);
        if (claim.kind === 'replay') return { replay: claim as { status: number; body: { charge: Charge } } };
        if (claim.kind === 'unfinished') {
          // A recent claim belongs to a request still in flight: answering it
          // again would look like a second charge. Only a claim left behind
          // by an interrupted request (older than any provider call) resumes.
          if (!claim.resourceId || claim.ageSeconds < CHARGE_IN_FLIGHT_SECONDS) {
            throw new AppError('REQUEST_IN_PROGRESS', 'The same request is still being processed; retry shortly');
          }
          return { chargeId: claim.resourceId, resumed: true };
        }
      }
      const id = uuidv7();
      await c.query(`INSERT INTO charges (id, user_id, amount, status, provider) VALUES ($1, $2, $3, 'pending', $4)`, [id, userId, amount, this.provider.name]);
      if (key) await attachResource(c, key, id);
      return { chargeId: id, resumed: false };
    });
    if ('replay' in started && started.replay) return { status: started.replay.status, body: started.replay.body, replayed: true };
    const chargeId = started.chargeId!;
    let charge = await this.getCharge(chargeId);
    if (charge.status === 'pending') {
      const { providerRef } = await this.provider.createCharge({ id: chargeId, amount: charge.amount, userId });
      await this.pool.query('UPDATE charges SET provider_ref = $2 WHERE id = $1 AND provider_ref IS NULL', [chargeId, providerRef]);
      charge = await this.getCharge(chargeId);
    }
    const body = { charge };
    if (key) await completeKey(this.pool, key, 201, body, chargeId);
    return { status: 201, body, replayed: false };
  }

  private async getCharge(id: string): Promise<Charge> {
    const { rows } = await this.pool.query<Charge>('SELECT id, amount, status FROM charges WHERE id = $1', [id]);
    return rows[0]!;
  }

  /**
   * Applies a verified provider callback. A replayed event id is a no-op; a
   * charge is credited at most once (its ledger transfer id is the charge id).
   */
  async applyPaymentEvent(event: PaymentEvent): Promise<'applied' | 'duplicate' | 'unknown_charge'> {
    // Our charge ids are UUIDs; anything else names no charge (and must not reach a uuid column).
    if (!UUID.test(event.chargeId)) return 'unknown_charge';
    const result = await tx(this.pool, async (c) => {
      const charge = await c.query<{ user_id: string; amount: number; status: string }>(
        'SELECT user_id, amount, status FROM charges WHERE id = $1 FOR UPDATE',
        [event.chargeId],
      );
      const row = charge.rows[0];
      if (!row) return 'unknown_charge';
      const seen = await c.query('INSERT INTO payment_webhook_events (event_id, charge_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [event.eventId, event.chargeId]);
      if (seen.rowCount === 0 || row.status !== 'pending') return 'duplicate';
      if (event.status === 'succeeded') {
        if (event.amount !== row.amount) throw new AppError('VALIDATION_FAILED', 'The event amount does not match the charge');
        const wallet = await cashWallet(c, row.user_id);
        const provider = await ensureAccount(c, 'KRW', 'payment_provider', this.provider.name);
        await createTransfer(c, { id: event.chargeId, debit: provider, credit: wallet, amount: row.amount, code: 'charge' });
      }
      await c.query('UPDATE charges SET status = $2, completed_at = now() WHERE id = $1', [event.chargeId, event.status]);
      return 'applied' as const;
    });
    if (result === 'applied' && event.status === 'succeeded') {
      this.metrics?.charges.inc();
      this.metrics?.chargedKrw.inc(event.amount);
    }
    return result;
  }

  /** Every movement of the user's cash, newest first, with the available balance after it. */
  async transactions(userId: string, limit: number, cursor?: string): Promise<{ items: WalletEntry[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor(cursor) : null;
    if (cursor && !after) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
    // Each transfer on the wallet is one entry; `delta` is its effect on `available`.
    const { rows } = await this.pool.query<{ id: string; code: string; flags: number; delta: number; captured: number; mission_id: string | null; created_at: Date; at_text: string; balance_after: number }>(
      `WITH w AS (SELECT id FROM accounts WHERE ledger = 'KRW' AND code = 'user_wallet' AND owner = $1),
       entries AS (
         SELECT t.id, t.code, t.flags, t.mission_id, t.created_at,
                CASE
                  WHEN t.flags = 0 AND t.credit_account_id = w.id THEN t.amount
                  WHEN t.flags = 0 AND t.debit_account_id = w.id THEN -t.amount
                  WHEN t.flags = 1 THEN -t.amount
                  WHEN t.flags = 4 THEN t.amount
                  WHEN t.flags = 2 THEN p.amount - t.amount
                END AS delta,
                CASE WHEN t.flags = 2 THEN t.amount ELSE 0 END AS captured
           FROM w JOIN transfers t ON t.debit_account_id = w.id OR t.credit_account_id = w.id
           LEFT JOIN transfers p ON p.id = t.pending_id
       ),
       running AS (
         SELECT *, created_at::text AS at_text, sum(delta) OVER (ORDER BY created_at, id) AS balance_after FROM entries
       )
       SELECT * FROM running
        WHERE $2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid)
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const items = page.map((r): WalletEntry => {
      let kind: WalletEntry['kind'];
      if (r.flags === 1) kind = 'pledge';
      else if (r.flags === 4) kind = 'refund';
      else if (r.flags === 2) kind = r.delta === 0 ? 'capture' : 'partial_capture';
      else kind = r.code === 'charge' ? 'charge' : r.code === 'payout' ? 'payout' : 'adjustment';
      const entry: WalletEntry = { id: r.id, kind, amount: Number(r.delta), balanceAfter: Number(r.balance_after), createdAt: r.created_at.toISOString() };
      if (r.mission_id) entry.missionId = r.mission_id;
      return entry;
    });
    const last = page.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
  }

  /** 100 points once per UTC day. */
  async claimDailyPoints(userId: string): Promise<{ granted: number; points: number }> {
    return tx(this.pool, async (c) => {
      const wallet = await pointsWallet(c, userId);
      const transferId = uuidv7();
      const claimed = await c.query(
        `INSERT INTO points_claims (user_id, day, transfer_id) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $2) ON CONFLICT DO NOTHING`,
        [userId, transferId],
      );
      if (claimed.rowCount === 0) throw new AppError('ALREADY_CLAIMED', 'Today’s points were already claimed; come back after midnight UTC');
      const issuer = await ensureAccount(c, 'POINTS', 'points_issuer', 'platform');
      await createTransfer(c, { id: transferId, debit: issuer, credit: wallet, amount: DAILY_POINTS, code: 'daily_points' });
      const { rows } = await c.query<{ credits_posted: number; debits_posted: number; debits_pending: number }>(
        'SELECT credits_posted, debits_posted, debits_pending FROM accounts WHERE id = $1',
        [wallet.id],
      );
      return { granted: DAILY_POINTS, points: available(rows[0]!) };
    });
  }
}
