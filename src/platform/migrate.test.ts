// The routine runner: SQL functions kept as their current text in files
// (src/ledger/sql/), applied after the migrations and again whenever a
// file's sha256 changes — once, under the migrations' advisory lock, all or
// nothing. Against a cloned funding database, with routine folders of the
// test's own (the real ones are covered at the end).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, superUrlFor, type TestDatabases } from '../../test/support/databases.ts';
import { ownerRoleOf } from './embedded-pg.ts';
import { LOCK_KEYS, migrate } from './migrate.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = 'missionlink_funding';
const OWNER = ownerRoleOf(APP);

let db: TestDatabases;
let su: pg.Client;
let url: string;
const folders: string[] = [];
beforeAll(async () => {
  db = await createTestDatabases(2);
  url = superUrlFor(db.superUrl, db.names.funding);
  su = new pg.Client({ connectionString: url });
  await su.connect();
});
afterAll(async () => {
  await su?.end();
  await db?.drop();
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

async function routineFolder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-routines-'));
  folders.push(dir);
  await write(dir, files);
  return dir;
}
async function write(dir: string, files: Record<string, string>) {
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
}
const probe = (name: string, value: number) =>
  `-- Answers ${value}.\nCREATE OR REPLACE FUNCTION ${name}() RETURNS int LANGUAGE sql AS $$ SELECT ${value} $$;\n`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const run = (...routineFolders: string[]) => migrate(url, 'funding', { setRole: OWNER, grantTo: APP, routineFolders });
const call = async (fn: string) => (await su.query(`SELECT ${fn}() AS v`)).rows[0].v as number;
const recorded = async (name: string) =>
  (await su.query<{ checksum: string }>('SELECT checksum FROM schema_routines WHERE name = $1', [name])).rows[0]?.checksum ?? null;

/** A process that migrates as `missionlink` starting does (test/support/migrate-child.ts). */
function child(...routineFolders: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/run-ts.js', 'test/support/migrate-child.ts', url, 'funding', OWNER, APP, ...routineFolders], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out: out.trim(), err: err.trim() });
    });
  });
}

