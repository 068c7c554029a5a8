import { readFileSync } from 'node:fs';
import path from 'node:path';
import { publicOrigin, type Config, type Role } from './platform/config.ts';
import type { Pool } from './platform/db.ts';
import { InProcessBus, type Bus } from './platform/bus.ts';
import { createHttpServer, type App } from './platform/http.ts';
import type { Logger } from './platform/log.ts';
import { Metrics } from './platform/metrics.ts';
import { enqueueEvent, OutboxRelay, type RelayHooks } from './platform/outbox.ts';
import { AuditAnchor, createAuthenticator, IdentityClient, identityRoutes, IdentityService, internalIdentityRoutes, UserDirectory, type KeyRing } from './identity/index.ts';
import { NatsBus } from './platform/nats-bus.ts';
import { webRoutes } from './platform/web.ts';
import { repoPath } from './platform/paths.ts';
import { apiDocsRoutes } from './platform/api-docs.ts';
import { guardrailRoutes, SpendingGuards } from './guardrails/index.ts';
import {
  ChannelDirectory,
  channelDirectoryRoutes,
  ChannelService,
  LiveHub,
  liveRoutes,
  MissionExpirer,
  MissionLifecycle,
  MissionService,
  missionRoutes,
  verifyPledges,
} from './missions/index.ts';
import { poolsOfMany, PredictionService, predictionRoutes } from './predictions/index.ts';
import { OpsService, opsRoutes } from './ops/index.ts';
import { MailboxMailer, Notifier, SmtpMailer, type AddressBook, type Mailer, type NotifierHooks } from './notify/index.ts';
import { SettlementWorker, type SettlementHooks } from './settlement/index.ts';
import { reconcile, Sweeper } from './sweeper/index.ts';
import { paymentReports, PortOneProvider, portOneSettings, SandboxProvider, verifyWallet, WalletService, walletRoutes, type RefundHooks } from './wallet/index.ts';
import { PayoutService, PayoutWorker, payoutProviderOf, payoutRoutes, verifyWithdrawals, WithdrawalMails, type PayoutProvider, type PayoutWorkerHooks } from './payouts/index.ts';
import { WebhookService, WebhookWorker, webhookRoutes, type WebhookHooks, type WebhookWorkerOptions } from './webhooks/index.ts';

export const VERSION = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;

export interface AppDeps {
  config: Config;
  logger: Logger;
  pools: { identity?: Pool; funding?: Pool };
  keys?: KeyRing;
  /** HMAC secret of payment-provider callbacks. */
  paymentWebhookSecret?: string;
  bus?: Bus;
  /** Extra readiness checks (e.g. the embedded database process). */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Fault-injection seams for crash tests. */
  hooks?: { relay?: RelayHooks; settlement?: SettlementHooks; notifier?: NotifierHooks; payouts?: PayoutWorkerHooks; refunds?: RefundHooks; webhooks?: WebhookHooks };
  /** The payout provider of withdrawals (default: the sandbox). */
  payoutProvider?: PayoutProvider;
  /** Retry and limit settings of the webhooks worker (tests shorten them). */
  webhookOptions?: WebhookWorkerOptions;
  mailer?: Mailer;
  /** Start the background workers (tests may drive them by hand). */
  startWorkers?: boolean;
  /**
   * Routes added to this process's HTTP server after the product's own, for
   * tools that measure it from inside (the bench's ceiling route); none in
   * production.
   */
  extraRoutes?: ((http: App) => void | Promise<void>)[];
}

export interface MissionLink {
  http: App;
  metrics: Metrics;
  bus: Bus;
  identity?: IdentityService;
  wallet?: WalletService;
  channels?: ChannelService;
  missions?: MissionService;
  predictions?: PredictionService;
  live?: LiveHub;
  relay?: OutboxRelay;
  settlement?: SettlementWorker;
  notifier?: Notifier;
  sweeper?: Sweeper;
  /** Streamer withdrawals (api role), the worker that pays them (settlement role), their mails (notifier role). */
  payouts?: PayoutService;
  payoutWorker?: PayoutWorker;
  withdrawalMails?: WithdrawalMails;
  webhooks?: WebhookService;
  webhookWorker?: WebhookWorker;
  /** Anchors the audit chain's head in the funding database (api role). */
  auditAnchor?: AuditAnchor;
  /** Stops workers; the caller closes the HTTP server, pools and database. */
  stopWorkers(): Promise<void>;
}

