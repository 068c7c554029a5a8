import type { Queryable } from '../platform/db.ts';
import type { MissionRow } from './model.ts';

/** A mission the moment it is accepted: it has its acceptance time and its deadline. */
export type AcceptedMission = MissionRow & { accepted_at: Date; deadline: Date };

/**
 * Runs inside the transaction of the transition, after the mission row has
 * changed and before the commit: a subscriber that throws undoes the
 * transition (and its event).
 */
export type LifecycleSubscriber<M = MissionRow> = (c: Queryable, mission: M) => Promise<void>;

/**
 * The named places where other modules react to a mission's life, in the
 * transaction that makes the change: `accepted` (the mission became ACTIVE),
 * `decided` (it ended: decided, rejected, cancelled or expired; the row
 * carries its new state), `settled` (its money moved; before it is marked
 * settled). And one notification after the commit: `eventsCommitted`, told
 * when a commit enqueued events (the outbox relay listens, to publish them at
 * once rather than at its next poll).
 *
 * The composition root creates one, passes it to missions, predictions and
 * settlement, and modules subscribe themselves (predictions.subscribeTo).
 * @example
 * const lifecycle = new MissionLifecycle();
 * lifecycle.committed.push(() => relay.poke());
 * predictions.subscribeTo(lifecycle);
 */
export class MissionLifecycle {
  readonly accepted: LifecycleSubscriber<AcceptedMission>[] = [];
  readonly decided: LifecycleSubscriber[] = [];
  readonly settled: LifecycleSubscriber[] = [];
  /** Told after a commit that enqueued events. */
  readonly committed: (() => void)[] = [];

  /** Tells every `committed` listener; a method bound to its lifecycle, to pass as a callback. */
  readonly eventsCommitted = (): void => {
    for (const listener of this.committed) listener();
  };

  /** Runs a phase's subscribers one after the other, in the caller's transaction. */
  async run(phase: 'accepted', c: Queryable, mission: AcceptedMission): Promise<void>;
  async run(phase: 'decided' | 'settled', c: Queryable, mission: MissionRow): Promise<void>;
  async run(phase: 'accepted' | 'decided' | 'settled', c: Queryable, mission: MissionRow): Promise<void> {
    // Each phase's subscribers take what run was given for that phase (the overloads above).
    const subscribers: LifecycleSubscriber<AcceptedMission>[] = this[phase];
    for (const subscriber of subscribers) await subscriber(c, mission as AcceptedMission);
  }
}
