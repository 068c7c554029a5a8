/**
 * The pledge book's surface for other modules: what settlement, notify and
 * `ledger verify` need to know about missions and their pledges, as named
 * statements that run on the caller's connection (inside its transaction).
 * Nobody outside missions reads or writes `missions`, `pledges` or the
 * escrow accounts' naming themselves.
 */
import assert from 'node:assert/strict';
import { verifyLedger, type LedgerProblem, type LedgerReport } from '../ledger/index.ts';
import type { Pool, Queryable } from '../platform/db.ts';
import { MISSION_STATES, type MissionRow, type MissionState, type MissionUnit, type OnFailure, type Pledge } from './model.ts';
import { lockMission } from './transitions.ts';
import { verifyPledgeVoids } from './voids.ts';

/** How withMissionLocked locks: shared among pledges, exclusive for transitions and settlement. */
export type LockMode = 'shared' | 'exclusive';

/**
 * Runs `fn` on the mission's row, locked for the rest of the caller's
 * transaction: first the mission's fair queue (lockMission: shared among
 * pledges, exclusive for transitions and settlement), then its row (FOR
 * UPDATE when exclusive, FOR SHARE when shared).
 * @example await tx(pool, (c) => withMissionLocked(c, id, 'exclusive', async (m) => { … }));
 */
export async function withMissionLocked<T>(c: Queryable, missionId: string, mode: LockMode, fn: (mission: MissionRow) => Promise<T>): Promise<T> {
  // Queued fairly behind the (refused) pledges in flight, not overtaken by new ones.
  await lockMission(c, missionId, mode);
  const row = mode === 'exclusive' ? 'FOR UPDATE' : 'FOR SHARE';
  const m = (await c.query<MissionRow>(`SELECT * FROM missions WHERE id = $1 ${row}`, [missionId])).rows[0];
  assert(m, `no mission ${missionId}`);
  return fn(m);
}

/**
 * When a mission's outcome became final: its decision, or with a dispute
 * window the window's end, or an admin's review (settlement's lag is
 * measured from here, not from a decision that waited for backers).
 */
export function finalAt(m: MissionRow): Date | null {
  if (m.reviewed_at) return m.reviewed_at;
  if (m.dispute_ends_at && m.decided_at && m.dispute_ends_at > m.decided_at) return m.dispute_ends_at;
  return m.decided_at;
}

/** A mission's row as it is now (no lock), or undefined. */
export async function missionRow(c: Queryable, missionId: string): Promise<MissionRow | undefined> {
  return (await c.query<MissionRow>('SELECT * FROM missions WHERE id = $1', [missionId])).rows[0];
}

/**
 * Missions that ended more than `graceSeconds` ago and are not settled yet,
 * oldest first (the unsettled-missions index keeps this cheap). A decided
 * mission still in its dispute window or review has not ended: its money
 * waits for the final outcome.
 */
export async function endedUnsettled(c: Queryable, graceSeconds: number, limit: number): Promise<{ id: string; state: MissionState }[]> {
  const { rows } = await c.query<{ id: string; state: MissionState }>(
    `SELECT id, state FROM missions
      WHERE settled_at IS NULL AND state NOT IN ('PROPOSED', 'ACTIVE') AND state NOT IN ('CONFIRMING', 'IN_REVIEW')
        -- Ended: at the decision, or when its dispute window ended or its review did (see finalAt).
        AND coalesce(reviewed_at, greatest(decided_at, dispute_ends_at)) < now() - make_interval(secs => $1)
      ORDER BY decided_at LIMIT $2`,
    [graceSeconds, limit],
  );
  return rows;
}

/** A held pledge and its pending hold transfer. */
export interface HeldPledge {
  id: string;
  hold_transfer_id: string;
  /** The hold. */
  amount: number;
  /** Per unit, on a per-unit mission (else null). */
  unit_amount: number | null;
  on_failure: OnFailure;
}

/**
 * Up to `limit` pledges of the mission that are still HELD, locked for the
 * caller's transaction; pledges another transaction holds are skipped.
 */
