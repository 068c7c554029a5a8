// The channel owner hides a backer's message (API.md Part 2, "Messages,
// moderation and the channel's public face") in a real browser: from the
// channel page's "후원과 메시지" list and from the studio's proposal queue,
// behind a light confirmation, with a sentence toast. Every other open page
// drops it live from the `moderation` event: a viewer's channel page, a
// second studio tab and the overlay's alert on screen. Nobody else gets a
// "Hide". The changed pages are checked with axe and for sideways scrolling
// at 390 px.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
const HANDLE = `hide_${run}`.slice(0, 24);
const SHOTS = process.env.HIDE_SHOTS ?? '/tmp/webhide-shots';

/** Counts the live streams a page opened (to know it listens before anything is sent). */
const STREAMS = `(() => {
  window.__streamsOpened = 0;
  const ES = window.EventSource;
  window.EventSource = class extends ES {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => window.__streamsOpened++);
    }
  };
})();`;

describeWithBrowser('browser: the channel owner hides a message', () => {
  let app: WebApp;
  let browser: Browser;
  let api: ReturnType<typeof client>;
  let streamer: Caller;
  let viewer: Caller;
  let donor: Caller;
  let activeId = '';
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([startWebApp(), launchBrowser()]);
    api = client(app.t.ml.http);
    [streamer, viewer, donor] = await Promise.all([
      api.signUp('Studio Kim'),
      api.signUp('Viewer Lee'),
      api.signUp('Donor Park'),
    ]);
    await api.channel(streamer, HANDLE, { missionMinAmount: 1000, missionMaxAmount: 500_000 });
    await Promise.all([viewer, donor].map((who) => api.charge(who, 200_000)));
    const proposed = await api.propose(viewer, HANDLE, 10_000, 3600, '보스 잡기');
    activeId = proposed.body.mission.id;
    expect((await api.call('POST', `/api/v1/missions/${activeId}/accept`, streamer)).status).toBe(
      200,
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function open(who: Caller | null, pathName: string, width = 1366, height = 768) {
    const page = await openPage(browser, app.url, who, pathName, {
      problems,
      contexts,
      password: PASSWORD,
      width,
      height,
      initScript: STREAMS,
    });
    await expect.poll(() => page.evaluate('window.__streamsOpened >= 1')).toBe(true);
    return page;
  }

  async function pledge(who: Caller, missionId: string, amount: number, message?: string) {
    const res = await api.call('POST', `/api/v1/missions/${missionId}/pledges`, who, {
      amount,
      ...(message ? { message } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.pledge.id as string;
  }

  async function messageOf(missionId: string, pledgeId: string) {
    const items = (await api.call('GET', `/api/v1/missions/${missionId}/pledges?limit=100`)).body
      .items as { id: string; message: string | null }[];
    return items.find((p) => p.id === pledgeId)?.message;
  }

  /** axe-clean at 1366 and 390 px wide, no sideways scroll at 390, and screenshots. */
  async function check(page: Page, name: string, closeUp?: string) {
    const violations = await seriousViolations(page);
    expect(violations, `${name}: ${describeViolations(violations)}`).toEqual([]);
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}-1366.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100);
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth, `${name} is ${scrollWidth}px wide at ${clientWidth}px`).toBeLessThanOrEqual(
      clientWidth,
    );
    const phone = await seriousViolations(page);
    expect(phone, `${name} (390): ${describeViolations(phone)}`).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, `${name}-390.png`), fullPage: true });
    // A legible close-up: the card as a phone shows it.
    if (closeUp)
      await page
        .locator(closeUp)
        .first()
        .screenshot({ path: path.join(SHOTS, `${name}-390-card.png`) });
    await page.setViewportSize({ width: 1366, height: 768 });
  }

  it('hides a pledge message from the channel page: gone at once there, live on a viewer’s page and the overlay; no one else may hide', async () => {
    const overlay = await open(
      null,
      `/overlay/${HANDLE}?duration=20&sound=off&tts=off`,
      1920,
      1080,
    );
    await overlay.locator(`li[data-mission-id="${activeId}"]`).waitFor();
    const watcher = await open(viewer, `/c/${HANDLE}`);
    const owner = await open(streamer, `/c/${HANDLE}`);

    const gone = await pledge(donor, activeId, 3000, '지울 메시지');
    const kept = await pledge(viewer, activeId, 2000, '남을 메시지');
    // The overlay shows the alert, message and all (the next one waits its turn).
    const alert = overlay.locator(`.overlay-alert[data-pledge-id="${gone}"]`);
    await alert.filter({ hasText: '지울 메시지' }).waitFor({ timeout: 30_000 });
    const shownAt = Date.now();

    const ownerRow = owner.locator(`li[data-pledge-id="${gone}"]`);
    const watcherRow = watcher.locator(`li[data-pledge-id="${gone}"]`);
    await ownerRow.getByTestId('pledge-message').filter({ hasText: '지울 메시지' }).waitFor();
    await watcherRow.getByTestId('pledge-message').filter({ hasText: '지울 메시지' }).waitFor();
    await watcher.locator(`li[data-pledge-id="${kept}"]`).getByTestId('pledge-message').waitFor();

    // Only the owner has "숨기기", one per message, named with whose it is.
    const hide = ownerRow.getByRole('button', { name: 'Donor Park 님의 메시지 숨기기' });
    await hide.waitFor();
    expect(await watcher.getByRole('button', { name: /숨기기/ }).count()).toBe(0);
    const anonymous = await open(null, `/c/${HANDLE}`);
    await anonymous.locator(`li[data-pledge-id="${gone}"]`).getByTestId('pledge-message').waitFor();
    expect(await anonymous.getByRole('button', { name: /숨기기/ }).count()).toBe(0);

    // A light confirmation: cancelling (or Escape) changes nothing.
    await hide.click();
    const ask = ownerRow.getByRole('group', {
      name: '이 메시지를 채널 페이지와 오버레이에서 숨길까요?',
    });
    await ask.waitFor();
    await check(owner, 'channel-owner-asking', `article[data-mission-id="${activeId}"]`);
    await ask.getByRole('button', { name: '취소' }).click();
    await hide.waitFor();
    expect(await owner.evaluate('document.activeElement?.textContent')).toBe('숨기기');
    await hide.click();
    await owner.keyboard.press('Escape');
    await hide.waitFor();
    expect(await messageOf(activeId, gone)).toBe('지울 메시지');

    await hide.click();
    await ask.getByRole('button', { name: '네, 숨기기' }).click();
    await owner.getByRole('status').filter({ hasText: '메시지를 숨겼습니다.' }).waitFor();
    await ownerRow.getByTestId('pledge-message').waitFor({ state: 'detached' });
    expect(await messageOf(activeId, gone)).toBeNull();

    // Live elsewhere: the viewer's list and the overlay's alert on screen.
    await watcherRow.getByTestId('pledge-message').waitFor({ state: 'detached', timeout: 10_000 });
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    // Well before its 20 seconds were up: the hide took it off, not the clock.
    expect(Date.now() - shownAt).toBeLessThan(18_000);
    // The row (who and how much) stays; other messages stay.
    await watcherRow.filter({ hasText: 'Donor Park' }).waitFor();
    await watcher
      .locator(`li[data-pledge-id="${kept}"]`)
      .getByTestId('pledge-message')
      .filter({ hasText: '남을 메시지' })
      .waitFor();
    await owner
      .locator(`li[data-pledge-id="${kept}"]`)
      .getByRole('button', { name: 'Viewer Lee 님의 메시지 숨기기' })
      .waitFor();

    // Hiding is the owner's only: the server says so to anyone else.
    expect((await api.call('POST', `/api/v1/pledges/${kept}/hide-message`, viewer)).status).toBe(
      403,
    );

    await check(owner, 'channel-owner-hidden', `article[data-mission-id="${activeId}"]`);
    await check(watcher, 'channel-viewer-hidden');
    expect(problems).toEqual([]);
  }, 120_000);

  it('hides a proposal’s message from the studio queue (in English): gone at once, live in a second studio tab and on the channel page', async () => {
    const res = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, {
      title: '제안 메시지 숨기기',
      amount: 5000,
      durationSeconds: 600,
      message: '제안과 함께 보낸 말',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.mission.id as string;
    const proposalPledge = (
      (await api.call('GET', `/api/v1/missions/${id}/pledges`)).body.items as { id: string }[]
    )[0]!.id;
    // A later pledge to the proposal: its message is not the proposal's.
    const later = await pledge(donor, id, 2000, '나중 후원 메시지');

    const studio = await open(streamer, '/studio?lang=en');
    await mkdir(SHOTS, { recursive: true });
    const other = await open(streamer, '/studio');
    const channel = await open(donor, `/c/${HANDLE}`);
    const card = studio.locator(`article[data-mission-id="${id}"]`);
    const otherCard = other.locator(`article[data-mission-id="${id}"]`);
    await card.getByTestId('proposal-message').filter({ hasText: '제안과 함께 보낸 말' }).waitFor();
    await otherCard.getByTestId('proposal-message').waitFor();
    const channelRow = channel.locator(`li[data-pledge-id="${proposalPledge}"]`);
    await channelRow
      .getByTestId('pledge-message')
      .filter({ hasText: '제안과 함께 보낸 말' })
      .waitFor();

    await studio.setViewportSize({ width: 390, height: 844 });
    await card.screenshot({ path: path.join(SHOTS, 'studio-queue-en-390-card.png') });
    await studio.setViewportSize({ width: 1366, height: 768 });
    await card.getByRole('button', { name: 'Hide Viewer Lee’s message' }).click();
    const ask = card.getByRole('group', {
      name: 'Hide this message from the channel page and overlays?',
    });
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Yes, hide' }).click();
    await studio.getByRole('status').filter({ hasText: 'Message hidden.' }).waitFor();
    await card.getByTestId('proposal-message').waitFor({ state: 'detached' });
    // The card stays, focused, to be decided from the keyboard as before.
    await card.getByRole('button', { name: /Accept/ }).waitFor();
    expect(await studio.evaluate('document.activeElement?.dataset.missionId')).toBe(id);
    await eventually(async () => (await messageOf(id, proposalPledge)) === null);
    expect(await messageOf(id, later)).toBe('나중 후원 메시지');
    expect((await api.mission(id)).proposalMessage).toBeNull();

    // Live: the second studio tab and the channel page drop it too.
    await otherCard.getByTestId('proposal-message').waitFor({ state: 'detached', timeout: 10_000 });
    await channelRow.getByTestId('pledge-message').waitFor({ state: 'detached', timeout: 10_000 });
    await channel
      .locator(`li[data-pledge-id="${later}"]`)
      .getByTestId('pledge-message')
      .filter({ hasText: '나중 후원 메시지' })
      .waitFor();

    await check(studio, 'studio-hidden-en', `article[data-mission-id="${id}"]`);
    expect(problems).toEqual([]);
  }, 120_000);
});
