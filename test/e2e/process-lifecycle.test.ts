// The process contract of `missionlink start` in embedded mode, driven as a
// real child process: clean stops on SIGTERM/SIGINT (PostgreSQL included),
// data that survives restarts, one process per DATA_DIR, no orphan PostgreSQL
// after `kill -9`, least-privilege database roles, and CLI exit codes.
import { watch } from 'node:fs';
import { spawn } from 'node:child_process';
import { access, chown, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  cleanUpAll,
  dataDirSecrets,
  embeddedPgPort,
  killAll,
  killServer,
  leftovers,
  postgresProcesses,
  runCommand,
  sleep,
  spawnServer,
  tempDataDir,
  waitFor,
  type ServerProcess,
} from '../support/process.ts';

const ownerOf = async (file: string): Promise<[number, number]> => {
  const s = await stat(file);
  return [s.uid, s.gid];
};
const exists = (file: string) => access(file).then(() => true, () => false);

/** Asserts that nothing (server, watchdog, postmaster, backend) runs for `dataDir` within `ms`. */
async function expectNothingLeft(dataDir: string, ms: number) {
  const clean = await waitFor(async () => (await leftovers(dataDir)).length === 0, ms);
  expect(clean, `left running: ${JSON.stringify(await leftovers(dataDir))}`).toBe(true);
}

