//! The queries of operators' API tokens (`operator_tokens`: only each token's hash is kept):
//! the lookup of every operator request that carries one, a new token, revoking an operator's
//! tokens. The rules (the token's prefix, who counts as an operator, the role read at each
//! request) are in `ops::auth`, which calls these.

use super::sql::{Connection, OptionalExtension, Result, params};

/// The account id, email and operator role (`None`: not set) behind an unrevoked token of an
/// active operator account, by the token's hash.
pub fn active_operator(conn: &Connection, token_hash: &[u8]) -> Result<Option<(i64, String, Option<String>)>> {
    conn.query_row(
        "SELECT a.id, a.email, a.operator_role FROM operator_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND a.role = 'operator' AND a.status = 'active'",
        [token_hash],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// A new token of an operator account, by its hash.
pub fn insert(tx: &Connection, account_id: i64, token_hash: &[u8], now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO operator_tokens (account_id, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![account_id, token_hash, now],
    )?;
    Ok(())
}

/// Revokes every unrevoked token of the account of `email`; answers how many.
pub fn revoke_all_of_email(tx: &Connection, email: &str, now: i64) -> Result<usize> {
    tx.execute(
        "UPDATE operator_tokens SET revoked_at = ?2
         WHERE revoked_at IS NULL AND account_id = (SELECT id FROM accounts WHERE email = ?1)",
        params![email, now],
    )
}
