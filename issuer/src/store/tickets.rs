//! The queries of issued tickets (`tickets`) that the gates' side reads: what a ticket is (its
//! offer, its flags) when scan intake counts who is inside. The rules that call them are in
//! `gates::intake`; the shop's own ticket queries are still in `shop`.

use super::sql::{Connection, Result, Value};

/// What one ticket is, as intake counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    pub event_id: u32,
    pub serial: u32,
    /// The offer's name (`og_shared::Offer::name`).
    pub offer: String,
    /// `og_shared::ticket::TicketFlags` bits.
    pub flags: u8,
}

/// The tickets with these serials (a statement's worth: one chunk of `store::scans::by_event`),
/// whatever their event: callers keep the rows of the event they asked about.
pub fn kinds_by_serial(conn: &Connection, serials: &[u32]) -> Result<Vec<Kind>> {
    // By primary key only (`serial`): naming the event would let a planner walk every ticket
    // of the event through its index.
    let by_serial: Vec<String> = (0..serials.len()).map(|i| format!("?{}", i + 1)).collect();
    let values: Vec<Value> = serials.iter().map(|s| Value::Integer(i64::from(*s))).collect();
    conn.query_all(
        &format!(
            "SELECT event_id, serial, offer, flags FROM tickets WHERE serial IN ({})",
            by_serial.join(", ")
        ),
        values,
        |r| {
            Ok(Kind {
                event_id: r.get::<_, u32>(0)?,
                serial: r.get::<_, u32>(1)?,
                offer: r.get::<_, String>(2)?,
                flags: r.get::<_, u8>(3)?,
            })
        },
    )
}
