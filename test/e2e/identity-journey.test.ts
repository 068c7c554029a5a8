// The identity journey over real HTTP against `npm start` (embedded
// PostgreSQL, real process, real socket): register → login → me → refresh →
// reuse detection → logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanUpAll, leftovers, postgresProcesses, spawnServer, tempDataDir, waitFor, type ServerProcess } from '../support/process.ts';

describe('identity journey through `npm start`', () => {
  let srv: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    srv = await spawnServer({ dataDir, npm: ['start'] });
    await srv.waitReady();
  }, 60_000);

  afterAll(async () => {
    await cleanUpAll();
  }, 30_000);

  const email = `Journey.${Date.now()}@Example.com`;
  const password = 'correct horse battery';

  it('walks register → login → me → refresh → reuse detection → logout', async () => {
    const base = srv.url;

    const reg = await api(base, 'POST', '/api/v1/auth/register', { email, password, displayName: '여정 테스트' });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body.user).toMatchObject({ email: email.toLowerCase(), displayName: '여정 테스트' });
    expect(JSON.stringify(reg.body)).not.toMatch(/hash|argon/i);

    const again = await api(base, 'POST', '/api/v1/auth/register', { email, password, displayName: 'dup' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('EMAIL_TAKEN');

    const login = await api(base, 'POST', '/api/v1/auth/login', { email: email.toUpperCase(), password });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer' });
    expect(typeof login.body.accessToken).toBe('string');
    expect(typeof login.body.refreshToken).toBe('string');

    const me = await api(base, 'GET', '/api/v1/me', undefined, login.body.accessToken);
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body).toMatchObject({ id: reg.body.user.id, email: email.toLowerCase(), roles: ['viewer'], channel: null });

    const noToken = await api(base, 'GET', '/api/v1/me');
    expect(noToken.status).toBe(401);

    // refresh: a new pair; the presented token is spent
    const r1 = await api(base, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    expect(r1.body.refreshToken).not.toBe(login.body.refreshToken);
    const me2 = await api(base, 'GET', '/api/v1/me', undefined, r1.body.accessToken);
    expect(me2.status).toBe(200);

    // reuse of the spent token → 401, and the whole family is revoked …
    const reuse = await api(base, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(reuse.status).toBe(401);
    // … so the newer token of that family no longer works either
    const newer = await api(base, 'POST', '/api/v1/auth/refresh', { refreshToken: r1.body.refreshToken });
    expect(newer.status).toBe(401);

    // a fresh login starts a new family; logout ends it
    const login2 = await api(base, 'POST', '/api/v1/auth/login', { email, password });
    expect(login2.status).toBe(200);
    const logout = await api(base, 'POST', '/api/v1/auth/logout', { refreshToken: login2.body.refreshToken });
    expect(logout.status).toBe(204);
    const afterLogout = await api(base, 'POST', '/api/v1/auth/refresh', { refreshToken: login2.body.refreshToken });
    expect(afterLogout.status).toBe(401);

    // wrong password and unknown email answer byte-identically
    const wrong = await api(base, 'POST', '/api/v1/auth/login', { email, password: 'not the password' });
    const unknown = await api(base, 'POST', '/api/v1/auth/login', { email: `nobody.${Date.now()}@example.com`, password });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    expect(JSON.stringify(unknown.body)).toBe(JSON.stringify(wrong.body));
  });

  it('stops server and PostgreSQL within 10 s when npm itself gets SIGTERM', async () => {
    // What a supervisor does to `npm start` (e.g. a container whose PID 1 is npm).
    expect(await postgresProcesses(dataDir)).not.toHaveLength(0);
    const stop = await srv.signal('SIGTERM', 10_000);
    expect(stop.timedOut).toBe(false);
    // npm forwards the signal to its `sh -c` child; the server must not outlive it.
    const gone = await waitFor(async () => (await leftovers(dataDir)).length === 0, 10_000 - stop.ms);
    expect(gone, JSON.stringify(await leftovers(dataDir))).toBe(true);
  }, 30_000);
});
