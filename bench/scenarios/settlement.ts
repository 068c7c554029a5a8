/**
 * Settlement of one SUCCEEDED mission with 100,000 held pledges: pledges per
 * second of `SettlementWorker.settle` and the peak RSS of the process running
 * it. The pledges are seeded set-based (no HTTP) in a separate child process
 * on its own embedded PostgreSQL (bench/lib/settlement-child.ts).
 *
 * The ceiling is the product target itself, 30,000 pledges/s (the largest
 * mission settles within about 3 s), so the ratio says how far from the target
 * the figure is; the run also times one plain SQL UPDATE of as many pledge
 * rows on the same database, reported in the details as the floor any
 * settlement must pay, to tell a slow machine from slow code.
 */
import os from 'node:os';
import { ask, forkTs, scratchDir, stopChild } from '../lib/processes.ts';
import {
  NOISY_FOREIGN_CORES,
  round,
  type Measurement,
  type Scenario,
  type ScenarioContext,
} from '../lib/scenario.ts';
import type { SettleRequest, SettleResult } from '../lib/settlement-child.ts';

const PLEDGES = 100_000;
const BACKERS = 20_000;
const TARGET_PER_SECOND = 30_000;

export const scenario: Scenario = {
  name: 'settlement',
  description: `settle one SUCCEEDED mission of ${PLEDGES.toLocaleString('en')} pledges: pledges per second vs the ${TARGET_PER_SECOND.toLocaleString('en')}/s target (peak RSS in details)`,
  target: 1,
  async run(ctx: ScenarioContext): Promise<Measurement> {
    const loadAverage = round(os.loadavg()[0]!, 2);
    const tmp = await scratchDir('missionlink-bench-settle-');
    const child = forkTs('bench/lib/settlement-child.ts');
    try {
      ctx.log(
        `embedded PostgreSQL, app, ${PLEDGES} pledges from ${BACKERS} backers, then settle (one child process)`,
      );
      let r: SettleResult;
      try {
        r = await ask<SettleRequest, SettleResult>(
          child.child,
          { dataDir: tmp.dir, pledges: PLEDGES, backers: BACKERS },
          170_000,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${child.output()}`);
      }
      ctx.log(
        `seeded in ${r.seedMs} ms; settled in ${r.settleMs} ms (${r.pledgesPerSecond}/s, ${r.batchMs.length} batches); peak RSS ${r.peakRssMiB.settle} MiB; raw UPDATE ${r.rawUpdate.rowsPerSecond} rows/s`,
      );
      const foreign = r.foreignCores;
      return {
        metric: `pledges settled per second (one mission of ${PLEDGES.toLocaleString('en')})`,
        value: r.pledgesPerSecond,
        unit: 'pledges/s',
        ceiling: {
          name: `the target: ${TARGET_PER_SECOND.toLocaleString('en')} pledges/s`,
          value: TARGET_PER_SECOND,
        },
        problems: r.problems,
        noise: {
          foreignCores: [foreign],
          spread: { value: 1, ceiling: 1 },
          noisy: foreign !== null && foreign > NOISY_FOREIGN_CORES,
        },
        details: {
          settleMs: r.settleMs,
          pledges: r.pledges,
          backers: r.backers,
          batchSize: r.batchSize,
          batchMs: r.batchMs,
          finishMs: r.finishMs,
          peakRssMiB: r.peakRssMiB,
          rssBeforeSettleMiB: r.rssBeforeSettleMiB,
          peakRssScope: r.peakResetWorked
            ? 'VmHWM of the settling process, reset (clear_refs) just before settle: the peak while settling'
            : 'VmHWM of the settling process over its whole run (the reset was refused), seeding included',
          cpuMsPer1000Pledges: {
            ...r.cpuMsPer1000,
            scope: 'node: the settling process; postgres: its embedded PostgreSQL',
          },
          rawUpdate: {
            ...r.rawUpdate,
            what: 'one UPDATE … SET status, captured_amount of the same rows in a copy of pledges with its indexes, same database, same run',
            settlementShare: round(r.pledgesPerSecond / r.rawUpdate.rowsPerSecond, 3),
          },
          ledger: { beforeSettle: r.ledgerBefore, afterSettle: r.ledgerAfter },
          checks: r.checks,
          setupMs: {
            postgresAndMigrations: r.postgresStartMs,
            appAndMission: r.setupMs,
            seed: r.seedMs,
          },
          loadAverage1mAtStart: loadAverage,
          otherLoadCores: foreign,
        },
      };
    } finally {
      if (child.child.connected) child.child.disconnect();
      await stopChild(child.child, 15_000);
      await tmp.remove();
    }
  },
};
