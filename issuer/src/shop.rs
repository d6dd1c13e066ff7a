//! The buyer's domain operations: catalogue queries, carts, checkout with atomic seat
//! reservation, payment confirmation with ticket issuance, expiry, cancellation/refund and
//! transfer. Every function that changes state takes the caller's write transaction, so each
//! operation is all-or-nothing; HTTP handlers and pages only parse input and call these.
//!
//! Capacity is counted in people: a Duo ticket reserves 2 seats. A reservation is one
//! `UPDATE events SET reserved = reserved + n WHERE reserved + n <= capacity` inside an
//! IMMEDIATE transaction (SQLite has one writer at a time, and the column's CHECK constraint
//! backs it up), so concurrent buyers can never oversell.

use og_shared::Offer;
use og_shared::TicketSigner;
use og_shared::sync::RevocationReason;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::domain::{IdempotencyKey, MAX_QUANTITY, Quantity};
use crate::error::{AppError, AppResult};
use crate::issuance::{self, PurchaseKind, TicketRequest};
use crate::ops::refunds::RefundReason;

/// How long a pending order holds its seats.
pub const ORDER_HOLD_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    pub id: i64,
    /// `solo`, `duo` or `family`.
    pub kind: String,
    /// People admitted by one ticket.
    pub admits: u8,
    pub price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: i64,
    pub sport: String,
    pub name: String,
    pub venue: String,
    /// Unix seconds (UTC).
    pub starts_at: i64,
    /// `YYYY-MM-DD` (UTC) of the start.
    pub day: String,
    pub capacity: i64,
    pub capacity_left: i64,
    pub status: String,
    pub offers: Vec<OfferView>,
}

/// Catalogue filters (all optional, exact match; `day` is `YYYY-MM-DD`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    pub sport: Option<String>,
    pub day: Option<String>,
    pub venue: Option<String>,
}

