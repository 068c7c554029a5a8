import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { mailboxOf, verifyEmail } from '../../test/support/mail.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ ADMIN_EMAILS: 'ops@example.kr' });
});
afterAll(async () => t?.close());

type Res = Awaited<ReturnType<TestApp['ml']['http']['inject']>>;
// Every answer of this file, to check at the end that none leaks a password hash.
const seen: Res[] = [];
const remember = (r: Res) => (seen.push(r), r);

const post = async (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  remember(await t.ml.http.inject({ method: 'POST', url, payload: payload as object, headers }));
const me = async (authorization?: string) =>
  remember(await t.ml.http.inject({ method: 'GET', url: '/api/v1/me', headers: authorization === undefined ? {} : { authorization } }));

let n = 0;
/** A fresh, valid registration body. */
const account = (over: Partial<{ email: string; password: string; displayName: string }> = {}) => ({
  email: `user${++n}.${Date.now()}@example.kr`,
  password: 'correct horse battery',
  displayName: `User ${n}`,
  ...over,
});
async function registered(over: Parameters<typeof account>[0] = {}) {
  const body = account(over);
  const res = await post('/api/v1/auth/register', body);
  expect(res.statusCode, res.body).toBe(201);
  return { ...body, user: res.json().user as { id: string; email: string; displayName: string; createdAt: string } };
}
async function loggedIn(over: Parameters<typeof account>[0] = {}) {
  const acc = await registered(over);
  const res = await post('/api/v1/auth/login', { email: acc.email, password: acc.password });
  expect(res.statusCode, res.body).toBe(200);
  return { ...acc, pair: res.json() as { accessToken: string; refreshToken: string }, res };
}

const cookieOf = (res: Res, name: string) => res.cookies.find((c) => c.name === name);

function expectProblem(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return body as { errors?: { path: string; message: string }[] };
}

describe('register', () => {
  it('answers 201 with exactly the public user fields', async () => {
    const res = await post('/api/v1/auth/register', { email: 'Mina@Example.KR', password: 'correct horse', displayName: '  Mina  ' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const { user, ...rest } = res.json();
    expect(rest).toEqual({});
    expect(Object.keys(user).sort()).toEqual(['createdAt', 'displayName', 'email', 'emailVerified', 'id']);
    expect(user).toMatchObject({ email: 'mina@example.kr', displayName: 'Mina' });
    expect(user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Math.abs(Date.parse(user.createdAt) - Date.now())).toBeLessThan(60_000);
  });

  it('stores an argon2id hash, never the password', async () => {
    const acc = await registered();
    const { rows } = await t.db.pools.identity.query('SELECT password_hash FROM users WHERE id = $1', [acc.user.id]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].password_hash).not.toContain(acc.password);
  });

  it('answers 409 EMAIL_TAKEN for a taken email, also when it differs only in case', async () => {
    const acc = await registered();
    expectProblem(await post('/api/v1/auth/register', account({ email: acc.email })), 409, 'EMAIL_TAKEN');
    expectProblem(await post('/api/v1/auth/register', account({ email: acc.email.toUpperCase() })), 409, 'EMAIL_TAKEN');
  });

  it('creates one account when the same email registers several times at once', async () => {
    const body = account();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post('/api/v1/auth/register', { ...body, email: i % 2 ? body.email.toUpperCase() : body.email })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const { rows } = await t.db.pools.identity.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [body.email]);
    expect(rows[0].n).toBe(1);
  });

  it('accepts passwords of 10 to 128 characters, counted as characters', async () => {
    for (const password of ['0123456789', 'x'.repeat(128), '🔑'.repeat(10), '🔑'.repeat(128)]) {
      const acc = await registered({ password });
      const login = await post('/api/v1/auth/login', { email: acc.email, password });
      expect(login.statusCode, `login with a ${[...password].length}-character password`).toBe(200);
    }
  });

  it.each([
    ['too short', '012345678'],
    ['too long', 'x'.repeat(129)],
    ['five emoji (ten UTF-16 units)', '🔑'.repeat(5)],
    ['129 emoji', '🔑'.repeat(129)],
    ['empty', ''],
  ])('rejects a password that is %s', async (_label, password) => {
    const body = expectProblem(await post('/api/v1/auth/register', account({ password })), 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: 'password', message: expect.stringMatching(/at (least 10|most 128) characters/) }]);
  });

  it.each([
    ['no at sign', 'mina.example.kr'],
    ['no domain', 'mina@'],
    ['spaces', 'mi na@example.kr'],
    ['empty', ''],
    ['too long', `${'a'.repeat(250)}@example.kr`],
    ['a NUL byte', 'mina\u0000@example.kr'],
  ])('rejects an email with %s', async (_label, email) => {
    const body = expectProblem(await post('/api/v1/auth/register', account({ email })), 400, 'VALIDATION_FAILED');
    expect(body.errors?.map((e) => e.path)).toContain('email');
  });

  it.each([
    ['empty', ''],
    ['only blanks', '   '],
    ['51 characters', 'x'.repeat(51)],
    ['a control character', 'Mi\u0007na'],
    ['a NUL byte', 'Mi\u0000na'],
  ])('rejects a displayName that is %s', async (_label, displayName) => {
    const body = expectProblem(await post('/api/v1/auth/register', account({ displayName })), 400, 'VALIDATION_FAILED');
    expect(body.errors?.map((e) => e.path)).toContain('displayName');
  });

  it('accepts display names of up to 50 characters in any script', async () => {
    expect((await registered({ displayName: '가'.repeat(50) })).user.displayName).toBe('가'.repeat(50));
    expect((await registered({ displayName: '🎮'.repeat(50) })).user.displayName).toBe('🎮'.repeat(50));
  });

  it('rejects unknown fields, naming them', async () => {
    const body = expectProblem(await post('/api/v1/auth/register', { ...account(), isAdmin: true, roles: ['admin'] }), 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: 'isAdmin', message: 'unknown field' },
        { path: 'roles', message: 'unknown field' },
      ]),
    );
  });

  it('lists every missing or mistyped field', async () => {
    const body = expectProblem(await post('/api/v1/auth/register', { email: 42, password: null }), 400, 'VALIDATION_FAILED');
    const byPath = Object.fromEntries(body.errors!.map((e) => [e.path, e.message]));
    expect(byPath).toEqual({ email: expect.any(String), password: expect.stringContaining('string'), displayName: 'is required' });
  });

  it('rejects a body that is not an object, or none', async () => {
    for (const payload of ['[]', '"x"', '42', 'null', '']) {
      const res = await post('/api/v1/auth/register', payload, { 'content-type': 'application/json' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    }
    expectProblem(await post('/api/v1/auth/register'), 400, 'VALIDATION_FAILED');
  });
});

