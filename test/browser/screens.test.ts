// Screenshots of every page of the web app, for people to look at (issue #23):
// a realistic world on a fresh database, then each page in Korean and English
// at 1366×768 and 390×844, full page, into $SCREENSHOTS_DIR as
// <page>-<lang>-<width>.png. Runs only when SCREENSHOTS_DIR is set:
//   SCREENSHOTS_DIR=/tmp/screens REQUIRE_BROWSER=1 npx vitest run test/browser/screens.test.ts
// It asserts only what keeps the pictures honest (the page drew its data, no
// sideways scroll at 390 px, no script error); the looking is done by a person.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { mailboxOf, requestVerification, verifyEmail } from '../support/mail.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { describeWithBrowser, launchBrowser, scrollsSideways, watchErrors } from './support/browser.ts';
import { startWebApp, type WebApp } from './support/web-app.ts';

const DIR = process.env.SCREENSHOTS_DIR;
const PASSWORD = 'a long password'; // what test/support/api.ts signs up with
const HANDLE = 'cooking_kim';
const ADMIN_EMAIL = 'ops-kang@missionlink.example';
const SIZES = [
  [1366, 768],
  [390, 844],
] as const;
const LANGS = ['ko', 'en'] as const;

type Who = 'anonymous' | 'viewer' | 'streamer' | 'admin';

const suite = DIR ? describeWithBrowser : (name: string, fn: () => void) => describe.skip(name, fn);

