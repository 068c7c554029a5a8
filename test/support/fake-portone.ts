// A local fake of PortOne's V2 REST API, as published (developers.portone.io,
// "API V2": GET /payments/{paymentId}, POST /payments/{paymentId}/cancel,
// GET /payments with its `requestBody` of page and filter; and of its
// platform (partner settlement) API: GET /platform/bank-accounts/{bank}/{number}/holder,
// POST /platform/partners, POST /platform/transfers/manual,
// GET /platform/transfer-summaries, GET|DELETE /platform/transfers/{id},
// GET /platform/payouts),
// so that our real client code (the official @portone/server-sdk) runs
// against it; and PortOne's webhooks, signed as Standard Webhooks (the
// `webhook-id`, `webhook-timestamp`, `webhook-signature` headers). Test
// helpers stand in for what happens outside our server: a customer paying in
// the checkout, a cancellation made in PortOne's console or a chargeback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface FakeCancellation {
  status: 'SUCCEEDED' | 'REQUESTED' | 'FAILED';
  id: string;
  pgCancellationId: string;
  totalAmount: number;
  taxFreeAmount: number;
  vatAmount: number;
  reason: string;
  cancelledAt?: string;
  requestedAt: string;
  trigger: 'API' | 'CONSOLE' | 'PORTONE_ADMIN';
}

export interface FakeDispute {
  status: 'UNRESOLVED' | 'RESOLVED';
  pgDisputeId?: string;
  reason: string;
  createdAt: string;
  resolvedAt?: string;
}

export interface FakePayment {
  status: 'READY' | 'PAID' | 'FAILED' | 'PARTIAL_CANCELLED' | 'CANCELLED';
  id: string;
  transactionId: string;
  merchantId: string;
  storeId: string;
  channel: { type: 'TEST'; key: string; name: string; pgProvider: 'TOSSPAYMENTS'; pgMerchantId: string };
  version: 'V2';
  requestedAt: string;
  updatedAt: string;
  statusChangedAt: string;
  orderName: string;
  amount: { total: number; taxFree: number; vat: number; supply: number; discount: number; paid: number; cancelled: number; cancelledTaxFree: number };
  currency: string;
  customer: Record<string, unknown>;
  /** PortOne lists disputes on a PAID payment only (PaidPayment.disputes); the fake leaves them out otherwise. */
  disputes: FakeDispute[];
  paidAt?: string;
  cancelledAt?: string;
  cancellations: FakeCancellation[];
}

export interface FakePlatformTransfer {
  type: 'MANUAL';
  id: string;
  graphqlId: string;
  partner: { id: string; name: string };
  status: 'SCHEDULED' | 'IN_PROCESS' | 'SETTLED' | 'IN_PAYOUT' | 'PAID_OUT';
  memo?: string;
  settlementDate: string;
  settlementCurrency: 'KRW';
  payoutId?: string;
  isForTest: boolean;
  userDefinedProperties: unknown[];
  settlementAmount: number;
  settlementTaxFreeAmount: number;
}

export interface FakePlatformPayout {
  id: string;
  bulkPayoutId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'PROCESSING';
  partner: { id: string; name: string };
  account: { bank: string; number: string; holder: string };
  currency: 'KRW';
  amount: number;
  settlementAmount: number;
  createdAt: string;
  statusUpdatedAt: string;
  failReason?: string;
}

/** PortOne's platform (partner settlement) as the fake keeps it. */
export interface FakePlatform {
  /** Accounts the banks know, `${bank}/${number}` → holder name; any other is refused (PLATFORM_EXTERNAL_API_FAILED). */
  bankAccounts: Map<string, string>;
  partners: Map<string, { id: string; name: string; account: { bank: string; number: string; holder: string }; defaultContractId: string }>;
  transfers: Map<string, FakePlatformTransfer>;
  payouts: Map<string, FakePlatformPayout>;
  /** The next `n` manual-transfer creations are made, then their answer is lost (the socket is destroyed). */
  dropTransferAnswers(n: number): void;
  /** What PortOne's console does when an operator runs a bulk payout: each partner is paid its unpaid transfers (failed for `fail`'s partners). */
  bulkPayout(opts?: { fail?: Record<string, string> }): FakePlatformPayout[];
}

