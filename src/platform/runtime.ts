import { access } from 'node:fs/promises';
import path from 'node:path';
import { createMissionLink, type MissionLink } from '../app.ts';
import { loadKeyRing } from '../identity/keys.ts';
import { usesEmbeddedDatabase, type Config, type Role } from './config.ts';
import { ensureDataDir, loadSecrets, lockDataDir, NoDatabaseError } from './datadir.ts';
import { crashHooks } from './faults.ts';
import { openPool, type Pool } from './db.ts';
import { ownerRoleOf, provisionDatabases, roleUrl, startEmbeddedPostgres, withDatabase, type EmbeddedPostgres } from './embedded-pg.ts';
import type { Logger } from './log.ts';
import { migrate, type DatabaseName } from './migrate.ts';

/** How long a clean stop may take in all; beyond it the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 9_000;

export interface DatabaseUrls {
  identity?: string;
  funding?: string;
}

/** Which databases a set of roles touches. */
export function databasesFor(roles: Role[], config: Config): DatabaseName[] {
  const need = new Set<DatabaseName>();
  for (const role of roles) {
    if (role === 'api') need.add('identity').add('funding');
    else need.add('funding');
    if (role === 'notifier' && !config.IDENTITY_URL) need.add('identity');
  }
  return [...need].sort();
}

export interface Embedded {
  server: EmbeddedPostgres;
  urls: Required<DatabaseUrls>;
  release: () => Promise<void>;
}

/** Starts the embedded PostgreSQL of DATA_DIR with its two databases and roles. */
export async function startEmbedded(config: Config, log: Logger, signal?: AbortSignal): Promise<Embedded> {
  await ensureDataDir(config.dataDir);
  const release = await lockDataDir(config.dataDir);
  try {
    const secrets = await loadSecrets(config.dataDir);
    const server = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, 'pg'),
      password: secrets.postgresPassword,
      lockFile: path.join(config.dataDir, 'embedded.lock'),
      log: (line) => log.debug({ component: 'postgres' }, line),
      signal,
    });
    try {
      await provisionDatabases(
        server.superUrl,
        [
          { name: 'identity', role: 'missionlink_identity', password: secrets.identityPassword },
          { name: 'funding', role: 'missionlink_funding', password: secrets.fundingPassword },
        ],
        { separateOwner: true },
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return {
      server,
      release,
      urls: {
        identity: roleUrl(server.superUrl, 'missionlink_identity', secrets.identityPassword, 'identity'),
        funding: roleUrl(server.superUrl, 'missionlink_funding', secrets.fundingPassword, 'funding'),
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Stops an embedded PostgreSQL and releases its DATA_DIR. */
export async function stopEmbedded(embedded: Embedded): Promise<void> {
  await embedded.server.stop();
  await embedded.release();
}

export interface PrepareOptions {
  /** Checked between steps: once aborted, what was started is stopped and the abort reason thrown. */
  signal?: AbortSignal;
  /**
   * Only an existing embedded database will do (read-only commands): without
   * one, NoDatabaseError, and nothing is created — no folder, no initdb.
   */
  existing?: boolean;
}

/** Resolves database URLs (embedded or external) and applies migrations. */
export async function prepareDatabases(config: Config, log: Logger, dbs: DatabaseName[], opts: PrepareOptions = {}) {
  let embedded: Embedded | undefined;
  let urls: DatabaseUrls;
  if (usesEmbeddedDatabase(config)) {
    if (opts.existing) await expectEmbeddedDatabase(config);
    embedded = await startEmbedded(config, log, opts.signal);
    urls = embedded.urls;
  } else {
    urls = { identity: config.DATABASE_URL_IDENTITY, funding: config.DATABASE_URL_FUNDING };
  }
  try {
    for (const db of dbs) {
      opts.signal?.throwIfAborted();
      const url = urls[db];
      if (!url) throw new Error(`DATABASE_URL_${db.toUpperCase()} is required for roles ${config.ROLES.join(',')}`);
      // Embedded: migrations run as the schema's owner role, then grant the
      // login role what it needs. External: the given role runs them.
      const role = `missionlink_${db}`;
      const applied = embedded
        ? await migrate(withDatabase(embedded.server.superUrl, db), db, { setRole: ownerRoleOf(role), grantTo: role })
        : await migrate(url, db);
      if (applied.length) log.info({ database: db, applied }, 'migrations applied');
    }
    opts.signal?.throwIfAborted();
  } catch (err) {
    if (embedded) await stopEmbedded(embedded);
    throw err;
  }
  return { embedded, urls };
}

/** Refuses (NoDatabaseError) a DATA_DIR without an initialised embedded database. */
async function expectEmbeddedDatabase(config: Config): Promise<void> {
  const initialised = await access(path.join(config.dataDir, 'pg', 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (initialised) return;
  const where = config.DATA_DIR === config.dataDir ? config.dataDir : `${config.DATA_DIR} (${config.dataDir})`;
  throw new NoDatabaseError(
    `no embedded database in DATA_DIR ${where}; set DATA_DIR to the folder the server runs with ` +
      '(or DATABASE_URL_IDENTITY/DATABASE_URL_FUNDING for external databases). Nothing was created.',
  );
}

export interface Running {
  app: MissionLink;
  url: string;
  /** Drains HTTP, stops workers, closes pools and finally the embedded database; once. */
  stop(): Promise<void>;
}

/**
 * Starts a whole process: databases, migrations, modules, HTTP. Once `signal`
 * is aborted it stops between steps, undoes what it started, and throws.
 */
export async function startProcess(config: Config, log: Logger, signal?: AbortSignal): Promise<Running> {
  const started = Date.now();
  const dbs = databasesFor(config.ROLES, config);
  const { embedded, urls } = await prepareDatabases(config, log, dbs, { signal });
  const pools: Record<string, Pool> = {};
  let app: MissionLink | undefined;
  const closeAll = async () => {
    if (app) {
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
    app = await createMissionLink({ config, logger: log, pools, keys, paymentWebhookSecret, hooks });
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

/** How long pools may wait for checked-out clients before the database is stopped under them. */
const POOL_DRAIN_MS = 2_000;

/**
 * Ends pools, bounded: pg's end() waits for every checked-out client, and a
 * query still running must not hold up the stop of the database (which ends
 * those sessions itself).
 */
async function endPools(pools: Pool[], log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    Promise.all(pools.map((p) => p.end().catch(() => undefined))).then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), POOL_DRAIN_MS))),
  ]);
  clearTimeout(timer);
  if (!drained) log.warn({ ms: POOL_DRAIN_MS }, 'database clients still busy; stopping the database under them');
}

/** The signals that stop the process: what terminals, supervisors and container runtimes send a process group. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface RunOptions {
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
    running = await startProcess(config, log, stop.signal);
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
