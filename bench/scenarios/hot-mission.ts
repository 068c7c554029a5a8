/**
 * Pledges to one hot mission against the same pledges spread over 1,000
 * missions: same viewers, same concurrency, same round length, alternating
 * rounds on one server. A mission on a big stream gets its pledges all at
 * once; the escrow and totals are striped over 8 rows so that this costs
 * little (src/missions/service.ts, ESCROW_SLOTS). The ratio shows what is
 * left of that contention.
 */
import os from 'node:os';
import {
  fundedViewersAndMissions,
  pledgeRequests,
  pledgeRound,
  serverPostgres,
  PLEDGE_KRW,
  type PledgeRound,
} from '../lib/money.ts';
import {
  medianForeign,
  pledgeProblems,
  pledgeSummary,
  outboxState,
  verifyServerLedger,
} from '../lib/money-report.ts';
import { startServer } from '../lib/processes.ts';
import {
  alternate,
  noiseOf,
  round,
  type Measurement,
  type Scenario,
  type ScenarioContext,
} from '../lib/scenario.ts';

const VIEWERS = 200;
const MISSIONS = 1_000;
const CONNECTIONS = 32;

export const scenario: Scenario = {
  name: 'hot-mission',
  description: `pledges per second to one mission vs spread over ${MISSIONS} missions (same viewers, ${CONNECTIONS} in flight)`,
  target: 1,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer();
    try {
      ctx.log(
        `server ready in ${server.startMs} ms; ${VIEWERS} viewers, ${MISSIONS} active missions`,
      );
      const fixture = await fundedViewersAndMissions(server.url, {
        viewers: VIEWERS,
        missions: MISSIONS,
        log: ctx.log,
      });
      const hotId = fixture.missionIds[0]!;
      const hot = pledgeRequests(fixture, [hotId]);
      const spread = pledgeRequests(fixture, fixture.missionIds);
      const rounds = await alternate<PledgeRound>(
        ctx,
        'hot mission',
        (s) => pledgeRound(fixture, server.pid, hot, CONNECTIONS, s),
        `spread over ${MISSIONS}`,
        (s) => pledgeRound(fixture, server.pid, spread, CONNECTIONS, s),
      );
      const h = pledgeSummary(rounds.a);
      const s = pledgeSummary(rounds.b);
      const problems = [...pledgeProblems('hot', rounds.a), ...pledgeProblems('spread', rounds.b)];

      ctx.log('verifying the books of the server after the load');
      const pgsrv = await serverPostgres(server.dataDir);
      const outbox = await outboxState(pgsrv);
      const ledger = await verifyServerLedger(pgsrv);
      if (!ledger.ok)
        problems.push(
          `ledger does not verify after the load: ${JSON.stringify(ledger.problems.slice(0, 3))}`,
        );
      const mission = await fetch(`${server.url}/api/v1/missions/${hotId}`).then(
        (r) => r.json() as Promise<{ mission?: { pledgedAmount: number; backerCount: number } }>,
      );
      const noise = noiseOf(rounds, (r) => r.perSecond);
      return {
        metric: `pledges per second to one mission, ${CONNECTIONS} in flight`,
        value: h.perSecond,
        unit: 'req/s',
        ceiling: { name: `the same pledges spread over ${MISSIONS} missions`, value: s.perSecond },
        problems,
        noise,
        details: {
          connections: CONNECTIONS,
          viewers: VIEWERS,
          activeMissions: MISSIONS,
          pledgeKrw: PLEDGE_KRW,
          rounds: { hotPerSecond: h.rounds, spreadPerSecond: s.rounds },
          cpuUsPerPledge: {
            hot: h.cpuUsPerOp,
            spread: s.cpuUsPerOp,
            hotInNode: h.nodeCpuUsPerOp,
            spreadInNode: s.nodeCpuUsPerOp,
            ratio: h.cpuUsPerOp && s.cpuUsPerOp ? round(s.cpuUsPerOp / h.cpuUsPerOp, 3) : null,
            scope: 'the server process and its descendants (embedded PostgreSQL)',
          },
          latencyMsMedian: { hot: h.latencyMs, spread: s.latencyMs },
          generatorCpuShare: { hot: h.generatorCpuShare, spread: s.generatorCpuShare },
          hotMissionAfter: mission.mission
            ? {
                pledgedAmount: mission.mission.pledgedAmount,
                backerCount: mission.mission.backerCount,
              }
            : null,
          pledgesAccepted: fixture.pledgesAccepted,
          chargedPerViewerKrw: fixture.chargedEach,
          outboxAfterLoad: outbox,
          ledgerAfterLoad: { ok: ledger.ok, transfers: ledger.transfers, ms: ledger.durationMs },
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
          otherLoadMedianCores: medianForeign(noise),
          note: 'requests rotate over the viewers, so pledges in flight are of distinct wallets on both sides; only the mission differs',
        },
      };
    } finally {
      await server.stop();
    }
  },
};
