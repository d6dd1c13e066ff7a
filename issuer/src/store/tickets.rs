//! The queries of issued tickets (`tickets`) of the trust authority, the gates and the
//! operators: new tickets in multi-row inserts, re-issued and re-signed codes
//! (`trust::issuance`), the states a revocation changes (`trust::revocation`), what a ticket is
//! (its offer, its flags) when scan intake counts who is inside (`gates::intake`); whether a
//! ticket exists before an operator revokes it (`ops::actions`), the tickets a search finds and
//! a ticket's facts for its story (`ops::search`), an event's sales and the people its valid
//! tickets admit (`ops::dashboard`), the CSV export a page at a time (`ops::export`). For the
//! shop's order side: what the lifecycle's rules read of a ticket (`shop::entitlements`), an
//! order's tickets, a holder's tickets as their pages show them, the holder checks of a
//! transfer, an operator's refund (`shop::orders`), the printable tickets of an order
//! (`shop::ticket_docs`), an event's name for a notice (`shop::notice_mail`), the paid tickets
//! a cancellation refunds (`shop::refunds`); the holder's code a phone is bound to
//! (`shop::binding`), the holder names a deleted account's tickets lose (`shop::accounts`).

use og_shared::ticket::Tag;

use super::sql::{Connection, OptionalExtension, Result, Value, params};

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

/// One new ticket, as stored (valid, generation 0).
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub serial: u32,
    pub purchase_id: i64,
    pub account_id: i64,
    pub event_id: i64,
    pub offer: &'static str,
    pub key_id: u16,
    pub qr_text: String,
    pub flags: u8,
    pub holder_name: String,
    pub issued_at: i64,
    pub order_id: Option<i64>,
    pub unit_price_cents: i64,
    pub admits: u8,
}

/// Tickets per INSERT statement: one round trip for up to this many rows (13 values each, far
/// below both engines' parameter limits).
const TICKETS_PER_INSERT: usize = 50;

/// Inserts new tickets, many rows per statement.
pub fn insert(tx: &Connection, tickets: &[NewTicket]) -> Result<()> {
    const COLUMNS: usize = 13;
    for chunk in tickets.chunks(TICKETS_PER_INSERT) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| format!("?{}", i * COLUMNS + k);
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {}, 'valid', {}, {}, {}, 0, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7),
                    p(8),
                    p(9),
                    p(10),
                    p(11),
                    p(12),
                    p(13)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO tickets (serial, purchase_id, account_id, event_id, offer, key_id, qr_text, flags,
                                  holder_name, status, issued_at, order_id, unit_price_cents, generation, admits)
             VALUES {}",
            tuples.join(", ")
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * COLUMNS);
        for t in chunk {
            values.extend(
                params![
                    t.serial,
                    t.purchase_id,
                    t.account_id,
                    t.event_id,
                    t.offer,
                    t.key_id,
                    t.qr_text,
                    t.flags,
                    t.holder_name,
                    t.issued_at,
                    t.order_id,
                    t.unit_price_cents,
                    t.admits
                ]
                .iter()
                .map(|v| v.to_value()),
            );
        }
        tx.execute(&sql, values)?;
    }
    Ok(())
}

/// What a ticket's next code is made from: (event, offer, flags, generation).
pub fn for_reissue(conn: &Connection, serial: u32) -> Result<(i64, String, u8, u8)> {
    conn.query_row(
        "SELECT event_id, offer, flags, generation FROM tickets WHERE serial = ?1",
        [serial],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// A ticket's new code and holder after a transfer.
pub struct Reissued<'a> {
    pub serial: u32,
    pub account_id: i64,
    pub purchase_id: i64,
    pub qr_text: &'a str,
    pub key_id: u16,
    pub holder_name: &'a str,
    pub generation: u8,
    pub admits: u8,
    pub issued_at: i64,
}

/// Stores a ticket's new code and holder.
pub fn update_reissued(tx: &Connection, r: &Reissued<'_>) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET account_id = ?2, purchase_id = ?3, qr_text = ?4, key_id = ?5, holder_name = ?6,
                            generation = ?7, admits = ?8, issued_at = ?9
         WHERE serial = ?1",
        params![
            r.serial,
            r.account_id,
            r.purchase_id,
            r.qr_text,
            r.key_id,
            r.holder_name,
            r.generation,
            r.admits,
            r.issued_at
        ],
    )?;
    Ok(())
}

