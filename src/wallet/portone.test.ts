// PortOne V2 (PAYMENT_PROVIDER=portone) against a local fake of PortOne's
// published API (test/support/fake-portone.ts), with our real client code
// (@portone/server-sdk): charges answer what the browser's checkout needs and
// stay pending; the webhook (Standard Webhooks) and the browser's `complete`
// call confirm only what PortOne itself reports (store, status, currency,
// amount); refunds are partial cancellations through PortOne's cancel API,
// exactly once across retries and crashes; cancellations made at PortOne
// (its console, a chargeback) are reversals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMissionLink } from '../app.ts';
import { KeyRing, newPrivateJwk } from '../identity/keys.ts';
import { verifyLedger } from '../ledger/index.ts';
import { verifyPledges } from '../missions/index.ts';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/log.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, type Caller } from '../../test/support/api.ts';
import { expectNoMoneyMoved, expectProblem, raw } from '../../test/support/bad-input.ts';
import { startFakePortOne, type FakePortOne } from '../../test/support/fake-portone.ts';
import { verifyWallet } from './verify.ts';

let portone: FakePortOne;
let t: TestApp;
let api: ReturnType<typeof client>;
let webhookUrl: string;
let env: Record<string, string>;
const crash = { afterCancel: false };

beforeAll(async () => {
  portone = await startFakePortOne();
  env = {
    PAYMENT_PROVIDER: 'portone',
    PORTONE_API_SECRET: portone.secret,
    PORTONE_STORE_ID: portone.storeId,
    PORTONE_CHANNEL_KEY: portone.channelKey,
    PORTONE_WEBHOOK_SECRET: portone.webhookSecret,
    PORTONE_API_URL: portone.url,
  };
  t = await createTestApp(env, {
    hooks: {
      refunds: {
        afterCancel: () => {
          if (crash.afterCancel) throw new Error('crash after the provider call');
        },
      },
    },
  });
  api = client(t.ml.http);
  const address = await t.ml.http.listen({ port: 0, host: '127.0.0.1' });
  webhookUrl = `${address}/api/v1/payments/portone/webhook`;
});
afterAll(async () => {
  await t?.close();
  await portone?.close();
});

const books = async () => {
  const report = await verifyLedger(t.db.pools.funding, [verifyPledges, verifyWallet]);
  expect(report.problems).toEqual([]);
};
const complete = (who: Caller, id: string) => raw(t, 'POST', `/api/v1/wallet/charges/${id}/complete`, who);

/** A charge paid in PortOne's checkout and confirmed by its webhook. */
async function paidCharge(who: Caller, amount: number): Promise<string> {
  const res = await raw(t, 'POST', '/api/v1/wallet/charges', who, { amount });
  expect(res.status, res.text).toBe(201);
  portone.pay(res.body.charge.id, amount);
  expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', res.body.charge.id)).status).toBe(200);
  return res.body.charge.id;
}

