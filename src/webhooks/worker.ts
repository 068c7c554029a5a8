// The webhooks role. Events come from the outbox through the bus; each makes
// one delivery row per matching endpoint (UNIQUE (endpoint, event): a
// redelivered event makes none), committed before the bus is acknowledged,
// so nothing is lost across restarts. A sender then POSTs what is due:
// - at least once, with the event id as `webhook-id` on every attempt, signed
//   per Standard Webhooks (the `standardwebhooks` package);
// - deliveries are leased (a dead worker's lapse and are retried);
// - at most PER_ENDPOINT in flight per endpoint, and a pass never waits for a
//   send, so a slow or dead endpoint holds only its own deliveries;
// - retries back off exponentially (first within 30 s, capped at an hour) and
//   go on for GIVE_UP (3 days, the contract asks at least 24 h);
// - an endpoint failing without a success for DISABLE_AFTER is disabled and
//   its owner mailed (a `webhook.disabled` event the notifier turns into a mail);
//   its waiting deliveries are given up. A test event its owner sends still
//   goes out, and its success turns the endpoint back on.
import client from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { uuidv7 } from 'uuidv7';
import { Batcher } from '../platform/batcher.ts';
import type { Bus, BusEvent } from '../platform/bus.ts';
import { tx, type Pool } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { enqueueEvent } from '../platform/outbox.ts';
import { Egress, type EgressPolicy, type PostResult } from './egress.ts';
import { channelOf, deliveryBody, TEST_EVENT_TYPE, TOPIC_TYPES } from './events.ts';

/** The outbox topic announcing that an endpoint was disabled (the notifier mails its owner). */
export const WEBHOOK_DISABLED = 'webhook.disabled';

export interface WebhookDisabled {
  webhookId: string;
  ownerId: string;
  channel: string;
  url: string;
}

export interface WebhookHooks {
  /** After the endpoint answered, before the answer is recorded (crash tests). */
  afterSend?: (eventId: string) => Promise<void> | void;
}

export interface WebhookWorkerOptions {
  /** First retry delay; doubles per attempt up to `retryCapMs`. */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** A delivery is given up when its event is older than this. */
  giveUpMs?: number;
  /** An endpoint failing without a success for this long is disabled. */
  disableAfterMs?: number;
  /** Deliveries in flight per endpoint (over all workers). */
  perEndpoint?: number;
  /** Deliveries in flight in this process. */
  maxInFlight?: number;
  timeoutMs?: number;
  pollMs?: number;
}

export interface WebhookWorkerDeps {
  pool: Pool;
  bus: Bus;
  log: Logger;
  policy: EgressPolicy;
  registry: client.Registry;
  /** Called after a commit that enqueued events (the outbox relay publishes at once). */
  eventsCommitted?: () => void;
  hooks?: WebhookHooks;
  options?: WebhookWorkerOptions;
  /** The User-Agent of deliveries. */
  userAgent?: string;
}

/**
 * The wait before retry number `attempt` (1 = the first retry, after the
 * first attempt failed): base × 2^(attempt−1), capped, with ±20 % jitter
 * (`random` in [0, 1)) so that endpoints that failed together do not retry
 * in lockstep.
 * @example retryDelayMs(1, { retryBaseMs: 10_000, retryCapMs: 3_600_000 }, 0.5) // 10_000
 */
export function retryDelayMs(attempt: number, opts: { retryBaseMs: number; retryCapMs: number }, random: number): number {
  const plain = Math.min(opts.retryBaseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30), opts.retryCapMs);
  return plain * (0.8 + random * 0.4);
}

/** The production retry schedule (tests shorten it through WebhookWorkerOptions). */
export const RETRY_DEFAULTS = { retryBaseMs: 10_000, retryCapMs: 3_600_000, giveUpMs: 3 * 86_400_000 } as const;

const DEFAULTS = {
  ...RETRY_DEFAULTS,
  disableAfterMs: 3 * 86_400_000,
  perEndpoint: 8,
  maxInFlight: 64,
  timeoutMs: 10_000,
  pollMs: 500,
} satisfies Required<WebhookWorkerOptions>;

