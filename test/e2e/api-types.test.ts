// The web app's API types (web/src/api.gen.ts) are generated from the OpenAPI
// document the server publishes (`npm run gen:api-types`): this fails while
// they are stale, so a route schema cannot change without the web app seeing it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiTypes, OUTPUT, publishedDocument, renderApiTypes } from '../../scripts/gen-api-types.mjs';
import { createTestApp } from '../support/app.ts';

const RELATIVE = path.relative(path.resolve(import.meta.dirname, '../..'), OUTPUT);

/** Where two texts first differ, as "line N: …" of each (empty when equal). */
function firstDifference(current: string, fresh: string): string {
  if (current === fresh) return '';
  const a = current.split('\n');
  const b = fresh.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `first difference at line ${i + 1}:\n  in ${RELATIVE}: ${a[i] ?? '(end of file)'}\n  generated now: ${b[i] ?? '(end of file)'}`;
}

describe('web API types', () => {
  it(`${RELATIVE} is up to date with the published OpenAPI document`, async () => {
    const fresh = await generateApiTypes();
    const current = await readFile(OUTPUT, 'utf8').catch(() => '');
    const diff = firstDifference(current, fresh);
    if (diff) throw new Error(`${RELATIVE} is stale: run npm run gen:api-types\n${diff}`);
  }, 60_000);

  it('generates from the document a running server serves (composing it without a database changes nothing)', async () => {
    const t = await createTestApp();
    try {
      const res = await t.ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      expect(res.statusCode).toBe(200);
      expect(await publishedDocument()).toEqual(res.json());
    } finally {
      await t.close();
    }
  }, 60_000);

  it('tells a changed document from the committed one, and renders the same document identically', async () => {
    const doc = await publishedDocument();
    const once = await renderApiTypes(structuredClone(doc));
    expect(await renderApiTypes(structuredClone(doc))).toBe(once);
    // A response field the web app reads goes away: the generated text differs.
    const changed = structuredClone(doc) as { paths: Record<string, Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking arbitrary OpenAPI JSON
    const me = changed.paths['/api/v1/me']!.get.responses['200'].content['application/json'].schema;
    delete me.properties.emailVerified;
    me.required = me.required.filter((name: string) => name !== 'emailVerified');
    expect(firstDifference(once, await renderApiTypes(changed))).toMatch(/emailVerified/);
  }, 60_000);
});
