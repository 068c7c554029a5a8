/**
 * GET /bench/bare → {"ok":true}: the cheapest route the HTTP stack can serve,
 * the ceiling of the `me` benchmark (bench/scenarios/me.ts). The server
 * registers it only when BENCH_BARE_ROUTE=1, so both sides of that
 * comparison run in one process; it lives here, with the HTTP stack it
 * measures, so that the product never imports benchmark code.
 */
import type { App } from './http.ts';

export const BARE_ROUTE = '/bench/bare';

export function registerBareRoute(app: App): void {
  app.get(BARE_ROUTE, { schema: { hide: true } }, async () => ({ ok: true }));
}
