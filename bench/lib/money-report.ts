/**
 * Reporting helpers of the money benchmarks: the books of the server under
 * test checked after the load, and per-side summaries of alternated rounds.
 */
import pg from 'pg';
import type { LedgerReport } from '../../src/ledger/index.ts';
import { verifyBooks as verifyLedger } from '../../src/missions/index.ts'; // the ledger's checks and the pledge book's
import { withDatabase } from '../../src/platform/embedded-pg.ts';
import type { BatchCounts, PgbenchRound, ServerPostgres } from './money.ts';
import { clean, type LoadResult } from './load.ts';
import { median, noiseOf, round, type Alternated, type Noise } from './scenario.ts';

/** verifyLedger on the server's funding database, as its superuser (read-only snapshot). */
export async function verifyServerLedger(p: ServerPostgres): Promise<LedgerReport> {
  const pool = new pg.Pool({ connectionString: withDatabase(p.superUrl, 'funding'), max: 1 });
  try {
    return await verifyLedger(pool);
  } finally {
    await pool.end();
  }
}

export interface OutboxState {
  /** Events committed to the outbox and not yet published. */
  unpublished: number;
  /** `pledge.held` events: how many, how many published, and how long publishing took. */
  pledgeEvents: {
    total: number;
    published: number;
    publishLagSeconds: { p50: number | null; p99: number | null; max: number | null };
  };
}

/**
 * The server's outbox right after the load: events are published (to the
 * live overlay and the other consumers) by a relay, after the pledge's
 * commit; a backlog here is how far the live events trail the pledges.
 */
export async function outboxState(p: ServerPostgres): Promise<OutboxState> {
  const client = new pg.Client({ connectionString: withDatabase(p.superUrl, 'funding') });
  await client.connect();
  try {
    const { rows } = await client.query<{
      unpublished: number;
      total: number;
      published: number;
      p50: number | null;
      p99: number | null;
      max: number | null;
    }>(
      `WITH lag AS (SELECT extract(epoch FROM published_at - created_at)::float8 AS s FROM outbox
                     WHERE topic = 'pledge.held' AND published_at IS NOT NULL)
       SELECT (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unpublished,
              (SELECT count(*)::int FROM outbox WHERE topic = 'pledge.held') AS total,
              (SELECT count(*)::int FROM lag) AS published,
              (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) FROM lag) AS p50,
              (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY s) FROM lag) AS p99,
              (SELECT max(s) FROM lag) AS max`,
    );
    const r = rows[0]!;
    const sec = (x: number | null) => (x === null ? null : round(x, 2));
    return {
      unpublished: r.unpublished,
      pledgeEvents: {
        total: r.total,
        published: r.published,
        publishLagSeconds: { p50: sec(r.p50), p99: sec(r.p99), max: sec(r.max) },
      },
    };
  } finally {
    await client.end();
  }
}

/**
 * Median figures of a side of HTTP rounds: pledges, or the tpcb reference
 * (which has no Node share: null). `perSecond` counts answered requests:
 * 2xx plus the refusals the rounds expected (the same as `okPerSecond`, the
 * 2xx alone, when they expected none); `refusalShare` is the expected
 * refusals' share of the answers over all rounds.
 */
