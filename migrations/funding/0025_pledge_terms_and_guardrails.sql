-- What a pledge carries beyond its amount (API.md Part 2), and the viewers'
-- spending guardrails the pledge writer checks in its own statement.

-- Each backer's choice on failure: REFUND follows the mission's
-- failure_keep_bps, DONATE is captured whole.
ALTER TABLE pledges
  ADD COLUMN on_failure text NOT NULL DEFAULT 'REFUND' CHECK (on_failure IN ('REFUND', 'DONATE')),
  -- Per-unit missions: the amount per unit the backer pledged; `amount` stays
  -- the hold (unit_amount × the mission's unit_max), the ledger's figure.
  ADD COLUMN unit_amount bigint CHECK (unit_amount > 0),
  -- The backer's message, as stored (the channel's blocked words masked).
  ADD COLUMN message text CHECK (char_length(message) <= 200),
  ADD COLUMN message_hidden boolean NOT NULL DEFAULT false;

-- Per-unit missions: "1,000원 per kill, up to 30"; `units` is the owner's
-- monotonic progress report.
ALTER TABLE missions
  ADD COLUMN unit_label text CHECK (char_length(unit_label) BETWEEN 1 AND 20),
  ADD COLUMN unit_max int CHECK (unit_max BETWEEN 1 AND 1000),
  ADD COLUMN units int NOT NULL DEFAULT 0,
  ADD CONSTRAINT missions_unit_whole CHECK ((unit_label IS NULL) = (unit_max IS NULL)),
  ADD CONSTRAINT missions_units_bounded CHECK (units >= 0 AND units <= coalesce(unit_max, 0));

-- Words a channel masks in messages (case-insensitive), and who it blocks.
ALTER TABLE channels ADD COLUMN blocked_words text[] NOT NULL DEFAULT '{}';
CREATE TABLE channel_blocks (
  channel text NOT NULL REFERENCES channels (handle),
  user_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, user_id)
);

-- A viewer's own spending limits (KRW per KST day and month; null: none),
-- a raise waiting its 24 hours, and self-exclusion. No row: no limits.
-- The pledge writer reads the row of each backer in its statement.
CREATE TABLE spending_guards (
  user_id uuid PRIMARY KEY,
  daily_limit bigint CHECK (daily_limit > 0),
  monthly_limit bigint CHECK (monthly_limit > 0),
  -- A raise (or removal) of either limit waits until pending_effective_at.
  pending_daily_set boolean NOT NULL DEFAULT false,
  pending_daily bigint CHECK (pending_daily > 0),
  pending_monthly_set boolean NOT NULL DEFAULT false,
  pending_monthly bigint CHECK (pending_monthly > 0),
  pending_effective_at timestamptz,
  self_excluded_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- pledge_hold_batch (src/missions/sql) takes each pledge's choice on failure
-- and message now: a new argument list, so the old function goes; the
-- routine runner creates the new one after the migrations.
DROP FUNCTION IF EXISTS pledge_hold_batch(uuid[], uuid[], text[], bigint[], timestamptz[], int[], uuid[], uuid[], uuid[], text[], text[], jsonb[], int, int);
