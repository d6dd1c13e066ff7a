//! Refunds due: money the issuer took but cannot honour, kept until an operator settles it.
//!
//! Three cases end here instead of in an error the payment provider would retry forever: a
//! payment that arrives after its order was closed (hold expired or cancelled), a payment for an
//! event cancelled while the buyer paid, and paid orders of an event an operator cancels (their
//! tickets are revoked in the same transaction). The built-in payment processor has no refund
//! call, so the refund itself is made outside (the provider's dashboard) and marked settled here.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::{AppError, AppResult};

/// Why money must be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefundReason {
    /// The payment arrived after the order was closed.
    OrderClosed,
    /// The order's event was cancelled.
    EventCancelled,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::OrderClosed => "order_closed",
            RefundReason::EventCancelled => "event_cancelled",
        }
    }
}

/// One refund to make, as operators see it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RefundDue {
    pub id: i64,
    pub order_id: i64,
    pub buyer_email: String,
    pub reason: String,
    pub amount_cents: i64,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

/// Records a refund due (once per order and reason; a second call changes nothing). Returns the
/// new row, or `None` if it was recorded before.
pub fn record(
    tx: &Transaction<'_>,
    order_id: i64,
    reason: RefundReason,
    amount_cents: i64,
    now: i64,
) -> AppResult<Option<RefundDue>> {
    let n = tx.execute(
        "INSERT INTO refunds_due (order_id, reason, amount_cents, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (order_id, reason) DO NOTHING",
        params![order_id, reason.as_str(), amount_cents.max(0), now],
    )?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(tx.query_row(
        &format!("{SELECT} WHERE f.id = ?1"),
        [tx.last_insert_rowid()],
        row,
    )?))
}

/// Records a refund for every paid order with lines for `event_id` (the amount of those lines).
/// Returns the refunds recorded now (not those recorded before).
pub fn record_for_cancelled_event(tx: &Transaction<'_>, event_id: u32, now: i64) -> AppResult<Vec<RefundDue>> {
    let orders: Vec<(i64, i64)> = tx
        .prepare(
            "SELECT l.order_id, SUM(l.quantity * l.unit_price_cents) FROM order_lines l
             JOIN offers o ON o.id = l.offer_id JOIN orders ord ON ord.id = l.order_id
             WHERE o.event_id = ?1 AND ord.status = 'paid' GROUP BY l.order_id ORDER BY l.order_id",
        )?
        .query_map([event_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut recorded = Vec::new();
    for (order_id, amount) in orders {
        recorded.extend(record(tx, order_id, RefundReason::EventCancelled, amount, now)?);
    }
    Ok(recorded)
}

/// Tells the buyer that a payment arrived for an order that could not be honoured and will be
/// refunded (sent in the background).
pub fn notify_payment_refused(state: &crate::state::AppState, r: &RefundDue) {
    let why = if r.reason == RefundReason::EventCancelled.as_str() {
        "its event was cancelled"
    } else {
        "the order had expired"
    };
    crate::mail::send_later(
        state,
        crate::mail::Mail {
            to: r.buyer_email.clone(),
            subject: format!("Order {}: your payment will be refunded", r.order_id),
            body: format!(
                "Your payment for order {} arrived after {why}, so no ticket was issued.\n\n\
                 The {} will be refunded to the card you paid with; you have nothing to do.\n",
                r.order_id,
                amount(r.amount_cents)
            ),
        },
    );
}

/// An amount as mails write it: `45.00 EUR`.
fn amount(cents: i64) -> String {
    format!("{}.{:02} EUR", cents / 100, cents % 100)
}

/// Tells each buyer that their event is cancelled, their tickets no longer work and the money is
/// owed back (sent in the background; a failing mail server changes nothing here).
pub fn notify_event_cancelled(state: &crate::state::AppState, event: &str, starts: &str, refunds: &[RefundDue]) {
    for r in refunds {
        crate::mail::send_later(
            state,
            crate::mail::Mail {
                to: r.buyer_email.clone(),
                subject: format!("Cancelled: {event}"),
                body: format!(
                    "We are sorry: {event} ({starts}) is cancelled.\n\n\
                     Your tickets for it no longer open the gates. The {} of order {} will be \
                     refunded to the card you paid with; you have nothing to do.\n",
                    amount(r.amount_cents),
                    r.order_id
                ),
            },
        );
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RefundDue> {
    Ok(RefundDue {
        id: r.get(0)?,
        order_id: r.get(1)?,
        buyer_email: r.get(2)?,
        reason: r.get(3)?,
        amount_cents: r.get(4)?,
        created_at: r.get(5)?,
        settled_at: r.get(6)?,
    })
}

const SELECT: &str = "SELECT f.id, f.order_id, a.email, f.reason, f.amount_cents, f.created_at, f.settled_at
     FROM refunds_due f JOIN orders o ON o.id = f.order_id JOIN accounts a ON a.id = o.account_id";

/// Refunds still to make, oldest first (or every refund, settled too, with `all`).
pub fn list(conn: &Connection, all: bool) -> AppResult<Vec<RefundDue>> {
    let sql = if all {
        format!("{SELECT} ORDER BY f.id")
    } else {
        format!("{SELECT} WHERE f.settled_at IS NULL ORDER BY f.id")
    };
    Ok(conn.prepare(&sql)?.query_map([], row)?.collect::<Result<_, _>>()?)
}

/// Marks a refund made. 404 if unknown, 409 if already settled.
pub fn settle(tx: &Transaction<'_>, id: i64, operator: i64, now: i64) -> AppResult<RefundDue> {
    let settled: Option<Option<i64>> = tx
        .query_row("SELECT settled_at FROM refunds_due WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    match settled {
        None => return Err(AppError::not_found(format!("no refund {id}"))),
        Some(Some(_)) => return Err(AppError::conflict("already_settled", "this refund is already settled")),
        Some(None) => {}
    }
    tx.execute(
        "UPDATE refunds_due SET settled_at = ?2, settled_by = ?3 WHERE id = ?1",
        params![id, now, operator],
    )?;
    Ok(tx.query_row(&format!("{SELECT} WHERE f.id = ?1"), [id], row)?)
}
