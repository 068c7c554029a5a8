// Runs the real `missionlink` command (or `npm start`) as a child process for
// end-to-end tests: a throwaway DATA_DIR, a free port, readiness polling,
// captured output, and a clean-up that never leaves a process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/platform/net.ts';

export { freePort };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `ms` pass; returns the last value. */
export async function waitFor<T>(check: () => T | Promise<T>, ms: number, every = 100): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value || Date.now() >= until) return value;
    await sleep(every);
  }
}

const tempRoots = new Set<string>();

/**
 * A fresh temporary folder with a not-yet-existing `data` folder inside, to be
 * used as DATA_DIR. The folder is 0711 so the embedded PostgreSQL (which runs
 * as its own OS user when we are root) can traverse it.
 */
export async function tempDataDir(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'missionlink-e2e-'));
  await chmod(root, 0o711);
  tempRoots.add(root);
  return path.join(root, 'data');
}

export interface ProcInfo {
  pid: number;
  argv: string[];
}

/** Every process whose command line mentions `needle` (read from /proc, else `ps`). */
export async function processesMentioning(needle: string): Promise<ProcInfo[]> {
  const found: ProcInfo[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return psFallback(needle);
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!raw || !raw.includes(needle)) continue;
    // A zombie has an empty cmdline, so anything listed here is still running.
    found.push({ pid, argv: raw.split('\0').filter(Boolean) });
  }
  return found;
}

async function psFallback(needle: string): Promise<ProcInfo[]> {
  const out = await new Promise<string>((resolve) => {
    const ps = spawn('ps', ['-eo', 'pid=,args='], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    ps.stdout.on('data', (d: Buffer) => (text += d.toString()));
    ps.on('close', () => resolve(text));
    ps.on('error', () => resolve(''));
  });
  return out
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null && m[2]!.includes(needle) && Number(m[1]) !== process.pid)
    .map((m) => ({ pid: Number(m[1]), argv: m[2]!.split(/\s+/) }));
}

/**
 * Processes whose environment has a DATA_DIR at or below `dir` — the server
 * itself (its command line does not name the folder). Linux only; elsewhere
 * the list is empty.
 */
export async function processesWithDataDir(dir: string): Promise<ProcInfo[]> {
  const found: ProcInfo[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    const value = environ.split('\0').find((v) => v.startsWith('DATA_DIR='))?.slice('DATA_DIR='.length);
    if (value === undefined || !(value === dir || value.startsWith(`${dir}${path.sep}`))) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (raw) found.push({ pid: Number(entry), argv: raw.split('\0').filter(Boolean) });
  }
  return found;
}

/** Children of `pids` (e.g. the backends and helpers of a postmaster), from /proc. */
async function childrenOf(pids: Set<number>): Promise<ProcInfo[]> {
  if (!pids.size) return [];
  const found: ProcInfo[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid … — comm may hold spaces, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!pids.has(ppid)) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (raw) found.push({ pid: Number(entry), argv: raw.split('\0').filter(Boolean) });
  }
  return found;
}

/**
 * Everything still running for a DATA_DIR (or a folder above several):
 * servers, npm/sh wrappers, watchdogs, postmasters and their backends.
 */
export async function leftovers(dir: string): Promise<ProcInfo[]> {
  const byPid = new Map<number, ProcInfo>();
  for (const p of [...(await processesMentioning(dir)), ...(await processesWithDataDir(dir))]) byPid.set(p.pid, p);
  const postmasters = new Set([...byPid.values()].filter(isPostgres).map((p) => p.pid));
  for (const p of await childrenOf(postmasters)) byPid.set(p.pid, p);
  return [...byPid.values()];
}

const isPostgres = (p: ProcInfo) => path.basename(p.argv[0] ?? '') === 'postgres';

/**
 * PostgreSQL server processes (postmaster and its backends) working on
 * `dataDir`. Backends rename themselves (`postgres: …`), but they always die
 * with their postmaster, so the postmaster — whose argv holds `-D <dataDir>/pg`
 * — is what matters.
 */
export async function postgresProcesses(dataDir: string): Promise<ProcInfo[]> {
  const postmasters = (await processesMentioning(dataDir)).filter(isPostgres);
  return [...postmasters, ...(await childrenOf(new Set(postmasters.map((p) => p.pid))))];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  dataDir: string;
  /** Leader of its own process group. */
  detached: boolean;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<Exit>;
  exitInfo(): Exit | undefined;
  /** Polls GET /readyz until 200; throws with the captured output otherwise. */
  waitReady(ms?: number): Promise<number>;
  /** Sends `signal` to the process itself and waits up to `ms` for it to exit. */
  signal(signal: NodeJS.Signals, ms?: number): Promise<Exit & { ms: number; timedOut: boolean }>;
  /**
   * Sends `signal` to the whole process group (spawned with `detached`), as a
   * terminal's Ctrl-C, `kill -- -PGID`, systemd or a container runtime do, and
   * waits up to `ms` for the spawned process to exit.
   */
  signalGroup(signal: NodeJS.Signals, ms?: number): Promise<Exit & { ms: number; timedOut: boolean }>;
  /** Parsed pino lines of stdout. */
  logLines(): Record<string, unknown>[];
}

export interface SpawnOptions {
  dataDir: string;
  /** `['start']` by default; arguments after `node bin/missionlink.js`. */
  args?: string[];
  /** Run through `npm` with these args (e.g. `['start']`) instead of node. */
  npm?: string[];
  port?: number;
  env?: Record<string, string | undefined>;
  /** Its own process group (leader: the spawned process), for signalGroup(). */
  detached?: boolean;
}

const live = new Set<ServerProcess>();