/// A valid ticket whose stored code does not start with `prefix`: (serial, event, offer, flags,
/// purchase tag, account tag).
pub type LegacyCode = (u32, i64, String, u8, String, Option<String>);

/// The valid tickets whose stored code is not of the current format (`prefix`).
pub fn valid_codes_not_starting_with(conn: &Connection, prefix: &str) -> Result<Vec<LegacyCode>> {
    let like = format!("{prefix}%");
    conn.prepare(
        "SELECT t.serial, t.event_id, t.offer, t.flags, p.purchase_tag, a.account_tag
         FROM tickets t JOIN purchases p ON p.id = t.purchase_id JOIN accounts a ON a.id = t.account_id
         WHERE t.status = 'valid' AND t.qr_text NOT LIKE ?1",
    )?
    .query_map([&like], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })?
    .collect()
}

/// Stores a ticket's re-signed code.
pub fn set_code(tx: &Connection, serial: u32, qr_text: &str, key_id: u16) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET qr_text = ?2, key_id = ?3 WHERE serial = ?1",
        params![serial, qr_text, key_id],
    )?;
    Ok(())
}

/// Marks ticket `serial` revoked if it is valid; answers whether it was.
pub fn revoke_valid_ticket(tx: &Connection, serial: u32, reason: &str, now: i64) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE tickets SET status = 'revoked', revoked_at = ?2, revoked_reason = ?3 WHERE serial = ?1 AND status = 'valid'",
        params![serial, now, reason],
    )? > 0)
}

/// Marks the valid tickets of the purchase whose tag is `tag` revoked.
pub fn revoke_valid_tickets_of_purchase_tag(tx: &Connection, tag: &Tag, reason: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET status = 'revoked', revoked_at = ?2, revoked_reason = ?3
         WHERE purchase_id IN (SELECT id FROM purchases WHERE purchase_tag = ?1) AND status = 'valid'",
        params![tag.to_hex(), now, reason],
    )?;
    Ok(())
}

/// Marks the valid tickets of the account whose tag is `tag` revoked.
pub fn revoke_valid_tickets_of_account_tag(tx: &Connection, tag: &Tag, reason: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET status = 'revoked', revoked_at = ?2, revoked_reason = ?3
         WHERE account_id IN (SELECT id FROM accounts WHERE account_tag = ?1) AND status = 'valid'",
        params![tag.to_hex(), now, reason],
    )?;
    Ok(())
}

/// Marks the valid tickets of purchase `purchase_id` revoked.
pub fn revoke_valid_tickets_of_purchase(tx: &Connection, purchase_id: i64, reason: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET status = 'revoked', revoked_at = ?2, revoked_reason = ?3 WHERE purchase_id = ?1 AND status = 'valid'",
        params![purchase_id, now, reason],
    )?;
    Ok(())
}

/// Marks the valid tickets of account `account_id` revoked.
pub fn revoke_valid_tickets_of_account(tx: &Connection, account_id: i64, reason: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET status = 'revoked', revoked_at = ?2, revoked_reason = ?3 WHERE account_id = ?1 AND status = 'valid'",
        params![account_id, now, reason],
    )?;
    Ok(())
}

/// The serials of an event's valid tickets, in order.
pub fn valid_serials_of_event(conn: &Connection, event_id: u32) -> Result<Vec<u32>> {
    conn.prepare("SELECT serial FROM tickets WHERE event_id = ?1 AND status = 'valid' ORDER BY serial")?
        .query_map([event_id], |r| r.get(0))?
        .collect()
}

