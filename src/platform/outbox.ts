import { uuidv7 } from 'uuidv7';
import type { Bus, BusEvent } from './bus.ts';
import { tx, type Pool, type Queryable } from './db.ts';
import type { Logger } from './log.ts';
import { PollingLoop } from './loop.ts';

/**
 * Records an event in the outbox inside the caller's transaction: it is
 * published if and only if that transaction commits.
 * @example await enqueueEvent(c, 'mission.decided', missionId, { missionId, outcome });
 */
export async function enqueueEvent(c: Queryable, topic: string, key: string, payload: Record<string, unknown>): Promise<string> {
  const id = uuidv7();
  await c.query('INSERT INTO outbox (id, topic, key, payload) VALUES ($1, $2, $3, $4)', [id, topic, key, JSON.stringify(payload)]);
  return id;
}

/**
 * Runs `effect` at most once per (consumer, event): the event id goes into the
 * inbox in the same transaction as the effect. Returns false for a duplicate.
 */
export async function consumeOnce(pool: Pool, consumer: string, eventId: string, effect: (c: Queryable) => Promise<void>): Promise<boolean> {
  return tx(pool, async (c) => {
    // A concurrent duplicate blocks on this insert until the first commits.
    const { rowCount } = await c.query('INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, eventId]);
    if (rowCount === 0) return false;
    await effect(c);
    return true;
  });
}

export interface RelayHooks {
  /** Called after rows are claimed and before they are published (crash tests). */
  beforePublish?: (events: BusEvent[]) => Promise<void> | void;
  /** Called after an event is published and before it is marked published. */
  afterPublish?: (event: BusEvent) => Promise<void> | void;
}

// A relay that dies (kill -9) leaves its claimed rows unpublished until the
// lease runs out, so keep it short: a pass publishes in well under a second,
// and a row published twice is harmless (consumers de-duplicate on its id).
/**
 * Keys (missions) whose events are published concurrently: a pass's events
 * reach an order-keeping consumer together (the live writer commits them as
 * one batch), the other consumers one key's events after another.
 */
const PARALLEL_KEYS = 256;

const LEASE_SECONDS = 10;

/**
 * Least time between the starts of two passes while events trickle in: each
 * pass claims, publishes and marks in a few statements and commits whatever
 * its size, and the live writer commits once per pass as well. At a thousand
 * pledges a second, 20 ms between passes made one such commit for every four
 * or five pledges, each with its WAL flush, which the pledges' own commits
 * then queued behind; 100 ms makes a third as many, and pledges went about
 * 15 % faster on two cores. A lone event is still published at once; live
 * updates wait at most this long more.
 */
const GAP_MS = 100;

/**
 * Claims up to $1 unpublished rows for $2 seconds. `= ANY(ARRAY(…))`, not
 * `IN (…)`: with IN the planner may take the LIMIT for the row count and
 * hash-join a scan of the whole outbox (published rows are kept for days)
 * on every pass, as PostgreSQL 15 did with statistics taken during a
 * backlog; an array always becomes primary-key lookups.
 */
export const CLAIM_SQL = `UPDATE outbox SET claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
  WHERE id = ANY (ARRAY(
    -- SKIP LOCKED: several relays may run; each row is taken by one of them.
    SELECT id FROM outbox
     WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
     ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED))
  RETURNING id, topic, key, payload, created_at`;

/**
 * Set for the claim's transaction. The queue's index still holds an entry
 * for every row published since the last vacuum. Expecting few unpublished
 * rows, the planner prefers a bitmap scan of it and a sort, and a bitmap scan
 * visits the rows behind all those entries on every pass without ever
 * marking them dead (35 ms a pass with 13,000 of them, measured under load).
 * An index scan in the queue's order marks them as it passes, so the next
 * pass skips them without reading a row.
 */
export const CLAIM_SETTINGS = 'SET LOCAL enable_bitmapscan = off';

/**
 * Publishes committed outbox rows to the bus. Rows are claimed with a lease
 * (several relays may run; SKIP LOCKED gives each row to one of them); a row
 * whose publish fails or whose relay died is retried after its lease.
 */
export class OutboxRelay {
  private readonly loop: PollingLoop;
  private readonly batch: number;

  constructor(
    private readonly pool: Pool,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly opts: { pollMs?: number; gapMs?: number; batch?: number; hooks?: RelayHooks; onPublished?: (n: number) => void } = {},
  ) {
    this.batch = opts.batch ?? 1000;
    // Another pass at once only after a full batch; otherwise passes are
    // spaced by GAP_MS, so a stream of commits is published in batches.
    this.loop = new PollingLoop('outbox relay', async () => (await this.runOnce()) >= this.batch, log, opts.pollMs ?? 250, opts.gapMs ?? GAP_MS);
  }

  start(): void {
    this.loop.start();
  }

  /** Asks for a publish pass now (called after a commit that enqueued events). */
  poke(): void {
    this.loop.poke();
  }

  /** One pass: claim a batch, publish it in order, mark what went out. */
  async runOnce(): Promise<number> {
    const { rows } = await tx(this.pool, async (c) => {
      await c.query(CLAIM_SETTINGS);
      return c.query<{ id: string; topic: string; key: string; payload: Record<string, unknown>; created_at: Date }>(
        CLAIM_SQL,
        [this.batch, LEASE_SECONDS],
      );
    });
    if (rows.length === 0) return 0;
    rows.sort((a, b) => (a.created_at.getTime() - b.created_at.getTime()) || (a.id < b.id ? -1 : 1));
    const events: BusEvent[] = rows.map((r) => ({ id: r.id, topic: r.topic, key: r.key, payload: r.payload, createdAt: r.created_at.toISOString() }));
    await this.opts.hooks?.beforePublish?.(events);
    let published = 0;
    // Events of one key (mission) go out in order; different keys in parallel,
    // so one slow consumer pass does not hold up every other mission.
    const byKey = new Map<string, BusEvent[]>();
    for (const event of events) {
      const queue = byKey.get(event.key);
      if (queue) queue.push(event);
      else byKey.set(event.key, [event]);
    }
    // Marked in one statement per batch: a crash before it only means a
    // republish, which the bus (message id) and the inboxes absorb.
    const done: string[] = [];
    const publishInOrder = async (queue: BusEvent[]) => {
      const { published: n, error } = await this.bus.publishInOrder(queue);
      for (const event of queue.slice(0, n)) {
        await this.opts.hooks?.afterPublish?.(event);
        done.push(event.id);
        published++;
      }
      // Keep the key's order: the failed event and those after it are retried later.
      if (n < queue.length) await this.failed(queue[n]!, error);
    };
    const queues = [...byKey.values()];
    for (let i = 0; i < queues.length; i += PARALLEL_KEYS) await Promise.all(queues.slice(i, i + PARALLEL_KEYS).map(publishInOrder));
    if (done.length) await this.pool.query('UPDATE outbox SET published_at = now(), last_error = NULL WHERE id = ANY($1::uuid[])', [done]);
    this.opts.onPublished?.(published);
    return published;
  }

  /** Records a failed publish; the event is retried after a backoff. */
  private async failed(event: BusEvent, err: unknown): Promise<void> {
    // Back off: retry after min(2^attempts, 10) seconds, so a bus that
    // comes back is caught up with quickly.
    const message = String((err as Error)?.message ?? err);
    await this.pool
      .query(`UPDATE outbox SET last_error = $2, claimed_until = now() + make_interval(secs => least(power(2, attempts), 10)) WHERE id = $1`, [event.id, message.slice(0, 500)])
      .catch(() => undefined);
    this.log.warn({ topic: event.topic, id: event.id, err: message }, 'publishing an event failed; will retry');
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}

/** Outbox health for metrics and the ops page. */
export async function outboxBacklog(pool: Pool): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const { rows } = await pool.query<{ n: number; age: number | null }>(
    `SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox WHERE published_at IS NULL`,
  );
  return { pending: rows[0]!.n, oldestAgeSeconds: rows[0]!.age ?? 0 };
}
