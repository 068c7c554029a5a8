// The outbox relay against a real funding database that has a long history
// of published events (they are kept for days): a pass must find the few
// unpublished rows through the queue's index, not by scanning the history.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabases, superUrlFor, type TestDatabases } from '../../test/support/databases.ts';
import { InProcessBus, type BusEvent } from './bus.ts';
import { createLogger } from './log.ts';
import { tx } from './db.ts';
import { CLAIM_SETTINGS, CLAIM_SQL, enqueueEvent, OutboxRelay } from './outbox.ts';

const HISTORY = 20_000;
const BACKLOG = 5_000;

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases(4);
  // A long published history, and statistics taken during a backlog (the bus
  // was away): the planner then expects a claim to find its whole LIMIT.
  await db.pools.funding.query(
    `INSERT INTO outbox (id, topic, key, payload, created_at, published_at, attempts)
     SELECT gen_random_uuid(), 'pledge.held', 'm' || (i % 100), '{}', now() - interval '1 day' + i * interval '1 ms',
            CASE WHEN i <= $1::int THEN now() END, 1
       FROM generate_series(1, $1::int + $2::int) AS i`,
    [HISTORY, BACKLOG],
  );
  await db.pools.funding.query('ANALYZE outbox');
});
afterAll(async () => db?.drop());

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

describe('the outbox relay with a long published history', () => {
  /** EXPLAIN of the relay's claim, under the settings of its transaction. */
  const explain = (batch: number, options = 'FORMAT JSON') =>
    tx(db.pools.funding, async (c) => {
      await c.query(CLAIM_SETTINGS);
      const { rows } = await c.query(`EXPLAIN (${options}) ${CLAIM_SQL}`, [batch, 10]);
      await c.query('ROLLBACK');
      return rows[0]['QUERY PLAN'][0].Plan as PlanNode & { 'Shared Hit Blocks'?: number; 'Shared Read Blocks'?: number };
    });

  it('claims through the indexes, in the queue index order, whatever the batch size', async () => {
    for (const batch of [1, 100, 1_000, 10_000]) {
      const plan = await explain(batch);
      const all = nodes(plan);
      const scans = all.filter((n) => n['Relation Name'] === 'outbox').map((n) => n['Node Type']);
      expect(scans, `batch ${batch}`).not.toContain('Seq Scan');
      // A bitmap scan never marks the entries of published rows dead, so
      // every pass would read all of them again (see CLAIM_SETTINGS).
      expect(scans, `batch ${batch}`).not.toContain('Bitmap Heap Scan');
      expect(all.map((n) => n['Node Type']), `batch ${batch}`).not.toContain('Sort');
    }
  });

  it('publishes what is new, in order per key, once', async () => {
    await db.pools.funding.query('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
    const bus = new InProcessBus();
    const seen: BusEvent[] = [];
    bus.subscribe('test', ['pledge.held'], async (e) => void seen.push(e));
    const key = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await enqueueEvent(db.pools.funding, 'pledge.held', key, { n: i }));
    const relay = new OutboxRelay(db.pools.funding, bus, createLogger('silent'));
    expect(await relay.runOnce()).toBe(5);
    expect(await relay.runOnce()).toBe(0);
    expect(seen.map((e) => e.id)).toEqual(ids);
    const { rows } = await db.pools.funding.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    expect(rows[0].n).toBe(0);
  });

  it('passes over the rows it published before without reading them again', async () => {
    // Published rows leave their entries in the queue's index until a vacuum;
    // the first claim after them marks them dead, later claims skip them.
    const su = new pg.Client({ connectionString: superUrlFor(db.superUrl, db.names.funding) });
    await su.connect();
    try {
      await su.query('ALTER TABLE outbox SET (autovacuum_enabled = false)');
      const relay = new OutboxRelay(db.pools.funding, new InProcessBus(), createLogger('silent'), { batch: 10_000 });
      for (let i = 0; i < 3_000; i++) await enqueueEvent(db.pools.funding, 'test.filler', 'k', { i });
      expect(await relay.runOnce()).toBe(3_000);
      await enqueueEvent(db.pools.funding, 'test.new', 'k', {});
      const blocks = async () => {
        const plan = await explain(1_000, 'ANALYZE, BUFFERS, FORMAT JSON');
        return (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      };
      const first = await blocks();
      // 3,000 rows fill dozens of pages: reading them is the first claim's work.
      expect(first).toBeGreaterThan(30);
      // A claim marks an entry dead only once its row is dead to every
      // snapshot in the database: an autovacuum ANALYZE still running from
      // the history insert holds one for a moment, so later claims are read
      // until one finds the entries marked (at once, when nothing holds one).
      let later = await blocks();
      for (let i = 0; i < 40 && later >= first / 3; i++) {
        await new Promise((r) => setTimeout(r, 250));
        later = await blocks();
      }
      expect(later).toBeLessThan(first / 3);
    } finally {
      await su.query('ALTER TABLE outbox RESET (autovacuum_enabled)');
      await su.end();
    }
  });
});
