-- Users and their credentials. PII (email) lives only in this database.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 50),
  -- argon2id PHC string; never leaves this database.
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Emails are stored lowercase, so one plain unique index gives case-insensitive uniqueness.
CREATE UNIQUE INDEX users_email_key ON users (email);
