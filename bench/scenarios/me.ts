/**
 * GET /api/v1/me (bearer token check, profile, roles) against its ceiling:
 * the cheapest route of the same HTTP stack, GET /bench/bare, served by the
 * same process (started through bench/lib/server.ts, which adds the route),
 * otherwise by a stand-alone process built with the same createHttpServer.
 */
import os from 'node:os';
import { BARE_ROUTE } from '../lib/bare-route.ts';
import { withCpu } from '../lib/cpu.ts';
import { clean, runLoad, type LoadRequest, type LoadResult } from '../lib/load.ts';
import { forkTs, freePort, startServer, stopChild, waitForHttp } from '../lib/processes.ts';
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

const USERS = 50;
const CONNECTIONS = 50;

export const scenario: Scenario = {
  name: 'me',
  description: 'GET /api/v1/me per second vs a bare route of the same Fastify stack',
  target: 0.5,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer({}, { bareRoute: true });
    let bare: ReturnType<typeof forkTs> | undefined;
    try {
      ctx.log(`server ready in ${server.startMs} ms; registering ${USERS} users`);
      const users = await registerUsers(server.url, USERS);
      const tokens = await accessTokens(server.url, users);

      const probe = await fetch(`${server.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${tokens[0]}` },
      });
      const me = (await probe.json()) as { email?: string };
      if (probe.status !== 200 || me.email !== users[0]!.email)
        throw new Error(`GET /api/v1/me answered ${probe.status} ${JSON.stringify(me)}`);

      // Same process when the server has the bare route, else a stand-alone one.
      const inProcess =
        (await fetch(`${server.url}${BARE_ROUTE}`).then((r) => (r.body?.cancel(), r.status))) ===
        200;
      let bareUrl = server.url;
      let barePid = server.pid;
      if (!inProcess) {
        const port = await freePort();
        bare = forkTs('bench/lib/bare-server.ts', { PORT: String(port) });
        bareUrl = `http://127.0.0.1:${port}`;
        barePid = bare.child.pid!;
        await waitForHttp(`${bareUrl}${BARE_ROUTE}`, bare.child, bare.output, 30_000);
        ctx.log(`the server has no ${BARE_ROUTE}; measuring it in a separate process`);
      }

      // Both sides send the very same requests (a rotating bearer token), so
      // the load generator does the same work for each.
      const requests = (path: string): LoadRequest[] =>
        tokens.map((t) => ({ method: 'GET', path, headers: { authorization: `Bearer ${t}` } }));
      type Round = LoadResult & { cpuUsPerOp: number | null };
      const measure =
        (url: string, pid: number, path: string) =>
        async (seconds: number): Promise<Round> => {
          const { result, cpuSeconds } = await withCpu(pid, () =>
            runLoad({ url, requests: requests(path), connections: CONNECTIONS, seconds }),
          );
          return {
            ...result,
            cpuUsPerOp:
              cpuSeconds === null || result.ok === 0 ? null : (cpuSeconds * 1e6) / result.ok,
          };
        };
      const rounds = await alternate<Round>(
        ctx,
        'me',
        measure(server.url, server.pid, '/api/v1/me'),
        'bare',
        measure(bareUrl, barePid, BARE_ROUTE),
      );
      const { a: meRounds, b: bareRounds } = rounds;
      const cpu = (rounds: Round[]) =>
        rounds.every((r) => r.cpuUsPerOp !== null)
          ? round(median(rounds.map((r) => r.cpuUsPerOp!)))
          : null;
      const meCpu = cpu(meRounds);
      const bareCpu = cpu(bareRounds);
      const problems = [...meRounds, ...bareRounds]
        .filter((r) => !clean(r))
        .map(
          (r) =>
            `round not clean: ${JSON.stringify({ statusCodes: r.statusCodes, errors: r.errors, timeouts: r.timeouts })}`,
        );
      return {
        metric: 'GET /api/v1/me per second',
        value: round(median(meRounds.map((r) => r.perSecond))),
        unit: 'req/s',
        ceiling: {
          name: inProcess
            ? `GET ${BARE_ROUTE} per second, same process`
            : `GET ${BARE_ROUTE} per second, separate process (same createHttpServer)`,
          value: round(median(bareRounds.map((r) => r.perSecond))),
        },
        problems,
        noise: noiseOf(rounds, (r) => r.perSecond),
        details: {
          bareRoute: inProcess
            ? 'served by the server under test (started by bench/lib/server.ts, which adds the route)'
            : 'the server does not register the bare route yet (see bench/README.md); measured in a separate minimal process built with the same createHttpServer',
          connections: CONNECTIONS,
          distinctTokens: tokens.length,
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
          rounds: {
            mePerSecond: meRounds.map((r) => round(r.perSecond)),
            barePerSecond: bareRounds.map((r) => round(r.perSecond)),
          },
          // CPU per request varies much less with a busy machine than throughput; when
          // the generator uses about a whole core, it caps both sides.
          cpuUsPerRequest: {
            me: meCpu,
            bare: bareCpu,
            bareShareOfMe: meCpu && bareCpu ? round(bareCpu / meCpu, 3) : null,
            scope: 'the serving process and its descendants (embedded PostgreSQL)',
          },
          generatorCpuShare: {
            me: round(median(meRounds.map((r) => r.generatorCpu)), 2),
            bare: round(median(bareRounds.map((r) => r.generatorCpu)), 2),
          },
          latencyMsMedian: {
            me: {
              p50: median(meRounds.map((r) => r.latencyMs.p50)),
              p99: median(meRounds.map((r) => r.latencyMs.p99)),
            },
            bare: {
              p50: median(bareRounds.map((r) => r.latencyMs.p50)),
              p99: median(bareRounds.map((r) => r.latencyMs.p99)),
            },
          },
          note: "after warm-up every token is in the server's verified-token cache and every user in its user cache, so this is the steady state of a returning client; load generator and server share the same cores",
        },
      };
    } finally {
      if (bare) await stopChild(bare.child, 5_000);
      await server.stop();
    }
  },
};
