import { loadConfig, ConfigError, usesEmbeddedDatabase, type Config } from './platform/config.ts';
import { DataDirInUseError, NoDatabaseError } from './platform/datadir.ts';
import { createLogger } from './platform/log.ts';
import { prepareDatabases, stopEmbedded } from './platform/runtime.ts';
import { VERSION } from './app.ts';
import { runUntilStopped, type Running } from './main.ts';

const HELP = `missionlink ${VERSION} — mission donations for live streamers

Usage: missionlink <command>

Commands:
  start          run every role; starts an embedded PostgreSQL in DATA_DIR
                 unless DATABASE_URL_IDENTITY/DATABASE_URL_FUNDING are set
  serve          run the roles in ROLES against external databases only
  migrate        apply pending database migrations, then exit
  ledger verify  prove the books balance (exit 1 with a report if not)
  keys rotate    add a new signing key to DATA_DIR/keys (old keys keep verifying)
  audit verify   check the hash chain of the security audit log
  --help         show this text
  --version      print the version

Configuration comes from the environment; see README.md.`;

function fail(message: string, code: number): never {
  process.stderr.write(`missionlink: ${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, sub] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const cfg = config();
  const log = createLogger(cfg.LOG_LEVEL);
  switch (command) {
    case 'start':
    case 'serve': {
      if (command === 'serve' && (!cfg.DATABASE_URL_FUNDING && !cfg.DATABASE_URL_IDENTITY)) {
        fail('serve needs DATABASE_URL_IDENTITY and/or DATABASE_URL_FUNDING (use start for the embedded database)', 2);
      }
      // Started by an npm script (`npm start`): follow npm, see runUntilStopped.
      return runUntilStopped(cfg, log, {
        followParent: Boolean(process.env.npm_lifecycle_event),
        onReady: (running) => process.stderr.write(`${readyLine(cfg, running)}\n`),
      });
    }
    case 'migrate': {
      const { embedded } = await prepareDatabases(cfg, log, ['identity', 'funding']);
      if (embedded) await stopEmbedded(embedded);
      log.info('migrations are up to date');
      return;
    }
    case 'ledger': {
      if (sub !== 'verify') fail('usage: missionlink ledger verify', 2);
      const { openPool } = await import('./platform/db.ts');
      // The ledger's checks and the pledge book's, in one snapshot.
      const { verifyBooks } = await import('./missions/index.ts');
      const { embedded, urls } = await prepareDatabases(cfg, log, ['funding'], { existing: true });
      const pool = openPool({ url: urls.funding!, name: 'verify' });
      try {
        const report = await verifyBooks(pool);
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await pool.end();
        if (embedded) await stopEmbedded(embedded);
      }
      return;
    }
    case 'keys': {
      if (sub !== 'rotate') fail('usage: missionlink keys rotate', 2);
      const { rotateKeys } = await import('./identity/index.ts');
      const kid = await rotateKeys(cfg.dataDir);
      process.stdout.write(`new signing key ${kid}; restart the api processes to sign with it\n`);
      return;
    }
    case 'audit': {
      if (sub !== 'verify') fail('usage: missionlink audit verify', 2);
      const { prepareDatabases: prep } = await import('./platform/runtime.ts');
      const { openPool } = await import('./platform/db.ts');
      const { loadAuditKey, verifyAuditChain } = await import('./identity/index.ts');
      // The chain in the identity database, its anchors in the funding database.
      const { embedded, urls } = await prep(cfg, log, ['identity', 'funding'], { existing: true });
      const identity = openPool({ url: urls.identity!, name: 'audit' });
      const funding = openPool({ url: urls.funding!, name: 'audit' });
      try {
        // The api processes' key (AUDIT_HMAC_KEY or DATA_DIR), never a new one.
        const key = await loadAuditKey(cfg, { create: false }).catch((err: Error) => err);
        if (key instanceof Error) {
          process.stderr.write(`missionlink: ${key.message}\n`);
          process.exitCode = 2;
          return;
        }
        const result = await verifyAuditChain(identity, { funding, key });
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        process.exitCode = result.ok ? 0 : 1;
      } finally {
        await Promise.all([identity.end(), funding.end()]);
        if (embedded) await stopEmbedded(embedded);
      }
      return;
    }
    default:
      fail(`unknown command "${command}"; see missionlink --help`, 2);
  }
}

/**
 * The one line a person starting the server reads (stderr; stdout stays JSON
 * for machines): where it listens, where its data lives, how to stop it.
 */
function readyLine(cfg: Config, running: Running): string {
  const data = usesEmbeddedDatabase(cfg) ? ` — data in ${cfg.DATA_DIR}` : '';
  return `MissionLink is ready on ${running.url}${data} (Ctrl-C stops it)`;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof DataDirInUseError) fail(err.message, 1);
  if (err instanceof NoDatabaseError) fail(err.message, 2);
  process.stderr.write(`missionlink: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
