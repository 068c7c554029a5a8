// The refresh cookie is `Secure` whenever the client used https: directly,
// or through a proxy in TRUST_PROXY that says `X-Forwarded-Proto: https`.
// A peer outside TRUST_PROXY cannot change what the server believes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client } from '../../test/support/api.ts';
import { REFRESH_COOKIE } from './routes.ts';

let behindProxy: TestApp;
let direct: TestApp;

beforeAll(async () => {
  [behindProxy, direct] = await Promise.all([createTestApp({ TRUST_PROXY: '127.0.0.1' }), createTestApp()]);
});
afterAll(async () => {
  await Promise.all([behindProxy?.close(), direct?.close()]);
});

/** The attributes of the refresh cookie an answer sets, lowercased; undefined when none. */
function refreshCookie(headers: Record<string, unknown>): string[] | undefined {
  const raw = headers['set-cookie'];
  const all = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as string[];
  const line = all.find((c) => c.startsWith(`${REFRESH_COOKIE}=`));
  return line?.split(';').slice(1).map((a) => a.trim().toLowerCase());
}

/** Signs up, then signs in and refreshes (cookie in, cookie out) with the given headers and peer. */
async function sessionCookies(t: TestApp, headers: Record<string, string>, remoteAddress = '127.0.0.1') {
  const { email } = await client(t.ml.http).signUp('Cookie');
  const login = await t.ml.http.inject({
    method: 'POST', url: '/api/v1/auth/login', remoteAddress, headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ email, password: 'a long password' }),
  });
  expect(login.statusCode, login.body).toBe(200);
  const refresh = await t.ml.http.inject({
    method: 'POST', url: '/api/v1/auth/refresh', remoteAddress, headers,
    cookies: { [REFRESH_COOKIE]: login.json().refreshToken },
  });
  expect(refresh.statusCode, refresh.body).toBe(200);
  const logout = await t.ml.http.inject({
    method: 'POST', url: '/api/v1/auth/logout', remoteAddress, headers,
    cookies: { [REFRESH_COOKIE]: refresh.json().refreshToken },
  });
  expect(logout.statusCode, logout.body).toBe(204);
  return { login: refreshCookie(login.headers)!, refresh: refreshCookie(refresh.headers)!, logout: refreshCookie(logout.headers)! };
}

describe('the refresh cookie', () => {
  it('is Secure behind a trusted proxy that terminated TLS', async () => {
    const c = await sessionCookies(behindProxy, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' });
    for (const attrs of [c.login, c.refresh, c.logout]) {
      expect(attrs).toContain('secure');
      expect(attrs).toContain('httponly');
      expect(attrs).toContain('samesite=strict');
      expect(attrs).toContain('path=/api/v1/auth');
    }
  });

  it('is not Secure over plain http, and a peer outside TRUST_PROXY cannot claim https', async () => {
    for (const c of [
      await sessionCookies(behindProxy, {}),
      await sessionCookies(direct, { 'x-forwarded-proto': 'https' }),
      await sessionCookies(behindProxy, { 'x-forwarded-proto': 'https' }, '198.51.100.9'),
    ]) {
      for (const attrs of [c.login, c.refresh, c.logout]) {
        expect(attrs).not.toContain('secure');
        expect(attrs).toContain('httponly');
        expect(attrs).toContain('samesite=strict');
      }
    }
  });
});
