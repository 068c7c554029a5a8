import path from 'node:path';
import { createMissionLink, type MissionLink } from '../app.ts';
import { loadKeyRing } from '../identity/keys.ts';
import { usesEmbeddedDatabase, type Config, type Role } from './config.ts';
import { ensureDataDir, loadSecrets, lockDataDir } from './datadir.ts';
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
export async function startEmbedded(config: Config, log: Logger): Promise<Embedded> {
  await ensureDataDir(config.dataDir);
  const release = await lockDataDir(config.dataDir);
  try {
    const secrets = await loadSecrets(config.dataDir);
    const server = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, 'pg'),
      password: secrets.postgresPassword,
      lockFile: path.join(config.dataDir, 'embedded.lock'),
      log: (line) => log.debug({ component: 'postgres' }, line),
    });
    await provisionDatabases(
      server.superUrl,
      [
        { name: 'identity', role: 'missionlink_identity', password: secrets.identityPassword },
        { name: 'funding', role: 'missionlink_funding', password: secrets.fundingPassword },
      ],
      { separateOwner: true },
    );
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

/** Resolves database URLs (embedded or external) and applies migrations. */
export async function prepareDatabases(config: Config, log: Logger, dbs: DatabaseName[]) {
  let embedded: Embedded | undefined;
  let urls: DatabaseUrls;
  if (usesEmbeddedDatabase(config)) {
    embedded = await startEmbedded(config, log);
    urls = embedded.urls;
  } else {
    urls = { identity: config.DATABASE_URL_IDENTITY, funding: config.DATABASE_URL_FUNDING };
  }
  for (const db of dbs) {
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
  return { embedded, urls };
}

export interface Running {
  app: MissionLink;
  url: string;
  stop(reason: string): Promise<void>;
}

/**
 * Starts a whole process: databases, migrations, modules, HTTP. Stopping
 * drains HTTP, stops workers, closes pools and finally the embedded database.
 */
export async function startProcess(config: Config, log: Logger): Promise<Running> {
  const started = Date.now();
  const dbs = databasesFor(config.ROLES, config);
  const { embedded, urls } = await prepareDatabases(config, log, dbs);
  const pools: Record<string, Pool> = {};
  let app: MissionLink | undefined;
  const closeAll = async () => {
    if (app) {
      await app.http.close().catch((err) => log.warn({ err }, 'http close failed'));
      await app.stopWorkers().catch((err) => log.warn({ err }, 'stopping workers failed'));
    }
    await Promise.all(Object.values(pools).map((p) => p.end().catch(() => undefined)));
    if (embedded) {
      await embedded.server.stop();
      await embedded.release();
    }
  };
  try {
    for (const db of dbs) {
      pools[db] = openPool({ url: urls[db]!, name: db, max: 20 }, (err) => log.warn({ database: db, err: err.message }, 'idle database connection failed'));
    }
    const needsKeys = config.ROLES.includes('api') || (config.ROLES.includes('notifier') && !pools.identity);
    const keys = needsKeys ? await loadKeyRing(config.dataDir, config.SIGNING_KEYS) : undefined;
    let paymentWebhookSecret = config.PAYMENT_WEBHOOK_SECRET;
    if (!paymentWebhookSecret && config.ROLES.includes('api')) {
      await ensureDataDir(config.dataDir);
      paymentWebhookSecret = (await loadSecrets(config.dataDir)).paymentWebhookSecret;
    }
    const hooks = crashHooks(process.env.MISSIONLINK_CRASH_AT);
    if (hooks) log.warn({ points: process.env.MISSIONLINK_CRASH_AT }, 'crash points armed (fault-injection testing)');
    app = await createMissionLink({ config, logger: log, pools, keys, paymentWebhookSecret, hooks });
    const url = await app.http.listen({ port: config.PORT, host: config.HOST });
    log.info({ url, roles: config.ROLES, embedded: Boolean(embedded), ms: Date.now() - started }, 'MissionLink is ready');
    let stopping: Promise<void> | undefined;
    return {
      app,
      url,
      stop(reason) {
        stopping ??= (async () => {
          log.info({ reason }, 'stopping');
          await closeAll();
          log.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Wires SIGINT/SIGTERM to a clean stop with a hard deadline. With
 * `followParent`, the loss of the parent process counts as a stop signal too.
 */
export function stopOnSignals(running: Running, log: Logger, opts: { followParent?: boolean } = {}): void {
  const onSignal = (signal: NodeJS.Signals | 'parent exited') => {
    const timer = setTimeout(() => {
      log.error({ signal }, `clean stop took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    timer.unref();
    running.stop(signal).then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (opts.followParent) {
    // Under `npm start` the tree is npm → `sh -c "node …"` → us. npm forwards
    // SIGTERM to that shell, and dash dies of it without passing it on, which
    // left this process (and its PostgreSQL) running orphaned. So when our
    // parent goes away (getppid() changes) we stop as if signalled.
    const parent = process.ppid;
    const poll = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(poll);
      log.warn({ parent }, 'parent process exited; stopping');
      onSignal('parent exited');
    }, 250);
    poll.unref();
  }
}
