//! The queries of the one-time links mailed to buyers (`mail_tokens`: only each token's hash is
//! kept) that operators make: a new activation link for a pending account (`ops::actions`, which
//! checks that the account waits for one and queues the mail). The shop's own link queries
//! (sign-up, activation, password reset) are still in `shop::accounts`.

use super::sql::{Connection, Result, params};

/// A new activation link of an account, by its token's hash, valid until `expires_at`.
pub fn insert_activation(tx: &Connection, token_hash: &str, account_id: i64, expires_at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO mail_tokens (token_hash, account_id, purpose, expires_at) VALUES (?1, ?2, 'activate', ?3)",
        params![token_hash, account_id, expires_at],
    )?;
    Ok(())
}
