//! The queries of operators' paper exceptions (`paper_exceptions`: a named person allowed a
//! static code on a ticket of an event that requires the phone, with who and why; one open per
//! ticket, ended by a transfer). The rules (the checks on the name and reason, one open
//! exception per ticket, what a transfer ends, whether the static code is shown) are in
//! `shop::binding` and `shop::lifecycle`; operators record exceptions through
//! `ops::actions`, and gates get the open ones in their event facts (`ops::catalogue`).

use super::sql::{Connection, OptionalExtension, Result, params};

/// Ends the open exception of a ticket, if any.
pub fn end_open(tx: &Connection, serial: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE paper_exceptions SET ended_at = ?2 WHERE serial = ?1 AND ended_at IS NULL",
        params![serial, now],
    )?;
    Ok(())
}

/// How many open exceptions a ticket has (0 or 1).
pub fn count_open(conn: &Connection, serial: i64) -> Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM paper_exceptions WHERE serial = ?1 AND ended_at IS NULL")?
        .query_row([serial], |r| r.get::<_, i64>(0))
}

/// The event and serial of every ticket with an open exception, by serial.
pub fn open_by_event(conn: &Connection) -> Result<Vec<(u32, u32)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.event_id, p.serial FROM paper_exceptions p JOIN tickets t ON t.serial = p.serial
         WHERE p.ended_at IS NULL ORDER BY p.serial",
    )?;
    stmt.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, u32>(1)?)))?
        .collect()
}

/// The person named by a ticket's open exception, if it has one.
pub fn open_person_name(conn: &Connection, serial: i64) -> Result<Option<String>> {
    conn.prepare_cached("SELECT person_name FROM paper_exceptions WHERE serial = ?1 AND ended_at IS NULL")?
        .query_row([serial], |r| r.get(0))
        .optional()
}

/// Records an exception for a named person on a ticket, by an operator, for a reason.
pub fn insert(tx: &Connection, serial: i64, person_name: &str, operator_id: i64, reason: &str, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO paper_exceptions (serial, person_name, operator_id, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![serial, person_name, operator_id, reason, now],
    )?;
    Ok(())
}
