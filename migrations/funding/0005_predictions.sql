-- Points-only predictions: one per mission, opened when it is accepted.
-- LOCKED is not stored: a prediction is locked from locks_at on.
CREATE TABLE predictions (
  mission_id uuid PRIMARY KEY REFERENCES missions (id),
  state text NOT NULL CHECK (state IN ('OPEN', 'RESOLVED', 'REFUNDED')),
  opened_at timestamptz NOT NULL,
  locks_at timestamptz NOT NULL,
  resolved_at timestamptz,
  winning_side text CHECK (winning_side IN ('SUCCEEDED', 'FAILED'))
);

-- One side per user per prediction; more points on that side add up.
CREATE TABLE prediction_stakes (
  mission_id uuid NOT NULL REFERENCES predictions (mission_id),
  user_id uuid NOT NULL,
  side text NOT NULL CHECK (side IN ('SUCCEEDED', 'FAILED')),
  points bigint NOT NULL CHECK (points > 0),
  first_bet_at timestamptz NOT NULL,
  first_bet_id uuid NOT NULL,
  payout bigint,
  PRIMARY KEY (mission_id, user_id)
);

CREATE TABLE prediction_bets (
  id uuid PRIMARY KEY,
  mission_id uuid NOT NULL REFERENCES predictions (mission_id),
  user_id uuid NOT NULL,
  side text NOT NULL,
  points bigint NOT NULL CHECK (points > 0),
  transfer_id uuid NOT NULL REFERENCES transfers (id),
  created_at timestamptz NOT NULL
);
CREATE INDEX prediction_bets_mission_idx ON prediction_bets (mission_id, created_at);

-- Pool totals in slots, like mission_totals: a hot prediction is not one hot row.
CREATE TABLE prediction_totals (
  mission_id uuid NOT NULL REFERENCES predictions (mission_id),
  side text NOT NULL,
  slot int NOT NULL,
  points bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (mission_id, side, slot)
);
