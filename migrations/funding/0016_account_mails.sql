-- Mails about a user's account (the verification link of an address), sent by
-- the notifier like result mails: one row per event, created exactly once
-- from it (UNIQUE (kind, ref) and the inbox), then sent with retries.
-- This database holds user ids only: the address, the name and the link's
-- token are asked of the identity service when the mail is composed, so no
-- address and no usable token is ever written here.
CREATE TABLE account_mails (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('email_verification')),
  user_id uuid NOT NULL,
  -- What the mail is about, in the identity service's terms (a verification's id).
  ref uuid NOT NULL,
  -- 'dropped': the identity service no longer knows the reference (the link
  -- was replaced by a newer one, used or expired), so there is nothing to send.
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  UNIQUE (kind, ref)
);
-- The sender's work queue: only pending mails are indexed.
CREATE INDEX account_mails_due_idx ON account_mails (next_attempt_at) WHERE status = 'pending';