export async function heldPledges(c: Queryable, missionId: string, limit: number): Promise<HeldPledge[]> {
  const { rows } = await c.query<HeldPledge>(
    `SELECT id, hold_transfer_id, amount, unit_amount, on_failure FROM pledges
      WHERE mission_id = $1 AND status = 'HELD' ORDER BY id LIMIT $2
      -- SKIP LOCKED: a second worker on the same mission takes other pledges.
      FOR UPDATE SKIP LOCKED`,
    [missionId, limit],
  );
  return rows;
}

/** What settling did to one pledge: its new status and the amount captured (the rest is refunded). */
export interface SettledPledge {
  id: string;
  status: Exclude<Pledge['status'], 'HELD'>;
  captured: number;
}

/** Records the settlement of pledges (taken with heldPledges), in one statement. */
export async function markPledgesSettled(c: Queryable, settled: SettledPledge[]): Promise<void> {
  await c.query(
    `UPDATE pledges p SET status = u.status, captured_amount = u.captured, refunded_amount = p.amount - u.captured
       FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS u(id, status, captured) WHERE p.id = u.id`,
    [settled.map((p) => p.id), settled.map((p) => p.status), settled.map((p) => p.captured)],
  );
}

/** True while some pledge of the mission is still HELD (another worker may be committing a batch). */
export async function hasHeldPledges(c: Queryable, missionId: string): Promise<boolean> {
  const held = await c.query(`SELECT 1 FROM pledges WHERE mission_id = $1 AND status = 'HELD' LIMIT 1`, [missionId]);
  return Boolean(held.rowCount);
}

/** What a mission's pledges captured and refunded, in all. */
export async function settledTotals(c: Queryable, missionId: string): Promise<{ captured: number; refunded: number }> {
  const totals = (
    await c.query<{ captured: number; refunded: number }>(
      'SELECT coalesce(sum(captured_amount), 0)::bigint AS captured, coalesce(sum(refunded_amount), 0)::bigint AS refunded FROM pledges WHERE mission_id = $1',
      [missionId],
    )
  ).rows[0]!;
  return { captured: Number(totals.captured), refunded: Number(totals.refunded) };
}

/** One of a mission's escrow accounts (its slots, see ESCROW_SLOTS) and its posted balance. */
export interface EscrowAccount {
  id: string;
  owner: string;
  balance: number;
}

/** The mission's escrow accounts with their posted balances, in a stable order (by owner). */
export async function escrowAccounts(c: Queryable, missionId: string): Promise<EscrowAccount[]> {
  const { rows } = await c.query<{ id: string; owner: string; balance: number }>(
    `SELECT id, owner, credits_posted - debits_posted AS balance FROM accounts
      WHERE ledger = 'KRW' AND code = 'mission_escrow' AND owner LIKE $1 ORDER BY owner`,
    [`${missionId}:%`],
  );
  return rows.map((r) => ({ id: r.id, owner: r.owner, balance: Number(r.balance) }));
}

/** Marks the mission settled (its money has moved). */
export async function markSettled(c: Queryable, missionId: string): Promise<void> {
  await c.query('UPDATE missions SET settled_at = now() WHERE id = $1', [missionId]);
}

/** What one backer pledged to a mission, and what of it was captured and refunded. */
export interface BackerTotal {
  backerId: string;
  pledged: number;
  captured: number;
  refunded: number;
  /** What of `pledged` the backer chose to give even on failure (onFailure DONATE). */
  donated: number;
}

/** Every backer of a mission with their totals (the result mails: one per backer). */
export async function backerTotals(c: Queryable, missionId: string): Promise<BackerTotal[]> {
  const { rows } = await c.query<{ backer_id: string; pledged: string; captured: string; refunded: string; donated: string }>(
    `SELECT backer_id, sum(amount) AS pledged, sum(captured_amount) AS captured, sum(refunded_amount) AS refunded,
            coalesce(sum(amount) FILTER (WHERE on_failure = 'DONATE'), 0) AS donated
       FROM pledges WHERE mission_id = $1 GROUP BY backer_id`,
    [missionId],
  );
  return rows.map((r) => ({ backerId: r.backer_id, pledged: Number(r.pledged), captured: Number(r.captured), refunded: Number(r.refunded), donated: Number(r.donated) }));
}

