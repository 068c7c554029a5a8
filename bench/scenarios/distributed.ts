/**
 * Pledge throughput of the distributed mode (two api processes and separate
 * settlement, notifier and sweeper processes on an external PostgreSQL and a
 * NATS JetStream of the run's own) against one embedded process
 * (`missionlink start`: every role, in-process bus, embedded PostgreSQL), in
 * the same run on the same machine. While the pledges pour in, missions are
 * decided at a steady pace and the settlement lag (decision → settledAt) is
 * measured on both sides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { newPrivateJwk } from '../../src/identity/keys.ts';
import { natsServerBinary } from '../../test/support/nats.ts';
import { createOwnDatabases, type OwnDatabases } from '../../test/support/own-postgres.ts';
import { cpuSeconds } from '../lib/cpu.ts';
import { clean, runLoad, type LoadRequest, type LoadResult } from '../lib/load.ts';
import { freePort, startServer, type ServerUnderTest } from '../lib/processes.ts';
import {
  alternate,
  median,
  noiseOf,
  round,
  type Measurement,
  type Scenario,
  type ScenarioContext,
} from '../lib/scenario.ts';
import { accessTokens, registerUsers } from '../lib/users.ts';

const USERS = 64;
const LOAD_MISSIONS = 8;
/** HTTP connections per side; the distributed side splits them over its two api processes. */
const CONNECTIONS = 16;
const DECISIONS_PER_SECOND = 3;
const PLEDGES_PER_LAG_MISSION = 10;
const CHANNEL = 'bench_channel';
/** Longest wait for a round's events to reach their consumers. */
const DRAIN_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(base: string, method: string, urlPath: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are arbitrary JSON
  const json: any = text ? JSON.parse(text) : undefined;
  return { status: res.status, json };
}

