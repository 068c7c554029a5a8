/**
 * Bets per second on one hot prediction against pledges per second on one
 * hot mission (the same mission), in alternating rounds of the same run,
 * with the same connections and the same distinct users: a bet moves points
 * on the POINTS ledger into striped pool accounts, a pledge holds cash in
 * striped escrow accounts; both share-lock one hot row (the prediction, the
 * mission) and announce a live event. Target: bets ≥ pledges.
 */
import os from 'node:os';
import { withCpu } from '../lib/cpu.ts';
import { activeMission, call } from '../lib/api.ts';
import { clean, runLoad, type LoadRequest, type LoadResult } from '../lib/load.ts';
import { startServer } from '../lib/processes.ts';
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

/** Enough points (1,000 each) that no round reaches its cap below ~9,000 bets/s. */
const USERS = 200;
const CONNECTIONS = 20;
/** Every user's points at the start (signup grant): one point per bet. */
const POINTS_PER_USER = 1_000;
const PLEDGE_AMOUNT = 100;

/** Runs `fn` over `items`, at most `limit` at a time. */
async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export const scenario: Scenario = {
  name: 'bets-vs-pledges',
  description:
    'POST …/prediction/bets per second on one hot prediction vs POST …/pledges per second on the same hot mission',
  target: 1,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer();
    try {
      ctx.log(`server ready in ${server.startMs} ms; registering ${USERS + 1} users`);
      const users = await registerUsers(server.url, USERS + 1);
      const [streamer, ...tokens] = await accessTokens(server.url, users);
      const missionId = await activeMission(server.url, streamer!, tokens[0]!, 'bench_hot');
      // Every user can pledge for the whole run, and has its points wallet.
      await inParallel(tokens, 8, async (t) => {
        await call(server.url, 'POST', '/api/v1/wallet/charges', t, { amount: 1_000_000 }, 201);
        await call(server.url, 'GET', '/api/v1/wallet', t, undefined, 200);
      });

      // Each user stays on one side (one side per user); the sides alternate so both pools grow.
      const bets: LoadRequest[] = tokens.map((t, i) => ({
        method: 'POST',
        path: `/api/v1/missions/${missionId}/prediction/bets`,
        headers: { authorization: `Bearer ${t}` },
        body: JSON.stringify({ side: i % 2 ? 'SUCCEEDED' : 'FAILED', points: 1 }),
      }));
      const pledges: LoadRequest[] = tokens.map((t) => ({
        method: 'POST',
        path: `/api/v1/missions/${missionId}/pledges`,
        headers: { authorization: `Bearer ${t}` },
        body: JSON.stringify({ amount: PLEDGE_AMOUNT }),
      }));
      // Points are finite (1 per bet): cap each round so no user runs out.
      const { rounds, warmupSeconds } = ctx.timing;
      const maxPerRound = Math.floor(
        (USERS * POINTS_PER_USER * 0.9) / (rounds + (warmupSeconds > 0 ? 1 : 0)),
      );

      type Round = LoadResult & { cpuMsPerOp: number | null };
      const measure =
        (requests: LoadRequest[]) =>
        async (seconds: number): Promise<Round> => {
          const { result, cpuSeconds } = await withCpu(server.pid, () =>
            runLoad({
              url: server.url,
              requests,
              rotation: 'shared',
              connections: CONNECTIONS,
              seconds,
              maxRequests: maxPerRound,
            }),
          );
          return {
            ...result,
            cpuMsPerOp:
              cpuSeconds === null || result.ok === 0 ? null : (cpuSeconds * 1e3) / result.ok,
          };
        };
      const measured = await alternate<Round>(
        ctx,
        'bets',
        measure(bets),
        'pledges',
        measure(pledges),
      );
      const { a: betRounds, b: pledgeRounds } = measured;

      // What the rounds did to the books.
      const prediction = await call(
        server.url,
        'GET',
        `/api/v1/missions/${missionId}/prediction`,
        undefined,
        undefined,
        200,
      );
      const mission = await call(
        server.url,
        'GET',
        `/api/v1/missions/${missionId}`,
        undefined,
        undefined,
        200,
      );
      const okBets = betRounds.reduce((s, r) => s + r.ok, 0);
      const problems = [...betRounds, ...pledgeRounds]
        .filter((r) => !clean(r))
        .map(
          (r) =>
            `round not clean: ${JSON.stringify({ statusCodes: r.statusCodes, errors: r.errors, timeouts: r.timeouts })}`,
        );
      if (betRounds.some((r) => r.ok >= maxPerRound))
        problems.push(
          `a bet round hit its cap of ${maxPerRound} requests (points budget); lower --seconds or raise USERS`,
        );

      const cpu = (rs: Round[]) =>
        rs.every((r) => r.cpuMsPerOp !== null)
          ? round(median(rs.map((r) => r.cpuMsPerOp!)), 3)
          : null;
      return {
        metric: 'bets per second on one hot prediction',
        value: round(median(betRounds.map((r) => r.perSecond))),
        unit: 'req/s',
        ceiling: {
          name: 'pledges per second on the same hot mission, same connections and users',
          value: round(median(pledgeRounds.map((r) => r.perSecond))),
        },
        problems,
        noise: noiseOf(measured, (r) => r.perSecond),
        details: {
          connections: CONNECTIONS,
          distinctUsers: USERS,
          rounds: {
            betsPerSecond: betRounds.map((r) => round(r.perSecond)),
            pledgesPerSecond: pledgeRounds.map((r) => round(r.perSecond)),
          },
          cpuMsPerRequest: {
            bet: cpu(betRounds),
            pledge: cpu(pledgeRounds),
            scope: 'the serving process and its descendants (embedded PostgreSQL)',
          },
          latencyMsMedian: {
            bet: {
              p50: median(betRounds.map((r) => r.latencyMs.p50)),
              p99: median(betRounds.map((r) => r.latencyMs.p99)),
            },
            pledge: {
              p50: median(pledgeRounds.map((r) => r.latencyMs.p50)),
              p99: median(pledgeRounds.map((r) => r.latencyMs.p99)),
            },
          },
          generatorCpuShare: {
            bet: median(betRounds.map((r) => r.generatorCpu)),
            pledge: median(pledgeRounds.map((r) => r.generatorCpu)),
          },
          afterwards: {
            pools: prediction.body.pools,
            betsAccepted: okBets,
            pledgedAmount: mission.body.mission.pledgedAmount,
            backerCount: mission.body.mission.backerCount,
          },
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
        },
      };
    } finally {
      await server.stop();
    }
  },
};
