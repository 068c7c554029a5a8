/**
 * Shared pieces of the money benchmarks (pledges, hot-mission): funded
 * viewers and accepted missions created through the public API, pledge load
 * with its bookkeeping, and pgbench on the very PostgreSQL the server uses.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { withCpu } from './cpu.ts';
import {
  assertLoopback,
  runLoad,
  type ExpectedRefusal,
  type LoadRequest,
  type LoadResult,
} from './load.ts';
import { runTool } from './processes.ts';
import { accessTokens, pool, registerUsers } from './users.ts';

/** KRW per pledge: the channel's minimum, so a wallet lasts a thousand pledges. */
export const PLEDGE_KRW = 1_000;
/** The most one charge may be (API.md). */
export const CHARGE_KRW = 1_000_000;
/**
 * Requests per second one round of pledges (or of its reference) may send:
 * a bound far above what two cores serve (pgbench's tpcb-like peaks near
 * 5,500/s here), so the bound never decides a figure.
 */
export const MAX_PLEDGES_PER_SECOND = 20_000;
/** What a pledge from an empty wallet is answered (API.md). */
export const NO_CASH: ExpectedRefusal = { status: 402, code: 'INSUFFICIENT_FUNDS' };

interface Answer {
  status: number;
  json: unknown;
}

