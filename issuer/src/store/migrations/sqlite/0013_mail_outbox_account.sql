-- Migration 13: a queued mail names the account it is addressed to, so that deleting an account
-- erases the mails still waiting for it (their `message` holds its address).
-- `account_id`: the account the mail goes to; NULL for a mail to an address with no account (an
-- invitation to claim a ticket) and for the mails queued before this migration, which keep being
-- sent or dropped as before. Accounts are never deleted, only erased
-- (`shop::accounts::delete_account`), which deletes the account's queued mails by this column.
ALTER TABLE mail_outbox ADD COLUMN account_id INTEGER REFERENCES accounts (id);
CREATE INDEX mail_outbox_by_account ON mail_outbox (account_id) WHERE account_id IS NOT NULL;
