// `npm start` on a repository as cloned: the prestart step builds web/dist
// when needed, and the one server answers both the web app (under its CSP)
// and the API, with the app working in a real browser.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cleanUpAll,
  spawnServer,
  tempDataDir,
  type ServerProcess,
} from '../support/process.ts';
import { describeWithBrowser, launchBrowser, newContext } from './support/browser.ts';

describeWithBrowser('`npm start` serves the web app', () => {
  let srv: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    [srv, browser] = await Promise.all([
      spawnServer({ dataDir, npm: ['start'] }).then(async (s) => {
        await s.waitReady(90_000);
        return s;
      }),
      launchBrowser(),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cleanUpAll();
  }, 30_000);

  it(
    'answers the pages with index.html under a strict CSP, and the API as before',
    async () => {
      for (const p of [
        '/',
        '/c/some_channel',
        '/overlay/some_channel',
        '/studio',
        '/wallet',
        '/me',
        '/ops',
        '/signin',
        '/signup',
      ]) {
        const res = await fetch(`${srv.url}${p}`);
        expect(res.status, p).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
        expect(await res.text()).toMatch(
          /<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/,
        );
      }
      const api404 = await fetch(`${srv.url}/api/v1/no-such-thing`);
      expect(api404.status).toBe(404);
      expect(api404.headers.get('content-type')).toMatch(/^application\/problem\+json/);

      const page = await (await newContext(browser, srv.url)).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
          errors.push(m.text());
      });
      await page.goto('/c/some_channel');
      await page.getByRole('heading', { name: '그런 채널이 없습니다.' }).waitFor();
      await page.goto('/');
      await page.getByRole('link', { name: '회원가입' }).waitFor();
      expect(errors).toEqual([]);
    },
    60_000,
  );
});
