//! The queries of an event's offers (`offers`: a kind, its price, its sale limit and the tickets
//! of it held) that operators make and change. The rules (which kinds exist, the price and
//! limit bounds, never a limit below what is sold) are in `ops::catalogue`, which calls these,
//! and the demo catalogue's offers are made by `seed`; the shop's own offer queries (what is on sale, taking an offer's tickets) are still in
//! `shop`.

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

/// A new offer of an event at a price.
pub fn insert(tx: &Connection, event_id: i64, kind: &str, price_cents: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO offers (event_id, kind, price_cents) VALUES (?1, ?2, ?3)",
        params![event_id, kind, price_cents],
    )?;
    Ok(())
}
