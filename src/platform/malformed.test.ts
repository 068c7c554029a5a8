// Property test: whatever arrives at the identity routes — random JSON, wrong
// types, absurd numbers, oversized or control-laden strings, unknown fields,
// random bytes under any content type — the answer is never a 5xx, every error
// is problem+json with a catalogue code, and no account appears unless the
// request succeeded.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { ERROR_CATALOGUE } from './errors.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const ROUTES = {
  register: { url: '/api/v1/auth/register', fields: ['email', 'password', 'displayName'], success: 201 },
  login: { url: '/api/v1/auth/login', fields: ['email', 'password'], success: 200 },
  refresh: { url: '/api/v1/auth/refresh', fields: ['refreshToken'], success: 200 },
  logout: { url: '/api/v1/auth/logout', fields: ['refreshToken'], success: 204 },
} as const;
type RouteName = keyof typeof ROUTES;
const routeName = fc.constantFrom(...(Object.keys(ROUTES) as RouteName[]));

// ---- values a field should never choke on --------------------------------
const hugeString = fc.constantFrom('x'.repeat(300), 'é'.repeat(5_000), '가'.repeat(20_000), 'y'.repeat(70_000));
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b@example.kr', '\ud800', 'a\udfffb', '\u202e', '\r\n', '%00', "' OR 1=1 --", '$argon2id$v=19$', '__proto__'),
  fc.emailAddress(),
  hugeString,
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -0, -1, 0.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, 1e-320),
);
const leaf = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null));
const nastyValue = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

// What each field looks like when it is right …
const VALID: Record<string, fc.Arbitrary<string>> = {
  email: fc.emailAddress(),
  password: fc.constantFrom('correct horse battery', '0123456789', 'p'.repeat(128)),
  displayName: fc.constantFrom('Mina', '민아', 'A'),
  refreshToken: fc.string({ minLength: 1, maxLength: 60 }),
};
// … and the same with one hostile character slipped in somewhere.
// NUL weighs most: PostgreSQL text cannot hold it, so it reaches furthest.
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constant('\u0000') },
  { weight: 6, arbitrary: fc.constantFrom('\u0007', '\u001b', '\ud800', '\udc00', '\u202e', '\n', '\u00a0', '\uffff', '\u{1F600}', '"', '\\') },
);
const corrupted = (valid: fc.Arbitrary<string>) =>
  fc.tuple(valid, hostileChar, fc.nat()).map(([v, ch, at]) => v.slice(0, at % (v.length + 1)) + ch + v.slice(at % (v.length + 1)));
const fieldValue = (field: string) =>
  fc.oneof(
    { weight: 2, arbitrary: VALID[field]! },
    { weight: 3, arbitrary: corrupted(VALID[field]!) },
    { weight: 2, arbitrary: nastyValue },
  );

/** A body shaped like the route's, with some fields missing, mistyped, corrupted or added. */
const nearlyValid = (route: RouteName) =>
  fc
    .record({
      values: fc.record(Object.fromEntries(ROUTES[route].fields.map((f) => [f, fc.option(fieldValue(f), { nil: undefined, freq: 6 })]))),
      extra: fc.oneof(
        { weight: 3, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('isAdmin', 'roles', 'id', '__proto__', 'constructor', 'email ', 'Email', 'x'), nastyValue, { minKeys: 1, maxKeys: 2 }) },
      ),
    })
    .map(({ values, extra }) => {
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(values)) if (v !== undefined) body[k] = v;
      for (const [k, v] of Object.entries(extra)) Object.defineProperty(body, k, { value: v, enumerable: true, writable: true, configurable: true });
      return JSON.stringify(body);
    });

const deepNesting = fc.integer({ min: 100, max: 5_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));

const jsonText = (route: RouteName) =>
  fc.oneof(
    { weight: 4, arbitrary: nearlyValid(route) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) }, // mostly not JSON at all
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '{}', '[]', '""', '{"a":1}{', '{"email":"a@b.kr","email":"c@d.kr"}', '\ufeff{}') },
  );

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'application/problem+json',
  '*/*',
  'garbage',
  ';;;',
);

