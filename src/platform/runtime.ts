/**
 * The generic parts of starting a process: which databases its roles need,
 * the embedded PostgreSQL of DATA_DIR, migrations. The process itself (the
 * modules, the HTTP server, signals) is started by src/main.ts.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { usesEmbeddedDatabase, type Config, type Role } from './config.ts';
import { ensureDataDir, loadSecrets, lockDataDir, NoDatabaseError } from './datadir.ts';
import { ownerRoleOf, provisionDatabases, roleUrl, startEmbeddedPostgres, withDatabase, type EmbeddedPostgres } from './embedded-pg.ts';
import type { Logger } from './log.ts';
import { migrate, type DatabaseName } from './migrate.ts';

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
