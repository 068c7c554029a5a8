// Withdrawals in a real browser, as a streamer and an operator would use
// them: the Studio shows the withdrawable balance, takes a payout account and
// a withdrawal (the fee shown before confirming), and its history follows the
// state to PAID; the ops page's review queue approves a large one. Korean by
// default, English on the switch; axe-clean, no sideways scroll at 390 px.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { mailboxOf, verifyEmail } from '../support/mail.ts';
import { describeViolations, describeWithBrowser, launchBrowser, newContext, screenshot, scrollsSideways, seriousViolations, watchErrors } from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password';
const run = `${process.pid}${Date.now() % 100000}`;
const HANDLE = `wd_${run}`.slice(0, 24);
const ADMIN_EMAIL = `wd-ops-${run}@example.kr`;

describeWithBrowser('browser: streamer withdrawals and the ops review queue', () => {
  let app: WebApp;
  let browser: Browser;
  let streamer: Caller;
  let admin: Caller;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startWebApp({ ADMIN_EMAILS: ADMIN_EMAIL, WITHDRAWAL_FEE_KRW: '500', WITHDRAWAL_REVIEW_ABOVE_KRW: '50000' }),
      launchBrowser(),
    ]);
    const api = client(app.t.ml.http);
    streamer = await api.signUp('Studio Han');
    const backer = await api.signUp('Backer Yoo');
    await api.channel(streamer, HANDLE, { missionMaxAmount: 1_000_000 });
    await api.charge(backer, 100_000);
    const m = (await api.propose(backer, HANDLE, 100_000)).body.mission;
    await api.call('POST', `/api/v1/missions/${m.id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${m.id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await eventually(async () => (await api.mission(m.id)).settledAt);
    const reg = await api.call('POST', '/api/v1/auth/register', null, { email: ADMIN_EMAIL, password: PASSWORD, displayName: 'Ops Seo' });
    const login = await api.call('POST', '/api/v1/auth/login', null, { email: ADMIN_EMAIL, password: PASSWORD });
    admin = { token: login.body.accessToken, id: reg.body.user.id, email: ADMIN_EMAIL };
    await verifyEmail(app.t.ml.http, mailboxOf(app.t), admin);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function open(who: Caller, name: string, path: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
    const ctx = await newContext(browser, app.url, { width, height: 900 });
    contexts.push(ctx);
    const res = await ctx.request.post('/api/v1/auth/login', { data: { email: who.email, password: PASSWORD } });
    expect(res.status()).toBe(200);
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    await page.goto(path);
    await page.getByText(`${name} 님`).first().waitFor({ state: 'attached' });
    return { page, errors };
  }

  async function accessible(page: Page, name: string) {
    const vs = await seriousViolations(page);
    expect(vs, describeViolations(vs)).toEqual([]);
    await screenshot(page, name);
  }

  it('a streamer registers a payout account and withdraws, seeing the fee first, then PAID', async () => {
    const { page, errors } = await open(streamer, 'Studio Han', '/studio');
    const section = page.getByRole('region', { name: '출금' });
    await section.getByTestId('earnings-withdrawable').filter({ hasText: '95,000원' }).waitFor();
    await accessible(page, 'studio-withdrawals-empty');

    // A number the provider refuses (sandbox: ending in 0000) says so.
    await section.getByLabel('은행 코드').fill('004');
    // The code is named as it is typed, and the account line names the bank.
    await section.getByText('KB국민은행', { exact: true }).waitFor();
    await section.getByLabel('계좌번호').fill('1234560000');
    await section.getByLabel('예금주').fill('한스튜');
    await section.getByRole('button', { name: '계좌 등록' }).click();
    await section.getByRole('alert').filter({ hasText: '확인하지 못했습니다' }).waitFor();
    await section.getByLabel('계좌번호').fill('110-123-456789');
    await section.getByRole('button', { name: '계좌 등록' }).click();
    await section.getByTestId('payout-account').filter({ hasText: '6789' }).waitFor();
    expect(await section.getByTestId('payout-account').textContent()).not.toContain('123456789');
    expect(await section.getByTestId('payout-account').textContent()).toContain('KB국민은행 (004)');

    await section.getByLabel('출금 금액 (원)').fill('20000');
    await section.getByTestId('withdraw-fee').filter({ hasText: '수수료 500원 · 입금될 금액 19,500원' }).waitFor();
    await section.getByRole('button', { name: '출금하기' }).click();
    const dialog = page.getByRole('dialog', { name: '출금할까요?' });
    await dialog.getByText('19,500원').waitFor();
    await dialog.getByRole('button', { name: '출금하기' }).click();
    await section.getByRole('status').filter({ hasText: '20,000원 출금을 신청했습니다' }).waitFor();
    await section.getByTestId('withdrawals').getByText('완료').waitFor({ timeout: 10_000 });
    await section.getByTestId('earnings-withdrawn').filter({ hasText: '20,000원' }).waitFor({ timeout: 10_000 });
    await section.getByTestId('earnings-withdrawable').filter({ hasText: '75,000원' }).waitFor();
    await accessible(page, 'studio-withdrawals-paid');

    // English on the switch.
    await page.getByRole('button', { name: 'English' }).click();
    const en = page.getByRole('region', { name: 'Withdrawals' });
    await en.getByText('Paid').first().waitFor();
    await en.getByText('Withdrawal history').waitFor();
    // The 404 of the missing account and the 422 of the refused one are answers, not errors.
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  it('fits a 390 px phone', async () => {
    const { page } = await open(streamer, 'Studio Han', '/studio', 390);
    await page.getByRole('region', { name: '출금' }).getByTestId('withdrawals').waitFor();
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  });

  it('a large withdrawal waits for review; the operator approves it on the ops page', async () => {
    const api = client(app.t.ml.http);
    const w = (await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 60_000 })).body.withdrawal;
    expect(w.status).toBe('REQUESTED');
    const { page, errors } = await open(admin, 'Ops Seo', '/ops');
    const queue = page.getByRole('region', { name: '출금 검토' });
    await queue.getByTestId('withdrawal-queue').getByText(`@${HANDLE} · 60,000원`).waitFor();
    await accessible(page, 'ops-withdrawal-queue');
    await queue.getByRole('button', { name: '승인' }).click();
    await queue.getByRole('status').filter({ hasText: '승인했습니다' }).waitFor();
    await eventually(async () => (await api.call('GET', '/api/v1/streamer/withdrawals', streamer)).body.items[0].status === 'PAID', 10_000);
    expect(errors).toEqual([]);
  });
});
