//! The queries of accounts (`accounts`): the account keys (`account_key`,
//! `account_tag`) of the trust authority, made at activation, read when tickets are signed
//! (`trust::issuance`) or an account is banned (`trust::revocation`); and what operators do to
//! accounts (`ops`): the holder of complimentary tickets found or made (`ops::catalogue`),
//! operator accounts made or promoted and read with their role (`ops::auth`), a ban, the
//! account a new activation link goes to (`ops::actions`), the accounts a search finds
//! (`ops::search`); for the shop's orders (`shop::orders`): the holder named on tickets, the
//! account and language of an address, the email of a claimant; and the buyer's own account (`shop`):
//! sign-up, activation, the credentials a login checks, the password and profile changed, the
//! data export and the erasure of a deleted account (`shop::accounts`), the session generation
//! and the signed-in buyer (`shop::auth`). The rules stay in those contexts.

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

/// An account's email.
pub fn email(conn: &Connection, id: i64) -> Result<String> {
    conn.query_row("SELECT email FROM accounts WHERE id = ?1", [id], |r| r.get(0))
}

/// The id and chosen language of the account of `email`, if there is one.
pub fn id_and_language_by_email(conn: &Connection, email: &str) -> Result<Option<(i64, Option<String>)>> {
    conn.query_row("SELECT id, language FROM accounts WHERE email = ?1", [email], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// A new pending buyer account (terms accepted at `now`); answers its id.
pub fn insert_pending(
    tx: &Connection,
    email: &str,
    password_hash: &str,
    display_name: &str,
    language: Option<&str>,
    now: i64,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO accounts (email, password_hash, display_name, created_at, language, terms_accepted_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?4) RETURNING id",
        params![email, password_hash, display_name, now, language],
        |r| r.get::<_, i64>(0),
    )
}

/// Sets an account's chosen language.
pub fn set_language(tx: &Connection, id: i64, language: &str) -> Result<()> {
    tx.execute("UPDATE accounts SET language = ?2 WHERE id = ?1", params![id, language])?;
    Ok(())
}

/// Makes a pending account active at `now` (any other changes nothing).
pub fn activate_pending(tx: &Connection, id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET status = 'active', activated_at = ?2 WHERE id = ?1 AND status = 'pending'",
        params![id, now],
    )?;
    Ok(())
}

/// The id, password hash and status of the account of `email`, if there is one.
pub fn credentials_by_email<S: FromSql>(conn: &Connection, email: &str) -> Result<Option<(i64, String, S)>> {
    conn.query_row(
        "SELECT id, password_hash, status FROM accounts WHERE email = ?1",
        [email],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// The id and chosen language of the active account of `email`, if there is one.
pub fn active_id_and_language_by_email(conn: &Connection, email: &str) -> Result<Option<(i64, Option<String>)>> {
    conn.query_row(
        "SELECT id, language FROM accounts WHERE email = ?1 AND status = 'active'",
        [email],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// An account's password hash, if the account exists.
pub fn password_hash(conn: &Connection, id: i64) -> Result<Option<String>> {
    conn.query_row("SELECT password_hash FROM accounts WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// Sets an account's password hash.
pub fn set_password_hash(tx: &Connection, id: i64, password_hash: &str) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
        params![id, password_hash],
    )?;
    Ok(())
}

/// An account's email and chosen language ([`super::sql::Error::QueryReturnedNoRows`] when
/// it does not exist).
pub fn email_and_language(conn: &Connection, id: i64) -> Result<(String, Option<String>)> {
    conn.query_row("SELECT email, language FROM accounts WHERE id = ?1", [id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })
}

/// Sets an account's name and chosen language.
pub fn set_name_and_language(tx: &Connection, id: i64, display_name: &str, language: &str) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET display_name = ?2, language = ?3 WHERE id = ?1",
        params![id, display_name, language],
    )?;
    Ok(())
}

/// What is kept about an account itself, for its owner's data export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub email: String,
    pub display_name: String,
    pub language: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub terms_accepted_at: Option<i64>,
}

/// What is kept about an account ([`super::sql::Error::QueryReturnedNoRows`] when it does not
/// exist).
pub fn kept(conn: &Connection, id: i64) -> Result<Kept> {
    conn.query_row(
        "SELECT email, display_name, language, status, created_at, activated_at, terms_accepted_at
                 FROM accounts WHERE id = ?1",
        [id],
        |r| {
            Ok(Kept {
                email: r.get(0)?,
                display_name: r.get(1)?,
                language: r.get(2)?,
                status: r.get(3)?,
                created_at: r.get(4)?,
                activated_at: r.get(5)?,
                terms_accepted_at: r.get(6)?,
            })
        },
    )
}

/// Erases an account's personal data: its email becomes `deleted-<id>@deleted.invalid`, its
/// name and language go, its password hash becomes one no password matches.
pub fn erase_personal_data(tx: &Connection, id: i64) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET email = 'deleted-' || CAST(id AS TEXT) || '@deleted.invalid',
                        display_name = '', password_hash = '!deleted', language = NULL
                 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// An account's session generation, if the account exists.
pub fn session_gen(conn: &Connection, id: i64) -> Result<Option<i64>> {
    conn.query_row("SELECT session_gen FROM accounts WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// Moves an account to its next session generation.
pub fn bump_session_gen(tx: &Connection, id: i64) -> Result<()> {
    tx.execute("UPDATE accounts SET session_gen = session_gen + 1 WHERE id = ?1", [id])?;
    Ok(())
}

/// An account's status, if the account exists.
pub fn status<S: FromSql>(conn: &Connection, id: i64) -> Result<Option<S>> {
    conn.query_row("SELECT status FROM accounts WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// An active account as a signed-in buyer's requests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveBuyer {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub session_gen: i64,
    pub language: Option<String>,
}

/// The account `id` if it is active.
pub fn active_buyer(conn: &Connection, id: i64) -> Result<Option<ActiveBuyer>> {
    conn.query_row(
        "SELECT id, email, display_name, role, session_gen, language FROM accounts WHERE id = ?1 AND status = 'active'",
        [id],
        |r| {
            Ok(ActiveBuyer {
                id: r.get(0)?,
                email: r.get(1)?,
                display_name: r.get(2)?,
                role: r.get(3)?,
                session_gen: r.get(4)?,
                language: r.get(5)?,
            })
        },
    )
    .optional()
}
