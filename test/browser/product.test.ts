// The product in a real browser (Chromium, Korean): forms say what the server
// refused in Korean sentences, never its English detail; a mistyped address
// gets the app's 404 page; the home page finds channels; a channel page shows
// its record and past missions after a reload, by page; the API reference
// loads under the strict CSP. Screenshots (Korean, 390×844 and 1366×768) go
// to $PRODUCT_SHOTS or the system's temporary folder, never the repository.
import os from 'node:os';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import {
  describeViolations,
  describeWithBrowser,
  launchBrowser,
  newContext,
  scrollsSideways,
  seriousViolations,
} from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password'; // what test/support/api.ts signs up with
const run = `${process.pid}`.slice(-5);
const HANDLE = `prod_${run}`;
const EMPTY = `prodempty_${run}`;
const SHOTS = process.env.PRODUCT_SHOTS ?? path.join(os.tmpdir(), 'missionlink-product-shots');
const SIZES = [
  [390, 844],
  [1366, 768],
] as const;
/** Server words that must never reach a Korean screen. */
const SERVER_WORDS = /Too small|must be|expected number|Not enough available|The body is invalid|already claimed|Email or password/;

describeWithBrowser('browser: errors in Korean, the 404 page, channel history, the API reference', () => {
  let app: WebApp;
  let browser: Browser;
  const problems: string[] = [];
  let viewer: Caller;
  let poor: Caller;
  let streamer: Caller;
  let activeId = '';

  beforeAll(async () => {
    [app, browser] = await Promise.all([startWebApp({ MIN_WINDOW_SECONDS: '60' }), launchBrowser()]);
    await mkdir(SHOTS, { recursive: true });
    const api = client(app.t.ml.http);
    [streamer, viewer, poor] = await Promise.all([api.signUp('Studio Han'), api.signUp('Viewer Seo'), api.signUp('Poor Yoon')]);
    const other = await api.signUp('Other Jung');
    expect((await api.call('POST', '/api/v1/channels', streamer, { handle: HANDLE, displayName: '요리하는 한씨', settings: { failureKeepBps: 1000 } })).status).toBe(201);
    expect((await api.call('POST', '/api/v1/channels', other, { handle: EMPTY, displayName: '빈 채널' })).status).toBe(201);
    await api.charge(viewer, 200_000);
    // Eleven ended missions: a success, a failure, nine rejections (a page of ten, then one more).
    const won = (await api.propose(viewer, HANDLE, 12_000, 600, '라면 10초 안에 끓이기')).body.mission.id;
    await api.call('POST', `/api/v1/missions/${won}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${won}/decision`, streamer, { outcome: 'SUCCEEDED' });
    const lost = (await api.propose(viewer, HANDLE, 5_000, 600, '매운 떡볶이 다 먹기')).body.mission.id;
    await api.call('POST', `/api/v1/missions/${lost}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${lost}/decision`, streamer, { outcome: 'FAILED' });
    for (let i = 1; i <= 9; i++) {
      const id = (await api.propose(viewer, HANDLE, 1_000, 600, `거절된 제안 ${i}`)).body.mission.id;
      await api.call('POST', `/api/v1/missions/${id}/reject`, streamer);
    }
    activeId = (await api.propose(viewer, HANDLE, 3_000, 3600, '진행 중인 미션')).body.mission.id;
    await api.call('POST', `/api/v1/missions/${activeId}/accept`, streamer);
    expect((await api.call('POST', `/api/v1/missions/${activeId}/prediction/bets`, viewer, { side: 'SUCCEEDED', points: 100 })).status).toBe(201);
    await eventually(async () => (await api.mission(lost)).settledAt, 20_000);
    await eventually(async () => (await api.mission(won)).settledAt, 20_000);
    // The poor viewer claims today's points, so the wallet page knows the next claim.
    await api.call('POST', '/api/v1/points/claim', poor);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function contextFor(who: Caller | null, width = 1366, height = 768): Promise<BrowserContext> {
    const ctx = await newContext(browser, app.url, { width, height });
    ctx.on('page', (p) => {
      p.on('console', (m) => {
        // 4xx answers the test asks for on purpose are logged as failed loads.
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`${p.url()}: ${m.text()}`);
      });
      p.on('pageerror', (e) => problems.push(`${p.url()}: ${e.message}`));
    });
    if (who) {
      const res = await ctx.request.post('/api/v1/auth/login', { data: { email: who.email, password: PASSWORD } });
      expect(res.status()).toBe(200);
    }
    return ctx;
  }

  async function shoot(page: Page, name: string) {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function checkPage(page: Page, name: string) {
    const violations = await seriousViolations(page);
    expect(violations, `${name}: ${describeViolations(violations)}`).toEqual([]);
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth, `${name} scrolls sideways`).toBeLessThanOrEqual(clientWidth);
  }

  it('words every refusal a form can receive in Korean, never the server detail', async () => {
    const ctx = await contextFor(null);
    const page = await ctx.newPage();

    // INVALID_CREDENTIALS (sign-in)
    await page.goto('/signin');
    await page.getByLabel('이메일').fill(viewer.email);
    await page.getByLabel('비밀번호').fill('the wrong password');
    await page.getByRole('button', { name: '로그인', exact: true }).last().click();
    await page.getByRole('alert').getByText('이메일 또는 비밀번호가 맞지 않습니다.').waitFor();

    // EMAIL_TAKEN (sign-up)
    await page.goto('/signup');
    await page.getByLabel('이메일').fill(viewer.email);
    await page.getByLabel('비밀번호').fill(PASSWORD);
    await page.getByLabel('표시 이름').fill('누군가');
    await page.getByRole('button', { name: '가입하기' }).click();
    await page.getByRole('alert').getByText('이미 가입된 이메일입니다. 로그인해 주세요.').waitFor();
    expect(await page.locator('main').innerText()).not.toMatch(SERVER_WORDS);
    await ctx.close();

    // VALIDATION_FAILED with a field bound (propose: 5 seconds, below the server's 60 s)
    const poorCtx = await contextFor(poor);
    const p = await poorCtx.newPage();
    await p.goto(`/c/${HANDLE}`);
    await p.getByText('Poor Yoon 님').first().waitFor({ state: 'attached' });
    await p.getByLabel('미션 제목').fill('짧은 미션');
    await p.getByLabel('첫 후원 금액 (원)').fill('1000');
    await p.getByLabel('진행 시간', { exact: true }).fill('5');
    await p.getByLabel('진행 시간 단위').selectOption('s');
    await p.getByRole('button', { name: '제안하기', exact: true }).click();
    const alert = p.locator('section[aria-labelledby="propose-h"]').getByRole('alert');
    await alert.getByText('입력값을 확인해 주세요.').waitFor();
    await alert.getByText('진행 시간은 최소 1분입니다.').waitFor();
    expect(await alert.innerText()).not.toMatch(SERVER_WORDS);

    // INSUFFICIENT_FUNDS (backing with an empty wallet)
    const card = p.locator(`article[data-mission-id="${activeId}"]`);
    await card.getByLabel('후원 금액 (원)').fill('5000');
    await card.getByRole('button', { name: '후원하기' }).click();
    await card.getByRole('alert').getByText('사용할 수 있는 잔액이 부족합니다. 지갑을 먼저 충전해 주세요.').waitFor();
    expect(await card.innerText()).not.toMatch(SERVER_WORDS);

    // INSUFFICIENT_POINTS (a bet above the points one has)
    await card.getByLabel('걸 포인트').fill('50000');
    await card.getByRole('button', { name: /포인트 걸기/ }).click();
    await card.locator('.bet-form').getByRole('alert').getByText('포인트가 부족합니다.').waitFor();

    // HANDLE_TAKEN (the studio's channel form)
    await p.goto('/studio');
    await p.getByLabel('채널 핸들').fill(HANDLE);
    await p.getByLabel('채널 이름').fill('같은 핸들');
    await p.getByRole('button', { name: '채널 만들기' }).click();
    await p.getByRole('alert').getByText('이미 쓰이는 핸들입니다. 다른 핸들을 골라 주세요.').waitFor();
    expect(await p.locator('main').innerText()).not.toMatch(SERVER_WORDS);

    // ALREADY_CLAIMED, and when the next claim opens (midnight KST)
    await p.goto('/wallet');
    await p.getByTestId('next-claim').getByText(/다음 받기: .*\(한국 시간\) · .* 후/).waitFor();
    // A second tab of the same browser, open before the claim, learns of it.
    const other = await p.context().newPage();
    await other.goto('/wallet');
    await other.locator('button:not([disabled])', { hasText: '100포인트 받기' }).waitFor();
    await p.getByRole('button', { name: '100포인트 받기' }).click();
    await p.getByRole('alert').getByText('오늘의 포인트를 이미 받았습니다. 한국 시간 자정에 다시 받을 수 있습니다.').waitFor();
    await p.locator('button[disabled]', { hasText: '100포인트 받기' }).waitFor();
    await other.locator('button[disabled]', { hasText: '100포인트 받기' }).waitFor();
    await other.getByText('오늘의 포인트를 받았습니다.').waitFor();
    await other.close();
    await p.reload();
    await p.getByText('오늘의 포인트를 받았습니다.').waitFor();
    await p.locator('button[disabled]', { hasText: '100포인트 받기' }).waitFor();
    for (const [w, h] of SIZES) {
      await p.setViewportSize({ width: w, height: h });
      await checkPage(p, `wallet@${w}`);
      await shoot(p, `wallet-ko-${w}`);
    }
    await poorCtx.close();
  });

  it('reads the wallet history like a statement: mission titles, refunds with the streamer’s share, no 0원 rows', async () => {
    for (const [w, h] of SIZES) {
      const ctx = await contextFor(viewer, w, h);
      const page = await ctx.newPage();
      await page.goto('/wallet');
      await page.getByText('Viewer Seo 님').first().waitFor({ state: 'attached' });
      const cash = page.locator('section[aria-labelledby="history-h"]');
      const rows = cash.locator('table tbody tr');
      await rows.first().waitFor();
      while (await cash.getByRole('button', { name: '더 보기' }).isVisible()) {
        const before = await rows.count();
        await cash.getByRole('button', { name: '더 보기' }).click();
        await expect.poll(() => rows.count()).toBeGreaterThan(before);
      }
      // The failed mission: 4,500원 back, 500원 (10 %) kept by the streamer.
      const partial = page.locator('tr[data-entry-kind="partial_capture"]');
      await partial.getByText('매운 떡볶이 다 먹기').waitFor();
      await partial.getByText('+4,500원').waitFor();
      await partial.getByText('스트리머 몫 500원').waitFor();
      expect(await partial.locator('td.kind').innerText()).toMatch(/환불/);
      // The success: no "0원" amount, but what was delivered.
      const capture = page.locator('tr[data-entry-kind="capture"]');
      await capture.getByText('라면 10초 안에 끓이기').waitFor();
      await capture.getByText('12,000원 전달').waitFor();
      const amounts = await rows.locator('td:nth-child(3)').allInnerTexts();
      expect(amounts.filter((a) => /^[+−-]?0원$/.test(a.trim()))).toEqual([]);
      await page.locator('tr[data-entry-kind="refund"]').first().getByText(/거절된 제안 \d/).waitFor();
      // Point movements too: the welcome grant and the bet, with the mission's title.
      const points = page.getByTestId('points-history');
      const bet = points.locator('tr[data-points-kind="bet"]');
      await bet.getByText('예측 참여').waitFor();
      await bet.getByText('−100P').waitFor();
      await bet.getByText('진행 중인 미션').waitFor();
      await points.locator('tr[data-points-kind="signup"]').getByText('+1,000P').waitFor();
      await checkPage(page, `wallet-history@${w}`);
      await shoot(page, `wallet-history-ko-${w}`);
      await ctx.close();
    }
  });

  it('answers a mistyped address with the app’s 404 page (status 404), and API paths with problem+json', async () => {
    for (const [w, h] of SIZES) {
      const ctx = await contextFor(null, w, h);
      const page = await ctx.newPage();
      const res = await page.goto('/nope/page');
      expect(res?.status()).toBe(404);
      expect(res?.headers()['content-type']).toMatch(/^text\/html/);
      await page.getByRole('heading', { name: '페이지를 찾을 수 없습니다' }).waitFor();
      await page.getByText('/nope/page 주소의 페이지가 없습니다.', { exact: false }).waitFor();
      await checkPage(page, `404@${w}`);
      await shoot(page, `404-ko-${w}`);
      await page.getByRole('link', { name: '홈으로 가서 채널 찾기' }).click();
      await page.getByRole('heading', { name: '채널 둘러보기' }).waitFor();
      const api = await page.goto('/api/v1/nope');
      expect(api?.status()).toBe(404);
      expect(api?.headers()['content-type']).toMatch(/^application\/problem\+json/);
      await ctx.close();
    }
  });

  it('finds channels on the home page by the start of a handle or a name', async () => {
    for (const [w, h] of SIZES) {
      const ctx = await contextFor(null, w, h);
      const page = await ctx.newPage();
      await page.goto('/');
      const tiles = page.getByTestId('channel-tile');
      await tiles.first().waitFor();
      // Most active first: the channel with an open mission leads.
      await expect.poll(async () => (await tiles.first().innerText()).includes('요리하는 한씨')).toBe(true);
      await page.getByLabel('채널 검색').fill('요리');
      await expect.poll(() => tiles.count()).toBe(1);
      await tiles.first().getByText('성공률 50%').waitFor();
      await tiles.first().getByText('진행·대기 미션 1개').waitFor();
      await checkPage(page, `home@${w}`);
      await shoot(page, `home-ko-${w}`);
      await page.getByLabel('채널 검색').fill('없는채널zz');
      await page.getByTestId('directory-status').getByText('‘없는채널zz’(으)로 시작하는 채널이 없습니다.').waitFor();
      await page.getByLabel('채널 검색').fill('prod');
      await expect.poll(() => tiles.count()).toBe(2);
      await page.getByLabel('채널 검색').press('Enter'); // two matches: stays
      await page.getByLabel('채널 검색').fill(HANDLE);
      await expect.poll(() => tiles.count()).toBe(1);
      await page.getByLabel('채널 검색').press('Enter');
      await page.getByRole('heading', { name: '요리하는 한씨', level: 1 }).waitFor();
      await ctx.close();
    }
  });

  it('shows the channel’s record and past missions after a reload, a page at a time', async () => {
    for (const [w, h] of SIZES) {
      const ctx = await contextFor(viewer, w, h);
      const page = await ctx.newPage();
      await page.goto(`/c/${HANDLE}`);
      // Signed in (the refresh cookie was traded) before reloading, or the reload would lose it.
      await page.getByText('Viewer Seo 님').first().waitFor({ state: 'attached' });
      await page.reload(); // nothing ended while the page was open: all of it comes from the API
      await page.getByText('Viewer Seo 님').first().waitFor({ state: 'attached' });
      const history = page.getByTestId('history');
      await history.locator('li').first().waitFor();
      expect(await history.locator('li').count()).toBe(10);
      await history.locator('li', { hasText: '라면 10초 안에 끓이기' }).waitFor({ state: 'detached' });
      await page.getByRole('button', { name: '더 보기' }).click();
      await expect.poll(() => history.locator('li').count()).toBe(11);
      const first = history.locator('li', { hasText: '라면 10초 안에 끓이기' });
      await first.getByText('성공', { exact: true }).waitFor();
      await first.getByText(/12,000원 · 후원자 1명/).waitFor();
      await history.locator('li', { hasText: '매운 떡볶이 다 먹기' }).getByText('실패', { exact: true }).waitFor();
      await page.getByTestId('success-rate').getByText('50%').waitFor();
      // 12,000 captured on success + 500 kept of the failed 5,000.
      await page.getByTestId('captured-total').getByText('12,500원').waitFor();
      await page.getByTestId('top-backers').getByText('Viewer Seo').waitFor();
      await checkPage(page, `channel@${w}`);
      await shoot(page, `channel-ko-${w}`);
      await ctx.close();
    }
    // A channel with nothing ended says so.
    const ctx = await contextFor(null);
    const page = await ctx.newPage();
    await page.goto(`/c/${EMPTY}`);
    await page.getByText('아직 끝난 미션이 없습니다.').waitFor();
    await page.getByTestId('success-rate').getByText('아직 없음').waitFor();
    await page.getByText('아직 후원자가 없습니다.').waitFor();
    await ctx.close();
  });

  it('loads the API reference under the strict CSP, linked from the footer', async () => {
    for (const [w, h] of SIZES) {
      const ctx = await contextFor(null, w, h);
      const page = await ctx.newPage();
      const csp: string[] = [];
      await page.exposeFunction('__cspViolation', (v: string) => csp.push(v));
      await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(e.violatedDirective + ' ' + e.blockedURI))`);
      await page.goto('/');
      await page.getByRole('link', { name: 'API 문서' }).click();
      await page.waitForURL('**/api/docs');
      const res = await page.request.get('/api/docs');
      expect(res.headers()['content-security-policy']).toContain("script-src 'self'");
      await page.locator('.swagger-ui .info .title').getByText('MissionLink API').waitFor({ timeout: 20_000 });
      await page.locator('.opblock-summary-path', { hasText: '/api/v1/channels/{handle}/stats' }).first().waitFor();
      expect(csp).toEqual([]);
      await shoot(page, `api-docs-${w}`);
      await ctx.close();
    }
  });

  it('raised no script error and no CSP violation anywhere', () => {
    expect(problems.filter((p) => !/status of 40[0-9]/.test(p))).toEqual([]);
  });
});
