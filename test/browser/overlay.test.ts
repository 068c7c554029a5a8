// The OBS overlay, stream-grade, in a real browser: fully transparent with
// nothing on it while nothing is active; its URL options (position, theme,
// scale, widgets) applied and bad values ignored; pledge alerts that take
// turns and never repeat, not even across a dropped stream, each with the
// bundled chime at the chosen volume and its message spoken; a banner with the
// title and amount when a mission ends (success, cancellation with refund);
// and the Studio's overlay settings page that builds the URL, previews it and
// sends a test alert.
//
// The page's own browser APIs are watched (never replaced by our code): the
// alerts added to the DOM, HTMLMediaElement.play and speechSynthesis.speak
// (recorded; speech "ends" at once, as a headless browser has no voices).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import {
  describeViolations,
  describeWithBrowser,
  launchBrowser,
  newContext,
  screenshot,
  scrollsSideways,
  seriousViolations,
} from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password'; // what test/support/api.ts signs up with
const run = `${process.pid}${Date.now() % 100000}`;
const HANDLE = `ovl_${run}`.slice(0, 24);

/** Records what the overlay shows and plays; runs before the app's scripts. */
const WATCH = `(() => {
  window.__shown = [];
  window.__maxShown = 0;
  window.__played = [];
  window.__spoken = [];
  window.__streamsOpened = 0;
  const selector = '.overlay-alert, .overlay-banner';
  new MutationObserver((records) => {
    for (const r of records)
      for (const n of r.addedNodes)
        if (n.nodeType === 1 && n.matches(selector))
          window.__shown.push(n.dataset.pledgeId ? 'pledge:' + n.dataset.pledgeId : 'outcome:' + n.dataset.missionId + ':' + n.dataset.outcome);
    window.__maxShown = Math.max(window.__maxShown, document.querySelectorAll(selector).length);
  }).observe(document, { childList: true, subtree: true });
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    window.__played.push({ src: this.currentSrc || this.src, volume: this.volume });
    return play.call(this);
  };
  if (window.speechSynthesis) {
    window.speechSynthesis.speak = (u) => {
      window.__spoken.push({ text: u.text, lang: u.lang, volume: u.volume });
      setTimeout(() => u.dispatchEvent(new Event('end')), 100);
    };
  }
  const ES = window.EventSource;
  window.EventSource = class extends ES {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => window.__streamsOpened++);
    }
  };
})()`;

