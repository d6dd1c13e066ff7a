-- Migration 10: what buyers and operators read in their own language and time (issues 14, 15).
-- Each event's IANA time zone and the venue's street address (every time shown to a buyer or a
-- steward is local to the venue).
ALTER TABLE events ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Paris';
ALTER TABLE events ADD COLUMN venue_address TEXT NOT NULL DEFAULT '';
-- The buyer's chosen language ('fr', 'en', ...; NULL: none chosen) and when they accepted the
-- terms of sale (NULL for accounts made before consent was asked).
ALTER TABLE accounts ADD COLUMN language TEXT;
ALTER TABLE accounts ADD COLUMN terms_accepted_at INTEGER;
-- What an operator may do; NULL for buyers. Operators made before roles existed are admins.
ALTER TABLE accounts ADD COLUMN operator_role TEXT
    CHECK (operator_role IS NULL OR operator_role IN ('admin', 'supervisor', 'support'));
UPDATE accounts SET operator_role = 'admin' WHERE role = 'operator';
-- Every change an operator makes (events, offers, revocations, refunds...), append-only.
CREATE TABLE ops_audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    operator_id INTEGER REFERENCES accounts (id),
    action      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX ops_audit_by_time ON ops_audit (at);
CREATE INDEX ops_audit_by_subject ON ops_audit (subject, at);
