/**
 * A child process that measures the settlement of one big mission, driven
 * over IPC by bench/scenarios/settlement.ts. In a throwaway DATA_DIR it starts
 * the product's own embedded PostgreSQL (prepareDatabases: provisioning and
 * migrations exactly as `missionlink start` does), builds the app with
 * createMissionLink (workers not started, so nothing settles behind our
 * back), creates a streamer, a proposer, a channel and an ACTIVE mission
 * through the HTTP routes (inject), then bulk-inserts the other pledges with
 * set-based SQL that keeps the ledger consistent, decides the mission
 * SUCCEEDED and times `SettlementWorker.settle(missionId)` — the app's own
 * worker, with its predictions hook. Peak RSS is this process's VmHWM.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { LedgerReport } from '../../src/ledger/index.ts';
import { verifyBooks as verifyLedger } from '../../src/missions/index.ts'; // the ledger's checks and the pledge book's
import { bigMissionApp, inject, seedPledges } from './settlement-seed.ts';
import { cpuSeconds, machineBusySeconds } from './cpu.ts';

export interface SettleRequest {
  /** An empty directory for DATA_DIR (embedded PostgreSQL, keys, secrets). */
  dataDir: string;
  /** Pledges of the mission in all, the proposer's first pledge included. */
  pledges: number;
  /** Distinct backers the bulk pledges come from. */
  backers: number;
  /** SETTLEMENT_BATCH_SIZE; the product's default when absent. */
  batchSize?: number;
}

export interface SettleResult {
  pledges: number;
  backers: number;
  batchSize: number;
  settleMs: number;
  pledgesPerSecond: number;
  batchMs: number[];
  finishMs: number;
  /** CPU milliseconds per 1,000 pledges: this process (Node) and its PostgreSQL. */
  cpuMsPer1000: { node: number; postgres: number | null };
  /** Cores other processes of the machine kept busy while settle ran. */
  foreignCores: number | null;
  /** VmHWM: peak resident set of this process (MiB). */
  peakRssMiB: { settle: number | null; seedingAndSetup: number | null; wholeRun: number | null };
  /** VmRSS just before settle (MiB). */
  rssBeforeSettleMiB: number | null;
  peakResetWorked: boolean;
  rawUpdate: { rows: number; ms: number; rowsPerSecond: number };
  seedMs: number;
  setupMs: number;
  postgresStartMs: number;
  ledgerBefore: Pick<LedgerReport, 'ok' | 'transfers' | 'accounts' | 'durationMs'> & {
    problems: number;
  };
  ledgerAfter: Pick<LedgerReport, 'ok' | 'transfers' | 'accounts' | 'durationMs'> & {
    problems: number;
  };
  checks: Record<string, unknown>;
  problems: string[];
}

if (!process.send) throw new Error('settlement-child runs as a forked child with an IPC channel');

/** A field of /proc/self/status in MiB (Linux only). */
function statusMiB(field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync('/proc/self/status', 'utf8'),
    );
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: "5" to clear_refs). */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

const summary = (r: LedgerReport) => ({
  ok: r.ok,
  transfers: r.transfers,
  accounts: r.accounts,
  durationMs: r.durationMs,
  problems: r.problems.length,
});

