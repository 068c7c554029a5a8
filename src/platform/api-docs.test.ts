import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_DOCS_PATH, apiDocsRoutes } from './api-docs.ts';
import { createHttpServer, openApiDocument, type App } from './http.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import { CONTENT_SECURITY_POLICY } from './web.ts';

describe('the API reference page (/api/docs)', () => {
  let app: App;
  beforeAll(async () => {
    app = await createHttpServer({ logger: createLogger('silent'), metrics: new Metrics(), readiness: {}, version: 'test' });
    app.get('/api/v1/things', { schema: { summary: 'Things' } }, async () => ({ ok: true }));
    await apiDocsRoutes(app);
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('serves Swagger UI from this origin under the strict CSP, with no inline script', async () => {
    for (const url of [API_DOCS_PATH, `${API_DOCS_PATH}/`]) {
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(page.body).toContain('<title>MissionLink API</title>');
      // Every script has a src on this origin; no inline code, no CDN.
      const scripts = [...page.body.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
      expect(scripts.length).toBeGreaterThanOrEqual(3);
      for (const [, attrs, body] of scripts) {
        expect(attrs).toMatch(/src="(\.|\/api\/docs)\/static\/[\w.-]+\.js"/);
        expect(body!.trim()).toBe('');
      }
      expect(page.body).not.toMatch(/https?:\/\//);
    }
    for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-initializer.js', 'swagger-ui.css', 'index.css']) {
      const res = await app.inject({ method: 'GET', url: `${API_DOCS_PATH}/static/${file}` });
      expect(res.statusCode, file).toBe(200);
      expect(res.headers['content-type']).toMatch(file.endsWith('.js') ? /javascript/ : /text\/css/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const init = await app.inject({ method: 'GET', url: `${API_DOCS_PATH}/static/swagger-initializer.js` });
    expect(init.body).toContain('validatorUrl: null');
  });

  it('renders the same OpenAPI document as /api/v1/openapi.json, and stays out of it', async () => {
    const doc = (await app.inject({ method: 'GET', url: `${API_DOCS_PATH}/json` })).json();
    const published = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(doc).toEqual(published);
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument(app))));
    expect(Object.keys(published.paths)).toEqual(['/api/v1/things']);
  });
});
