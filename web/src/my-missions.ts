// "My missions": a viewer's pledges gathered per mission, so two pledges to
// one mission read as one card with their total and count.
import type { MyPledge } from './types.ts';

export interface MissionGroup {
  mission: MyPledge['mission'];
  /** The pledges to it, newest first. */
  pledges: MyPledge[];
  /** KRW held by them (what was pledged), and what of it was captured and refunded. */
  total: number;
  captured: number;
  refunded: number;
  /** When the newest of them was made. */
  latestAt: string;
}

/**
 * Groups pledges by mission, newest activity first: a mission comes where
 * its newest pledge does. The mission's facts are those of its newest pledge
 * (the freshest read).
 * @example groupByMission(page.items).map((g) => [g.mission.title, g.pledges.length, g.total])
 */
export function groupByMission(pledges: readonly MyPledge[]): MissionGroup[] {
  const sorted = [...pledges].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.pledgeId.localeCompare(a.pledgeId),
  );
  const groups = new Map<string, MissionGroup>();
  for (const p of sorted) {
    let g = groups.get(p.mission.id);
    if (!g) {
      g = {
        mission: p.mission,
        pledges: [],
        total: 0,
        captured: 0,
        refunded: 0,
        latestAt: p.createdAt,
      };
      groups.set(p.mission.id, g);
    }
    g.pledges.push(p);
    g.total += p.amount;
    g.captured += p.capturedAmount;
    g.refunded += p.refundedAmount;
  }
  return [...groups.values()];
}
