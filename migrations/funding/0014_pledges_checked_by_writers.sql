-- A pledge row references its mission, its hold transfer and the two
-- accounts of that hold without foreign keys, as transfers reference their
-- accounts since 0010. Both statements that write pledges (hold and holdMany
-- in src/missions/service.ts) take the mission row FOR SHARE, update both
-- accounts under lock and insert the hold transfer in the same statement;
-- the foreign keys checked those same rows again, one lookup and one row
-- lock each, four per pledge: the largest part of a batch's time after the
-- ledger's own work. Missions, accounts and transfers are never deleted (the
-- app roles may not), and `missionlink ledger verify` checks every pledge
-- against its hold: same accounts, amount and mission, pending while the
-- pledge is HELD.
ALTER TABLE pledges
  DROP CONSTRAINT pledges_mission_id_fkey,
  DROP CONSTRAINT pledges_hold_transfer_id_fkey,
  DROP CONSTRAINT pledges_wallet_account_id_fkey,
  DROP CONSTRAINT pledges_escrow_account_id_fkey;
