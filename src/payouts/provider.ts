import { randomUUID } from 'node:crypto';
import type { Pool } from '../platform/db.ts';

/** A bank account as the streamer typed it. */
export interface BankAccount {
  bankCode: string;
  accountNumber: string;
  holderName: string;
}

/** What a provider answers when asked to verify a bank account. */
export type Verification = { ok: true; ref: string } | { ok: false; reason: string };

/** Where a payout stands at the provider. */
export type PayoutStatus =
  | { status: 'processing' }
  | { status: 'paid'; providerRef: string }
  | { status: 'failed'; reason: string };

/**
 * A payout provider (the sandbox built in; PortOne's platform payout API
 * where configured): it verifies bank accounts, keeps them (we keep only a
 * reference and the last four digits), and sends money to them.
 *
 * `payout` is idempotent on `idempotencyKey` (we send the withdrawal id): asked
 * again — after a timeout, a crash between the call and our commit, a
 * second worker — it answers the same payout and never sends a second one.
 */
export interface PayoutProvider {
  readonly name: string;
  /** While a payout is processing, how soon to ask again (default: the worker's quarter second). */
  readonly recheckMs?: number;
  /** False when the provider keeps no trace of a failed payout (reconciliation then expects none). */
  readonly reportsFailedPayouts?: boolean;
  verifyAccount(account: BankAccount): Promise<Verification>;
  payout(req: { idempotencyKey: string; recipientRef: string; amount: number }): Promise<PayoutStatus>;
  /** What the provider reports of the payouts it was asked for in [from, to) (for reconciliation). */
  listPayouts(range: { from: Date; to: Date }): Promise<ProviderPayout[]>;
}

/** One payout as the provider reports it. */
export interface ProviderPayout {
  /** The idempotency key we sent: the withdrawal id. */
  idempotencyKey: string;
  amount: number;
  status: PayoutStatus['status'];
  createdAt: string;
}

/** How long the sandbox takes to pay (API.md: within 2 s). */
export const SANDBOX_PAYOUT_MS = 500;

/**
 * The sandbox payout provider (API.md): it refuses account numbers ending in
 * `0000`, pays within 2 s, and fails payouts to accounts ending in `9999`.
 * It keeps its books like a real provider, on its side: the recipients and
 * the payouts it made (tables sandbox_payout_*), each payout once per
 * idempotency key — which is what lets tests prove a withdrawal is never paid
 * twice.
 * @example const provider = new SandboxPayoutProvider(pool); const v = await provider.verifyAccount({ bankCode: '004', accountNumber: '12345678', holderName: '김민지' });
 */
export class SandboxPayoutProvider implements PayoutProvider {
  readonly name = 'sandbox';

  constructor(
    private readonly pool: Pool,
    private readonly payoutMs = SANDBOX_PAYOUT_MS,
  ) {}

  async verifyAccount(account: BankAccount): Promise<Verification> {
    if (account.accountNumber.endsWith('0000')) return { ok: false, reason: 'The bank does not know this account (sandbox: numbers ending in 0000 are refused)' };
    const ref = `sbx_rcp_${randomUUID()}`;
    await this.pool.query('INSERT INTO sandbox_payout_recipients (ref, bank_code, account_number, holder_name) VALUES ($1, $2, $3, $4)', [
      ref,
      account.bankCode,
      account.accountNumber,
      account.holderName,
    ]);
    return { ok: true, ref };
  }

  async listPayouts(range: { from: Date; to: Date }): Promise<ProviderPayout[]> {
    const { rows } = await this.pool.query<{ idempotency_key: string; amount: number; created_at: Date; account_number: string; age_ms: number }>(
      `SELECT p.idempotency_key, p.amount, p.created_at, r.account_number, extract(epoch FROM now() - p.created_at)::float8 * 1000 AS age_ms
         FROM sandbox_payouts p JOIN sandbox_payout_recipients r ON r.ref = p.recipient_ref
        WHERE p.created_at >= $1 AND p.created_at < $2 ORDER BY p.created_at`,
      [range.from, range.to],
    );
    return rows.map((p) => ({
      idempotencyKey: p.idempotency_key,
      amount: Number(p.amount),
      status: p.age_ms < this.payoutMs ? 'processing' : p.account_number.endsWith('9999') ? 'failed' : 'paid',
      createdAt: p.created_at.toISOString(),
    }));
  }

  async payout(req: { idempotencyKey: string; recipientRef: string; amount: number }): Promise<PayoutStatus> {
    // The idempotency key decides: a second request finds the first payout.
    await this.pool.query(
      `INSERT INTO sandbox_payouts (idempotency_key, ref, recipient_ref, amount) VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING`,
      [req.idempotencyKey, `sbx_po_${randomUUID()}`, req.recipientRef, req.amount],
    );
    const { rows } = await this.pool.query<{ ref: string; account_number: string; age_ms: number }>(
      `SELECT p.ref, r.account_number, extract(epoch FROM now() - p.created_at)::float8 * 1000 AS age_ms
         FROM sandbox_payouts p JOIN sandbox_payout_recipients r ON r.ref = p.recipient_ref WHERE p.idempotency_key = $1`,
      [req.idempotencyKey],
    );
    const p = rows[0];
    if (!p) throw new Error('sandbox payout: unknown recipient');
    if (p.age_ms < this.payoutMs) return { status: 'processing' };
    if (p.account_number.endsWith('9999')) return { status: 'failed', reason: 'The receiving bank refused the transfer: the account is closed (sandbox: accounts ending in 9999 fail)' };
    return { status: 'paid', providerRef: p.ref };
  }
}
