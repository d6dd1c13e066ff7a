//! The queries of refunds due (`refunds_due`) that operators read: a ticket's refunds for its
//! story (`ops::search`) and what an event's offers owe back (`ops::dashboard`). Recording and
//! settling refunds are the shop's (`shop::refunds`, `shop::orders`), with their queries.

use super::sql::{Connection, Result};

/// A refund due for a ticket, with the address of the operator who decided it (if one did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfTicket {
    pub reason: String,
    pub amount_cents: i64,
    pub created_at: i64,
    pub settled_at: Option<i64>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

/// The refunds due for the ticket with this serial.
pub fn of_ticket(conn: &Connection, serial: i64) -> Result<Vec<OfTicket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.reason, r.amount_cents, r.created_at, r.settled_at, d.email, r.note
         FROM refunds_due r LEFT JOIN accounts d ON d.id = r.decided_by WHERE r.serial = ?1",
    )?;
    stmt.query_map([serial], |r| {
        Ok(OfTicket {
            reason: r.get(0)?,
            amount_cents: r.get(1)?,
            created_at: r.get(2)?,
            settled_at: r.get(3)?,
            decided_by: r.get(4)?,
            note: r.get(5)?,
        })
    })?
    .collect()
}

/// What the refunds due for an event's tickets amount to per offer (cents), offers without one
/// left out.
pub fn amounts_by_offer(conn: &Connection, event: u32) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.offer, CAST(COALESCE(SUM(r.amount_cents), 0) AS BIGINT)
         FROM refunds_due r JOIN tickets t ON t.serial = r.serial WHERE t.event_id = ?1 GROUP BY t.offer",
    )?;
    stmt.query_map([event], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect()
}
