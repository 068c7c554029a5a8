// Studio › Webhooks in a real browser: a streamer adds a webhook (a refused
// address is explained; the secret is shown once), sends a test event that a
// real receiver verifies with that secret, sees the attempt, switches to
// English, and deletes it. No serious axe-core violation, no sideways
// scrolling at 390 px, no script error.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import {
  describeViolations,
  describeWithBrowser,
  launchBrowser,
  newContext,
  screenshot,
  scrollsSideways,
  seriousViolations,
  watchErrors,
} from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password'; // what test/support/api.ts signs up with
const HANDLE = `hooks_${process.pid % 100000}`;

describeWithBrowser('browser: Studio › Webhooks', () => {
  let app: WebApp;
  let browser: Browser;
  let ctx: BrowserContext;
  let streamer: Caller;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    [app, browser, receiver] = await Promise.all([
      startWebApp({ WEBHOOK_ALLOW_LOOPBACK: '1' }),
      launchBrowser(),
      WebhookReceiver.start(),
    ]);
    const api = client(app.t.ml.http);
    streamer = await api.signUp('Hook Kim');
    await api.channel(streamer, HANDLE);
    ctx = await newContext(browser, app.url, { width: 390, height: 844 });
    const res = await ctx.request.post('/api/v1/auth/login', {
      data: { email: streamer.email, password: PASSWORD },
    });
    expect(res.status()).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await receiver?.stop();
  }, 30_000);

  async function checkPage(page: Page, name: string) {
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth, `${name} scrolls sideways`).toBeLessThanOrEqual(clientWidth);
    await screenshot(page, `webhooks-${name}`);
  }

  it('adds, test-sends, shows attempts and deletes, in Korean and English', async () => {
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    await page.goto('/studio');
    await page.getByText('Hook Kim 님').first().waitFor({ state: 'attached' });
    await page.getByRole('link', { name: '웹훅' }).click();
    await page.getByRole('heading', { level: 1, name: '웹훅' }).waitFor();
    await page.getByText('아직 웹훅이 없습니다.').waitFor();
    await checkPage(page, 'empty');

    // A private address is refused, in words.
    const url = page.getByLabel('받을 주소 (URL)');
    await url.fill('https://10.0.0.8/hook');
    await page.getByRole('button', { name: '웹훅 추가' }).click();
    await page.getByText('이 주소로는 웹훅을 보낼 수 없습니다.', { exact: false }).waitFor();

    // The receiver's address: added, its secret shown once.
    await url.fill(receiver.url('/ml'));
    await page.getByRole('checkbox', { name: /후원/ }).uncheck();
    await page.getByRole('button', { name: '웹훅 추가' }).click();
    const secretBox = page.getByTestId('webhook-secret');
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByText(receiver.url('/ml')).first().waitFor();
    await checkPage(page, 'secret');

    // Test send: the receiver gets a webhook.test it can verify with the secret.
    await page.getByRole('button', { name: '테스트 전송' }).click();
    await eventually(async () => receiver.received.length === 1);
    const got = receiver.received[0]!;
    expect(() => new Webhook(secret).verify(got.body, got.headers)).not.toThrow();
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhook.test', data: { channel: HANDLE } });
    const log = page.locator('.webhook-attempts li').first();
    await log.filter({ hasText: '성공' }).waitFor();
    await expect(log.textContent()).resolves.toContain(got.headers['webhook-id']!);
    await checkPage(page, 'attempts');

    // Shown once: after a reload the secret is gone; the webhook stays.
    await page.reload();
    await page.getByText(receiver.url('/ml')).first().waitFor();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    // English.
    await page.evaluate("localStorage.setItem('missionlink.lang', 'en')");
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByRole('button', { name: 'Send test' }).waitFor();
    await checkPage(page, 'english');

    // Delete, through the confirmation dialog.
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No webhooks yet.').waitFor();
    expect(
      (await client(app.t.ml.http).call('GET', `/api/v1/channels/${HANDLE}/webhooks`, streamer))
        .body.items,
    ).toEqual([]);
    // The refused address's 400 is logged by the browser as a failed resource; nothing else.
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  }, 90_000);
});