/** How long the log of finished deliveries is kept. */
const KEEP_DAYS = 30;

interface Claimed {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  body: string;
  attempts: number;
  url: string;
  secret: string;
}

/**
 * Claims due deliveries of endpoints that have room: endpoints are taken
 * oldest due delivery first (none waits behind busier ones), each locked
 * while its room is counted, and get at most `$2` deliveries in flight.
 * A disabled endpoint only gets the test events its owner sends.
 */
const CLAIM_SQL = `
WITH ready AS (
  SELECT e.id, e.url, e.secret, e.status, $2::int - busy.n AS room
    FROM webhook_endpoints e
    CROSS JOIN LATERAL (
      SELECT d.next_attempt_at FROM webhook_deliveries d
       WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= now()
         AND (d.claimed_until IS NULL OR d.claimed_until < now())
         AND (e.status = 'active' OR d.type = '${TEST_EVENT_TYPE}')
       ORDER BY d.next_attempt_at LIMIT 1) oldest
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n FROM webhook_deliveries x
       WHERE x.endpoint_id = e.id AND x.status = 'pending' AND x.claimed_until IS NOT NULL AND x.claimed_until >= now()) busy
   WHERE busy.n < $2
   ORDER BY oldest.next_attempt_at
   LIMIT 200
   -- SKIP LOCKED: several webhook workers may run; an endpoint is counted by one at a time.
   -- NO KEY UPDATE: new deliveries (their foreign key's KEY SHARE) are never held up by it.
   FOR NO KEY UPDATE OF e SKIP LOCKED),
picked AS (
  SELECT p.id FROM ready r CROSS JOIN LATERAL (
    SELECT d.id FROM webhook_deliveries d
     WHERE d.endpoint_id = r.id AND d.status = 'pending' AND d.next_attempt_at <= now()
       AND (r.status = 'active' OR d.type = '${TEST_EVENT_TYPE}')
       AND (d.claimed_until IS NULL OR d.claimed_until < now())
     ORDER BY d.next_attempt_at, d.id LIMIT r.room
     FOR UPDATE OF d SKIP LOCKED) p
  LIMIT $1)
UPDATE webhook_deliveries d SET claimed_until = now() + make_interval(secs => $3), attempts = d.attempts + 1
  FROM ready r
 WHERE d.id IN (SELECT id FROM picked) AND r.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.event_id, d.type, d.body, d.attempts, r.url, r.secret`;

/** Whether anything is due at all: one index probe, so an idle worker's polls cost next to nothing. */
const ANY_DUE_SQL = `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()) AS due`;

