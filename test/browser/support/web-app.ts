// A whole MissionLink (on the test run's PostgreSQL) that also serves the
// built web app, on a real socket for a real browser.
//
// When the composition root already registers the web routes, its own HTTP
// server is used as is. Otherwise (Fastify takes no routes after ready())
// a front server on one origin hands web paths to a Fastify instance with
// webRoutes and everything else to MissionLink's, so cookies, SSE and the
// CSP behave exactly as they would on one server.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import type { App } from '../../../src/platform/http.ts';
import { webRoutes } from '../../../src/platform/web.ts';
import { createTestApp, type TestApp } from '../../support/app.ts';
import { REPO_ROOT } from '../../support/process.ts';

export const DIST_DIR = path.join(REPO_ROOT, 'web', 'dist');

/** Builds web/dist unless it is newer than every source file. */
export async function buildWebIfNeeded(): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [path.join(REPO_ROOT, 'scripts', 'build-web.mjs'), '--if-needed'],
    { cwd: REPO_ROOT, timeout: 120_000 },
  );
}

export interface WebApp {
  url: string;
  t: TestApp;
  /** Cuts every open connection (SSE streams included), as a network blip would. */
  dropConnections(): void;
  close(): Promise<void>;
}

const API_PATHS = /^\/(api\/|healthz|readyz|metrics|\.well-known\/)/;

export async function startWebApp(env: Record<string, string> = {}): Promise<WebApp> {
  await buildWebIfNeeded();
  const t = await createTestApp({ LOG_LEVEL: 'silent', ...env });
  const http = t.ml.http;

  if (http.hasRoute({ method: 'GET', url: '/c/:handle' })) {
    const url = await http.listen({ port: 0, host: '127.0.0.1' });
    return {
      url,
      t,
      dropConnections: () => http.server.closeAllConnections(),
      close: () => t.close(),
    };
  }

  const web = Fastify({ logger: false });
  await webRoutes(web as unknown as App, { distDir: DIST_DIR });
  await web.ready();
  const front: Server = createServer((req, res) => {
    const target = API_PATHS.test(req.url ?? '/') ? http : web;
    (target as unknown as { routing: (rq: typeof req, rs: typeof res) => void }).routing(req, res);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    t,
    dropConnections: () => front.closeAllConnections(),
    async close() {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await web.close();
      await t.close();
    },
  };
}
