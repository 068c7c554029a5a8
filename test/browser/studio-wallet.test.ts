// The studio and the wallet as a person uses them (issue #23 part 5), in a
// real browser: queue cards that say who proposed what, with which message
// (masked, or gone once hidden), for how long and with how much held, decided
// from the keyboard (A accepts, R rejects, ↑/↓ move; typing elsewhere never
// decides); toasts that are sentences; "My missions" as one card per mission
// with the total and the count; a wallet history in plain words, Korean and
// English, without "0원" rows; amount fields that group digits as they are
// typed and submit the integer. Every page is axe-clean and does not scroll
// sideways at 390 px.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import {
  describeViolations,
  describeWithBrowser,
  launchBrowser,
  openPage,
  scrollsSideways,
  seriousViolations,
} from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password'; // what test/support/api.ts signs up with
const run = `${process.pid}${Date.now() % 100000}`;
const HANDLE = `queue_${run}`.slice(0, 24);
const SHOTS = process.env.STUDIO_SHOTS ?? path.join(os.tmpdir(), 'missionlink-studio-shots');

describeWithBrowser('browser: studio queue, My missions, wallet history and amount inputs', () => {
  let app: WebApp;
  let browser: Browser;
  let api: ReturnType<typeof client>;
  let streamer: Caller;
  let viewer: Caller;
  let first = '';
  let second = '';
  let third = '';
  let hidden = '';
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([startWebApp(), launchBrowser()]);
    api = client(app.t.ml.http);
    [streamer, viewer] = await Promise.all([api.signUp('Studio Oh'), api.signUp('Viewer Kim')]);
    await api.channel(streamer, HANDLE, { failureKeepBps: 1000 });
    expect(
      (
        await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, {
          settings: { blockedWords: ['바보'] },
        })
      ).status,
    ).toBe(200);
    await api.charge(viewer, 100_000);
    expect((await api.call('POST', '/api/v1/points/claim', viewer)).status).toBe(200);
    const propose = async (
      title: string,
      amount: number,
      durationSeconds: number,
      message?: string,
    ) => {
      const r = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, {
        title,
        amount,
        durationSeconds,
        ...(message ? { message } : {}),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.mission.id as string;
    };
    // Proposed one after the other: the queue shows them in this order (accept deadline first).
    first = await propose('첫 번째 제안', 10_000, 1800, '바보도 할 수 있어요');
    second = await propose('두 번째 제안', 5_000, 3600);
    third = await propose('세 번째 제안', 2_000, 90_000, '세 번째 메시지');
    hidden = await propose('숨긴 메시지 제안', 1_000, 600, '지워질 메시지');
    const firstPledge = (await api.call('GET', `/api/v1/missions/${hidden}/pledges`)).body.items[0]
      .id as string;
    expect(
      (await api.call('POST', `/api/v1/pledges/${firstPledge}/hide-message`, streamer)).status,
    ).toBe(204);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function open(
    who: Caller | null,
    pathName: string,
    width = 1366,
    height = 768,
  ): Promise<Page> {
    return openPage(browser, app.url, who, pathName, {
      problems,
      contexts,
      password: PASSWORD,
      width,
      height,
    });
  }

  /** axe-clean at 1366 and 390 px, no sideways scroll at 390 px; screenshots of both (and a close-up at 390). */
  async function check(page: Page, name: string, closeUp?: Locator) {
    const violations = await seriousViolations(page);
    expect(violations, `${name}: ${describeViolations(violations)}`).toEqual([]);
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}-1366.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100);
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(
      scrollWidth,
      `${name} is ${scrollWidth}px wide in a ${clientWidth}px window`,
    ).toBeLessThanOrEqual(clientWidth);
    const phone = await seriousViolations(page);
    expect(phone, `${name} (390): ${describeViolations(phone)}`).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, `${name}-390.png`), fullPage: true });
    await closeUp?.screenshot({ path: path.join(SHOTS, `${name}-390-closeup.png`) });
    await page.setViewportSize({ width: 1366, height: 768 });
  }

  const focusedMission = (page: Page) =>
    page.evaluate(
      `document.activeElement?.getAttribute('data-mission-id') ?? document.activeElement?.tagName ?? null`,
    ) as Promise<string | null>;

  it('shows each proposal’s proposer, message, duration and held total, and decides from the keyboard', async () => {
    const page = await open(streamer, '/studio');
    const queue = page.locator('section[aria-labelledby="queue-h"]');
    const card1 = queue.locator(`article[data-mission-id="${first}"]`);
    await card1.waitFor();
    await card1.getByTestId('proposer').getByText('Viewer Kim 님의 제안').waitFor();
    // Blocked words masked as stored.
    expect(await card1.getByTestId('proposal-message').innerText()).toBe('**도 할 수 있어요');
    expect(await card1.getByTestId('mission-duration').innerText()).toBe('30분');
    expect(await card1.getByTestId('mission-total').innerText()).toBe('10,000원');
    await card1.getByText('후원자 1명').waitFor();
    await card1.getByText('보류된 후원금').waitFor();
    const card2 = queue.locator(`article[data-mission-id="${second}"]`);
    expect(await card2.getByTestId('mission-duration').innerText()).toBe('1시간');
    expect(await card2.getByTestId('proposal-message').count()).toBe(0);
    expect(
      await queue
        .locator(`article[data-mission-id="${third}"]`)
        .getByTestId('mission-duration')
        .innerText(),
    ).toBe('1일 1시간');
    // A message the streamer hid is not shown.
    const hiddenCard = queue.locator(`article[data-mission-id="${hidden}"]`);
    await hiddenCard.getByText('Viewer Kim 님의 제안').waitFor();
    expect(await hiddenCard.getByTestId('proposal-message').count()).toBe(0);
    expect(await hiddenCard.innerText()).not.toContain('지워질 메시지');
    // The keys are shown, on the queue and on the buttons.
    const keys = queue.getByTestId('queue-keys');
    await keys.getByText('키보드로 결정하기').waitFor();
    expect(await keys.locator('kbd').allInnerTexts()).toEqual(['Tab', '↑', '↓', 'A', 'R']);
    expect(
      await card1
        .getByRole('button', { name: '수락', exact: true })
        .getAttribute('aria-keyshortcuts'),
    ).toBe('A');
    expect(
      await card1
        .getByRole('button', { name: '거절', exact: true })
        .getAttribute('aria-keyshortcuts'),
    ).toBe('R');
    await check(page, 'studio-queue', card1);

    // Tab reaches the first card; ↓ and ↑ move between cards.
    await card1.focus();
    expect(await focusedMission(page)).toBe(first);
    await page.keyboard.press('ArrowDown');
    expect(await focusedMission(page)).toBe(second);
    await page.keyboard.press('ArrowUp');
    expect(await focusedMission(page)).toBe(first);

    // A accepts: a sentence says so, and the next card takes the focus.
    await page.keyboard.press('a');
    await page
      .getByRole('status')
      .getByText('"첫 번째 제안" 미션을 수락했습니다. 지금부터 진행 시간이 흐릅니다.')
      .waitFor();
    expect((await api.mission(first)).state).toBe('ACTIVE');
    await card1.waitFor({ state: 'detached' });
    await expect.poll(() => focusedMission(page)).toBe(second);
    expect(await page.locator('main').innerText()).not.toContain('처리했습니다');

    // Typing an "a" or an "r" into a field never decides anything.
    const proof = page.locator(`article[data-mission-id="${first}"]`).getByLabel(/증빙 링크/);
    await proof.click();
    await page.keyboard.type('https://example.com/ar');
    expect(await proof.inputValue()).toBe('https://example.com/ar');
    expect((await api.mission(second)).state).toBe('PROPOSED');

    // R rejects after the confirmation; focus comes back to the queue.
    await queue.locator(`article[data-mission-id="${second}"]`).focus();
    await page.keyboard.press('r');
    const dialog = page.getByRole('dialog');
    await dialog.getByText('"두 번째 제안" 제안을 거절할까요?').waitFor();
    await dialog.getByRole('button', { name: '거절' }).click();
    await page
      .getByRole('status')
      .getByText('"두 번째 제안" 제안을 거절했습니다. 보류된 후원금은 모두 후원자에게 돌아갑니다.')
      .waitFor();
    expect((await api.mission(second)).state).toBe('REJECTED');
    await expect.poll(() => focusedMission(page)).toBe(third);
    // The Korean layout switched on: the A key types ㅁ, and still accepts.
    await page.dispatchEvent(`article[data-mission-id="${third}"]`, 'keydown', {
      key: 'ㅁ',
      code: 'KeyA',
      bubbles: true,
    });
    await page
      .getByRole('status')
      .getByText('"세 번째 제안" 미션을 수락했습니다.', { exact: false })
      .waitFor();
    expect((await api.mission(third)).state).toBe('ACTIVE');
    expect(problems).toEqual([]);
  }, 90_000);

  it('says in sentences what the active missions’ buttons did', async () => {
    const page = await open(streamer, '/studio');
    const card = page.locator(`article[data-mission-id="${third}"]`);
    await card.getByRole('button', { name: '예측 마감' }).click();
    await page
      .getByRole('status')
      .getByText('"세 번째 제안" 미션의 예측을 마감했습니다.')
      .waitFor();
    await card.getByRole('button', { name: '미션 취소' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '미션 취소' }).click();
    await page
      .getByRole('status')
      .getByText('"세 번째 제안" 미션을 취소했습니다. 보류된 후원금은 모두 환불됩니다.')
      .waitFor();
    expect((await api.mission(third)).state).toBe('CANCELLED');
    expect(problems).toEqual([]);
  }, 60_000);

  it('groups a viewer’s pledges per mission on My missions, with the total and the count', async () => {
    for (const amount of [3_000, 2_000]) {
      expect(
        (await api.call('POST', `/api/v1/missions/${first}/pledges`, viewer, { amount })).status,
      ).toBe(201);
    }
    const page = await open(viewer, '/me');
    const card = page.locator(`li.my-mission[data-mission-id="${first}"]`);
    await card.waitFor();
    expect(await page.locator(`li.my-mission[data-mission-id="${first}"]`).count()).toBe(1);
    expect(await card.getByTestId('mission-pledged').innerText()).toBe('15,000원');
    expect(await card.getByTestId('pledge-count').innerText()).toBe('후원 3회');
    expect(await card.locator('li[data-pledge-id]').count()).toBe(3);
    expect(await card.getByTestId('pledge-amount').allInnerTexts()).toEqual([
      expect.stringMatching(/^2,000원 · /),
      expect.stringMatching(/^3,000원 · /),
      expect.stringMatching(/^10,000원 · /),
    ]);
    // One card per mission: four missions backed, four cards.
    expect(await page.locator('li.my-mission').count()).toBe(4);
    await check(page, 'my-missions', card);
    expect(problems).toEqual([]);
  }, 60_000);

  it('groups digits in amount fields as they are typed, and submits the integer', async () => {
    const page = await open(viewer, '/wallet');
    const charge = page.getByRole('textbox', { name: '충전 금액 (원)' });
    await charge.fill('');
    await charge.pressSequentially('50000');
    expect(await charge.inputValue()).toBe('50,000');
    // The caret stays after the digit it follows: "5|0,000" + "5" → "550,000".
    await charge.press('Home');
    await charge.press('ArrowRight');
    await charge.press('5');
    expect(await charge.inputValue()).toBe('550,000');
    // Backspace right after a comma deletes the digit before it: "550,|000" → "55,000".
    await charge.press('End');
    for (let i = 0; i < 3; i++) await charge.press('ArrowLeft');
    await charge.press('Backspace');
    expect(await charge.inputValue()).toBe('55,000');
    await charge.pressSequentially('x');
    expect(await charge.inputValue()).toBe('55,000');
    const before = await api.wallet(viewer);
    await page.getByRole('button', { name: '충전', exact: true }).click();
    await page.getByRole('status').getByText('55,000원을 충전했습니다.').waitFor();
    expect((await api.wallet(viewer)).available).toBe(before.available + 55_000);
    // A preset shows grouped too.
    await page.getByRole('button', { name: '30,000원' }).click();
    expect(await charge.inputValue()).toBe('30,000');

    // Refund: typed grouped, refunded as the integer.
    const refund = page.getByLabel('환불 금액 (원)');
    await refund.pressSequentially('2000');
    expect(await refund.inputValue()).toBe('2,000');
    await page.getByRole('button', { name: '환불 요청' }).click();
    await page.getByRole('status').getByText('2,000원을 환불했습니다.').waitFor();

    // The channel page's pledge and proposal fields.
    const channel = await open(viewer, `/c/${HANDLE}`);
    const back = channel
      .locator(`article[data-mission-id="${first}"]`)
      .getByLabel('후원 금액 (원)');
    await back.fill('');
    await back.pressSequentially('12345');
    expect(await back.inputValue()).toBe('12,345');
    const proposal = channel.getByLabel('첫 후원 금액 (원)');
    await proposal.fill('');
    await proposal.pressSequentially('1000000');
    expect(await proposal.inputValue()).toBe('1,000,000');
    await channel
      .locator(`article[data-mission-id="${first}"]`)
      .getByRole('button', { name: '후원하기' })
      .click();
    await channel.getByText('12,345원을 후원했습니다.', { exact: false }).waitFor();
    expect(problems).toEqual([]);
  }, 60_000);

  it('reads the wallet history in plain words, Korean and English, never 0원', async () => {
    // The first mission fails: each of the viewer's pledges comes back minus the streamer's 10 %.
    expect(
      (
        await api.call('POST', `/api/v1/missions/${first}/decision`, streamer, {
          outcome: 'FAILED',
        })
      ).status,
    ).toBe(200);
    await eventually(async () => (await api.mission(first)).settledAt, 20_000);
    await eventually(async () => {
      const items = (await api.call('GET', '/api/v1/wallet/transactions?limit=100', viewer)).body
        .items as { kind: string }[];
      return items.some((e) => e.kind === 'cash_refund_done');
    });
    const page = await open(viewer, '/wallet');
    const history = page.locator('section[aria-labelledby="history-h"]');
    const rows = history.locator('tbody tr');
    await rows.first().waitFor();
    while (await history.getByRole('button', { name: '더 보기' }).isVisible()) {
      const n = await rows.count();
      await history.getByRole('button', { name: '더 보기' }).click();
      await expect.poll(() => rows.count()).toBeGreaterThan(n);
    }
    const refund = history.locator('tr[data-entry-kind="partial_capture"]', {
      hasText: '+9,000원',
    });
    await refund.getByText('첫 번째 제안').waitFor();
    await refund.getByText('스트리머 몫 1,000원').waitFor();
    expect(await refund.locator('td.kind').innerText()).toMatch(/^환불/);
    const held = history.locator('tr[data-entry-kind="pledge"]', { hasText: '−10,000원' });
    await held.getByText('후원 보류').waitFor();
    await held.getByText('첫 번째 제안').waitFor();
    await history
      .locator('tr[data-entry-kind="cash_refund_done"]')
      .getByText('결제 수단으로 2,000원 환불됨')
      .waitFor();
    await history
      .locator('tr[data-entry-kind="refund"]', { hasText: '두 번째 제안' })
      .getByText('+5,000원')
      .waitFor();
    const amounts = await rows.locator('td:nth-child(3)').allInnerTexts();
    expect(amounts.filter((a) => /^[+−-]?0원$/.test(a.trim()))).toEqual([]);
    // Points: the day's claim, in words.
    const daily = page.getByTestId('points-history').locator('tr[data-points-kind="daily"]');
    await daily.getByText('오늘의 포인트').waitFor();
    await daily.getByText('+100P').waitFor();
    await check(page, 'wallet-history', history);

    // The same in English.
    await page.getByRole('button', { name: 'English' }).click();
    const en = history.locator('tr[data-entry-kind="partial_capture"]', { hasText: '+₩9,000' });
    await en.getByText("streamer's share ₩1,000").waitFor();
    expect(await en.locator('td.kind').innerText()).toMatch(/^Refund/);
    await history
      .locator('tr[data-entry-kind="pledge"]', { hasText: '−₩10,000' })
      .getByText('Pledge held')
      .waitFor();
    await history
      .locator('tr[data-entry-kind="cash_refund_done"]')
      .getByText('₩2,000 back to your payment method')
      .waitFor();
    await check(page, 'wallet-history-en', history);
    await page
      .getByRole('button', { name: '한국어' })
      .click()
      .catch(() => undefined);
    expect(problems).toEqual([]);
  }, 90_000);

  it('raised no script error anywhere', async () => {
    for (const ctx of contexts) await ctx.close().catch(() => undefined);
    expect(problems).toEqual([]);
  });
});
