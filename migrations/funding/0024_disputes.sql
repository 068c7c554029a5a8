-- Proof, dispute window and review (API.md Part 2, "Outcomes backers can
-- trust"). A channel may give backers a window to contest a decision: the
-- decision then moves the mission ACTIVE → CONFIRMING with its proposed
-- outcome; the sweeper moves it into that outcome once the window ends
-- (src/missions/expiry.ts), or disputes reaching the channel's threshold move
-- it to IN_REVIEW, where an admin resolves it. Nothing is captured or
-- refunded before the final outcome: settlement starts only then.
ALTER TABLE channels
  ADD COLUMN dispute_window_seconds int NOT NULL DEFAULT 0 CHECK (dispute_window_seconds BETWEEN 0 AND 86400),
  ADD COLUMN dispute_threshold_bps int NOT NULL DEFAULT 3000 CHECK (dispute_threshold_bps BETWEEN 1 AND 10000);

ALTER TABLE missions DROP CONSTRAINT missions_state_check;
ALTER TABLE missions
  ADD CONSTRAINT missions_state_check
    CHECK (state IN ('PROPOSED', 'ACTIVE', 'CONFIRMING', 'IN_REVIEW', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED')),
  -- What the owner decided (kept after the final outcome, as history).
  ADD COLUMN proposed_outcome text CHECK (proposed_outcome IN ('SUCCEEDED', 'FAILED')),
  ADD COLUMN dispute_ends_at timestamptz,
  -- The channel's threshold when the decision was made: a later change of
  -- settings does not move a window that is already open.
  ADD COLUMN dispute_threshold_bps int CHECK (dispute_threshold_bps BETWEEN 1 AND 10000),
  ADD COLUMN proof_url text CHECK (char_length(proof_url) <= 500),
  ADD COLUMN note text CHECK (char_length(note) <= 500),
  -- An admin's resolution of a disputed mission (IN_REVIEW → its outcome).
  ADD COLUMN reviewed_at timestamptz,
  ADD COLUMN reviewed_by uuid,
  ADD CONSTRAINT missions_confirming_check
    CHECK (state NOT IN ('CONFIRMING', 'IN_REVIEW') OR (proposed_outcome IS NOT NULL AND dispute_ends_at IS NOT NULL AND dispute_threshold_bps IS NOT NULL));

-- The sweeper's queue of windows to end.
CREATE INDEX missions_confirming_idx ON missions (dispute_ends_at) WHERE state = 'CONFIRMING';
-- The ops page's review queue (and any state listed across channels).
CREATE INDEX missions_state_idx ON missions (state, created_at DESC, id DESC);

-- One dispute per backer per mission; `amount` is what the backer had
-- pledged (held) when they disputed.
CREATE TABLE mission_disputes (
  id uuid PRIMARY KEY,
  mission_id uuid NOT NULL REFERENCES missions (id),
  backer_id uuid NOT NULL,
  backer_name text NOT NULL,
  reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
  amount bigint NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mission_id, backer_id)
);
CREATE INDEX mission_disputes_mission_idx ON mission_disputes (mission_id, created_at DESC, id DESC);
