import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { roleUrl } from '../../src/platform/embedded-pg.ts';
import { openPool, type Pool } from '../../src/platform/db.ts';

const ROLE_PASSWORD = 'test-only-password';

export interface TestDatabases {
  superUrl: string;
  urls: { identity: string; funding: string };
  /** The file's own database names; with `superUrlFor` a test can inspect or tamper as superuser. */
  names: { identity: string; funding: string };
  pools: { identity: Pool; funding: Pool };
  drop(): Promise<void>;
}

async function clone(admin: pg.Client, template: string, name: string, owner: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template} OWNER ${owner}`);
      return;
    } catch (err) {
      // Two clones of one template at the same instant can collide; retry.
      if (attempt > 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}

/**
 * Gives the calling test file its own identity and funding databases, cloned
 * from the migrated templates in milliseconds.
 * @example const db = await createTestDatabases(); … await db.drop();
 */
export async function createTestDatabases(poolMax = 10): Promise<TestDatabases> {
  const superUrl = inject('pgSuperUrl');
  const suffix = randomBytes(6).toString('hex');
  const names = { identity: `identity_${suffix}`, funding: `funding_${suffix}` };
  const admin = new pg.Client({ connectionString: superUrl });
  await admin.connect();
  try {
    await clone(admin, 'identity_template', names.identity, 'missionlink_identity_owner');
    await clone(admin, 'funding_template', names.funding, 'missionlink_funding_owner');
  } finally {
    await admin.end();
  }
  const urls = {
    identity: roleUrl(superUrl, 'missionlink_identity', ROLE_PASSWORD, names.identity),
    funding: roleUrl(superUrl, 'missionlink_funding', ROLE_PASSWORD, names.funding),
  };
  const pools = {
    identity: openPool({ url: urls.identity, name: 'identity', max: poolMax }),
    funding: openPool({ url: urls.funding, name: 'funding', max: poolMax }),
  };
  return {
    superUrl,
    urls,
    names,
    pools,
    async drop() {
      await Promise.all([pools.identity.end(), pools.funding.end()]);
      const c = new pg.Client({ connectionString: superUrl });
      await c.connect();
      for (const n of Object.values(names)) await c.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A superuser URL to one of a test file's databases. */
export function superUrlFor(superUrl: string, database: string): string {
  const u = new URL(superUrl);
  u.pathname = `/${database}`;
  return u.toString();
}
