// Event streams per client (contract 1.1, security finding 3): at most 50 open
// at once from one client address, across both stream routes; the next is a
// 429 RATE_LIMITED with Retry-After; a closed stream frees its slot at once;
// other addresses are unaffected. A process holds at most `maxStreams` streams
// in all (503 UNAVAILABLE with Retry-After beyond), and the gauge
// missionlink_sse_clients counts the open ones. Real sockets throughout; the
// other addresses are other loopback addresses (127.0.0.2, …).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.ts';
import { createHttpServer, type App } from '../platform/http.ts';
import { createLogger } from '../platform/log.ts';
import { Metrics } from '../platform/metrics.ts';
import { LiveHub } from './live.ts';
import { liveRoutes } from './live-routes.ts';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { client as apiClient, eventually } from '../../test/support/api.ts';

const PER_ADDRESS = 50;
const HANDLE = 'limits_ch';

let t: TestApp;
let base: string;
let missionId: string;
const opened: Stream[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const api = apiClient(t.ml.http);
  await t.ml.http.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.ml.http.server.address() as AddressInfo).port}`;
  const [streamer, viewer] = await Promise.all([api.signUp('Streamer'), api.signUp('Viewer')]);
  await api.channel(streamer, HANDLE);
  await api.charge(viewer, 10_000);
  const p = await api.propose(viewer, HANDLE, 1_000, 3_600);
  expect(p.status).toBe(201);
  missionId = p.body.mission.id;
});
afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  // Every test starts with no stream open.
  await eventually(async () => (await gauge()) === 0 || undefined, 5_000);
});
afterAll(async () => {
  await t?.close();
});

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The problem body of a refusal. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  problem?: any;
  close(): void;
}

/**
 * Opens an event stream from the local address `from`: resolves with the
 * status once the stream is open, or with the whole problem of a refusal.
 */
function open(url: string, from = '127.0.0.1', headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress: from, agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const close = () => {
        req.destroy();
        res.destroy();
      };
      if (res.statusCode === 200) {
        res.resume();
        const s: Stream = { status: 200, headers: res.headers, close };
        opened.push(s);
        resolve(s);
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, problem: text ? JSON.parse(text) : undefined, close }));
    });
    req.on('error', reject);
  });
}

const missionUrl = () => `${base}/api/v1/missions/${missionId}/events`;
const channelUrl = () => `${base}/api/v1/channels/${HANDLE}/events`;

async function gauge(app: App = t.ml.http): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith('missionlink_sse_clients '));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

function expectRefused(s: Stream, status: number, code: string) {
  expect(s.status, JSON.stringify(s.problem)).toBe(status);
  expect(s.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(s.problem).toMatchObject({ status, code });
  expect(s.headers['retry-after']).toMatch(/^[1-9]\d*$/);
}

describe('streams per client address', () => {
  it(`admits ${PER_ADDRESS} streams from one address across both routes and refuses the next with 429 and Retry-After`, async () => {
    const before = await gauge();
    const streams = await Promise.all(
      Array.from({ length: PER_ADDRESS }, (_, i) => open(i % 2 ? missionUrl() : channelUrl())),
    );
    expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
    expect(await gauge()).toBe(before + PER_ADDRESS);

    expectRefused(await open(missionUrl()), 429, 'RATE_LIMITED');
    expectRefused(await open(channelUrl()), 429, 'RATE_LIMITED');
    // Refusals hold nothing.
    expect(await gauge()).toBe(before + PER_ADDRESS);
    // Unknown missions are still unknown.
    expect((await open(`${base}/api/v1/missions/0190a0a0-0000-7000-8000-000000000000/events`)).status).toBe(404);
  });

  it('frees the slot of a closed stream at once', async () => {
    const before = await gauge();
    const streams = await Promise.all(Array.from({ length: PER_ADDRESS }, () => open(missionUrl())));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    expectRefused(await open(missionUrl()), 429, 'RATE_LIMITED');

    for (let round = 0; round < 3; round++) {
      streams.pop()!.close();
      // As soon as the server has seen the hang-up (no expiry, no timer):
      await eventually(async () => (await gauge()) === before + PER_ADDRESS - 1 || undefined, 2_000, 10);
      const next = await open(round % 2 ? channelUrl() : missionUrl());
      expect(next.status).toBe(200);
      streams.push(next);
      expectRefused(await open(missionUrl()), 429, 'RATE_LIMITED');
    }
  });

  it('leaves other addresses unaffected', async () => {
    const full = await Promise.all(Array.from({ length: PER_ADDRESS }, () => open(missionUrl())));
    expect(full.every((s) => s.status === 200)).toBe(true);
    expectRefused(await open(missionUrl()), 429, 'RATE_LIMITED');
    for (const from of ['127.0.0.2', '127.0.0.3']) {
      expect((await open(missionUrl(), from)).status).toBe(200);
      expect((await open(channelUrl(), from)).status).toBe(200);
    }
    const others = await Promise.all(Array.from({ length: PER_ADDRESS - 2 }, () => open(channelUrl(), '127.0.0.2')));
    expect(others.every((s) => s.status === 200)).toBe(true);
    expectRefused(await open(channelUrl(), '127.0.0.2'), 429, 'RATE_LIMITED');
    expect((await open(channelUrl(), '127.0.0.3')).status).toBe(200);
  });

  it('frees the slots of clients that hang up before their stream is set up', async () => {
    const before = await gauge();
    const { port } = t.ml.http.server.address() as AddressInfo;
    await Promise.all(
      Array.from({ length: 2 * PER_ADDRESS }, (_, i) =>
        new Promise<void>((resolve) => {
          const sock = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.4' }, () => {
            sock.write(`GET /api/v1/${i % 2 ? `missions/${missionId}` : `channels/${HANDLE}`}/events${i % 3 ? '?lastEventId=1' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`);
            setTimeout(() => sock.destroy(), i % 5);
          });
          sock.on('close', () => resolve());
          sock.on('error', () => undefined);
        }),
      ),
    );
    await eventually(async () => (await gauge()) === before || undefined, 5_000);
    const streams = await Promise.all(Array.from({ length: PER_ADDRESS }, () => open(missionUrl(), '127.0.0.4')));
    expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
  });

  it('does not count a request pipelined behind a stream (it is never served)', async () => {
    const { port } = t.ml.http.server.address() as AddressInfo;
    const connections = 30;
    const socks = await Promise.all(
      Array.from({ length: connections }, () =>
        new Promise<net.Socket>((resolve) => {
          const sock = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.11' }, () => {
            const get = `GET /api/v1/missions/${missionId}/events HTTP/1.1\r\nHost: x\r\n\r\n`;
            sock.write(get + get);
            resolve(sock);
          });
          sock.on('error', () => undefined);
        }),
      ),
    );
    try {
      await eventually(async () => (await gauge()) === connections || undefined, 5_000);
      // Each connection's second request waits behind its first, for ever;
      // holding a place for it would lock the address out.
      const more = await Promise.all(Array.from({ length: PER_ADDRESS - connections }, () => open(missionUrl(), '127.0.0.11')));
      expect(more.map((s) => s.status)).toEqual(more.map(() => 200));
      expectRefused(await open(missionUrl(), '127.0.0.11'), 429, 'RATE_LIMITED');
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  it('counts open streams in missionlink_sse_clients', async () => {
    const before = await gauge();
    const a = await Promise.all(Array.from({ length: 7 }, () => open(missionUrl(), '127.0.0.5')));
    const b = await Promise.all(Array.from({ length: 5 }, () => open(channelUrl(), '127.0.0.6')));
    expect([...a, ...b].every((s) => s.status === 200)).toBe(true);
    expect(await gauge()).toBe(before + 12);
    for (const s of a) s.close();
    await eventually(async () => (await gauge()) === before + 5 || undefined, 5_000);
    for (const s of b) s.close();
    await eventually(async () => (await gauge()) === before || undefined, 5_000);
  });
});

describe('client addresses', () => {
  const hub = () => new LiveHub({ pool: t.db.pools.funding, bus: t.ml.bus, log: createLogger('silent'), registry: new client.Registry() });
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err instanceof AppError ? err.code : String(err);
    }
    return null;
  };

  it('counts one IPv6 client by its /64 and an IPv4-mapped address as the IPv4 one', () => {
    const h = hub();
    for (let i = 0; i < PER_ADDRESS; i++) h.admit(`2001:db8:1:2::${(i + 1).toString(16)}`);
    expect(refusal(() => h.admit('2001:db8:1:2:ffff:ffff:ffff:ffff'))).toBe('RATE_LIMITED');
    expect(refusal(() => h.admit('2001:0db8:0001:0002:0:0:0:abcd'))).toBe('RATE_LIMITED');
    expect(refusal(() => h.admit('2001:db8:1:3::1'))).toBeNull();

    for (let i = 0; i < PER_ADDRESS; i++) h.admit(i % 2 ? '::ffff:10.0.0.1' : '10.0.0.1');
    expect(refusal(() => h.admit('10.0.0.1'))).toBe('RATE_LIMITED');
    expect(refusal(() => h.admit('::ffff:10.0.0.1'))).toBe('RATE_LIMITED');
    expect(refusal(() => h.admit('10.0.0.2'))).toBeNull();
  });

  it('frees a slot once however often it is released', () => {
    const h = hub();
    const slots = Array.from({ length: PER_ADDRESS }, () => h.admit('192.0.2.1'));
    slots[0]!.release();
    slots[0]!.release();
    h.admit('192.0.2.1');
    expect(refusal(() => h.admit('192.0.2.1'))).toBe('RATE_LIMITED');
  });
});

/** An api server of its own (the live routes only, on the test's database and bus), with hub and HTTP options of its own. */
async function liveServer(hubOptions: { maxStreams?: number }, trustProxy?: string[]) {
  const metrics = new Metrics();
  const app = await createHttpServer({ logger: createLogger('silent'), metrics, readiness: {}, version: 'test', trustProxy });
  const hub = new LiveHub({ pool: t.db.pools.funding, bus: t.ml.bus, log: createLogger('silent'), registry: metrics.registry, ...hubOptions });
  await liveRoutes(app, hub, t.ml.missions!, t.ml.channels!);
  await hub.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await hub.stop();
      await app.close();
    },
  };
}

describe('behind a trusted proxy (TRUST_PROXY)', () => {
  let proxied: Awaited<ReturnType<typeof liveServer>>;
  beforeAll(async () => {
    proxied = await liveServer({}, ['127.0.0.1']);
  });
  afterAll(async () => proxied?.close());

  it('counts each forwarded client by its own address, and only from the trusted peer', async () => {
    const url = `${proxied.url}/api/v1/channels/${HANDLE}/events`;
    const via = (client: string, from = '127.0.0.1') => open(url, from, { 'x-forwarded-for': client });
    const first = await Promise.all(Array.from({ length: PER_ADDRESS }, () => via('203.0.113.1')));
    expect(first.every((s) => s.status === 200)).toBe(true);
    expectRefused(await via('203.0.113.1'), 429, 'RATE_LIMITED');
    expect((await via('203.0.113.2')).status).toBe(200);
    expect((await open(url)).status).toBe(200); // the proxy itself is a client too

    // An untrusted peer cannot spread its streams over made-up addresses.
    const spoofed = await Promise.all(Array.from({ length: PER_ADDRESS }, (_, i) => via(`198.51.100.${i + 1}`, '127.0.0.12')));
    expect(spoofed.every((s) => s.status === 200)).toBe(true);
    expectRefused(await via('198.51.100.200', '127.0.0.12'), 429, 'RATE_LIMITED');
  });
});

describe('streams per process', () => {
  let app: App;
  let small: string;
  let server: Awaited<ReturnType<typeof liveServer>>;

  beforeAll(async () => {
    server = await liveServer({ maxStreams: 3 });
    ({ app, url: small } = server);
  });
  afterAll(async () => server?.close());

  it('holds at most maxStreams in all, answering 503 UNAVAILABLE with Retry-After beyond', async () => {
    const url = `${small}/api/v1/missions/${missionId}/events`;
    const streams = [await open(url, '127.0.0.7'), await open(url, '127.0.0.8'), await open(url, '127.0.0.9')];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(await gauge(app)).toBe(3);
    expectRefused(await open(url, '127.0.0.10'), 503, 'UNAVAILABLE');
    expectRefused(await open(`${small}/api/v1/channels/${HANDLE}/events`, '127.0.0.7'), 503, 'UNAVAILABLE');

    streams[1]!.close();
    await eventually(async () => (await gauge(app)) === 2 || undefined, 2_000, 10);
    expect((await open(url, '127.0.0.10')).status).toBe(200);
    expect(await gauge(app)).toBe(3);
  });
});