const has = (config: Config, role: Role) => config.ROLES.includes(role);

/**
 * The composition root: wires the modules a process's roles need. Every
 * process serves /healthz, /readyz and /metrics; `api` adds the public API;
 * the worker roles consume events from the bus.
 * @example const ml = await createMissionLink({ config, logger, pools, keys });
 */
export async function createMissionLink(deps: AppDeps): Promise<MissionLink> {
  const { config, logger, pools } = deps;
  const metrics = new Metrics();
  const watched = Object.fromEntries(Object.entries(pools).filter(([, p]) => p !== undefined)) as Record<string, Pool>;
  metrics.watchPools(watched);
  const readiness: Record<string, () => Promise<unknown>> = { ...deps.readiness };
  for (const [name, pool] of Object.entries(watched)) readiness[`db_${name}`] = () => pool.query('SELECT 1');
  const bus = deps.bus ?? (config.NATS_URL ? new NatsBus(config.NATS_URL, logger, metrics.registry, `missionlink-${config.ROLES.join('+')}`) : new InProcessBus());
  readiness.bus = () => bus.ping();

  const http = await createHttpServer({ logger, metrics, readiness, version: VERSION, trustProxy: config.TRUST_PROXY, metricsPort: config.METRICS_PORT });
  const ml: MissionLink = { http, metrics, bus, stopWorkers: async () => {} };
  const funding = pools.funding;

  // Any process with the funding database relays its outbox.
  if (funding) {
    ml.relay = new OutboxRelay(funding, bus, logger, { hooks: deps.hooks?.relay });
    metrics.watchFunding(funding);
  }
  // Where modules react to a mission's life, inside its transactions; and
  // the relay publishes at once what a commit enqueued.
  const lifecycle = new MissionLifecycle();
  lifecycle.committed.push(() => ml.relay?.poke());
  const { eventsCommitted } = lifecycle;
  // The pledge book's checks join every ledger verification.
  const ledgerChecks = [verifyPledges, verifyWithdrawals, verifyWallet];
  // Withdrawals: one payout provider per process; the service announces each change (outbox, mail).
  const payoutProvider = funding ? (deps.payoutProvider ?? payoutProviderOf(config, funding)) : undefined;
  const payoutService = (channels: ChannelService) =>
    new PayoutService({
      pool: funding!,
      provider: payoutProvider!,
      settings: { minAmount: config.WITHDRAWAL_MIN_KRW, fee: config.WITHDRAWAL_FEE_KRW, reviewAbove: config.WITHDRAWAL_REVIEW_ABOVE_KRW },
      channels,
      eventsCommitted: () => {
        eventsCommitted();
        ml.withdrawalMails?.poke();
      },
      workPending: () => ml.payoutWorker?.poke(),
    });
  // With the keys it also composes verification links (for a notifier in this process).
  const directory = pools.identity ? new UserDirectory(pools.identity, deps.keys) : undefined;

  if (has(config, 'api')) {
    if (!pools.identity || !funding || !deps.keys || !directory) throw new Error('the api role needs both databases and signing keys');
    const channels = new ChannelService(funding);
    // Verification mails are asked for through the funding outbox (the notifier consumes the event).
    const outbox = async (topic: string, key: string, payload: Record<string, unknown>) => {
      await enqueueEvent(funding, topic, key, payload);
      eventsCommitted();
    };
    const identity = new IdentityService({ pool: pools.identity, keys: deps.keys, adminEmails: config.ADMIN_EMAILS, metrics, log: logger, channels, outbox });
    const auth = createAuthenticator(identity);
    const wallet = new WalletService(funding, logger, metrics, { eventsCommitted, refundHooks: deps.hooks?.refunds });
    const secret = deps.paymentWebhookSecret ?? config.PAYMENT_WEBHOOK_SECRET;
    if (!secret) throw new Error('the api role needs a payment webhook secret');
    // PortOne V2 when configured; otherwise the sandbox, whose callbacks are signed and verified as the webhook's are.
    wallet.provider = config.PAYMENT_PROVIDER === 'portone' ? new PortOneProvider(portOneSettings(config)) : new SandboxProvider(secret, async (raw, signature) => {
      const result = await wallet.applySignedPaymentEvent(secret, raw, signature);
      if (result === 'unknown_charge') throw new Error('the sandbox called back for a charge we do not know');
    }, funding);
    const predictions = new PredictionService({ pool: funding, eventsCommitted, metrics });
    predictions.subscribeTo(lifecycle);
    const missions = new MissionService({
      metrics,
      pool: funding,
      channels,
      displayNameOf: (id) => directory.displayNameOf(id),
      eventsCommitted,
      lifecycle,
    });
    const live = new LiveHub({ pool: funding, bus, log: logger, registry: metrics.registry, predictionPools: poolsOfMany });
    live.subscribe();
    // The audit key (this process appends with it), and the job that anchors the chain every few seconds.
    ml.auditAnchor = await AuditAnchor.open({ identity: pools.identity, funding, config, log: logger });
    await identityRoutes(http, identity, auth, publicOrigin(config));
    await internalIdentityRoutes(http, deps.keys, directory);
    // Old failed-login windows are pruned hourly by every api process (cheap, idempotent).
    const prune = setInterval(() => void identity.pruneThrottle().catch(() => undefined), 3600_000);
    prune.unref();
    // A viewer's guardrails: pledges and proposals check them in their statement, charges and bets here.
    const guards = new SpendingGuards(funding);
    await guardrailRoutes(http, guards, auth);
    await walletRoutes(http, wallet, auth, secret, (userId, now) => guards.assertNotExcluded(userId, now));
    await missionRoutes(http, channels, missions, auth, config.MIN_WINDOW_SECONDS);
    await channelDirectoryRoutes(http, new ChannelDirectory({ pool: funding, channels }));
    // Self-exclusion and the channel's block list are per-bet results of the batch statement.
    await predictionRoutes(http, predictions, auth);
    await liveRoutes(http, live, missions, channels);
    // Endpoints made or test-sent here are sent at once by a webhooks worker in this process.
    const webhooks = new WebhookService({ pool: funding, channels, policy: { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK }, deliveriesMade: () => ml.webhookWorker?.poke() });
    await webhookRoutes(http, webhooks, auth);
    await opsRoutes(http, new OpsService({ funding, metrics, ledgerChecks }), identity, auth, missions);
    ml.payouts = payoutService(channels);
    await payoutRoutes(http, ml.payouts, identity, auth);
    // The API reference for people (/api/docs), from the same OpenAPI document.
    await apiDocsRoutes(http);
    // The browser app (web/dist, built by `npm run build:web`; `npm start` builds it when needed).
    await webRoutes(http, {
      distDir: repoPath('web', 'dist'),
      // PortOne's checkout: its browser SDK (bundled) loads the checkout script and frames from PortOne.
      ...(config.PAYMENT_PROVIDER === 'portone' ? { csp: { script: ['https://cdn.portone.io'], frame: ['https://*.portone.io', 'https:'], connect: ['https://*.portone.io'] } } : {}),
    });
    Object.assign(ml, { identity, wallet, channels, missions, predictions, live, webhooks });
  }

  if (has(config, 'settlement')) {
    if (!funding) throw new Error('the settlement role needs the funding database');
    // Predictions resolve in the transaction that marks the mission settled (lifecycle.settled).
    if (!ml.predictions) new PredictionService({ pool: funding, eventsCommitted }).subscribeTo(lifecycle);
    ml.settlement = new SettlementWorker({
      pool: funding,
      bus,
      log: logger,
      feeBps: config.PLATFORM_FEE_BPS,
      registry: metrics.registry,
      eventsCommitted,
      lifecycle,
      hooks: deps.hooks?.settlement,
      batchSize: config.SETTLEMENT_BATCH_SIZE,
    });
    ml.settlement.subscribe();
    // Withdrawals go to the payout provider from here (the queue is the withdrawals table).
    ml.payoutWorker = new PayoutWorker({
      pool: funding,
      provider: payoutProvider!,
      payouts: ml.payouts ?? payoutService(new ChannelService(funding)),
      log: logger,
      registry: metrics.registry,
      hooks: deps.hooks?.payouts,
    });
  }

  if (has(config, 'notifier')) {
    if (!funding) throw new Error('the notifier role needs the funding database');
    // Addresses come from the identity database when this process has it,
    // else from an api process's internal API (IDENTITY_URL).
    const addresses: AddressBook | undefined =
      directory ?? (config.IDENTITY_URL && deps.keys ? new IdentityClient(config.IDENTITY_URL, deps.keys) : undefined);
    if (!addresses) throw new Error('the notifier needs DATABASE_URL_IDENTITY, or IDENTITY_URL and the signing keys');
    const mailer = deps.mailer ?? (config.SMTP_URL ? new SmtpMailer(config.SMTP_URL, config.MAIL_FROM) : new MailboxMailer(path.join(config.dataDir, 'mailbox'), config.MAIL_FROM));
    ml.notifier = new Notifier({ pool: funding, bus, log: logger, mailer, addresses, registry: metrics.registry, hooks: deps.hooks?.notifier });
    ml.notifier.subscribe();
    ml.withdrawalMails = new WithdrawalMails({ pool: funding, mailer, addresses, log: logger, registry: metrics.registry });
  }

  if (has(config, 'sweeper')) {
    if (!funding) throw new Error('the sweeper role needs the funding database');
    // Expiry only: a process without the api role has no MissionService.
    const missions = ml.missions ?? new MissionExpirer({ pool: funding, eventsCommitted, lifecycle });
    // Once a day, the day that ended: the payment provider's charges and
    // cancellations and the payout provider's payouts against the books.
    const providers = {
      payments: paymentReports(config, funding, ml.wallet?.provider instanceof PortOneProvider ? ml.wallet.provider : undefined),
      payouts: payoutProvider,
    };
    ml.sweeper = new Sweeper({
      pool: funding,
      missions,
      log: logger,
      ledgerChecks,
      reconcile: { run: (range) => reconcile(funding, providers, range), registry: metrics.registry },
    });
  }

  if (has(config, 'webhooks')) {
    if (!funding) throw new Error('the webhooks role needs the funding database');
    ml.webhookWorker = new WebhookWorker({
      pool: funding,
      bus,
      log: logger,
      policy: { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK },
      registry: metrics.registry,
      eventsCommitted,
      hooks: deps.hooks?.webhooks,
      options: deps.webhookOptions,
      userAgent: `MissionLink-Webhooks/${VERSION}`,
    });
    ml.webhookWorker.subscribe();
  }

  for (const register of deps.extraRoutes ?? []) await register(http);
  await http.ready();
  if (deps.startWorkers !== false) {
    ml.relay?.start();
    ml.wallet?.refunds.start();
    ml.auditAnchor?.start();
    ml.settlement?.start();
    ml.notifier?.start();
    ml.sweeper?.start();
    ml.payoutWorker?.start();
    ml.withdrawalMails?.start();
    ml.webhookWorker?.start();
    await ml.live?.start();
  }
  ml.stopWorkers = async () => {
    await ml.auditAnchor?.stop();
    await ml.wallet?.refunds.stop();
    await ml.live?.stop();
    await ml.sweeper?.stop();
    await ml.relay?.stop();
    await ml.settlement?.stop();
    await ml.notifier?.stop();
    await ml.payoutWorker?.stop();
    await ml.withdrawalMails?.stop();
    await ml.webhookWorker?.stop();
    await bus.close();
  };
  return ml;
}
