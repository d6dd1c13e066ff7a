//! The queries of refunds due (`refunds_due`) that operators read: a ticket's refunds for its
//! story (`ops::search`) and what an event's offers owe back (`ops::dashboard`); and for
//! `shop::refunds`, which decides when a refund is owed: recording one (once per ticket, or once
//! per order and reason without a ticket), one by id or by ticket, the list, settling one.

use super::sql::{Connection, Result};

/// A refund due for a ticket, with the address of the operator who decided it (if one did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfTicket {
    pub reason: String,
    pub amount_cents: i64,
    pub created_at: i64,
    pub settled_at: Option<i64>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

/// The refunds due for the ticket with this serial.
pub fn of_ticket(conn: &Connection, serial: i64) -> Result<Vec<OfTicket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.reason, r.amount_cents, r.created_at, r.settled_at, d.email, r.note
         FROM refunds_due r LEFT JOIN accounts d ON d.id = r.decided_by WHERE r.serial = ?1",
    )?;
    stmt.query_map([serial], |r| {
        Ok(OfTicket {
            reason: r.get(0)?,
            amount_cents: r.get(1)?,
            created_at: r.get(2)?,
            settled_at: r.get(3)?,
            decided_by: r.get(4)?,
            note: r.get(5)?,
        })
    })?
    .collect()
}

/// What the refunds due for an event's tickets amount to per offer (cents), offers without one
/// left out.
pub fn amounts_by_offer(conn: &Connection, event: u32) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.offer, CAST(COALESCE(SUM(r.amount_cents), 0) AS BIGINT)
         FROM refunds_due r JOIN tickets t ON t.serial = r.serial WHERE t.event_id = ?1 GROUP BY t.offer",
    )?;
    stmt.query_map([event], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect()
}

/// A refund due as the shop records and lists it (`shop::refunds`), with its buyer's email,
/// language and account, and the address of the operator who decided it (if one did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: i64,
    pub order_id: i64,
    pub serial: Option<u32>,
    pub buyer_email: String,
    pub buyer_language: Option<String>,
    pub buyer_account_id: i64,
    pub reason: String,
    pub decided_by: Option<String>,
    pub note: Option<String>,
    pub amount_cents: i64,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

fn due(r: &super::sql::Row<'_>) -> Result<Due> {
    Ok(Due {
        id: r.get(0)?,
        order_id: r.get(1)?,
        serial: r.get(7)?,
        buyer_email: r.get(2)?,
        buyer_language: r.get(10)?,
        buyer_account_id: r.get(11)?,
        reason: r.get(3)?,
        decided_by: r.get(8)?,
        note: r.get(9)?,
        amount_cents: r.get(4)?,
        created_at: r.get(5)?,
        settled_at: r.get(6)?,
    })
}

const DUE: &str = "SELECT f.id, f.order_id, a.email, f.reason, f.amount_cents, f.created_at, f.settled_at,
        f.serial, d.email, f.note, a.language, a.id
     FROM refunds_due f JOIN orders o ON o.id = f.order_id JOIN accounts a ON a.id = o.account_id
     LEFT JOIN accounts d ON d.id = f.decided_by";

/// Inserts the refund due for a whole order without a ticket, once per order and reason: the
/// new row's id, `None` when it was recorded before.
pub fn insert_for_order(
    tx: &Connection,
    order_id: i64,
    reason: &str,
    amount_cents: i64,
    now: i64,
) -> Result<Option<i64>> {
    super::sql::OptionalExtension::optional(tx.query_row(
        "INSERT INTO refunds_due (order_id, reason, amount_cents, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (order_id, reason) WHERE serial IS NULL DO NOTHING RETURNING id",
        super::sql::params![order_id, reason, amount_cents, now],
        |r| r.get(0),
    ))
}

/// A refund due for one ticket.
pub struct NewForTicket<'a> {
    pub order_id: i64,
    pub serial: u32,
    pub reason: &'a str,
    pub amount_cents: i64,
    pub created_at: i64,
    /// The operator who decided it.
    pub decided_by: Option<i64>,
    pub note: Option<&'a str>,
}

/// Inserts the refund due for one ticket, at most once per ticket: the new row's id, `None`
/// when it was recorded before.
pub fn insert_for_ticket(tx: &Connection, n: &NewForTicket<'_>) -> Result<Option<i64>> {
    super::sql::OptionalExtension::optional(tx.query_row(
        "INSERT INTO refunds_due (order_id, serial, reason, amount_cents, created_at, decided_by, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (serial) WHERE serial IS NOT NULL DO NOTHING RETURNING id",
        super::sql::params![
            n.order_id,
            n.serial,
            n.reason,
            n.amount_cents,
            n.created_at,
            n.decided_by,
            n.note
        ],
        |r| r.get(0),
    ))
}

/// The refund due with this id.
pub fn by_id(conn: &Connection, id: i64) -> Result<Due> {
    conn.query_row(&format!("{DUE} WHERE f.id = ?1"), [id], due)
}

/// The refunds due, oldest first: every one with `all`, else those not settled yet.
pub fn list(conn: &Connection, all: bool) -> Result<Vec<Due>> {
    let sql = if all {
        format!("{DUE} ORDER BY f.id")
    } else {
        format!("{DUE} WHERE f.settled_at IS NULL ORDER BY f.id")
    };
    conn.prepare(&sql)?.query_map([], due)?.collect()
}

/// The refund due for the ticket with this serial, if any.
pub fn for_serial(conn: &Connection, serial: i64) -> Result<Option<Due>> {
    super::sql::OptionalExtension::optional(conn.query_row(&format!("{DUE} WHERE f.serial = ?1"), [serial], due))
}

/// When the refund due with this id was settled: `None` for an unknown id, `Some(None)` while
/// it is not settled.
pub fn settled_at(conn: &Connection, id: i64) -> Result<Option<Option<i64>>> {
    super::sql::OptionalExtension::optional(conn.query_row(
        "SELECT settled_at FROM refunds_due WHERE id = ?1",
        [id],
        |r| r.get(0),
    ))
}

/// Marks a refund due settled at `now` by `operator`.
pub fn settle(tx: &Connection, id: i64, now: i64, operator: i64) -> Result<()> {
    tx.execute(
        "UPDATE refunds_due SET settled_at = ?2, settled_by = ?3 WHERE id = ?1",
        super::sql::params![id, now, operator],
    )?;
    Ok(())
}
