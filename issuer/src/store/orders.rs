//! The queries of buyers' orders (`orders`) that operators read: the orders a search finds
//! (`ops::search`) and the CSV export a page at a time (`ops::export`), each with its buyer's
//! email; the order of a payment the webhook names (`shop::webhook`: its buyer's account for the
//! write scope, whether it exists). The shop's own order queries (cart, checkout, payment,
//! refunds) are still in `shop::orders`.

use super::sql::{Connection, OptionalExtension, Result, Row, params};

/// An order a search finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: i64,
    pub buyer_email: String,
    pub status: String,
    pub total_cents: i64,
    pub created_at: i64,
}

const FOUND: &str = "SELECT o.id, a.email, o.status, o.total_cents, o.created_at
     FROM orders o JOIN accounts a ON a.id = o.account_id";

fn found(r: &Row<'_>) -> Result<Found> {
    Ok(Found {
        id: r.get(0)?,
        buyer_email: r.get(1)?,
        status: r.get(2)?,
        total_cents: r.get(3)?,
        created_at: r.get(4)?,
    })
}

/// The order with this id (none or one).
pub fn found_by_id(conn: &Connection, id: i64) -> Result<Vec<Found>> {
    conn.prepare_cached(&format!("{FOUND} WHERE o.id = ?1"))?
        .query_map([id], found)?
        .collect()
}

/// The orders whose buyer's lower-cased email is `LIKE` `pattern` (`\` escapes), newest first,
/// at most 50.
pub fn found_by_buyer_email_like(conn: &Connection, pattern: &str) -> Result<Vec<Found>> {
    conn.prepare_cached(&format!(
        "{FOUND} WHERE lower(a.email) LIKE ?1 ESCAPE '\\' ORDER BY o.id DESC LIMIT 50"
    ))?
    .query_map([pattern], found)?
    .collect()
}

/// An order as the CSV export writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub id: i64,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub status: String,
    pub buyer_email: String,
    pub total_cents: i64,
}

/// The orders made in `[from, to)` with an id above `after`, by id, at most `limit`.
pub fn export_page(conn: &Connection, after: i64, from: i64, to: i64, limit: i64) -> Result<Vec<Exported>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.created_at, o.paid_at, o.status, a.email, o.total_cents
                 FROM orders o JOIN accounts a ON a.id = o.account_id
                 WHERE o.id > ?1 AND o.created_at >= ?2 AND o.created_at < ?3 ORDER BY o.id LIMIT ?4",
    )?;
    stmt.query_map(params![after, from, to, limit], |r| {
        Ok(Exported {
            id: r.get(0)?,
            created_at: r.get(1)?,
            paid_at: r.get(2)?,
            status: r.get(3)?,
            buyer_email: r.get(4)?,
            total_cents: r.get(5)?,
        })
    })?
    .collect()
}

/// The buyer's account of the order of a payment, if there is such an order.
pub fn account_by_payment_id(conn: &Connection, payment_id: &str) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT account_id FROM orders WHERE payment_id = ?1",
        [payment_id],
        |r| r.get(0),
    )
    .optional()
}

/// The id of the order of a payment, if there is one.
pub fn id_by_payment_id(conn: &Connection, payment_id: &str) -> Result<Option<i64>> {
    conn.query_row("SELECT id FROM orders WHERE payment_id = ?1", [payment_id], |r| {
        r.get(0)
    })
    .optional()
}
