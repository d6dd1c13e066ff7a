-- Migration 12: mails wait in the database until a mail server took them.
-- A mail is queued in the transaction of the change it tells of (an account created, an order
-- paid, a refund granted...), so a change is never committed without its mail, whichever replica
-- made it and whether or not it lived to send it. Any replica's worker claims due mails (a claim
-- is `next_attempt_at` moved past the claim's length), sends them and deletes each one the mail
-- server accepted; one it turned away waits a growing pause and is tried again.
-- `message` is the mail as JSON (`shop::mail::Queued`): it may hold an activation or reset link,
-- and is gone once the mail is sent.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
