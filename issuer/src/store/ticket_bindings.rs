//! The queries of phone bindings (`ticket_bindings`): what operators read for a ticket's story
//! (`ops::search`); the current binding, the counts the rebinding rules need, a binding made
//! and ended, for `shop::binding`, which holds those rules (with `shop::lifecycle`).

use super::sql::{Connection, OptionalExtension, Result, params};

/// One binding of a ticket to a phone: its number, the phone's key tag, when it began, and when
/// and why it ended (if it did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_no: i64,
    pub key_tag: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

/// Every binding of a ticket, in order.
pub fn of_ticket(conn: &Connection, serial: i64) -> Result<Vec<Binding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT binding_no, key_tag, created_at, revoked_at, revoked_reason FROM ticket_bindings
         WHERE serial = ?1 ORDER BY binding_no",
    )?;
    stmt.query_map([serial], |r| {
        Ok(Binding {
            binding_no: r.get(0)?,
            key_tag: r.get(1)?,
            created_at: r.get(2)?,
            revoked_at: r.get(3)?,
            revoked_reason: r.get(4)?,
        })
    })?
    .collect()
}

/// The binding of a ticket to a phone that has not ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub binding_no: u32,
    /// The code generation the phone was bound for.
    pub generation: u32,
    /// The phone's public key, hex.
    pub device_key: String,
    pub key_tag: String,
    /// The issuer-signed bound ticket, base64url.
    pub bound_ticket: String,
}

/// A ticket's latest binding that has not ended, if any.
pub fn active(conn: &Connection, serial: i64) -> Result<Option<Active>> {
    conn.prepare_cached(
        "SELECT binding_no, generation, device_key, key_tag, bound_ticket FROM ticket_bindings
             WHERE serial = ?1 AND revoked_at IS NULL ORDER BY binding_no DESC LIMIT 1",
    )?
    .query_row([serial], |r| {
        Ok(Active {
            binding_no: r.get(0)?,
            generation: r.get(1)?,
            device_key: r.get(2)?,
            key_tag: r.get(3)?,
            bound_ticket: r.get(4)?,
        })
    })
    .optional()
}

/// How many phones were bound for a ticket's code generation, ended bindings included.
pub fn count_for_generation(conn: &Connection, serial: i64, generation: u32) -> Result<u32> {
    conn.prepare_cached("SELECT count(*) FROM ticket_bindings WHERE serial = ?1 AND generation = ?2")?
        .query_row(params![serial, generation], |r| r.get(0))
}

/// How many ended bindings of a ticket were to the phone of `device_key` (hex).
pub fn count_ended_with_key(conn: &Connection, serial: i64, device_key: &str) -> Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM ticket_bindings WHERE serial = ?1 AND device_key = ?2 AND revoked_at IS NOT NULL",
    )?
    .query_row(params![serial, device_key], |r| r.get(0))
}

/// A ticket's highest binding number (`None`: never bound).
pub fn max_binding_no(conn: &Connection, serial: i64) -> Result<Option<u32>> {
    conn.prepare_cached("SELECT MAX(binding_no) FROM ticket_bindings WHERE serial = ?1")?
        .query_row([serial], |r| r.get(0))
}

/// Ends one binding of a ticket at `now` for `reason`.
pub fn end(tx: &Connection, serial: i64, binding_no: u32, now: i64, reason: &str) -> Result<()> {
    tx.execute(
        "UPDATE ticket_bindings SET revoked_at = ?3, revoked_reason = ?4 WHERE serial = ?1 AND binding_no = ?2",
        params![serial, binding_no, now, reason],
    )?;
    Ok(())
}

/// A new binding of a ticket to a phone.
#[derive(Debug, Clone, Copy)]
pub struct NewBinding<'a> {
    pub serial: i64,
    pub binding_no: u32,
    pub generation: u32,
    /// The phone's public key, hex.
    pub device_key: &'a str,
    pub key_tag: &'a str,
    pub bound_ticket: &'a str,
    pub created_at: i64,
}

/// Records a new binding.
pub fn insert(tx: &Connection, b: &NewBinding<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO ticket_bindings (serial, binding_no, generation, device_key, key_tag, bound_ticket, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            b.serial,
            b.binding_no,
            b.generation,
            b.device_key,
            b.key_tag,
            b.bound_ticket,
            b.created_at
        ],
    )?;
    Ok(())
}
