//! The queries of the one-time links mailed to buyers (`mail_tokens`: only each token's hash is
//! kept): a new activation link for a pending account that operators make (`ops::actions`, which
//! checks that the account waits for one and queues the mail); the shop's activation and
//! password reset links, made, read and used once, and removed with a deleted account
//! (`shop::accounts`, which holds the rules: purposes, lifetimes, single use).

use super::sql::{Connection, OptionalExtension, Result, params};

/// A new activation link of an account, by its token's hash, valid until `expires_at`.
pub fn insert_activation(tx: &Connection, token_hash: &str, account_id: i64, expires_at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO mail_tokens (token_hash, account_id, purpose, expires_at) VALUES (?1, ?2, 'activate', ?3)",
        params![token_hash, account_id, expires_at],
    )?;
    Ok(())
}

/// A new password reset link of an account, by its token's hash, valid until `expires_at`.
pub fn insert_reset(tx: &Connection, token_hash: &str, account_id: i64, expires_at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO mail_tokens (token_hash, account_id, purpose, expires_at) VALUES (?1, ?2, 'reset', ?3)",
        params![token_hash, account_id, expires_at],
    )?;
    Ok(())
}

/// The account, expiry and use (if used) of the link of this hash and purpose (`activate`,
/// `reset`), if there is one.
pub fn by_hash(conn: &Connection, token_hash: &str, purpose: &str) -> Result<Option<(i64, i64, Option<i64>)>> {
    conn.query_row(
        "SELECT account_id, expires_at, used_at FROM mail_tokens WHERE token_hash = ?1 AND purpose = ?2",
        params![token_hash, purpose],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// Records that the link of this hash was used at `now`.
pub fn mark_used(tx: &Connection, token_hash: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE mail_tokens SET used_at = ?2 WHERE token_hash = ?1",
        params![token_hash, now],
    )?;
    Ok(())
}

/// Removes every link of an account.
pub fn delete_of_account(tx: &Connection, account_id: i64) -> Result<()> {
    tx.execute("DELETE FROM mail_tokens WHERE account_id = ?1", [account_id])?;
    Ok(())
}
