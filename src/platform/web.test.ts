import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type App } from './http.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import { APP_ROUTES, CONTENT_SECURITY_POLICY, webRoutes } from './web.ts';

async function serverFor(distDir: string): Promise<App> {
  const app = await createHttpServer({
    logger: createLogger('silent'),
    metrics: new Metrics(),
    readiness: {},
    version: 'test',
  });
  await webRoutes(app, { distDir });
  await app.ready();
  return app;
}

describe('web app routes', () => {
  let dir: string;
  let app: App;
  let missing: App;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-web-'));
    const dist = path.join(dir, 'dist');
    await mkdir(path.join(dist, 'assets'), { recursive: true });
    await writeFile(
      path.join(dist, 'index.html'),
      '<!doctype html><html lang="ko"><title>MissionLink</title><script type="module" src="/assets/index-abc123.js"></script></html>',
    );
    await writeFile(path.join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
    await writeFile(path.join(dist, 'assets', 'index-abc123.css'), 'body{}');
    await writeFile(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = await serverFor(dist);
    missing = await serverFor(path.join(dir, 'not-built'));
  });

  afterAll(async () => {
    await app?.close();
    await missing?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every app route with index.html under a strict CSP, never cached', async () => {
    const paths = APP_ROUTES.map((r) => r.replace(':handle', 'cooking_kim'));
    expect(paths).toEqual(
      expect.arrayContaining([
        '/',
        '/c/cooking_kim',
        '/overlay/cooking_kim',
        '/studio',
        '/studio/overlay',
        '/wallet',
        '/me',
        '/ops',
        '/signin',
        '/signup',
      ]),
    );
    for (const url of [...paths, '/studio/', '/c/cooking_kim?from=share']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('/assets/index-abc123.js');
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    const head = await app.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
  });

  it('has a policy with no inline or third-party exception', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((d) => [
        d.split(' ')[0],
        d.split(' ').slice(1).join(' '),
      ]),
    );
    expect(directives).toMatchObject({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'connect-src': "'self'",
      'font-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'frame-ancestors': "'self'",
    });
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
  });

  it('serves hashed assets for a year, immutable', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toMatch(/max-age=31536000/);
    expect(js.headers['cache-control']).toMatch(/immutable/);
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    const css = await app.inject({ method: 'GET', url: '/assets/index-abc123.css' });
    expect(css.headers['content-type']).toMatch(/text\/css/);
    const favicon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(favicon.statusCode).toBe(200);
    expect(favicon.headers['content-type']).toMatch(/image\/svg\+xml/);
    const gone = await app.inject({ method: 'GET', url: '/assets/index-old999.js' });
    expect(gone.statusCode).toBe(404);
    const escape = await app.inject({ method: 'GET', url: '/assets/..%2findex.html' });
    expect(escape.statusCode).toBeGreaterThanOrEqual(400);
  });

  it('leaves the API alone: unknown /api paths keep their problem+json 404', async () => {
    for (const url of ['/api/v1/nope', '/api/v1/channels/x/y/z', '/api']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/'))).toEqual([]);
  });

  it('answers a browser asking for an unknown page with the app (its 404 page) and status 404; programs and API paths get problem+json', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    for (const url of ['/nope/page', '/c', '/c/a/b', '/studio/x?y=1', '/%ED%95%9C']) {
      const res = await app.inject({ method: 'GET', url, headers: browser });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('/assets/index-abc123.js');
      const head = await app.inject({ method: 'HEAD', url, headers: browser });
      expect(head.statusCode, url).toBe(404);
    }
    // API paths, other methods, and clients that do not ask for HTML.
    for (const [method, url, headers] of [
      ['GET', '/api/v1/nope', browser],
      ['GET', '/api/docs/nope/nope', browser],
      ['GET', '/nope/page', { accept: 'application/json' }],
      ['GET', '/nope/page', {}],
      ['POST', '/nope/page', browser],
      ['GET', '/.well-known/nope', browser],
    ] as const) {
      const res = await app.inject({ method, url, headers });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.headers['content-type'], `${method} ${url}`).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    // A known page with a method it does not serve is still 405.
    expect((await app.inject({ method: 'POST', url: '/wallet', headers: browser })).statusCode).toBe(405);
    // Without a build the 404 page is the build hint, still with status 404.
    const unbuilt = await missing.inject({ method: 'GET', url: '/nope/page', headers: browser });
    expect(unbuilt.statusCode).toBe(404);
    expect(unbuilt.body).toContain('npm run build:web');
  });

  it('says how to build the app when web/dist is missing (503), and the API still answers', async () => {
    const res = await missing.inject({ method: 'GET', url: '/c/cooking_kim' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('npm run build:web');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect((await missing.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(
      (await missing.inject({ method: 'GET', url: '/assets/index-abc123.js' })).statusCode,
    ).toBe(404);
  });
});
