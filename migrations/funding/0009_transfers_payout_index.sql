-- Transfers were indexed by mission for one reader: a streamer's payouts,
-- which only look at a mission's fee and payout transfers. Every pledge hold
-- and every settlement post or void paid for an entry in that index; now only
-- the few transfers that reader needs have one.
DROP INDEX transfers_mission_idx;
CREATE INDEX transfers_mission_payouts_idx ON transfers (mission_id)
  WHERE code IN ('streamer_payout', 'platform_fee');
