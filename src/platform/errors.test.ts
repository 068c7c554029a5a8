import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { AppError, ERROR_CATALOGUE, problemOf, type ErrorCode } from './errors.ts';

// The catalogue, docs/errors.md and the served OpenAPI document must list the
// same codes with the same statuses: a code added to one is added to all.

let t: TestApp;
// The parsed OpenAPI document: plain JSON, walked loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
let doc: Json;
let docsTable: Map<string, { status: number; anchor: string | undefined; meaning: string; when: string }>;

const catalogue = Object.entries(ERROR_CATALOGUE).map(([code, e]) => ({ code, status: e.status, title: e.title }));
const kebab = (code: string) => code.toLowerCase().replaceAll('_', '-');

beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  const markdown = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  docsTable = new Map();
  for (const line of markdown.split('\n')) {
    // | <a id="x"></a>`CODE` | 400 | meaning | when |
    const m = /^\|\s*(?:<a id="([^"]+)"><\/a>)?`([A-Z][A-Z0-9_]*)`\s*\|\s*(\d{3})\s*\|([^|]*)\|([^|]*)\|\s*$/.exec(line);
    if (!m) continue;
    expect(docsTable.has(m[2]!), `${m[2]} is listed twice in docs/errors.md`).toBe(false);
    docsTable.set(m[2]!, { anchor: m[1], status: Number(m[3]), meaning: m[4]!.trim(), when: m[5]!.trim() });
  }
});
afterAll(async () => t?.close());

describe('the error catalogue', () => {
  it('has stable SCREAMING_SNAKE codes with error statuses and titles', () => {
    expect(catalogue.length).toBeGreaterThan(0);
    for (const { code, status, title } of catalogue) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThanOrEqual(599);
      expect(title.length, code).toBeGreaterThan(0);
    }
  });

  it('holds the codes the API contract names', () => {
    for (const code of ['VALIDATION_FAILED', 'EMAIL_TAKEN', 'INVALID_CREDENTIALS', 'INSUFFICIENT_FUNDS', 'MISSION_NOT_OPEN', 'MISSION_ALREADY_DECIDED',
      'IDEMPOTENCY_KEY_REUSED', 'REQUEST_IN_PROGRESS', 'HANDLE_TAKEN', 'ALREADY_STREAMER', 'ALREADY_CLAIMED', 'SIDE_ALREADY_CHOSEN', 'PREDICTION_LOCKED',
      'INSUFFICIENT_POINTS', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']) {
      expect(ERROR_CATALOGUE, code).toHaveProperty(code);
    }
    expect(ERROR_CATALOGUE.IDEMPOTENCY_KEY_REUSED.status).toBe(422);
    expect(ERROR_CATALOGUE.INSUFFICIENT_FUNDS.status).toBe(402);
    expect(ERROR_CATALOGUE.RATE_LIMITED.status).toBe(429);
  });

  it('builds problems whose type links to the code’s entry in docs/errors.md', () => {
    for (const { code, status, title } of catalogue) {
      const p = problemOf(code as ErrorCode);
      expect(p).toEqual({ type: `https://missionlink.dev/errors#${kebab(code)}`, title, status, detail: title, code });
      expect(docsTable.get(code)?.anchor, `docs/errors.md has an anchor for ${code}`).toBe(kebab(code));
    }
    expect(new AppError('EMAIL_TAKEN').status).toBe(409);
  });
});

describe('docs/errors.md', () => {
  it('lists exactly the catalogue’s codes, with the same statuses', () => {
    expect([...docsTable.keys()].sort()).toEqual(catalogue.map((e) => e.code).sort());
    for (const { code, status } of catalogue) expect(docsTable.get(code)?.status, code).toBe(status);
  });

  it('says what each code means and when it happens', () => {
    for (const [code, row] of docsTable) {
      expect(row.meaning.length, `${code}: meaning`).toBeGreaterThan(5);
      expect(row.when.length, `${code}: when`).toBeGreaterThan(10);
    }
  });
});

describe('the OpenAPI document', () => {
  it('publishes the catalogue as x-error-catalogue', () => {
    const published = doc['x-error-catalogue'] as Record<string, { status: number; title: string }>;
    expect(Object.keys(published).sort()).toEqual(catalogue.map((e) => e.code).sort());
    for (const { code, status, title } of catalogue) expect(published[code]).toEqual({ status, title });
  });

  it('has a Problem schema whose code enum is the catalogue', () => {
    const problem = doc.components.schemas.Problem;
    expect(problem.type).toBe('object');
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']));
    expect([...problem.properties.code.enum].sort()).toEqual(catalogue.map((e) => e.code).sort());
  });

  it('documents every error response of every route with the Problem schema and a catalogue status', () => {
    const statuses = new Set(catalogue.map((e) => String(e.status)));
    let seen = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses ?? {}) as [string, Json][]) {
          if (Number(status) < 400) continue;
          seen++;
          expect(statuses.has(status), `${method} ${path} ${status} has a catalogue code`).toBe(true);
          const schemas = Object.values(response.content ?? {}).map((c: Json) => c.schema);
          expect(schemas, `${method} ${path} ${status}`).toContainEqual({ $ref: '#/components/schemas/Problem' });
        }
      }
    }
    expect(seen).toBeGreaterThan(5);
  });
});
