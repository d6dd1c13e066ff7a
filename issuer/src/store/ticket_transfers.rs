//! The queries of tickets given on (`ticket_transfers`) that operators read for a ticket's story
//! (`ops::search`): who first held it and every transfer. Making a transfer is the shop's
//! (`shop::orders`), with its queries.

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