export interface FakePortOne {
  platform: FakePlatform;
  url: string;
  secret: string;
  storeId: string;
  channelKey: string;
  webhookSecret: string;
  payments: Map<string, FakePayment>;
  /** Requests received, for assertions (method and path). */
  requests: { method: string; path: string; body: unknown }[];
  /** The next `n` cancel requests fail at the network level (the socket is destroyed). */
  dropCancels(n: number): void;
  /** The next `n` cancel requests are answered REQUESTED (the PG has not answered yet); a later GET shows them SUCCEEDED. */
  deferCancels(n: number): void;
  /** The customer pays in the checkout (what the browser SDK would do), for `amount` (default: as asked). */
  pay(paymentId: string, amount: number, opts?: { storeId?: string; currency?: string; status?: 'PAID' | 'FAILED' }): FakePayment;
  /** A cancellation made outside our server (PortOne's console, a chargeback). */
  cancelOutside(paymentId: string, amount: number): void;
  /** The card holder disputes the payment (a chargeback is opened at the PG). */
  dispute(paymentId: string, opts?: { pgDisputeId?: string; reason?: string }): FakeDispute;
  /** The PG closes a dispute (PortOne does not say in whose favour). */
  resolveDispute(paymentId: string, pgDisputeId?: string): void;
  /** Delivers a signed webhook to `url` (ours); answers the HTTP status. */
  sendWebhook(url: string, type: string, paymentId: string, opts?: { secret?: string; id?: string; at?: Date }): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const now = () => new Date().toISOString();

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/**
 * Starts the fake on a free loopback port.
 * @example const portone = await startFakePortOne(); … PORTONE_API_URL: portone.url … await portone.close();
 */
export async function startFakePortOne(): Promise<FakePortOne> {
  const secret = 'portone-api-secret-for-tests';
  const storeId = 'store-00000000-0000-0000-0000-000000000001';
  const channelKey = 'channel-key-00000000-0000-0000-0000-000000000001';
  const webhookSecret = `whsec_${Buffer.from('portone-webhook-secret-for-tests!').toString('base64')}`;
  const payments = new Map<string, FakePayment>();
  const requests: FakePortOne['requests'] = [];
  let drop = 0;
  let defer = 0;
  let counter = 0;

  const cancellable = (p: FakePayment) => p.amount.total - p.amount.cancelled;
  const applyCancel = (p: FakePayment, amount: number, reason: string, trigger: FakeCancellation['trigger'], status: FakeCancellation['status'] = 'SUCCEEDED') => {
    const c: FakeCancellation = {
      status,
      id: `cancel-${++counter}`,
      pgCancellationId: `pg-cancel-${counter}`,
      totalAmount: amount,
      taxFreeAmount: 0,
      vatAmount: Math.floor(amount / 11),
      reason,
      requestedAt: now(),
      trigger,
      ...(status === 'SUCCEEDED' ? { cancelledAt: now() } : {}),
    };
    p.cancellations.push(c);
    // A REQUESTED cancellation holds its amount until the PG answers (shown SUCCEEDED on the next GET).
    p.amount.cancelled += amount;
    p.status = p.amount.cancelled === p.amount.total ? 'CANCELLED' : 'PARTIAL_CANCELLED';
    p.updatedAt = p.statusChangedAt = now();
    if (p.status === 'CANCELLED') p.cancelledAt = now();
    return c;
  };

  /** A payment as PortOne answers it: disputes appear on a PAID payment only. */
  const shown = (p: FakePayment) => {
    const { disputes, ...rest } = p;
    return p.status === 'PAID' ? { ...rest, disputes } : rest;
  };

  /**
   * GET /payments: `requestBody` is JSON `{page: {number, size}, filter}`;
   * the filter's storeId, timestampType (CREATED_AT: requestedAt;
   * STATUS_CHANGED_AT, the default: statusChangedAt), from (default: 90 days
   * before until), until (default: now) and status are applied, newest first.
   */
  const list = (requestBody: string | null) => {
    const q = (requestBody ? JSON.parse(requestBody) : {}) as {
      page?: { number?: number; size?: number };
      filter?: { storeId?: string; timestampType?: string; from?: string; until?: string; status?: string[] };
    };
    const f = q.filter ?? {};
    const until = f.until ? new Date(f.until) : new Date();
    const from = f.from ? new Date(f.from) : new Date(until.getTime() - 90 * 86_400_000);
    const at = (p: FakePayment) => new Date(f.timestampType === 'CREATED_AT' ? p.requestedAt : p.statusChangedAt);
    const all = [...payments.values()]
      .filter((p) => (!f.storeId || p.storeId === f.storeId) && at(p) >= from && at(p) < until && (!f.status || f.status.includes(p.status)))
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
    const size = q.page?.size ?? 10;
    const number = q.page?.number ?? 0;
    const items = all.slice(number * size, (number + 1) * size).map(shown);
    return { items, page: { number, size, totalCount: all.length } };
  };


  // PortOne's platform: partners, their transfers (정산건) and the payouts made of them.
  const platform: FakePlatform = {
    bankAccounts: new Map(),
    partners: new Map(),
    transfers: new Map(),
    payouts: new Map(),
    dropTransferAnswers: (n) => {
      dropTransfers = n;
    },
    bulkPayout(opts = {}) {
      const made: FakePlatformPayout[] = [];
      const bulkPayoutId = `bulk-payout-${++counter}`;
      for (const partner of platform.partners.values()) {
        const owed = [...platform.transfers.values()].filter((t) => t.partner.id === partner.id && !t.payoutId);
        if (owed.length === 0) continue;
        const amount = owed.reduce((sum, t) => sum + t.settlementAmount, 0);
        const reason = opts.fail?.[partner.id];
        const p: FakePlatformPayout = {
          id: `payout-${++counter}`,
          bulkPayoutId,
          status: reason ? 'FAILED' : 'SUCCEEDED',
          partner: { id: partner.id, name: partner.name },
          account: partner.account,
          currency: 'KRW',
          amount,
          settlementAmount: amount,
          createdAt: now(),
          statusUpdatedAt: now(),
          ...(reason ? { failReason: reason } : {}),
        };
        platform.payouts.set(p.id, p);
        for (const t of owed) Object.assign(t, { payoutId: p.id, status: reason ? 'IN_PAYOUT' : 'PAID_OUT' });
        made.push(p);
      }
      return made;
    },
  };
  let dropTransfers = 0;
  const page = <T>(all: T[], q: { page?: { number?: number; size?: number } }) => {
    const size = q.page?.size ?? 10;
    const number = q.page?.number ?? 0;
    return { items: all.slice(number * size, (number + 1) * size), page: { number, size, totalCount: all.length } };
  };
  /** The platform routes (developers.portone.io, "API V2", platform); undefined when the path is not one of them. */
  const platformRoute = (req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): boolean => {
    const b = (body ?? {}) as Record<string, unknown>;
    const q = JSON.parse(url.searchParams.get('requestBody') ?? '{}') as { page?: { number?: number; size?: number }; filter?: {
      types?: string[]; keyword?: { transferMemo?: string; partnerId?: string }; settlementDateRange?: { from: string; until: string };
      payoutIds?: string[]; partnerIds?: string[]; statuses?: string[]; criteria?: { payoutId?: string; timestampRange?: { from: string; until: string } };
    } };
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && (m = /^\/platform\/bank-accounts\/([^/]+)\/([^/]+)\/holder$/.exec(url.pathname))) {
      const holder = platform.bankAccounts.get(`${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`);
      if (!holder) send(res, 400, { type: 'PLATFORM_EXTERNAL_API_FAILED', message: 'The bank refused the lookup' });
      else send(res, 200, { holderName: holder, accountVerificationId: `account-verification-${++counter}` });
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/platform/partners') {
      const id = String(b.id ?? `partner-${++counter}`);
      if (platform.partners.has(id)) send(res, 409, { type: 'PLATFORM_PARTNER_ID_ALREADY_EXISTS', message: 'Partner id exists' });
      else if (!b.defaultContractId || !b.account || !b.contact || !b.type) send(res, 400, { type: 'INVALID_REQUEST', message: 'missing fields' });
      else {
        const partner = { id, name: String(b.name), account: b.account as { bank: string; number: string; holder: string }, defaultContractId: String(b.defaultContractId) };
        platform.partners.set(id, partner);
        send(res, 200, { partner: { ...partner, status: 'APPROVED', tags: b.tags ?? [] } });
      }
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/platform/transfers/manual') {
      const partner = platform.partners.get(String(b.partnerId));
      if (!partner) {
        send(res, 404, { type: 'PLATFORM_PARTNER_NOT_FOUND', message: 'No such partner' });
        return true;
      }
      if (!Number.isSafeInteger(b.settlementAmount) || typeof b.settlementDate !== 'string') {
        send(res, 400, { type: 'INVALID_REQUEST', message: 'settlementAmount and settlementDate are required' });
        return true;
      }
      const id = `transfer-${++counter}`;
      const t: FakePlatformTransfer = {
        type: 'MANUAL', id, graphqlId: `gql-${id}`, partner: { id: partner.id, name: partner.name }, status: 'SETTLED',
        ...(typeof b.memo === 'string' ? { memo: b.memo } : {}),
        settlementDate: b.settlementDate, settlementCurrency: 'KRW', isForTest: false, userDefinedProperties: [],
        settlementAmount: b.settlementAmount as number, settlementTaxFreeAmount: 0,
      };
      platform.transfers.set(id, t);
      if (dropTransfers > 0) {
        dropTransfers--;
        req.socket.destroy();
      } else send(res, 200, { transfer: t });
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/platform/transfer-summaries') {
      // Applied: types, keyword.transferMemo (contains), keyword.partnerId, settlementDateRange (inclusive days).
      const f = q.filter ?? {};
      const all = [...platform.transfers.values()].filter(
        (t) =>
          (!f.types || f.types.includes(t.type)) &&
          (!f.keyword?.transferMemo || (t.memo ?? '').includes(f.keyword.transferMemo)) &&
          (!f.keyword?.partnerId || t.partner.id === f.keyword.partnerId) &&
          (!f.settlementDateRange || (t.settlementDate >= f.settlementDateRange.from && t.settlementDate <= f.settlementDateRange.until)),
      );
      const { items, page: p } = page(all.map(({ payoutId: _p, graphqlId: _g, ...t }) => ({ ...t, graphqlId: `gql-${t.id}`, partnerUserDefinedProperties: [] })), q);
      send(res, 200, { transferSummaries: items, page: p });
      return true;
    }
    if ((m = /^\/platform\/transfers\/([^/]+)$/.exec(url.pathname)) && (req.method === 'GET' || req.method === 'DELETE')) {
      const t = platform.transfers.get(decodeURIComponent(m[1]!));
      if (!t) send(res, 404, { type: 'PLATFORM_TRANSFER_NOT_FOUND', message: 'No such transfer' });
      else if (req.method === 'GET') send(res, 200, t);
      else if (t.status === 'PAID_OUT') send(res, 409, { type: 'PLATFORM_TRANSFER_NON_DELETABLE_STATUS', message: 'Paid out' });
      else {
        platform.transfers.delete(t.id);
        send(res, 200, {});
      }
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/platform/payouts') {
      // Applied: payoutIds, partnerIds, statuses, criteria.payoutId, criteria.timestampRange (createdAt).
      const f = q.filter ?? {};
      const c = f.criteria ?? {};
      const all = [...platform.payouts.values()].filter(
        (p) =>
          (!f.payoutIds || f.payoutIds.includes(p.id)) &&
          (!f.partnerIds || f.partnerIds.includes(p.partner.id)) &&
          (!f.statuses || f.statuses.includes(p.status)) &&
          (!c.payoutId || c.payoutId === p.id) &&
          (!c.timestampRange || (p.createdAt >= c.timestampRange.from && p.createdAt < c.timestampRange.until)),
      );
      const { items, page: p } = page(all, q);
      send(res, 200, { items, page: p, counts: {} });
      return true;
    }
    return false;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = await readBody(req).catch(() => undefined);
      requests.push({ method: req.method ?? '', path: url.pathname, body });
      if (req.headers.authorization !== `PortOne ${secret}`) return send(res, 401, { type: 'UNAUTHORIZED', message: 'Invalid API secret' });
      if (url.pathname.startsWith('/platform/') && platformRoute(req, res, url, body)) return;
      if (req.method === 'GET' && url.pathname === '/payments') return send(res, 200, list(url.searchParams.get('requestBody')));
      const m = /^\/payments\/([^/]+)(\/cancel)?$/.exec(url.pathname);
      if (!m) return send(res, 404, { type: 'NOT_FOUND', message: 'No such route' });
      const payment = payments.get(decodeURIComponent(m[1]!));
      if (req.method === 'GET' && !m[2]) {
        if (!payment) return send(res, 404, { type: 'PAYMENT_NOT_FOUND', message: 'Payment not found' });
        // The PG answered the cancellations that were waiting.
        for (const c of payment.cancellations) if (c.status === 'REQUESTED') Object.assign(c, { status: 'SUCCEEDED', cancelledAt: now() });
        return send(res, 200, shown(payment));
      }
      if (req.method === 'POST' && m[2]) {
        if (drop > 0) {
          drop--;
          req.socket.destroy();
          return;
        }
        if (!payment) return send(res, 404, { type: 'PAYMENT_NOT_FOUND', message: 'Payment not found' });
        const b = (body ?? {}) as { amount?: number; reason?: string; currentCancellableAmount?: number; storeId?: string };
        if (b.storeId !== undefined && b.storeId !== payment.storeId) return send(res, 403, { type: 'FORBIDDEN', message: 'Not your store' });
        if (typeof b.reason !== 'string' || b.reason === '') return send(res, 400, { type: 'INVALID_REQUEST', message: 'reason is required' });
        if (payment.status === 'CANCELLED') return send(res, 409, { type: 'PAYMENT_ALREADY_CANCELLED', message: 'Already cancelled' });
        if (payment.status !== 'PAID' && payment.status !== 'PARTIAL_CANCELLED') return send(res, 409, { type: 'PAYMENT_NOT_PAID', message: 'Not paid' });
        const amount = b.amount ?? cancellable(payment);
        if (b.currentCancellableAmount !== undefined && b.currentCancellableAmount !== cancellable(payment)) {
          return send(res, 409, { type: 'CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN', message: 'The cancellable amount differs' });
        }
        if (!Number.isSafeInteger(amount) || amount <= 0) return send(res, 400, { type: 'INVALID_REQUEST', message: 'amount is invalid' });
        if (amount > cancellable(payment)) return send(res, 409, { type: 'CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT', message: 'Too much' });
        const deferred = defer > 0;
        if (deferred) defer--;
        const c = applyCancel(payment, amount, b.reason, 'API', deferred ? 'REQUESTED' : 'SUCCEEDED');
        return send(res, 200, { cancellation: c });
      }
      send(res, 405, { type: 'METHOD_NOT_ALLOWED', message: 'No' });
    })().catch((err: Error) => send(res, 500, { type: 'INTERNAL', message: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    platform,
    url: `http://127.0.0.1:${port}`,
    secret,
    storeId,
    channelKey,
    webhookSecret,
    payments,
    requests,
    dropCancels: (n) => {
      drop = n;
    },
    deferCancels: (n) => {
      defer = n;
    },
    pay(paymentId, amount, opts = {}) {
      const at = now();
      const status = opts.status ?? 'PAID';
      const p: FakePayment = {
        status,
        id: paymentId,
        transactionId: `tx-${++counter}`,
        merchantId: 'merchant-1',
        storeId: opts.storeId ?? storeId,
        channel: { type: 'TEST', key: channelKey, name: 'test channel', pgProvider: 'TOSSPAYMENTS', pgMerchantId: 'tosstest' },
        version: 'V2',
        requestedAt: at,
        updatedAt: at,
        statusChangedAt: at,
        orderName: 'MissionLink charge',
        amount: { total: amount, taxFree: 0, vat: Math.floor(amount / 11), supply: amount - Math.floor(amount / 11), discount: 0, paid: status === 'PAID' ? amount : 0, cancelled: 0, cancelledTaxFree: 0 },
        currency: opts.currency ?? 'KRW',
        customer: {},
        disputes: [],
        ...(status === 'PAID' ? { paidAt: at } : {}),
        cancellations: [],
      };
      payments.set(paymentId, p);
      return p;
    },
    cancelOutside(paymentId, amount) {
      const p = payments.get(paymentId);
      if (!p) throw new Error(`no payment ${paymentId}`);
      applyCancel(p, amount, 'Cancelled in the PortOne console', 'CONSOLE');
    },
    dispute(paymentId, opts = {}) {
      const p = payments.get(paymentId);
      if (!p) throw new Error(`no payment ${paymentId}`);
      const d: FakeDispute = { status: 'UNRESOLVED', ...(opts.pgDisputeId ? { pgDisputeId: opts.pgDisputeId } : {}), reason: opts.reason ?? 'Chargeback requested by the card holder', createdAt: now() };
      p.disputes.push(d);
      p.updatedAt = now();
      return d;
    },
    resolveDispute(paymentId, pgDisputeId) {
      const p = payments.get(paymentId);
      const d = p?.disputes.find((x) => x.status === 'UNRESOLVED' && (pgDisputeId === undefined || x.pgDisputeId === pgDisputeId));
      if (!p || !d) throw new Error(`no open dispute on ${paymentId}`);
      Object.assign(d, { status: 'RESOLVED', resolvedAt: now() });
      p.updatedAt = now();
    },
    async sendWebhook(url, type, paymentId, opts = {}) {
      const payload = JSON.stringify({ type, timestamp: now(), data: { paymentId, storeId, transactionId: payments.get(paymentId)?.transactionId ?? 'tx-unknown' } });
      const id = opts.id ?? `msg_${++counter}_${Date.now()}`;
      const signature = new Webhook(opts.secret ?? webhookSecret).sign(id, opts.at ?? new Date(), payload);
      const at = Math.floor((opts.at ?? new Date()).getTime() / 1000);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signature },
        body: payload,
      });
      return { status: res.status, body: await res.text() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
