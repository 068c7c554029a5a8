// Debian's Chromium driven by playwright-core (never a downloaded browser).
// Without it the browser suites are skipped loudly — unless REQUIRE_BROWSER=1
// (CI), where a missing browser is a failure.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe } from 'vitest';
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
    describe(name, fn);
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

/** A fresh browser; each launch runs on a new temporary profile (user-data-dir). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
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
