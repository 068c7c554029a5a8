/**
 * Live-event fan-out: 10,000 SSE clients on one mission, held by child
 * processes separate from the server; pledges arrive one after another and
 * each pledge event's latency to every client is measured, from the moment
 * the pledge was sent (and from its 201). Target: p99 under 250 ms. Also the
 * server's resident memory per 1,000 connected clients.
 */
import os from 'node:os';
import { cpuSeconds, withForeignCpu } from '../lib/cpu.ts';
import { activeMission, call, openFilesLimit, rssMiB } from '../lib/api.ts';
import { ask, forkTs, startServer, stopChild } from '../lib/processes.ts';
import {
  NOISY_FOREIGN_CORES,
  round,
  type Measurement,
  type Scenario,
  type ScenarioContext,
} from '../lib/scenario.ts';
import { accessTokens, registerUsers } from '../lib/users.ts';

const CLIENTS = 10_000;
const PROCESSES = 4;
const PLEDGES = 50;
/** Pledges per second, sent one after another. */
const PLEDGE_RATE = 5;
const BUDGET_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    min: round(sorted[0] ?? Number.NaN),
  };
}

interface Connected {
  connected: number;
  failed: number;
  errors: Record<string, number>;
  ms: number;
  fdLimit: number | null;
}

export const scenario: Scenario = {
  name: 'sse-fanout',
  description: `pledge → event latency to ${CLIENTS} SSE clients on one mission (p99 within ${BUDGET_MS} ms), and server memory per 1,000 clients`,
  target: 1,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer();
    const children: ReturnType<typeof forkTs>[] = [];
    try {
      const serverFdLimit = await openFilesLimit(server.pid);
      const runnerFdLimit = await openFilesLimit('self');
      const perChild = Math.ceil(CLIENTS / PROCESSES);
      if (serverFdLimit !== null && serverFdLimit < CLIENTS + 200)
        throw new Error(
          `the server may open only ${serverFdLimit} files; ${CLIENTS} clients need more (raise ulimit -n)`,
        );

      ctx.log(`server ready in ${server.startMs} ms; setting up a mission`);
      const users = await registerUsers(server.url, 2);
      const [streamer, backer] = await accessTokens(server.url, users);
      const missionId = await activeMission(server.url, streamer!, backer!, 'bench_fanout');
      const eventsUrl = `${server.url}/api/v1/missions/${missionId}/events`;

      // Memory before: the server warmed up by a few requests, nobody connected.
      await sleep(1_000);
      const rssBefore = await rssMiB(server.pid);

      ctx.log(`connecting ${CLIENTS} clients from ${PROCESSES} processes`);
      for (let i = 0; i < PROCESSES; i++) children.push(forkTs('bench/lib/sse-clients.ts'));
      const connects = await Promise.all(
        children.map((c, i) =>
          ask<object, Connected>(
            c.child,
            {
              cmd: 'connect',
              url: eventsUrl,
              count: Math.min(perChild, CLIENTS - i * perChild),
              parallel: 50,
              // Each process takes loopback addresses of its own (the server admits 50 streams per address).
              addressBlock: i,
            },
            120_000,
          ),
        ),
      );
      const connected = connects.reduce((s, c) => s + c.connected, 0);
      const failedConnects = connects.reduce((s, c) => s + c.failed, 0);
      ctx.log(
        `${connected} connected (${failedConnects} failed) in ${Math.max(...connects.map((c) => c.ms))} ms`,
      );
      await sleep(2_000);
      const rssAfter = await rssMiB(server.pid);

      ctx.log(`sending ${PLEDGES} pledges, ${PLEDGE_RATE}/s`);
      const cpu0 = cpuSeconds(server.pid);
      const sent = new Map<string, { sentAt: number; okAt: number }>();
      const pledgeProblems: string[] = [];
      const { foreignCores } = await withForeignCpu(async () => {
        const t0 = now();
        for (let i = 0; i < PLEDGES; i++) {
          await sleep(Math.max(0, t0 + (i * 1000) / PLEDGE_RATE - now()));
          const sentAt = now();
          const res = await call(
            server.url,
            'POST',
            `/api/v1/missions/${missionId}/pledges`,
            backer,
            { amount: 100 + i },
          );
          const okAt = now();
          if (res.status !== 201)
            pledgeProblems.push(`pledge ${i}: ${res.status} ${JSON.stringify(res.body)}`);
          else sent.set(res.body.pledge.id as string, { sentAt, okAt });
        }
        // Let the last events arrive (the budget, and then some).
        await sleep(BUDGET_MS + 2_000);
      });
      const cpu1 = cpuSeconds(server.pid);

      const collected = await Promise.all(
        children.map((c) =>
          ask<object, { arrivals: Record<string, number[]>; streams: number; closed: number }>(
            c.child,
            { cmd: 'collect' },
            60_000,
          ),
        ),
      );
      const fromSend: number[] = [];
      const fromCreated: number[] = [];
      let delivered = 0;
      for (const { arrivals } of collected) {
        for (const [pledgeId, times] of Object.entries(arrivals)) {
          const s = sent.get(pledgeId);
          if (!s) continue;
          for (const at of times) {
            delivered++;
            fromSend.push(at - s.sentAt);
            fromCreated.push(at - s.okAt);
          }
        }
      }
      const expected = sent.size * connected;
      const closedStreams = collected.reduce((s, c) => s + c.closed, 0);
      const send = summary(fromSend);
      const created = summary(fromCreated);
      const withinBudget = fromSend.filter((ms) => ms <= BUDGET_MS).length;

      const problems = [...pledgeProblems];
      if (failedConnects > 0)
        problems.push(
          `${failedConnects} clients failed to connect: ${JSON.stringify(connects.map((c) => c.errors))}`,
        );
      if (delivered < expected)
        problems.push(
          `${expected - delivered} of ${expected} pledge events never reached their client`,
        );
      if (closedStreams > 0)
        problems.push(`${closedStreams} streams were closed by the server during the run`);

      const perThousand =
        rssBefore !== null && rssAfter !== null && connected > 0
          ? round(((rssAfter - rssBefore) * 1000) / connected, 1)
          : null;
      return {
        metric:
          `latency budget (${BUDGET_MS} ms) / p99 latency from sending a pledge to its event reaching each client`,
        value: BUDGET_MS,
        unit: 'ms',
        ceiling: {
          name: `p99 pledge → event latency over ${connected} clients × ${sent.size} pledges`,
          value: send.p99,
        },
        problems,
        // One measured phase, no alternation: the spread is not measured.
        noise: {
          foreignCores: [foreignCores],
          spread: { value: 1, ceiling: 1 },
          noisy: foreignCores !== null && foreignCores > NOISY_FOREIGN_CORES,
        },
        details: {
          clients: connected,
          clientProcesses: PROCESSES,
          pledges: sent.size,
          pledgesPerSecond: PLEDGE_RATE,
          deliveries: {
            expected,
            delivered,
            withinBudget,
            shareWithinBudget: expected ? round(withinBudget / expected, 4) : null,
          },
          latencyMsFromSend: send,
          latencyMsFromCreated: created,
          note: 'latencyMsFromCreated is measured from the moment the runner received the 201; the event can reach a client before that (negative values)',
          serverRssMiB: {
            beforeClients: rssBefore === null ? null : round(rssBefore, 1),
            withClients: rssAfter === null ? null : round(rssAfter, 1),
            perThousandClients: perThousand,
          },
          serverCpuSecondsDuringPledges:
            cpu0 === null || cpu1 === null ? null : round(cpu1 - cpu0, 2),
          connectMs: Math.max(...connects.map((c) => c.ms)),
          openFilesLimit: {
            server: serverFdLimit,
            runner: runnerFdLimit,
            clientProcesses: connects.map((c) => c.fdLimit),
          },
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
        },
      };
    } finally {
      await Promise.all(
        children.map(async (c) => {
          await ask(c.child, { cmd: 'close' }, 5_000).catch(() => undefined);
          await stopChild(c.child, 5_000);
        }),
      );
      await server.stop();
    }
  },
};
