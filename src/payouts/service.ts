import { uuidv7 } from 'uuidv7';
import { createTransfer, ensureAccount, LedgerError, lockAccounts, resolvePending } from '../ledger/index.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { completeKey, replayOf, type IdempotencyKey, type Outcome } from '../platform/idempotency.ts';
import { decodeCursor, deterministicId, encodeCursor } from '../platform/ids.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import type { BankAccount, PayoutProvider, PayoutStatus } from './provider.ts';

export const WITHDRAWAL_STATUSES = ['REQUESTED', 'PROCESSING', 'PAID', 'FAILED', 'REJECTED'] as const;
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];

/** The outbox topic of every state change of a withdrawal (webhooks deliver it as `withdrawal.updated`). */
export const WITHDRAWAL_UPDATED = 'withdrawal.updated';

/** Transfer codes of a withdrawal in the ledger. */
export const WITHDRAWAL_CODES = { hold: 'withdrawal_hold', paid: 'withdrawal_paid', void: 'withdrawal_void', fee: 'withdrawal_fee' } as const;

export interface Withdrawal {
  id: string;
  amount: number;
  fee: number;
  netAmount: number;
  status: WithdrawalStatus;
  requestedAt: string;
  decidedAt: string | null;
  paidAt: string | null;
  failureReason: string | null;
}

/** A withdrawal as the ops queue shows it: with the streamer's channel handle. */
export interface OpsWithdrawal extends Withdrawal {
  channel: string;
  handle: string;
  userId: string;
  bankCode: string;
  accountNumberMasked: string;
}

export interface PayoutAccount {
  bankCode: string;
  accountNumberMasked: string;
  holderName: string;
  verifiedAt: string;
}

export interface PayoutSettings {
  /** WITHDRAWAL_MIN_KRW */
  minAmount: number;
  /** WITHDRAWAL_FEE_KRW */
  fee: number;
  /** WITHDRAWAL_REVIEW_ABOVE_KRW */
  reviewAbove: number;
}

export interface PayoutServiceDeps {
  pool: Pool;
  provider: PayoutProvider;
  settings: PayoutSettings;
  /** Who owns a channel (the missions module's ChannelService). */
  channels: { ownedChannel(userId: string): Promise<string | null> };
  /** Called after a commit that enqueued events (the relay publishes them at once). */
  eventsCommitted?: () => void;
  /** Called after a commit that gave the payout worker work. */
  workPending?: () => void;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Row = {
  id: string;
  user_id: string;
  channel: string;
  amount: number;
  fee: number;
  status: WithdrawalStatus;
  provider: string;
  provider_ref: string;
  bank_code: string;
  account_last4: string;
  requested_at: Date;
  at_text: string;
  decided_at: Date | null;
  paid_at: Date | null;
  failure_reason: string | null;
};

const COLUMNS = `id, user_id, channel, amount, fee, status, provider, provider_ref, bank_code, account_last4,
  requested_at, requested_at::text AS at_text, decided_at, paid_at, failure_reason`;

const masked = (last4: string) => `******${last4}`;

export function withdrawalOf(r: Row): Withdrawal {
  return {
    id: r.id,
    amount: Number(r.amount),
    fee: Number(r.fee),
    netAmount: Number(r.amount) - Number(r.fee),
    status: r.status,
    requestedAt: r.requested_at.toISOString(),
    decidedAt: r.decided_at?.toISOString() ?? null,
    paidAt: r.paid_at?.toISOString() ?? null,
    failureReason: r.failure_reason,
  };
}

function opsWithdrawalOf(r: Row): OpsWithdrawal {
  return { ...withdrawalOf(r), channel: r.channel, handle: r.channel, userId: r.user_id, bankCode: r.bank_code, accountNumberMasked: masked(r.account_last4) };
}

/**
 * What a withdrawal of `amount` costs and pays out: the fee is flat
 * (WITHDRAWAL_FEE_KRW), the rest reaches the bank.
 * @example split(50_000, 500) // { fee: 500, netAmount: 49_500 }
 */
export function split(amount: number, fee: number): { fee: number; netAmount: number } {
  return { fee, netAmount: amount - fee };
}

/** The state a new withdrawal starts in: above the review threshold it waits for an admin. */
export function initialStatus(amount: number, reviewAbove: number): 'REQUESTED' | 'PROCESSING' {
  return amount > reviewAbove ? 'REQUESTED' : 'PROCESSING';
}

function parseCursor(cursor: string | undefined) {
  if (!cursor) return null;
  const c = decodeCursor(cursor);
  if (!c) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
  return c;
}

function paginate<T>(rows: Row[], limit: number, map: (r: Row) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
}

/**
 * The withdrawals waiting for an admin (REQUESTED, above
 * WITHDRAWAL_REVIEW_ABOVE_KRW): how many and how much, for the ops page.
 * @example const { count, amount } = await reviewQueueStats(pool);
 */
export async function reviewQueueStats(c: Queryable): Promise<{ count: number; amount: number }> {
  // withdrawals_status_idx
  const { rows } = await c.query<{ n: number; amount: string }>(
    `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::bigint AS amount FROM withdrawals WHERE status = 'REQUESTED'`,
  );
  return { count: Number(rows[0]!.n), amount: Number(rows[0]!.amount) };
}

/**
 * Streamer withdrawals: the payout account, requests held two-phase from the
 * earnings, the admin's review, and the provider's answer recorded exactly
 * once. Every state change commits with its outbox event
 * (`withdrawal.updated`) and its mail to the streamer.
 */
export class PayoutService {
  constructor(private readonly deps: PayoutServiceDeps) {}

