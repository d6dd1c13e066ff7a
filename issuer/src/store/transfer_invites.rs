//! The queries of invitations to claim a given ticket (`transfer_invites`, by the hash of their
//! one-time token): closing a ticket's open one, inserting one, reading an open one, closing it
//! when claimed. Called by `shop::orders` (`transfer_ticket`, `claim_invite`), which decides.

use super::sql::{Connection, OptionalExtension, Result, params};

/// Closes the ticket's open invitation, if any.
pub fn close_open_of_ticket(tx: &Connection, serial: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE transfer_invites SET closed_at = ?2 WHERE serial = ?1 AND closed_at IS NULL",
        params![serial, now],
    )?;
    Ok(())
}

/// A new invitation.
pub struct NewInvite<'a> {
    pub token_hash: &'a str,
    pub serial: i64,
    pub from_account: i64,
    pub to_email: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Inserts an invitation.
pub fn insert(tx: &Connection, i: &NewInvite<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO transfer_invites (token_hash, serial, from_account, to_email, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            i.token_hash,
            i.serial,
            i.from_account,
            i.to_email,
            i.created_at,
            i.expires_at
        ],
    )?;
    Ok(())
}

/// An open invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub id: i64,
    pub serial: i64,
    pub from_account: i64,
    pub to_email: String,
    pub expires_at: i64,
}

/// The open invitation with this token hash, if any.
pub fn open_by_token_hash(conn: &Connection, token_hash: &str) -> Result<Option<Open>> {
    conn.query_row(
        "SELECT id, serial, from_account, to_email, expires_at FROM transfer_invites
             WHERE token_hash = ?1 AND closed_at IS NULL",
        [token_hash],
        |r| {
            Ok(Open {
                id: r.get(0)?,
                serial: r.get(1)?,
                from_account: r.get(2)?,
                to_email: r.get(3)?,
                expires_at: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Closes an invitation.
pub fn close(tx: &Connection, id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE transfer_invites SET closed_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}