async function must(
  base: string,
  method: string,
  urlPath: string,
  status: number,
  token?: string,
  body?: unknown,
) {
  const r = await call(base, method, urlPath, token, body);
  if (r.status !== status)
    throw new Error(`${method} ${urlPath}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function each<T>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** One way of running MissionLink: its api base URLs and the processes whose CPU it spends. */
interface Side {
  apis: string[];
  /** True when every committed event has been handed to every consumer (outbox empty, no consumer lag). */
  drained(): Promise<boolean>;
  /** CPU seconds spent so far by everything that serves this side. */
  cpu(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

interface Prepared {
  requests: LoadRequest[];
  lagMissions: { id: string; owner: string }[];
}

/** Users, a channel, funded wallets, open missions to pledge on, and missions to decide under load. */
async function prepare(side: Side, lagMissionCount: number): Promise<Prepared> {
  const base = side.apis[0]!;
  const [streamerAccount, ...accounts] = await registerUsers(base, USERS + 1);
  const [streamer, ...tokens] = await accessTokens(base, [streamerAccount!, ...accounts]);
  await must(base, 'POST', '/api/v1/channels', 201, streamer, {
    handle: CHANNEL,
    displayName: 'Bench channel',
  });
  await each(
    tokens,
    8,
    async (t) =>
      void (await must(base, 'POST', '/api/v1/wallet/charges', 201, t, { amount: 1_000_000 })),
  );
  const missions: string[] = [];
  await each([...Array(LOAD_MISSIONS + lagMissionCount).keys()], 8, async (_, i) => {
    const m = await must(
      base,
      'POST',
      `/api/v1/channels/${CHANNEL}/missions`,
      201,
      tokens[i % USERS],
      { title: `Bench mission ${i}`, amount: 1000, durationSeconds: 604_800 },
    );
    await must(base, 'POST', `/api/v1/missions/${m.mission.id}/accept`, 200, streamer);
    missions[i] = m.mission.id;
  });
  const lag = missions.slice(LOAD_MISSIONS);
  // Each mission to decide gets a few more backers, so settlement has pledges to move.
  await each(lag, 8, async (id, i) => {
    for (let k = 1; k < PLEDGES_PER_LAG_MISSION; k++)
      await must(base, 'POST', `/api/v1/missions/${id}/pledges`, 201, tokens[(i + k) % USERS], {
        amount: 1000,
      });
  });
  const requests: LoadRequest[] = tokens.map((t, i) => ({
    method: 'POST',
    path: `/api/v1/missions/${missions[i % LOAD_MISSIONS]}/pledges`,
    headers: { authorization: `Bearer ${t}` },
    body: JSON.stringify({ amount: 1000 }),
  }));
  return { requests, lagMissions: lag.map((id) => ({ id, owner: streamer! })) };
}

interface Round extends LoadResult {
  /** Pledges answered 201 per second of load (perSecond also counts the time to drain their events). */
  acceptedPerSecond: number;
  /** Seconds after the load until every event of the round had reached every consumer. */
  drainSeconds: number;
  /** Events committed but not yet handed to the bus when the load stopped (missionlink_outbox_pending). */
  outboxBacklog: number | null;
  cpuMsPerPledge: number | null;
  /** CPU per pledge of each kind of process (api, worker, nats, pg; embedded: the one process tree). */
  cpuMsPerPledgeByPart: Record<string, number | null>;
  /**
   * Cores the external PostgreSQL's backends of this side used: they are not
   * children of the runner, so the runner's noise figure counts them as
   * "other processes".
   */
  externalPostgresCores: number;
}

/** The value of a metric (summed over its label sets) in a /metrics text, or null. */
function metric(text: string, name: string, labels = ''): number | null {
  const re = new RegExp(`^${name}(\\{${labels}[^}]*\\})? (\\S+)$`, 'gm');
  let sum: number | null = null;
  for (const m of text.matchAll(re)) sum = (sum ?? 0) + Number(m[2]);
  return sum;
}

async function metricsOf(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}

/**
 * One round: pledge load on every api of the side at once (connections split
 * evenly) with decisions at a steady pace, then the wait until the round's
 * events have reached every consumer. `perSecond` counts that wait: it is the
 * rate the side sustains, not only the rate it answers 201.
 */
async function measure(
  side: Side,
  prepared: Prepared,
  seconds: number,
  decide: boolean,
  decided: { id: string; decidedAt: number }[],
): Promise<Round> {
  const cpu0 = await side.cpu();
  const per = Math.max(1, Math.floor(CONNECTIONS / side.apis.length));
  let stop = false;
  const decider = (async () => {
    if (!decide) return;
    for (let i = 0; !stop; i++) {
      const m = prepared.lagMissions.shift();
      if (!m) return;
      const base = side.apis[i % side.apis.length]!;
      const r = await call(base, 'POST', `/api/v1/missions/${m.id}/decision`, m.owner, {
        outcome: i % 2 ? 'FAILED' : 'SUCCEEDED',
      });
      if (r.status === 200)
        decided.push({ id: m.id, decidedAt: Date.parse(r.json.mission.decidedAt) });
      await sleep(1000 / DECISIONS_PER_SECOND);
    }
  })();
  const results = await Promise.all(
    side.apis.map((url) =>
      runLoad({
        url,
        requests: prepared.requests,
        rotation: 'shared',
        connections: per,
        seconds,
        maxRequests: 5_000 * seconds,
      }),
    ),
  );
  stop = true;
  await decider;
  const loadSeconds = Math.max(...results.map((r) => r.seconds));
  const backlog = metric(await metricsOf(side.apis[0]!), 'missionlink_outbox_pending');
  const drainStart = Date.now();
  while (!(await side.drained()) && Date.now() - drainStart < DRAIN_TIMEOUT_MS) await sleep(200);
  const drainSeconds = (Date.now() - drainStart) / 1000;
  const cpu1 = await side.cpu();
  let cpuUsed = 0;
  const byPart: Record<string, number> = {};
  for (const [k, v] of cpu1) {
    const used = v - (cpu0.get(k) ?? 0);
    cpuUsed += used;
    const part = k.split(':')[0]!;
    byPart[part] = (byPart[part] ?? 0) + used;
  }
  const sum = (f: (r: LoadResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const statusCodes: Record<string, number> = {};
  for (const r of results)
    for (const [code, n] of Object.entries(r.statusCodes))
      statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const ok = sum((r) => r.ok);
  return {
    perSecond: ok / (loadSeconds + drainSeconds),
    answeredPerSecond: ok / (loadSeconds + drainSeconds),
    refusals: null,
    acceptedPerSecond: sum((r) => r.perSecond),
    drainSeconds: round(drainSeconds, 2),
    ok,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    seconds: loadSeconds,
    latencyMs: {
      p50: Math.max(...results.map((r) => r.latencyMs.p50)),
      p99: Math.max(...results.map((r) => r.latencyMs.p99)),
      max: Math.max(...results.map((r) => r.latencyMs.max)),
    },
    statusCodes,
    // Generators share this process: its CPU is counted once per round, not per api.
    generatorCpu: Math.max(...results.map((r) => r.generatorCpu)),
    outboxBacklog: backlog,
    cpuMsPerPledge: ok > 0 ? round((cpuUsed * 1000) / ok, 3) : null,
    cpuMsPerPledgeByPart: Object.fromEntries(
      Object.entries(byPart).map(([k, v]) => [k, ok > 0 ? round((v * 1000) / ok, 3) : null]),
    ),
    externalPostgresCores: round((byPart.pg ?? 0) / (loadSeconds + drainSeconds), 2),
  };
}

/** Waits until every decided mission has settledAt; returns the lags in seconds, sorted. */
async function settlementLags(
  base: string,
  decided: { id: string; decidedAt: number }[],
  timeoutMs: number,
): Promise<{ lags: number[]; unsettled: number }> {
  const lags: number[] = [];
  const deadline = Date.now() + timeoutMs;
  let pending = [...decided];
  while (pending.length && Date.now() < deadline) {
    const still: typeof pending = [];
    for (const d of pending) {
      const { mission } = await must(base, 'GET', `/api/v1/missions/${d.id}`, 200);
      if (mission.settledAt) lags.push((Date.parse(mission.settledAt) - d.decidedAt) / 1000);
      else still.push(d);
    }
    pending = still;
    if (pending.length) await sleep(250);
  }
  return { lags: lags.sort((a, b) => a - b), unsettled: pending.length };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
    : Number.NaN;

/** A nats-server with JetStream of this run's own (free port, temporary store). */
async function startNats(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const bin = natsServerBinary();
  if (!bin) throw new Error('nats-server not found (Debian package nats-server)');
  const port = await freePort();
  const store = await mkdtemp(path.join(os.tmpdir(), 'missionlink-bench-nats-'));
  const child: ChildProcess = spawn(
    bin,
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`nats-server did not start: ${out}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Server is ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`nats-server exited ${code}: ${out}`)));
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        kill();
      }
      process.off('exit', kill);
      await rm(store, { recursive: true, force: true });
    },
  };
}