describe('routines', () => {
  it('applies a routine once, again when its text changes, and not otherwise', async () => {
    const dir = await routineFolder({ 'probe_changes.sql': probe('probe_changes', 1) });
    expect(await run(dir)).toEqual(['routine probe_changes']);
    expect(await call('probe_changes')).toBe(1);
    expect(await run(dir)).toEqual([]);
    expect(await run(dir)).toEqual([]);

    await write(dir, { 'probe_changes.sql': probe('probe_changes', 2) });
    expect(await run(dir)).toEqual(['routine probe_changes']);
    expect(await call('probe_changes')).toBe(2);
    expect(await recorded('probe_changes')).toBe(sha256(probe('probe_changes', 2)));
    expect(await run(dir)).toEqual([]);
    // Owned by the schema owner, like everything the migrations make.
    const { rows } = await su.query(`SELECT pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE proname = 'probe_changes'`);
    expect(rows).toEqual([{ owner: OWNER }]);
  });

  it('applies a changed routine once when processes start together (the migrations’ advisory lock)', async () => {
    const dir = await routineFolder({ 'probe_race.sql': probe('probe_race', 1) });
    const RACERS = 4;
    // Hold the lock until every racer waits for it, so that they truly meet there.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS.funding]);
      const racers = Array.from({ length: RACERS }, () => child(dir));
      const waiting = async () =>
        (
          await su.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
              WHERE l.locktype = 'advisory' AND l.objid = $1 AND NOT l.granted AND d.datname = $2`,
            [LOCK_KEYS.funding, db.names.funding],
          )
        ).rows[0]!.n;
      for (let t = 0; (await waiting()) < RACERS; t++) {
        expect(t, 'every racer reaches the lock').toBeLessThan(600);
        await new Promise((r) => setTimeout(r, 100));
      }
      await holder.query('SELECT pg_advisory_unlock($1)', [LOCK_KEYS.funding]);
      const results = await Promise.all(racers);
      for (const r of results) expect(r, r.err).toMatchObject({ code: 0 });
      const applied = results.map((r) => JSON.parse(r.out) as string[]);
      expect(applied.filter((a) => a.length > 0)).toEqual([['routine probe_race']]);
      expect(applied.filter((a) => a.length === 0)).toHaveLength(RACERS - 1);
    } finally {
      await holder.end();
    }
    expect(await call('probe_race')).toBe(1);
  }, 90_000);

  it('rolls back every routine of a start when one fails, and the start stops naming it', async () => {
    const dir = await routineFolder({ 'probe_a_good.sql': probe('probe_a_good', 1), 'probe_b_bad.sql': probe('probe_b_bad', 1) });
    expect(await run(dir)).toEqual(['routine probe_a_good', 'routine probe_b_bad']);
    const before = { good: await recorded('probe_a_good'), bad: await recorded('probe_b_bad') };

    // probe_a_good is applied first, then probe_b_bad fails: neither remains.
    await write(dir, {
      'probe_a_good.sql': probe('probe_a_good', 2),
      'probe_b_bad.sql': 'CREATE OR REPLACE FUNCTION probe_b_bad() RETURNS int LANGUAGE sql AS $$ SELECT count(*) FROM no_such_table $$;\n',
    });
    await expect(run(dir)).rejects.toThrow(
      /^routine funding\/probe_b_bad \(.*probe_b_bad\.sql\) failed: relation "no_such_table" does not exist; no routine was changed/,
    );
    expect(await call('probe_a_good')).toBe(1);
    expect(await call('probe_b_bad')).toBe(1);
    expect({ good: await recorded('probe_a_good'), bad: await recorded('probe_b_bad') }).toEqual(before);

    // A process starting with it refuses to go on, and says why.
    const start = await child(dir);
    expect(start.code).toBe(1);
    expect(start.err).toMatch(/routine funding\/probe_b_bad .* failed: relation "no_such_table" does not exist/);
    expect(await call('probe_a_good')).toBe(1);

    // Fixed, the next start applies both.
    await write(dir, { 'probe_b_bad.sql': probe('probe_b_bad', 3) });
    expect(await run(dir)).toEqual(['routine probe_a_good', 'routine probe_b_bad']);
    expect([await call('probe_a_good'), await call('probe_b_bad')]).toEqual([2, 3]);
  }, 60_000);

  it('refuses a file that could not be applied again, or that is not named after its function, before touching anything', async () => {
    const once = await routineFolder({ 'probe_once.sql': 'CREATE FUNCTION probe_once() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n' });
    await expect(run(once)).rejects.toThrow(/probe_once\.sql must define its function with CREATE OR REPLACE FUNCTION probe_once\(/);
    const misnamed = await routineFolder({ 'probe_file.sql': probe('probe_other', 1) });
    await expect(run(misnamed)).rejects.toThrow(/CREATE OR REPLACE FUNCTION probe_file\(/);
    const twice = [await routineFolder({ 'probe_twin.sql': probe('probe_twin', 1) }), await routineFolder({ 'probe_twin.sql': probe('probe_twin', 2) })];
    await expect(run(...twice)).rejects.toThrow(/routine probe_twin is defined twice/);
    await expect(run(path.join(os.tmpdir(), 'missionlink-no-such-routines'))).rejects.toThrow(/routine folder .*missionlink-no-such-routines cannot be read \(ENOENT\)/);
    const { rows } = await su.query(`SELECT proname FROM pg_proc WHERE proname IN ('probe_once', 'probe_other', 'probe_twin')`);
    expect(rows).toEqual([]);
  });

  it('is left alone by an older release, whose code lacks a migration the database has', async () => {
    const dir = await routineFolder({ 'probe_release.sql': probe('probe_release', 1) });
    expect(await run(dir)).toEqual(['routine probe_release']);
    await write(dir, { 'probe_release.sql': probe('probe_release', 0) });
    await su.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_from_a_newer_release.sql', 'x')`);
    try {
      expect(await run(dir)).toEqual([]);
      expect(await call('probe_release')).toBe(1);
    } finally {
      await su.query('DELETE FROM schema_migrations WHERE version = 9999');
    }
    expect(await run(dir)).toEqual(['routine probe_release']);
  });

  it('keeps its records out of the app role’s reach', async () => {
    const app = db.pools.funding;
    expect((await app.query('SELECT count(*)::int AS n FROM schema_routines')).rows[0].n).toBeGreaterThan(0);
    await expect(app.query(`UPDATE schema_routines SET checksum = 'forged'`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`DELETE FROM schema_routines`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES (9998, 'x', 'x')`)).rejects.toThrow(/permission denied/);
  });
});

describe('the funding database’s routines (migrations/funding/routines.txt)', () => {
  it('lists src/ledger/sql, whose files replace the functions the migrations made, as on an existing deployment', async () => {
    const list = await readFile(path.join(REPO_ROOT, 'migrations/funding/routines.txt'), 'utf8');
    const listed = list.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    expect(listed).toContain('src/ledger/sql');
    const files: { name: string; sql: string }[] = [];
    for (const folder of listed) {
      for (const f of (await readdir(path.join(REPO_ROOT, folder))).filter((x) => x.endsWith('.sql'))) {
        files.push({ name: f.slice(0, -4), sql: await readFile(path.join(REPO_ROOT, folder, f), 'utf8') });
      }
    }
    files.sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['ledger_create_transfer', 'ledger_create_transfers', 'ledger_resolve_pending']));
    // A database from before routines: the ledger functions as migrations
    // 0010 and 0015 left them, no ledger_resolve_pending, no record of routines.
    await su.query(`SET ROLE ${OWNER}`);
    for (const m of ['0010_transfers_checked_by_writers.sql', '0015_ledger_create_transfers_by_key.sql']) {
      const sql = await readFile(path.join(REPO_ROOT, 'migrations/funding', m), 'utf8');
      await su.query(sql.slice(sql.indexOf('CREATE OR REPLACE FUNCTION')));
    }
    await su.query('DROP FUNCTION ledger_resolve_pending');
    await su.query('DROP TABLE schema_routines');
    await su.query('RESET ROLE');

    const applied = await migrate(url, 'funding', { setRole: OWNER, grantTo: APP });
    expect(applied).toEqual(files.map((f) => `routine ${f.name}`));
    expect(await migrate(url, 'funding', { setRole: OWNER, grantTo: APP })).toEqual([]);
    for (const f of files) {
      expect(await recorded(f.name)).toBe(sha256(f.sql));
      const { rows } = await su.query<{ prosrc: string; owner: string }>(`SELECT prosrc, pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE proname = $1`, [f.name]);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.owner).toBe(OWNER);
      expect(f.sql).toContain(rows[0]!.prosrc);
    }
  });
});
