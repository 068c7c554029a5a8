import type { IdempotencyKey, Outcome } from '../platform/idempotency.ts';
import { MissionExpirer, type MissionExpiry } from './expiry.ts';
import type { Mission, MissionState, Pledge } from './model.ts';
import { PledgeWriter } from './pledges.ts';
import { MissionQueries } from './queries.ts';
import { MissionTransitions, type Decision, type MissionDeps, type Proposal } from './transitions.ts';

export type { MissionDeps };

/**
 * Missions and pledges as the routes and the sweeper use them: one object
 * over the files that do the work, each named for its job —
 * - transitions.ts: the state machine of API.md (propose, accept, reject,
 *   cancel, decide) and the mission's lock (lockMission);
 * - pledges.ts: pledges held in batches, one statement each (pledge_hold_batch);
 * - queries.ts: what is read (a mission, a channel's missions, pledges, a
 *   backer's pledges, a streamer's payouts and earnings);
 * - expiry.ts: missions past their accept window or deadline.
 * @example
 * const missions = new MissionService({ pool, channels, displayNameOf, eventsCommitted });
 * const { body } = await missions.pledge(userId, missionId, 5_000, undefined, new Date());
 */
export class MissionService implements MissionExpiry {
  private readonly transitions: MissionTransitions;
  private readonly pledging: PledgeWriter;
  private readonly queries: MissionQueries;
  private readonly expiry: MissionExpirer;

  constructor(deps: MissionDeps) {
    this.transitions = new MissionTransitions(deps);
    this.pledging = new PledgeWriter(deps);
    this.queries = new MissionQueries(deps);
    this.expiry = new MissionExpirer(deps);
  }

  // Writes: transitions.ts and pledges.ts.

  propose(userId: string, handle: string, input: Proposal, key: IdempotencyKey | undefined, now: Date): Promise<Outcome<{ mission: Mission }>> {
    return this.transitions.propose(userId, handle, input, key, now);
  }

  pledge(userId: string, missionId: string, amount: number, key: IdempotencyKey | undefined, arrivedAt: Date): Promise<Outcome<{ pledge: Pledge }>> {
    return this.pledging.pledge(userId, missionId, amount, key, arrivedAt);
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

  decide(userId: string, id: string, outcome: Decision, now: Date): Promise<{ mission: Mission }> {
    return this.transitions.decide(userId, id, outcome, now);
  }

  /** The sweeper's: expires a batch of missions past their accept window or deadline (expiry.ts). */
  expireDue(now: Date, batch = 100): Promise<number> {
    return this.expiry.expireDue(now, batch);
  }

  // Reads: queries.ts.

  get(id: string): Promise<Mission> {
    return this.queries.get(id);
  }

  list(handle: string, state: MissionState | undefined, limit: number, cursor?: string): Promise<{ items: Mission[]; nextCursor: string | null }> {
    return this.queries.list(handle, state, limit, cursor);
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

  earnings(userId: string): Promise<{ settled: number; pending: number; currency: 'KRW' }> {
    return this.queries.earnings(userId);
  }
}
