import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createMissionLink, type AppDeps, type MissionLink } from '../../src/app.ts';
import { KeyRing } from '../../src/identity/keys.ts';
import { newPrivateJwk } from '../../src/identity/keys.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/log.ts';
import { createTestDatabases, type TestDatabases } from './databases.ts';

export interface TestApp {
  ml: MissionLink;
  db: TestDatabases;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A whole MissionLink on the file's own cloned databases, driven through
 * `ml.http.inject(...)` (no socket) or `ml.http.listen(...)`.
 * `opts` overrides dependencies: `keys` (e.g. to test key rotation), fault
 * hooks, a mailer, or `startWorkers: false` to drive workers by hand.
 * @example const t = await createTestApp({ ADMIN_EMAILS: 'ops@x.kr' }); … await t.close();
 */
export async function createTestApp(env: Record<string, string> = {}, opts: Partial<Omit<AppDeps, 'config' | 'logger' | 'pools'>> = {}): Promise<TestApp> {
  const db = await createTestDatabases();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'missionlink-test-data-'));
  const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL_IDENTITY: db.urls.identity, DATABASE_URL_FUNDING: db.urls.funding, LOG_LEVEL: 'silent', ...env });
  const keys = opts.keys ?? (await KeyRing.fromJwks([await newPrivateJwk()]));
  const ml = await createMissionLink({ config, logger: createLogger('silent'), pools: db.pools, paymentWebhookSecret: 'test-webhook-secret-0123456789', ...opts, keys });
  return {
    ml,
    db,
    dataDir,
    async close() {
      await ml.http.close();
      await ml.stopWorkers();
      await db.drop();
    },
  };
}
