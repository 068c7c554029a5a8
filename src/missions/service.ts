import { tx } from '../platform/db.ts';
import type { IdempotencyKey, Outcome } from '../platform/idempotency.ts';
import { DisputeDesk, type Dispute, type DisputeView, type Resolution } from './disputes.ts';
import { voidHeldPledges } from './voids.ts';
import { MissionExpirer, type MissionExpiry } from './expiry.ts';
import type { Mission, MissionState, OnFailure, Pledge } from './model.ts';
import { PledgeWriter, type PledgeTerms } from './pledges.ts';
import { MissionQueries } from './queries.ts';
import { MissionTransitions, type Decision, type DecisionInput, type MissionDeps, type Proposal } from './transitions.ts';

export type { MissionDeps };

/**
 * Missions and pledges as the routes and the sweeper use them: one object
 * over the files that do the work, each named for its job —
 * - transitions.ts: the state machine of API.md (propose, accept, reject,
 *   cancel, decide) and the mission's lock (lockMission);
 * - pledges.ts: pledges held in batches, one statement each (pledge_hold_batch);
 * - queries.ts: what is read (a mission, a channel's missions, pledges, a
 *   backer's pledges, a streamer's payouts and earnings);
 * - expiry.ts: missions past their accept window or deadline, and dispute windows that ended;
 * - disputes.ts: backers' disputes of a decision, and the admin's review.
 * @example
 * const missions = new MissionService({ pool, channels, displayNameOf, eventsCommitted });
 * const { body } = await missions.pledge(userId, missionId, { amount: 5_000 }, undefined, new Date());
 */
export class MissionService implements MissionExpiry {
  private readonly transitions: MissionTransitions;
  private readonly pledging: PledgeWriter;
  private readonly queries: MissionQueries;
  private readonly expiry: MissionExpirer;
  private readonly disputeDesk: DisputeDesk;

  constructor(private readonly deps: MissionDeps) {
    this.disputeDesk = new DisputeDesk(deps);
    this.transitions = new MissionTransitions(deps);
    this.pledging = new PledgeWriter(deps);
    this.queries = new MissionQueries(deps);
    this.expiry = new MissionExpirer(deps);
  }

  // Writes: transitions.ts and pledges.ts.

  propose(userId: string, handle: string, input: Proposal, key: IdempotencyKey | undefined, now: Date): Promise<Outcome<{ mission: Mission }>> {
    return this.transitions.propose(userId, handle, input, key, now);
  }

  pledge(userId: string, missionId: string, terms: PledgeTerms, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<Outcome<{ pledge: Pledge }>> {
    return this.pledging.pledge(userId, missionId, terms, key, arrivedAt);
  }

  accept(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transitions.accept(userId, id, now);
  }

  reject(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transitions.reject(userId, id, now);
  }

  cancel(userId: string, id: string, now: Date): Promise<{ mission: Mission }> {
    return this.transitions.cancel(userId, id, now);
  }

  decide(userId: string, id: string, decision: Decision | DecisionInput, now: Date): Promise<{ mission: Mission }> {
    return this.transitions.decide(userId, id, decision, now);
  }

  // Disputes and reviews: disputes.ts.

  dispute(userId: string, id: string, reason: string, now: Date): Promise<{ dispute: Dispute }> {
    return this.disputeDesk.dispute(userId, id, reason, now);
  }

  /** An admin's resolution of a mission IN_REVIEW (the caller checked the admin role). */
  /**
   * An operator releases every held pledge of a user on undecided missions
   * (a guardian's request): each is voided whole, as a reversal would, and
   * the live streams say so.
   */
  async releaseHolds(userId: string, reason: string): Promise<{ released: number; amount: number }> {
    const out = await tx(this.deps.pool, (c) => voidHeldPledges(c, userId, Number.MAX_SAFE_INTEGER, `released by an operator: ${reason}`.slice(0, 200)));
    if (out.released > 0) this.deps.eventsCommitted();
    return { released: out.released, amount: out.amount };
  }

  resolveReview(adminId: string, id: string, outcome: Resolution, now: Date): Promise<{ mission: Mission }> {
    return this.disputeDesk.resolve(adminId, id, outcome, now);
  }

  /** A mission's disputes: for its owner (`ownerId`), or for an admin (null). */
  disputes(id: string, ownerId: string | null, limit: number, cursor?: string): Promise<{ items: DisputeView[]; nextCursor: string | null }> {
    return this.disputeDesk.list(id, ownerId, limit, cursor);
  }

  /** Missions of every channel in one state, newest first (the ops page). */
  listByState(state: MissionState | undefined, limit: number, cursor?: string): Promise<{ items: Mission[]; nextCursor: string | null }> {
    return this.disputeDesk.byState(state, limit, cursor);
  }

  progress(userId: string, id: string, units: number, now: Date): Promise<{ mission: Mission }> {
    return this.transitions.progress(userId, id, units, now);
  }

  hideMessage(userId: string, pledgeId: string): Promise<void> {
    return this.transitions.hideMessage(userId, pledgeId);
  }

  changeOnFailure(userId: string, pledgeId: string, onFailure: OnFailure, now: Date): Promise<{ pledge: Pledge }> {
    return this.transitions.changeOnFailure(userId, pledgeId, onFailure, now);
  }

  /** The sweeper's: expires a batch of missions past their accept window or deadline (expiry.ts). */
  expireDue(now: Date, batch = 100): Promise<number> {
    return this.expiry.expireDue(now, batch);
  }

  // Reads: queries.ts, and the block list named from the user directory.

  /**
   * The channel's block list (owner only), each user with their display name
   * as their pledges show it, so the owner sees whom they blocked.
   */
  async blocks(ownerId: string, handle: string, limit: number, cursor?: string): Promise<{ items: { userId: string; displayName: string; createdAt: string }[]; nextCursor: string | null }> {
    const page = await this.deps.channels.blocks(ownerId, handle, limit, cursor);
    const names = await Promise.all(page.items.map((b) => this.deps.displayNameOf(b.userId)));
    return { ...page, items: page.items.map((b, n) => ({ ...b, displayName: names[n]! })) };
  }

  get(id: string): Promise<Mission> {
    return this.queries.get(id);
  }

  list(handle: string, state: MissionState | undefined, limit: number, cursor?: string, ended = false): Promise<{ items: Mission[]; nextCursor: string | null }> {
    return this.queries.list(handle, state, limit, cursor, ended);
  }

  pledges(missionId: string, limit: number, cursor?: string): Promise<{ items: Pledge[]; nextCursor: string | null }> {
    return this.queries.pledges(missionId, limit, cursor);
  }

  myPledges(userId: string, limit: number, cursor?: string) {
    return this.queries.myPledges(userId, limit, cursor);
  }

  payouts(userId: string, limit: number, cursor?: string) {
    return this.queries.payouts(userId, limit, cursor);
  }

  earnings(userId: string): Promise<{ settled: number; pending: number; withdrawable: number; withdrawn: number; inFlight: number; currency: 'KRW' }> {
    return this.queries.earnings(userId);
  }
}