/** What a result mail names of its mission: title, channel, its unit, and the trust facts (proof, note, disputes, review). */
export interface MissionHeadline {
  title: string;
  channel: string;
  unit: MissionUnit | null;
  proofUrl: string | null;
  note: string | null;
  /** Pledged KRW that disputed the decision (0 without disputes). */
  disputedAmount: number;
  /** True when an admin decided the outcome after a review. */
  reviewed: boolean;
}

/**
 * Titles of missions, by id (what a wallet history row names); unknown ids
 * are left out.
 * @example const titles = await missionTitles(pool, [missionId]); // Map { id => '라면 끓이기' }
 */
export async function missionTitles(c: Queryable, missionIds: string[]): Promise<Map<string, string>> {
  if (missionIds.length === 0) return new Map();
  const { rows } = await c.query<{ id: string; title: string }>('SELECT id, title FROM missions WHERE id = ANY($1::uuid[])', [missionIds]);
  return new Map(rows.map((r) => [r.id, r.title]));
}

/** Headlines of missions, by id (what a result mail names). */
export async function missionHeadlines(c: Queryable, missionIds: string[]): Promise<Map<string, MissionHeadline>> {
  const headlines = new Map<string, MissionHeadline>();
  if (missionIds.length === 0) return headlines;
  const { rows } = await c.query<{
    id: string; title: string; channel: string; unit_label: string | null; unit_max: number | null; units: number;
    proof_url: string | null; note: string | null; reviewed_at: Date | null; disputed: string;
  }>(
    `SELECT m.id, m.title, m.channel, m.unit_label, m.unit_max, m.units, m.proof_url, m.note, m.reviewed_at,
            (SELECT coalesce(sum(amount), 0) FROM mission_disputes d WHERE d.mission_id = m.id)::bigint AS disputed
       FROM missions m WHERE m.id = ANY($1::uuid[])`,
    [missionIds],
  );
  for (const r of rows) {
    headlines.set(r.id, {
      title: r.title,
      channel: r.channel,
      unit: r.unit_label !== null && r.unit_max !== null ? { label: r.unit_label, maxUnits: r.unit_max, units: r.units } : null,
      proofUrl: r.proof_url,
      note: r.note,
      disputedAmount: Number(r.disputed),
      reviewed: r.reviewed_at !== null,
    });
  }
  return headlines;
}

/** The pledge book in figures, for the ops page: pledges and their total, missions settled. */
export interface PledgeBookStats {
  pledges: number;
  pledged: number;
  settledMissions: number;
  /** Pledges whose cash is held now (missions not settled yet): count and KRW. */
  held: { count: number; amount: number };
  /** Missions of every channel by state, every state present (0 when none). */
  missionsByState: Record<MissionState, number>;
}

/** Platform-wide figures of the pledge book (the ops page). */
export async function pledgeBookStats(c: Queryable): Promise<PledgeBookStats> {
  const [totals, states] = await Promise.all([
    c.query<{ pledges: number; pledged: string; settled: number; held: number; held_amount: string }>(
      // The held ones through pledges_held_idx (partial: only HELD pledges are in it).
      `SELECT (SELECT count(*) FROM pledges)::int AS pledges, (SELECT coalesce(sum(amount), 0) FROM pledges)::bigint AS pledged,
              (SELECT count(*) FROM missions WHERE settled_at IS NOT NULL)::int AS settled,
              h.held, h.held_amount
         FROM (SELECT count(*)::int AS held, coalesce(sum(amount), 0)::bigint AS held_amount FROM pledges WHERE status = 'HELD') h`,
    ),
    // An index-only scan of missions_state_idx.
    c.query<{ state: MissionState; n: number }>('SELECT state, count(*)::int AS n FROM missions GROUP BY state'),
  ]);
  const r = totals.rows[0]!;
  const missionsByState = Object.fromEntries(MISSION_STATES.map((s) => [s, 0])) as Record<MissionState, number>;
  for (const row of states.rows) missionsByState[row.state] = Number(row.n);
  return {
    pledges: Number(r.pledges),
    pledged: Number(r.pledged),
    settledMissions: Number(r.settled),
    held: { count: Number(r.held), amount: Number(r.held_amount) },
    missionsByState,
  };
}

