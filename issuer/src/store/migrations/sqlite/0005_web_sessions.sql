-- Web security (issue 16): console sessions and the buyers' session generation.

-- Operator console sessions: the browser holds a random id in the `__Host-og_ops` cookie, the
-- server keeps its SHA-256. A session ends at logout, after 30 idle minutes or 12 hours.
CREATE TABLE operator_sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX operator_sessions_by_account ON operator_sessions(account_id);

-- Bumped at logout, refresh-token reuse and password changes: access tokens carry the
-- generation they were issued at, and sensitive actions refuse older ones.
ALTER TABLE accounts ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0;
