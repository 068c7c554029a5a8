import assert from 'node:assert/strict';

export type Side = 'SUCCEEDED' | 'FAILED';

export interface Stake {
  userId: string;
  side: Side;
  points: number;
  /** Order of the user's first bet: earlier wins ties. */
  order: number;
}

/**
 * Parimutuel payout in integers: each winner gets the floor of its share of
 * the whole pool; the leftover units go one each to the largest winning
 * stakes first (ties: earliest bet), so the sum paid equals the pool exactly.
 * Returns null when nobody backed the winning side (then every bet is refunded).
 * @example parimutuel([{ userId: 'a', side: 'SUCCEEDED', points: 10, order: 0 }, …], 'SUCCEEDED')
 */
export function parimutuel(stakes: Stake[], winning: Side): Map<string, number> | null {
  const pool = stakes.reduce((s, x) => s + x.points, 0);
  const winners = stakes.filter((s) => s.side === winning);
  const winningTotal = winners.reduce((s, x) => s + x.points, 0);
  if (winningTotal === 0) return null;
  assert(Number.isSafeInteger(pool * Math.max(...winners.map((w) => w.points))), 'pool × stake must stay a safe integer');
  const paid = new Map<string, number>();
  let distributed = 0;
  for (const w of winners) {
    const share = Math.floor((pool * w.points) / winningTotal);
    paid.set(w.userId, share);
    distributed += share;
  }
  let leftover = pool - distributed;
  assert(leftover >= 0 && leftover < winners.length, 'leftover is less than one unit per winner');
  const byStake = [...winners].sort((a, b) => b.points - a.points || a.order - b.order);
  for (const w of byStake) {
    if (leftover === 0) break;
    paid.set(w.userId, paid.get(w.userId)! + 1);
    leftover--;
  }
  return paid;
}
