// The wallet page in a real browser: a refund of unused cash through the
// form, and what is owed after a reversal (sandbox); and, with
// PAYMENT_PROVIDER=portone, a charge through PortOne's checkout opened by the
// bundled @portone/browser-sdk, confirmed by the server with (a local fake
// of) PortOne. No test reaches the internet: the browser SDK's checkout
// script, which it loads from PortOne's CDN, is answered by a stand-in that
// plays the customer's part (the fake then reports the payment paid).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { startFakePortOne, type FakePortOne } from '../support/fake-portone.ts';
import { signWebhook, SIGNATURE_HEADER } from '../../src/wallet/index.ts';
import { describeWithBrowser, launchBrowser, newContext, watchErrors } from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password'; // what test/support/api.ts signs up with
const SECRET = 'test-webhook-secret-0123456789';

/** Stands in for https://cdn.portone.io/v2/browser-sdk.js: records the request, pays when the test says. */
const CHECKOUT_STUB = `
window.__portone = { requests: [] };
window.PortOne = {
  requestPayment: (request) => new Promise((resolve) => {
    window.__portone.requests.push(request);
    window.__portone.finish = resolve;
  }),
};`;

describeWithBrowser('browser: the wallet moves money in and out', () => {
  let browser: Browser;
  let sandbox: WebApp;
  let withPortone: WebApp;
  let portone: FakePortOne;

  beforeAll(async () => {
    portone = await startFakePortOne();
    [browser, sandbox, withPortone] = await Promise.all([
      launchBrowser(),
      startWebApp(),
      startWebApp({
        PAYMENT_PROVIDER: 'portone',
        PORTONE_API_SECRET: portone.secret,
        PORTONE_STORE_ID: portone.storeId,
        PORTONE_CHANNEL_KEY: portone.channelKey,
        PORTONE_WEBHOOK_SECRET: portone.webhookSecret,
        PORTONE_API_URL: portone.url,
      }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([sandbox?.close(), withPortone?.close()]);
    await portone?.close();
  }, 30_000);

  async function walletPage(app: WebApp, who: Caller, name: string): Promise<{ page: Page; ctx: BrowserContext; errors: string[] }> {
    const ctx = await newContext(browser, app.url);
    const res = await ctx.request.post('/api/v1/auth/login', { data: { email: who.email, password: PASSWORD } });
    expect(res.status()).toBe(200);
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    await page.goto('/wallet');
    await page.getByText(`${name} 님`).first().waitFor({ state: 'attached' });
    return { page, ctx, errors };
  }

  it('refunds through the form and shows what is owed after a reversal (sandbox)', async () => {
    const api = client(sandbox.t.ml.http);
    const streamer = await api.signUp('Wallet Streamer');
    const viewer = await api.signUp('Wallet Viewer');
    const handle = `wal_${process.pid % 10000}${Date.now() % 10000}`;
    await api.channel(streamer, handle);
    const charge = await api.charge(viewer, 20_000);
    const m = (await api.propose(viewer, handle, 12_000)).body.mission.id as string;
    await api.call('POST', `/api/v1/missions/${m}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${m}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await eventually(async () => (await api.mission(m)).settledAt);

    const { page, ctx, errors } = await walletPage(sandbox, viewer, 'Wallet Viewer');
    await page.getByTestId('wallet-available').getByText('8,000원').waitFor();
    await page.getByLabel('환불 금액 (원)').fill('3000');
    await page.getByRole('button', { name: '환불 요청' }).click();
    await page.getByText('3,000원을 환불했습니다.').waitFor();
    await page.getByTestId('wallet-available').getByText('5,000원').waitFor();
    // Above what is available: the form says so before asking the server.
    await page.getByLabel('환불 금액 (원)').fill('6000');
    await page.getByRole('button', { name: '환불 요청' }).click();
    await page.getByText('1,000원부터 환불 가능 금액 5,000원까지').first().waitFor();

    // The card company reverses the rest of the charge: 5,000 from the wallet, 12,000 owed.
    const body = JSON.stringify({ eventId: `evt_browser_${charge.id}`, chargeId: charge.id, status: 'reversed', amount: 17_000 });
    const hook = await sandbox.t.ml.http.inject({
      method: 'POST',
      url: '/api/v1/payments/webhook',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(SECRET, body) },
      payload: body,
    });
    expect(hook.statusCode, hook.payload).toBe(200);
    await page.getByTestId('wallet-owed').getByText('12,000원').waitFor({ timeout: 15_000 });
    await page.getByText('12,000원의 미수금이 있습니다', { exact: false }).waitFor();
    await page.locator('tr[data-entry-kind="reversal"]').filter({ hasText: '결제 취소' }).first().waitFor();
    expect(errors).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('charges through PortOne’s checkout (bundled browser SDK) and credits what PortOne confirms', async () => {
    const api = client(withPortone.t.ml.http);
    const viewer = await api.signUp('Portone Viewer');
    const { page, ctx, errors } = await walletPage(withPortone, viewer, 'Portone Viewer');
    await ctx.route('https://cdn.portone.io/**', (route) => route.fulfill({ contentType: 'application/javascript', body: CHECKOUT_STUB }));
    await page.getByTestId('wallet-available').getByText('0원').waitFor();
    await page.getByRole('button', { name: '30,000원' }).click();
    await page.getByRole('button', { name: '충전', exact: true }).click();
    const request = await eventually(async () =>
      page.evaluate(() => (globalThis as unknown as { __portone?: { requests: Record<string, unknown>[] } }).__portone?.requests[0]),
    );
    expect(request).toMatchObject({ storeId: portone.storeId, channelKey: portone.channelKey, totalAmount: 30_000, currency: 'KRW' });
    // Nothing is credited on the browser's word: PortOne does not know the payment yet.
    expect((await api.wallet(viewer)).available).toBe(0);
    // The customer pays in PortOne's window; the window reports back.
    portone.pay(String(request.paymentId), 30_000);
    await page.evaluate((paymentId) => {
      (globalThis as unknown as { __portone: { finish: (r: unknown) => void } }).__portone.finish({ paymentId, txId: 'tx-browser', transactionType: 'PAYMENT' });
    }, String(request.paymentId));
    await page.getByText('30,000원을 충전했습니다.').waitFor();
    await page.getByTestId('wallet-available').getByText('30,000원').waitFor();
    expect((await api.wallet(viewer)).available).toBe(30_000);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 60_000);
});
