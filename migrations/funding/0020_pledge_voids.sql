-- Held pledges voided before their mission was decided (src/missions,
-- voidHeldPledges): by a payment reversal that the backer's available cash
-- could not cover, or by an operator releasing a user's holds. The pledge
-- becomes REFUNDED (its hold voided, the money back in the wallet) and its
-- mission's totals drop; this row says why.
CREATE TABLE pledge_voids (
  pledge_id uuid PRIMARY KEY,
  mission_id uuid NOT NULL,
  backer_id uuid NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  -- The void transfer of the pledge's hold.
  transfer_id uuid NOT NULL UNIQUE,
  reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pledge_voids_backer_idx ON pledge_voids (backer_id, created_at DESC);