/// Whether a ticket with this serial exists.
pub fn exists(conn: &Connection, serial: u32) -> Result<bool> {
    let found: Option<i64> = conn
        .query_row("SELECT serial FROM tickets WHERE serial = ?1", [serial], |r| r.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// A ticket a search finds, with its event's name and its holder's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub serial: i64,
    pub event_id: i64,
    pub event_name: String,
    pub offer: String,
    pub holder_email: String,
    pub status: String,
}

const FOUND: &str = "SELECT t.serial, t.event_id, e.name, t.offer, a.email, t.status
     FROM tickets t JOIN events e ON e.id = t.event_id JOIN accounts a ON a.id = t.account_id";

fn found(r: &super::sql::Row<'_>) -> Result<Found> {
    Ok(Found {
        serial: r.get(0)?,
        event_id: r.get(1)?,
        event_name: r.get(2)?,
        offer: r.get(3)?,
        holder_email: r.get(4)?,
        status: r.get(5)?,
    })
}

/// The ticket with this serial (none or one).
pub fn found_by_serial(conn: &Connection, serial: i64) -> Result<Vec<Found>> {
    conn.prepare_cached(&format!("{FOUND} WHERE t.serial = ?1"))?
        .query_map([serial], found)?
        .collect()
}

/// The ticket with serial `n` and the tickets of order `n`, by serial, at most 50.
pub fn found_by_serial_or_order(conn: &Connection, n: i64) -> Result<Vec<Found>> {
    conn.prepare_cached(&format!(
        "{FOUND} WHERE t.serial = ?1 OR t.order_id = ?1 ORDER BY t.serial LIMIT 50"
    ))?
    .query_map([n], found)?
    .collect()
}

/// The tickets whose holder's lower-cased email is `LIKE` `pattern` (`\` escapes), newest
/// first, at most 50.
pub fn found_by_holder_email_like(conn: &Connection, pattern: &str) -> Result<Vec<Found>> {
    conn.prepare_cached(&format!(
        "{FOUND} WHERE lower(a.email) LIKE ?1 ESCAPE '\\' ORDER BY t.serial DESC LIMIT 50"
    ))?
    .query_map([pattern], found)?
    .collect()
}

/// A ticket's facts as its story starts: its event (name, venue time zone), offer, holder,
/// state, order, code generation, when it was issued (and revoked) and the kind of its purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub event_id: i64,
    pub event_name: String,
    pub time_zone: String,
    pub offer: String,
    pub holder_email: String,
    pub holder_name: String,
    pub status: String,
    pub order_id: Option<i64>,
    pub generation: i64,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    /// `purchases.kind`.
    pub purchase_kind: String,
}

/// The facts of the ticket with this serial, if it exists.
pub fn story(conn: &Connection, serial: i64) -> Result<Option<Story>> {
    conn.query_row(
        "SELECT t.event_id, e.name, e.time_zone, t.offer, a.email, t.holder_name, t.status, t.order_id,
                    t.generation, t.issued_at, t.revoked_at, t.revoked_reason, p.kind
             FROM tickets t JOIN events e ON e.id = t.event_id JOIN accounts a ON a.id = t.account_id
                  JOIN purchases p ON p.id = t.purchase_id
             WHERE t.serial = ?1",
        [serial],
        |r| {
            Ok(Story {
                event_id: r.get(0)?,
                event_name: r.get(1)?,
                time_zone: r.get(2)?,
                offer: r.get(3)?,
                holder_email: r.get(4)?,
                holder_name: r.get(5)?,
                status: r.get(6)?,
                order_id: r.get(7)?,
                generation: r.get(8)?,
                issued_at: r.get(9)?,
                revoked_at: r.get(10)?,
                revoked_reason: r.get(11)?,
                purchase_kind: r.get(12)?,
            })
        },
    )
    .optional()
}

