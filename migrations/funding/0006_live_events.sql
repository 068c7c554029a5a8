-- The live event log behind the SSE streams. Rows are appended by one
-- consumer under an advisory lock, so `seq` grows in commit order: a reader
-- that has seen seq N has seen every event before it (resume without gaps).
CREATE TABLE live_events (
  seq bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  mission_id uuid NOT NULL,
  channel text NOT NULL,
  type text NOT NULL CHECK (type IN ('pledge', 'state', 'prediction')),
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_events_mission_idx ON live_events (mission_id, seq);
CREATE INDEX live_events_channel_idx ON live_events (channel, seq);
