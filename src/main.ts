/**
 * The process entry point of `missionlink start|serve`: databases (platform
 * runtime), the modules a process's roles need (app.ts), HTTP, and the stop
 * signals until the process exits.
 */
import { createMissionLink, type AppDeps, type MissionLink } from './app.ts';
import { loadKeyRing } from './identity/index.ts';
import type { Config } from './platform/config.ts';
import { ensureDataDir, loadSecrets } from './platform/datadir.ts';
import { closePool, openPool, type Pool } from './platform/db.ts';
import { drainHttp } from './platform/http.ts';
import { crashHooks } from './platform/faults.ts';
import type { Logger } from './platform/log.ts';
import { databasesFor, prepareDatabases, stopEmbedded } from './platform/runtime.ts';

/** How long a clean stop may take in all; beyond it the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 9_000;

export interface Running {
  app: MissionLink;
  url: string;
  /** Drains HTTP, stops workers, closes pools and finally the embedded database; once. */
  stop(): Promise<void>;
}

/** What a process adds to the product's own wiring (none in production). */
export interface ProcessOptions {
  /** Routes added to the HTTP server (see AppDeps.extraRoutes): a bench's ceiling route. */
  extraRoutes?: AppDeps['extraRoutes'];
}

/**
 * Starts a whole process: databases, migrations, modules, HTTP. Once `signal`
 * is aborted it stops between steps, undoes what it started, and throws.
 */
export async function startProcess(config: Config, log: Logger, signal?: AbortSignal, options: ProcessOptions = {}): Promise<Running> {
  const started = Date.now();
  const dbs = databasesFor(config.ROLES, config);
  const { embedded, urls } = await prepareDatabases(config, log, dbs, { signal });
  const pools: Record<string, Pool> = {};
  let app: MissionLink | undefined;
  const closeAll = async () => {
    if (app) {
      if (!(await drainHttp(app.http, HTTP_DRAIN_MS))) log.warn({ ms: HTTP_DRAIN_MS }, 'answers still in flight; closing their connections');
      await app.http.close().catch((err) => log.warn({ err }, 'http close failed'));
      await app.stopWorkers().catch((err) => log.warn({ err }, 'stopping workers failed'));
    }
    await endPools(Object.values(pools), log);
    if (embedded) await stopEmbedded(embedded);
  };
  try {
    for (const db of dbs) {
      pools[db] = openPool({ url: urls[db]!, name: db, max: 20 }, (err) => log.warn({ database: db, err: err.message }, 'idle database connection failed'));
    }
    // A notifier composes verification links from the signing keys, with or without the identity database.
    const needsKeys = config.ROLES.includes('api') || config.ROLES.includes('notifier');
    const keys = needsKeys ? await loadKeyRing(config.dataDir, config.SIGNING_KEYS) : undefined;
    let paymentWebhookSecret = config.PAYMENT_WEBHOOK_SECRET;
    if (!paymentWebhookSecret && config.ROLES.includes('api')) {
      await ensureDataDir(config.dataDir);
      paymentWebhookSecret = (await loadSecrets(config.dataDir)).paymentWebhookSecret;
    }
    const hooks = crashHooks(process.env.MISSIONLINK_CRASH_AT);
    if (hooks) log.warn({ points: process.env.MISSIONLINK_CRASH_AT }, 'crash points armed (fault-injection testing)');
    signal?.throwIfAborted();
    app = await createMissionLink({ config, logger: log, pools, keys, paymentWebhookSecret, hooks, extraRoutes: options.extraRoutes });
    signal?.throwIfAborted();
    const url = await app.http.listen({ port: config.PORT, host: config.HOST });
    signal?.throwIfAborted();
    log.info({ url, roles: config.ROLES, embedded: Boolean(embedded), ms: Date.now() - started }, 'MissionLink is ready');
    let stopping: Promise<void> | undefined;
    return { app, url, stop: () => (stopping ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** How long answers in flight get to finish before their connections are closed. */
const HTTP_DRAIN_MS = 4_000;

/** How long pools may wait for checked-out clients before the database is stopped under them. */
const POOL_DRAIN_MS = 2_000;

/**
 * Ends pools and waits for their connections to close, bounded: pg's end()
 * waits for every checked-out client, and a query still running must not hold
 * up the stop of the database (which ends those sessions itself).
 */
async function endPools(pools: Pool[], log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    Promise.all(pools.map((p) => closePool(p).catch(() => undefined))).then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), POOL_DRAIN_MS))),
  ]);
  clearTimeout(timer);
  if (!drained) log.warn({ ms: POOL_DRAIN_MS }, 'database clients still busy; stopping the database under them');
}

