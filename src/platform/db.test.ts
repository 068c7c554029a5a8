// closePool: a stopping process ends its pools and only then its database.
// pg's end() resolves while the clients it ends are still closing their
// connections; closePool resolves once the server has let every one go.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, superUrlFor, type TestDatabases } from '../../test/support/databases.ts';
import { closePool, openPool } from './db.ts';

let db: TestDatabases;
let su: pg.Client;
beforeAll(async () => {
  db = await createTestDatabases(2);
  su = new pg.Client({ connectionString: superUrlFor(db.superUrl, db.names.funding) });
  await su.connect();
});
afterAll(async () => {
  await su?.end();
  await db?.drop();
});

/** Sessions of the pool named `name` the server still has. */
async function sessions(name: string): Promise<number> {
  const { rows } = await su.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
    [db.names.funding, `missionlink-${name}`],
  );
  return rows[0]!.n;
}

describe('closePool', () => {
  it('resolves once every connection of the pool is closed, busy ones included', async () => {
    const errors: Error[] = [];
    const pool = openPool({ url: db.urls.funding, name: 'close-test', max: 6 }, (err) => errors.push(err));
    const sockets: { destroyed: boolean }[] = [];
    pool.on('connect', (c) => sockets.push((c as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream));
    // Six connections: four idle, two still busy when the close begins.
    const clients = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
    for (const c of clients.slice(0, 4)) c.release();
    const busy = clients.slice(4).map(async (c) => {
      await c.query('SELECT pg_sleep(0.2)');
      c.release();
    });
    expect(await sessions('close-test')).toBe(6);
    await closePool(pool);
    // Closed on our side the moment it resolves (pg's own end() resolves earlier)…
    expect(sockets.map((s) => s.destroyed)).toEqual(Array(6).fill(true));
    // …and on the server's.
    expect(await sessions('close-test')).toBe(0);
    await Promise.all(busy);
    expect(errors).toEqual([]);
  });

  it('resolves at once for a pool that never connected', async () => {
    const pool = openPool({ url: db.urls.funding, name: 'never-used' });
    await closePool(pool);
    expect(await sessions('never-used')).toBe(0);
  });
});