// Result rows of the checks below: bigint sums arrive as strings or numbers.
type Row = Record<string, string>;

/**
 * The pledge book's checks of `ledger verify` (a LedgerCheck, run in the
 * verification's snapshot): pledges, the subledger of the missions' holds,
 * have no foreign keys to transfers (migration 0014), so each must match its
 * hold exactly (accounts, amount, mission) and be HELD exactly while the hold
 * is open; every pledge hold must be some pledge's; every void matches its
 * pledge and the transfer that voided its hold (verifyPledgeVoids).
 * @example const report = await verifyLedger(pool, [verifyPledges]);
 */
export async function verifyPledges(c: Queryable): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const badPledges = await c.query<Row>(
    `SELECT p.id, p.status, p.amount, t.id AS hold, t.code, t.flags, t.amount AS hold_amount, m.id AS mission, r.id AS resolution
       FROM pledges p
       LEFT JOIN transfers t ON t.id = p.hold_transfer_id
       LEFT JOIN missions m ON m.id = p.mission_id
       LEFT JOIN transfers r ON r.pending_id = p.hold_transfer_id
      WHERE t.id IS NULL OR m.id IS NULL OR t.code <> 'pledge_hold' OR t.flags <> 1 OR t.amount <> p.amount
         OR t.debit_account_id <> p.wallet_account_id OR t.credit_account_id <> p.escrow_account_id
         OR t.mission_id IS DISTINCT FROM p.mission_id OR (p.status = 'HELD') = (r.id IS NOT NULL)
      LIMIT 50`,
  );
  const mismatch = (b: Row) => {
    if (!b.hold) return 'its hold transfer does not exist';
    if (!b.mission) return 'its mission does not exist';
    if (b.code !== 'pledge_hold' || Number(b.flags) !== 1 || Number(b.hold_amount) !== Number(b.amount)) {
      return `its hold ${b.hold} is a ${b.code} transfer (flags ${b.flags}) of ${b.hold_amount}, not a pending pledge_hold of ${b.amount}`;
    }
    if ((b.status === 'HELD') === Boolean(b.resolution)) {
      return `it is ${b.status} but its hold ${b.hold} is ${b.resolution ? `resolved by ${b.resolution}` : 'still open'}`;
    }
    return `its hold ${b.hold} moves money between other accounts or for another mission`;
  };
  for (const b of badPledges.rows) problems.push({ check: 'pledge_matches_hold', detail: `pledge ${b.id}: ${mismatch(b)}` });
  const orphanHolds = await c.query<Row>(
    `SELECT t.id FROM transfers t WHERE t.code = 'pledge_hold' AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.hold_transfer_id = t.id) LIMIT 50`,
  );
  for (const o of orphanHolds.rows) problems.push({ check: 'hold_has_pledge', detail: `pledge_hold transfer ${o.id} belongs to no pledge` });
  // Pledges voided before their mission was decided (voids.ts).
  problems.push(...(await verifyPledgeVoids(c)));
  return problems;
}

/**
 * `ledger verify` of the funding database: the ledger's own checks and the
 * pledge book's (verifyPledges), in one snapshot.
 * @example const report = await verifyBooks(pool); if (!report.ok) console.error(report.problems);
 */
export function verifyBooks(pool: Pool): Promise<LedgerReport> {
  return verifyLedger(pool, [verifyPledges]);
}
