-- Results of periodic `ledger verify` runs (by the sweeper, or on demand from
-- the ops API), so any process can show the last one.
CREATE TABLE ledger_verifications (
  id bigserial PRIMARY KEY,
  checked_at timestamptz NOT NULL DEFAULT now(),
  ok boolean NOT NULL,
  duration_ms int NOT NULL,
  report jsonb NOT NULL
);
