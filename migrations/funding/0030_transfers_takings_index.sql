-- The ops page's business figures (captured and fees per KST day, today's
-- among them) read the transfers that empty a settled mission's escrow: one
-- platform_fee and one streamer_payout per escrow slot. Indexed by time for
-- that reader only, so pledge holds, captures and charges pay nothing for it.
-- The reader's WHERE repeats this list literally (a partial index is used only
-- when the planner can prove the query's rows are inside it).
CREATE INDEX transfers_takings_at_idx ON transfers (created_at)
  WHERE code IN ('streamer_payout', 'platform_fee');
