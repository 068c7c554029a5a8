import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { LIMITS } from './throttle.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const PASSWORD = 'correct horse battery';
const ACCOUNT_LIMIT = LIMITS.find((l) => l.scope === 'account')!;
const IP_LIMIT = LIMITS.find((l) => l.scope === 'ip')!;

let n = 0;
// Each test uses addresses of its own, so the per-address counters never mix.
const ip = () => `198.51.${Math.floor(++n / 250)}.${n % 250}`;

async function account() {
  const email = `throttle${++n}.${Date.now()}@example.kr`;
  const res = await t.ml.http.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'T' } });
  expect(res.statusCode).toBe(201);
  return email;
}
const login = (email: string, password: string, remoteAddress: string) =>
  t.ml.http.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress });

async function fail(email: string, from: string, times: number) {
  for (let i = 0; i < times; i++) expect((await login(email, 'wrong password!', from)).statusCode).toBe(401);
}

function expectRateLimited(res: Awaited<ReturnType<typeof login>>) {
  expect(res.statusCode, res.body).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(ACCOUNT_LIMIT.windowSeconds);
}

// The tests of a block use accounts and addresses of their own, so they run side by side.
describe.concurrent('failed logins per account and address', () => {
  it(`answer 429 with Retry-After after ${ACCOUNT_LIMIT.maxFailures} failures, even for the right password`, async () => {
    const email = await account();
    const attacker = ip();
    await fail(email, attacker, ACCOUNT_LIMIT.maxFailures);
    expectRateLimited(await login(email, 'wrong password!', attacker));
    expectRateLimited(await login(email, PASSWORD, attacker));
  });

  it('never lock the owner out from another address', async () => {
    const email = await account();
    const attacker = ip();
    await fail(email, attacker, ACCOUNT_LIMIT.maxFailures);
    expectRateLimited(await login(email, 'wrong password!', attacker));
    const owner = ip();
    expect((await login(email, PASSWORD, owner)).statusCode).toBe(200);
    // the owner mistyping once is still an ordinary 401
    expect((await login(email, 'typo password', owner)).statusCode).toBe(401);
    expectRateLimited(await login(email, PASSWORD, attacker));
  });

  it('count unknown emails the same way (the throttle tells nothing about which accounts exist)', async () => {
    const from = ip();
    const ghost = `ghost.${Date.now()}@example.kr`;
    await fail(ghost, from, ACCOUNT_LIMIT.maxFailures);
    expectRateLimited(await login(ghost, 'wrong password!', from));
  });

  it('match the account case-insensitively', async () => {
    const email = await account();
    const from = ip();
    for (let i = 0; i < ACCOUNT_LIMIT.maxFailures; i++) {
      expect((await login(i % 2 ? email.toUpperCase() : ` ${email}`, 'wrong password!', from)).statusCode).toBe(401);
    }
    expectRateLimited(await login(email, PASSWORD, from));
  });

  it('are reset by a successful login', async () => {
    const email = await account();
    const from = ip();
    await fail(email, from, ACCOUNT_LIMIT.maxFailures - 1);
    expect((await login(email, PASSWORD, from)).statusCode).toBe(200);
    await fail(email, from, ACCOUNT_LIMIT.maxFailures - 1);
    expect((await login(email, PASSWORD, from)).statusCode).toBe(200);
  });

  it('hold against a burst of parallel guesses', async () => {
    const email = await account();
    const from = ip();
    const results = await Promise.all(Array.from({ length: 25 }, () => login(email, 'wrong password!', from)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(ACCOUNT_LIMIT.maxFailures);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25 - ACCOUNT_LIMIT.maxFailures);
  });

  it('let logins through again once the window is over', async () => {
    const email = await account();
    const from = ip();
    await fail(email, from, ACCOUNT_LIMIT.maxFailures);
    expectRateLimited(await login(email, PASSWORD, from));
    await t.db.pools.identity.query(
      `UPDATE login_throttle SET window_start = window_start - make_interval(secs => $1) WHERE key LIKE $2`,
      [ACCOUNT_LIMIT.windowSeconds, `%${from}`],
    );
    expect((await login(email, PASSWORD, from)).statusCode).toBe(200);
  });

});

it('counts failures and refusals in the metrics', async () => {
  const metrics = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toMatch(/missionlink_login_throttled_total\{scope="account"\} [1-9]/);
  expect(metrics).toMatch(/missionlink_login_failures_total\{reason="invalid_credentials"\} [1-9]/);
});

describe('successes are not throttled', () => {
  it('50 successful logins in a row from one address', async () => {
    const email = await account();
    const from = ip();
    for (let i = 0; i < 50; i++) expect((await login(email, PASSWORD, from)).statusCode).toBe(200);
  });

  it('15 successful logins at once from one address, to the same account', async () => {
    const email = await account();
    const from = ip();
    const results = await Promise.all(Array.from({ length: 15 }, () => login(email, PASSWORD, from)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(15).fill(200));
  });

  it('20 registrations at once from one address', async () => {
    const from = ip();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.ml.http.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: { email: `burst${i}.${Date.now()}@example.kr`, password: PASSWORD, displayName: 'B' },
          remoteAddress: from,
        }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
  });
});

describe('failed logins per address', () => {
  it(`stop one address after ${IP_LIMIT.maxFailures} failures across many accounts, and only that address`, async () => {
    const from = ip();
    // The first failures, recorded directly (a hundred password hashes would
    // only slow the test down); the last ones happen for real, each on another
    // account that stays far below its own limit.
    const real = 4;
    await t.db.pools.identity.query(`INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, $2, now())`, [
      `ip:${from}`,
      IP_LIMIT.maxFailures - real,
    ]);
    for (let a = 0; a < real; a++) {
      expect((await login(`spray${a}.${Date.now()}@example.kr`, 'wrong password!', from)).statusCode).toBe(401);
    }
    const victim = await account();
    expectRateLimited(await login(victim, PASSWORD, from));
    expectRateLimited(await login(`spray-next.${Date.now()}@example.kr`, 'wrong password!', from));
    expect((await login(victim, PASSWORD, ip())).statusCode).toBe(200);
    const metrics = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/missionlink_login_throttled_total\{scope="ip"\} [1-9]/);
  });

  it('count real failures across accounts from one address', async () => {
    const from = ip();
    for (let a = 0; a < 3; a++) await fail(`count${a}.${Date.now()}@example.kr`, from, 2);
    const { rows } = await t.db.pools.identity.query('SELECT failures FROM login_throttle WHERE key = $1', [`ip:${from}`]);
    expect(rows[0]?.failures).toBe(6);
  });
});