/** The signals that stop the process: what terminals, supervisors and container runtimes send a process group. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface RunOptions extends ProcessOptions {
  /** The loss of the parent process counts as a stop signal too (started by npm). */
  followParent?: boolean;
  /** Called once the process is ready. */
  onReady?: (running: Running) => void;
}

/**
 * Runs a whole process until it is told to stop, then stops it and exits: 0
 * after a clean stop (also one during startup), 1 after a failed one or when
 * the stop outlives SHUTDOWN_DEADLINE_MS. Logs "stopping" and "stopped".
 *
 * The stop signals are caught before anything starts and for the whole life
 * of the process. A signal sent to the process group of `npm start` reaches
 * us twice — directly, and forwarded by npm — and with `once` handlers the
 * second one found no handler and killed the process with the default
 * action half-way through its stop: no "stopped", PostgreSQL left to the
 * watchdog, the next start racing its shutdown. Repeats are now ignored.
 */
export async function runUntilStopped(config: Config, log: Logger, opts: RunOptions = {}): Promise<never> {
  const stop = new AbortController();
  const requested = new Promise<string>((resolve) => stop.signal.addEventListener('abort', () => resolve(String(stop.signal.reason)), { once: true }));
  const onStop = (reason: NodeJS.Signals | 'parent exited') => {
    if (stop.signal.aborted) {
      log.info({ reason }, 'already stopping');
      return;
    }
    log.info({ reason }, 'stopping');
    setTimeout(() => {
      log.error({ reason }, `clean stop took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      void exit(log, 1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    stop.abort(reason);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onStop);
  if (opts.followParent) followParent(log, () => onStop('parent exited'));

  let running: Running;
  try {
    running = await startProcess(config, log, stop.signal, { extraRoutes: opts.extraRoutes });
  } catch (err) {
    if (!stop.signal.aborted) throw err;
    // Stopped while starting: startProcess has undone what it had started.
    // (An initdb in our process group may have died of the same signal.)
    if (err !== stop.signal.reason) log.info({ err: (err as Error).message }, 'startup interrupted');
    log.info('stopped');
    return exit(log, 0);
  }
  opts.onReady?.(running);
  await requested;
  try {
    await running.stop();
  } catch (err) {
    log.error({ err }, 'stop failed');
    return exit(log, 1);
  }
  log.info('stopped');
  return exit(log, 0);
}

/**
 * Under `npm start` without `exec` the tree is npm → `sh -c "node …"` → us,
 * and dash dies of npm's forwarded SIGTERM without passing it on, which left
 * this process (and its PostgreSQL) running orphaned; npm itself dies of a
 * SIGHUP at once. So when our parent goes away (getppid() changes) we stop
 * as if signalled.
 */
function followParent(log: Logger, onGone: () => void): void {
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(poll);
    log.warn({ parent }, 'parent process exited');
    onGone();
  }, 250);
  poll.unref();
}

/** Exits once the log lines written so far have reached stdout (bounded: a dead reader must not hold us). */
async function exit(log: Logger, code: number): Promise<never> {
  await new Promise<void>((resolve) => {
    setTimeout(resolve, 500).unref();
    log.flush(() => resolve());
  });
  process.exit(code);
}