describe('PortOne charges', () => {
  it('answers what the checkout needs and credits nothing until PortOne reports the payment paid', async () => {
    const alice = await api.signUp('Alice');
    const res = await raw(t, 'POST', '/api/v1/wallet/charges', alice, { amount: 15_000 });
    expect(res.status, res.text).toBe(201);
    const charge = res.body.charge;
    expect(charge).toMatchObject({ amount: 15_000, status: 'pending' });
    expect(charge.checkout).toEqual({
      storeId: portone.storeId,
      channelKey: portone.channelKey,
      paymentId: charge.id,
      orderName: expect.any(String),
      totalAmount: 15_000,
      currency: 'KRW',
    });
    expect(await api.wallet(alice)).toMatchObject({ available: 0 });
    // The browser says it is done before paying: PortOne does not know the payment yet.
    expect((await complete(alice, charge.id)).body.charge.status).toBe('pending');

    portone.pay(charge.id, 15_000);
    const hook = await portone.sendWebhook(webhookUrl, 'Transaction.Paid', charge.id);
    expect(hook.status, hook.body).toBe(200);
    expect(JSON.parse(hook.body)).toEqual({ result: 'synced' });
    expect(await api.wallet(alice)).toMatchObject({ available: 15_000 });
    // The browser's complete call, a replayed webhook and a second one credit nothing more.
    expect((await complete(alice, charge.id)).body.charge).toMatchObject({ id: charge.id, status: 'succeeded' });
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', charge.id, { id: 'msg_same' })).status).toBe(200);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', charge.id, { id: 'msg_same' })).status).toBe(200);
    expect(await api.wallet(alice)).toMatchObject({ available: 15_000 });
    // The fetch went to PortOne's API with our secret.
    expect(portone.requests.some((r) => r.method === 'GET' && r.path === `/payments/${charge.id}`)).toBe(true);
    await books();
  });

  it('confirms through the browser complete call alone, and only for the charge owner', async () => {
    const bob = await api.signUp('Bob');
    const eve = await api.signUp('Eve');
    const res = await raw(t, 'POST', '/api/v1/wallet/charges', bob, { amount: 5_000 });
    portone.pay(res.body.charge.id, 5_000);
    expectProblem(await complete(eve, res.body.charge.id), 404, 'NOT_FOUND');
    expectProblem(await complete(bob, 'not-a-charge'), 404, 'NOT_FOUND');
    expect((await complete(bob, res.body.charge.id)).body.charge.status).toBe('succeeded');
    expect(await api.wallet(bob)).toMatchObject({ available: 5_000 });
    expect(await api.wallet(eve)).toMatchObject({ available: 0 });
  });

  it('never credits a payment whose amount, store or currency differ, or that failed', async () => {
    const carol = await api.signUp('Carol');
    const ids: string[] = [];
    for (const amount of [10_000, 10_000, 10_000, 10_000]) ids.push((await raw(t, 'POST', '/api/v1/wallet/charges', carol, { amount })).body.charge.id);
    portone.pay(ids[0]!, 1_000); // the browser was tampered with: 1,000 paid for a 10,000 charge
    portone.pay(ids[1]!, 10_000, { storeId: 'store-of-someone-else' });
    portone.pay(ids[2]!, 10_000, { currency: 'USD' });
    portone.pay(ids[3]!, 10_000, { status: 'FAILED' });
    await expectNoMoneyMoved(t, [carol], async () => {
      for (const id of ids) expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', id)).status).toBe(200);
      for (const id of ids.slice(0, 3)) expect((await complete(carol, id)).body.charge.status).toBe('pending');
    });
    expect((await complete(carol, ids[3]!)).body.charge.status).toBe('failed');
    await books();
  });

  it('refuses webhooks with a bad, missing or stale signature (401) and ignores payments that are not ours', async () => {
    const dave = await api.signUp('Dave');
    const res = await raw(t, 'POST', '/api/v1/wallet/charges', dave, { amount: 7_000 });
    portone.pay(res.body.charge.id, 7_000);
    const wrong = `whsec_${Buffer.from('another-secret-entirely-123456').toString('base64')}`;
    await expectNoMoneyMoved(t, [dave], async () => {
      expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', res.body.charge.id, { secret: wrong })).status).toBe(401);
      expect((await portone.sendWebhook(webhookUrl, 'Transaction.Paid', res.body.charge.id, { at: new Date(Date.now() - 3_600_000) })).status).toBe(401);
      const unsigned = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'Transaction.Paid', data: { paymentId: res.body.charge.id } }) });
      expect(unsigned.status).toBe(401);
      expect(((await unsigned.json()) as { code: string }).code).toBe('INVALID_SIGNATURE');
    });
    const unknown = await portone.sendWebhook(webhookUrl, 'Transaction.Paid', crypto.randomUUID());
    expect(JSON.parse(unknown.body)).toEqual({ result: 'ignored' });
  });
});

