/**
 * Pledge throughput over HTTP against its ceiling: pgbench's built-in
 * tpcb-like transaction on the very PostgreSQL the server uses, at the same
 * concurrency, in alternating rounds. Both are short write transactions that
 * update a few balance rows and append a history row; a pledge adds HTTP,
 * authentication and its own bookkeeping, and should still get close.
 *
 * A reference measured the same way says how close any HTTP write can get:
 * the same tpcb-like transaction behind a bare HTTP route of the project's
 * own HTTP stack (bench/lib/http-tpcb-server.ts), against pgbench again.
 */
import os from 'node:os';
import {
  fundedViewersAndMissions,
  HTTP_TPCB_ROUTE,
  httpTpcbRound,
  pgbenchUrl,
  pgbenchInit,
  pgbenchRound,
  pledgeRequests,
  pledgeRound,
  serverPostgres,
  PGBENCH_DB,
  PLEDGE_KRW,
  type HttpTpcbRound,
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
import { forkTs, freePort, startServer, stopChild, waitForHttp } from '../lib/processes.ts';
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
  target: 1,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer();
    let reference: ReturnType<typeof forkTs> | undefined;
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
      const refPort = await freePort();
      reference = forkTs('bench/lib/http-tpcb-server.ts', {
        PORT: String(refPort),
        SCALE: String(PGBENCH_SCALE),
        DATABASE_URL: pgbenchUrl(pgsrv),
      });
      const refUrl = `http://127.0.0.1:${refPort}`;
      await waitForHttp(`${refUrl}/healthz`, reference.child, reference.output, 30_000);
      const refPids = { reference: reference.child.pid!, server: server.pid };

      const runs: {
        connections: number;
        rounds: Alternated<PledgeRound | PgbenchRound>;
        reference: Alternated<HttpTpcbRound | PgbenchRound>;
      }[] = [];
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
        const reference = await alternate<HttpTpcbRound | PgbenchRound>(
          { ...ctx, timing: { ...timing, warmupSeconds: Math.min(timing.warmupSeconds, 1) } },
          `reference: http tpcb c${connections}`,
          (s) => httpTpcbRound(refUrl, HTTP_TPCB_ROUTE, refPids, connections, s),
          `pgbench c${connections}`,
          (s) => pgbenchRound(pgsrv, server.pid, connections, s),
        );
        runs.push({ connections, rounds, reference });
      }

      const problems: string[] = [];
      const byConcurrency = runs.map(({ connections, rounds, reference }) => {
        const http = rounds.a as PledgeRound[];
        const bench = rounds.b as PgbenchRound[];
        const refHttp = reference.a as HttpTpcbRound[];
        const ref = pledgeSummary(refHttp);
        const refBench = pgbenchSummary(reference.b as PgbenchRound[]);
        problems.push(...pledgeProblems(`reference http tpcb c${connections}`, refHttp));
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
          reference: {
            what: 'POST of a bare route running one tpcb-like transaction (one statement), same HTTP stack, against pgbench in its own alternated rounds',
            httpTpcbPerSecond: ref.perSecond,
            pgbenchTps: refBench.perSecond,
            ratio: refBench.perSecond > 0 ? round(ref.perSecond / refBench.perSecond, 3) : 0,
            cpuUsPerOp: { httpTpcb: ref.cpuUsPerOp, pgbenchTransaction: refBench.cpuUsPerOp },
            rounds: { httpTpcbPerSecond: ref.rounds, pgbenchTps: refBench.rounds },
            pledgesPerHttpTpcb: ref.perSecond > 0 ? round(h.perSecond / ref.perSecond, 3) : 0,
          },
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
      if (reference) await stopChild(reference.child);
      await server.stop();
    }
  },
};
