import type { Queryable } from '../platform/db.ts';

/** What settled missions took on one calendar day in Korea. */
export interface DayTakings {
  /** The KST day, YYYY-MM-DD. */
  day: string;
  /** KRW captured from backers (before fees): what left the missions' escrow. */
  captured: number;
  /** The platform's fee on it (PLATFORM_FEE_BPS). */
  fees: number;
}

/**
 * Captured cash and platform fees per KST day (Asia/Seoul), for the `days`
 * days up to the one of `at` (oldest first, days without a settlement as
 * zeros): the transfers that empty a settled mission's escrow, a fee and a
 * payout per slot (SettlementWorker.finish), dated by their commit.
 * @example const [today] = await takingsByKstDay(pool, 1);
 */
export async function takingsByKstDay(c: Queryable, days: number, at: Date = new Date()): Promise<DayTakings[]> {
  const { rows } = await c.query<{ day: string; captured: string; fees: string }>(
    `WITH span AS (
       SELECT d::date AS day
         FROM generate_series(($2::timestamptz AT TIME ZONE 'Asia/Seoul')::date - ($1::int - 1),
                              ($2::timestamptz AT TIME ZONE 'Asia/Seoul')::date, interval '1 day') d
     ), taken AS (
       -- transfers_takings_at_idx: the code list must stay the index's, word for word.
       SELECT (created_at AT TIME ZONE 'Asia/Seoul')::date AS day,
              sum(amount) AS captured,
              coalesce(sum(amount) FILTER (WHERE code = 'platform_fee'), 0) AS fees
         FROM transfers
        WHERE code IN ('streamer_payout', 'platform_fee')
          AND created_at >= (SELECT min(day) FROM span)::timestamp AT TIME ZONE 'Asia/Seoul'
          AND created_at < ((SELECT max(day) FROM span) + 1)::timestamp AT TIME ZONE 'Asia/Seoul'
        GROUP BY 1
     )
     SELECT to_char(span.day, 'YYYY-MM-DD') AS day, coalesce(taken.captured, 0)::bigint AS captured, coalesce(taken.fees, 0)::bigint AS fees
       FROM span LEFT JOIN taken USING (day)
      ORDER BY span.day`,
    [days, at],
  );
  return rows.map((r) => ({ day: r.day, captured: Number(r.captured), fees: Number(r.fees) }));
}
