import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export type DatabaseName = 'identity' | 'funding';

const MIGRATIONS_ROOT = fileURLToPath(new URL('../../migrations/', import.meta.url));

// One advisory lock key per database: processes that start together queue here
// and each migration is applied exactly once.
const LOCK_KEYS: Record<DatabaseName, number> = { identity: 72_001, funding: 72_002 };

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

/** Tables nobody may change or delete rows of: the books and the audit trail. */
export const APPEND_ONLY: Record<DatabaseName, string[]> = { identity: ['audit_log', 'audit_chain'], funding: ['transfers', 'audit_anchors'] };

/** Tables whose rows are updated but never deleted: transfers reference accounts without a foreign key. */
export const NEVER_DELETED: Record<DatabaseName, string[]> = { identity: [], funding: ['accounts'] };

/**
 * What the login role of a database may do: read and write rows, nothing on
 * the schema, only INSERT/SELECT on append-only tables, and no DELETE on
 * tables that are never deleted from. Idempotent.
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
}

/**
 * Applies the pending numbered migrations of one database, each in its own
 * transaction, under an advisory lock. Forward-only: an applied migration whose
 * file changed is an error, never silently re-run.
 * @example await migrate('postgres://…/identity', 'identity');
 */
export async function migrate(
  url: string,
  db: DatabaseName,
  opts: { setRole?: string; grantTo?: string } = {},
): Promise<string[]> {
  const migrations = await loadMigrations(db);
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
    if (opts.grantTo) await grantAppRole(client, db, opts.grantTo);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEYS[db]]).catch(() => undefined);
    await client.end();
  }
  return applied;
}
