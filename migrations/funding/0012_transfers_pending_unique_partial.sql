-- UNIQUE(pending_id), the rule that a pending transfer is posted or voided at
-- most once, stays as it was; only its index changes. A unique constraint
-- indexes every row, and most transfers (every pledge hold, charge, payout
-- and bet) have no pending_id: each wrote an index entry for its NULL that no
-- lookup and no uniqueness check ever reads. The partial index holds the
-- posts and voids alone, and NULLs were never in conflict anyway.
CREATE UNIQUE INDEX transfers_pending_once ON transfers (pending_id) WHERE pending_id IS NOT NULL;
ALTER TABLE transfers DROP CONSTRAINT transfers_pending_id_key;