async function measure(req: SettleRequest): Promise<SettleResult> {
  const batchMarks: number[] = [];
  const app = await bigMissionApp(req.dataDir, {
    ...(req.batchSize ? { batchSize: req.batchSize } : {}),
    settlementHooks: { afterBatch: () => void batchMarks.push(performance.now()) },
  });
  const { config, ml, pools, embedded, superFunding, missionId, ownerToken: owner } = app;
  try {
    const settlement = ml.settlement!;
    const tSeed = performance.now();
    await seedPledges(pools.funding, missionId, req.pledges - 1, req.backers);
    const seedMs = ms(tSeed);
    // Planner statistics as a long-running database would have them, and no
    // checkpoint of the seeding falling into the measurement.
    await superFunding.query('ANALYZE');
    await superFunding.query('CHECKPOINT');

    const ledgerBefore = await verifyLedger(pools.funding);
    const problems: string[] = [];
    if (!ledgerBefore.ok)
      problems.push(
        `ledger does not verify after seeding: ${JSON.stringify(ledgerBefore.problems.slice(0, 3))}`,
      );
    const mission = await inject(ml, 'GET', `/api/v1/missions/${missionId}`, 200);
    const backers = Math.min(req.backers, req.pledges - 1) + 1;
    if (mission.mission.backerCount !== backers)
      problems.push(`backerCount ${mission.mission.backerCount}, expected ${backers}`);
    const held = (
      await pools.funding.query(
        `SELECT count(*)::int AS n, sum(amount)::bigint AS total FROM pledges WHERE mission_id = $1 AND status = 'HELD'`,
        [missionId],
      )
    ).rows[0];
    if (held.n !== req.pledges) problems.push(`${held.n} held pledges, expected ${req.pledges}`);
    if (Number(held.total) !== mission.mission.pledgedAmount)
      problems.push(
        `pledged total ${mission.mission.pledgedAmount} ≠ sum of pledges ${held.total}`,
      );

    await inject(ml, 'POST', `/api/v1/missions/${missionId}/decision`, 200, owner, {
      outcome: 'SUCCEEDED',
    });

    // Reference: one plain UPDATE of as many rows, in a copy of the pledges
    // table with the same indexes, as the superuser.
    await superFunding.query('DROP TABLE IF EXISTS bench_raw_update');
    await superFunding.query('CREATE TABLE bench_raw_update (LIKE pledges INCLUDING ALL)');
    await superFunding.query(
      'INSERT INTO bench_raw_update SELECT * FROM pledges WHERE mission_id = $1',
      [missionId],
    );
    await superFunding.query('ANALYZE bench_raw_update');
    await superFunding.query('CHECKPOINT');
    const tRaw = performance.now();
    const raw = await superFunding.query(
      `UPDATE bench_raw_update SET status = 'CAPTURED', captured_amount = amount WHERE mission_id = $1 AND status = 'HELD'`,
      [missionId],
    );
    const rawMs = ms(tRaw);
    await superFunding.query('DROP TABLE bench_raw_update');
    await superFunding.query('CHECKPOINT');

    // The measurement.
    const peakBefore = statusMiB('VmHWM');
    const rssBeforeSettleMiB = statusMiB('VmRSS');
    const peakResetWorked = resetPeakRss();
    const pgPid = embedded!.server.pid;
    const pg0 = cpuSeconds(pgPid);
    const busy0 = machineBusySeconds();
    const mine0 = cpuSeconds(process.pid);
    const node0 = process.cpuUsage();
    const t0 = performance.now();
    const outcome = await settlement.settle(missionId);
    const t1 = performance.now();
    const node = process.cpuUsage(node0);
    const pg1 = cpuSeconds(pgPid);
    const busy1 = machineBusySeconds();
    const mine1 = cpuSeconds(process.pid);
    const peakSettle = peakResetWorked ? statusMiB('VmHWM') : null;
    const settleMs = Math.round((t1 - t0) * 10) / 10;
    const wall = (t1 - t0) / 1000;
    const foreignCores =
      busy0 === null || busy1 === null || mine0 === null || mine1 === null
        ? null
        : Math.max(0, Math.round(((busy1 - busy0 - (mine1 - mine0)) / wall) * 100) / 100);

    // Afterwards: every pledge captured, escrow empty, the streamer paid, the books right.
    if (outcome !== 'settled') problems.push(`settle answered ${outcome}`);
    const statuses = (
      await pools.funding.query(
        `SELECT status, count(*)::int AS n, sum(captured_amount)::bigint AS captured FROM pledges WHERE mission_id = $1 GROUP BY status`,
        [missionId],
      )
    ).rows;
    const captured = statuses.find((s) => s.status === 'CAPTURED');
    if (statuses.length !== 1 || captured?.n !== req.pledges)
      problems.push(`pledge statuses after settlement: ${JSON.stringify(statuses)}`);
    const escrow = (
      await pools.funding.query(
        `SELECT sum(credits_posted - debits_posted)::bigint AS balance, sum(credits_pending)::bigint AS pending FROM accounts WHERE code = 'mission_escrow' AND owner LIKE $1`,
        [`${missionId}:%`],
      )
    ).rows[0];
    if (Number(escrow.balance) !== 0 || Number(escrow.pending) !== 0)
      problems.push(`escrow not empty after settlement: ${JSON.stringify(escrow)}`);
    const earnings = await inject(ml, 'GET', '/api/v1/streamer/earnings', 200, owner);
    const total = Number(held.total);
    const fee = Math.floor((total * config.PLATFORM_FEE_BPS) / 10_000);
    if (earnings.settled !== total - fee)
      problems.push(`streamer earnings ${earnings.settled}, expected ${total - fee}`);
    const settled = await inject(ml, 'GET', `/api/v1/missions/${missionId}`, 200);
    if (!settled.mission.settledAt) problems.push('mission has no settledAt');
    const ledgerAfter = await verifyLedger(pools.funding);
    if (!ledgerAfter.ok)
      problems.push(
        `ledger does not verify after settlement: ${JSON.stringify(ledgerAfter.problems.slice(0, 3))}`,
      );

    const batchMs = batchMarks.map(
      (t, i) => Math.round((t - (i === 0 ? t0 : batchMarks[i - 1]!)) * 10) / 10,
    );
    const finishMs = Math.round((t1 - (batchMarks.at(-1) ?? t0)) * 10) / 10;
    return {
      pledges: req.pledges,
      backers: req.backers,
      batchSize: config.SETTLEMENT_BATCH_SIZE,
      settleMs,
      pledgesPerSecond: Math.round((req.pledges / wall) * 10) / 10,
      batchMs,
      finishMs,
      cpuMsPer1000: {
        node: Math.round(((node.user + node.system) / 1000 / req.pledges) * 1000 * 100) / 100,
        postgres:
          pg0 === null || pg1 === null
            ? null
            : Math.round((((pg1 - pg0) * 1000) / req.pledges) * 1000 * 100) / 100,
      },
      foreignCores,
      peakRssMiB: {
        settle: peakSettle,
        seedingAndSetup: peakBefore,
        wholeRun: peakResetWorked ? null : statusMiB('VmHWM'),
      },
      rssBeforeSettleMiB,
      peakResetWorked,
      rawUpdate: {
        rows: raw.rowCount ?? 0,
        ms: rawMs,
        rowsPerSecond: Math.round(((raw.rowCount ?? 0) / rawMs) * 1000),
      },
      seedMs,
      setupMs: app.setupMs,
      postgresStartMs: app.postgresStartMs,
      ledgerBefore: summary(ledgerBefore),
      ledgerAfter: summary(ledgerAfter),
      checks: {
        pledgeStatuses: statuses.map((s) => ({
          status: s.status,
          n: s.n,
          captured: Number(s.captured),
        })),
        pledgedTotal: total,
        fee,
        streamerEarnings: earnings.settled,
        escrowAfter: { balance: Number(escrow.balance), pending: Number(escrow.pending) },
        settledAt: settled.mission.settledAt,
        backerCount: mission.mission.backerCount,
      },
      problems,
    };
  } finally {
    await app.close();
  }
}

process.on('message', (msg) => {
  measure(msg as SettleRequest).then(
    (result) => process.send!(result),
    (err: unknown) => process.send!({ error: (err as Error).stack ?? String(err) }),
  );
});
// The parent closing the channel ends this process.
process.on('disconnect', () => process.exit(0));
