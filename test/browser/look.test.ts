// The look of the app in a real browser: the ops page (Korean time axes in the
// reader's language whatever the browser's zone, a "collecting data" state
// before two samples, the business tiles, a history that survives a reload),
// dark mode (the switch, its memory, the system's preference, axe-clean in
// dark), the bundled Pretendard font (loaded from our own origin under
// font-src 'self'), motion that stops under prefers-reduced-motion, and
// screenshots of the main pages in both themes at 1366×768 and 390×844
// (test-artifacts/screenshots/, and LOOK_SHOTS_DIR when set).
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { mailboxOf, verifyEmail } from '../support/mail.ts';
import {
  describeViolations,
  describeWithBrowser,
  launchBrowser,
  screenshot,
  SCREENSHOTS,
  scrollsSideways,
  seriousViolations,
  watchErrors,
} from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const PASSWORD = 'a long password';
const run = `${process.pid}${Date.now() % 100000}`;
const HANDLE = `look_${run}`.slice(0, 24);
const QUIET = `quiet_${run}`.slice(0, 24); // a channel with nothing yet: the empty states
const ADMIN_EMAIL = `look-ops-${run}@example.kr`;

type Who = 'anonymous' | 'viewer' | 'streamer' | 'admin';
const NAMES = { viewer: 'Viewer Lim', streamer: 'Studio Baek', admin: 'Ops Kang' } as const;

/** Korean time now: "12월 7일" and the hour, as the axis must say it. */
function kstNow(): { date: string; dateEn: string } {
  const d = new Date(Date.now() + 9 * 3600_000);
  const month = d.getUTCMonth();
  const en = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][month];
  return { date: `${month + 1}월 ${d.getUTCDate()}일`, dateEn: `${d.getUTCDate()} ${en}` };
}