export class WebhookWorker {
  private readonly loop: PollingLoop;
  private readonly egress: Egress;
  private readonly opts: Required<WebhookWorkerOptions>;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly results: client.Counter<'result'>;
  /** Events arriving together become their deliveries in one statement. */
  private readonly making = new Batcher<BusEvent, number>({ maxBatch: 500, slots: 2, run: (events) => this.deliveriesForMany(events) });
  /** Lease of a claimed delivery: longer than a send may take, so only a dead worker's lapses. */
  private readonly leaseSeconds: number;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.opts = { ...DEFAULTS, ...deps.options };
    this.leaseSeconds = Math.ceil(this.opts.timeoutMs / 1000) + 5;
    this.egress = new Egress(deps.policy, this.opts.timeoutMs);
    this.loop = new PollingLoop('webhooks', () => this.runOnce(), deps.log, this.opts.pollMs);
    this.results = new client.Counter({ name: 'missionlink_webhook_attempts_total', help: 'Webhook delivery attempts by result (succeeded, failed)', labelNames: ['result'], registers: [deps.registry] });
    const pool = deps.pool;
    new client.Gauge({
      name: 'missionlink_webhook_deliveries_pending',
      help: 'Webhook deliveries waiting to be sent or retried',
      registers: [deps.registry],
      async collect() {
        const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`);
        this.set(rows[0]!.n);
      },
    });
  }

  /**
   * Turns the events of the mapped topics into deliveries to the matching
   * endpoints. Order does not matter to deliveries, so the bus may hand over
   * the events of one key together (keepsOrder), and those arriving at once
   * are written in one statement.
   */
  subscribe(): void {
    this.deps.bus.subscribe('webhooks', Object.keys(TOPIC_TYPES), async (event) => {
      if (await this.making.submit(event)) this.poke();
    }, { keepsOrder: true });
  }

  /** Makes the deliveries of one event (none twice); returns how many were made. */
  async deliveriesFor(event: BusEvent): Promise<number> {
    return this.making.submit(event);
  }

  /** Makes the deliveries of a batch of events in one statement; answers how many each made. */
  private async deliveriesForMany(events: BusEvent[]): Promise<PromiseSettledResult<number>[]> {
    const wanted = events.flatMap((event) => {
      const type = TOPIC_TYPES[event.topic];
      const channel = channelOf(event.payload);
      return type && channel ? [{ id: event.id, type, channel, body: deliveryBody(type, event.createdAt, event.payload) }] : [];
    });
    const made = new Map<string, number>();
    if (wanted.length > 0) {
      const { rows } = await this.deps.pool.query<{ event_id: string }>(
        `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, type, body)
         SELECT gen_random_uuid(), e.id, x.event_id, x.type, x.body
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS x(event_id, type, channel, body)
           JOIN webhook_endpoints e ON e.channel = x.channel AND e.status = 'active' AND x.type = ANY (e.events)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING
         RETURNING event_id::text`,
        [wanted.map((w) => w.id), wanted.map((w) => w.type), wanted.map((w) => w.channel), wanted.map((w) => w.body)],
      );
      for (const r of rows) made.set(r.event_id, (made.get(r.event_id) ?? 0) + 1);
    }
    return events.map((e) => ({ status: 'fulfilled', value: made.get(e.id.toLowerCase()) ?? 0 }));
  }

  start(): void {
    this.loop.start();
    // Finished deliveries (and their attempts) are kept for KEEP_DAYS; pruned hourly (cheap, idempotent).
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), 3600_000);
    this.pruneTimer.unref();
  }

  /** Deletes deliveries finished more than KEEP_DAYS ago, with their attempts; returns how many. */
  async prune(): Promise<number> {
    const { rowCount } = await this.deps.pool.query(
      `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND done_at < now() - make_interval(days => $1)`,
      [KEEP_DAYS],
    );
    return rowCount ?? 0;
  }

  /** Asks for a pass now (after deliveries were made). */
  poke(): void {
    this.loop.poke();
  }

  /** One pass: claims what is due and has room, and starts sending it (never waits for a send). */
  async runOnce(): Promise<number> {
    const room = this.opts.maxInFlight - this.inFlight.size;
    if (room <= 0) return 0;
    if (!(await this.deps.pool.query<{ due: boolean }>(ANY_DUE_SQL)).rows[0]!.due) return 0;
    const { rows } = await this.deps.pool.query<Claimed>(CLAIM_SQL, [room, this.opts.perEndpoint, this.leaseSeconds]);
    for (const row of rows) {
      const sending = this.send(row)
        .catch((err) => this.deps.log.warn({ webhook: row.endpoint_id, event: row.event_id, err: (err as Error).message }, 'recording a webhook attempt failed; it is retried after its lease'))
        .finally(() => {
          this.inFlight.delete(row.id);
          this.poke();
        });
      this.inFlight.set(row.id, sending);
    }
    // A full pass may leave more: go again at once.
    return rows.length >= room ? rows.length : 0;
  }

  /** Signs and sends one delivery, then records the attempt. */
  private async send(d: Claimed): Promise<void> {
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.deps.userAgent ?? 'MissionLink-Webhooks',
      'webhook-id': d.event_id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(d.secret).sign(d.event_id, now, d.body),
    };
    const result = await this.egress.post(d.url, headers, d.body);
    await this.deps.hooks?.afterSend?.(d.event_id);
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    if (ok) await this.succeeded(d, result);
    else await this.failed(d, result);
    this.results.inc({ result: ok ? 'succeeded' : 'failed' });
  }

  /**
   * Locks the endpoint first, in the order a deletion (endpoint, then its
   * deliveries by cascade) and the claim take: recording an attempt and
   * deleting its endpoint at once must not deadlock.
   */
  private async lockEndpoint(c: Pick<Pool, 'query'>, d: Claimed) {
    await c.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR NO KEY UPDATE', [d.endpoint_id]);
  }

  private async recordAttempt(c: Pick<Pool, 'query'>, d: Claimed, status: 'succeeded' | 'failed', r: PostResult) {
    // Nothing when the endpoint (and its deliveries) was deleted meanwhile.
    await c.query(
      `INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, type, attempt, status, response_status, error, response_excerpt, duration_ms)
       SELECT $1, d.id, d.endpoint_id, d.event_id, d.type, $3, $4, $5, $6, $7, $8 FROM webhook_deliveries d WHERE d.id = $2`,
      [uuidv7(), d.id, d.attempts, status, r.status ?? null, r.error ?? null, r.excerpt ?? null, r.ms],
    );
  }

  private async succeeded(d: Claimed, r: PostResult): Promise<void> {
    await tx(this.deps.pool, async (c) => {
      await this.lockEndpoint(c, d);
      await this.recordAttempt(c, d, 'succeeded', r);
      await c.query(`UPDATE webhook_deliveries SET status = 'succeeded', claimed_until = NULL, done_at = now() WHERE id = $1 AND status = 'pending'`, [d.id]);
      // A success ends a run of failures, and turns a disabled endpoint (that its owner test-sent to) back on.
      await c.query(
        `UPDATE webhook_endpoints SET failing_since = NULL, status = 'active', disabled_at = NULL
          WHERE id = $1 AND (failing_since IS NOT NULL OR status <> 'active')`,
        [d.endpoint_id],
      );
    });
  }

  private async failed(d: Claimed, r: PostResult): Promise<void> {
    const delayMs = retryDelayMs(d.attempts, this.opts, Math.random());
    let disabled: WebhookDisabled | undefined;
    await tx(this.deps.pool, async (c) => {
      await this.lockEndpoint(c, d);
      await this.recordAttempt(c, d, 'failed', r);
      await c.query(
        `UPDATE webhook_deliveries
            SET claimed_until = NULL, next_attempt_at = now() + make_interval(secs => $2),
                status = CASE WHEN created_at < now() - make_interval(secs => $3) THEN 'failed' ELSE 'pending' END,
                done_at = CASE WHEN created_at < now() - make_interval(secs => $3) THEN now() END
          WHERE id = $1 AND status = 'pending'`,
        [d.id, delayMs / 1000, this.opts.giveUpMs / 1000],
      );
      const { rows } = await c.query<WebhookDisabled & { disable: boolean }>(
        `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) WHERE id = $1
         RETURNING id AS "webhookId", owner_id AS "ownerId", channel, url,
                   status = 'active' AND failing_since <= now() - make_interval(secs => $2) AS disable`,
        [d.endpoint_id, this.opts.disableAfterMs / 1000],
      );
      if (rows[0]?.disable) {
        const { webhookId, ownerId, channel, url } = rows[0];
        const event: WebhookDisabled = { webhookId, ownerId, channel, url };
        await c.query(`UPDATE webhook_endpoints SET status = 'disabled', disabled_at = now() WHERE id = $1`, [d.endpoint_id]);
        // Its waiting deliveries are given up with it (and no new ones are made while it is off).
        await c.query(
          `UPDATE webhook_deliveries SET status = 'failed', done_at = now(), claimed_until = NULL
            WHERE endpoint_id = $1 AND status = 'pending' AND type <> $2`,
          [d.endpoint_id, TEST_EVENT_TYPE],
        );
        await enqueueEvent(c, WEBHOOK_DISABLED, event.webhookId, { ...event });
        disabled = event;
      }
    });
    if (disabled) {
      this.deps.eventsCommitted?.();
      this.deps.log.warn({ webhook: disabled.webhookId, channel: disabled.channel }, 'webhook endpoint disabled after failing too long; its owner is mailed');
    }
  }

  /** Stops claiming; sends in flight get a moment to finish (the others' leases lapse and they are retried). */
  async stop(graceMs = 2_000): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.loop.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.inFlight.values()), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.egress.close();
  }
}
