//! The queries of an event's offers (`offers`: a kind, its price, its sale limit and the tickets
//! of it held) that operators make and change. The rules (which kinds exist, the price and
//! limit bounds, never a limit below what is sold) are in `ops::catalogue`, which calls these;
//! for the shop (`shop::orders`): what is on sale, what a cart line and a cart check read of an
//! offer, taking an offer's tickets by one conditional update and giving them back; and the
//! demo catalogue's offers (`seed`).

use super::sql::{Connection, OptionalExtension, Result, params};

/// An offer as operators list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub price_cents: i64,
    /// Its sale limit in tickets (`None`: only the event's capacity).
    pub capacity: Option<i64>,
    /// Tickets of it held by pending and paid orders.
    pub sold: i64,
}

/// The offers of each of `events`, by id, in the order given (one prepared statement, run once
/// per event).
pub fn of_events(conn: &Connection, events: &[u32]) -> Result<Vec<Vec<Listed>>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, kind, price_cents, capacity, sold FROM offers WHERE event_id = ?1 ORDER BY id")?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        out.push(
            stmt.query_map([e], |r| {
                Ok(Listed {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    price_cents: r.get(2)?,
                    capacity: r.get(3)?,
                    sold: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>>>()?,
        );
    }
    Ok(out)
}

/// Adds the offer `kind` to an event at `price_cents`, or sets the price of the one it has.
pub fn upsert_price(tx: &Connection, event_id: i64, kind: &str, price_cents: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO offers (event_id, kind, price_cents) VALUES (?1, ?2, ?3)
             ON CONFLICT (event_id, kind) DO UPDATE SET price_cents = excluded.price_cents",
        params![event_id, kind, price_cents],
    )?;
    Ok(())
}

/// The tickets of an event's offer `kind` held, if the event sells that kind.
pub fn sold(conn: &Connection, event_id: i64, kind: &str) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT sold FROM offers WHERE event_id = ?1 AND kind = ?2",
        params![event_id, kind],
        |r| r.get(0),
    )
    .optional()
}

/// Sets (or with `None` lifts) the sale limit of an event's offer `kind`.
pub fn set_capacity(tx: &Connection, event_id: i64, kind: &str, limit: Option<i64>) -> Result<()> {
    tx.execute(
        "UPDATE offers SET capacity = ?3 WHERE event_id = ?1 AND kind = ?2",
        params![event_id, kind, limit],
    )?;
    Ok(())
}

/// An offer as the shop's catalogue lists it: its event, kind, price and the tickets left under
/// its sale limit (`capacity - sold`, `None` without a limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCatalogue {
    pub event_id: i64,
    pub id: i64,
    pub kind: String,
    pub price_cents: i64,
    pub tickets_left: Option<i64>,
}

/// The offers of one event, or of all with `None`, by event then solo, duo, family
/// (`shop::orders`' catalogue).
pub fn catalogue(conn: &Connection, only: Option<i64>) -> Result<Vec<InCatalogue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, id, kind, price_cents, capacity - sold FROM offers WHERE (CAST(?1 AS BIGINT) IS NULL OR event_id = ?1)
         ORDER BY event_id, CASE kind WHEN 'solo' THEN 1 WHEN 'duo' THEN 2 ELSE 3 END",
    )?;
    stmt.query_map([only], |r| {
        Ok(InCatalogue {
            event_id: r.get(0)?,
            id: r.get(1)?,
            kind: r.get(2)?,
            price_cents: r.get(3)?,
            tickets_left: r.get(4)?,
        })
    })?
    .collect()
}

/// Takes `tickets` of an offer's sale limit if they fit (always without one): one conditional
/// update, whether they were taken. `events::take_seats_and_offer_tickets`.
pub fn take_tickets(tx: &Connection, offer_id: i64, tickets: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE offers SET sold = sold + ?1 WHERE id = ?2 AND (capacity IS NULL OR sold + ?1 <= capacity)",
        params![tickets, offer_id],
    )?;
    Ok(n == 1)
}

