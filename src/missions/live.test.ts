// Live events over a real socket: what each action sends, ids, resuming with
// Last-Event-ID, the channel stream, slow clients, heartbeats.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tx } from '../platform/db.ts';
import { createLogger } from '../platform/log.ts';
import { LiveHub } from './live.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client as apiClient, eventually, type Caller } from '../../test/support/api.ts';
import { openSse, type SseClient, type SseEvent } from '../../test/support/sse.ts';

let t: TestApp;
let api: ReturnType<typeof apiClient>;
let base: string;
let streamer: Caller;
let a: Caller;
let b: Caller;
const open: SseClient[] = [];

const HANDLE = 'live_ch';

beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.ml.http);
  await t.ml.http.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.ml.http.server.address() as AddressInfo).port}`;
  [streamer, a, b] = await Promise.all([api.signUp('Streamer'), api.signUp('A'), api.signUp('B')]);
  await api.channel(streamer, HANDLE, { missionMinAmount: 1 });
  await api.charge(a, 1_000_000);
  await api.charge(b, 1_000_000);
});
afterAll(async () => {
  for (const s of open) s.close();
  await t?.close();
});

async function sse(path: string, headers: Record<string, string> = {}) {
  const s = await openSse(`${base}${path}`, headers);
  open.push(s);
  return s;
}

async function propose(amount = 5_000) {
  const p = await api.propose(a, HANDLE, amount, 3_600);
  expect(p.status).toBe(201);
  return p.body.mission.id as string;
}

async function pledge(who: Caller, id: string, amount: number) {
  const r = await api.call('POST', `/api/v1/missions/${id}/pledges`, who, { amount });
  expect(r.status).toBe(201);
  return r.body.pledge as { id: string };
}

function expectIncreasingIds(events: SseEvent[]) {
  for (const e of events) expect(Number.isSafeInteger(e.id)).toBe(true);
  for (let i = 1; i < events.length; i++) expect(events[i]!.id!).toBeGreaterThan(events[i - 1]!.id!);
}

/**
 * Appends `rows` events of a mission straight to live_events, the way the
 * live consumer appends (under its lock): real rows of the real table, just
 * many and fast, to fill socket buffers or outgrow a replay page.
 */
async function flood(missionId: string, rows: number, padding: number): Promise<void> {
  await tx(t.db.pools.funding, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(72201)');
    await c.query(
      `INSERT INTO live_events (event_id, mission_id, channel, type, data)
       SELECT gen_random_uuid(), $1::uuid, $2, 'state', jsonb_build_object('missionId', $1::text, 'state', 'PROPOSED', 'n', n, 'padding', repeat('x', $3::int))
         FROM generate_series(1, $4::int) AS n`,
      [missionId, HANDLE, padding, rows],
    );
  });
  t.ml.live!.poke();
}

async function metric(name: string): Promise<number> {
  const text = (await t.ml.http.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('live events', () => {
  it('sends pledge totals, state changes and prediction pools, with increasing ids', async () => {
    const id = await propose(5_000);
    const s = await sse(`/api/v1/missions/${id}/events`);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);

    const p = await pledge(b, id, 2_000);
    // (the proposal's own events may still arrive after connecting: they are async)
    const pe = await s.waitFor((e) => e.data.pledgeId === p.id);
    expect(pe.data).toMatchObject({ missionId: id, pledgeId: p.id, amount: 2_000, pledgedAmount: 7_000, backerCount: 2 });
    await pledge(b, id, 1_000); // the same backer again: the amount grows, the backer count does not
    expect((await s.waitFor((e) => e.event === 'pledge' && e.data.pledgedAmount === 8_000)).data.backerCount).toBe(2);

    expect((await api.call('POST', `/api/v1/missions/${id}/accept`, streamer)).status).toBe(200);
    const accepted = await s.waitFor((e) => e.event === 'state' && e.data.state === 'ACTIVE');
    expect(accepted.data.missionId).toBe(id);
    expect(typeof accepted.data.deadline).toBe('string');

    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, b, { side: 'FAILED', points: 30 })).status).toBe(201);
    expect((await s.waitFor((e) => e.event === 'prediction')).data).toMatchObject({ missionId: id, pools: { SUCCEEDED: 0, FAILED: 30 } });
    expect((await api.call('POST', `/api/v1/missions/${id}/prediction/bets`, a, { side: 'SUCCEEDED', points: 20 })).status).toBe(201);
    await s.waitFor((e) => e.event === 'prediction' && e.data.pools.SUCCEEDED === 20 && e.data.pools.FAILED === 30);

    expect((await api.call('POST', `/api/v1/missions/${id}/decision`, streamer, { outcome: 'SUCCEEDED' })).status).toBe(200);
    await s.waitFor((e) => e.event === 'state' && e.data.state === 'SUCCEEDED' && !e.data.settled);
    const settled = await s.waitFor((e) => e.event === 'state' && e.data.settled === true);
    expect(settled.data).toMatchObject({ missionId: id, state: 'SUCCEEDED' });
    expect(typeof settled.data.settledAt).toBe('string');
    await s.waitFor((e) => e.event === 'prediction' && e.data.state === 'RESOLVED');

    for (const e of s.events) {
      expect(['pledge', 'state', 'prediction']).toContain(e.event);
      expect(e.data.missionId).toBe(id);
    }
    expectIncreasingIds(s.events);
  });

  it('resumes after Last-Event-ID with exactly the missed events, in order', async () => {
    const id = await propose();
    const witness = await sse(`/api/v1/missions/${id}/events`); // stays connected throughout
    const first = await sse(`/api/v1/missions/${id}/events`);
    const p0 = await pledge(b, id, 100);
    const seen = await first.waitFor((e) => e.data.pledgeId === p0.id);
    first.close();

    const missed: string[] = [];
    for (let i = 0; i < 5; i++) missed.push((await pledge(b, id, 200 + i)).id);
    await witness.waitFor((e) => e.data.pledgeId === missed.at(-1));
    const expected = witness.events.filter((e) => e.id! > seen.id!);
    expect(expected.map((e) => e.data.pledgeId)).toEqual(missed);

    for (const resumed of [
      await sse(`/api/v1/missions/${id}/events`, { 'last-event-id': String(seen.id) }),
      await sse(`/api/v1/missions/${id}/events?lastEventId=${seen.id}`),
    ]) {
      const got = await resumed.waitForCount(expected.length);
      expect(got.map((e) => [e.id, e.event, e.data])).toEqual(expected.map((e) => [e.id, e.event, e.data]));
      // …and it goes on live after the replay.
      const next = await pledge(b, id, 300);
      const live = await resumed.waitFor((e) => e.data.pledgeId === next.id);
      expect(live.id).toBeGreaterThan(expected.at(-1)!.id!);
      expectIncreasingIds(resumed.events);
    }
    // A Last-Event-ID at the newest event: nothing is replayed.
    const newest = await witness.waitForCount(expected.length + 2);
    const quiet = await sse(`/api/v1/missions/${id}/events`, { 'last-event-id': String(newest.at(-1)!.id) });
    const after = await pledge(b, id, 400);
    expect((await quiet.waitForCount(1))[0]!.data.pledgeId).toBe(after.id);
  });

  it('replays every missed event, however many', async () => {
    const id = await propose();
    const first = await sse(`/api/v1/missions/${id}/events`);
    const p0 = await pledge(b, id, 1);
    const seen = await first.waitFor((e) => e.data.pledgeId === p0.id);
    first.close();
    await flood(id, 6_000, 10);
    const p1 = await pledge(b, id, 2);
    const resumed = await sse(`/api/v1/missions/${id}/events`, { 'last-event-id': String(seen.id) });
    await resumed.waitFor((e) => e.data.pledgeId === p1.id, 20_000);
    const { rows } = await t.db.pools.funding.query<{ seq: string }>('SELECT seq FROM live_events WHERE mission_id = $1 AND seq > $2 ORDER BY seq', [id, seen.id]);
    expect(resumed.events.map((e) => e.id)).toEqual(rows.map((r) => Number(r.seq)));
    expect(resumed.events.slice(0, 6_000).map((e) => e.data.n)).toEqual(Array.from({ length: 6_000 }, (_, i) => i + 1));
  }, 30_000);

  it('replays across a reconnect while events keep flowing, without gaps or duplicates', async () => {
    const id = await propose();
    const witness = await sse(`/api/v1/missions/${id}/events`);
    const hop = await sse(`/api/v1/missions/${id}/events`);
    const pledged: string[] = [];
    let stop = false;
    const writer = (async () => {
      while (!stop) pledged.push((await pledge(b, id, 10)).id);
    })();
    // Reconnect several times mid-stream, each time from the last id received.
    let current = hop;
    const received: SseEvent[] = [];
    for (let hopNo = 0; hopNo < 4; hopNo++) {
      await current.waitForCount(received.length === 0 ? 3 : 2, 10_000);
      current.close();
      received.push(...current.events);
      current = await sse(`/api/v1/missions/${id}/events`, { 'last-event-id': String(received.at(-1)!.id) });
    }
    stop = true;
    await writer;
    await witness.waitFor((e) => e.data.pledgeId === pledged.at(-1));
    await current.waitFor((e) => e.data.pledgeId === pledged.at(-1));
    received.push(...current.events);
    const ids = received.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(received.map((e) => e.data.pledgeId)).toEqual(witness.events.filter((e) => e.id! >= received[0]!.id!).map((e) => e.data.pledgeId));
    expectIncreasingIds(received);
  });

  it('streams every mission of a channel on the channel stream, and only its own on a mission stream', async () => {
    const ch = await sse(`/api/v1/channels/${HANDLE}/events`);
    const m1 = await propose();
    const m2 = await propose();
    const one = await sse(`/api/v1/missions/${m1}/events`);
    const p1 = await pledge(b, m1, 111);
    const p2 = await pledge(b, m2, 222);
    expect((await api.call('POST', `/api/v1/missions/${m2}/reject`, streamer)).status).toBe(200);
    await ch.waitFor((e) => e.data.pledgeId === p1.id);
    await ch.waitFor((e) => e.data.pledgeId === p2.id);
    await ch.waitFor((e) => e.event === 'state' && e.data.missionId === m2 && e.data.state === 'REJECTED');
    // The proposals themselves were announced too.
    await ch.waitFor((e) => e.event === 'state' && e.data.missionId === m1 && e.data.state === 'PROPOSED');
    expect(new Set(ch.events.map((e) => e.data.missionId))).toEqual(new Set([m1, m2]));
    expectIncreasingIds(ch.events);
    await one.waitFor((e) => e.data.pledgeId === p1.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(one.events.every((e) => e.data.missionId === m1)).toBe(true);

    // The channel stream resumes too.
    const firstId = ch.events[0]!.id!;
    const resumed = await sse(`/api/v1/channels/${HANDLE}/events`, { 'last-event-id': String(firstId) });
    const got = await resumed.waitForCount(ch.events.length - 1);
    expect(got.map((e) => e.id)).toEqual(ch.events.slice(1).map((e) => e.id));
  });

  it('answers 404 problem+json for unknown missions and channels', async () => {
    for (const path of ['/api/v1/missions/0190a0a0-0000-7000-8000-000000000000/events', '/api/v1/missions/nope/events', '/api/v1/channels/no_such_ch/events']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
  });

  it('keeps an idle stream open', async () => {
    const id = await propose();
    const s = await sse(`/api/v1/missions/${id}/events`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(s.closed()).toBe(false);
    const p = await pledge(b, id, 5);
    await s.waitFor((e) => e.data.pledgeId === p.id);
  });

  it('forgets clients that hang up before their stream is set up', async () => {
    const id = await propose();
    await new Promise((r) => setTimeout(r, 200));
    const baseline = await metric('missionlink_sse_clients');
    const { port } = t.ml.http.server.address() as AddressInfo;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<void>((resolve) => {
          const sock = net.connect(port, '127.0.0.1', () => {
            sock.write(`GET /api/v1/missions/${id}/events${i % 2 ? `?lastEventId=1` : ''} HTTP/1.1\r\nHost: x\r\n\r\n`);
            // hang up at once, or after a moment
            setTimeout(() => sock.destroy(), i % 4);
          });
          sock.on('close', () => resolve());
          sock.on('error', () => undefined);
        }),
      ),
    );
    // Give the server time to have set up (or refused) every one of them, then
    // none may be left registered.
    await new Promise((r) => setTimeout(r, 1_000));
    await eventually(async () => (await metric('missionlink_sse_clients')) === baseline || undefined, 5_000);
  });

  it('frames every event as a chunk of an HTTP/1.1 stream, and sends an HTTP/1.0 client the bare stream', async () => {
    const id = await propose();
    const { port } = t.ml.http.server.address() as AddressInfo;
    /** The raw bytes a socket client gets until `until` appears in them. */
    const raw = (version: string, until: RegExp) =>
      new Promise<{ text: string; close: () => void }>((resolve, reject) => {
        let text = '';
        const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET /api/v1/missions/${id}/events HTTP/${version}\r\nHost: x\r\n\r\n`));
        sock.setEncoding('latin1');
        sock.on('data', (d: string) => {
          text += d;
          if (until.test(text)) resolve({ text, close: () => sock.destroy() });
        });
        sock.on('error', reject);
      });
    const chunked = raw('1.1', /"amount":7[^\n]*\n\n\r\n/);
    const bare = raw('1.0', /"amount":7[^\n]*\n\n/);
    await eventually(async () => (await metric('missionlink_sse_clients')) >= 2 || undefined);
    await pledge(b, id, 7);
    for (const [got, isChunked] of [[await chunked, true], [await bare, false]] as const) {
      got.close();
      const [head, body] = [got.text.slice(0, got.text.indexOf('\r\n\r\n')), got.text.slice(got.text.indexOf('\r\n\r\n') + 4)];
      expect(/transfer-encoding: chunked/i.test(head)).toBe(isChunked);
      let stream = body;
      if (isChunked) {
        // Every chunk's size line matches its bytes exactly, and ends in CRLF.
        stream = '';
        for (let rest = body; rest.length > 0; ) {
          const eol = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, eol), 16);
          expect(Number.isInteger(size) && size > 0).toBe(true);
          stream += rest.slice(eol + 2, eol + 2 + size);
          expect(rest.slice(eol + 2 + size, eol + 4 + size)).toBe('\r\n');
          rest = rest.slice(eol + 4 + size);
        }
      }
      // Nothing but whole events and comments, the pledge among them.
      expect(stream).toMatch(/^retry: 2000\n\n(?:(?::[^\n]*|id: \d+\nevent: [a-z_]+\ndata: \{[^\n]*\})\n\n)*$/);
      expect(stream).toMatch(/id: \d+\nevent: pledge\ndata: \{[^\n]*"amount":7[^\n]*\}\n\n$/);
    }
  });

  it('drops a client that stops reading, without stalling the others', async () => {
    const id = await propose();
    const fast = await sse(`/api/v1/missions/${id}/events`);
    const droppedBefore = await metric('missionlink_sse_dropped_total');
    const { port } = t.ml.http.server.address() as AddressInfo;
    // A client that sends its request and then never reads a byte.
    const slow = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => slow.once('connect', () => r()));
    slow.on('error', () => undefined);
    slow.write(`GET /api/v1/missions/${id}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause();
    await eventually(async () => (await metric('missionlink_sse_clients')) >= 2 || undefined);

    // Flood the mission's stream with megabytes: real rows of live_events,
    // appended the way the live consumer appends them (under its lock), but
    // large, so the socket buffers of the slow client fill within seconds.
    const latencies: number[] = [];
    let dropped = false;
    for (let round = 0; round < 60 && !dropped; round++) {
      await flood(id, 200, 4_000); // ~0.8 MB
      const sent = Date.now();
      const p = await pledge(b, id, 1);
      const got = await fast.waitFor((e) => e.data.pledgeId === p.id, 2_000);
      latencies.push(got.at - sent);
      dropped = (await metric('missionlink_sse_dropped_total')) > droppedBefore;
    }
    expect(dropped).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(2_000);
    // The fast client received everything in order, the slow one is gone from the hub.
    expect(fast.closed()).toBe(false);
    expectIncreasingIds(fast.events);
    await eventually(async () => (await metric('missionlink_sse_clients')) <= open.filter((s) => !s.closed()).length || undefined);
    const p = await pledge(b, id, 1);
    await fast.waitFor((e) => e.data.pledgeId === p.id, 2_000);
    slow.destroy();
  }, 90_000);
});

describe('heartbeat', () => {
  it('writes a comment line on every beat, keeping idle streams open', async () => {
    // A hub of its own with a short interval, on the test's database and bus.
    const registry = new client.Registry();
    const hub = new LiveHub({ pool: t.db.pools.funding, bus: t.ml.bus, log: createLogger('silent'), registry, heartbeatMs: 100 });
    await hub.start();
    const server = http.createServer((_req, res) => void hub.attach({ channel: 'quiet_ch' }, res, null));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const s = await openSse(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await eventually(async () => s.comments.filter((c) => c === 'keep-alive').length >= 3 || undefined, 5_000);
      expect(s.events).toEqual([]);
      expect(s.closed()).toBe(false);
      s.close();
    } finally {
      await hub.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
