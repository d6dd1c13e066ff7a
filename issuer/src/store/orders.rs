//! The queries of buyers' orders (`orders`) that operators read: the orders a search finds
//! (`ops::search`) and the CSV export a page at a time (`ops::export`), each with its buyer's
//! email; and the shop's (`shop::orders`, which decides): an order as its buyer sees it, checkout's
//! pending order and its payment id, payment confirmation, expiry of holds, the buyer's
//! cancellation or refund and an operator's, the buyer an order mail goes to
//! (`shop::order_mail`), what a buyer's refund owes (`shop::notice_mail`), and the order of a
//! payment the webhook names (`shop::webhook`: its buyer's account for the write scope, whether
//! it exists).

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

/// An order as its buyer sees it (`shop::orders::get_order`), its status read as `S`
/// (`crate::domain::OrderStatus` for the shop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfBuyer<S> {
    pub id: i64,
    pub status: S,
    pub total_cents: i64,
    pub payment_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The order with this id if it is the account's.
pub fn of_buyer<S: super::sql::FromSql>(
    conn: &Connection,
    account_id: i64,
    order_id: i64,
) -> Result<Option<OfBuyer<S>>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT id, status, total_cents, payment_id, created_at, expires_at FROM orders
             WHERE id = ?1 AND account_id = ?2",
        params![order_id, account_id],
        |r| {
            Ok(OfBuyer {
                id: r.get(0)?,
                status: r.get(1)?,
                total_cents: r.get(2)?,
                payment_id: r.get(3)?,
                created_at: r.get(4)?,
                expires_at: r.get(5)?,
            })
        },
    ))
}

/// The ids of an account's orders, newest first, at most 100.
pub fn ids_of_account(conn: &Connection, account_id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM orders WHERE account_id = ?1 ORDER BY id DESC LIMIT 100")?;
    stmt.query_map([account_id], |r| r.get(0))?.collect()
}

/// Whether a pending order's hold ran out at `now`.
pub fn any_overdue(conn: &Connection, now: i64) -> Result<bool> {
    Ok(super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT 1 FROM orders WHERE status = 'pending' AND expires_at <= ?1 LIMIT 1",
        [now],
        |_| Ok(()),
    ))?
    .is_some())
}

/// The pending orders whose hold ran out at `now`.
pub fn overdue_ids(conn: &Connection, now: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM orders WHERE status = 'pending' AND expires_at <= ?1")?;
    stmt.query_map([now], |r| r.get(0))?.collect()
}

/// Marks an order cancelled at `now`.
pub fn set_cancelled(tx: &Connection, order_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE orders SET status = 'cancelled', closed_at = ?2 WHERE id = ?1",
        params![order_id, now],
    )?;
    Ok(())
}

/// The account's order made with this idempotency key, if any.
pub fn id_by_idempotency_key(conn: &Connection, account_id: i64, key: &str) -> Result<Option<i64>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT id FROM orders WHERE account_id = ?1 AND idempotency_key = ?2",
        params![account_id, key],
        |r| r.get(0),
    ))
}

/// Inserts a pending order holding its seats until `expires_at`; its id.
pub fn insert_pending(
    tx: &Connection,
    account_id: i64,
    total_cents: i64,
    idempotency_key: &str,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO orders (account_id, status, total_cents, idempotency_key, created_at, expires_at)
         VALUES (?1, 'pending', ?2, ?3, ?4, ?5) RETURNING id",
        params![account_id, total_cents, idempotency_key, now, expires_at],
        |r| r.get::<_, i64>(0),
    )
}

/// Records the payment opened for an order.
pub fn set_payment_id(tx: &Connection, order_id: i64, payment_id: &str) -> Result<()> {
    tx.execute(
        "UPDATE orders SET payment_id = ?2 WHERE id = ?1",
        params![order_id, payment_id],
    )?;
    Ok(())
}

/// The order behind a payment: (id, account id, status, total in cents).
pub fn by_payment_id(conn: &Connection, payment_id: &str) -> Result<Option<(i64, i64, String, i64)>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT id, account_id, status, total_cents FROM orders WHERE payment_id = ?1",
        [payment_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    ))
}

/// Marks an order paid at `now`.
pub fn set_paid(tx: &Connection, order_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE orders SET status = 'paid', paid_at = ?2 WHERE id = ?1",
        params![order_id, now],
    )?;
    Ok(())
}

/// Paid orders without a purchase (no ticket issued): (order id, account id).
pub fn paid_without_purchase(conn: &Connection) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT o.id, o.account_id FROM orders o
             WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.order_id = o.id)",
    )?;
    stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        .collect()
}

/// The status of the account's order with this id, if it is theirs.
pub fn status_of_buyer(conn: &Connection, account_id: i64, order_id: i64) -> Result<Option<String>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT status FROM orders WHERE id = ?1 AND account_id = ?2",
        params![order_id, account_id],
        |r| r.get(0),
    ))
}

/// An order's total in cents.
pub fn total_cents(conn: &Connection, order_id: i64) -> Result<i64> {
    conn.query_row("SELECT total_cents FROM orders WHERE id = ?1", [order_id], |r| r.get(0))
}

/// Marks an order refunded at `now`.
pub fn set_refunded(tx: &Connection, order_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE orders SET status = 'refunded', closed_at = ?2 WHERE id = ?1",
        params![order_id, now],
    )?;
    Ok(())
}

/// Marks an order refunded at `now` if it is paid.
pub fn set_refunded_if_paid(tx: &Connection, order_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE orders SET status = 'refunded', closed_at = ?2 WHERE id = ?1 AND status = 'paid'",
        params![order_id, now],
    )?;
    Ok(())
}

/// An order's buyer (`shop::order_mail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub language: Option<String>,
}

/// The buyer of an order, if the order exists.
pub fn buyer(conn: &Connection, order_id: i64) -> Result<Option<Buyer>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT a.id, a.email, a.display_name, a.language FROM orders o JOIN accounts a ON a.id = o.account_id
             WHERE o.id = ?1",
        params![order_id],
        |r| {
            Ok(Buyer {
                account_id: r.get(0)?,
                email: r.get(1)?,
                display_name: r.get(2)?,
                language: r.get(3)?,
            })
        },
    ))
}

/// What the buyer's refund of an order owes back (`shop::notice_mail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyerRefundOwed {
    pub account_id: i64,
    pub email: String,
    pub language: Option<String>,
    /// How many `buyer_refund` rows the order has.
    pub rows: i64,
    pub amount_cents: i64,
}

/// [`BuyerRefundOwed`] for an order; `None` for an unknown order.
pub fn buyer_refund_owed(conn: &Connection, order_id: i64) -> Result<Option<BuyerRefundOwed>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT a.id, a.email, a.language, count(r.id), COALESCE(SUM(r.amount_cents), 0)
             FROM orders o JOIN accounts a ON a.id = o.account_id
             LEFT JOIN refunds_due r ON r.order_id = o.id AND r.reason = 'buyer_refund'
             WHERE o.id = ?1 GROUP BY a.id, a.email, a.language",
        params![order_id],
        |r| {
            Ok(BuyerRefundOwed {
                account_id: r.get(0)?,
                email: r.get(1)?,
                language: r.get(2)?,
                rows: r.get(3)?,
                amount_cents: r.get(4)?,
            })
        },
    ))
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
