-- Migration 6: giving a ticket to someone without an account (issue 16, item 9).
--
-- A transfer answers the same whatever the recipient, so it cannot tell who has an account.
-- When the recipient has no active account, the ticket stays with its holder and the
-- recipient is mailed a one-time link to claim it once signed up; claiming runs the transfer
-- (and its lifecycle checks) then. Only the SHA-256 of the link's token is stored.
CREATE TABLE transfer_invites (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    serial       INTEGER NOT NULL REFERENCES tickets (serial),
    from_account INTEGER NOT NULL REFERENCES accounts (id),
    to_email     TEXT    NOT NULL COLLATE NOCASE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    -- Set when claimed, or when a newer invitation or a transfer replaced it.
    closed_at    INTEGER
);
CREATE INDEX transfer_invites_by_serial ON transfer_invites (serial, closed_at);
