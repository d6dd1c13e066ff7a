-- Migration 13: a queued mail names the account it is addressed to (see the SQLite text beside
-- this file for the meaning).
ALTER TABLE mail_outbox ADD COLUMN account_id BIGINT REFERENCES accounts (id);
CREATE INDEX mail_outbox_by_account ON mail_outbox (account_id) WHERE account_id IS NOT NULL;
