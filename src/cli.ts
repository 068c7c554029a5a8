import { loadConfig, ConfigError, usesEmbeddedDatabase, type Config } from './platform/config.ts';
import { DataDirInUseError, NoDatabaseError } from './platform/datadir.ts';
import type { Pool } from './platform/db.ts';
import { createLogger, type Logger } from './platform/log.ts';
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
  reconcile [--from <date>] [--to <date>]
                 compare what the providers report (the payment provider's
                 charges and cancellations, payouts to streamers' banks) with
                 the books over [from, to) (default: the last 24 hours);
                 prints every difference, exit 1 on any
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
      // The ledger's checks, the pledge book's, the withdrawals' and the wallet's, in one snapshot.
      const { verifyPledges } = await import('./missions/index.ts');
      const { verifyWithdrawals } = await import('./payouts/index.ts');
      const { verifyWallet } = await import('./wallet/index.ts');
      const { verifyLedger } = await import('./ledger/index.ts');
      await reportOnFunding(cfg, log, 'verify', (pool) => verifyLedger(pool, [verifyPledges, verifyWithdrawals, verifyWallet]));
      return;
    }
    case 'reconcile': {
      const range = reconcileRange(argv.slice(1));
      const { payoutProviderOf } = await import('./payouts/index.ts');
      const { paymentReports } = await import('./wallet/index.ts');
      const { reconcile } = await import('./sweeper/index.ts');
      // The configured payment provider (PAYMENT_PROVIDER: PortOne's API, or the sandbox's books) and the payout provider (PAYOUT_PROVIDER).
      await reportOnFunding(cfg, log, 'reconcile', (pool) => reconcile(pool, { payments: paymentReports(cfg, pool), payouts: payoutProviderOf(cfg, pool) }, range));
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
      const { closePool, openPool } = await import('./platform/db.ts');
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
        await Promise.all([closePool(identity), closePool(funding)]);
        if (embedded) await stopEmbedded(embedded);
      }
      return;
    }
    default:
      fail(`unknown command "${command}"; see missionlink --help`, 2);
  }
}

/**
 * Runs a read-only check on the funding database of an existing install
 * (embedded or DATABASE_URL_FUNDING), prints its report as JSON and exits 0
 * when `ok`, 1 otherwise.
 */
async function reportOnFunding(cfg: Config, log: Logger, name: string, check: (pool: Pool) => Promise<{ ok: boolean }>): Promise<void> {
  const { closePool, openPool } = await import('./platform/db.ts');
  const { embedded, urls } = await prepareDatabases(cfg, log, ['funding'], { existing: true });
  const pool = openPool({ url: urls.funding!, name });
  try {
    const report = await check(pool);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    await closePool(pool);
    if (embedded) await stopEmbedded(embedded);
  }
}

/** `--from <date> --to <date>` (either may be `--from=<date>`); by default the last 24 hours. */
function reconcileRange(args: string[]): { from: Date; to: Date } {
  const values: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--(from|to)(?:=(.*))?$/.exec(args[i]!);
    if (!m) fail(`reconcile: unknown argument "${args[i]}"; usage: missionlink reconcile [--from <date>] [--to <date>]`, 2);
    values[m[1]!] = m[2] ?? args[++i] ?? '';
  }
  const date = (name: string, fallback: Date) => {
    if (values[name] === undefined) return fallback;
    const d = new Date(values[name]);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values[name]) || Number.isNaN(d.getTime())) fail(`reconcile: --${name} must be an ISO date or time, got "${values[name]}"`, 2);
    return d;
  };
  const to = date('to', new Date());
  const from = date('from', new Date(to.getTime() - 86_400_000));
  if (from >= to) fail('reconcile: --from must be before --to', 2);
  return { from, to };
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
