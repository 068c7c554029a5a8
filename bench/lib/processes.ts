/**
 * Child processes of a benchmark run: the MissionLink server under test, and
 * helper processes (raw argon2, a bare Fastify). Every child is tracked and
 * stopped when the run ends, however it ends; only our own children, by pid.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/platform/net.ts';

export { freePort };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN_TS = path.join(REPO_ROOT, 'bin', 'run-ts.js');
const MISSIONLINK = path.join(REPO_ROOT, 'bin', 'missionlink.js');
/** `missionlink start` plus the bench's ceiling route (see startServer). */
const BARE_ROUTE_SERVER = path.join(REPO_ROOT, 'bench', 'lib', 'server.ts');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = new Set<ChildProcess>();
/** Temporary directories still to remove. */
const scratch = new Set<string>();
let hooksInstalled = false;
let interrupted = false;

/** True once the runner got SIGINT/SIGTERM: its results are not to be kept. */
export const wasInterrupted = () => interrupted;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // An exception in the runner: SIGTERM lets the server stop its embedded
  // PostgreSQL itself (its data directory stays behind in the temp folder).
  process.once('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  });
  // Ctrl-C or SIGTERM to the runner: stop our children cleanly, then exit.
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
    void Promise.all([...live].map((c) => stopChild(c)))
      .then(() => Promise.all([...scratch].map((d) => rm(d, { recursive: true, force: true }))))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

function track(child: ChildProcess): ChildProcess {
  installHooks();
  live.add(child);
  child.once('exit', () => live.delete(child));
  // Spawn or IPC failures surface through exit codes and ask(); an unhandled
  // 'error' event would otherwise kill the runner before it cleans up.
  child.on('error', () => undefined);
  return child;
}

/** Keeps the last few KiB a child wrote, to explain a failure. */
function tail(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, graceMs))) {
    child.kill('SIGKILL');
    await waitForExit(child, 2_000);
  }
}

/**
 * Waits until GET `url` answers 200, or fails when the child exits or the
 * time runs out.
 */
export async function waitForHttp(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `process exited (${child.exitCode ?? child.signalCode}) before ${url} answered:\n${output()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${output()}`);
}

export interface ServerUnderTest {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** Milliseconds from spawn to /readyz 200. */
  startMs: number;
  /** Its throwaway DATA_DIR (secrets.json, pg/ of the embedded PostgreSQL); removed by stop(). */
  dataDir: string;
  stop(): Promise<void>;
}

function serverNodeArgs(): string[] {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Starts `missionlink start` (every role, embedded PostgreSQL) on a free
 * loopback port with a throwaway DATA_DIR; resolves once /readyz is 200.
 * `bareRoute`: the same start through bench/lib/server.ts, which adds the
 * ceiling route GET /bench/bare to the same HTTP server.
 * @example const server = await startServer({}, { bareRoute: true }); … await server.stop();
 */
export async function startServer(
  env: Record<string, string> = {},
  opts: { nodeArgs?: string[]; timeoutMs?: number; bareRoute?: boolean } = {},
): Promise<ServerUnderTest> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-bench-'));
  scratch.add(dataDir);
  // The embedded PostgreSQL runs as its own OS user and must traverse this.
  await chmod(dataDir, 0o711);
  const port = await freePort();
  const started = Date.now();
  const child = track(
    // nodeArgs, or BENCH_SERVER_NODE_ARGS for every scenario: e.g.
    // '--cpu-prof --cpu-prof-dir=/some/dir' to profile the server under load.
    spawn(process.execPath, [...(opts.nodeArgs ?? serverNodeArgs()), ...(opts.bareRoute ? [RUN_TS, BARE_ROUTE_SERVER] : [MISSIONLINK, 'start'])], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = tail(child);
  const url = `http://127.0.0.1:${port}`;
  const cleanUp = async () => {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
    scratch.delete(dataDir);
  };
  try {
    await waitForHttp(`${url}/readyz`, child, output, opts.timeoutMs ?? 90_000);
  } catch (err) {
    await cleanUp();
    throw err;
  }
  return { url, pid: child.pid!, startMs: Date.now() - started, dataDir, stop: cleanUp };
}

/**
 * Forks a TypeScript file of the repository as a child with an IPC channel.
 * @example const worker = forkTs('bench/lib/argon2-worker.ts');
 */
export function forkTs(
  file: string,
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string } {
  const child = track(
    fork(RUN_TS, [path.join(REPO_ROOT, file)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  return { child, output: tail(child) };
}

/** Sends one request over IPC and waits for the child's single answer. */
export function ask<Req, Res>(child: ChildProcess, request: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`child ${child.pid} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg: unknown) => {
      cleanup();
      const m = msg as { error?: string };
      if (m && typeof m === 'object' && typeof m.error === 'string') reject(new Error(m.error));
      else resolve(msg as Res);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (${code}) before answering`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    if (!child.connected) {
      clearTimeout(timer);
      reject(new Error(`child ${child.pid} is gone`));
      return;
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(request as object, (err) => {
      if (err) {
        cleanup();
        reject(err);
      }
    });
  });
}

/**
 * A throwaway directory, removed by `remove()` or, if the run is interrupted,
 * by the runner's signal handler.
 * @example const tmp = await scratchDir('missionlink-bench-settle-'); … await tmp.remove();
 */
export async function scratchDir(
  prefix: string,
): Promise<{ dir: string; remove(): Promise<void> }> {
  installHooks();
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  scratch.add(dir);
  // An embedded PostgreSQL below it runs as its own OS user and must traverse it.
  await chmod(dir, 0o711);
  return {
    dir,
    async remove() {
      await rm(dir, { recursive: true, force: true });
      scratch.delete(dir);
    },
  };
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** CPU seconds the tool itself used (user + system), null off Linux. */
  cpuSeconds: number | null;
  ms: number;
}

/**
 * Runs a command-line tool (found on PATH) as a tracked child, with a time
 * limit, and collects its output.
 * @example const r = await runTool('pgbench', ['--version'], {}, 10_000);
 */
export function runTool(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const cpu0 = childrenCpuSeconds();
    const child = track(
      spawn(command, args, {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on(
      'data',
      (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-16_384)),
    );
    const timer = setTimeout(() => void stopChild(child, 2_000), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`${command} is not installed (not found on PATH)`)
          : err,
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const cpu1 = childrenCpuSeconds();
      resolve({
        code,
        stdout,
        stderr,
        cpuSeconds: cpu0 === null || cpu1 === null ? null : Math.max(0, cpu1 - cpu0),
        ms: performance.now() - started,
      });
    });
  });
}

/** CPU seconds of this process's children that have exited and been waited for (Linux only). */
function childrenCpuSeconds(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const text = readFileSync('/proc/self/stat', 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // cutime(16), cstime(17): fields 13 and 14 after "(comm)", USER_HZ = 100.
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return null;
  }
}
