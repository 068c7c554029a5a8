// The pledge book's data: missions, pledges and the constants every writer
// of them shares (transitions.ts, pledges.ts and the SQL they call).

/**
 * A mission's escrow is split over this many ledger accounts (and its totals
 * over as many rows); each pledge picks one at random, so concurrent pledges
 * to one popular mission rarely wait on the same row lock.
 */
export const ESCROW_SLOTS = 8;

export const MISSION_STATES = ['PROPOSED', 'ACTIVE', 'CONFIRMING', 'IN_REVIEW', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'] as const;
export type MissionState = (typeof MISSION_STATES)[number];
export const TERMINAL: ReadonlySet<MissionState> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED']);
/**
 * Decided by its owner but not final yet (API.md Part 2): in its dispute
 * window (CONFIRMING) or waiting for an admin (IN_REVIEW). Nothing is
 * captured or refunded, and no pledge or bet is taken.
 */
export const UNCONFIRMED: ReadonlySet<MissionState> = new Set(['CONFIRMING', 'IN_REVIEW']);
/** States in which the mission takes no bets: ended, or decided and waiting to be final. */
export const CLOSED_TO_BETS: ReadonlySet<MissionState> = new Set([...TERMINAL, ...UNCONFIRMED]);

export interface Mission {
  id: string;
  channel: string;
  title: string;
  description: string | null;
  state: MissionState;
  pledgedAmount: number;
  backerCount: number;
  durationSeconds: number;
  failureKeepBps: number;
  createdAt: string;
  acceptDeadline: string;
  acceptedAt: string | null;
  deadline: string | null;
  decidedAt: string | null;
  settledAt: string | null;
  createdBy: string;
  /** A per-unit mission's unit and progress; null for a plain mission. */
  unit: MissionUnit | null;
  /** The owner's decision while it waits for its dispute window (kept afterwards); null without a window. */
  proposedOutcome: 'SUCCEEDED' | 'FAILED' | null;
  disputeEndsAt: string | null;
  /** Pledged KRW of the backers who disputed the decision; null without a window. */
  disputedAmount: number | null;
  proofUrl: string | null;
  note: string | null;
  /** The proposer's display name (an extension; null only if the first pledge cannot be found). */
  proposerName: string | null;
  /** The proposal's message, i.e. its first pledge's (an extension): masked as stored, null when none or hidden. */
  proposalMessage: string | null;
}

/** What a backer chose for their pledge if the mission fails (API.md Part 2). */
export const ON_FAILURE = ['REFUND', 'DONATE'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];

export interface Pledge {
  id: string;
  missionId: string;
  /** KRW; per unit on a per-unit mission. */
  amount: number;
  status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
  onFailure: OnFailure;
  message: string | null;
  backerName: string;
  createdAt: string;
}

/** A per-unit mission's unit: "킬", up to 30, 12 so far. */
export interface MissionUnit {
  label: string;
  maxUnits: number;
  units: number;
}

export interface MissionRow {
  id: string;
  channel: string;
  channel_owner_id: string;
  title: string;
  description: string | null;
  state: MissionState;
  duration_seconds: number;
  failure_keep_bps: number;
  min_amount: number;
  max_amount: number;
  created_by: string;
  created_at: Date;
  accept_deadline: Date;
  accepted_at: Date | null;
  deadline: Date | null;
  decided_at: Date | null;
  settled_at: Date | null;
  unit_label: string | null;
  unit_max: number | null;
  units: number;
  proposed_outcome: 'SUCCEEDED' | 'FAILED' | null;
  dispute_ends_at: Date | null;
  dispute_threshold_bps: number | null;
  proof_url: string | null;
  note: string | null;
  reviewed_at: Date | null;
  reviewed_by: string | null;
}

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toMission(
  r: MissionRow & {
    pledged_amount: number | string | null;
    backer_count: number | string | null;
    disputed_amount?: number | string | null;
    proposer_name?: string | null;
    proposal_message?: string | null;
  },
): Mission {
  return {
    id: r.id,
    channel: r.channel,
    title: r.title,
    description: r.description,
    state: r.state,
    pledgedAmount: Number(r.pledged_amount ?? 0),
    backerCount: Number(r.backer_count ?? 0),
    durationSeconds: r.duration_seconds,
    failureKeepBps: r.failure_keep_bps,
    createdAt: r.created_at.toISOString(),
    acceptDeadline: r.accept_deadline.toISOString(),
    acceptedAt: iso(r.accepted_at),
    deadline: iso(r.deadline),
    decidedAt: iso(r.decided_at),
    settledAt: iso(r.settled_at),
    createdBy: r.created_by,
    unit: r.unit_label !== null && r.unit_max !== null ? { label: r.unit_label, maxUnits: r.unit_max, units: r.units } : null,
    proposedOutcome: r.proposed_outcome ?? null,
    disputeEndsAt: iso(r.dispute_ends_at ?? null),
    disputedAmount: r.dispute_ends_at ? Number(r.disputed_amount ?? 0) : null,
    proofUrl: r.proof_url ?? null,
    note: r.note ?? null,
    proposerName: r.proposer_name ?? null,
    proposalMessage: r.proposal_message ?? null,
  };
}

/** Advisory-lock class of missions (the two-key space, apart from single-key locks elsewhere). */
export const MISSION_LOCK_CLASS = 72_202;
