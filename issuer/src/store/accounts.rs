//! The queries of accounts (`accounts`) outside the shop: the account keys (`account_key`,
//! `account_tag`) of the trust authority, made at activation, read when tickets are signed
//! (`trust::issuance`) or an account is banned (`trust::revocation`); and what operators do to
//! accounts (`ops`): the holder of complimentary tickets found or made (`ops::catalogue`),
//! operator accounts made or promoted and read with their role (`ops::auth`), a ban, the
//! account a new activation link goes to (`ops::actions`), the accounts a search finds
//! (`ops::search`). The rules stay in those contexts. For the shop's orders (`shop::orders`): the
//! holder named on tickets, the language of an address, the email of a claimant. The shop's
//! own account queries are still in `shop::accounts` and `shop::auth`.

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

/// The id and status of the account of `email`, if there is one.
pub fn id_and_status_by_email<S: FromSql>(conn: &Connection, email: &str) -> Result<Option<(i64, S)>> {
    conn.query_row("SELECT id, status FROM accounts WHERE email = ?1", [email], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// The id of the account of `email`, if there is one.
pub fn id_by_email(conn: &Connection, email: &str) -> Result<Option<i64>> {
    conn.query_row("SELECT id FROM accounts WHERE email = ?1", [email], |r| r.get(0))
        .optional()
}

/// Makes an account active (its activation time kept if it had one).
pub fn activate(tx: &Connection, id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET status = 'active', activated_at = COALESCE(activated_at, ?2) WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// A new active buyer account without a password (`'!'`, no valid hash: its holder sets one
/// with the password reset); answers its id.
pub fn insert_active_without_password(tx: &Connection, email: &str, now: i64) -> Result<i64> {
    tx.query_row(
        "INSERT INTO accounts (email, password_hash, status, created_at, activated_at)
                 VALUES (?1, '!', 'active', ?2, ?2) RETURNING id",
        params![email, now],
        |r| r.get::<_, i64>(0),
    )
}

/// Makes an account an active operator with `operator_role` (its activation time kept if it
/// had one).
pub fn make_operator(tx: &Connection, id: i64, operator_role: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET role = 'operator', operator_role = ?3, status = 'active',
                        activated_at = COALESCE(activated_at, ?2)
                 WHERE id = ?1",
        params![id, now, operator_role],
    )?;
    Ok(())
}

/// A new active operator account without a password (`'!'`: it signs in with operator tokens
/// only); answers its id.
pub fn insert_operator(tx: &Connection, email: &str, operator_role: &str, now: i64) -> Result<i64> {
    tx.query_row(
        "INSERT INTO accounts (email, password_hash, role, operator_role, status, created_at, activated_at)
                 VALUES (?1, '!', 'operator', ?3, 'active', ?2, ?2) RETURNING id",
        params![email, now, operator_role],
        |r| r.get(0),
    )
}

/// The email and operator role (`None`: not set) of an active operator account.
pub fn active_operator(conn: &Connection, id: i64) -> Result<Option<(String, Option<String>)>> {
    conn.query_row(
        "SELECT email, operator_role FROM accounts WHERE id = ?1 AND role = 'operator' AND status = 'active'",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Bans an account.
pub fn ban(tx: &Connection, id: i64) -> Result<()> {
    tx.execute("UPDATE accounts SET status = 'banned' WHERE id = ?1", [id])?;
    Ok(())
}

/// An account's email, status and chosen language, if the account exists.
pub fn email_status_language<S: FromSql>(conn: &Connection, id: i64) -> Result<Option<(String, S, Option<String>)>> {
    conn.query_row(
        "SELECT email, status, language FROM accounts WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// An account a search finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: i64,
    pub email: String,
    pub status: String,
    pub role: String,
}

/// The accounts whose lower-cased email is `LIKE` `pattern` (`\` escapes), by email, at most 50.
pub fn email_like(conn: &Connection, pattern: &str) -> Result<Vec<Found>> {
    conn.prepare_cached(
        "SELECT id, email, status, role FROM accounts WHERE lower(email) LIKE ?1 ESCAPE '\\' ORDER BY email LIMIT 50",
    )?
    .query_map([pattern], |r| {
        Ok(Found {
            id: r.get(0)?,
            email: r.get(1)?,
            status: r.get(2)?,
            role: r.get(3)?,
        })
    })?
    .collect()
}

/// An account's email and display name (`shop::orders`: the holder named on tickets).
pub fn email_and_display_name(conn: &Connection, id: i64) -> Result<(String, String)> {
    conn.query_row("SELECT email, display_name FROM accounts WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// The language the account of this address chose: `None` without an account, `Some(None)`
/// when it chose none.
pub fn language_by_email(conn: &Connection, email: &str) -> Result<Option<Option<String>>> {
    conn.query_row("SELECT language FROM accounts WHERE email = ?1", [email], |r| {
        r.get::<_, Option<String>>(0)
    })
    .optional()
}

/// An account's email.
pub fn email(conn: &Connection, id: i64) -> Result<String> {
    conn.query_row("SELECT email FROM accounts WHERE id = ?1", [id], |r| r.get(0))
}
