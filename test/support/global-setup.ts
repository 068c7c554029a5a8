// Starts one throwaway embedded PostgreSQL for the whole test run and prepares
// migrated template databases; each test file clones its own databases from
// them (see databases.ts), so files run in parallel on isolated data.
import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ownerRoleOf, provisionDatabases, startEmbeddedPostgres, withDatabase, type EmbeddedPostgres } from '../../src/platform/embedded-pg.ts';
import { migrate } from '../../src/platform/migrate.ts';

export const ROLE_PASSWORD = 'test-only-password';

let server: EmbeddedPostgres | undefined;
let dir: string | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    pgSuperUrl: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-test-pg-'));
  await chmod(dir, 0o711);
  server = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    password: 'postgres-test',
    log: () => undefined,
    // A throwaway cluster: durability buys nothing here.
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
  });
  // Same privileges as production: a NOLOGIN owner role holds the schema, the
  // login roles the tests connect with only get row access.
  await provisionDatabases(
    server.superUrl,
    [
      { name: 'identity_template', role: 'missionlink_identity', password: ROLE_PASSWORD },
      { name: 'funding_template', role: 'missionlink_funding', password: ROLE_PASSWORD },
    ],
    { separateOwner: true },
  );
  await migrate(withDatabase(server.superUrl, 'identity_template'), 'identity', { setRole: ownerRoleOf('missionlink_identity'), grantTo: 'missionlink_identity' });
  await migrate(withDatabase(server.superUrl, 'funding_template'), 'funding', { setRole: ownerRoleOf('missionlink_funding'), grantTo: 'missionlink_funding' });
  project.provide('pgSuperUrl', server.superUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