/** CPU seconds of the PostgreSQL backends serving `databases` (their pids, from pg_stat_activity). */
async function backendCpu(admin: pg.Pool, databases: string[]): Promise<Map<string, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()',
    [databases],
  );
  const out = new Map<string, number>();
  for (const r of rows) {
    const s = cpuSeconds(r.pid);
    if (s !== null) out.set(`pg:${r.pid}`, s);
  }
  return out;
}

async function startDistributed(
  ctx: ScenarioContext,
  started: ServerUnderTest[],
): Promise<{ side: Side; db: OwnDatabases; nats: Awaited<ReturnType<typeof startNats>> }> {
  const nats = await startNats();
  let db: OwnDatabases | undefined;
  try {
    db = await createOwnDatabases({ prefix: 'ml_bench', migrate: true, log: ctx.log });
    ctx.log(
      `distributed: PostgreSQL ${db.source === 'admin-url' ? `at ${new URL(db.adminUrl).host}` : `(${db.source})`}, NATS at ${nats.url}`,
    );
    const common = {
      DATABASE_URL_FUNDING: db.urls.funding,
      NATS_URL: nats.url,
      SIGNING_KEYS: JSON.stringify([await newPrivateJwk()]),
      PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('base64url'),
    };
    const api = { ...common, DATABASE_URL_IDENTITY: db.urls.identity, ROLES: 'api' };
    const [api1, api2] = await Promise.all([startServer(api), startServer(api)]);
    started.push(api1!, api2!);
    const workers = await Promise.all([
      startServer({ ...common, ROLES: 'settlement' }),
      startServer({ ...common, ROLES: 'notifier', IDENTITY_URL: api1!.url }),
      startServer({ ...common, ROLES: 'sweeper' }),
    ]);
    started.push(...workers);
    const processes = [api1!, api2!, ...workers];
    const admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 });
    const names = [db.names.identity, db.names.funding];
    const [settlementWorker, notifierWorker] = workers;
    const side: Side = {
      apis: [api1!.url, api2!.url],
      // Nothing left in the outbox, and no JetStream consumer behind.
      async drained() {
        const [a, s, n] = await Promise.all(
          [api1!, settlementWorker!, notifierWorker!].map((p) => metricsOf(p.url)),
        );
        return (
          metric(a!, 'missionlink_outbox_pending') === 0 &&
          [a, s, n].every((t) => metric(t!, 'missionlink_bus_consumer_lag') === 0)
        );
      },
      async cpu() {
        const m = await backendCpu(admin, names);
        for (const p of [api1!, api2!]) m.set(`api:${p.pid}`, cpuSeconds(p.pid) ?? 0);
        for (const p of workers) m.set(`worker:${p.pid}`, cpuSeconds(p.pid) ?? 0);
        m.set('nats', cpuSeconds(nats.pid) ?? 0);
        return m;
      },
      async stop() {
        await Promise.all(processes.map((p) => p.stop()));
        await admin.end();
      },
    };
    return { side, db, nats };
  } catch (err) {
    await db?.drop().catch(() => undefined);
    await nats.stop();
    throw err;
  }
}

