// Public surface of the payouts module: streamer withdrawals (money out to a
// bank account), the payout account, the ops review queue, the payout
// providers and the worker that talks to them.
import type { Config } from '../platform/config.ts';
import type { Pool } from '../platform/db.ts';
import { PortOnePayoutProvider } from './portone.ts';
import { SandboxPayoutProvider, type PayoutProvider } from './provider.ts';

export {
  PayoutService,
  WITHDRAWAL_STATUSES,
  WITHDRAWAL_UPDATED,
  WITHDRAWAL_CODES,
  split,
  initialStatus,
  reviewQueueStats,
  type Withdrawal,
  type OpsWithdrawal,
  type WithdrawalStatus,
  type PayoutAccount,
  type PayoutSettings,
} from './service.ts';
export { SandboxPayoutProvider, SANDBOX_PAYOUT_MS, type PayoutProvider, type PayoutStatus, type ProviderPayout, type BankAccount, type Verification } from './provider.ts';
export { PortOnePayoutProvider, PORTONE_BANKS, type PortOnePayoutSettings } from './portone.ts';
export { PayoutWorker, type PayoutWorkerHooks } from './worker.ts';
export { WithdrawalMails, withdrawalMail } from './mails.ts';
export { verifyWithdrawals } from './verify.ts';
export { reconcileWithdrawals, type WithdrawalDifference } from './reconcile.ts';
export { payoutRoutes, WITHDRAWAL_MAX } from './routes.ts';

/**
 * The configured payout provider (PAYOUT_PROVIDER): PortOne's partner
 * settlement, or the sandbox, which keeps its books in the funding database.
 * @example const provider = payoutProviderOf(config, pool);
 */
export function payoutProviderOf(config: Config, funding: Pool): PayoutProvider {
  if (config.PAYOUT_PROVIDER === 'portone') {
    return new PortOnePayoutProvider({ apiSecret: config.PORTONE_API_SECRET!, apiUrl: config.PORTONE_API_URL, contractId: config.PORTONE_PLATFORM_CONTRACT_ID! });
  }
  return new SandboxPayoutProvider(funding);
}