  get settings(): PayoutSettings {
    return this.deps.settings;
  }

  /** The caller's channel handle; 403 for a user who owns none. */
  private async streamer(userId: string): Promise<string> {
    const handle = await this.deps.channels.ownedChannel(userId);
    if (!handle) throw new AppError('FORBIDDEN', 'Only streamers have payouts; create a channel first');
    return handle;
  }

  /**
   * Registers (or replaces) the bank account the streamer is paid to, once
   * the provider has verified it. Only the last four digits are kept here.
   * @example await payouts.setAccount(userId, { bankCode: '004', accountNumber: '110123456789', holderName: '김민지' });
   */
  async setAccount(userId: string, account: BankAccount): Promise<PayoutAccount> {
    await this.streamer(userId);
    const verified = await this.deps.provider.verifyAccount(account);
    if (!verified.ok) throw new AppError('PAYOUT_ACCOUNT_INVALID', verified.reason);
    const { rows } = await this.deps.pool.query<{ bank_code: string; account_last4: string; holder_name: string; verified_at: Date }>(
      `INSERT INTO payout_accounts (user_id, bank_code, account_last4, holder_name, provider, provider_ref, verified_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (user_id) DO UPDATE SET bank_code = EXCLUDED.bank_code, account_last4 = EXCLUDED.account_last4,
         holder_name = EXCLUDED.holder_name, provider = EXCLUDED.provider, provider_ref = EXCLUDED.provider_ref,
         verified_at = EXCLUDED.verified_at, updated_at = now()
       RETURNING bank_code, account_last4, holder_name, verified_at`,
      [userId, account.bankCode, account.accountNumber.slice(-4), account.holderName, this.deps.provider.name, verified.ref],
    );
    return accountOf(rows[0]!);
  }

  /** The streamer's payout account; 404 when none is registered. */
  async account(userId: string): Promise<PayoutAccount> {
    await this.streamer(userId);
    const { rows } = await this.deps.pool.query<{ bank_code: string; account_last4: string; holder_name: string; verified_at: Date }>(
      'SELECT bank_code, account_last4, holder_name, verified_at FROM payout_accounts WHERE user_id = $1',
      [userId],
    );
    if (!rows[0]) throw new AppError('NOT_FOUND', 'No payout account is registered');
    return accountOf(rows[0]);
  }

