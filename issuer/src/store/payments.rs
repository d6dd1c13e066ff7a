//! The queries of the built-in card processor's payments (`payments`: one per order's
//! checkout, by its `pay_...` id): opened in the checkout's transaction, read for the hosted
//! page and the write scope of a payment's work, its card's outcome recorded. The rules (which
//! cards succeed, a paid payment or a closed order refused, the webhook queued with the
//! outcome) are in `shop::payment`, which calls these.

use super::sql::{Connection, OptionalExtension, Result, params};

/// A new payment of an order, waiting for a card.
pub fn insert_requiring_card(tx: &Connection, id: &str, order_id: i64, amount_cents: i64, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO payments (id, order_id, amount_cents, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'requires_card', ?4, ?4)",
        params![id, order_id, amount_cents, now],
    )?;
    Ok(())
}

/// The buyer's account of a payment's order, if the payment exists.
pub fn account_of(conn: &Connection, payment_id: &str) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT o.account_id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.id = ?1",
        [payment_id],
        |r| r.get(0),
    )
    .optional()
}

/// A payment with its order's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithOrder {
    pub id: String,
    pub order_id: i64,
    pub amount_cents: i64,
    pub status: String,
    pub order_status: String,
}

/// A payment and its order's status, for the hosted page, if the payment exists.
pub fn with_order(conn: &Connection, id: &str) -> Result<Option<WithOrder>> {
    conn.query_row(
        "SELECT p.id, p.order_id, p.amount_cents, p.status, o.status FROM payments p
                 JOIN orders o ON o.id = p.order_id WHERE p.id = ?1",
        [id],
        |r| {
            Ok(WithOrder {
                id: r.get(0)?,
                order_id: r.get(1)?,
                amount_cents: r.get(2)?,
                status: r.get(3)?,
                order_status: r.get(4)?,
            })
        },
    )
    .optional()
}

/// A payment's order, amount, status and its order's status, when a card is tried, if the
/// payment exists.
pub fn for_card(conn: &Connection, id: &str) -> Result<Option<(i64, i64, String, String)>> {
    conn.query_row(
        "SELECT p.order_id, p.amount_cents, p.status, o.status FROM payments p JOIN orders o ON o.id = p.order_id
                     WHERE p.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()
}

/// Records a card's outcome (`succeeded` or `declined`) and its last four digits.
pub fn set_card_outcome(tx: &Connection, id: &str, status: &str, card_last4: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE payments SET status = ?2, card_last4 = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, status, card_last4, now],
    )?;
    Ok(())
}