/// What one offer of an event sold: tickets issued, how many are still valid, and what was
/// paid for them (cents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSales {
    pub offer: String,
    pub tickets: i64,
    pub valid: i64,
    pub revenue_cents: i64,
}

/// An event's sales per offer, by offer.
pub fn sales_by_offer(conn: &Connection, event: u32) -> Result<Vec<OfferSales>> {
    conn.prepare_cached(
        "SELECT offer, CAST(count(*) AS BIGINT), CAST(SUM(CASE WHEN status = 'valid' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(COALESCE(SUM(unit_price_cents), 0) AS BIGINT)
             FROM tickets WHERE event_id = ?1 GROUP BY offer ORDER BY offer",
    )?
    .query_map([event], |r| {
        Ok(OfferSales {
            offer: r.get(0)?,
            tickets: r.get(1)?,
            valid: r.get(2)?,
            revenue_cents: r.get(3)?,
        })
    })?
    .collect()
}

/// The people an event's valid tickets admit (a ticket without its own count admits what its
/// offer does: `sizes`).
pub fn people_of_valid_tickets(conn: &Connection, event: u32, sizes: super::offers::Sizes<'_>) -> Result<i64> {
    let [(a, a_n), (b, b_n), (c, c_n)] = sizes;
    conn.query_row(
        &format!(
            "SELECT CAST(COALESCE(SUM(COALESCE(admits, {})), 0) AS BIGINT)
             FROM tickets WHERE event_id = ?1 AND status = 'valid'",
            super::offers::people_case("offer", 2)
        ),
        params![event, a, a_n, b, b_n, c, c_n],
        |r| r.get(0),
    )
}

/// A ticket as the CSV export writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub serial: i64,
    pub issued_at: i64,
    pub event_id: i64,
    pub event_name: String,
    pub offer: String,
    pub holder_email: String,
    pub status: String,
    pub order_id: Option<i64>,
    pub unit_price_cents: i64,
    pub generation: i64,
}

/// The tickets issued in `[from, to)` with a serial above `after`, by serial, at most `limit`.
pub fn export_page(conn: &Connection, after: i64, from: i64, to: i64, limit: i64) -> Result<Vec<Exported>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.serial, t.issued_at, t.event_id, e.name, t.offer, a.email, t.status, t.order_id,
                        t.unit_price_cents, t.generation
                 FROM tickets t JOIN events e ON e.id = t.event_id JOIN accounts a ON a.id = t.account_id
                 WHERE t.serial > ?1 AND t.issued_at >= ?2 AND t.issued_at < ?3 ORDER BY t.serial LIMIT ?4",
    )?;
    stmt.query_map(params![after, from, to, limit], |r| {
        Ok(Exported {
            serial: r.get(0)?,
            issued_at: r.get(1)?,
            event_id: r.get(2)?,
            event_name: r.get(3)?,
            offer: r.get(4)?,
            holder_email: r.get(5)?,
            status: r.get(6)?,
            order_id: r.get(7)?,
            unit_price_cents: r.get(8)?,
            generation: r.get(9)?,
        })
    })?
    .collect()
}

/// What the shop's lifecycle rules read of a ticket (`shop::entitlements`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForRules {
    pub event_id: i64,
    pub offer: String,
    pub status: String,
    pub revoked_reason: Option<String>,
    pub generation: u32,
    pub order_id: Option<i64>,
}

/// [`ForRules`] of the ticket with this serial, if any.
pub fn for_rules(conn: &Connection, serial: i64) -> Result<Option<ForRules>> {
    conn.prepare_cached(
        "SELECT event_id, offer, status, revoked_reason, generation, order_id FROM tickets WHERE serial = ?1",
    )?
    .query_row([serial], |r| {
        Ok(ForRules {
            event_id: r.get(0)?,
            offer: r.get(1)?,
            status: r.get(2)?,
            revoked_reason: r.get(3)?,
            generation: r.get(4)?,
            order_id: r.get(5)?,
        })
    })
    .optional()
}

