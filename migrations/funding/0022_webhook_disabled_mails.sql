-- An owner is mailed when one of their webhook endpoints is disabled after
-- failing for days: a second kind of account mail, whose reference is the
-- endpoint's id (the notifier asks the webhooks module what to say).
ALTER TABLE account_mails DROP CONSTRAINT account_mails_kind_check;
ALTER TABLE account_mails ADD CONSTRAINT account_mails_kind_check CHECK (kind IN ('email_verification', 'webhook_disabled'));
