/**
 * A child process holding many SSE connections for the `sse-fanout`
 * benchmark (forked with an IPC channel; see bench/scenarios/sse-fanout.ts).
 *
 * Requests (one answer each):
 * - `{ cmd: 'connect', url, count, parallel }` opens `count` streams to `url`
 *   (loopback only), `parallel` at a time, each on its own socket; answers
 *   `{ connected, failed, errors, ms, fdLimit }`.
 * - `{ cmd: 'collect' }` answers `{ arrivals, streams, closed }`: per pledge id,
 *   the epoch milliseconds (sub-ms precision) at which each stream received
 *   its `pledge` event.
 * - `{ cmd: 'close' }` closes every stream and exits.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { assertLoopback } from './load.ts';

interface Connect {
  cmd: 'connect';
  url: string;
  count: number;
  parallel: number;
  /** Which block of loopback addresses this process takes (see nextLocalAddress). */
  addressBlock?: number;
}
type Request = Connect | { cmd: 'collect' } | { cmd: 'close' };

const now = () => performance.timeOrigin + performance.now();
const streams: http.ClientRequest[] = [];
const arrivals = new Map<string, number[]>();
let closed = 0;

/** The soft limit on open files of this process (null off Linux). */
function fdLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}

/** Records the arrival of each `pledge` event; everything else is skipped unparsed. */
function onStream(res: http.IncomingMessage): void {
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    const at = now();
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.includes('\nevent: pledge\n')) continue;
      const data = block.slice(block.indexOf('\ndata: ') + 7);
      const pledgeId = (JSON.parse(data) as { pledgeId?: string }).pledgeId;
      if (!pledgeId) continue;
      let list = arrivals.get(pledgeId);
      if (!list) arrivals.set(pledgeId, (list = []));
      list.push(at);
    }
  });
  res.on('close', () => closed++);
}

/**
 * The server admits at most 50 streams per client address (API.md 1.1), so
 * the simulated viewers come from many loopback addresses, 40 streams each:
 * all of 127.0.0.0/8 reaches a server listening on 127.0.0.1.
 */
const STREAMS_PER_ADDRESS = 40;
let opened = 0;
let block = 0;
/** 127.0.<block>.<2…251>: 250 addresses, 10,000 streams per client process. */
function nextLocalAddress(): string {
  const n = block * 250 + 1 + Math.floor(opened++ / STREAMS_PER_ADDRESS);
  return `127.0.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

function open(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, localAddress: nextLocalAddress(), headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`status ${res.statusCode}`));
        return;
      }
      onStream(res);
      resolve();
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('connect timeout')));
    streams.push(req);
  });
}

async function connect(m: Connect) {
  assertLoopback(m.url);
  block = m.addressBlock ?? block;
  const t0 = now();
  let next = 0;
  let connected = 0;
  const errors = new Map<string, number>();
  await Promise.all(
    Array.from({ length: Math.min(m.parallel, m.count) }, async () => {
      while (next < m.count) {
        next++;
        try {
          await open(m.url);
          connected++;
        } catch (err) {
          const key = (err as Error).message;
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  return {
    connected,
    failed: m.count - connected,
    errors: Object.fromEntries(errors),
    ms: Math.round(now() - t0),
    fdLimit: fdLimit(),
  };
}

process.on('message', (msg: Request) => {
  const reply = (answer: object) => process.send!(answer);
  const fail = (err: unknown) => reply({ error: (err as Error).stack ?? String(err) });
  if (msg.cmd === 'connect') connect(msg).then(reply, fail);
  else if (msg.cmd === 'collect')
    reply({ arrivals: Object.fromEntries(arrivals), streams: streams.length, closed });
  else if (msg.cmd === 'close') {
    for (const s of streams) s.destroy();
    reply({ ok: true });
    setTimeout(() => process.exit(0), 50);
  }
});
// The runner went away: do not linger with thousands of sockets.
process.on('disconnect', () => process.exit(0));