/// A ticket of an order as its buyer sees it: its entries, and to whom and when it was first
/// given (if it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfOrder {
    pub serial: u32,
    pub event_name: String,
    pub offer: String,
    pub status: String,
    pub revoked_reason: Option<String>,
    pub entries: u32,
    pub first_given_to: Option<String>,
    pub first_given_at: Option<i64>,
}

/// The tickets of an order, by serial (`shop::orders::get_order`).
pub fn of_order(conn: &Connection, order_id: i64) -> Result<Vec<OfOrder>> {
    conn.prepare_cached(
        "SELECT t.serial, e.name, t.offer, t.status, t.revoked_reason,
                    (SELECT count(*) FROM admissions a WHERE a.event_id = t.event_id AND a.serial = t.serial
                        AND a.direction = 'entry'),
                    (SELECT ac.email FROM ticket_transfers x JOIN accounts ac ON ac.id = x.to_account
                        WHERE x.serial = t.serial ORDER BY x.generation LIMIT 1),
                    (SELECT x.at FROM ticket_transfers x WHERE x.serial = t.serial ORDER BY x.generation LIMIT 1)
             FROM tickets t JOIN events e ON e.id = t.event_id WHERE t.order_id = ?1 ORDER BY t.serial",
    )?
    .query_map([order_id], |r| {
        Ok(OfOrder {
            serial: r.get(0)?,
            event_name: r.get(1)?,
            offer: r.get(2)?,
            status: r.get(3)?,
            revoked_reason: r.get(4)?,
            entries: r.get(5)?,
            first_given_to: r.get(6)?,
            first_given_at: r.get(7)?,
        })
    })?
    .collect()
}

/// The serials an order paid for with their prices in cents, by serial.
pub fn serials_and_prices_of_order(conn: &Connection, order_id: i64) -> Result<Vec<(u32, i64)>> {
    conn.prepare_cached("SELECT serial, unit_price_cents FROM tickets WHERE order_id = ?1 ORDER BY serial")?
        .query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// What an operator's refund needs of a ticket: (order id, unit price in cents, event id,
/// offer).
pub fn for_operator_refund(conn: &Connection, serial: i64) -> Result<(Option<i64>, i64, i64, String)> {
    conn.query_row(
        "SELECT order_id, unit_price_cents, event_id, offer FROM tickets WHERE serial = ?1",
        [serial],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// Records that an already revoked ticket was refunded.
pub fn set_revoked_reason_refunded(tx: &Connection, serial: i64) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET revoked_reason = 'refunded' WHERE serial = ?1",
        [serial],
    )?;
    Ok(())
}

/// How many tickets of an order are still valid.
pub fn valid_count_of_order(conn: &Connection, order_id: i64) -> Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM tickets WHERE order_id = ?1 AND status = 'valid'",
        [order_id],
        |r| r.get(0),
    )
}

/// A ticket as its holder's pages show it, with its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub serial: u32,
    pub event_id: i64,
    pub event_name: String,
    pub sport: String,
    pub venue: String,
    pub starts_at: i64,
    pub offer: String,
    pub holder_name: String,
    pub status: String,
    pub qr_text: String,
    pub generation: u8,
    pub doors_open: i64,
    pub venue_address: String,
    pub time_zone: String,
}

const SHOWN: &str = "SELECT t.serial, t.event_id, e.name, e.sport, e.venue, e.starts_at, t.offer, t.holder_name,
        t.status, t.qr_text, t.generation, e.doors_open, e.venue_address, e.time_zone FROM tickets t JOIN events e ON e.id = t.event_id";

fn shown(r: &super::sql::Row<'_>) -> Result<Shown> {
    Ok(Shown {
        serial: r.get(0)?,
        event_id: r.get(1)?,
        event_name: r.get(2)?,
        sport: r.get(3)?,
        venue: r.get(4)?,
        starts_at: r.get(5)?,
        offer: r.get(6)?,
        holder_name: r.get(7)?,
        status: r.get(8)?,
        qr_text: r.get(9)?,
        generation: r.get(10)?,
        doors_open: r.get(11)?,
        venue_address: r.get(12)?,
        time_zone: r.get(13)?,
    })
}

