//! The queries of buyers' refresh tokens (`refresh_tokens`: only each token's hash is kept,
//! tokens of one login share a family): a family started at login, a token read, used and
//! replaced when it is rotated, a family or every token of an account revoked. The rules
//! (rotation, reuse detection and its grace, lifetimes, the session generation bumped with a
//! revocation) are in `shop::auth`, which calls these; `shop::accounts` through it.

use super::sql::{Connection, OptionalExtension, Result, params};

/// A new refresh token of a family, by its hash, valid until `expires_at`.
pub fn insert(
    tx: &Connection,
    token_hash: &str,
    family: &str,
    account_id: i64,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, family, account_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, family, account_id, expires_at, now],
    )?;
    Ok(())
}

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub family: String,
    pub account_id: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The refresh token of this hash, if there is one.
pub fn by_hash(conn: &Connection, token_hash: &str) -> Result<Option<Token>> {
    conn.query_row(
        "SELECT family, account_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?1",
        [token_hash],
        |r| {
            Ok(Token {
                family: r.get(0)?,
                account_id: r.get(1)?,
                expires_at: r.get(2)?,
                used_at: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Records that a token was used (rotated) at `now`.
pub fn mark_used(tx: &Connection, token_hash: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1",
        params![token_hash, now],
    )?;
    Ok(())
}

/// Revokes every token of a family not revoked yet.
pub fn revoke_family(tx: &Connection, family: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
        params![family, now],
    )?;
    Ok(())
}

/// The family and account of the token of this hash, if there is one.
pub fn family_and_account(conn: &Connection, token_hash: &str) -> Result<Option<(String, i64)>> {
    conn.query_row(
        "SELECT family, account_id FROM refresh_tokens WHERE token_hash = ?1",
        [token_hash],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Revokes every token of an account not revoked yet.
pub fn revoke_all_of_account(tx: &Connection, account_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
        params![account_id, now],
    )?;
    Ok(())
}
