import assert from 'node:assert/strict';
import client from 'prom-client';
import { createTransfer, ensureAccount, lockAccounts, resolvePending, type Resolution } from '../ledger/index.ts';
import type { Bus } from '../platform/bus.ts';
import { tx, type Pool, type Queryable } from '../platform/db.ts';
import { deterministicId } from '../platform/ids.ts';
import type { Logger } from '../platform/log.ts';
import { PollingLoop } from '../platform/loop.ts';
import { consumeOnce, enqueueEvent } from '../platform/outbox.ts';
import {
  endedUnsettled,
  escrowAccounts,
  finalAt,
  hasHeldPledges,
  heldPledges,
  markPledgesSettled,
  markSettled,
  missionRow,
  settledTotals,
  withMissionLocked,
  type HeldPledge,
  TERMINAL,
  type MissionLifecycle,
  type MissionRow,
  type OnFailure,
  type MissionState,
  type SettledPledge,
} from '../missions/index.ts';

export interface SettlementHooks {
  /** After a batch of pledges committed (crash tests kill the process here). */
  afterBatch?: (missionId: string, settledSoFar: number) => Promise<void> | void;
}

export interface SettlementDeps {
  pool: Pool;
  bus: Bus;
  log: Logger;
  feeBps: number;
  registry: client.Registry;
  eventsCommitted: () => void;
  /** Its `settled` subscribers run inside the final transaction, before the mission is marked settled. */
  lifecycle?: MissionLifecycle;
  hooks?: SettlementHooks;
  batchSize?: number;
  pollMs?: number;
  /** See adoptEndedMissions (default EVENT_GRACE_SECONDS). */
  eventGraceSeconds?: number;
}

/**
 * What each pledge becomes: the amount captured (posted); the rest of its
 * hold is released. `earned` is the pledge's amount, or on a per-unit
 * mission its amount per unit × the units reported (earnedOf). On failure a
 * DONATE pledge gives what it earned; a REFUND pledge the channel's share.
 */
export function captureOf(state: MissionState, earned: number, failureKeepBps: number, onFailure: OnFailure = 'REFUND'): number {
  if (state === 'SUCCEEDED') return earned;
  if (state === 'FAILED') return onFailure === 'DONATE' ? earned : Math.floor((earned * failureKeepBps) / 10_000);
  return 0;
}

/** What a held pledge earned: its hold, or on a per-unit mission amount per unit × units reported. */
export function earnedOf(p: Pick<HeldPledge, 'amount' | 'unit_amount'>, m: Pick<MissionRow, 'units'>): number {
  return p.unit_amount === null ? p.amount : p.unit_amount * m.units;
}

/** Settlement jobs not done yet (missions ended and waiting for their money to move), for the ops page. */
export async function pendingSettlements(c: Queryable): Promise<number> {
  const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM settlement_jobs WHERE done_at IS NULL');
  return Number(rows[0]!.n);
}

/** Splits a captured total between the platform fee and the streamer. */
export function feeSplit(total: number, feeBps: number): { fee: number; streamer: number } {
  const fee = Math.floor((total * feeBps) / 10_000);
  return { fee, streamer: total - fee };
}

// Renewed after every batch. A worker that dies holds its job until the lease
// runs out, so keep it short; if it lapses while the owner still works, a
// second worker joins safely (pledges are taken with SKIP LOCKED, the payout
// happens once under the mission's row lock).
const LEASE_SECONDS = 15;

/** Streams of batches that settle one large mission at once. */
const STREAMS = 2;

/** How long an ended mission waits for its event before the worker settles it anyway. */
const EVENT_GRACE_SECONDS = 5;

/**
 * Moves the money of ended missions: one job per mission, taken by one
 * worker at a time (lease + SKIP LOCKED), settled in batches of pledges that
 * each commit on their own, so a crash anywhere resumes where it stopped.
 */
export class SettlementWorker {
  private readonly loop: PollingLoop;
  private readonly lag: client.Histogram<'outcome'>;
  private readonly settled: client.Counter<'outcome'>;
  private readonly pledgesSettled: client.Counter<'result'>;

  private readonly batchSize: number;
  private lastAdoption = 0;