  /**
   * Asks for a withdrawal of `amount` from the streamer's earnings: held at
   * once (a pending transfer, its id the withdrawal's), the balance checked by
   * the ledger under the account's lock in this same transaction — so
   * concurrent withdrawals never take more than is withdrawable. Above the
   * review threshold it waits for an admin (`REQUESTED`), else it goes to
   * the provider (`PROCESSING`).
   * @example const out = await payouts.request(userId, 50_000, key); // out.body.withdrawal.status === 'PROCESSING'
   */
  async request(userId: string, amount: number, key?: IdempotencyKey): Promise<Outcome<{ withdrawal: Withdrawal }>> {
    const channel = await this.streamer(userId);
    const { settings } = this.deps;
    const out = await tx(this.deps.pool, async (c) => {
      const replay = await replayOf<{ withdrawal: Withdrawal }>(c, key);
      if (replay) return replay;
      // FOR SHARE: the account can't be replaced under a withdrawal being made.
      const acct = await c.query<{ provider: string; provider_ref: string; bank_code: string; account_last4: string }>(
        'SELECT provider, provider_ref, bank_code, account_last4 FROM payout_accounts WHERE user_id = $1 FOR SHARE',
        [userId],
      );
      const a = acct.rows[0];
      if (!a) throw new AppError('PAYOUT_ACCOUNT_MISSING', 'Register a payout account before withdrawing');
      const id = uuidv7();
      const status = initialStatus(amount, settings.reviewAbove);
      const earnings = await ensureAccount(c, 'KRW', 'streamer_earnings', userId);
      const provider = await ensureAccount(c, 'KRW', 'payout_provider', a.provider);
      try {
        // The balance check: the earnings account may not go below zero
        // (debits pending + posted ≤ credits posted), under its row lock.
        await createTransfer(c, { id, debit: earnings, credit: provider, amount, code: WITHDRAWAL_CODES.hold, pending: true });
      } catch (err) {
        if (err instanceof LedgerError && err.reason === 'exceeds_credits') {
          throw new AppError('INSUFFICIENT_FUNDS', 'The amount is more than your withdrawable earnings');
        }
        throw err;
      }
      const { rows } = await c.query<Row>(
        `INSERT INTO withdrawals (id, user_id, channel, amount, fee, status, provider, provider_ref, bank_code, account_last4, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $6 = 'PROCESSING' THEN now() END)
         RETURNING ${COLUMNS}`,
        [id, userId, channel, amount, settings.fee, status, a.provider, a.provider_ref, a.bank_code, a.account_last4],
      );
      const row = rows[0]!;
      await announce(c, row);
      const body = { withdrawal: withdrawalOf(row) };
      if (key) await completeKey(c, key, 201, body, id);
      return { status: 201, body, replayed: false };
    });
    if (!out.replayed) this.committed(out.body.withdrawal.status === 'PROCESSING');
    return out;
  }

  /** The streamer's withdrawals, newest first. */
  async list(userId: string, limit: number, cursor?: string): Promise<Page<Withdrawal>> {
    await this.streamer(userId);
    const after = parseCursor(cursor);
    const { rows } = await this.deps.pool.query<Row>(
      `SELECT ${COLUMNS} FROM withdrawals
        WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (requested_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY requested_at DESC, id DESC LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, withdrawalOf);
  }

  /** Every streamer's withdrawals (optionally of one status), newest first: the ops queue. */
  async listAll(status: WithdrawalStatus | undefined, limit: number, cursor?: string): Promise<Page<OpsWithdrawal>> {
    const after = parseCursor(cursor);
    const { rows } = await this.deps.pool.query<Row>(
      `SELECT ${COLUMNS} FROM withdrawals
        WHERE ($1::text IS NULL OR status = $1)
          AND ($2::timestamptz IS NULL OR (requested_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY requested_at DESC, id DESC LIMIT $4`,
      [status ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return paginate(rows, limit, opsWithdrawalOf);
  }

  /** An admin sends a `REQUESTED` withdrawal to the provider (`PROCESSING`). */
  async approve(id: string, adminId: string): Promise<{ withdrawal: OpsWithdrawal }> {
    const row = await tx(this.deps.pool, async (c) => {
      await this.requested(c, id);
      const { rows } = await c.query<Row>(
        `UPDATE withdrawals SET status = 'PROCESSING', decided_at = now(), decided_by = $2, next_attempt_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, adminId],
      );
      await announce(c, rows[0]!);
      return rows[0]!;
    });
    this.committed(true);
    return { withdrawal: opsWithdrawalOf(row) };
  }

