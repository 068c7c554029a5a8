import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT, repoPath } from './paths.ts';

export type DatabaseName = 'identity' | 'funding';

const MIGRATIONS_ROOT = repoPath('migrations');

// One advisory lock key per database: processes that start together queue here
// and each migration is applied exactly once.
export const LOCK_KEYS: Record<DatabaseName, number> = { identity: 72_001, funding: 72_002 };

interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

async function loadMigrations(db: DatabaseName): Promise<Migration[]> {
  const dir = path.join(MIGRATIONS_ROOT, db);
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(path.join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/**
 * Routines: SQL functions kept as their current definition, one function per
 * file named after it (`ledger_create_transfer.sql` holding `CREATE OR
 * REPLACE FUNCTION ledger_create_transfer(…)`), in the folder of the module
 * that owns them (src/ledger/sql/). Migrations keep tables and data changes;
 * a function's body lives in one place, and the runner re-applies a file
 * whenever its sha256 differs from the one schema_routines recorded.
 *
 * Which folders: migrations/<db>/routines.txt lists them, one a line,
 * relative to the repository root (`#` starts a comment). The list sits next
 * to the migrations of the database the functions live in, so this module
 * names no domain module; a module that brings routines adds its folder
 * there. No list, no routines (and no schema_routines table).
 *
 * A routine's file must stay re-runnable: CREATE OR REPLACE cannot change a
 * function's arguments or result type (such a change needs a migration that
 * drops the old function), and a file taken away leaves its function in
 * place until a migration drops it. Routines run after the migrations, so a
 * migration must not call a routine's new body; routines may use anything
 * the migrations made.
 */
interface Routine {
  name: string;
  /** Relative to the repository root (or to the folder given by a test). */
  file: string;
  sql: string;
  checksum: string;
}

async function routineFolders(db: DatabaseName): Promise<string[]> {
  const list = await readFile(path.join(MIGRATIONS_ROOT, db, 'routines.txt'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return list
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((folder) => path.resolve(REPO_ROOT, folder));
}

async function loadRoutines(folders: readonly string[]): Promise<Routine[]> {
  const routines = new Map<string, Routine>();
  for (const dir of folders) {
    const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`routine folder ${path.relative(REPO_ROOT, dir)} cannot be read (${err.code ?? err.message}); is it listed by mistake?`);
    });
    const files = entries.filter((f) => f.endsWith('.sql')).sort();
    for (const file of files) {
      const shown = path.relative(REPO_ROOT, path.join(dir, file));
      const name = file.slice(0, -'.sql'.length);
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`routine ${shown}: the file name must be the function's name`);
      const sql = await readFile(path.join(dir, file), 'utf8');
      // Applied again on every change: only a definition that replaces itself can be.
      if (!new RegExp(`CREATE\\s+OR\\s+REPLACE\\s+FUNCTION\\s+${name}\\s*\\(`, 'i').test(sql)) {
        throw new Error(`routine ${shown} must define its function with CREATE OR REPLACE FUNCTION ${name}(…)`);
      }
      const twin = routines.get(name);
      if (twin) throw new Error(`routine ${name} is defined twice: ${twin.file} and ${shown}`);
      routines.set(name, { name, file: shown, sql, checksum: createHash('sha256').update(sql).digest('hex') });
    }
  }
  return [...routines.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Applies, in one transaction, every routine whose file changed since it was
 * last applied (or that never was). Runs under the migrations' advisory lock,
 * so processes starting together apply each change once. A failure rolls all
 * of them back and stops the start.
 */
async function applyRoutines(client: pg.Client, db: DatabaseName, routines: readonly Routine[]): Promise<string[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_routines (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_routines');
  const recorded = new Map(rows.map((r) => [r.name, r.checksum]));
  const changed = routines.filter((r) => recorded.get(r.name) !== r.checksum);
  if (changed.length === 0) return [];
  await client.query('BEGIN');
  let current: Routine | undefined;
  try {
    for (const r of changed) {
      current = r;
      await client.query(r.sql);
      await client.query(
        `INSERT INTO schema_routines (name, checksum) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = now()`,
        [r.name, r.checksum],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw new Error(
      `routine ${db}/${current?.name} (${current?.file}) failed: ${(err as Error).message}; no routine was changed, and the database is as it was before`,
    );
  }
  return changed.map((r) => `routine ${r.name}`);
}

/** Tables nobody may change or delete rows of: the books and the audit trail. */
export const APPEND_ONLY: Record<DatabaseName, string[]> = { identity: ['audit_log', 'audit_chain'], funding: ['transfers', 'audit_anchors'] };

/** Tables whose rows are updated but never deleted: transfers reference accounts without a foreign key. */
export const NEVER_DELETED: Record<DatabaseName, string[]> = { identity: [], funding: ['accounts'] };

/** The runner's own records: the app roles may read them, never write them. */
const RUNNER_TABLES = ['schema_migrations', 'schema_routines'];

/**
 * What the login role of a database may do: read and write rows, nothing on
 * the schema (so neither create nor replace a function: only EXECUTE, which
 * functions grant to everyone), only INSERT/SELECT on append-only tables, no
 * DELETE on tables that are never deleted from, and only SELECT on the
 * runner's records (a forged checksum would keep a routine's new text out).
 * Idempotent.
 */
async function grantAppRole(client: pg.Client, db: DatabaseName, role: string): Promise<void> {
  const r = client.escapeIdentifier(role);
  await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
  await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`);
  await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
  for (const table of APPEND_ONLY[db]) {
    await client.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${client.escapeIdentifier(table)} FROM ${r}`);
  }
  for (const table of NEVER_DELETED[db]) {
    await client.query(`REVOKE DELETE, TRUNCATE ON ${client.escapeIdentifier(table)} FROM ${r}`);
  }
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c WHERE c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace`,
    [RUNNER_TABLES],
  );
  for (const { name } of rows) {
    await client.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${client.escapeIdentifier(name)} FROM ${r}`);
  }
}

/**
 * Applies the pending numbered migrations of one database, each in its own
 * transaction, under an advisory lock, then its changed routines (see
 * Routine). Forward-only: an applied migration whose file changed is an
 * error, never silently re-run. Answers the names of what it applied:
 * migration files, and `routine <name>` for each routine.
 * @example await migrate('postgres://…/identity', 'identity');
 */
export async function migrate(
  url: string,
  db: DatabaseName,
  opts: {
    setRole?: string;
    grantTo?: string;
    /** Absolute folders of routine files, instead of those migrations/<db>/routines.txt lists (tests). */
    routineFolders?: readonly string[];
  } = {},
): Promise<string[]> {
  const migrations = await loadMigrations(db);
  const routines = await loadRoutines(opts.routineFolders ?? (await routineFolders(db)));
  const client = new pg.Client({ connectionString: url, application_name: 'missionlink-migrate' });
  await client.connect();
  const applied: string[] = [];
  try {
    // Run as the schema owner, so every object belongs to it, not to the login role.
    if (opts.setRole) await client.query(`SET ROLE ${client.escapeIdentifier(opts.setRole)}`);
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS[db]]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(`migration ${db}/${m.name} changed after it was applied; add a new one instead`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
        applied.push(m.name);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${db}/${m.name} failed: ${(err as Error).message}`);
      }
    }
    // A process whose code lacks a migration the database has is an older
    // release (a rolling update, a restarted old pod): it leaves the routines
    // as the newer release wrote them. (A release that changes a routine
    // without adding a migration cannot be told from an older one: an old
    // process starting after it puts the old text back, until a new one
    // starts again.)
    const known = new Set(migrations.map((m) => m.version));
    const behind = rows.some((r) => !known.has(r.version));
    if (routines.length > 0 && !behind) applied.push(...(await applyRoutines(client, db, routines)));
    if (opts.grantTo) await grantAppRole(client, db, opts.grantTo);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEYS[db]]).catch(() => undefined);
    await client.end();
  }
  return applied;
}