/// What a cart check needs of an offer: its event, kind, the event's seats left and the
/// offer's tickets left (`None` without a sale limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub event_id: i64,
    pub kind: String,
    pub seats_left: i64,
    pub tickets_left: Option<i64>,
}

/// [`Facts`] of an offer, if it exists (`shop::orders::check_fits`).
pub fn facts(conn: &Connection, offer_id: i64) -> Result<Option<Facts>> {
    conn.query_row(
        "SELECT e.id, o.kind, e.capacity - e.reserved, o.capacity - o.sold FROM offers o JOIN events e ON e.id = o.event_id
             WHERE o.id = ?1",
        [offer_id],
        |r| {
            Ok(Facts {
                event_id: r.get(0)?,
                kind: r.get(1)?,
                seats_left: r.get(2)?,
                tickets_left: r.get(3)?,
            })
        },
    )
    .optional()
}

/// An offer as a cart line shows it: its event's id, name and sport, its kind and price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForCart {
    pub event_id: i64,
    pub event_name: String,
    pub sport: String,
    pub kind: String,
    pub price_cents: i64,
    /// The event venue's time zone (the times shown with an order of it).
    pub time_zone: String,
}

/// [`ForCart`] of an offer, if it exists (`shop::orders::resolve_lines`).
pub fn for_cart(conn: &Connection, offer_id: i64) -> Result<Option<ForCart>> {
    conn.query_row(
        "SELECT e.id, e.name, e.sport, o.kind, o.price_cents, e.time_zone FROM offers o JOIN events e ON e.id = o.event_id
                 WHERE o.id = ?1",
        [offer_id],
        |r| {
            Ok(ForCart {
                event_id: r.get(0)?,
                event_name: r.get(1)?,
                sport: r.get(2)?,
                kind: r.get(3)?,
                price_cents: r.get(4)?,
                time_zone: r.get(5)?,
            })
        },
    )
    .optional()
}

/// Gives back the tickets of an order's lines to their offers' sale limits, never below zero
/// (`shop::orders`' release of a cancelled or refunded order).
pub fn release_order_tickets(tx: &Connection, order_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE offers SET sold = (
             SELECT CASE WHEN offers.sold > q THEN offers.sold - q ELSE 0 END FROM (
                 SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) AS q FROM order_lines l
                 WHERE l.order_id = ?1 AND l.offer_id = offers.id) AS taken)
         WHERE id IN (SELECT offer_id FROM order_lines WHERE order_id = ?1)",
        [order_id],
    )?;
    Ok(())
}

/// Gives one ticket back to the offer of this kind of an event, if any was sold (an operator's
/// refund of an unused ticket).
pub fn give_back_one_ticket(tx: &Connection, event_id: i64, kind: &str) -> Result<()> {
    tx.execute(
        "UPDATE offers SET sold = sold - 1 WHERE event_id = ?1 AND kind = ?2 AND sold > 0",
        params![event_id, kind],
    )?;
    Ok(())
}

/// The people an offer of each kind admits, `(kind, people)` for every kind: callers pass
/// `og_shared::Offer::ALL.map(|o| (o.name(), o.admits()))`, so the numbers have one home.
pub type Sizes<'a> = [(&'a str, u8); 3];

/// `CASE <column> WHEN ?n THEN ?n+1 ... END`: the people an offer of the kind in `column` admits,
/// read from [`Sizes`] bound from placeholder `?first` on (cast, so PostgreSQL types it as a
/// count).
pub fn people_case(column: &str, first: usize) -> String {
    let whens: Vec<String> = (0..3)
        .map(|i| {
            let n = first + 2 * i;
            format!("WHEN ?{n} THEN CAST(?{} AS BIGINT)", n + 1)
        })
        .collect();
    format!("CASE {column} {} END", whens.join(" "))
}

/// A new offer of an event at a price.
pub fn insert(tx: &Connection, event_id: i64, kind: &str, price_cents: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO offers (event_id, kind, price_cents) VALUES (?1, ?2, ?3)",
        params![event_id, kind, price_cents],
    )?;
    Ok(())
}
