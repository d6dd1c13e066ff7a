//! The queries of the account keys (`accounts.account_key`, `account_tag`) of the trust
//! authority: made at activation, read when tickets are signed (`trust::issuance`) or an
//! account is banned (`trust::revocation`). The shop's own account queries are still in
//! `shop::accounts` and `shop::auth`.

use super::sql::{Connection, FromSql, OptionalExtension, Result, params};

/// An account's tag (hex, `None` before activation) and status, if the account exists.
pub fn tag_and_status<S: FromSql>(conn: &Connection, account_id: i64) -> Result<Option<(Option<String>, S)>> {
    conn.query_row(
        "SELECT account_tag, status FROM accounts WHERE id = ?1",
        [account_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// An account's tag (hex; `None` inside when it has no key yet), if the account exists.
pub fn tag(conn: &Connection, account_id: i64) -> Result<Option<Option<String>>> {
    conn.query_row("SELECT account_tag FROM accounts WHERE id = ?1", [account_id], |r| {
        r.get(0)
    })
    .optional()
}

/// Stores an account's key and its tag.
pub fn set_key(tx: &Connection, account_id: i64, key: &[u8], tag_hex: &str) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET account_key = ?1, account_tag = ?2 WHERE id = ?3",
        params![key, tag_hex, account_id],
    )?;
    Ok(())
}
