// Databases and roles of a test's (or benchmark's) own on an "external"
// PostgreSQL: the one at TEST_PG_ADMIN_URL (default: the local server on
// 5432), or, when that does not answer, a fallback server: one the caller
// names, else an embedded PostgreSQL started here. Never reconfigures or
// stops a server it did not start; drop() removes only what it created.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { roleUrl, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/platform/embedded-pg.ts';
import { migrate } from '../../src/platform/migrate.ts';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface OwnDatabases {
  /** Where the databases live: the configured server, the caller's fallback, or an embedded one started here. */
  source: 'admin-url' | 'fallback' | 'embedded';
  adminUrl: string;
  names: { identity: string; funding: string };
  roles: { identity: string; funding: string };
  /** Connection URLs of the two owner roles (what the processes get). */
  urls: { identity: string; funding: string };
  /** Admin URLs on each database, to inspect as superuser. */
  adminUrls: { identity: string; funding: string };
  drop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function onDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * One database owned by its own login role, which alone (with the superuser)
 * may connect. (Not provisionDatabases: its NOINHERIT roles cannot create
 * tables in `public` on PostgreSQL 15, where that right comes through the
 * implicit pg_database_owner membership.)
 */
async function provision(adminUrl: string, name: string, role: string, password: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = c.escapeIdentifier(role);
    const d = c.escapeIdentifier(name);
    await c.query(`CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${c.escapeLiteral(password)}`);
    await c.query(`CREATE DATABASE ${d} OWNER ${r}`);
    await c.query(`REVOKE ALL ON DATABASE ${d} FROM PUBLIC`);
    await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${d} TO ${r}`);
  } finally {
    await c.end();
  }
  const inDb = new pg.Client({ connectionString: onDatabase(adminUrl, name) });
  await inDb.connect();
  try {
    await inDb.query(`ALTER SCHEMA public OWNER TO ${inDb.escapeIdentifier(role)}`);
  } finally {
    await inDb.end();
  }
}

/**
 * Creates two databases (identity, funding), each owned by its own login
 * role that alone may connect (CONNECT revoked from PUBLIC); with `migrate`,
 * applies the migrations too (else the first MissionLink process does).
 * @example const db = await createOwnDatabases({ prefix: 'ml_roles' }); … await db.drop();
 */
export async function createOwnDatabases(opts: { prefix: string; fallbackAdminUrl?: string; migrate?: boolean; log?: (m: string) => void }): Promise<OwnDatabases> {
  const log = opts.log ?? (() => undefined);
  let adminUrl = process.env.TEST_PG_ADMIN_URL || DEFAULT_ADMIN_URL;
  let source: OwnDatabases['source'] = 'admin-url';
  let embedded: { server: EmbeddedPostgres; dir: string } | undefined;
  if (!(await answers(adminUrl))) {
    if (opts.fallbackAdminUrl && (await answers(opts.fallbackAdminUrl))) {
      log(`PostgreSQL at ${new URL(adminUrl).host} does not answer; using the fallback server`);
      adminUrl = opts.fallbackAdminUrl;
      source = 'fallback';
    } else {
      log(`PostgreSQL at ${new URL(adminUrl).host} does not answer; starting an embedded one`);
      const dir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-own-pg-'));
      await chmod(dir, 0o711);
      const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), password: randomBytes(12).toString('hex'), log: () => undefined, settings: { max_connections: '300' } });
      embedded = { server, dir };
      adminUrl = server.superUrl;
      source = 'embedded';
    }
  }
  const suffix = randomBytes(5).toString('hex');
  const names = { identity: `${opts.prefix}_${suffix}_identity`, funding: `${opts.prefix}_${suffix}_funding` };
  const roles = { identity: `${opts.prefix}_${suffix}_identity_role`, funding: `${opts.prefix}_${suffix}_funding_role` };
  const passwords = { identity: randomBytes(16).toString('hex'), funding: randomBytes(16).toString('hex') };
  const drop = async () => {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    try {
      await c.connect();
      for (const n of Object.values(names)) await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(n)} WITH (FORCE)`);
      for (const r of Object.values(roles)) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(r)}`);
    } finally {
      await c.end().catch(() => undefined);
      if (embedded) {
        await embedded.server.stop();
        await rm(embedded.dir, { recursive: true, force: true });
      }
    }
  };
  try {
    await provision(adminUrl, names.identity, roles.identity, passwords.identity);
    await provision(adminUrl, names.funding, roles.funding, passwords.funding);
    const urls = {
      identity: roleUrl(adminUrl, roles.identity, passwords.identity, names.identity),
      funding: roleUrl(adminUrl, roles.funding, passwords.funding, names.funding),
    };
    if (opts.migrate) {
      await migrate(urls.identity, 'identity');
      await migrate(urls.funding, 'funding');
    }
    return {
      source,
      adminUrl,
      names,
      roles,
      urls,
      adminUrls: { identity: onDatabase(adminUrl, names.identity), funding: onDatabase(adminUrl, names.funding) },
      drop,
    };
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
}
