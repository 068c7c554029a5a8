// Public surface of the wallet module.
export { WalletService, cashWallet, pointsWallet, SIGNUP_POINTS, DAILY_POINTS, type Wallet, type Charge } from './service.ts';
export { walletRoutes, CHARGE_MIN, CHARGE_MAX } from './routes.ts';
export { SandboxProvider, signWebhook, verifyWebhook, SIGNATURE_HEADER, type PaymentProvider, type PaymentEvent } from './provider.ts';
