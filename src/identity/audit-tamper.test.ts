// Security finding 5: an intruder with full rights on the identity database
// (its owner, or a superuser) must not be able to take back audit entries or
// rewrite the chain unnoticed. The chain is keyed (HMAC with a secret kept
// outside that database) and its head is anchored in the funding database.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { createTestDatabases, superUrlFor, type TestDatabases } from '../../test/support/databases.ts';
import { ownerRoleOf } from '../platform/embedded-pg.ts';
import { createLogger } from '../platform/log.ts';
import { migrate } from '../platform/migrate.ts';
import { AuditAnchor } from './audit-anchor.ts';
import { AuditKey } from './audit-key.ts';
import { appendAuditNow, auditRowHash, legacyAuditRowHash, verifyAuditChain } from './audit.ts';

const KEY_TEXT = 'test-audit-key-0123456789-abcdefghijklmnop';
const OTHER_KEY_TEXT = 'another-audit-key-0123456789-abcdefghijklm';

let t: TestApp;
let key: AuditKey;
// Superuser connections: what an intruder with full database access could do.
let suIdentity: pg.Client;
let suFunding: pg.Client;

beforeAll(async () => {
  // No timer: each test anchors when it means to.
  t = await createTestApp({ AUDIT_HMAC_KEY: KEY_TEXT }, { startWorkers: false });
  key = AuditKey.from(KEY_TEXT);
  suIdentity = new pg.Client({ connectionString: superUrlFor(t.db.superUrl, t.db.names.identity) });
  suFunding = new pg.Client({ connectionString: superUrlFor(t.db.superUrl, t.db.names.funding) });
  await Promise.all([suIdentity.connect(), suFunding.connect()]);
});
afterAll(async () => {
  await suIdentity?.end();
  await suFunding?.end();
  await t?.close();
});

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

const rowsOf = async (c: pg.Client) => (await c.query<Row>('SELECT * FROM audit_log ORDER BY seq')).rows;
const rows = () => rowsOf(suIdentity);
const verify = (k: AuditKey = key, db: Pick<TestDatabases, 'pools'> = t.db) => verifyAuditChain(db.pools.identity, { funding: db.pools.funding, key: k });
const anchorNow = () => t.ml.auditAnchor!.anchorNow();

let ips = 0;
/** Writes `n` audit entries the way the app does: failed logins. */
async function entries(n: number) {
  for (let i = 0; i < n; i++) {
    const res = await t.ml.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: `nobody${++ips}@example.kr`, password: 'wrong password!' },
      remoteAddress: `192.0.2.${ips % 250}`,
    });
    expect(res.statusCode).toBe(401);
  }
}

/** Runs `tamper` as superuser with the append-only triggers of `table` off, then puts them back. */
async function asIntruder(c: pg.Client, table: string, tamper: () => Promise<unknown>) {
  await c.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  try {
    await tamper();
  } finally {
    await c.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
  }
}

const hashInput = (r: Row) => ({ seq: r.seq, at: r.at, action: r.action, userId: r.user_id, ip: r.ip, details: r.details, prevHash: r.prev_hash });

/**
 * What an intruder who read our source would do: change rows (`edit`), then
 * recompute every hash and link from `from` on with `hashOf`.
 */
async function rewriteChain(
  c: pg.Client,
  from: number,
  hashOf: (r: ReturnType<typeof hashInput>) => string,
  edit: (r: Row) => Row = (r) => r,
  to = Number.MAX_SAFE_INTEGER,
) {
  const log = await rowsOf(c);
  let prev = log.find((r) => r.seq === from - 1)?.hash ?? '0'.repeat(64);
  await asIntruder(c, 'audit_log', async () => {
    for (const original of log.filter((r) => r.seq >= from && r.seq <= to)) {
      const r = { ...edit(original), prev_hash: prev };
      r.hash = hashOf(hashInput(r));
      await c.query('UPDATE audit_log SET ip = $2, action = $3, prev_hash = $4, hash = $5 WHERE seq = $1', [r.seq, r.ip, r.action, r.prev_hash, r.hash]);
      prev = r.hash;
    }
  });
}

/** Puts the log back exactly as `log` was. */
async function restore(c: pg.Client, log: Row[]) {
  await asIntruder(c, 'audit_log', async () => {
    await c.query('DELETE FROM audit_log');
    for (const r of log) {
      await c.query('INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        r.seq, r.at, r.action, r.user_id, r.ip, r.details, r.prev_hash, r.hash,
      ]);
    }
  });
}

const plainSha256 = (r: ReturnType<typeof hashInput>) => legacyAuditRowHash(r);
const otherKey = AuditKey.from(OTHER_KEY_TEXT);
const withOtherKey = (r: ReturnType<typeof hashInput>) => auditRowHash(r, otherKey);

