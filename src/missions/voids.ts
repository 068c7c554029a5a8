// Voiding a user's held pledges before their missions are decided: a payment
// reversal that the backer's available cash cannot cover (src/wallet), or an
// operator releasing a user's holds. Each pledge is voided whole, newest
// first: its hold goes back to the wallet, the pledge becomes REFUNDED, its
// mission's totals drop and a `pledge.voided` event tells the live streams.
import { uuidv7 } from 'uuidv7';
import { resolvePending } from '../ledger/index.ts';
import type { Queryable } from '../platform/db.ts';
import { MISSION_LOCK_CLASS } from './model.ts';

/** A pledge voidHeldPledges voided. */
export interface VoidedPledge {
  id: string;
  missionId: string;
  amount: number;
}

export interface VoidedPledges {
  /** How many pledges were voided. */
  released: number;
  /** Their total, back in the wallet. */
  amount: number;
  pledges: VoidedPledge[];
}

/** What a void says it was for (pledge_voids.reason, the event's `reason`): 1–200 characters. */
const REASON = /^[^\p{Cc}]{1,200}$/u;

/**
 * Voids the user's HELD pledges on missions that are not decided (PROPOSED or
 * ACTIVE), newest first, each whole, until their total reaches `upTo` (the
 * last one may pass it; `Infinity` voids them all), in the caller's
 * transaction. `upTo` may be a function, called once the missions are locked
 * and before any pledge is chosen: a caller that must read a balance under
 * its own locks takes them there, after the missions' — the order every
 * writer of pledges keeps (mission locks, then accounts), so this never
 * deadlocks with a pledge or a transition.
 *
 * Locks: the missions' shared advisory locks and rows (FOR SHARE), by id, as
 * a pledge takes them (a transition waits until this commits, and sees the
 * pledges voided); then the pledges (FOR UPDATE); then the accounts, through
 * the ledger's resolvePending (wallet before escrows).
 * @example const { amount } = await voidHeldPledges(c, userId, 20_000, 'payment reversal');
 */
