import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { superUrlFor } from '../../test/support/databases.ts';
import { tx } from '../platform/db.ts';
import { appendAudit, auditRowHash, verifyAuditChain } from './audit.ts';
import { AUDIT_KEY_FILE, loadAuditKey, type AuditKey } from './audit-key.ts';

let t: TestApp;
// The database superuser on this file's identity database: what an intruder
// with full database access could do, bypassing the app role's trigger.
let su: pg.Client;
// No AUDIT_HMAC_KEY here: the api generated the key into its DATA_DIR.
let key: AuditKey;

beforeAll(async () => {
  t = await createTestApp();
  key = await loadAuditKey({ dataDir: t.dataDir }, { create: false });
  su = new pg.Client({ connectionString: superUrlFor(t.db.superUrl, t.db.names.identity) });
  await su.connect();
});
afterAll(async () => {
  await su?.end();
  await t?.close();
});

const post = (url: string, payload: unknown, remoteAddress = '203.0.113.7') =>
  t.ml.http.inject({ method: 'POST', url, payload: payload as object, remoteAddress });

interface Row {
  seq: number;
  at: Date;
  action: string;
  user_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}
const verify = () => verifyAuditChain(t.db.pools.identity, { funding: t.db.pools.funding, key });
const rows = async () => (await t.db.pools.identity.query<Row>('SELECT * FROM audit_log ORDER BY seq')).rows;

/** Runs `tamper` as superuser with the append-only triggers off, then puts them back. */
async function asIntruder(tamper: (c: pg.Client) => Promise<unknown>) {
  await su.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
  try {
    await tamper(su);
  } finally {
    await su.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
  }
}

let userId: string;

