// The whole journey through real browsers: a streamer and two viewers, each in
// their own browser context, plus an OBS overlay. Every page must show new
// totals, balances, earnings and outcomes as they happen, without a reload.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBrowser, launchBrowser, newContext, screenshot } from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long enough password';
const run = `${process.pid}${Date.now() % 100000}`;
const HANDLE = `jrny_${run}`.slice(0, 24);

async function signUp(ctx: BrowserContext, name: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto('/signup');
  await page.getByLabel('이메일', { exact: true }).fill(`${name.toLowerCase()}-${run}@example.kr`);
  await page.getByLabel('표시 이름', { exact: true }).fill(name);
  await page.getByLabel('비밀번호', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: '가입하기' }).click();
  await page.getByText(`${name} 님`).waitFor();
  return page;
}

async function charge(page: Page, preset: string) {
  await page.goto('/wallet');
  await page.getByRole('button', { name: preset, exact: true }).click();
  await page.getByRole('button', { name: '충전', exact: true }).click();
  await page.getByTestId('wallet-available').filter({ hasText: preset }).waitFor();
}

const text = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .textContent({ timeout: 2000 })
    .catch(() => null);

describeWithBrowser('browser journey: propose, accept, back, bet, succeed', () => {
  let app: WebApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([startWebApp(), launchBrowser()]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function context(name: string, opts: Parameters<typeof newContext>[2] = {}) {
    const ctx = await newContext(browser, app.url, opts);
    ctx.on('page', (p) => {
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${name}: ${m.text()}`);
      });
      p.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
    });
    contexts.push(ctx);
    return ctx;
  }

  it('walks every role through one mission, live', async () => {
    const streamerCtx = await context('streamer');
    const viewerCtx = await context('viewer');
    const backerCtx = await context('backer');
    const overlayCtx = await context('overlay', { width: 1920, height: 1080 });

    // --- the streamer signs up and creates a channel in the studio
    const studio = await signUp(streamerCtx, 'Streamer');
    await studio.goto('/studio');
    await studio.getByLabel('채널 핸들').fill(HANDLE);
    await studio.getByLabel('채널 이름').fill('여정 채널');
    await studio.getByLabel('실패 시 스트리머 몫 (%)').fill('10');
    await studio.getByRole('button', { name: '채널 만들기' }).click();
    await studio.getByRole('heading', { name: '제안 대기열' }).waitFor();

    // --- a viewer signs up, charges 50,000원 and proposes a mission
    const viewer = await signUp(viewerCtx, 'Viewer');
    await charge(viewer, '50,000원');
    await viewer.goto(`/c/${HANDLE}`);
    await viewer.getByRole('heading', { name: '여정 채널' }).waitFor();
    await viewer.getByText('실시간 연결됨').waitFor();
    await viewer.getByLabel('미션 제목').fill('보스를 노데스로 잡기');
    await viewer.getByLabel('첫 후원 금액 (원)').fill('10000');
    await viewer.getByRole('button', { name: '제안하기', exact: true }).click();
    await viewer.getByText('미션을 제안했습니다').waitFor();
    const card = viewer.locator('article', { hasText: '보스를 노데스로 잡기' });
    await card.getByTestId('mission-total').filter({ hasText: '10,000원' }).waitFor();
    const missionId = await card.getAttribute('data-mission-id');
    expect(missionId).toBeTruthy();

    // --- the proposal reaches the studio's queue live; the streamer accepts it
    const queued = studio.locator(`article[data-mission-id="${missionId}"]`);
    await queued.getByRole('button', { name: '수락' }).click();
    await queued.getByRole('button', { name: '성공' }).waitFor();

    // --- the viewer's page turns it ACTIVE without a reload, with a prediction
    await card.getByText('진행 중', { exact: true }).waitFor();
    await card.getByRole('heading', { name: /성공할까요/ }).waitFor();

    // --- the overlay (no sign-in) shows the board and records every alert it shows
    const overlay = await overlayCtx.newPage();
    await overlay.goto(`/overlay/${HANDLE}`);
    await overlay.locator(`li[data-mission-id="${missionId}"]`).getByText('10,000원').waitFor();
    await overlay.evaluate(`(() => {
      window.__alerts = [];
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes)
          if (n.nodeType === 1 && n.matches('.overlay-alert')) window.__alerts.push(n.getAttribute('data-pledge-id'));
      }).observe(document.querySelector('.overlay-alerts'), { childList: true });
    })()`);
    const background = await overlay.evaluate(
      `[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).backgroundColor]`,
    );
    expect(background).toEqual(['rgba(0, 0, 0, 0)', 'rgba(0, 0, 0, 0)']);

    // --- a second viewer charges, claims points, backs the mission with 16,650원
    const backer = await signUp(backerCtx, 'Backer');
    await charge(backer, '30,000원');
    await backer.getByRole('button', { name: '100포인트 받기' }).click();
    await backer.getByTestId('wallet-points').filter({ hasText: '1,100P' }).waitFor();
    await backer.goto(`/c/${HANDLE}`);
    await backer.getByText('실시간 연결됨').waitFor();
    const backerCard = backer.locator(`article[data-mission-id="${missionId}"]`);
    await backerCard.getByLabel('후원 금액 (원)').fill('16650');
    await backerCard.getByRole('button', { name: '후원하기' }).click();
    await backerCard.getByText('16,650원을 후원했습니다').waitFor();
    const pledgedAt = Date.now();

    // Within 2 s, without a reload: the viewer's page, the overlay and the studio.
    await expect
      .poll(
        () => text(viewer, `article[data-mission-id="${missionId}"] [data-testid=mission-total]`),
        { timeout: 2000, interval: 50 },
      )
      .toBe('26,650원');
    await expect
      .poll(() => text(overlay, `li[data-mission-id="${missionId}"] [data-testid=overlay-total]`), {
        timeout: 2000,
        interval: 50,
      })
      .toBe('26,650원');
    expect(Date.now() - pledgedAt).toBeLessThan(2500);
    await overlay.locator('.overlay-alert', { hasText: 'Backer 님이 16,650원 후원!' }).waitFor();
    await expect
      .poll(() => text(studio, '[data-testid=earnings-pending]'), { timeout: 6000 })
      .toBe('26,650원');
    await expect
      .poll(
        () => text(studio, `article[data-mission-id="${missionId}"] [data-testid=mission-total]`),
        { timeout: 2000 },
      )
      .toBe('26,650원');
    await screenshot(overlay, 'journey-overlay-alert');

    // --- the backer bets 300 points on success; the viewer 200 on failure
    await backerCard.getByLabel('걸 포인트').fill('300');
    await backerCard.getByRole('button', { name: /포인트 걸기/ }).click();
    await backerCard.getByTestId('my-bet').filter({ hasText: '성공에 300P' }).waitFor();
    await expect
      .poll(() => text(viewer, `article[data-mission-id="${missionId}"] [data-testid=pool-yes]`), {
        timeout: 2000,
      })
      .toBe('300P');
    await card.getByRole('radio', { name: '실패', exact: true }).check();
    await card.getByLabel('걸 포인트').fill('200');
    await card.getByRole('button', { name: /포인트 걸기/ }).click();
    await card.getByTestId('my-bet').filter({ hasText: '실패에 200P' }).waitFor();
    await expect
      .poll(() => text(backer, `article[data-mission-id="${missionId}"] [data-testid=pool-no]`), {
        timeout: 2000,
      })
      .toBe('200P');

    // --- a network blip drops every stream; they resume after Last-Event-ID
    app.dropConnections();
    await overlay.waitForTimeout(300);
    await viewer.getByText('실시간 연결됨').waitFor({ timeout: 8000 });
    await card.getByLabel('후원 금액 (원)').fill('5000');
    await card.getByRole('button', { name: '후원하기' }).click();
    await card.getByText('5,000원을 후원했습니다').waitFor();
    await expect
      .poll(() => text(overlay, `li[data-mission-id="${missionId}"] [data-testid=overlay-total]`), {
        timeout: 8000,
      })
      .toBe('31,650원');
    await overlay.locator('.overlay-alert', { hasText: 'Viewer 님이 5,000원 후원!' }).waitFor();
    await expect
      .poll(
        () => text(backer, `article[data-mission-id="${missionId}"] [data-testid=mission-total]`),
        { timeout: 8000 },
      )
      .toBe('31,650원');

    // --- pages left open before the outcome: the viewer's wallet, the backer's missions
    const viewerWallet = await viewerCtx.newPage();
    await viewerWallet.goto('/wallet');
    await viewerWallet.getByTestId('wallet-held').filter({ hasText: '15,000원' }).waitFor();
    const backerMine = await backerCtx.newPage();
    await backerMine.goto('/me');
    await backerMine.locator(`li[data-mission-id="${missionId}"]`).getByText('보류 중').waitFor();

    // --- the streamer marks success, behind a confirmation dialog
    const active = studio.locator(`article[data-mission-id="${missionId}"]`);
    await active.getByRole('button', { name: '성공' }).click();
    const dialog = studio.getByRole('dialog');
    await dialog.getByText('성공으로 처리할까요?').waitFor();
    await dialog.getByRole('button', { name: '성공' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);

    // 31,650 − fee floor(31,650 × 5%) = 1,582 → 30,068원 settled to the streamer.
    await expect
      .poll(() => text(studio, '[data-testid=earnings-settled]'), { timeout: 10_000 })
      .toBe('30,068원');
    await expect
      .poll(() => text(studio, '[data-testid=earnings-pending]'), { timeout: 10_000 })
      .toBe('0원');
    await studio.getByRole('figure').getByText('30,068원').waitFor({ timeout: 10_000 });
    await studio.getByText('진행 중인 미션이 없습니다.').waitFor();

    // The viewer's channel page shows the outcome; the wallet tab the capture.
    await card
      .getByTestId('mission-outcome')
      .filter({ hasText: '성공 · 정산 완료' })
      .waitFor({ timeout: 10_000 });
    await viewerWallet
      .getByTestId('wallet-held')
      .filter({ hasText: '0원' })
      .waitFor({ timeout: 10_000 });
    expect(await viewerWallet.getByTestId('wallet-available').textContent()).toBe('35,000원');
    await viewerWallet
      .getByRole('cell', { name: '후원 확정' })
      .first()
      .waitFor({ timeout: 10_000 });

    // The backer's missions page: captured 16,650원; the bet paid the whole pool.
    const row = backerMine.locator(`li[data-mission-id="${missionId}"]`);
    await row
      .getByTestId('pledge-captured')
      .filter({ hasText: '16,650원' })
      .waitFor({ timeout: 10_000 });
    await row.getByTestId('pledge-status').filter({ hasText: '확정' }).waitFor();
    await backerCard
      .getByTestId('my-bet')
      .filter({ hasText: '받은 포인트: 500P' })
      .waitFor({ timeout: 10_000 });

    // The overlay: the mission has left the board; each alert was shown once.
    await overlay
      .locator(`li[data-mission-id="${missionId}"]`)
      .waitFor({ state: 'detached', timeout: 5000 });
    const alerts = (await overlay.evaluate('window.__alerts')) as string[];
    expect(alerts.length).toBe(2);
    expect(new Set(alerts).size).toBe(alerts.length);

    await screenshot(viewer, 'journey-viewer-channel');
    await screenshot(studio, 'journey-studio');
    await screenshot(backerMine, 'journey-backer-me');
    await screenshot(viewerWallet, 'journey-viewer-wallet');

    // No CSP violation or script error anywhere (failed requests are expected: 401 on boot, dropped streams).
    expect(errors.filter((e) => !/Failed to load resource|net::ERR_/.test(e))).toEqual([]);
  }, 90_000);
});
