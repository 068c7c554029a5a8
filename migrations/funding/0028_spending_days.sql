-- What each guarded viewer pledged per KST day, kept by the pledge writer
-- (pledge_hold_batch) for the viewers that have a spending_guards row, so a
-- limit check reads at most 31 rows instead of summing a month of pledges.
-- The first guard row of a viewer backfills the month from `pledges`
-- (src/guardrails/service.ts), under the lock every pledge writer takes.
CREATE TABLE spending_days (
  user_id uuid NOT NULL,
  day date NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (user_id, day)
);