pub fn day_of(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

fn offer_admits(kind: &str) -> u8 {
    Offer::from_name(kind).map(Offer::admits).unwrap_or(1)
}

/// Events matching the filter, soonest first, with their offers.
pub fn list_events(conn: &Connection, f: &EventFilter) -> AppResult<Vec<EventView>> {
    query_events(conn, None, f)
}

/// One event with its offers.
pub fn get_event(conn: &Connection, id: i64) -> AppResult<EventView> {
    query_events(conn, Some(id), &EventFilter::default())?
        .pop()
        .ok_or_else(|| AppError::not_found(format!("no event {id}")))
}

/// Two queries whatever the number of events: the events, then all their offers.
fn query_events(conn: &Connection, only: Option<i64>, f: &EventFilter) -> AppResult<Vec<EventView>> {
    let empty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let (sport, day, venue) = (empty(&f.sport), empty(&f.day), empty(&f.venue));
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day_start = match &day {
        None => None,
        Some(d) => Some(
            time::Date::parse(d, fmt)
                .map_err(|_| AppError::bad_request("invalid_day", "day must be YYYY-MM-DD"))?
                .midnight()
                .assume_utc()
                .unix_timestamp(),
        ),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, sport, name, venue, starts_at, capacity, reserved, status FROM events
         WHERE (?1 IS NULL OR sport = ?1 COLLATE NOCASE) AND (?2 IS NULL OR venue = ?2 COLLATE NOCASE)
           AND (?3 IS NULL OR (starts_at >= ?3 AND starts_at < ?3 + 86400)) AND (?4 IS NULL OR id = ?4)
         ORDER BY starts_at, id",
    )?;
    let mut events = stmt
        .query_map(params![sport, venue, day_start, only], |r| {
            let capacity: i64 = r.get(5)?;
            let reserved: i64 = r.get(6)?;
            let starts_at: i64 = r.get(4)?;
            Ok(EventView {
                id: r.get(0)?,
                sport: r.get(1)?,
                name: r.get(2)?,
                venue: r.get(3)?,
                starts_at,
                day: day_of(starts_at),
                capacity,
                capacity_left: capacity - reserved,
                status: r.get(7)?,
                offers: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if events.is_empty() {
        return Ok(events);
    }
    let index: std::collections::HashMap<i64, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, id, kind, price_cents FROM offers WHERE (?1 IS NULL OR event_id = ?1)
         ORDER BY event_id, CASE kind WHEN 'solo' THEN 1 WHEN 'duo' THEN 2 ELSE 3 END",
    )?;
    let mut rows = stmt.query([only])?;
    while let Some(r) = rows.next()? {
        let event_id: i64 = r.get(0)?;
        if let Some(&i) = index.get(&event_id) {
            let kind: String = r.get(2)?;
            events[i].offers.push(OfferView {
                id: r.get(1)?,
                admits: offer_admits(&kind),
                kind,
                price_cents: r.get(3)?,
            });
        }
    }
    Ok(events)
}

/// Distinct sports, venues and days (for the filter form).
pub fn facets(conn: &Connection) -> AppResult<(Vec<String>, Vec<String>, Vec<String>)> {
    let col = |sql: &str| -> AppResult<Vec<String>> {
        let mut s = conn.prepare_cached(sql)?;
        Ok(s.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?)
    };
    let days: Vec<i64> = {
        let mut s = conn.prepare_cached("SELECT starts_at FROM events ORDER BY starts_at")?;
        s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?
    };
    let mut d: Vec<String> = days.into_iter().map(day_of).collect();
    d.dedup();
    Ok((
        col("SELECT DISTINCT sport FROM events ORDER BY sport")?,
        col("SELECT DISTINCT venue FROM events ORDER BY venue")?,
        d,
    ))
}

#[derive(Debug, Clone, Serialize)]
pub struct CartLine {
    pub offer_id: i64,
    pub event_id: i64,
    pub event_name: String,
    pub sport: String,
    pub kind: String,
    pub admits: u8,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CartView {
    pub items: Vec<CartLine>,
    pub total_cents: i64,
}

/// An offer with its event facts, for cart checks.
fn offer_facts(conn: &Connection, offer_id: i64) -> AppResult<Option<(i64, String, i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT e.id, o.kind, e.capacity - e.reserved, e.status FROM offers o JOIN events e ON e.id = o.event_id
             WHERE o.id = ?1",
            [offer_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?)
}

/// Lines of a guest cart (`offer_id`, `quantity`) resolved against the catalogue; unknown
/// offers are dropped.
pub fn resolve_lines(conn: &Connection, items: &[(i64, i64)]) -> AppResult<CartView> {
    let mut out = Vec::new();
    for &(offer_id, quantity) in items {
        let row = conn
            .query_row(
                "SELECT e.id, e.name, e.sport, o.kind, o.price_cents FROM offers o JOIN events e ON e.id = o.event_id
                 WHERE o.id = ?1",
                [offer_id],
                |r| {
                    let kind: String = r.get(3)?;
                    Ok(CartLine {
                        offer_id,
                        event_id: r.get(0)?,
                        event_name: r.get(1)?,
                        sport: r.get(2)?,
                        admits: offer_admits(&kind),
                        kind,
                        quantity,
                        unit_price_cents: r.get(4)?,
                    })
                },
            )
            .optional()?;
        out.extend(row);
    }
    let total_cents = out.iter().map(|l| l.quantity * l.unit_price_cents).sum();
    Ok(CartView {
        items: out,
        total_cents,
    })
}

pub fn account_cart(conn: &Connection, account_id: i64) -> AppResult<CartView> {
    let mut stmt =
        conn.prepare_cached("SELECT offer_id, quantity FROM cart_items WHERE account_id = ?1 ORDER BY rowid")?;
    let items = stmt
        .query_map([account_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
    resolve_lines(conn, &items)
}

/// Checks that `quantity` tickets of an offer fit in what is left of its event.
pub fn check_fits(conn: &Connection, offer_id: i64, quantity: Quantity) -> AppResult<()> {
    let (_, kind, left, status) =
        offer_facts(conn, offer_id)?.ok_or_else(|| AppError::not_found(format!("no offer {offer_id}")))?;
    if status != "scheduled" {
        return Err(AppError::conflict("event_cancelled", "this event is cancelled"));
    }
    let seats = quantity.get() * i64::from(offer_admits(&kind));
    if seats > left {
        return Err(AppError::conflict(
            "not_enough_seats",
            format!("only {left} seats are left for this event"),
        ));
    }
    Ok(())
}

/// Sets the quantity of one offer in an account's cart (after checking it fits).
pub fn set_cart_item(tx: &Transaction<'_>, account_id: i64, offer_id: i64, quantity: Quantity) -> AppResult<()> {
    check_fits(tx, offer_id, quantity)?;
    tx.execute(
        "INSERT INTO cart_items (account_id, offer_id, quantity) VALUES (?1, ?2, ?3)
         ON CONFLICT (account_id, offer_id) DO UPDATE SET quantity = excluded.quantity",
        params![account_id, offer_id, quantity.get()],
    )?;
    Ok(())
}

pub fn remove_cart_item(tx: &Transaction<'_>, account_id: i64, offer_id: i64) -> AppResult<()> {
    tx.execute(
        "DELETE FROM cart_items WHERE account_id = ?1 AND offer_id = ?2",
        params![account_id, offer_id],
    )?;
    Ok(())
}

/// Merges a guest cart into the account's cart at login: quantities add up (capped at the
/// per-line maximum); offers that no longer exist or no longer fit are skipped.
pub fn merge_cart(tx: &Transaction<'_>, account_id: i64, items: &[(i64, i64)]) -> AppResult<()> {
    for &(offer_id, qty) in items {
        let existing: i64 = tx
            .query_row(
                "SELECT quantity FROM cart_items WHERE account_id = ?1 AND offer_id = ?2",
                params![account_id, offer_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let Ok(q) = Quantity::parse((existing + qty).min(MAX_QUANTITY)) else {
            continue;
        };
        match set_cart_item(tx, account_id, offer_id, q) {
            Ok(()) | Err(AppError::NotFound(_) | AppError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderLineView {
    pub offer_id: i64,
    pub event_id: i64,
    pub event_name: String,
    pub kind: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: i64,
    /// `pending`, `paid`, `cancelled` or `refunded`.
    pub status: String,
    pub total_cents: i64,
    pub payment_id: Option<String>,
    /// Where the buyer pays (pending orders only).
    pub payment_url: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub lines: Vec<OrderLineView>,
}

pub fn get_order(conn: &Connection, account_id: i64, order_id: i64, base_url: &str) -> AppResult<OrderView> {
    let row = conn
        .query_row(
            "SELECT id, status, total_cents, payment_id, created_at, expires_at FROM orders
             WHERE id = ?1 AND account_id = ?2",
            params![order_id, account_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no order {order_id}")))?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.offer_id, e.id, e.name, o.kind, l.quantity, l.unit_price_cents
         FROM order_lines l JOIN offers o ON o.id = l.offer_id JOIN events e ON e.id = o.event_id
         WHERE l.order_id = ?1 ORDER BY l.id",
    )?;
    let lines = stmt
        .query_map([order_id], |r| {
            Ok(OrderLineView {
                offer_id: r.get(0)?,
                event_id: r.get(1)?,
                event_name: r.get(2)?,
                kind: r.get(3)?,
                quantity: r.get(4)?,
                unit_price_cents: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let payment_url = match (&row.3, row.1.as_str()) {
        (Some(pid), "pending") => Some(format!("{base_url}/pay/{pid}")),
        _ => None,
    };
    Ok(OrderView {
        id: row.0,
        status: row.1,
        total_cents: row.2,
        payment_id: row.3,
        payment_url,
        created_at: row.4,
        expires_at: row.5,
        lines,
    })
}

pub fn list_orders(conn: &Connection, account_id: i64, base_url: &str) -> AppResult<Vec<OrderView>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM orders WHERE account_id = ?1 ORDER BY id DESC LIMIT 100")?;
    let ids = stmt
        .query_map([account_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    ids.into_iter()
        .map(|id| get_order(conn, account_id, id, base_url))
        .collect()
}

/// Releases the seats of an order's lines.
fn release_seats(tx: &Transaction<'_>, order_id: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE events SET reserved = reserved - (
             SELECT COALESCE(SUM(l.quantity * CASE o.kind WHEN 'solo' THEN 1 WHEN 'duo' THEN 2 ELSE 4 END), 0)
             FROM order_lines l JOIN offers o ON o.id = l.offer_id
             WHERE l.order_id = ?1 AND o.event_id = events.id)
         WHERE id IN (SELECT o.event_id FROM order_lines l JOIN offers o ON o.id = l.offer_id WHERE l.order_id = ?1)",
        [order_id],
    )?;
    Ok(())
}

/// Cancels pending orders whose hold has run out and releases their seats. Returns how many.
pub fn expire_overdue(tx: &Transaction<'_>, now: i64) -> AppResult<usize> {
    let ids = {
        let mut stmt = tx.prepare_cached("SELECT id FROM orders WHERE status = 'pending' AND expires_at <= ?1")?;
        stmt.query_map([now], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?
    };
    for id in &ids {
        release_seats(tx, *id)?;
        tx.execute(
            "UPDATE orders SET status = 'cancelled', closed_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    Ok(ids.len())
}

/// Turns the account's cart into a pending order holding its seats, and opens a payment for it
/// with `provider`. The same idempotency key returns the same order (and changes nothing).
pub fn checkout(
    tx: &Transaction<'_>,
    account_id: i64,
    key: &IdempotencyKey,
    provider: &dyn crate::payment::PaymentProvider,
    now: i64,
) -> AppResult<i64> {
    if let Some(id) = tx
        .query_row(
            "SELECT id FROM orders WHERE account_id = ?1 AND idempotency_key = ?2",
            params![account_id, key.as_str()],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok(id);
    }
    issuance::account_tag(tx, account_id)?;
    expire_overdue(tx, now)?;
    let cart = account_cart(tx, account_id)?;
    if cart.items.is_empty() {
        return Err(AppError::conflict("cart_empty", "the cart is empty"));
    }
    for line in &cart.items {
        let seats = line.quantity * i64::from(line.admits);
        let n = tx.execute(
            "UPDATE events SET reserved = reserved + ?1
             WHERE id = ?2 AND status = 'scheduled' AND reserved + ?1 <= capacity",
            params![seats, line.event_id],
        )?;
        if n == 0 {
            return Err(AppError::conflict(
                "sold_out",
                format!("not enough seats left for {} ({})", line.event_name, line.kind),
            ));
        }
    }
    tx.execute(
        "INSERT INTO orders (account_id, status, total_cents, idempotency_key, created_at, expires_at)
         VALUES (?1, 'pending', ?2, ?3, ?4, ?5)",
        params![account_id, cart.total_cents, key.as_str(), now, now + ORDER_HOLD_SECS],
    )?;
    let order_id = tx.last_insert_rowid();
    for line in &cart.items {
        tx.execute(
            "INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (?1, ?2, ?3, ?4)",
            params![order_id, line.offer_id, line.quantity, line.unit_price_cents],
        )?;
    }
    let payment_id = provider.create_payment(tx, order_id, cart.total_cents, now)?;
    tx.execute(
        "UPDATE orders SET payment_id = ?2 WHERE id = ?1",
        params![order_id, payment_id],
    )?;
    tx.execute("DELETE FROM cart_items WHERE account_id = ?1", [account_id])?;
    Ok(order_id)
}

/// What confirming a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// The order became paid and this many tickets were signed.
    Paid { order_id: i64, tickets: usize },
    /// It was paid already (nothing changed).
    AlreadyPaid { order_id: i64 },
    /// The order was cancelled (hold expired) before the money arrived: a refund is due
    /// (`refund` is `None` when this payment was already recorded as owed).
    TooLate {
        order_id: i64,
        refund: Option<crate::ops::refunds::RefundDue>,
    },
    /// An event of the order was cancelled before the money arrived: the order is cancelled,
    /// its seats released, no ticket signed, and a refund is due.
    EventCancelled {
        order_id: i64,
        refund: Option<crate::ops::refunds::RefundDue>,
    },
}

fn order_ticket_requests(tx: &Transaction<'_>, order_id: i64, holder: &str) -> AppResult<Vec<TicketRequest>> {
    let mut stmt = tx.prepare_cached(
        "SELECT o.event_id, o.kind, l.quantity FROM order_lines l JOIN offers o ON o.id = l.offer_id
         WHERE l.order_id = ?1 ORDER BY l.id",
    )?;
    let lines = stmt
        .query_map([order_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut reqs = Vec::new();
    for (event_id, kind, qty) in lines {
        let offer = Offer::from_name(&kind).ok_or_else(|| AppError::internal("bad offer kind"))?;
        for _ in 0..qty {
            reqs.push(TicketRequest {
                event_id,
                offer,
                flags: 0,
                holder_name: holder.to_owned(),
            });
        }
    }
    Ok(reqs)
}

fn holder_of(tx: &Transaction<'_>, account_id: i64) -> AppResult<String> {
    let (email, name): (String, String) = tx.query_row(
        "SELECT email, display_name FROM accounts WHERE id = ?1",
        [account_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(if name.is_empty() { email } else { name })
}

/// Marks the order behind `payment_id` paid and signs its tickets, in the caller's transaction.
pub fn confirm_payment(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    payment_id: &str,
    amount_cents: i64,
    now: i64,
) -> AppResult<Confirmation> {
    let (order_id, account_id, status, total): (i64, i64, String, i64) = tx
        .query_row(
            "SELECT id, account_id, status, total_cents FROM orders WHERE payment_id = ?1",
            [payment_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found("no order has this payment id"))?;
    if amount_cents != total {
        return Err(AppError::Unprocessable {
            code: "amount_mismatch",
            message: "the paid amount differs from the order total".into(),
        });
    }
    match status.as_str() {
        "paid" | "refunded" => return Ok(Confirmation::AlreadyPaid { order_id }),
        "cancelled" => {
            let refund = crate::ops::refunds::record(tx, order_id, RefundReason::OrderClosed, amount_cents, now)?;
            tracing::warn!(order_id, "payment arrived for a cancelled order: a refund is due");
            return Ok(Confirmation::TooLate { order_id, refund });
        }
        _ => {}
    }
    let cancelled_events: i64 = tx.query_row(
        "SELECT count(*) FROM order_lines l JOIN offers o ON o.id = l.offer_id JOIN events e ON e.id = o.event_id
         WHERE l.order_id = ?1 AND e.status = 'cancelled'",
        [order_id],
        |r| r.get(0),
    )?;
    if cancelled_events > 0 {
        // Acknowledged, not refused: the provider would retry a refusal forever.
        release_seats(tx, order_id)?;
        tx.execute(
            "UPDATE orders SET status = 'cancelled', closed_at = ?2 WHERE id = ?1",
            params![order_id, now],
        )?;
        let refund = crate::ops::refunds::record(tx, order_id, RefundReason::EventCancelled, amount_cents, now)?;
        tracing::warn!(order_id, "payment arrived for a cancelled event: a refund is due");
        return Ok(Confirmation::EventCancelled { order_id, refund });
    }
    tx.execute(
        "UPDATE orders SET status = 'paid', paid_at = ?2 WHERE id = ?1",
        params![order_id, now],
    )?;
    let tickets = issue_order_tickets(tx, signer, order_id, account_id, now)?;
    Ok(Confirmation::Paid { order_id, tickets })
}

fn issue_order_tickets(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    order_id: i64,
    account_id: i64,
    now: i64,
) -> AppResult<usize> {
    let holder = holder_of(tx, account_id)?;
    let reqs = order_ticket_requests(tx, order_id, &holder)?;
    let issued = issuance::issue_purchase(tx, signer, account_id, Some(order_id), PurchaseKind::Paid, &reqs, now)?;
    Ok(issued.len())
}

/// Issues the tickets of paid orders that have none (a crash between payment and issuance, or
/// data written by an older build). Run at start. Returns the orders repaired.
pub fn recover_paid_without_tickets(tx: &Transaction<'_>, signer: &TicketSigner, now: i64) -> AppResult<Vec<i64>> {
    let rows = {
        let mut stmt = tx.prepare(
            "SELECT o.id, o.account_id FROM orders o
             WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.order_id = o.id)",
        )?;
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for (order_id, account_id) in &rows {
        issue_order_tickets(tx, signer, *order_id, *account_id, now)?;
    }
    Ok(rows.iter().map(|r| r.0).collect())
}

/// Cancels a pending order (seats released) or refunds a paid one (seats released, tickets
/// revoked through the revocation log; no new code is issued).
pub fn cancel_order(tx: &Transaction<'_>, account_id: i64, order_id: i64, now: i64) -> AppResult<String> {
    let status: String = tx
        .query_row(
            "SELECT status FROM orders WHERE id = ?1 AND account_id = ?2",
            params![order_id, account_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no order {order_id}")))?;
    match status.as_str() {
        "pending" => {
            release_seats(tx, order_id)?;
            tx.execute(
                "UPDATE orders SET status = 'cancelled', closed_at = ?2 WHERE id = ?1",
                params![order_id, now],
            )?;
            Ok("cancelled".into())
        }
        "paid" => {
            let purchase_id: Option<i64> = tx
                .query_row("SELECT id FROM purchases WHERE order_id = ?1", [order_id], |r| r.get(0))
                .optional()?;
            let transferred: i64 = tx.query_row(
                "SELECT count(*) FROM tickets WHERE purchase_id = ?1 AND replaced_by IS NOT NULL",
                [purchase_id],
                |r| r.get(0),
            )?;
            if transferred > 0 {
                return Err(AppError::conflict(
                    "ticket_transferred",
                    "a ticket of this order was given to someone else: it cannot be refunded",
                ));
            }
            let started: i64 = tx.query_row(
                "SELECT count(*) FROM order_lines l JOIN offers o ON o.id = l.offer_id JOIN events e ON e.id = o.event_id
                 WHERE l.order_id = ?1 AND e.starts_at <= ?2",
                params![order_id, now],
                |r| r.get(0),
            )?;
            if started > 0 {
                return Err(AppError::conflict("event_started", "the event has started: no refund"));
            }
            release_seats(tx, order_id)?;
            // A paid order whose tickets were never issued (see recovery) has nothing to revoke.
            if let Some(purchase_id) = purchase_id {
                crate::revocation::revoke_purchase(tx, purchase_id, RevocationReason::Refunded, now)?;
            }
            tx.execute(
                "UPDATE orders SET status = 'refunded', closed_at = ?2 WHERE id = ?1",
                params![order_id, now],
            )?;
            Ok("refunded".into())
        }
        other => Err(AppError::conflict(
            "order_closed",
            format!("the order is already {other}"),
        )),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub serial: u32,
    pub event_id: i64,
    pub event_name: String,
    pub sport: String,
    pub venue: String,
    pub starts_at: i64,
    pub offer: String,
    pub admits: u8,
    pub holder_name: String,
    /// `valid` or `revoked`.
    pub status: String,
    /// The signed code the QR carries (valid tickets only).
    pub qr_text: Option<String>,
}

const TICKET_SELECT: &str =
    "SELECT t.serial, t.event_id, e.name, e.sport, e.venue, e.starts_at, t.offer, t.holder_name,
        t.status, t.qr_text FROM tickets t JOIN events e ON e.id = t.event_id";

fn ticket_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketView> {
    let offer: String = r.get(6)?;
    let status: String = r.get(8)?;
    let qr: String = r.get(9)?;
    Ok(TicketView {
        serial: r.get(0)?,
        event_id: r.get(1)?,
        event_name: r.get(2)?,
        sport: r.get(3)?,
        venue: r.get(4)?,
        starts_at: r.get(5)?,
        admits: offer_admits(&offer),
        offer,
        holder_name: r.get(7)?,
        qr_text: (status == "valid").then_some(qr),
        status,
    })
}

/// The account's valid tickets (revoked ones are listed after, without their code).
pub fn list_tickets(conn: &Connection, account_id: i64) -> AppResult<Vec<TicketView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{TICKET_SELECT} WHERE t.account_id = ?1 ORDER BY t.status DESC, e.starts_at, t.serial"
    ))?;
    Ok(stmt
        .query_map([account_id], ticket_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn get_ticket(conn: &Connection, account_id: i64, serial: i64) -> AppResult<TicketView> {
    conn.query_row(
        &format!("{TICKET_SELECT} WHERE t.account_id = ?1 AND t.serial = ?2"),
        params![account_id, serial],
        ticket_row,
    )
    .optional()?
    .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))
}

/// Gives a valid ticket to another active account: the old code is revoked (log entry) and a
/// new one is signed for the recipient under a fresh purchase key. Returns the new serial.
pub fn transfer_ticket(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    from_account: i64,
    serial: i64,
    to_email: &str,
    now: i64,
) -> AppResult<u32> {
    let (event_id, offer, flags, status): (i64, String, u8, String) = tx
        .query_row(
            "SELECT event_id, offer, flags, status FROM tickets WHERE serial = ?1 AND account_id = ?2",
            params![serial, from_account],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    if status != "valid" {
        return Err(AppError::conflict("ticket_revoked", "this ticket is no longer valid"));
    }
    let to: Option<(i64, String)> = tx
        .query_row("SELECT id, status FROM accounts WHERE email = ?1", [to_email], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let to_id = match to {
        Some((id, st)) if st == "active" => id,
        _ => {
            return Err(AppError::Unprocessable {
                code: "unknown_recipient",
                message: "the recipient must have an activated account".into(),
            });
        }
    };
    if to_id == from_account {
        return Err(AppError::Unprocessable {
            code: "same_account",
            message: "you already hold this ticket".into(),
        });
    }
    let serial_u32 = u32::try_from(serial).map_err(|_| AppError::not_found("no such ticket"))?;
    crate::revocation::revoke_ticket(tx, serial_u32, RevocationReason::Transferred, now)?;
    let holder = holder_of(tx, to_id)?;
    let req = TicketRequest {
        event_id,
        offer: Offer::from_name(&offer).ok_or_else(|| AppError::internal("bad offer"))?,
        flags,
        holder_name: holder,
    };
    let issued = issuance::issue_purchase(tx, signer, to_id, None, PurchaseKind::Transfer, &[req], now)?;
    let new_serial = issued[0].serial;
    tx.execute(
        "UPDATE tickets SET replaced_by = ?2 WHERE serial = ?1",
        params![serial, new_serial],
    )?;
    Ok(new_serial)
}