  /** An admin refuses a `REQUESTED` withdrawal: the hold is voided, the amount is withdrawable again. */
  async reject(id: string, adminId: string, reason: string): Promise<{ withdrawal: OpsWithdrawal }> {
    const row = await tx(this.deps.pool, async (c) => {
      await this.requested(c, id);
      await resolvePending(c, [{ id: deterministicId('withdrawal-void', id), pendingId: id, postAmount: 0, code: WITHDRAWAL_CODES.void }]);
      const { rows } = await c.query<Row>(
        `UPDATE withdrawals SET status = 'REJECTED', decided_at = now(), decided_by = $2, completed_at = now(), failure_reason = $3
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, adminId, reason],
      );
      await announce(c, rows[0]!);
      return rows[0]!;
    });
    this.committed(false);
    return { withdrawal: opsWithdrawalOf(row) };
  }

  /** Locks a withdrawal that must be `REQUESTED`: 404 unknown, 409 in any other state. */
  private async requested(c: Queryable, id: string): Promise<void> {
    const { rows } = await c.query<{ status: WithdrawalStatus }>('SELECT status FROM withdrawals WHERE id = $1 FOR UPDATE', [id]);
    if (!rows[0]) throw new AppError('NOT_FOUND', 'No such withdrawal');
    if (rows[0].status !== 'REQUESTED') throw new AppError('WITHDRAWAL_NOT_REQUESTED', `The withdrawal is ${rows[0].status}, not REQUESTED`);
  }

  /**
   * Records the provider's final answer on a `PROCESSING` withdrawal, exactly
   * once: paid posts the hold (and moves the fee to the platform), failed
   * voids it. A withdrawal no longer `PROCESSING` is left as it is
   * ('already'): a second worker, or a retry after a crash, changes nothing.
   */
  async finish(id: string, result: Exclude<PayoutStatus, { status: 'processing' }>): Promise<'finished' | 'already'> {
    const done = await tx(this.deps.pool, async (c) => {
      const found = await c.query<{ user_id: string; amount: number; fee: number; status: WithdrawalStatus; provider: string }>(
        'SELECT user_id, amount, fee, status, provider FROM withdrawals WHERE id = $1 FOR UPDATE',
        [id],
      );
      const w = found.rows[0];
      if (!w || w.status !== 'PROCESSING') return false;
      const earnings = await ensureAccount(c, 'KRW', 'streamer_earnings', w.user_id);
      const provider = await ensureAccount(c, 'KRW', 'payout_provider', w.provider);
      const fees = await ensureAccount(c, 'KRW', 'platform_fees', 'platform');
      await lockAccounts(c, [earnings.id, fees.id, provider.id]);
      let row: Row;
      if (result.status === 'paid') {
        await resolvePending(c, [{ id: deterministicId('withdrawal-paid', id), pendingId: id, postAmount: Number(w.amount), code: WITHDRAWAL_CODES.paid }]);
        // The fee stays with the platform: of `amount` taken from the earnings, `netAmount` reached the bank.
        if (Number(w.fee) > 0) {
          await createTransfer(c, { id: deterministicId('withdrawal-fee', id), debit: provider, credit: fees, amount: Number(w.fee), code: WITHDRAWAL_CODES.fee });
        }
        row = (await c.query<Row>(
          `UPDATE withdrawals SET status = 'PAID', paid_at = now(), completed_at = now(), claimed_until = NULL, provider_payout_ref = $2
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, result.providerRef],
        )).rows[0]!;
      } else {
        await resolvePending(c, [{ id: deterministicId('withdrawal-void', id), pendingId: id, postAmount: 0, code: WITHDRAWAL_CODES.void }]);
        row = (await c.query<Row>(
          `UPDATE withdrawals SET status = 'FAILED', completed_at = now(), claimed_until = NULL, failure_reason = $2
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, result.reason.slice(0, 500)],
        )).rows[0]!;
      }
      await announce(c, row);
      return true;
    });
    if (done) this.committed(false);
    return done ? 'finished' : 'already';
  }

  private committed(work: boolean) {
    this.deps.eventsCommitted?.();
    if (work) this.deps.workPending?.();
  }
}

function accountOf(r: { bank_code: string; account_last4: string; holder_name: string; verified_at: Date }): PayoutAccount {
  return { bankCode: r.bank_code, accountNumberMasked: masked(r.account_last4), holderName: r.holder_name, verifiedAt: r.verified_at.toISOString() };
}

/**
 * A state change's announcements, in its transaction: the outbox event
 * (webhooks, other consumers) and the mail to the streamer (one per state).
 */
async function announce(c: Queryable, row: Row): Promise<void> {
  await enqueueEvent(c, WITHDRAWAL_UPDATED, row.id, { channel: row.channel, userId: row.user_id, withdrawal: withdrawalOf(row) });
  await c.query(
    `INSERT INTO withdrawal_mails (id, withdrawal_id, user_id, withdrawal_status, status) VALUES ($1, $2, $3, $4, 'pending')
     ON CONFLICT (withdrawal_id, withdrawal_status) DO NOTHING`,
    [uuidv7(), row.id, row.user_id, row.status],
  );
}