describe('login', () => {
  it('answers 200 with exactly the token pair and sets the session cookie', async () => {
    const { pair, res } = await loggedIn();
    expect(Object.keys(pair).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
    expect(pair).toMatchObject({ tokenType: 'Bearer', accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
    const { expiresIn } = res.json();
    expect(Number.isInteger(expiresIn)).toBe(true);
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(900);
    const cookie = cookieOf(res, 'ml_refresh');
    expect(cookie).toMatchObject({ value: pair.refreshToken, httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth' });
  });

  it('matches the email case-insensitively and ignores surrounding blanks', async () => {
    const acc = await registered({ email: `Case.${Date.now()}@Example.kr` });
    for (const email of [acc.email.toUpperCase(), acc.email.toLowerCase(), `  ${acc.email}  `]) {
      expect((await post('/api/v1/auth/login', { email, password: acc.password })).statusCode).toBe(200);
    }
  });

  it('answers a byte-identical 401 for an unknown email and a wrong password', async () => {
    const acc = await registered();
    const wrong = await post('/api/v1/auth/login', { email: acc.email, password: 'not the password' });
    const unknown = await post('/api/v1/auth/login', { email: `nobody.${Date.now()}@example.kr`, password: acc.password });
    const wrongCase = await post('/api/v1/auth/login', { email: acc.email, password: acc.password.toUpperCase() });
    for (const res of [wrong, unknown, wrongCase]) {
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(unknown.rawPayload.equals(wrong.rawPayload)).toBe(true);
    expect(wrongCase.body).toBe(wrong.body);
    expect(unknown.headers['content-type']).toBe(wrong.headers['content-type']);
    expect(unknown.headers['content-length']).toBe(wrong.headers['content-length']);
  });

  it('validates its body', async () => {
    expectProblem(await post('/api/v1/auth/login', { email: 'a@b.kr' }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/login', { email: 'a@b.kr', password: 'x', remember: true }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/login', { email: ['a@b.kr'], password: 'x' }), 400, 'VALIDATION_FAILED');
    // PostgreSQL text cannot hold NUL: this once was a 500.
    const nul = expectProblem(await post('/api/v1/auth/login', { email: 'a\u0000@b.kr', password: 'long enough' }), 400, 'VALIDATION_FAILED');
    expect(nul.errors?.map((e) => e.path)).toEqual(['email']);
  });
});

describe('refresh', () => {
  it('rotates: a new pair, and the presented token is spent', async () => {
    const { pair } = await loggedIn();
    const r1 = await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken });
    expect(r1.statusCode, r1.body).toBe(200);
    const next = r1.json();
    expect(Object.keys(next).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
    expect(next.refreshToken).not.toBe(pair.refreshToken);
    expect(next.accessToken).not.toBe(pair.accessToken);
    expect(cookieOf(r1, 'ml_refresh')?.value).toBe(next.refreshToken);
    expect((await me(`Bearer ${next.accessToken}`)).statusCode).toBe(200);
    // and the new one rotates again
    expect((await post('/api/v1/auth/refresh', { refreshToken: next.refreshToken })).statusCode).toBe(200);
  });

  it('revokes the whole family when a spent token comes back', async () => {
    const { pair } = await loggedIn();
    const r1 = (await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken })).json();
    const r2 = (await post('/api/v1/auth/refresh', { refreshToken: r1.refreshToken })).json();
    // the thief replays the first token …
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
    // … so the newest token of the family is dead too, and so is every older one
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: r2.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: r1.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
  });

  it('leaves other sessions of the same user alone when one family is revoked', async () => {
    const acc = await loggedIn();
    const other = (await post('/api/v1/auth/login', { email: acc.email, password: acc.password })).json();
    await post('/api/v1/auth/refresh', { refreshToken: acc.pair.refreshToken });
    await post('/api/v1/auth/refresh', { refreshToken: acc.pair.refreshToken }); // reuse → family revoked
    expect((await post('/api/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
  });

  it('never lets two parallel uses of one token both continue the session', async () => {
    const { pair } = await loggedIn();
    const results = await Promise.all([1, 2, 3].map(() => post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken })));
    const ok = results.filter((r) => r.statusCode === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((r) => r.statusCode !== 200)) expectProblem(r, 401, 'INVALID_REFRESH_TOKEN');
    // a second use arrived after the first was spent: the family is revoked
    for (const r of ok) expect((await post('/api/v1/auth/refresh', { refreshToken: r.json().refreshToken })).statusCode).toBe(401);
  });

  it('answers 401 for unknown tokens and for none at all', async () => {
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: 'no-such-token' }), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await post('/api/v1/auth/refresh', {}), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await post('/api/v1/auth/refresh'), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await post('/api/v1/auth/refresh', '', { 'content-type': 'application/json' }), 401, 'INVALID_REFRESH_TOKEN');
  });

  it('rejects a malformed body with 400', async () => {
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: '' }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: 42 }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: 'x', extra: 1 }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: 'x'.repeat(513) }), 400, 'VALIDATION_FAILED');
  });

  it('takes the token from the ml_refresh cookie when the body has none', async () => {
    const { pair } = await loggedIn();
    const cookie = (token: string) => ({ cookie: `ml_refresh=${token}` });
    // no body at all, no content type
    const r1 = await post('/api/v1/auth/refresh', undefined, cookie(pair.refreshToken));
    expect(r1.statusCode, r1.body).toBe(200);
    // `{}`
    const r2 = await post('/api/v1/auth/refresh', {}, cookie(r1.json().refreshToken));
    expect(r2.statusCode, r2.body).toBe(200);
    // an empty body with a content type
    const r3 = await post('/api/v1/auth/refresh', '', { ...cookie(r2.json().refreshToken), 'content-type': 'application/json' });
    expect(r3.statusCode, r3.body).toBe(200);
    // the spent cookie is reuse like any other
    expectProblem(await post('/api/v1/auth/refresh', undefined, cookie(pair.refreshToken)), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await post('/api/v1/auth/refresh', undefined, cookie(r3.json().refreshToken)), 401, 'INVALID_REFRESH_TOKEN');
  });

  it('prefers the token in the body over the cookie', async () => {
    const a = await loggedIn();
    const b = await loggedIn();
    const res = await post('/api/v1/auth/refresh', { refreshToken: a.pair.refreshToken }, { cookie: `ml_refresh=${b.pair.refreshToken}` });
    expect(res.statusCode).toBe(200);
    const sub = JSON.parse(Buffer.from(res.json().accessToken.split('.')[1], 'base64url').toString()).sub;
    expect(sub).toBe(a.user.id);
    // b's token was not touched
    expect((await post('/api/v1/auth/refresh', { refreshToken: b.pair.refreshToken })).statusCode).toBe(200);
  });

  it('refuses an expired refresh token', async () => {
    const { pair, user } = await loggedIn();
    await t.db.pools.identity.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [user.id]);
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
  });
});

