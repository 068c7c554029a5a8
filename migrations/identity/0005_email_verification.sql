-- Verified email (API.md 1.1). An address is verified once its owner has
-- followed a mailed link; only then does ADMIN_EMAILS make the account an admin.
-- Monotonic: set once, never cleared (addresses never change).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- The one live verification of a user: asking again replaces the row (and so
-- the token of the old link), confirming deletes it (single use). The token
-- itself is never stored: it is a MAC of `id` under a secret derived from
-- signing key `key_id` (src/identity/verification.ts), recomputed when the
-- mail is composed; this row keeps only its sha256, which a database leak
-- cannot turn back into a usable link.
CREATE TABLE email_verifications (
  user_id uuid PRIMARY KEY REFERENCES users (id),
  id uuid NOT NULL,
  -- The address the link proves: a confirmation verifies the user only while
  -- it is still the user's address.
  email text NOT NULL,
  key_id text NOT NULL,
  token_hash bytea NOT NULL,
  -- Scheme and host the link points at (where the request came in).
  link_origin text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
-- Confirmations look the token up by its hash.
CREATE UNIQUE INDEX email_verifications_token_hash_key ON email_verifications (token_hash);
-- The notifier asks for the mail of a verification by its id.
CREATE UNIQUE INDEX email_verifications_id_key ON email_verifications (id);
