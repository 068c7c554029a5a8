import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parimutuel, type Side, type Stake } from './payout.ts';

const stakesArb = fc
  .array(fc.record({ side: fc.constantFrom<Side>('SUCCEEDED', 'FAILED'), points: fc.integer({ min: 1, max: 1_000_000 }) }), { minLength: 1, maxLength: 60 })
  .map((xs) => xs.map((x, i): Stake => ({ userId: `u${i}`, side: x.side, points: x.points, order: i })));

describe('parimutuel payout', () => {
  it('pays exactly the pool, at least the floor share to each winner, nothing to losers', () => {
    fc.assert(
      fc.property(stakesArb, fc.constantFrom<Side>('SUCCEEDED', 'FAILED'), (stakes, winning) => {
        const pool = stakes.reduce((s, x) => s + x.points, 0);
        const winners = stakes.filter((s) => s.side === winning);
        const total = winners.reduce((s, x) => s + x.points, 0);
        const paid = parimutuel(stakes, winning);
        if (total === 0) {
          expect(paid).toBeNull();
          return;
        }
        expect([...paid!.values()].reduce((a, b) => a + b, 0)).toBe(pool);
        for (const s of stakes) {
          if (s.side !== winning) expect(paid!.has(s.userId)).toBe(false);
          else {
            const floor = Math.floor((pool * s.points) / total);
            expect(paid!.get(s.userId)).toBeGreaterThanOrEqual(floor);
            expect(paid!.get(s.userId)).toBeLessThanOrEqual(floor + 1);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives leftover units to the largest stakes, ties to the earliest bet', () => {
    // pool 10, winners 1+1+1 → floor(10/3)=3 each, leftover 1 → earliest of the ties.
    const stakes: Stake[] = [
      { userId: 'late', side: 'SUCCEEDED', points: 1, order: 2 },
      { userId: 'early', side: 'SUCCEEDED', points: 1, order: 0 },
      { userId: 'mid', side: 'SUCCEEDED', points: 1, order: 1 },
      { userId: 'loser', side: 'FAILED', points: 7, order: 3 },
    ];
    expect(Object.fromEntries(parimutuel(stakes, 'SUCCEEDED')!)).toEqual({ early: 4, mid: 3, late: 3 });
    // pool 10, winners 2 and 1 → 6.66 and 3.33 → 6 and 3, leftover 1 to the larger stake.
    const two: Stake[] = [
      { userId: 'small', side: 'FAILED', points: 1, order: 0 },
      { userId: 'big', side: 'FAILED', points: 2, order: 1 },
      { userId: 'x', side: 'SUCCEEDED', points: 7, order: 2 },
    ];
    expect(Object.fromEntries(parimutuel(two, 'FAILED')!)).toEqual({ big: 7, small: 3 });
  });
});