describeWithBrowser('browser: look and feel, dark mode, the font, the ops page', () => {
  let app: WebApp;
  let browser: Browser;
  const users: Partial<Record<Exclude<Who, 'anonymous'>, Caller>> = {};
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startWebApp({ ADMIN_EMAILS: ADMIN_EMAIL, WITHDRAWAL_REVIEW_ABOVE_KRW: '10000' }),
      launchBrowser(),
    ]);
    const api = client(app.t.ml.http);
    const streamer = (users.streamer = await api.signUp(NAMES.streamer));
    const viewer = (users.viewer = await api.signUp(NAMES.viewer));
    await api.channel(streamer, HANDLE, { missionMaxAmount: 500_000 });
    await api.charge(viewer, 100_000);
    // Settled today: 20,000 captured, 1,000 in fees (5 %).
    const done = (await api.propose(viewer, HANDLE, 20_000, 600, '노래 한 곡 완창하기')).body.mission;
    await api.call('POST', `/api/v1/missions/${done.id}/accept`, streamer);
    await api.call('POST', `/api/v1/missions/${done.id}/decision`, streamer, { outcome: 'SUCCEEDED' });
    await eventually(async () => (await api.mission(done.id)).settledAt);
    // Held: 8,000 on an active mission, 3,000 on a proposal.
    const active = (await api.propose(viewer, HANDLE, 8_000, 3600, '보스를 노데스로 잡기')).body.mission;
    await api.call('POST', `/api/v1/missions/${active.id}/accept`, streamer);
    await api.propose(viewer, HANDLE, 3_000, 1800, '다음 판은 칼만 쓰기');
    // A withdrawal above the review threshold waits for an admin.
    await api.call('PUT', '/api/v1/streamer/payout-account', streamer, { bankCode: '004', accountNumber: '110123456789', holderName: '백하늘' });
    const w = await api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 15_000 });
    expect(w.body.withdrawal.status).toBe('REQUESTED');

    const reg = await api.call('POST', '/api/v1/auth/register', null, { email: ADMIN_EMAIL, password: PASSWORD, displayName: NAMES.admin });
    const login = await api.call('POST', '/api/v1/auth/login', null, { email: ADMIN_EMAIL, password: PASSWORD });
    users.admin = { token: login.body.accessToken, id: reg.body.user.id, email: ADMIN_EMAIL };
    await verifyEmail(app.t.ml.http, mailboxOf(app.t), users.admin);
    await api.channel(await api.signUp('Quiet Streamer'), QUIET);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
  }, 30_000);

  /**
   * A context in New York (the axes must still say Korean time), signed in as
   * `who`, on a page that waits for its greeting before it is handed over.
   */
  async function open(
    who: Who,
    url: string,
    opts: { width?: number; height?: number; colorScheme?: 'light' | 'dark'; reducedMotion?: 'reduce' | 'no-preference' } = {},
  ): Promise<{ page: Page; ctx: BrowserContext; problems: () => string[] }> {
    const ctx = await browser.newContext({
      baseURL: app.url,
      viewport: { width: opts.width ?? 1366, height: opts.height ?? 768 },
      locale: 'en-US',
      timezoneId: 'America/New_York',
      colorScheme: opts.colorScheme ?? 'light',
      reducedMotion: opts.reducedMotion ?? 'no-preference',
    });
    ctx.setDefaultTimeout(10_000);
    contexts.push(ctx);
    if (who !== 'anonymous') {
      const res = await ctx.request.post('/api/v1/auth/login', { data: { email: users[who]!.email, password: PASSWORD } });
      expect(res.status()).toBe(200);
    }
    const page = await ctx.newPage();
    // A signed-out page's session check answers 401: expected, not an error of the page.
    const seen = watchErrors(page);
    const problems = () => seen.filter((e) => !/Failed to load resource: the server responded with a status of 401/.test(e));
    await page.goto(url);
    if (who !== 'anonymous') await page.getByText(`${NAMES[who]} 님`).first().waitFor({ state: 'attached' });
    return { page, ctx, problems };
  }

  const xLabels = async (page: Page, nth = 0) =>
    ((await page.locator('.charts .chart-canvas').nth(nth).getAttribute('data-x-labels')) ?? '').split('|');

  it('ops: collecting data first, then axes in Korean time and the page’s language, never the US format', async () => {
    const { page, problems } = await open('admin', '/ops');
    // Before two samples there is no axis at all, only the sentence.
    const collecting = page.locator('.charts').getByTestId('chart-collecting');
    await collecting.first().getByText('데이터를 모으는 중입니다.', { exact: false }).waitFor();
    expect(await collecting.count()).toBe(7);
    expect(await page.locator('.charts .chart-canvas').count()).toBe(0);
    let violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'look-ops-collecting');

    // Two derived points (three polls, 2 s apart): the charts draw.
    await expect
      .poll(() => page.locator('.charts .chart-canvas[data-x-labels]').count(), { timeout: 15_000 })
      .toBe(7);
    expect(await collecting.count()).toBe(0);
    const { date, dateEn } = kstNow();
    const ko = await xLabels(page);
    expect(ko.length).toBeGreaterThan(0);
    // "12월 7일 14:30", then "14:31" … (the day again where it changes).
    expect(ko[0]).toMatch(new RegExp(`^${date} \\d{2}:\\d{2}(:\\d{2})?$`));
    for (const l of ko) expect(l).toMatch(/^(\d{1,2}월 \d{1,2}일 )?\d{2}:\d{2}(:\d{2})?$/);
    // Ticks closer than a minute say their seconds: no two neighbours read the same.
    for (let i = 1; i < ko.length; i++) expect(ko[i]).not.toBe(ko[i - 1]);
    // The hour is Korea's, not New York's where this browser thinks it is.
    const kstHour = new Date(Date.now() + 9 * 3600_000).getUTCHours();
    const hours = ko.map((l) => Number(/(\d{2}):\d{2}(:\d{2})?$/.exec(l)![1]));
    expect(hours.some((h) => Math.abs(h - kstHour) <= 1 || Math.abs(h - kstHour) === 23)).toBe(true);
    // The words for screen readers say the same span in Korean.
    const label = (await page.locator('.charts .chart-canvas').first().getAttribute('aria-label')) ?? '';
    expect(label).toMatch(new RegExp(`^요청/초: 현재: [\\d.,]+ · ${date} \\d{2}:\\d{2}부터 .*까지$`));
    for (const text of [...ko, label]) expect(text).not.toMatch(/[AP]M|[ap]m|\d+\/\d+\/\d+/);

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Operations' }).waitFor();
    await expect.poll(async () => (await xLabels(page))[0]).toMatch(new RegExp(`^${dateEn}, \\d{2}:\\d{2}(:\\d{2})?$`));
    for (const l of await xLabels(page)) expect(l).toMatch(/^(\d{1,2} [A-Z][a-z]{2}, )?\d{2}:\d{2}(:\d{2})?$/);
    violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await page.getByRole('button', { name: '한국어' }).click();
    await page.getByRole('heading', { name: '운영', exact: true }).waitFor();
    expect(problems()).toEqual([]);
  }, 60_000);

  it('ops: the business tiles say held cash, today’s captures and fees (KST), missions by state and withdrawals to review', async () => {
    const { page, problems } = await open('admin', '/ops');
    const biz = page.getByTestId('ops-business');
    await biz.getByRole('heading', { name: '비즈니스 현황' }).waitFor();
    const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
    await biz.getByText(`오늘 = 한국 시간 ${today}`).waitFor();
    expect(await biz.getByTestId('ops-held').textContent()).toBe('11,000원');
    await biz.getByText('후원 2건').waitFor();
    expect(await biz.getByTestId('ops-captured-today').textContent()).toBe('20,000원');
    expect(await biz.getByTestId('ops-fees-today').textContent()).toBe('1,000원');
    expect(await biz.getByTestId('ops-withdrawals-review').textContent()).toBe('15,000원');
    const missions = biz.getByTestId('ops-missions');
    const count = async (state: string) => (await missions.locator(`li[data-state="${state}"] .state-count`).textContent())?.trim();
    expect(await count('ACTIVE')).toBe('1');
    expect(await count('PROPOSED')).toBe('1');
    expect(await count('SUCCEEDED')).toBe('1');
    expect(await count('FAILED')).toBe('0');
    await missions.getByText('진행 중').first().waitFor();
    // The last 14 days, today's bar included, as a chart with its words.
    const takings = page.getByRole('figure').filter({ hasText: '최근 14일 확정액과 수수료' });
    await takings.getByText('14일 합계: 확정 20,000원, 수수료 1,000원').waitFor();
    const days = ((await takings.locator('.chart-canvas').getAttribute('data-x-labels')) ?? '').split('|');
    for (const l of days) expect(l).toMatch(/^\d{1,2}월 \d{1,2}일$/);
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);

    // At 390 px the tiles stack without scrolling sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    const { scrollWidth, clientWidth } = await scrollsSideways(page);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    expect(problems()).toEqual([]);
  }, 40_000);

  it('dark mode: the switch turns it on, remembers it, follows the system until then, and stays axe-clean', async () => {
    // The system asks for dark: dark from the first render, the switch pressed.
    const sys = await open('anonymous', '/', { colorScheme: 'dark' });
    await sys.page.getByRole('heading', { level: 1 }).waitFor();
    expect(await sys.page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await sys.page.getByRole('button', { name: '다크 모드' }).getAttribute('aria-pressed')).toBe('true');

    // A light system: the switch turns dark on, and it survives a reload.
    const { page, problems } = await open('anonymous', '/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    const shellBg = () => page.evaluate(`getComputedStyle(document.querySelector('.shell')).backgroundColor`);
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    expect(await shellBg()).toBe('rgb(246, 244, 251)');
    const toggle = page.getByRole('button', { name: '다크 모드' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect(await shellBg()).toBe('rgb(15, 12, 23)');
    expect(await page.evaluate(`localStorage.getItem('missionlink.theme')`)).toBe('dark');
    await page.reload();
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await page.evaluate(`getComputedStyle(document.documentElement).colorScheme`)).toBe('dark');
    await page.mouse.move(0, 700);
    let violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    // In English too.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('button', { name: 'Dark mode' }).waitFor();
    await page.getByRole('button', { name: '한국어' }).click();
    // Back to light, remembered as such even on a dark system.
    await page.getByRole('button', { name: '다크 모드' }).click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    expect(await page.evaluate(`localStorage.getItem('missionlink.theme')`)).toBe('light');
    expect(problems()).toEqual([]);

    // Every signed-in page in dark: no serious or critical axe violation (contrast included).
    const dark: [Who, string, (p: Page) => Promise<unknown>][] = [
      ['viewer', `/c/${HANDLE}`, (p) => p.getByText('실시간 연결됨').waitFor()],
      ['viewer', '/me', (p) => p.getByTestId('pledge-captured').first().waitFor()],
      ['viewer', '/wallet', (p) => p.getByRole('cell', { name: '충전' }).first().waitFor()],
      ['streamer', '/studio', (p) => p.getByTestId('earnings-settled').waitFor()],
      ['admin', '/ops', (p) => p.getByTestId('ops-business').waitFor()],
      ['anonymous', '/signin', (p) => p.getByLabel('이메일').waitFor()],
      ['anonymous', `/c/${QUIET}`, (p) => p.locator('.empty-state svg').nth(2).waitFor()],
    ];
    for (const [who, url, ready] of dark) {
      const { page: p, problems: pageProblems } = await open(who, url, { colorScheme: 'dark' });
      await ready(p);
      expect(await p.evaluate('document.documentElement.dataset.theme')).toBe('dark');
      violations = await seriousViolations(p);
      expect(violations, `${url} in dark:\n${describeViolations(violations)}`).toEqual([]);
      expect(pageProblems()).toEqual([]);
      await p.close();
    }
  }, 90_000);

  it('bundles Pretendard: the font comes from our own origin (font-src self), and the text uses it', async () => {
    const { page, problems } = await open('anonymous', '/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.evaluate('document.fonts.ready');
    const res = await page.request.get('/');
    expect(res.headers()['content-security-policy']).toMatch(/font-src 'self'(;|$)/);
    const fonts = (await page.evaluate(`(async () => {
      await document.fonts.ready;
      const faces = [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'Pretendard Variable');
      const files = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.woff2'));
      return {
        faces: faces.length,
        loaded: faces.filter((f) => f.status === 'loaded').length,
        hangul: document.fonts.check('16px "Pretendard Variable"', '미션 후원'),
        family: getComputedStyle(document.body).fontFamily,
        files,
        origin: location.origin,
      };
    })()`)) as { faces: number; loaded: number; hangul: boolean; family: string; files: string[]; origin: string };
    expect(fonts.family).toMatch(/^"?Pretendard Variable"?,/);
    expect(fonts.faces).toBeGreaterThan(50); // the dynamic subset: one face per unicode range
    expect(fonts.loaded).toBeGreaterThan(0); // only the ranges the page shows are fetched
    expect(fonts.loaded).toBeLessThan(fonts.faces);
    expect(fonts.hangul).toBe(true);
    expect(fonts.files.length).toBe(fonts.loaded);
    for (const f of fonts.files) expect(f.startsWith(`${fonts.origin}/assets/`), f).toBe(true);
    expect(problems()).toEqual([]);
  });

  it('moves things only when the system allows motion', async () => {
    for (const reducedMotion of ['no-preference', 'reduce'] as const) {
      const { page } = await open('viewer', `/c/${HANDLE}`, { reducedMotion });
      await page.getByText('실시간 연결됨').waitFor();
      const names = (await page.evaluate(
        `[document.querySelector('.main > *'), document.querySelector('.live-open .live-dot')].map((e) => getComputedStyle(e).animationName)`,
      )) as string[];
      expect(names).toEqual(reducedMotion === 'reduce' ? ['none', 'none'] : ['rise', 'live-pulse']);
      const transition = await page.evaluate(`getComputedStyle(document.querySelector('.button')).transitionProperty`);
      expect(transition).toBe(reducedMotion === 'reduce' ? 'none' : 'transform, box-shadow');
      await page.close();
    }
  });

  it('keeps the ops charts across a reload (the server’s samples), then takes screenshots of the main pages in both themes', async () => {
    const api = client(app.t.ml.http);
    // The server samples every 10 s from the first look (the tests above): wait for three.
    await eventually(async () => (await api.call('GET', '/api/v1/ops/history', users.admin)).body.samples.length >= 3, 40_000, 500);
    const { page } = await open('admin', '/ops');
    await page.getByTestId('ops-business').waitFor();
    // Drawn at once from the history, before the page's own polls could make two points.
    await page.locator('.charts .chart-canvas[data-x-labels]').first().waitFor({ timeout: 3000 });
    expect(Number(await page.locator('.charts').getAttribute('data-samples'))).toBeGreaterThanOrEqual(2);
    await page.close();

    const shots = process.env.LOOK_SHOTS_DIR;
    if (shots) await mkdir(shots, { recursive: true });
    const pages: [string, Who, string, (p: Page) => Promise<unknown>][] = [
      ['home', 'anonymous', '/', (p) => p.getByRole('heading', { level: 1 }).waitFor()],
      ['channel', 'viewer', `/c/${HANDLE}`, (p) => p.getByText('실시간 연결됨').waitFor()],
      ['me', 'viewer', '/me', (p) => p.getByTestId('pledge-captured').first().waitFor()],
      ['wallet', 'viewer', '/wallet', (p) => p.getByRole('cell', { name: '충전' }).first().waitFor()],
      ['studio', 'streamer', '/studio', (p) => p.getByTestId('earnings-settled').waitFor()],
      ['ops', 'admin', '/ops', (p) => p.locator('.charts .chart-canvas[data-x-labels]').nth(6).waitFor()],
      ['signin', 'anonymous', '/signin', (p) => p.getByLabel('이메일').waitFor()],
      ['channel-empty', 'anonymous', `/c/${QUIET}`, (p) => p.getByText('진행 중인 미션이 없습니다.').waitFor()],
    ];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const [width, height] of [
        [1366, 768],
        [390, 844],
      ] as const) {
        for (const [name, who, url, ready] of pages) {
          const { page: p, problems } = await open(who, url, { width, height, colorScheme, reducedMotion: 'reduce' });
          await ready(p);
          await p.evaluate('document.fonts.ready');
          if (width === 390) {
            const { scrollWidth, clientWidth } = await scrollsSideways(p);
            expect(scrollWidth, `${name} (${colorScheme}) is ${scrollWidth}px wide at 390`).toBeLessThanOrEqual(clientWidth);
          }
          const file = `look-${name}-${colorScheme}-${width}`;
          await screenshot(p, file);
          if (shots) await copyFile(path.join(SCREENSHOTS, `${file}.png`), path.join(shots, `${file}.png`));
          expect(problems()).toEqual([]);
          await p.close();
        }
      }
    }
  }, 180_000);
});
