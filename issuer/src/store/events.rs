//! The queries of events (`events`) and of the capacity raises operators force
//! (`capacity_overrides`): an event's zones when an operator scopes an enrolment token to it
//! (`gates::devices`), its doors and status when a code is signed (`trust::issuance`), and the
//! operators' catalogue (`ops::catalogue`: the list of events, the facts gates get, creating and
//! changing an event, the seats a forced comp adds; the rules that check every field stay
//! there); for the shop's order side: the facts the lifecycle's rules read
//! (`shop::entitlements`), the catalogue and its filters, seats taken by one conditional update
//! and given back, a venue's time zone (`shop::orders`); an event's `holder_binding` policy
//! (`shop::binding`) and the demo catalogue's events (`seed`).

use super::sql::{Connection, Engine, FromSql, OptionalExtension, Result, ToSql, params};

/// An event's zone names as stored (a JSON array of names); `None` if there is no such event.
pub fn zones(conn: &Connection, id: u32) -> Result<Option<String>> {
    conn.query_row("SELECT zones FROM events WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// An event's doors (open, close) and status, if the event exists.
pub fn window<S: FromSql>(conn: &Connection, event_id: i64) -> Result<Option<(i64, i64, S)>> {
    conn.prepare_cached("SELECT doors_open, doors_close, status FROM events WHERE id = ?1")?
        .query_row([event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

/// An event as operators list it (`status` read as the caller's status type; `zones` as stored,
/// a JSON array of names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<S> {
    pub id: u32,
    pub sport: String,
    pub name: String,
    pub venue: String,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    pub capacity: i64,
    pub reserved: i64,
    pub status: S,
    pub zones: String,
    pub sales_open_at: Option<i64>,
    pub sales_close_at: Option<i64>,
    pub refund_deadline: Option<i64>,
    pub transfer_deadline: Option<i64>,
    pub time_zone: String,
    pub venue_address: String,
}

/// Every event, by start time.
pub fn all<S: FromSql>(conn: &Connection) -> Result<Vec<Listed<S>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, sport, name, venue, starts_at, doors_open, doors_close, capacity, reserved, status, zones,
                sales_open_at, sales_close_at, refund_deadline, transfer_deadline, time_zone, venue_address
         FROM events ORDER BY starts_at, id",
    )?;
    stmt.query_map([], |r| {
        Ok(Listed {
            id: r.get(0)?,
            sport: r.get(1)?,
            name: r.get(2)?,
            venue: r.get(3)?,
            starts_at: r.get(4)?,
            doors_open: r.get(5)?,
            doors_close: r.get(6)?,
            capacity: r.get(7)?,
            reserved: r.get(8)?,
            status: r.get(9)?,
            zones: r.get(10)?,
            sales_open_at: r.get(11)?,
            sales_close_at: r.get(12)?,
            refund_deadline: r.get(13)?,
            transfer_deadline: r.get(14)?,
            time_zone: r.get(15)?,
            venue_address: r.get(16)?,
        })
    })?
    .collect()
}

/// What gates are told about an event (`zones` as stored, a JSON array of names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub id: u32,
    pub name: String,
    pub sport: String,
    pub venue: String,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    pub zones: String,
}

/// The facts of every event, by id.
pub fn all_facts(conn: &Connection) -> Result<Vec<Facts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, sport, venue, starts_at, doors_open, doors_close, zones FROM events ORDER BY id",
    )?;
    stmt.query_map([], |r| {
        Ok(Facts {
            id: r.get(0)?,
            name: r.get(1)?,
            sport: r.get(2)?,
            venue: r.get(3)?,
            starts_at: r.get(4)?,
            doors_open: r.get(5)?,
            doors_close: r.get(6)?,
            zones: r.get(7)?,
        })
    })?
    .collect()
}