/// The account's tickets, valid ones first, then by the event's start and serial
/// (`shop::orders::list_tickets`).
pub fn shown_of_account(conn: &Connection, account_id: i64) -> Result<Vec<Shown>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SHOWN} WHERE t.account_id = ?1 ORDER BY t.status DESC, e.starts_at, t.serial"
    ))?;
    stmt.query_map([account_id], shown)?.collect()
}

/// The account's ticket with this serial, if it holds it (`shop::orders::get_ticket`).
pub fn shown_of_holder(conn: &Connection, account_id: i64, serial: i64) -> Result<Option<Shown>> {
    conn.query_row(
        &format!("{SHOWN} WHERE t.account_id = ?1 AND t.serial = ?2"),
        params![account_id, serial],
        shown,
    )
    .optional()
}

/// A ticket's holder and order: (account id, email, order id), if the ticket exists.
pub fn holder_and_order(conn: &Connection, serial: i64) -> Result<Option<(i64, String, Option<i64>)>> {
    conn.query_row(
        "SELECT t.account_id, a.email, t.order_id FROM tickets t JOIN accounts a ON a.id = t.account_id
             WHERE t.serial = ?1",
        [serial],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// The ticket's holder (account id, email) if that is `account_id`.
pub fn holder_if(conn: &Connection, serial: i64, account_id: i64) -> Result<Option<(i64, String)>> {
    conn.query_row(
        "SELECT t.account_id, a.email FROM tickets t JOIN accounts a ON a.id = t.account_id
             WHERE t.serial = ?1 AND t.account_id = ?2",
        params![serial, account_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Whether the account holds the ticket.
pub fn is_held_by(conn: &Connection, serial: i64, account_id: i64) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE serial = ?1 AND account_id = ?2)",
        params![serial, account_id],
        |r| r.get(0),
    )
}

/// The name of the event a ticket is for, if the ticket exists (`shop::notice_mail`).
pub fn event_name(conn: &Connection, serial: i64) -> Result<Option<String>> {
    conn.query_row(
        "SELECT e.name FROM tickets t JOIN events e ON e.id = t.event_id WHERE t.serial = ?1",
        [serial],
        |r| r.get(0),
    )
    .optional()
}

/// The valid tickets of an order the account holds, by serial (`shop::ticket_docs`).
pub fn valid_serials_of_order_held_by(conn: &Connection, order_id: i64, account_id: i64) -> Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT serial FROM tickets WHERE order_id = ?1 AND account_id = ?2 AND status = 'valid' ORDER BY serial",
    )?
    .query_map(params![order_id, account_id], |r| r.get(0))?
    .collect()
}

/// The valid paid tickets of an event, by serial: (order id, serial, unit price in cents)
/// (`shop::refunds`, before a cancellation revokes them).
pub fn valid_paid_of_event(conn: &Connection, event_id: u32) -> Result<Vec<(i64, u32, i64)>> {
    conn.prepare(
        "SELECT order_id, serial, unit_price_cents FROM tickets
             WHERE event_id = ?1 AND status = 'valid' AND order_id IS NOT NULL ORDER BY serial",
    )?
    .query_map([event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

/// Erases the holder's name on every ticket of an account (the account is deleted).
pub fn clear_holder_names_of_account(tx: &Connection, account_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET holder_name = '' WHERE account_id = ?1",
        [account_id],
    )?;
    Ok(())
}

/// The QR text and code generation of a ticket of an account, if the account holds it.
pub fn code_of_holder(conn: &Connection, serial: i64, account_id: i64) -> Result<Option<(String, u32)>> {
    conn.prepare_cached("SELECT qr_text, generation FROM tickets WHERE serial = ?1 AND account_id = ?2")?
        .query_row(params![serial, account_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}
