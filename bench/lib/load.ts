/**
 * HTTP load with autocannon, from the benchmark runner's process (never the
 * server's), to loopback addresses only, bounded in time and in count.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Base URL of the target; must be on 127.0.0.1. */
  url: string;
  /**
   * The requests to send. By default every connection cycles through all of
   * them from the first; with `rotation: 'shared'` the connections take turns
   * in one rotation, so requests in flight at the same time are distinct
   * (e.g. logins of different accounts) at the cost of building each request.
   */
  requests: LoadRequest[];
  rotation?: 'per-connection' | 'shared';
  connections: number;
  seconds: number;
  /** Hard cap on requests, on top of the time limit. */
  maxRequests?: number;
}

export interface LoadResult {
  /** 2xx responses per second over the round. */
  perSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  latencyMs: { p50: number; p99: number; max: number };
  statusCodes: Record<string, number>;
  /** Share of one core the load generator itself used (near 1: it may be the bottleneck). */
  generatorCpu: number;
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`benchmarks only send load to this machine's loopback, not ${host}`);
  }
}

function toRequest(r: LoadRequest): autocannon.Request {
  return {
    method: r.method,
    path: r.path,
    headers: {
      ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...r.headers,
    },
    ...(r.body !== undefined ? { body: r.body } : {}),
  };
}

/** One request template that becomes the next of `list` each time it is sent, whichever connection sends it. */
function sharedRotation(list: LoadRequest[]): autocannon.Request {
  const built = list.map(toRequest);
  let next = 0;
  return {
    setupRequest: (req) => {
      const r = built[next++ % built.length]!;
      return { ...req, ...r, headers: { ...req.headers, ...r.headers } };
    },
  };
}

/**
 * Runs one bounded round of load and summarises it.
 * @example await runLoad({ url, requests: [{ method: 'GET', path: '/healthz' }], connections: 50, seconds: 5 })
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  assertLoopback(opts.url);
  if (!Number.isInteger(opts.seconds) || opts.seconds < 1)
    throw new Error('seconds must be a whole number ≥ 1');
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    // About 4x what this machine can serve of the cheapest route: a safety
    // bound, not expected to bite.
    maxOverallRequests: opts.maxRequests ?? 200_000 * opts.seconds,
    pipelining: 1,
    timeout: 10,
    requests:
      opts.rotation === 'shared' ? [sharedRotation(opts.requests)] : opts.requests.map(toRequest),
  });
  const cpu = process.cpuUsage(cpu0);
  const ok = result['2xx'];
  const statusCodes = Object.fromEntries(
    Object.entries(
      (result as unknown as { statusCodeStats: Record<string, { count: number }> })
        .statusCodeStats ?? {},
    ).map(([code, s]) => [code, s.count]),
  );
  return {
    perSecond: result.duration > 0 ? ok / result.duration : 0,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    statusCodes,
    generatorCpu:
      result.duration > 0
        ? Math.round(((cpu.user + cpu.system) / 1e6 / result.duration) * 100) / 100
        : 0,
  };
}

/** True when a round saw only successful answers. */
export function clean(r: LoadResult): boolean {
  return r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.ok > 0;
}