describe('the security audit log', () => {
  it('records register, login, failed login, refresh, refresh reuse, throttling and logout', async () => {
    const email = `audit.${Date.now()}@example.kr`;
    const password = 'correct horse battery';
    const reg = await post('/api/v1/auth/register', { email, password, displayName: 'A' });
    userId = reg.json().user.id;
    expect((await post('/api/v1/auth/login', { email, password: 'wrong password!' })).statusCode).toBe(401);
    expect((await post('/api/v1/auth/login', { email: `nobody.${Date.now()}@example.kr`, password })).statusCode).toBe(401);
    const pair = (await post('/api/v1/auth/login', { email, password })).json();
    const next = (await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken })).json();
    expect((await post('/api/v1/auth/refresh', { refreshToken: pair.refreshToken })).statusCode).toBe(401);
    const again = (await post('/api/v1/auth/login', { email, password })).json();
    expect((await post('/api/v1/auth/logout', { refreshToken: again.refreshToken })).statusCode).toBe(204);
    for (let i = 0; i < 11; i++) await post('/api/v1/auth/login', { email, password: 'wrong password!' }, '203.0.113.99');
    expect(next.refreshToken).toBeTruthy();

    const log = await rows();
    const actions = log.map((r) => r.action);
    expect(actions.slice(0, 8)).toEqual(['register', 'login_failed', 'login_failed', 'login', 'refresh', 'refresh_reuse', 'login', 'logout']);
    expect(actions.slice(8)).toEqual([...Array(10).fill('login_failed'), 'login_throttled']);
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
    const by = (action: string) => log.filter((r) => r.action === action);
    expect(by('register')[0]).toMatchObject({ user_id: userId, ip: '203.0.113.7' });
    // a failed login names the account when it exists, and never who it was not
    expect(by('login_failed').slice(0, 2).map((r) => r.user_id)).toEqual([userId, null]);
    expect(by('refresh_reuse')[0]!.details).toMatchObject({ family: expect.any(String) });
    expect(by('logout')[0]).toMatchObject({ user_id: userId });
    expect(by('login_throttled')[0]).toMatchObject({ ip: '203.0.113.99', details: { scope: 'account' } });
    // no secrets in the log
    const text = JSON.stringify(log);
    for (const secret of [password, pair.refreshToken, pair.accessToken, next.refreshToken, again.refreshToken]) expect(text).not.toContain(secret);
  });

  it('verifies as an unbroken chain', async () => {
    const check = await verify();
    expect(check).toMatchObject({ ok: true, entries: (await rows()).length, keyedFrom: 1 });
    const log = await rows();
    expect(log[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < log.length; i++) expect(log[i]!.prev_hash).toBe(log[i - 1]!.hash);
  });

  it('stays one chain under concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => post('/api/v1/auth/login', { email: `c${i}@example.kr`, password: 'wrong password!' }, `192.0.2.${i}`)),
    );
    const check = await verify();
    expect(check.ok).toBe(true);
    expect(check.entries).toBe((await rows()).length);
  });

  it('stays one chain when its remembered end is stale: a rolled-back append, another process, concurrent appends', async () => {
    const pool = t.db.pools.identity;
    // An append whose transaction rolls back leaves this process remembering an end that never was.
    await expect(
      tx(pool, async (c) => {
        await appendAudit(c, { action: 'logout', ip: '198.51.100.1' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await tx(pool, (c) => appendAudit(c, { action: 'logout', ip: '198.51.100.2' }));
    // Another process appends (as this one would, through the locked path: simulated by a
    // second row written with the same rules), so the remembered end is behind.
    const before = await rows();
    const head = before.at(-1)!;
    const other = { seq: head.seq + 1, at: new Date(), action: 'logout', userId: null, ip: '198.51.100.3', details: {}, prevHash: head.hash };
    await pool.query('INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      other.seq, other.at, other.action, other.userId, other.ip, '{}', other.prevHash, auditRowHash(other, key),
    ]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => tx(pool, (c) => appendAudit(c, { action: 'logout', ip: `198.51.100.${10 + i}` }))));
    const check = await verify();
    expect(check).toMatchObject({ ok: true, entries: before.length + 11 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE from the app role (no privilege; the trigger is the second wall)', async () => {
    const pool = t.db.pools.identity;
    await expect(pool.query(`UPDATE audit_log SET ip = '10.0.0.1' WHERE seq = 2`)).rejects.toThrow(/permission denied/);
    await expect(pool.query('DELETE FROM audit_log WHERE seq = 2')).rejects.toThrow(/permission denied/);
    await expect(pool.query('TRUNCATE audit_log')).rejects.toThrow(/permission denied/);
    await expect(pool.query('ALTER TABLE audit_log DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
    expect((await verify()).ok).toBe(true);
  });

  it('detects an edited row, at that row', async () => {
    const before = (await rows())[2]!;
    await asIntruder((c) => c.query(`UPDATE audit_log SET ip = '10.9.9.9' WHERE seq = 3`));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: 3, reason: 'content changed' });
    // put back exactly as it was: the chain verifies again, so the check is about content
    await asIntruder((c) => c.query('UPDATE audit_log SET ip = $1 WHERE seq = 3', [before.ip]));
    expect((await verify()).ok).toBe(true);
  });

  it.each([
    ['action', `action = 'login'`],
    ['user', `user_id = NULL`],
    ['time', `at = at + interval '1 millisecond'`],
    ['details', `details = '{"scope":"none"}'::jsonb`],
  ])('detects a changed %s', async (_label, set) => {
    const seq = 5;
    const before = (await su.query('SELECT * FROM audit_log WHERE seq = $1', [seq])).rows[0];
    await asIntruder((c) => c.query(`UPDATE audit_log SET ${set} WHERE seq = $1`, [seq]));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: seq });
    await asIntruder((c) =>
      c.query('UPDATE audit_log SET action = $2, user_id = $3, at = $4, details = $5 WHERE seq = $1', [
        seq,
        before.action,
        before.user_id,
        before.at,
        before.details,
      ]),
    );
    expect((await verify()).ok).toBe(true);
  });

  it('detects a row whose hash was replaced, at that row', async () => {
    const before = (await rows())[5]!;
    await asIntruder((c) => c.query(`UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = 6`));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: 6 });
    await asIntruder((c) => c.query('UPDATE audit_log SET hash = $1 WHERE seq = 6', [before.hash]));
    expect((await verify()).ok).toBe(true);
  });

  it('detects a deleted row, at its place', async () => {
    const gone = (await rows())[3]!;
    await asIntruder((c) => c.query('DELETE FROM audit_log WHERE seq = 4'));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: 4, reason: 'missing entry' });
    await asIntruder((c) =>
      c.query('INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        gone.seq, gone.at, gone.action, gone.user_id, gone.ip, gone.details, gone.prev_hash, gone.hash,
      ]),
    );
    expect((await verify()).ok).toBe(true);
  });

  it('detects a deleted row whose successors were renumbered to close the gap', async () => {
    const log = await rows();
    await asIntruder(async (c) => {
      await c.query('DELETE FROM audit_log WHERE seq = 2');
      // in two steps: the primary key would collide in one
      await c.query('UPDATE audit_log SET seq = seq + 1000000 WHERE seq > 2');
      await c.query('UPDATE audit_log SET seq = seq - 1000001 WHERE seq > 1000000');
    });
    expect(await verify()).toMatchObject({ ok: false, brokenAt: 2 });
    await asIntruder(async (c) => {
      await c.query('DELETE FROM audit_log');
      for (const r of log) {
        await c.query('INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          r.seq, r.at, r.action, r.user_id, r.ip, r.details, r.prev_hash, r.hash,
        ]);
      }
    });
    expect((await verify()).ok).toBe(true);
  });

  it('detects two rows swapped', async () => {
    const log = await rows();
    await asIntruder(async (c) => {
      await c.query('UPDATE audit_log SET seq = seq + 1000000 WHERE seq IN (7, 8)');
      await c.query('UPDATE audit_log SET seq = 8 WHERE seq = 1000007');
      await c.query('UPDATE audit_log SET seq = 7 WHERE seq = 1000008');
    });
    expect(await verify()).toMatchObject({ ok: false, brokenAt: 7 });
    await asIntruder(async (c) => {
      await c.query('DELETE FROM audit_log WHERE seq IN (7, 8)');
      for (const r of log.filter((r) => r.seq === 7 || r.seq === 8)) {
        await c.query('INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          r.seq, r.at, r.action, r.user_id, r.ip, r.details, r.prev_hash, r.hash,
        ]);
      }
    });
    expect((await verify()).ok).toBe(true);
  });

  it('keys the chain with a secret generated once into DATA_DIR (0600), outside the database', async () => {
    const file = path.join(t.dataDir, AUDIT_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await loadAuditKey({ dataDir: t.dataDir })).id).toBe(key.id);
    const log = await rows();
    expect(log[0]!.hash).toBe(auditRowHash({ ...log[0]!, userId: log[0]!.user_id, prevHash: log[0]!.prev_hash }, key));
    // the key never shows in what gets logged or printed
    const secret = (await readFile(file, 'utf8')).trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(`${JSON.stringify(key)} ${String(key)}`).not.toContain(secret);
  });

  it('is anchored by the api process (the anchor job is wired in)', async () => {
    expect(t.ml.auditAnchor).toBeDefined();
    expect(await t.ml.auditAnchor!.anchorNow()).toMatchObject({ anchored: true, entries: (await rows()).length });
    expect(await verify()).toMatchObject({ ok: true, unanchored: 0 });
  });

  it('keeps chaining after a verified state (new rows link to the old head)', async () => {
    const head = (await rows()).at(-1)!;
    await post('/api/v1/auth/login', { email: 'after@example.kr', password: 'wrong password!' }, '192.0.2.200');
    const next = (await rows()).at(-1)!;
    expect(next).toMatchObject({ seq: head.seq + 1, prev_hash: head.hash });
    expect((await verify()).ok).toBe(true);
  });
});
