/**
 * Pledge throughput over HTTP against its ceiling: pgbench's built-in
 * tpcb-like transaction on the very PostgreSQL the server uses, at the same
 * concurrency, in alternating rounds. Both are short write transactions that
 * update a few balance rows and append a history row; a pledge adds HTTP,
 * authentication and its own bookkeeping, and should still get close.
 *
 * Three variants, each at 8 and at 32 in flight against pgbench of its own:
 * `plain` (no Idempotency-Key), `keyed` (a fresh key on every send) and
 * `limited` (plain, from viewers who set daily and monthly limits). The
 * viewers are two halves from the start: the open half sends `plain` and
 * `keyed`, the guarded half (limits set before any load: a first limit
 * applies at once) sends `limited`. In each, 5 % of the requests come from
 * viewers with no cash and are refused 402 INSUFFICIENT_FUNDS: expected
 * answers, counted with the 201s.
 *
 * What limits cost is measured apart, as its own alternated pair: plain
 * rounds of the open half against limited rounds of the guarded half, A B,
 * B A…, at each concurrency, so that neither side is measured later on a
 * fuller database than the other.
 *
 * A reference measured the same way says how close any HTTP write can get:
 * the same tpcb-like transaction behind a bare HTTP route of the project's
 * own HTTP stack (bench/lib/http-tpcb-server.ts), against pgbench again.
 */
