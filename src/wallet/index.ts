// Public surface of the wallet module.
import type { Config } from '../platform/config.ts';
import type { Queryable } from '../platform/db.ts';
import { PortOneProvider } from './portone.ts';
import { SandboxBooks, type PaymentReports } from './provider.ts';

export { WalletService, cashWallet, pointsWallet, SIGNUP_POINTS, DAILY_POINTS, type Wallet, type Charge } from './service.ts';
export { walletRoutes, CHARGE_MIN, CHARGE_MAX } from './routes.ts';
export {
  SandboxProvider,
  SandboxBooks,
  signWebhook,
  verifyWebhook,
  SIGNATURE_HEADER,
  type PaymentProvider,
  type PaymentEvent,
  type PaymentReports,
  type ReportedPayment,
  type CancelRequest,
  type CancelResult,
} from './provider.ts';
export { Refunds, REFUND_MIN, type Refund, type RefundHooks } from './refunds.ts';
export { verifyWallet } from './verify.ts';
export { reconcilePayments, type PaymentDifference } from './reconcile.ts';
export { REFUND_COMPLETED, REVERSED } from './topics.ts';
export { refundNotice, reversalNotice, type RefundNotice, type ReversalNotice } from './notices.ts';
export { PortOneProvider, type PortOneSettings, type Checkout, type ProviderPayment } from './portone.ts';

/** PortOne's settings from the configuration (PAYMENT_PROVIDER=portone checked them all present). */
export function portOneSettings(config: Config) {
  return {
    apiSecret: config.PORTONE_API_SECRET!,
    storeId: config.PORTONE_STORE_ID!,
    channelKey: config.PORTONE_CHANNEL_KEY!,
    webhookSecret: config.PORTONE_WEBHOOK_SECRET!,
    apiUrl: config.PORTONE_API_URL,
  };
}

/**
 * What the configured payment provider reports, for reconciliation: PortOne's
 * payments API, or the sandbox's own books in the funding database.
 * @example const diffs = await reconcilePayments(pool, paymentReports(config, pool), range);
 */
export function paymentReports(config: Config, funding: Queryable, portone?: PortOneProvider): PaymentReports {
  if (config.PAYMENT_PROVIDER === 'portone') return portone ?? new PortOneProvider(portOneSettings(config));
  return new SandboxBooks(funding);
}
