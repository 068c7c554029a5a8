// Debian's Chromium driven by playwright-core (never a downloaded browser).
// Without it the browser suites are skipped loudly — unless REQUIRE_BROWSER=1
// (CI), where a missing browser is a failure.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { REPO_ROOT } from '../../support/process.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** `describe`, or `describe.skip` with a warning when there is no Chromium (a failure under REQUIRE_BROWSER=1). */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) {
    // One retry: for a test whose browser died under it (see launchBrowser).
    describe(name, { retry: 1 }, fn);
    return;
  }
  if (process.env.REQUIRE_BROWSER === '1') {
    describe(name, () => {
      throw new Error(
        `REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`,
      );
    });
    return;
  }
  console.warn(
    `\n!!! SKIPPING browser tests "${name}": no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) !!!\n`,
  );
  describe.skip(name, fn);
}

/**
 * A fresh browser; each launch runs on a new temporary profile (user-data-dir).
 * Should Chromium itself die (it did once in CI, mid-test, with nothing in
 * its log), the next `newContext` launches it again, so one lost browser
 * fails the test it was in (which describeWithBrowser retries once), not
 * every test after it.
 */
export async function launchBrowser(): Promise<Browser> {
  const launch = () =>
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  let current = await launch();
  let relaunching: Promise<Browser> | undefined;
  const newContext: Browser['newContext'] = async (...args) => {
    if (!current.isConnected()) {
      console.warn('!!! Chromium went away; launching it again');
      current = await (relaunching ??= launch().finally(() => (relaunching = undefined)));
    }
    return current.newContext(...args);
  };
  return new Proxy(current, {
    get(_target, prop) {
      if (prop === 'newContext') return newContext;
      const value: unknown = Reflect.get(current, prop);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(current)
        : value;
    },
  });
}

export async function newContext(
  browser: Browser,
  baseURL: string,
  opts: { width?: number; height?: number; reducedMotion?: 'reduce' | 'no-preference' } = {},
): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    baseURL,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    locale: 'en-US', // the app must still start in Korean
    reducedMotion: opts.reducedMotion ?? 'no-preference',
  });
  ctx.setDefaultTimeout(10_000);
  return ctx;
}

/**
 * A page of the app at `pathName` in a context of its own (added to
 * `opts.contexts` for the caller to close), signed in as `who` through the
 * session cookie (the password test/support/api.ts signs up with) or
 * anonymous; the page's console errors (other than failed loads) and
 * uncaught exceptions go to `opts.problems`. Resolves once a signed-in page
 * has traded its cookie for tokens.
 * @example const page = await openPage(browser, app.url, streamer, '/studio', { problems, contexts });
 */
export async function openPage(
  browser: Browser,
  baseURL: string,
  who: { email: string } | null,
  pathName: string,
  opts: {
    problems: string[];
    contexts: BrowserContext[];
    password?: string;
    width?: number;
    height?: number;
    initScript?: string;
  },
): Promise<Page> {
  const ctx = await newContext(browser, baseURL, {
    width: opts.width ?? 1366,
    height: opts.height ?? 768,
  });
  opts.contexts.push(ctx);
  if (opts.initScript) await ctx.addInitScript(opts.initScript);
  if (who) {
    const res = await ctx.request.post('/api/v1/auth/login', {
      data: { email: who.email, password: opts.password ?? 'a long password' },
    });
    expect(res.status()).toBe(200);
  }
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
      opts.problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => opts.problems.push(`${page.url()}: ${e.message}`));
  await page.goto(pathName);
  if (who)
    await page
      .getByRole('button', { name: /^(로그아웃|Sign out)$/ })
      .waitFor({ state: 'attached' });
  return page;
}

/** Fails the page on any console error, uncaught exception or CSP violation. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) and returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // addScriptTag({ path }) would insert an inline <script>, which our CSP
  // rightly refuses; evaluating the file through DevTools is not subject to it.
  if (!(await page.evaluate('typeof window.axe === "object"')))
    await page.evaluate(`${(axeSource ??= readFileSync(AXE, 'utf8'))}\n;void 0`);
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })`,
  )) as { violations: AxeViolation[]; passes: unknown[] };
  if (!result.passes.length) throw new Error('axe-core checked nothing');
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(vs: AxeViolation[]): string {
  return vs
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`,
    )
    .join('\n');
}

/** Whether the page scrolls sideways. */
export async function scrollsSideways(
  page: Page,
): Promise<{ scrollWidth: number; clientWidth: number }> {
  return (await page.evaluate(
    '({ scrollWidth: document.scrollingElement.scrollWidth, clientWidth: document.scrollingElement.clientWidth })',
  )) as { scrollWidth: number; clientWidth: number };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
