/**
 * GET /bench/bare → {"ok":true}: the cheapest route the HTTP stack can serve,
 * the ceiling of the `me` benchmark (bench/scenarios/me.ts). The server under
 * test gets it from the bench's own entry script (bench/lib/server.ts, through
 * the start function's `extraRoutes`), so both sides of that comparison run in
 * one process and the product never knows about benchmarks.
 */
import type { App } from '../../src/platform/http.ts';

export const BARE_ROUTE = '/bench/bare';

export function registerBareRoute(app: App): void {
  app.get(BARE_ROUTE, { schema: { hide: true } }, async () => ({ ok: true }));
}
