/**
 * Login throughput over HTTP against its ceiling: raw `verifyPassword` with
 * the same argon2 parameters, in a separate process with the same threadpool
 * and the same number of verifies in flight. A login is one argon2 verify
 * plus a few queries and a JWT signature, so it should get close.
 */
import os from 'node:os';
import { ARGON2_PARAMS } from '../../src/identity/passwords.ts';
import { withCpu } from '../lib/cpu.ts';
import { clean, runLoad, type LoadResult } from '../lib/load.ts';
import { ask, forkTs, startServer, stopChild } from '../lib/processes.ts';
import {
  alternate,
  median,
  noiseOf,
  round,
  type Measurement,
  type Scenario,
  type ScenarioContext,
} from '../lib/scenario.ts';
import { BENCH_PASSWORD, registerUsers } from '../lib/users.ts';
import type { VerifyRequest, VerifyResult } from '../lib/argon2-worker.ts';

const USERS = 64;

export const scenario: Scenario = {
  name: 'login',
  description:
    'POST /api/v1/auth/login per second vs raw verifyPassword per second (same params, same parallelism)',
  target: 0.8,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    // @node-rs/argon2 hashes on the libuv threadpool (4 threads unless
    // UV_THREADPOOL_SIZE says otherwise); both processes get the same size.
    const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    const env = { UV_THREADPOOL_SIZE: String(threads) };

    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer(env);
    const worker = forkTs('bench/lib/argon2-worker.ts', env);
    try {
      ctx.log(`server ready in ${server.startMs} ms; registering ${USERS} users`);
      const users = await registerUsers(server.url, USERS, threads);
      const requests = users.map((u) => ({
        method: 'POST' as const,
        path: '/api/v1/auth/login',
        body: JSON.stringify(u),
      }));

      type HttpRound = LoadResult & { cpuMsPerOp: number | null };
      const http = async (seconds: number): Promise<HttpRound> => {
        const { result, cpuSeconds } = await withCpu(server.pid, () =>
          runLoad({
            url: server.url,
            requests,
            // Connections take turns through the users, so concurrent logins
            // are of different accounts: the server runs attempts on one
            // account from one address one at a time.
            rotation: 'shared',
            connections: threads,
            seconds,
            maxRequests: 2_000 * seconds,
          }),
        );
        return {
          ...result,
          cpuMsPerOp:
            cpuSeconds === null || result.ok === 0 ? null : (cpuSeconds * 1000) / result.ok,
        };
      };
      const raw = (seconds: number) =>
        ask<VerifyRequest, VerifyResult>(
          worker.child,
          { password: BENCH_PASSWORD, concurrency: threads, seconds },
          (seconds + 30) * 1000,
        );

      const rounds = await alternate<HttpRound | VerifyResult>(
        ctx,
        'http login',
        http,
        'raw verify',
        raw,
      );
      const httpRounds = rounds.a as HttpRound[];
      const rawRounds = rounds.b as VerifyResult[];
      const serverCpuMs = httpRounds.every((r) => r.cpuMsPerOp !== null)
        ? median(httpRounds.map((r) => r.cpuMsPerOp!))
        : null;
      const rawCpuMs = median(rawRounds.map((r) => r.cpuMsPerOp));

      const problems = httpRounds
        .filter((r) => !clean(r))
        .map(
          (r) =>
            `login round not clean: ${JSON.stringify({ statusCodes: r.statusCodes, errors: r.errors, timeouts: r.timeouts })}`,
        );
      return {
        metric: 'logins per second',
        value: round(median(httpRounds.map((r) => r.perSecond))),
        unit: 'req/s',
        ceiling: {
          name: `raw verifyPassword per second, ${threads} in flight, separate process`,
          value: round(median(rawRounds.map((r) => r.perSecond))),
        },
        problems,
        noise: noiseOf(rounds, (r) => r.perSecond),
        details: {
          argon2: ARGON2_PARAMS,
          threadpoolSize: threads,
          connections: threads,
          distinctUsers: USERS,
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
          rounds: {
            httpPerSecond: httpRounds.map((r) => round(r.perSecond)),
            rawPerSecond: rawRounds.map((r) => round(r.perSecond)),
          },
          // CPU per operation varies much less with a busy machine than throughput.
          cpuMsPerOp: {
            login: serverCpuMs === null ? null : round(serverCpuMs, 2),
            rawVerify: round(rawCpuMs, 2),
            verifyShareOfLogin: serverCpuMs === null ? null : round(rawCpuMs / serverCpuMs, 3),
            scope:
              'login: server process and its descendants (embedded PostgreSQL); rawVerify: the verify process',
          },
          generatorCpuShare: round(median(httpRounds.map((r) => r.generatorCpu)), 2),
          httpLatencyMsMedian: {
            p50: median(httpRounds.map((r) => r.latencyMs.p50)),
            p99: median(httpRounds.map((r) => r.latencyMs.p99)),
          },
          note: 'server (with its embedded PostgreSQL), load generator and raw-verify process share the same cores; raw verify runs while the server idles',
        },
      };
    } finally {
      if (worker.child.connected) worker.child.disconnect();
      await stopChild(worker.child, 5_000);
      await server.stop();
    }
  },
};