suite('screenshots of every page (SCREENSHOTS_DIR)', () => {
  let app: WebApp;
  let browser: Browser;
  let receiver: WebhookReceiver;
  const users: Partial<Record<Exclude<Who, 'anonymous'>, Caller>> = {};

  beforeAll(async () => {
    [app, browser, receiver] = await Promise.all([
      startWebApp({ ADMIN_EMAILS: ADMIN_EMAIL, WITHDRAWAL_REVIEW_ABOVE_KRW: '10000', WEBHOOK_ALLOW_LOOPBACK: '1' }),
      launchBrowser(),
      WebhookReceiver.start(),
    ]);
    await mkdir(DIR!, { recursive: true });
    const api = client(app.t.ml.http);
    const ok = async (r: Promise<{ status: number; body: unknown }>, status = 200) => {
      const a = await r;
      expect(a.status, JSON.stringify(a.body)).toBe(status);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers
      return a.body as any;
    };

    // Addresses a person would have (api.signUp's are made from the name, which Hangul empties).
    const signUp = async (displayName: string, email: string): Promise<Caller> => {
      const reg = await ok(api.call('POST', '/api/v1/auth/register', null, { email, password: PASSWORD, displayName }), 201);
      const login = await ok(api.call('POST', '/api/v1/auth/login', null, { email, password: PASSWORD }));
      return { token: login.accessToken, id: reg.user.id, email };
    };
    const streamer = (users.streamer = await signUp('김요리', 'cooking.kim@missionlink.example'));
    const viewer = (users.viewer = await signUp('이나래', 'narae.lee@missionlink.example'));
    const fan = await signUp('박하늘', 'haneul.park@missionlink.example');
    await ok(
      api.call('POST', '/api/v1/channels', streamer, {
        handle: HANDLE,
        displayName: '요리하는 김씨',
        settings: { missionMaxAmount: 500_000, failureKeepBps: 1000 },
      }),
      201,
    );
    await api.charge(viewer, 200_000);
    await api.charge(fan, 100_000);
    await api.call('POST', '/api/v1/points/claim', viewer);

    // Decided: a success (captured) and a failure (refunded but the streamer's 10 %).
    const won = (await ok(api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, { title: '라면 10초 안에 끓이기', amount: 30_000, durationSeconds: 600, message: '믿고 갑니다!' }), 201)).mission.id;
    await ok(api.call('POST', `/api/v1/missions/${won}/pledges`, fan, { amount: 10_000, message: '화이팅' }), 201);
    await ok(api.call('POST', `/api/v1/missions/${won}/accept`, streamer));
    await ok(api.call('POST', `/api/v1/missions/${won}/decision`, streamer, { outcome: 'SUCCEEDED' }));
    const lost = (await ok(api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, { title: '매운 떡볶이 다 먹기', amount: 5_000, durationSeconds: 600 }), 201)).mission.id;
    await ok(api.call('POST', `/api/v1/missions/${lost}/accept`, streamer));
    await ok(api.call('POST', `/api/v1/missions/${lost}/decision`, streamer, { outcome: 'FAILED' }));

    // Active, per unit, with pledges, messages, progress and bets.
    const unit = (
      await ok(
        api.call('POST', `/api/v1/channels/${HANDLE}/missions`, viewer, {
          title: '만두 빚기 챌린지',
          description: '방송 한 시간 동안 만두를 빚습니다. 한 개에 얼마씩 걸어 주세요.',
          amount: 500,
          durationSeconds: 3600,
          unit: { label: '개', maxUnits: 40 },
          message: '40개 가능하시죠?',
        }),
        201,
      )
    ).mission.id;
    await ok(api.call('POST', `/api/v1/missions/${unit}/pledges`, fan, { amount: 1_000, message: '하나에 천 원 걸게요 ㅋㅋ', onFailure: 'DONATE' }), 201);
    await ok(api.call('POST', `/api/v1/missions/${unit}/accept`, streamer));
    await ok(api.call('POST', `/api/v1/missions/${unit}/progress`, streamer, { units: 17 }));
    await ok(api.call('POST', `/api/v1/missions/${unit}/prediction/bets`, viewer, { side: 'SUCCEEDED', points: 300 }), 201);
    await ok(api.call('POST', `/api/v1/missions/${unit}/prediction/bets`, fan, { side: 'FAILED', points: 200 }), 201);

    // Proposed, with a message.
    await ok(
      api.call('POST', `/api/v1/channels/${HANDLE}/missions`, fan, {
        title: '다음 판은 젓가락으로만 먹기',
        amount: 8_000,
        durationSeconds: 1800,
        message: '이거 보고 싶어요!',
      }),
      201,
    );

    await eventually(async () => (await api.mission(won)).settledAt && (await api.mission(lost)).settledAt, 20_000);
    // A refund of unused cash in the viewer's history.
    await ok(api.call('POST', '/api/v1/wallet/refunds', viewer, { amount: 20_000 }), 201);

    // A withdrawal above the review threshold waits for an admin.
    await ok(api.call('PUT', '/api/v1/streamer/payout-account', streamer, { bankCode: '004', accountNumber: '110123456789', holderName: '김요리' }));
    expect((await ok(api.call('POST', '/api/v1/streamer/withdrawals', streamer, { amount: 15_000 }), 201)).withdrawal.status).toBe('REQUESTED');

    // A webhook with a delivery.
    await ok(
      api.call('POST', `/api/v1/channels/${HANDLE}/webhooks`, streamer, {
        url: receiver.url('/missionlink'),
        events: ['mission.proposed', 'mission.decided', 'pledge.created'],
      }),
      201,
    );
    await ok(api.call('POST', `/api/v1/missions/${unit}/pledges`, fan, { amount: 500, message: '한 개 더!' }), 201);
    await eventually(async () => receiver.received.length > 0, 30_000, 200);

    // The admin (verified address).
    users.admin = await signUp('강운영', ADMIN_EMAIL);
    await verifyEmail(app.t.ml.http, mailboxOf(app.t), users.admin);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await receiver?.stop();
  }, 30_000);

  const pages: [string, Who, string][] = [
    ['home', 'anonymous', '/'],
    ['channel', 'viewer', `/c/${HANDLE}`],
    ['wallet', 'viewer', '/wallet'],
    ['me', 'viewer', '/me'],
    ['studio', 'streamer', '/studio'],
    ['studio-overlay', 'streamer', '/studio/overlay'],
    ['studio-webhooks', 'streamer', '/studio/webhooks'],
    ['ops', 'admin', '/ops'],
    ['overlay', 'anonymous', `/overlay/${HANDLE}`],
    ['signin', 'anonymous', '/signin'],
    ['signup', 'anonymous', '/signup'],
    ['verify-email', 'anonymous', '/verify-email'],
    ['not-found', 'anonymous', '/no-such-page'],
    ['api-docs', 'anonymous', '/api/docs'],
  ];

  async function shoot(name: string, who: Who, url: string, lang: 'ko' | 'en', width: number, height: number) {
    const ctx = await browser.newContext({
      baseURL: app.url,
      viewport: { width, height },
      locale: lang === 'en' ? 'en-US' : 'ko-KR',
      timezoneId: 'Asia/Seoul',
      colorScheme: 'light',
      reducedMotion: 'reduce',
    });
    ctx.setDefaultTimeout(15_000);
    try {
      await ctx.addInitScript(`try { localStorage.setItem('missionlink.lang', '${lang}') } catch {}`);
      if (who !== 'anonymous') {
        const res = await ctx.request.post('/api/v1/auth/login', { data: { email: users[who]!.email, password: PASSWORD } });
        expect(res.status()).toBe(200);
      }
      if (name === 'verify-email') {
        const api = client(app.t.ml.http);
        const fresh = await api.signUp(`확인 ${lang} ${width}`);
        url = `/verify-email?token=${await requestVerification(app.t.ml.http, mailboxOf(app.t), fresh)}`;
      }
      const page: Page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(url);
      if (name === 'api-docs') await page.locator('.swagger-ui .info .title').waitFor({ timeout: 20_000 });
      else await page.locator('main h1, main h2').first().waitFor({ state: 'attached' });
      if (name === 'ops') await page.locator('.charts .chart-canvas[data-x-labels]').first().waitFor({ timeout: 20_000 });
      else if (name === 'overlay') await page.locator('[data-mission-id]').first().waitFor();
      else await page.waitForTimeout(1500); // lists, polls and the live stream settle
      await page.evaluate('document.fonts.ready');
      await page.screenshot({ path: path.join(DIR!, `${name}-${lang}-${width}.png`), fullPage: true });
      const { scrollWidth, clientWidth } = await scrollsSideways(page);
      const problems = errors.filter((e) => !/status of 40[0-9]/.test(e));
      return { sideways: width === 390 && name !== 'overlay' && scrollWidth > clientWidth ? `${scrollWidth}px` : '', problems };
    } finally {
      await ctx.close();
    }
  }

  it('shoots every page in Korean and English at 1366 and 390', async () => {
    const report: string[] = [];
    for (const lang of LANGS)
      for (const [width, height] of SIZES)
        for (const [name, who, url] of pages) {
          const r = await shoot(name, who, url, lang, width, height);
          if (r.sideways) report.push(`${name}-${lang}-${width}: scrolls sideways (${r.sideways})`);
          for (const p of r.problems) report.push(`${name}-${lang}-${width}: ${p}`);
        }
    console.log(`screenshots in ${DIR}${report.length ? `\n${report.join('\n')}` : ''}`);
    expect(report).toEqual([]);
  }, 600_000);
});