/** One JSON call to the API, as `token`'s user. */
export async function call(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PUT',
  urlPath: string,
  token?: string,
  body?: unknown,
): Promise<Answer> {
  assertLoopback(baseUrl);
  const res = await fetch(`${baseUrl}${urlPath}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function expect(what: string, answer: Promise<Answer>, status: number): Promise<unknown> {
  const a = await answer;
  if (a.status !== status)
    throw new Error(`${what}: expected ${status}, got ${a.status} ${JSON.stringify(a.json)}`);
  return a.json;
}

export interface MoneyFixture {
  baseUrl: string;
  /** Access tokens of the viewers (≤ 15 min: one scenario's lifetime). */
  viewers: string[];
  /** Access tokens of viewers who are never charged (their pledges are refused: 402). */
  unfunded: string[];
  ownerToken: string;
  handle: string;
  /** ACTIVE missions, each proposed by a viewer (1,000 KRW) and accepted by the owner. */
  missionIds: string[];
  /** KRW each viewer was charged in all. */
  chargedEach: number;
  /** Pledges the benchmark has had accepted so far (for the recharge estimate). */
  pledgesAccepted: number;
  /** Proposals each viewer made (1,000 KRW each). */
  proposalsEach: number;
}

/**
 * Registers `viewers` users plus a streamer, charges every viewer
 * 1,000,000 KRW, creates a channel (missionMinAmount 1000) and `missions`
 * missions that viewers propose and the streamer accepts. All through the API.
 * `unfunded` more viewers are registered and signed in but never charged.
 */
export async function fundedViewersAndMissions(
  baseUrl: string,
  opts: {
    viewers: number;
    missions: number;
    log: (m: string) => void;
    concurrency?: number;
    unfunded?: number;
  },
): Promise<MoneyFixture> {
  const c = opts.concurrency ?? 8;
  const t0 = Date.now();
  const users = await registerUsers(baseUrl, opts.viewers + (opts.unfunded ?? 0) + 1);
  const all = await accessTokens(baseUrl, users);
  const ownerToken = all.pop()!;
  const tokens = all.slice(0, opts.viewers);
  const unfunded = all.slice(opts.viewers);
  opts.log(`${users.length} users registered and signed in in ${Date.now() - t0} ms`);
  const handle = `bench_${Date.now().toString(36)}`;
  await expect(
    'create channel',
    call(baseUrl, 'POST', '/api/v1/channels', ownerToken, {
      handle,
      displayName: 'Bench channel',
      settings: { missionMinAmount: PLEDGE_KRW, missionMaxAmount: CHARGE_KRW },
    }),
    201,
  );
  const fixture: MoneyFixture = {
    baseUrl,
    viewers: tokens,
    unfunded,
    ownerToken,
    handle,
    missionIds: [],
    chargedEach: 0,
    pledgesAccepted: 0,
    proposalsEach: Math.ceil(opts.missions / opts.viewers),
  };
  await recharge(fixture, c);
  const t1 = Date.now();
  const indexes = Array.from({ length: opts.missions }, (_, i) => i);
  fixture.missionIds = await pool(indexes, c, async (i) => {
    const proposed = await expect(
      'propose mission',
      call(baseUrl, 'POST', `/api/v1/channels/${handle}/missions`, tokens[i % tokens.length], {
        title: `Bench mission ${i}`,
        amount: PLEDGE_KRW,
        durationSeconds: 3_600,
      }),
      201,
    );
    const id = (proposed as { mission: { id: string } }).mission.id;
    await expect(
      'accept mission',
      call(baseUrl, 'POST', `/api/v1/missions/${id}/accept`, ownerToken),
      200,
    );
    return id;
  });
  opts.log(`${opts.missions} missions proposed and accepted in ${Date.now() - t1} ms`);
  return fixture;
}

/** Charges every viewer another 1,000,000 KRW. */
export async function recharge(f: MoneyFixture, concurrency = 8): Promise<void> {
  await pool(f.viewers, concurrency, (token) =>
    expect(
      'charge',
      call(f.baseUrl, 'POST', '/api/v1/wallet/charges', token, { amount: CHARGE_KRW }),
      201,
    ),
  );
  f.chargedEach += CHARGE_KRW;
}

/**
 * Recharges the viewers when a round of up to `maxPledges` pledges could
 * exhaust a wallet. Pledges go round-robin over the viewers, so each one's
 * share is the total divided by their number, plus one for the rounding.
 */
export async function ensureFunds(f: MoneyFixture, maxPledges: number): Promise<boolean> {
  const perViewer = (n: number) => (Math.ceil(n / f.viewers.length) + 1) * PLEDGE_KRW;
  const spent = perViewer(f.pledgesAccepted) + f.proposalsEach * PLEDGE_KRW;
  if (f.chargedEach - spent >= perViewer(maxPledges)) return false;
  await recharge(f);
  return true;
}

/**
 * Sets the same daily and monthly pledge limit for every viewer, funded or
 * not (PUT /api/v1/me/limits; a first limit applies at once), and checks
 * that it did.
 */
export async function setSpendingLimits(
  f: MoneyFixture,
  limits: { dailyPledgeLimit: number; monthlyPledgeLimit: number },
  concurrency = 8,
): Promise<void> {
  await pool([...f.viewers, ...f.unfunded], concurrency, async (token) => {
    const set = (await expect(
      'set limits',
      call(f.baseUrl, 'PUT', '/api/v1/me/limits', token, limits),
      200,
    )) as { dailyPledgeLimit: number | null; monthlyPledgeLimit: number | null };
    if (
      set.dailyPledgeLimit !== limits.dailyPledgeLimit ||
      set.monthlyPledgeLimit !== limits.monthlyPledgeLimit
    )
      throw new Error(`set limits: not applied at once: ${JSON.stringify(set)}`);
  });
}

/** The wallets of the unfunded viewers that are not empty (each should hold nothing). */
export async function nonEmptyUnfundedWallets(
  f: MoneyFixture,
  concurrency = 8,
): Promise<{ available: number; held: number }[]> {
  const wallets = await pool(
    f.unfunded,
    concurrency,
    async (token) =>
      (await expect('wallet', call(f.baseUrl, 'GET', '/api/v1/wallet', token), 200)) as {
        available: number;
        held: number;
      },
  );
  return wallets
    .filter((w) => w.available !== 0 || w.held !== 0)
    .map(({ available, held }) => ({ available, held }));
}

/**
 * The pledge requests one round sends, in one shared rotation: request i is
 * the next funded viewer in turn (so pledges in flight are of distinct
 * viewers: each has its own wallet row) to a mission picked by a fixed
 * pseudo-random sequence over `missionIds` (one id: every pledge goes to it).
 * With `unfundedEvery: n`, every n-th request is instead from the next of
 * the fixture's unfunded viewers, marked to be refused (402
 * INSUFFICIENT_FUNDS, see NO_CASH).
 */
export function pledgeRequests(
  f: MoneyFixture,
  missionIds: string[],
  length = 4_000,
  opts: { unfundedEvery?: number } = {},
): LoadRequest[] {
  const every = opts.unfundedEvery ?? 0;
  if (every > 0 && f.unfunded.length === 0)
    throw new Error('unfundedEvery needs unfunded viewers in the fixture');
  const body = JSON.stringify({ amount: PLEDGE_KRW });
  let x = 12_345;
  let funded = 0;
  let unfunded = 0;
  return Array.from({ length }, (_, i) => {
    // Numerical Recipes LCG: the same sequence on every run.
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    const mission = missionIds[x % missionIds.length]!;
    const refused = every > 0 && (i + 1) % every === 0;
    const token = refused
      ? f.unfunded[unfunded++ % f.unfunded.length]
      : f.viewers[funded++ % f.viewers.length];
    return {
      method: 'POST' as const,
      path: `/api/v1/missions/${mission}/pledges`,
      headers: { authorization: `Bearer ${token}` },
      body,
      ...(refused ? { refused: true } : {}),
    };
  });
}

/** A fresh Idempotency-Key for every call: unique in the run, never a replay. */
export function freshIdempotencyKeys(): () => Record<string, string> {
  const run = randomUUID();
  let n = 0;
  return () => ({ 'idempotency-key': `bench-${run}-${++n}` });
}

/** Pledges per batch (missionlink_pledge_batch_size) by how the batch was written. */
export interface BatchCounts {
  together: { batches: number; pledges: number };
  oneByOne: { batches: number; pledges: number };
}

/**
 * The server's pledge batch histogram (its _count and _sum by `written`)
 * from GET /metrics; null when /metrics does not answer it.
 */
export async function readPledgeBatches(baseUrl: string): Promise<BatchCounts | null> {
  assertLoopback(baseUrl);
  let text: string;
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    text = await res.text();
    if (res.status !== 200) return null;
  } catch {
    return null;
  }
  const counts: BatchCounts = {
    together: { batches: 0, pledges: 0 },
    oneByOne: { batches: 0, pledges: 0 },
  };
  const re =
    /^missionlink_pledge_batch_size_(sum|count)\{written="(together|one_by_one)"\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const side = m[2] === 'together' ? counts.together : counts.oneByOne;
    side[m[1] === 'sum' ? 'pledges' : 'batches'] = Number(m[3]);
  }
  return counts;
}

/** What a round added to the batch histogram (null when either reading is missing). */
function batchDelta(a: BatchCounts | null, b: BatchCounts | null): BatchCounts | null {
  if (!a || !b) return null;
  const d = (x: { batches: number; pledges: number }, y: { batches: number; pledges: number }) => ({
    batches: y.batches - x.batches,
    pledges: y.pledges - x.pledges,
  });
  return { together: d(a.together, b.together), oneByOne: d(a.oneByOne, b.oneByOne) };
}

export type PledgeRound = LoadResult & {
  /**
   * CPU of the server process and its embedded PostgreSQL per answered
   * request: accepted pledges and expected refusals (only the former when
   * none are expected).
   */
  cpuUsPerOp: number | null;
  /** The part of it spent in the server's own (Node) process. */
  nodeCpuUsPerOp: number | null;
  recharged: boolean;
  /** Pledge batches the server wrote during the round (with `readBatches`; else null). */
  batches: BatchCounts | null;
};

export interface PledgeRoundOptions {
  /** Headers made per send, e.g. freshIdempotencyKeys(). */
  freshHeaders?: () => Record<string, string>;
  /** Read the batch histogram from /metrics before and after the round (outside its CPU count). */
  readBatches?: boolean;
}

/** CPU seconds of one process alone, without its children (Linux only). */
export function ownCpuSeconds(pid: number): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime(14), stime(15): fields 11 and 12 after "(comm)", USER_HZ = 100.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * One bounded round of pledges over HTTP, with the server tree's CPU per
 * answered request. Requests marked `refused` (pledgeRequests'
 * unfundedEvery) are expected to be answered 402 INSUFFICIENT_FUNDS.
 */
export async function pledgeRound(
  f: MoneyFixture,
  serverPid: number,
  requests: LoadRequest[],
  connections: number,
  seconds: number,
  opts: PledgeRoundOptions = {},
): Promise<PledgeRound> {
  // Wallets are charged for the bound, so they always last the round.
  const maxRequests = MAX_PLEDGES_PER_SECOND * seconds;
  const recharged = await ensureFunds(f, maxRequests);
  const batches0 = opts.readBatches ? await readPledgeBatches(f.baseUrl) : null;
  const node0 = ownCpuSeconds(serverPid);
  const { result, cpuSeconds } = await withCpu(serverPid, () =>
    runLoad({
      url: f.baseUrl,
      requests,
      rotation: 'shared',
      connections,
      seconds,
      maxRequests,
      ...(opts.freshHeaders ? { freshHeaders: opts.freshHeaders } : {}),
      ...(requests.some((r) => r.refused) ? { refusal: NO_CASH } : {}),
    }),
  );
  const node1 = ownCpuSeconds(serverPid);
  const batches1 = opts.readBatches ? await readPledgeBatches(f.baseUrl) : null;
  f.pledgesAccepted += result.ok;
  const answered = result.ok + (result.refusals?.answered ?? 0);
  const perOp = (s: number | null) => (s === null || answered === 0 ? null : (s * 1e6) / answered);
  return {
    ...result,
    cpuUsPerOp: perOp(cpuSeconds),
    nodeCpuUsPerOp: perOp(node0 === null || node1 === null ? null : node1 - node0),
    recharged,
    batches: batchDelta(batches0, batches1),
  };
}

// ---------------------------------------------------------------- pgbench

export interface ServerPostgres {
  host: '127.0.0.1';
  port: number;
  user: 'postgres';
  password: string;
  /** Superuser URL of the `postgres` database. */
  superUrl: string;
}

/**
 * The embedded PostgreSQL of a running server, from its DATA_DIR: the
 * superuser password is in secrets.json, the port on line 4 of postmaster.pid.
 */
export async function serverPostgres(dataDir: string): Promise<ServerPostgres> {
  const secrets = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as {
    postgresPassword: string;
  };
  const pid = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
  const port = Number(pid.split('\n')[3]);
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`no port in ${dataDir}/pg/postmaster.pid`);
  const password = secrets.postgresPassword;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    superUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
  };
}

export const PGBENCH_DB = 'pgbench_bench';

const pgbenchEnv = (p: ServerPostgres) => ({
  PGHOST: p.host,
  PGPORT: String(p.port),
  PGUSER: p.user,
  PGPASSWORD: p.password,
  PGDATABASE: PGBENCH_DB,
  PGSSLMODE: 'disable',
});

/**
 * Creates `pgbench_bench` afresh on the server's PostgreSQL (as its
 * superuser) and fills it with `pgbench -i -s <scale>`.
 */
export async function pgbenchInit(
  p: ServerPostgres,
  scale: number,
): Promise<{ ms: number; version: string }> {
  const version = await runTool('pgbench', ['--version'], {}, 10_000);
  if (version.code !== 0)
    throw new Error(
      `pgbench --version failed: ${version.stderr.trim()} (install PostgreSQL's client tools)`,
    );
  const admin = new pg.Client({ connectionString: p.superUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${PGBENCH_DB}`);
    await admin.query(`CREATE DATABASE ${PGBENCH_DB}`);
  } finally {
    await admin.end();
  }
  const r = await runTool('pgbench', ['-i', '-q', '-s', String(scale)], pgbenchEnv(p), 120_000);
  if (r.code !== 0) throw new Error(`pgbench -i failed (${r.code}): ${r.stderr.slice(-2_000)}`);
  return { ms: Math.round(r.ms), version: version.stdout.trim() };
}

export interface PgbenchRound {
  /** Transactions per second, without the initial connection time (pgbench's own figure). */
  perSecond: number;
  transactions: number;
  failed: number;
  latencyMsAvg: number | null;
  /** CPU of the server tree (its embedded PostgreSQL does the work) per transaction. */
  cpuUsPerOp: number | null;
  /** Share of a core pgbench itself used over the round. */
  generatorCpu: number | null;
  /** Wall time of the whole pgbench run (connections, its vacuum of the small tables, the timed part). */
  wallMs: number;
}

/** One `pgbench -c <clients> -j 2 -T <seconds> -M prepared` round of the built-in tpcb-like script. */
export async function pgbenchRound(
  p: ServerPostgres,
  serverPid: number,
  clients: number,
  seconds: number,
): Promise<PgbenchRound> {
  const args = [
    '-c',
    String(clients),
    '-j',
    '2',
    '-T',
    String(seconds),
    '-M',
    'prepared',
    '-b',
    'tpcb-like',
  ];
  const { result: r, cpuSeconds } = await withCpu(serverPid, () =>
    runTool('pgbench', args, pgbenchEnv(p), (seconds + 60) * 1_000),
  );
  if (r.code !== 0)
    throw new Error(`pgbench ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-2_000)}`);
  const num = (re: RegExp) => {
    const m = re.exec(r.stdout);
    return m ? Number(m[1]) : null;
  };
  const tps = num(/^tps = ([\d.]+) \(without initial connection time\)/m);
  const transactions = num(/^number of transactions actually processed: (\d+)/m);
  if (tps === null || transactions === null)
    throw new Error(`cannot read pgbench's output:\n${r.stdout}`);
  return {
    perSecond: tps,
    transactions,
    failed: num(/^number of failed transactions: (\d+)/m) ?? 0,
    latencyMsAvg: num(/^latency average = ([\d.]+) ms/m),
    cpuUsPerOp:
      cpuSeconds === null || transactions === 0 ? null : (cpuSeconds * 1e6) / transactions,
    generatorCpu: r.cpuSeconds === null ? null : Math.round((r.cpuSeconds / seconds) * 100) / 100,
    wallMs: Math.round(r.ms),
  };
}

// ------------------------------------------------------- HTTP + tpcb (reference)

/** The one route of bench/lib/http-tpcb-server.ts. */
export const HTTP_TPCB_ROUTE = '/bench/tpcb';

export interface HttpTpcbRound extends LoadResult {
  /** CPU of the reference process and of the server tree (its PostgreSQL did the work) per transaction. */
  cpuUsPerOp: number | null;
}

/** The superuser URL of the pgbench database, for the reference process. */
export const pgbenchUrl = (p: ServerPostgres) =>
  `postgres://postgres:${encodeURIComponent(p.password)}@${p.host}:${p.port}/${PGBENCH_DB}`;

/**
 * One round of `POST <route>` to bench/lib/http-tpcb-server.ts: HTTP around
 * one tpcb-like transaction, `connections` in flight.
 */
export async function httpTpcbRound(
  url: string,
  route: string,
  pids: { reference: number; server: number },
  connections: number,
  seconds: number,
): Promise<HttpTpcbRound> {
  const { result, cpuSeconds } = await withCpu([pids.reference, pids.server], () =>
    runLoad({
      url,
      requests: [{ method: 'POST', path: route, body: '{}' }],
      connections,
      seconds,
      maxRequests: MAX_PLEDGES_PER_SECOND * seconds,
    }),
  );
  return {
    ...result,
    cpuUsPerOp: cpuSeconds === null || result.ok === 0 ? null : (cpuSeconds * 1e6) / result.ok,
  };
}