export function pledgeSummary(
  rounds: (LoadResult & { cpuUsPerOp: number | null; nodeCpuUsPerOp?: number | null })[],
) {
  const cpu = rounds.every((r) => r.cpuUsPerOp !== null)
    ? round(median(rounds.map((r) => r.cpuUsPerOp!)))
    : null;
  const nodeCpu = rounds.every((r) => r.nodeCpuUsPerOp != null)
    ? round(median(rounds.map((r) => r.nodeCpuUsPerOp!)))
    : null;
  const refused = rounds.reduce((s, r) => s + (r.refusals?.answered ?? 0), 0);
  const answered = rounds.reduce((s, r) => s + r.ok, refused);
  return {
    perSecond: round(median(rounds.map((r) => r.answeredPerSecond))),
    okPerSecond: round(median(rounds.map((r) => r.perSecond))),
    refusalShare: answered > 0 ? round(refused / answered, 4) : 0,
    rounds: rounds.map((r) => round(r.answeredPerSecond)),
    cpuUsPerOp: cpu,
    nodeCpuUsPerOp: nodeCpu,
    latencyMs: {
      p50: median(rounds.map((r) => r.latencyMs.p50)),
      p99: median(rounds.map((r) => r.latencyMs.p99)),
    },
    generatorCpuShare: round(median(rounds.map((r) => r.generatorCpu)), 2),
  };
}

/** Median figures of a side of pgbench rounds. */
export function pgbenchSummary(rounds: PgbenchRound[]) {
  const cpu = rounds.every((r) => r.cpuUsPerOp !== null)
    ? round(median(rounds.map((r) => r.cpuUsPerOp!)))
    : null;
  const gen = rounds.every((r) => r.generatorCpu !== null)
    ? round(median(rounds.map((r) => r.generatorCpu!)), 2)
    : null;
  return {
    perSecond: round(median(rounds.map((r) => r.perSecond))),
    rounds: rounds.map((r) => round(r.perSecond)),
    cpuUsPerOp: cpu,
    latencyMsAvg: median(rounds.map((r) => r.latencyMsAvg ?? Number.NaN)),
    generatorCpuShare: gen,
    wallMs: median(rounds.map((r) => r.wallMs)),
  };
}

/**
 * What makes HTTP load rounds untrustworthy: errors, timeouts, or any non-2xx
 * answer besides the refusals the round expected (those must carry their
 * code and match the requests meant to be refused).
 */
export function pledgeProblems(label: string, rounds: LoadResult[]): string[] {
  return rounds
    .filter((r) => !clean(r))
    .map(
      (r) =>
        `${label} round not clean: ${JSON.stringify({ statusCodes: r.statusCodes, errors: r.errors, timeouts: r.timeouts, ...(r.refusals ? { refusals: r.refusals } : {}) })}`,
    );
}

/**
 * The pledge batches of a side's rounds together: how many, how many
 * pledges (refused ones included) they held, the mean size and the share of
 * pledges written one by one (a batch that fell back after a deadlock);
 * null when /metrics was not read.
 */
export function batchSummary(rounds: { batches: BatchCounts | null }[]) {
  if (rounds.length === 0 || rounds.some((r) => r.batches === null)) return null;
  const sum = (f: (b: BatchCounts) => number) => rounds.reduce((s, r) => s + f(r.batches!), 0);
  const batches = sum((b) => b.together.batches + b.oneByOne.batches);
  const pledges = sum((b) => b.together.pledges + b.oneByOne.pledges);
  const oneByOne = sum((b) => b.oneByOne.pledges);
  return {
    batches,
    pledges,
    meanSize: batches > 0 ? round(pledges / batches, 2) : null,
    oneByOneShare: pledges > 0 ? round(oneByOne / pledges, 4) : 0,
  };
}

/** Several alternated measurements as one noise figure: all rounds, the worst spread. */
export function combinedNoise<T>(parts: Alternated<T>[], perSecond: (r: T) => number): Noise {
  const each = parts.map((p) => noiseOf(p, perSecond));
  return {
    foreignCores: each.flatMap((n) => n.foreignCores),
    spread: {
      value: Math.max(...each.map((n) => n.spread.value)),
      ceiling: Math.max(...each.map((n) => n.spread.ceiling)),
    },
    noisy: each.some((n) => n.noisy),
  };
}

/** The median of the cores other workloads took, over every round (null off Linux). */
export function medianForeign(noise: Noise): number | null {
  const xs = noise.foreignCores.filter((c): c is number => c !== null);
  return xs.length ? round(median(xs), 2) : null;
}
