// Outbound webhooks end to end on real PostgreSQL: a channel owner registers
// endpoints through the API, events from the outbox reach a real HTTP
// receiver on 127.0.0.1 (WEBHOOK_ALLOW_LOOPBACK=1), signed per Standard
// Webhooks — checked with the `standardwebhooks` verifier and with an HMAC
// computed here — and retried with the same `webhook-id` until they land.
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client, eventually, type Caller } from '../../test/support/api.ts';
import { WebhookReceiver, type Received } from '../../test/support/webhook-receiver.ts';

let t: TestApp;
let api: ReturnType<typeof client>;
let streamer: Caller;
let viewer: Caller;
const receivers: WebhookReceiver[] = [];
let handleNo = 0;

beforeAll(async () => {
  t = await createTestApp(
    { WEBHOOK_ALLOW_LOOPBACK: '1' },
    { webhookOptions: { retryBaseMs: 150, retryCapMs: 600, timeoutMs: 1_500, pollMs: 50, perEndpoint: 2 } },
  );
  api = client(t.ml.http);
  [streamer, viewer] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer')]);
  await api.channel(streamer, 'hooks');
  await api.charge(viewer, 1_000_000);
});
afterAll(async () => {
  await t?.close();
  await Promise.all(receivers.map((r) => r.stop()));
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start();
  receivers.push(r);
  return r;
}

/** A fresh channel of its own (events of other tests stay out of its endpoints). */
async function freshChannel(): Promise<{ owner: Caller; handle: string }> {
  const owner = await api.signUp('Owner');
  const handle = `wh_${process.pid % 1000}_${++handleNo}`;
  await api.channel(owner, handle);
  return { owner, handle };
}

async function addWebhook(owner: Caller, handle: string, url: string, events: string[]) {
  const r = await api.call('POST', `/api/v1/channels/${handle}/webhooks`, owner, { url, events });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.webhook as { id: string; url: string; events: string[]; secret: string; createdAt: string };
}

/** Verifies a received delivery with the package's verifier and with an HMAC computed here; returns its body. */
function verified(secret: string, r: Received) {
  const headers = { 'webhook-id': r.headers['webhook-id']!, 'webhook-timestamp': r.headers['webhook-timestamp']!, 'webhook-signature': r.headers['webhook-signature']! };
  expect(() => new Webhook(secret).verify(r.body, headers)).not.toThrow();
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${r.body}`).digest('base64');
  expect(headers['webhook-signature']).toBe(`v1,${mac}`);
  expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
  expect(r.headers['content-type']).toBe('application/json');
  return JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> };
}

async function propose(handle: string) {
  const r = await api.propose(viewer, handle, 5_000);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.mission.id as string;
}

describe('managing endpoints', () => {
  it('is for the channel owner only', async () => {
    const body = { url: 'http://127.0.0.1:9/hook', events: ['mission.proposed'] };
    expect((await api.call('POST', '/api/v1/channels/hooks/webhooks', null, body)).status).toBe(401);
    expect((await api.call('POST', '/api/v1/channels/hooks/webhooks', viewer, body)).body.code).toBe('FORBIDDEN');
    expect((await api.call('GET', '/api/v1/channels/hooks/webhooks', viewer)).status).toBe(403);
    expect((await api.call('GET', '/api/v1/channels/hooks/webhooks')).status).toBe(401);
    expect((await api.call('POST', '/api/v1/channels/nobody_here/webhooks', streamer, body)).status).toBe(404);
    const mine = await addWebhook(streamer, 'hooks', body.url, body.events);
    expect((await api.call('DELETE', `/api/v1/channels/hooks/webhooks/${mine.id}`, viewer)).status).toBe(403);
    expect((await api.call('GET', `/api/v1/channels/hooks/webhooks/${mine.id}/deliveries`, viewer)).status).toBe(403);
    // Another owner's channel does not reach this one's endpoints.
    const other = await freshChannel();
    expect((await api.call('DELETE', `/api/v1/channels/${other.handle}/webhooks/${mine.id}`, other.owner)).status).toBe(404);
    expect((await api.call('GET', `/api/v1/channels/${other.handle}/webhooks/${mine.id}/deliveries`, other.owner)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/channels/hooks/webhooks/${mine.id}`, streamer)).status).toBe(204);
  });

  it('shows the whsec_ secret once, lists without it, deletes', async () => {
    const { owner, handle } = await freshChannel();
    const a = await addWebhook(owner, handle, 'http://127.0.0.1:9/a', ['mission.proposed', 'pledge.created', 'mission.proposed']);
    expect(a).toMatchObject({ url: 'http://127.0.0.1:9/a', events: ['mission.proposed', 'pledge.created'], createdAt: expect.any(String) });
    expect(a.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const b = await addWebhook(owner, handle, 'http://127.0.0.1:9/b', ['withdrawal.updated']);
    expect(b.secret).not.toBe(a.secret);
    const list = await api.call('GET', `/api/v1/channels/${handle}/webhooks?limit=1`, owner);
    expect(list.status).toBe(200);
    expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([b.id]);
    const rest = await api.call('GET', `/api/v1/channels/${handle}/webhooks?limit=1&cursor=${list.body.nextCursor}`, owner);
    expect(rest.body).toMatchObject({ items: [{ id: a.id, status: 'active' }], nextCursor: null });
    expect(JSON.stringify([list.body, rest.body])).not.toContain('whsec_');
    expect((await api.call('DELETE', `/api/v1/channels/${handle}/webhooks/${a.id}`, owner)).status).toBe(204);
    expect((await api.call('DELETE', `/api/v1/channels/${handle}/webhooks/${a.id}`, owner)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/channels/${handle}/webhooks/not-an-id`, owner)).status).toBe(404);
    expect((await api.call('GET', `/api/v1/channels/${handle}/webhooks`, owner)).body.items).toHaveLength(1);
    // The secret is not in the logs' reach either: only this answer carried it.
  });

  it('refuses bad bodies with 400 VALIDATION_FAILED and changes nothing', async () => {
    const { owner, handle } = await freshChannel();
    for (const body of [
      {},
      { url: 'http://127.0.0.1:9/' },
      { url: 'http://127.0.0.1:9/', events: [] },
      { url: 'http://127.0.0.1:9/', events: ['mission.exploded'] },
      { url: 'http://127.0.0.1:9/', events: ['mission.proposed'], secret: 'whsec_mine' },
      { url: 42, events: ['mission.proposed'] },
      { url: 'not a url', events: ['mission.proposed'] },
      { url: '/relative/path', events: ['mission.proposed'] },
    ]) {
      const r = await api.call('POST', `/api/v1/channels/${handle}/webhooks`, owner, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await api.call('GET', `/api/v1/channels/${handle}/webhooks`, owner)).body.items).toEqual([]);
  });

  it('refuses URLs that are not https or reach private, loopback, link-local or metadata addresses', async () => {
    const { owner, handle } = await freshChannel();
    for (const url of [
      'http://example.com/hook',
      'ftp://127.0.0.1/hook',
      'javascript:alert(1)',
      'https://10.0.0.8/hook',
      'https://192.168.1.1/hook',
      'https://172.16.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://100.100.100.200/',
      'https://0.0.0.0/',
      'https://[::1]/hook',
      'https://[fe80::1]/hook',
      'https://[fd00:ec2::254]/hook',
      'https://[::ffff:10.0.0.1]/hook',
      'https://localhost/hook',
      'http://localhost:9/hook',
      'http://127.0.0.2:9/hook',
      'https://user:pw@127.0.0.1/hook',
    ]) {
      const r = await api.call('POST', `/api/v1/channels/${handle}/webhooks`, owner, { url, events: ['mission.proposed'] });
      expect(r.status, url).toBe(400);
      expect(r.body.code, url).toBe('WEBHOOK_URL_NOT_ALLOWED');
    }
    // A public address is fine (an IP literal: no DNS needed here).
    expect((await api.call('POST', `/api/v1/channels/${handle}/webhooks`, owner, { url: 'https://93.184.215.14/hook', events: ['mission.proposed'] })).status).toBe(201);
    expect((await api.call('GET', `/api/v1/channels/${handle}/webhooks`, owner)).body.items).toHaveLength(1);
  });

  it('caps the endpoints of a channel', async () => {
    const { owner, handle } = await freshChannel();
    const made = await Promise.all(Array.from({ length: 14 }, (_, i) => api.call('POST', `/api/v1/channels/${handle}/webhooks`, owner, { url: `http://127.0.0.1:9/${i}`, events: ['mission.proposed'] })));
    expect(made.filter((r) => r.status === 201)).toHaveLength(10);
    expect(made.filter((r) => r.status === 400).every((r) => r.body.code === 'VALIDATION_FAILED')).toBe(true);
  });
});

describe('deliveries', () => {
  it('delivers the chosen events, signed per Standard Webhooks, as {type, timestamp, data}', async () => {
    const { owner, handle } = await freshChannel();
    const r = await receiver();
    const hook = await addWebhook(owner, handle, r.url(), ['mission.proposed', 'pledge.created', 'mission.decided']);
    const id = await propose(handle);
    const p = await api.call('POST', `/api/v1/missions/${id}/pledges`, viewer, { amount: 1_000 });
    expect(p.status).toBe(201);
    // Accepted is not chosen; rejected is a decision.
    expect((await api.call('POST', `/api/v1/missions/${id}/reject`, owner)).status).toBe(200);
    await eventually(async () => r.received.length >= 4);
    const bodies = r.received.map((got) => verified(hook.secret, got));
    const types = bodies.map((b) => b.type).sort();
    expect(types).toEqual(['mission.decided', 'mission.proposed', 'pledge.created', 'pledge.created']);
    const proposed = bodies.find((b) => b.type === 'mission.proposed')!;
    expect(proposed.data).toMatchObject({ missionId: id, channel: handle, state: 'PROPOSED' });
    expect(new Date(proposed.timestamp).toISOString()).toBe(proposed.timestamp);
    expect(bodies.find((b) => b.type === 'mission.decided')!.data).toMatchObject({ missionId: id, state: 'REJECTED' });
    expect(bodies.filter((b) => b.type === 'pledge.created').map((b) => b.data.amount).sort()).toEqual([1_000, 5_000]);
    // Every event its own id; a wrong secret does not verify.
    expect(new Set(r.received.map((g) => g.headers['webhook-id'])).size).toBe(4);
    const other = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    expect(() => new Webhook(other).verify(r.received[0]!.body, r.received[0]!.headers)).toThrow();
    // The log: one succeeded attempt per event.
    const log = await eventually(async () => {
      const l = await api.call('GET', `/api/v1/channels/${handle}/webhooks/${hook.id}/deliveries`, owner);
      return l.body.items.length === 4 ? l.body : undefined;
    });
    expect(log.items[0]).toMatchObject({ eventId: expect.any(String), type: expect.any(String), attempt: 1, status: 'succeeded', responseStatus: 204, at: expect.any(String) });
    expect(new Set(log.items.map((a: { eventId: string }) => a.eventId))).toEqual(new Set(r.received.map((g) => g.headers['webhook-id'])));
    await new Promise((res) => setTimeout(res, 300));
    expect(r.received).toHaveLength(4);
  });

  it('retries a failing endpoint with the same webhook-id until it answers 2xx', async () => {
    const { owner, handle } = await freshChannel();
    const r = await receiver();
    let calls = 0;
    r.behaviour = () => (++calls <= 3 ? { status: 500, body: 'not yet' } : { status: 200, body: 'ok' });
    const hook = await addWebhook(owner, handle, r.url(), ['mission.proposed']);
    await propose(handle);
    await eventually(async () => r.received.length >= 4, 15_000);
    const ids = new Set(r.received.map((g) => g.headers['webhook-id']));
    expect(ids.size).toBe(1);
    // Same body every time, each attempt signed afresh and verifiable.
    expect(new Set(r.received.map((g) => g.body)).size).toBe(1);
    for (const got of r.received) verified(hook.secret, got);
    // Backed off: later gaps are not shorter than the first.
    const gaps = r.received.slice(1).map((g, i) => g.at - r.received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    const log = await eventually(async () => {
      const l = await api.call('GET', `/api/v1/channels/${handle}/webhooks/${hook.id}/deliveries`, owner);
      return l.body.items.length === 4 ? l.body.items : undefined;
    });
    expect(log.map((a: { attempt: number; status: string; responseStatus: number }) => [a.attempt, a.status, a.responseStatus])).toEqual([
      [4, 'succeeded', 200], [3, 'failed', 500], [2, 'failed', 500], [1, 'failed', 500],
    ]);
    expect(log[1].responseExcerpt).toBe('not yet');
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(4);
  });

  it('delivers every event to a receiver that was down, once it is up again', async () => {
    const { owner, handle } = await freshChannel();
    const r = await receiver();
    const hook = await addWebhook(owner, handle, r.url(), ['mission.proposed']);
    await r.down();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await propose(handle));
    // Attempts fail while it is down (connection refused), and are logged.
    await eventually(async () => {
      const l = await api.call('GET', `/api/v1/channels/${handle}/webhooks/${hook.id}/deliveries?limit=100`, owner);
      return l.body.items.length >= 10 ? l : undefined;
    }, 15_000);
    const failed = (await api.call('GET', `/api/v1/channels/${handle}/webhooks/${hook.id}/deliveries?limit=100`, owner)).body.items;
    expect(failed.every((a: { status: string; responseStatus: null; error: string }) => a.status === 'failed' && a.responseStatus === null && a.error)).toBe(true);
    await r.up();
    await eventually(async () => new Set(r.received.map((g) => g.headers['webhook-id'])).size === 5, 15_000);
    const missions = r.received.map((g) => verified(hook.secret, g).data.missionId);
    expect(new Set(missions)).toEqual(new Set(ids));
  });

  it('a slow endpoint does not delay another, and gets at most its share in flight', async () => {
    const slow = await freshChannel();
    const fast = await freshChannel();
    const rs = await receiver();
    const rf = await receiver();
    rs.behaviour = () => 'hang';
    await addWebhook(slow.owner, slow.handle, rs.url(), ['mission.proposed']);
    await addWebhook(fast.owner, fast.handle, rf.url(), ['mission.proposed']);
    for (let i = 0; i < 6; i++) await propose(slow.handle);
    await eventually(async () => rs.received.length >= 2);
    const started = Date.now();
    for (let i = 0; i < 3; i++) await propose(fast.handle);
    await eventually(async () => rf.received.length === 3, 5_000, 10);
    // Well inside the slow endpoint's 1.5 s timeout.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(rs.maxConcurrent).toBeLessThanOrEqual(2);
    // The live feed is not held up either: a public read still answers at once.
    const t0 = Date.now();
    expect((await api.call('GET', `/api/v1/channels/${fast.handle}/missions`)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('times out, does not follow redirects, and keeps only an excerpt of an answer', async () => {
    const { owner, handle } = await freshChannel();
    const target = await receiver();
    const r = await receiver();
    let n = 0;
    r.behaviour = () => {
      n++;
      if (n === 1) return { status: 302, headers: { location: target.url('/elsewhere') } };
      if (n === 2) return 'hang';
      return { status: 400, body: 'x'.repeat(100_000) };
    };
    const hook = await addWebhook(owner, handle, r.url(), ['mission.proposed']);
    await propose(handle);
    const log = await eventually(async () => {
      const l = await api.call('GET', `/api/v1/channels/${handle}/webhooks/${hook.id}/deliveries`, owner);
      return l.body.items.length >= 3 ? l.body.items.reverse() : undefined;
    }, 15_000);
    expect(target.received).toHaveLength(0);
    expect(log[0]).toMatchObject({ attempt: 1, status: 'failed', responseStatus: 302 });
    expect(log[1]).toMatchObject({ attempt: 2, status: 'failed', responseStatus: null, error: expect.stringContaining('no answer within') });
    expect(log[1].durationMs).toBeGreaterThanOrEqual(1_400);
    expect(log[2]).toMatchObject({ attempt: 3, status: 'failed', responseStatus: 400 });
    expect(log[2].responseExcerpt.length).toBeLessThanOrEqual(512);
  });

  it('checks the address again when it connects (a name that now resolves to loopback is refused)', async () => {
    const { owner, handle } = await freshChannel();
    const r = await receiver();
    const hook = await addWebhook(owner, handle, r.url(), ['mission.proposed']);
    // As if its name had been re-pointed after registration (DNS rebinding):
    // `localhost` resolves to a loopback address, which only the literal 127.0.0.1 may use.
    await t.db.pools.funding.query('UPDATE webhook_endpoints SET url = $2 WHERE id = $1', [hook.id, `https://localhost:${r.port}/hook`]);
    await propose(handle);
    const log = await eventually(async () => {
      const l = await api.call('GET', `/api/v1/channels/${handle}/webhooks/${hook.id}/deliveries`, owner);
      return l.body.items.length >= 1 ? l.body.items : undefined;
    });
    expect(log[0]).toMatchObject({ status: 'failed', responseStatus: null, error: 'localhost resolves to an address webhooks may not reach' });
    expect(r.received).toHaveLength(0);
  });

  it('sends a test event on request', async () => {
    const { owner, handle } = await freshChannel();
    const r = await receiver();
    const hook = await addWebhook(owner, handle, r.url(), ['withdrawal.updated']);
    const sent = await api.call('POST', `/api/v1/channels/${handle}/webhooks/${hook.id}/test`, owner);
    expect(sent.status).toBe(202);
    await eventually(async () => r.received.length === 1);
    expect(r.received[0]!.headers['webhook-id']).toBe(sent.body.eventId);
    expect(verified(hook.secret, r.received[0]!)).toMatchObject({ type: 'webhook.test', data: { channel: handle, webhookId: hook.id } });
    expect((await api.call('POST', `/api/v1/channels/${handle}/webhooks/${hook.id}/test`, viewer)).status).toBe(403);
    // A handful may wait for an endpoint that does not answer; more is refused.
    const dead = await addWebhook(owner, handle, 'http://127.0.0.1:9/nobody', ['mission.proposed']);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await api.call('POST', `/api/v1/channels/${handle}/webhooks/${dead.id}/test`, owner));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429, 429]);
    expect(answers[5]!.body.code).toBe('RATE_LIMITED');
    expect(answers[5]!.headers['retry-after']).toBeDefined();
  });

  it('stops delivering to a deleted endpoint', async () => {
    const { owner, handle } = await freshChannel();
    const r = await receiver();
    r.behaviour = () => ({ status: 503 });
    const hook = await addWebhook(owner, handle, r.url(), ['mission.proposed']);
    await propose(handle);
    await eventually(async () => r.received.length >= 1);
    expect((await api.call('DELETE', `/api/v1/channels/${handle}/webhooks/${hook.id}`, owner)).status).toBe(204);
    await new Promise((res) => setTimeout(res, 1_000));
    const seen = r.received.length;
    await new Promise((res) => setTimeout(res, 1_000));
    expect(r.received.length).toBe(seen);
    const { rows } = await t.db.pools.funding.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [hook.id]);
    expect(rows[0].n).toBe(0);
  });
});
