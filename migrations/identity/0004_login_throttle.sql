-- Failed-login counters in fixed windows, shared by every api process.
-- Keys: 'ip:<addr>' and 'acct-ip:<email>|<addr>'.
CREATE TABLE login_throttle (
  key text PRIMARY KEY,
  failures int NOT NULL CHECK (failures >= 0),
  window_start timestamptz NOT NULL
);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_start);
