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
  /**
   * The request is expected to be refused with the round's `refusal` (e.g. a
   * pledge from an empty wallet): such answers are counted apart, not as
   * failures. Only with `rotation: 'shared'`.
   */
  refused?: boolean;
}

/** The refusal some requests of a round are meant to get: its status and problem+json code. */
export interface ExpectedRefusal {
  status: number;
  code: string;
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
  /**
   * Headers made afresh for every send (e.g. a unique Idempotency-Key, so
   * that no send is a replay). Only with `rotation: 'shared'`.
   */
  freshHeaders?: () => Record<string, string>;
  /** What the requests marked `refused` are answered (see LoadRequest.refused). */
  refusal?: ExpectedRefusal;
}

/** How the requests meant to be refused fared in one round. */
export interface RefusalCount extends ExpectedRefusal {
  /** Requests marked `refused` that were sent. */
  sent: number;
  /** Answers with the expected status and code. */
  answered: number;
  /** Answers with the expected status but another code (unexpected). */
  otherCode: number;
  /**
   * True when the expected refusals match what was sent: no more than were
   * sent, and at most one per connection (still in flight when the round
   * ended) or per timeout fewer. False means a request not meant to be
   * refused was, or one meant to be refused was not.
   */
  consistent: boolean;
}

export interface LoadResult {
  /** 2xx responses per second over the round. */
  perSecond: number;
  /** 2xx responses plus expected refusals per second (= perSecond when none are expected). */
  answeredPerSecond: number;
  ok: number;
  /** The expected refusals (null when the round expected none). */
  refusals: RefusalCount | null;
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

interface Tally {
  sent: number;
  answered: number;
  otherCode: number;
}

/** The problem+json `code` of an answer body, if it has one. */
function codeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One request template that becomes the next of `list` each time it is
 * sent, whichever connection sends it (autocannon builds a request once per
 * send: setupRequest runs once for each). `fresh` headers are made per send;
 * `tally` counts the sends of requests marked `refused` and the answers with
 * the expected refusal's status, by code.
 */
function sharedRotation(
  list: LoadRequest[],
  fresh: (() => Record<string, string>) | undefined,
  refusal: ExpectedRefusal | undefined,
  tally: Tally,
): autocannon.Request {
  const built = list.map(toRequest);
  const refused = list.map((r) => r.refused === true);
  let next = 0;
  return {
    setupRequest: (req) => {
      const i = next++ % built.length;
      const r = built[i]!;
      if (refused[i]) tally.sent++;
      return { ...req, ...r, headers: { ...req.headers, ...r.headers, ...fresh?.() } };
    },
    ...(refusal
      ? {
          onResponse: (status: number, body: string) => {
            if (status !== refusal.status) return;
            if (codeOf(body) === refusal.code) tally.answered++;
            else tally.otherCode++;
          },
        }
      : {}),
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
  const shared = opts.rotation === 'shared';
  if (!shared && (opts.freshHeaders || opts.refusal || opts.requests.some((r) => r.refused)))
    throw new Error("freshHeaders, refusal and refused requests need rotation: 'shared'");
  if (opts.requests.some((r) => r.refused) && !opts.refusal)
    throw new Error('requests marked refused need the refusal they expect');
  const tally: Tally = { sent: 0, answered: 0, otherCode: 0 };
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
    requests: shared
      ? [sharedRotation(opts.requests, opts.freshHeaders, opts.refusal, tally)]
      : opts.requests.map(toRequest),
  });
  const cpu = process.cpuUsage(cpu0);
  const ok = result['2xx'];
  const statusCodes = Object.fromEntries(
    Object.entries(
      (result as unknown as { statusCodeStats: Record<string, { count: number }> })
        .statusCodeStats ?? {},
    ).map(([code, s]) => [code, s.count]),
  );
  const answered = ok + (opts.refusal ? tally.answered : 0);
  const refusals: RefusalCount | null = opts.refusal
    ? {
        ...opts.refusal,
        ...tally,
        consistent:
          tally.answered <= tally.sent &&
          tally.sent - tally.answered <= opts.connections + result.timeouts,
      }
    : null;
  return {
    perSecond: result.duration > 0 ? ok / result.duration : 0,
    answeredPerSecond: result.duration > 0 ? answered / result.duration : 0,
    ok,
    refusals,
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

/**
 * True when a round saw only successful answers, besides the refusals it
 * expected (each with its code, as many as were meant to be refused).
 */
export function clean(r: LoadResult): boolean {
  const refused = r.refusals ? r.refusals.answered : 0;
  return (
    r.non2xx === refused &&
    r.errors === 0 &&
    r.timeouts === 0 &&
    r.ok > 0 &&
    (r.refusals === null || (r.refusals.otherCode === 0 && r.refusals.consistent))
  );
}