describe('PortOne refunds and reversals', () => {
  it('refunds through PortOne’s cancel API, newest payment first, partially', async () => {
    const erin = await api.signUp('Erin');
    const older = await paidCharge(erin, 10_000);
    const newer = await paidCharge(erin, 8_000);
    const res = await raw(t, 'POST', '/api/v1/wallet/refunds', erin, { amount: 12_000 });
    expect(res.status, res.text).toBe(201);
    expect(res.body.refund.status).toBe('succeeded');
    expect(portone.payments.get(newer)).toMatchObject({ status: 'CANCELLED', amount: { cancelled: 8_000 } });
    expect(portone.payments.get(older)).toMatchObject({ status: 'PARTIAL_CANCELLED', amount: { cancelled: 4_000 } });
    const cancel = portone.requests.filter((r) => r.path === `/payments/${older}/cancel`).at(-1)!.body as Record<string, unknown>;
    expect(cancel).toMatchObject({ amount: 4_000, currentCancellableAmount: 10_000, storeId: portone.storeId });
    expect(await api.wallet(erin)).toMatchObject({ available: 6_000 });
    // Our own cancellations, reported back by PortOne's webhook, are no reversal.
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.PartialCancelled', older)).status).toBe(200);
    expect(await api.wallet(erin)).toMatchObject({ available: 6_000, owed: 0 });
    await books();
  });

  it('takes a cancellation made at PortOne (console, chargeback) as a reversal, once', async () => {
    const fred = await api.signUp('Fred');
    const id = await paidCharge(fred, 10_000);
    portone.cancelOutside(id, 3_000);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.PartialCancelled', id)).status).toBe(200);
    expect(await api.wallet(fred)).toMatchObject({ available: 7_000, owed: 0 });
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.PartialCancelled', id)).status).toBe(200);
    expect((await complete(fred, id)).status).toBe(200);
    expect(await api.wallet(fred)).toMatchObject({ available: 7_000 });
    // Spend it, then the rest is cancelled at PortOne: owed.
    const streamer = await api.signUp('Streamer');
    const handle = `po_${Date.now() % 1_000_000}`;
    await api.channel(streamer, handle);
    const m = (await api.propose(fred, handle, 7_000)).body.mission.id as string;
    expect((await api.call('POST', `/api/v1/missions/${m}/accept`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${m}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    const { eventually } = await import('../../test/support/api.ts');
    await eventually(async () => (await api.mission(m)).settledAt);
    portone.cancelOutside(id, 7_000);
    expect((await portone.sendWebhook(webhookUrl, 'Transaction.Cancelled', id)).status).toBe(200);
    expect(await api.wallet(fred)).toMatchObject({ available: 0, owed: 7_000 });
    await paidCharge(fred, 10_000);
    expect(await api.wallet(fred)).toMatchObject({ available: 3_000, owed: 0 });
    await books();
  });

  it('retries a cancellation PortOne did not answer, and finds a deferred one again instead of cancelling twice', async () => {
    const gina = await api.signUp('Gina');
    const id = await paidCharge(gina, 10_000);
    portone.dropCancels(1);
    const res = await raw(t, 'POST', '/api/v1/wallet/refunds', gina, { amount: 4_000 });
    expect(res.body.refund.status).toBe('pending');
    expect(await api.wallet(gina)).toMatchObject({ available: 6_000, held: 0 });
    expect(portone.payments.get(id)!.amount.cancelled).toBe(0);
    // The next attempt goes through; PortOne first answers "requested" (the PG is slow).
    portone.deferCancels(1);
    await t.db.pools.funding.query('UPDATE refunds SET next_attempt_at = now() WHERE id = $1', [res.body.refund.id]);
    await t.ml.wallet!.refunds.runOnce();
    expect((await api.call('GET', '/api/v1/wallet/refunds', gina)).body.items[0].status).toBe('pending');
    expect(portone.payments.get(id)!.cancellations).toHaveLength(1);
    // The third attempt finds that cancellation (by the part id in its reason), now succeeded: no second cancel.
    await t.db.pools.funding.query('UPDATE refunds SET next_attempt_at = now() WHERE id = $1', [res.body.refund.id]);
    await t.ml.wallet!.refunds.runOnce();
    expect((await api.call('GET', '/api/v1/wallet/refunds', gina)).body.items[0].status).toBe('succeeded');
    expect(portone.payments.get(id)!.cancellations).toHaveLength(1);
    expect(portone.payments.get(id)!.amount.cancelled).toBe(4_000);
    expect(await api.wallet(gina)).toMatchObject({ available: 6_000, held: 0 });
    await books();
  });

  it('finishes a refund exactly once after a crash between PortOne’s answer and our record of it', async () => {
    const hana = await api.signUp('Hana');
    const id = await paidCharge(hana, 9_000);
    crash.afterCancel = true;
    let res;
    try {
      res = await raw(t, 'POST', '/api/v1/wallet/refunds', hana, { amount: 5_000 });
    } finally {
      crash.afterCancel = false;
    }
    expect(res.body.refund.status).toBe('pending');
    expect(portone.payments.get(id)!.amount.cancelled).toBe(5_000);
    await t.db.pools.funding.query(`UPDATE refunds SET claimed_until = now() - interval '1 second' WHERE id = $1`, [res.body.refund.id]);
    const next = await createMissionLink({
      config: loadConfig({ ...env, DATA_DIR: t.dataDir, DATABASE_URL_IDENTITY: t.db.urls.identity, DATABASE_URL_FUNDING: t.db.urls.funding, LOG_LEVEL: 'silent' }),
      logger: createLogger('silent'),
      pools: t.db.pools,
      paymentWebhookSecret: 'test-webhook-secret-0123456789',
      keys: await KeyRing.fromJwks([await newPrivateJwk()]),
      startWorkers: false,
    });
    try {
      expect(await next.wallet!.refunds.runOnce()).toBe(true);
    } finally {
      await next.stopWorkers();
      await next.http.close();
    }
    expect((await api.call('GET', '/api/v1/wallet/refunds', hana)).body.items[0].status).toBe('succeeded');
    expect(portone.payments.get(id)!.cancellations).toHaveLength(1);
    expect(portone.payments.get(id)!.amount.cancelled).toBe(5_000);
    expect(await api.wallet(hana)).toMatchObject({ available: 4_000, held: 0, owed: 0 });
    await books();
  });

  it('gives the money back when PortOne refuses the cancellation for good', async () => {
    const ian = await api.signUp('Ian');
    const id = await paidCharge(ian, 6_000);
    // Cancelled at PortOne in the meantime, not yet reported to us.
    portone.cancelOutside(id, 6_000);
    const res = await raw(t, 'POST', '/api/v1/wallet/refunds', ian, { amount: 6_000 });
    expect(res.body.refund.status).toBe('failed');
    expect(await api.wallet(ian)).toMatchObject({ available: 6_000 });
    // Then the webhook reports the reversal.
    await portone.sendWebhook(webhookUrl, 'Transaction.Cancelled', id);
    expect(await api.wallet(ian)).toMatchObject({ available: 0, owed: 0 });
    await books();
  });
});

describe('PortOne in the web app', () => {
  it('lets the wallet page load PortOne’s checkout (its CSP names PortOne), and only with PortOne', async () => {
    const res = await t.ml.http.inject({ method: 'GET', url: '/wallet' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self' https://cdn.portone.io");
    expect(csp).toContain('frame-src');
    const { CONTENT_SECURITY_POLICY } = await import('../platform/web.ts');
    expect(CONTENT_SECURITY_POLICY).not.toContain('portone');
  });
});

describe('PortOne settings', () => {
  it('refuses to start with PAYMENT_PROVIDER=portone and a missing setting, naming it', () => {
    expect(() => loadConfig({ PAYMENT_PROVIDER: 'portone', PORTONE_API_SECRET: 's' })).toThrow(ConfigError);
    try {
      loadConfig({ PAYMENT_PROVIDER: 'portone', PORTONE_API_SECRET: 's', PORTONE_STORE_ID: 'x' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'PORTONE_CHANNEL_KEY: is required when PAYMENT_PROVIDER=portone',
        'PORTONE_WEBHOOK_SECRET: is required when PAYMENT_PROVIDER=portone',
      ]);
    }
    expect(() => loadConfig({ PAYMENT_PROVIDER: 'paypal' })).toThrow(/PAYMENT_PROVIDER/);
    expect(loadConfig({}).PAYMENT_PROVIDER).toBe('sandbox');
  });
});
