// Every main page in a real browser: no serious or critical axe-core
// violations, no sideways scrolling on a 390 px phone, no CSP violation or
// script error; the language switch and the session survive a reload.
// Screenshots of each page go to test-artifacts/screenshots/.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { mailboxOf, verificationLink, verificationMails, verifyEmail } from '../support/mail.ts';
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
const HANDLE = `pages_${run}`.slice(0, 24);
const ADMIN_EMAIL = `ops-${run}@example.kr`;

type Who = 'anonymous' | 'viewer' | 'streamer' | 'admin';

describeWithBrowser(
  'browser: every page is accessible, fits a phone, and keeps its settings',
  () => {
    let app: WebApp;
    let browser: Browser;
    const users: Partial<Record<Who, Caller>> = {};
    const contexts = new Map<string, BrowserContext>();
    const problems: string[] = [];
    let activeId = '';

    beforeAll(async () => {
      [app, browser] = await Promise.all([
        startWebApp({ ADMIN_EMAILS: ADMIN_EMAIL }),
        launchBrowser(),
      ]);
      const api = client(app.t.ml.http);

      // A channel with a settled, an active (backed, bet on) and a proposed mission.
      const streamer = (users.streamer = await api.signUp('Studio Kim'));
      const viewer = (users.viewer = await api.signUp('Viewer Lee'));
      const other = await api.signUp('Other Park');
      await api.channel(streamer, HANDLE, {
        failureKeepBps: 1000,
        missionMinAmount: 1000,
        missionMaxAmount: 500_000,
      });
      await api.charge(viewer, 100_000);
      await api.charge(other, 50_000);
      const done = (await api.propose(viewer, HANDLE, 12_000, 600, '노래 한 곡 완창하기')).body
        .mission;
      await api.call('POST', `/api/v1/missions/${done.id}/accept`, streamer);
      await api.call('POST', `/api/v1/missions/${done.id}/decision`, streamer, {
        outcome: 'SUCCEEDED',
      });
      const active = (
        await api.propose(
          viewer,
          HANDLE,
          10_000,
          3600,
          '보스를 노데스로 잡기 — a long title that must wrap on a phone screen',
        )
      ).body.mission;
      activeId = active.id;
      await api.call('POST', `/api/v1/missions/${active.id}/accept`, streamer);
      await api.call('POST', `/api/v1/missions/${active.id}/pledges`, other, { amount: 16_650 });
      await api.call('POST', `/api/v1/missions/${active.id}/prediction/bets`, other, {
        side: 'SUCCEEDED',
        points: 300,
      });
      await api.call('POST', `/api/v1/missions/${active.id}/prediction/bets`, viewer, {
        side: 'FAILED',
        points: 120,
      });
      await api.propose(viewer, HANDLE, 5000, 1800, '다음 판은 칼만 쓰기');
      await eventually(async () => (await api.mission(done.id)).settledAt);

      const reg = await api.call('POST', '/api/v1/auth/register', null, {
        email: ADMIN_EMAIL,
        password: PASSWORD,
        displayName: 'Ops Choi',
      });
      expect(reg.status).toBe(201);
      const login = await api.call('POST', '/api/v1/auth/login', null, { email: ADMIN_EMAIL, password: PASSWORD });
      users.admin = { token: login.body.accessToken, id: reg.body.user.id, email: ADMIN_EMAIL };
      // ADMIN_EMAILS makes an admin only of a verified address: follow the mailed link.
      await verifyEmail(app.t.ml.http, mailboxOf(app.t), users.admin);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
    }, 30_000);

    /** A browser context per user and screen size, signed in through the API (the session cookie). */
    async function contextFor(who: Who, width: number, height: number): Promise<BrowserContext> {
      const key = `${who}@${width}`;
      let ctx = contexts.get(key);
      if (ctx) return ctx;
      ctx = await newContext(browser, app.url, { width, height });
      ctx.on('page', (p) => {
        p.on('console', (m) => {
          if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
            problems.push(`${key} ${p.url()}: ${m.text()}`);
        });
        p.on('pageerror', (e) => problems.push(`${key} ${p.url()}: ${e.message}`));
      });
      const user = users[who as Exclude<Who, 'anonymous'>];
      if (user) {
        const res = await ctx.request.post('/api/v1/auth/login', {
          data: { email: user.email, password: PASSWORD },
        });
        expect(res.status()).toBe(200);
      }
      contexts.set(key, ctx);
      return ctx;
    }

    const NAMES: Record<Exclude<Who, 'anonymous'>, string> = {
      viewer: 'Viewer Lee',
      streamer: 'Studio Kim',
      admin: 'Ops Choi',
    };

    /**
     * Opens a page as `who`. A signed-in page first trades the session cookie
     * for tokens (and the server spends the old cookie); closing the page
     * before that answer arrives would lose the new cookie and sign the whole
     * context out, so wait until the page greets its user.
     */
    async function openPage(who: Who, width: number, height: number, path: string) {
      const page = await (await contextFor(who, width, height)).newPage();
      const res = await page.goto(path);
      if (who !== 'anonymous') {
        await page.getByText(`${NAMES[who]} 님`).first().waitFor({ state: 'attached' });
      }
      return { page, res };
    }

    const PAGES: {
      name: string;
      path: () => string;
      who: Who;
      ready: (p: Page) => Promise<unknown>;
    }[] = [
      {
        name: 'home',
        path: () => '/',
        who: 'anonymous',
        ready: (p) => p.getByRole('heading', { level: 1 }).waitFor(),
      },
      {
        name: 'signin',
        path: () => '/signin',
        who: 'anonymous',
        ready: (p) => p.getByLabel('이메일').waitFor(),
      },
      {
        name: 'signup',
        path: () => '/signup',
        who: 'anonymous',
        ready: (p) => p.getByLabel('표시 이름').waitFor(),
      },
      {
        name: 'channel',
        path: () => `/c/${HANDLE}`,
        who: 'viewer',
        ready: async (p) => {
          await p.getByText('실시간 연결됨').waitFor();
          await p
            .locator(`article[data-mission-id="${activeId}"]`)
            .getByTestId('pool-yes')
            .filter({ hasText: '300P' })
            .waitFor();
        },
      },
      {
        name: 'overlay',
        path: () => `/overlay/${HANDLE}`,
        who: 'anonymous',
        ready: (p) => p.getByText('26,650원').waitFor(),
      },
      {
        name: 'wallet',
        path: () => '/wallet',
        who: 'viewer',
        ready: (p) => p.getByRole('cell', { name: '충전' }).first().waitFor(),
      },
      {
        name: 'me',
        path: () => '/me',
        who: 'viewer',
        ready: (p) => p.getByTestId('pledge-captured').filter({ hasText: '12,000원' }).waitFor(),
      },
      {
        name: 'studio',
        path: () => '/studio',
        who: 'streamer',
        ready: async (p) => {
          await p.getByRole('figure').waitFor();
          await p.getByTestId('earnings-settled').filter({ hasText: '11,400원' }).waitFor();
        },
      },
      {
        name: 'ops',
        path: () => '/ops',
        who: 'admin',
        ready: (p) => p.getByRole('figure').nth(6).waitFor({ timeout: 8000 }),
      },
    ];

    for (const spec of PAGES) {
      it(`${spec.name}: axe-clean on a desktop, no sideways scroll at 390 px`, async () => {
        const { page: desktop, res } = await openPage(spec.who, 1280, 900, spec.path());
        expect(res?.status()).toBe(200);
        expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
        await spec.ready(desktop);
        expect(await desktop.evaluate('document.documentElement.lang')).toBe('ko');
        const violations = await seriousViolations(desktop);
        expect(violations, describeViolations(violations)).toEqual([]);
        await screenshot(desktop, spec.name);
        await desktop.close();

        const { page: phone } = await openPage(spec.who, 390, 844, spec.path());
        await spec.ready(phone);
        const { scrollWidth, clientWidth } = await scrollsSideways(phone);
        expect(
          scrollWidth,
          `${spec.name} is ${scrollWidth}px wide in a ${clientWidth}px window`,
        ).toBeLessThanOrEqual(clientWidth);
        await screenshot(phone, `${spec.name}-390`);
        await phone.close();
        expect(problems).toEqual([]);
      }, 40_000);
    }

    it('starts in Korean whatever the browser asks; the English switch sets <html lang> and survives a reload', async () => {
      const ctx = await newContext(browser, app.url);
      const page = await ctx.newPage();
      await page.goto('/');
      expect(await page.evaluate('document.documentElement.lang')).toBe('ko');
      await page.getByRole('button', { name: 'English' }).click();
      expect(await page.evaluate('document.documentElement.lang')).toBe('en');
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
      await page.reload();
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe('en');
      await page.goto(`/c/${HANDLE}`);
      await page.getByRole('heading', { name: 'Active missions' }).waitFor();
      const violations = await seriousViolations(page);
      expect(violations, describeViolations(violations)).toEqual([]);
      await screenshot(page, 'channel-en');
      await page.getByRole('button', { name: '한국어' }).click();
      expect(await page.evaluate('document.documentElement.lang')).toBe('ko');
      await page.reload();
      await page.getByRole('heading', { name: '진행 중인 미션' }).waitFor();
      await ctx.close();
    });

    it('keeps the session across a reload with no token readable by scripts, and signs out for good', async () => {
      const ctx = await newContext(browser, app.url);
      const page = await ctx.newPage();
      // Signed out, a private page sends you to sign in, and back afterwards.
      await page.goto('/wallet');
      await page.waitForURL(/\/signin\?next=%2Fwallet/);
      await page.getByLabel('이메일').fill(users.viewer!.email);
      await page.getByLabel('비밀번호').fill(PASSWORD);
      await page.getByRole('button', { name: '로그인' }).click();
      await page.waitForURL(/\/wallet$/);
      await page.getByTestId('wallet-available').waitFor();

      await page.reload();
      await page.getByText('Viewer Lee 님').waitFor();
      await page.getByTestId('wallet-available').waitFor();
      expect(page.url()).toMatch(/\/wallet$/);
      const stored = (await page.evaluate(
        'JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })',
      )) as string;
      expect(stored).not.toMatch(/eyJ|ml_refresh/); // no JWT, no refresh token

      await page.getByRole('button', { name: '로그아웃' }).click();
      await page.getByRole('link', { name: '로그인' }).waitFor();
      await page.reload();
      await page.getByRole('link', { name: '로그인' }).waitFor();
      await page.goto('/me');
      await page.waitForURL(/\/signin/);
      await ctx.close();
    });

    it('verifies an address from the mailed link, and says so in both languages', async () => {
      const api = client(app.t.ml.http);
      const fresh = await api.signUp('Verify Jung');
      const ctx = await newContext(browser, app.url);
      const res = await ctx.request.post('/api/v1/auth/login', { data: { email: fresh.email, password: PASSWORD } });
      expect(res.status()).toBe(200);
      const page = await ctx.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`verify ${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`verify ${page.url()}: ${e.message}`));
      await page.goto('/me');
      const account = page.getByTestId('account');
      await account.getByTestId('email-status').filter({ hasText: '확인 전' }).waitFor();
      await account.getByRole('button', { name: '확인 메일 보내기' }).click();
      await account.getByRole('status').getByText(`${fresh.email} 주소로 확인 메일을 보냈습니다.`, { exact: false }).waitFor();
      let violations = await seriousViolations(page);
      expect(violations, describeViolations(violations)).toEqual([]);

      const raw = await eventually(async () => (await verificationMails(mailboxOf(app.t), fresh.email))[0]);
      const { token } = verificationLink(raw)!;
      await page.goto(`/verify-email?token=${token}`);
      await page.getByTestId('verify-result').filter({ hasText: '이메일 주소가 확인되었습니다.' }).waitFor();
      violations = await seriousViolations(page);
      expect(violations, describeViolations(violations)).toEqual([]);
      await screenshot(page, 'verify-email');
      await page.setViewportSize({ width: 390, height: 844 });
      const { scrollWidth, clientWidth } = await scrollsSideways(page);
      expect(scrollWidth, `verify-email is ${scrollWidth}px wide in a ${clientWidth}px window`).toBeLessThanOrEqual(clientWidth);
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto('/me');
      await page.getByTestId('email-status').filter({ hasText: '확인됨' }).waitFor();

      // The link is spent: opened again (here in English) it says it cannot verify anything.
      await page.getByRole('button', { name: 'English' }).click();
      await page.goto(`/verify-email?token=${token}`);
      await page.getByTestId('verify-result').filter({ hasText: 'This link cannot verify anything' }).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe('en');
      violations = await seriousViolations(page);
      expect(violations, describeViolations(violations)).toEqual([]);
      await page.getByRole('button', { name: '한국어' }).click();
      await ctx.close();
      expect(problems).toEqual([]);
    }, 40_000);

    it('keeps the overlay transparent, and still when the system asks for reduced motion', async () => {
      // What a pledge animates: the alert and the total's pop.
      const animations = `(() => {
      document.querySelector('[data-testid=overlay-total]').classList.add('pop');
      const alert = document.createElement('div');
      alert.className = 'overlay-alert';
      document.querySelector('.overlay-alerts').append(alert);
      const names = [alert, document.querySelector('[data-testid=overlay-total]')].map((e) => getComputedStyle(e).animationName);
      alert.remove();
      return names;
    })()`;
      for (const reducedMotion of ['no-preference', 'reduce'] as const) {
        const ctx = await newContext(browser, app.url, {
          width: 1920,
          height: 1080,
          reducedMotion,
        });
        const page = await ctx.newPage();
        await page.goto(`/overlay/${HANDLE}`);
        await page.getByText('26,650원').waitFor();
        expect(
          await page.evaluate(
            `[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).backgroundColor]`,
          ),
        ).toEqual(['rgba(0, 0, 0, 0)', 'rgba(0, 0, 0, 0)']);
        const names = (await page.evaluate(animations)) as string[];
        if (reducedMotion === 'reduce') expect(names).toEqual(['none', 'none']);
        else expect(names).toEqual(['overlay-alert-enter', 'overlay-pop']);
        await ctx.close();
      }
    });

    it('explains mistakes: client-side checks first, then the server problem in words', async () => {
      const { page } = await openPage('viewer', 1280, 900, `/c/${HANDLE}`);
      const card = page.locator(`article[data-mission-id="${activeId}"]`);
      // Above the channel's maximum: caught before any request.
      await card.getByLabel('후원 금액 (원)').fill('600000');
      await card.getByRole('button', { name: '후원하기' }).click();
      await card.getByText('금액은 1,000원 이상 500,000원 이하의 정수여야 합니다.').waitFor();
      expect(await card.getByLabel('후원 금액 (원)').getAttribute('aria-invalid')).toBe('true');
      // Within bounds but more than the wallet holds: the server's 402, in words.
      await card.getByLabel('후원 금액 (원)').fill('400,000');
      await card.getByRole('button', { name: '후원하기' }).click();
      await card
        .getByRole('alert')
        .getByText('잔액이 부족합니다. 지갑을 먼저 충전해 주세요.')
        .waitFor();
      // An empty proposal title.
      await page.getByRole('button', { name: '제안하기', exact: true }).click();
      await page.getByText('제목은 1자 이상 100자 이하여야 합니다.').waitFor();
      await page.close();

      // The streamer changes the failure share; the channel page shows it.
      const { page: studio } = await openPage('streamer', 1280, 900, '/studio');
      await studio.getByLabel('실패 시 스트리머 몫 (%)').fill('25');
      await studio.getByRole('button', { name: '저장' }).click();
      await studio.getByText('저장했습니다.').waitFor();
      await studio.close();
      const { page: again } = await openPage('viewer', 1280, 900, `/c/${HANDLE}`);
      await again.getByText('실패 시 스트리머 몫 25%').waitFor();
      await again.close();
      expect(problems).toEqual([]);
    });

    it('runs the ledger verification from the ops page and shows the result', async () => {
      const { page } = await openPage('admin', 1280, 900, '/ops');
      await page.getByRole('button', { name: '지금 검증하기' }).click();
      await page
        .getByTestId('ledger-result')
        .filter({ hasText: '정상: 모든 장부가 맞습니다.' })
        .waitFor();
      // Rates need consecutive polls (every 2 s): wait for a few before the picture.
      await expect
        .poll(() => page.evaluate(`Number(document.querySelector('.charts')?.dataset.samples)`), {
          timeout: 12_000,
        })
        .toBeGreaterThanOrEqual(3);
      await screenshot(page, 'ops-verified');
      await page.close();

      // Anyone else is told the page is for operators.
      const { page: viewerPage } = await openPage('viewer', 1280, 900, '/ops');
      await viewerPage.getByText('운영자(ADMIN_EMAILS)만').waitFor();
      await viewerPage.close();
      expect(problems).toEqual([]);
    });
  },
);