/// Whether the event exists.
pub fn exists(conn: &Connection, id: u32) -> Result<bool> {
    let found: Option<i64> = conn
        .query_row("SELECT id FROM events WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// An event's capacity, seats reserved and status (the event must exist).
pub fn seats<S: FromSql>(conn: &Connection, id: u32) -> Result<(i64, i64, S)> {
    conn.query_row(
        "SELECT capacity, reserved, status FROM events WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// Raises an event's capacity by `missing` seats and reserves `seats` of it.
pub fn raise_capacity_and_reserve(tx: &Connection, id: u32, missing: i64, seats: i64) -> Result<()> {
    tx.execute(
        "UPDATE events SET capacity = capacity + ?2, reserved = reserved + ?3 WHERE id = ?1",
        params![id, missing, seats],
    )?;
    Ok(())
}

/// Records who raised an event's capacity by how many seats, and why (`capacity_overrides`).
pub fn insert_capacity_override(
    tx: &Connection,
    id: u32,
    seats: i64,
    operator: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO capacity_overrides (event_id, seats, operator, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, seats, operator, reason, now],
    )?;
    Ok(())
}

/// The fields of an event as written (already checked by the caller; `zones` a JSON array of
/// names; `status` only when changed).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub sport: &'a str,
    pub name: &'a str,
    pub venue: &'a str,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    pub capacity: i64,
    pub zones: &'a str,
    pub sales_open_at: Option<i64>,
    pub sales_close_at: Option<i64>,
    pub refund_deadline: Option<i64>,
    pub transfer_deadline: Option<i64>,
    pub time_zone: &'a str,
    pub venue_address: &'a str,
}

/// A new event (status `scheduled`, nothing reserved); answers its id.
pub fn insert(tx: &Connection, e: &Fields<'_>) -> Result<i64> {
    tx.query_row(
        "INSERT INTO events (sport, name, venue, starts_at, doors_open, doors_close, capacity, zones,
                             sales_open_at, sales_close_at, refund_deadline, transfer_deadline, time_zone, venue_address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
        params![
            e.sport,
            e.name,
            e.venue,
            e.starts_at,
            e.doors_open,
            e.doors_close,
            e.capacity,
            e.zones,
            e.sales_open_at,
            e.sales_close_at,
            e.refund_deadline,
            e.transfer_deadline,
            e.time_zone,
            e.venue_address
        ],
        |r| r.get::<_, i64>(0),
    )
}

/// Writes every field of an event and its status.
pub fn update<S: ToSql>(tx: &Connection, id: u32, e: &Fields<'_>, status: &S) -> Result<()> {
    tx.execute(
        "UPDATE events SET sport = ?2, name = ?3, venue = ?4, starts_at = ?5, doors_open = ?6, doors_close = ?7,
                capacity = ?8, zones = ?9, status = ?10, sales_open_at = ?11, sales_close_at = ?12,
                refund_deadline = ?13, transfer_deadline = ?14, time_zone = ?15, venue_address = ?16 WHERE id = ?1",
        params![
            id,
            e.sport,
            e.name,
            e.venue,
            e.starts_at,
            e.doors_open,
            e.doors_close,
            e.capacity,
            e.zones,
            status,
            e.sales_open_at,
            e.sales_close_at,
            e.refund_deadline,
            e.transfer_deadline,
            e.time_zone,
            e.venue_address
        ],
    )?;
    Ok(())
}

/// What the shop's rules need of an event (`shop::entitlements`, `shop::orders`): its times,
/// seats and status (read as `S`, `crate::domain::EventStatus` for the shop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules<S> {
    pub starts_at: i64,
    pub capacity: i64,
    pub reserved: i64,
    pub status: S,
    pub doors_open: i64,
    pub doors_close: i64,
    pub sales_open_at: Option<i64>,
    pub sales_close_at: Option<i64>,
    pub refund_deadline: Option<i64>,
    pub transfer_deadline: Option<i64>,
}

/// Reads [`Rules`] from column `at` on: starts_at, capacity, reserved, status, doors_open,
/// doors_close, sales_open_at, sales_close_at, refund_deadline, transfer_deadline.
fn rules_from_row<S: FromSql>(r: &super::sql::Row<'_>, at: usize) -> Result<Rules<S>> {
    let status: S = r.get(at + 3)?;
    Ok(Rules {
        starts_at: r.get(at)?,
        capacity: r.get(at + 1)?,
        reserved: r.get(at + 2)?,
        status,
        doors_open: r.get(at + 4)?,
        doors_close: r.get(at + 5)?,
        sales_open_at: r.get(at + 6)?,
        sales_close_at: r.get(at + 7)?,
        refund_deadline: r.get(at + 8)?,
        transfer_deadline: r.get(at + 9)?,
    })
}

/// Selects what [`rules_from_row`] reads, from column 0.
const RULES_SELECT: &str = "SELECT starts_at, capacity, reserved, status, doors_open, doors_close,
        sales_open_at, sales_close_at, refund_deadline, transfer_deadline FROM events";

/// The rules' facts of one event (`shop::entitlements::event_rules`).
pub fn rules<S: FromSql>(conn: &Connection, event_id: i64) -> Result<Option<Rules<S>>> {
    conn.prepare_cached(&format!("{RULES_SELECT} WHERE id = ?1"))?
        .query_row([event_id], |r| rules_from_row(r, 0))
        .optional()
}

/// An event as the shop's catalogue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCatalogue<S> {
    pub id: i64,
    pub sport: String,
    pub name: String,
    pub venue: String,
    pub rules: Rules<S>,
    pub venue_address: String,
    pub time_zone: String,
}

