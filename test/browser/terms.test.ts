// Pledge terms in a real browser (API.md Part 2): a per-unit mission proposed
// from the channel page whose counter moves live as the owner reports
// progress in the studio (and on the overlay); a pledge with a message and
// "donate anyway"; the choice changed on My missions; blocked words and the
// block list in the studio; spending limits and self-exclusion on the wallet
// page, and the refusals they cause, in Korean. Every changed page is checked
// with axe, for sideways scrolling at 390 px, and photographed.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, eventually, type Caller } from '../support/api.ts';
import { superUrlFor } from '../support/databases.ts';
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
const HANDLE = `terms_${run}`.slice(0, 24);
const SHOTS = process.env.TERMS_SHOTS ?? '/tmp/webterms-shots';

describeWithBrowser(
  'browser: pledge terms, per-unit missions, moderation and spending limits',
  () => {
    let app: WebApp;
    let browser: Browser;
    let api: ReturnType<typeof client>;
    let streamer: Caller;
    let viewer: Caller;
    let donor: Caller;
    let careful: Caller;
    let blockee: Caller;
    let plainId = '';
    let unitId = '';
    const contexts: BrowserContext[] = [];
    const problems: string[] = [];

    beforeAll(async () => {
      [app, browser] = await Promise.all([startWebApp(), launchBrowser()]);
      api = client(app.t.ml.http);
      // KNOWN SERVER BUG on main (a65c5c0): migration 0006 allows live_events.type
      // only 'pledge' | 'state' | 'prediction', so every `progress` live event is
      // refused by the database and never reaches a stream. Until a migration
      // widens the check (the lead's call), this test database gets it widened
      // here, loudly, so the web app's live counter can be tested; once the
      // migration exists this does nothing.
      const funding = app.t.db.pools.funding;
      const { rows } = await funding.query(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'live_events'::regclass AND contype = 'c'`,
      );
      if (!rows.some((r: { def: string }) => r.def.includes('progress'))) {
        console.warn(
          '!!! live_events refuses type progress (server bug): widened for this test only !!!',
        );
        // The app's role may not alter tables: the table's owner's may (the superuser).
        const su = new pg.Client({
          connectionString: superUrlFor(app.t.db.superUrl, app.t.db.names.funding),
        });
        await su.connect();
        try {
          await su.query(
            `ALTER TABLE live_events DROP CONSTRAINT live_events_type_check,
               ADD CONSTRAINT live_events_type_check CHECK (type IN ('pledge', 'state', 'prediction', 'progress'))`,
          );
        } finally {
          await su.end();
        }
      }
      [streamer, viewer, donor, careful, blockee] = await Promise.all([
        api.signUp('Studio Kim'),
        api.signUp('Viewer Lee'),
        api.signUp('Donor Park'),
        api.signUp('Careful Choi'),
        api.signUp('Blockee Jung'),
      ]);
      await api.channel(streamer, HANDLE, {
        failureKeepBps: 1000,
        missionMinAmount: 1000,
        missionMaxAmount: 500_000,
      });
      const words = await api.call('PATCH', `/api/v1/channels/${HANDLE}`, streamer, {
        settings: { blockedWords: ['바보'] },
      });
      expect(words.status).toBe(200);
      await Promise.all([viewer, donor, careful, blockee].map((who) => api.charge(who, 200_000)));
      const plain = await api.propose(viewer, HANDLE, 10_000, 3600, '보스를 노데스로 잡기');
      plainId = plain.body.mission.id;
      expect((await api.call('POST', `/api/v1/missions/${plainId}/accept`, streamer)).status).toBe(
        200,
      );
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
    }, 30_000);

    /** A signed-in (or anonymous) page at a size; console errors and page errors are collected. */
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

    /** axe-clean, no sideways scroll at 390 px, and screenshots at 1366×768 and 390×844. */
    async function check(page: Page, name: string) {
      const violations = await seriousViolations(page);
      expect(violations, `${name}: ${describeViolations(violations)}`).toEqual([]);
      await mkdir(SHOTS, { recursive: true });
      await page.setViewportSize({ width: 1366, height: 768 });
      await page.screenshot({ path: path.join(SHOTS, `${name}-1366.png`), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(100);
      const { scrollWidth, clientWidth } = await scrollsSideways(page);
      expect(
        scrollWidth,
        `${name} is ${scrollWidth}px wide in a ${clientWidth}px window`,
      ).toBeLessThanOrEqual(clientWidth);
      const phoneViolations = await seriousViolations(page);
      expect(phoneViolations, `${name} (390): ${describeViolations(phoneViolations)}`).toEqual([]);
      await page.screenshot({ path: path.join(SHOTS, `${name}-390.png`), fullPage: true });
      // Legible close-ups: the first card or section as a phone shows it.
      const first = (await page.locator('article').count())
        ? page.locator('article').first()
        : page.locator('.card').last();
      if (await first.count())
        await first.screenshot({ path: path.join(SHOTS, `${name}-390-card.png`) });
      await page.setViewportSize({ width: 1366, height: 768 });
    }

    it('proposes a per-unit mission on the channel page; its counter moves live when the owner reports progress', async () => {
      const channel = await open(viewer, `/c/${HANDLE}`);
      await channel.getByText('실시간 연결됨').waitFor();
      const form = channel.locator('section[aria-labelledby="propose-h"]');
      await form.getByLabel('미션 제목').fill('킬마다 후원');
      await form.getByLabel('단위별 미션 (단위마다 후원)').check();
      await form.getByLabel('단위', { exact: true }).fill('킬');
      await form.getByLabel('최대 단위 수').fill('30');
      await form.getByLabel('킬당 금액 (원)').fill('1000');
      await form.getByText('보류 금액: 1,000원 × 30 = 30,000원.', { exact: false }).waitFor();
      await form.getByLabel('메시지 (선택)').fill('한 킬에 천 원!');
      await expect.poll(() => form.getByTestId('message-count').textContent()).toBe('9 / 200자');
      await form.getByRole('button', { name: '제안하기', exact: true }).click();
      await form.getByText('미션을 제안했습니다.', { exact: false }).waitFor();

      const proposed = await api.call('GET', `/api/v1/channels/${HANDLE}/missions?state=PROPOSED`);
      const m = (
        proposed.body.items as { id: string; title: string; unit: unknown; pledgedAmount: number }[]
      ).find((x) => x.title === '킬마다 후원')!;
      unitId = m.id;
      expect(m).toMatchObject({
        unit: { label: '킬', maxUnits: 30, units: 0 },
        pledgedAmount: 30_000,
      });
      const pledges = (await api.call('GET', `/api/v1/missions/${m.id}/pledges`)).body.items;
      expect(pledges[0]).toMatchObject({
        amount: 1000,
        onFailure: 'REFUND',
        message: '한 킬에 천 원!',
      });

      const card = channel.locator(`article[data-mission-id="${m.id}"]`);
      await card.getByTestId('unit-counter').filter({ hasText: '0 / 30 킬 · 0원' }).waitFor();
      await card.getByTestId('pledge-message').filter({ hasText: '한 킬에 천 원!' }).waitFor();

      // The owner accepts in the studio and reports progress: +1, then an absolute count.
      const studio = await open(streamer, '/studio');
      const queued = studio.locator(`article[data-mission-id="${m.id}"]`);
      await queued.getByRole('button', { name: '수락' }).click();
      const active = studio
        .locator(`article[data-mission-id="${m.id}"]`)
        .filter({ has: studio.getByRole('button', { name: '킬 +1' }) });
      await active.getByRole('button', { name: '킬 +1' }).click();
      await card.getByTestId('unit-counter').filter({ hasText: '1 / 30 킬 · 1,000원' }).waitFor();

      const overlay = await open(null, `/overlay/${HANDLE}`, 1920, 1080);
      const board = overlay.locator(`li[data-mission-id="${m.id}"]`);
      await board.getByTestId('unit-counter').filter({ hasText: '1 / 30 킬 · 1,000원' }).waitFor();

      await active.getByLabel('지금까지 킬 수').fill('12');
      await active.getByRole('button', { name: '반영' }).click();
      await active.getByText('진행 상황을 보고했습니다: 12 킬.').waitFor();
      // Live, on the channel page and the overlay, without a reload.
      await card.getByTestId('unit-counter').filter({ hasText: '12 / 30 킬 · 12,000원' }).waitFor();
      await board
        .getByTestId('unit-counter')
        .filter({ hasText: '12 / 30 킬 · 12,000원' })
        .waitFor();
      expect(await card.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('12');

      // Going back is refused and said plainly.
      await active.getByLabel('지금까지 킬 수').fill('5');
      await active.getByRole('button', { name: '반영' }).click();
      await active
        .getByRole('alert')
        .getByText('진행은 줄일 수 없습니다. 이미 보고한 수 이상을 입력해 주세요.')
        .waitFor();
      expect((await api.mission(m.id)).unit.units).toBe(12);

      // Another backer pledges per unit; the hold is amount × maxUnits.
      const donorPage = await open(donor, `/c/${HANDLE}`);
      const donorCard = donorPage.locator(`article[data-mission-id="${m.id}"]`);
      await donorCard.getByLabel('킬당 금액 (원)').fill('500');
      await donorCard
        .getByTestId('hold-note')
        .filter({ hasText: '500원 × 30 = 15,000원' })
        .waitFor();
      await donorCard.getByRole('button', { name: '후원하기' }).click();
      await donorCard.getByText('15,000원을 후원했습니다.', { exact: false }).waitFor();
      await card.getByTestId('unit-counter').filter({ hasText: '12 / 30 킬 · 18,000원' }).waitFor();

      await check(channel, 'channel');
      await check(studio, 'studio');
      await overlay.screenshot({ path: path.join(SHOTS, 'overlay-1920.png') });
      await check(overlay, 'overlay');
      expect(problems).toEqual([]);
    }, 90_000);

    it('pledges with a message and DONATE; the list masks blocked words and shows what is donated anyway', async () => {
      const overlay = await open(null, `/overlay/${HANDLE}`, 1920, 1080);
      await overlay.locator(`li[data-mission-id="${plainId}"]`).waitFor();
      const watcher = await open(viewer, `/c/${HANDLE}`);
      await watcher.getByText('실시간 연결됨').waitFor();
      const page = await open(donor, `/c/${HANDLE}`);
      const card = page.locator(`article[data-mission-id="${plainId}"]`);
      await card.getByLabel('후원 금액 (원)').fill('5000');
      await card.getByLabel('메시지 (선택)').fill('바보라도 응원해요');
      await card.getByText('실패하면 스트리머 몫 10%를 뺀 금액을 돌려받습니다.').waitFor();
      await card.getByLabel('실패해도 후원').check();
      await card.getByText('실패해도 후원금이 스트리머에게 전달됩니다', { exact: false }).waitFor();
      await card.getByRole('button', { name: '후원하기' }).click();
      await card.getByText('5,000원을 후원했습니다.', { exact: false }).waitFor();
      await card.getByTestId('pledge-message').filter({ hasText: '**라도 응원해요' }).waitFor();
      await card
        .getByTestId('donated-anyway')
        .filter({ hasText: '실패해도 후원: 5,000원' })
        .waitFor();
      // Another viewer sees the message live.
      await watcher
        .locator(`article[data-mission-id="${plainId}"]`)
        .getByTestId('pledge-message')
        .filter({ hasText: '**라도 응원해요' })
        .waitFor();
      // The overlay's alert carries the (masked) message.
      await overlay.locator('.overlay-alert').filter({ hasText: '**라도 응원해요' }).waitFor();
      await overlay.screenshot({ path: path.join(SHOTS, 'overlay-alert-message-1920.png') });
      const items = (await api.call('GET', `/api/v1/missions/${plainId}/pledges`)).body.items as {
        id: string;
        onFailure: string;
        message: string | null;
      }[];
      const mine = items.find((p) => p.message === '**라도 응원해요')!;
      expect(mine.onFailure).toBe('DONATE');

      // On My missions the backer changes it back while the mission is open.
      const me = await open(donor, '/me');
      const row = me.locator(`li[data-pledge-id="${mine.id}"]`);
      await row.getByLabel('실패해도 후원').waitFor();
      expect(await row.getByLabel('실패해도 후원').isChecked()).toBe(true);
      await row.getByLabel('실패하면 환불').click();
      await row.getByText('실패 시 선택을 바꿨습니다.').waitFor();
      await eventually(async () => {
        const list = (await api.call('GET', `/api/v1/missions/${plainId}/pledges`)).body
          .items as typeof items;
        return list.find((p) => p.id === mine.id)?.onFailure === 'REFUND';
      });
      await check(me, 'me');
      expect(problems).toEqual([]);
    }, 60_000);

    it('says plainly when the choice on failure can no longer change', async () => {
      const proposed = await api.propose(donor, HANDLE, 1000, 600, '거절될 제안');
      const id = proposed.body.mission.id as string;
      expect((await api.call('POST', `/api/v1/missions/${id}/reject`, streamer)).status).toBe(200);
      const me = await open(donor, '/');
      // The page still believes the mission is open (as a list read a moment before the decision would).
      await me.route(
        (url) => url.pathname === '/api/v1/me/pledges',
        async (route) => {
          const res = await route.fetch();
          const body = (await res.json()) as {
            items: { mission: { id: string; state: string } }[];
          };
          for (const p of body.items) if (p.mission.id === id) p.mission.state = 'PROPOSED';
          await route.fulfill({ response: res, json: body });
        },
      );
      await me.goto('/me');
      const row = me.locator(`li[data-mission-id="${id}"]`);
      await row.getByLabel('실패해도 후원').click();
      await row
        .getByRole('alert')
        .getByText('미션이 이미 끝나 실패 시 선택을 바꿀 수 없습니다.')
        .waitFor();
      expect(await row.getByLabel('실패하면 환불').isChecked()).toBe(true);
      expect(problems).toEqual([]);
    }, 30_000);

    it('keeps blocked words and blocks proposers from the studio', async () => {
      const proposal = await api.propose(blockee, HANDLE, 2000, 600, '차단될 제안');
      const proposalId = proposal.body.mission.id;
      const studio = await open(streamer, '/studio');
      await studio.getByRole('textbox', { name: '금칙어', exact: true }).fill('멍청이');
      await studio.getByRole('button', { name: '추가' }).click();
      await studio.getByTestId('blocked-words').getByText('멍청이').waitFor();
      await studio.getByRole('button', { name: '금칙어 삭제: 바보' }).waitFor();
      await studio.getByRole('button', { name: '저장' }).click();
      await studio.getByText('저장했습니다.').waitFor();
      expect(
        (await api.call('GET', `/api/v1/channels/${HANDLE}`)).body.channel.settings.blockedWords,
      ).toEqual(['바보', '멍청이']);

      await studio
        .locator(`article[data-mission-id="${proposalId}"]`)
        .getByRole('button', { name: '제안자 차단' })
        .click();
      const blocks = studio.getByTestId('blocks');
      await blocks.getByText(blockee.id).waitFor();
      // Named as on their pledges, beside the id.
      expect(await blocks.getByTestId('blocked-name').innerText()).toBe('Blockee Jung');
      const refused = await api.call('POST', `/api/v1/missions/${plainId}/pledges`, blockee, {
        amount: 1000,
      });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('BLOCKED_BY_CHANNEL');

      // The blocked user is told so in Korean on the channel page.
      const page = await open(blockee, `/c/${HANDLE}`);
      const card = page.locator(`article[data-mission-id="${plainId}"]`);
      await card.getByRole('button', { name: '후원하기' }).click();
      await card
        .getByRole('alert')
        .getByText('이 채널에서 차단되어 제안, 후원, 예측을 할 수 없습니다.')
        .waitFor();

      await check(studio, 'studio-moderation');
      await blocks.getByRole('button', { name: '차단 해제' }).click();
      await blocks.getByText('차단한 사용자가 없습니다.').waitFor();

      // Blocked again without any id: picked by name among the recent proposers,
      // who leave the choice while blocked.
      const picker = blocks.getByTestId('block-proposer');
      await picker
        .getByRole('combobox', { name: '최근 제안자' })
        .selectOption({ label: 'Blockee Jung' });
      await picker.getByRole('button', { name: '차단' }).click();
      await blocks.getByText(blockee.id).waitFor();
      expect(await blocks.getByRole('option', { name: 'Blockee Jung' }).count()).toBe(0);
      expect(
        (await api.call('GET', `/api/v1/channels/${HANDLE}/blocks`, streamer)).body.items.map(
          (b: { userId: string }) => b.userId,
        ),
      ).toEqual([blockee.id]);
      await blocks.getByRole('button', { name: '차단 해제' }).click();
      await blocks.getByText('차단한 사용자가 없습니다.').waitFor();
      expect(
        (await api.call('POST', `/api/v1/missions/${plainId}/pledges`, blockee, { amount: 1000 }))
          .status,
      ).toBe(201);
      expect(problems).toEqual([]);
    }, 60_000);

    it('sets a spending limit on the wallet page; a pledge over it is refused in Korean; self-exclusion needs a clear confirmation', async () => {
      const wallet = await open(careful, '/wallet');
      const limits = wallet.getByTestId('limits');
      await limits.getByTestId('limits-current').filter({ hasText: '하루 없음' }).waitFor();
      await limits.getByLabel('하루 한도 (원)').fill('5000');
      await limits.getByRole('button', { name: '한도 저장' }).click();
      await limits.getByText('한도를 저장했습니다.').waitFor();
      await limits.getByTestId('limits-current').filter({ hasText: '하루 5,000원' }).waitFor();
      expect((await api.call('GET', '/api/v1/me/limits', careful)).body.dailyPledgeLimit).toBe(
        5000,
      );

      // Raising waits 24 hours: shown as pending, the limit stays.
      await limits.getByLabel('하루 한도 (원)').fill('50,000');
      await limits.getByRole('button', { name: '한도 저장' }).click();
      await limits.getByText('저장했습니다. 올린 한도는', { exact: false }).waitFor();
      await limits.getByTestId('limits-pending').filter({ hasText: '하루 50,000원' }).waitFor();
      await limits.getByTestId('limits-current').filter({ hasText: '하루 5,000원' }).waitFor();

      const channel = await open(careful, `/c/${HANDLE}`);
      const card = channel.locator(`article[data-mission-id="${plainId}"]`);
      await card.getByLabel('후원 금액 (원)').fill('10000');
      await card.getByRole('button', { name: '후원하기' }).click();
      await card
        .getByRole('alert')
        .getByText('지출 한도에 걸렸습니다.', { exact: false })
        .waitFor();
      expect((await api.wallet(careful)).held).toBe(0);

      await check(wallet, 'wallet');

      // Self-exclusion: a dialog says it cannot be shortened; cancelling changes nothing.
      await limits.getByLabel('기간 (일)').fill('7');
      await limits.getByRole('button', { name: '자기 배제 시작' }).click();
      const dialog = wallet.getByRole('dialog');
      await dialog.getByText('7일 동안 자기 배제를 시작할까요?').waitFor();
      await dialog.getByText('이 기간은 줄이거나 취소할 수 없습니다.', { exact: false }).waitFor();
      await wallet.screenshot({ path: path.join(SHOTS, 'wallet-self-exclusion-dialog.png') });
      await dialog.getByRole('button', { name: '취소' }).click();
      expect(
        (await api.call('GET', '/api/v1/me/limits', careful)).body.selfExcludedUntil,
      ).toBeNull();
      await limits.getByRole('button', { name: '자기 배제 시작' }).click();
      await dialog.getByRole('button', { name: '자기 배제 시작' }).click();
      await limits.getByTestId('excluded-until').waitFor();
      expect(
        (await api.call('GET', '/api/v1/me/limits', careful)).body.selfExcludedUntil,
      ).not.toBeNull();

      await card.getByLabel('후원 금액 (원)').fill('1000');
      await card.getByRole('button', { name: '후원하기' }).click();
      await card
        .getByRole('alert')
        .getByText('자기 배제 기간이라 충전, 제안, 후원, 예측을 할 수 없습니다.')
        .waitFor();
      expect(problems).toEqual([]);
    }, 60_000);

    it('shows the new controls in English too', async () => {
      const page = await open(viewer, `/c/${HANDLE}?lang=en`);
      const card = page.locator(`article[data-mission-id="${unitId}"]`);
      await card.getByTestId('unit-counter').filter({ hasText: '12 / 30 킬 · ₩18,000' }).waitFor();
      await card.getByLabel('Amount per 킬 (KRW)').waitFor();
      await card.getByLabel('Donate anyway').waitFor();
      const violations = await seriousViolations(page);
      expect(violations, describeViolations(violations)).toEqual([]);
      await mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'channel-en-1366.png'), fullPage: true });
      await page.getByRole('button', { name: '한국어' }).click();
      expect(problems).toEqual([]);
    }, 60_000);
  },
);
