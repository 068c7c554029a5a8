import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import { servePageOnNotFound, type App } from './http.ts';

/**
 * The pages of the browser app: each answers web/dist/index.html and the app
 * picks the view from the path. /api/* is never among them (unknown API paths
 * keep their problem+json 404).
 */
export const APP_ROUTES = [
  '/',
  '/c/:handle',
  '/overlay/:handle',
  '/studio',
  '/studio/webhooks',
  '/studio/overlay',
  '/wallet',
  '/me',
  '/ops',
  '/signin',
  '/signup',
  // The link of a verification mail (?token=…).
  '/verify-email',
] as const;

/**
 * Every script, style, image and font comes from this origin, and nothing is
 * inline: the built app needs no exception (React sets styles through the
 * CSSOM, which CSP allows). Overlays may be framed by our own pages only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

const HTML_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
} as const;

/**
 * Origins a deployment's payment checkout needs beyond our own (with
 * PAYMENT_PROVIDER=portone: PortOne's browser SDK loads its checkout script
 * and frames from PortOne). Added to the policy only when given; the default
 * policy stays self-only.
 */
export interface CspAdditions {
  script?: string[];
  frame?: string[];
  connect?: string[];
}

/** The policy with `extra` origins added to script-src, frame-src and connect-src. */
export function contentSecurityPolicy(extra?: CspAdditions): string {
  if (!extra) return CONTENT_SECURITY_POLICY;
  const add = (directive: string, base: string, more?: string[]) => (more?.length ? `${directive} ${base} ${more.join(' ')}` : `${directive} ${base}`);
  return [
    "default-src 'self'",
    add('script-src', "'self'", extra.script),
    "style-src 'self'",
    "img-src 'self' data:",
    add('connect-src', "'self'", extra.connect),
    "font-src 'self'",
    ...(extra.frame?.length ? [add('frame-src', "'self'", extra.frame)] : []),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>MissionLink — web app not built</title></head>
<body>
<main>
<h1>The MissionLink web app has not been built</h1>
<p>The API is running, but <code>web/dist</code> is missing. Build the browser app with:</p>
<pre>npm run build:web</pre>
<p>and reload this page. (<code>npm start</code> builds it automatically when needed.)</p>
<p lang="ko">웹 앱이 아직 빌드되지 않았습니다. <code>npm run build:web</code>을 실행한 뒤 새로고침하세요.</p>
</main>
</body>
</html>
`;

/**
 * Serves the built web app (web/dist): hashed files under /assets/ cached for
 * a year as immutable, and index.html (never cached, strict CSP) for every
 * app route. Without a build, the app routes answer a 503 page that says how
 * to build it; the API is unaffected either way.
 * @example await webRoutes(http, { distDir: path.resolve('web/dist') });
 */
export async function webRoutes(app: App, opts: { distDir: string; csp?: CspAdditions }): Promise<void> {
  const distDir = path.resolve(opts.distDir);
  const htmlHeaders = opts.csp ? { ...HTML_HEADERS, 'content-security-policy': contentSecurityPolicy(opts.csp) } : HTML_HEADERS;
  const indexFile = path.join(distDir, 'index.html');

  await app.register(async (web) => {
    // Vite names every asset by its content hash, so a file never changes.
    await web.register(fastifyStatic, {
      root: path.join(distDir, 'assets'),
      prefix: '/assets/',
      wildcard: true,
      index: false,
      decorateReply: false,
      // Missing until the first build; files are looked up per request.
      suppressWarning: true,
      maxAge: '365d',
      immutable: true,
      setHeaders: (reply) => {
        reply.header('x-content-type-options', 'nosniff');
      },
    });

    const sendIndex = async (reply: FastifyReply, status = 200) => {
      reply
        .code(status)
        .headers(htmlHeaders)
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8');
      let html: Buffer;
      try {
        html = await readFile(indexFile);
      } catch {
        return reply.code(status === 200 ? 503 : status).header('cache-control', 'no-store').send(NOT_BUILT);
      }
      return reply.send(html);
    };

    // Unknown page addresses: the app's own 404 page, with status 404.
    servePageOnNotFound(app, (reply) => sendIndex(reply as FastifyReply, 404));

    for (const url of APP_ROUTES) {
      web.get(url, { schema: { hide: true } }, (_req, reply) => sendIndex(reply));
    }

    web.get('/favicon.svg', { schema: { hide: true } }, async (_req, reply) => {
      try {
        const svg = await readFile(path.join(distDir, 'favicon.svg'));
        return reply
          .type('image/svg+xml')
          .header('cache-control', 'public, max-age=86400')
          .header('x-content-type-options', 'nosniff')
          .send(svg);
      } catch {
        return reply.callNotFound();
      }
    });
  });
}
