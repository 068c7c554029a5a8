// Proof, dispute window and review in a real browser (API.md Part 2): a
// backer sees the proof, the countdown and the dispute button while the
// window is open, and disputes with a reason; the streamer sees the dispute
// in the Studio and closes betting early; an operator resolves the disputed
// mission from the ops page's review queue. Korean and English; axe-clean;
// no sideways scrolling at 390 px.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { mailboxOf, verifyEmail } from '../support/mail.ts';
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

const PASSWORD = 'a long password';
const run = `${process.pid}${Date.now() % 100000}`;
const HANDLE = `disp_${run}`.slice(0, 24);
const ADMIN_EMAIL = `disp-ops-${run}@example.kr`;

describeWithBrowser('browser: proof, disputes, review and the prediction lock', () => {
  let app: WebApp;
  let browser: Browser;
  let streamer: Caller;
  let viewer: Caller;
  let backer: Caller;
  let admin: Caller;
  let confirmingId = '';
  let activeId = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([startWebApp({ ADMIN_EMAILS: ADMIN_EMAIL, MIN_WINDOW_SECONDS: '1' }), launchBrowser()]);
    const api = client(app.t.ml.http);
    [streamer, viewer, backer] = await Promise.all([api.signUp('Studio Han'), api.signUp('Viewer Yoon'), api.signUp('Backer Seo')]);
    await api.channel(streamer, HANDLE, { disputeWindowSeconds: 3600, disputeThresholdBps: 5000 });
    await api.charge(viewer, 100_000);
    await api.charge(backer, 100_000);
    // A mission in its dispute window: viewer 10,000 + backer 12,000.
    const m = (await api.propose(viewer, HANDLE, 10_000, 600, '보스 노데스 클리어')).body.mission;
    confirmingId = m.id;
    await api.call('POST', `/api/v1/missions/${m.id}/pledges`, backer, { amount: 12_000 });
    await api.call('POST', `/api/v1/missions/${m.id}/accept`, streamer);
    const dec = await api.call('POST', `/api/v1/missions/${m.id}/decision`, streamer, {
      outcome: 'SUCCEEDED',
      proofUrl: 'https://clips.example.com/boss-clear',
      note: '다시보기 1:02:30 부근',
    });
    expect(dec.body.mission.state).toBe('CONFIRMING');
    // An active mission with a bet, for the prediction lock.
    const a = (await api.propose(viewer, HANDLE, 5_000, 3600, '칼만 쓰기')).body.mission;
    activeId = a.id;
    await api.call('POST', `/api/v1/missions/${a.id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${a.id}/prediction/bets`, backer, { side: 'SUCCEEDED', points: 200 });

    const reg = await api.call('POST', '/api/v1/auth/register', null, { email: ADMIN_EMAIL, password: PASSWORD, displayName: 'Ops Moon' });
    const login = await api.call('POST', '/api/v1/auth/login', null, { email: ADMIN_EMAIL, password: PASSWORD });
    admin = { token: login.body.accessToken, id: reg.body.user.id, email: ADMIN_EMAIL };
    await verifyEmail(app.t.ml.http, mailboxOf(app.t), admin);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function pageOf(who: Caller, name: string, width = 1280, height = 900): Promise<{ page: Page; errors: string[] }> {
    const ctx = await newContext(browser, app.url, { width, height });
    contexts.push(ctx);
    const res = await ctx.request.post('/api/v1/auth/login', { data: { email: who.email, password: PASSWORD } });
    expect(res.status()).toBe(200);
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`${name}: ${m.text()}`);
    });
    return { page, errors };
  }

  async function axeClean(page: Page) {
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
  }

  it('a backer sees the proof and the countdown, and disputes with a reason', async () => {
    const { page, errors } = await pageOf(backer, 'backer');
    await page.goto(`/c/${HANDLE}`);
    const card = page.locator(`article[data-mission-id="${confirmingId}"]`);
    await card.getByText('결과 확인 중').first().waitFor();
    await card.getByTestId('mission-proposed-outcome').filter({ hasText: '성공' }).waitFor();
    expect(await card.getByRole('link', { name: '증빙 보기' }).getAttribute('href')).toBe('https://clips.example.com/boss-clear');
    await card.getByText('다시보기 1:02:30 부근').waitFor();
    await axeClean(page);
    await screenshot(page, 'dispute-channel');
    // Client-side check first, then the server's answer.
    await card.getByRole('button', { name: '이의 제기' }).click();
    await card.getByText('사유를 1–500자로 적어 주세요.').waitFor();
    await card.getByLabel('이의 제기 사유').fill('클립 앞부분이 잘려 있어요');
    await card.getByRole('button', { name: '이의 제기' }).click();
    await card.getByText('이의를 제기했습니다 (12,000원).').waitFor();
    // 12,000 of 22,000 ≥ 50 %: the mission goes to review, live.
    await card.getByText('이의 제기가 많아 운영자가 검토하고 있습니다.', { exact: false }).waitFor();
    // In review the form is gone: nobody disputes twice, nor after the window.
    expect(await card.getByLabel('이의 제기 사유').count()).toBe(0);
    expect(errors).toEqual([]);

    // In English, at 390 px.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'English' }).click();
    await card.getByText('In review').first().waitFor();
    await card.getByText('Open the proof').waitFor();
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await axeClean(page);
    await page.getByRole('button', { name: '한국어' }).click();
  }, 60_000);

  it('the streamer sees the dispute in the Studio and closes betting early', async () => {
    const { page, errors } = await pageOf(streamer, 'streamer');
    await page.goto('/studio');
    const card = page.locator(`article[data-mission-id="${confirmingId}"]`);
    await card.getByTestId('dispute-list').getByText('클립 앞부분이 잘려 있어요').waitFor();
    await card.getByText('Backer Seo · 12,000원').waitFor();
    const active = page.locator(`article[data-mission-id="${activeId}"]`);
    await active.getByLabel('증빙 링크 (선택)').waitFor();
    await axeClean(page);
    await screenshot(page, 'dispute-studio');
    await active.getByRole('button', { name: '예측 마감' }).click();
    await page.getByRole('status').getByText('"칼만 쓰기" 미션의 예측을 마감했습니다.').waitFor();
    const view = await client(app.t.ml.http).call('GET', `/api/v1/missions/${activeId}/prediction`);
    expect(view.body.state).toBe('LOCKED');
    // The overlay shows the prediction's pools, and that betting closed.
    const octx = await newContext(browser, app.url, { width: 1920, height: 1080 });
    contexts.push(octx);
    const overlay = await octx.newPage();
    await overlay.goto(`/overlay/${HANDLE}`);
    await overlay
      .locator(`li[data-mission-id="${activeId}"]`)
      .getByTestId('overlay-prediction')
      .filter({ hasText: '성공 200P' })
      .filter({ hasText: '예측 마감' })
      .waitFor();
    await axeClean(overlay);
    const { scrollWidth, clientWidth } = await (async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      return scrollsSideways(page);
    })();
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    // An expected 404 answer (no payout account yet) is logged by the browser as a failed load.
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  }, 60_000);

  it('an operator resolves the disputed mission from the review queue', async () => {
    const { page, errors } = await pageOf(admin, 'admin');
    await page.goto('/ops');
    const queue = page.getByTestId('review-queue');
    await queue.getByText('보스 노데스 클리어').waitFor();
    await queue.getByText('클립 앞부분이 잘려 있어요').waitFor();
    await axeClean(page);
    await screenshot(page, 'dispute-ops');
    await queue.getByRole('button', { name: '실패로 확정' }).click();
    await page.getByText('보스 노데스 클리어 — 실패(으)로 확정했습니다.').waitFor();
    const settled = await eventually(async () => {
      const m = await client(app.t.ml.http).mission(confirmingId);
      return m.settledAt ? m : undefined;
    });
    expect(settled.state).toBe('FAILED');
    await page.getByText('검토를 기다리는 미션이 없습니다.').waitFor();
    expect(errors).toEqual([]);
  }, 60_000);
});