// Variables of the outer environment that would switch the child away from
// the embedded mode these tests exercise.
const STRIP = ['DATABASE_URL_IDENTITY', 'DATABASE_URL_FUNDING', 'NATS_URL', 'ROLES', 'HOST', 'SIGNING_KEYS', 'SMTP_URL', 'IDENTITY_URL', 'PAYMENT_WEBHOOK_SECRET'];

/**
 * Spawns `node bin/missionlink.js <args>` (or `npm <npm…>`) from the
 * repository root with DATA_DIR and PORT set; output is captured.
 * @example const srv = await spawnServer({ dataDir: await tempDataDir() }); await srv.waitReady();
 */
export async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  const port = opts.port ?? (await freePort());
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !STRIP.includes(k)) env[k] = v;
  Object.assign(env, { PORT: String(port), DATA_DIR: opts.dataDir, LOG_LEVEL: 'info' });
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const [cmd, args] = opts.npm
    ? [process.platform === 'win32' ? 'npm.cmd' : 'npm', opts.npm]
    : [process.execPath, ['bin/missionlink.js', ...(opts.args ?? ['start'])]];
  // Not detached unless asked: a Ctrl-C on the test run reaches the server too
  // (it stops cleanly). Clean-up finds npm's children through their DATA_DIR.
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.on('error', (e) => {
      err += `\nspawn error: ${e.message}`;
      exit ??= { code: -1, signal: null };
      resolve(exit);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const srv: ServerProcess = {
    child,
    pid: child.pid ?? -1,
    port,
    url,
    dataDir: opts.dataDir,
    detached: opts.detached ?? false,
    stdout: () => out,
    stderr: () => err,
    exited,
    exitInfo: () => exit,
    async waitReady(ms = 45_000) {
      const started = Date.now();
      while (Date.now() - started < ms) {
        if (exit) break;
        try {
          const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
          if (res.status === 200) return Date.now() - started;
        } catch {
          // not listening yet
        }
        await sleep(50);
      }
      throw new Error(
        `server on ${url} not ready after ${Date.now() - started} ms (exit ${JSON.stringify(exit)})\n` +
          `--- stdout ---\n${out.slice(-4000)}\n--- stderr ---\n${err.slice(-4000)}`,
      );
    },
    async signal(signal, ms = 10_000) {
      const sent = Date.now();
      if (!exit) child.kill(signal);
      const timedOut = await Promise.race([exited.then(() => false), sleep(ms).then(() => true)]);
      return { ...(exit ?? { code: null, signal: null }), ms: Date.now() - sent, timedOut };
    },
    async signalGroup(signal, ms = 10_000) {
      if (!opts.detached) throw new Error('signalGroup needs a server spawned with detached: true');
      const sent = Date.now();
      kill(-srv.pid, signal);
      const timedOut = await Promise.race([exited.then(() => false), sleep(ms).then(() => true)]);
      return { ...(exit ?? { code: null, signal: null }), ms: Date.now() - sent, timedOut };
    },
    logLines() {
      return out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        });
    },
  };
  live.add(srv);
  void exited.then(() => live.delete(srv));
  return srv;
}

/** Runs a command to completion (bad config, --help, migrate…). */
export async function runCommand(opts: SpawnOptions, ms = 45_000): Promise<Exit & { stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const srv = await spawnServer(opts);
  const timedOut = await Promise.race([srv.exited.then(() => false), sleep(ms).then(() => true)]);
  if (timedOut) {
    await killServer(srv);
    throw new Error(`${opts.args?.join(' ')} did not finish within ${ms} ms\n${srv.stdout()}\n${srv.stderr()}`);
  }
  return { ...(srv.exitInfo() as Exit), stdout: srv.stdout(), stderr: srv.stderr(), ms: Date.now() - started };
}

function kill(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs a spawned process and everything running for its DATA_DIR (npm's
 * shell and server, watchdog, postmaster and backends).
 */
export async function killServer(srv: ServerProcess): Promise<void> {
  if (srv.pid > 0 && !srv.exitInfo()) kill(srv.pid, 'SIGKILL');
  // A detached server's group may outlive its leader (npm): end all of it.
  if (srv.pid > 0 && srv.detached) kill(-srv.pid, 'SIGKILL');
  for (const p of await leftovers(srv.dataDir)) kill(p.pid, 'SIGKILL');
  await Promise.race([srv.exited, sleep(5000)]);
  live.delete(srv);
}

/**
 * Kills every process these helpers started that is still running, then any
 * process (postgres, watchdog, orphaned server) that still mentions one of our
 * temporary DATA_DIRs. Only ever touches processes of our own temp folders.
 */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map(killServer));
  for (const root of tempRoots) {
    for (const p of await leftovers(root)) kill(p.pid, 'SIGKILL');
  }
}

/** killAll(), then removes the temporary DATA_DIRs. */
export async function cleanUpAll(): Promise<void> {
  await killAll();
  // Give SIGKILLed postmasters a moment so their files are not busy.
  await waitFor(async () => {
    for (const root of tempRoots) if ((await leftovers(root)).length) return false;
    return true;
  }, 5000);
  for (const root of tempRoots) {
    await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => undefined);
  }
  tempRoots.clear();
}

/** Small JSON-over-HTTP client for the API. */
export async function api(
  base: string,
  method: string,
  urlPath: string,
  body?: unknown,
  token?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The port the embedded PostgreSQL of `dataDir` listens on (line 4 of postmaster.pid). */
export async function embeddedPgPort(dataDir: string): Promise<number> {
  const text = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
  return Number(text.split('\n')[3]);
}

/** The role passwords generated into DATA_DIR/secrets.json. */
export async function dataDirSecrets(dataDir: string): Promise<{
  postgresPassword: string;
  identityPassword: string;
  fundingPassword: string;
}> {
  return JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8'));
}
