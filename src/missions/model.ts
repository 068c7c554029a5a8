// The pledge book's data: missions, pledges and the constants every writer
// of them shares (transitions.ts, pledges.ts and the SQL they call).

/**
 * A mission's escrow is split over this many ledger accounts (and its totals
 * over as many rows); each pledge picks one at random, so concurrent pledges
 * to one popular mission rarely wait on the same row lock.
 */
export const ESCROW_SLOTS = 8;

export const MISSION_STATES = ['PROPOSED', 'ACTIVE', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'] as const;
export type MissionState = (typeof MISSION_STATES)[number];
export const TERMINAL: ReadonlySet<MissionState> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED']);

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
}

export interface Pledge {
  id: string;
  missionId: string;
  amount: number;
  status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
  backerName: string;
  createdAt: string;
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
}

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toMission(r: MissionRow & { pledged_amount: number | string | null; backer_count: number | string | null }): Mission {
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
  };
}

/** Advisory-lock class of missions (the two-key space, apart from single-key locks elsewhere). */
export const MISSION_LOCK_CLASS = 72_202;
