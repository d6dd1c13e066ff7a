//! The queries of orders' lines (`order_lines`, with their offers and events): checkout's
//! insert, an order's lines as its page and its receipt show them, the lines its tickets are
//! issued from, its events (whether one was cancelled, their ids and names). Called by
//! `shop::orders` (checkout, payment confirmation, the buyer's refund) and `shop::notice_mail`.

use super::sql::{Connection, Result, params};

/// Adds a line to an order (checkout).
pub fn insert(tx: &Connection, order_id: i64, offer_id: i64, quantity: i64, unit_price_cents: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (?1, ?2, ?3, ?4)",
        params![order_id, offer_id, quantity, unit_price_cents],
    )?;
    Ok(())
}

/// A line of an order as its buyer sees it, with its event's venue time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub offer_id: i64,
    pub event_id: i64,
    pub event_name: String,
    pub kind: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub time_zone: String,
}

/// An order's lines in the order they were added (`shop::orders::get_order`).
pub fn shown(conn: &Connection, order_id: i64) -> Result<Vec<Shown>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.offer_id, e.id, e.name, o.kind, l.quantity, l.unit_price_cents, e.time_zone
         FROM order_lines l JOIN offers o ON o.id = l.offer_id JOIN events e ON e.id = o.event_id
         WHERE l.order_id = ?1 ORDER BY l.id",
    )?;
    stmt.query_map([order_id], |r| {
        Ok(Shown {
            offer_id: r.get(0)?,
            event_id: r.get(1)?,
            event_name: r.get(2)?,
            kind: r.get(3)?,
            quantity: r.get(4)?,
            unit_price_cents: r.get(5)?,
            time_zone: r.get(6)?,
        })
    })?
    .collect()
}

/// What an order's tickets are issued from, line by line: (event id, offer kind, quantity,
/// unit price in cents).
pub fn to_issue(conn: &Connection, order_id: i64) -> Result<Vec<(i64, String, i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.event_id, o.kind, l.quantity, l.unit_price_cents FROM order_lines l JOIN offers o ON o.id = l.offer_id
         WHERE l.order_id = ?1 ORDER BY l.id",
    )?;
    stmt.query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect()
}

/// How many lines of an order are for a cancelled event.
pub fn count_for_cancelled_events(conn: &Connection, order_id: i64) -> Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM order_lines l JOIN offers o ON o.id = l.offer_id JOIN events e ON e.id = o.event_id
         WHERE l.order_id = ?1 AND e.status = 'cancelled'",
        [order_id],
        |r| r.get(0),
    )
}

/// The distinct events an order is for.
pub fn event_ids(conn: &Connection, order_id: i64) -> Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT DISTINCT o.event_id FROM order_lines l JOIN offers o ON o.id = l.offer_id WHERE l.order_id = ?1",
    )?
    .query_map([order_id], |r| r.get(0))?
    .collect()
}

/// The names of the distinct events an order is for, sorted (`shop::notice_mail`).
pub fn event_names(conn: &Connection, order_id: i64) -> Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT DISTINCT e.name FROM order_lines l JOIN offers o ON o.id = l.offer_id
             JOIN events e ON e.id = o.event_id WHERE l.order_id = ?1 ORDER BY e.name",
    )?
    .query_map([order_id], |r| r.get(0))?
    .collect()
}
