// A channel owner's webhook endpoints: made (the secret shown once), listed,
// deleted, test-sent, and their delivery log.
import { randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { ChannelService } from '../missions/index.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { AppError } from '../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../platform/ids.ts';
import { checkUrl, EgressRefused, type EgressPolicy } from './egress.ts';
import { deliveryBody, TEST_EVENT_TYPE, type EventType } from './events.ts';

/** Endpoints a channel may have at once. */
export const MAX_ENDPOINTS = 10;
/** Test events that may wait for one endpoint at once. */
export const MAX_PENDING_TESTS = 5;

export interface Endpoint {
  id: string;
  url: string;
  events: EventType[];
  /** `active`, or `disabled` after failing for the disabling period (extension). */
  status: 'active' | 'disabled';
  createdAt: string;
}

export interface Attempt {
  eventId: string;
  type: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  responseStatus: number | null;
  at: string;
  /** Why no answer came (extension). */
  error: string | null;
  /** A short excerpt of the answer (extension). */
  responseExcerpt: string | null;
  durationMs: number;
}

interface EndpointRow {
  id: string;
  url: string;
  events: EventType[];
  status: 'active' | 'disabled';
  created_at: Date;
  at_text: string;
}

const toEndpoint = (r: EndpointRow): Endpoint => ({ id: r.id, url: r.url, events: r.events, status: r.status, createdAt: r.created_at.toISOString() });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function parseCursor(cursor: string | undefined) {
  if (!cursor) return null;
  const c = decodeCursor(cursor);
  if (!c) throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
  return c;
}

export interface WebhookServiceDeps {
  pool: Pool;
  channels: ChannelService;
  policy: EgressPolicy;
  /** Called after a commit that made deliveries (the worker sends them at once). */
  deliveriesMade?: () => void;
  /** Resolves a host name for the registration check (tests). */
  resolve?: (host: string) => Promise<string[]>;
}

export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  /** The channel's handle when `userId` owns it: 404 for no channel, 403 for another's. */
  private async ownedBy(userId: string, handle: string): Promise<string> {
    const channel = await this.deps.channels.get(handle);
    if ((await this.deps.channels.ownedChannel(userId)) !== channel.handle) throw new AppError('FORBIDDEN', 'Only the channel owner manages its webhooks');
    return channel.handle;
  }

  /**
   * Registers an endpoint; the answer holds its secret, the only time it is shown.
   * @example const { secret } = await webhooks.create(userId, 'mina', { url: 'https://bot.example/hook', events: ['pledge.created'] });
   */
  async create(userId: string, handle: string, input: { url: string; events: EventType[] }): Promise<Endpoint & { secret: string }> {
    const channel = await this.ownedBy(userId, handle);
    try {
      await checkUrl(input.url, this.deps.policy, this.deps.resolve);
    } catch (err) {
      if (err instanceof EgressRefused) throw new AppError('WEBHOOK_URL_NOT_ALLOWED', err.message, { errors: [{ path: 'url', message: err.message }] });
      throw err;
    }
    const secret = newSecret();
    const events = [...new Set(input.events)];
    // Counted and inserted under a per-channel lock, so concurrent creations
    // cannot pass the limit together (the insert's snapshot is taken after the lock).
    const { rows } = await tx(this.deps.pool, async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1))`, [channel]);
      return c.query<EndpointRow>(
        `INSERT INTO webhook_endpoints (id, channel, owner_id, url, events, secret)
         SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT count(*) FROM webhook_endpoints WHERE channel = $2) < $7
         RETURNING id, url, events, status, created_at, created_at::text AS at_text`,
        [uuidv7(), channel, userId, input.url, events, secret, MAX_ENDPOINTS],
      );
    });
    if (!rows[0]) throw new AppError('VALIDATION_FAILED', `A channel has at most ${MAX_ENDPOINTS} webhooks`, { errors: [{ path: 'url', message: `at most ${MAX_ENDPOINTS} webhooks per channel` }] });
    return { ...toEndpoint(rows[0]), secret };
  }

  /** The channel's endpoints, newest first, without secrets. */
  async list(userId: string, handle: string, limit: number, cursor?: string): Promise<{ items: Endpoint[]; nextCursor: string | null }> {
    const channel = await this.ownedBy(userId, handle);
    const after = parseCursor(cursor);
    const { rows } = await this.deps.pool.query<EndpointRow>(
      `SELECT id, url, events, status, created_at, created_at::text AS at_text FROM webhook_endpoints
        WHERE channel = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [channel, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(toEndpoint), nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null };
  }

  private async endpointOf(channel: string, id: string): Promise<EndpointRow> {
    if (!UUID.test(id)) throw new AppError('NOT_FOUND', 'No such webhook');
    const { rows } = await this.deps.pool.query<EndpointRow>(
      'SELECT id, url, events, status, created_at, created_at::text AS at_text FROM webhook_endpoints WHERE id = $1 AND channel = $2',
      [id, channel],
    );
    if (!rows[0]) throw new AppError('NOT_FOUND', 'No such webhook');
    return rows[0];
  }

  /** Deletes an endpoint with its pending deliveries and its log. */
  async remove(userId: string, handle: string, id: string): Promise<void> {
    const channel = await this.ownedBy(userId, handle);
    await this.endpointOf(channel, id);
    await this.deps.pool.query('DELETE FROM webhook_endpoints WHERE id = $1 AND channel = $2', [id, channel]);
  }

  /** Queues a `webhook.test` delivery to one endpoint (also a disabled one); returns its event id. */
  async test(userId: string, handle: string, id: string): Promise<{ eventId: string }> {
    const channel = await this.ownedBy(userId, handle);
    await this.endpointOf(channel, id);
    // A few test events waiting per endpoint are plenty; more is someone hammering the button (or a script).
    const { rows } = await this.deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND type = $2 AND status = 'pending'`,
      [id, TEST_EVENT_TYPE],
    );
    if (rows[0]!.n >= MAX_PENDING_TESTS) throw new AppError('RATE_LIMITED', `At most ${MAX_PENDING_TESTS} test events may wait per webhook`, { retryAfterSeconds: 10 });
    const eventId = uuidv7();
    const body = deliveryBody(TEST_EVENT_TYPE, new Date().toISOString(), { channel, webhookId: id, message: 'A test delivery from MissionLink' });
    await this.deps.pool.query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, type, body) VALUES ($1, $2, $3, $4, $5)`,
      [uuidv7(), id, eventId, TEST_EVENT_TYPE, body],
    );
    this.deps.deliveriesMade?.();
    return { eventId };
  }

  /** The endpoint's delivery attempts, newest first. */
  async attempts(userId: string, handle: string, id: string, limit: number, cursor?: string): Promise<{ items: Attempt[]; nextCursor: string | null }> {
    const channel = await this.ownedBy(userId, handle);
    await this.endpointOf(channel, id);
    return attemptsOf(this.deps.pool, id, limit, parseCursor(cursor));
  }
}