/// The catalogue's events (`shop::orders::list_events`, `get_event`): each filter applies when
/// given (sport and venue compared lower-cased; `day_start`, a UTC midnight, widened by `slack`
/// seconds on both sides; `only` one event), soonest first.
pub fn catalogue<S: FromSql>(
    conn: &Connection,
    sport: Option<&str>,
    venue: Option<&str>,
    day_start: Option<i64>,
    only: Option<i64>,
    slack: i64,
) -> Result<Vec<InCatalogue<S>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, sport, name, venue, starts_at, capacity, reserved, status, doors_open, doors_close,
                sales_open_at, sales_close_at, refund_deadline, transfer_deadline, venue_address, time_zone FROM events
         WHERE (CAST(?1 AS TEXT) IS NULL OR lower(sport) = lower(?1))
           AND (CAST(?2 AS TEXT) IS NULL OR lower(venue) = lower(?2))
           AND (CAST(?3 AS BIGINT) IS NULL OR (starts_at >= ?3 - ?5 AND starts_at < ?3 + 86400 + ?5))
           AND (CAST(?4 AS BIGINT) IS NULL OR id = ?4)
         ORDER BY starts_at, id",
    )?;
    stmt.query_map(params![sport, venue, day_start, only, slack], |r| {
        Ok(InCatalogue {
            id: r.get(0)?,
            sport: r.get(1)?,
            name: r.get(2)?,
            venue: r.get(3)?,
            rules: rules_from_row(r, 4)?,
            venue_address: r.get(14)?,
            time_zone: r.get(15)?,
        })
    })?
    .collect()
}

/// Takes `seats` of an event's capacity if they fit (one conditional update; only a scheduled
/// event): whether they were taken. `shop::orders::take_seats`.
pub fn take_seats(tx: &Connection, event_id: i64, seats: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE events SET reserved = reserved + ?1
         WHERE id = ?2 AND status = 'scheduled' AND reserved + ?1 <= capacity",
        params![seats, event_id],
    )?;
    Ok(n == 1)
}

/// Takes `seats` of an event's capacity and `tickets` of one of its offers' sale limit, both
/// or neither (each by a conditional update, as [`take_seats`] and `offers::take_tickets`):
/// whether they were taken. When only the seats fit, they are taken and false is answered: the
/// caller's transaction rolls back. `shop::orders::checkout`.
pub fn take_seats_and_offer_tickets(
    tx: &Connection,
    event_id: i64,
    seats: i64,
    offer_id: i64,
    tickets: i64,
) -> Result<bool> {
    match tx.engine() {
        // The event's row is what every buyer of the event waits for, locked from this update
        // to the commit: one statement (one round trip) takes both, so the row is held for
        // this statement and the commit only. The offer is updated only when the seats were
        // taken (`EXISTS (SELECT 1 FROM e)`), its own row locked after the event's, the order
        // every checkout follows.
        Engine::Postgres => tx.query_row(
            "WITH e AS (
                 UPDATE events SET reserved = reserved + ?1
                 WHERE id = ?2 AND status = 'scheduled' AND reserved + ?1 <= capacity
                 RETURNING id
             ), o AS (
                 UPDATE offers SET sold = sold + ?3
                 WHERE id = ?4 AND (capacity IS NULL OR sold + ?3 <= capacity) AND EXISTS (SELECT 1 FROM e)
                 RETURNING id
             )
             SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM o)",
            params![seats, event_id, tickets, offer_id],
            |r| Ok(r.get::<_, i64>(0)? == 2),
        ),
        // SQLite has no UPDATE in WITH; its one writer holds no row waited for by another.
        Engine::Sqlite => Ok(take_seats(tx, event_id, seats)? && super::offers::take_tickets(tx, offer_id, tickets)?),
    }
}

