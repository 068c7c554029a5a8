// kill -9 of the webhooks worker in the middle of a delivery. The real
// `missionlink start` (embedded PostgreSQL, every role, WEBHOOK_ALLOW_LOOPBACK=1)
// delivers to a real receiver on 127.0.0.1 and dies:
// - from outside (SIGKILL) while the receiver holds a delivery's request open;
// - at the crash point webhooks.afterSend: the receiver answered 200, the
//   attempt is not recorded yet.
// It is restarted on the same DATA_DIR, and every event reaches the receiver
// at least once, with the same `webhook-id` as before the crash and a valid
// Standard Webhooks signature; nothing else breaks (the API answers, the
// ledger verifies). Recovery waits for the dead worker's lease (15 s) to lapse.
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { httpClient, type HttpClient } from '../support/http-client.ts';
import { crashed, fundingQuery, ledgerVerify, until } from '../support/money-process.ts';
import { cleanUpAll, spawnServer, tempDataDir, type ServerProcess } from '../support/process.ts';
import { WebhookReceiver, type Received } from '../support/webhook-receiver.ts';

const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  await cleanUpAll();
  await Promise.all(receivers.map((r) => r.stop()));
}, 30_000);

const ENV = { WEBHOOK_ALLOW_LOOPBACK: '1', MIN_WINDOW_SECONDS: '1', LOG_LEVEL: 'warn' };

async function start(dataDir: string, crashAt?: string): Promise<ServerProcess> {
  const srv = await spawnServer({ dataDir, env: { ...ENV, MISSIONLINK_CRASH_AT: crashAt } });
  await srv.waitReady(60_000);
  return srv;
}

/** A channel with a webhook to a fresh receiver; a backer with money. */
async function setUp(api: HttpClient, handle: string) {
  const receiver = await WebhookReceiver.start();
  receivers.push(receiver);
  const [streamer, backer] = await Promise.all([api.signUp(`${handle} streamer`), api.signUp(`${handle} backer`)]);
  await api.channel(streamer, handle);
  await api.charge(backer, 100_000);
  const made = await api.call('POST', `/api/v1/channels/${handle}/webhooks`, streamer, { url: receiver.url(), events: ['mission.proposed', 'pledge.created'] });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const secret = (made.body as { webhook: { secret: string } }).webhook.secret;
  return { receiver, streamer, backer, secret };
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, { 'webhook-id': r.headers['webhook-id']!, 'webhook-timestamp': r.headers['webhook-timestamp']!, 'webhook-signature': r.headers['webhook-signature']! });

/** Event ids of the channel's events, from the funding database's outbox. */
async function eventIds(dataDir: string, handle: string): Promise<string[]> {
  const rows = await fundingQuery<{ id: string }>(dataDir, `SELECT id::text AS id FROM outbox WHERE payload->>'channel' = $1 AND topic IN ('mission.proposed', 'pledge.held')`, [handle]);
  return rows.map((r) => r.id);
}

describe('kill -9 of the webhooks worker mid-delivery', () => {
  it('delivers every event at least once after a restart, with the ids it had', async () => {
    const dataDir = await tempDataDir();
    let srv = await start(dataDir);
    const api = httpClient(() => srv.url, { timeoutMs: 30_000 });
    const { receiver, backer, secret } = await setUp(api, 'chaos_hook');
    // The receiver holds every request open: the worker is mid-delivery when it dies.
    receiver.behaviour = () => 'hang';
    const proposal = await api.propose(backer, 'chaos_hook', 5_000);
    expect(proposal.status).toBe(201);
    const missionId = (proposal.body as { mission: { id: string } }).mission.id;
    for (let i = 0; i < 3; i++) expect((await api.call('POST', `/api/v1/missions/${missionId}/pledges`, backer, { amount: 1_000 + i })).status).toBe(201);
    await until('the receiver holds deliveries open', async () => receiver.received.length >= 2, 20_000, 50);
    const before = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    const kill = await srv.signal('SIGKILL', 15_000);
    expect(kill.signal).toBe('SIGKILL');

    // While it is down the receiver recovers; the restarted process finishes the job.
    receiver.behaviour = () => ({ status: 200 });
    srv = await start(dataDir);
    const ids = await eventIds(dataDir, 'chaos_hook');
    expect(ids).toHaveLength(5); // proposed, its first pledge, three pledges
    await until('every event is delivered', async () => ids.every((id) => receiver.withId(id).length > 0), 60_000);
    for (const id of before) expect(ids).toContain(id);
    for (const got of receiver.received) expect(() => verify(secret, got)).not.toThrow();
    // Each event's body is the same on every attempt.
    for (const id of ids) expect(new Set(receiver.withId(id).map((r) => r.body)).size).toBe(1);
    await until('every delivery is recorded as succeeded', async () => {
      const [d] = await fundingQuery(dataDir, `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*)::int AS n FROM webhook_deliveries`);
      return d!.ok === 5 && d!.n === 5;
    }, 30_000);
    // Nothing else broke: the API answers, a new event goes out at once.
    const next = await api.propose(backer, 'chaos_hook', 2_000);
    expect(next.status).toBe(201);
    await until('a new event is delivered', async () => (await eventIds(dataDir, 'chaos_hook')).every((id) => receiver.withId(id).length > 0), 20_000);
    const stop = await srv.signal('SIGTERM', 15_000);
    expect(stop.timedOut, srv.stderr()).toBe(false);
    const verified = await ledgerVerify(dataDir);
    expect(verified.report.ok, verified.output).toBe(true);
  }, 240_000);

  it('resends with the same id when it died after the receiver answered, before recording it', async () => {
    const dataDir = await tempDataDir();
    let srv = await start(dataDir, 'webhooks.afterSend');
    const api = httpClient(() => srv.url, { timeoutMs: 30_000 });
    const { receiver, backer, secret } = await setUp(api, 'chaos_sent');
    expect((await api.propose(backer, 'chaos_sent', 5_000)).status).toBe(201);
    await crashed(srv, 'webhooks.afterSend');
    const first = receiver.received[0]!;
    expect(first).toBeDefined();
    srv = await start(dataDir);
    const id = first.headers['webhook-id']!;
    await until('the unrecorded delivery is sent again', async () => receiver.withId(id).length >= 2, 60_000);
    for (const got of receiver.withId(id)) expect(() => verify(secret, got)).not.toThrow();
    const ids = await eventIds(dataDir, 'chaos_sent');
    await until('every event is delivered', async () => ids.every((e) => receiver.withId(e).length > 0), 30_000);
    const stop = await srv.signal('SIGTERM', 15_000);
    expect(stop.timedOut, srv.stderr()).toBe(false);
  }, 240_000);
});