/** An endpoint's attempts, newest first (the delivery log). */
export async function attemptsOf(c: Queryable, endpointId: string, limit: number, after: { createdAt: string; id: string } | null = null) {
  const { rows } = await c.query<{
    id: string; event_id: string; type: string; attempt: number; status: 'succeeded' | 'failed'; response_status: number | null;
    error: string | null; response_excerpt: string | null; duration_ms: number; at: Date; at_text: string;
  }>(
    `SELECT id, event_id, type, attempt, status, response_status, error, response_excerpt, duration_ms, at, at::text AS at_text
       FROM webhook_attempts
      WHERE endpoint_id = $1 AND ($2::timestamptz IS NULL OR (at, id) < ($2, $3::uuid))
      ORDER BY at DESC, id DESC LIMIT $4`,
    [endpointId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
  );
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r): Attempt => ({
      eventId: r.event_id, type: r.type, attempt: r.attempt, status: r.status, responseStatus: r.response_status, at: r.at.toISOString(),
      error: r.error, responseExcerpt: r.response_excerpt, durationMs: r.duration_ms,
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last.at_text, last.id) : null,
  };
}

/**
 * What the mail to its owner says about a disabled endpoint; null once it is
 * deleted (or no longer disabled): then there is nothing to tell.
 * @example const w = await disabledWebhook(pool, webhookId); // { channel, url, days }
 */
export async function disabledWebhook(c: Queryable, id: string): Promise<{ channel: string; url: string; days: number } | null> {
  const { rows } = await c.query<{ channel: string; url: string; days: number }>(
    `SELECT channel, url, extract(epoch FROM disabled_at - coalesce(failing_since, disabled_at))::float8 / 86400 AS days
       FROM webhook_endpoints WHERE id = $1 AND status = 'disabled'`,
    [id],
  );
  const r = rows[0];
  return r ? { channel: r.channel, url: r.url, days: Math.max(1, Math.round(r.days)) } : null;
}
