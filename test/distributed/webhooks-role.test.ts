// The webhooks role as a process of its own (`missionlink serve`,
// ROLES=webhooks, the funding database only) next to an api process, on
// PostgreSQL databases and a NATS JetStream of the test's own. Events reach a
// real receiver signed per Standard Webhooks; with the webhooks process
// killed (kill -9) and then NATS down while the API takes writes, every event
// still arrives, with its outbox id as `webhook-id`, once both are back.
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpClient, type Caller, type HttpClient } from '../support/http-client.ts';
import { until } from '../support/money-process.ts';
import { skipWithoutNats, TestNats } from '../support/nats.ts';
import { createOwnDatabases, type OwnDatabases } from '../support/own-postgres.ts';
import { cleanUpAll, sleep, tempDataDir } from '../support/process.ts';
import { roleProcesses, type RoleProcess } from '../support/roles.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const HANDLE = 'hooks_dist';

describe.skipIf(skipWithoutNats('the webhooks role'))('the webhooks role as its own process', () => {
  let nats: TestNats;
  let db: OwnDatabases;
  let admin: pg.Pool;
  let receiver: WebhookReceiver;
  let api: RoleProcess, hooks: RoleProcess;
  let http: HttpClient;
  let backer: Caller;
  let secret: string;

  beforeAll(async () => {
    [nats, receiver] = await Promise.all([TestNats.start(), WebhookReceiver.start()]);
    db = await createOwnDatabases({ prefix: 'ml_hooks', fallbackAdminUrl: inject('pgSuperUrl') });
    admin = new pg.Pool({ connectionString: db.adminUrls.funding, max: 2 });
    const common = { DATABASE_URL_IDENTITY: db.urls.identity, DATABASE_URL_FUNDING: db.urls.funding, NATS_URL: nats.url, WEBHOOK_ALLOW_LOOPBACK: '1' };
    [api, hooks] = (await roleProcesses(
      [
        { name: 'api', roles: 'api' },
        // Only the funding database: it neither has nor needs the identity one.
        { name: 'webhooks', roles: 'webhooks', env: { DATABASE_URL_IDENTITY: undefined } },
      ],
      await tempDataDir(),
      common,
    )) as [RoleProcess, RoleProcess];
    await Promise.all([api.start(), hooks.start()]);
    http = httpClient(api.url, { timeoutMs: 20_000 });
    const streamer = await http.signUp('Dist Streamer');
    backer = await http.signUp('Dist Backer');
    await http.channel(streamer, HANDLE);
    await http.charge(backer, 200_000);
    const made = await http.call('POST', `/api/v1/channels/${HANDLE}/webhooks`, streamer, { url: receiver.url(), events: ['mission.proposed', 'pledge.created'] });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    secret = (made.body as { webhook: { secret: string } }).webhook.secret;
  }, 180_000);

  afterAll(async () => {
    await cleanUpAll();
    await nats?.stop();
    await receiver?.stop();
    await admin?.end().catch(() => undefined);
    await db?.drop();
  }, 60_000);

  const eventIds = async () =>
    (await admin.query<{ id: string }>(`SELECT id::text AS id FROM outbox WHERE payload->>'channel' = $1 AND topic IN ('mission.proposed', 'pledge.held')`, [HANDLE])).rows.map((r) => r.id);
  const propose = async () => expect((await http.propose(backer, HANDLE, 3_000)).status).toBe(201);
  const allDelivered = async () => {
    const ids = await eventIds();
    return ids.length > 0 && ids.every((id) => receiver.withId(id).length > 0) ? ids : undefined;
  };

  it('delivers signed events from the bus', async () => {
    await propose();
    const ids = await until('both events are delivered', allDelivered, 30_000);
    expect(ids).toHaveLength(2);
    for (const got of receiver.received) {
      expect(() => new Webhook(secret).verify(got.body, got.headers)).not.toThrow();
    }
  }, 60_000);

  it('loses nothing across a kill -9 of the worker and NATS going down', async () => {
    await hooks.kill9();
    await propose();
    await nats.down();
    // The API keeps taking writes while the bus is away (the outbox holds them).
    await propose();
    await sleep(1_000);
    await nats.up();
    await hooks.start();
    const ids = await until('every event is delivered', allDelivered, 90_000);
    expect(ids).toHaveLength(6);
    for (const id of ids) for (const got of receiver.withId(id)) expect(() => new Webhook(secret).verify(got.body, got.headers)).not.toThrow();
    // One delivery per event, however often the bus redelivered it.
    await until('every delivery is recorded once', async () => {
      const { rows } = await admin.query<{ ok: number; n: number }>(`SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*)::int AS n FROM webhook_deliveries`);
      return rows[0]!.ok === 6 && rows[0]!.n === 6;
    }, 30_000);
  }, 180_000);
});