export const scenario: Scenario = {
  name: 'distributed',
  description:
    'sustained pledges per second: 2 api processes + separate workers on an external PostgreSQL and NATS vs one embedded process; settlement lag under that load',
  target: 0.5,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    const started: ServerUnderTest[] = [];
    let distributed: Awaited<ReturnType<typeof startDistributed>> | undefined;
    let embeddedServer: ServerUnderTest | undefined;
    try {
      ctx.log('starting one embedded process and the distributed processes');
      const [emb, dist] = await Promise.all([startServer(), startDistributed(ctx, started)]);
      embeddedServer = emb;
      distributed = dist;
      const embedded: Side = {
        apis: [emb.url],
        // The in-process bus: an empty outbox means every consumer has had every event.
        drained: async () => metric(await metricsOf(emb.url), 'missionlink_outbox_pending') === 0,
        async cpu() {
          return new Map([['embedded', cpuSeconds(emb.pid) ?? 0]]);
        },
        stop: () => emb.stop(),
      };
      const lagCount =
        ctx.timing.rounds * Math.ceil(ctx.timing.roundSeconds * DECISIONS_PER_SECOND) + 2;
      ctx.log(
        `preparing ${USERS} funded users, ${LOAD_MISSIONS} missions to pledge on and ${lagCount} to decide, on each side`,
      );
      const [prepEmbedded, prepDistributed] = await Promise.all([
        prepare(embedded, lagCount),
        prepare(distributed.side, lagCount),
      ]);

      const decided = {
        distributed: [] as { id: string; decidedAt: number }[],
        embedded: [] as { id: string; decidedAt: number }[],
      };
      const warm = {
        distributed: ctx.timing.warmupSeconds > 0,
        embedded: ctx.timing.warmupSeconds > 0,
      };
      const sideOf =
        (name: 'distributed' | 'embedded', side: Side, prep: Prepared) =>
        async (seconds: number) => {
          const decide = !warm[name];
          warm[name] = false;
          const r = await measure(side, prep, seconds, decide, decided[name]);
          ctx.log(
            `  ${name}: ${round(r.acceptedPerSecond)} pledges/s answered; ${r.outboxBacklog} events waiting in the outbox, drained in ${r.drainSeconds} s; ${r.cpuMsPerPledge} ms CPU per pledge`,
          );
          return r;
        };
      const rounds = await alternate<Round>(
        ctx,
        'distributed',
        sideOf('distributed', distributed.side, prepDistributed),
        'embedded',
        sideOf('embedded', embedded, prepEmbedded),
      );
      ctx.log('waiting for the decided missions to settle');
      const [lagD, lagE] = await Promise.all([
        settlementLags(distributed.side.apis[0]!, decided.distributed, 60_000),
        settlementLags(emb.url, decided.embedded, 60_000),
      ]);
      const lagSummary = (l: { lags: number[]; unsettled: number }) => ({
        p50: round(quantile(l.lags, 0.5), 3),
        p99: round(quantile(l.lags, 0.99), 3),
        max: round(l.lags[l.lags.length - 1] ?? Number.NaN, 3),
        missions: l.lags.length,
        unsettled: l.unsettled,
      });
      const { a: dRounds, b: eRounds } = rounds;
      const problems = [
        ...[...dRounds, ...eRounds]
          .filter((r) => !clean(r))
          .map(
            (r) =>
              `round not clean: ${JSON.stringify({ statusCodes: r.statusCodes, errors: r.errors, timeouts: r.timeouts })}`,
          ),
        ...(lagD.unsettled
          ? [`${lagD.unsettled} distributed missions not settled within 60 s`]
          : []),
        ...(lagE.unsettled ? [`${lagE.unsettled} embedded missions not settled within 60 s`] : []),
        ...[...dRounds, ...eRounds]
          .filter((r) => r.drainSeconds * 1000 >= DRAIN_TIMEOUT_MS)
          .map(() => `a round's events did not drain within ${DRAIN_TIMEOUT_MS / 1000} s`),
      ];
      const cpu = (rs: Round[]) =>
        rs.every((r) => r.cpuMsPerPledge !== null)
          ? round(median(rs.map((r) => r.cpuMsPerPledge!)), 3)
          : null;
      const cpuD = cpu(dRounds);
      const cpuE = cpu(eRounds);
      return {
        metric:
          'sustained pledges per second (answered 201 and their events delivered to every consumer), distributed: 2 api processes + settlement, notifier, sweeper; external PostgreSQL; NATS JetStream',
        value: round(median(dRounds.map((r) => r.perSecond))),
        unit: 'req/s',
        ceiling: {
          name: 'sustained pledges per second, one embedded process (missionlink start)',
          value: round(median(eRounds.map((r) => r.perSecond))),
        },
        problems,
        noise: noiseOf(rounds, (r) => r.perSecond),
        details: {
          postgres:
            distributed.db.source === 'admin-url'
              ? 'the machine server (TEST_PG_ADMIN_URL or 127.0.0.1:5432), databases and roles of the run'
              : distributed.db.source,
          connections: { distributed: `${CONNECTIONS / 2} per api process`, embedded: CONNECTIONS },
          distinctBackers: USERS,
          missionsPledgedOn: LOAD_MISSIONS,
          loadAverage1mAtStart: loadAverage,
          acceptedPerSecondMedian: {
            // Pledges answered 201 per second while the load ran, before draining their events.
            distributed: round(median(dRounds.map((r) => r.acceptedPerSecond))),
            embedded: round(median(eRounds.map((r) => r.acceptedPerSecond))),
          },
          rounds: {
            distributedPerSecond: dRounds.map((r) => round(r.perSecond)),
            embeddedPerSecond: eRounds.map((r) => round(r.perSecond)),
            distributedAcceptedPerSecond: dRounds.map((r) => round(r.acceptedPerSecond)),
            embeddedAcceptedPerSecond: eRounds.map((r) => round(r.acceptedPerSecond)),
            // Seconds after the load until every event had reached every consumer.
            distributedDrainSeconds: dRounds.map((r) => r.drainSeconds),
            embeddedDrainSeconds: eRounds.map((r) => r.drainSeconds),
            // Events committed but not yet handed to the bus when the load stopped.
            distributedOutboxBacklog: dRounds.map((r) => r.outboxBacklog),
            embeddedOutboxBacklog: eRounds.map((r) => r.outboxBacklog),
            // Part of noise.foreignCores of the distributed rounds that is this run's own PostgreSQL work.
            distributedExternalPostgresCores: dRounds.map((r) => r.externalPostgresCores),
          },
          settlementLagSeconds: {
            distributed: lagSummary(lagD),
            embedded: lagSummary(lagE),
            method: `${DECISIONS_PER_SECOND} decisions per second during every measured round, ${PLEDGES_PER_LAG_MISSION} pledges per mission, half SUCCEEDED and half FAILED; lag = settledAt − decidedAt (server clocks)`,
          },
          cpuMsPerPledge: {
            distributed: cpuD,
            embedded: cpuE,
            distributedByPart: Object.fromEntries(
              ['api', 'worker', 'nats', 'pg'].map((k) => [
                k,
                round(median(dRounds.map((r) => r.cpuMsPerPledgeByPart[k] ?? 0)), 3),
              ]),
            ),
            scope:
              'distributed: the five MissionLink processes, nats-server and the PostgreSQL backends of its databases; embedded: the process and its embedded PostgreSQL',
          },
          latencyMsMedian: {
            distributed: {
              p50: median(dRounds.map((r) => r.latencyMs.p50)),
              p99: median(dRounds.map((r) => r.latencyMs.p99)),
            },
            embedded: {
              p50: median(eRounds.map((r) => r.latencyMs.p50)),
              p99: median(eRounds.map((r) => r.latencyMs.p99)),
            },
          },
          generatorCpuShare: {
            distributed: median(dRounds.map((r) => r.generatorCpu)),
            embedded: median(eRounds.map((r) => r.generatorCpu)),
          },
          note: 'both sides run on the same cores as the load generator and each other (the idle side idles); every process of the distributed side, its PostgreSQL and NATS share those cores too',
        },
      };
    } finally {
      await embeddedServer?.stop().catch(() => undefined);
      await distributed?.side.stop().catch(() => undefined);
      await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
      await distributed?.nats.stop().catch(() => undefined);
      await distributed?.db.drop().catch(() => undefined);
    }
  },
};