import os from 'node:os';
import {
  freshIdempotencyKeys,
  fundedViewersAndMissions,
  HTTP_TPCB_ROUTE,
  httpTpcbRound,
  nonEmptyUnfundedWallets,
  pgbenchUrl,
  pgbenchInit,
  pgbenchRound,
  pledgeRequests,
  pledgeRound,
  serverPostgres,
  setSpendingLimits,
  NO_CASH,
  PGBENCH_DB,
  PLEDGE_KRW,
  type HttpTpcbRound,
  type MoneyFixture,
  type PgbenchRound,
  type PledgeRound,
} from '../lib/money.ts';
import {
  batchSummary,
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
/** Viewers never charged: every UNFUNDED_EVERY-th request is theirs (5 %), refused 402. */
const UNFUNDED = 10;
const UNFUNDED_EVERY = 20;
const MISSIONS = 100;
const CONCURRENCIES = [8, 32] as const;
const PGBENCH_SCALE = 10;
/**
 * Three variants and a reference at two concurrencies, each an alternated
 * pair: at most this many measured rounds per side (and a 1 s warm-up for
 * every pair after the first of its kind, the server being warm by then)
 * keep the scenario near three and a half minutes with the default timing.
 */
const MAX_ROUNDS = 3;
/**
 * Every viewer's limits in the `limited` variant: far above what the
 * scenario's request bound lets one viewer pledge (at most 20,000 requests a
 * second shared by 200 viewers, 1,000 KRW each: about 100,000 KRW per viewer
 * per second of load), so none is ever refused for them.
 */
const LIMITS = { dailyPledgeLimit: 500_000_000, monthlyPledgeLimit: 1_000_000_000 };

type Variant = 'plain' | 'keyed' | 'limited';
/** The order of measurement (the limits' cost has its own alternated pair afterwards). */
const ORDER: readonly Variant[] = ['keyed', 'plain', 'limited'];
const VARIANTS: Record<Variant, string> = {
  plain: 'pledges without Idempotency-Key',
  keyed: 'every request with a fresh, unique Idempotency-Key (never a replay)',
  limited: `pledges without Idempotency-Key from the half of the viewers that set limits of ${LIMITS.dailyPledgeLimit} KRW a day and ${LIMITS.monthlyPledgeLimit} KRW a month`,
};

const ratioOf = (a: number | null, b: number | null, digits = 3) =>
  a !== null && b !== null && b > 0 ? round(a / b, digits) : null;

export const scenario: Scenario = {
  name: 'pledges',
  description:
    'POST /api/v1/missions/:id/pledges answered per second (201 + the expected 402 of 5 % unfunded viewers), plain, keyed and with limits, vs pgbench tpcb-like tps on the same PostgreSQL, at 8 and 32 in flight (the worst ratio counts)',
  target: 1,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    ctx.log('starting the server');
    const server = await startServer();
    let reference: ReturnType<typeof forkTs> | undefined;
    try {
      ctx.log(
        `server ready in ${server.startMs} ms; ${VIEWERS} funded and ${UNFUNDED} unfunded viewers, ${MISSIONS} active missions`,
      );
      const fixture = await fundedViewersAndMissions(server.url, {
        viewers: VIEWERS,
        unfunded: UNFUNDED,
        missions: MISSIONS,
        log: ctx.log,
      });
      const pgsrv = await serverPostgres(server.dataDir);
      ctx.log(
        `pgbench -i -s ${PGBENCH_SCALE} into ${PGBENCH_DB} on the server's PostgreSQL (port ${pgsrv.port})`,
      );
      const init = await pgbenchInit(pgsrv, PGBENCH_SCALE);
      ctx.log(`pgbench initialised in ${init.ms} ms`);
      // Two halves of the viewers, each with its own count of pledges (for its recharges).
      const halfOf = (k: number): MoneyFixture => ({
        ...fixture,
        viewers: fixture.viewers.filter((_, i) => i % 2 === k),
        unfunded: fixture.unfunded.filter((_, i) => i % 2 === k),
        pledgesAccepted: 0,
      });
      const open = halfOf(0);
      const guarded = halfOf(1);
      const t0 = Date.now();
      await setSpendingLimits(guarded, LIMITS);
      const limitsSetMs = Date.now() - t0;
      ctx.log(
        `limits set for ${guarded.viewers.length + guarded.unfunded.length} of the viewers in ${limitsSetMs} ms (${LIMITS.dailyPledgeLimit} KRW a day, ${LIMITS.monthlyPledgeLimit} a month)`,
      );
      const requestsOf = (f: MoneyFixture) =>
        pledgeRequests(f, f.missionIds, 4_000, { unfundedEvery: UNFUNDED_EVERY });
      const sides = {
        open: { fixture: open, requests: requestsOf(open) },
        guarded: { fixture: guarded, requests: requestsOf(guarded) },
      };
      const keys = freshIdempotencyKeys();
      const refPort = await freePort();
      reference = forkTs('bench/lib/http-tpcb-server.ts', {
        PORT: String(refPort),
        SCALE: String(PGBENCH_SCALE),
        DATABASE_URL: pgbenchUrl(pgsrv),
      });
      const refUrl = `http://127.0.0.1:${refPort}`;
      await waitForHttp(`${refUrl}/healthz`, reference.child, reference.output, 30_000);
      const refPids = { reference: reference.child.pid!, server: server.pid };

      const timing = { ...ctx.timing, rounds: Math.min(ctx.timing.rounds, MAX_ROUNDS) };
      const short = {
        ...ctx,
        timing: { ...timing, warmupSeconds: Math.min(timing.warmupSeconds, 1) },
      };
      const full = { ...ctx, timing };
      const runs: {
        variant: Variant;
        connections: number;
        rounds: Alternated<PledgeRound | PgbenchRound>;
        pledgesPerViewerAtStart: number;
      }[] = [];
      for (const variant of ORDER) {
        const side = variant === 'limited' ? sides.guarded : sides.open;
        for (const connections of CONCURRENCIES) {
          const pledgesPerViewerAtStart = round(
            side.fixture.pledgesAccepted / side.fixture.viewers.length,
          );
          const rounds = await alternate<PledgeRound | PgbenchRound>(
            runs.length === 0 ? full : short,
            `pledges ${variant} c${connections}`,
            (s) =>
              pledgeRound(side.fixture, server.pid, side.requests, connections, s, {
                readBatches: true,
                ...(variant === 'keyed' ? { freshHeaders: keys } : {}),
              }),
            `pgbench c${connections}`,
            (s) => pgbenchRound(pgsrv, server.pid, connections, s),
          );
          runs.push({ variant, connections, rounds, pledgesPerViewerAtStart });
        }
      }
      // The limits' cost: plain (open half) against limited (guarded half), alternated.
      const limitsPairs: { connections: number; rounds: Alternated<PledgeRound> }[] = [];
      for (const connections of CONCURRENCIES) {
        const roundOf = (side: (typeof sides)['open']) => (s: number) =>
          pledgeRound(side.fixture, server.pid, side.requests, connections, s, {
            readBatches: true,
          });
        const rounds = await alternate<PledgeRound>(
          short,
          `limits: plain c${connections}`,
          roundOf(sides.open),
          `limits: limited c${connections}`,
          roundOf(sides.guarded),
        );
        limitsPairs.push({ connections, rounds });
      }
      const references: {
        connections: number;
        rounds: Alternated<HttpTpcbRound | PgbenchRound>;
      }[] = [];
      for (const connections of CONCURRENCIES) {
        const rounds = await alternate<HttpTpcbRound | PgbenchRound>(
          short,
          `reference: http tpcb c${connections}`,
          (s) => httpTpcbRound(refUrl, HTTP_TPCB_ROUTE, refPids, connections, s),
          `pgbench c${connections}`,
          (s) => pgbenchRound(pgsrv, server.pid, connections, s),
        );
        references.push({ connections, rounds });
      }

      const problems: string[] = [];
      const pgbenchFailures = (label: string, rounds: PgbenchRound[]) => {
        const failed = rounds.reduce((s, r) => s + r.failed, 0);
        if (failed > 0) problems.push(`${label}: ${failed} failed transactions`);
      };
      const byVariant = runs.map(({ variant, connections, rounds, pledgesPerViewerAtStart }) => {
        const http = rounds.a as PledgeRound[];
        const bench = rounds.b as PgbenchRound[];
        problems.push(...pledgeProblems(`pledges ${variant} c${connections}`, http));
        pgbenchFailures(`pgbench beside ${variant} c${connections}`, bench);
        const h = pledgeSummary(http);
        const b = pgbenchSummary(bench);
        return {
          variant,
          connections,
          answeredPerSecond: h.perSecond,
          pledgesPerSecond: h.okPerSecond,
          refusalShare: h.refusalShare,
          pgbenchTps: b.perSecond,
          ratio: ratioOf(h.perSecond, b.perSecond) ?? 0,
          cpuUsPerOp: {
            pledgeRequest: h.cpuUsPerOp,
            pledgeRequestInNode: h.nodeCpuUsPerOp,
            pgbenchTransaction: b.cpuUsPerOp,
            ratio: ratioOf(b.cpuUsPerOp, h.cpuUsPerOp),
          },
          batches: batchSummary(http),
          latencyMs: { pledge201: h.latencyMs, pgbenchAverage: b.latencyMsAvg },
          rounds: { answeredPerSecond: h.rounds, pgbenchTps: b.rounds },
          pgbenchRoundWallMs: b.wallMs,
          generatorCpuShare: { autocannon: h.generatorCpuShare, pgbench: b.generatorCpuShare },
          recharges: http.filter((r) => r.recharged).length,
          pledgesPerViewerAtStart,
        };
      });
      const worst = byVariant.reduce((w, x) => (x.ratio < w.ratio ? x : w));
      const row = (variant: Variant, connections: number) =>
        byVariant.find((r) => r.variant === variant && r.connections === connections)!;
      /** A variant against `plain` at each concurrency: rate, rate per pgbench, CPU per request. */
      const costOf = (variant: Variant) =>
        CONCURRENCIES.map((connections) => {
          const v = row(variant, connections);
          const p = row('plain', connections);
          const perSecondRatio = ratioOf(v.answeredPerSecond, p.answeredPerSecond);
          return {
            connections,
            perSecondRatio,
            slowerPercent: perSecondRatio === null ? null : round((1 - perSecondRatio) * 100),
            pgbenchNormalisedRatio: ratioOf(v.ratio, p.ratio),
            cpuPerRequestRatio: ratioOf(v.cpuUsPerOp.pledgeRequest, p.cpuUsPerOp.pledgeRequest),
          };
        });

      for (const r of byVariant)
        ctx.log(
          `${r.variant} c${r.connections}: ${r.answeredPerSecond} answered/s (${r.pledgesPerSecond} 201/s, ${round(r.refusalShare * 100)} % refused) vs pgbench ${r.pgbenchTps} tps = ${r.ratio}; ${r.cpuUsPerOp.pledgeRequest ?? '?'} µs CPU per request; batches of ${r.batches?.meanSize ?? '?'}`,
        );
      const limitsCost = limitsPairs.map(({ connections, rounds }) => {
        problems.push(...pledgeProblems(`limits pair c${connections}`, [...rounds.a, ...rounds.b]));
        const p = pledgeSummary(rounds.a);
        const l = pledgeSummary(rounds.b);
        const perSecondRatio = ratioOf(l.perSecond, p.perSecond);
        return {
          connections,
          plainPerSecond: p.perSecond,
          limitedPerSecond: l.perSecond,
          perSecondRatio,
          slowerPercent: perSecondRatio === null ? null : round((1 - perSecondRatio) * 100),
          cpuUsPerRequest: { plain: p.cpuUsPerOp, limited: l.cpuUsPerOp },
          cpuPerRequestRatio: ratioOf(l.cpuUsPerOp, p.cpuUsPerOp),
          rounds: { plain: p.rounds, limited: l.rounds },
        };
      });
      for (const c of limitsCost)
        ctx.log(
          `limits cost c${c.connections}: limited/plain ${c.perSecondRatio ?? '?'} per second, CPU per request ${c.cpuPerRequestRatio ?? '?'} (alternated rounds)`,
        );
      const referenceByConcurrency = references.map(({ connections, rounds }) => {
        const refHttp = rounds.a as HttpTpcbRound[];
        problems.push(...pledgeProblems(`reference http tpcb c${connections}`, refHttp));
        pgbenchFailures(`pgbench beside the reference c${connections}`, rounds.b as PgbenchRound[]);
        const ref = pledgeSummary(refHttp);
        const refBench = pgbenchSummary(rounds.b as PgbenchRound[]);
        return {
          connections,
          httpTpcbPerSecond: ref.perSecond,
          pgbenchTps: refBench.perSecond,
          ratio: ratioOf(ref.perSecond, refBench.perSecond) ?? 0,
          cpuUsPerOp: { httpTpcb: ref.cpuUsPerOp, pgbenchTransaction: refBench.cpuUsPerOp },
          rounds: { httpTpcbPerSecond: ref.rounds, pgbenchTps: refBench.rounds },
          plainPerHttpTpcb: ratioOf(row('plain', connections).answeredPerSecond, ref.perSecond),
        };
      });

      ctx.log('verifying the books of the server after the load');
      const outbox = await outboxState(pgsrv);
      const ledger = await verifyServerLedger(pgsrv);
      if (!ledger.ok)
        problems.push(
          `ledger does not verify after the load: ${JSON.stringify(ledger.problems.slice(0, 3))}`,
        );
      const notEmpty = await nonEmptyUnfundedWallets(fixture);
      if (notEmpty.length > 0)
        problems.push(
          `${notEmpty.length} unfunded viewers' wallets are not empty after the load: ${JSON.stringify(notEmpty.slice(0, 3))}`,
        );
      const noise = combinedNoise(
        runs.map((r) => r.rounds),
        (r) => ('answeredPerSecond' in r ? r.answeredPerSecond : r.perSecond),
      );
      return {
        metric: `pledge requests answered per second (201 + expected 402), ${worst.variant} at ${worst.connections} in flight: the worst ratio of plain, keyed and limited at ${CONCURRENCIES.join(' and ')}`,
        value: worst.answeredPerSecond,
        unit: 'req/s',
        ceiling: {
          name: `pgbench tpcb-like tps, ${worst.connections} clients, -j 2 -M prepared, scale ${PGBENCH_SCALE}, same PostgreSQL, alternated with ${worst.variant}`,
          value: worst.pgbenchTps,
        },
        problems,
        noise,
        details: {
          byVariant,
          limitsCost,
          limitsCostScope:
            'plain pledges of the open half of the viewers against limited pledges of the guarded half, in alternated rounds of their own (A B, B A…) after the variants',
          keyCost: costOf('keyed'),
          reference: {
            what: 'POST of a bare route running one tpcb-like transaction (one statement), same HTTP stack, against pgbench in its own alternated rounds',
            byConcurrency: referenceByConcurrency,
          },
          variants: VARIANTS,
          order: `${ORDER.flatMap((v) => CONCURRENCIES.map((c) => `${v} c${c}`)).join(', ')}, then the limits' pairs and the reference at ${CONCURRENCIES.join(' and ')}`,
          roundsPerSide: timing.rounds,
          viewers: VIEWERS,
          unfundedViewers: UNFUNDED,
          refusedShareSent: round(1 / UNFUNDED_EVERY, 4),
          expectedRefusal: NO_CASH,
          activeMissions: MISSIONS,
          pledgeKrw: PLEDGE_KRW,
          limits: LIMITS,
          limitsSetMs,
          pledgesAccepted: open.pledgesAccepted + guarded.pledgesAccepted,
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
          unfundedWalletsAfterLoad: notEmpty.length === 0 ? 'all empty' : notEmpty,
          serverStartMs: server.startMs,
          loadAverage1mAtStart: loadAverage,
          otherLoadMedianCores: medianForeign(noise),
          cpuScope:
            'the server process and its descendants (its embedded PostgreSQL) per answered pledge request (201 or the expected 402) / per pgbench transaction; pgbench and autocannon run outside it',
          batchScope:
            'missionlink_pledge_batch_size read from /metrics before and after each measured round (outside its CPU count): batches written and the pledges in them, refused ones included',
          latencyScope: "autocannon's latencies of the 201 answers only (it records no others)",
          note: 'each pledge: bearer check, then its batch (up to 64 pledges in one pledge_hold_batch statement: per-item checks, guarded wallet, pending transfers into the escrow slots, pledges, backers, slot totals, outbox, keys with their answers). Requests rotate over the viewers, so pledges in flight are of distinct wallets; every 20th is from one of the unfunded viewers.',
        },
      };
    } finally {
      if (reference) await stopChild(reference.child);
      await server.stop();
    }
  },
};
