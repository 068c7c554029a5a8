// Helpers for in-process money tests that drive the workers by hand
// (`createTestApp(env, { startWorkers: false })`).
import type { Pool } from '../../src/platform/db.ts';
import type { TestApp } from './app.ts';
import { eventually } from './api.ts';

/** One row of a query, numbers as numbers. */
export async function one<T = Record<string, number>>(pool: Pool, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await pool.query(sql, params);
  return rows[0] as T;
}

/** What is still in flight: unpublished events, open settlement jobs, ended but unsettled missions. */
export async function backlog(pool: Pool): Promise<{ outbox: number; jobs: number; unsettled: number }> {
  return one(
    pool,
    `SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS outbox,
            (SELECT count(*) FROM settlement_jobs WHERE done_at IS NULL)::int AS jobs,
            (SELECT count(*) FROM missions WHERE state NOT IN ('PROPOSED', 'ACTIVE') AND settled_at IS NULL)::int AS unsettled`,
  );
}

/**
 * Publishes every committed event and settles every ended mission, by hand,
 * until nothing is left in flight (the relay may also be running on its own
 * after commits; its leased rows are simply waited for).
 */
export async function settleEverything(t: TestApp, ms = 30_000): Promise<void> {
  const { relay, settlement } = t.ml;
  await eventually(async () => {
    while ((await relay!.runOnce()) > 0);
    while (await settlement!.runOnce());
    while ((await relay!.runOnce()) > 0);
    const b = await backlog(t.db.pools.funding);
    return b.outbox === 0 && b.jobs === 0 && b.unsettled === 0;
  }, ms, 100);
}

/** Runs `fn` for 0..n-1 with at most `limit` in flight at once. */
export async function pool<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Counts values, e.g. response statuses: `{ 201: 7, 402: 33 }`. */
export function tally<T extends string | number>(values: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}
