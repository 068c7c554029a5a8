// Contract 1.1's hardening of the HTTP layer, seen from outside: who the
// client is behind a proxy (and an attacker who is not one), headers of API
// answers, 405 with Allow, and /metrics kept off the public port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { LIMITS } from '../identity/throttle.ts';
import { freePort } from './net.ts';

const PROXY = '10.0.0.7';
const PASSWORD = 'correct horse battery';
const ACCOUNT_LIMIT = LIMITS.find((l) => l.scope === 'account')!;
const IP_LIMIT = LIMITS.find((l) => l.scope === 'ip')!;

let behindProxy: TestApp;
let direct: TestApp;
let metricsApart: TestApp;
let metricsPort: number;
beforeAll(async () => {
  metricsPort = await freePort();
  [behindProxy, direct, metricsApart] = await Promise.all([
    createTestApp({ TRUST_PROXY: `${PROXY},10.1.0.0/16` }),
    createTestApp(),
    createTestApp({ METRICS_PORT: String(metricsPort) }),
  ]);
});
afterAll(async () => {
  await Promise.all([behindProxy?.close(), direct?.close(), metricsApart?.close()]);
});

let n = 0;
const unique = () => `${Date.now()}.${++n}`;

async function register(t: TestApp): Promise<string> {
  const email = `proxy${unique()}@example.kr`;
  const res = await t.ml.http.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'P' } });
  expect(res.statusCode, res.body).toBe(201);
  return email;
}

/** A login as the Gateway forwards it: the peer is the proxy, the client in X-Forwarded-For. */
const loginVia = (t: TestApp, email: string, password: string, client: string, peer = PROXY) =>
  t.ml.http.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: peer,
    headers: { 'x-forwarded-for': client },
  });

describe('behind a trusted proxy (TRUST_PROXY)', () => {
  it(`an attacker's failed logins lock neither the victim's account nor other clients of the same proxy`, async () => {
    const victim = await register(behindProxy);
    // Guesses at the victim's password, then at many accounts, all from one client.
    for (let i = 0; i < ACCOUNT_LIMIT.maxFailures; i++) {
      expect((await loginVia(behindProxy, victim, 'wrong password!', '203.0.113.9')).statusCode).toBe(401);
    }
    expect((await loginVia(behindProxy, victim, PASSWORD, '203.0.113.9')).statusCode).toBe(429);
    const others = await Promise.all([1, 2, 3].map(() => register(behindProxy)));
    for (let i = ACCOUNT_LIMIT.maxFailures; i < IP_LIMIT.maxFailures; i++) {
      const res = await loginVia(behindProxy, others[i % others.length]!, 'wrong password!', '203.0.113.9');
      expect([401, 429]).toContain(res.statusCode);
    }
    expect((await loginVia(behindProxy, others[0]!, 'wrong password!', '203.0.113.9')).statusCode).toBe(429);
    // The victim and everyone else reach us through the same proxy, from their own addresses.
    expect((await loginVia(behindProxy, victim, PASSWORD, '198.51.100.7')).statusCode).toBe(200);
    expect((await loginVia(behindProxy, others[1]!, PASSWORD, '198.51.100.8')).statusCode).toBe(200);
    // A proxy in a trusted CIDR counts as well; the leftmost untrusted hop is the client.
    expect((await loginVia(behindProxy, victim, PASSWORD, `203.0.113.9, 198.51.100.9`, '10.1.2.3')).statusCode).toBe(200);
  }, 120_000);

  it('the scheme comes from X-Forwarded-Proto of a trusted proxy: HSTS only for https clients', async () => {
    const viaTls = await behindProxy.ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json', remoteAddress: PROXY, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' } });
    expect(viaTls.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    const plain = await behindProxy.ml.http.inject({ method: 'GET', url: '/api/v1/openapi.json', remoteAddress: PROXY, headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('without TRUST_PROXY, forwarded headers are not believed', () => {
  it('a client cannot dodge the per-address limit by inventing X-Forwarded-For, nor claim https', async () => {
    const email = await register(direct);
    const attacker = '192.0.2.44';
    for (let i = 0; i < ACCOUNT_LIMIT.maxFailures; i++) {
      expect((await loginVia(direct, email, 'wrong password!', `198.51.100.${i}`, attacker)).statusCode).toBe(401);
    }
    expect((await loginVia(direct, email, PASSWORD, '198.51.100.200', attacker)).statusCode).toBe(429);
    const res = await direct.ml.http.inject({ method: 'GET', url: '/healthz', remoteAddress: attacker, headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('headers and methods', () => {
  it('API answers, problems included, are never sniffed or cached', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/openapi.json'],
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/nope'],
      ['POST', '/api/v1/auth/login'],
      ['GET', '/healthz'],
    ] as const) {
      const res = await direct.ml.http.inject({ method, url });
      expect(res.headers['x-content-type-options'], `${method} ${url}`).toBe('nosniff');
      expect(res.headers['cache-control'], `${method} ${url}`).toBe('no-store');
    }
  });

  it('a known path with a method it does not serve answers 405 with Allow; unknown paths stay 404', async () => {
    const cases = [
      { method: 'GET', url: '/api/v1/auth/login', allow: ['POST'] },
      { method: 'DELETE', url: '/api/v1/wallet', allow: ['GET', 'HEAD'] },
      { method: 'PUT', url: '/api/v1/missions/0190a3b2-0000-7000-8000-000000000000/pledges', allow: ['GET', 'HEAD', 'POST'] },
      { method: 'POST', url: '/healthz/', allow: ['GET', 'HEAD'] },
    ] as const;
    for (const c of cases) {
      const res = await direct.ml.http.inject({ method: c.method, url: c.url });
      expect(res.statusCode, `${c.method} ${c.url}`).toBe(405);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
      expect(String(res.headers.allow).split(', ')).toEqual(expect.arrayContaining([...c.allow]));
    }
    const unknown = await direct.ml.http.inject({ method: 'DELETE', url: '/api/v1/no/such/thing' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('NOT_FOUND');
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics on its own port only; the public port answers 404 for every spelling of it', async () => {
    await metricsApart.ml.http.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(metricsApart.ml.http.server.address() as { port: number }).port}`;
    for (const spelling of ['/metrics', '/metrics/', '/%6detrics', '/%6D%65trics', '/METRICS', '//metrics', '/metrics?x=1', '/./metrics', '/api/../metrics']) {
      const res = await fetch(`${base}${spelling}`);
      const body = await res.text();
      expect(res.status, spelling).toBe(404);
      expect(body, spelling).not.toContain('# HELP');
    }
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await scraped.text()).toContain('# HELP');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
    // Without METRICS_PORT, Part 1 holds: /metrics on the public port.
    expect((await direct.ml.http.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