  constructor(private readonly deps: SettlementDeps) {
    this.batchSize = deps.batchSize ?? 5000;
    this.loop = new PollingLoop('settlement', () => this.runOnce(), deps.log, deps.pollMs ?? 500);
    this.lag = new client.Histogram({
      name: 'missionlink_settlement_lag_seconds',
      help: 'Time from a mission ending to its money having moved',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [deps.registry],
    });
    this.settled = new client.Counter({ name: 'missionlink_missions_settled_total', help: 'Missions settled, by outcome', labelNames: ['outcome'], registers: [deps.registry] });
    this.pledgesSettled = new client.Counter({ name: 'missionlink_pledges_settled_total', help: 'Pledges settled, by result', labelNames: ['result'], registers: [deps.registry] });
  }

  /** Consumes mission-ended events: each one becomes a settlement job, exactly once. */
  subscribe(): void {
    this.deps.bus.subscribe('settlement', ['mission.decided', 'mission.expired'], async (event) => {
      const { missionId, state } = event.payload as { missionId: string; state: string };
      await consumeOnce(this.deps.pool, 'settlement', event.id, async (c) => {
        await c.query('INSERT INTO settlement_jobs (mission_id, outcome) VALUES ($1, $2) ON CONFLICT DO NOTHING', [missionId, state]);
      });
      this.poke();
    });
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  /**
   * Ended missions become settlement jobs through their event. When the bus
   * is slow or away, the event waits in the outbox; after EVENT_GRACE_SECONDS
   * the worker makes the job from the mission itself, so money moves anyway
   * (the event, when it comes, finds the job there: ON CONFLICT). Looked
   * for once a second at most; the unsettled-missions index keeps it cheap.
   */
  private async adoptEndedMissions(): Promise<void> {
    if (Date.now() - this.lastAdoption < 1000) return;
    this.lastAdoption = Date.now();
    const grace = this.deps.eventGraceSeconds ?? EVENT_GRACE_SECONDS;
    const ended = await endedUnsettled(this.deps.pool, grace, 1000);
    if (ended.length === 0) return;
    const { rowCount } = await this.deps.pool.query(
      `INSERT INTO settlement_jobs (mission_id, outcome)
       SELECT * FROM unnest($1::uuid[], $2::text[])
       ON CONFLICT DO NOTHING`,
      [ended.map((m) => m.id), ended.map((m) => m.state)],
    );
    if (rowCount) this.deps.log.warn({ missions: rowCount }, 'settling ended missions whose event has not arrived yet (is the bus slow or away?)');
  }

  /** Takes one due job and settles its mission. Returns false when there was none. */
  async runOnce(): Promise<boolean> {
    await this.adoptEndedMissions();
    const { rows } = await this.deps.pool.query<{ mission_id: string }>(
      `UPDATE settlement_jobs SET claimed_until = now() + make_interval(secs => $1), attempts = attempts + 1
        WHERE mission_id = (
          -- SKIP LOCKED: several settlement workers may run; each job goes to one.
          SELECT mission_id FROM settlement_jobs
           WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING mission_id`,
      [LEASE_SECONDS],
    );
    const job = rows[0];
    if (!job) return false;
    try {
      await this.settle(job.mission_id);
    } catch (err) {
      this.deps.log.error({ err, missionId: job.mission_id }, 'settling a mission failed; it will be retried');
      await this.deps.pool
        .query(`UPDATE settlement_jobs SET last_error = $2, claimed_until = now() + interval '5 seconds' WHERE mission_id = $1`, [job.mission_id, String((err as Error).message).slice(0, 500)])
        .catch(() => undefined);
    }
    return true;
  }

  /** Settles one ended mission; safe to call again at any point. */
  async settle(missionId: string): Promise<'settled' | 'already' | 'busy'> {
    const { pool } = this.deps;
    const m = await missionRow(pool, missionId);
    assert(m, `settlement job for unknown mission ${missionId}`);
    // CONFIRMING and IN_REVIEW missions are decided but not final: nothing moves yet.
    assert(TERMINAL.has(m.state), `mission ${missionId} is ${m.state}, not ended`);
    if (m.settled_at) {
      await pool.query('UPDATE settlement_jobs SET done_at = coalesce(done_at, now()) WHERE mission_id = $1', [missionId]);
      return 'already';
    }
    let settled = 0;
    const batch = async () => {
      const n = await this.settleBatch(m);
      if (n > 0) {
        settled += n;
        await this.deps.hooks?.afterBatch?.(missionId, settled);
      }
      return n;
    };
    // Most missions fit in one batch. A larger one goes on in STREAMS streams
    // of batches at once: SKIP LOCKED gives them disjoint pledges, and they
    // queue only for the balance updates that end each batch.
    if ((await batch()) === this.batchSize) {
      const streams = await Promise.allSettled(Array.from({ length: STREAMS }, async () => { while ((await batch()) > 0); }));
      const failed = streams.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const result = await this.finish(missionId);
    if (result === 'settled') this.deps.eventsCommitted();
    return result;
  }

  private async settleBatch(m: MissionRow): Promise<number> {
    return tx(this.deps.pool, async (c) => {
      // SKIP LOCKED: a second worker on the same mission takes other pledges.
      const rows = await heldPledges(c, m.id, this.batchSize);
      if (rows.length === 0) return 0;
      const items: Resolution[] = [];
      const captured: number[] = [];
      for (const p of rows) {
        const capture = captureOf(m.state, earnedOf(p, m), m.failure_keep_bps, p.on_failure);
        captured.push(capture);
        items.push({ id: deterministicId('settle', p.id), pendingId: p.hold_transfer_id, postAmount: capture, code: capture === 0 ? 'pledge_refund' : 'pledge_capture' });
      }
      const status = rows.map((p, i): SettledPledge['status'] => (captured[i] === p.amount ? 'CAPTURED' : captured[i] === 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED'));
      await markPledgesSettled(c, rows.map((p, i) => ({ id: p.id, status: status[i]!, captured: captured[i]! })));
      // Last: its balance updates are where concurrent batches queue.
      await resolvePending(c, items);
      await c.query('UPDATE settlement_jobs SET claimed_until = now() + make_interval(secs => $2) WHERE mission_id = $1', [m.id, LEASE_SECONDS]);
      const results = new Map<string, number>();
      for (const s of status) results.set(s, (results.get(s) ?? 0) + 1);
      for (const [s, n] of results) this.pledgesSettled.inc({ result: s.toLowerCase() }, n);
      return rows.length;
    });
  }

  /** Pays out what the escrow captured, marks the mission settled, announces it. */
  private async finish(missionId: string): Promise<'settled' | 'already' | 'busy'> {
    const out = await tx(this.deps.pool, (c) =>
      // Queued fairly behind the (refused) pledges in flight, not overtaken by new ones.
      withMissionLocked(c, missionId, 'exclusive', async (m) => {
        if (m.settled_at) return { result: 'already' as const };
        // Another worker may still be committing a batch; come back later.
        if (await hasHeldPledges(c, missionId)) return { result: 'busy' as const };
        const { captured, refunded } = await settledTotals(c, missionId);
        const { fee, streamer } = feeSplit(captured, this.deps.feeBps);
        if (captured > 0) {
          const earnings = await ensureAccount(c, 'KRW', 'streamer_earnings', m.channel_owner_id);
          const fees = await ensureAccount(c, 'KRW', 'platform_fees', 'platform');
          const slots = await escrowAccounts(c, missionId);
          assert.equal(slots.reduce((s, x) => s + x.balance, 0), captured, 'escrow must hold exactly the captured total');
          // The transfers below move money slot by slot; lock every account first, in order.
          await lockAccounts(c, [...slots.map((x) => x.id), earnings.id, fees.id]);
          // Empty the escrow slots: the fee first, the rest to the streamer.
          let feeLeft = fee;
          for (const slot of slots) {
            const toFee = Math.min(slot.balance, feeLeft);
            feeLeft -= toFee;
            const debit = { id: slot.id, code: 'mission_escrow' as const, ledger: 'KRW' as const };
            if (toFee > 0) await createTransfer(c, { id: deterministicId('fee', slot.id), debit, credit: fees, amount: toFee, code: 'platform_fee', missionId });
            if (slot.balance - toFee > 0) await createTransfer(c, { id: deterministicId('payout', slot.id), debit, credit: earnings, amount: slot.balance - toFee, code: 'streamer_payout', missionId });
          }
          assert.equal(feeLeft, 0, 'the fee must be covered by the escrow');
        }
        // Predictions resolve here (they subscribe to `settled`).
        await this.deps.lifecycle?.run('settled', c, m);
        await markSettled(c, missionId);
        await c.query('UPDATE settlement_jobs SET done_at = now() WHERE mission_id = $1', [missionId]);
        await enqueueEvent(c, 'mission.settled', missionId, {
          missionId, channel: m.channel, state: m.state, captured, refunded, fee, streamerAmount: streamer,
        });
        return { result: 'settled' as const, m };
      }),
    );
    if (out.result === 'settled') {
      this.settled.inc({ outcome: out.m.state });
      const ended = finalAt(out.m);
      if (ended) this.lag.observe({ outcome: out.m.state }, (Date.now() - ended.getTime()) / 1000);
    }
    return out.result;
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
