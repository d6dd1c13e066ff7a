//! The queries of console sessions (`operator_sessions`: only each session id's hash is kept):
//! sign-in, logout, the lookup of every console request and the refresh of `last_seen_at`. The
//! rules (idle and absolute lifetimes, how often a session is touched, who counts as an
//! operator) are in `ops::auth`, which calls these.

use super::sql::{Connection, OptionalExtension, Result, params};

/// A new session of an operator account, by its id's hash, seen at `now`.
pub fn insert(tx: &Connection, id_hash: &[u8], account_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO operator_sessions (id_hash, account_id, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
        params![id_hash, account_id, now],
    )?;
    Ok(())
}

/// Ends a session that has not ended (unknown ids change nothing).
pub fn end(tx: &Connection, id_hash: &[u8], now: i64) -> Result<()> {
    tx.execute(
        "UPDATE operator_sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
        params![id_hash, now],
    )?;
    Ok(())
}

/// The operator of a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOperator {
    pub account_id: i64,
    pub email: String,
    /// When the session was last seen.
    pub last_seen_at: i64,
    /// `accounts.operator_role` (`None`: not set).
    pub operator_role: Option<String>,
}

/// The operator of a session not ended, seen after `seen_after` and made after `created_after`,
/// whose account is an active operator's.
pub fn live_operator(
    conn: &Connection,
    id_hash: &[u8],
    seen_after: i64,
    created_after: i64,
) -> Result<Option<LiveOperator>> {
    conn.query_row(
        "SELECT a.id, a.email, s.last_seen_at, a.operator_role FROM operator_sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.id_hash = ?1 AND s.ended_at IS NULL AND s.last_seen_at > ?2 AND s.created_at > ?3
               AND a.role = 'operator' AND a.status = 'active'",
        params![id_hash, seen_after, created_after],
        |r| {
            Ok(LiveOperator {
                account_id: r.get(0)?,
                email: r.get(1)?,
                last_seen_at: r.get(2)?,
                operator_role: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Records that a session not ended was seen at `now`.
pub fn touch(tx: &Connection, id_hash: &[u8], now: i64) -> Result<()> {
    tx.execute(
        "UPDATE operator_sessions SET last_seen_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
        params![id_hash, now],
    )?;
    Ok(())
}