interface Case {
  route: RouteName;
  payload: string | Buffer;
  contentType: string | undefined;
  cookie: string | undefined;
  remoteAddress: string;
}

const ip = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 })).map(([a, b]) => `10.77.${a}.${b}`);
const cookie = fc.option(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('ml_refresh=', 'ml_refresh=abc', 'ml_refresh=%00', 'ml_refresh="x"; other=1')), { nil: undefined });

const jsonCaseFor = (route: RouteName): fc.Arbitrary<Case> =>
  fc.record({
    route: fc.constant(route),
    payload: jsonText(route),
    contentType: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
      { weight: 1, arbitrary: fc.constantFrom(undefined, 'text/plain') },
    ),
    cookie,
    remoteAddress: ip,
  });
const jsonCase = routeName.chain(jsonCaseFor);
const bytesCase: fc.Arbitrary<Case> = fc.record({
  route: routeName,
  payload: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(new Uint8Array(70_000).fill(0x20), new Uint8Array(0))).map((b) => Buffer.from(b)),
  contentType,
  cookie,
  remoteAddress: ip,
});

const userCount = async () => (await t.db.pools.identity.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n;

async function check(c: Case): Promise<void> {
  const before = await userCount();
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.cookie !== undefined) headers.cookie = c.cookie.includes('=') ? c.cookie : `ml_refresh=${encodeURIComponent(c.cookie)}`;
  const res = await t.ml.http.inject({ method: 'POST', url: ROUTES[c.route].url, payload: c.payload, headers, remoteAddress: c.remoteAddress });
  const after = await userCount();
  const what = `${c.route} ${res.statusCode} ${res.body.slice(0, 300)}`;

  expect(res.statusCode, what).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(res.headers['content-type'], what).toBe('application/problem+json; charset=utf-8');
    const body = res.json();
    expect(Object.keys(ERROR_CATALOGUE), what).toContain(body.code);
    expect(body.status, what).toBe(res.statusCode);
    expect(ERROR_CATALOGUE[body.code as keyof typeof ERROR_CATALOGUE].status, what).toBe(res.statusCode);
    expect(typeof body.type === 'string' && typeof body.title === 'string' && typeof body.detail === 'string', what).toBe(true);
  } else {
    expect(res.statusCode, what).toBe(ROUTES[c.route].success);
  }
  expect(res.body, what).not.toMatch(/argon2|password_hash|SELECT |\bat .+:\d+:\d+/);
  // only a successful registration adds an account
  expect(after - before, what).toBe(c.route === 'register' && res.statusCode === 201 ? 1 : 0);
}

describe('identity routes under malformed input', () => {
  it.each(Object.keys(ROUTES) as RouteName[])(
    '%s never answers 5xx; errors are problem+json with a catalogue code; no stray accounts (JSON bodies)',
    async (route) => {
      await fc.assert(fc.asyncProperty(jsonCaseFor(route), check), { numRuns: 70 });
    },
  );

  it('every route, the same for random bytes under any content type or none', async () => {
    await fc.assert(fc.asyncProperty(bytesCase, check), { numRuns: 100 });
  });

  it('the generators do reach the interesting answers', async () => {
    // Not a property: a guard that the cases above are not all trivially refused the same way.
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonCase, bytesCase), async (c) => {
        const headers: Record<string, string> = c.contentType ? { 'content-type': c.contentType } : {};
        const res = await t.ml.http.inject({ method: 'POST', url: ROUTES[c.route].url, payload: c.payload, headers, remoteAddress: c.remoteAddress });
        codes.add(res.statusCode < 400 ? String(res.statusCode) : res.json().code);
      }),
      { numRuns: 60, seed: 20250101 },
    );
    expect([...codes]).toEqual(expect.arrayContaining(['VALIDATION_FAILED', 'MALFORMED_JSON', 'UNSUPPORTED_MEDIA_TYPE']));
  });
});
