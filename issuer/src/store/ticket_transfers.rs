//! The queries of tickets given on (`ticket_transfers`) that operators read for a ticket's story
//! (`ops::search`) and the shop's ticket history (`shop::orders::ticket_history`): who first
//! held it and every transfer; for `shop::orders`, the tickets an account gave and recording a
//! transfer (the rules stay there).

use super::sql::{Connection, OptionalExtension, Result};

/// The email of the sender of a ticket's first transfer, if it was ever given on.
pub fn first_sender(conn: &Connection, serial: i64) -> Result<Option<String>> {
    conn.query_row(
        "SELECT f.email FROM ticket_transfers x JOIN accounts f ON f.id = x.from_account
             WHERE x.serial = ?1 ORDER BY x.generation LIMIT 1",
        [serial],
        |r| r.get(0),
    )
    .optional()
}

/// One transfer of a ticket: the code generation it made, from and to whom, the people it
/// admits, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub generation: i64,
    pub from_email: String,
    pub to_email: String,
    pub admits: i64,
    pub at: i64,
}

/// Every transfer of a ticket, oldest generation first.
pub fn of_ticket(conn: &Connection, serial: i64) -> Result<Vec<Transfer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT x.generation, f.email, t.email, x.admits, x.at FROM ticket_transfers x
         JOIN accounts f ON f.id = x.from_account JOIN accounts t ON t.id = x.to_account
         WHERE x.serial = ?1 ORDER BY x.generation",
    )?;
    stmt.query_map([serial], |r| {
        Ok(Transfer {
            generation: r.get(0)?,
            from_email: r.get(1)?,
            to_email: r.get(2)?,
            admits: r.get(3)?,
            at: r.get(4)?,
        })
    })?
    .collect()
}

/// A ticket an account gave: its serial, event name, offer, the recipient's email, when, the
/// people the recipient's code admits, the venue's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub serial: u32,
    pub event_name: String,
    pub offer: String,
    pub to_email: String,
    pub at: i64,
    pub admits: u8,
    pub time_zone: String,
}

/// The tickets an account gave, newest first (`shop::orders::given_tickets`).
pub fn given_by(conn: &Connection, account_id: i64) -> Result<Vec<Given>> {
    conn.prepare_cached(
        "SELECT x.serial, e.name, t.offer, a.email, x.at, x.admits, e.time_zone FROM ticket_transfers x
             JOIN tickets t ON t.serial = x.serial JOIN events e ON e.id = t.event_id
             JOIN accounts a ON a.id = x.to_account
             WHERE x.from_account = ?1 ORDER BY x.at DESC, x.id DESC",
    )?
    .query_map([account_id], |r| {
        Ok(Given {
            serial: r.get(0)?,
            event_name: r.get(1)?,
            offer: r.get(2)?,
            to_email: r.get(3)?,
            at: r.get(4)?,
            admits: r.get(5)?,
            time_zone: r.get(6)?,
        })
    })?
    .collect()
}

/// Records a transfer: the code generation it made, from and to whom, the people it admits.
pub fn insert(
    tx: &Connection,
    serial: i64,
    generation: u8,
    from_account: i64,
    to_account: i64,
    admits: u8,
    at: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO ticket_transfers (serial, generation, from_account, to_account, admits, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        super::sql::params![serial, generation, from_account, to_account, admits, at],
    )?;
    Ok(())
}