export async function voidHeldPledges(
  c: Queryable,
  userId: string,
  upTo: number | ((c: Queryable) => Promise<number>),
  reason: string,
): Promise<VoidedPledges> {
  if (!REASON.test(reason)) throw new TypeError('a void needs a reason of 1–200 characters without control characters');
  const { rows: candidates } = await c.query<{ id: string }>(
    `SELECT DISTINCT p.mission_id AS id FROM pledges p JOIN missions m ON m.id = p.mission_id
      WHERE p.backer_id = $1 AND p.status = 'HELD' AND m.state IN ('PROPOSED', 'ACTIVE') ORDER BY 1`,
    [userId],
  );
  const ids = candidates.map((r) => r.id);
  let open: string[] = [];
  if (ids.length > 0) {
    // Queued fairly with the transitions (lockMission, shared like a pledge), in id order.
    await c.query(`SELECT pg_advisory_xact_lock_shared($1, hashtext(s.id::text)) FROM (SELECT unnest($2::uuid[]) AS id ORDER BY 1) s`, [MISSION_LOCK_CLASS, ids]);
    const locked = await c.query<{ id: string }>(
      `SELECT id FROM missions WHERE id = ANY ($1::uuid[]) AND state IN ('PROPOSED', 'ACTIVE') ORDER BY id FOR SHARE`,
      [ids],
    );
    open = locked.rows.map((r) => r.id);
  }
  const need = typeof upTo === 'function' ? await upTo(c) : upTo;
  const none: VoidedPledges = { released: 0, amount: 0, pledges: [] };
  if (!(need > 0) || open.length === 0) return none;

  const { rows: held } = await c.query<{ id: string; mission_id: string; amount: string; hold_transfer_id: string; slot: string; channel: string }>(
    `SELECT p.id, p.mission_id, p.amount, p.hold_transfer_id, split_part(a.owner, ':', 2) AS slot, m.channel
       FROM pledges p
       JOIN accounts a ON a.id = p.escrow_account_id
       JOIN missions m ON m.id = p.mission_id
      WHERE p.backer_id = $1 AND p.status = 'HELD' AND p.mission_id = ANY ($2::uuid[])
      ORDER BY p.created_at DESC, p.id DESC
        FOR UPDATE OF p`,
    [userId, open],
  );
  const chosen: typeof held = [];
  let total = 0;
  for (const p of held) {
    if (total >= need) break;
    chosen.push(p);
    total += Number(p.amount);
  }
  if (chosen.length === 0) return none;

  const voids = chosen.map((p) => ({ id: uuidv7(), pendingId: p.hold_transfer_id, postAmount: 0, code: 'pledge_void' }));
  await resolvePending(c, voids);
  const pledgeIds = chosen.map((p) => p.id);
  await c.query(`UPDATE pledges SET status = 'REFUNDED', refunded_amount = amount WHERE id = ANY ($1::uuid[]) AND status = 'HELD'`, [pledgeIds]);
  await c.query(
    `INSERT INTO pledge_voids (pledge_id, mission_id, backer_id, amount, transfer_id, reason)
     SELECT u.p, u.m, $1, u.x, u.t, $2 FROM unnest($3::uuid[], $4::uuid[], $5::bigint[], $6::uuid[]) AS u(p, m, x, t)`,
    [userId, reason, pledgeIds, chosen.map((p) => p.mission_id), chosen.map((p) => p.amount), voids.map((v) => v.id)],
  );
  // The missions' totals, in the slots the pledges were counted in.
  await c.query(
    `UPDATE mission_totals mt SET amount = mt.amount - s.amount, pledges = mt.pledges - s.n
       FROM (SELECT u.m, u.slot, sum(u.x)::bigint AS amount, count(*)::int AS n
               FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS u(m, slot, x) GROUP BY u.m, u.slot) s
      WHERE mt.mission_id = ANY ($4::uuid[]) AND mt.mission_id = s.m AND mt.slot = s.slot`,
    [chosen.map((p) => p.mission_id), chosen.map((p) => Number(p.slot)), chosen.map((p) => p.amount), open],
  );
  // A backer with no held pledge left on a mission no longer counts among its
  // backers (and counts again with a new pledge: the row goes, as the first
  // pledge's statement inserts it). Backers are counted in some slot; one
  // that has a count gives it back.
  await c.query(
    `WITH gone AS (
       DELETE FROM mission_backers mb
        WHERE mb.backer_id = $1 AND mb.mission_id = ANY ($2::uuid[])
          AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.mission_id = mb.mission_id AND p.backer_id = $1 AND p.status = 'HELD')
        RETURNING mb.mission_id)
     UPDATE mission_totals mt SET backers = mt.backers - 1
       FROM (SELECT DISTINCT ON (t.mission_id) t.mission_id, t.slot
               FROM mission_totals t JOIN gone g ON g.mission_id = t.mission_id
              WHERE t.backers > 0 ORDER BY t.mission_id, t.slot) s
      WHERE mt.mission_id = s.mission_id AND mt.slot = s.slot`,
    [userId, [...new Set(chosen.map((p) => p.mission_id))]],
  );
  await c.query(
    `INSERT INTO outbox (id, topic, key, payload)
     SELECT u.e, 'pledge.voided', u.m::text, jsonb_build_object('missionId', u.m, 'channel', u.ch, 'pledgeId', u.p, 'amount', u.x, 'reason', $1::text)
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::bigint[]) AS u(e, m, ch, p, x)`,
    [reason, chosen.map(() => uuidv7()), chosen.map((p) => p.mission_id), chosen.map((p) => p.channel), pledgeIds, chosen.map((p) => p.amount)],
  );
  return { released: chosen.length, amount: total, pledges: chosen.map((p) => ({ id: p.id, missionId: p.mission_id, amount: Number(p.amount) })) };
}

// Result rows of the check below: bigint sums arrive as strings or numbers.
type Row = Record<string, string>;

/**
 * Part of the pledge book's `ledger verify` checks (verifyPledges): every
 * void names a REFUNDED pledge of that backer and mission, whose hold the
 * void's transfer voided (flags 4, the whole amount).
 */
export async function verifyPledgeVoids(c: Queryable): Promise<{ check: string; detail: string }[]> {
  const { rows } = await c.query<Row>(
    `SELECT v.pledge_id, p.id AS pledge, p.status, t.id AS transfer, t.flags, t.pending_id, p.hold_transfer_id
       FROM pledge_voids v
       LEFT JOIN pledges p ON p.id = v.pledge_id
       LEFT JOIN transfers t ON t.id = v.transfer_id
      WHERE p.id IS NULL OR t.id IS NULL OR p.status <> 'REFUNDED' OR p.backer_id <> v.backer_id OR p.mission_id <> v.mission_id
         OR p.amount <> v.amount OR t.flags <> 4 OR t.pending_id IS DISTINCT FROM p.hold_transfer_id
      LIMIT 50`,
  );
  return rows.map((r) => ({
    check: 'pledge_void_matches',
    detail: !r.pledge
      ? `void of pledge ${r.pledge_id}: the pledge does not exist`
      : !r.transfer
        ? `void of pledge ${r.pledge_id}: its transfer does not exist`
        : `void of pledge ${r.pledge_id}: the pledge is ${r.status} and its transfer ${r.transfer} (flags ${r.flags}) resolves ${r.pending_id}, not the hold ${r.hold_transfer_id}`,
  }));
}
