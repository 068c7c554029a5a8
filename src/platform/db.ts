import pg from 'pg';

// int8 → number, but only while it is exact: money beyond 2^53 would be a bug,
// and a bug in money code must stop loudly instead of rounding.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${value} exceeds the safe integer range`);
  return n;
});

export type Pool = pg.Pool;
export type Client = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export interface PoolOptions {
  url: string;
  name: string;
  max?: number;
}

/** Opens a pool; connection errors of idle clients are logged, never fatal. */
export function openPool(opts: PoolOptions, onError?: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    application_name: `missionlink-${opts.name}`,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', (err) => onError?.(err));
  // Connections open, counted until each has closed (see closePool).
  let open = 0;
  const drained: (() => void)[] = [];
  pool.on('connect', () => open++);
  pool.on('remove', () => {
    open--;
    if (open === 0) for (const resolve of drained.splice(0)) resolve();
  });
  closing.set(pool, () => (open === 0 ? Promise.resolve() : new Promise<void>((resolve) => drained.push(resolve))));
  return pool;
}

/** Per pool from openPool: resolves once none of its connections is open. */
const closing = new WeakMap<pg.Pool, () => Promise<void>>();

/**
 * Ends a pool and resolves once every connection has closed. pg's end()
 * resolves as soon as no client is checked out, while the clients it ends
 * are still saying goodbye to the server: a database stopped at that moment
 * terminates them ("terminating connection due to administrator command"),
 * which the pool reports as failed idle connections.
 */
export async function closePool(pool: pg.Pool): Promise<void> {
  await pool.end();
  await closing.get(pool)?.();
}

/**
 * Runs `fn` inside one transaction and commits, or rolls back on any throw.
 * @example await tx(pool, async (c) => c.query('UPDATE …'));
 */
export async function tx<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** PostgreSQL broke a lock cycle by failing this statement (40P01); trying again can succeed. */
export function isDeadlock(err: unknown): boolean {
  return (err as { code?: string })?.code === '40P01';
}

/** True for PostgreSQL's unique-violation error, optionally on one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
