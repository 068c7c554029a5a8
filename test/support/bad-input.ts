// Helpers for tests that attack the money routes with bad input: raw requests
// (exact JSON text, e.g. numbers beyond 2^53), precise problem+json checks, and
// snapshots proving that a refused request moved no money.
import fc from 'fast-check';
import { expect } from 'vitest';
import { verifyBooks as verifyLedger } from '../../src/missions/index.ts'; // the ledger's checks and the pledge book's
import { ERROR_CATALOGUE } from '../../src/platform/errors.ts';
import type { TestApp } from './app.ts';
import type { Caller } from './api.ts';

export interface RawAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  body: any;
  text: string;
  headers: Record<string, string | string[] | number | undefined>;
}

/**
 * One request with the body sent exactly as given (a string is sent as is, as
 * JSON text; anything else is JSON.stringify'd).
 * @example await raw(t, 'POST', '/api/v1/wallet/charges', alice, '{"amount": 9007199254740993}')
 */
export async function raw(
  t: TestApp,
  method: string,
  url: string,
  who: Caller | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const payload =
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await t.ml.http.inject({
    method: method as 'POST',
    url,
    headers: {
      ...(who ? { authorization: `Bearer ${who.token}` } : {}),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    payload,
  });
  let json: unknown;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json, text: res.payload, headers: res.headers };
}

/** Asserts an RFC 9457 answer with this status and catalogue code (and, if given, a field error at `path`). */
export function expectProblem(
  res: RawAnswer,
  status: number,
  code: keyof typeof ERROR_CATALOGUE,
  path?: string,
): void {
  const context = `${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, context).toBe(status);
  expect(String(res.headers['content-type']), context).toMatch(/^application\/problem\+json/);
  expect(res.body, context).toMatchObject({ status, code, title: ERROR_CATALOGUE[code].title });
  expect(typeof res.body.type, context).toBe('string');
  expect(typeof res.body.detail, context).toBe('string');
  expect(res.text, context).not.toMatch(
    /\bat .+\.ts:\d+|SELECT |INSERT |UPDATE .+ SET|violates|syntax error/i,
  );
  if (path !== undefined) {
    expect(Array.isArray(res.body.errors), context).toBe(true);
    expect(
      res.body.errors.map((e: { path: string }) => e.path),
      context,
    ).toContain(path);
  }
}

export interface MoneySnapshot {
  wallets: unknown[];
  transfers: number;
  charges: number;
  missions: number;
  pledges: number;
  idempotencyKeys: number;
}

/** Every given wallet plus row counts of everything money leaves behind. */
export async function moneySnapshot(t: TestApp, users: Caller[]): Promise<MoneySnapshot> {
  const wallets = await Promise.all(
    users.map(async (u) => (await raw(t, 'GET', '/api/v1/wallet', u)).body),
  );
  const count = async (table: string) =>
    Number(
      (await t.db.pools.funding.query(`SELECT count(*)::bigint AS n FROM ${table}`)).rows[0].n,
    );
  return {
    wallets,
    transfers: await count('transfers'),
    charges: await count('charges'),
    missions: await count('missions'),
    pledges: await count('pledges'),
    idempotencyKeys: await count('idempotency_keys'),
  };
}

/** Runs `refused` and asserts that it changed no wallet, no ledger row and no mission, and that the books verify. */
export async function expectNoMoneyMoved(
  t: TestApp,
  users: Caller[],
  refused: () => Promise<void>,
): Promise<void> {
  const before = await moneySnapshot(t, users);
  await refused();
  expect(await moneySnapshot(t, users)).toEqual(before);
  const report = await verifyLedger(t.db.pools.funding);
  expect(report.problems).toEqual([]);
}

/** JSON text of amounts that are not a positive safe integer (or are beyond every bound). */
export const BAD_AMOUNTS_JSON = [
  '-1',
  '0',
  '-0',
  '0.5',
  '1000.5',
  '1e-3',
  '10000.5e-1',
  '"1000"',
  '"abc"',
  'null',
  'true',
  '[]',
  '[1000]',
  '{}',
  '{"value":1000}',
  '9007199254740993',
  '9007199254740992',
  '18446744073709551616',
  '1e400',
  '-1e400',
  '1e308',
] as const;

/** Integral amounts written in other JSON notations: accepted as their integer value. */
export const INTEGRAL_NOTATIONS = [
  ['1e3', 1000],
  ['1.0e3', 1000],
  ['1000.0', 1000],
  ['1.5e3', 1500],
  ['2E3', 2000],
] as const;

/** Arbitrary JSON-ish values, hostile ones weighted up, for "never a 5xx" properties. */
const leaf = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 63,
    1e-320,
    1000,
    5000,
    1_000_000,
  ),
  fc.string({ maxLength: 20 }),
  // Ordinary text with one character PostgreSQL or Unicode cannot take slipped in.
  fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('\u0000', '\ud800', '\udfff', '\u202e', '\n'),
      fc.string({ maxLength: 10 }),
    )
    .map(([a, c, b]) => a + c + b),
  fc.constantFrom(
    '',
    '\u0000',
    'SUCCEEDED',
    'FAILED',
    'x'.repeat(3000),
    '01890000-0000-7000-8000-000000000000',
    "'; DROP TABLE accounts; --",
  ),
  fc.boolean(),
  fc.constant(null),
);
export const anyValue = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), leaf, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A body built from the route's own fields (each maybe missing or hostile), maybe with an extra field. */
export function bodyFor(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const record = fc.record(
    Object.fromEntries(Object.entries(fields).map(([k, valid]) => [k, fc.oneof(valid, anyValue)])),
    { requiredKeys: [] },
  );
  return fc.oneof(
    { weight: 6, arbitrary: record },
    {
      weight: 1,
      arbitrary: fc
        .tuple(record, fc.string({ minLength: 1, maxLength: 8 }), anyValue)
        .map(([r, k, v]) => ({ ...(r as object), [k]: v })),
    },
    { weight: 1, arbitrary: anyValue },
  );
}
