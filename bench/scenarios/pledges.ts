/**
 * Pledge throughput over HTTP against its ceiling: pgbench's built-in
 * tpcb-like transaction on the very PostgreSQL the server uses, at the same
 * concurrency, in alternating rounds. Both are short write transactions that
 * update a few balance rows and append a history row; a pledge adds HTTP,
 * authentication and its own bookkeeping, and should still get close.
 */
import os from 'node:os';
import {
  fundedViewersAndMissions,
  pgbenchInit,
  pgbenchRound,
  pledgeRequests,
  pledgeRound,
  serverPostgres,
  PGBENCH_DB,
  PLEDGE_KRW,
  type PgbenchRound,
  type PledgeRound,
} from '../lib/money.ts';
import {
  combinedNoise,
  medianForeign,
  outboxState,
  pgbenchSummary,
  pledgeProblems,
  pledgeSummary,
  verifyServerLedger,
} from '../lib/money-report.ts';
import { startServer } from '../lib/processes.ts';
import {
  alternate,
  round,
  type Alternated,
  type Measurement,
  type Scenario,
  type ScenarioContext,
} from '../lib/scenario.ts';

const VIEWERS = 200;
const MISSIONS = 100;
const CONCURRENCIES = [8, 32] as const;
const PGBENCH_SCALE = 10;
/**
 * Two concurrencies, each an alternated pair: at most this many rounds per
 * side (and a 1 s warm-up for the second concurrency, the server being warm
 * by then) keep the scenario near a minute with the default timing.
 */
const MAX_ROUNDS = 3;

export const scenario: Scenario = {
  name: 'pledges',
  description:
    'POST /api/v1/missions/:id/pledges per second vs pgbench tpcb-like tps on the same PostgreSQL, at 8 and 32 in flight (the worse ratio counts)',
  target: 0.7,
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
      const pgsrv = await serverPostgres(server.dataDir);
      ctx.log(
        `pgbench -i -s ${PGBENCH_SCALE} into ${PGBENCH_DB} on the server's PostgreSQL (port ${pgsrv.port})`,
      );
      const init = await pgbenchInit(pgsrv, PGBENCH_SCALE);
      ctx.log(`pgbench initialised in ${init.ms} ms`);
      const requests = pledgeRequests(fixture, fixture.missionIds);

      const runs: { connections: number; rounds: Alternated<PledgeRound | PgbenchRound> }[] = [];
      const timing = { ...ctx.timing, rounds: Math.min(ctx.timing.rounds, MAX_ROUNDS) };
      for (const [k, connections] of CONCURRENCIES.entries()) {
        const warmupSeconds = k === 0 ? timing.warmupSeconds : Math.min(timing.warmupSeconds, 1);
        const rounds = await alternate<PledgeRound | PgbenchRound>(
          { ...ctx, timing: { ...timing, warmupSeconds } },
          `http pledges c${connections}`,
          (s) => pledgeRound(fixture, server.pid, requests, connections, s),
          `pgbench c${connections}`,
          (s) => pgbenchRound(pgsrv, server.pid, connections, s),
        );
        runs.push({ connections, rounds });
      }

      const problems: string[] = [];
      const byConcurrency = runs.map(({ connections, rounds }) => {
        const http = rounds.a as PledgeRound[];
        const bench = rounds.b as PgbenchRound[];
        problems.push(...pledgeProblems(`pledge c${connections}`, http));
        const failed = bench.reduce((s, r) => s + r.failed, 0);
        if (failed > 0) problems.push(`pgbench c${connections}: ${failed} failed transactions`);
        const h = pledgeSummary(http);
        const b = pgbenchSummary(bench);
        return {
          connections,
          pledgesPerSecond: h.perSecond,
          pgbenchTps: b.perSecond,
          ratio: b.perSecond > 0 ? round(h.perSecond / b.perSecond, 3) : 0,
          cpuUsPerOp: {
            pledge: h.cpuUsPerOp,
            pledgeInNode: h.nodeCpuUsPerOp,
            pgbenchTransaction: b.cpuUsPerOp,
            ratio: h.cpuUsPerOp && b.cpuUsPerOp ? round(b.cpuUsPerOp / h.cpuUsPerOp, 3) : null,
          },
          rounds: { pledgesPerSecond: h.rounds, pgbenchTps: b.rounds },
          latencyMs: { pledge: h.latencyMs, pgbenchAverage: b.latencyMsAvg },
          pgbenchRoundWallMs: b.wallMs,
          generatorCpuShare: { autocannon: h.generatorCpuShare, pgbench: b.generatorCpuShare },
          recharges: http.filter((r) => r.recharged).length,
        };
      });
      const worst = byConcurrency.reduce((w, x) => (x.ratio < w.ratio ? x : w));

      ctx.log('verifying the books of the server after the load');
      const outbox = await outboxState(pgsrv);
      const ledger = await verifyServerLedger(pgsrv);
      if (!ledger.ok)
        problems.push(
          `ledger does not verify after the load: ${JSON.stringify(ledger.problems.slice(0, 3))}`,
        );
      const noise = combinedNoise(
        runs.map((r) => r.rounds),
        (r) => r.perSecond,
      );
      return {
        metric: `pledges per second at ${worst.connections} in flight (the worse of ${CONCURRENCIES.join(' and ')})`,
        value: worst.pledgesPerSecond,
        unit: 'req/s',
        ceiling: {
          name: `pgbench tpcb-like tps, ${worst.connections} clients, -j 2 -M prepared, scale ${PGBENCH_SCALE}, same PostgreSQL`,
          value: worst.pgbenchTps,
        },
        problems,
        noise,
        details: {
          byConcurrency,
          roundsPerSide: timing.rounds,
          viewers: VIEWERS,
          activeMissions: MISSIONS,
          pledgeKrw: PLEDGE_KRW,
          pledgesAccepted: fixture.pledgesAccepted,
          chargedPerViewerKrw: fixture.chargedEach,
          pgbench: {
            version: init.version,
            scale: PGBENCH_SCALE,
            database: PGBENCH_DB,
            initMs: init.ms,
          },
          outboxAfterLoad: outbox,
          ledgerAfterLoad: {
            ok: ledger.ok,
            transfers: ledger.transfers,
            accounts: ledger.accounts,
            ms: ledger.durationMs,
          },
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
          otherLoadMedianCores: medianForeign(noise),
          cpuScope:
            'the server process and its descendants (its embedded PostgreSQL) per accepted pledge / per pgbench transaction; pgbench and autocannon run outside it',
          note: 'each pledge: bearer check, then one transaction (mission FOR SHARE, guarded wallet UPDATE, pending transfer into one of 8 escrow slots, pledge, backer, slot totals, outbox); no Idempotency-Key sent. Requests rotate over the viewers, so pledges in flight are of distinct wallets.',
        },
      };
    } finally {
      await server.stop();
    }
  },
};