describeWithBrowser('browser: the OBS overlay and its settings', () => {
  let app: WebApp;
  let browser: Browser;
  let api: ReturnType<typeof client>;
  let streamer: Caller;
  let viewer: Caller;
  let donor: Caller;
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
    await Promise.all([viewer, donor].map((who) => api.charge(who, 300_000)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 30_000);

  async function context(width = 1920, height = 1080, opts: { reducedMotion?: 'reduce' } = {}) {
    const ctx = await newContext(browser, app.url, { width, height, ...opts });
    ctx.on('page', (p) => {
      p.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
          problems.push(`${p.url()}: ${m.text()}`);
      });
      p.on('pageerror', (e) => problems.push(`${p.url()}: ${e.message}`));
    });
    contexts.push(ctx);
    return ctx;
  }

  /** An overlay page, watched, once its missions are read and its live stream is open. */
  async function overlay(query = '', width = 1920, height = 1080): Promise<Page> {
    const ctx = await context(width, height);
    await ctx.addInitScript(WATCH);
    const page = await ctx.newPage();
    const read = page.waitForResponse((r) => r.url().includes(`/channels/${HANDLE}/missions?state=IN_REVIEW`));
    await page.goto(`/overlay/${HANDLE}${query}`);
    await read;
    await until(page, 'window.__streamsOpened >= 1');
    return page;
  }

  async function activeMission(title: string, amount = 10_000, extra: Record<string, unknown> = {}) {
    const res = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, {
      title,
      amount,
      durationSeconds: 3600,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.mission.id as string;
    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
    return id;
  }

  async function pledge(who: Caller, missionId: string, amount: number, message?: string) {
    const res = await api.call('POST', `/api/v1/missions/${missionId}/pledges`, who, {
      amount,
      ...(message ? { message } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.pledge.id as string;
  }

  /** Waits until `expression` is true in the page (a string for waitForFunction would be eval'd, which the CSP forbids). */
  async function until(page: Page, expression: string, timeout = 10_000) {
    await expect.poll(() => page.evaluate(expression), { timeout }).toBe(true);
  }

  /** How many pixels of a screenshot (transparent background kept) are not fully transparent. */
  async function paintedPixels(page: Page): Promise<number> {
    const png = (await page.screenshot({ omitBackground: true })).toString('base64');
    const blank = await page.context().newPage();
    try {
      return (await blank.evaluate(`new Promise((resolve, reject) => {
        const img = new Image();
        img.onload = () => {
          const c = document.createElement('canvas');
          c.width = img.width;
          c.height = img.height;
          const g = c.getContext('2d');
          g.drawImage(img, 0, 0);
          const data = g.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
          resolve(n);
        };
        img.onerror = reject;
        img.src = 'data:image/png;base64,${png}';
      })`)) as number;
    } finally {
      await blank.close();
    }
  }

  it('shows nothing at all while nothing is active or queued', async () => {
    const page = await overlay();
    // Give the board time to have drawn anything it would.
    await page.waitForTimeout(500);
    expect(await page.locator('.overlay-board').count()).toBe(0);
    expect(await page.locator('.overlay-empty').count()).toBe(0);
    expect(await page.evaluate('document.querySelector(".overlay-alerts").childElementCount')).toBe(0);
    expect(await paintedPixels(page)).toBe(0);
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('applies its URL options, and ignores values it does not know', async () => {
    const id = await activeMission('킬 미션', 1000, { unit: { label: '킬', maxUnits: 30 } });
    expect((await api.call('POST', `/api/v1/missions/${id}/progress`, streamer, { units: 12 })).status).toBe(200);
    await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, donor, { side: 'SUCCEEDED', points: 300 });
    await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, viewer, { side: 'FAILED', points: 100 });

    // The defaults: top left, dark, every widget — the unit counter and the prediction bar included.
    const plain = await overlay();
    const card = plain.locator(`li[data-mission-id="${id}"]`);
    await card.getByTestId('unit-counter').filter({ hasText: '12 / 30 킬 · 12,000원' }).waitFor();
    await card.getByTestId('overlay-prediction').filter({ hasText: '성공 300P' }).waitFor();
    expect(await plain.locator('main').getAttribute('class')).toBe(
      'overlay-root overlay-pos-top-left overlay-theme-dark',
    );
    // 300 of 400 points on success: three quarters of the bar.
    expect(await card.locator('.overlay-prediction-yes').getAttribute('style')).toContain('width: 75%');
    const box = (await card.boundingBox())!;
    expect(box.x).toBeLessThan(100);
    expect(box.y).toBeLessThan(100);
    let violations = await seriousViolations(plain);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(plain, 'overlay-default');
    await plain.close();

    // Bottom right, light, 1.5×, only the board and the unit counter: no alerts, no prediction.
    const styled = await overlay('?position=bottom-right&theme=light&scale=1.5&widgets=board,units&sound=off');
    const root = styled.locator('main');
    expect(await root.getAttribute('class')).toBe('overlay-root overlay-pos-bottom-right overlay-theme-light');
    expect(await root.getAttribute('data-widgets')).toBe('board,units');
    const styledCard = styled.locator(`li[data-mission-id="${id}"]`);
    await styledCard.getByTestId('unit-counter').waitFor();
    expect(await styled.locator('.overlay-alerts').count()).toBe(0);
    expect(await styledCard.getByTestId('overlay-prediction').count()).toBe(0);
    const big = (await styledCard.boundingBox())!;
    // Anchored at the bottom-right corner (inside the 48 × 40 px margin) and drawn 1.5× as wide.
    expect(1920 - (big.x + big.width)).toBeGreaterThanOrEqual(40);
    expect(1920 - (big.x + big.width)).toBeLessThan(60);
    expect(1080 - (big.y + big.height)).toBeGreaterThanOrEqual(30);
    expect(1080 - (big.y + big.height)).toBeLessThan(60);
    expect(big.width).toBeGreaterThan(box.width * 1.4);
    expect(
      await styled.evaluate(
        `getComputedStyle(document.querySelector('li[data-mission-id="${id}"]')).backgroundColor`,
      ),
    ).toBe('rgba(255, 255, 255, 0.95)');
    violations = await seriousViolations(styled);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(styled, 'overlay-bottom-right-light');
    await styled.close();

    // Nonsense falls back to the defaults.
    const odd = await overlay('?position=middle&theme=neon&scale=huge&widgets=chat&volume=loud');
    expect(await odd.locator('main').getAttribute('class')).toBe(
      'overlay-root overlay-pos-top-left overlay-theme-dark',
    );
    expect(await odd.locator('main').getAttribute('data-widgets')).toBe('board,alerts,prediction,units');
    expect(await odd.evaluate(`document.querySelector('main').style.getPropertyValue('--overlay-scale')`)).toBe('1');
    await odd.close();

    // A phone-sized window still fits.
    const narrow = await overlay('', 390, 844);
    await narrow.locator(`li[data-mission-id="${id}"]`).waitFor();
    const { scrollWidth, clientWidth } = await scrollsSideways(narrow);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await narrow.close();

    // Done with it: cancelled, it leaves the board.
    expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).status).toBe(200);
    expect(problems).toEqual([]);
  }, 60_000);

  it('queues alerts one at a time, each once across a dropped stream, with sound and speech; a banner when the mission ends', async () => {
    const id = await activeMission('노래 한 곡 완창하기', 10_000);
    const page = await overlay('?duration=2&volume=40&tts=on');
    await page.locator(`li[data-mission-id="${id}"]`).waitFor();

    // Three pledges at once: they take turns.
    const first = [
      await pledge(donor, id, 5000, '화이팅!'),
      await pledge(viewer, id, 3000),
      await pledge(donor, id, 2000),
    ];
    await page.locator(`.overlay-alert[data-pledge-id="${first[0]}"]`, { hasText: 'Donor Park 님이 5,000원 후원!' }).waitFor();
    await page.locator('.overlay-alert-message', { hasText: '화이팅!' }).waitFor();

    // The stream drops; what happens meanwhile arrives once it resumes after Last-Event-ID.
    app.dropConnections();
    const later = await pledge(viewer, id, 4000, '이것도 읽어 줘');
    await until(page, 'window.__streamsOpened >= 2', 15_000);
    await page.locator(`.overlay-alert[data-pledge-id="${later}"]`).waitFor({ timeout: 15_000 });
    await expect
      .poll(() => page.locator(`li[data-mission-id="${id}"] [data-testid=overlay-total]`).textContent())
      .toBe('24,000원');

    // The streamer calls it: a banner with the outcome, the amount and the title.
    expect(
      (await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status,
    ).toBe(200);
    const banner = page.getByTestId('overlay-banner');
    await banner.filter({ hasText: '성공! 24,000원' }).filter({ hasText: '노래 한 곡 완창하기' }).waitFor();
    expect(await banner.getAttribute('data-outcome')).toBe('SUCCEEDED');
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'overlay-banner-success');
    // Its settlement (another state event) brings no second banner; the mission leaves the board.
    await eventually(async () => (await api.mission(id)).settledAt);
    await page.locator(`li[data-mission-id="${id}"]`).waitFor({ state: 'detached' });
    await until(page, 'document.querySelectorAll(".overlay-alert, .overlay-banner").length === 0');
    await page.waitForTimeout(1500);

    const shown = (await page.evaluate('window.__shown')) as string[];
    expect(shown).toEqual([...first, later].map((p) => `pledge:${p}`).concat(`outcome:${id}:SUCCEEDED`));
    expect(await page.evaluate('window.__maxShown')).toBe(1);
    expect(await page.evaluate('window.__streamsOpened')).toBeGreaterThanOrEqual(2);

    // The chime rang for each, at 40 %, from the bundled file.
    const played = (await page.evaluate('window.__played')) as { src: string; volume: number }[];
    expect(played).toHaveLength(shown.length);
    for (const p of played) {
      expect(p.src).toMatch(/\/assets\/chime-[\w-]+\.wav$/);
      expect(p.volume).toBeCloseTo(0.4, 5);
    }
    const wav = await page.request.get(played[0]!.src);
    expect(wav.status()).toBe(200);
    expect(wav.headers()['content-type']).toMatch(/^audio\/(x-)?wav/);
    expect((await wav.body()).subarray(0, 4).toString('ascii')).toBe('RIFF');
    // Only the messages were read aloud, in Korean, at the same volume.
    const spoken = (await page.evaluate('window.__spoken')) as { text: string; lang: string; volume: number }[];
    expect(spoken.map((s) => s.text)).toEqual(['화이팅!', '이것도 읽어 줘']);
    expect(spoken[0]).toMatchObject({ lang: 'ko-KR' });
    expect(spoken[0]!.volume).toBeCloseTo(0.4, 5);
    await page.close();
    expect(problems).toEqual([]);
  }, 90_000);

  it('announces a cancelled mission with its refund, and nothing for a rejected proposal; sound=off stays silent', async () => {
    const page = await overlay('?duration=2&sound=off&lang=en');
    // The overlay reads the new proposal before the streamer accepts it: the
    // board learns of the acceptance from the live event alone, and the banner
    // must still come (it once did not: the proposal as read had no acceptedAt).
    const read = page.waitForResponse((r) => /\/api\/v1\/missions\/[^/?]+$/.test(r.url()) && r.ok());
    const proposed = await api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, {
      title: 'Speedrun in one hour',
      amount: 15_000,
      durationSeconds: 3600,
    });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(201);
    const id = proposed.body.mission.id as string;
    expect((await read).url()).toMatch(new RegExp(`/missions/${id}$`));
    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
    await page.locator(`li[data-mission-id="${id}"]`).waitFor();
    const proposal = await api.propose(viewer, HANDLE, 2000, 600, 'Never mind');
    expect((await api.call('POST', `/api/v1/missions/${proposal.body.mission.id}/reject`, streamer)).status).toBe(200);
    expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).status).toBe(200);
    await page
      .getByTestId('overlay-banner')
      .filter({ hasText: 'Cancelled · ₩15,000 refunded' })
      .filter({ hasText: 'Every pledge is refunded' })
      .waitFor();
    await until(page, 'document.querySelectorAll(".overlay-banner").length === 0');
    // Each proposal's first pledge had its alert; only the mission that ran has a banner.
    const shown = (await page.evaluate('window.__shown')) as string[];
    expect(shown.filter((s) => s.startsWith('outcome:'))).toEqual([`outcome:${id}:CANCELLED`]);
    expect(shown.filter((s) => s.startsWith('pledge:'))).toHaveLength(2);
    expect(await page.evaluate('window.__played')).toEqual([]);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('drops the alert of a message the owner hides before it shows, and never reads it', async () => {
    const id = await activeMission('Hidden words', 10_000);
    const page = await overlay('?duration=2&tts=on&sound=off');
    await page.locator(`li[data-mission-id="${id}"]`).waitFor();
    const a = await pledge(donor, id, 1000, '좋아요');
    const b = await pledge(viewer, id, 1000, '숨길 말');
    expect((await api.call('POST', `/api/v1/pledges/${b}/hide-message`, streamer)).status).toBe(204);
    const c = await pledge(donor, id, 1000);
    await page.locator(`.overlay-alert[data-pledge-id="${c}"]`).waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.__shown')).toEqual([`pledge:${a}`, `pledge:${c}`]);
    const spoken = (await page.evaluate('window.__spoken')) as { text: string }[];
    expect(spoken.map((s) => s.text)).toEqual(['좋아요']);
    expect((await api.call('POST', `/api/v1/missions/${id}/cancel`, streamer)).status).toBe(200);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('holds still when the system asks for reduced motion', async () => {
    const ctx = await context(1920, 1080, { reducedMotion: 'reduce' });
    const page = await ctx.newPage();
    await page.goto(`/overlay/${HANDLE}`);
    await page.locator('.overlay-alerts').waitFor({ state: 'attached' });
    const names = await page.evaluate(`(() => {
      const region = document.querySelector('.overlay-alerts');
      const made = ['overlay-alert', 'overlay-alert leaving', 'overlay-banner overlay-banner-succeeded'].map((c) => {
        const el = document.createElement('div');
        el.className = c;
        region.append(el);
        return el;
      });
      const out = made.map((el) => getComputedStyle(el).animationName);
      made.forEach((el) => el.remove());
      return out;
    })()`);
    expect(names).toEqual(['none', 'none', 'none']);
    await page.close();
  });

  it('builds the overlay URL in the Studio, with a live preview, a test alert and a copy button', async () => {
    const ctx = await context(1366, 900);
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    const login = await ctx.request.post('/api/v1/auth/login', {
      data: { email: streamer.email, password: PASSWORD },
    });
    expect(login.status()).toBe(200);
    const page = await ctx.newPage();
    await page.goto('/studio');
    await page.getByText('Studio Kim 님').first().waitFor();
    await page.getByRole('link', { name: '오버레이 설정' }).click();
    await page.getByRole('heading', { level: 1, name: '오버레이 설정' }).waitFor();

    const url = page.getByTestId('overlay-url');
    expect(await url.inputValue()).toBe(`${app.url}/overlay/${HANDLE}`);
    await page.getByRole('radio', { name: '오른쪽 아래' }).check();
    await page.getByRole('radio', { name: '밝은 카드' }).check();
    await page.getByLabel('크기: 100%').fill('150');
    await page.getByRole('checkbox', { name: /예측 막대/ }).uncheck();
    await page.getByLabel('음량: 70').fill('40');
    await page.getByRole('checkbox', { name: '후원 메시지 읽어 주기 (TTS)' }).check();
    const expected = `${app.url}/overlay/${HANDLE}?position=bottom-right&theme=light&scale=1.5&widgets=board,alerts,units&volume=40&tts=on`;
    await expect.poll(() => url.inputValue()).toBe(expected);

    // Copy.
    await page.getByRole('button', { name: '복사' }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(expected);

    // The preview is that overlay (with a sample mission, since none is active), and takes a test alert.
    const frame = page.frameLocator('[data-testid=overlay-preview]');
    await expect
      .poll(() => page.getByTestId('overlay-preview').getAttribute('src'))
      .toBe(`${expected}&preview=on`);
    await frame.locator('main.overlay-pos-bottom-right.overlay-theme-light').waitFor();
    await frame.locator('li[data-mission-id="sample"]').getByTestId('unit-counter').waitFor();
    await page.getByRole('button', { name: '테스트 알림 보내기' }).click();
    await frame.locator('.overlay-alert', { hasText: '시청자 님이 10,000원 후원!' }).waitFor();
    await frame.getByTestId('overlay-banner').filter({ hasText: '성공! 12,000원' }).waitFor({ timeout: 15_000 });

    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'studio-overlay-settings');

    // Back to the defaults; in English the page says the same.
    await page.getByRole('button', { name: '기본값으로' }).click();
    await expect.poll(() => url.inputValue()).toBe(`${app.url}/overlay/${HANDLE}`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overlay settings' }).waitFor();
    await page.getByLabel('Overlay language').selectOption('en');
    await expect.poll(() => url.inputValue()).toBe(`${app.url}/overlay/${HANDLE}?lang=en`);
    await page.getByRole('button', { name: '한국어' }).click();

    await page.setViewportSize({ width: 390, height: 844 });
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
