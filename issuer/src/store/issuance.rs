//! The queries of ticket issuance: signing keys (`signing_keys`), account keys (`accounts`),
//! purchases (`purchases`) and the tickets they sign (`tickets`). The rules (what a code says,
//! when an event may still be signed for, generations on transfer) are in `trust::issuance`,
//! which calls these inside the transaction that records why the tickets exist.

use super::sql::Connection;
use super::sql::{FromSql, OptionalExtension, Result, Value, params};

/// Records a signing key's public half unless its id is known; answers the public key stored
/// under that id (the given one, or an older key's that took the id first).
pub fn register_signing_key(
    tx: &Connection,
    key_id: u16,
    public_key_b64: &str,
    valid_from: i64,
    valid_until: i64,
    now: i64,
) -> Result<String> {
    tx.execute(
        "INSERT INTO signing_keys (key_id, public_key, valid_from, valid_until, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id) DO NOTHING",
        params![key_id, public_key_b64, valid_from, valid_until, now],
    )?;
    tx.query_row("SELECT public_key FROM signing_keys WHERE key_id = ?1", [key_id], |r| {
        r.get(0)
    })
}

/// An account's tag (hex, `None` before activation) and status, if the account exists.
pub fn account_tag_and_status<S: FromSql>(conn: &Connection, account_id: i64) -> Result<Option<(Option<String>, S)>> {
    conn.query_row(
        "SELECT account_tag, status FROM accounts WHERE id = ?1",
        [account_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// An existing account's tag (hex; `None` before activation).
pub fn account_tag(conn: &Connection, account_id: i64) -> Result<Option<String>> {
    conn.query_row("SELECT account_tag FROM accounts WHERE id = ?1", [account_id], |r| {
        r.get(0)
    })
}

/// Stores an account's key and its tag.
pub fn set_account_key(tx: &Connection, account_id: i64, key: &[u8], tag_hex: &str) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET account_key = ?1, account_tag = ?2 WHERE id = ?3",
        params![key, tag_hex, account_id],
    )?;
    Ok(())
}

/// A new purchase; answers its id.
pub fn insert_purchase(
    tx: &Connection,
    order_id: Option<i64>,
    account_id: i64,
    kind: &str,
    purchase_key: &[u8],
    purchase_tag_hex: &str,
    now: i64,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO purchases (order_id, account_id, kind, purchase_key, purchase_tag, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![order_id, account_id, kind, purchase_key, purchase_tag_hex, now],
        |r| r.get::<_, i64>(0),
    )
}

/// An event's doors (open, close) and status, if the event exists.
pub fn event_window<S: FromSql>(conn: &Connection, event_id: i64) -> Result<Option<(i64, i64, S)>> {
    conn.prepare_cached("SELECT doors_open, doors_close, status FROM events WHERE id = ?1")?
        .query_row([event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
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
pub fn insert_tickets(tx: &Connection, tickets: &[NewTicket]) -> Result<()> {
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
pub fn ticket_for_reissue(conn: &Connection, serial: u32) -> Result<(i64, String, u8, u8)> {
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