describe('the keyed, anchored audit chain', () => {
  it('anchors its head in the funding database; verify checks up to the newest anchor and counts the entries after it', async () => {
    await entries(8);
    expect(await anchorNow()).toMatchObject({ anchored: true, entries: 8 });
    const log = await rows();
    const { rows: anchors } = await t.db.pools.funding.query('SELECT entries, head, keyed_from, key_id FROM audit_anchors ORDER BY id');
    expect(anchors).toEqual([{ entries: 8, head: log.at(-1)!.hash, keyed_from: 1, key_id: key.id }]);
    expect(await verify()).toMatchObject({ ok: true, entries: 8, keyedFrom: 1, anchor: { entries: 8 }, unanchored: 0 });

    await entries(2);
    expect(await verify()).toMatchObject({ ok: true, entries: 10, anchor: { entries: 8 }, unanchored: 2 });
    // nothing new: no new anchor row
    expect(await anchorNow()).toMatchObject({ anchored: true, entries: 10 });
    expect(await anchorNow()).toMatchObject({ anchored: false, reason: 'unchanged' });
    expect((await t.db.pools.funding.query('SELECT count(*)::int AS n FROM audit_anchors')).rows[0].n).toBe(2);
    expect(await verify()).toMatchObject({ ok: true, entries: 10, anchor: { entries: 10 }, unanchored: 0 });
  });

  it('hashes entries with the key: no row verifies as plain SHA-256', async () => {
    for (const r of await rows()) {
      expect(r.hash).toBe(auditRowHash(hashInput(r), key));
      expect(r.hash).not.toBe(legacyAuditRowHash(hashInput(r)));
    }
  });

  describe('(a) an edited row', () => {
    it('is found at that row even when every later hash and link was recomputed with plain SHA-256', async () => {
      const log = await rows();
      await rewriteChain(suIdentity, 4, plainSha256, (r) => (r.seq === 4 ? { ...r, ip: '10.6.6.6' } : r));
      expect(await verify()).toMatchObject({ ok: false, brokenAt: 4 });
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });

    it('is found at that row when the rest was recomputed with another key', async () => {
      const log = await rows();
      await rewriteChain(suIdentity, 4, withOtherKey, (r) => (r.seq === 4 ? { ...r, action: 'logout' } : r));
      expect(await verify()).toMatchObject({ ok: false, brokenAt: 4, reason: 'content changed' });
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });

    it('is found after the newest anchor too (the tail is checked as strictly, only its removal could go unseen)', async () => {
      await entries(3);
      const log = await rows();
      const seq = log.at(-2)!.seq;
      await rewriteChain(suIdentity, seq, plainSha256, (r) => (r.seq === seq ? { ...r, ip: '10.6.6.7' } : r));
      expect(await verify()).toMatchObject({ ok: false, brokenAt: seq, unanchored: 3 });
      await restore(suIdentity, log);
      expect(await verify()).toMatchObject({ ok: true, unanchored: 3 });
      await anchorNow();
    });
  });

  describe('(b) deleted tail rows', () => {
    it('are found: the log has fewer entries than the newest anchor counts', async () => {
      const log = await rows();
      const count = log.length;
      expect(await verify()).toMatchObject({ ok: true, anchor: { entries: count } });
      await asIntruder(suIdentity, 'audit_log', () => suIdentity.query('DELETE FROM audit_log WHERE seq > $1', [count - 3]));
      expect(await verify()).toMatchObject({ ok: false, entries: count - 3, anchor: { entries: count }, brokenAt: count - 2, reason: 'tail removed' });
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });

    it('are found when new entries have filled the gap since, and the anchor job refuses to anchor over them', async () => {
      const log = await rows();
      const count = log.length;
      await asIntruder(suIdentity, 'audit_log', () => suIdentity.query('DELETE FROM audit_log WHERE seq > $1', [count - 2]));
      await entries(4); // the app carries on, after the shortened chain
      expect((await rows()).length).toBe(count + 2);
      expect(await verify()).toMatchObject({ ok: false, brokenAt: count, reason: 'anchor mismatch' });
      const anchorsBefore = (await t.db.pools.funding.query('SELECT count(*)::int AS n FROM audit_anchors')).rows[0].n;
      expect(await anchorNow()).toMatchObject({ anchored: false, reason: 'anchor mismatch' });
      expect((await t.db.pools.funding.query('SELECT count(*)::int AS n FROM audit_anchors')).rows[0].n).toBe(anchorsBefore);
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });

    it('are found when all of them are gone', async () => {
      const log = await rows();
      await asIntruder(suIdentity, 'audit_log', () => suIdentity.query('DELETE FROM audit_log'));
      expect(await verify()).toMatchObject({ ok: false, entries: 0, brokenAt: 1, reason: 'tail removed' });
      expect(await anchorNow()).toMatchObject({ anchored: false });
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });
  });

  describe('(c) the whole chain recomputed', () => {
    it('with plain SHA-256 is found at its first keyed entry', async () => {
      const log = await rows();
      await rewriteChain(suIdentity, 1, plainSha256);
      expect(await verify()).toMatchObject({ ok: false, brokenAt: 1, reason: 'hashed without the key' });
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });

    it('with plain SHA-256 and the switch-over point moved past the end is found: the anchors pin it', async () => {
      const log = await rows();
      await rewriteChain(suIdentity, 1, plainSha256);
      await asIntruder(suIdentity, 'audit_chain', () => suIdentity.query('UPDATE audit_chain SET keyed_from = $1', [log.length + 1]));
      expect(await verify()).toMatchObject({ ok: false, reason: 'switch-over point moved' });
      expect(await anchorNow()).toMatchObject({ anchored: false, reason: 'switch-over point moved' });
      await asIntruder(suIdentity, 'audit_chain', () => suIdentity.query('UPDATE audit_chain SET keyed_from = 1'));
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });

    it('with another key is found at its first entry', async () => {
      const log = await rows();
      await rewriteChain(suIdentity, 1, withOtherKey);
      expect(await verify()).toMatchObject({ ok: false, brokenAt: 1, reason: 'content changed' });
      await restore(suIdentity, log);
      expect((await verify()).ok).toBe(true);
    });
  });

  describe('the anchors', () => {
    it('cannot be changed or deleted by the funding app role', async () => {
      const f = t.db.pools.funding;
      await expect(f.query('UPDATE audit_anchors SET entries = 1')).rejects.toThrow(/append-only|permission denied/);
      await expect(f.query('DELETE FROM audit_anchors')).rejects.toThrow(/append-only|permission denied/);
      await expect(f.query('TRUNCATE audit_anchors')).rejects.toThrow(/append-only|permission denied/);
      await expect(f.query('ALTER TABLE audit_anchors DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
    });

    it('must carry our MAC: a forged anchor is reported', async () => {
      const log = await rows();
      await suFunding.query('INSERT INTO audit_anchors (entries, head, keyed_from, key_id, at, mac) VALUES ($1, $2, 1, $3, now(), $4)', [
        log.length + 5, 'f'.repeat(64), key.id, 'a'.repeat(64),
      ]);
      expect(await verify()).toMatchObject({ ok: false, reason: 'anchor forged' });
      await asIntruder(suFunding, 'audit_anchors', () => suFunding.query('DELETE FROM audit_anchors WHERE mac = $1', ['a'.repeat(64)]));
      expect((await verify()).ok).toBe(true);
    });

    it('tell a verifier holding another key that it is the wrong key, rather than blaming every row', async () => {
      expect(await verify(otherKey)).toMatchObject({ ok: false, reason: 'anchors made with another key' });
    });

    it('are written on a timer and once more at a clean stop', async () => {
      const anchored = async () => (await t.db.pools.funding.query('SELECT max(entries)::int AS n FROM audit_anchors')).rows[0].n;
      const total = async () => (await rows()).length;
      const job = (intervalMs: number) => new AuditAnchor({ identity: t.db.pools.identity, funding: t.db.pools.funding, key, log: createLogger('silent'), intervalMs });
      const fast = job(20);
      fast.start();
      await entries(1);
      for (let i = 0; i < 200 && (await anchored()) !== (await total()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await anchored()).toBe(await total());
      await fast.stop();

      // a timer that never fires before the stop: the stop anchors
      const slow = job(3_600_000);
      slow.start();
      await entries(1);
      expect(await anchored()).toBe((await total()) - 1);
      await slow.stop();
      expect(await anchored()).toBe(await total());
    });
  });

  it('entries written before the switch to keyed hashes keep their plain SHA-256 rule, and are protected from the first keyed entry on', async () => {
    // Databases of their own, taken back to before migration 0006, with a plain SHA-256 chain.
    const db = await createTestDatabases(2);
    const su = new pg.Client({ connectionString: superUrlFor(db.superUrl, db.names.identity) });
    await su.connect();
    try {
      await su.query('DROP TABLE audit_chain');
      await su.query('DROP FUNCTION audit_chain_fixed()');
      await su.query('DELETE FROM schema_migrations WHERE version = 6');
      let prev = '0'.repeat(64);
      const legacy = 5;
      for (let seq = 1; seq <= legacy; seq++) {
        const r = { seq, at: new Date(Date.now() - 60_000 + seq), action: 'login_failed', userId: null, ip: `203.0.113.${seq}`, details: {}, prevHash: prev };
        const hash = legacyAuditRowHash(r);
        await su.query('INSERT INTO audit_log (seq, at, action, user_id, ip, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          seq, r.at, r.action, null, r.ip, '{}', prev, hash,
        ]);
        prev = hash;
      }
      expect(await migrate(superUrlFor(db.superUrl, db.names.identity), 'identity', { setRole: ownerRoleOf('missionlink_identity'), grantTo: 'missionlink_identity' })).toEqual([
        expect.stringMatching(/^0006_/),
      ]);
      expect(await verify(key, db)).toMatchObject({ ok: true, entries: legacy, keyedFrom: legacy + 1, anchor: null, unanchored: legacy });

      for (let i = 0; i < 3; i++) await appendAuditNow(db.pools.identity, { action: 'logout', ip: `198.51.100.${i}` });
      const job = new AuditAnchor({ identity: db.pools.identity, funding: db.pools.funding, key, log: createLogger('silent') });
      expect(await job.anchorNow()).toMatchObject({ anchored: true, entries: legacy + 3 });
      expect(await verify(key, db)).toMatchObject({ ok: true, entries: legacy + 3, keyedFrom: legacy + 1, anchor: { entries: legacy + 3 } });
      const log = await rowsOf(su);
      expect(log[legacy]!.hash).toBe(auditRowHash(hashInput(log[legacy]!), key));

      // an old entry edited and the old part recomputed with its own rule: the first keyed entry's link breaks
      const editOld = (r: Row) => (r.seq === 2 ? { ...r, ip: '10.0.0.2' } : r);
      await rewriteChain(su, 2, plainSha256, editOld, legacy);
      expect(await verify(key, db)).toMatchObject({ ok: false, brokenAt: legacy + 1, reason: 'broken link' });
      // and relinking the first keyed entry takes the key
      await rewriteChain(su, 2, plainSha256, editOld, legacy + 1);
      expect(await verify(key, db)).toMatchObject({ ok: false, brokenAt: legacy + 1, reason: 'hashed without the key' });
      await restore(su, log);
      expect((await verify(key, db)).ok).toBe(true);

      // everything recomputed with the old rule, the switch-over point moved past the end
      await rewriteChain(su, 1, plainSha256);
      await asIntruder(su, 'audit_chain', () => su.query('UPDATE audit_chain SET keyed_from = $1', [log.length + 1]));
      expect(await verify(key, db)).toMatchObject({ ok: false, reason: 'switch-over point moved' });
    } finally {
      await su.end();
      await db.drop();
    }
  });
});

describe('missionlink audit verify', () => {
  const REPO = fileURLToPath(new URL('../../', import.meta.url));

  async function cli(db: TestDatabases, keyText: string | undefined) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DATABASE_URL_|AUDIT_HMAC_KEY|ROLES|NATS_URL)/.test(k)) env[k] = v;
    Object.assign(env, {
      DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'missionlink-audit-cli-')),
      // superuser URLs: the command may apply (no) migrations
      DATABASE_URL_IDENTITY: superUrlFor(db.superUrl, db.names.identity),
      DATABASE_URL_FUNDING: superUrlFor(db.superUrl, db.names.funding),
      LOG_LEVEL: 'silent',
    });
    if (keyText) env.AUDIT_HMAC_KEY = keyText;
    const run = promisify(execFile);
    try {
      const { stdout } = await run(process.execPath, ['bin/missionlink.js', 'audit', 'verify'], { cwd: REPO, env });
      return { code: 0, report: JSON.parse(stdout) as Record<string, unknown> };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      let report: Record<string, unknown> = {};
      try {
        report = JSON.parse(e.stdout) as Record<string, unknown>;
      } catch {
        report = { stdout: e.stdout, stderr: e.stderr };
      }
      return { code: e.code, report, stderr: e.stderr };
    }
  }

  it('exits 0 on a clean chain and 1 with a JSON report on a shortened one, reading both databases', { timeout: 60_000 }, async () => {
    await entries(2);
    await anchorNow();
    const clean = await cli(t.db, KEY_TEXT);
    expect(clean.report).toMatchObject({ ok: true, unanchored: 0 });
    expect(clean.code).toBe(0);

    const log = await rows();
    await asIntruder(suIdentity, 'audit_log', () => suIdentity.query('DELETE FROM audit_log WHERE seq = $1', [log.length]));
    const shortened = await cli(t.db, KEY_TEXT);
    expect(shortened.report).toMatchObject({ ok: false, reason: 'tail removed', entries: log.length - 1, anchor: { entries: log.length } });
    expect(shortened.code).toBe(1);
    await restore(suIdentity, log);
  });

  it('exits 2 without the key, rather than verifying with a made-up one', { timeout: 60_000 }, async () => {
    const res = await cli(t.db, undefined);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no audit key: set AUDIT_HMAC_KEY/);
  });
});