async function tryConnect(url: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

afterAll(async () => {
  await cleanUpAll();
}, 30_000);

describe('one DATA_DIR across the life of several processes', () => {
  let dataDir: string;
  let current: ServerProcess | undefined;
  const email = `life.${Date.now()}@example.com`;
  const password = 'survives restarts';

  beforeAll(async () => {
    dataDir = await tempDataDir();
  });

  /** A test that failed half-way may have left its server running: end it first. */
  async function startFresh(): Promise<ServerProcess> {
    if (current && !current.exitInfo()) await killServer(current);
    await expectNothingLeft(dataDir, 10_000);
    current = await spawnServer({ dataDir });
    return current;
  }

  afterAll(async () => {
    // Whatever failed above, nothing of this DATA_DIR may outlive the file.
    await killAll();
  }, 20_000);

  it('starts once when two processes start together, provisions least-privilege roles, and stops on SIGTERM within 10 s', async () => {
    // Two starts at once on the empty DATA_DIR: one wins, the other is refused.
    const pair = [await spawnServer({ dataDir }), await spawnServer({ dataDir })];
    const firstExit = await Promise.race([
      ...pair.map((p) => p.exited.then(() => p)),
      sleep(45_000).then(() => undefined),
    ]);
    expect(firstExit, 'one of the two must give up').toBeDefined();
    const loser = firstExit!;
    current = pair.find((p) => p !== loser)!;
    expect(loser.exitInfo()?.code, loser.stderr()).not.toBe(0);
    expect(loser.stderr()).toMatch(/DATA_DIR .* in use/);
    await current.waitReady();
    const reg = await api(current.url, 'POST', '/api/v1/auth/register', { email, password, displayName: 'Life' });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);

    // Each module's role reaches only its own database.
    const secrets = await dataDirSecrets(dataDir);
    const port = await embeddedPgPort(dataDir);
    const url = (role: string, pw: string, db: string) =>
      `postgres://${role}:${encodeURIComponent(pw)}@127.0.0.1:${port}/${db}`;
    expect(await tryConnect(url('missionlink_identity', secrets.identityPassword, 'identity'))).toEqual({ ok: true });
    expect(await tryConnect(url('missionlink_funding', secrets.fundingPassword, 'funding'))).toEqual({ ok: true });
    // The funding database has tables to protect (so the refusal below means something).
    const f = new pg.Client({ connectionString: url('missionlink_funding', secrets.fundingPassword, 'funding') });
    await f.connect();
    try {
      const { rows } = await f.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'",
      );
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await f.end();
    }
    const crossIdentity = await tryConnect(url('missionlink_identity', secrets.identityPassword, 'funding'));
    expect(crossIdentity.ok).toBe(false);
    expect(crossIdentity).toMatchObject({ message: expect.stringMatching(/permission denied/i) });
    const crossFunding = await tryConnect(url('missionlink_funding', secrets.fundingPassword, 'identity'));
    expect(crossFunding.ok).toBe(false);
    expect(crossFunding).toMatchObject({ message: expect.stringMatching(/permission denied/i) });
    // … and neither can become the other or a superuser.
    const c = new pg.Client({ connectionString: url('missionlink_identity', secrets.identityPassword, 'identity') });
    await c.connect();
    try {
      const { rows } = await c.query(
        `SELECT rolsuper, rolcreatedb, rolcreaterole, pg_has_role('missionlink_funding', 'MEMBER') AS member
           FROM pg_roles WHERE rolname = current_user`,
      );
      expect(rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, member: false });
      await expect(c.query('SET ROLE missionlink_funding')).rejects.toThrow(/permission denied/i);
      // Migrations ran under the advisory lock into their own ledger.
      const applied = await c.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(applied.rows.length).toBeGreaterThan(0);
    } finally {
      await c.end();
    }

    expect(await postgresProcesses(dataDir)).not.toHaveLength(0);
    const stop = await current.signal('SIGTERM', 10_000);
    expect(stop, current.stderr()).toMatchObject({ timedOut: false, code: 0 });
    expect(stop.ms).toBeLessThan(10_000);
    await expectNothingLeft(dataDir, 10_000 - stop.ms);
    expect(await exists(path.join(dataDir, 'embedded.lock'))).toBe(false);
    expect(current.stdout()).toContain('"msg":"stopped"');
  }, 60_000);

  it('keeps its data across a restart and refuses a second process on the same DATA_DIR', async () => {
    current = await startFresh();
    await current.waitReady();
    // Every migration was applied by the first start; none runs twice.
    expect(current.stdout()).not.toContain('migrations applied');
    const login = await api(current.url, 'POST', '/api/v1/auth/login', { email, password });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    // One line for the person at the terminal (stderr); stdout stays JSON.
    expect(current.stderr()).toContain(`MissionLink is ready on ${current.url} — data in ${dataDir}`);
    expect(current.stdout().split('\n').filter((l) => l.trim() && !l.startsWith('{'))).toEqual([]);

    const second = await runCommand({ dataDir, args: ['start'] }, 20_000);
    expect(second.code, second.stderr).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.ms).toBeLessThan(15_000);
    expect(second.stderr).toContain(dataDir);
    expect(second.stderr).toMatch(/DATA_DIR .* in use/);
    expect(second.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace

    // The first process never noticed.
    const ready = await fetch(`${current.url}/readyz`);
    expect(ready.status).toBe(200);
    const me = await api(current.url, 'GET', '/api/v1/me', undefined, login.body.accessToken);
    expect(me.status).toBe(200);
    expect(await exists(path.join(dataDir, 'embedded.lock'))).toBe(true);
  }, 60_000);

  it('stops on SIGINT within 10 s with PostgreSQL', async () => {
    expect(current?.exitInfo()).toBeUndefined();
    const stop = await current!.signal('SIGINT', 10_000);
    expect(stop, current!.stderr()).toMatchObject({ timedOut: false, code: 0 });
    await expectNothingLeft(dataDir, 10_000 - stop.ms);
  }, 30_000);

  it('never signals an unrelated process whose pid sits in a stale postmaster.pid', async () => {
    // A server that was SIGKILLed leaves postmaster.pid behind; by the next
    // start its pid may belong to anything.
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
      await writeFile(pidFile, `${bystander.pid}\n${path.join(dataDir, 'pg')}\n0\n1\n\n\n\n`);
      await chown(pidFile, ...(await ownerOf(path.join(dataDir, 'pg'))));
      await startFresh();
      await current!.waitReady();
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      const stop = await current!.signal('SIGTERM', 10_000);
      expect(stop).toMatchObject({ timedOut: false, code: 0 });
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 60_000);

  it('leaves no PostgreSQL behind when killed with SIGKILL, and the next start takes over', async () => {
    current = await startFresh();
    await current.waitReady();
    expect(await postgresProcesses(dataDir)).not.toHaveLength(0);

    const killed = await current.signal('SIGKILL', 5_000);
    expect(killed).toMatchObject({ timedOut: false, signal: 'SIGKILL' });
    // The watchdog notices the dead parent and stops the postmaster.
    await expectNothingLeft(dataDir, 10_000);

    // Killed while PostgreSQL is still starting (its postmaster.pid has just
    // appeared, it is not accepting connections yet): no server stays behind.
    current = await spawnServer({ dataDir });
    const caughtStarting = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), 20_000);
      const watcher = watch(path.join(dataDir, 'pg'), (_event, name) => {
        if (name === 'postmaster.pid') done(true);
      });
      function done(seen: boolean) {
        clearTimeout(timer);
        watcher.close();
        resolve(seen);
      }
    });
    await current.signal('SIGKILL', 5_000);
    expect(caughtStarting, current.stdout() + current.stderr()).toBe(true);
    await expectNothingLeft(dataDir, 10_000);

    current = await spawnServer({ dataDir });
    await current.waitReady();
    const login = await api(current.url, 'POST', '/api/v1/auth/login', { email, password });
    expect(login.status).toBe(200);

    // Now kill the server and its watchdog at once (the OOM killer, a
    // container runtime): the postmaster and a stale lock stay behind, and the
    // next start must take both over.
    const watchdogs = (await leftovers(dataDir)).filter((p) => p.argv.some((arg) => arg.endsWith('pg-watchdog.mjs')));
    expect(watchdogs).toHaveLength(1);
    for (const w of watchdogs) process.kill(w.pid, 'SIGKILL');
    await current.signal('SIGKILL', 5_000);
    expect(await postgresProcesses(dataDir)).not.toHaveLength(0);
    expect(await exists(path.join(dataDir, 'embedded.lock'))).toBe(true);

    current = await spawnServer({ dataDir });
    await current.waitReady();
    const again = await api(current.url, 'POST', '/api/v1/auth/login', { email, password });
    expect(again.status).toBe(200);
    const stop = await current.signal('SIGTERM', 10_000);
    expect(stop).toMatchObject({ timedOut: false, code: 0 });
    await expectNothingLeft(dataDir, 10_000);
  }, 60_000);
});