/// Every event's start and venue time zone, soonest first (the catalogue's days).
pub fn starts_and_time_zones(conn: &Connection) -> Result<Vec<(i64, String)>> {
    let mut s = conn.prepare_cached("SELECT starts_at, time_zone FROM events ORDER BY starts_at")?;
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}

/// The distinct sports of the events, sorted.
pub fn sports(conn: &Connection) -> Result<Vec<String>> {
    let mut s = conn.prepare_cached("SELECT DISTINCT sport FROM events ORDER BY sport")?;
    s.query_map([], |r| r.get(0))?.collect()
}

/// The distinct venues of the events, sorted.
pub fn venues(conn: &Connection) -> Result<Vec<String>> {
    let mut s = conn.prepare_cached("SELECT DISTINCT venue FROM events ORDER BY venue")?;
    s.query_map([], |r| r.get(0))?.collect()
}

/// Gives back the seats of an order's lines to their events (`shop::orders`' release of a
/// cancelled or refunded order's seats; an offer of each kind admits `sizes`).
pub fn release_order_seats(tx: &Connection, order_id: i64, sizes: super::offers::Sizes<'_>) -> Result<()> {
    let [(a, a_n), (b, b_n), (c, c_n)] = sizes;
    tx.execute(
        &format!(
            "UPDATE events SET reserved = reserved - (
                 SELECT CAST(COALESCE(SUM(l.quantity * {}), 0) AS BIGINT)
                 FROM order_lines l JOIN offers o ON o.id = l.offer_id
                 WHERE l.order_id = ?1 AND o.event_id = events.id)
             WHERE id IN (SELECT o.event_id FROM order_lines l JOIN offers o ON o.id = l.offer_id WHERE l.order_id = ?1)",
            super::offers::people_case("o.kind", 2)
        ),
        params![order_id, a, a_n, b, b_n, c, c_n],
    )?;
    Ok(())
}

/// Gives `seats` back to an event, never below zero (an operator's refund of unused seats).
pub fn give_back_seats(tx: &Connection, event_id: i64, seats: i64) -> Result<()> {
    tx.execute(
        "UPDATE events SET reserved = CASE WHEN reserved > ?2 THEN reserved - ?2 ELSE 0 END WHERE id = ?1",
        params![event_id, seats],
    )?;
    Ok(())
}

/// The IANA time zone of an event's venue, if the event exists.
pub fn time_zone(conn: &Connection, event_id: i64) -> Result<Option<String>> {
    conn.query_row("SELECT time_zone FROM events WHERE id = ?1", [event_id], |r| r.get(0))
        .optional()
}

/// How many events there are.
pub fn count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
}

/// The `holder_binding` policy (its name) of the event of a ticket, if the ticket exists.
pub fn holder_binding_of_ticket(conn: &Connection, serial: i64) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT e.holder_binding FROM tickets t JOIN events e ON e.id = t.event_id WHERE t.serial = ?1",
    )?
    .query_row([serial], |r| r.get(0))
    .optional()
}

/// An event's `holder_binding` policy (its name), if the event exists.
pub fn holder_binding(conn: &Connection, id: i64) -> Result<Option<String>> {
    conn.prepare_cached("SELECT holder_binding FROM events WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// Sets an event's `holder_binding` policy (its name); answers how many events changed (0: no
/// such event).
pub fn set_holder_binding(tx: &Connection, id: i64, policy: &str) -> Result<usize> {
    tx.execute(
        "UPDATE events SET holder_binding = ?2 WHERE id = ?1",
        params![id, policy],
    )
}

/// Every event's id and `holder_binding` policy (its name).
pub fn holder_bindings(conn: &Connection) -> Result<Vec<(u32, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, holder_binding FROM events")?;
    stmt.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?
        .collect()
}
