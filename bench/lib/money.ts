/**
 * Shared pieces of the money benchmarks (pledges, hot-mission): funded
 * viewers and accepted missions created through the public API, pledge load
 * with its bookkeeping, and pgbench on the very PostgreSQL the server uses.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { withCpu } from './cpu.ts';
import { assertLoopback, runLoad, type LoadRequest, type LoadResult } from './load.ts';
import { runTool } from './processes.ts';
import { accessTokens, pool, registerUsers } from './users.ts';

/** KRW per pledge: the channel's minimum, so a wallet lasts a thousand pledges. */
export const PLEDGE_KRW = 1_000;
/** The most one charge may be (API.md). */
export const CHARGE_KRW = 1_000_000;

interface Answer {
  status: number;
  json: unknown;
}

/** One JSON call to the API, as `token`'s user. */
export async function call(
  baseUrl: string,
  method: 'GET' | 'POST',
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
 */
export async function fundedViewersAndMissions(
  baseUrl: string,
  opts: { viewers: number; missions: number; log: (m: string) => void; concurrency?: number },
): Promise<MoneyFixture> {
  const c = opts.concurrency ?? 8;
  const t0 = Date.now();
  const users = await registerUsers(baseUrl, opts.viewers + 1);
  const tokens = await accessTokens(baseUrl, users);
  const ownerToken = tokens.pop()!;
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
 * The pledge requests one round sends, in one shared rotation: request i is
 * viewer i mod V (so pledges in flight are of distinct viewers: each has its
 * own wallet row) to a mission picked by a fixed pseudo-random sequence over
 * `missionIds` (one id: every pledge goes to it).
 */
export function pledgeRequests(
  f: MoneyFixture,
  missionIds: string[],
  length = 4_000,
): LoadRequest[] {
  const body = JSON.stringify({ amount: PLEDGE_KRW });
  let x = 12_345;
  return Array.from({ length }, (_, i) => {
    // Numerical Recipes LCG: the same sequence on every run.
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    const mission = missionIds[x % missionIds.length]!;
    return {
      method: 'POST' as const,
      path: `/api/v1/missions/${mission}/pledges`,
      headers: { authorization: `Bearer ${f.viewers[i % f.viewers.length]}` },
      body,
    };
  });
}

export type PledgeRound = LoadResult & {
  /** CPU of the server process and its embedded PostgreSQL per accepted pledge. */
  cpuUsPerOp: number | null;
  /** The part of it spent in the server's own (Node) process. */
  nodeCpuUsPerOp: number | null;
  recharged: boolean;
};

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

/** One bounded round of pledges over HTTP, with the server tree's CPU per pledge. */
export async function pledgeRound(
  f: MoneyFixture,
  serverPid: number,
  requests: LoadRequest[],
  connections: number,
  seconds: number,
): Promise<PledgeRound> {
  // A bound far above what two cores can serve, so wallets always last the round.
  const maxRequests = 4_000 * seconds;
  const recharged = await ensureFunds(f, maxRequests);
  const node0 = ownCpuSeconds(serverPid);
  const { result, cpuSeconds } = await withCpu(serverPid, () =>
    runLoad({ url: f.baseUrl, requests, rotation: 'shared', connections, seconds, maxRequests }),
  );
  const node1 = ownCpuSeconds(serverPid);
  f.pledgesAccepted += result.ok;
  const perOp = (s: number | null) =>
    s === null || result.ok === 0 ? null : (s * 1e6) / result.ok;
  return {
    ...result,
    cpuUsPerOp: perOp(cpuSeconds),
    nodeCpuUsPerOp: perOp(node0 === null || node1 === null ? null : node1 - node0),
    recharged,
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
      maxRequests: 4_000 * seconds,
    }),
  );
  return {
    ...result,
    cpuUsPerOp: cpuSeconds === null || result.ok === 0 ? null : (cpuSeconds * 1e6) / result.ok,
  };
}
