//! The queries of phone bindings (`ticket_bindings`) that operators read for a ticket's story
//! (`ops::search`). Binding a phone and ending a binding are the shop's (`shop::binding`), with
//! their queries.

use super::sql::{Connection, Result};

/// One binding of a ticket to a phone: its number, the phone's key tag, when it began, and when
/// and why it ended (if it did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_no: i64,
    pub key_tag: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

/// Every binding of a ticket, in order.
pub fn of_ticket(conn: &Connection, serial: i64) -> Result<Vec<Binding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT binding_no, key_tag, created_at, revoked_at, revoked_reason FROM ticket_bindings
         WHERE serial = ?1 ORDER BY binding_no",
    )?;
    stmt.query_map([serial], |r| {
        Ok(Binding {
            binding_no: r.get(0)?,
            key_tag: r.get(1)?,
            created_at: r.get(2)?,
            revoked_at: r.get(3)?,
            revoked_reason: r.get(4)?,
        })
    })?
    .collect()
}