describe('logout', () => {
  it('answers 204, and the token no longer refreshes', async () => {
    const { pair } = await loggedIn();
    const out = await post('/api/v1/auth/logout', { refreshToken: pair.refreshToken });
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
  });

  it('ends the whole session, including tokens refreshed from it', async () => {
    const { pair } = await loggedIn();
    const next = (await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken })).json();
    expect((await post('/api/v1/auth/logout', { refreshToken: next.refreshToken })).statusCode).toBe(204);
    expectProblem(await post('/api/v1/auth/refresh', { refreshToken: next.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
  });

  it('leaves the other sessions of the user working', async () => {
    const acc = await loggedIn();
    const other = (await post('/api/v1/auth/login', { email: acc.email, password: acc.password })).json();
    expect((await post('/api/v1/auth/logout', { refreshToken: acc.pair.refreshToken })).statusCode).toBe(204);
    expect((await post('/api/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
  });

  it('signs out with the cookie when the body has none, and clears the cookie', async () => {
    for (const [payload, headers] of [
      [undefined, {}],
      [{}, {}],
      ['', { 'content-type': 'application/json' }],
      ['', { 'content-type': 'text/plain;charset=UTF-8' }],
    ] as const) {
      const { pair } = await loggedIn();
      const out = await post('/api/v1/auth/logout', payload, { ...headers, cookie: `ml_refresh=${pair.refreshToken}` });
      expect(out.statusCode, `${JSON.stringify(payload)} ${JSON.stringify(headers)}: ${out.body}`).toBe(204);
      const cleared = cookieOf(out, 'ml_refresh');
      expect(cleared?.value).toBe('');
      expect(cleared?.path).toBe('/api/v1/auth');
      expect(cleared?.expires?.getTime() ?? 0).toBeLessThanOrEqual(Date.now());
      expectProblem(await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
    }
  });

  it('is idempotent: unknown, spent or missing tokens still answer 204', async () => {
    const { pair } = await loggedIn();
    expect((await post('/api/v1/auth/logout', { refreshToken: pair.refreshToken })).statusCode).toBe(204);
    expect((await post('/api/v1/auth/logout', { refreshToken: pair.refreshToken })).statusCode).toBe(204);
    expect((await post('/api/v1/auth/logout', { refreshToken: 'never-issued' })).statusCode).toBe(204);
    expect((await post('/api/v1/auth/logout', {})).statusCode).toBe(204);
    expect((await post('/api/v1/auth/logout')).statusCode).toBe(204);
  });

  it('rejects a malformed body with 400', async () => {
    expectProblem(await post('/api/v1/auth/logout', { refreshToken: 42 }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/logout', { token: 'x' }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('/api/v1/auth/logout', '[]', { 'content-type': 'application/json' }), 400, 'VALIDATION_FAILED');
  });
});

describe('/me', () => {
  it('answers the profile with roles computed from stored facts', async () => {
    const acc = await loggedIn({ displayName: '민아' });
    const res = await me(`Bearer ${acc.pair.accessToken}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: acc.user.id, email: acc.user.email, displayName: '민아', emailVerified: false, roles: ['viewer'], channel: null });
  });

  it('adds the admin role for ADMIN_EMAILS, whatever the case it registered with, once the address is verified', async () => {
    const acc = await loggedIn({ email: 'OPS@Example.KR' });
    const caller = { token: acc.pair.accessToken, id: acc.user.id, email: acc.user.email };
    expect((await me(`Bearer ${acc.pair.accessToken}`)).json()).toMatchObject({ email: 'ops@example.kr', emailVerified: false, roles: ['viewer'] });
    await verifyEmail(t.ml.http, mailboxOf(t), caller);
    expect((await me(`Bearer ${acc.pair.accessToken}`)).json()).toMatchObject({ email: 'ops@example.kr', emailVerified: true, roles: ['viewer', 'admin'] });
  });

  it('accepts the scheme in any case', async () => {
    const acc = await loggedIn();
    expect((await me(`bearer ${acc.pair.accessToken}`)).statusCode).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty bearer', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['garbage', 'Bearer not.a.jwt'],
    ['a refresh token', 'Bearer refresh-token-is-not-a-jwt'],
    ['two tokens', 'Bearer a.b.c d.e.f'],
  ])('answers 401 problem+json with WWW-Authenticate for %s', async (_label, authorization) => {
    const res = await me(authorization);
    expectProblem(res, 401, 'UNAUTHENTICATED');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  });

  it('answers 401 when the access token is tampered with', async () => {
    const acc = await loggedIn();
    const [h, p, s] = acc.pair.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-7000-8000-000000000000' })).toString('base64url');
    expectProblem(await me(`Bearer ${h}.${forged}.${s}`), 401, 'UNAUTHENTICATED');
    const flipped = `${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`;
    expectProblem(await me(`Bearer ${h}.${p}.${flipped}`), 401, 'UNAUTHENTICATED');
  });
});

it('never answers a password hash or the password itself', () => {
  expect(seen.length).toBeGreaterThan(50);
  for (const res of seen) {
    expect(res.body).not.toMatch(/argon2|password_?hash|passwordHash/i);
    expect(res.body).not.toContain('correct horse battery');
  }
});