// Independent short-lived commands: run side by side to keep the file quick.
describe.concurrent('commands and configuration', () => {
  afterAll(async () => {
    await killAll();
  }, 20_000);

  it('--help prints the usage and exits 0', async ({ expect }) => {
    const res = await runCommand({ dataDir: await tempDataDir(), args: ['--help'] });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Usage: missionlink/);
  });

  it.for([
    ['PORT', 'abc'],
    ['ROLES', 'nope'],
    ['PLATFORM_FEE_BPS', '-1'],
  ] as const)('a bad %s exits 2 naming the variable', async ([name, value], { expect }) => {
    const dataDir = await tempDataDir();
    const res = await runCommand({ dataDir, args: ['start'], env: { [name]: value } });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(name);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    // It failed before touching anything.
    expect(await exists(dataDir)).toBe(false);
  });

  it.for([['ledger', 'verify'], ['audit', 'verify']] as const)(
    '%s %s refuses a DATA_DIR without a database (exit 2, naming DATA_DIR) and creates nothing',
    { timeout: 60_000 },
    async (args, { expect }) => {
      const missing = await tempDataDir();
      // An existing folder that holds no database (a mistyped DATA_DIR, or a
      // folder made for it) is refused the same way.
      const empty = await tempDataDir();
      await mkdir(empty);
      for (const dataDir of [missing, empty]) {
        const res = await runCommand({ dataDir, args: [...args] });
        expect(res.code, res.stderr + res.stdout).toBe(2);
        expect(res.stderr).toContain(`DATA_DIR ${dataDir}`);
        expect(res.stderr).not.toMatch(/\n\s+at /);
        expect(await exists(path.join(dataDir, 'pg')), 'never initdb').toBe(false);
        expect(await leftovers(dataDir)).toEqual([]);
      }
      expect(await exists(missing)).toBe(false);
      expect(await readdir(empty)).toEqual([]);
    },
  );

  it('migrate applies the migrations on an empty DATA_DIR, exits 0 and leaves nothing running', async ({ expect }) => {
    const dataDir = await tempDataDir();
    const res = await runCommand({ dataDir, args: ['migrate'] });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toContain('migrations applied');
    expect(res.stdout).toContain('migrations are up to date');
    const clean = await waitFor(async () => (await leftovers(dataDir)).length === 0, 10_000);
    expect(clean, JSON.stringify(await leftovers(dataDir))).toBe(true);
    expect(await exists(path.join(dataDir, 'embedded.lock'))).toBe(false);
  }, 60_000);
});
